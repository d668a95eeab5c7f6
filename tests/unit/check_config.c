/* Unit tests: command line, YAML file, precedence, errors with file:line. */
#include "rootwalk/config.h"
#include "rootwalk/err.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

static int load(struct rw_config *c, char *err, size_t n, ...)
{
	char *argv[32] = {"rootwalk"};
	int argc = 1;
	va_list ap;
	va_start(ap, n);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL)
		argv[argc++] = (char *)a;
	va_end(ap);
	return rw_config_load(c, argc, argv, err, n);
}

static char path[64];

static void write_cfg(const char *text)
{
	snprintf(path, sizeof path, "/tmp/rwcfgXXXXXX");
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(defaults_and_flags)
{
	struct rw_config c;
	char err[512];
	ck_assert_int_eq(load(&c, err, sizeof err, NULL), 0);
	ck_assert_uint_eq(c.nlisten, 2);
	ck_assert_str_eq(c.listen[0].text, "127.0.0.1:53");
	ck_assert_str_eq(c.listen[1].text, "[::1]:53");
	ck_assert_uint_ge(c.threads, 1);
	ck_assert_uint_eq(c.edns_size, 1232);
	ck_assert(c.builtin_zones);
	ck_assert_int_eq(c.action, RW_CONFIG_RUN);
	rw_config_fini(&c);
	ck_assert_int_eq(load(&c, err, sizeof err, "--listen", "127.0.0.2:5300", "--listen",
	                      "[::1]:5301", "--threads", "3", "--zone", "example.com=/x.zone",
	                      "--zones-dir", "zones", "--log-level", "debug", "--no-builtin-zones",
	                      "--edns-buffer-size", "4096", "--tcp-idle-timeout-ms", "500",
	                      "--tcp-max-connections", "7", "--check-config", NULL),
	                 0);
	ck_assert_uint_eq(c.nlisten, 2);
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c.listen[1].ss;
	ck_assert_int_eq(s6->sin6_family, AF_INET6);
	ck_assert_uint_eq(ntohs(s6->sin6_port), 5301);
	ck_assert_uint_eq(c.threads, 3);
	ck_assert_uint_eq(c.nzones, 1);
	ck_assert_str_eq(c.zones[0].name, "example.com");
	ck_assert_str_eq(c.zones[0].file, "/x.zone");
	ck_assert_str_eq(c.zones_dir, "zones");
	ck_assert_int_eq(c.log_level, RW_LOG_DEBUG);
	ck_assert(!c.builtin_zones);
	ck_assert_uint_eq(c.edns_size, 4096);
	ck_assert_uint_eq(c.tcp_idle_timeout_ms, 500);
	ck_assert_uint_eq(c.tcp_max_connections, 7);
	ck_assert_int_eq(c.action, RW_CONFIG_CHECK);
	rw_config_fini(&c);
	ck_assert_int_eq(load(&c, err, sizeof err, "--version", NULL), 0);
	ck_assert_int_eq(c.action, RW_CONFIG_VERSION);
	rw_config_fini(&c);
	ck_assert_int_eq(load(&c, err, sizeof err, "-h", NULL), 0);
	ck_assert_int_eq(c.action, RW_CONFIG_HELP);
	rw_config_fini(&c);
	ck_assert_ptr_nonnull(strstr(rw_config_usage(), "--zones-dir"));
}
END_TEST

START_TEST(flag_errors)
{
	static const char *const bad[][3] = {
	    {"--threads", "0", "threads"},
	    {"--threads", "x", "threads"},
	    {"--threads", "-1", "threads"},
	    {"--listen", "1.2.3:53", "listen"},
	    {"--listen", "[::1:53", "listen"},
	    {"--listen", "127.0.0.1:0", "listen"},
	    {"--listen", "127.0.0.1:70000", "listen"},
	    {"--zone", "noequals", "zone"},
	    {"--zone", "a..b=/f", "zone"},
	    {"--log-level", "loud", "log-level"},
	    {"--edns-buffer-size", "100", "edns"},
	    {"--bogus", "1", "unknown option"},
	    {"--cache-size", "12X", "cache-size"},
	    {"--cache-size", "1K", "cache-size"},
	    {"--cache-size", "-5M", "cache-size"},
	    {"--cache-size", "99999999999999999999G", "cache-size"},
	    {"--max-ttl", "0", "max-ttl"},
	    {"--forward", "example.com", "forward"},
	    {"--forward", "127.0.0.1:99999", "forward"},
	    {"--forward-zone", "corp=", "forward-zone"},
	    {"--forward-zone", "corp=127.0.0.1,,", "forward-zone"},
	    {"--forward-zone", "a..b=127.0.0.1", "forward-zone"},
	    {"--upstream-tries", "0", "upstream-tries"},
	    {"--upstream-timeout-ms", "5", "upstream-timeout-ms"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct rw_config c;
		char err[512] = "";
		ck_assert_msg(load(&c, err, sizeof err, bad[i][0], bad[i][1], NULL) == RW_EINVAL,
		              "accepted %s %s", bad[i][0], bad[i][1]);
		ck_assert_msg(strstr(err, bad[i][2]) != NULL, "'%s' lacks '%s'", err, bad[i][2]);
		rw_config_fini(&c);
	}
	struct rw_config c;
	char err[512];
	ck_assert_int_eq(load(&c, err, sizeof err, "--threads", NULL), RW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "needs a value"));
	rw_config_fini(&c);
	ck_assert_int_eq(load(&c, err, sizeof err, "stray", NULL), RW_EINVAL);
	rw_config_fini(&c);
}
END_TEST

START_TEST(cache_and_forward_settings)
{
	struct rw_config c;
	char err[512];
	ck_assert_int_eq(load(&c, err, sizeof err, NULL), 0);
	ck_assert_uint_eq(c.cache_size, 64u << 20);
	ck_assert_uint_eq(c.min_ttl, 0);
	ck_assert_uint_eq(c.max_ttl, 86400);
	ck_assert_uint_eq(c.max_negative_ttl, 3600);
	ck_assert_uint_eq(c.nforward, 0);
	ck_assert_uint_eq(c.nforward_zones, 0);
	rw_config_fini(&c);
	ck_assert_msg(load(&c, err, sizeof err, "--cache-size", "3G", "--min-ttl", "5", "--max-ttl",
	                   "600", "--max-negative-ttl", "30", "--forward", "127.0.0.53",
	                   "--forward", "[::1]:5353", "--forward-zone",
	                   "corp.example=127.0.0.54:5300,[::1]", "--forward-zone",
	                   "10.in-addr.arpa.=127.0.0.55", "--upstream-timeout-ms", "250",
	                   "--upstream-tries", "4", NULL) == 0,
	              "%s", err);
	ck_assert_uint_eq(c.cache_size, 3ULL << 30);
	ck_assert_uint_eq(c.min_ttl, 5);
	ck_assert_uint_eq(c.max_ttl, 600);
	ck_assert_uint_eq(c.max_negative_ttl, 30);
	ck_assert_uint_eq(c.nforward, 2);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&c.forward[0].ss)->sin_port), 53);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in6 *)&c.forward[1].ss)->sin6_port), 5353);
	ck_assert_uint_eq(c.nforward_zones, 2);
	ck_assert_str_eq(c.forward_zones[0].name, "corp.example");
	ck_assert_uint_eq(c.forward_zones[0].nservers, 2);
	ck_assert_str_eq(c.forward_zones[0].servers[0].text, "127.0.0.54:5300");
	ck_assert_uint_eq(c.forward_zones[1].nservers, 1);
	ck_assert_uint_eq(c.upstream_timeout_ms, 250);
	ck_assert_uint_eq(c.upstream_tries, 4);
	rw_config_fini(&c);
	ck_assert_int_eq(load(&c, err, sizeof err, "--cache-size", "640k", NULL), 0);
	ck_assert_uint_eq(c.cache_size, 640u << 10);
	rw_config_fini(&c);
	ck_assert_int_eq(load(&c, err, sizeof err, "--min-ttl", "100", "--max-ttl", "50", NULL),
	                 RW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "min-ttl"));
	rw_config_fini(&c);
	/* the same keys in the file; flags replace the file's lists */
	write_cfg("cache-size: 16M\n"
	          "forward: [127.0.0.53, \"[::1]:53\"]\n"
	          "forward-zone:\n"
	          "  - corp=127.0.0.60\n"
	          "upstream-tries: 3\n");
	ck_assert_msg(load(&c, err, sizeof err, "-c", path, NULL) == 0, "%s", err);
	ck_assert_uint_eq(c.cache_size, 16u << 20);
	ck_assert_uint_eq(c.nforward, 2);
	ck_assert_uint_eq(c.nforward_zones, 1);
	ck_assert_uint_eq(c.upstream_tries, 3);
	rw_config_fini(&c);
	ck_assert_int_eq(load(&c, err, sizeof err, "-c", path, "--forward", "127.0.0.9", NULL), 0);
	ck_assert_uint_eq(c.nforward, 1);
	ck_assert_str_eq(c.forward[0].text, "127.0.0.9");
	rw_config_fini(&c);
	unlink(path);
	write_cfg("forward-zone:\n  - corp=127.0.0.60\n  - bad=nowhere\n");
	ck_assert_int_eq(load(&c, err, sizeof err, "-c", path, NULL), RW_EINVAL);
	ck_assert_msg(strstr(err, ":3: forward-zone") != NULL, "%s", err);
	rw_config_fini(&c);
	unlink(path);
	/* a forward zone's options (node-local cache mode, issue 13) */
	ck_assert_msg(load(&c, err, sizeof err, "--forward-zone",
	                   "cluster.local=10.96.0.10,10.96.0.11 tcp max-ttl=30 max-negative-ttl=5",
	                   "--forward-zone", "in-addr.arpa=10.96.0.10  max-negative-ttl=0",
	                   NULL) == 0,
	              "%s", err);
	ck_assert_uint_eq(c.forward_zones[0].nservers, 2);
	ck_assert(c.forward_zones[0].tcp);
	ck_assert_uint_eq(c.forward_zones[0].max_ttl, 30);
	ck_assert_uint_eq(c.forward_zones[0].max_neg_ttl, 5);
	ck_assert(c.forward_zones[0].has_max_neg_ttl);
	ck_assert(!c.forward_zones[1].tcp);
	ck_assert_uint_eq(c.forward_zones[1].max_ttl, 0);
	ck_assert(c.forward_zones[1].has_max_neg_ttl);
	ck_assert_uint_eq(c.forward_zones[1].max_neg_ttl, 0);
	rw_config_fini(&c);
	const char *bad_opts[] = {"x=127.0.0.1 fast",      "x=127.0.0.1 max-ttl=",
	                          "x=127.0.0.1 max-ttl=0", "x=127.0.0.1 max-ttl=abc",
	                          "x=127.0.0.1 tcp=1",     "x=127.0.0.1 max-negative-ttl=9999999"};
	for (size_t i = 0; i < sizeof bad_opts / sizeof bad_opts[0]; i++) {
		ck_assert_int_eq(load(&c, err, sizeof err, "--forward-zone", bad_opts[i], NULL),
		                 RW_EINVAL);
		ck_assert_msg(strstr(err, "options are tcp, max-ttl=SECONDS") != NULL, "%s: %s",
		              bad_opts[i], err);
		rw_config_fini(&c);
	}
}
END_TEST

/* Serve-stale, prefetch and the keep-warm list (issue 12): defaults,
 * flags, the file, and a bad item named with its line. */
START_TEST(stale_prefetch_keep_warm)
{
	struct rw_config c;
	char err[512];
	ck_assert_int_eq(load(&c, err, sizeof err, NULL), 0);
	ck_assert_uint_eq(c.serve_stale_s, 86400);
	ck_assert_uint_eq(c.serve_stale_ttl, 30);
	ck_assert_uint_eq(c.serve_stale_timeout_ms, 1800);
	ck_assert_uint_eq(c.serve_stale_retry_s, 30);
	ck_assert_uint_eq(c.prefetch_pct, 10);
	ck_assert_uint_eq(c.nkeep_warm, 0);
	rw_config_fini(&c);
	ck_assert_msg(load(&c, err, sizeof err, "--serve-stale-s", "0", "--prefetch", "0",
	                   "--keep-warm", "www.example", "--keep-warm", "Mail.Example./aaaa",
	                   NULL) == 0,
	              "%s", err);
	ck_assert_uint_eq(c.serve_stale_s, 0);
	ck_assert_uint_eq(c.prefetch_pct, 0);
	ck_assert_uint_eq(c.nkeep_warm, 2);
	ck_assert_mem_eq(c.keep_warm[0].name, "\3www\7example\0", 13);
	ck_assert_uint_eq(c.keep_warm[0].type, 1);
	ck_assert_mem_eq(c.keep_warm[1].name, "\4Mail\7Example\0", 14);
	ck_assert_uint_eq(c.keep_warm[1].type, 28);
	rw_config_fini(&c);
	ck_assert_int_eq(load(&c, err, sizeof err, "--keep-warm", "www.example/NOPE", NULL),
	                 RW_EINVAL);
	ck_assert_msg(strstr(err, "keep-warm") != NULL, "%s", err);
	rw_config_fini(&c);
	write_cfg("keep-warm:\n  - a.example/MX\n  - \"bad..name\"\n");
	ck_assert_int_eq(load(&c, err, sizeof err, "-c", path, NULL), RW_EINVAL);
	ck_assert_msg(strstr(err, ":3: keep-warm") != NULL, "%s", err);
	rw_config_fini(&c);
	unlink(path);
	ck_assert_int_eq(load(&c, err, sizeof err, "--prefetch", "60", NULL), RW_EINVAL);
	rw_config_fini(&c);
}
END_TEST

START_TEST(ops_settings)
{
	struct rw_config c;
	char err[512];
	ck_assert_int_eq(load(&c, err, sizeof err, NULL), 0);
	ck_assert_uint_eq(c.nallow, 2); /* loopback by default */
	ck_assert_int_eq(c.allow[0].family, AF_INET);
	ck_assert_uint_eq(c.allow[0].prefix, 8);
	ck_assert_int_eq(c.allow[1].family, AF_INET6);
	ck_assert_uint_eq(c.allow[1].prefix, 128);
	ck_assert(c.round_robin);
	ck_assert_ptr_null(c.http);
	ck_assert_ptr_null(c.control);
	ck_assert_uint_eq(c.rate_limit, 0);
	rw_config_fini(&c);
	ck_assert_msg(load(&c, err, sizeof err, "--allow", "10.0.0.0/8", "--allow", "fd00::/8",
	                   "--allow-local-zones-from-any", "--rate-limit", "50", "--user", "nobody",
	                   "--log-format", "json", "--log-queries", "--http", "127.0.0.1:9153",
	                   "--control", "/run/rw.sock", "--watch-zones", "--no-round-robin",
	                   "--root-hints", "/etc/hints", "--query-loopback", "--no-ipv6-upstream",
	                   "--max-cname-chain", "4", "--max-outstanding", "99", NULL) == 0,
	              "%s", err);
	ck_assert_uint_eq(c.nallow, 2);
	ck_assert_uint_eq(c.allow[0].prefix, 8);
	ck_assert_uint_eq(c.allow[1].addr[0], 0xfd);
	ck_assert(c.local_from_any);
	ck_assert_uint_eq(c.rate_limit, 50);
	ck_assert_str_eq(c.user, "nobody");
	ck_assert(c.log_json);
	ck_assert(c.log_queries);
	ck_assert_str_eq(c.http->text, "127.0.0.1:9153");
	ck_assert_str_eq(c.control, "/run/rw.sock");
	ck_assert(c.watch_zones);
	ck_assert(!c.round_robin);
	ck_assert_str_eq(c.root_hints, "/etc/hints");
	ck_assert(c.query_loopback);
	ck_assert(!c.ipv6_upstream);
	ck_assert_uint_eq(c.max_cname_chain, 4);
	ck_assert_uint_eq(c.max_outstanding, 99);
	rw_config_fini(&c);
	static const char *const bad[][3] = {
	    {"--allow", "10.0.0.0/33", "allow"},  {"--allow", "nothing", "allow"},
	    {"--allow", "::1/129", "allow"},      {"--log-format", "xml", "log-format"},
	    {"--http", "127.0.0.1", "http"},      {"--http", "localhost:80", "http"},
	    {"--rate-limit", "-1", "rate-limit"}, {"--max-subrequest-depth", "9", "max-subrequest"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char e[512] = "";
		ck_assert_msg(load(&c, e, sizeof e, bad[i][0], bad[i][1], NULL) == RW_EINVAL,
		              "accepted %s %s", bad[i][0], bad[i][1]);
		ck_assert_msg(strstr(e, bad[i][2]) != NULL, "'%s' lacks '%s'", e, bad[i][2]);
		rw_config_fini(&c);
	}
	/* netblocks */
	struct rw_netblock b[2];
	ck_assert_int_eq(rw_netblock_parse("192.168.0.0/16", &b[0]), 0);
	ck_assert_int_eq(rw_netblock_parse("2001:db8::/33", &b[1]), 0);
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	inet_pton(AF_INET, "192.168.255.1", &s4.sin_addr);
	ck_assert(rw_netblock_match(b, 2, (struct sockaddr *)&s4));
	inet_pton(AF_INET, "192.169.0.1", &s4.sin_addr);
	ck_assert(!rw_netblock_match(b, 2, (struct sockaddr *)&s4));
	inet_pton(AF_INET6, "2001:db8:7fff::1", &s6.sin6_addr);
	ck_assert(rw_netblock_match(b, 2, (struct sockaddr *)&s6));
	inet_pton(AF_INET6, "2001:db8:8000::1", &s6.sin6_addr);
	ck_assert(!rw_netblock_match(b, 2, (struct sockaddr *)&s6)); /* bit 33 differs */
	inet_pton(AF_INET6, "::ffff:192.168.1.1", &s6.sin6_addr);
	ck_assert(rw_netblock_match(b, 2, (struct sockaddr *)&s6)); /* v4-mapped */
}
END_TEST

START_TEST(addresses)
{
	struct rw_sockaddr a;
	ck_assert_int_eq(rw_addr_parse("127.0.0.1", 53, &a), 0);
	ck_assert_uint_eq(ntohs(((struct sockaddr_in *)&a.ss)->sin_port), 53);
	ck_assert_int_eq(rw_addr_parse("::1", 53, &a), 0);
	ck_assert_int_eq(a.ss.ss_family, AF_INET6);
	ck_assert_int_eq(rw_addr_parse("[::1]", 5, &a), 0);
	ck_assert_int_eq(rw_addr_parse("[::1]x", 5, &a), RW_EINVAL);
	ck_assert_int_eq(rw_addr_parse("", 5, &a), RW_EINVAL);
	ck_assert_int_eq(rw_addr_parse("host.name:53", 5, &a), RW_EINVAL);
}
END_TEST

START_TEST(yaml_file_and_precedence)
{
	write_cfg("# rootwalk config\n"
	          "listen:\n"
	          "  - 127.0.0.9:5300\n"
	          "  - \"[::1]:5300\"\n"
	          "threads: 2\n"
	          "zone: [example.org=rel.zone]\n"
	          "zones-dir: /abs/zones\n"
	          "log-level: warn\n"
	          "no-builtin-zones: true\n");
	struct rw_config c;
	char err[512];
	ck_assert_msg(load(&c, err, sizeof err, "-c", path, NULL) == 0, "%s", err);
	ck_assert_uint_eq(c.nlisten, 2);
	ck_assert_str_eq(c.listen[0].text, "127.0.0.9:5300");
	ck_assert_uint_eq(c.threads, 2);
	/* relative paths: relative to the config file's folder */
	ck_assert_str_eq(c.zones[0].file, "/tmp/rel.zone");
	ck_assert_str_eq(c.zones_dir, "/abs/zones");
	ck_assert_int_eq(c.log_level, RW_LOG_WARN);
	ck_assert(!c.builtin_zones);
	rw_config_fini(&c);
	/* flags override the file; a repeatable flag replaces the list */
	ck_assert_int_eq(load(&c, err, sizeof err, "--threads", "1", "--config", path, "--listen",
	                      "127.0.0.10:53", NULL),
	                 0);
	ck_assert_uint_eq(c.threads, 1);
	ck_assert_uint_eq(c.nlisten, 1);
	ck_assert_str_eq(c.listen[0].text, "127.0.0.10:53");
	ck_assert_uint_eq(c.nzones, 1);
	rw_config_fini(&c);
	unlink(path);
}
END_TEST

START_TEST(yaml_errors)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"threads: 2\nbogus: 1\n", ":2: unknown setting 'bogus'"},
	    {"threads: [1, 2]\n", ":1: threads: expected one value"},
	    {"threads: lots\n", ":1: threads: expected a number"},
	    {"listen:\n  - 127.0.0.1:53\n  - nope\n", ":3: listen:"},
	    {"listen:\n  - [a]\n", ":2: listen: list items"},
	    {"- just\n- a list\n", ":1: the file must be a mapping"},
	    {"threads: 2\n  bad: [indent\n", "YAML error"},
	    {"check-config: true\n", "command line only"},
	    {"threads: 2\nlisten: 127.0.0.1:53\nthreads: 3\n",
	     ":3: 'threads' is given twice (first on line 1)"},
	    {"no-builtin-zones: maybe\n", "expected true or false"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		write_cfg(cases[i].text);
		struct rw_config c;
		char err[512] = "";
		ck_assert_int_eq(load(&c, err, sizeof err, "-c", path, NULL), RW_EINVAL);
		ck_assert_msg(strstr(err, path) == err, "'%s' does not start with the file", err);
		ck_assert_msg(strstr(err, cases[i].want) != NULL, "'%s' lacks '%s'", err,
		              cases[i].want);
		rw_config_fini(&c);
		unlink(path);
	}
	struct rw_config c;
	char err[512];
	ck_assert_int_eq(load(&c, err, sizeof err, "-c", "/nonexistent/rw.yaml", NULL), RW_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "cannot open"));
	rw_config_fini(&c);
	/* an empty file means all defaults */
	write_cfg("");
	ck_assert_int_eq(load(&c, err, sizeof err, "-c", path, NULL), 0);
	ck_assert_uint_eq(c.nlisten, 2);
	rw_config_fini(&c);
	unlink(path);
}
END_TEST

/* Every row of the settings table, from the flags, from YAML and from both,
 * in table order and reversed, each given twice (in the file: a list's
 * two items, as a key given twice is an error): loads, keeps each value
 * in its own field (setting one never frees another: the --control/--http
 * use-after-free), lists hold exactly what the last source gave, and
 * rw_config_fini frees all of it (the sanitizer run catches the rest). */
static void every_setting(bool reverse, bool flags, bool file)
{
	size_t n = rw_config_setting_count();
	char *argv[512] = {"rootwalk"};
	int argc = 1;
	char yaml[8192] = "";
	size_t yl = 0;
	for (size_t k = 0; k < n; k++) {
		struct rw_config_setting_info s;
		ck_assert(rw_config_setting_info(reverse ? n - 1 - k : k, &s));
		if (s.example == NULL || strcmp(s.name, "config") == 0)
			continue; /* actions, and --config itself below */
		for (int twice = 0; twice < 2; twice++) {
			if (flags) {
				static char names[512][64];
				size_t slot = (size_t)argc;
				snprintf(names[slot], sizeof names[slot], "--%s", s.name);
				argv[argc++] = names[slot];
				if (s.takes_value)
					argv[argc++] = (char *)s.example;
				ck_assert_int_lt(argc, 500);
			}
			/* the file: each key once (twice is an error), a list
			 * as a sequence of the example twice */
			if (file && s.file_key && twice == 0)
				yl += (size_t)snprintf(yaml + yl, sizeof yaml - yl,
				                       s.list ? "%s: [\"%s\", \"%s\"]\n"
				                              : "%s: \"%s\"\n%.0s",
				                       s.name, s.example, s.example);
		}
	}
	if (file) {
		write_cfg(yaml);
		argv[argc++] = "-c";
		argv[argc++] = path;
	}
	struct rw_config c;
	char err[512] = "";
	int e = rw_config_load(&c, argc, argv, err, sizeof err);
	ck_assert_msg(e == 0, "%s", err);
	ck_assert_ptr_nonnull(c.control);
	ck_assert_str_eq(c.control, "/run/rootwalk/control.sock");
	ck_assert_ptr_nonnull(c.http);
	ck_assert_str_eq(c.http->text, "127.0.0.1:8053");
	ck_assert_str_eq(c.user, "nobody");
	ck_assert_uint_eq(c.nlisten, 2);
	ck_assert_str_eq(c.listen[1].text, "127.0.0.1:5353");
	ck_assert_uint_eq(c.nforward, 2);
	ck_assert_uint_eq(c.nforward_zones, 2);
	ck_assert_uint_eq(c.forward_zones[1].nservers, 2);
	ck_assert_uint_eq(c.nzones, 2);
	ck_assert_uint_eq(c.nallow, 2);
	ck_assert_uint_eq(c.threads, 2);
	ck_assert_uint_eq(c.edns_size, 1400);
	ck_assert_uint_eq(c.cache_size, 128u << 20);
	ck_assert_uint_eq(c.max_outstanding, 5000);
	ck_assert(!c.builtin_zones && !c.round_robin && !c.ipv6_upstream && !c.qname_minimisation);
	ck_assert(c.watch_zones && c.query_loopback && c.log_json && c.log_queries);
	ck_assert_int_eq(c.log_level, RW_LOG_DEBUG);
	rw_config_fini(&c);
	if (file)
		unlink(path);
}

START_TEST(every_setting_every_way)
{
	for (int reverse = 0; reverse < 2; reverse++) {
		every_setting(reverse, true, false);
		every_setting(reverse, false, true);
		every_setting(reverse, true, true);
	}
	/* every row has an example, and every file key a flag */
	for (size_t i = 0; i < rw_config_setting_count(); i++) {
		struct rw_config_setting_info s;
		ck_assert(rw_config_setting_info(i, &s));
		ck_assert_msg(s.example != NULL || !s.file_key, "%s has no example", s.name);
	}
	/* the report's exact case: --control before --http */
	struct rw_config c;
	char err[512];
	ck_assert_int_eq(
	    load(&c, err, sizeof err, "--control", "/tmp/rw.ctl", "--http", "127.0.0.1:8053", NULL),
	    0);
	ck_assert_str_eq(c.control, "/tmp/rw.ctl");
	rw_config_fini(&c);
	write_cfg("control: /tmp/rw.ctl\nhttp: 127.0.0.1:8053\n");
	ck_assert_int_eq(load(&c, err, sizeof err, "-c", path, NULL), 0);
	ck_assert_str_eq(c.control, "/tmp/rw.ctl");
	rw_config_fini(&c);
	unlink(path);
}
END_TEST

/* A reload compares configurations setting by setting: each setting set
 * to its example is the one difference, named in its own class (restart
 * or not); equal configurations differ in nothing. */
START_TEST(diff_for_reload)
{
	struct rw_config base, b2, c;
	char err[512], out[1024];
	ck_assert_int_eq(
	    rw_config_load_yaml(&base, "base.yaml", (const uint8_t *)"", 0, err, sizeof err), 0);
	ck_assert_int_eq(
	    rw_config_load_yaml(&b2, "b2.yaml", (const uint8_t *)"", 0, err, sizeof err), 0);
	ck_assert_uint_eq(rw_config_diff(&base, &b2, true, out, sizeof out), 0);
	ck_assert_uint_eq(rw_config_diff(&base, &b2, false, out, sizeof out), 0);
	ck_assert_str_eq(out, "");
	rw_config_fini(&b2);
	size_t restart = 0, applied = 0;
	for (size_t i = 0; i < rw_config_setting_count(); i++) {
		struct rw_config_setting_info s;
		ck_assert(rw_config_setting_info(i, &s));
		if (!s.file_key)
			continue;
		char text[512];
		/* threads' example may be this machine's core count, its default */
		int n = snprintf(text, sizeof text, "%s: \"%s\"\n", s.name,
		                 strcmp(s.name, "threads") == 0 ? "77" : s.example);
		ck_assert_int_eq(rw_config_load_yaml(&c, "one.yaml", (const uint8_t *)text,
		                                     (size_t)n, err, sizeof err),
		                 0);
		size_t r = rw_config_diff(&base, &c, true, out, sizeof out);
		char other[1024];
		size_t a = rw_config_diff(&base, &c, false, other, sizeof other);
		ck_assert_msg(r + a == 1, "%s: %zu + %zu settings differ (%s / %s)", s.name, r, a,
		              out, other);
		ck_assert_str_eq(r == 1 ? out : other, s.name);
		ck_assert(!rw_config_same(&base, &c, s.name));
		ck_assert(rw_config_same(&c, &c, s.name));
		restart += r;
		applied += a;
		rw_config_fini(&c);
	}
	ck_assert_uint_eq(restart, 13); /* config.h names them */
	ck_assert_uint_gt(applied, 40);
	/* several at once, in table order; a full buffer is cut short */
	const char *two = "threads: 3\nlisten: 127.0.0.1:5353\nrate-limit: 5\n";
	ck_assert_int_eq(
	    rw_config_load_yaml(&c, "two.yaml", (const uint8_t *)two, strlen(two), err, sizeof err),
	    0);
	ck_assert_uint_eq(rw_config_diff(&base, &c, true, out, sizeof out), 2);
	ck_assert_str_eq(out, "listen, threads");
	ck_assert_uint_eq(rw_config_diff(&base, &c, true, out, 8), 2);
	ck_assert_str_eq(out, "listen,");
	ck_assert_uint_eq(rw_config_diff(&base, &c, false, out, sizeof out), 1);
	ck_assert_str_eq(out, "rate-limit");
	ck_assert(rw_config_same(&base, &c, "no-such-setting"));
	rw_config_fini(&c);
	rw_config_fini(&base);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, defaults_and_flags);
	tcase_add_test(tc, flag_errors);
	tcase_add_test(tc, addresses);
	tcase_add_test(tc, cache_and_forward_settings);
	tcase_add_test(tc, ops_settings);
	tcase_add_test(tc, stale_prefetch_keep_warm);
	tcase_add_test(tc, yaml_file_and_precedence);
	tcase_add_test(tc, yaml_errors);
	tcase_add_test(tc, every_setting_every_way);
	tcase_add_test(tc, diff_for_reload);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
