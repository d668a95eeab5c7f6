/* The shared RRset cache (RFC 1035 §7.4, RFC 2181 §5.4.1, RFC 2308).
 *
 * Stores positive RRsets of every type keyed by (owner, type, class) and
 * negative entries: NXDOMAIN for a name (key type 0) and NODATA for a name
 * and type, each keeping the SOA it came with so the negative answer can be
 * rebuilt. Every entry has an absolute expiry; lookups return the remaining
 * TTL. An expired entry is kept for the stale window (RFC 8767) and
 * returned only to a lookup that asks for stale data; eviction takes
 * expired entries first.
 *
 * Locking and ownership:
 * - The cache is split into RW_CACHE_SHARDS shards by key hash; each shard
 *   has one mutex guarding its hash table, eviction queue and byte count.
 *   No lock is held outside a cache call, and no call takes two locks.
 * - Entries are immutable once inserted and owned by their shard. A lookup
 *   copies the record data into the caller's arena while holding the shard
 *   lock, so nothing the caller holds can be freed under it.
 * - An insert replaces a whole RRset, never merges, and only when the new
 *   data's trust rank is at least the cached one's (or the cached one has
 *   expired): glue and additional data never overwrite answer data.
 * - Counters live in a struct rw_cache_stats owned by the caller (one per
 *   worker, no shared atomics on the hot path) and are summed when read.
 *   Entry and byte totals are read from the shards under their locks.
 *
 * Memory bound: the bytes of every entry (malloc_usable_size of its single
 * allocation, plus its share of the hash table) are counted against
 * limit_bytes, split evenly across shards. Eviction is SIEVE (Zhang et al.,
 * NSDI'24): a FIFO queue with one "visited" bit per entry and a hand that
 * spares visited entries once; a flood of one-off names is evicted before
 * entries that are asked for again. */
#ifndef ROOTWALK_CACHE_H
#define ROOTWALK_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/arena.h"
#include "rootwalk/msg.h"

#define RW_CACHE_SHARDS 64

struct rw_cache;

/* Trust ranks, lowest first (RFC 2181 §5.4.1, simplified). */
enum rw_rank {
	RW_RANK_ADDITIONAL = 1, /* additional section, glue */
	RW_RANK_AUTHORITY = 2,  /* authority section of an answer */
	RW_RANK_ANSWER = 3,     /* answer section, non-authoritative */
	RW_RANK_AUTH_ANSWER = 4 /* answer section with AA */
};

enum rw_cache_kind {
	RW_CACHE_POSITIVE = 0,
	RW_CACHE_NODATA = 1,   /* the name exists, this type does not */
	RW_CACHE_NXDOMAIN = 2, /* the name does not exist (any type) */
};

/* Milliseconds on a monotonic clock; injectable so tests need no sleeping. */
typedef uint64_t (*rw_clock_cb)(void *ctx);

struct rw_cache_config {
	size_t limit_bytes;     /* total memory bound (default 64 MiB) */
	uint32_t min_ttl_s;     /* clamps applied on insert */
	uint32_t max_ttl_s;     /* default 86400 */
	uint32_t max_neg_ttl_s; /* default 3600 */
	/* Serve-stale (RFC 8767): an entry is kept this long past its
	 * expiry, and a lookup that asks for stale data may return it
	 * (default 86400; 0: expired entries are dropped, never served). */
	uint32_t stale_s;
	/* Prefetch: a live hit with less than this share (percent) of its
	 * TTL left is marked for a refresh (default 10; 0: never). */
	uint32_t prefetch_pct;
	rw_clock_cb clock; /* NULL: CLOCK_MONOTONIC */
	void *clock_ctx;
};

/* Per-worker counters. */
struct rw_cache_stats {
	uint64_t hits, misses, inserts, evictions, expired, refused_rank;
	uint64_t stale; /* stale entries returned (RW_CACHE_STALE lookups) */
};

/* One record set as handed in or out: count records of one type. */
struct rw_cache_rrset {
	const uint8_t *owner; /* wire name, any case (stored lower-cased) */
	uint16_t type, rclass;
	uint32_t ttl_s; /* on insert: the TTL received; on lookup: remaining */
	uint16_t count;
	const uint16_t *rdlen;       /* count lengths */
	const uint8_t *const *rdata; /* count canonical rdata */
};

/* One record of an entry's DNSSEC material; its TTL is the entry's. */
struct rw_cache_rr {
	const uint8_t *owner;
	uint16_t type, rdlen;
	const uint8_t *rdata;
};

/* The DNSSEC records kept with an entry (RFC 4035 §3.1), handed to
 * clients that set DO: for a positive entry the RRSIGs covering its set
 * (and, for a wildcard expansion, the NSEC/NSEC3 proving no closer match
 * with their RRSIGs); for a negative one the SOA's RRSIGs and the NSEC or
 * NSEC3 records of the denial with theirs. Bounded by the entry's bytes. */
struct rw_cache_proof {
	uint16_t count;
	const struct rw_cache_rr *rr;
};

/* A lookup result; every pointer is in the caller's arena. */
struct rw_cache_entry {
	enum rw_cache_kind kind;
	enum rw_rank rank;
	/* Found: the entry had expired (an RW_CACHE_STALE lookup), its TTLs
	 * are 0. Not found: an expired entry within the stale window is
	 * there (what an RW_CACHE_STALE lookup would return). */
	bool stale;
	/* Found live, with less than prefetch_pct of its TTL left. */
	bool prefetch;
	struct rw_cache_rrset set;   /* POSITIVE: the RRset */
	struct rw_cache_rrset soa;   /* NODATA/NXDOMAIN: the SOA (count 1) */
	struct rw_cache_proof proof; /* empty unless asked for and kept */
};

void rw_cache_config_default(struct rw_cache_config *cfg);
/* Creates a cache. NULL on allocation failure. */
struct rw_cache *rw_cache_new(const struct rw_cache_config *cfg);
/* A reload: takes cfg's TTL clamps, stale window and prefetch share (the
 * rest stays as created) for inserts and lookups from now on; entries
 * already in keep the expiry they got. Any thread. */
void rw_cache_set_policy(struct rw_cache *c, const struct rw_cache_config *cfg);
void rw_cache_free(struct rw_cache *c);

/* Caches a positive RRset (copied) with its DNSSEC records (proof; NULL:
 * none). TTLs are clamped to [min, max]. Returns 0, RW_EEXIST (lower rank
 * than the live cached data), RW_ELIMIT (too big to cache), RW_EINVAL or
 * RW_ENOMEM. */
int rw_cache_put(struct rw_cache *c, const struct rw_cache_rrset *set,
                 const struct rw_cache_proof *proof, enum rw_rank rank, struct rw_cache_stats *st);
/* Caches a negative answer for (name, type) -- kind NODATA -- or for the
 * name -- kind NXDOMAIN, type ignored -- with its denial records (proof;
 * NULL: none). The TTL is min(SOA TTL, SOA MINIMUM) clamped to
 * max_neg_ttl (RFC 2308 §5). soa and proof are copied. */
int rw_cache_put_negative(struct rw_cache *c, enum rw_cache_kind kind, const uint8_t *name,
                          uint16_t type, uint16_t rclass, const struct rw_cache_rrset *soa,
                          const struct rw_cache_proof *proof, enum rw_rank rank,
                          struct rw_cache_stats *st);
/* Lookup flags. */
#define RW_CACHE_PROOF 1u /* copy the proof too (a client that set DO) */
#define RW_CACHE_STALE 2u /* an expired entry within the stale window will do */

/* Looks up (name, type, class): a live NXDOMAIN for the name wins, then the
 * RRset or NODATA entry, with its proof. Copies into arena. Returns 0,
 * RW_ENOTFOUND (miss or expired; out->stale says whether stale data is
 * there) or RW_ENOMEM (arena full). */
int rw_cache_get(struct rw_cache *c, const uint8_t *name, uint16_t type, uint16_t rclass,
                 struct rw_arena *arena, struct rw_cache_entry *out, struct rw_cache_stats *st);
/* The same with flags (RW_CACHE_*). With RW_CACHE_STALE and no live
 * entry, an expired one within the stale window is returned, NXDOMAIN
 * first, out->stale set and its TTLs 0 (the caller gives the stale TTL). */
int rw_cache_get_flags(struct rw_cache *c, const uint8_t *name, uint16_t type, uint16_t rclass,
                       unsigned flags, struct rw_arena *arena, struct rw_cache_entry *out,
                       struct rw_cache_stats *st);
/* The same for a name already lower-cased, with its length and
 * rw_name_hash() (the hit path has them at hand). */
int rw_cache_get_lower(struct rw_cache *c, const uint8_t *lname, size_t nl, uint32_t hash,
                       uint16_t type, uint16_t rclass, unsigned flags, struct rw_arena *arena,
                       struct rw_cache_entry *out, struct rw_cache_stats *st);
/* Gathers the records of one RRset (owner, type, rclass; owner compared
 * case-insensitively) from a section of a parsed message into out, its
 * arrays in arena, its TTL the lowest of the records' (RFC 2181 §5.2);
 * duplicate records are merged (RFC 2181 §5). A set's size is bounded by
 * the message's (64 KiB), not by a record count; the cache bounds an
 * entry's bytes. False when there are none or the arena is full. */
bool rw_cache_rrset_collect(struct rw_arena *arena, const struct rw_msg *m, enum rw_section sec,
                            const uint8_t *owner, uint16_t type, uint16_t rclass,
                            struct rw_cache_rrset *out);

/* Removes every entry. */
void rw_cache_flush(struct rw_cache *c);
/* Removes every entry of one name (all types, and its NXDOMAIN); returns
 * how many. */
/* Removes every entry match says yes to (name: the owner, lower-case
 * wire form; type: 0 for an NXDOMAIN entry); returns how many. Walks all
 * shards, one lock at a time: for the control socket, not the hot path. */
typedef bool (*rw_cache_match_cb)(void *ctx, const uint8_t *name, uint16_t type,
                                  enum rw_cache_kind kind);
size_t rw_cache_flush_match(struct rw_cache *c, rw_cache_match_cb match, void *ctx);
size_t rw_cache_flush_name(struct rw_cache *c, const uint8_t *name);
/* Calls cb with one presentation line per live record ("owner TTL class
 * type rdata", negative entries as "; owner TTL NXDOMAIN|NODATA type"),
 * shard by shard under each shard's lock; cb must not call the cache.
 * Returns the number of entries. */
typedef void (*rw_cache_dump_cb)(void *ctx, const char *line);
size_t rw_cache_dump(struct rw_cache *c, rw_cache_dump_cb cb, void *ctx);

/* Calls cb for every live entry, its proof included, copied into arena
 * (reset before each), shard by shard under each shard's lock (cb must not
 * call the cache). left_ms: its life left; ttl_s: the TTL it was inserted
 * with. Returns the number of entries. */
typedef void (*rw_cache_walk_cb)(void *ctx, const struct rw_cache_entry *e, uint64_t left_ms,
                                 uint32_t ttl_s);
size_t rw_cache_walk(struct rw_cache *c, struct rw_arena *arena, rw_cache_walk_cb cb, void *ctx);

/* Totals read from the shards (under their locks). */
size_t rw_cache_entries(struct rw_cache *c);
/* Of those, the NXDOMAIN and NODATA entries (CoreDNS's "denial" cache). */
size_t rw_cache_entries_negative(struct rw_cache *c);
size_t rw_cache_bytes(struct rw_cache *c);
/* Adds src into dst (summing per-worker counters). */
void rw_cache_stats_add(struct rw_cache_stats *dst, const struct rw_cache_stats *src);

#endif
