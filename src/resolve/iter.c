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
#include "iter_int.h"
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

void rw_res_limits_default(struct rw_res_limits *l)
{
	l->cname_max = 8;
	l->referrals_max = 30;
	l->queries_max = 64;
	l->glueless_max = 4;
	l->depth_max = 3;
	l->timeout_ms = 10000;
	l->bytes_max = 512 * 1024;
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
void iter_finish(struct rw_res *r, uint16_t rcode)
{
	r->answer = rw_answer_build(&r->ab, rcode);
	r->depth = 1;
	r->frame0.state = RW_ITER_FINISHED;
}

/* Ends the resolution with SERVFAIL and an EDE (RFC 8914). */
void iter_fail(struct rw_res *r, uint16_t ede, const char *text)
{
	r->stats->servfails++;
	r->answer = rw_answer_servfail(ede, text);
	r->depth = 1;
	r->frame0.state = RW_ITER_FINISHED;
}

const char *const rw_res_limit_names[RW_LIMIT_N] = {"cname", "referrals", "queries", "glueless",
                                                    "bytes"};

void iter_fail_limit(struct rw_res *r, enum rw_res_limit which, const char *text)
{
	r->stats->limit_hits++;
	r->stats->limit[which]++;
	iter_fail(r, RW_EDE_OTHER, text);
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

static uint32_t addr_hash(const union saddr *a)
{
	const uint8_t *p = (const uint8_t *)a;
	uint32_t h = 2166136261u;
	for (socklen_t i = 0; i < saddr_len(a); i++)
		h = (h ^ p[i]) * 16777619u;
	return h | 1; /* never 0 */
}

static bool exhausted(const struct frame *f, const union saddr *a)
{
	uint32_t h = addr_hash(a);
	for (unsigned i = 0; i < f->nexhausted; i++)
		if (f->exhausted[i] == h)
			return true;
	return false;
}

void iter_add_glue(struct rw_res *r, struct frame *f, const struct rw_msg *m,
                   const uint8_t *bailiwick)
{
	for (uint16_t i = 0; i < m->nrr[RW_SEC_AR]; i++) {
		const struct rw_rr *rr = &m->rr[RW_SEC_AR][i];
		if ((rr->type != RW_TYPE_A && rr->type != RW_TYPE_AAAA) ||
		    rr->rclass != r->qclass || !rw_name_is_under(rr->owner, bailiwick))
			continue;
		for (unsigned k = 0; k < f->nns; k++)
			if (rw_name_eq(rr->owner, f->ns[k].name))
				add_addr(r, &f->ns[k], rr->type, rr->rdata, rr->rdlen, false);
	}
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

/* The frame asks a new set of servers: their patience starts afresh. */
static void new_servers(struct frame *f)
{
	f->patience_end_ms = 0;
	f->late.srv = NULL;
	f->late_waited = false;
}

static void use_hints(struct rw_res *r, struct frame *f)
{
	const struct rw_hints *h = r->env->hints;
	f->zone[0] = 0;
	f->nns = 0;
	f->from_hints = true;
	new_servers(f);
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
void iter_set_cut(struct rw_res *r, struct frame *f, const uint8_t *zone,
                  const struct rw_cache_rrset *nss)
{
	rw_name_lower(f->zone, zone, rw_name_len(zone));
	f->nns = 0;
	f->glueless = 0;
	f->from_hints = false;
	new_servers(f);
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
	/* A DS set is the parent's data (RFC 4035 §3.1.4.1): it is asked of
	 * the zone above the name, never of the name's own servers. */
	const uint8_t *start = f->qname;
	if (f->qtype == RW_TYPE_DS && f->qname[0] != 0)
		start = rw_name_parent(f->qname);
	for (const uint8_t *z = start; z != NULL; z = rw_name_parent(z)) {
		struct rw_cache_entry e;
		if (rw_cache_get(r->env->cache, z, RW_TYPE_NS, RW_CLASS_IN, &r->arena, &e,
		                 r->env->cache_stats) == 0 &&
		    e.kind == RW_CACHE_POSITIVE) {
			iter_set_cut(r, f, z, &e.set);
			/* The root's NS primed without addresses: the client's
			 * frame keeps those names and looks them up when it needs
			 * a server (a glueless lookup); the lookups themselves
			 * reach the root through the hints, never through a
			 * lookup that needs the root. */
			bool any = false;
			for (unsigned i = 0; i < f->nns && !any; i++)
				any = f->ns[i].naddr > 0;
			if (z[0] == 0 && !any && f->kind != F_MAIN)
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
void iter_pop(struct rw_res *r, bool ok)
{
	struct frame *f = top(r);
	if (rw_fails_assert(r->depth > 1 && f->kind != F_MAIN)) {
		iter_fail(r, RW_EDE_OTHER, "internal error");
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
 * for this zone, not backed off; one of those with the lowest timeout
 * (within RTO_BAND_MS), a random other one in about one pick of eight
 * (exploration). NULL when none. */
static struct server *pick(struct rw_res *r, struct frame *f)
{
	struct server *best = NULL;
	uint32_t best_rto = UINT32_MAX;
	unsigned n = 0;
	struct server *cand[NS_MAX * ADDRS_PER_NS];
	uint32_t cand_rto[NS_MAX * ADDRS_PER_NS];
	uint64_t t = now(r);
	uint32_t zh = rw_name_hash(f->zone);
	for (unsigned i = 0; i < f->nns; i++) {
		for (unsigned k = 0; k < f->ns[i].naddr; k++) {
			struct server *s = &f->ns[i].addr[k];
			if (s->failed || s->tries >= TRIES_PER_SERVER)
				continue;
			if (f->parent_tried && exhausted(f, &s->ss))
				continue; /* failed before the parent was asked */
			if (s->tries > 0 && f->patience_end_ms != 0 && t >= f->patience_end_ms)
				continue; /* no retries after the frame's patience */
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
			cand_rto[n] = rto;
			cand[n++] = s;
			if (rto < best_rto) {
				best_rto = rto;
				best = s;
			}
		}
	}
	if (n <= 1)
		return best;
	uint32_t rnd = (r->queries + 1) * 2654435761u ^ (uint32_t)t * 40503u ^ zh;
	rnd ^= rnd >> 15;
	if (rnd % 8 == 0)
		return cand[(rnd >> 3) % n];
	/* Servers within RTO_BAND_MS of the best are equals: spread over
	 * them (unknown ones all start at the same timeout, and the first
	 * listed must not always be the one tried first). */
	unsigned near = 0;
	for (unsigned i = 0; i < n; i++)
		if (cand_rto[i] <= best_rto + RTO_BAND_MS)
			cand[near++] = cand[i];
	return cand[(rnd >> 3) % near];
}

/* A name below the frame's cut that an earlier minimised query found to
 * exist without a cut: its A data or NODATA is in the cache
 * (iterreply.c's minimised_exists), as Unbound skips a minimised name
 * cached as NOERROR. */
static bool known_no_cut(struct rw_res *r, const uint8_t *name)
{
	struct rw_cache_entry e;
	return rw_cache_get(r->env->cache, name, RW_TYPE_A, r->qclass, &r->arena, &e,
	                    r->env->cache_stats) == 0 &&
	       (e.kind == RW_CACHE_NODATA ||
	        (e.kind == RW_CACHE_POSITIVE && e.rank >= RW_RANK_ANSWER));
}

/* The name to ask the frame's servers: with QNAME minimisation, the
 * frame's name cut to one label (or, after MINIMISE_ONE_LAB steps, a few)
 * below what is known to exist, asked for A (RFC 9156 §3); else, or once
 * that reaches the name, the full question. Names the cache knows to
 * exist below the cut are stepped over without a query. */
static const uint8_t *ask_name(struct rw_res *r, struct frame *f, uint16_t *qtype)
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
	/* Bound: the name's labels. */
	while (want < n && r->env->cache != NULL && known_no_cut(r, p)) {
		want++;
		const uint8_t *q = f->qname;
		for (unsigned skip = n - want; skip > 0; skip--)
			q += *q + 1;
		p = q;
	}
	f->qmin_labels = (uint8_t)want;
	if (want >= n)
		return f->qname;
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
	/* DO=1 (RFC 3225): signed zones send their signatures and denial
	 * records, which are kept for clients that validate. */
	if (edns && rw_builder_opt(&b, r->env->edns_size, 0, true, NULL, 0) != 0)
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
	uint32_t ttl = e.kind == RW_CACHE_POSITIVE ? e.set.ttl_s : e.soa.ttl_s;
	if (e.kind == RW_CACHE_POSITIVE) {
		for (uint16_t i = 0; i < e.set.count; i++)
			rw_answer_add(&r->ab, RW_SEC_AN, f->qname, f->qtype, r->qclass, ttl,
			              e.set.rdata[i], e.set.rdlen[i]);
	} else {
		rw_answer_add(&r->ab, RW_SEC_NS, e.soa.owner, RW_TYPE_SOA, r->qclass, ttl,
		              e.soa.rdata[0], e.soa.rdlen[0]);
	}
	/* The DNSSEC records (rw_query_finish keeps them for DO clients):
	 * the set's signatures with it, a denial in the authority section. */
	for (uint16_t i = 0; i < e.proof.count; i++) {
		const struct rw_cache_rr *rr = &e.proof.rr[i];
		bool own = e.kind == RW_CACHE_POSITIVE && rr->type == RW_TYPE_RRSIG &&
		           rr->owner == e.set.owner && rw_get16(rr->rdata) == f->qtype;
		rw_answer_add(&r->ab, own ? RW_SEC_AN : RW_SEC_NS, rr->owner, rr->type, r->qclass,
		              ttl, rr->rdata, rr->rdlen);
	}
	iter_finish(r, e.kind == RW_CACHE_NXDOMAIN ? RW_RCODE_NXDOMAIN : RW_RCODE_NOERROR);
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
			iter_pop(r, true);
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

/* True when a server of the frame answered anything lately. */
static bool any_alive(struct rw_res *r, const struct frame *f)
{
	uint64_t t = now(r);
	for (unsigned i = 0; i < f->nns; i++)
		for (unsigned k = 0; k < f->ns[i].naddr; k++) {
			struct rw_infra_info info;
			rw_infra_get(r->env->infra, &f->ns[i].addr[k].ss.sa, t, &info);
			if (rw_infra_is_alive(&info, t))
				return true;
		}
	return false;
}

/* The cut's servers all failed, and their addresses may be the child's
 * own (cached at a higher rank than the parent's glue): ask the parent
 * once for its referral, and try the glue addresses not tried yet. False
 * when that was done already, or there is no parent to ask. */
static bool parent_fallback(struct rw_res *r, struct frame *f)
{
	if (f->parent_tried || f->from_hints || f->zone[0] == 0)
		return false;
	f->parent_tried = true;
	f->nexhausted = 0;
	for (unsigned i = 0; i < f->nns; i++)
		for (unsigned k = 0; k < f->ns[i].naddr && f->nexhausted < EXHAUSTED_MAX; k++)
			f->exhausted[f->nexhausted++] = addr_hash(&f->ns[i].addr[k].ss);
	/* The closest cached delegation above the cut. */
	const uint8_t *z = rw_name_parent(f->zone);
	for (; z != NULL; z = rw_name_parent(z)) {
		struct rw_cache_entry e;
		if (rw_cache_get(r->env->cache, z, RW_TYPE_NS, RW_CLASS_IN, &r->arena, &e,
		                 r->env->cache_stats) == 0 &&
		    e.kind == RW_CACHE_POSITIVE) {
			iter_set_cut(r, f, z, &e.set);
			break;
		}
	}
	if (z == NULL)
		use_hints(r, f);
	f->qmin_labels = f->qmin_steps = 0;
	f->state = RW_ITER_QUERY_TARGETS;
	return true;
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
		iter_pop(r, false); /* this NS name cannot be resolved */
		return;
	}
	if (i < f->nns && f->glueless >= r->env->lim.glueless_max) {
		iter_fail_limit(r, RW_LIMIT_GLUELESS, "glueless NS lookup limit reached");
		return;
	}
	if (parent_fallback(r, f))
		return;
	/* Every server of the cut failed. When none of them has answered
	 * anything lately, the delegation is unreachable: other names under
	 * it fail at once while that is held (RFC 9520), not after the same
	 * timeouts again. A server that answers other names but not this one
	 * is not: only this question's failure is held. The root is never
	 * held so. */
	bool first;
	uint64_t suppressed;
	if (f->zone[0] != 0 && !any_alive(r, f) &&
	    rw_failcache_note(r->env->failures, f->zone, 0, 0, &first) > 0 && first &&
	    r->env->event_log != NULL && rw_log_limit(r->env->event_log, now(r), &suppressed)) {
		char zone[RW_NAME_TEXT_MAX];
		rw_name_to_text(f->zone, zone, sizeof zone);
		rw_log_info("no server of %s reachable: names under it are SERVFAIL for a while",
		            zone);
	}
	iter_fail(r, RW_EDE_NO_REACHABLE_AUTHORITY, "no reachable authority");
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
		iter_fail(r, RW_EDE_OTHER, "query does not fit");
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
	if (f->patience_end_ms == 0)
		f->patience_end_ms = t + PATIENCE_MS;
	else if (s->tries > 1 && f->patience_end_ms > t && f->patience_end_ms - t < left)
		left = f->patience_end_ms - t; /* a retry ends with the patience */
	uint32_t to = tcp ? info.rto_ms * 3 : info.rto_ms;
	q->timeout_ms = to < left ? to : (uint32_t)left;
	f->state = RW_ITER_WAIT_REPLY;
	return true;
}

/* QUERY_TARGETS: the next server, with what the infra records say it
 * speaks. RW_RES_SEND when q is to be sent, RW_RES_WAIT to wait for a
 * late answer, 0 to go on. */
static enum rw_res_step state_query_targets(struct rw_res *r, struct frame *f,
                                            struct rw_res_query *q)
{
	struct server *s = pick(r, f);
	uint64_t t = now(r);
	if (s == NULL && f->late.srv != NULL && !f->late_waited && t < f->patience_end_ms) {
		/* Nobody left to ask, but a timed-out try may still answer:
		 * wait for it until the patience ends. */
		f->late_waited = true;
		r->cur = f->late;
		f->state = RW_ITER_WAIT_REPLY;
		q->timeout_ms = (uint32_t)(f->patience_end_ms - t);
		return RW_RES_WAIT;
	}
	if (s == NULL) {
		no_server_left(r, f);
		return 0;
	}
	struct rw_infra_info info;
	rw_infra_get(r->env->infra, &s->ss.sa, now(r), &info);
	return send_to(r, f, s, info.tcp_only, !info.no_edns, q) ? RW_RES_SEND : 0;
}

enum rw_res_step rw_res_next(struct rw_res *r, struct rw_res_query *q)
{
	/* Bound: every pass sends a query, changes the top frame's state,
	 * ends a frame, or pushes one (depth-limited, and each NS name is
	 * looked up once per delegation); the query limit and the deadline
	 * end it all. */
	while (!finished(r)) {
		if (now(r) >= r->deadline_ms) {
			iter_fail(r, RW_EDE_NO_REACHABLE_AUTHORITY, "resolution timed out");
			break;
		}
		if (r->queries >= r->env->lim.queries_max) {
			iter_fail_limit(r, RW_LIMIT_QUERIES, "upstream query limit reached");
			break;
		}
		struct frame *f = top(r);
		enum rw_res_step step;
		switch (f->state) {
		case RW_ITER_INIT: state_init(r, f); break;
		case RW_ITER_QUERY_TARGETS:
			step = state_query_targets(r, f, q);
			if (step != 0)
				return step;
			break;
		case RW_ITER_RETRY_SAME:
			if (send_to(r, f, r->cur.srv, r->cur.tcp, r->cur.edns, q))
				return RW_RES_SEND;
			break;
		case RW_ITER_WAIT_REPLY:
		case RW_ITER_FINISHED:
			/* The caller asked for more before feeding the reply. */
			if (rw_fails_assert(f->state != RW_ITER_WAIT_REPLY && f->kind != F_MAIN))
				iter_fail(r, RW_EDE_OTHER, "internal error");
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
	if (f->late_waited && f->late.srv == r->cur.srv && f->late.sent_ms == r->cur.sent_ms) {
		f->late.srv = NULL; /* the wait for a late answer is over */
	} else {
		r->stats->timeouts++;
		uint32_t qh = rw_name_hash(r->cur.qname) ^ r->cur.qtype;
		rw_infra_timeout(r->env->infra, &r->cur.srv->ss.sa, qh, now(r));
		if (!r->cur.tcp)
			f->late = r->cur;
	}
	r->cur.srv = NULL;
	f->state = RW_ITER_QUERY_TARGETS;
}
