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

START_TEST(json_lines)
{
	char path[] = "/tmp/rwlogjXXXXXX";
	int fd = mkstemp(path);
	int saved = dup(2);
	dup2(fd, 2);
	rw_log_set_level(RW_LOG_INFO);
	rw_log_set_json(true);
	rw_log_info("say \"hi\" \\ tab\there");
	rw_log_set_json(false);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	FILE *f = fopen(path, "r");
	char line[4096];
	ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
	fclose(f);
	unlink(path);
	close(fd);
	ck_assert_msg(strncmp(line, "{\"ts\":\"", 7) == 0, "%s", line);
	ck_assert_ptr_nonnull(strstr(line, "\"level\":\"info\""));
	ck_assert_msg(strstr(line, "\"msg\":\"say \\\"hi\\\" \\\\ tab\\u0009here\"}\n") != NULL,
	              "%s", line);
}
END_TEST

START_TEST(rate_limited)
{
	struct rw_log_limit l = {0};
	uint64_t sup = 0;
	unsigned allowed = 0;
	for (int i = 0; i < 100; i++)
		allowed += rw_log_limit(&l, 5000, &sup);
	ck_assert_uint_eq(allowed, RW_LOG_LIMIT_PER_S);
	/* the next second: allowed again, reporting what was held back */
	ck_assert(rw_log_limit(&l, 6000, &sup));
	ck_assert_uint_eq(sup, 100 - RW_LOG_LIMIT_PER_S);
	ck_assert(rw_log_limit(&l, 6001, &sup));
	ck_assert_uint_eq(sup, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, level_parse);
	tcase_add_test(tc, filtering_and_format);
	tcase_add_test(tc, json_lines);
	tcase_add_test(tc, rate_limited);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
