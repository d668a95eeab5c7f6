/* Unit tests: wire cursors and the arena. */
#include "rootwalk/arena.h"
#include "rootwalk/err.h"
#include "rootwalk/wire.h"
#include "testutil.h"

START_TEST(reader_bounds)
{
	const uint8_t b[] = {1, 2, 3, 4, 5, 6, 7};
	struct rw_rbuf r;
	rw_rbuf_init(&r, b, sizeof b);
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;
	ck_assert_int_eq(rw_rbuf_u8(&r, &u8), 0);
	ck_assert_uint_eq(u8, 1);
	ck_assert_int_eq(rw_rbuf_u16(&r, &u16), 0);
	ck_assert_uint_eq(u16, 0x0203);
	ck_assert_int_eq(rw_rbuf_u32(&r, &u32), 0);
	ck_assert_uint_eq(u32, 0x04050607);
	ck_assert_uint_eq(rw_rbuf_left(&r), 0);
	/* Every read past the end fails and leaves the cursor alone. */
	ck_assert_int_eq(rw_rbuf_u8(&r, &u8), RW_EMALFORMED);
	ck_assert_int_eq(rw_rbuf_u16(&r, &u16), RW_EMALFORMED);
	ck_assert_int_eq(rw_rbuf_u32(&r, &u32), RW_EMALFORMED);
	ck_assert_int_eq(rw_rbuf_bytes(&r, NULL, 1), RW_EMALFORMED);
	ck_assert_uint_eq(r.pos, 7);
	r.pos = 5;
	ck_assert_int_eq(rw_rbuf_u32(&r, &u32), RW_EMALFORMED);
	ck_assert_uint_eq(r.pos, 5);
	ck_assert_int_eq(rw_rbuf_bytes(&r, NULL, 2), 0);
}
END_TEST

START_TEST(writer_bounds)
{
	uint8_t b[5];
	struct rw_wbuf w;
	rw_wbuf_init(&w, b, sizeof b);
	ck_assert_int_eq(rw_wbuf_u32(&w, 0xdeadbeef), 0);
	ck_assert_int_eq(rw_wbuf_u16(&w, 1), RW_ETRUNC);
	ck_assert_int_eq(rw_wbuf_u8(&w, 9), 0);
	ck_assert_int_eq(rw_wbuf_u8(&w, 9), RW_ETRUNC);
	ck_assert_int_eq(rw_wbuf_bytes(&w, "x", 1), RW_ETRUNC);
	ck_assert_uint_eq(w.len, 5);
	ck_assert_uint_eq(rw_get32(b), 0xdeadbeef);
	ck_assert_uint_eq(b[4], 9);
}
END_TEST

START_TEST(arena_limit_and_reset)
{
	struct rw_arena a;
	rw_arena_init(&a, 1024, 4096);
	void *p = rw_arena_alloc(&a, 100);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq((uintptr_t)p % 8, 0);
	/* Larger than a block gets a block of its own, within the limit. */
	ck_assert_ptr_nonnull(rw_arena_alloc(&a, 2000));
	ck_assert_ptr_null(rw_arena_alloc(&a, 4096));
	size_t used = a.used_bytes;
	rw_arena_reset(&a);
	ck_assert_uint_lt(a.used_bytes, used);
	/* The kept block serves again without new heap. */
	used = a.used_bytes;
	ck_assert_ptr_nonnull(rw_arena_alloc(&a, 100));
	ck_assert_uint_eq(a.used_bytes, used);
	ck_assert_ptr_null(rw_arena_alloc(&a, SIZE_MAX));
	char *d = rw_arena_dup(&a, "hello", 6);
	ck_assert_str_eq(d, "hello");
	rw_arena_fini(&a);
	ck_assert_uint_eq(a.used_bytes, 0);
}
END_TEST

START_TEST(strerror_texts)
{
	for (int e = 0; e >= -9; e--)
		ck_assert_str_ne(rw_strerror(e), "unknown error");
	ck_assert_str_eq(rw_strerror(-99), "unknown error");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, reader_bounds);
	tcase_add_test(tc, writer_bounds);
	tcase_add_test(tc, arena_limit_and_reset);
	tcase_add_test(tc, strerror_texts);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
