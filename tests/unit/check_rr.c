/* Unit tests: the RR type table, rdata wire validation and presentation. */
#include "rootwalk/err.h"
#include "rootwalk/rr.h"
#include "testutil.h"

#include <stdio.h>

/* Splits text into tokens the way the zone parser does (simplified:
 * spaces separate, "..." quotes). */
static size_t tokenize(char *text, struct rw_tok *toks, size_t max)
{
	size_t n = 0;
	char *p = text;
	while (*p && n < max) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		if (*p == '"') {
			char *s = ++p;
			while (*p && *p != '"') {
				if (*p == '\\' && p[1])
					p++;
				p++;
			}
			toks[n++] = (struct rw_tok){s, (size_t)(p - s), true};
			if (*p)
				p++;
			continue;
		}
		char *s = p;
		while (*p && *p != ' ')
			p++;
		toks[n++] = (struct rw_tok){s, (size_t)(p - s), false};
	}
	return n;
}

static int parse(uint16_t type, const char *text, uint8_t *out, size_t *len, const char **why)
{
	char buf[2048];
	snprintf(buf, sizeof buf, "%s", text);
	struct rw_tok toks[64];
	size_t n = tokenize(buf, toks, 64);
	uint8_t origin[RW_NAME_MAX];
	tu_name("example.com.", origin);
	struct rw_wbuf w;
	rw_wbuf_init(&w, out, 65535);
	int e = rw_rdata_from_text(type, toks, n, origin, &w, why);
	*len = w.len;
	return e;
}

START_TEST(roundtrip_all_types)
{
	static const struct {
		uint16_t type;
		const char *in, *out;
	} cases[] = {
	    {RW_TYPE_A, "192.0.2.1", "192.0.2.1"},
	    {RW_TYPE_AAAA, "2001:db8::1", "2001:db8::1"},
	    {RW_TYPE_NS, "ns1", "ns1.example.com."},
	    {RW_TYPE_CNAME, "target.other.", "target.other."},
	    {RW_TYPE_PTR, "host.example.", "host.example."},
	    {RW_TYPE_MX, "10 mail", "10 mail.example.com."},
	    {RW_TYPE_SOA, "ns hostmaster 2026 1h 30m 1w 300",
	     "ns.example.com. hostmaster.example.com. 2026 3600 1800 604800 300"},
	    {RW_TYPE_TXT, "\"hello world\" \"a\\\"b\" plain",
	     "\"hello world\" \"a\\\"b\" \"plain\""},
	    {RW_TYPE_TXT, "\"\\065\\010\"", "\"A\\010\""},
	    {RW_TYPE_SRV, "0 100 8080 svc", "0 100 8080 svc.example.com."},
	    {RW_TYPE_CAA, "0 issue \"ca.example.net\"", "0 issue \"ca.example.net\""},
	    {RW_TYPE_HINFO, "\"PC\" \"Linux\"", "\"PC\" \"Linux\""},
	    {RW_TYPE_DNAME, "other.", "other."},
	    {999, "\\# 3 abcdef", "\\# 3 abcdef"},
	    {999, "\\# 0", "\\# 0"},
	    {RW_TYPE_A, "\\# 4 c0000201", "192.0.2.1"},
	    {48, "\\# 4 0101 0203", "\\# 4 01010203"}, /* not a DNSKEY's shape: as it came */
	    /* the opaque types' presentation forms (rrtext.c) */
	    {48, "257 3 8 AwEAAagAIKlV ZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8=",
	     "257 3 8 AwEAAagAIKlVZrpC6Ia7gEzahOR+9W29euxhJhVVLOyQbSEW0O8="},
	    {RW_TYPE_DS, "60485 5 1 2bb183af5f22588179a53b0a98631fad1a292118",
	     "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118"},
	    {59, "0 0 0 00", "0 0 0 00"},
	    {60, "257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4=",
	     "257 3 15 l02Woi0iS8Aa25FQkUd9RMzZHJpBoRQwAQEX1SxZJA4="},
	    {RW_TYPE_RRSIG, "A 8 3 3600 20270101000000 20261201000000 12345 example.com. ZmFrZQ==",
	     "A 8 3 3600 20270101000000 20261201000000 12345 example.com. ZmFrZQ=="},
	    {RW_TYPE_RRSIG, "TYPE999 8 3 60 1798761600 1796083200 1 . AAAA",
	     "TYPE999 8 3 60 20270101000000 20261201000000 1 . AAAA"},
	    {RW_TYPE_NSEC, "next A NS SOA RRSIG NSEC DNSKEY CAA TYPE1234",
	     "next.example.com. A NS SOA RRSIG NSEC DNSKEY CAA TYPE1234"},
	    {RW_TYPE_NSEC3, "1 1 12 aabbccdd 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS SOA",
	     "1 1 12 AABBCCDD 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR NS SOA"},
	    {RW_TYPE_NSEC3, "1 0 0 - 2t7b4g4vsa5smi47k61mv5bv1a22bojr",
	     "1 0 0 - 2T7B4G4VSA5SMI47K61MV5BV1A22BOJR"},
	    {51, "1 0 10 -", "1 0 10 -"},
	    {35, "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp",
	     "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com."},
	    {44, "4 2 1234 56789abcdef0", "4 2 123456789ABCDEF0"},
	    {52, "3 1 1 0C72AC70", "3 1 1 0C72AC70"},
	    {53, "3 0 1 7FDB", "3 0 1 7FDB"},
	    {37, "PGP 0 0 mQGiBDnY", "3 0 0 mQGiBDnY"},
	    {37, "65000 1 2 AA==", "65000 1 2 AA=="},
	    {61, "mQINBFit", "mQINBFit"},
	    {64, "0 svc.example.", "0 svc.example."},
	    {65, "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1",
	     "1 . alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1"},
	    {64, "16 foo.example. key65000=\"hi\" no-default-alpn alpn=h2 mandatory=alpn",
	     "16 foo.example. mandatory=alpn alpn=\"h2\" no-default-alpn key65000=\"hi\""},
	    {65, "1 . ech=AEX+DQBBpQAgACD/yTQ=", "1 . ech=AEX+DQBBpQAgACD/yTQ="},
	    {RW_TYPE_URI, "10 1 \"ftp://ftp1.example.com/public\"",
	     "10 1 \"ftp://ftp1.example.com/public\""},
	    {29, "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
	     "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000.00m 10.00m"},
	    {29, "42 21 54 N 71 06 18 W -24m 30m",
	     "42 21 54.000 N 71 6 18.000 W -24.00m 30.00m 10000.00m 10.00m"},
	    {29, "0 S 0 W 0", "0 0 0.000 N 0 0 0.000 E 0.00m 1.00m 10000.00m 10.00m"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t rd[65536];
		size_t len;
		const char *why;
		ck_assert_msg(parse(cases[i].type, cases[i].in, rd, &len, &why) == 0, "%s: %s",
		              cases[i].in, why);
		char text[4096];
		ck_assert_int_gt(rw_rdata_to_text(cases[i].type, rd, len, text, sizeof text), 0);
		ck_assert_str_eq(text, cases[i].out);
		/* Canonical rdata also passes wire validation unchanged. */
		uint8_t copy[65536];
		struct rw_rbuf r = {rd, len, 0, RW_MSG_PTRS(len)};
		struct rw_wbuf w = {copy, sizeof copy, 0};
		ck_assert_int_eq(rw_rdata_read(&r, cases[i].type, (uint16_t)len, &w), 0);
		ck_assert_uint_eq(w.len, len);
		ck_assert_mem_eq(copy, rd, len);
	}
}
END_TEST

START_TEST(text_errors)
{
	static const struct {
		uint16_t type;
		const char *in;
	} bad[] = {
	    {RW_TYPE_A, "192.0.2"},
	    {RW_TYPE_A, "192.0.2.1 extra"},
	    {RW_TYPE_A, ""},
	    {RW_TYPE_A, "\"192.0.2.1\""},
	    {RW_TYPE_AAAA, "2001:db8:::1"},
	    {RW_TYPE_MX, "70000 mail"},
	    {RW_TYPE_MX, "-1 mail"},
	    {RW_TYPE_MX, "10"},
	    {RW_TYPE_NS, "a..b"},
	    {RW_TYPE_SOA, "ns hm 1 2 3 4"},
	    {RW_TYPE_SOA, "ns hm 1 2 3 4 5x"},
	    {RW_TYPE_SRV, "0 0 99999 x"},
	    {RW_TYPE_CAA, "256 issue \"x\""},
	    {RW_TYPE_CAA, "0 \"\" \"x\""},
	    {RW_TYPE_TXT, ""},
	    {999, "abc"},
	    {999, "\\# 2 abcdef"},
	    {999, "\\# 3 abcde"},
	    {999, "\\# 1 zz"},
	    {999, "\\#"},
	    {48, "257 3 8 AQA"},       /* base64 not a multiple of 4 */
	    {48, "257 3 8 AQ!B"},      /* not base64 */
	    {48, "257 3"},             /* too few fields */
	    {RW_TYPE_DS, "1 2 3 XYZ"}, /* not hex */
	    {RW_TYPE_DS, "1 2 3 ABC"}, /* odd digits */
	    {RW_TYPE_RRSIG, "A 8 3 60 20271301000000 20261201000000 1 . AAAA"}, /* month 13 */
	    {RW_TYPE_RRSIG, "NOPE 8 3 60 1 1 1 . AAAA"},
	    {RW_TYPE_NSEC, "next A BOGUS"},
	    {RW_TYPE_NSEC3, "1 0 0 - 2T7B!"},
	    {RW_TYPE_NSEC3, "1 0 0 xyz 2T7B"},
	    {65, "1 . port=99999"},
	    {65, "1 . alpn"},          /* a key that needs a value */
	    {65, "1 . port=1 port=2"}, /* a key twice */
	    {65, "1 . ipv4hint=1.2.3"},
	    {65, "1 . nokey=1"},
	    {65, "1 . no-default-alpn=x"},
	    {29, "91 N 0 E 0"},
	    {29, "1 2 3 X 0 E 0"},
	    {29, "1 N 0 E 0 1 2 3 4"}, /* too many sizes */
	    {37, "NOPE 0 0 AA=="},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint8_t rd[65536];
		size_t len;
		const char *why = NULL;
		ck_assert_msg(parse(bad[i].type, bad[i].in, rd, &len, &why) == RW_EMALFORMED,
		              "accepted type %u '%s'", bad[i].type, bad[i].in);
		ck_assert_ptr_nonnull(why);
	}
	/* A character string over 255 bytes. */
	char long_txt[400];
	memset(long_txt, 'a', 300);
	long_txt[300] = 0;
	uint8_t rd[65536];
	size_t len;
	const char *why;
	ck_assert_int_eq(parse(RW_TYPE_TXT, long_txt, rd, &len, &why), RW_EMALFORMED);
}
END_TEST

START_TEST(wire_validation)
{
	uint8_t out[1024];
	/* A with 3 bytes; MX with trailing junk; TXT whose string overruns;
	 * SOA cut short; a compressed name inside MX that points back. */
	static const struct {
		uint16_t type;
		uint8_t rd[16];
		uint16_t len;
		int ok;
	} cases[] = {
	    {RW_TYPE_A, {1, 2, 3}, 3, 0},      {RW_TYPE_A, {1, 2, 3, 4}, 4, 1},
	    {RW_TYPE_MX, {0, 10, 0, 9}, 4, 0}, {RW_TYPE_MX, {0, 10, 0}, 3, 1},
	    {RW_TYPE_TXT, {5, 'a'}, 2, 0},     {RW_TYPE_TXT, {1, 'a', 0}, 3, 1},
	    {RW_TYPE_TXT, {0}, 0, 0},          {RW_TYPE_SOA, {0, 0, 1, 2}, 4, 0},
	    {RW_TYPE_CAA, {0, 0, 'x'}, 3, 0},  {999, {1, 2}, 2, 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rw_rbuf r = {cases[i].rd, cases[i].len, 0, RW_MSG_PTRS(cases[i].len)};
		struct rw_wbuf w = {out, sizeof out, 0};
		int e = rw_rdata_read(&r, cases[i].type, cases[i].len, &w);
		ck_assert_msg((e == 0) == cases[i].ok, "case %zu: %d", i, e);
	}
	/* Decompression: message "\3foo\0" then MX rdata {0,5, ptr->0}. */
	const uint8_t msg[] = {3, 'f', 'o', 'o', 0, 0, 5, 0xC0, 0};
	struct rw_rbuf r = {msg, sizeof msg, 5, RW_MSG_PTRS(sizeof msg)};
	struct rw_wbuf w = {out, sizeof out, 0};
	ck_assert_int_eq(rw_rdata_read(&r, RW_TYPE_MX, 4, &w), 0);
	ck_assert_uint_eq(w.len, 7);
	ck_assert_mem_eq(out, "\0\5\3foo", 7);
	/* RDLENGTH larger than what is left. */
	r = (struct rw_rbuf){msg, sizeof msg, 5};
	ck_assert_int_eq(rw_rdata_read(&r, 999, 10, &w), RW_EMALFORMED);
	/* Output too small. */
	struct rw_wbuf tiny = {out, 2, 0};
	r = (struct rw_rbuf){msg, sizeof msg, 5};
	ck_assert_int_ne(rw_rdata_read(&r, RW_TYPE_MX, 4, &tiny), 0);
}
END_TEST

START_TEST(types_classes_ttls)
{
	uint16_t t;
	char buf[32];
	ck_assert_int_eq(rw_type_from_text("aaaa", 4, &t), 0);
	ck_assert_uint_eq(t, RW_TYPE_AAAA);
	ck_assert_int_eq(rw_type_from_text("TYPE65280", 9, &t), 0);
	ck_assert_uint_eq(t, 65280);
	ck_assert_int_eq(rw_type_from_text("TYPE65536", 9, &t), RW_EMALFORMED);
	ck_assert_int_eq(rw_type_from_text("BOGUS", 5, &t), RW_EMALFORMED);
	ck_assert_str_eq(rw_type_to_text(65280, buf, sizeof buf), "TYPE65280");
	ck_assert_str_eq(rw_type_to_text(RW_TYPE_SRV, buf, sizeof buf), "SRV");
	ck_assert(rw_type_known(RW_TYPE_CAA));
	ck_assert(!rw_type_known(46));
	ck_assert_int_eq(rw_class_from_text("in", 2, &t), 0);
	ck_assert_uint_eq(t, 1);
	ck_assert_int_eq(rw_class_from_text("CLASS3", 6, &t), 0);
	ck_assert_uint_eq(t, 3);
	ck_assert_int_eq(rw_class_from_text("XX", 2, &t), RW_EMALFORMED);
	ck_assert_str_eq(rw_class_to_text(999, buf, sizeof buf), "CLASS999");
	static const struct {
		const char *in;
		long out;
	} ttls[] = {{"0", 0},
	            {"3600", 3600},
	            {"1h30m", 5400},
	            {"1w", 604800},
	            {"2D", 172800},
	            {"1h1s", 3601},
	            {"1h30", -1},
	            {"h", -1},
	            {"1x", -1},
	            {"", -1},
	            {"2147483647", 2147483647},
	            {"2147483648", -1},
	            {"99999999999", -1},
	            {"1000000w", -1}};
	for (size_t i = 0; i < sizeof ttls / sizeof ttls[0]; i++) {
		uint32_t v;
		int e = rw_ttl_from_text(ttls[i].in, strlen(ttls[i].in), &v);
		if (ttls[i].out < 0)
			ck_assert_msg(e == RW_EMALFORMED, "accepted TTL '%s'", ttls[i].in);
		else
			ck_assert_msg(e == 0 && v == (uint32_t)ttls[i].out, "TTL '%s'", ttls[i].in);
	}
}
END_TEST

START_TEST(rr_line)
{
	uint8_t owner[RW_NAME_MAX];
	tu_name("www.example.com.", owner);
	const uint8_t a[] = {192, 0, 2, 7};
	char line[256];
	ck_assert_int_gt(rw_rr_to_text(owner, RW_TYPE_A, 1, 300, a, 4, line, sizeof line), 0);
	ck_assert_str_eq(line, "www.example.com. 300 IN A 192.0.2.7");
	/* Malformed rdata of a known type prints generically. */
	ck_assert_int_gt(rw_rr_to_text(owner, RW_TYPE_A, 1, 1, a, 3, line, sizeof line), 0);
	ck_assert_str_eq(line, "www.example.com. 1 IN A \\# 3 c00002");
	ck_assert_int_eq(rw_rr_to_text(owner, RW_TYPE_A, 1, 1, a, 4, line, 10), RW_ETRUNC);
}
END_TEST

/* Each type's shape, derived from its fields, says how a message's rdata
 * of it is read (issue 11: the cost of each shape is bounded). */
START_TEST(type_shapes)
{
	static const struct {
		uint16_t type;
		uint8_t shape, pre, nnames, post;
		uint16_t fixed;
	} cases[] = {
	    {RW_TYPE_A, RW_SHAPE_FIXED, 0, 0, 0, 4},
	    {RW_TYPE_AAAA, RW_SHAPE_FIXED, 0, 0, 0, 16},
	    {RW_TYPE_NS, RW_SHAPE_NAME, 0, 0, 0, 0},
	    {RW_TYPE_CNAME, RW_SHAPE_NAME, 0, 0, 0, 0},
	    {RW_TYPE_PTR, RW_SHAPE_NAME, 0, 0, 0, 0},
	    {RW_TYPE_DNAME, RW_SHAPE_NAME, 0, 0, 0, 0},
	    {RW_TYPE_MX, RW_SHAPE_NAMED, 2, 1, 0, 0},
	    {RW_TYPE_SRV, RW_SHAPE_NAMED, 6, 1, 0, 0},
	    {RW_TYPE_SOA, RW_SHAPE_NAMED, 0, 2, 20, 0},
	    {RW_TYPE_TXT, RW_SHAPE_STRS, 0, 0, 0, 0},
	    {RW_TYPE_HINFO, RW_SHAPE_CHECKED, 0, 0, 0, 0},
	    {RW_TYPE_CAA, RW_SHAPE_CHECKED, 0, 0, 0, 0},
	    {RW_TYPE_DS, RW_SHAPE_OPAQUE, 0, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct rw_type_desc *d = rw_type_desc_fast(cases[i].type);
		ck_assert_ptr_nonnull(d);
		ck_assert_ptr_eq(d, rw_type_desc(cases[i].type));
		ck_assert_uint_eq(d->shape, cases[i].shape);
		ck_assert_uint_eq(d->fixed_len, cases[i].fixed);
		if (d->shape == RW_SHAPE_NAMED) {
			ck_assert_uint_eq(d->pre, cases[i].pre);
			ck_assert_uint_eq(d->nnames, cases[i].nnames);
			ck_assert_uint_eq(d->post, cases[i].post);
		}
	}
	ck_assert_ptr_null(rw_type_desc_fast(0xFF00));
	ck_assert_ptr_null(rw_type_desc_fast(200));
}
END_TEST

START_TEST(soa_negative_ttl)
{
	uint8_t rd[26] = {0}; /* root, root, then 5 counters: MINIMUM last */
	rw_put32(rd + 22, 60);
	ck_assert_uint_eq(rw_soa_negative_ttl(3600, rd, sizeof rd), 60);
	ck_assert_uint_eq(rw_soa_negative_ttl(30, rd, sizeof rd), 30);
	ck_assert_uint_eq(rw_soa_negative_ttl(30, rd, 3), 0); /* not an SOA */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rr");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, roundtrip_all_types);
	tcase_add_test(tc, text_errors);
	tcase_add_test(tc, wire_validation);
	tcase_add_test(tc, types_classes_ttls);
	tcase_add_test(tc, rr_line);
	tcase_add_test(tc, soa_negative_ttl);
	tcase_add_test(tc, type_shapes);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
