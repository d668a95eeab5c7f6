/* Iterative resolution; see include/resolve/rootwalk/iter.h.
 *
 * State: a stack of frames. Frame 0 resolves the client's question (and,
 * after a CNAME, its target); a frame above it either primes the root
 * (". NS" from the hints) or looks up the address of a glueless NS name of
 * the frame below. Each frame knows its zone cut (the bailiwick of the
 * servers it asks) and those servers. Every step either sends one query or
 * ends a frame; every loop is bounded by a limit or by the deadline. */
#include "rootwalk/iter.h"
#include "rootwalk/netaddr.h"
#include "rootwalk/arena.h"
#include "rootwalk/err.h"
#include "rootwalk/msg.h"
#include "rootwalk/rr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_MAX 13
#define ADDRS_PER_NS 4
#define TRIES_PER_SERVER 3
#define DEPTH_CAP 8
#define RESP_FIRST 4096
#define RESP_MAX 65535

void rw_res_limits_default(struct rw_res_limits *l)
{
	l->cname_max = 8;
	l->referrals_max = 30;
	l->queries_max = 64;
	l->glueless_max = 4;
	l->depth_max = 3;
	l->timeout_ms = 10000;
}

/* --- state ------------------------------------------------------------- */

struct server {
	struct sockaddr_storage ss;
	uint8_t tries;
	bool failed; /* lame, refused, or broken for this zone */
};

struct ns {
	uint8_t name[RW_NAME_MAX];
	struct server addr[ADDRS_PER_NS];
	uint8_t naddr;
	bool looked_up; /* addresses asked for already (cache or sub-request) */
};

enum frame_kind { F_MAIN = 0, F_PRIME, F_NSADDR };

struct frame {
	enum frame_kind kind;
	uint8_t qname[RW_NAME_MAX]; /* lower-case */
	uint16_t qtype;
	bool setup; /* zone and servers chosen */
	uint8_t zone[RW_NAME_MAX];
	struct ns ns[NS_MAX];
	unsigned nns;
	unsigned glueless;
	unsigned parent_ns; /* F_NSADDR: which NS of the frame below */
	bool from_hints;
};

struct rw_res {
	const struct rw_res_env *env;
	struct rw_res_stats *stats;
	struct rw_arena arena;
	uint64_t start_ms, deadline_ms;
	uint16_t qclass;
	struct frame frames[DEPTH_CAP];
	unsigned depth; /* frames in use */
	bool primed;
	unsigned queries, referrals, cname_hops;
	uint32_t seen[32]; /* hashes of names on the CNAME chain */
	/* The query in flight. */
	struct {
		struct server *srv;
		bool tcp, edns;
		uint64_t sent_ms;
		bool retry_same; /* EDNS fallback or TC: same server again */
	} cur;
	/* The response being built for the client's question. */
	uint8_t *resp;
	size_t resp_cap;
	struct rw_builder b;
	bool done;
	bool ok;
	uint16_t rcode;
	struct rw_ede ede;
	size_t resp_len;
};

static uint64_t now(const struct rw_res *r)
{
	return r->env->clock(r->env->clock_ctx);
}

static struct frame *top(struct rw_res *r)
{
	return &r->frames[r->depth - 1];
}

struct rw_res *rw_res_new(const struct rw_res_env *env, struct rw_res_stats *stats,
                          const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
	struct rw_res *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->resp = malloc(RESP_FIRST);
	if (r->resp == NULL) {
		free(r);
		return NULL;
	}
	r->resp_cap = RESP_FIRST;
	r->env = env;
	r->stats = stats;
	stats->resolutions++;
	rw_arena_init(&r->arena, 16384, 1 << 20);
	r->start_ms = now(r);
	r->deadline_ms = r->start_ms + env->lim.timeout_ms;
	r->qclass = qclass;
	r->depth = 1;
	struct frame *f = &r->frames[0];
	f->kind = F_MAIN;
	rw_name_lower(f->qname, qname, rw_name_len(qname));
	f->qtype = qtype;
	rw_builder_init(&r->b, r->resp, RESP_MAX, 0, RW_FLAG_QR);
	r->b.cap = r->b.limit = r->resp_cap;
	rw_builder_question(&r->b, f->qname, qtype, qclass);
	r->seen[0] = rw_name_hash(f->qname);
	return r;
}

void rw_res_free(struct rw_res *r)
{
	if (r == NULL)
		return;
	rw_arena_fini(&r->arena);
	free(r->resp);
	free(r);
}

/* Adds one record to the client's answer, growing the buffer once. */
static void answer_rr(struct rw_res *r, enum rw_section sec, const uint8_t *owner, uint16_t type,
                      uint32_t ttl, const uint8_t *rd, size_t rdlen)
{
	if (rw_builder_rr(&r->b, sec, owner, type, r->qclass, ttl, rd, rdlen) == 0)
		return;
	if (r->resp_cap < RESP_MAX) {
		uint8_t *p = realloc(r->resp, RESP_MAX);
		if (p == NULL)
			return;
		r->resp = p;
		r->resp_cap = RESP_MAX;
		r->b.buf = p;
		r->b.cap = r->b.limit = RESP_MAX;
		rw_builder_rr(&r->b, sec, owner, type, r->qclass, ttl, rd, rdlen);
	}
}

static void finish(struct rw_res *r, bool ok, uint16_t rcode, uint16_t ede, const char *text)
{
	r->done = true;
	r->ok = ok;
	r->rcode = rcode;
	r->ede = (struct rw_ede){ede, text};
	if (!ok)
		r->stats->servfails++;
	if (ok) {
		rw_builder_set_flags(&r->b, (uint16_t)(RW_FLAG_QR | rcode));
		r->resp_len = rw_builder_finish(&r->b);
	}
}

static void fail_limit(struct rw_res *r, const char *text)
{
	r->stats->limit_hits++;
	finish(r, false, RW_RCODE_SERVFAIL, 0, text);
}

/* --- servers ------------------------------------------------------------ */

static bool usable_addr(const struct rw_res *r, const struct sockaddr_storage *ss, bool configured)
{
	if (ss->ss_family == AF_INET6 && !r->env->ipv6)
		return false;
	if (!configured && !r->env->query_loopback &&
	    rw_addr_is_loopback_or_any((const struct sockaddr *)ss))
		return false;
	return true;
}

static void add_addr(struct rw_res *r, struct ns *n, uint16_t type, const uint8_t *rd,
                     uint16_t rdlen, bool configured)
{
	if (n->naddr == ADDRS_PER_NS)
		return;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (type == RW_TYPE_A && rdlen == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(53);
		memcpy(&s4->sin_addr, rd, 4);
	} else if (type == RW_TYPE_AAAA && rdlen == 16) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(53);
		memcpy(&s6->sin6_addr, rd, 16);
	} else {
		return;
	}
	if (!usable_addr(r, &ss, configured))
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
		                 r->env->cache_stats) == 0 &&
		    e.kind == RW_CACHE_POSITIVE) {
			n->looked_up = true;
			for (uint16_t i = 0; i < e.set.count; i++)
				add_addr(r, n, types[t], e.set.rdata[i], e.set.rdlen[i], false);
		} else if (rw_cache_get(r->env->cache, n->name, types[t], RW_CLASS_IN, &r->arena,
		                        &e, r->env->cache_stats) == 0) {
			n->looked_up = true; /* known not to exist */
		}
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
		memcpy(n->name, h->ns[i].name, rw_name_len(h->ns[i].name));
		n->looked_up = true;
		for (unsigned k = 0; k < h->ns[i].naddr && n->naddr < ADDRS_PER_NS; k++)
			if (usable_addr(r, &h->ns[i].addr[k], true))
				n->addr[n->naddr++] = (struct server){.ss = h->ns[i].addr[k]};
	}
}

/* Sets the frame's zone to the closest enclosing delegation in the cache
 * (RFC 1034 §5.3.3 step 2), else the root from the hints. */
static void find_delegation(struct rw_res *r, struct frame *f)
{
	f->setup = true;
	f->glueless = 0;
	f->from_hints = false;
	for (const uint8_t *z = f->qname; z != NULL; z = rw_name_parent(z)) {
		struct rw_cache_entry e;
		if (rw_cache_get(r->env->cache, z, RW_TYPE_NS, RW_CLASS_IN, &r->arena, &e,
		                 r->env->cache_stats) != 0 ||
		    e.kind != RW_CACHE_POSITIVE)
			continue;
		memcpy(f->zone, z, rw_name_len(z));
		f->nns = 0;
		for (uint16_t i = 0; i < e.set.count && f->nns < NS_MAX; i++) {
			struct ns *n = &f->ns[f->nns++];
			memset(n, 0, sizeof *n);
			rw_name_lower(n->name, e.set.rdata[i], rw_name_len(e.set.rdata[i]));
			cached_addrs(r, n);
		}
		return;
	}
	use_hints(r, f);
}

static struct frame *push(struct rw_res *r, enum frame_kind kind, const uint8_t *qname,
                          uint16_t qtype)
{
	struct frame *f = &r->frames[r->depth++];
	memset(f, 0, sizeof *f);
	f->kind = kind;
	memcpy(f->qname, qname, rw_name_len(qname));
	f->qtype = qtype;
	return f;
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
			rw_infra_get(r->env->infra, (const struct sockaddr *)&s->ss, t, &info);
			if (info.lame_zone_hash == zh && info.lame_zone_hash != 0)
				continue;
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
	/* Servers in back-off are not asked at all until it ends (then one
	 * query probes them): a dead delegation fails at once, not after
	 * every try times out again. */
	return best;
}

static size_t make_query(struct rw_res *r, struct frame *f, bool edns, uint8_t *buf, size_t cap)
{
	struct rw_builder b;
	rw_builder_init(&b, buf, cap, 0, 0); /* RD=0: iterative */
	if (rw_builder_question(&b, f->qname, f->qtype, r->qclass) != 0)
		return 0;
	if (edns && rw_builder_opt(&b, r->env->edns_size, 0, false, NULL, 0) != 0)
		return 0;
	return rw_builder_finish(&b);
}

/* Ends the top frame. ok: F_NSADDR got addresses, F_PRIME got the root
 * NS; the frame below goes on. */
static void pop(struct rw_res *r, bool ok)
{
	struct frame *f = top(r);
	r->depth--;
	struct frame *below = top(r);
	if (f->kind == F_PRIME) {
		r->primed = true;
		below->setup = false; /* choose again, from the primed cache */
	} else if (f->kind == F_NSADDR) {
		struct ns *n = &below->ns[f->parent_ns];
		n->looked_up = true;
		if (ok)
			cached_addrs(r, n);
	}
}

enum rw_res_step rw_res_next(struct rw_res *r, struct rw_res_query *q)
{
	/* Bound: every iteration sends a query, ends a frame, or pushes one
	 * (depth-limited, and each NS is looked up once per delegation). */
	while (!r->done) {
		uint64_t t = now(r);
		if (t >= r->deadline_ms) {
			finish(r, false, RW_RCODE_SERVFAIL, 22, "resolution timed out");
			break;
		}
		if (r->queries >= r->env->lim.queries_max) {
			fail_limit(r, "upstream query limit reached");
			break;
		}
		struct frame *f = top(r);
		if (!f->setup) {
			if (f->kind == F_MAIN && r->cname_hops > 0) {
				/* A CNAME target: the cache may complete it. */
				struct rw_cache_entry e;
				if (rw_cache_get(r->env->cache, f->qname, f->qtype, r->qclass,
				                 &r->arena, &e, r->env->cache_stats) == 0) {
					if (e.kind == RW_CACHE_POSITIVE) {
						for (uint16_t i = 0; i < e.set.count; i++)
							answer_rr(r, RW_SEC_AN, f->qname, f->qtype,
							          e.set.ttl_s, e.set.rdata[i],
							          e.set.rdlen[i]);
						finish(r, true, RW_RCODE_NOERROR, 0, NULL);
					} else {
						answer_rr(r, RW_SEC_NS, e.soa.owner, RW_TYPE_SOA,
						          e.soa.ttl_s, e.soa.rdata[0],
						          e.soa.rdlen[0]);
						finish(r, true,
						       e.kind == RW_CACHE_NXDOMAIN
						           ? RW_RCODE_NXDOMAIN
						           : RW_RCODE_NOERROR,
						       0, NULL);
					}
					break;
				}
			}
			if (f->kind == F_NSADDR) {
				struct ns tmp;
				memset(&tmp, 0, sizeof tmp);
				memcpy(tmp.name, f->qname, rw_name_len(f->qname));
				cached_addrs(r, &tmp);
				if (tmp.naddr > 0) {
					pop(r, true);
					continue;
				}
			}
			find_delegation(r, f);
			if (f->from_hints && !r->primed && f->kind != F_PRIME &&
			    r->depth < DEPTH_CAP) {
				/* RFC 8109: ask the hints for the root's NS first. */
				struct frame *p = push(r, F_PRIME, (const uint8_t *)"", RW_TYPE_NS);
				use_hints(r, p);
				p->setup = true;
				continue;
			}
		}
		struct server *s = r->cur.retry_same ? r->cur.srv : pick(r, f);
		if (s == NULL) {
			/* No server with an address left: look up a glueless NS
			 * name (bounded per delegation and in depth). */
			unsigned i = 0;
			while (i < f->nns && (f->ns[i].looked_up || f->ns[i].naddr > 0))
				i++;
			if (i < f->nns && f->glueless < r->env->lim.glueless_max &&
			    r->depth <= r->env->lim.depth_max && r->depth < DEPTH_CAP) {
				f->glueless++;
				r->stats->glueless++;
				f->ns[i].looked_up = true;
				/* A name under the zone being resolved needs glue we
				 * do not have: asking would loop. */
				if (rw_name_is_under(f->ns[i].name, f->zone) && f->zone[0] != 0)
					continue;
				struct frame *sub = push(r, F_NSADDR, f->ns[i].name, RW_TYPE_A);
				sub->parent_ns = i;
				continue;
			}
			if (i < f->nns && f->glueless >= r->env->lim.glueless_max) {
				if (f->kind != F_MAIN && r->depth > 1) {
					pop(r, false);
					continue;
				}
				fail_limit(r, "glueless NS lookup limit reached");
				break;
			}
			if (r->depth > 1 && f->kind != F_MAIN) {
				pop(r, false); /* this NS name cannot be resolved */
				continue;
			}
			finish(r, false, RW_RCODE_SERVFAIL, 22, "no reachable authority");
			break;
		}
		struct rw_infra_info info;
		rw_infra_get(r->env->infra, (const struct sockaddr *)&s->ss, t, &info);
		bool tcp = r->cur.retry_same ? r->cur.tcp : info.tcp_only;
		bool edns = r->cur.retry_same ? r->cur.edns : !info.no_edns;
		r->cur.retry_same = false;
		q->len = make_query(r, f, edns, q->buf, sizeof q->buf);
		if (q->len == 0) {
			finish(r, false, RW_RCODE_SERVFAIL, 0, "query does not fit");
			break;
		}
		s->tries++;
		r->queries++;
		r->stats->queries++;
		r->cur.srv = s;
		r->cur.tcp = tcp;
		r->cur.edns = edns;
		r->cur.sent_ms = t;
		memcpy(&q->addr, &s->ss, sizeof s->ss);
		q->addr_len = s->ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                          : sizeof(struct sockaddr_in);
		q->tcp = tcp;
		uint64_t left = r->deadline_ms - t;
		uint32_t to = tcp ? info.rto_ms * 3 : info.rto_ms;
		q->timeout_ms = to < left ? to : (uint32_t)left;
		return RW_RES_SEND;
	}
	return RW_RES_DONE;
}

void rw_res_timeout(struct rw_res *r)
{
	if (r->cur.srv == NULL)
		return;
	r->stats->timeouts++;
	rw_infra_timeout(r->env->infra, (const struct sockaddr *)&r->cur.srv->ss, now(r));
	r->cur.srv = NULL;
}

/* --- replies --------------------------------------------------------------- */

/* One RRset of a section, in the resolution's class and arena. */
static bool rrset(struct rw_res *r, const struct rw_msg *m, enum rw_section sec,
                  const uint8_t *owner, uint16_t type, struct rw_cache_rrset *out)
{
	return rw_cache_rrset_collect(&r->arena, m, sec, owner, type, r->qclass, out);
}

static void cache_put(struct rw_res *r, const struct rw_cache_rrset *s, enum rw_rank rank)
{
	rw_cache_put(r->env->cache, s, rank, r->env->cache_stats);
}

/* Caches the addresses of NS names found in the additional section, for
 * names inside the bailiwick of the zone the server was asked about. */
static void cache_glue(struct rw_res *r, const struct rw_msg *m, const struct rw_cache_rrset *nss,
                       const uint8_t *zone)
{
	static const uint16_t types[2] = {RW_TYPE_A, RW_TYPE_AAAA};
	for (uint16_t i = 0; i < nss->count; i++) {
		const uint8_t *nsname = nss->rdata[i];
		if (!rw_name_is_under(nsname, zone))
			continue;
		for (int k = 0; k < 2; k++) {
			struct rw_cache_rrset g;
			if (rrset(r, m, RW_SEC_AR, nsname, types[k], &g))
				cache_put(r, &g, RW_RANK_ADDITIONAL);
		}
	}
}

/* The frame got its final RRset (qtype at qname). */
static void frame_answered(struct rw_res *r, struct frame *f, const struct rw_cache_rrset *s)
{
	if (f->kind == F_MAIN) {
		for (uint16_t i = 0; i < s->count; i++)
			answer_rr(r, RW_SEC_AN, f->qname, s->type, s->ttl_s, s->rdata[i],
			          s->rdlen[i]);
		finish(r, true, RW_RCODE_NOERROR, 0, NULL);
	} else {
		pop(r, true);
	}
}

/* The frame's name does not exist or has no such data. */
static void frame_negative(struct rw_res *r, struct frame *f, uint16_t rcode,
                           const struct rw_cache_rrset *soa)
{
	if (f->kind == F_MAIN) {
		if (soa != NULL)
			answer_rr(r, RW_SEC_NS, soa->owner, RW_TYPE_SOA,
			          rw_soa_negative_ttl(soa->ttl_s, soa->rdata[0], soa->rdlen[0]),
			          soa->rdata[0], soa->rdlen[0]);
		finish(r, true, rcode, 0, NULL);
	} else {
		pop(r, false);
	}
}

/* The current server is no use for this zone: lame, refusing, broken. */
static void server_failed(struct rw_res *r, struct frame *f, bool lame)
{
	if (r->cur.srv == NULL)
		return;
	r->cur.srv->failed = true;
	if (lame) {
		r->stats->lame++;
		rw_infra_set_lame(r->env->infra, (const struct sockaddr *)&r->cur.srv->ss,
		                  rw_name_hash(f->zone), now(r));
	}
	r->cur.srv = NULL;
}

bool rw_res_reply(struct rw_res *r, const uint8_t *pkt, size_t len)
{
	if (r->done || r->cur.srv == NULL)
		return false;
	struct frame *f = top(r);
	rw_arena_reset(&r->arena);
	struct rw_msg m;
	/* A reply to another question (or garbage) is not ours: drop it and
	 * keep waiting; never cache from it. */
	if (rw_msg_parse(pkt, len, &r->arena, &m) != 0 || m.qdcount != 1 ||
	    !(m.flags & RW_FLAG_QR) || RW_OPCODE(m.flags) != RW_OPCODE_QUERY ||
	    m.qtype != f->qtype || m.qclass != r->qclass || !rw_name_eq(m.qname, f->qname)) {
		r->stats->mismatched++;
		return false;
	}
	uint64_t t = now(r);
	const struct sockaddr *sa = (const struct sockaddr *)&r->cur.srv->ss;
	rw_infra_rtt(r->env->infra, sa, (uint32_t)(t - r->cur.sent_ms), t);
	uint16_t rcode = RW_RCODE(m.flags);
	if ((rcode == RW_RCODE_FORMERR || rcode == RW_RCODE_NOTIMP) && r->cur.edns &&
	    !m.edns.present) {
		/* RFC 6891 §7: a server that does not know EDNS; again without. */
		r->stats->edns_fallbacks++;
		rw_infra_set_no_edns(r->env->infra, sa, t);
		r->cur.retry_same = true;
		r->cur.edns = false;
		r->cur.srv->tries--;
		return true;
	}
	if ((m.flags & RW_FLAG_TC) && !r->cur.tcp) {
		r->stats->tcp_retries++;
		r->cur.retry_same = true;
		r->cur.tcp = true;
		r->cur.srv->tries--;
		return true;
	}
	if (rcode != RW_RCODE_NOERROR && rcode != RW_RCODE_NXDOMAIN) {
		server_failed(r, f, false);
		return true;
	}
	const uint8_t *zone = f->zone;
	enum rw_rank rank = (m.flags & RW_FLAG_AA) ? RW_RANK_AUTH_ANSWER : RW_RANK_ANSWER;
	/* The answer section, along the CNAME chain, in the zone's bailiwick. */
	const uint8_t *cur = f->qname;
	bool progressed = false;
	for (;;) {
		if (!rw_name_is_under(cur, zone))
			break; /* out of bailiwick: not trusted from this server */
		struct rw_cache_rrset s;
		if (rrset(r, &m, RW_SEC_AN, cur, f->qtype, &s)) {
			cache_put(r, &s, rank);
			if (f->qtype == RW_TYPE_NS)
				cache_glue(r, &m, &s, zone); /* priming: the roots' addresses */
			if (cur != f->qname)
				memcpy(f->qname, cur, rw_name_len(cur));
			frame_answered(r, f, &s);
			return true;
		}
		if (f->qtype == RW_TYPE_CNAME || !rrset(r, &m, RW_SEC_AN, cur, RW_TYPE_CNAME, &s) ||
		    s.count != 1)
			break;
		cache_put(r, &s, rank);
		progressed = true;
		/* In a sub-request the alias is followed but not answered (an NS
		 * name must not be an alias, RFC 2181 §10.3; we are lenient). */
		if (f->kind == F_MAIN)
			answer_rr(r, RW_SEC_AN, cur, RW_TYPE_CNAME, s.ttl_s, s.rdata[0],
			          s.rdlen[0]);
		if (++r->cname_hops > r->env->lim.cname_max) {
			fail_limit(r, "CNAME chain too long");
			return true;
		}
		const uint8_t *target = s.rdata[0];
		uint32_t h = rw_name_hash(target);
		for (unsigned i = 0; i < r->cname_hops && i < 32; i++) {
			if (r->seen[i] == h) {
				r->stats->limit_hits++;
				finish(r, false, RW_RCODE_SERVFAIL, 0, "CNAME loop");
				return true;
			}
		}
		if (r->cname_hops < 32)
			r->seen[r->cname_hops] = h;
		cur = target;
	}
	if (progressed) {
		/* Restart on the CNAME target from its closest delegation. */
		rw_name_lower(f->qname, cur, rw_name_len(cur));
		f->setup = false;
		r->cur.srv = NULL;
		return true;
	}
	/* No answer: negative, referral, or lame. */
	struct rw_cache_rrset soa;
	const uint8_t *soa_owner = NULL;
	const uint8_t *ns_owner = NULL;
	for (uint16_t i = 0; i < m.nrr[RW_SEC_NS]; i++) {
		const struct rw_rr *rr = &m.rr[RW_SEC_NS][i];
		if (rr->type == RW_TYPE_SOA && soa_owner == NULL &&
		    rw_name_is_under(rr->owner, zone) && rw_name_is_under(f->qname, rr->owner))
			soa_owner = rr->owner;
		if (rr->type == RW_TYPE_NS && ns_owner == NULL)
			ns_owner = rr->owner;
	}
	if (rcode == RW_RCODE_NXDOMAIN) {
		bool have = soa_owner != NULL &&
		            rrset(r, &m, RW_SEC_NS, soa_owner, RW_TYPE_SOA, &soa) && soa.count == 1;
		if (have)
			rw_cache_put_negative(r->env->cache, RW_CACHE_NXDOMAIN, f->qname, 0,
			                      r->qclass, &soa, RW_RANK_AUTHORITY,
			                      r->env->cache_stats);
		frame_negative(r, f, RW_RCODE_NXDOMAIN, have ? &soa : NULL);
		return true;
	}
	if (soa_owner != NULL) {
		bool have = rrset(r, &m, RW_SEC_NS, soa_owner, RW_TYPE_SOA, &soa) && soa.count == 1;
		if (have)
			rw_cache_put_negative(r->env->cache, RW_CACHE_NODATA, f->qname, f->qtype,
			                      r->qclass, &soa, RW_RANK_AUTHORITY,
			                      r->env->cache_stats);
		frame_negative(r, f, RW_RCODE_NOERROR, have ? &soa : NULL);
		return true;
	}
	if (ns_owner != NULL) {
		/* A referral must go down: strictly below the zone asked about
		 * and above the name (else it is lame, RFC 1034 §5.3.3 4d). */
		if (rw_name_len(ns_owner) <= rw_name_len(zone) ||
		    !rw_name_is_under(ns_owner, zone) || !rw_name_is_under(f->qname, ns_owner)) {
			server_failed(r, f, true);
			return true;
		}
		if (++r->referrals > r->env->lim.referrals_max) {
			fail_limit(r, "referral limit reached");
			return true;
		}
		r->stats->referrals++;
		struct rw_cache_rrset nss;
		if (!rrset(r, &m, RW_SEC_NS, ns_owner, RW_TYPE_NS, &nss)) {
			server_failed(r, f, true);
			return true;
		}
		cache_put(r, &nss, RW_RANK_AUTHORITY);
		cache_glue(r, &m, &nss, zone);
		rw_name_lower(f->zone, ns_owner, rw_name_len(ns_owner));
		f->nns = 0;
		f->glueless = 0;
		f->from_hints = false;
		for (uint16_t i = 0; i < nss.count && f->nns < NS_MAX; i++) {
			struct ns *n = &f->ns[f->nns++];
			memset(n, 0, sizeof *n);
			rw_name_lower(n->name, nss.rdata[i], rw_name_len(nss.rdata[i]));
			cached_addrs(r, n);
		}
		r->cur.srv = NULL;
		return true;
	}
	if ((m.flags & RW_FLAG_AA) && m.nrr[RW_SEC_AN] == 0) {
		frame_negative(r, f, RW_RCODE_NOERROR, NULL); /* NODATA without SOA */
		return true;
	}
	server_failed(r, f, true);
	return true;
}

const uint8_t *rw_res_response(const struct rw_res *r, size_t *len)
{
	if (!r->done || !r->ok) {
		*len = 0;
		return NULL;
	}
	*len = r->resp_len;
	return r->resp;
}

struct rw_ede rw_res_ede(const struct rw_res *r)
{
	return r->ede;
}
