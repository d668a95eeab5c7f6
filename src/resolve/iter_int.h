/* The iterator's insides, shared by iter.c (the states) and iterreply.c
 * (what a reply means): not an interface. */
#ifndef ROOTWALK_ITER_INT_H
#define ROOTWALK_ITER_INT_H

#include "rootwalk/answer.h"
#include "rootwalk/arena.h"
#include "rootwalk/ingest.h"
#include "rootwalk/iter.h"
#include "rootwalk/msg.h"

#include <netinet/in.h>

#define NS_MAX 13
/* RFC 9156 §2.3: at most this many minimised queries per frame, the first
 * ones one label at a time. */
#define MAX_MINIMISE_COUNT 10
#define MINIMISE_ONE_LAB 4
#define ADDRS_PER_NS 4
#define TRIES_PER_SERVER 3
/* How long one frame's servers get, from its first query: retries start
 * within it and the last ones end with it, and timed-out tries are
 * listened to until it ends (a server answering in 2.5 s resolves; a
 * dead delegation fails in under 3 s). A server not yet tried may still
 * be asked after it (new addresses from a glueless lookup). */
#define PATIENCE_MS 2800
#define DEPTH_CAP 8
#define EXHAUSTED_MAX 16
/* Servers whose timeouts differ by no more than this are equals. */
#define RTO_BAND_MS 50

/* --- state ------------------------------------------------------------- */

/* An IPv4 or IPv6 server address: 28 bytes, not a sockaddr_storage's
 * 128 (a resolution holds up to 13 x 4 of them per frame). */
union saddr {
	struct sockaddr sa;
	struct sockaddr_in v4;
	struct sockaddr_in6 v6;
};

struct server {
	union saddr ss;
	uint8_t tries;
	bool failed; /* lame, refused, or broken for this zone */
};

struct ns {
	const uint8_t *name; /* lower-case; in r->names, or the hints' */
	struct server addr[ADDRS_PER_NS];
	uint8_t naddr;
	uint8_t known; /* NS_A, NS_AAAA: the cache or a sub-request has said */
};

enum frame_kind { F_MAIN = 0, F_PRIME, F_NSADDR };

#define NS_A 1
#define NS_AAAA 2

/* A query sent. */
struct sent {
	struct server *srv;
	bool tcp, edns;
	uint64_t sent_ms;
	const uint8_t *qname; /* asked: the frame's name or a suffix of it */
	uint16_t qtype;
	bool minimised;
};

struct frame {
	enum frame_kind kind;
	enum rw_iter_state state;
	uint8_t qname[RW_NAME_MAX]; /* lower-case */
	uint16_t qtype;
	uint8_t zone[RW_NAME_MAX]; /* the cut being asked: the servers' bailiwick */
	struct ns ns[NS_MAX];
	unsigned nns;
	unsigned glueless;
	unsigned parent_ns; /* F_NSADDR: which NS of the frame below */
	bool from_hints;
	/* QNAME minimisation (RFC 9156, relaxed): the labels of qname to ask
	 * next below the cut (0: one below it), the minimised queries sent,
	 * and whether this frame asks the full name from now on. */
	uint8_t qmin_labels, qmin_steps;
	bool qmin_off;
	/* PATIENCE_MS from the first query to this server set (0: none yet);
	 * the last UDP try that timed out (late.srv NULL: none), which the
	 * I/O layer may still listen to, and whether RW_RES_WAIT was given. */
	uint64_t patience_end_ms;
	struct sent late;
	bool late_waited;
	/* Parent-side fallback: the cut's servers all failed once, so the
	 * parent was asked for its glue (once per frame, not again for a
	 * cut further down); the addresses that failed before are not asked
	 * again (hashes, at most EXHAUSTED_MAX). */
	bool parent_tried;
	uint8_t nexhausted;
	uint32_t exhausted[EXHAUSTED_MAX];
};

struct rw_res {
	const struct rw_res_env *env;
	struct rw_res_stats *stats;
	struct rw_arena arena; /* per reply: reset for each */
	uint64_t start_ms, deadline_ms;
	uint16_t qclass;
	/* frames[0] is frame0; the others are allocated at their first push
	 * and kept for reuse (priming and glueless lookups are rare). */
	struct frame frame0;
	struct frame *frames[DEPTH_CAP];
	unsigned depth;        /* frames in use */
	struct rw_arena names; /* NS names of every cut, until the end */
	bool primed;
	unsigned queries, referrals;
	size_t bytes;          /* reply bytes taken in (lim.bytes_max) */
	struct rw_chain chain; /* the client's CNAME chain, across replies */
	/* The query in flight (the top frame is WAIT_REPLY) or to repeat
	 * (RETRY_SAME). */
	struct sent cur;
	/* The client's answer, collected as the resolution goes, and the
	 * result once frame 0 is FINISHED. */
	struct rw_arena answer_arena;
	struct rw_answer_builder ab;
	struct rw_answer *answer;
};

static inline uint64_t now(const struct rw_res *r)
{
	return r->env->clock(r->env->clock_ctx);
}

static inline struct frame *top(struct rw_res *r)
{
	return r->frames[r->depth - 1];
}

static inline bool finished(const struct rw_res *r)
{
	return r->frame0.state == RW_ITER_FINISHED;
}

static inline socklen_t saddr_len(const union saddr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof a->v6 : sizeof a->v4;
}

void iter_finish(struct rw_res *r, uint16_t rcode);
void iter_fail(struct rw_res *r, uint16_t ede, const char *text);
void iter_fail_limit(struct rw_res *r, enum rw_res_limit which, const char *text);
/* Ends the top frame (ok: it found what it was for). */
void iter_pop(struct rw_res *r, bool ok);
/* Makes zone (lower-cased) with the NS names of nss the frame's cut. */
/* Adds the addresses in the additional section of m for the frame's NS
 * names inside bailiwick (the parent's glue) to the frame's servers. */
void iter_add_glue(struct rw_res *r, struct frame *f, const struct rw_msg *m,
                   const uint8_t *bailiwick);
void iter_set_cut(struct rw_res *r, struct frame *f, const uint8_t *zone,
                  const struct rw_cache_rrset *nss);

#endif
