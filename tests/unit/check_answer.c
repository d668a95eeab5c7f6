/* Unit tests for answers (answer.c) and the one rule set that turns
 * upstream replies into cache entries and answers (ingest.c): the chain
 * walk, bailiwick, ranks, loops and limits, negative answers, glue and
 * delegations. */
#include "rootwalk/answer.h"
#include "rootwalk/err.h"
#include "rootwalk/ingest.h"
#include "rootwalk/rr.h"
#include "testutil.h"

#include <arpa/inet.h>

static struct rw_arena arena, scratch;
static struct rw_cache *cache;
static struct rw_cache_stats st;
static uint64_t clock_ms = 1000000;
static uint64_t test_clock(void *ctx)
{
	(void)ctx;
	return clock_ms;
}

static void setup(void)
{
	rw_arena_init(&arena, 4096, 1 << 22);
	rw_arena_init(&scratch, 4096, 1 << 22);
	struct rw_cache_config cc;
	rw_cache_config_default(&cc);
	cc.clock = test_clock;
	cache = rw_cache_new(&cc);
	memset(&st, 0, sizeof st);
}

static void teardown(void)
{
	rw_cache_free(cache);
	rw_arena_fini(&arena);
	rw_arena_fini(&scratch);
}

/* --- a reply, written as text ------------------------------------------- */

struct rec {
	enum rw_section sec;
	const char *owner;
	uint16_t type;
	const char *data; /* an IPv4 address, a name, or NULL (SOA) */
};

static struct rw_msg reply(uint16_t flags, const char *qname, uint16_t qtype,
                           const struct rec *recs, size_t n)
{
	static uint8_t pkt[8192];
	struct rw_builder b;
	rw_builder_init(&b, pkt, sizeof pkt, 1, (uint16_t)(RW_FLAG_QR | flags));
	uint8_t q[RW_NAME_MAX];
	tu_name(qname, q);
	rw_builder_question(&b, q, qtype, RW_CLASS_IN);
	for (size_t i = 0; i < n; i++) {
		uint8_t o[RW_NAME_MAX], rd[600];
		size_t len;
		tu_name(recs[i].owner, o);
		if (recs[i].type == RW_TYPE_A) {
			inet_pton(AF_INET, recs[i].data, rd);
			len = 4;
		} else if (recs[i].type == RW_TYPE_SOA) {
			size_t a = tu_name("ns.invalid.", rd);
			size_t c = tu_name("hm.invalid.", rd + a);
			memset(rd + a + c, 0, 20);
			rw_put32(rd + a + c + 16, 60); /* MINIMUM */
			len = a + c + 20;
		} else {
			len = tu_name(recs[i].data, rd);
		}
		ck_assert_int_eq(
		    rw_builder_rr(&b, recs[i].sec, o, recs[i].type, RW_CLASS_IN, 300, rd, len), 0);
	}
	size_t len = rw_builder_finish(&b);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(pkt, len, &arena, &m), 0);
	return m;
}

static bool cached(const char *name, uint16_t type, enum rw_cache_kind kind)
{
	uint8_t n[RW_NAME_MAX];
	tu_name(name, n);
	struct rw_cache_entry e;
	return rw_cache_get(cache, n, type, RW_CLASS_IN, &scratch, &e, &st) == 0 && e.kind == kind;
}

static struct rw_ingest ingest(const char *bailiwick, struct rw_answer_builder *ab)
{
	static uint8_t bw[RW_NAME_MAX];
	tu_name(bailiwick, bw);
	return (struct rw_ingest){
	    .cache = cache, .stats = &st, .arena = &scratch, .bailiwick = bw, .answer = ab};
}

#define N(a) (sizeof(a) / sizeof(a)[0])

/* rw_ingest_chain from m's question with a fresh chain of max hops. */
static enum rw_ingest_result walk(const struct rw_ingest *in, const struct rw_msg *m,
                                  uint16_t qtype, unsigned max, struct rw_chain *ch,
                                  const uint8_t **end)
{
	rw_chain_init(ch, m->qname, max);
	return rw_ingest_chain(in, m, m->qname, qtype, RW_CLASS_IN, ch, end);
}

/* --- answers -------------------------------------------------------------- */

START_TEST(answer_build_share_and_bound)
{
	struct rw_answer_builder ab;
	rw_answer_builder_init(&ab, &arena);
	uint8_t owner[RW_NAME_MAX], rd[4] = {192, 0, 2, 1};
	tu_name("WWW.Example.", owner);
	rw_answer_add(&ab, RW_SEC_AN, owner, RW_TYPE_A, RW_CLASS_IN, 60, rd, 4);
	rw_answer_add(&ab, RW_SEC_NS, owner, RW_TYPE_A, RW_CLASS_IN, 61, rd, 4);
	struct rw_answer *a = rw_answer_build(&ab, RW_RCODE_NOERROR);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(a->rcode, RW_RCODE_NOERROR);
	ck_assert_uint_eq(a->nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(a->nrr[RW_SEC_NS], 1);
	ck_assert_mem_eq(a->rr[0][0].owner, "\3www\7example", 13); /* lower-cased */
	ck_assert_uint_eq(a->rr[1][0].ttl, 61);
	ck_assert_mem_eq(a->rr[0][0].rdata, rd, 4);
	/* the answer does not depend on the builder's arena */
	rw_arena_reset(&arena);
	ck_assert_mem_eq(a->rr[0][0].rdata, rd, 4);
	ck_assert_ptr_eq(rw_answer_ref(a), a); /* two holders now */
	rw_answer_unref(a);
	ck_assert_uint_eq(a->rr[1][0].ttl, 61); /* still there for the other */
	rw_answer_unref(a);
	rw_answer_unref(NULL);
	/* past RW_ANSWER_RR_MAX records: SERVFAIL, not a huge copy per waiter */
	rw_answer_builder_init(&ab, &arena);
	for (int i = 0; i <= RW_ANSWER_RR_MAX; i++)
		rw_answer_add(&ab, RW_SEC_AN, owner, RW_TYPE_A, RW_CLASS_IN, 60, rd, 4);
	a = rw_answer_build(&ab, RW_RCODE_NOERROR);
	ck_assert_uint_eq(a->rcode, RW_RCODE_SERVFAIL);
	ck_assert_str_eq(a->ede.text, "answer too large");
	rw_answer_unref(a);
	a = rw_answer_servfail(22, "no reachable authority");
	ck_assert_uint_eq(a->ede.code, 22);
	rw_answer_unref(a);
}
END_TEST

/* --- the chain walk --------------------------------------------------------- */

START_TEST(chain_in_bailiwick_is_cached_and_answered)
{
	static const struct rec rs[] = {
	    {RW_SEC_AN, "www.tld.", RW_TYPE_CNAME, "edge.tld."},
	    {RW_SEC_AN, "edge.tld.", RW_TYPE_A, "192.0.2.1"},
	    {RW_SEC_AN, "other.tld.", RW_TYPE_A, "192.0.2.9"}, /* off the chain */
	};
	struct rw_msg m = reply(RW_FLAG_AA, "www.tld.", RW_TYPE_A, rs, N(rs));
	struct rw_answer_builder ab;
	rw_answer_builder_init(&ab, &arena);
	struct rw_ingest in = ingest("tld.", &ab);
	struct rw_chain ch;
	uint8_t q[RW_NAME_MAX];
	tu_name("www.tld.", q);
	rw_chain_init(&ch, q, 8);
	const uint8_t *end;
	ck_assert_int_eq(rw_ingest_chain(&in, &m, q, RW_TYPE_A, RW_CLASS_IN, &ch, &end),
	                 RW_INGEST_ANSWER);
	ck_assert_mem_eq(end, "\4edge\3tld", 10);
	ck_assert_uint_eq(ab.nrr[RW_SEC_AN], 2);
	ck_assert(cached("www.tld.", RW_TYPE_CNAME, RW_CACHE_POSITIVE));
	ck_assert(cached("edge.tld.", RW_TYPE_A, RW_CACHE_POSITIVE));
	ck_assert(!cached("other.tld.", RW_TYPE_A, RW_CACHE_POSITIVE));
	/* AA: answer data is authoritative, so a non-AA copy cannot replace it */
	static const struct rec worse[] = {{RW_SEC_AN, "edge.tld.", RW_TYPE_A, "6.6.6.6"}};
	m = reply(0, "edge.tld.", RW_TYPE_A, worse, N(worse));
	ck_assert_int_eq(walk(&in, &m, RW_TYPE_A, 8, &ch, &end), RW_INGEST_ANSWER);
	uint8_t n[RW_NAME_MAX];
	tu_name("edge.tld.", n);
	struct rw_cache_entry e;
	ck_assert_int_eq(rw_cache_get(cache, n, RW_TYPE_A, RW_CLASS_IN, &scratch, &e, &st), 0);
	ck_assert_uint_eq(e.set.rdata[0][0], 192);
}
END_TEST

START_TEST(chain_leaving_bailiwick_stops)
{
	/* a tld. server may not vouch for names under other. */
	static const struct rec rs[] = {
	    {RW_SEC_AN, "www.tld.", RW_TYPE_CNAME, "x.other."},
	    {RW_SEC_AN, "x.other.", RW_TYPE_A, "6.6.6.6"},
	};
	struct rw_msg m = reply(RW_FLAG_AA, "www.tld.", RW_TYPE_A, rs, N(rs));
	struct rw_answer_builder ab;
	rw_answer_builder_init(&ab, &arena);
	struct rw_ingest in = ingest("tld.", &ab);
	struct rw_chain ch;
	rw_chain_init(&ch, m.qname, 8);
	const uint8_t *end;
	ck_assert_int_eq(rw_ingest_chain(&in, &m, m.qname, RW_TYPE_A, RW_CLASS_IN, &ch, &end),
	                 RW_INGEST_ALIAS);
	ck_assert_mem_eq(end, "\1x\5other", 9); /* where the chain goes on */
	ck_assert(!cached("x.other.", RW_TYPE_A, RW_CACHE_POSITIVE));
	ck_assert_uint_eq(ab.nrr[RW_SEC_AN], 1); /* the CNAME only */
	/* the root as bailiwick (a forwarder) trusts it */
	in = ingest(".", &ab);
	ck_assert_int_eq(walk(&in, &m, RW_TYPE_A, 8, &ch, &end), RW_INGEST_ANSWER);
	ck_assert(cached("x.other.", RW_TYPE_A, RW_CACHE_POSITIVE));
}
END_TEST

START_TEST(chain_loops_and_limits)
{
	static const struct rec loop[] = {
	    {RW_SEC_AN, "a.tld.", RW_TYPE_CNAME, "b.tld."},
	    {RW_SEC_AN, "b.tld.", RW_TYPE_CNAME, "a.tld."},
	};
	struct rw_msg m = reply(RW_FLAG_AA, "a.tld.", RW_TYPE_A, loop, N(loop));
	struct rw_ingest in = ingest("tld.", NULL);
	struct rw_chain ch;
	rw_chain_init(&ch, m.qname, 8);
	const uint8_t *end;
	ck_assert_int_eq(rw_ingest_chain(&in, &m, m.qname, RW_TYPE_A, RW_CLASS_IN, &ch, &end),
	                 RW_INGEST_LOOP);
	static const struct rec three[] = {
	    {RW_SEC_AN, "c1.tld.", RW_TYPE_CNAME, "c2.tld."},
	    {RW_SEC_AN, "c2.tld.", RW_TYPE_CNAME, "c3.tld."},
	    {RW_SEC_AN, "c3.tld.", RW_TYPE_CNAME, "c4.tld."},
	};
	m = reply(RW_FLAG_AA, "c1.tld.", RW_TYPE_A, three, N(three));
	ck_assert_int_eq(walk(&in, &m, RW_TYPE_A, 2, &ch, &end), RW_INGEST_TOO_LONG);
	/* the chain's count goes on across replies */
	ck_assert_int_eq(walk(&in, &m, RW_TYPE_A, 3, &ch, &end), RW_INGEST_ALIAS);
	ck_assert_uint_eq(ch.hops, 3);
	/* asking for the CNAME itself: it is the answer */
	m = reply(RW_FLAG_AA, "c1.tld.", RW_TYPE_CNAME, three, N(three));
	ck_assert_int_eq(walk(&in, &m, RW_TYPE_CNAME, 8, &ch, &end), RW_INGEST_ANSWER);
	ck_assert_uint_eq(ch.hops, 0);
	/* nothing for the name */
	m = reply(RW_FLAG_AA, "zz.tld.", RW_TYPE_A, three, N(three));
	ck_assert_int_eq(walk(&in, &m, RW_TYPE_A, 8, &ch, &end), RW_INGEST_NOTHING);
}
END_TEST

/* --- negative answers, delegations, glue ------------------------------------ */

START_TEST(negative_needs_an_soa_in_bailiwick)
{
	static const struct rec soa[] = {{RW_SEC_NS, "tld.", RW_TYPE_SOA, NULL}};
	struct rw_msg m = reply(RW_FLAG_AA | RW_RCODE_NXDOMAIN, "nx.tld.", RW_TYPE_A, soa, N(soa));
	struct rw_answer_builder ab;
	rw_answer_builder_init(&ab, &arena);
	struct rw_ingest in = ingest("tld.", &ab);
	ck_assert(rw_ingest_negative(&in, &m, m.qname, RW_TYPE_A, RW_CLASS_IN, true));
	ck_assert(cached("nx.tld.", RW_TYPE_MX, RW_CACHE_NXDOMAIN)); /* every type */
	ck_assert_uint_eq(ab.nrr[RW_SEC_NS], 1);
	ck_assert_uint_eq(ab.rr[1][0].ttl, 60); /* min(SOA TTL, MINIMUM), RFC 2308 §5 */
	/* NODATA: that type only */
	m = reply(RW_FLAG_AA, "nd.tld.", RW_TYPE_AAAA, soa, N(soa));
	ck_assert(rw_ingest_negative(&in, &m, m.qname, RW_TYPE_AAAA, RW_CLASS_IN, false));
	ck_assert(cached("nd.tld.", RW_TYPE_AAAA, RW_CACHE_NODATA));
	ck_assert(!cached("nd.tld.", RW_TYPE_A, RW_CACHE_NODATA));
	/* an SOA above the bailiwick (a tld. server speaking for the root) or
	 * of an unrelated zone proves nothing */
	static const struct rec root[] = {{RW_SEC_NS, ".", RW_TYPE_SOA, NULL}};
	m = reply(RW_FLAG_AA | RW_RCODE_NXDOMAIN, "nx2.tld.", RW_TYPE_A, root, N(root));
	ck_assert(!rw_ingest_negative(&in, &m, m.qname, RW_TYPE_A, RW_CLASS_IN, true));
	static const struct rec other[] = {{RW_SEC_NS, "other.", RW_TYPE_SOA, NULL}};
	m = reply(RW_FLAG_AA | RW_RCODE_NXDOMAIN, "nx2.tld.", RW_TYPE_A, other, N(other));
	ck_assert(!rw_ingest_negative(&in, &m, m.qname, RW_TYPE_A, RW_CLASS_IN, true));
	ck_assert(!cached("nx2.tld.", RW_TYPE_A, RW_CACHE_NXDOMAIN));
}
END_TEST

START_TEST(delegation_and_glue_in_bailiwick)
{
	static const struct rec rs[] = {
	    {RW_SEC_NS, "sub.tld.", RW_TYPE_NS, "ns1.sub.tld."},
	    {RW_SEC_NS, "sub.tld.", RW_TYPE_NS, "ns.elsewhere."},
	    {RW_SEC_AR, "ns1.sub.tld.", RW_TYPE_A, "192.0.2.53"},
	    {RW_SEC_AR, "ns.elsewhere.", RW_TYPE_A, "6.6.6.6"}, /* not ours to give */
	};
	struct rw_msg m = reply(0, "www.sub.tld.", RW_TYPE_A, rs, N(rs));
	struct rw_ingest in = ingest("tld.", NULL);
	uint8_t zone[RW_NAME_MAX];
	tu_name("sub.tld.", zone);
	struct rw_cache_rrset nss;
	ck_assert(rw_ingest_delegation(&in, &m, zone, RW_CLASS_IN, &nss));
	ck_assert_uint_eq(nss.count, 2);
	ck_assert(cached("sub.tld.", RW_TYPE_NS, RW_CACHE_POSITIVE));
	ck_assert(cached("ns1.sub.tld.", RW_TYPE_A, RW_CACHE_POSITIVE));
	ck_assert(!cached("ns.elsewhere.", RW_TYPE_A, RW_CACHE_POSITIVE));
	tu_name("nope.tld.", zone);
	ck_assert(!rw_ingest_delegation(&in, &m, zone, RW_CLASS_IN, &nss));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("answer");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, answer_build_share_and_bound);
	tcase_add_test(tc, chain_in_bailiwick_is_cached_and_answered);
	tcase_add_test(tc, chain_leaving_bailiwick_stops);
	tcase_add_test(tc, chain_loops_and_limits);
	tcase_add_test(tc, negative_needs_an_soa_in_bailiwick);
	tcase_add_test(tc, delegation_and_glue_in_bailiwick);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
