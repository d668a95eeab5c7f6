/* Unit tests: log levels, filtering and line format. */
#include "rootwalk/err.h"
#include "rootwalk/log.h"
#include "testutil.h"

#include <stdio.h>
#include <unistd.h>

START_TEST(level_parse)
{
	enum rw_log_level l;
	ck_assert_int_eq(rw_log_level_parse("error", &l), 0);
	ck_assert_int_eq(l, RW_LOG_ERROR);
	ck_assert_int_eq(rw_log_level_parse("debug", &l), 0);
	ck_assert_int_eq(l, RW_LOG_DEBUG);
	ck_assert_int_eq(rw_log_level_parse("DEBUG", &l), RW_EINVAL);
	ck_assert_int_eq(rw_log_level_parse("", &l), RW_EINVAL);
}
END_TEST

START_TEST(filtering_and_format)
{
	char path[] = "/tmp/rwlogXXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	int saved = dup(2);
	dup2(fd, 2);
	rw_log_set_level(RW_LOG_WARN);
	ck_assert_int_eq(rw_log_get_level(), RW_LOG_WARN);
	rw_log_error("first %d", 1);
	rw_log_warn("second");
	rw_log_info("hidden info");
	rw_log_debug("hidden debug");
	char big[2000];
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	rw_log_error("%s", big); /* cut to one line, still newline-terminated */
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *f = fopen(path, "r");
	char line[4096];
	int n = 0;
	while (fgets(line, sizeof line, f) != NULL) {
		n++;
		ck_assert_ptr_null(strstr(line, "hidden"));
		ck_assert_uint_eq(line[strlen(line) - 1], '\n');
		ck_assert_uint_le(strlen(line), 1024);
		if (n == 1)
			ck_assert_ptr_nonnull(strstr(line, "Z error: first 1"));
		if (n == 2)
			ck_assert_ptr_nonnull(strstr(line, "Z warn: second"));
	}
	fclose(f);
	unlink(path);
	close(fd);
	ck_assert_int_eq(n, 3);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, level_parse);
	tcase_add_test(tc, filtering_and_format);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
