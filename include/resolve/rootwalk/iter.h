/* Iterative resolution from the root, without I/O (RFC 1034 §5.3.3).
 *
 * A struct rw_res resolves one question. The caller drives it:
 *   rw_res_next()    -> RW_RES_SEND: send q (to q->addr, over UDP or TCP,
 *                       with a fresh random ID and source port) and wait at
 *                       most q->timeout_ms; or RW_RES_DONE.
 *   rw_res_reply()   with the bytes that came back from exactly that
 *                       address and port with that ID (the I/O layer checks
 *                       those); returns false when the reply is not for the
 *                       question asked (then keep waiting);
 *   rw_res_timeout() when nothing usable came in time (or the send failed).
 * After RW_RES_DONE, rw_res_take_answer() hands over the answer (the
 * CNAME chain and final RRset, or the SOA of a negative answer, or SERVFAIL
 * with an Extended DNS Error, RFC 8914), cached by the same rules as
 * forwarded replies (ingest.h).
 *
 * Each frame of the resolution is in one named state (enum rw_iter_state,
 * Unbound's iter_state); rw_res_next() is the one dispatcher over them and
 * rw_res_reply()/rw_res_timeout() move a waiting frame on:
 *
 *   INIT --> QUERY_TARGETS --send--> WAIT_REPLY --reply/timeout--> ...
 *     ^            |                     |  EDNS FORMERR, TC: RETRY_SAME
 *     |            | no server: a glueless NS name as a sub-frame (INIT),
 *     |            | or the frame ends                     |
 *     +-- CNAME target, priming done, referral followed ---+
 *   FINISHED: frame 0 done; the answer is built.
 *
 * What it does: start from the closest enclosing delegation in the cache
 * (else the root hints, primed per RFC 8109), follow referrals, restart on
 * CNAME, look up the addresses of glueless NS names as sub-requests, and
 * cache what it learns -- only data in the bailiwick of the zone the server
 * was asked about. Server choice uses the shared records in rw_infra.
 * Every loop is bounded by the limits in rw_res_limits.
 *
 * Threading: a struct rw_res is used by one thread; the cache and the infra
 * table it points to are shared (they lock inside). */
#ifndef ROOTWALK_ITER_H
#define ROOTWALK_ITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rootwalk/answer.h"
#include "rootwalk/cache.h"
#include "rootwalk/failcache.h"
#include "rootwalk/hints.h"
#include "rootwalk/infra.h"
#include "rootwalk/log.h"
#include "rootwalk/msg.h"
#include "rootwalk/name.h"

struct rw_res_limits {
	unsigned cname_max;     /* CNAME hops per resolution (8) */
	unsigned referrals_max; /* referrals followed per resolution (30) */
	unsigned queries_max;   /* upstream queries per client query (64) */
	unsigned glueless_max;  /* NS address lookups per delegation (4) */
	unsigned depth_max;     /* nested sub-requests (3) */
	unsigned timeout_ms;    /* whole resolution (10000) */
	unsigned bytes_max;     /* reply bytes taken in per resolution, matched or not
	                         * (512 KiB): what a hostile server can make us parse */
};

void rw_res_limits_default(struct rw_res_limits *l);

struct rw_res_env {
	struct rw_cache *cache;
	struct rw_cache_stats *cache_stats;
	struct rw_infra *infra;
	/* A delegation none of whose servers answer is noted here (RFC
	 * 9520, type 0, tag 0); NULL: not noted. */
	struct rw_failcache *failures;
	const struct rw_hints *hints;
	struct rw_res_limits lim;
	bool query_loopback; /* use learned 127/8, ::1, 0/8, :: addresses */
	bool ipv6;           /* query IPv6 servers */
	bool qmin;           /* QNAME minimisation (RFC 9156, relaxed) */
	uint16_t edns_size;
	uint64_t (*clock)(void *ctx); /* monotonic milliseconds */
	void *clock_ctx;
	/* Lame servers and unreachable delegations are logged at info,
	 * rate-limited through this (the caller's thread's); NULL: not
	 * logged. */
	struct rw_log_limit *event_log;
};

/* Counters, per worker, summed on read. */
/* The limits a resolution can hit, each counted on its own. */
enum rw_res_limit {
	RW_LIMIT_CNAME,     /* cname_max, or a CNAME loop */
	RW_LIMIT_REFERRALS, /* referrals_max */
	RW_LIMIT_QUERIES,   /* queries_max */
	RW_LIMIT_GLUELESS,  /* glueless_max (NXNSAttack) */
	RW_LIMIT_BYTES,     /* bytes_max */
	RW_LIMIT_N
};
extern const char *const rw_res_limit_names[RW_LIMIT_N];

struct rw_res_stats {
	uint64_t resolutions, queries, timeouts, mismatched, lame, referrals, edns_fallbacks,
	    tcp_retries, glueless, limit_hits, servfails;
	uint64_t limit[RW_LIMIT_N]; /* limit_hits, by limit */
};

struct rw_res;

/* SEND: send q (with q.timeout_ms); WAIT: send nothing, keep waiting
 * q.timeout_ms for the last UDP try that timed out (the I/O layer still
 * listens to it), then rw_res_timeout(); DONE: the answer is ready. */
enum rw_res_step { RW_RES_SEND = 1, RW_RES_DONE = 2, RW_RES_WAIT = 3 };

/* The state of one frame of a resolution. */
enum rw_iter_state {
	RW_ITER_INIT = 0,      /* choose the zone cut: the cache, a delegation, priming */
	RW_ITER_QUERY_TARGETS, /* pick a server and send; none left: glueless or give up */
	RW_ITER_RETRY_SAME,    /* the same server again: without EDNS, or over TCP */
	RW_ITER_WAIT_REPLY,    /* a query is out: rw_res_reply() or rw_res_timeout() */
	RW_ITER_FINISHED,      /* the resolution is over (frame 0) */
};

/* "INIT", "QUERY_TARGETS", ...; "?" for anything else. */
const char *rw_iter_state_name(enum rw_iter_state s);

struct rw_res_query {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	bool tcp;
	uint32_t timeout_ms;
	size_t len;
	uint8_t buf[512]; /* ID 0: the I/O layer writes a random one */
};

/* qname in any case; NULL on allocation failure. */
struct rw_res *rw_res_new(const struct rw_res_env *env, struct rw_res_stats *stats,
                          const uint8_t *qname, uint16_t qtype, uint16_t qclass);
void rw_res_free(struct rw_res *r);
enum rw_res_step rw_res_next(struct rw_res *r, struct rw_res_query *q);
bool rw_res_reply(struct rw_res *r, const uint8_t *pkt, size_t len);
/* A late reply from an earlier try of the same question, which timed out
 * but was kept listening: from is that server (one of the frame's), rtt_ms
 * how long it took. Taken like rw_res_reply when it answers the question
 * now asked; the server's RTT is learned, so a slow server stays usable. */
bool rw_res_reply_from(struct rw_res *r, const struct sockaddr *from, uint32_t rtt_ms,
                       const uint8_t *pkt, size_t len);
void rw_res_timeout(struct rw_res *r);
/* After RW_RES_DONE: the answer (one reference, which the caller now owns;
 * NULL when out of memory, i.e. SERVFAIL). Once only. */
struct rw_answer *rw_res_take_answer(struct rw_res *r);
/* The state of the frame on top (for tests and debug logs). */
enum rw_iter_state rw_res_state(const struct rw_res *r);

#endif
