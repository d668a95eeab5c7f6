/* Unit tests: iterative resolution against a scripted miniature DNS, no
 * sockets -- the state machine gets each query's bytes and is handed the
 * reply (or a timeout) the test world produces. Covers priming, referrals,
 * glue and glueless NS names, CNAME chains within and across zones, loops,
 * NXDOMAIN/NODATA, bailiwick scrubbing, lame and dead servers, EDNS and TC
 * fallbacks, and every limit. */
#include "rootwalk/err.h"
#include "rootwalk/msg.h"
#include "rootwalk/iter.h"
#include "rootwalk/netaddr.h"
#include "rootwalk/query.h"
#include "rootwalk/rr.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static uint64_t clock_ms;
static uint64_t test_clock(void *ctx)
{
	(void)ctx;
	return clock_ms;
}

static struct rw_cache *cache;
static struct rw_cache_stats cstats;
static struct rw_infra *infra;
static struct rw_hints hints;
static struct rw_res_env env;
static struct rw_res_stats stats;
static struct rw_arena arena;

/* What the world saw. */
static unsigned sent, sent_tcp, sent_noedns;
static char log_[8192];

static void setup(void)
{
	struct rw_cache_config cc;
	rw_cache_config_default(&cc);
	cc.clock = test_clock;
	clock_ms = 1000000;
	cache = rw_cache_new(&cc);
	infra = rw_infra_new(1000);
	memset(&hints, 0, sizeof hints);
	hints.nns = 1;
	tu_name("a.root-servers.", hints.ns[0].name);
	struct sockaddr_in *s4 = (struct sockaddr_in *)&hints.ns[0].addr[0];
	s4->sin_family = AF_INET;
	s4->sin_port = htons(53);
	inet_pton(AF_INET, "127.53.0.1", &s4->sin_addr);
	hints.ns[0].naddr = 1;
	memset(&env, 0, sizeof env);
	env.cache = cache;
	env.cache_stats = &cstats;
	env.infra = infra;
	env.hints = &hints;
	rw_res_limits_default(&env.lim);
	env.query_loopback = true;
	env.ipv6 = false;
	env.edns_size = 1232;
	env.clock = test_clock;
	memset(&stats, 0, sizeof stats);
	rw_arena_init(&arena, 8192, 1 << 22);
	sent = sent_tcp = sent_noedns = 0;
	log_[0] = 0;
}

static void teardown(void)
{
	rw_cache_free(cache);
	rw_infra_free(infra);
	rw_arena_fini(&arena);
}

/* --- the scripted world --------------------------------------------------- */

struct rec {
	enum rw_section sec;
	const char *owner;
	uint16_t type;
	const char *data; /* A/AAAA address, or a name */
};

static struct rw_builder b;

static void add(const struct rec *r)
{
	uint8_t o[RW_NAME_MAX], rd[RW_NAME_MAX * 3];
	size_t len;
	tu_name(r->owner, o);
	if (r->type == RW_TYPE_A) {
		inet_pton(AF_INET, r->data, rd);
		len = 4;
	} else if (r->type == RW_TYPE_SOA) {
		size_t a = tu_name("ns.invalid.", rd);
		size_t c = tu_name("hm.invalid.", rd + a);
		memset(rd + a + c, 0, 20);
		rw_put32(rd + a + c + 16, 60);
		len = a + c + 20;
	} else {
		len = tu_name(r->data, rd);
	}
	ck_assert_int_eq(rw_builder_rr(&b, r->sec, o, r->type, RW_CLASS_IN, 300, rd, len), 0);
}

#define AN RW_SEC_AN
#define NS RW_SEC_NS
#define AR RW_SEC_AR
#define REPLY(flags, ...)                                                                          \
	do {                                                                                       \
		static const struct rec rs_[] = {__VA_ARGS__};                                     \
		rw_builder_set_flags(&b, (uint16_t)(RW_FLAG_QR | (flags)));                        \
		for (size_t i_ = 0; i_ < sizeof rs_ / sizeof rs_[0]; i_++)                         \
			add(&rs_[i_]);                                                             \
		return true;                                                                       \
	} while (0)
#define EMPTY(flags)                                                                               \
	do {                                                                                       \
		rw_builder_set_flags(&b, (uint16_t)(RW_FLAG_QR | (flags)));                        \
		return true;                                                                       \
	} while (0)
#define AA RW_FLAG_AA

static bool under(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	return strcmp(zone, ".") == 0 ||
	       (n >= z && strcmp(name + n - z, zone) == 0 && (n == z || name[n - z - 1] == '.'));
}

static bool edns_hater_seen_opt;
static bool poisoner_used;

/* Fills b with the server's answer to (name, type); false: no reply. */
static bool world(const char *server, const char *name, uint16_t type, bool tcp, bool edns)
{
	if (strcmp(server, "127.53.0.1") == 0) { /* the root */
		if (strcmp(name, ".") == 0 && type == RW_TYPE_NS)
			REPLY(AA, {AN, ".", RW_TYPE_NS, "a.root-servers."},
			      {AR, "a.root-servers.", RW_TYPE_A, "127.53.0.1"});
		if (under(name, "tld."))
			REPLY(0, {NS, "tld.", RW_TYPE_NS, "ns.tld."},
			      {AR, "ns.tld.", RW_TYPE_A, "127.53.0.2"});
		if (under(name, "glueless."))
			REPLY(0, {NS, "glueless.", RW_TYPE_NS, "ns.tld2."}); /* no glue */
		if (under(name, "tld2."))
			REPLY(0, {NS, "tld2.", RW_TYPE_NS, "ns.tld."},
			      {AR, "ns.tld.", RW_TYPE_A, "127.53.0.2"});
		if (under(name, "dead."))
			REPLY(0, {NS, "dead.", RW_TYPE_NS, "ns.dead."},
			      {AR, "ns.dead.", RW_TYPE_A, "127.53.0.9"});
		if (under(name, "half."))
			REPLY(0, {NS, "half.", RW_TYPE_NS, "ns1.half."},
			      {NS, "half.", RW_TYPE_NS, "ns2.half."},
			      {AR, "ns1.half.", RW_TYPE_A, "127.53.0.9"},
			      {AR, "ns2.half.", RW_TYPE_A, "127.53.0.2"});
		if (under(name, "oldedns."))
			REPLY(0, {NS, "oldedns.", RW_TYPE_NS, "ns.oldedns."},
			      {AR, "ns.oldedns.", RW_TYPE_A, "127.53.0.4"});
		if (under(name, "big."))
			REPLY(0, {NS, "big.", RW_TYPE_NS, "ns.big."},
			      {AR, "ns.big.", RW_TYPE_A, "127.53.0.5"});
		if (under(name, "evil."))
			REPLY(0, {NS, "evil.", RW_TYPE_NS, "ns.evil."},
			      {AR, "ns.evil.", RW_TYPE_A, "127.53.0.6"});
		REPLY(AA | RW_RCODE_NXDOMAIN, {NS, ".", RW_TYPE_SOA, NULL});
	}
	if (strcmp(server, "127.53.0.2") == 0) { /* tld., tld2., glueless., half. */
		if (strcmp(name, "ns.tld2.") == 0 && type == RW_TYPE_A)
			REPLY(AA, {AN, "ns.tld2.", RW_TYPE_A, "127.53.0.2"});
		if (strcmp(name, "ns.tld.") == 0 && type == RW_TYPE_A)
			REPLY(AA, {AN, "ns.tld.", RW_TYPE_A, "127.53.0.2"});
		if (strcmp(name, "www.tld.") == 0 && type == RW_TYPE_A)
			REPLY(AA, {AN, "www.tld.", RW_TYPE_A, "192.0.2.1"},
			      {AN, "www.tld.", RW_TYPE_A, "192.0.2.2"});
		if (strcmp(name, "www.tld.") == 0)
			REPLY(AA, {NS, "tld.", RW_TYPE_SOA, NULL}); /* NODATA */
		if (strcmp(name, "alias.tld.") == 0)
			REPLY(AA, {AN, "alias.tld.", RW_TYPE_CNAME, "www.tld."},
			      {AN, "www.tld.", RW_TYPE_A, "192.0.2.1"},
			      {AN, "www.tld.", RW_TYPE_A, "192.0.2.2"});
		if (strcmp(name, "ext.tld.") == 0)
			REPLY(AA, {AN, "ext.tld.", RW_TYPE_CNAME, "www.glueless."});
		if (strcmp(name, "tonx.tld.") == 0)
			REPLY(AA | RW_RCODE_NXDOMAIN, {AN, "tonx.tld.", RW_TYPE_CNAME, "nx.tld."},
			      {NS, "tld.", RW_TYPE_SOA, NULL});
		if (strcmp(name, "loop1.tld.") == 0)
			REPLY(AA, {AN, "loop1.tld.", RW_TYPE_CNAME, "loop2.tld."});
		if (strcmp(name, "loop2.tld.") == 0)
			REPLY(AA, {AN, "loop2.tld.", RW_TYPE_CNAME, "loop1.tld."});
		if (strncmp(name, "c", 1) == 0 && strlen(name) <= 8) { /* c1.tld -> c2.tld ... */
			int k = atoi(name + 1);
			static char owner[32], target[32];
			snprintf(owner, sizeof owner, "c%d.tld.", k);
			snprintf(target, sizeof target, "c%d.tld.", k + 1);
			struct rec cn = {AN, owner, RW_TYPE_CNAME, target};
			rw_builder_set_flags(&b, RW_FLAG_QR | AA);
			add(&cn);
			return true;
		}
		if (strcmp(name, "sideways.tld.") == 0)
			REPLY(0, {NS, "other.", RW_TYPE_NS, "ns.tld."});
		if (strcmp(name, "upward.tld.") == 0)
			REPLY(0, {NS, ".", RW_TYPE_NS, "a.root-servers."});
		if (under(name, "glueless."))
			REPLY(AA, {AN, "www.glueless.", RW_TYPE_A, "192.0.2.5"});
		if (under(name, "half."))
			REPLY(AA, {AN, "www.half.", RW_TYPE_A, "192.0.2.7"});
		if (strcmp(name, "refused.tld.") == 0)
			EMPTY(RW_RCODE_REFUSED);
		REPLY(AA | RW_RCODE_NXDOMAIN, {NS, "tld.", RW_TYPE_SOA, NULL});
	}
	if (strcmp(server, "127.53.0.4") == 0) { /* an old server: FORMERR on EDNS */
		if (edns) {
			edns_hater_seen_opt = true;
			EMPTY(RW_RCODE_FORMERR);
		}
		REPLY(AA, {AN, "www.oldedns.", RW_TYPE_A, "192.0.2.44"});
	}
	if (strcmp(server, "127.53.0.5") == 0) { /* big answers: TC over UDP */
		if (!tcp)
			EMPTY(AA | RW_FLAG_TC);
		REPLY(AA, {AN, "www.big.", RW_TYPE_A, "192.0.2.55"});
	}
	if (strcmp(server, "127.53.0.6") == 0) { /* a poisoner */
		poisoner_used = true;
		REPLY(AA, {AN, "www.evil.", RW_TYPE_A, "192.0.2.66"},
		      {AN, "www.tld.", RW_TYPE_A, "6.6.6.6"}, /* out of bailiwick */
		      {NS, "tld.", RW_TYPE_NS, "ns.evil."},   /* hijack attempt */
		      {AR, "ns.tld.", RW_TYPE_A, "6.6.6.7"}); /* bad glue */
	}
	return false; /* 127.53.0.9 and anything else: silence */
}

/* The reply a client asking (qname, qtype) over TCP gets from ans: how
 * the daemon turns an answer into bytes (rw_query_finish). */
static struct rw_msg client_reply(const uint8_t *qname, uint16_t qtype, const struct rw_answer *ans)
{
	struct rw_query_env qe;
	rw_query_env_init(&qe, NULL, 1232);
	struct rw_request req = {.id = 0x4242,
	                         .flags = RW_FLAG_RD,
	                         .qtype = qtype,
	                         .qclass = RW_CLASS_IN,
	                         .udp_limit = 512,
	                         .transport = RW_TRANSPORT_TCP,
	                         .qname_len = (uint8_t)rw_name_len(qname)};
	memcpy(req.qname, qname, req.qname_len);
	static uint8_t buf[65535];
	size_t len;
	ck_assert_int_eq(rw_query_finish(&qe, &req, ans, buf, sizeof buf, &len), RW_QUERY_REPLY);
	rw_query_env_fini(&qe);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(buf, len, &arena, &m), 0);
	return m;
}

static struct rw_msg resolve_ex(const char *name, uint16_t type, bool *ok, struct rw_ede *ede)
{
	uint8_t n[RW_NAME_MAX];
	tu_name(name, n);
	struct rw_res *r = rw_res_new(&env, &stats, n, type, RW_CLASS_IN);
	ck_assert_ptr_nonnull(r);
	struct rw_res_query q;
	unsigned steps = 0;
	while (rw_res_next(r, &q) == RW_RES_SEND) {
		ck_assert_uint_lt(++steps, 200); /* never unbounded */
		sent++;
		sent_tcp += q.tcp;
		struct rw_msg qm;
		ck_assert_int_eq(rw_msg_parse(q.buf, q.len, &arena, &qm), 0);
		ck_assert(!(qm.flags & RW_FLAG_RD)); /* iterative */
		sent_noedns += !qm.edns.present;
		char server[64], qname[300];
		inet_ntop(AF_INET, &((struct sockaddr_in *)&q.addr)->sin_addr, server,
		          sizeof server);
		rw_name_to_text(qm.qname, qname, sizeof qname);
		snprintf(log_ + strlen(log_), sizeof log_ - strlen(log_), "%s %s %u\n", server,
		         qname, qm.qtype);
		static uint8_t pkt[4096];
		rw_builder_init(&b, pkt, sizeof pkt, 0x4242, RW_FLAG_QR);
		rw_builder_question(&b, qm.qname, qm.qtype, qm.qclass);
		clock_ms += 5;
		if (!world(server, qname, qm.qtype, q.tcp, qm.edns.present)) {
			clock_ms += q.timeout_ms;
			rw_res_timeout(r);
			continue;
		}
		size_t len = rw_builder_finish(&b);
		ck_assert(rw_res_reply(r, pkt, len));
	}
	ck_assert_int_eq(rw_res_state(r), RW_ITER_FINISHED);
	struct rw_answer *ans = rw_res_take_answer(r);
	ck_assert_ptr_nonnull(ans);
	*ok = ans->rcode != RW_RCODE_SERVFAIL;
	if (ede)
		*ede = ans->ede;
	struct rw_msg m;
	memset(&m, 0, sizeof m);
	if (*ok)
		m = client_reply(n, type, ans);
	rw_answer_unref(ans);
	rw_res_free(r);
	return m;
}

static struct rw_msg resolve(const char *name, uint16_t type)
{
	bool ok;
	struct rw_msg m = resolve_ex(name, type, &ok, NULL);
	ck_assert_msg(ok, "SERVFAIL for %s; log:\n%s", name, log_);
	return m;
}

static bool cached_a(const char *name, const char *addr)
{
	uint8_t n[RW_NAME_MAX], want[4];
	tu_name(name, n);
	inet_pton(AF_INET, addr, want);
	struct rw_cache_entry e;
	if (rw_cache_get(cache, n, RW_TYPE_A, RW_CLASS_IN, &arena, &e, &cstats) != 0 ||
	    e.kind != RW_CACHE_POSITIVE)
		return false;
	for (uint16_t i = 0; i < e.set.count; i++)
		if (memcmp(e.set.rdata[i], want, 4) == 0)
			return true;
	return false;
}

START_TEST(prime_referral_answer_then_cache)
{
	struct rw_msg m = resolve("www.tld.", RW_TYPE_A);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	/* priming first (RFC 8109), then root -> tld */
	ck_assert_msg(strncmp(log_, "127.53.0.1 . 2\n", 15) == 0, "%s", log_);
	ck_assert_uint_eq(sent, 3);
	ck_assert(cached_a("www.tld.", "192.0.2.1"));
	/* the delegation is cached: the next name in tld. goes straight there */
	sent = 0;
	log_[0] = 0;
	m = resolve("alias.tld.", RW_TYPE_A);
	ck_assert_uint_eq(sent, 1);
	ck_assert_msg(strncmp(log_, "127.53.0.2 ", 11) == 0, "%s", log_);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 3); /* CNAME + 2 A, one response */
	ck_assert_uint_eq(m.rr[0][0].type, RW_TYPE_CNAME);
}
END_TEST

START_TEST(negative_answers)
{
	struct rw_msg m = resolve("nx.tld.", RW_TYPE_A);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][0].type, RW_TYPE_SOA);
	m = resolve("www.tld.", RW_TYPE_AAAA);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	/* both cached (RFC 2308) */
	uint8_t n[RW_NAME_MAX];
	struct rw_cache_entry e;
	tu_name("nx.tld.", n);
	ck_assert_int_eq(rw_cache_get(cache, n, RW_TYPE_MX, 1, &arena, &e, &cstats), 0);
	ck_assert_int_eq(e.kind, RW_CACHE_NXDOMAIN);
	/* a CNAME into a name that does not exist: chain plus NXDOMAIN */
	m = resolve("tonx.tld.", RW_TYPE_A);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	/* the root says a TLD does not exist */
	m = resolve("www.nosuchtld.", RW_TYPE_A);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
}
END_TEST

START_TEST(cnames_across_zones_and_glueless)
{
	/* ext.tld -> www.glueless., whose NS ns.tld. has no glue in the
	 * referral: looked up as a sub-request */
	struct rw_msg m = resolve("ext.tld.", RW_TYPE_A);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.rr[0][0].type, RW_TYPE_CNAME);
	ck_assert_uint_eq(m.rr[0][1].type, RW_TYPE_A);
	ck_assert_uint_ge(stats.glueless, 1);
	ck_assert(cached_a("www.glueless.", "192.0.2.5"));
}
END_TEST

START_TEST(loops_and_limits)
{
	bool ok;
	struct rw_ede ede;
	resolve_ex("loop1.tld.", RW_TYPE_A, &ok, &ede);
	ck_assert(!ok);
	ck_assert_str_eq(ede.text, "CNAME loop");
	/* c1 -> c2 -> ... longer than the limit */
	resolve_ex("c1.tld.", RW_TYPE_A, &ok, &ede);
	ck_assert(!ok);
	ck_assert_str_eq(ede.text, "CNAME chain too long");
	ck_assert_uint_ge(stats.limit_hits, 2);
	/* upstream query limit */
	env.lim.queries_max = 2;
	rw_cache_flush(cache);
	resolve_ex("www.tld.", RW_TYPE_A, &ok, &ede);
	ck_assert(!ok);
	ck_assert_str_eq(ede.text, "upstream query limit reached");
	env.lim.queries_max = 64;
	/* referral limit */
	env.lim.referrals_max = 0;
	rw_cache_flush(cache);
	resolve_ex("www.tld.", RW_TYPE_A, &ok, &ede);
	ck_assert(!ok);
	ck_assert_str_eq(ede.text, "referral limit reached");
	env.lim.referrals_max = 30;
	/* glueless lookups per delegation */
	env.lim.glueless_max = 0;
	rw_cache_flush(cache);
	resolve_ex("www.glueless.", RW_TYPE_A, &ok, &ede);
	ck_assert(!ok);
	ck_assert_str_eq(ede.text, "glueless NS lookup limit reached");
}
END_TEST

START_TEST(dead_and_half_dead)
{
	bool ok;
	struct rw_ede ede;
	uint64_t t0 = clock_ms;
	resolve_ex("www.dead.", RW_TYPE_A, &ok, &ede);
	ck_assert(!ok);
	ck_assert_uint_eq(ede.code, 22);
	ck_assert_uint_le(clock_ms - t0, env.lim.timeout_ms);
	ck_assert_uint_ge(stats.timeouts, 2); /* each try timed out */
	/* one dead and one live server: answered */
	struct rw_msg m = resolve("www.half.", RW_TYPE_A);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	/* the dead one is now known slow: the next query goes to the live one */
	rw_cache_flush(cache);
	log_[0] = 0;
	resolve("www.half.", RW_TYPE_A);
	ck_assert_ptr_null(strstr(log_, "127.53.0.9 www.half."));
	/* the overall deadline */
	env.lim.timeout_ms = 300;
	rw_cache_flush(cache);
	resolve_ex("www.dead.", RW_TYPE_A, &ok, &ede);
	ck_assert(!ok);
}
END_TEST

START_TEST(lame_servers_and_refusals)
{
	bool ok;
	resolve_ex("sideways.tld.", RW_TYPE_A, &ok, NULL);
	ck_assert(!ok);
	ck_assert_uint_ge(stats.lame, 1);
	resolve_ex("upward.tld.", RW_TYPE_A, &ok, NULL);
	ck_assert(!ok);
	resolve_ex("refused.tld.", RW_TYPE_A, &ok, NULL);
	ck_assert(!ok);
}
END_TEST

START_TEST(edns_and_tcp_fallback)
{
	struct rw_msg m = resolve("www.oldedns.", RW_TYPE_A);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert(edns_hater_seen_opt);
	ck_assert_uint_eq(stats.edns_fallbacks, 1);
	ck_assert_uint_ge(sent_noedns, 1);
	m = resolve("www.big.", RW_TYPE_A);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(sent_tcp, 1);
	ck_assert_uint_eq(stats.tcp_retries, 1);
}
END_TEST

START_TEST(scrubbing)
{
	resolve("www.tld.", RW_TYPE_A); /* the honest data first */
	struct rw_msg m = resolve("www.evil.", RW_TYPE_A);
	ck_assert(poisoner_used);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1); /* only the in-bailiwick record */
	ck_assert(cached_a("www.evil.", "192.0.2.66"));
	ck_assert(!cached_a("www.tld.", "6.6.6.6"));
	ck_assert(cached_a("www.tld.", "192.0.2.1"));
	ck_assert(!cached_a("ns.tld.", "6.6.6.7"));
	/* and with nothing cached before, the poison still is not taken */
	rw_cache_flush(cache);
	resolve("www.evil.", RW_TYPE_A);
	ck_assert(!cached_a("www.tld.", "6.6.6.6"));
	uint8_t n[RW_NAME_MAX];
	struct rw_cache_entry e;
	tu_name("tld.", n);
	ck_assert_int_ne(rw_cache_get(cache, n, RW_TYPE_NS, 1, &arena, &e, &cstats), 0);
}
END_TEST

START_TEST(loopback_addresses_need_permission)
{
	/* Glue in 127/8 is not used without --query-loopback; the configured
	 * hints are. */
	env.query_loopback = false;
	bool ok;
	struct rw_ede ede;
	resolve_ex("www.tld.", RW_TYPE_A, &ok, &ede);
	ck_assert(!ok);
	ck_assert_ptr_null(strstr(log_, "127.53.0.2"));
	ck_assert_ptr_nonnull(strstr(log_, "127.53.0.1"));
}
END_TEST

START_TEST(ipv6_servers_switchable)
{
	/* a root with only an IPv6 address: used when IPv6 is on, never
	 * when it is off */
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&hints.ns[0].addr[0];
	memset(s6, 0, sizeof *s6);
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(53);
	inet_pton(AF_INET6, "2001:db8::53", &s6->sin6_addr);
	uint8_t n[RW_NAME_MAX];
	tu_name("www.tld.", n);
	struct rw_res_query q;
	env.ipv6 = true;
	struct rw_res *r = rw_res_new(&env, &stats, n, RW_TYPE_A, RW_CLASS_IN);
	ck_assert_int_eq(rw_res_next(r, &q), RW_RES_SEND);
	ck_assert_int_eq(q.addr.ss_family, AF_INET6);
	rw_res_free(r);
	env.ipv6 = false;
	r = rw_res_new(&env, &stats, n, RW_TYPE_A, RW_CLASS_IN);
	ck_assert_int_eq(rw_res_next(r, &q), RW_RES_DONE);
	struct rw_answer *a = rw_res_take_answer(r);
	ck_assert_uint_eq(a->rcode, RW_RCODE_SERVFAIL);
	ck_assert_uint_eq(a->ede.code, 22);
	rw_answer_unref(a);
	rw_res_free(r);
}
END_TEST

START_TEST(hints_file)
{
	char path[] = "/tmp/rwhintsXXXXXX";
	int fd = mkstemp(path);
	const char *text = "; root hints\n"
	                   ".                        3600000      NS    A.ROOT.TEST.\n"
	                   "A.ROOT.TEST.             3600000      A     127.53.0.1\n"
	                   "A.ROOT.TEST.             3600000      AAAA  ::1\n"
	                   ".                        3600000      NS    B.ROOT.TEST.\n"
	                   "B.ROOT.TEST.             3600000 IN   A     127.53.0.2\n";
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	struct rw_hints h;
	char err[256];
	ck_assert_msg(rw_hints_load(path, &h, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(h.nns, 2);
	ck_assert_uint_eq(h.ns[0].naddr, 2);
	ck_assert_uint_eq(h.ns[1].naddr, 1);
	unlink(path);
	memcpy(path + strlen(path) - 6, "XXXXXX", 6);
	fd = mkstemp(path);
	const char *bad = ".  3600 NS a.root.test.\na.root.test. 3600 A 300.1.1.1\n";
	ck_assert_int_eq(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
	close(fd);
	ck_assert_int_eq(rw_hints_load(path, &h, err, sizeof err), RW_EINVAL);
	ck_assert_msg(strstr(err, ":2: bad A address") != NULL, "%s", err);
	unlink(path);
	ck_assert_int_eq(rw_hints_load("/nonexistent/hints", &h, err, sizeof err), RW_EINVAL);
	rw_hints_builtin(&h);
	ck_assert_uint_eq(h.nns, 13);
	ck_assert_uint_eq(h.ns[0].naddr, 2);
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.9.9.9", &s4.sin_addr);
	ck_assert(rw_addr_is_loopback_or_any((struct sockaddr *)&s4));
	inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr);
	ck_assert(!rw_addr_is_loopback_or_any((struct sockaddr *)&s4));
}
END_TEST

START_TEST(infra_records)
{
	struct sockaddr_in s4 = {.sin_family = AF_INET, .sin_port = htons(53)};
	inet_pton(AF_INET, "192.0.2.1", &s4.sin_addr);
	const struct sockaddr *sa = (const struct sockaddr *)&s4;
	struct rw_infra_info i;
	rw_infra_get(infra, sa, 1000, &i);
	ck_assert(!i.known);
	ck_assert_uint_eq(i.rto_ms, RW_INFRA_RTO_INITIAL_MS);
	rw_infra_rtt(infra, sa, 100, 1000);
	rw_infra_get(infra, sa, 1000, &i);
	ck_assert_uint_eq(i.srtt_ms, 100);
	ck_assert_uint_eq(i.rto_ms, 300); /* srtt + 4 * rttvar(50) */
	for (int k = 0; k < 3; k++)
		rw_infra_timeout(infra, sa, 2000);
	rw_infra_get(infra, sa, 2000, &i);
	ck_assert_uint_eq(i.timeouts, 3);
	ck_assert_uint_eq(i.backoff_until_ms, 3000);
	ck_assert_uint_eq(i.rto_ms, 2400);
	rw_infra_rtt(infra, sa, 20, 2500); /* an answer clears the back-off */
	rw_infra_get(infra, sa, 2500, &i);
	ck_assert_uint_eq(i.timeouts, 0);
	ck_assert_uint_eq(i.backoff_until_ms, 0);
	rw_infra_get(infra, sa, 2500 + RW_INFRA_TTL_MS + 1, &i); /* expired */
	ck_assert(!i.known);
	ck_assert_uint_eq(rw_infra_count(infra), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("resolve");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, prime_referral_answer_then_cache);
	tcase_add_test(tc, negative_answers);
	tcase_add_test(tc, cnames_across_zones_and_glueless);
	tcase_add_test(tc, loops_and_limits);
	tcase_add_test(tc, dead_and_half_dead);
	tcase_add_test(tc, lame_servers_and_refusals);
	tcase_add_test(tc, edns_and_tcp_fallback);
	tcase_add_test(tc, scrubbing);
	tcase_add_test(tc, loopback_addresses_need_permission);
	tcase_add_test(tc, hints_file);
	tcase_add_test(tc, ipv6_servers_switchable);
	tcase_add_test(tc, infra_records);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
