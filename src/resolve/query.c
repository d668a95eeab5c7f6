/* Request admission and answers from local zones; see
 * include/resolve/rootwalk/query.h. No I/O, no heap allocation per request (the
 * arena keeps its first block across resets). */
#include "rootwalk/query.h"
#include "rootwalk/assert.h"
#include "rootwalk/err.h"
#include "rootwalk/msg.h"
#include "rootwalk/rr.h"
#include "query_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#define ARENA_BLOCK_BYTES (64 * 1024)
#define ARENA_LIMIT_BYTES (1024 * 1024)
/* Targets of MX/SRV/NS answers looked up for the additional section. */
#define ADDITIONAL_TARGETS_MAX 16

void rw_query_env_init(struct rw_query_env *env, const struct rw_zoneset *zones, uint16_t edns_size)
{
	memset(env, 0, sizeof *env);
	env->zones = zones;
	env->edns_size = edns_size < 512 ? 512 : edns_size;
	env->default_route = RW_ROUTE_NONE;
	env->max_ttl = env->max_neg_ttl = UINT32_MAX;
	env->round_robin = true;
	rw_arena_init(&env->arena, ARENA_BLOCK_BYTES, ARENA_LIMIT_BYTES);
}

void rw_query_env_fini(struct rw_query_env *env)
{
	rw_arena_fini(&env->arena);
}

/* A reply being assembled. */
struct reply {
	struct rw_builder b;
	unsigned rotate; /* round-robin start for A/AAAA sets; 0: off */
	uint16_t rcode;  /* full 12-bit code, applied at the end */
	bool truncated;
	bool edns;
	bool do_bit;
	bool stale;       /* answered from expired data */
	bool stale_avail; /* a fresh lookup met expired data it could use */
	bool prefetch;    /* answered from data near its end: refresh it */
	/* A local CNAME chain ended at a name no local zone holds: that name
	 * (in the zone's data), to be chased through the cache or upstream. */
	const uint8_t *chase;
	struct rw_builder_mark after_q; /* the reply with its question only */
	bool nsid;                      /* the client asked for the NSID (RFC 5001) */
	struct rw__tsig_error tsig;     /* a TSIG record to end the reply with, or none */
};

/* TTL of autopath's CNAME: short, as a pod's namespace (what the CNAME
 * depends on) is only as true as the last zone file. */
#define AUTOPATH_TTL 5

/* A question as a parsed message (what the answer functions read): a
 * waiting request's, or the name a chain leads to. */
static void question_of(struct rw_msg *m, const uint8_t *name, size_t len, uint16_t qtype,
                        uint16_t qclass)
{
	*m = (struct rw_msg){.qdcount = 1, .qtype = qtype, .qclass = qclass};
	memcpy(m->qname, name, len);
	m->qname_len = len;
}

/* Adds a whole RRset or nothing (RFC 2181 §9). For required sections a
 * partial fit sets TC; the additional section is best effort. */
static bool add_rrset(struct reply *r, enum rw_section sec, const uint8_t *owner,
                      const struct rw_rrset *s, uint32_t ttl)
{
	if (r->truncated)
		return false;
	struct rw_builder_mark m;
	rw_builder_mark(&r->b, &m);
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	/* Round-robin: A/AAAA records start at a rotating offset, so clients
	 * that take the first address spread over all of them. */
	const uint8_t *rds[RW_QUERY_ROTATE_MAX];
	uint16_t lens[RW_QUERY_ROTATE_MAX];
	size_t n = 0;
	bool rotate = r->rotate != 0 && (s->type == RW_TYPE_A || s->type == RW_TYPE_AAAA);
	while (rotate && rw_rrset_next(s, &pos, &rd, &rdlen)) {
		if (n == RW_QUERY_ROTATE_MAX) {
			rotate = false;
			break;
		}
		rds[n] = rd;
		lens[n++] = rdlen;
	}
	pos = 0;
	size_t start = rotate && n > 0 ? r->rotate % n : 0;
	for (size_t i = 0;; i++) {
		if (rotate) {
			if (i == n)
				break;
			size_t j = (start + i) < n ? start + i : start + i - n;
			rd = rds[j];
			rdlen = lens[j];
		} else if (!rw_rrset_next(s, &pos, &rd, &rdlen)) {
			break;
		}
		if (rw_builder_rr(&r->b, sec, owner, s->type, RW_CLASS_IN, ttl, rd, rdlen) != 0) {
			rw_builder_rollback(&r->b, &m);
			if (sec != RW_SEC_AR)
				r->truncated = true;
			return false;
		}
	}
	return true;
}

/* Negative answers carry the SOA; its TTL is min(SOA TTL, MINIMUM)
 * (RFC 2308 §3, §5). */
static void add_negative_soa(struct reply *r, const struct rw_zone *z)
{
	const struct rw_rrset *soa = rw_zone_soa(z);
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	if (!rw_rrset_next(soa, &pos, &rd, &rdlen))
		return;
	add_rrset(r, RW_SEC_NS, rw_zone_origin(z), soa, rw_soa_negative_ttl(soa->ttl, rd, rdlen));
}

/* The name inside an MX, SRV or NS record that may have addresses. */
static const uint8_t *target_of(uint16_t type, const uint8_t *rd, uint16_t rdlen)
{
	switch (type) {
	case RW_TYPE_MX: return rdlen > 2 ? rd + 2 : NULL;
	case RW_TYPE_SRV: return rdlen > 6 ? rd + 6 : NULL;
	case RW_TYPE_NS: return rd;
	default: return NULL;
	}
}

/* Adds local A/AAAA records of MX/SRV/NS targets to the additional
 * section (RFC 1035 §3.3.9, RFC 2782). */
static void add_additional(struct reply *r, const struct rw_zoneset *zs, const struct rw_rrset *s)
{
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	unsigned k = 0;
	while (rw_rrset_next(s, &pos, &rd, &rdlen) && k++ < ADDITIONAL_TARGETS_MAX) {
		const uint8_t *t = target_of(s->type, rd, rdlen);
		if (t == NULL)
			return;
		uint8_t lt[RW_NAME_MAX];
		rw_name_lower(lt, t, rw_name_len(t));
		const struct rw_zone *z = rw_zoneset_find(zs, lt);
		const struct rw_znode *n;
		if (z == NULL || rw_zone_lookup(z, lt, &n) != RW_ZONE_FOUND)
			continue;
		const struct rw_rrset *a = rw_znode_rrset(n, RW_TYPE_A);
		const struct rw_rrset *aaaa = rw_znode_rrset(n, RW_TYPE_AAAA);
		if (a != NULL)
			add_rrset(r, RW_SEC_AR, t, a, a->ttl);
		if (aaaa != NULL)
			add_rrset(r, RW_SEC_AR, t, aaaa, aaaa->ttl);
	}
}

/* RFC 8482 §4.2: answer ANY with one synthesised HINFO record. */
static void add_any_hinfo(struct reply *r, const uint8_t *owner, uint32_t ttl)
{
	static const uint8_t rd[] = {7, 'R', 'F', 'C', '8', '4', '8', '2', 0};
	if (rw_builder_rr(&r->b, RW_SEC_AN, owner, RW_TYPE_HINFO, RW_CLASS_IN, ttl, rd,
	                  sizeof rd) != 0)
		r->truncated = true;
}

/* Answers from local zones, following CNAMEs within local data. Returns
 * false when the name is not under any local zone. */
static bool answer_local(struct reply *r, const struct rw_zoneset *zs, const struct rw_msg *q,
                         const uint8_t *qlname)
{
	const uint8_t *lname = qlname; /* lower-case; a CNAME target's in lbuf */
	uint8_t lbuf[RW_NAME_MAX];
	const struct rw_zone *z = rw_zoneset_find(zs, lname);
	if (z == NULL)
		return false;
	rw_builder_set_flags(&r->b, rw_builder_flags(&r->b) | RW_FLAG_AA);
	/* owner: as it goes into the reply (client's case for the first hop,
	 * so it compresses against the question). */
	const uint8_t *owner = q->qname;
	uint8_t owner_buf[RW_NAME_MAX];
	/* Names already visited, to stop CNAME loops early. */
	uint32_t seen[RW_QUERY_CNAME_MAX + 1] = {0};
	for (unsigned hop = 0; hop <= RW_QUERY_CNAME_MAX; hop++) {
		uint32_t h = rw_name_hash(lname);
		for (unsigned i = 0; i < hop; i++)
			if (seen[i] == h)
				return true; /* loop: the chain so far is the answer */
		seen[hop] = h;
		const struct rw_znode *node;
		enum rw_zone_match m = rw_zone_lookup(z, lname, &node);
		if (m == RW_ZONE_NXDOMAIN) {
			r->rcode = RW_RCODE_NXDOMAIN; /* RFC 6604: of the last name */
			add_negative_soa(r, z);
			return true;
		}
		if (q->qtype == RW_TYPE_ANY) {
			if (rw_znode_rrset_count(node) == 0)
				add_negative_soa(r, z);
			else
				add_any_hinfo(r, owner, rw_znode_rrset_at(node, 0)->ttl);
			return true;
		}
		const struct rw_rrset *s = rw_znode_rrset(node, q->qtype);
		if (s != NULL) {
			if (add_rrset(r, RW_SEC_AN, owner, s, s->ttl))
				add_additional(r, zs, s);
			return true;
		}
		const struct rw_rrset *cname = rw_znode_rrset(node, RW_TYPE_CNAME);
		if (cname == NULL) {
			add_negative_soa(r, z); /* NODATA */
			return true;
		}
		if (!add_rrset(r, RW_SEC_AN, owner, cname, cname->ttl))
			return true;
		size_t pos = 0;
		const uint8_t *target;
		uint16_t tlen;
		rw_rrset_next(cname, &pos, &target, &tlen);
		memcpy(owner_buf, target, tlen);
		owner = owner_buf;
		rw_name_lower(lbuf, target, tlen);
		lname = lbuf;
		z = rw_zoneset_find(zs, lname);
		if (z == NULL) {
			r->chase = target; /* the chain leaves local data */
			return true;
		}
	}
	return true;
}

/* Adds a cached record set to a section (whole or not at all). */
static bool add_cached(struct reply *r, enum rw_section sec, const uint8_t *owner,
                       const struct rw_cache_rrset *s)
{
	if (r->truncated)
		return false;
	struct rw_builder_mark m;
	rw_builder_mark(&r->b, &m);
	bool rotate =
	    r->rotate != 0 && s->count > 1 && (s->type == RW_TYPE_A || s->type == RW_TYPE_AAAA);
	uint16_t i = rotate ? (uint16_t)(r->rotate % s->count) : 0; /* one division per set */
	for (uint16_t k = 0; k < s->count; k++, i = i + 1 == s->count ? 0 : i + 1) {
		if (rw_builder_rr(&r->b, sec, owner, s->type, s->rclass, s->ttl_s, s->rdata[i],
		                  s->rdlen[i]) != 0) {
			rw_builder_rollback(&r->b, &m);
			r->truncated = true;
			return false;
		}
	}
	return true;
}

/* A cached entry's DNSSEC records not written with its set (a wildcard's
 * denial): they go into the authority section after every answer record. */
struct later {
	struct rw_cache_proof proof;
	const uint8_t *owner; /* the entry's: its own signatures are written */
	uint16_t type;
	uint32_t ttl;
};

static bool own_sig(const struct rw_cache_rr *rr, const uint8_t *owner, uint16_t type)
{
	return rr->type == RW_TYPE_RRSIG && rr->owner == owner && rw_get16(rr->rdata) == type;
}

/* For a client that set DO: the signatures of a cached positive entry go
 * into the answer section after its set, under the owner as the reply
 * writes it; whatever else its proof holds is noted in *l. */
static void add_cached_sigs(struct reply *r, const uint8_t *owner, const struct rw_cache_entry *e,
                            struct later *l)
{
	struct rw_builder_mark m;
	rw_builder_mark(&r->b, &m);
	*l = (struct later){{0, NULL}, e->set.owner, e->set.type, e->set.ttl_s};
	for (uint16_t i = 0; i < e->proof.count && !r->truncated; i++) {
		const struct rw_cache_rr *rr = &e->proof.rr[i];
		if (!own_sig(rr, e->set.owner, e->set.type)) {
			l->proof = e->proof;
			continue;
		}
		if (rw_builder_rr(&r->b, RW_SEC_AN, owner, rr->type, e->set.rclass, e->set.ttl_s,
		                  rr->rdata, rr->rdlen) != 0) {
			rw_builder_rollback(&r->b, &m);
			r->truncated = true;
		}
	}
}

/* Writes the records of l not written yet to the authority section. */
static void add_cached_denial(struct reply *r, const struct later *l, uint16_t rclass)
{
	for (uint16_t i = 0; i < l->proof.count && !r->truncated; i++) {
		const struct rw_cache_rr *rr = &l->proof.rr[i];
		if (!own_sig(rr, l->owner, l->type) &&
		    rw_builder_rr(&r->b, RW_SEC_NS, rr->owner, rr->type, rclass, l->ttl, rr->rdata,
		                  rr->rdlen) != 0)
			r->truncated = true; /* an incomplete proof: TC */
	}
}

/* Answers from the cache, assembling CNAME chains from separately cached
 * RRsets (RFC 1034 §4.3.2 step 3a, applied to cached data), with their
 * DNSSEC records for a client that set DO (RFC 4035 §3.2). Returns false
 * -- with nothing added -- when the cache cannot answer completely: the
 * name is missing, or a chain leads to a name it does not hold. */
/* A stale entry's records go out with the stale TTL (RFC 8767 §4). */
static void stale_ttls(struct reply *r, const struct rw_query_env *env, struct rw_cache_entry *e)
{
	if (!e->stale)
		return;
	e->set.ttl_s = e->soa.ttl_s = env->stale_ttl;
	r->stale = true;
}

/* Answers from the cache, following CNAMEs. flags: RW_CACHE_STALE to take
 * expired data (after a failed or late refresh). */
static inline __attribute__((always_inline)) bool
answer_cached(struct reply *r, struct rw_query_env *env, const struct rw_msg *q,
              const uint8_t *qlname, unsigned flags)
{
	if (env->cache == NULL)
		return false;
	if (r->do_bit)
		flags |= RW_CACHE_PROOF;
	struct rw_builder_mark start;
	rw_builder_mark(&r->b, &start);
	const uint8_t *cur = q->qname, *owner = q->qname;
	struct later later[RW_QUERY_CACHE_CNAME_MAX + 1];
	unsigned nlater = 0;
	/* Bound: RW_QUERY_CACHE_CNAME_MAX hops; a longer or looping chain is
	 * not answered from the cache. */
	for (unsigned hop = 0; hop <= RW_QUERY_CACHE_CNAME_MAX; hop++) {
		struct rw_cache_entry e;
		/* The question's name is lowered and hashed once per request. */
		int rc = hop == 0 ? rw_cache_get_lower(env->cache, qlname, q->qname_len,
		                                       rw_name_hash(qlname), q->qtype, q->qclass,
		                                       flags, &env->arena, &e, &env->cache_stats)
		                  : rw_cache_get_flags(env->cache, cur, q->qtype, q->qclass, flags,
		                                       &env->arena, &e, &env->cache_stats);
		if (rc == RW_ENOTFOUND)
			r->stale_avail |= e.stale;
		else if (rc == 0)
			stale_ttls(r, env, &e);
		if (rc == 0 && hop == 0)
			r->prefetch = e.prefetch;
		/* Referral NS sets and glue (authority and additional rank)
		 * steer the resolver but never answer a client: the child's
		 * own, authoritative data does (RFC 2181 §5.4.1). */
		if (rc == 0 && e.kind == RW_CACHE_POSITIVE && e.rank < RW_RANK_ANSWER)
			break;
		if (rc == 0) {
			if (e.kind == RW_CACHE_POSITIVE) {
				add_cached(r, RW_SEC_AN, owner, &e.set);
				if (r->do_bit && e.proof.count > 0)
					add_cached_sigs(r, owner, &e, &later[nlater++]);
			} else {
				if (e.kind == RW_CACHE_NXDOMAIN)
					r->rcode = RW_RCODE_NXDOMAIN;
				add_cached(r, RW_SEC_NS, e.soa.owner, &e.soa); /* RFC 2308 §5 */
				if (r->do_bit)
					later[nlater++] =
					    (struct later){e.proof, NULL, 0, e.soa.ttl_s};
			}
			for (unsigned i = 0; i < nlater; i++)
				add_cached_denial(r, &later[i], q->qclass);
			env->last.source =
			    (flags & RW_CACHE_STALE) ? RW_SOURCE_STALE : RW_SOURCE_CACHE;
			return true;
		}
		if (rc != RW_ENOTFOUND || q->qtype == RW_TYPE_CNAME)
			break;
		rc = rw_cache_get_flags(env->cache, cur, RW_TYPE_CNAME, q->qclass, flags,
		                        &env->arena, &e, &env->cache_stats);
		if (rc == RW_ENOTFOUND)
			r->stale_avail |= e.stale;
		if (rc != 0 || e.kind != RW_CACHE_POSITIVE || e.set.count != 1)
			break;
		stale_ttls(r, env, &e);
		if (!add_cached(r, RW_SEC_AN, owner, &e.set)) {
			env->last.source =
			    (flags & RW_CACHE_STALE) ? RW_SOURCE_STALE : RW_SOURCE_CACHE;
			return true; /* TC set: the client retries over TCP */
		}
		if (r->do_bit && e.proof.count > 0)
			add_cached_sigs(r, owner, &e, &later[nlater++]);
		cur = owner = e.set.rdata[0];
	}
	rw_builder_rollback(&r->b, &start);
	r->rcode = RW_RCODE_NOERROR;
	r->stale = false;
	return false;
}

/* The EDE of a stale answer (RFC 8914 §4.4, §4.20). */
static const struct rw_ede *stale_ede(const struct reply *r)
{
	static const struct rw_ede stale = {RW_EDE_STALE_ANSWER, "stale answer"};
	static const struct rw_ede stale_nx = {RW_EDE_STALE_NXDOMAIN, "stale NXDOMAIN answer"};
	return (r->rcode & 0xF) == RW_RCODE_NXDOMAIN ? &stale_nx : &stale;
}

/* Answers from stale data (RFC 8767) when the cache has some that is not
 * shadowed by a local zone (whose answers are never stale). */
static bool answer_stale(struct reply *r, struct rw_query_env *env, const struct rw_msg *q,
                         const uint8_t *qlname)
{
	if (env->stale_ttl == 0 || rw_zoneset_find(env->zones, qlname) != NULL)
		return false;
	if (!answer_cached(r, env, q, qlname, RW_CACHE_STALE))
		return false;
	env->stats.stale_served++;
	return true;
}

static uint16_t reply_size(const struct rw_query_env *env, const struct rw_msg *q,
                           enum rw_transport t)
{
	if (t == RW_TRANSPORT_TCP)
		return 65535;
	if (!q->edns.present)
		return 512; /* RFC 1035 §4.2.1 */
	uint16_t n = q->edns.udp_size < env->edns_size ? q->edns.udp_size : env->edns_size;
	return n < 512 ? 512 : n; /* RFC 6891 §6.2.5 */
}

/* A header-only reply for requests whose body cannot be trusted. */
static size_t header_reply(const uint8_t *req, uint8_t *out, uint16_t rcode)
{
	uint16_t flags = rw_get16(req + 2);
	flags = (uint16_t)(RW_FLAG_QR | (flags & (0x7800 | RW_FLAG_RD)) | rcode);
	memset(out, 0, RW_HEADER_LEN);
	memcpy(out, req, 2);
	rw_put16(out + 2, flags);
	return RW_HEADER_LEN;
}

static uint8_t rcode_index(uint16_t rcode)
{
	return rcode < 6 ? (uint8_t)rcode : 5;
}

/* Where a request stands after admission. */
enum { BEGUN = 3 };

/* Admission (shared by fresh and forwarded requests): drops or answers
 * requests that cannot be processed, else parses q and starts r. */
static int begin(struct rw_query_env *env, const uint8_t *req, size_t len,
                 enum rw_transport transport, uint8_t *out, size_t out_cap, size_t *out_len,
                 struct rw_msg *q, struct reply *r)
{
	env->last.valid = false;
	env->last.qtype = 0;
	env->last.qidx = RW_QSTAT_TYPES - 1;
	env->last.do_bit = false;
	env->last.source = RW_SOURCE_LOCAL;
	/* Shorter than a header, or a response: never answered (RFC 1035
	 * §4.1.1; answering QR=1 would enable reflection loops). */
	if (len < RW_HEADER_LEN || (req[2] & 0x80) || out_cap < 512) {
		env->stats.dropped++;
		return RW_QUERY_DROP;
	}
	uint16_t flags = rw_get16(req + 2);
	if (RW_OPCODE(flags) != RW_OPCODE_QUERY) {
		*out_len = header_reply(req, out, RW_RCODE_NOTIMP);
		env->stats.rcode[RW_RCODE_NOTIMP]++;
		return RW_QUERY_REPLY;
	}
	/* A query holds one question, no answer or authority records, and at
	 * most OPT and a TSIG/SIG(0) in the additional section: anything else
	 * is FORMERR from the header alone, before any parsing. */
	if (rw_get16(req + 4) != 1 || rw_get16(req + 6) != 0 || rw_get16(req + 8) != 0 ||
	    rw_get16(req + 10) > 2) {
		*out_len = header_reply(req, out, RW_RCODE_FORMERR);
		env->stats.rcode[RW_RCODE_FORMERR]++;
		env->stats.formerr_header++;
		return RW_QUERY_REPLY;
	}
	rw_arena_reset(&env->arena);
	int pe = rw_msg_parse(req, len, &env->arena, q);
	if (pe == RW_ELIMIT)
		env->stats.parse_limit++;
	if (pe != 0 || q->qdcount != 1) {
		*out_len = header_reply(req, out, RW_RCODE_FORMERR);
		env->stats.rcode[RW_RCODE_FORMERR]++;
		return RW_QUERY_REPLY;
	}
	env->last.qtype = q->qtype;
	env->last.qclass = q->qclass;
	env->last.do_bit = q->edns.do_bit;
	if (env->log_queries) {
		memcpy(env->last.qname, q->qname, q->qname_len);
		env->last.valid = true;
	}
	size_t cap = reply_size(env, q, transport);
	if (cap > out_cap)
		cap = out_cap;
	*r = (struct reply){
	    .rcode = RW_RCODE_NOERROR, .edns = q->edns.present, .do_bit = q->edns.do_bit};
	/* Non-zero when on; the high bit keeps it so while the low bits
	 * step through every offset. */
	if (env->round_robin)
		r->rotate = ++env->rotation | 0x80000000u;
	/* Echo ID, opcode, RD and CD; QR set; RA when we forward. */
	uint16_t rflags = (uint16_t)(RW_FLAG_QR | (flags & (RW_FLAG_RD | RW_FLAG_CD)));
	if (env->nroutes > 0 || env->default_route != RW_ROUTE_NONE)
		rflags |= RW_FLAG_RA;
	rw_builder_init(&r->b, out, cap, q->id, rflags);
	if (r->edns)
		rw_builder_reserve(&r->b, 11);
	if (rw_builder_question(&r->b, q->qname, q->qtype, q->qclass) != 0) {
		env->stats.dropped++;
		return RW_QUERY_DROP; /* cannot happen: cap >= 512 holds any question */
	}
	rw_builder_mark(&r->b, &r->after_q); /* what autopath rewinds to */
	/* Bound: the options' bytes (framing checked by the parser). */
	for (size_t i = 0; i + 4 <= q->edns.opts_len;
	     i += 4 + (size_t)rw_get16(q->edns.opts + i + 2))
		if (rw_get16(q->edns.opts + i) == RW_EDNS_NSID)
			r->nsid = true;
	return BEGUN;
}

static enum rw_query_result end(struct rw_query_env *env, struct reply *r, size_t *out_len,
                                const struct rw_ede *ede)
{
	if (r->truncated) {
		rw_builder_set_flags(&r->b, rw_builder_flags(&r->b) | RW_FLAG_TC);
		env->stats.truncated++;
	}
	if (r->edns) {
		/* RFC 3225 §3: DO is copied into the reply; an EDE (RFC 8914)
		 * goes along when it fits. */
		uint8_t opt[4 + 2 + 64 + 4 + 128];
		size_t ol = 0;
		if (ede != NULL && ede->text != NULL) {
			size_t tl = strnlen(ede->text, 64);
			rw_put16(opt, RW_EDNS_EDE);
			rw_put16(opt + 2, (uint16_t)(2 + tl));
			rw_put16(opt + 4, ede->code);
			memcpy(opt + 6, ede->text, tl);
			ol = 6 + tl;
		}
		if (r->nsid && env->nsid != NULL) { /* RFC 5001 §2.3: only when asked */
			size_t nl = strnlen(env->nsid, 128);
			rw_put16(opt + ol, RW_EDNS_NSID);
			rw_put16(opt + ol + 2, (uint16_t)nl);
			memcpy(opt + ol + 4, env->nsid, nl);
			ol += 4 + nl;
		}
		if (rw_builder_opt(&r->b, env->edns_size, r->rcode, r->do_bit, opt, ol) != 0)
			rw_builder_opt(&r->b, env->edns_size, r->rcode, r->do_bit, NULL, 0);
	} else {
		rw_builder_set_flags(
		    &r->b, (uint16_t)((rw_builder_flags(&r->b) & ~0xF) | (r->rcode & 0xF)));
	}
	/* TSIG is the last record of a message (RFC 8945 §5.1); the reply
	 * holds the question only, so it fits. */
	if (r->tsig.owner != NULL)
		rw_builder_rr(&r->b, RW_SEC_AR, r->tsig.owner, RW__TYPE_TSIG, 255, 0, r->tsig.rd,
		              r->tsig.len);
	env->stats.rcode[rcode_index(r->rcode & 0xF)]++;
	env->last.rcode = r->rcode;
	*out_len = rw_builder_finish(&r->b);
	return RW_QUERY_REPLY;
}

/* Where a miss for lname goes: the longest matching forward route, else
 * the default. */
void rw__route(const struct rw_query_env *env, const uint8_t *lname, struct rw_request *req)
{
	req->route = env->default_route;
	req->group = env->default_group;
	size_t best_len = 0;
	for (size_t i = 0; i < env->nroutes; i++) {
		const uint8_t *zn = env->routes[i].name;
		size_t zl = rw_name_len(zn);
		if (zl > best_len && rw_name_is_under(lname, zn)) {
			req->route = RW_ROUTE_FORWARD;
			req->group = env->routes[i].group;
			best_len = zl;
		}
	}
}

/* Is a failure held for the routed question (env->request's route)? */
static bool failed_recently(const struct rw_query_env *env, const uint8_t *lname, uint16_t qtype,
                            bool cd)
{
	if (env->failures == NULL)
		return false;
	struct rw_question q = {.route = env->request.route, .group = env->request.group};
	unsigned tag = rw_question_tag(&q);
	if (env->request.route == RW_ROUTE_FORWARD && cd)
		/* A CD=1 question is held apart from the CD=0 one (whose
		 * SERVFAIL may be a validator's verdict); a held forward group
		 * holds both. */
		return rw_failcache_check(env->failures, lname, qtype, tag | RW_QUESTION_TAG_CD) >
		           0 ||
		       rw_failcache_check(env->failures, lname, 0, tag) > 0;
	return rw_failcache_check(env->failures, lname, qtype, tag) > 0;
}

/* Fills env->request from the parsed request. */
static void make_request(struct rw_query_env *env, const struct rw_msg *q,
                         enum rw_transport transport, const struct reply *r)
{
	struct rw_request *req = &env->request;
	req->id = q->id;
	req->flags = q->flags & (RW_FLAG_RD | RW_FLAG_CD);
	req->qtype = q->qtype;
	req->qclass = q->qclass;
	req->udp_limit = reply_size(env, q, RW_TRANSPORT_UDP);
	req->edns = r->edns;
	req->do_bit = r->do_bit;
	req->stale = r->stale_avail && env->stale_ttl > 0;
	req->transport = transport;
	req->qname_len = (uint8_t)q->qname_len;
	memcpy(req->qname, q->qname, q->qname_len);
	req->target_len = 0;
	req->nsid = r->nsid;
}

/* The local CNAME chain in r left local data at r->chase: the target's
 * answer from the cache goes after it, or the target goes upstream (true:
 * env->request is filled; the reply is built when the answer comes). With
 * no route, or a failure held for the target, the chain alone is the
 * answer, as before. */
static bool chase(struct rw_query_env *env, const struct rw_msg *q, enum rw_transport transport,
                  struct reply *r, bool autopath)
{
	struct rw_msg tq;
	question_of(&tq, r->chase, rw_name_len(r->chase), q->qtype, q->qclass);
	uint8_t lt[RW_NAME_MAX];
	rw_name_lower(lt, tq.qname, tq.qname_len);
	uint16_t rcode = r->rcode;
	if (answer_cached(r, env, &tq, lt, 0)) {
		r->prefetch = false; /* its refresh comes when the target is asked for */
		return false;
	}
	r->rcode = rcode;
	rw__route(env, lt, &env->request);
	if (env->request.route == RW_ROUTE_NONE ||
	    failed_recently(env, lt, q->qtype, q->flags & RW_FLAG_CD))
		return false;
	make_request(env, q, transport, r);
	env->request.target_len = (uint8_t)tq.qname_len;
	memcpy(env->request.target, lt, tq.qname_len);
	env->request.autopath = autopath;
	return true;
}

/* Autopath: r holds the local NXDOMAIN for q; when the client is a pod of
 * the question's namespace, r becomes a CNAME to the next search name that
 * exists and that name's answer (local, cached, or upstream: true, with
 * env->request filled). */
static bool autopath(struct rw_query_env *env, const struct rw_msg *q, const uint8_t *lname,
                     enum rw_transport transport, struct reply *r, bool *upstream)
{
	if (r->b.count[1 + RW_SEC_AN] != 0) /* count[0]: the question */
		return false; /* a chain that ended in NXDOMAIN: not the question's name */
	uint8_t *target = rw_arena_alloc(&env->arena, RW_NAME_MAX);
	size_t tl = target != NULL ? rw__autopath_target(env, lname, target) : 0;
	if (tl == 0)
		return false;
	rw_builder_rollback(&r->b, &r->after_q);
	r->rcode = RW_RCODE_NOERROR;
	if (rw_builder_rr(&r->b, RW_SEC_AN, q->qname, RW_TYPE_CNAME, RW_CLASS_IN, AUTOPATH_TTL,
	                  target, (uint16_t)tl) != 0) {
		r->truncated = true;
		return true;
	}
	env->stats.autopath++;
	struct rw_msg tq;
	question_of(&tq, target, tl, q->qtype, q->qclass);
	if (answer_local(r, env->zones, &tq, target)) /* a local search name */
		return true;
	r->chase = target;
	*upstream = chase(env, q, transport, r, true);
	return true;
}

enum rw_query_result rw_query_process(struct rw_query_env *env, const uint8_t *req, size_t len,
                                      enum rw_transport transport, uint8_t *out, size_t out_cap,
                                      size_t *out_len)
{
	env->stats.queries++;
	env->prefetch = false;
	struct rw_msg q;
	struct reply r;
	int b = begin(env, req, len, transport, out, out_cap, out_len, &q, &r);
	if (b != BEGUN)
		return (enum rw_query_result)b;
	env->stats.by_transport[transport]++;
	env->last.qidx = (uint8_t)rw_qstat_index(q.qtype);
	env->stats.by_type[env->last.qidx]++;
	uint8_t lname[RW_NAME_MAX]; /* lowered once for zones, cache and routes */
	rw_name_lower(lname, q.qname, q.qname_len);
	if (r.edns && q.edns.version != 0) {
		r.rcode = RW_RCODE_BADVERS; /* RFC 6891 §6.1.3 */
		env->stats.badvers++;
	} else if (q.nrr[RW_SEC_AR] > 0 && (r.rcode = rw__signed_query(&q, &r.tsig)) != 0) {
		env->stats.signed_refused++;
	} else if (q.qclass == RW_CLASS_CH && rw__answer_chaos(&r.b, env, &q, lname)) {
		env->stats.chaos++;
	} else if (q.qclass != RW_CLASS_IN) {
		r.rcode = RW_RCODE_REFUSED; /* CH (but identity), HS, ANY, ...: not served */
	} else if (q.qtype == RW_TYPE_OPT) {
		r.rcode = RW_RCODE_FORMERR; /* OPT is a pseudo-type, not a question */
	} else if (q.qtype == RW_TYPE_AXFR || q.qtype == RW_TYPE_IXFR) {
		r.rcode = RW_RCODE_REFUSED; /* never a zone dump */
	} else if (q.qtype >= 128 && q.qtype <= 254) {
		r.rcode = RW_RCODE_NOTIMP; /* MAILA, MAILB, TKEY, TSIG, ... */
	} else if (env->client != NULL && env->nacl > 0 &&
	           !rw_netblock_match(env->acl, env->nacl, env->client)) {
		/* Not allowed: nothing, or local zones only. */
		if (!env->local_from_any || !answer_local(&r, env->zones, &q, lname)) {
			r.rcode = RW_RCODE_REFUSED;
			env->stats.acl_refused++;
		}
	} else if (answer_local(&r, env->zones, &q, lname)) {
		/* A local alias of an outside name (an ExternalName service):
		 * its target's answer follows, as CoreDNS and the Kubernetes
		 * DNS spec do. */
		bool up = false;
		if (r.chase != NULL && (q.flags & RW_FLAG_RD) &&
		    chase(env, &q, transport, &r, false))
			return RW_QUERY_UPSTREAM;
		if (r.rcode == RW_RCODE_NXDOMAIN && env->autopath_zone != NULL &&
		    (q.flags & RW_FLAG_RD) && autopath(env, &q, lname, transport, &r, &up) && up)
			return RW_QUERY_UPSTREAM;
	} else if (env->filter_aaaa && q.qtype == RW_TYPE_AAAA) {
		env->stats.aaaa_filtered++; /* NODATA: an IPv4-only cluster */
	} else if (!answer_cached(&r, env, &q, lname, 0)) {
		rw__route(env, lname, &env->request);
		/* RD=0 asks for what we hold only (RFC 1034 §4.3.1). */
		if (env->request.route == RW_ROUTE_NONE || !(q.flags & RW_FLAG_RD)) {
			r.rcode = RW_RCODE_REFUSED;
		} else if (failed_recently(env, lname, q.qtype, q.flags & RW_FLAG_CD)) {
			/* RFC 9520: a question (or a delegation, or a forward
			 * group) that just failed fails again at once -- with
			 * its stale data when there is some (RFC 8767: no
			 * refresh while the failure is held). */
			static const struct rw_ede cached = {RW_EDE_CACHED_ERROR, "cached failure"};
			if (r.stale_avail && answer_stale(&r, env, &q, lname))
				return end(env, &r, out_len, stale_ede(&r));
			env->stats.failures_cached++;
			env->last.source = RW_SOURCE_CACHE; /* a failure held there */
			r.rcode = RW_RCODE_SERVFAIL;
			return end(env, &r, out_len, &cached);
		} else {
			make_request(env, &q, transport, &r);
			return RW_QUERY_UPSTREAM;
		}
	} else if (r.prefetch && (q.flags & (RW_FLAG_RD | RW_FLAG_CD)) == RW_FLAG_RD) {
		/* Answered from data near its end: the daemon refreshes it in
		 * the background (a CD=1 answer would not be cached). */
		rw__route(env, lname, &env->request);
		if (env->request.route != RW_ROUTE_NONE) {
			make_request(env, &q, transport, &r);
			env->prefetch = true;
		}
	}
	return end(env, &r, out_len, NULL);
}

/* The TTL a client is given: the same clamps as the cache's, so the first
 * answer says what the cached ones will. */
static uint32_t clamp_ttl(const struct rw_query_env *env, enum rw_section sec, uint32_t ttl)
{
	if (sec != RW_SEC_AN)
		return ttl > env->max_neg_ttl ? env->max_neg_ttl : ttl; /* the negative SOA */
	if (ttl > env->max_ttl)
		ttl = env->max_ttl;
	return ttl < env->min_ttl ? env->min_ttl : ttl;
}

/* Adds one section of an answer in RRset-sized runs (whole or not at
 * all), owner names equal to the question in the client's case. */
static void add_answer_section(struct reply *r, const struct rw_query_env *env,
                               const struct rw_request *req, const uint8_t *lqname,
                               const uint8_t *written, const struct rw_answer *a,
                               enum rw_section sec)
{
	const struct rw_answer_rr *rr = a->rr[sec];
	uint16_t n = a->nrr[sec];
	/* Bound: the answer's records (RW_ANSWER_RR_MAX). */
	for (uint16_t i = 0; i < n && !r->truncated;) {
		uint16_t j = i + 1;
		while (j < n && rr[j].type == rr[i].type && rw_name_eq(rr[j].owner, rr[i].owner))
			j++;
		/* Signatures and denial records go to clients that set DO, or
		 * that asked for that type (RFC 4035 §3.2.1). */
		if (!r->do_bit && rr[i].type != req->qtype &&
		    (rr[i].type == RW_TYPE_RRSIG || rr[i].type == RW_TYPE_NSEC ||
		     rr[i].type == RW_TYPE_NSEC3)) {
			i = j;
			continue;
		}
		const uint8_t *owner = rw_name_eq(rr[i].owner, lqname) ? written : rr[i].owner;
		struct rw_builder_mark mk;
		rw_builder_mark(&r->b, &mk);
		for (uint16_t k = i; k < j; k++) {
			if (rw_builder_rr(&r->b, sec, owner, rr[k].type, rr[k].rclass,
			                  clamp_ttl(env, sec, rr[k].ttl), rr[k].rdata,
			                  rr[k].rdlen) != 0) {
				rw_builder_rollback(&r->b, &mk);
				r->truncated = true;
				break;
			}
		}
		i = j;
	}
}

/* The cache's answer for a waiting request, its question as a parsed
 * one: fresh data (flags 0) or stale (RW_CACHE_STALE, RFC 8767). */
static bool finish_cached(struct rw_query_env *env, const struct rw_request *req, struct reply *r,
                          unsigned flags)
{
	struct rw_msg q;
	question_of(&q, req->qname, req->qname_len, req->qtype, req->qclass);
	uint8_t lname[RW_NAME_MAX];
	rw_name_lower(lname, req->qname, req->qname_len);
	rw_arena_reset(&env->arena);
	r->rcode = RW_RCODE_NOERROR;
	if ((flags & RW_CACHE_STALE) ? answer_stale(r, env, &q, lname)
	                             : answer_cached(r, env, &q, lname, flags))
		return true;
	r->rcode = RW_RCODE_SERVFAIL;
	return false;
}

bool rw_query_cached(struct rw_query_env *env, const struct rw_question *q)
{
	uint8_t buf[512];
	struct reply r = {.rcode = RW_RCODE_NOERROR};
	rw_builder_init(&r.b, buf, sizeof buf, 0, 0);
	struct rw_msg m;
	question_of(&m, q->qname, q->qname_len, q->qtype, q->qclass);
	struct rw_cache_stats counted = env->cache_stats;
	enum rw_source source = env->last.source;
	rw_arena_reset(&env->arena);
	bool hit = answer_cached(&r, env, &m, q->qname, 0);
	env->cache_stats = counted; /* a probe, not a client's lookup */
	env->last.source = source;
	return hit;
}

/* A request whose local CNAME chain left local data: the chain again
 * (from the zones as they are now), then what upstream said of its
 * target -- the target's stale data when upstream failed and there is
 * some, else SERVFAIL. */
static enum rw_query_result finish_chased(struct rw_query_env *env, const struct rw_request *req,
                                          const struct rw_answer *ans, struct reply *r,
                                          size_t *out_len)
{
	struct rw_msg q;
	question_of(&q, req->qname, req->qname_len, req->qtype, req->qclass);
	uint8_t lname[RW_NAME_MAX];
	rw_name_lower(lname, req->qname, req->qname_len);
	rw_arena_reset(&env->arena);
	struct rw_builder_mark start;
	rw_builder_mark(&r->b, &start);
	uint16_t flags = rw_builder_flags(&r->b);
	r->rcode = RW_RCODE_NOERROR;
	bool failed = ans == NULL || ans->rcode == RW_RCODE_SERVFAIL;
	bool chain;
	if (req->autopath) { /* the CNAME autopath made: qname to the search name */
		r->chase = req->target;
		chain = rw_builder_rr(&r->b, RW_SEC_AN, req->qname, RW_TYPE_CNAME, RW_CLASS_IN,
		                      AUTOPATH_TTL, req->target, req->target_len) == 0;
		rw_builder_set_flags(&r->b, flags | RW_FLAG_AA);
	} else {
		chain = answer_local(r, env->zones, &q, lname) && r->chase != NULL &&
		        rw_name_eq(r->chase, req->target);
	}
	if (chain) {
		if (!failed) {
			r->rcode = ans->rcode; /* RFC 6604: the last name's */
			add_answer_section(r, env, req, req->target, r->chase, ans, RW_SEC_AN);
			add_answer_section(r, env, req, req->target, r->chase, ans, RW_SEC_NS);
			return end(env, r, out_len, NULL);
		}
		struct rw_msg tq;
		question_of(&tq, r->chase, rw_name_len(r->chase), req->qtype, req->qclass);
		if (ans != NULL && ans->in_cache && answer_cached(r, env, &tq, req->target, 0))
			return end(env, r, out_len, NULL);
		if (req->stale && answer_stale(r, env, &tq, req->target))
			return end(env, r, out_len, stale_ede(r));
	}
	/* Upstream failed, or the zones changed meanwhile: SERVFAIL. */
	rw_builder_rollback(&r->b, &start);
	rw_builder_set_flags(&r->b, flags);
	r->rcode = RW_RCODE_SERVFAIL;
	return end(env, r, out_len, failed && ans != NULL ? &ans->ede : NULL);
}

enum rw_query_result rw_query_finish(struct rw_query_env *env, const struct rw_request *req,
                                     const struct rw_answer *ans, uint8_t *out, size_t out_cap,
                                     size_t *out_len)
{
	if (rw_fails_assert(req->qname_len > 0 && req->udp_limit >= 512)) {
		env->stats.dropped++;
		return RW_QUERY_DROP; /* not a request rw_query_process made */
	}
	size_t cap = req->transport == RW_TRANSPORT_TCP ? 65535 : req->udp_limit;
	if (cap > out_cap)
		cap = out_cap;
	struct reply r = {.rcode = RW_RCODE_SERVFAIL,
	                  .edns = req->edns,
	                  .do_bit = req->do_bit,
	                  .nsid = req->nsid};
	rw_builder_init(&r.b, out, cap, req->id, (uint16_t)(RW_FLAG_QR | req->flags | RW_FLAG_RA));
	if (r.edns)
		rw_builder_reserve(&r.b, 11);
	if (rw_builder_question(&r.b, req->qname, req->qtype, req->qclass) != 0) {
		env->stats.dropped++;
		return RW_QUERY_DROP; /* cannot happen: cap >= 512 holds any question */
	}
	env->last.qtype = req->qtype;
	env->last.qidx = (uint8_t)rw_qstat_index(req->qtype);
	env->last.qclass = req->qclass;
	env->last.source = RW_SOURCE_UPSTREAM;
	env->last.do_bit = req->do_bit;
	if (env->log_queries) {
		memcpy(env->last.qname, req->qname, req->qname_len);
		env->last.valid = true;
	}
	if (req->target_len > 0)
		return finish_chased(env, req, ans, &r, out_len);
	if (ans == NULL || ans->rcode == RW_RCODE_SERVFAIL) {
		/* The refresh failed or is late: stale data if there is some
		 * (RFC 8767 §4), else SERVFAIL. */
		if (ans != NULL && ans->in_cache && finish_cached(env, req, &r, 0))
			return end(env, &r, out_len, NULL);
		if (req->stale && finish_cached(env, req, &r, RW_CACHE_STALE))
			return end(env, &r, out_len, stale_ede(&r));
		return end(env, &r, out_len, ans != NULL ? &ans->ede : NULL);
	}
	uint8_t lqname[RW_NAME_MAX];
	rw_name_lower(lqname, req->qname, req->qname_len);
	r.rcode = ans->rcode;
	add_answer_section(&r, env, req, lqname, req->qname, ans, RW_SEC_AN);
	add_answer_section(&r, env, req, lqname, req->qname, ans, RW_SEC_NS);
	return end(env, &r, out_len, NULL);
}
