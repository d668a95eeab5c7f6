/* Unit tests: names -- decompression (RFC 9267 cases), text, comparison. */
#include "rootwalk/err.h"
#include "rootwalk/name.h"
#include "testutil.h"

static int read_at(const uint8_t *pkt, size_t len, size_t pos, uint8_t *out, size_t *out_len,
                   size_t *end)
{
	struct rw_rbuf r = {pkt, len, pos, RW_MSG_PTRS(len)};
	int e = rw_name_read(&r, out, out_len);
	*end = r.pos;
	return e;
}

START_TEST(decompress_ok)
{
	/* 0: "\3foo\0"  5: "\3bar" + ptr to 0  11: ptr to 5 */
	const uint8_t pkt[] = {3, 'f', 'o', 'o', 0, 3, 'b', 'a', 'r', 0xC0, 0, 0xC0, 5};
	uint8_t n[RW_NAME_MAX];
	size_t nl, end;
	ck_assert_int_eq(read_at(pkt, sizeof pkt, 11, n, &nl, &end), 0);
	ck_assert_uint_eq(end, 13);
	ck_assert_uint_eq(nl, 9);
	ck_assert_mem_eq(n, "\3bar\3foo", 9);
	char text[RW_NAME_TEXT_MAX];
	rw_name_to_text(n, text, sizeof text);
	ck_assert_str_eq(text, "bar.foo.");
}
END_TEST

/* The cost of pointer chains is bounded (issue 11): one name follows at
 * most RW_NAME_PTRS_MAX pointers, and a message at most RW_MSG_PTRS(len). */
START_TEST(pointer_chains_bounded)
{
	/* 0: root; then pointers, each to the one before: 1 -> 0, 3 -> 1, ... */
	uint8_t pkt[1 + 2 * 40];
	pkt[0] = 0;
	for (size_t i = 0; i < 40; i++) {
		size_t at = 1 + 2 * i, to = i == 0 ? 0 : at - 2;
		pkt[at] = (uint8_t)(0xC0 | to >> 8);
		pkt[at + 1] = (uint8_t)to;
	}
	uint8_t n[RW_NAME_MAX];
	size_t nl, end;
	/* reading at pointer k follows k + 1 pointers */
	ck_assert_int_eq(read_at(pkt, sizeof pkt, 1 + 2 * (RW_NAME_PTRS_MAX - 1), n, &nl, &end), 0);
	ck_assert_uint_eq(nl, 1);
	ck_assert_int_eq(read_at(pkt, sizeof pkt, 1 + 2 * RW_NAME_PTRS_MAX, n, &nl, &end),
	                 RW_ELIMIT);
	/* the message's budget: names of 16 pointers each, until it is spent */
	struct rw_rbuf r;
	rw_rbuf_init(&r, pkt, sizeof pkt);
	size_t budget = r.ptrs_left, reads = 0;
	ck_assert_uint_eq(budget, sizeof pkt / 4 + 64);
	for (;;) {
		r.pos = 1 + 2 * (RW_NAME_PTRS_MAX - 1);
		if (rw_name_read(&r, n, &nl) != 0)
			break;
		reads++;
		ck_assert_uint_lt(reads, 1000);
	}
	ck_assert_uint_eq(reads, budget / RW_NAME_PTRS_MAX);
}
END_TEST

START_TEST(decompress_rfc9267)
{
	uint8_t n[RW_NAME_MAX];
	size_t nl, end;
	/* pointer to itself */
	const uint8_t self[] = {0xC0, 0};
	ck_assert_int_eq(read_at(self, sizeof self, 0, n, &nl, &end), RW_EMALFORMED);
	/* two pointers to each other */
	const uint8_t loop[] = {0xC0, 2, 0xC0, 0};
	ck_assert_int_eq(read_at(loop, sizeof loop, 2, n, &nl, &end), RW_EMALFORMED);
	/* a label then a pointer back to that label */
	const uint8_t loop2[] = {1, 'a', 0xC0, 0};
	ck_assert_int_eq(read_at(loop2, sizeof loop2, 0, n, &nl, &end), RW_EMALFORMED);
	/* forward pointer */
	const uint8_t fwd[] = {0xC0, 2, 0};
	ck_assert_int_eq(read_at(fwd, sizeof fwd, 0, n, &nl, &end), RW_EMALFORMED);
	/* pointer beyond the packet */
	const uint8_t far[] = {0, 0xC0, 0x30};
	ck_assert_int_eq(read_at(far, sizeof far, 1, n, &nl, &end), RW_EMALFORMED);
	/* truncated pointer */
	const uint8_t half[] = {0xC0};
	ck_assert_int_eq(read_at(half, sizeof half, 0, n, &nl, &end), RW_EMALFORMED);
	/* label running past the end */
	const uint8_t past[] = {5, 'a', 'b'};
	ck_assert_int_eq(read_at(past, sizeof past, 0, n, &nl, &end), RW_EMALFORMED);
	/* no terminating root label */
	const uint8_t noroot[] = {1, 'a'};
	ck_assert_int_eq(read_at(noroot, sizeof noroot, 0, n, &nl, &end), RW_EMALFORMED);
	/* label types 01 and 10 (label length 64 and 128 in the byte) */
	const uint8_t ext1[] = {0x40, 0};
	const uint8_t ext2[] = {0x80, 0};
	ck_assert_int_eq(read_at(ext1, sizeof ext1, 0, n, &nl, &end), RW_EMALFORMED);
	ck_assert_int_eq(read_at(ext2, sizeof ext2, 0, n, &nl, &end), RW_EMALFORMED);
	/* a name of 256 bytes: 4 labels of 63 + root = 257 */
	uint8_t big[300];
	size_t p = 0;
	for (int i = 0; i < 4; i++) {
		big[p++] = 63;
		memset(big + p, 'x', 63);
		p += 63;
	}
	big[p++] = 0;
	ck_assert_int_eq(read_at(big, p, 0, n, &nl, &end), RW_EMALFORMED);
	/* exactly 255 is fine: 3 x 63 + 61 + root */
	p = 0;
	for (int i = 0; i < 3; i++) {
		big[p++] = 63;
		memset(big + p, 'x', 63);
		p += 63;
	}
	big[p++] = 61;
	memset(big + p, 'y', 61);
	p += 61;
	big[p++] = 0;
	ck_assert_int_eq(read_at(big, p, 0, n, &nl, &end), 0);
	ck_assert_uint_eq(nl, 255);
	/* too long through compression: suffix reused via pointers */
	p = 0;
	big[p++] = 63;
	memset(big + p, 'a', 63);
	p += 63;
	big[p++] = 63;
	memset(big + p, 'b', 63);
	p += 63;
	big[p++] = 0; /* 129 bytes at 0 */
	size_t second = p;
	big[p++] = 63;
	memset(big + p, 'c', 63);
	p += 63;
	big[p++] = 63;
	memset(big + p, 'd', 63);
	p += 63;
	big[p++] = 0xC0;
	big[p++] = 0;
	ck_assert_int_eq(read_at(big, p, second, n, &nl, &end), RW_EMALFORMED);
}
END_TEST

START_TEST(text_roundtrip)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"example.com", "example.com."},
	    {"Example.COM.", "Example.COM."},
	    {".", "."},
	    {"a\\.b.c", "a\\.b.c."},
	    {"\\065\\066c.", "ABc."},
	    {"sp\\032ace.", "sp\\032ace."},
	    {"q\\\"uote.", "q\\\"uote."},
	    {"*.wild.", "*.wild."},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t n[RW_NAME_MAX];
		size_t nl;
		ck_assert_int_eq(rw_name_from_text(cases[i].in, strlen(cases[i].in),
		                                   (const uint8_t *)"", n, &nl),
		                 0);
		ck_assert_uint_eq(nl, rw_name_len(n));
		char text[RW_NAME_TEXT_MAX];
		ck_assert_int_gt(rw_name_to_text(n, text, sizeof text), 0);
		ck_assert_str_eq(text, cases[i].out);
	}
}
END_TEST

START_TEST(text_errors)
{
	static const char *bad[] = {"",       "a..b",    ".a", "\\", "a\\25",
	                            "a\\256", "a\\0x1.", "..", "a\\"};
	uint8_t n[RW_NAME_MAX];
	size_t nl;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(rw_name_from_text(bad[i], strlen(bad[i]), (const uint8_t *)"", n,
		                                &nl) == RW_EMALFORMED,
		              "accepted '%s'", bad[i]);
	char label[70];
	memset(label, 'a', 64);
	label[64] = 0;
	ck_assert_int_eq(rw_name_from_text(label, 64, (const uint8_t *)"", n, &nl), RW_EMALFORMED);
	ck_assert_int_eq(rw_name_from_text(label, 63, (const uint8_t *)"", n, &nl), 0);
	/* relative without origin, and "@" without origin */
	ck_assert_int_eq(rw_name_from_text("rel", 3, NULL, n, &nl), RW_EMALFORMED);
	ck_assert_int_eq(rw_name_from_text("@", 1, NULL, n, &nl), RW_EMALFORMED);
	/* over 255 once the origin is appended */
	char longname[300];
	memset(longname, 0, sizeof longname);
	for (int i = 0; i < 4; i++) {
		memset(longname + i * 64, 'x', 63);
		longname[i * 64 + 63] = '.';
	}
	ck_assert_int_eq(rw_name_from_text(longname, 255, (const uint8_t *)"", n, &nl),
	                 RW_EMALFORMED);
	uint8_t origin[RW_NAME_MAX], big_origin[RW_NAME_MAX];
	size_t bl;
	ck_assert_int_eq(rw_name_from_text(longname, 64, (const uint8_t *)"", big_origin, &bl), 0);
	ck_assert_int_eq(rw_name_from_text(longname, 191, big_origin, n, &nl), RW_EMALFORMED);
	tu_name("example.com.", origin);
	ck_assert_int_eq(rw_name_from_text("www", 3, origin, n, &nl), 0);
	ck_assert_mem_eq(n, "\3www\7example\3com", 17);
	ck_assert_int_eq(rw_name_from_text("@", 1, origin, n, &nl), 0);
	ck_assert(rw_name_eq(n, origin));
	char small[4];
	ck_assert_int_eq(rw_name_to_text(origin, small, sizeof small), RW_ETRUNC);
}
END_TEST

START_TEST(lower_every_byte)
{
	/* The 8-bytes-at-once lowering must agree with the plain rule for
	 * every byte value at every position, including high-bit bytes. */
	for (unsigned c = 0; c < 256; c++) {
		for (size_t pos = 0; pos < 19; pos++) {
			uint8_t in[19], out[19];
			for (size_t i = 0; i < sizeof in; i++)
				in[i] = (uint8_t)(i * 37 + 11);
			in[pos] = (uint8_t)c;
			rw_name_lower(out, in, sizeof in);
			for (size_t i = 0; i < sizeof in; i++) {
				uint8_t want = in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i];
				ck_assert_uint_eq(out[i], want);
			}
		}
	}
	/* hashing ignores case and separates names of any length */
	uint8_t a[RW_NAME_MAX], b[RW_NAME_MAX];
	tu_name("Some.Longer-Name.With.Several.Labels.example.", a);
	tu_name("some.longer-name.with.several.labels.EXAMPLE.", b);
	ck_assert_uint_eq(rw_name_hash(a), rw_name_hash(b));
	tu_name("some.longer-name.with.several.labels.example.x.", b);
	ck_assert_uint_ne(rw_name_hash(a), rw_name_hash(b));
	tu_name("a.", a);
	tu_name("b.", b);
	ck_assert_uint_ne(rw_name_hash(a), rw_name_hash(b));
}
END_TEST

START_TEST(compare_and_hash)
{
	uint8_t a[RW_NAME_MAX], b[RW_NAME_MAX], p[RW_NAME_MAX], root[1] = {0};
	tu_name("WWW.Example.com.", a);
	tu_name("www.example.COM.", b);
	tu_name("example.com.", p);
	ck_assert(rw_name_eq(a, b));
	ck_assert_uint_eq(rw_name_hash(a), rw_name_hash(b));
	ck_assert(rw_name_is_under(a, p));
	ck_assert(rw_name_is_under(a, root));
	ck_assert(rw_name_is_under(p, p));
	ck_assert(!rw_name_is_under(p, a));
	uint8_t c[RW_NAME_MAX];
	tu_name("wwwexample.com.", c);
	ck_assert(!rw_name_eq(a, c));
	tu_name("xample.com.", c);
	ck_assert(!rw_name_is_under(a, c)); /* suffix, but not on a label boundary */
	ck_assert_uint_eq(rw_name_labels(a), 3);
	ck_assert_uint_eq(rw_name_labels(root), 0);
	ck_assert_ptr_null(rw_name_parent(root));
	ck_assert(rw_name_eq(rw_name_parent(a), p));
	uint8_t low[RW_NAME_MAX];
	rw_name_lower(low, a, rw_name_len(a));
	ck_assert_mem_eq(low, "\3www\7example\3com", 17);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("name");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, decompress_ok);
	tcase_add_test(tc, decompress_rfc9267);
	tcase_add_test(tc, pointer_chains_bounded);
	tcase_add_test(tc, text_roundtrip);
	tcase_add_test(tc, text_errors);
	tcase_add_test(tc, compare_and_hash);
	tcase_add_test(tc, lower_every_byte);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
