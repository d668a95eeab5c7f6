/* Building the zone set the daemon serves from its configuration: the
 * built-in locally served zones (RFC 6761, RFC 6303, RFC 7686, RFC 8375),
 * then every "*.zone" file in --zones-dir, then each --zone NAME=FILE. A
 * configured zone replaces a built-in zone of the same origin; two
 * configured zones of one origin are an error. */
#ifndef ROOTWALK_ZONELOAD_H
#define ROOTWALK_ZONELOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/zone.h"

/* One --zone NAME=FILE. Borrowed strings. */
struct rw_zone_file {
	const char *name; /* presentation form */
	const char *file;
};

/* Where the zone set comes from. Everything borrowed. */
struct rw_zone_sources {
	bool builtin; /* the RFC 6761/6303 zones compiled in */
	/* Built-in zones not to serve (presentation form); each must name
	 * one. */
	const char *const *no_builtin;
	size_t nno_builtin;
	const char *dir; /* every "*.zone" file in it; NULL: none */
	const struct rw_zone_file *zones;
	size_t nzones;
	/* Forward zones (presentation form): a built-in zone at or above
	 * one yields its names to it (rw_zoneset_yield). */
	const char *const *forward;
	size_t nforward;
};

/* Loads all zones. On failure returns an error code and writes one line
 * naming the file, the line and the problem into err. */
int rw_zoneload(const struct rw_zone_sources *src, struct rw_zoneset **out, char *err,
                size_t err_len);

/* A hash of what the zone files of src hold now (names and bytes, and
 * which cannot be read): equal hashes, the same zones. What a reload
 * compares before it loads (--watch-zones). */
uint64_t rw_zone_sources_hash(const struct rw_zone_sources *src);

/* The built-in zones of zs strictly below forward zone fwd (presentation
 * form): they answer names the forward zone would otherwise get. Writes
 * their names, comma-separated, into out; returns how many. */
size_t rw_zoneset_builtin_below(const struct rw_zoneset *zs, const char *fwd, char *out,
                                size_t out_len);

/* The built-in zones, generated at build time from zones/local. */
struct rw_builtin_zone {
	const char *origin; /* presentation form */
	const char *label;  /* for errors, e.g. "builtin:localhost.zone" */
	const char *text;
};
extern const struct rw_builtin_zone rw_builtin_zones[];
extern const size_t rw_builtin_zone_count;

#endif
