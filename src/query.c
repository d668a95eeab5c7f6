/* Request admission and answers from local zones; see
 * include/rootwalk/query.h. No I/O, no heap allocation per request (the
 * arena keeps its first block across resets). */
#include "rootwalk/query.h"
#include "rootwalk/err.h"
#include "rootwalk/msg.h"
#include "rootwalk/rr.h"

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
	rw_arena_init(&env->arena, ARENA_BLOCK_BYTES, ARENA_LIMIT_BYTES);
}

void rw_query_env_fini(struct rw_query_env *env)
{
	rw_arena_fini(&env->arena);
}

/* A reply being assembled. */
struct reply {
	struct rw_builder b;
	uint16_t rcode; /* full 12-bit code, applied at the end */
	bool truncated;
	bool edns;
	bool do_bit;
};

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
	while (rw_rrset_next(s, &pos, &rd, &rdlen)) {
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
	uint32_t minimum = rw_get32(rd + rdlen - 4);
	add_rrset(r, RW_SEC_NS, rw_zone_origin(z), soa, soa->ttl < minimum ? soa->ttl : minimum);
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
static bool answer_local(struct reply *r, const struct rw_zoneset *zs, const struct rw_msg *q)
{
	uint8_t lname[RW_NAME_MAX];
	rw_name_lower(lname, q->qname, q->qname_len);
	const struct rw_zone *z = rw_zoneset_find(zs, lname);
	if (z == NULL)
		return false;
	rw_builder_set_flags(&r->b, rw_builder_flags(&r->b) | RW_FLAG_AA);
	/* owner: as it goes into the reply (client's case for the first hop,
	 * so it compresses against the question). */
	const uint8_t *owner = q->qname;
	uint8_t owner_buf[RW_NAME_MAX];
	/* Names already visited, to stop CNAME loops early. */
	uint32_t seen[RW_QUERY_CNAME_MAX + 1];
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
		rw_name_lower(lname, target, tlen);
		z = rw_zoneset_find(zs, lname);
		if (z == NULL)
			return true; /* the chain leaves local data */
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
	for (uint16_t i = 0; i < s->count; i++) {
		if (rw_builder_rr(&r->b, sec, owner, s->type, s->rclass, s->ttl_s, s->rdata[i],
		                  s->rdlen[i]) != 0) {
			rw_builder_rollback(&r->b, &m);
			r->truncated = true;
			return false;
		}
	}
	return true;
}

/* Answers from the cache, assembling CNAME chains from separately cached
 * RRsets (RFC 1034 §4.3.2 step 3a, applied to cached data). Returns false
 * -- with nothing added -- when the cache cannot answer completely: the
 * name is missing, or a chain leads to a name it does not hold. */
static bool answer_cached(struct reply *r, struct rw_query_env *env, const struct rw_msg *q)
{
	if (env->cache == NULL)
		return false;
	struct rw_builder_mark start;
	rw_builder_mark(&r->b, &start);
	const uint8_t *cur = q->qname, *owner = q->qname;
	/* Bound: RW_QUERY_CACHE_CNAME_MAX hops; a longer or looping chain is
	 * not answered from the cache. */
	for (unsigned hop = 0; hop <= RW_QUERY_CACHE_CNAME_MAX; hop++) {
		struct rw_cache_entry e;
		int rc = rw_cache_get(env->cache, cur, q->qtype, q->qclass, &env->arena, &e,
		                      &env->cache_stats);
		if (rc == 0) {
			if (e.kind == RW_CACHE_POSITIVE) {
				add_cached(r, RW_SEC_AN, owner, &e.set);
			} else {
				if (e.kind == RW_CACHE_NXDOMAIN)
					r->rcode = RW_RCODE_NXDOMAIN;
				add_cached(r, RW_SEC_NS, e.soa.owner, &e.soa); /* RFC 2308 §5 */
			}
			return true;
		}
		if (rc != RW_ENOTFOUND || q->qtype == RW_TYPE_CNAME)
			break;
		rc = rw_cache_get(env->cache, cur, RW_TYPE_CNAME, q->qclass, &env->arena, &e,
		                  &env->cache_stats);
		if (rc != 0 || e.kind != RW_CACHE_POSITIVE || e.set.count != 1)
			break;
		if (!add_cached(r, RW_SEC_AN, owner, &e.set))
			return true; /* TC set: the client retries over TCP */
		cur = owner = e.set.rdata[0];
	}
	rw_builder_rollback(&r->b, &start);
	r->rcode = RW_RCODE_NOERROR;
	return false;
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

enum rw_query_result rw_query_process(struct rw_query_env *env, const uint8_t *req, size_t len,
                                      enum rw_transport transport, uint8_t *out, size_t out_cap,
                                      size_t *out_len)
{
	env->stats.queries++;
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
	rw_arena_reset(&env->arena);
	struct rw_msg q;
	if (rw_msg_parse(req, len, &env->arena, &q) != 0 || q.qdcount != 1) {
		*out_len = header_reply(req, out, RW_RCODE_FORMERR);
		env->stats.rcode[RW_RCODE_FORMERR]++;
		return RW_QUERY_REPLY;
	}
	size_t cap = reply_size(env, &q, transport);
	if (cap > out_cap)
		cap = out_cap;
	struct reply r = {
	    .rcode = RW_RCODE_NOERROR, .edns = q.edns.present, .do_bit = q.edns.do_bit};
	/* Echo ID, opcode, RD and CD; QR set. RA stays 0 until this server
	 * offers recursion. */
	uint16_t rflags = (uint16_t)(RW_FLAG_QR | (flags & (RW_FLAG_RD | RW_FLAG_CD)));
	rw_builder_init(&r.b, out, cap, q.id, rflags);
	if (r.edns)
		rw_builder_reserve(&r.b, 11);
	if (rw_builder_question(&r.b, q.qname, q.qtype, q.qclass) != 0) {
		env->stats.dropped++;
		return RW_QUERY_DROP; /* cannot happen: cap >= 512 holds any question */
	}
	if (r.edns && q.edns.version != 0) {
		r.rcode = RW_RCODE_BADVERS; /* RFC 6891 §6.1.3 */
		env->stats.badvers++;
	} else if (q.qclass != RW_CLASS_IN) {
		r.rcode = RW_RCODE_REFUSED; /* CH, HS, ANY, ...: not served */
	} else if (q.qtype == RW_TYPE_OPT) {
		r.rcode = RW_RCODE_FORMERR; /* OPT is a pseudo-type, not a question */
	} else if (q.qtype == RW_TYPE_AXFR || q.qtype == RW_TYPE_IXFR) {
		r.rcode = RW_RCODE_REFUSED; /* never a zone dump */
	} else if (q.qtype >= 128 && q.qtype <= 254) {
		r.rcode = RW_RCODE_NOTIMP; /* MAILA, MAILB, TKEY, TSIG, ... */
	} else if (!answer_local(&r, env->zones, &q) && !answer_cached(&r, env, &q)) {
		r.rcode = RW_RCODE_REFUSED; /* no resolution yet */
	}
	if (r.truncated) {
		rw_builder_set_flags(&r.b, rw_builder_flags(&r.b) | RW_FLAG_TC);
		env->stats.truncated++;
	}
	if (r.edns) {
		/* RFC 3225 §3: DO is copied into the reply. */
		rw_builder_opt(&r.b, env->edns_size, r.rcode, r.do_bit, NULL, 0);
	} else {
		rw_builder_set_flags(&r.b,
		                     (uint16_t)((rw_builder_flags(&r.b) & ~0xF) | (r.rcode & 0xF)));
	}
	env->stats.rcode[rcode_index(r.rcode & 0xF)]++;
	*out_len = rw_builder_finish(&r.b);
	return RW_QUERY_REPLY;
}
