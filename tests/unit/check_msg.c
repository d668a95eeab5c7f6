/* Unit tests: message parsing (RFC 9267 cases), EDNS, the builder with
 * compression, marks and truncation. */
#include "rootwalk/err.h"
#include "rootwalk/msg.h"
#include "rootwalk/rr.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

static struct rw_arena arena;

static void setup(void)
{
	rw_arena_init(&arena, 4096, 1 << 20);
}
static void teardown(void)
{
	rw_arena_fini(&arena);
}

/* Appends one record whose owner is the given raw wire bytes (labels and
 * pointers as they stand), TTL 300, to a section. */
static size_t add_raw_sec(uint8_t *buf, size_t len, int section, const void *owner, size_t olen,
                          uint16_t type, const void *rd, uint16_t rdlen)
{
	memcpy(buf + len, owner, olen);
	len += olen;
	rw_put16(buf + len, type);
	rw_put16(buf + len + 2, 1);
	rw_put32(buf + len + 4, 300);
	rw_put16(buf + len + 8, rdlen);
	if (rdlen > 0)
		memcpy(buf + len + 10, rd, rdlen);
	rw_put16(buf + 6 + 2 * section, (uint16_t)(rw_get16(buf + 6 + 2 * section) + 1));
	return len + 10 + rdlen;
}

/* Appends one RR with an uncompressed owner. */
static size_t add_rr(uint8_t *buf, size_t len, int section, const char *owner, uint16_t type,
                     const uint8_t *rd, uint16_t rdlen)
{
	uint8_t n[RW_NAME_MAX];
	size_t nl = tu_name(owner, n);
	return add_raw_sec(buf, len, section, n, nl, type, rd, rdlen);
}

/* The same in the answer section, the owner raw. */
static size_t add_raw(uint8_t *pkt, size_t len, const void *owner, size_t olen, uint16_t type,
                      const void *rd, uint16_t rdlen)
{
	return add_raw_sec(pkt, len, RW_SEC_AN, owner, olen, type, rd, rdlen);
}

/* A reply is matched on its header and question before it is parsed:
 * whatever follows the question is not looked at (issue 11). */
START_TEST(reply_matched_before_parse)
{
	uint8_t pkt[600], q[RW_NAME_MAX];
	tu_name("www.example.", q);
	size_t l = tu_query(pkt, 7, RW_FLAG_QR, "WWW.Example.", RW_TYPE_A, RW_CLASS_IN);
	ck_assert(rw_msg_answers(pkt, l, q, RW_TYPE_A, RW_CLASS_IN));
	/* garbage after the question, and counts it cannot hold: still a
	 * match (the full parse, later, rejects it) */
	memset(pkt + l, 0xC0, 500);
	rw_put16(pkt + 6, 9999);
	ck_assert(rw_msg_answers(pkt, l + 500, q, RW_TYPE_A, RW_CLASS_IN));
	ck_assert(!rw_msg_answers(pkt, l, q, RW_TYPE_AAAA, RW_CLASS_IN));
	ck_assert(!rw_msg_answers(pkt, l, q, RW_TYPE_A, RW_CLASS_CH));
	uint8_t other[RW_NAME_MAX];
	tu_name("ww.example.", other);
	ck_assert(!rw_msg_answers(pkt, l, other, RW_TYPE_A, RW_CLASS_IN));
	ck_assert(!rw_msg_answers(pkt, 11, q, RW_TYPE_A, RW_CLASS_IN));
	ck_assert(!rw_msg_answers(pkt, l - 1, q, RW_TYPE_A, RW_CLASS_IN));
	pkt[2] &= 0x7F; /* a query, not a reply */
	ck_assert(!rw_msg_answers(pkt, l, q, RW_TYPE_A, RW_CLASS_IN));
	pkt[2] |= 0x80 | (4 << 3); /* NOTIFY */
	ck_assert(!rw_msg_answers(pkt, l, q, RW_TYPE_A, RW_CLASS_IN));
	pkt[2] = 0x80;
	rw_put16(pkt + 4, 2);
	ck_assert(!rw_msg_answers(pkt, l, q, RW_TYPE_A, RW_CLASS_IN));
	rw_put16(pkt + 4, 1);
	pkt[12] = 0xC0; /* a question that does not parse */
	pkt[13] = 12;
	ck_assert(!rw_msg_answers(pkt, l, q, RW_TYPE_A, RW_CLASS_IN));
}
END_TEST

START_TEST(parse_query)
{
	uint8_t pkt[512];
	size_t len = tu_query(pkt, 0x1234, RW_FLAG_RD, "WwW.Example.org.", RW_TYPE_AAAA, 1);
	len = tu_opt(pkt, len, 4096, 0, 1);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(pkt, len, &arena, &m), 0);
	ck_assert_uint_eq(m.id, 0x1234);
	ck_assert_uint_eq(m.flags, RW_FLAG_RD);
	ck_assert_uint_eq(m.qtype, RW_TYPE_AAAA);
	ck_assert_mem_eq(m.qname, "\3WwW\7Example\3org", 17);
	ck_assert(m.edns.present);
	ck_assert(m.edns.do_bit);
	ck_assert_uint_eq(m.edns.udp_size, 4096);
	ck_assert_uint_eq(m.nrr[RW_SEC_AR], 0); /* OPT is not a record */
}
END_TEST

START_TEST(parse_sections_and_decompression)
{
	uint8_t pkt[512];
	size_t len = tu_query(pkt, 1, RW_FLAG_QR, "example.org.", RW_TYPE_MX, 1);
	/* answer: owner = pointer to the question; MX target compressed */
	uint8_t *p = pkt + len;
	p[0] = 0xC0;
	p[1] = 12;
	rw_put16(p + 2, RW_TYPE_MX);
	rw_put16(p + 4, 1);
	rw_put32(p + 6, 60);
	rw_put16(p + 10, 4 + 2 + 2); /* pref, "\4mail", ptr */
	rw_put16(p + 12, 10);
	memcpy(p + 14, "\4mail", 5);
	p[19] = 0xC0;
	p[20] = 12;
	len += 21;
	rw_put16(pkt + 6, 1);
	/* RDLENGTH says 8 but fields take 9: malformed */
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(pkt, len, &arena, &m), RW_EMALFORMED);
	rw_put16(p + 10, 9);
	ck_assert_int_eq(rw_msg_parse(pkt, len, &arena, &m), 0);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 1);
	const struct rw_rr *rr = &m.rr[RW_SEC_AN][0];
	ck_assert_mem_eq(rr->owner, "\7example\3org", 13);
	ck_assert_uint_eq(rr->rdlen, 2 + 5 + 13);
	ck_assert_mem_eq(rr->rdata + 2, "\4mail\7example\3org", 18);
}
END_TEST

/* The parse remembers the names it read by position (issue 11): a later
 * pointer into the middle of one, to a pointer, or to a name that itself
 * ended in a remembered one must give what the plain walk gives, with the
 * same bounds. */
START_TEST(parse_names_remembered)
{
	uint8_t pkt[4096];
	size_t len = tu_query(pkt, 1, RW_FLAG_QR, "a.", RW_TYPE_A, 1);
	const uint8_t a4[4] = {192, 0, 2, 1};
	size_t www = len; /* www.example.com in place */
	len = add_raw(pkt, len, "\3www\7example\3com", 17, RW_TYPE_A, a4, 4);
	size_t b = len; /* b + pointer into www's run (example.com) */
	uint8_t o[4] = {1, 'b', 0xC0, (uint8_t)(www + 4)};
	len = add_raw(pkt, len, o, 4, RW_TYPE_A, a4, 4);
	uint8_t p1[2] = {0xC0, (uint8_t)(b + 2)}; /* to b's pointer */
	len = add_raw(pkt, len, p1, 2, RW_TYPE_A, a4, 4);
	uint8_t p2[2] = {0xC0, (uint8_t)b}; /* to b.example.com */
	len = add_raw(pkt, len, p2, 2, RW_TYPE_A, a4, 4);
	uint8_t c[4] = {1, 'c', 0xC0, (uint8_t)b}; /* ends in a name seen */
	len = add_raw(pkt, len, c, 4, RW_TYPE_A, a4, 4);
	uint8_t ns[2] = {0xC0, (uint8_t)(www + 12)}; /* rdata: mid-run, "com" */
	len = add_raw(pkt, len, p2, 2, RW_TYPE_NS, ns, 2);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(pkt, len, &arena, &m), 0);
	ck_assert_uint_eq(m.nrr[RW_SEC_AN], 6);
	static const char *want[] = {"\3www\7example\3com",  "\1b\7example\3com",
	                             "\7example\3com",       "\1b\7example\3com",
	                             "\1c\1b\7example\3com", "\1b\7example\3com"};
	for (size_t i = 0; i < 6; i++)
		ck_assert_mem_eq(m.rr[RW_SEC_AN][i].owner, want[i], strlen(want[i]) + 1);
	ck_assert_uint_eq(m.rr[RW_SEC_AN][5].rdlen, 5);
	ck_assert_mem_eq(m.rr[RW_SEC_AN][5].rdata, "\3com", 5);

	/* Pointers per name count through a remembered name: a chain of
	 * 15 pointers read once, then a name adding 2 more is refused as
	 * the plain walk would refuse it (16 at most, RFC 9267 §2). */
	len = tu_query(pkt, 1, RW_FLAG_QR, "a.", RW_TYPE_A, 1);
	size_t prev = 12;
	rw_put16(pkt + len, 0xC00C);
	rw_put16(pkt + len + 2, 0xFF00); /* opaque rdata holds the chain */
	rw_put16(pkt + len + 4, 1);
	memset(pkt + len + 6, 0, 4);
	rw_put16(pkt + len + 10, 2 * 14);
	len += 12;
	for (int i = 0; i < 14; i++) {
		rw_put16(pkt + len, (uint16_t)(0xC000 | prev));
		prev = len;
		len += 2;
	}
	rw_put16(pkt + 6, 1);
	uint8_t end[2] = {0xC0, (uint8_t)prev}; /* 15 pointers: allowed */
	len = add_raw(pkt, len, end, 2, RW_TYPE_A, a4, 4);
	ck_assert_int_eq(rw_msg_parse(pkt, len, &arena, &m), 0);
	size_t at = len - 16;                         /* the lone pointer just read */
	uint8_t two[4] = {1, 'x', 0xC0, (uint8_t)at}; /* 1 + 15 + ... */
	size_t l2 = add_raw(pkt, len, two, 4, RW_TYPE_A, a4, 4);
	ck_assert_int_eq(rw_msg_parse(pkt, l2, &arena, &m), 0); /* 16 */
	uint8_t three[2] = {0xC0, (uint8_t)(len)};              /* to "x" + pointer: 17 */
	size_t l3 = add_raw(pkt, l2, three, 2, RW_TYPE_A, a4, 4);
	ck_assert_int_eq(rw_msg_parse(pkt, l3, &arena, &m), RW_ELIMIT);
}
END_TEST

/* TXT's strings are not walked when a message is parsed (a step per byte,
 * issue 11): a bad chain parses as it is and prints in the generic form;
 * an empty TXT is still refused. A (fixed fields) is checked by size. */
START_TEST(parse_txt_unwalked_fixed_by_size)
{
	uint8_t pkt[512];
	size_t len = tu_query(pkt, 1, RW_FLAG_QR, "a.", RW_TYPE_TXT, 1);
	uint8_t owner[2] = {0xC0, 12};
	len = add_raw(pkt, len, owner, 2, RW_TYPE_TXT, "\5ab", 3); /* says 5, holds 2 */
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(pkt, len, &arena, &m), 0);
	char text[256];
	ck_assert_int_gt(rw_rdata_to_text(RW_TYPE_TXT, m.rr[RW_SEC_AN][0].rdata,
	                                  m.rr[RW_SEC_AN][0].rdlen, text, sizeof text),
	                 0);
	ck_assert_str_eq(text, "\\# 3 056162");
	len = tu_query(pkt, 1, RW_FLAG_QR, "a.", RW_TYPE_TXT, 1);
	len = add_raw(pkt, len, owner, 2, RW_TYPE_TXT, "", 0);
	ck_assert_int_eq(rw_msg_parse(pkt, len, &arena, &m), RW_EMALFORMED);
	len = tu_query(pkt, 1, RW_FLAG_QR, "a.", RW_TYPE_A, 1);
	len = add_raw(pkt, len, owner, 2, RW_TYPE_A, "\1\2\3\4\5", 5);
	ck_assert_int_eq(rw_msg_parse(pkt, len, &arena, &m), RW_EMALFORMED);
}
END_TEST

/* What a message's names make the parse copy is bounded by its size: a
 * 253-byte name once, then records whose owner is a label of their own
 * and a pointer into it, each a new 253-byte name from 4 bytes. */
START_TEST(parse_name_bytes_bounded)
{
	static uint8_t pkt[65535];
	size_t len = tu_query(pkt, 1, RW_FLAG_QR, "a.", RW_TYPE_A, 1);
	size_t first = len;
	for (int i = 0; i < 126; i++)
		pkt[len + 2 * i] = 1, pkt[len + 2 * i + 1] = 'x';
	pkt[len + 252] = 0;
	const uint8_t a4[4] = {192, 0, 2, 1};
	len = add_raw(pkt, len, pkt + len, 253, RW_TYPE_A, a4, 4);
	uint16_t n = 1;
	while (len + 18 <= sizeof pkt && n < 500) {
		uint8_t o[4] = {1, (uint8_t)('a' + n % 26), 0xC0, (uint8_t)(first + 2)};
		len = add_raw(pkt, len, o, 4, RW_TYPE_A, a4, 4);
		n++;
	}
	struct rw_msg m;
	/* 500 such names (127 KB) from 9 KB: past 4 x 9 KB + 16 KB. */
	ck_assert_int_eq(rw_msg_parse(pkt, len, &arena, &m), RW_ELIMIT);
	/* 60 of them (15 KB) from 1.3 KB: within the bound. */
	size_t small = first + 253 + 14 + 59 * 18;
	rw_put16(pkt + 6, 60);
	ck_assert_int_eq(rw_msg_parse(pkt, small, &arena, &m), 0);
	ck_assert_uint_eq(rw_name_len(m.rr[RW_SEC_AN][59].owner), 253);
}
END_TEST

START_TEST(parse_rfc9267_and_edns_errors)
{
	uint8_t pkt[512];
	struct rw_msg m;
	size_t base = tu_query(pkt, 1, 0, "a.example.", RW_TYPE_A, 1);
	/* shorter than a header */
	ck_assert_int_eq(rw_msg_parse(pkt, 11, &arena, &m), RW_EMALFORMED);
	/* question cut short */
	ck_assert_int_eq(rw_msg_parse(pkt, base - 1, &arena, &m), RW_EMALFORMED);
	/* counts larger than the packet can hold */
	uint8_t p2[512];
	memcpy(p2, pkt, base);
	rw_put16(p2 + 6, 65535);
	ck_assert_int_eq(rw_msg_parse(p2, base, &arena, &m), RW_EMALFORMED);
	rw_put16(p2 + 6, 0);
	rw_put16(p2 + 10, 3);
	ck_assert_int_eq(rw_msg_parse(p2, base + 11, &arena, &m), RW_EMALFORMED);
	/* two questions */
	memcpy(p2, pkt, base);
	rw_put16(p2 + 4, 2);
	ck_assert_int_eq(rw_msg_parse(p2, base, &arena, &m), RW_EMALFORMED);
	/* trailing garbage */
	memcpy(p2, pkt, base);
	p2[base] = 0xff;
	ck_assert_int_eq(rw_msg_parse(p2, base + 1, &arena, &m), RW_EMALFORMED);
	/* RDLENGTH overrunning the packet */
	size_t len = add_rr(memcpy(p2, pkt, base), base, 2, "x.", 999, (const uint8_t *)"ab", 2);
	rw_put16(p2 + len - 4, 50);
	ck_assert_int_eq(rw_msg_parse(p2, len, &arena, &m), RW_EMALFORMED);
	/* two OPT records */
	len = tu_opt(memcpy(p2, pkt, base), base, 1232, 0, 0);
	len = tu_opt(p2, len, 1232, 0, 0);
	ck_assert_int_eq(rw_msg_parse(p2, len, &arena, &m), RW_EMALFORMED);
	/* OPT not at the root */
	len = add_rr(memcpy(p2, pkt, base), base, 2, "x.", RW_TYPE_OPT, NULL, 0);
	ck_assert_int_eq(rw_msg_parse(p2, len, &arena, &m), RW_EMALFORMED);
	/* OPT in the answer section */
	len = add_rr(memcpy(p2, pkt, base), base, 0, ".", RW_TYPE_OPT, NULL, 0);
	ck_assert_int_eq(rw_msg_parse(p2, len, &arena, &m), RW_EMALFORMED);
	/* option TLV overrunning the OPT rdata */
	const uint8_t bad_opt[] = {0, 10, 0, 8, 1, 2};
	len = add_rr(memcpy(p2, pkt, base), base, 2, ".", RW_TYPE_OPT, bad_opt, sizeof bad_opt);
	ck_assert_int_eq(rw_msg_parse(p2, len, &arena, &m), RW_EMALFORMED);
	/* unknown option, well framed: accepted */
	const uint8_t ok_opt[] = {0xfe, 0x01, 0, 2, 1, 2};
	len = add_rr(memcpy(p2, pkt, base), base, 2, ".", RW_TYPE_OPT, ok_opt, sizeof ok_opt);
	ck_assert_int_eq(rw_msg_parse(p2, len, &arena, &m), 0);
	ck_assert_uint_eq(m.edns.opts_len, 6);
	/* question name with a pointer loop */
	memcpy(p2, pkt, 12);
	p2[12] = 0xC0;
	p2[13] = 12;
	memset(p2 + 14, 0, 4);
	ck_assert_int_eq(rw_msg_parse(p2, 18, &arena, &m), RW_EMALFORMED);
	/* arena limit: many records -> RW_ENOMEM, not a crash */
	struct rw_arena small;
	rw_arena_init(&small, 256, 512);
	uint8_t big[4096];
	len = tu_query(big, 1, 0, "a.", 1, 1);
	for (int i = 0; i < 60; i++)
		len = add_rr(big, len, 0, "a.", RW_TYPE_A, (const uint8_t *)"\1\2\3\4", 4);
	ck_assert_int_eq(rw_msg_parse(big, len, &small, &m), RW_ENOMEM);
	rw_arena_fini(&small);
}
END_TEST

START_TEST(builder_compression)
{
	uint8_t buf[512];
	struct rw_builder b;
	uint8_t q[RW_NAME_MAX], t[RW_NAME_MAX];
	tu_name("WWW.example.com.", q);
	rw_builder_init(&b, buf, sizeof buf, 7, RW_FLAG_QR);
	ck_assert_int_eq(rw_builder_question(&b, q, RW_TYPE_CNAME, 1), 0);
	size_t after_q = b.len;
	/* owner equal to the question: a 2-byte pointer */
	size_t tl = tu_name("host.example.com.", t);
	ck_assert_int_eq(rw_builder_rr(&b, RW_SEC_AN, q, RW_TYPE_CNAME, 1, 60, t, tl), 0);
	/* 2 (ptr) + 10 + rdata "\4host" + ptr = 7 */
	ck_assert_uint_eq(b.len, after_q + 2 + 10 + 7);
	size_t len = rw_builder_finish(&b);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(buf, len, &arena, &m), 0);
	ck_assert_mem_eq(m.rr[0][0].owner, q, rw_name_len(q)); /* question's case */
	ck_assert_mem_eq(m.rr[0][0].rdata, t, tl);
	/* a different case is not folded into the question's */
	uint8_t lower_q[RW_NAME_MAX];
	tu_name("www.example.com.", lower_q);
	ck_assert_int_eq(
	    rw_builder_rr(&b, RW_SEC_AN, lower_q, RW_TYPE_A, 1, 60, (const uint8_t *)"\1\2\3\4", 4),
	    0);
	len = rw_builder_finish(&b);
	ck_assert_int_eq(rw_msg_parse(buf, len, &arena, &m), 0);
	ck_assert_mem_eq(m.rr[0][1].owner, lower_q, rw_name_len(lower_q));
	/* SRV targets are never compressed (RFC 2782) */
	uint8_t srv[6 + RW_NAME_MAX];
	memcpy(srv, "\0\0\0\0\0\x50", 6);
	tl = tu_name("host.example.com.", srv + 6);
	size_t before = b.len;
	ck_assert_int_eq(rw_builder_rr(&b, RW_SEC_AN, q, RW_TYPE_SRV, 1, 60, srv, 6 + tl), 0);
	ck_assert_uint_eq(b.len, before + 2 + 10 + 6 + tl);
}
END_TEST

START_TEST(builder_truncation_and_opt)
{
	uint8_t buf[64];
	struct rw_builder b;
	uint8_t q[RW_NAME_MAX];
	tu_name("a.example.", q);
	rw_builder_init(&b, buf, sizeof buf, 9, RW_FLAG_QR);
	ck_assert_int_eq(rw_builder_reserve(&b, 11), 0);
	ck_assert_int_eq(rw_builder_question(&b, q, RW_TYPE_A, 1), 0); /* 12 + 11 + 4 = 27 */
	struct rw_builder_mark mk;
	rw_builder_mark(&b, &mk);
	int added = 0;
	while (rw_builder_rr(&b, RW_SEC_AN, q, RW_TYPE_A, 1, 5, (const uint8_t *)"\1\2\3\4", 4) ==
	       0)
		added++;
	/* 27 + n*16 <= 53 (64 - 11 reserved) -> n = 1 */
	ck_assert_int_eq(added, 1);
	ck_assert_uint_le(b.len, 53);
	rw_builder_rollback(&b, &mk);
	ck_assert_uint_eq(b.len, 27);
	ck_assert_uint_eq(b.count[1], 0);
	ck_assert_int_eq(rw_builder_opt(&b, 1232, RW_RCODE_BADVERS, true, NULL, 0), 0);
	size_t len = rw_builder_finish(&b);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(buf, len, &arena, &m), 0);
	ck_assert(m.edns.present);
	ck_assert_uint_eq(m.edns.ext_rcode, 1); /* 16 >> 4 */
	ck_assert_uint_eq(RW_RCODE(m.flags), 0);
	ck_assert(m.edns.do_bit);
	/* The question alone can fail to fit, and rolls back. */
	rw_builder_init(&b, buf, 20, 1, 0);
	ck_assert_int_eq(rw_builder_question(&b, q, RW_TYPE_A, 1), RW_ETRUNC);
	ck_assert_uint_eq(b.len, 12);
	ck_assert_int_eq(rw_builder_reserve(&b, 100), RW_ETRUNC);
}
END_TEST

START_TEST(builder_parse_roundtrip_many)
{
	/* Many names sharing suffixes: every one must decode back exactly. */
	uint8_t buf[4096];
	struct rw_builder b;
	uint8_t q[RW_NAME_MAX];
	tu_name("example.com.", q);
	rw_builder_init(&b, buf, sizeof buf, 1, RW_FLAG_QR);
	rw_builder_question(&b, q, RW_TYPE_NS, 1);
	char text[64];
	for (int i = 0; i < 100; i++) {
		uint8_t n[RW_NAME_MAX];
		snprintf(text, sizeof text, "ns%d.sub%d.example.com.", i, i % 7);
		size_t nl = tu_name(text, n);
		ck_assert_int_eq(rw_builder_rr(&b, RW_SEC_AN, q, RW_TYPE_NS, 1, 1, n, nl), 0);
	}
	size_t len = rw_builder_finish(&b);
	struct rw_msg m;
	ck_assert_int_eq(rw_msg_parse(buf, len, &arena, &m), 0);
	ck_assert_uint_eq(m.nrr[0], 100);
	for (int i = 0; i < 100; i++) {
		uint8_t n[RW_NAME_MAX];
		snprintf(text, sizeof text, "ns%d.sub%d.example.com.", i, i % 7);
		size_t nl = tu_name(text, n);
		ck_assert_uint_eq(m.rr[0][i].rdlen, nl);
		ck_assert_mem_eq(m.rr[0][i].rdata, n, nl);
	}
	ck_assert_uint_lt(len, 100 * 22); /* compression happened */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, parse_query);
	tcase_add_test(tc, reply_matched_before_parse);
	tcase_add_test(tc, parse_sections_and_decompression);
	tcase_add_test(tc, parse_rfc9267_and_edns_errors);
	tcase_add_test(tc, parse_names_remembered);
	tcase_add_test(tc, parse_name_bytes_bounded);
	tcase_add_test(tc, parse_txt_unwalked_fixed_by_size);
	tcase_add_test(tc, builder_compression);
	tcase_add_test(tc, builder_truncation_and_opt);
	tcase_add_test(tc, builder_parse_roundtrip_many);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
