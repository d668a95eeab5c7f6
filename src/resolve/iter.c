/* Iterative resolution; see include/resolve/rootwalk/iter.h.
 *
 * State: a stack of frames, each in one named state. Frame 0 resolves the
 * client's question (and, after a CNAME, its target); a frame above it
 * either primes the root (". NS" from the hints) or looks up the address of
 * a glueless NS name of the frame below. Each frame knows its zone cut (the
 * bailiwick of the servers it asks) and those servers. Every step of the
 * dispatcher either sends one query, changes a frame's state, or ends a
 * frame; every loop is bounded by a limit or by the deadline. What replies
 * prove is cached by the rules in ingest.c, shared with forwarding. */
#include "rootwalk/iter.h"
#include "rootwalk/arena.h"
#include "rootwalk/assert.h"
#include "rootwalk/err.h"
#include "rootwalk/ingest.h"
#include "rootwalk/log.h"
#include "rootwalk/msg.h"
#include "rootwalk/netaddr.h"
#include "rootwalk/rr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define NS_MAX 13
/* RFC 9156 §2.3: at most this many minimised queries per frame, the first
 * ones one label at a time. */
#define MAX_MINIMISE_COUNT 10
#define MINIMISE_ONE_LAB 4
#define ADDRS_PER_NS 4
#define TRIES_PER_SERVER 3
#define DEPTH_CAP 8

void rw_res_limits_default(struct rw_res_limits *l)
{
	l->cname_max = 8;
	l->referrals_max = 30;
	l->queries_max = 64;
	l->glueless_max = 4;
	l->depth_max = 3;
	l->timeout_ms = 10000;
}

const char *rw_iter_state_name(enum rw_iter_state s)
{
	switch (s) {
	case RW_ITER_INIT: return "INIT";
	case RW_ITER_QUERY_TARGETS: return "QUERY_TARGETS";
	case RW_ITER_RETRY_SAME: return "RETRY_SAME";
	case RW_ITER_WAIT_REPLY: return "WAIT_REPLY";
	case RW_ITER_FINISHED: return "FINISHED";
	}
	return "?";
}

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
	struct rw_chain chain; /* the client's CNAME chain, across replies */
	/* The query in flight (the top frame is WAIT_REPLY) or to repeat
	 * (RETRY_SAME). */
	struct {
		struct server *srv;
		bool tcp, edns;
		uint64_t sent_ms;
		const uint8_t *qname; /* asked: the frame's name or a suffix of it */
		uint16_t qtype;
		bool minimised;
	} cur;
	/* The client's answer, collected as the resolution goes, and the
	 * result once frame 0 is FINISHED. */
	struct rw_arena answer_arena;
	struct rw_answer_builder ab;
	struct rw_answer *answer;
};

static uint64_t now(const struct rw_res *r)
{
	return r->env->clock(r->env->clock_ctx);
}

static struct frame *top(struct rw_res *r)
{
	return r->frames[r->depth - 1];
}

static bool finished(const struct rw_res *r)
{
	return r->frame0.state == RW_ITER_FINISHED;
}

struct rw_res *rw_res_new(const struct rw_res_env *env, struct rw_res_stats *stats,
                          const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
	struct rw_res *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->env = env;
	r->stats = stats;
	stats->resolutions++;
	rw_arena_init(&r->arena, 4096, 1 << 20);
	rw_arena_init(&r->answer_arena, 1024, 1 << 20);
	rw_arena_init(&r->names, 1024, 1 << 20);
	rw_answer_builder_init(&r->ab, &r->answer_arena);
	r->start_ms = now(r);
	r->deadline_ms = r->start_ms + env->lim.timeout_ms;
	r->qclass = qclass;
	r->depth = 1;
	struct frame *f = r->frames[0] = &r->frame0;
	f->kind = F_MAIN;
	f->state = RW_ITER_INIT;
	rw_name_lower(f->qname, qname, rw_name_len(qname));
	f->qtype = qtype;
	rw_chain_init(&r->chain, f->qname, env->lim.cname_max);
	return r;
}

void rw_res_free(struct rw_res *r)
{
	if (r == NULL)
		return;
	rw_answer_unref(r->answer);
	rw_arena_fini(&r->arena);
	rw_arena_fini(&r->answer_arena);
	rw_arena_fini(&r->names);
	for (unsigned i = 1; i < DEPTH_CAP; i++)
		free(r->frames[i]);
	free(r);
}

/* Ends the resolution with rcode and the records collected. */
static void finish(struct rw_res *r, uint16_t rcode)
{
	r->answer = rw_answer_build(&r->ab, rcode);
	r->depth = 1;
	r->frame0.state = RW_ITER_FINISHED;
}

/* Ends the resolution with SERVFAIL and an EDE (RFC 8914). */
static void fail(struct rw_res *r, uint16_t ede, const char *text)
{
	r->stats->servfails++;
	r->answer = rw_answer_servfail(ede, text);
	r->depth = 1;
	r->frame0.state = RW_ITER_FINISHED;
}

static void fail_limit(struct rw_res *r, const char *text)
{
	r->stats->limit_hits++;
	fail(r, RW_EDE_OTHER, text);
}

/* --- servers ------------------------------------------------------------ */

static bool usable_addr(const struct rw_res *r, const struct sockaddr *sa, bool configured)
{
	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return false;
	if (sa->sa_family == AF_INET6 && !r->env->ipv6)
		return false;
	if (!configured && !r->env->query_loopback && rw_addr_is_loopback_or_any(sa))
		return false;
	return true;
}

static socklen_t saddr_len(const union saddr *a)
{
	return a->sa.sa_family == AF_INET6 ? sizeof a->v6 : sizeof a->v4;
}

static void add_addr(struct rw_res *r, struct ns *n, uint16_t type, const uint8_t *rd,
                     uint16_t rdlen, bool configured)
{
	if (n->naddr == ADDRS_PER_NS)
		return;
	union saddr ss;
	memset(&ss, 0, sizeof ss);
	if (type == RW_TYPE_A && rdlen == 4) {
		ss.v4.sin_family = AF_INET;
		ss.v4.sin_port = htons(53);
		memcpy(&ss.v4.sin_addr, rd, 4);
	} else if (type == RW_TYPE_AAAA && rdlen == 16) {
		ss.v6.sin6_family = AF_INET6;
		ss.v6.sin6_port = htons(53);
		memcpy(&ss.v6.sin6_addr, rd, 16);
	} else {
		return;
	}
	if (!usable_addr(r, &ss.sa, configured))
		return;
	for (unsigned i = 0; i < n->naddr; i++)
		if (memcmp(&n->addr[i].ss, &ss, sizeof ss) == 0)
			return;
	n->addr[n->naddr++] = (struct server){.ss = ss};
}

/* Addresses of an NS name from the cache. */
static void cached_addrs(struct rw_res *r, struct ns *n)
{
	static const uint16_t types[2] = {RW_TYPE_A, RW_TYPE_AAAA};
	for (int t = 0; t < 2; t++) {
		if (types[t] == RW_TYPE_AAAA && !r->env->ipv6)
			continue;
		struct rw_cache_entry e;
		if (rw_cache_get(r->env->cache, n->name, types[t], RW_CLASS_IN, &r->arena, &e,
		                 r->env->cache_stats) != 0)
			continue;
		n->known |= types[t] == RW_TYPE_A ? NS_A : NS_AAAA; /* or known not to exist */
		if (e.kind == RW_CACHE_POSITIVE)
			for (uint16_t i = 0; i < e.set.count; i++)
				add_addr(r, n, types[t], e.set.rdata[i], e.set.rdlen[i], false);
	}
}

static void use_hints(struct rw_res *r, struct frame *f)
{
	const struct rw_hints *h = r->env->hints;
	f->zone[0] = 0;
	f->nns = 0;
	f->from_hints = true;
	for (unsigned i = 0; i < h->nns && f->nns < NS_MAX; i++) {
		struct ns *n = &f->ns[f->nns++];
		memset(n, 0, sizeof *n);
		n->name = h->ns[i].name; /* the hints outlive the resolution */
		n->known = NS_A | NS_AAAA;
		for (unsigned k = 0; k < h->ns[i].naddr && n->naddr < ADDRS_PER_NS; k++) {
			const struct sockaddr *sa = (const struct sockaddr *)&h->ns[i].addr[k];
			if (!usable_addr(r, sa, true))
				continue;
			struct server *s = &n->addr[n->naddr++];
			memset(s, 0, sizeof *s);
			memcpy(&s->ss, sa,
			       sa->sa_family == AF_INET6 ? sizeof s->ss.v6 : sizeof s->ss.v4);
		}
	}
}

/* Makes zone (lower-cased) with the NS names of nss the frame's cut. */
static void set_cut(struct rw_res *r, struct frame *f, const uint8_t *zone,
                    const struct rw_cache_rrset *nss)
{
	rw_name_lower(f->zone, zone, rw_name_len(zone));
	f->nns = 0;
	f->glueless = 0;
	f->from_hints = false;
	for (uint16_t i = 0; i < nss->count && f->nns < NS_MAX; i++) {
		size_t len = rw_name_len(nss->rdata[i]);
		uint8_t *name = rw_arena_alloc(&r->names, len);
		if (name == NULL)
			break; /* the names arena's limit: fewer servers */
		rw_name_lower(name, nss->rdata[i], len);
		struct ns *n = &f->ns[f->nns++];
		memset(n, 0, sizeof *n);
		n->name = name;
		cached_addrs(r, n);
	}
}

/* Sets the frame's cut to the closest enclosing delegation in the cache
 * (RFC 1034 §5.3.3 step 2), else the root from the hints. Bound: the
 * labels of the name. */
static void find_delegation(struct rw_res *r, struct frame *f)
{
	for (const uint8_t *z = f->qname; z != NULL; z = rw_name_parent(z)) {
		struct rw_cache_entry e;
		if (rw_cache_get(r->env->cache, z, RW_TYPE_NS, RW_CLASS_IN, &r->arena, &e,
		                 r->env->cache_stats) == 0 &&
		    e.kind == RW_CACHE_POSITIVE) {
			set_cut(r, f, z, &e.set);
			/* The root's NS primed without addresses: reach the root
			 * through the hints (their names are resolved from there
			 * when asked), never through a lookup that needs the root. */
			bool any = false;
			for (unsigned i = 0; i < f->nns && !any; i++)
				any = f->ns[i].naddr > 0;
			if (z[0] == 0 && !any)
				break;
			return;
		}
	}
	use_hints(r, f);
}

static struct frame *push(struct rw_res *r, enum frame_kind kind, const uint8_t *qname,
                          uint16_t qtype)
{
	RW_REQUIRE(r->depth < DEPTH_CAP);
	if (r->frames[r->depth] == NULL &&
	    (r->frames[r->depth] = malloc(sizeof(struct frame))) == NULL)
		return NULL;
	struct frame *f = r->frames[r->depth++];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	f->state = RW_ITER_INIT;
	memcpy(f->qname, qname, rw_name_len(qname));
	f->qtype = qtype;
	return f;
}

/* Ends the top frame. ok: F_NSADDR got addresses, F_PRIME got the root
 * NS; the frame below goes on. */
static void pop(struct rw_res *r, bool ok)
{
	struct frame *f = top(r);
	if (rw_fails_assert(r->depth > 1 && f->kind != F_MAIN)) {
		fail(r, RW_EDE_OTHER, "internal error");
		return;
	}
	r->depth--;
	struct frame *below = top(r);
	if (f->kind == F_PRIME) {
		r->primed = true;
		below->state = RW_ITER_INIT; /* choose again, from the primed cache */
	} else {
		struct ns *n = &below->ns[f->parent_ns];
		n->known |= f->qtype == RW_TYPE_AAAA ? NS_AAAA : NS_A;
		if (ok)
			cached_addrs(r, n);
		below->state = RW_ITER_QUERY_TARGETS;
	}
}

/* Picks the next server of the frame: not failed, tries left, not lame
 * for this zone, not backed off; the lowest timeout first, a random other
 * one in about one pick of eight (exploration). NULL when none. */
static struct server *pick(struct rw_res *r, struct frame *f)
{
	struct server *best = NULL;
	uint32_t best_rto = UINT32_MAX;
	unsigned n = 0;
	struct server *cand[NS_MAX * ADDRS_PER_NS];
	uint64_t t = now(r);
	uint32_t zh = rw_name_hash(f->zone);
	for (unsigned i = 0; i < f->nns; i++) {
		for (unsigned k = 0; k < f->ns[i].naddr; k++) {
			struct server *s = &f->ns[i].addr[k];
			if (s->failed || s->tries >= TRIES_PER_SERVER)
				continue;
			struct rw_infra_info info;
			rw_infra_get(r->env->infra, &s->ss.sa, t, &info);
			if (rw_infra_is_lame(&info, zh, t))
				continue;
			/* Servers in back-off are not asked at all until it ends
			 * (then one query probes them): a dead delegation fails
			 * at once, not after every try times out again. */
			if (info.backoff_until_ms > t)
				continue;
			uint32_t rto = info.rto_ms + s->tries * 1000; /* tried ones last */
			cand[n++] = s;
			if (rto < best_rto) {
				best_rto = rto;
				best = s;
			}
		}
	}
	if (n > 1 && (r->queries * 2654435761u + (uint32_t)t) % 8 == 0)
		best = cand[((uint32_t)t >> 3) % n];
	return best;
}

/* The name to ask the frame's servers: with QNAME minimisation, the
 * frame's name cut to one label (or, after MINIMISE_ONE_LAB steps, a few)
 * below what is known to exist, asked for A (RFC 9156 §3); else, or once
 * that reaches the name, the full question. */
static const uint8_t *ask_name(const struct rw_res *r, const struct frame *f, uint16_t *qtype)
{
	*qtype = f->qtype;
	if (!r->env->qmin || f->qmin_off || f->kind == F_PRIME)
		return f->qname;
	unsigned n = rw_name_labels(f->qname), z = rw_name_labels(f->zone);
	unsigned want = f->qmin_labels ? f->qmin_labels : z + 1;
	if (want >= n || f->qmin_steps >= MAX_MINIMISE_COUNT)
		return f->qname;
	const uint8_t *p = f->qname;
	for (unsigned skip = n - want; skip > 0; skip--)
		p += *p + 1;
	*qtype = RW_TYPE_A;
	return p;
}

static size_t make_query(struct rw_res *r, const uint8_t *qname, uint16_t qtype, bool edns,
                         uint8_t *buf, size_t cap)
{
	struct rw_builder b;
	rw_builder_init(&b, buf, cap, 0, 0); /* RD=0: iterative */
	if (rw_builder_question(&b, qname, qtype, r->qclass) != 0)
		return 0;
	if (edns && rw_builder_opt(&b, r->env->edns_size, 0, false, NULL, 0) != 0)
		return 0;
	return rw_builder_finish(&b);
}

/* --- the states --------------------------------------------------------- */

/* INIT, frame 0 after a CNAME: the cache may hold the rest of the chain's
 * answer. True when it did (the resolution is finished). */
static bool answer_target_from_cache(struct rw_res *r, struct frame *f)
{
	struct rw_cache_entry e;
	if (rw_cache_get(r->env->cache, f->qname, f->qtype, r->qclass, &r->arena, &e,
	                 r->env->cache_stats) != 0 ||
	    (e.kind == RW_CACHE_POSITIVE && e.rank < RW_RANK_ANSWER)) /* glue is no answer */
		return false;
	if (e.kind == RW_CACHE_POSITIVE) {
		for (uint16_t i = 0; i < e.set.count; i++)
			rw_answer_add(&r->ab, RW_SEC_AN, f->qname, f->qtype, r->qclass, e.set.ttl_s,
			              e.set.rdata[i], e.set.rdlen[i]);
		finish(r, RW_RCODE_NOERROR);
	} else {
		rw_answer_add(&r->ab, RW_SEC_NS, e.soa.owner, RW_TYPE_SOA, r->qclass, e.soa.ttl_s,
		              e.soa.rdata[0], e.soa.rdlen[0]);
		finish(r, e.kind == RW_CACHE_NXDOMAIN ? RW_RCODE_NXDOMAIN : RW_RCODE_NOERROR);
	}
	return true;
}

/* INIT: choose the frame's zone cut and servers. */
static void state_init(struct rw_res *r, struct frame *f)
{
	if (f->kind == F_MAIN && r->chain.hops > 0 && answer_target_from_cache(r, f))
		return;
	if (f->kind == F_NSADDR) {
		struct ns tmp;
		memset(&tmp, 0, sizeof tmp);
		tmp.name = f->qname;
		cached_addrs(r, &tmp);
		if (tmp.naddr > 0) {
			pop(r, true);
			return;
		}
	}
	f->glueless = 0;
	f->from_hints = false;
	f->qmin_labels = f->qmin_steps = 0;
	f->qmin_off = false;
	find_delegation(r, f);
	f->state = RW_ITER_QUERY_TARGETS;
	if (f->from_hints && !r->primed && f->kind != F_PRIME && r->depth < DEPTH_CAP) {
		/* RFC 8109: ask the hints for the root's NS first. */
		struct frame *p = push(r, F_PRIME, (const uint8_t *)"", RW_TYPE_NS);
		if (p == NULL) { /* out of memory: ask the hints without priming */
			r->primed = true;
			return;
		}
		use_hints(r, p);
		p->state = RW_ITER_QUERY_TARGETS;
	}
}

/* QUERY_TARGETS with no server left: look up a glueless NS name (bounded
 * per delegation and in depth), or end the frame. */
static void no_server_left(struct rw_res *r, struct frame *f)
{
	/* An NS name without addresses whose A (and, with IPv6 upstream,
	 * AAAA) is not known yet: A first, AAAA when A gave none. */
	uint8_t all = r->env->ipv6 ? NS_A | NS_AAAA : NS_A;
	unsigned i = 0;
	while (i < f->nns && ((f->ns[i].known & all) == all || f->ns[i].naddr > 0))
		i++;
	if (i < f->nns && f->glueless < r->env->lim.glueless_max &&
	    r->depth <= r->env->lim.depth_max && r->depth < DEPTH_CAP) {
		f->glueless++;
		r->stats->glueless++;
		uint16_t type = (f->ns[i].known & NS_A) ? RW_TYPE_AAAA : RW_TYPE_A;
		f->ns[i].known |= type == RW_TYPE_A ? NS_A : NS_AAAA;
		/* A name under the zone being resolved needs glue we do not
		 * have: asking would loop. */
		if (rw_name_is_under(f->ns[i].name, f->zone) && f->zone[0] != 0)
			return;
		struct frame *sub = push(r, F_NSADDR, f->ns[i].name, type);
		if (sub != NULL)
			sub->parent_ns = i;
		return;
	}
	if (f->kind != F_MAIN) {
		pop(r, false); /* this NS name cannot be resolved */
		return;
	}
	if (i < f->nns && f->glueless >= r->env->lim.glueless_max) {
		fail_limit(r, "glueless NS lookup limit reached");
		return;
	}
	/* Every server of the cut failed: the delegation is unreachable.
	 * Other names under it fail at once while that is held (RFC 9520),
	 * not after the same timeouts again. The root is never held so. */
	bool first;
	uint64_t suppressed;
	if (f->zone[0] != 0 && rw_failcache_note(r->env->failures, f->zone, 0, 0, &first) > 0 &&
	    first && r->env->event_log != NULL &&
	    rw_log_limit(r->env->event_log, now(r), &suppressed)) {
		char zone[RW_NAME_TEXT_MAX];
		rw_name_to_text(f->zone, zone, sizeof zone);
		rw_log_info("no server of %s reachable: names under it are SERVFAIL for a while",
		            zone);
	}
	fail(r, RW_EDE_NO_REACHABLE_AUTHORITY, "no reachable authority");
}

/* Fills q for server s of frame f and moves it to WAIT_REPLY. False when
 * the query does not fit (the resolution has failed). */
static bool send_to(struct rw_res *r, struct frame *f, struct server *s, bool tcp, bool edns,
                    struct rw_res_query *q)
{
	uint64_t t = now(r);
	struct rw_infra_info info;
	rw_infra_get(r->env->infra, &s->ss.sa, t, &info);
	uint16_t qtype;
	const uint8_t *qname = ask_name(r, f, &qtype);
	q->len = make_query(r, qname, qtype, edns, q->buf, sizeof q->buf);
	if (q->len == 0) {
		fail(r, RW_EDE_OTHER, "query does not fit");
		return false;
	}
	s->tries++;
	r->queries++;
	r->stats->queries++;
	r->cur.srv = s;
	r->cur.tcp = tcp;
	r->cur.edns = edns;
	r->cur.sent_ms = t;
	r->cur.qname = qname;
	r->cur.qtype = qtype;
	r->cur.minimised = qname != f->qname;
	memset(&q->addr, 0, sizeof q->addr);
	q->addr_len = saddr_len(&s->ss);
	memcpy(&q->addr, &s->ss, q->addr_len);
	q->tcp = tcp;
	uint64_t left = r->deadline_ms - t;
	uint32_t to = tcp ? info.rto_ms * 3 : info.rto_ms;
	q->timeout_ms = to < left ? to : (uint32_t)left;
	f->state = RW_ITER_WAIT_REPLY;
	return true;
}

/* QUERY_TARGETS: the next server, with what the infra records say it
 * speaks. True when q is to be sent. */
static bool state_query_targets(struct rw_res *r, struct frame *f, struct rw_res_query *q)
{
	struct server *s = pick(r, f);
	if (s == NULL) {
		no_server_left(r, f);
		return false;
	}
	struct rw_infra_info info;
	rw_infra_get(r->env->infra, &s->ss.sa, now(r), &info);
	return send_to(r, f, s, info.tcp_only, !info.no_edns, q);
}

enum rw_res_step rw_res_next(struct rw_res *r, struct rw_res_query *q)
{
	/* Bound: every pass sends a query, changes the top frame's state,
	 * ends a frame, or pushes one (depth-limited, and each NS name is
	 * looked up once per delegation); the query limit and the deadline
	 * end it all. */
	while (!finished(r)) {
		if (now(r) >= r->deadline_ms) {
			fail(r, RW_EDE_NO_REACHABLE_AUTHORITY, "resolution timed out");
			break;
		}
		if (r->queries >= r->env->lim.queries_max) {
			fail_limit(r, "upstream query limit reached");
			break;
		}
		struct frame *f = top(r);
		switch (f->state) {
		case RW_ITER_INIT: state_init(r, f); break;
		case RW_ITER_QUERY_TARGETS:
			if (state_query_targets(r, f, q))
				return RW_RES_SEND;
			break;
		case RW_ITER_RETRY_SAME:
			if (send_to(r, f, r->cur.srv, r->cur.tcp, r->cur.edns, q))
				return RW_RES_SEND;
			break;
		case RW_ITER_WAIT_REPLY:
		case RW_ITER_FINISHED:
			/* The caller asked for more before feeding the reply. */
			if (rw_fails_assert(f->state != RW_ITER_WAIT_REPLY && f->kind != F_MAIN))
				fail(r, RW_EDE_OTHER, "internal error");
			break;
		}
	}
	return RW_RES_DONE;
}

void rw_res_timeout(struct rw_res *r)
{
	struct frame *f = top(r);
	if (f->state != RW_ITER_WAIT_REPLY || r->cur.srv == NULL)
		return;
	r->stats->timeouts++;
	rw_infra_timeout(r->env->infra, &r->cur.srv->ss.sa, now(r));
	r->cur.srv = NULL;
	f->state = RW_ITER_QUERY_TARGETS;
}

/* --- replies --------------------------------------------------------------- */

/* The current server is no use for this resolution (lame is NULL: it
 * failed, e.g. SERVFAIL), or is lame for the zone -- evidence about the
 * (server, zone) pair only, for RW_INFRA_LAME_MS; lame says why. */
static void server_failed(struct rw_res *r, struct frame *f, const char *lame)
{
	r->cur.srv->failed = true;
	if (lame != NULL) {
		uint64_t t = now(r), suppressed;
		r->stats->lame++;
		rw_infra_set_lame(r->env->infra, &r->cur.srv->ss.sa, rw_name_hash(f->zone), t);
		if (r->env->event_log != NULL && rw_log_limit(r->env->event_log, t, &suppressed)) {
			char addr[80], zone[RW_NAME_TEXT_MAX];
			rw_addr_text(&r->cur.srv->ss.sa, addr, sizeof addr);
			rw_name_to_text(f->zone, zone, sizeof zone);
			rw_log_info("lame server %s for %s (%s): not asked for it for %d s%s", addr,
			            zone, lame, RW_INFRA_LAME_MS / 1000,
			            suppressed ? " (and more not logged)" : "");
		}
	}
	r->cur.srv = NULL;
	f->state = RW_ITER_QUERY_TARGETS;
}

/* The frame's name does not exist or has no such data; frame 0's SOA is
 * already in the answer (when there was one). */
static void frame_negative(struct rw_res *r, struct frame *f, uint16_t rcode)
{
	if (f->kind == F_MAIN)
		finish(r, rcode);
	else
		pop(r, false);
}

/* A referral to ns_owner: must go down, strictly below the zone asked
 * about and above the name (else it is lame, RFC 1034 §5.3.3 4d). */
static void follow_referral(struct rw_res *r, struct frame *f, const struct rw_msg *m,
                            const struct rw_ingest *in, const uint8_t *ns_owner)
{
	if (rw_name_len(ns_owner) <= rw_name_len(f->zone) || !rw_name_is_under(ns_owner, f->zone) ||
	    !rw_name_is_under(f->qname, ns_owner)) {
		server_failed(r, f, "an upward or sideways referral");
		return;
	}
	if (++r->referrals > r->env->lim.referrals_max) {
		fail_limit(r, "referral limit reached");
		return;
	}
	r->stats->referrals++;
	struct rw_cache_rrset nss;
	if (!rw_ingest_delegation(in, m, ns_owner, r->qclass, &nss)) {
		server_failed(r, f, "a referral without NS records");
		return;
	}
	set_cut(r, f, ns_owner, &nss);
	r->cur.srv = NULL;
	f->state = RW_ITER_QUERY_TARGETS;
}

/* No answer for the name: a negative answer, a referral, or a lame
 * server. Bound: the authority section's records. */
static void no_answer(struct rw_res *r, struct frame *f, const struct rw_msg *m,
                      const struct rw_ingest *in)
{
	uint16_t rcode = RW_RCODE(m->flags);
	bool soa = false;
	const uint8_t *ns_owner = NULL;
	for (uint16_t i = 0; i < m->nrr[RW_SEC_NS]; i++) {
		const struct rw_rr *rr = &m->rr[RW_SEC_NS][i];
		if (rr->type == RW_TYPE_SOA && rw_name_is_under(rr->owner, f->zone) &&
		    rw_name_is_under(f->qname, rr->owner))
			soa = true;
		if (rr->type == RW_TYPE_NS && ns_owner == NULL)
			ns_owner = rr->owner;
	}
	bool down = ns_owner != NULL && rw_name_len(ns_owner) > rw_name_len(f->zone) &&
	            rw_name_is_under(ns_owner, f->zone) && rw_name_is_under(f->qname, ns_owner);
	if (rcode == RW_RCODE_NXDOMAIN || soa) {
		rw_ingest_negative(in, m, f->qname, f->qtype, r->qclass,
		                   rcode == RW_RCODE_NXDOMAIN);
		frame_negative(r, f, rcode);
	} else if (down || (ns_owner != NULL && !(m->flags & RW_FLAG_AA))) {
		follow_referral(r, f, m, in, ns_owner); /* lame unless it goes down */
	} else if (m->flags & RW_FLAG_AA) {
		/* Authoritative, and nothing for the name and type: NODATA,
		 * whatever else it holds -- records of another type (an A for
		 * an AAAA question), or the zone's own NS in the authority
		 * section. Not lame: the server answered for its zone. */
		frame_negative(r, f, RW_RCODE_NOERROR);
	} else {
		server_failed(r, f, "not authoritative, and no referral");
	}
}

/* Uses a reply that matched the question, in the frame's bailiwick. */
static void use_reply(struct rw_res *r, struct frame *f, const struct rw_msg *m)
{
	struct rw_ingest in = {
	    .cache = r->env->cache,
	    .stats = r->env->cache_stats,
	    .arena = &r->arena,
	    .bailiwick = f->zone,
	    /* In a sub-request the chain is followed but not answered (an NS
	     * name must not be an alias, RFC 2181 §10.3; we are lenient). */
	    .answer = f->kind == F_MAIN ? &r->ab : NULL,
	};
	/* A sub-request's chain is its own: it must not count against, or
	 * loop-check with, the client's. */
	struct rw_chain sub;
	rw_chain_init(&sub, f->qname, r->env->lim.cname_max);
	struct rw_chain *chain = f->kind == F_MAIN ? &r->chain : &sub;
	const uint8_t *end;
	switch (rw_ingest_chain(&in, m, f->qname, f->qtype, r->qclass, chain, &end)) {
	case RW_INGEST_ANSWER:
		if (f->qtype == RW_TYPE_NS) {
			struct rw_cache_rrset nss; /* priming: the roots' addresses */
			if (rw_cache_rrset_collect(&r->arena, m, RW_SEC_AN, end, RW_TYPE_NS,
			                           r->qclass, &nss))
				rw_ingest_glue(&in, m, &nss);
		}
		if (f->kind == F_MAIN)
			finish(r, RW_RCODE_NOERROR);
		else
			pop(r, true);
		return;
	case RW_INGEST_ALIAS:
		/* Restart on the CNAME target from its closest delegation. */
		rw_name_lower(f->qname, end, rw_name_len(end));
		r->cur.srv = NULL;
		f->state = RW_ITER_INIT;
		return;
	case RW_INGEST_LOOP:
		r->stats->limit_hits++;
		fail(r, RW_EDE_OTHER, "CNAME loop");
		return;
	case RW_INGEST_TOO_LONG: fail_limit(r, "CNAME chain too long"); return;
	case RW_INGEST_NOTHING: no_answer(r, f, m, &in); return;
	}
}

/* A reply to a minimised query (RFC 9156 §2.3, relaxed): a referral is
 * followed; a name that exists without a cut makes the next query one
 * level deeper; an error, NXDOMAIN (broken servers say it for empty
 * non-terminals) or an alias makes the frame ask the full name. Nothing
 * but the referral is cached from it. */
static void minimised_reply(struct rw_res *r, struct frame *f, const struct rw_msg *m)
{
	struct server *s = r->cur.srv;
	s->tries = 0; /* it answered: the next question is another one */
	r->cur.srv = NULL;
	f->state = RW_ITER_QUERY_TARGETS;
	const uint8_t *ns_owner = NULL;
	for (uint16_t i = 0; i < m->nrr[RW_SEC_NS] && ns_owner == NULL; i++) {
		const struct rw_rr *rr = &m->rr[RW_SEC_NS][i];
		if (rr->type == RW_TYPE_NS && rw_name_len(rr->owner) > rw_name_len(f->zone) &&
		    rw_name_is_under(rr->owner, f->zone) && rw_name_is_under(f->qname, rr->owner))
			ns_owner = rr->owner;
	}
	bool alias = false;
	for (uint16_t i = 0; i < m->nrr[RW_SEC_AN]; i++)
		alias |= m->rr[RW_SEC_AN][i].type == RW_TYPE_CNAME ||
		         m->rr[RW_SEC_AN][i].type == RW_TYPE_DNAME;
	if (RW_RCODE(m->flags) == RW_RCODE_NOERROR && ns_owner != NULL &&
	    !(m->flags & RW_FLAG_AA)) {
		struct rw_ingest in = {.cache = r->env->cache,
		                       .stats = r->env->cache_stats,
		                       .arena = &r->arena,
		                       .bailiwick = f->zone};
		r->cur.srv = s;
		follow_referral(r, f, m, &in, ns_owner);
		f->qmin_labels = 0; /* one below the new cut next */
		return;
	}
	if (RW_RCODE(m->flags) != RW_RCODE_NOERROR || alias) {
		f->qmin_off = true;
		return;
	}
	/* The name exists and is no cut: deeper, one label at a time for the
	 * first MINIMISE_ONE_LAB steps, then in bigger strides so that at most
	 * MAX_MINIMISE_COUNT queries are minimised. */
	unsigned n = rw_name_labels(f->qname), asked = rw_name_labels(r->cur.qname);
	f->qmin_steps++;
	unsigned step = 1;
	if (f->qmin_steps >= MINIMISE_ONE_LAB && f->qmin_steps < MAX_MINIMISE_COUNT) {
		step = (n - asked) / (MAX_MINIMISE_COUNT - f->qmin_steps);
		step = step < 1 ? 1 : step;
	}
	f->qmin_labels = (uint8_t)(asked + step);
}

bool rw_res_reply(struct rw_res *r, const uint8_t *pkt, size_t len)
{
	struct frame *f = top(r);
	if (f->state != RW_ITER_WAIT_REPLY || r->cur.srv == NULL)
		return false;
	rw_arena_reset(&r->arena);
	struct rw_msg m;
	/* A reply to another question (or garbage) is not ours: drop it and
	 * keep waiting; never cache from it. */
	if (rw_msg_parse(pkt, len, &r->arena, &m) != 0 || m.qdcount != 1 ||
	    !(m.flags & RW_FLAG_QR) || RW_OPCODE(m.flags) != RW_OPCODE_QUERY ||
	    m.qtype != r->cur.qtype || m.qclass != r->qclass ||
	    !rw_name_eq(m.qname, r->cur.qname)) {
		r->stats->mismatched++;
		return false;
	}
	uint64_t t = now(r);
	const struct sockaddr *sa = &r->cur.srv->ss.sa;
	rw_infra_rtt(r->env->infra, sa, (uint32_t)(t - r->cur.sent_ms), t);
	uint16_t rcode = RW_RCODE(m.flags);
	if ((rcode == RW_RCODE_FORMERR || rcode == RW_RCODE_NOTIMP) && r->cur.edns &&
	    !m.edns.present) {
		/* RFC 6891 §7: a server that does not know EDNS; again without. */
		r->stats->edns_fallbacks++;
		rw_infra_set_no_edns(r->env->infra, sa, t);
		r->cur.edns = false;
		r->cur.srv->tries--;
		f->state = RW_ITER_RETRY_SAME;
		return true;
	}
	if ((m.flags & RW_FLAG_TC) && !r->cur.tcp) {
		r->stats->tcp_retries++;
		r->cur.tcp = true;
		r->cur.srv->tries--;
		f->state = RW_ITER_RETRY_SAME;
		return true;
	}
	/* REFUSED and NOTAUTH: the server does not serve the zone it was
	 * delegated (lame); SERVFAIL and the rest say nothing about that. */
	if (r->cur.minimised)
		minimised_reply(r, f, &m);
	else if (rcode != RW_RCODE_NOERROR && rcode != RW_RCODE_NXDOMAIN)
		server_failed(r, f,
		              rcode == RW_RCODE_REFUSED   ? "REFUSED"
		              : rcode == RW_RCODE_NOTAUTH ? "NOTAUTH"
		                                          : NULL);
	else
		use_reply(r, f, &m);
	return true;
}

struct rw_answer *rw_res_take_answer(struct rw_res *r)
{
	if (rw_fails_assert(finished(r)))
		return NULL;
	struct rw_answer *a = r->answer;
	r->answer = NULL;
	return a;
}

enum rw_iter_state rw_res_state(const struct rw_res *r)
{
	return r->frames[r->depth - 1]->state;
}
