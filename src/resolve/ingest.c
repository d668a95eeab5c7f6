/* The caching rules for upstream replies; see
 * include/resolve/rootwalk/ingest.h. No I/O; the cache locks inside. */
#include "rootwalk/ingest.h"
#include "rootwalk/name.h"
#include "rootwalk/rr.h"

#include <string.h>

void rw_chain_init(struct rw_chain *c, const uint8_t *qname, unsigned max_hops)
{
	memset(c, 0, sizeof *c);
	c->max = max_hops;
	c->seen[0] = rw_name_hash(qname);
}

static void put(const struct rw_ingest *in, const struct rw_cache_rrset *s, enum rw_rank rank)
{
	if (in->cache != NULL)
		rw_cache_put(in->cache, s, rank, in->stats);
}

static void add(const struct rw_ingest *in, enum rw_section sec, const struct rw_cache_rrset *s,
                uint32_t ttl)
{
	for (uint16_t i = 0; in->answer != NULL && i < s->count; i++)
		rw_answer_add(in->answer, sec, s->owner, s->type, s->rclass, ttl, s->rdata[i],
		              s->rdlen[i]);
}

/* ANY (RFC 8482): whatever the server gave for the name is the answer --
 * often one record, as RFC 8482 allows. Not cached: it is no complete RRset
 * of any one type. Bound: the answer section. */
static enum rw_ingest_result any(const struct rw_ingest *in, const struct rw_msg *m,
                                 const uint8_t *qname, uint16_t qclass)
{
	unsigned n = 0;
	if (!rw_name_is_under(qname, in->bailiwick))
		return RW_INGEST_NOTHING;
	for (uint16_t i = 0; i < m->nrr[RW_SEC_AN]; i++) {
		const struct rw_rr *rr = &m->rr[RW_SEC_AN][i];
		if (rr->rclass != qclass || !rw_name_eq(rr->owner, qname))
			continue;
		n++;
		if (in->answer != NULL)
			rw_answer_add(in->answer, RW_SEC_AN, rr->owner, rr->type, rr->rclass,
			              rr->ttl, rr->rdata, rr->rdlen);
	}
	return n > 0 ? RW_INGEST_ANSWER : RW_INGEST_NOTHING;
}

/* The DNAME (RFC 6672) a CNAME at cur was synthesised from: an ancestor of
 * cur in the answer section, in bailiwick. It goes into the answer before
 * the CNAME and into the cache. Bound: the answer section. */
static void dname_of(const struct rw_ingest *in, const struct rw_msg *m, const uint8_t *cur,
                     uint16_t qclass, enum rw_rank rank)
{
	for (uint16_t i = 0; i < m->nrr[RW_SEC_AN]; i++) {
		const struct rw_rr *rr = &m->rr[RW_SEC_AN][i];
		if (rr->type != RW_TYPE_DNAME || rr->rclass != qclass ||
		    rw_name_eq(rr->owner, cur) || !rw_name_is_under(cur, rr->owner) ||
		    !rw_name_is_under(rr->owner, in->bailiwick))
			continue;
		struct rw_cache_rrset s;
		if (rw_cache_rrset_collect(in->arena, m, RW_SEC_AN, rr->owner, RW_TYPE_DNAME,
		                           qclass, &s)) {
			put(in, &s, rank);
			add(in, RW_SEC_AN, &s, s.ttl_s);
		}
		return;
	}
}

enum rw_ingest_result rw_ingest_chain(const struct rw_ingest *in, const struct rw_msg *m,
                                      const uint8_t *qname, uint16_t qtype, uint16_t qclass,
                                      struct rw_chain *chain, const uint8_t **end)
{
	if (qtype == RW_TYPE_ANY) {
		*end = qname;
		return any(in, m, qname, qclass);
	}
	enum rw_rank rank = (m->flags & RW_FLAG_AA) ? RW_RANK_AUTH_ANSWER : RW_RANK_ANSWER;
	const uint8_t *cur = qname;
	bool progressed = false;
	*end = qname;
	/* Bound: each pass adds a hop, and hops stop at chain->max. */
	for (;;) {
		if (!rw_name_is_under(cur, in->bailiwick))
			break; /* out of bailiwick: not trusted from this server */
		struct rw_cache_rrset s;
		if (rw_cache_rrset_collect(in->arena, m, RW_SEC_AN, cur, qtype, qclass, &s)) {
			put(in, &s, rank);
			add(in, RW_SEC_AN, &s, s.ttl_s);
			*end = cur;
			return RW_INGEST_ANSWER;
		}
		if (qtype == RW_TYPE_CNAME ||
		    !rw_cache_rrset_collect(in->arena, m, RW_SEC_AN, cur, RW_TYPE_CNAME, qclass,
		                            &s) ||
		    s.count != 1)
			break;
		dname_of(in, m, cur, qclass, rank);
		put(in, &s, rank);
		add(in, RW_SEC_AN, &s, s.ttl_s);
		progressed = true;
		if (++chain->hops > chain->max)
			return RW_INGEST_TOO_LONG;
		const uint8_t *target = s.rdata[0];
		uint32_t h = rw_name_hash(target);
		for (unsigned i = 0; i < chain->hops && i < RW_CHAIN_SEEN; i++)
			if (chain->seen[i] == h)
				return RW_INGEST_LOOP;
		if (chain->hops < RW_CHAIN_SEEN)
			chain->seen[chain->hops] = h;
		cur = *end = target;
	}
	return progressed ? RW_INGEST_ALIAS : RW_INGEST_NOTHING;
}

bool rw_ingest_negative(const struct rw_ingest *in, const struct rw_msg *m, const uint8_t *name,
                        uint16_t qtype, uint16_t qclass, bool nxdomain)
{
	/* Bound: the authority section's records. */
	for (uint16_t i = 0; i < m->nrr[RW_SEC_NS]; i++) {
		const struct rw_rr *rr = &m->rr[RW_SEC_NS][i];
		if (rr->type != RW_TYPE_SOA || !rw_name_is_under(rr->owner, in->bailiwick) ||
		    !rw_name_is_under(name, rr->owner))
			continue;
		struct rw_cache_rrset soa;
		if (!rw_cache_rrset_collect(in->arena, m, RW_SEC_NS, rr->owner, RW_TYPE_SOA, qclass,
		                            &soa) ||
		    soa.count != 1)
			return false;
		if (in->cache != NULL)
			rw_cache_put_negative(in->cache,
			                      nxdomain ? RW_CACHE_NXDOMAIN : RW_CACHE_NODATA, name,
			                      qtype, qclass, &soa, RW_RANK_AUTHORITY, in->stats);
		add(in, RW_SEC_NS, &soa,
		    rw_soa_negative_ttl(soa.ttl_s, soa.rdata[0], soa.rdlen[0])); /* RFC 2308 §5 */
		return true;
	}
	return false;
}

void rw_ingest_glue(const struct rw_ingest *in, const struct rw_msg *m,
                    const struct rw_cache_rrset *nss)
{
	static const uint16_t types[2] = {RW_TYPE_A, RW_TYPE_AAAA};
	for (uint16_t i = 0; i < nss->count; i++) {
		const uint8_t *nsname = nss->rdata[i];
		if (!rw_name_is_under(nsname, in->bailiwick))
			continue;
		for (int k = 0; k < 2; k++) {
			struct rw_cache_rrset g;
			if (rw_cache_rrset_collect(in->arena, m, RW_SEC_AR, nsname, types[k],
			                           nss->rclass, &g))
				put(in, &g, RW_RANK_ADDITIONAL);
		}
	}
}

bool rw_ingest_delegation(const struct rw_ingest *in, const struct rw_msg *m, const uint8_t *zone,
                          uint16_t qclass, struct rw_cache_rrset *nss)
{
	if (!rw_cache_rrset_collect(in->arena, m, RW_SEC_NS, zone, RW_TYPE_NS, qclass, nss))
		return false;
	put(in, nss, RW_RANK_AUTHORITY);
	rw_ingest_glue(in, m, nss);
	return true;
}
