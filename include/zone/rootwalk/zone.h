/* Local zones: immutable, authoritative data loaded from master files.
 *
 * Ownership and threading: a zone owns all its memory (one arena plus its
 * hash table) and is never changed after rw_zone_load_* returns, so any
 * number of threads may read it without locks. A zone set groups zones by
 * origin; it takes ownership of the zones added to it and is itself
 * immutable once published. It carries an atomic reference count so a
 * reload can build a new set aside and swap it in while readers finish with
 * the old one (rw_zoneset_ref/rw_zoneset_unref; the last unref frees).
 *
 * Lookups take lower-cased wire names. Local zones answer for their data
 * only: NS records below the apex are served as plain data, not as
 * delegations (the resolver, not the zone store, follows delegations). */
#ifndef ROOTWALK_ZONE_H
#define ROOTWALK_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/name.h"

struct rw_zone;
struct rw_znode;
struct rw_zoneset;

/* An RRset of a node: count records of one type, one TTL. */
struct rw_rrset {
	uint16_t type;
	uint16_t count;
	uint32_t ttl;
	uint32_t data_len;
	uint8_t data[]; /* count x (u16 rdlen, canonical rdata) */
};

/* Iterates the records of an RRset: pos starts at 0; returns false at the
 * end, else sets *rd and *rdlen. */
bool rw_rrset_next(const struct rw_rrset *s, size_t *pos, const uint8_t **rd, uint16_t *rdlen);

/* Where a load error happened and why. */
/* A zone file's errors: the first one (file, line, msg), and when the
 * file has more, how many (count) and up to RW_ZONE_ERRORS_MAX - 1 of
 * them as "FILE:LINE: problem" lines in more (the parser goes on after
 * a bad record, so one load reports what is wrong in the whole file). */
#define RW_ZONE_ERRORS_MAX 20
struct rw_zone_error {
	char file[512];
	unsigned line;
	char msg[256];
	unsigned count;
	char more[4096];
};

/* Loads a master file (RFC 1035 §5) with the given origin (lower-cased
 * internally). $INCLUDE paths are relative to the including file's folder.
 * Returns 0 and a new zone (caller frees with rw_zone_free), or an error
 * code with err filled in (file, line, problem). */
int rw_zone_load_file(const char *path, const uint8_t *origin, struct rw_zone **out,
                      struct rw_zone_error *err);
/* The same from text in memory; `label` names it in errors. $INCLUDE is
 * refused. */
int rw_zone_load_text(const char *label, const char *text, size_t len, const uint8_t *origin,
                      struct rw_zone **out, struct rw_zone_error *err);
void rw_zone_free(struct rw_zone *z);

const uint8_t *rw_zone_origin(const struct rw_zone *z);
/* Marks a compiled-in locally served zone (RFC 6761/6303): it yields to
 * forward zones at or below its origin (rw_zoneset_yield). */
void rw_zone_set_builtin(struct rw_zone *z);
bool rw_zone_is_builtin(const struct rw_zone *z);
/* The apex SOA RRset (always present in a loaded zone). */
const struct rw_rrset *rw_zone_soa(const struct rw_zone *z);
size_t rw_zone_record_count(const struct rw_zone *z);

enum rw_zone_match {
	RW_ZONE_NXDOMAIN = 0, /* no such name, no wildcard */
	RW_ZONE_FOUND = 1,    /* node found (it may have no RRsets: NODATA) */
	RW_ZONE_WILDCARD = 2, /* no exact node; the wildcard node applies */
};

/* Looks up a lower-cased name at or below the zone's origin (RFC 4592
 * wildcards, empty non-terminals are nodes without RRsets). */
enum rw_zone_match rw_zone_lookup(const struct rw_zone *z, const uint8_t *lname,
                                  const struct rw_znode **node);
/* The RRset of a type at a node, or NULL. */
const struct rw_rrset *rw_znode_rrset(const struct rw_znode *n, uint16_t type);
/* Number of RRsets at a node (0 for an empty non-terminal). */
unsigned rw_znode_rrset_count(const struct rw_znode *n);
/* The i-th RRset of a node. */
const struct rw_rrset *rw_znode_rrset_at(const struct rw_znode *n, unsigned i);

struct rw_zoneset *rw_zoneset_new(void);
/* Adds a zone; takes ownership. A zone with the same origin replaces the
 * earlier one (so user zones override built-in ones). 0 or RW_ENOMEM (the
 * zone is then freed). */
int rw_zoneset_add(struct rw_zoneset *zs, struct rw_zone *z);
/* The zone with the longest origin that contains lname (lower-cased),
 * or NULL. */
const struct rw_zone *rw_zoneset_find(const struct rw_zoneset *zs, const uint8_t *lname);
/* Names under lname (lower-case wire form) are not answered by a built-in
 * zone whose origin is at or above lname: rw_zoneset_find gives NULL for
 * them, so they go where the forward zone sends them. 0 or RW_ENOMEM. */
int rw_zoneset_yield(struct rw_zoneset *zs, const uint8_t *lname);
/* A hash of the zone files the set was built from, taken before they
 * were read (rw_zone_sources_hash): a later equal hash means nothing to
 * reload. */
void rw_zoneset_set_source_hash(struct rw_zoneset *zs, uint64_t h);
uint64_t rw_zoneset_source_hash(const struct rw_zoneset *zs);
size_t rw_zoneset_count(const struct rw_zoneset *zs);
const struct rw_zone *rw_zoneset_at(const struct rw_zoneset *zs, size_t i);
struct rw_zoneset *rw_zoneset_ref(struct rw_zoneset *zs);
void rw_zoneset_unref(struct rw_zoneset *zs);

#endif
