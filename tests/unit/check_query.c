/* Unit tests: rw_query_process, request bytes in, reply bytes out --
 * admission rules, EDNS, sizes and TC, and answers from local zones. */
#include "rootwalk/err.h"
#include "rootwalk/msg.h"
#include "rootwalk/forward.h"
#include "rootwalk/query.h"
#include "rootwalk/rr.h"
#include "testutil.h"

#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <time.h>

static struct rw_zoneset *zs;
static struct rw_query_env env;
static struct rw_arena arena;
static uint8_t out[65536];

static void setup(void)
{
	char text[16384];
	size_t n = (size_t)snprintf(text, sizeof text,
	                            "$TTL 300\n"
	                            "@ 3600 IN SOA ns hm 1 7200 1800 86400 120\n"
	                            "@ NS ns\n"
	                            "ns A 192.0.2.53\n"
	                            "www A 192.0.2.1\n"
	                            "www A 192.0.2.2\n"
	                            "alias CNAME www\n"
	                            "alias2 CNAME alias\n"
	                            "dangling CNAME missing\n"
	                            "out CNAME www.elsewhere.\n"
	                            "loop1 CNAME loop2\n"
	                            "loop2 CNAME loop1\n"
	                            "*.wild A 192.0.2.7\n"
	                            "mx MX 10 www\n"
	                            "a.b.ent A 192.0.2.8\n");
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(text + n, sizeof text - n,
		                      "big TXT \"record-%02d-padding-xxxxx\"\n", i);
	uint8_t o[RW_NAME_MAX];
	tu_name("example.", o);
	struct rw_zone *z;
	struct rw_zone_error err;
	ck_assert_int_eq(rw_zone_load_text("t", text, n, o, &z, &err), 0);
	zs = rw_zoneset_new();
	rw_zoneset_add(zs, z);
	rw_query_env_init(&env, zs, 1232);
	rw_arena_init(&arena, 8192, 1 << 22);
}

static void teardown(void)
{
	rw_query_env_fini(&env);
	rw_zoneset_unref(zs);
	rw_arena_fini(&arena);
}

/* Runs a request; returns the parsed reply (asserting it parses). */
static struct rw_msg run(const uint8_t *req, size_t len, enum rw_transport t, size_t *out_len)
{
	size_t ol = 0;
	ck_assert_int_eq(rw_query_process(&env, req, len, t, out, sizeof out, &ol), RW_QUERY_REPLY);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(out, ol, &arena, &m), 0);
	if (out_len)
		*out_len = ol;
	return m;
}

static struct rw_msg ask(const char *name, uint16_t qtype, bool edns, size_t *len)
{
	uint8_t req[512];
	size_t l = tu_query(req, 0xbeef, RW_FLAG_RD, name, qtype, RW_CLASS_IN);
	if (edns)
		l = tu_opt(req, l, 1232, 0, 0);
	return run(req, l, RW_TRANSPORT_UDP, len);
}

/* Identity (issue 14): NSID to a client that asks for it (RFC 5001), and
 * the CHAOS TXT names BIND, Unbound and Knot answer; hidden: REFUSED. */
START_TEST(identity_nsid_and_chaos)
{
	uint8_t req[512];
	env.nsid = "ns-a";
	env.identity = "dns-1";
	env.version = "rootwalk 0.1.0";
	/* NSID: an empty NSID option asks for it */
	size_t l = tu_query(req, 1, RW_FLAG_RD, "www.example.", RW_TYPE_A, RW_CLASS_IN);
	l = tu_opt(req, l, 1232, 0, 0);
	memcpy(req + l, "\0\3\0\0", 4); /* NSID, length 0 */
	rw_put16(req + l - 2, 4);       /* the OPT's RDLENGTH */
	l += 4;
	struct rw_msg m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.edns.opts_len, 8);
	ck_assert_mem_eq(m.edns.opts, "\0\3\0\4ns-a", 8);
	m = ask("www.example.", RW_TYPE_A, true, NULL); /* not asked: not given */
	ck_assert_uint_eq(m.edns.opts_len, 0);
	env.nsid = NULL;
	m = run(req, l, RW_TRANSPORT_UDP, NULL); /* none set: none given */
	ck_assert_uint_eq(m.edns.opts_len, 0);
	/* CHAOS */
	const struct {
		const char *name;
		uint16_t type;
		const char *want; /* NULL: REFUSED */
	} cases[] = {{"version.bind.", RW_TYPE_TXT, "rootwalk 0.1.0"},
	             {"VERSION.server.", RW_TYPE_TXT, "rootwalk 0.1.0"},
	             {"id.server.", RW_TYPE_TXT, "dns-1"},
	             {"hostname.bind.", RW_TYPE_ANY, "dns-1"},
	             {"authors.bind.", RW_TYPE_TXT, NULL},
	             {"id.server.", RW_TYPE_A, NULL}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		l = tu_query(req, 2, 0, cases[i].name, cases[i].type, RW_CLASS_CH);
		m = run(req, l, RW_TRANSPORT_UDP, NULL);
		if (cases[i].want == NULL) {
			ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
			continue;
		}
		ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
		ck_assert(m.flags & RW_FLAG_AA);
		ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
		ck_assert_uint_eq(m.rr[0][0].rclass, RW_CLASS_CH);
		ck_assert_uint_eq(m.rr[0][0].rdata[0], strlen(cases[i].want));
		ck_assert_mem_eq(m.rr[0][0].rdata + 1, cases[i].want, strlen(cases[i].want));
	}
	env.identity = env.version = NULL; /* hidden */
	l = tu_query(req, 2, 0, "version.bind.", RW_TYPE_TXT, RW_CLASS_CH);
	m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
}
END_TEST

START_TEST(drops)
{
	uint8_t req[512];
	size_t ol;
	size_t l = tu_query(req, 1, 0, "www.example.", 1, 1);
	ck_assert_int_eq(rw_query_process(&env, req, 11, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_DROP);
	ck_assert_int_eq(rw_query_process(&env, req, 0, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_DROP);
	req[2] |= 0x80; /* QR=1: a response is never answered */
	ck_assert_int_eq(rw_query_process(&env, req, l, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_DROP);
	ck_assert_uint_eq(env.stats.dropped, 3);
}
END_TEST

START_TEST(header_errors)
{
	uint8_t req[512];
	size_t l = tu_query(req, 0x4242, RW_FLAG_RD | (2 << 11), "www.example.", 1, 1);
	struct rw_msg m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOTIMP);
	ck_assert_uint_eq(RW_OPCODE(m.flags), 2);
	ck_assert_uint_eq(m.id, 0x4242);
	ck_assert(m.flags & RW_FLAG_QR);
	ck_assert(m.flags & RW_FLAG_RD);
	/* UPDATE too */
	l = tu_query(req, 1, 5 << 11, "www.example.", 1, 1);
	ck_assert_uint_eq(RW_RCODE(run(req, l, RW_TRANSPORT_UDP, NULL).flags), RW_RCODE_NOTIMP);
	/* QDCOUNT 0 and 2 */
	l = tu_query(req, 1, 0, "www.example.", 1, 1);
	rw_put16(req + 4, 0);
	m = run(req, 12, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_FORMERR);
	rw_put16(req + 4, 2);
	ck_assert_uint_eq(RW_RCODE(run(req, l, RW_TRANSPORT_UDP, NULL).flags), RW_RCODE_FORMERR);
	/* a body that does not parse, with a usable header */
	rw_put16(req + 4, 1);
	req[12] = 0xC0;
	req[13] = 12;
	m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_FORMERR);
	ck_assert_uint_eq(m.qdcount, 0);
}
END_TEST

/* Queries that carry records no query has are FORMERR from the header
 * alone, before parsing (issue 11); signed queries (TSIG, SIG(0)) are
 * answered NOTAUTH -- we hold no keys -- never ignored (RFC 8945). */
START_TEST(header_counts_and_signed_queries)
{
	uint8_t req[1024];
	size_t l = tu_query(req, 0x4343, RW_FLAG_RD, "www.example.", 1, 1);
	const uint16_t bad[][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 3}, {7, 7, 7}};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		rw_put16(req + 6, bad[i][0]);
		rw_put16(req + 8, bad[i][1]);
		rw_put16(req + 10, bad[i][2]);
		struct rw_msg m = run(req, l, RW_TRANSPORT_UDP, NULL);
		ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_FORMERR);
		ck_assert_uint_eq(m.id, 0x4343);
	}
	ck_assert_uint_eq(env.stats.formerr_header, 4);
	rw_put16(req + 6, 0);
	rw_put16(req + 8, 0);
	rw_put16(req + 10, 0);
	/* a TSIG record: key "k.", hmac-sha256, a 32-byte MAC, original ID 0x4343 */
	uint8_t tsig[512];
	size_t t = 0;
	tsig[t++] = 1, tsig[t++] = 'k', tsig[t++] = 0;
	rw_put16(tsig + t, 250), rw_put16(tsig + t + 2, 255), rw_put32(tsig + t + 4, 0);
	t += 8;
	size_t rdl_at = t;
	t += 2;
	size_t rd0 = t;
	t += tu_name("hmac-sha256.", tsig + t);
	memset(tsig + t, 0, 6), rw_put16(tsig + t + 6, 300), rw_put16(tsig + t + 8, 32);
	t += 10;
	memset(tsig + t, 0xAA, 32);
	t += 32;
	rw_put16(tsig + t, 0x4343), rw_put16(tsig + t + 2, 0), rw_put16(tsig + t + 4, 0);
	t += 6;
	rw_put16(tsig + rdl_at, (uint16_t)(t - rd0));
	memcpy(req + l, tsig, t);
	rw_put16(req + 10, 1);
	size_t ol;
	struct rw_msg m = run(req, l + t, RW_TRANSPORT_UDP, &ol);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOTAUTH);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	ck_assert_uint_eq(m.nrr[RW_SEC_AR], 1); /* the TSIG, unsigned, error BADKEY */
	const struct rw_rr *rr = &m.rr[RW_SEC_AR][0];
	ck_assert_uint_eq(rr->type, 250);
	ck_assert_uint_eq(rr->rclass, 255);
	ck_assert_mem_eq(rr->owner, "\1k", 3);
	size_t al = 13; /* hmac-sha256. */
	ck_assert_uint_eq(rr->rdlen, al + 16);
	ck_assert_uint_eq(rw_get16(rr->rdata + al + 8), 0);       /* no MAC */
	ck_assert_uint_eq(rw_get16(rr->rdata + al + 10), 0x4343); /* original ID */
	ck_assert_uint_eq(rw_get16(rr->rdata + al + 12), 17);     /* BADKEY */
	/* with EDNS too: OPT, then the TSIG last */
	size_t le = tu_opt(req, l, 1232, 0, 0);
	memcpy(req + le, tsig, t);
	rw_put16(req + 10, 2);
	m = run(req, le + t, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOTAUTH);
	ck_assert(m.edns.present);
	ck_assert_uint_eq(m.nrr[RW_SEC_AR], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_AR][0].type, 250);
	/* a TSIG that is not the last record: FORMERR */
	memcpy(req + l, tsig, t);
	memcpy(req + l + t, tsig, t);
	rw_put16(req + l + t + 3, 10); /* the second one of type NULL, class IN */
	rw_put16(req + l + t + 5, 1);
	rw_put16(req + 10, 2);
	m = run(req, l + 2 * t, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_FORMERR);
	/* SIG(0): NOTAUTH */
	memcpy(req + l, tsig, t);
	rw_put16(req + l + 3, 24); /* type SIG */
	rw_put16(req + l + 5, 255);
	rw_put16(req + 10, 1);
	m = run(req, l + t, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOTAUTH);
	ck_assert_uint_eq(env.stats.signed_refused, 4);
}
END_TEST

START_TEST(edns_badvers_and_do)
{
	uint8_t req[512];
	size_t l = tu_query(req, 7, 0, "www.example.", 1, 1);
	size_t l1 = tu_opt(req, l, 1232, 1, 0);
	struct rw_msg m = run(req, l1, RW_TRANSPORT_UDP, NULL);
	ck_assert(m.edns.present);
	ck_assert_uint_eq(m.edns.ext_rcode, 1); /* BADVERS = 16 */
	ck_assert_uint_eq(RW_RCODE(m.flags), 0);
	ck_assert_uint_eq(m.edns.version, 0);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	ck_assert_uint_eq(env.stats.badvers, 1);
	req[11] = 0;
	size_t l2 = tu_opt(req, l, 1232, 0, 1);
	m = run(req, l2, RW_TRANSPORT_UDP, NULL);
	ck_assert(m.edns.do_bit);
	ck_assert_uint_eq(m.edns.udp_size, 1232);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
}
END_TEST

START_TEST(class_and_type_policy)
{
	static const struct {
		uint16_t qclass, qtype, rcode;
	} cases[] = {
	    {RW_CLASS_CH, RW_TYPE_TXT, RW_RCODE_REFUSED},
	    {RW_CLASS_HS, 1, RW_RCODE_REFUSED},
	    {RW_CLASS_ANY, 1, RW_RCODE_REFUSED},
	    {77, 1, RW_RCODE_REFUSED},
	    {1, RW_TYPE_AXFR, RW_RCODE_REFUSED},
	    {1, RW_TYPE_IXFR, RW_RCODE_REFUSED},
	    {1, RW_TYPE_MAILA, RW_RCODE_NOTIMP},
	    {1, RW_TYPE_MAILB, RW_RCODE_NOTIMP},
	    {1, 250, RW_RCODE_NOTIMP},
	    {1, RW_TYPE_OPT, RW_RCODE_FORMERR},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t req[512];
		size_t l = tu_query(req, 9, 0, "www.example.", cases[i].qtype, cases[i].qclass);
		struct rw_msg m = run(req, l, RW_TRANSPORT_UDP, NULL);
		ck_assert_msg(RW_RCODE(m.flags) == cases[i].rcode, "class %u type %u: rcode %u",
		              cases[i].qclass, cases[i].qtype, RW_RCODE(m.flags));
		ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
		ck_assert_uint_eq(m.qtype, cases[i].qtype); /* question echoed */
	}
}
END_TEST

START_TEST(positive_answer)
{
	uint8_t req[512];
	size_t l = tu_query(req, 0xabcd, RW_FLAG_RD | RW_FLAG_CD, "WwW.ExAmPlE.", 1, 1);
	struct rw_msg m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(m.id, 0xabcd);
	ck_assert(m.flags & RW_FLAG_QR);
	ck_assert(m.flags & RW_FLAG_AA);
	ck_assert(m.flags & RW_FLAG_RD);
	ck_assert(m.flags & RW_FLAG_CD);
	ck_assert(!(m.flags & RW_FLAG_RA));
	ck_assert_mem_eq(m.qname, "\3WwW\7ExAmPlE", 13); /* the client's case */
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.rr[0][0].ttl, 300);
	ck_assert_mem_eq(m.rr[0][0].owner, "\3WwW\7ExAmPlE", 13);
	/* not served locally: REFUSED for now */
	m = ask("www.other.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
	ck_assert(!(m.flags & RW_FLAG_AA));
	/* MX: the target's addresses in the additional section */
	m = ask("mx.example.", RW_TYPE_MX, false, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(m.nrr[RW_SEC_AR], 2);
	/* ANY: one synthesised HINFO (RFC 8482) */
	m = ask("www.example.", RW_TYPE_ANY, false, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(m.rr[0][0].type, RW_TYPE_HINFO);
	m = ask("nope.example.", RW_TYPE_ANY, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
}
END_TEST

START_TEST(negative_answers)
{
	struct rw_msg m = ask("nope.example.", 1, true, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert(m.flags & RW_FLAG_AA);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][0].type, RW_TYPE_SOA);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][0].ttl, 120); /* min(3600, MINIMUM 120) */
	/* NODATA */
	m = ask("www.example.", RW_TYPE_AAAA, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][0].type, RW_TYPE_SOA);
	/* empty non-terminal: NODATA, not NXDOMAIN */
	m = ask("b.ent.example.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
}
END_TEST

START_TEST(cnames_and_wildcards)
{
	struct rw_msg m = ask("alias2.example.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 4); /* CNAME, CNAME, A, A */
	ck_assert_uint_eq(m.rr[0][0].type, RW_TYPE_CNAME);
	ck_assert_uint_eq(m.rr[0][1].type, RW_TYPE_CNAME);
	ck_assert_uint_eq(m.rr[0][2].type, RW_TYPE_A);
	/* asking for the CNAME itself does not follow it */
	m = ask("alias.example.", RW_TYPE_CNAME, false, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	/* CNAME to a missing name: NXDOMAIN (RFC 6604) with the chain */
	m = ask("dangling.example.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	/* CNAME leaving local data: the CNAME alone */
	m = ask("out.example.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	/* a CNAME loop ends */
	m = ask("loop1.example.", 1, false, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	/* wildcard: the owner is the query name */
	m = ask("x.y.wild.example.", 1, false, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_mem_eq(m.rr[0][0].owner, "\1x\1y\4wild\7example", 18);
}
END_TEST

START_TEST(round_robin)
{
	unsigned first2 = 0;
	for (int i = 0; i < 4; i++) {
		struct rw_msg m = ask("www.example.", 1, false, NULL);
		ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
		first2 += m.rr[0][0].rdata[3] == 2;
	}
	ck_assert_uint_eq(first2, 2); /* 192.0.2.2 first in every other answer */
	env.round_robin = false;
	for (int i = 0; i < 3; i++) {
		struct rw_msg m = ask("www.example.", 1, false, NULL);
		ck_assert_uint_eq(m.rr[0][0].rdata[3], 1); /* zone order */
	}
}
END_TEST

START_TEST(access_control)
{
	struct rw_netblock allow;
	allow.family = AF_INET;
	allow.prefix = 32;
	memcpy(allow.addr, "\x7f\x00\x00\x01", 4);
	struct sockaddr_in in = {.sin_family = AF_INET}, out4 = {.sin_family = AF_INET};
	memcpy(&in.sin_addr, "\x7f\x00\x00\x01", 4);
	memcpy(&out4.sin_addr, "\xc0\x00\x02\x09", 4);
	env.acl = &allow;
	env.nacl = 1;
	env.client = (struct sockaddr *)&in;
	struct rw_msg m = ask("www.example.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	env.client = (struct sockaddr *)&out4;
	m = ask("www.example.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
	ck_assert_uint_eq(env.stats.acl_refused, 1);
	env.local_from_any = true; /* local zones for everyone */
	m = ask("www.example.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	m = ask("www.elsewhere.", 1, false, NULL); /* but nothing else */
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
	env.client = NULL;
	env.nacl = 0;
}
END_TEST

START_TEST(sizes_and_truncation)
{
	/* 60 TXT records (~50 bytes each) do not fit in 512 or 1232. */
	size_t len;
	struct rw_msg m = ask("big.example.", RW_TYPE_TXT, false, &len);
	ck_assert(m.flags & RW_FLAG_TC);
	ck_assert_uint_le(len, 512);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0); /* whole RRset or nothing */
	m = ask("big.example.", RW_TYPE_TXT, true, &len);
	ck_assert(m.flags & RW_FLAG_TC);
	ck_assert_uint_le(len, 1232);
	ck_assert(m.edns.present); /* OPT survives truncation */
	/* the client's smaller EDNS size is honoured, and < 512 means 512 */
	uint8_t req[512];
	size_t l = tu_query(req, 1, 0, "www.example.", 1, 1);
	l = tu_opt(req, l, 100, 0, 0);
	m = run(req, l, RW_TRANSPORT_UDP, &len);
	ck_assert(!(m.flags & RW_FLAG_TC));
	/* over TCP the whole answer comes */
	l = tu_query(req, 1, 0, "big.example.", RW_TYPE_TXT, 1);
	m = run(req, l, RW_TRANSPORT_TCP, &len);
	ck_assert(!(m.flags & RW_FLAG_TC));
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 60);
	ck_assert_uint_gt(len, 1232);
	/* a larger server limit lets a big EDNS client get it over UDP */
	rw_query_env_fini(&env);
	rw_query_env_init(&env, zs, 4096);
	l = tu_opt(req, l, 4096, 0, 0);
	m = run(req, l, RW_TRANSPORT_UDP, &len);
	ck_assert(!(m.flags & RW_FLAG_TC));
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 60);
	ck_assert_uint_le(len, 4096);
	ck_assert_uint_ge(env.stats.queries, 1);
}
END_TEST

/* --- answers from the cache ------------------------------------------- */

static uint64_t clock_ms;
static uint64_t test_clock(void *ctx)
{
	(void)ctx;
	return clock_ms;
}

static struct rw_cache *cache;

static void cache_setup(void)
{
	setup();
	struct rw_cache_config cfg;
	rw_cache_config_default(&cfg);
	cfg.clock = test_clock;
	clock_ms = 5000000;
	cache = rw_cache_new(&cfg);
	env.cache = cache;
}

static void cache_teardown(void)
{
	env.cache = NULL;
	rw_cache_free(cache);
	teardown();
}

/* Caches one record: type A (4-byte rdata text "a.b.c.d") or CNAME. */
static void cache_rr(const char *owner, uint16_t type, const char *data, uint32_t ttl)
{
	uint8_t o[RW_NAME_MAX], rd[RW_NAME_MAX];
	size_t len;
	tu_name(owner, o);
	if (type == RW_TYPE_CNAME) {
		len = tu_name(data, rd);
	} else {
		unsigned a, b, c, d;
		ck_assert_int_eq(sscanf(data, "%u.%u.%u.%u", &a, &b, &c, &d), 4);
		rd[0] = (uint8_t)a, rd[1] = (uint8_t)b, rd[2] = (uint8_t)c, rd[3] = (uint8_t)d;
		len = 4;
	}
	const uint8_t *rds[1] = {rd};
	uint16_t lens[1] = {(uint16_t)len};
	struct rw_cache_rrset set = {o, type, 1, ttl, 1, lens, rds};
	ck_assert_int_eq(rw_cache_put(cache, &set, NULL, RW_RANK_ANSWER, &env.cache_stats), 0);
}

static void cache_negative(const char *name, enum rw_cache_kind kind, uint16_t type)
{
	uint8_t n[RW_NAME_MAX], zone[RW_NAME_MAX], rd[3 * RW_NAME_MAX];
	tu_name(name, n);
	tu_name("far.", zone);
	size_t a = tu_name("ns.far.", rd);
	size_t b = tu_name("hm.far.", rd + a);
	memset(rd + a + b, 0, 20);
	rw_put32(rd + a + b + 16, 50); /* MINIMUM */
	const uint8_t *rds[1] = {rd};
	uint16_t lens[1] = {(uint16_t)(a + b + 20)};
	struct rw_cache_rrset soa = {zone, RW_TYPE_SOA, 1, 900, 1, lens, rds};
	ck_assert_int_eq(rw_cache_put_negative(cache, kind, n, type, 1, &soa, NULL,
	                                       RW_RANK_AUTH_ANSWER, &env.cache_stats),
	                 0);
}

START_TEST(cache_positive_and_countdown)
{
	cache_rr("host.far.", RW_TYPE_A, "192.0.2.10", 300);
	struct rw_msg m = ask("HOST.far.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert(!(m.flags & RW_FLAG_AA)); /* not authoritative */
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(m.rr[0][0].ttl, 300);
	ck_assert_mem_eq(m.rr[0][0].owner, "\4HOST\3far", 10); /* the client's case */
	clock_ms += 120000;
	m = ask("host.far.", 1, false, NULL);
	ck_assert_uint_eq(m.rr[0][0].ttl, 180);
	clock_ms += 180000; /* expired: no longer answered (kept, stale) */
	m = ask("host.far.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
	ck_assert_uint_eq(env.cache_stats.hits, 2);
	ck_assert_uint_eq(env.cache_stats.misses, 2); /* the name, then its CNAME */
}
END_TEST

START_TEST(cache_cname_assembly)
{
	/* three pieces that arrived separately */
	cache_rr("www.far.", RW_TYPE_CNAME, "edge.cdn.", 600);
	cache_rr("edge.cdn.", RW_TYPE_CNAME, "node7.cdn.", 60);
	cache_rr("node7.cdn.", RW_TYPE_A, "192.0.2.77", 20);
	struct rw_msg m = ask("www.far.", 1, false, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 3);
	ck_assert_uint_eq(m.rr[0][0].type, RW_TYPE_CNAME);
	ck_assert_uint_eq(m.rr[0][1].type, RW_TYPE_CNAME);
	ck_assert_uint_eq(m.rr[0][2].type, RW_TYPE_A);
	ck_assert_uint_eq(m.rr[0][1].ttl, 60);
	ck_assert_mem_eq(m.rr[0][2].owner, "\5node7\3cdn", 11);
	/* asking for the CNAME itself */
	m = ask("www.far.", RW_TYPE_CNAME, false, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	/* once the end of the chain expires, the cache cannot answer */
	clock_ms += 21000;
	m = ask("www.far.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0); /* nothing half-built left behind */
	/* a cached CNAME loop is not answered from the cache */
	cache_rr("l1.far.", RW_TYPE_CNAME, "l2.far.", 600);
	cache_rr("l2.far.", RW_TYPE_CNAME, "l1.far.", 600);
	m = ask("l1.far.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
}
END_TEST

START_TEST(cache_negative_answers)
{
	cache_negative("nx.far.", RW_CACHE_NXDOMAIN, 0);
	cache_negative("nd.far.", RW_CACHE_NODATA, RW_TYPE_AAAA);
	struct rw_msg m = ask("nx.far.", RW_TYPE_MX, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][0].type, RW_TYPE_SOA);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][0].ttl, 50); /* min(900, MINIMUM 50) */
	m = ask("nd.far.", RW_TYPE_AAAA, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	/* a CNAME into a cached NXDOMAIN: the chain plus NXDOMAIN (RFC 6604) */
	cache_rr("to-nx.far.", RW_TYPE_CNAME, "nx.far.", 600);
	m = ask("to-nx.far.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
}
END_TEST

/* Glue and referral data (below answer rank) steer the resolver but never
 * answer a client (RFC 2181 §5.4.1): such a question goes upstream. */
START_TEST(cache_glue_is_no_answer)
{
	env.default_route = RW_ROUTE_ITERATE;
	uint8_t o[RW_NAME_MAX], rd[4] = {192, 0, 2, 53};
	tu_name("ns.far.", o);
	const uint8_t *rds[1] = {rd};
	uint16_t lens[1] = {4};
	struct rw_cache_rrset set = {o, RW_TYPE_A, 1, 300, 1, lens, rds};
	ck_assert_int_eq(rw_cache_put(cache, &set, NULL, RW_RANK_ADDITIONAL, &env.cache_stats), 0);
	uint8_t req[512];
	size_t l = tu_query(req, 1, RW_FLAG_RD, "ns.far.", RW_TYPE_A, RW_CLASS_IN), ol;
	ck_assert_int_eq(rw_query_process(&env, req, l, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_UPSTREAM);
	/* the same data at answer rank answers */
	ck_assert_int_eq(rw_cache_put(cache, &set, NULL, RW_RANK_AUTH_ANSWER, &env.cache_stats), 0);
	ck_assert_int_eq(rw_query_process(&env, req, l, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_REPLY);
	env.default_route = RW_ROUTE_NONE;
}
END_TEST

START_TEST(cache_after_local_zones)
{
	/* local data wins over anything cached for the same name */
	cache_rr("www.example.", RW_TYPE_A, "203.0.113.1", 300);
	struct rw_msg m = ask("www.example.", 1, false, NULL);
	ck_assert(m.flags & RW_FLAG_AA);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.rr[0][0].rdata[0], 192);
	/* a local CNAME pointing out of local data is completed from the
	 * cache (issue 13): the chain, then the target's cached answer */
	cache_rr("www.elsewhere.", RW_TYPE_A, "203.0.113.2", 300);
	m = ask("out.example.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert(m.flags & RW_FLAG_AA); /* the first owner's (RFC 1035 §4.1.1) */
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.rr[0][0].type, RW_TYPE_CNAME);
	ck_assert_uint_eq(m.rr[0][1].type, RW_TYPE_A);
	ck_assert(rw_name_eq(m.rr[0][1].owner, (const uint8_t *)"\3www\11elsewhere"));
	ck_assert_uint_eq(m.rr[0][1].rdata[3], 2);
}
END_TEST

/* --- forwarding: the pending result, upstream replies ------------------ */

struct urr {
	enum rw_section sec;
	const char *owner;
	uint16_t type;
	uint32_t ttl;
	const char *data; /* A: dotted quad; CNAME, NSEC: a name; RRSIG: "covered
	                   * labels"; SOA: unused */
};

/* Builds an upstream reply (ID 0x1234) to qname/qtype with rcode, flags. */
static size_t upstream(uint8_t *buf, size_t cap, uint16_t flags, const char *qname, uint16_t qtype,
                       const struct urr *rrs, size_t n)
{
	struct rw_builder b;
	uint8_t q[RW_NAME_MAX];
	tu_name(qname, q);
	rw_builder_init(&b, buf, cap, 0x1234, (uint16_t)(RW_FLAG_QR | flags));
	ck_assert_int_eq(rw_builder_question(&b, q, qtype, RW_CLASS_IN), 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t o[RW_NAME_MAX], rd[3 * RW_NAME_MAX];
		size_t len = 0;
		tu_name(rrs[i].owner, o);
		if (rrs[i].type == RW_TYPE_CNAME) {
			len = tu_name(rrs[i].data, rd);
		} else if (rrs[i].type == RW_TYPE_RRSIG) {
			/* data: "covered labels"; signer far., valid for a day */
			unsigned covered, labels;
			ck_assert_int_eq(sscanf(rrs[i].data, "%u %u", &covered, &labels), 2);
			memset(rd, 0, 18);
			rw_put16(rd, (uint16_t)covered);
			rd[2] = 13;
			rd[3] = (uint8_t)labels;
			rw_put32(rd + 8, (uint32_t)time(NULL) + 86400);
			len = 18 + tu_name("far.", rd + 18);
			memset(rd + len, 0x5A, 64);
			len += 64;
		} else if (rrs[i].type == RW_TYPE_NSEC) {
			len = tu_name(rrs[i].data, rd); /* the next name; bitmap: A */
			rd[len++] = 0;
			rd[len++] = 1;
			rd[len++] = 0x40;
		} else if (rrs[i].type == RW_TYPE_SOA) {
			size_t a = tu_name("ns.far.", rd);
			size_t c = tu_name("hm.far.", rd + a);
			memset(rd + a + c, 0, 20);
			rw_put32(rd + a + c + 16, 50);
			len = a + c + 20;
		} else {
			unsigned x[4];
			ck_assert_int_eq(
			    sscanf(rrs[i].data, "%u.%u.%u.%u", &x[0], &x[1], &x[2], &x[3]), 4);
			for (int k = 0; k < 4; k++)
				rd[k] = (uint8_t)x[k];
			len = 4;
		}
		ck_assert_int_eq(
		    rw_builder_rr(&b, rrs[i].sec, o, rrs[i].type, RW_CLASS_IN, rrs[i].ttl, rd, len),
		    0);
	}
	return rw_builder_finish(&b);
}

static const struct rw_route routes[] = {
    {"\4corp\0", 1, 0, false, 0},
    {"\3lab\4corp\0", 2, 0, false, 0},
    {"\6capped\0", 3, 30, true, 5}, /* max-ttl=30 max-negative-ttl=5 */
};

/* A second env without a cache: it parses requests into struct rw_request
 * however full the first one's cache is. */
static struct rw_query_env penv;

static void fwd_setup(void)
{
	cache_setup();
	env.routes = routes;
	env.nroutes = 3;
	env.default_route = RW_ROUTE_FORWARD;
	env.default_group = 0;
	rw_query_env_init(&penv, zs, 1232);
	penv.routes = routes;
	penv.nroutes = 3;
	penv.default_route = RW_ROUTE_FORWARD;
}

static void fwd_teardown(void)
{
	rw_query_env_fini(&penv);
	cache_teardown();
}

/* The question of the last expect_forward(). */
static struct rw_question fwd_q;

/* Sends a request that must come back RW_QUERY_UPSTREAM, forwarded. */
static void expect_forward(const uint8_t *req, size_t len, unsigned group)
{
	size_t ol = 0;
	ck_assert_int_eq(rw_query_process(&env, req, len, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_UPSTREAM);
	ck_assert_int_eq(env.request.route, RW_ROUTE_FORWARD);
	ck_assert_uint_eq(env.request.group, group);
	rw_request_question(&env.request, &fwd_q);
}

/* rw_forward_accept, keeping only the outcome: the error, or the
 * answer's rcode in *rcode. */
static int accept_(const struct rw_question *q, const uint8_t *resp, size_t len, uint16_t *rcode)
{
	struct rw_answer *a = NULL;
	int e = rw_forward_accept(&env, q, resp, len, &a);
	if (e == 0) {
		ck_assert_ptr_nonnull(a);
		if (rcode != NULL)
			*rcode = a->rcode;
	} else {
		ck_assert_ptr_null(a);
	}
	rw_answer_unref(a);
	return e;
}

/* A client's reply to req (sent over t) built from the upstream reply
 * resp (NULL: none, SERVFAIL); ede: the SERVFAIL's EDE instead. */
static struct rw_msg finish_ede(const uint8_t *req, size_t len, enum rw_transport t,
                                const uint8_t *resp, size_t resp_len, size_t *out_len,
                                const struct rw_ede *ede)
{
	size_t ol = 0;
	ck_assert_int_eq(rw_query_process(&penv, req, len, t, out, sizeof out, &ol),
	                 RW_QUERY_UPSTREAM);
	struct rw_request rq = penv.request;
	struct rw_question q;
	rw_request_question(&rq, &q);
	struct rw_answer *ans = NULL;
	if (ede != NULL)
		ans = rw_answer_servfail(ede->code, ede->text);
	else if (resp != NULL && rw_forward_accept(&env, &q, resp, resp_len, &ans) != 0)
		ans = NULL;
	ck_assert_int_eq(rw_query_finish(&env, &rq, ans, out, sizeof out, &ol), RW_QUERY_REPLY);
	rw_answer_unref(ans);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(out, ol, &arena, &m), 0);
	if (out_len)
		*out_len = ol;
	return m;
}

static struct rw_msg finish(const uint8_t *req, size_t len, enum rw_transport t,
                            const uint8_t *resp, size_t resp_len, size_t *out_len)
{
	return finish_ede(req, len, t, resp, resp_len, out_len, NULL);
}

START_TEST(forward_routes_and_ra)
{
	uint8_t req[512];
	size_t l = tu_query(req, 7, RW_FLAG_RD, "Host.Far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	ck_assert_uint_eq(fwd_q.qname_len, 10);
	ck_assert_mem_eq(fwd_q.qname, "\4host\3far", 10);       /* lower-cased */
	ck_assert_mem_eq(env.request.qname, "\4Host\3Far", 10); /* the client's */
	ck_assert_uint_eq(fwd_q.qtype, RW_TYPE_A);
	l = tu_query(req, 7, RW_FLAG_RD, "x.corp.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 1);
	l = tu_query(req, 7, RW_FLAG_RD, "a.LAB.corp.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 2); /* the longest route wins */
	l = tu_query(req, 7, RW_FLAG_RD, "corp.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 1);
	l = tu_query(req, 7, RW_FLAG_RD, "xcorp.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0); /* label boundaries, not string suffixes */
	/* local zones still answer first, now with RA */
	struct rw_msg m = ask("www.example.", 1, false, NULL);
	ck_assert(m.flags & RW_FLAG_RA);
	ck_assert(m.flags & RW_FLAG_AA);
	/* RD=0: only what we hold */
	l = tu_query(req, 7, 0, "host.far.", RW_TYPE_A, RW_CLASS_IN);
	m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
	/* no default route: names outside the routes are refused */
	env.default_route = RW_ROUTE_NONE;
	l = tu_query(req, 7, RW_FLAG_RD, "host.far.", RW_TYPE_A, RW_CLASS_IN);
	m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
	l = tu_query(req, 7, RW_FLAG_RD, "x.corp.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 1);
	/* without any route: RA=0 and REFUSED, as before forwarding */
	env.nroutes = 0;
	l = tu_query(req, 7, RW_FLAG_RD, "x.corp.", RW_TYPE_A, RW_CLASS_IN);
	m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert(!(m.flags & RW_FLAG_RA));
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_REFUSED);
}
END_TEST

START_TEST(forward_request_bytes)
{
	uint8_t req[512];
	size_t l = tu_query(req, 7, RW_FLAG_RD, "Host.Far.", RW_TYPE_MX, RW_CLASS_IN);
	expect_forward(req, l, 0);
	uint8_t q[512];
	size_t ql = rw_forward_query(&fwd_q, env.edns_size, q, sizeof q);
	ck_assert_uint_gt(ql, 0);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(q, ql, &arena, &m), 0);
	ck_assert(m.flags & RW_FLAG_RD);
	ck_assert(!(m.flags & RW_FLAG_QR));
	ck_assert_mem_eq(m.qname, "\4host\3far", 10);
	ck_assert_uint_eq(m.qtype, RW_TYPE_MX);
	ck_assert(m.edns.present);
	ck_assert_uint_eq(m.edns.udp_size, 1232);
	ck_assert_uint_eq(rw_forward_query(&fwd_q, env.edns_size, q, 20), 0);
}
END_TEST

START_TEST(forward_accept_checks)
{
	uint8_t req[512], resp[4096];
	size_t l = tu_query(req, 7, RW_FLAG_RD, "host.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	struct rw_question f = fwd_q;
	const struct urr a[] = {{RW_SEC_AN, "host.far.", RW_TYPE_A, 300, "192.0.2.9"}};
	/* not a reply to this question: other name, other type, a query */
	size_t rl = upstream(resp, sizeof resp, 0, "other.far.", RW_TYPE_A, a, 1);
	ck_assert_int_eq(accept_(&f, resp, rl, NULL), RW_EMALFORMED);
	rl = upstream(resp, sizeof resp, 0, "host.far.", RW_TYPE_AAAA, a, 1);
	ck_assert_int_eq(accept_(&f, resp, rl, NULL), RW_EMALFORMED);
	rl = upstream(resp, sizeof resp, 0, "host.far.", RW_TYPE_A, a, 1);
	resp[2] &= 0x7f; /* QR=0 */
	ck_assert_int_eq(accept_(&f, resp, rl, NULL), RW_EMALFORMED);
	rl = upstream(resp, sizeof resp, RW_FLAG_TC, "host.far.", RW_TYPE_A, a, 1);
	ck_assert_int_eq(accept_(&f, resp, rl, NULL), RW_EMALFORMED);
	ck_assert_int_eq(accept_(&f, (const uint8_t *)"garbage", 7, NULL), RW_EMALFORMED);
	/* a failure rcode is an answer: SERVFAIL (a DNS outcome, not an error) */
	uint16_t rc = 0;
	rl = upstream(resp, sizeof resp, RW_RCODE_SERVFAIL, "host.far.", RW_TYPE_A, NULL, 0);
	ck_assert_int_eq(accept_(&f, resp, rl, &rc), 0);
	ck_assert_uint_eq(rc, RW_RCODE_SERVFAIL);
	rl = upstream(resp, sizeof resp, RW_RCODE_REFUSED, "host.far.", RW_TYPE_A, NULL, 0);
	ck_assert_int_eq(accept_(&f, resp, rl, &rc), 0);
	ck_assert_uint_eq(rc, RW_RCODE_SERVFAIL);
	/* nothing of the rejected replies was cached */
	ck_assert_uint_eq(rw_cache_entries(cache), 0);
	/* a rejected reply gives the client SERVFAIL */
	struct rw_msg m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
	m = finish(req, l, RW_TRANSPORT_UDP, NULL, 0, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
	ck_assert_uint_eq(m.id, 7);
	ck_assert(m.flags & RW_FLAG_RA);
	/* the name in another case is the same question (0x20 tolerant) */
	rl = upstream(resp, sizeof resp, 0, "HOST.far.", RW_TYPE_A, a, 1);
	ck_assert_int_eq(accept_(&f, resp, rl, NULL), 0);
}
END_TEST

START_TEST(forward_caches_chain_and_replies)
{
	uint8_t req[512], resp[4096];
	size_t l = tu_query(req, 0x4242, RW_FLAG_RD, "WwW.Far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	struct rw_question f = fwd_q;
	const struct urr rrs[] = {
	    {RW_SEC_AN, "www.far.", RW_TYPE_CNAME, 600, "edge.cdn."},
	    {RW_SEC_AN, "edge.cdn.", RW_TYPE_A, 30, "192.0.2.1"},
	    {RW_SEC_AN, "edge.cdn.", RW_TYPE_A, 20, "192.0.2.2"},
	    {RW_SEC_AN, "unrelated.far.", RW_TYPE_A, 300, "192.0.2.66"}, /* not on the chain */
	    {RW_SEC_AR, "ns.far.", RW_TYPE_A, 300, "192.0.2.53"},        /* glue: not cached */
	};
	size_t rl = upstream(resp, sizeof resp, 0, "www.far.", RW_TYPE_A, rrs, 5);
	ck_assert_int_eq(accept_(&f, resp, rl, NULL), 0);
	/* the client's reply: its ID, its case, RA, no AA, the chain and
	 * nothing off it (unrelated.far. is dropped, not passed on) */
	struct rw_msg m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(m.id, 0x4242);
	ck_assert(m.flags & RW_FLAG_RA);
	ck_assert(!(m.flags & RW_FLAG_AA));
	ck_assert_mem_eq(m.qname, "\3WwW\3Far", 9);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 3);
	ck_assert_mem_eq(m.rr[0][0].owner, "\3WwW\3Far", 9);
	ck_assert_uint_eq(m.nrr[RW_SEC_AR], 0); /* minimal: no glue passed on */
	/* the pieces on the chain are cached, the rest is not */
	m = ask("www.far.", 1, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 3);
	ck_assert_uint_eq(m.rr[0][2].ttl, 20); /* the set's TTL is its lowest */
	l = tu_query(req, 9, RW_FLAG_RD, "unrelated.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	l = tu_query(req, 9, RW_FLAG_RD, "ns.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
}
END_TEST

/* A reply to req: the client's, after rw_query_process answered it. */
static struct rw_msg hit(const uint8_t *req, size_t len)
{
	return run(req, len, RW_TRANSPORT_UDP, NULL);
}

static unsigned count_type(const struct rw_msg *m, enum rw_section sec, uint16_t type)
{
	unsigned n = 0;
	for (uint16_t i = 0; i < m->nrr[sec]; i++)
		n += m->rr[sec][i].type == type;
	return n;
}

/* RFC 4035 §3.2: signatures and denial records reach the clients that set
 * DO -- on the first answer and from the cache -- and no one else, unless
 * asked for by type; a wildcard answer's denial follows the answer
 * section; AD is never set. */
START_TEST(dnssec_records_for_do_clients)
{
	uint8_t req[512], dreq[512], resp[4096];
	size_t l = tu_query(req, 1, RW_FLAG_RD, "www.far.", RW_TYPE_A, RW_CLASS_IN);
	size_t dl = tu_opt(dreq, tu_query(dreq, 1, RW_FLAG_RD, "www.far.", RW_TYPE_A, RW_CLASS_IN),
	                   1232, 0, 1);
	const struct urr pos[] = {{RW_SEC_AN, "www.far.", RW_TYPE_A, 300, "192.0.2.9"},
	                          {RW_SEC_AN, "www.far.", RW_TYPE_RRSIG, 300, "1 2"}};
	size_t rl = upstream(resp, sizeof resp, RW_FLAG_AD, "www.far.", RW_TYPE_A, pos, 2);
	/* the first answer: DO gets the signature, no DO does not */
	struct rw_msg m = finish(dreq, dl, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(count_type(&m, RW_SEC_AN, RW_TYPE_RRSIG), 1);
	ck_assert(m.edns.do_bit);
	ck_assert(!(m.flags & RW_FLAG_AD)); /* never copied from upstream */
	m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][0].type, RW_TYPE_A);
	/* from the cache, the same */
	m = hit(dreq, dl);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][1].type, RW_TYPE_RRSIG);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][1].ttl, m.rr[RW_SEC_AN][0].ttl);
	ck_assert(!(m.flags & RW_FLAG_AD));
	m = hit(req, l);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);

	/* NXDOMAIN: the SOA, its signature, the NSEC and its signature */
	l = tu_query(req, 1, RW_FLAG_RD, "nope.far.", RW_TYPE_A, RW_CLASS_IN);
	dl = tu_opt(dreq, tu_query(dreq, 1, RW_FLAG_RD, "nope.far.", RW_TYPE_A, RW_CLASS_IN), 1232,
	            0, 1);
	const struct urr neg[] = {{RW_SEC_NS, "far.", RW_TYPE_SOA, 900, NULL},
	                          {RW_SEC_NS, "far.", RW_TYPE_RRSIG, 900, "6 1"},
	                          {RW_SEC_NS, "mmm.far.", RW_TYPE_NSEC, 900, "www.far."},
	                          {RW_SEC_NS, "mmm.far.", RW_TYPE_RRSIG, 900, "47 2"},
	                          {RW_SEC_NS, "elsewhere.", RW_TYPE_NSEC, 900, "zzz."}};
	rl = upstream(resp, sizeof resp, RW_RCODE_NXDOMAIN, "nope.far.", RW_TYPE_A, neg, 5);
	m = finish(dreq, dl, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 4); /* not the other zone's NSEC */
	m = hit(dreq, dl);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 4);
	ck_assert_uint_eq(count_type(&m, RW_SEC_NS, RW_TYPE_NSEC), 1);
	ck_assert_uint_eq(count_type(&m, RW_SEC_NS, RW_TYPE_RRSIG), 2);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][2].ttl, 50); /* the negative TTL */
	m = hit(req, l);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][0].type, RW_TYPE_SOA);

	/* a wildcard expansion (labels 2 < 3) through a CNAME: the answer
	 * section holds both sets and their signatures, then the denial */
	dl = tu_opt(dreq, tu_query(dreq, 1, RW_FLAG_RD, "alias.far.", RW_TYPE_A, RW_CLASS_IN), 1232,
	            0, 1);
	const struct urr wild[] = {{RW_SEC_AN, "alias.far.", RW_TYPE_CNAME, 300, "x.wild.far."},
	                           {RW_SEC_AN, "alias.far.", RW_TYPE_RRSIG, 300, "5 2"},
	                           {RW_SEC_AN, "x.wild.far.", RW_TYPE_A, 300, "192.0.2.7"},
	                           {RW_SEC_AN, "x.wild.far.", RW_TYPE_RRSIG, 300, "1 2"},
	                           {RW_SEC_NS, "w.far.", RW_TYPE_NSEC, 300, "y.wild.far."},
	                           {RW_SEC_NS, "w.far.", RW_TYPE_RRSIG, 300, "47 2"}};
	rl = upstream(resp, sizeof resp, 0, "alias.far.", RW_TYPE_A, wild, 6);
	m = finish(dreq, dl, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 4);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 2);
	m = hit(dreq, dl);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 4);
	ck_assert_uint_eq(count_type(&m, RW_SEC_AN, RW_TYPE_RRSIG), 2);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 2);
	ck_assert_uint_eq(count_type(&m, RW_SEC_NS, RW_TYPE_NSEC), 1);
	l = tu_query(req, 1, RW_FLAG_RD, "alias.far.", RW_TYPE_A, RW_CLASS_IN);
	m = hit(req, l);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 0);

	/* asked for by type, RRSIGs are the answer even without DO */
	l = tu_query(req, 1, RW_FLAG_RD, "sig.far.", RW_TYPE_RRSIG, RW_CLASS_IN);
	const struct urr sigs[] = {{RW_SEC_AN, "sig.far.", RW_TYPE_RRSIG, 300, "1 2"},
	                           {RW_SEC_AN, "sig.far.", RW_TYPE_RRSIG, 300, "16 2"}};
	rl = upstream(resp, sizeof resp, 0, "sig.far.", RW_TYPE_RRSIG, sigs, 2);
	m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	m = hit(req, l);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
}
END_TEST

/* Upstream queries carry DO=1; a client's CD=1 goes along, makes its own
 * question (in flight, in the failure cache), and its unchecked answer is
 * not cached; CD=1 clients are answered from what the cache holds. */
START_TEST(forward_do_and_cd)
{
	uint8_t req[512], q[512], resp[4096];
	size_t l = tu_query(req, 7, RW_FLAG_RD | RW_FLAG_CD, "cd.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	struct rw_question cdq = fwd_q;
	ck_assert(cdq.cd);
	size_t ql = rw_forward_query(&cdq, env.edns_size, q, sizeof q);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(q, ql, &arena, &m), 0);
	ck_assert(m.flags & RW_FLAG_CD);
	ck_assert(m.edns.present && m.edns.do_bit);
	l = tu_query(req, 7, RW_FLAG_RD, "cd.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	struct rw_question plain = fwd_q;
	ck_assert(!plain.cd);
	ck_assert_uint_ne(rw_question_tag(&cdq), rw_question_tag(&plain));
	ql = rw_forward_query(&plain, env.edns_size, q, sizeof q);
	ck_assert_int_eq(rw_msg_parse(q, ql, &arena, &m), 0);
	ck_assert(!(m.flags & RW_FLAG_CD));
	ck_assert(m.edns.do_bit);
	/* the CD=1 answer is not cached: both still go upstream */
	const struct urr a[] = {{RW_SEC_AN, "cd.far.", RW_TYPE_A, 300, "192.0.2.66"}};
	size_t rl = upstream(resp, sizeof resp, RW_FLAG_CD, "cd.far.", RW_TYPE_A, a, 1);
	ck_assert_int_eq(accept_(&cdq, resp, rl, NULL), 0);
	expect_forward(req, l, 0);
	l = tu_query(req, 7, RW_FLAG_RD | RW_FLAG_CD, "cd.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	/* a CD=0 failure does not hold the CD=1 question, a group's does */
	bool first;
	uint8_t n[RW_NAME_MAX];
	tu_name("cd.far.", n);
	env.failures = rw_failcache_new(16, 1000, 8000, test_clock, NULL);
	rw_failcache_note(env.failures, n, RW_TYPE_A, rw_question_tag(&plain), &first);
	expect_forward(req, l, 0);
	rw_failcache_note(env.failures, (const uint8_t *)"", 0, rw_question_tag(&plain), &first);
	struct rw_msg r = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(r.flags), RW_RCODE_SERVFAIL);
	rw_failcache_free(env.failures);
	env.failures = NULL;
	/* the CD=0 answer is cached, and serves CD=1 clients too */
	ck_assert_int_eq(accept_(&plain, resp, rl, NULL), 0);
	r = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(r.nrr[RW_SEC_AN], 1);
	ck_assert(r.flags & RW_FLAG_CD); /* echoed */
}
END_TEST

START_TEST(forward_negative_cached)
{
	uint8_t req[512], resp[4096];
	const struct urr soa[] = {{RW_SEC_NS, "far.", RW_TYPE_SOA, 900, NULL}};
	size_t l = tu_query(req, 1, RW_FLAG_RD, "nx.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	struct rw_question f = fwd_q;
	size_t rl = upstream(resp, sizeof resp, RW_RCODE_NXDOMAIN, "nx.far.", RW_TYPE_A, soa, 1);
	ck_assert_int_eq(accept_(&f, resp, rl, NULL), 0);
	struct rw_msg m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	/* NXDOMAIN covers every type, for min(SOA TTL, MINIMUM) = 50 s */
	m = ask("nx.far.", RW_TYPE_MX, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][0].ttl, 50);
	clock_ms += 51000;
	l = tu_query(req, 1, RW_FLAG_RD, "nx.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	/* NODATA: the name and this type only */
	l = tu_query(req, 1, RW_FLAG_RD, "nd.far.", RW_TYPE_AAAA, RW_CLASS_IN);
	expect_forward(req, l, 0);
	f = fwd_q;
	rl = upstream(resp, sizeof resp, 0, "nd.far.", RW_TYPE_AAAA, soa, 1);
	ck_assert_int_eq(accept_(&f, resp, rl, NULL), 0);
	m = ask("nd.far.", RW_TYPE_AAAA, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	l = tu_query(req, 1, RW_FLAG_RD, "nd.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	/* without an SOA nothing negative is cached (RFC 2308 §5) */
	l = tu_query(req, 1, RW_FLAG_RD, "nosoa.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	f = fwd_q;
	rl = upstream(resp, sizeof resp, RW_RCODE_NXDOMAIN, "nosoa.far.", RW_TYPE_A, NULL, 0);
	ck_assert_int_eq(accept_(&f, resp, rl, NULL), 0);
	expect_forward(req, l, 0);
	/* an SOA of an unrelated zone proves nothing */
	const struct urr other[] = {{RW_SEC_NS, "elsewhere.", RW_TYPE_SOA, 900, NULL}};
	rl = upstream(resp, sizeof resp, RW_RCODE_NXDOMAIN, "nosoa.far.", RW_TYPE_A, other, 1);
	ck_assert_int_eq(accept_(&f, resp, rl, NULL), 0);
	expect_forward(req, l, 0);
}
END_TEST

/* A local alias of an outside name (an ExternalName service, issue 13):
 * the target goes upstream, and the client gets the chain and then what
 * upstream said of the target -- its addresses, its NXDOMAIN, or
 * SERVFAIL. RD=0 and a question for the CNAME itself get the chain. */
START_TEST(local_alias_chased_upstream)
{
	uint8_t req[512], resp[1024];
	size_t l = tu_query(req, 9, RW_FLAG_RD, "Out.Example.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	ck_assert_uint_eq(fwd_q.qname_len, 15);
	ck_assert_mem_eq(fwd_q.qname, "\3www\11elsewhere", 15); /* upstream: the target */
	ck_assert_mem_eq(env.request.qname, "\3Out\7Example", 13);
	const struct urr a[] = {{RW_SEC_AN, "www.elsewhere.", RW_TYPE_A, 300, "192.0.2.7"}};
	size_t rl = upstream(resp, sizeof resp, 0, "www.elsewhere.", RW_TYPE_A, a, 1);
	struct rw_msg m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert(m.flags & RW_FLAG_AA);
	ck_assert(m.flags & RW_FLAG_RA);
	ck_assert_mem_eq(m.qname, "\3Out\7Example", 13); /* the client's question */
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.rr[0][0].type, RW_TYPE_CNAME);
	ck_assert(rw_name_eq(m.rr[0][1].owner, (const uint8_t *)"\3www\11elsewhere"));
	ck_assert_uint_eq(m.rr[0][1].rdata[3], 7);
	/* the target does not exist: NXDOMAIN, the last name's (RFC 6604) */
	const struct urr soa[] = {{RW_SEC_NS, "elsewhere.", RW_TYPE_SOA, 900, NULL}};
	rl = upstream(resp, sizeof resp, RW_RCODE_NXDOMAIN, "www.elsewhere.", RW_TYPE_A, soa, 1);
	m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	/* upstream failed: SERVFAIL, not half an answer */
	struct rw_ede ede = {RW_EDE_NO_REACHABLE_AUTHORITY, "no reachable authority"};
	m = finish_ede(req, l, RW_TRANSPORT_UDP, NULL, 0, NULL, &ede);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	ck_assert(!(m.flags & RW_FLAG_AA));
	/* RD=0, or the CNAME itself asked for: the chain alone, no upstream */
	size_t ol;
	l = tu_query(req, 9, 0, "out.example.", RW_TYPE_A, RW_CLASS_IN);
	ck_assert_int_eq(rw_query_process(&penv, req, l, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_REPLY);
	l = tu_query(req, 9, RW_FLAG_RD, "out.example.", RW_TYPE_CNAME, RW_CLASS_IN);
	ck_assert_int_eq(rw_query_process(&penv, req, l, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_REPLY);
	/* other names asking for the same target share its upstream question */
	struct rw_question q1, q2;
	l = tu_query(req, 9, RW_FLAG_RD, "out.example.", RW_TYPE_A, RW_CLASS_IN);
	ck_assert_int_eq(rw_query_process(&penv, req, l, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_UPSTREAM);
	rw_request_question(&penv.request, &q1);
	l = tu_query(req, 9, RW_FLAG_RD, "www.elsewhere.", RW_TYPE_A, RW_CLASS_IN);
	ck_assert_int_eq(rw_query_process(&penv, req, l, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_UPSTREAM);
	rw_request_question(&penv.request, &q2);
	ck_assert_mem_eq(&q1.qname, &q2.qname, q1.qname_len);
	ck_assert_uint_eq(penv.request.target_len, 0);
}
END_TEST

/* A forward zone's own TTL caps (node-local cache mode, issue 13): its
 * positive records at most max-ttl, its negative answers at most
 * max-negative-ttl, in the cache and in the first answer alike; other
 * zones keep their TTLs. */
START_TEST(forward_zone_ttl_caps)
{
	uint8_t req[512], resp[1024];
	size_t l = tu_query(req, 3, RW_FLAG_RD, "www.capped.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 3);
	const struct urr a[] = {{RW_SEC_AN, "www.capped.", RW_TYPE_A, 300, "192.0.2.9"}};
	size_t rl = upstream(resp, sizeof resp, 0, "www.capped.", RW_TYPE_A, a, 1);
	struct rw_msg m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(m.rr[0][0].ttl, 30);
	struct rw_cache_entry e;
	uint8_t n[RW_NAME_MAX];
	tu_name("www.capped.", n);
	ck_assert_int_eq(
	    rw_cache_get(cache, n, RW_TYPE_A, RW_CLASS_IN, &arena, &e, &env.cache_stats), 0);
	ck_assert_uint_eq(e.set.ttl_s, 30);
	/* NXDOMAIN: its SOA (TTL 900, minimum 50) capped at 5 */
	l = tu_query(req, 3, RW_FLAG_RD, "gone.capped.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 3);
	const struct urr soa[] = {{RW_SEC_NS, "capped.", RW_TYPE_SOA, 900, NULL}};
	rl = upstream(resp, sizeof resp, RW_RCODE_NXDOMAIN, "gone.capped.", RW_TYPE_A, soa, 1);
	m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_le(m.rr[RW_SEC_NS][0].ttl, 5);
	tu_name("gone.capped.", n);
	ck_assert_int_eq(
	    rw_cache_get(cache, n, RW_TYPE_A, RW_CLASS_IN, &arena, &e, &env.cache_stats), 0);
	ck_assert_uint_le(e.soa.ttl_s, 5);
	/* another zone's TTL is its own */
	l = tu_query(req, 3, RW_FLAG_RD, "www.corp.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 1);
	const struct urr b[] = {{RW_SEC_AN, "www.corp.", RW_TYPE_A, 300, "192.0.2.10"}};
	rl = upstream(resp, sizeof resp, 0, "www.corp.", RW_TYPE_A, b, 1);
	m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(m.rr[0][0].ttl, 300);
}
END_TEST

/* Autopath (issue 13): a pod's first search name NAME.NS.svc.ZONE, which
 * does not exist, answered with a CNAME to the next search name that does
 * -- local, cached or upstream -- so the client stops after one round
 * trip; only for clients that are pods of NS. And --filter-aaaa. */
START_TEST(autopath_and_filter_aaaa)
{
	const char *text = "$TTL 30\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 10.96.0.10\n"
	                   "127-0-0-5.default.pod A 127.0.0.5\n"
	                   "web.default.svc A 10.0.0.1\n"
	                   "db.svc A 10.0.0.2\n";
	uint8_t o[RW_NAME_MAX], cl[RW_NAME_MAX];
	tu_name("cluster.local.", o);
	struct rw_zone *z;
	struct rw_zone_error ze;
	ck_assert_int_eq(rw_zone_load_text("c", text, strlen(text), o, &z, &ze), 0);
	rw_zoneset_add(zs, z);
	tu_name("cluster.local.", cl);
	env.autopath_zone = penv.autopath_zone = cl;
	struct sockaddr_in pod = {.sin_family = AF_INET}, other = {.sin_family = AF_INET};
	inet_pton(AF_INET, "127.0.0.5", &pod.sin_addr);
	inet_pton(AF_INET, "127.0.0.6", &other.sin_addr);
	env.client = penv.client = (struct sockaddr *)&pod;
	/* an external name, cached: one reply, the CNAME and its answer */
	cache_rr("www.up.far.", RW_TYPE_A, "192.0.2.44", 300);
	struct rw_msg m = ask("www.up.far.default.svc.cluster.local.", RW_TYPE_A, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.rr[0][0].type, RW_TYPE_CNAME);
	ck_assert(rw_name_eq(m.rr[0][0].rdata, (const uint8_t *)"\3www\2up\3far"));
	ck_assert_uint_eq(m.rr[0][1].rdata[3], 44);
	ck_assert_uint_eq(env.stats.autopath, 1);
	/* not cached: the search name goes upstream, the reply is built on
	 * its answer */
	uint8_t req[512], resp[1024];
	size_t l = tu_query(req, 4, RW_FLAG_RD, "api.far.default.svc.cluster.local.", RW_TYPE_A,
	                    RW_CLASS_IN);
	expect_forward(req, l, 0);
	ck_assert_mem_eq(fwd_q.qname, "\3api\3far", 9);
	const struct urr a[] = {{RW_SEC_AN, "api.far.", RW_TYPE_A, 300, "192.0.2.45"}};
	size_t rl = upstream(resp, sizeof resp, 0, "api.far.", RW_TYPE_A, a, 1);
	m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.rr[0][0].type, RW_TYPE_CNAME);
	ck_assert_uint_eq(m.rr[0][0].ttl, 5);
	ck_assert_uint_eq(m.rr[0][1].rdata[3], 45);
	/* the next search name is local: NAME.svc.ZONE */
	m = ask("db.default.svc.cluster.local.", RW_TYPE_A, false, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert(rw_name_eq(m.rr[0][0].rdata, (const uint8_t *)"\2db\3svc\7cluster\5local"));
	ck_assert_uint_eq(m.rr[0][1].rdata[3], 2);
	/* names that exist, other namespaces, clients that are no pod: as
	 * before */
	m = ask("web.default.svc.cluster.local.", RW_TYPE_A, false, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	m = ask("www.up.far.shop.svc.cluster.local.", RW_TYPE_A, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	env.client = (struct sockaddr *)&other;
	m = ask("www.up.far.default.svc.cluster.local.", RW_TYPE_A, false, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(env.stats.autopath, 3);
	/* --filter-aaaa: AAAA outside the local zones is NODATA at once */
	env.filter_aaaa = true;
	size_t ol;
	l = tu_query(req, 4, RW_FLAG_RD, "www.up.far.", RW_TYPE_AAAA, RW_CLASS_IN);
	ck_assert_int_eq(rw_query_process(&env, req, l, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_REPLY);
	ck_assert_int_eq(rw_msg_parse(out, ol, &arena, &m), 0);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	ck_assert_uint_eq(env.stats.aaaa_filtered, 1);
	m = ask("web.default.svc.cluster.local.", RW_TYPE_AAAA, false, NULL); /* local: its own */
	ck_assert_uint_eq(env.stats.aaaa_filtered, 1);
	env.filter_aaaa = false;
	env.client = penv.client = NULL;
	env.autopath_zone = penv.autopath_zone = NULL;
}
END_TEST

START_TEST(servfail_carries_ede)
{
	uint8_t req[512];
	size_t l = tu_query(req, 5, RW_FLAG_RD, "dead.far.", RW_TYPE_A, RW_CLASS_IN);
	l = tu_opt(req, l, 1232, 0, 0);
	expect_forward(req, l, 0);
	struct rw_ede ede = {RW_EDE_NO_REACHABLE_AUTHORITY, "no reachable authority"};
	struct rw_msg m = finish_ede(req, l, RW_TRANSPORT_UDP, NULL, 0, NULL, &ede);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
	ck_assert_uint_eq(m.edns.opts_len, 6 + 22);
	ck_assert_uint_eq(rw_get16(m.edns.opts), RW_EDNS_EDE);
	ck_assert_uint_eq(rw_get16(m.edns.opts + 4), 22);
	ck_assert_mem_eq(m.edns.opts + 6, "no reachable authority", 22);
	/* without EDNS from the client: no OPT, still SERVFAIL */
	l = tu_query(req, 5, RW_FLAG_RD, "dead.far.", RW_TYPE_A, RW_CLASS_IN);
	m = finish_ede(req, l, RW_TRANSPORT_UDP, NULL, 0, NULL, &ede);
	ck_assert(!m.edns.present);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
}
END_TEST

/* The reply rw_query_finish writes for a waiting request and an answer
 * (NULL: the refresh failed). */
static struct rw_msg finish_req(const struct rw_request *rq, const struct rw_answer *ans)
{
	size_t ol = 0;
	ck_assert_int_eq(rw_query_finish(&env, rq, ans, out, sizeof out, &ol), RW_QUERY_REPLY);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(out, ol, &arena, &m), 0);
	return m;
}

static uint16_t ede_of(const struct rw_msg *m)
{
	return m->edns.opts_len >= 6 && rw_get16(m->edns.opts) == RW_EDNS_EDE
	           ? rw_get16(m->edns.opts + 4)
	           : 0xFFFF;
}

/* Serve-stale (RFC 8767): expired data goes out only when its refresh
 * fails (or is late: the daemon's timer hands a SERVFAIL over), with the
 * stale TTL and EDE 3 (19 for NXDOMAIN); while a failed refresh is held,
 * at once; never when the feature is off, nor for a name a local zone
 * holds. */
START_TEST(serve_stale_answers)
{
	env.stale_ttl = 30;
	cache_rr("old.far.", RW_TYPE_A, "192.0.2.7", 10);
	clock_ms += 11000;
	uint8_t req[512];
	size_t l = tu_query(req, 9, RW_FLAG_RD, "Old.Far.", RW_TYPE_A, RW_CLASS_IN);
	l = tu_opt(req, l, 1232, 0, 0);
	expect_forward(req, l, 0); /* the refresh comes first */
	ck_assert(env.request.stale);
	struct rw_request rq = env.request;
	struct rw_msg m = finish_req(&rq, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][0].ttl, 30);
	ck_assert_mem_eq(m.rr[RW_SEC_AN][0].owner, "\3Old\3Far", 9);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][0].rdata[3], 7);
	ck_assert_uint_eq(ede_of(&m), RW_EDE_STALE_ANSWER);
	ck_assert_uint_eq(env.stats.stale_served, 1);
	/* a SERVFAIL (a failed or late refresh) is answered the same way */
	struct rw_answer *sf = rw_answer_servfail(RW_EDE_NO_REACHABLE_AUTHORITY, "late");
	m = finish_req(&rq, sf);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(ede_of(&m), RW_EDE_STALE_ANSWER);
	/* while the failed refresh is held: stale data at once, no upstream */
	bool first;
	uint8_t n[RW_NAME_MAX];
	tu_name("old.far.", n);
	env.failures = rw_failcache_new(16, 1000, 8000, test_clock, NULL);
	rw_failcache_note_floor(env.failures, n, RW_TYPE_A, rw_question_tag(&fwd_q), 30000, &first);
	m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][0].ttl, 30);
	ck_assert_uint_eq(ede_of(&m), RW_EDE_STALE_ANSWER);
	ck_assert_uint_eq(env.stats.failures_cached, 0);
	ck_assert_uint_eq(env.stats.stale_served, 3);
	rw_failcache_free(env.failures);
	env.failures = NULL;
	/* a stale NXDOMAIN: EDE 19, the SOA with the stale TTL */
	cache_negative("gone.far.", RW_CACHE_NXDOMAIN, 0); /* 50 s */
	clock_ms += 51000;
	l = tu_query(req, 9, RW_FLAG_RD, "gone.far.", RW_TYPE_AAAA, RW_CLASS_IN);
	l = tu_opt(req, l, 1232, 0, 0);
	expect_forward(req, l, 0);
	rq = env.request;
	m = finish_req(&rq, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][0].ttl, 30);
	ck_assert_uint_eq(ede_of(&m), RW_EDE_STALE_NXDOMAIN);
	/* fresh data of any kind wins over stale data */
	cache_negative("old.far.", RW_CACHE_NODATA, RW_TYPE_A);
	l = tu_query(req, 9, RW_FLAG_RD, "old.far.", RW_TYPE_A, RW_CLASS_IN);
	m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1); /* NODATA, fresh */
	/* no stale data: SERVFAIL with the failure's EDE */
	l = tu_query(req, 9, RW_FLAG_RD, "new.far.", RW_TYPE_A, RW_CLASS_IN);
	l = tu_opt(req, l, 1232, 0, 0);
	expect_forward(req, l, 0);
	ck_assert(!env.request.stale);
	rq = env.request;
	m = finish_req(&rq, sf);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
	ck_assert_uint_eq(ede_of(&m), RW_EDE_NO_REACHABLE_AUTHORITY);
	/* a name a local zone holds is never answered stale */
	rq.qname_len = (uint8_t)tu_name("gone.example.", rq.qname);
	rq.stale = true;
	cache_negative("gone.example.", RW_CACHE_NXDOMAIN, 0);
	clock_ms += 51000;
	m = finish_req(&rq, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
	/* serve-stale off: the expired data is not offered */
	env.stale_ttl = 0;
	cache_rr("off.far.", RW_TYPE_A, "192.0.2.9", 10);
	clock_ms += 11000;
	l = tu_query(req, 9, RW_FLAG_RD, "off.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	ck_assert(!env.request.stale);
	rq = env.request;
	rq.stale = true; /* even when asked to */
	m = finish_req(&rq, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
	rw_answer_unref(sf);
}
END_TEST

/* A miss whose answer reaches the cache before the client joins the
 * question's flight (the previous flight stored it meanwhile):
 * rw_query_cached sees it without counting a lookup, and
 * rw_answer_in_cache() is answered from the cache -- positive, negative,
 * a local alias's target -- or SERVFAIL when the data is gone again. */
START_TEST(answer_landed_in_cache)
{
	uint8_t req[512];
	size_t l = tu_query(req, 9, RW_FLAG_RD, "Late.Far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	struct rw_request rq = env.request;
	ck_assert(!rw_query_cached(&env, &fwd_q));
	cache_rr("late.far.", RW_TYPE_A, "192.0.2.9", 300);
	struct rw_cache_stats before = env.cache_stats;
	ck_assert(rw_query_cached(&env, &fwd_q));
	ck_assert_mem_eq(&before, &env.cache_stats, sizeof before);
	struct rw_answer *in = rw_answer_in_cache();
	ck_assert(in->in_cache);
	struct rw_msg m = finish_req(&rq, in);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_mem_eq(m.rr[RW_SEC_AN][0].owner, "\4Late\3Far", 10);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][0].rdata[3], 9);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][0].ttl, 300);
	ck_assert_int_eq(env.last.source, RW_SOURCE_CACHE);
	/* negative */
	l = tu_query(req, 9, RW_FLAG_RD, "nx.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	rq = env.request;
	ck_assert(!rw_query_cached(&env, &fwd_q));
	cache_negative("nx.far.", RW_CACHE_NXDOMAIN, 0);
	ck_assert(rw_query_cached(&env, &fwd_q));
	m = finish_req(&rq, in);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NXDOMAIN);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	ck_assert_uint_eq(m.nrr[RW_SEC_NS], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_NS][0].type, RW_TYPE_SOA);
	/* a local alias: its chain, then the target's cached data */
	size_t ol;
	l = tu_query(req, 9, RW_FLAG_RD, "Out.Example.", RW_TYPE_A, RW_CLASS_IN);
	ck_assert_int_eq(rw_query_process(&penv, req, l, RW_TRANSPORT_UDP, out, sizeof out, &ol),
	                 RW_QUERY_UPSTREAM);
	rq = penv.request;
	struct rw_question q;
	rw_request_question(&rq, &q);
	ck_assert(!rw_query_cached(&env, &q));
	cache_rr("www.elsewhere.", RW_TYPE_A, "192.0.2.10", 300);
	ck_assert(rw_query_cached(&env, &q));
	m = finish_req(&rq, in);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_NOERROR);
	ck_assert_mem_eq(m.qname, "\3Out\7Example", 13);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 2);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][0].type, RW_TYPE_CNAME);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][1].rdata[3], 10);
	/* gone again (evicted, flushed): SERVFAIL, not an empty answer */
	l = tu_query(req, 9, RW_FLAG_RD, "gone.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	rq = env.request;
	m = finish_req(&rq, in);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	rw_answer_unref(in);
}
END_TEST

/* Prefetch: a hit in the last 10% of its TTL is answered as usual and
 * hands the daemon a request to refresh it in the background; not
 * earlier, not for CD=1 or RD=0, not without a route; the keep-warm list
 * builds the same request. */
START_TEST(prefetch_requests)
{
	cache_rr("hot.far.", RW_TYPE_A, "192.0.2.8", 100);
	uint8_t req[512];
	size_t l = tu_query(req, 9, RW_FLAG_RD, "Hot.Far.", RW_TYPE_A, RW_CLASS_IN);
	struct rw_msg m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert(!env.prefetch);
	clock_ms += 91000; /* 9 s of 100 left */
	m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][0].ttl, 9); /* answered at once */
	ck_assert(env.prefetch);
	ck_assert_int_eq(env.request.route, RW_ROUTE_FORWARD);
	ck_assert_uint_eq(env.request.qtype, RW_TYPE_A);
	ck_assert_mem_eq(env.request.qname, "\3Hot\3Far", 9);
	l = tu_query(req, 9, RW_FLAG_RD | RW_FLAG_CD, "hot.far.", RW_TYPE_A, RW_CLASS_IN);
	run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert(!env.prefetch); /* a CD=1 answer would not be cached */
	l = tu_query(req, 9, 0, "hot.far.", RW_TYPE_A, RW_CLASS_IN);
	run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert(!env.prefetch); /* RD=0: the cache only */
	struct rw_request rq;
	uint8_t n[RW_NAME_MAX];
	tu_name("Warm.Far.", n);
	ck_assert(rw_query_refresh_request(&env, n, RW_TYPE_AAAA, &rq));
	ck_assert_int_eq(rq.route, RW_ROUTE_FORWARD);
	ck_assert_uint_eq(rq.group, 0);
	ck_assert_uint_eq(rq.qtype, RW_TYPE_AAAA);
	ck_assert_mem_eq(rq.qname, "\4warm\3far", 10);
	tu_name("x.lab.corp.", n);
	ck_assert(rw_query_refresh_request(&env, n, RW_TYPE_A, &rq));
	ck_assert_uint_eq(rq.group, 2);
	env.default_route = RW_ROUTE_NONE;
	tu_name("x.elsewhere.", n);
	ck_assert(!rw_query_refresh_request(&env, n, RW_TYPE_A, &rq));
	env.default_route = RW_ROUTE_FORWARD;
}
END_TEST

/* RFC 9520: while a failure is held, the question -- or any name under a
 * held delegation of the same route -- is SERVFAIL at once, EDE 13. */
START_TEST(held_failures_answer_at_once)
{
	struct rw_failcache *fc = rw_failcache_new(100, 1000, 5000, NULL, NULL);
	env.failures = fc;
	uint8_t req[512], n[RW_NAME_MAX];
	size_t l = tu_query(req, 9, RW_FLAG_RD, "down.far.", RW_TYPE_A, RW_CLASS_IN);
	l = tu_opt(req, l, 1232, 0, 0);
	expect_forward(req, l, 0); /* nothing held yet */
	bool first;
	tu_name("down.far.", n);
	rw_failcache_note(fc, n, RW_TYPE_A, rw_question_tag(&fwd_q), &first);
	struct rw_msg m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
	ck_assert_uint_eq(rw_get16(m.edns.opts), RW_EDNS_EDE);
	ck_assert_uint_eq(rw_get16(m.edns.opts + 4), RW_EDE_CACHED_ERROR);
	ck_assert_uint_eq(env.stats.failures_cached, 1);
	/* a held forward group (type 0 at its zone) holds its other names,
	 * but not another group's */
	tu_name("lab.corp.", n);
	rw_failcache_note(fc, n, 0, 2 + 1, &first); /* group 2: lab.corp. */
	l = tu_query(req, 9, RW_FLAG_RD, "x.lab.corp.", RW_TYPE_AAAA, RW_CLASS_IN);
	m = run(req, l, RW_TRANSPORT_UDP, NULL);
	ck_assert_uint_eq(RW_RCODE(m.flags), RW_RCODE_SERVFAIL);
	l = tu_query(req, 9, RW_FLAG_RD, "x.corp.", RW_TYPE_AAAA, RW_CLASS_IN);
	expect_forward(req, l, 1);
	env.failures = NULL;
	rw_failcache_free(fc);
}
END_TEST

START_TEST(forward_reply_sizes)
{
	uint8_t req[512], resp[8192];
	struct urr many[60]; /* 60 A records: over 512 bytes, under 1232 */
	char addrs[60][16];
	for (int i = 0; i < 60; i++) {
		snprintf(addrs[i], sizeof addrs[i], "10.0.0.%d", i);
		many[i] = (struct urr){RW_SEC_AN, "big.far.", RW_TYPE_A, 300, addrs[i]};
	}
	size_t l = tu_query(req, 3, RW_FLAG_RD, "big.far.", RW_TYPE_A, RW_CLASS_IN);
	expect_forward(req, l, 0);
	size_t rl = upstream(resp, sizeof resp, 0, "big.far.", RW_TYPE_A, many, 60);
	ck_assert_uint_gt(rl, 512);
	size_t ol;
	/* UDP without EDNS: 512 bytes, TC, no partial RRset */
	struct rw_msg m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, &ol);
	ck_assert_uint_le(ol, 512);
	ck_assert(m.flags & RW_FLAG_TC);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 0);
	/* EDNS 1232: fits */
	l = tu_opt(req, l, 1232, 0, 0);
	m = finish(req, l, RW_TRANSPORT_UDP, resp, rl, &ol);
	ck_assert(!(m.flags & RW_FLAG_TC));
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 60);
	ck_assert(m.edns.present);
	/* TCP: the whole answer */
	l = tu_query(req, 3, RW_FLAG_RD, "big.far.", RW_TYPE_A, RW_CLASS_IN);
	m = finish(req, l, RW_TRANSPORT_TCP, resp, rl, &ol);
	ck_assert(!(m.flags & RW_FLAG_TC));
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 60);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("query");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, drops);
	tcase_add_test(tc, identity_nsid_and_chaos);
	tcase_add_test(tc, header_errors);
	tcase_add_test(tc, header_counts_and_signed_queries);
	tcase_add_test(tc, edns_badvers_and_do);
	tcase_add_test(tc, class_and_type_policy);
	tcase_add_test(tc, positive_answer);
	tcase_add_test(tc, negative_answers);
	tcase_add_test(tc, cnames_and_wildcards);
	tcase_add_test(tc, sizes_and_truncation);
	tcase_add_test(tc, round_robin);
	tcase_add_test(tc, access_control);
	suite_add_tcase(s, tc);
	TCase *tcc = tcase_create("cache");
	tcase_add_checked_fixture(tcc, cache_setup, cache_teardown);
	tcase_add_test(tcc, cache_positive_and_countdown);
	tcase_add_test(tcc, cache_cname_assembly);
	tcase_add_test(tcc, cache_negative_answers);
	tcase_add_test(tcc, cache_after_local_zones);
	tcase_add_test(tcc, cache_glue_is_no_answer);
	suite_add_tcase(s, tcc);
	TCase *tcf = tcase_create("forward");
	tcase_add_checked_fixture(tcf, fwd_setup, fwd_teardown);
	tcase_add_test(tcf, forward_routes_and_ra);
	tcase_add_test(tcf, forward_request_bytes);
	tcase_add_test(tcf, forward_accept_checks);
	tcase_add_test(tcf, forward_caches_chain_and_replies);
	tcase_add_test(tcf, forward_negative_cached);
	tcase_add_test(tcf, forward_reply_sizes);
	tcase_add_test(tcf, servfail_carries_ede);
	tcase_add_test(tcf, local_alias_chased_upstream);
	tcase_add_test(tcf, answer_landed_in_cache);
	tcase_add_test(tcf, forward_zone_ttl_caps);
	tcase_add_test(tcf, autopath_and_filter_aaaa);
	tcase_add_test(tcf, held_failures_answer_at_once);
	tcase_add_test(tcf, serve_stale_answers);
	tcase_add_test(tcf, prefetch_requests);
	tcase_add_test(tcf, dnssec_records_for_do_clients);
	tcase_add_test(tcf, forward_do_and_cd);
	suite_add_tcase(s, tcf);
	return tu_run(s);
}
