/* The cache on disk, so that a restart does not start cold (issue 12).
 *
 * Format (all integers in network order), version 1:
 *   header   "RWCACHE\0", u32 version, u32 flags (0), u64 written (Unix
 *            ms), u32 record count, u32 0                      -- 32 bytes
 *   records  u32 length of the rest of the record, then
 *            u8 kind, u8 rank, u16 type, u16 class, u64 expiry (Unix ms),
 *            u32 the TTL it was cached with, the owner (uncompressed wire
 *            name, lower-cased);
 *            positive: u16 count, count x (u16 length, rdata);
 *            negative: the SOA's owner, u16 length, SOA rdata;
 *            u16 n, n x (owner, u16 type, u16 length, rdata): the DNSSEC
 *            records kept with it
 *   trailer  u64 FNV-1a of everything before it
 * Expiry is absolute wall-clock time, so a file read after a restart (or
 * on another machine) counts down from where it was. A file that fails the
 * checksum, the header or the framing is refused whole; a record that does
 * not parse or has expired is dropped alone. Sans-I/O: bytes in, bytes
 * out; the daemon reads and writes (atomically) the file. */
#ifndef ROOTWALK_CACHEFILE_H
#define ROOTWALK_CACHEFILE_H

#include <stddef.h>
#include <stdint.h>

#include "rootwalk/arena.h"
#include "rootwalk/cache.h"
#include "rootwalk/strbuf.h"

#define RW_CACHEFILE_VERSION 1

/* Appends the cache's live entries to out as a cache file; now_unix_ms:
 * the wall clock. Returns the number of entries (out->failed on
 * allocation failure). */
size_t rw_cachefile_write(struct rw_cache *c, struct rw_arena *arena, uint64_t now_unix_ms,
                          struct rw_buf *out);

struct rw_cachefile_result {
	size_t loaded;    /* entries cached */
	size_t expired;   /* dropped: past their expiry */
	size_t malformed; /* dropped: a record that does not parse */
	size_t refused;   /* the cache kept better data, or the entry is too big */
};

/* Reads a cache file (len bytes) into the cache. Returns 0, or
 * RW_EMALFORMED with *why (static text) when the file is refused whole --
 * empty, truncated, corrupt, foreign or of another version -- in which case
 * nothing is loaded. */
int rw_cachefile_read(struct rw_cache *c, const uint8_t *buf, size_t len, uint64_t now_unix_ms,
                      struct rw_arena *arena, struct rw_cachefile_result *res, const char **why);

#endif
