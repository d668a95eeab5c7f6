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
#include <stddef.h>
#include <stdio.h>
#include <strings.h>
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

/* --- the scripted world: tests/unit/iter.scenario ------------------------- */

#define SCN_MAX 256 /* query blocks in the whole world */
#define SCN_RRS 8   /* records per reply */

struct scn_rr {
	enum rw_section sec;
	char owner[RW_NAME_TEXT_MAX];
	uint16_t type;
	char data[RW_NAME_TEXT_MAX];
	uint32_t ttl;    /* 300 unless ttl=N */
	unsigned repeat; /* A records: this many, 10.x.y.z, instead of data */
};

/* One `query` block of one server. */
struct scn_query {
	char server[64];
	char name[RW_NAME_TEXT_MAX]; /* "x.", "~zone.", "*" */
	int type;                    /* -1: any */
	int edns, tcp;               /* -1: either; else must equal */
	uint16_t flags;              /* AA, TC and the rcode */
	struct scn_rr rr[SCN_RRS];
	unsigned nrr;
};

static struct scn_query world_q[SCN_MAX];
static unsigned world_n;

static bool under(const char *name, const char *zone)
{
	size_t n = strlen(name), z = strlen(zone);
	return strcmp(zone, ".") == 0 || (n >= z && strcasecmp(name + n - z, zone) == 0 &&
	                                  (n == z || name[n - z - 1] == '.'));
}

static uint16_t type_of(const char *text, unsigned line)
{
	uint16_t t;
	ck_assert_msg(rw_type_from_text(text, strlen(text), &t) == 0, "iter.scenario:%u: type '%s'",
	              line, text);
	return t;
}

static uint16_t rcode_of(const char *text, unsigned line)
{
	static const char *const names[] = {"NOERROR",  "FORMERR", "SERVFAIL",
	                                    "NXDOMAIN", "NOTIMP",  "REFUSED"};
	for (uint16_t i = 0; i < 6; i++)
		if (strcmp(text, names[i]) == 0)
			return i;
	ck_abort_msg("iter.scenario:%u: rcode '%s'", line, text);
	return 0;
}

/* Splits a line into at most max words (a '#' starts a comment). */
static int words(char *line, char **w, int max)
{
	char *hash = strchr(line, '#');
	if (hash != NULL)
		*hash = 0;
	int n = 0;
	for (char *tok = strtok(line, " \t\n"); tok != NULL && n < max; tok = strtok(NULL, " \t\n"))
		w[n++] = tok;
	return n;
}

static const char *scenario_path(void)
{
	return RW_SOURCE_DIR "/tests/unit/iter.scenario";
}

/* Reads the servers part of the scenario into world_q. */
static void load_world(void)
{
	if (world_n > 0)
		return;
	FILE *f = fopen(scenario_path(), "r");
	ck_assert_ptr_nonnull(f);
	char line[512], server[64] = "";
	unsigned no = 0;
	struct scn_query *q = NULL;
	while (fgets(line, sizeof line, f) != NULL) {
		no++;
		char *w[16];
		int n = words(line, w, 16);
		if (n == 0)
			continue;
		if (strcmp(w[0], "case") == 0 || strcmp(w[0], "then") == 0)
			break; /* the cases follow the world */
		if (strcmp(w[0], "server") == 0 && n == 2) {
			snprintf(server, sizeof server, "%s", w[1]);
			q = NULL;
		} else if (strcmp(w[0], "query") == 0 && n >= 3) {
			ck_assert_uint_lt(world_n, SCN_MAX);
			q = &world_q[world_n++];
			*q = (struct scn_query){.type = -1, .edns = -1, .tcp = -1};
			snprintf(q->server, sizeof q->server, "%s", server);
			snprintf(q->name, sizeof q->name, "%s", w[1]);
			if (strcmp(w[2], "*") != 0)
				q->type = type_of(w[2], no);
			for (int i = 3; i < n; i++) {
				if (strcmp(w[i], "edns") == 0 || strcmp(w[i], "noedns") == 0)
					q->edns = w[i][0] == 'e';
				else if (strcmp(w[i], "tcp") == 0 || strcmp(w[i], "udp") == 0)
					q->tcp = w[i][0] == 't';
				else
					ck_abort_msg("iter.scenario:%u: condition '%s'", no, w[i]);
			}
		} else if (strcmp(w[0], "chain") == 0 && n == 4) {
			/* chain PREFIX ZONE N: PREFIXk.ZONE CNAME PREFIX(k+1).ZONE */
			for (int k = 1; k <= atoi(w[3]); k++) {
				ck_assert_uint_lt(world_n, SCN_MAX);
				q = &world_q[world_n++];
				*q = (struct scn_query){.type = -1,
				                        .edns = -1,
				                        .tcp = -1,
				                        .flags = RW_FLAG_AA,
				                        .nrr = 1};
				snprintf(q->server, sizeof q->server, "%s", server);
				snprintf(q->name, sizeof q->name, "%s%d.%s", w[1], k, w[2]);
				q->rr[0].sec = RW_SEC_AN;
				q->rr[0].type = RW_TYPE_CNAME;
				q->rr[0].ttl = 300;
				memcpy(q->rr[0].owner, q->name, sizeof q->name);
				snprintf(q->rr[0].data, sizeof q->rr[0].data, "%s%d.%s", w[1],
				         k + 1, w[2]);
			}
			q = NULL;
		} else if (q != NULL && strcmp(w[0], "flags") == 0) {
			for (int i = 1; i < n; i++)
				q->flags |= strcmp(w[i], "AA") == 0 ? RW_FLAG_AA
				            : strcmp(w[i], "TC") == 0
				                ? RW_FLAG_TC
				                : (ck_abort_msg("iter.scenario:%u: flag", no), 0);
		} else if (q != NULL && strcmp(w[0], "rcode") == 0 && n == 2) {
			q->flags |= rcode_of(w[1], no);
		} else if (q != NULL && n >= 3 &&
		           (strcmp(w[0], "an") == 0 || strcmp(w[0], "ns") == 0 ||
		            strcmp(w[0], "ar") == 0)) {
			ck_assert_uint_lt(q->nrr, SCN_RRS);
			struct scn_rr *r = &q->rr[q->nrr++];
			r->sec =
			    w[0][0] == 'a' ? (w[0][1] == 'n' ? RW_SEC_AN : RW_SEC_AR) : RW_SEC_NS;
			snprintf(r->owner, sizeof r->owner, "%s", w[1]);
			r->type = type_of(w[2], no);
			r->ttl = 300;
			r->repeat = 0;
			r->data[0] = 0;
			for (int i = 3; i < n; i++) {
				if (strncmp(w[i], "ttl=", 4) == 0)
					r->ttl = (uint32_t)strtoul(w[i] + 4, NULL, 10);
				else if (strncmp(w[i], "x", 1) == 0 && r->type == RW_TYPE_A)
					r->repeat = (unsigned)atoi(w[i] + 1); /* x1500 */
				else
					snprintf(r->data, sizeof r->data, "%s", w[i]);
			}
		} else {
			ck_abort_msg("iter.scenario:%u: cannot read '%s'", no, w[0]);
		}
	}
	fclose(f);
	ck_assert_uint_gt(world_n, 0);
}

static struct rw_builder b;

static void add(const struct scn_rr *r)
{
	uint8_t o[RW_NAME_MAX], rd[RW_NAME_MAX * 3];
	size_t len;
	tu_name(r->owner, o);
	for (unsigned k = 0; k < r->repeat; k++) { /* 10.0.0.0, 10.0.0.1, ... */
		uint8_t a[4] = {10, (uint8_t)(k >> 16), (uint8_t)(k >> 8), (uint8_t)k};
		ck_assert_int_eq(rw_builder_rr(&b, r->sec, o, RW_TYPE_A, RW_CLASS_IN, r->ttl, a, 4),
		                 0);
	}
	if (r->repeat > 0)
		return;
	if (r->type == RW_TYPE_A) {
		ck_assert_int_eq(inet_pton(AF_INET, r->data, rd), 1);
		len = 4;
	} else if (r->type == RW_TYPE_AAAA) {
		ck_assert_int_eq(inet_pton(AF_INET6, r->data, rd), 1);
		len = 16;
	} else if (r->type == RW_TYPE_SOA) {
		size_t a = tu_name("ns.invalid.", rd);
		size_t c = tu_name("hm.invalid.", rd + a);
		memset(rd + a + c, 0, 20);
		rw_put32(rd + a + c + 16, 60);
		len = a + c + 20;
	} else {
		len = tu_name(r->data, rd);
	}
	ck_assert_int_eq(rw_builder_rr(&b, r->sec, o, r->type, RW_CLASS_IN, r->ttl, rd, len), 0);
}

/* Fills b with the server's answer to (name, type); false: no reply. */
static bool world(const char *server, const char *name, uint16_t type, bool tcp, bool edns)
{
	for (unsigned i = 0; i < world_n; i++) {
		const struct scn_query *q = &world_q[i];
		if (strcmp(q->server, server) != 0 || (q->type >= 0 && q->type != type) ||
		    (q->edns >= 0 && q->edns != edns) || (q->tcp >= 0 && q->tcp != tcp))
			continue;
		if (q->name[0] == '~' ? !under(name, q->name + 1)
		                      : strcmp(q->name, "*") != 0 && strcasecmp(q->name, name) != 0)
			continue;
		rw_builder_set_flags(&b, (uint16_t)(RW_FLAG_QR | q->flags));
		for (unsigned k = 0; k < q->nrr; k++)
			add(&q->rr[k]);
		return true;
	}
	return false; /* silence */
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
	enum rw_res_step st;
	while ((st = rw_res_next(r, &q)) != RW_RES_DONE) {
		ck_assert_uint_lt(++steps, 200); /* never unbounded */
		if (st == RW_RES_WAIT) {         /* no late answers in this world */
			ck_assert_uint_gt(q.timeout_ms, 0);
			clock_ms += q.timeout_ms;
			rw_res_timeout(r);
			continue;
		}
		sent++;
		sent_tcp += q.tcp;
		struct rw_msg qm;
		ck_assert_int_eq(rw_msg_parse(q.buf, q.len, &arena, &qm), 0);
		ck_assert(!(qm.flags & RW_FLAG_RD)); /* iterative */
		ck_assert_msg(!qm.edns.present || qm.edns.do_bit, "an EDNS query without DO");
		sent_noedns += !qm.edns.present;
		char server[64], qname[300];
		if (q.addr.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&q.addr)->sin6_addr, server,
			          sizeof server);
		else
			inet_ntop(AF_INET, &((struct sockaddr_in *)&q.addr)->sin_addr, server,
			          sizeof server);
		rw_name_to_text(qm.qname, qname, sizeof qname);
		snprintf(log_ + strlen(log_), sizeof log_ - strlen(log_), "%s %s %u\n", server,
		         qname, qm.qtype);
		static uint8_t pkt[65535];
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

/* --- the cases of tests/unit/iter.scenario --------------------------------- */

static void set_limit(const char *key, const char *value, unsigned line)
{
	unsigned v = (unsigned)atoi(value);
	if (strcmp(key, "cname_max") == 0)
		env.lim.cname_max = v;
	else if (strcmp(key, "referrals_max") == 0)
		env.lim.referrals_max = v;
	else if (strcmp(key, "queries_max") == 0)
		env.lim.queries_max = v;
	else if (strcmp(key, "bytes_max") == 0)
		env.lim.bytes_max = v;
	else if (strcmp(key, "glueless_max") == 0)
		env.lim.glueless_max = v;
	else if (strcmp(key, "timeout_ms") == 0)
		env.lim.timeout_ms = v;
	else if (strcmp(key, "query_loopback") == 0)
		env.query_loopback = v != 0;
	else if (strcmp(key, "ipv6") == 0)
		env.ipv6 = v != 0;
	else if (strcmp(key, "qmin") == 0)
		env.qmin = v != 0;
	else if (strcmp(key, "hints") == 0) /* the one root server's address */
		ck_assert_int_eq(inet_pton(AF_INET, value,
		                           &((struct sockaddr_in *)&hints.ns[0].addr[0])->sin_addr),
		                 1);
	else
		ck_abort_msg("iter.scenario:%u: no limit '%s'", line, key);
}

static uint64_t stat_of(const char *name, unsigned line)
{
	static const struct {
		const char *name;
		size_t off;
	} s[] = {
	    {"glueless", offsetof(struct rw_res_stats, glueless)},
	    {"timeouts", offsetof(struct rw_res_stats, timeouts)},
	    {"lame", offsetof(struct rw_res_stats, lame)},
	    {"edns_fallbacks", offsetof(struct rw_res_stats, edns_fallbacks)},
	    {"tcp_retries", offsetof(struct rw_res_stats, tcp_retries)},
	    {"limit_hits", offsetof(struct rw_res_stats, limit_hits)},
	    {"referrals", offsetof(struct rw_res_stats, referrals)},
	};
	for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
		if (strcmp(name, s[i].name) == 0)
			return *(const uint64_t *)((const char *)&stats + s[i].off);
	ck_abort_msg("iter.scenario:%u: no counter '%s'", line, name);
	return 0;
}

/* What one resolution ended with. */
struct outcome {
	bool ok;
	struct rw_ede ede;
	struct rw_msg m;
	uint64_t elapsed_ms;
};

/* Checks one expectation line (w[0..n)) against the outcome. */
static void expect_line(char **w, int n, const struct outcome *o, unsigned line)
{
	const char *k = w[0];
	char want[512];
#define WANT(cond, fmt, ...) ck_assert_msg(cond, "iter.scenario:%u: " fmt, line, ##__VA_ARGS__)
	if (strcmp(k, "rcode") == 0) {
		WANT(o->ok, "SERVFAIL (%s); log:\n%s", o->ede.text ? o->ede.text : "", log_);
		WANT(RW_RCODE(o->m.flags) == rcode_of(w[1], line), "rcode %u, want %s",
		     RW_RCODE(o->m.flags), w[1]);
	} else if (strcmp(k, "servfail") == 0) {
		WANT(!o->ok, "not SERVFAIL; log:\n%s", log_);
		want[0] = 0;
		for (int i = 1; i < n; i++)
			snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s",
			         i > 1 ? " " : "", w[i]);
		WANT(n == 1 || (o->ede.text && strcmp(o->ede.text, want) == 0),
		     "EDE '%s', want '%s'", o->ede.text ? o->ede.text : "(none)", want);
	} else if (strcmp(k, "ede") == 0) {
		WANT(o->ede.code == atoi(w[1]), "EDE code %u", o->ede.code);
	} else if (strcmp(k, "an") == 0 || strcmp(k, "ns") == 0) {
		unsigned sec = k[0] == 'a' ? RW_SEC_AN : RW_SEC_NS;
		WANT(o->ok, "SERVFAIL (%s)", o->ede.text ? o->ede.text : "");
		WANT(o->m.nrr[sec] == (unsigned)atoi(w[1]), "%s has %u records", k, o->m.nrr[sec]);
	} else if (strcmp(k, "types") == 0) {
		WANT(o->m.nrr[RW_SEC_AN] == (unsigned)(n - 1), "%u answer records",
		     o->m.nrr[RW_SEC_AN]);
		for (int i = 1; i < n; i++)
			WANT(o->m.rr[RW_SEC_AN][i - 1].type == type_of(w[i], line), "record %d", i);
	} else if (strcmp(k, "ttl") == 0) {
		WANT(o->ok && o->m.nrr[RW_SEC_AN] > 0, "no answer");
		WANT(o->m.rr[RW_SEC_AN][0].ttl == (uint32_t)atoi(w[1]), "TTL %u",
		     o->m.rr[RW_SEC_AN][0].ttl);
	} else if (strcmp(k, "queries") == 0) {
		WANT(sent == (unsigned)atoi(w[1]), "%u queries sent; log:\n%s", sent, log_);
	} else if (strcmp(k, "queries<=") == 0) {
		WANT(sent <= (unsigned)atoi(w[1]), "%u queries sent", sent);
	} else if (strcmp(k, "tcp") == 0) {
		WANT(sent_tcp == (unsigned)atoi(w[1]), "%u over TCP", sent_tcp);
	} else if (strcmp(k, "noedns>=") == 0) {
		WANT(sent_noedns >= (unsigned)atoi(w[1]), "%u without EDNS", sent_noedns);
	} else if (strcmp(k, "elapsed<=") == 0) {
		WANT(o->elapsed_ms <= (uint64_t)atoi(w[1]), "took %llu ms",
		     (unsigned long long)o->elapsed_ms);
	} else if (strcmp(k, "asked") == 0 || strcmp(k, "not-asked") == 0 ||
	           strcmp(k, "first") == 0) {
		snprintf(want, sizeof want, "%s %s", w[1], n > 2 ? w[2] : "");
		if (n > 3)
			snprintf(want + strlen(want), sizeof want - strlen(want), " %u",
			         type_of(w[3], line));
		const char *hit = strstr(log_, want);
		if (k[0] == 'a')
			WANT(hit != NULL, "'%s' not asked; log:\n%s", want, log_);
		else if (k[0] == 'n')
			WANT(hit == NULL, "'%s' asked; log:\n%s", want, log_);
		else
			WANT(hit == log_, "first query not '%s'; log:\n%s", want, log_);
	} else if (strcmp(k, "cached") == 0 || strcmp(k, "not-cached") == 0) {
		WANT(cached_a(w[1], w[3]) == (k[0] == 'c'), "%s %s %s", k, w[1], w[3]);
	} else if (strcmp(k, "negative") == 0) {
		uint8_t nm[RW_NAME_MAX];
		tu_name(w[1], nm);
		struct rw_cache_entry e;
		WANT(rw_cache_get(cache, nm, type_of(w[2], line), RW_CLASS_IN, &arena, &e,
		                  &cstats) == 0,
		     "%s %s not cached", w[1], w[2]);
		WANT(e.kind ==
		         (strcmp(w[3], "NXDOMAIN") == 0 ? RW_CACHE_NXDOMAIN : RW_CACHE_NODATA),
		     "cached as kind %d", e.kind);
	} else if (strcmp(k, "no-ns") == 0) {
		uint8_t nm[RW_NAME_MAX];
		tu_name(w[1], nm);
		struct rw_cache_entry e;
		WANT(rw_cache_get(cache, nm, RW_TYPE_NS, RW_CLASS_IN, &arena, &e, &cstats) != 0,
		     "NS of %s cached", w[1]);
	} else if (strcmp(k, "stat") == 0) {
		char name[64];
		snprintf(name, sizeof name, "%s", w[1]);
		char *ge = strstr(name, ">="), *le = strstr(name, "<=");
		WANT(ge != NULL || le != NULL, "stat NAME>= N or NAME<= N");
		*(ge != NULL ? ge : le) = 0;
		uint64_t v = stat_of(name, line), bound = (uint64_t)atoi(w[2]);
		WANT(ge != NULL ? v >= bound : v <= bound, "%s is %llu", name,
		     (unsigned long long)v);
	} else {
		ck_abort_msg("iter.scenario:%u: unknown expectation '%s'", line, k);
	}
#undef WANT
}

/* Resets everything a `case` starts afresh with. */
static void fresh(void)
{
	teardown();
	setup();
}

START_TEST(scenario_cases)
{
	load_world();
	FILE *f = fopen(scenario_path(), "r");
	ck_assert_ptr_nonnull(f);
	char line[512];
	unsigned no = 0, ncases = 0;
	bool in_cases = false, have_q = false, resolved = false;
	char qname[RW_NAME_TEXT_MAX] = "";
	uint16_t qtype = 0;
	struct outcome o;
	memset(&o, 0, sizeof o);
	/* Bound: the file's lines. */
	for (;;) {
		bool eof = fgets(line, sizeof line, f) == NULL;
		no++;
		char *w[16];
		int n = eof ? 0 : words(line, w, 16);
		bool starts = n > 0 && (strcmp(w[0], "case") == 0 || strcmp(w[0], "then") == 0);
		if (eof || starts) {
			if (have_q && !resolved) /* a case without expectations */
				ck_abort_msg("iter.scenario: case %s expects nothing", qname);
			if (eof)
				break;
			in_cases = true;
			ck_assert_msg(n == 3, "iter.scenario:%u: case NAME TYPE", no);
			if (w[0][0] == 'c') {
				fresh();
			} else {
				sent = sent_tcp = sent_noedns = 0;
				log_[0] = 0;
			}
			snprintf(qname, sizeof qname, "%s", w[1]);
			qtype = type_of(w[2], no);
			have_q = true;
			resolved = false;
			ncases++;
			continue;
		}
		if (!in_cases || n == 0)
			continue;
		if (strcmp(w[0], "set") == 0) {
			ck_assert_msg(!resolved && n == 3,
			              "iter.scenario:%u: set before expectations", no);
			set_limit(w[1], w[2], no);
			continue;
		}
		if (!resolved) {
			uint64_t t0 = clock_ms;
			o.m = resolve_ex(qname, qtype, &o.ok, &o.ede);
			o.elapsed_ms = clock_ms - t0;
			resolved = true;
		}
		expect_line(w, n, &o, no);
	}
	fclose(f);
	ck_assert_uint_ge(ncases, 20);
}
END_TEST

/* A server that answers only after its try timed out (2.5 s): the late
 * reply on the earlier try is taken, and the server's RTT is learned, so
 * it stays usable instead of being backed off. */
START_TEST(slow_server_late_reply)
{
	load_world();
	uint8_t n[RW_NAME_MAX];
	tu_name("www.slow.", n);
	struct rw_res *r = rw_res_new(&env, &stats, n, RW_TYPE_A, RW_CLASS_IN);
	struct rw_res_query q, first;
	unsigned steps = 0;
	bool timed_out = false;
	static uint8_t pkt[4096];
	enum rw_res_step st;
	while ((st = rw_res_next(r, &q)) != RW_RES_DONE) {
		ck_assert_uint_lt(++steps, 20);
		ck_assert_int_eq(st, RW_RES_SEND);
		char server[64], qname[300];
		inet_ntop(AF_INET, &((struct sockaddr_in *)&q.addr)->sin_addr, server,
		          sizeof server);
		struct rw_msg qm;
		ck_assert_int_eq(rw_msg_parse(q.buf, q.len, &arena, &qm), 0);
		rw_name_to_text(qm.qname, qname, sizeof qname);
		rw_builder_init(&b, pkt, sizeof pkt, 0, RW_FLAG_QR);
		rw_builder_question(&b, qm.qname, qm.qtype, qm.qclass);
		if (strcmp(server, "127.53.0.8") == 0 && !timed_out) {
			/* the first try to the slow server: no answer in time */
			first = q;
			timed_out = true;
			clock_ms += q.timeout_ms;
			rw_res_timeout(r);
			continue;
		}
		ck_assert(world(server, qname, qm.qtype, q.tcp, qm.edns.present));
		size_t len = rw_builder_finish(&b);
		if (strcmp(server, "127.53.0.8") == 0) {
			/* the second try is out; the first one's answer arrives */
			clock_ms += 2500 - first.timeout_ms;
			ck_assert(!rw_res_reply_from(r, (struct sockaddr *)&hints.ns[0].addr[0], 5,
			                             pkt, len)); /* not that try's server */
			ck_assert(
			    rw_res_reply_from(r, (struct sockaddr *)&first.addr, 2500, pkt, len));
			continue;
		}
		ck_assert(rw_res_reply(r, pkt, len));
	}
	ck_assert(timed_out);
	struct rw_answer *a = rw_res_take_answer(r);
	ck_assert_uint_eq(a->rcode, RW_RCODE_NOERROR);
	ck_assert_uint_eq(a->nrr[RW_SEC_AN], 1);
	rw_answer_unref(a);
	rw_res_free(r);
	struct rw_infra_info i;
	rw_infra_get(infra, (struct sockaddr *)&first.addr, clock_ms, &i);
	ck_assert_uint_eq(i.srtt_ms, 2500);
	ck_assert_uint_eq(i.timeouts, 0);
	ck_assert_uint_eq(i.backoff_until_ms, 0);
}
END_TEST

/* What run_silent saw. */
struct silent_run {
	unsigned silent, waits;
	uint64_t first_ms;    /* the first try to the silent server */
	uint64_t wait_end_ms; /* where the last RW_RES_WAIT was to end */
};

/* Resolves NAME A in the world, except that server SILENT answers no try.
 * An RW_RES_WAIT gets the world's answer a second into the wait when late
 * is set, else runs out. Returns the answer (the caller's reference). */
static struct rw_answer *run_silent(const char *name, const char *silent, bool late,
                                    struct silent_run *o)
{
	uint8_t n[RW_NAME_MAX];
	tu_name(name, n);
	struct rw_res *r = rw_res_new(&env, &stats, n, RW_TYPE_A, RW_CLASS_IN);
	ck_assert_ptr_nonnull(r);
	memset(o, 0, sizeof *o);
	struct rw_res_query q;
	unsigned steps = 0;
	static uint8_t pkt[4096];
	enum rw_res_step st;
	while ((st = rw_res_next(r, &q)) != RW_RES_DONE) {
		ck_assert_uint_lt(++steps, 20);
		if (st == RW_RES_WAIT) {
			o->waits++;
			o->wait_end_ms = clock_ms + q.timeout_ms;
			if (!late) {
				clock_ms += q.timeout_ms;
				rw_res_timeout(r);
				continue;
			}
			clock_ms += 1000;
			rw_builder_init(&b, pkt, sizeof pkt, 0, RW_FLAG_QR);
			rw_builder_question(&b, n, RW_TYPE_A, RW_CLASS_IN);
			ck_assert(world(silent, name, RW_TYPE_A, false, true));
			ck_assert(rw_res_reply(r, pkt, rw_builder_finish(&b)));
			continue;
		}
		char server[64], qname[300];
		inet_ntop(AF_INET, &((struct sockaddr_in *)&q.addr)->sin_addr, server,
		          sizeof server);
		struct rw_msg qm;
		ck_assert_int_eq(rw_msg_parse(q.buf, q.len, &arena, &qm), 0);
		rw_name_to_text(qm.qname, qname, sizeof qname);
		if (strcmp(server, silent) == 0) {
			if (o->silent++ == 0)
				o->first_ms = clock_ms;
			clock_ms += q.timeout_ms;
			rw_res_timeout(r);
			continue;
		}
		rw_builder_init(&b, pkt, sizeof pkt, 0, RW_FLAG_QR);
		rw_builder_question(&b, qm.qname, qm.qtype, qm.qclass);
		ck_assert(world(server, qname, qm.qtype, q.tcp, qm.edns.present));
		ck_assert(rw_res_reply(r, pkt, rw_builder_finish(&b)));
	}
	struct rw_answer *a = rw_res_take_answer(r);
	ck_assert_ptr_nonnull(a);
	rw_res_free(r);
	return a;
}

/* A server known to be fast goes silent: its three tries end well before
 * the frame's patience, then the resolver waits (RW_RES_WAIT, nothing
 * sent) for a late answer until the patience ends, and takes it. */
START_TEST(wait_for_late_reply)
{
	load_world();
	struct sockaddr_in slow = {.sin_family = AF_INET, .sin_port = htons(53)};
	inet_pton(AF_INET, "127.53.0.8", &slow.sin_addr);
	rw_infra_rtt(infra, (struct sockaddr *)&slow, 10, clock_ms); /* rto 150 ms */
	struct silent_run o;
	struct rw_answer *a = run_silent("www.slow.", "127.53.0.8", true, &o);
	ck_assert_uint_eq(o.silent, 3);
	ck_assert_uint_eq(o.waits, 1);
	/* the wait ends with the patience (2.8 s after the first try) */
	ck_assert_uint_eq(o.wait_end_ms, o.first_ms + 2800);
	ck_assert_uint_eq(a->rcode, RW_RCODE_NOERROR);
	ck_assert_uint_eq(a->nrr[RW_SEC_AN], 1);
	rw_answer_unref(a);
}
END_TEST

/* A delegation whose only server never answers fails once its patience
 * is over (under 3 s), and is then held (RFC 9520): other names under it
 * fail at once. A server that answers other names is not held. */
START_TEST(dead_delegation_held_alive_not)
{
	load_world();
	env.failures = rw_failcache_new(100, 1000, 300000, test_clock, NULL);
	ck_assert_ptr_nonnull(env.failures);
	uint8_t zone[RW_NAME_MAX];
	tu_name("slow.", zone);
	for (int alive = 0; alive < 2; alive++) {
		if (alive) { /* the server answered something a moment ago */
			struct sockaddr_in slow = {.sin_family = AF_INET, .sin_port = htons(53)};
			inet_pton(AF_INET, "127.53.0.8", &slow.sin_addr);
			rw_infra_flush(infra);
			rw_failcache_flush(env.failures);
			rw_infra_rtt(infra, (struct sockaddr *)&slow, 10, clock_ms);
		}
		uint64_t t0 = clock_ms;
		struct silent_run o;
		struct rw_answer *a = run_silent("www.slow.", "127.53.0.8", false, &o);
		ck_assert_uint_eq(a->rcode, RW_RCODE_SERVFAIL);
		rw_answer_unref(a);
		ck_assert_uint_gt(o.silent, 0);
		ck_assert_uint_le(clock_ms - o.first_ms, 2800);
		ck_assert_uint_lt(clock_ms - t0, 3000);
		/* the delegation is held (core then fails names under it at
		 * once) only when its server is not alive */
		ck_assert_int_eq(rw_failcache_check(env.failures, zone, 0, 0) > 0, !alive);
	}
	rw_failcache_free(env.failures);
	env.failures = NULL;
}
END_TEST

/* The states have names, and one resolution goes through them in order. */
START_TEST(iterator_states)
{
	load_world();
	ck_assert_str_eq(rw_iter_state_name(RW_ITER_INIT), "INIT");
	ck_assert_str_eq(rw_iter_state_name(RW_ITER_QUERY_TARGETS), "QUERY_TARGETS");
	ck_assert_str_eq(rw_iter_state_name(RW_ITER_RETRY_SAME), "RETRY_SAME");
	ck_assert_str_eq(rw_iter_state_name(RW_ITER_WAIT_REPLY), "WAIT_REPLY");
	ck_assert_str_eq(rw_iter_state_name(RW_ITER_FINISHED), "FINISHED");
	ck_assert_str_eq(rw_iter_state_name((enum rw_iter_state)99), "?");
	uint8_t n[RW_NAME_MAX];
	tu_name("www.big.", n);
	struct rw_res *r = rw_res_new(&env, &stats, n, RW_TYPE_A, RW_CLASS_IN);
	ck_assert_int_eq(rw_res_state(r), RW_ITER_INIT);
	struct rw_res_query q;
	ck_assert_int_eq(rw_res_next(r, &q), RW_RES_SEND); /* priming */
	ck_assert_int_eq(rw_res_state(r), RW_ITER_WAIT_REPLY);
	/* a reply to another question is not taken: still waiting */
	uint8_t bogus[64];
	size_t bl = tu_query(bogus, 1, RW_FLAG_QR, "other.", RW_TYPE_A, RW_CLASS_IN);
	ck_assert(!rw_res_reply(r, bogus, bl));
	ck_assert_int_eq(rw_res_state(r), RW_ITER_WAIT_REPLY);
	/* a timeout sends it back to choosing a server */
	rw_res_timeout(r);
	ck_assert_int_eq(rw_res_state(r), RW_ITER_QUERY_TARGETS);
	rw_res_timeout(r); /* not waiting: ignored */
	ck_assert_int_eq(rw_res_state(r), RW_ITER_QUERY_TARGETS);
	rw_res_free(r);
	/* TC over UDP: RETRY_SAME, and the retry goes over TCP */
	rw_cache_flush(cache);
	bool ok;
	resolve_ex("www.big.", RW_TYPE_A, &ok, NULL);
	ck_assert(ok);
	ck_assert_uint_eq(sent_tcp, 1);
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

static void dump_line(void *ctx, const char *line)
{
	char *buf = ctx;
	snprintf(buf + strlen(buf), 512 - strlen(buf), "%s\n", line);
}

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
	ck_assert(rw_infra_is_alive(&i, 1000 + RW_INFRA_ALIVE_MS - 1));
	ck_assert(!rw_infra_is_alive(&i, 1000 + RW_INFRA_ALIVE_MS));
	/* one question timing out again and again: about that name only */
	for (int k = 0; k < 4; k++)
		rw_infra_timeout(infra, sa, 42, 2000);
	rw_infra_get(infra, sa, 2000, &i);
	ck_assert_uint_eq(i.timeouts, 4);
	ck_assert_uint_eq(i.strikes, 1);
	ck_assert_uint_eq(i.backoff_until_ms, 0);
	rw_infra_rtt(infra, sa, 100, 2000);
	/* three different questions in a row: the server is backed off */
	for (uint32_t k = 0; k < 3; k++)
		rw_infra_timeout(infra, sa, k, 2000);
	rw_infra_get(infra, sa, 2000, &i);
	ck_assert_uint_eq(i.timeouts, 3);
	ck_assert_uint_eq(i.strikes, 3);
	ck_assert_uint_eq(i.backoff_until_ms, 3000);
	ck_assert_uint_eq(i.rto_ms, 1984);
	rw_infra_rtt(infra, sa, 20, 2500); /* an answer clears the back-off */
	rw_infra_get(infra, sa, 2500, &i);
	ck_assert_uint_eq(i.timeouts, 0);
	ck_assert_uint_eq(i.backoff_until_ms, 0);
	/* a lame mark is for one zone and lasts minutes, not the record's life */
	rw_infra_set_lame(infra, sa, 77, 3000);
	rw_infra_get(infra, sa, 3000, &i);
	ck_assert(rw_infra_is_lame(&i, 77, 3000));
	ck_assert(!rw_infra_is_lame(&i, 78, 3000));
	ck_assert(rw_infra_is_lame(&i, 77, 3000 + RW_INFRA_LAME_MS - 1));
	ck_assert(!rw_infra_is_lame(&i, 77, 3000 + RW_INFRA_LAME_MS));
	/* control: the state is listed, and can be forgotten */
	char dump[512] = "";
	ck_assert_uint_eq(rw_infra_dump(infra, 3000, dump_line, dump), 1);
	ck_assert_msg(strstr(dump, "192.0.2.1#53 srtt=") != NULL && strstr(dump, " lame=") != NULL,
	              "%s", dump);
	/* flush-infra ADDR: one server's records, on its port or every port */
	struct rw_sockaddr other, port2, v6;
	ck_assert_int_eq(rw_addr_parse("192.0.2.2", 53, &other), 0);
	ck_assert_int_eq(rw_addr_parse("192.0.2.1:5353", 53, &port2), 0);
	ck_assert_int_eq(rw_addr_parse("[2001:db8::1]:53", 53, &v6), 0);
	rw_infra_rtt(infra, (const struct sockaddr *)&other.ss, 20, 3000);
	rw_infra_rtt(infra, (const struct sockaddr *)&port2.ss, 20, 3000);
	rw_infra_rtt(infra, (const struct sockaddr *)&v6.ss, 20, 3000);
	ck_assert_uint_eq(rw_infra_count(infra), 4);
	ck_assert_uint_eq(rw_infra_forget(infra, (const struct sockaddr *)&port2.ss, false), 1);
	ck_assert_uint_eq(rw_infra_count(infra), 3);
	rw_infra_rtt(infra, (const struct sockaddr *)&port2.ss, 20, 3000);
	struct rw_sockaddr any;
	ck_assert_int_eq(rw_addr_parse("192.0.2.1", 0, &any), 0);
	ck_assert_uint_eq(rw_infra_forget(infra, (const struct sockaddr *)&any.ss, true), 2);
	rw_infra_get(infra, (const struct sockaddr *)&other.ss, 3000, &i);
	ck_assert(i.known); /* the others stay */
	ck_assert_uint_eq(rw_infra_forget(infra, (const struct sockaddr *)&v6.ss, false), 1);
	ck_assert_uint_eq(rw_infra_count(infra), 1);
	rw_infra_rtt(infra, sa, 20, 3000);
	ck_assert_uint_eq(rw_infra_flush(infra), 2);
	ck_assert_uint_eq(rw_infra_count(infra), 0);
	rw_infra_rtt(infra, sa, 20, 2500);
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
	tcase_add_test(tc, scenario_cases);
	tcase_add_test(tc, iterator_states);
	tcase_add_test(tc, slow_server_late_reply);
	tcase_add_test(tc, wait_for_late_reply);
	tcase_add_test(tc, dead_delegation_held_alive_not);
	tcase_add_test(tc, hints_file);
	tcase_add_test(tc, ipv6_servers_switchable);
	tcase_add_test(tc, infra_records);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
