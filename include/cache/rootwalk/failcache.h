/* Resolution failures, remembered (RFC 9520), shared by the workers.
 *
 * A failure is kept for a (name, type, tag): the question that failed, or
 * -- type 0 -- everything at or under a name: a delegation none of whose
 * servers could be reached while iterating (tag 0), or a forward group none
 * of whose upstreams answered (tag: the group + 1, at the route's zone).
 * While a failure is held, the query path answers SERVFAIL at once (EDE 13,
 * Cached Error) and sends nothing upstream. A failure noted again soon
 * after its hold ended doubles the hold (min_ms .. max_ms: 1 s .. 5 min by
 * default, RFC 9520 §3.2); a success clears it.
 *
 * Locking and ownership: one mutex guards the table; calls copy in and out
 * and never hold it outside the call. At most max entries: a new one
 * replaces an expired or the shortest-held entry of its bucket, else it is
 * not kept. The clock is the table's own (the cache's kind). */
#ifndef ROOTWALK_FAILCACHE_H
#define ROOTWALK_FAILCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/cache.h"

struct rw_failcache;

/* NULL on allocation failure. min_ms 0: failures are not kept at all. */
struct rw_failcache *rw_failcache_new(size_t max, uint32_t min_ms, uint32_t max_ms,
                                      rw_clock_cb clock, void *clock_ctx);
void rw_failcache_free(struct rw_failcache *fc);

/* Notes a failure of (lname, type, tag); lname lower-case. Returns the hold
 * in ms (0: not kept). *first: there was no live failure before (for a
 * log line on the transition). */
uint32_t rw_failcache_note(struct rw_failcache *fc, const uint8_t *lname, uint16_t type,
                           unsigned tag, bool *first);
/* The same, held at least floor_ms (and kept even when failures are not
 * otherwise): a refresh of stale data that failed is retried no sooner
 * (RFC 8767 §5, failure-recheck). */
uint32_t rw_failcache_note_floor(struct rw_failcache *fc, const uint8_t *lname, uint16_t type,
                                 unsigned tag, uint32_t floor_ms, bool *first);
/* A success: forgets the failure of (lname, type, tag). True when there
 * was a live one (the transition back). */
bool rw_failcache_clear(struct rw_failcache *fc, const uint8_t *lname, uint16_t type, unsigned tag);
/* Is a failure held for (lname, qtype, tag), or (type 0) for lname or a
 * name above it? Returns the ms left (0: none). Bound: the name's labels. */
uint32_t rw_failcache_check(struct rw_failcache *fc, const uint8_t *lname, uint16_t qtype,
                            unsigned tag);
/* Forgets everything; returns how many entries there were. */
size_t rw_failcache_flush(struct rw_failcache *fc);
size_t rw_failcache_count(struct rw_failcache *fc);

#endif
