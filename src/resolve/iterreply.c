/* What a reply to the iterator means: lameness, referrals, answers,
 * negative answers, QNAME minimisation's steps; see iter.c for the states
 * and include/resolve/rootwalk/iter.h for the interface. */
#include "iter_int.h"
#include "rootwalk/assert.h"
#include "rootwalk/err.h"
#include "rootwalk/ingest.h"
#include "rootwalk/log.h"
#include "rootwalk/netaddr.h"
#include "rootwalk/rr.h"

#include <string.h>

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
		iter_finish(r, rcode);
	else
		iter_pop(r, false);
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
		iter_fail_limit(r, RW_LIMIT_REFERRALS, "referral limit reached");
		return;
	}
	r->stats->referrals++;
	struct rw_cache_rrset nss;
	if (!rw_ingest_delegation(in, m, ns_owner, r->qclass, &nss)) {
		server_failed(r, f, "a referral without NS records");
		return;
	}
	uint8_t bailiwick[RW_NAME_MAX];
	memcpy(bailiwick, f->zone, rw_name_len(f->zone));
	iter_set_cut(r, f, ns_owner, &nss);
	iter_add_glue(r, f, m, bailiwick); /* the parent's addresses too */
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
	if (down && f->qtype == RW_TYPE_DS && rw_name_eq(ns_owner, f->qname)) {
		/* A parent that refers a DS question to the child knows no DS
		 * for it (a server without DNSSEC): no DS, an insecure
		 * delegation -- not lameness, and not a way down. */
		frame_negative(r, f, RW_RCODE_NOERROR);
		return;
	}
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
			iter_finish(r, RW_RCODE_NOERROR);
		else
			iter_pop(r, true);
		return;
	case RW_INGEST_ALIAS:
		/* Restart on the CNAME target from its closest delegation. */
		rw_name_lower(f->qname, end, rw_name_len(end));
		r->cur.srv = NULL;
		f->state = RW_ITER_INIT;
		return;
	case RW_INGEST_LOOP: iter_fail_limit(r, RW_LIMIT_CNAME, "CNAME loop"); return;
	case RW_INGEST_TOO_LONG: iter_fail_limit(r, RW_LIMIT_CNAME, "CNAME chain too long"); return;
	case RW_INGEST_NOTHING: no_answer(r, f, m, &in); return;
	}
}

/* A minimised query's name exists and is no cut (an authoritative
 * NOERROR without a referral): its answer -- data, or the NODATA of an
 * empty non-terminal -- is cached like any other, so that the next
 * resolution under it skips the step (ask_name looks it up). Without it,
 * every new name under an empty non-terminal cost two queries. */
static void minimised_exists(struct rw_res *r, struct frame *f, const struct rw_msg *m)
{
	struct rw_ingest in = {.cache = r->env->cache,
	                       .stats = r->env->cache_stats,
	                       .arena = &r->arena,
	                       .bailiwick = f->zone};
	if (m->nrr[RW_SEC_AN] == 0) {
		rw_ingest_negative(&in, m, r->cur.qname, r->cur.qtype, r->qclass, false);
		return;
	}
	struct rw_chain sub;
	const uint8_t *end;
	rw_chain_init(&sub, r->cur.qname, r->env->lim.cname_max);
	rw_ingest_chain(&in, m, r->cur.qname, r->cur.qtype, r->qclass, &sub, &end);
}

/* A reply to a minimised query (RFC 9156 §2.3, relaxed): a referral is
 * followed; a name that exists without a cut makes the next query one
 * level deeper (and is cached: minimised_exists); an error, NXDOMAIN
 * (broken servers say it for empty non-terminals) or an alias makes the
 * frame ask the full name. */
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
	if (m->flags & RW_FLAG_AA)
		minimised_exists(r, f, m);
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

bool rw_res_reply_from(struct rw_res *r, const struct sockaddr *from, uint32_t rtt_ms,
                       const uint8_t *pkt, size_t len)
{
	struct frame *f = top(r);
	if (f->state != RW_ITER_WAIT_REPLY || r->cur.srv == NULL)
		return false;
	/* Bound: the frame's servers. */
	struct server *s = NULL;
	for (unsigned i = 0; i < f->nns && s == NULL; i++)
		for (unsigned k = 0; k < f->ns[i].naddr && s == NULL; k++) {
			const union saddr *a = &f->ns[i].addr[k].ss;
			if (memcmp(a, from, saddr_len(a)) == 0)
				s = &f->ns[i].addr[k];
		}
	if (s == NULL)
		return false;
	struct server *was = r->cur.srv;
	uint64_t sent = r->cur.sent_ms;
	r->cur.srv = s;
	r->cur.sent_ms = now(r) - rtt_ms;
	if (rw_res_reply(r, pkt, len))
		return true;
	r->cur.srv = was; /* not for the question now asked: still waiting */
	r->cur.sent_ms = sent;
	return false;
}

bool rw_res_reply(struct rw_res *r, const uint8_t *pkt, size_t len)
{
	struct frame *f = top(r);
	if (f->state != RW_ITER_WAIT_REPLY || r->cur.srv == NULL)
		return false;
	/* Every reply costs, matched or not: past the budget the resolution
	 * ends (a server sending many or huge replies cannot make one client
	 * query cost more). */
	r->bytes += len;
	if (r->bytes > r->env->lim.bytes_max) {
		iter_fail_limit(r, RW_LIMIT_BYTES, "upstream reply bytes limit reached");
		return true;
	}
	/* A reply to another question (or garbage) is not ours: drop it and
	 * keep waiting; never cache from it. The header and the question are
	 * checked first: a mismatched reply costs no full parse. */
	if (!rw_msg_answers(pkt, len, r->cur.qname, r->cur.qtype, r->qclass)) {
		r->stats->mismatched++;
		return false;
	}
	rw_arena_reset(&r->arena);
	struct rw_msg m;
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
