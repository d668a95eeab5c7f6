/* Forward mode; see include/resolve/rootwalk/forward.h. */
#include "rootwalk/forward.h"
#include "rootwalk/err.h"
#include "rootwalk/ingest.h"
#include "rootwalk/rr.h"

#include <string.h>

size_t rw_forward_query(const struct rw_question *q, uint16_t edns_size, uint8_t *out, size_t cap)
{
	struct rw_builder b;
	if (cap < RW_HEADER_LEN)
		return 0;
	rw_builder_init(&b, out, cap, 0, (uint16_t)(RW_FLAG_RD | (q->cd ? RW_FLAG_CD : 0)));
	/* DO=1: the upstream sends signatures and denial records, kept for
	 * clients that validate (RFC 3225, RFC 4035 §3.2.1). */
	if (rw_builder_question(&b, q->qname, q->qtype, q->qclass) != 0 ||
	    rw_builder_opt(&b, edns_size, 0, true, NULL, 0) != 0)
		return 0;
	return rw_builder_finish(&b);
}

/* A forward zone's own TTL caps (max-ttl, max-negative-ttl) on the
 * records of its replies, before they are cached or answered: the SOA of
 * the authority section sets a negative answer's TTL (RFC 2308 §5), every
 * other record is a positive one. */
static void cap_ttls(const struct rw_query_env *env, const struct rw_question *q, struct rw_msg *m)
{
	const struct rw_route *rt = NULL;
	for (size_t i = 0; q->route == RW_ROUTE_FORWARD && i < env->nroutes; i++)
		if (env->routes[i].group == q->group)
			rt = &env->routes[i];
	if (rt == NULL || (rt->max_ttl == 0 && !rt->neg_cap))
		return;
	uint32_t pos = rt->max_ttl > 0 ? rt->max_ttl : UINT32_MAX;
	uint32_t neg = rt->neg_cap ? rt->max_neg_ttl : UINT32_MAX;
	/* Bound: the message's records. */
	for (int s = 0; s < 3; s++) {
		for (uint16_t i = 0; i < m->nrr[s]; i++) {
			struct rw_rr *rr = &m->rr[s][i];
			uint32_t cap = s == RW_SEC_NS && rr->type == RW_TYPE_SOA ? neg : pos;
			if (rr->ttl > cap)
				rr->ttl = cap;
		}
	}
}

int rw_forward_accept(struct rw_query_env *env, const struct rw_question *q, const uint8_t *resp,
                      size_t resp_len, struct rw_answer **out)
{
	*out = NULL;
	rw_arena_reset(&env->arena);
	struct rw_msg m;
	/* The header and the question first: a reply to anything else is
	 * not ours. */
	if (!rw_msg_answers(resp, resp_len, q->qname, q->qtype, q->qclass) ||
	    (rw_get16(resp + 2) & RW_FLAG_TC))
		return RW_EMALFORMED;
	if (rw_msg_parse(resp, resp_len, &env->arena, &m) != 0 || m.qtype != q->qtype ||
	    m.qclass != q->qclass || !rw_name_eq(m.qname, q->qname))
		return RW_EMALFORMED;
	uint16_t rcode = RW_RCODE(m.flags);
	cap_ttls(env, q, &m);
	if (rcode != RW_RCODE_NOERROR && rcode != RW_RCODE_NXDOMAIN) {
		*out =
		    rw_answer_servfail(RW_EDE_OTHER, rcode == RW_RCODE_REFUSED ? "upstream refused"
		                                                               : "upstream failed");
		return *out != NULL ? 0 : RW_ENOMEM;
	}
	struct rw_answer_builder ab;
	rw_answer_builder_init(&ab, &env->arena);
	struct rw_ingest in = {
	    /* An unchecked (CD=1) answer is for CD=1 clients only. */
	    .cache = q->cd ? NULL : env->cache,
	    .stats = &env->cache_stats,
	    .arena = &env->arena,
	    .bailiwick = (const uint8_t *)"",
	    .answer = &ab,
	};
	struct rw_chain chain;
	rw_chain_init(&chain, q->qname, RW_FORWARD_CNAME_MAX);
	const uint8_t *end;
	enum rw_ingest_result r =
	    rw_ingest_chain(&in, &m, q->qname, q->qtype, q->qclass, &chain, &end);
	/* No final RRset: the last name of the chain is the one the rcode and
	 * any SOA speak of (RFC 6604). A loop or an overlong chain is passed on
	 * as the upstream gave it, not cached further. */
	if (r == RW_INGEST_NOTHING || r == RW_INGEST_ALIAS)
		rw_ingest_negative(&in, &m, end, q->qtype, q->qclass, rcode == RW_RCODE_NXDOMAIN);
	*out = rw_answer_build(&ab, rcode);
	return *out != NULL ? 0 : RW_ENOMEM;
}
