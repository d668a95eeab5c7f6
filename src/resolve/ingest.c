/* The caching rules for upstream replies; see
 * include/resolve/rootwalk/ingest.h. No I/O; the cache locks inside. */
#include "rootwalk/ingest.h"
#include "rootwalk/name.h"
#include "rootwalk/rr.h"

#include <string.h>
#include <time.h>

void rw_chain_init(struct rw_chain *c, const uint8_t *qname, unsigned max_hops)
{
	memset(c, 0, sizeof *c);
	c->max = max_hops;
	c->seen[0] = rw_name_hash(qname);
}

static bool dnssec_type(uint16_t type)
{
	return type == RW_TYPE_RRSIG || type == RW_TYPE_NSEC || type == RW_TYPE_NSEC3;
}

/* DNSSEC records gathered from one reply for one entry (in the arena). */
struct proof {
	struct rw_cache_proof p;
	struct rw_cache_rr *rr;
	uint16_t cap;
	bool failed; /* arena full: the entry is kept without its proof */
};

/* Makes room for every RRSIG, NSEC and NSEC3 of the answer and authority
 * sections; an unsigned reply allocates nothing. */
static void proof_init(const struct rw_ingest *in, const struct rw_msg *m, struct proof *p)
{
	memset(p, 0, sizeof *p);
	size_t n = 0;
	for (int sec = RW_SEC_AN; sec <= RW_SEC_NS; sec++)
		for (uint16_t i = 0; i < m->nrr[sec]; i++)
			n += dnssec_type(m->rr[sec][i].type);
	if (n == 0)
		return;
	p->rr = rw_arena_alloc(in->arena, n * sizeof *p->rr);
	p->cap = p->rr != NULL ? (uint16_t)n : 0;
	p->failed = p->rr == NULL;
	p->p.rr = p->rr;
}

/* Adds one record of the reply. Each is gathered once: signatures of a
 * set come from its own section, denials from the authority section, and
 * an answer's set and a negative answer's SOA never share a section with
 * the other's. O(1), so a reply full of signatures costs one pass. */
static void proof_add(struct proof *p, const struct rw_rr *rr)
{
	if (p->p.count == p->cap) {
		p->failed = true;
		return;
	}
	p->rr[p->p.count++] = (struct rw_cache_rr){rr->owner, rr->type, rr->rdlen, rr->rdata};
}

/* The type an RRSIG covers; 0 for a malformed one. */
static uint16_t sig_covers(const struct rw_rr *rr)
{
	return rr->type == RW_TYPE_RRSIG && rr->rdlen >= 19 ? rw_get16(rr->rdata) : 0;
}

/* Gathers the RRSIGs of section sec covering (owner, type) and lowers
 * *ttl to theirs and to the time their signatures have left (RFC 4035
 * §5.3.3). Returns the signer when a signature shows the set was expanded
 * from a wildcard (its labels field is below the owner's, RFC 4035
 * §3.1.3.3), else NULL. Bound: the section's records. */
static const uint8_t *sigs_of(const struct rw_msg *m, enum rw_section sec, const uint8_t *owner,
                              uint16_t type, struct proof *p, uint32_t *ttl)
{
	const uint8_t *wildcard = NULL;
	uint32_t now = 0;
	for (uint16_t i = 0; p->cap > 0 && i < m->nrr[sec]; i++) {
		const struct rw_rr *rr = &m->rr[sec][i];
		/* sig_covers is 0 for a record that is no well-formed RRSIG:
		 * a set of type 0 must not take those for signatures. */
		if (rr->type != RW_TYPE_RRSIG || rr->rdlen < 19 || sig_covers(rr) != type ||
		    !rw_name_eq(rr->owner, owner))
			continue;
		proof_add(p, rr);
		if (now == 0)
			now = (uint32_t)time(NULL);
		int32_t left = (int32_t)(rw_get32(rr->rdata + 8) - now); /* RFC 1982 */
		uint32_t lim = left > 0 ? (uint32_t)left : 0;
		if (rr->ttl < lim)
			lim = rr->ttl;
		if (lim < *ttl)
			*ttl = lim;
		if (rr->rdata[3] < rw_name_labels(owner))
			wildcard = rr->rdata + 18;
	}
	return wildcard;
}

/* Gathers the NSEC and NSEC3 records of the authority section under zone
 * and inside the bailiwick, with their RRSIGs: a denial's proof; what it
 * proves is kept no longer than the proof's TTL (*ttl lowered). */
static void denial_of(const struct rw_ingest *in, const struct rw_msg *m, const uint8_t *zone,
                      struct proof *p, uint32_t *ttl)
{
	for (uint16_t i = 0; p->cap > 0 && i < m->nrr[RW_SEC_NS]; i++) {
		const struct rw_rr *rr = &m->rr[RW_SEC_NS][i];
		uint16_t t = rr->type == RW_TYPE_RRSIG ? sig_covers(rr) : rr->type;
		if ((t == RW_TYPE_NSEC || t == RW_TYPE_NSEC3) &&
		    rw_name_is_under(rr->owner, zone) &&
		    rw_name_is_under(rr->owner, in->bailiwick)) {
			proof_add(p, rr);
			if (rr->ttl < *ttl)
				*ttl = rr->ttl;
		}
	}
}

/* Adds a proof's records to the answer: signatures of (owner, type) to
 * sec with the set, the rest (a denial) to the authority section. */
static void add_proof(const struct rw_ingest *in, enum rw_section sec, const uint8_t *owner,
                      uint16_t type, uint16_t rclass, const struct proof *p, uint32_t ttl)
{
	for (uint16_t i = 0; in->answer != NULL && i < p->p.count; i++) {
		const struct rw_cache_rr *rr = &p->rr[i];
		bool own = rr->type == RW_TYPE_RRSIG && rw_get16(rr->rdata) == type &&
		           rw_name_eq(rr->owner, owner);
		rw_answer_add(in->answer, own ? sec : RW_SEC_NS, rr->owner, rr->type, rclass, ttl,
		              rr->rdata, rr->rdlen);
	}
}

static void add(const struct rw_ingest *in, enum rw_section sec, const struct rw_cache_rrset *s,
                uint32_t ttl)
{
	for (uint16_t i = 0; in->answer != NULL && i < s->count; i++)
		rw_answer_add(in->answer, sec, s->owner, s->type, s->rclass, ttl, s->rdata[i],
		              s->rdlen[i]);
}

/* Caches an RRset of section sec with its signatures (and, for a
 * wildcard expansion, the denial of a closer match), and adds them to the
 * answer when to_answer. */
static void keep(const struct rw_ingest *in, const struct rw_msg *m, enum rw_section sec,
                 struct rw_cache_rrset *s, enum rw_rank rank, bool to_answer)
{
	struct proof p;
	proof_init(in, m, &p);
	const uint8_t *signer = sigs_of(m, sec, s->owner, s->type, &p, &s->ttl_s);
	if (signer != NULL)
		denial_of(in, m, signer, &p, &s->ttl_s);
	if (in->cache != NULL)
		rw_cache_put(in->cache, s, p.failed ? NULL : &p.p, rank, in->stats);
	if (to_answer) {
		add(in, sec, s, s->ttl_s);
		add_proof(in, sec, s->owner, s->type, s->rclass, &p, s->ttl_s);
	}
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
		                           qclass, &s))
			keep(in, m, RW_SEC_AN, &s, rank, true);
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
			keep(in, m, RW_SEC_AN, &s, rank, true);
			*end = cur;
			return RW_INGEST_ANSWER;
		}
		if (qtype == RW_TYPE_CNAME ||
		    !rw_cache_rrset_collect(in->arena, m, RW_SEC_AN, cur, RW_TYPE_CNAME, qclass,
		                            &s) ||
		    s.count != 1)
			break;
		dname_of(in, m, cur, qclass, rank);
		keep(in, m, RW_SEC_AN, &s, rank, true);
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
		struct proof p;
		proof_init(in, m, &p);
		uint32_t ttl = rw_soa_negative_ttl(soa.ttl_s, soa.rdata[0], soa.rdlen[0]);
		sigs_of(m, RW_SEC_NS, soa.owner, RW_TYPE_SOA, &p, &ttl);
		denial_of(in, m, soa.owner, &p, &ttl);
		soa.ttl_s = ttl; /* what the cache keeps it for: min(that, MINIMUM) */
		if (in->cache != NULL)
			rw_cache_put_negative(
			    in->cache, nxdomain ? RW_CACHE_NXDOMAIN : RW_CACHE_NODATA, name, qtype,
			    qclass, &soa, p.failed ? NULL : &p.p, RW_RANK_AUTHORITY, in->stats);
		add(in, RW_SEC_NS, &soa, ttl); /* RFC 2308 §5 */
		add_proof(in, RW_SEC_NS, soa.owner, RW_TYPE_SOA, qclass, &p, ttl);
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
			                           nss->rclass, &g) &&
			    in->cache != NULL)
				rw_cache_put(in->cache, &g, NULL, RW_RANK_ADDITIONAL, in->stats);
		}
	}
}

bool rw_ingest_delegation(const struct rw_ingest *in, const struct rw_msg *m, const uint8_t *zone,
                          uint16_t qclass, struct rw_cache_rrset *nss)
{
	if (!rw_cache_rrset_collect(in->arena, m, RW_SEC_NS, zone, RW_TYPE_NS, qclass, nss))
		return false;
	if (in->cache != NULL)
		rw_cache_put(in->cache, nss, NULL, RW_RANK_AUTHORITY, in->stats);
	rw_ingest_glue(in, m, nss);
	return true;
}
