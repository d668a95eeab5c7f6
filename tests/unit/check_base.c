/* Unit tests for the base layer's newer modules: the arena, addresses and
 * netblocks (netaddr), the text buffer (strbuf), per-client rate limits
 * (ratelimit) and the error texts. */
#include "rootwalk/arena.h"
#include "rootwalk/assert.h"
#include "rootwalk/cpus.h"
#include "rootwalk/err.h"
#include "rootwalk/netaddr.h"
#include "rootwalk/ratelimit.h"
#include "rootwalk/strbuf.h"

#include "testutil.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>
#include <stdlib.h>
#include <stdio.h>

/* The arena: 8-byte alignment, the limit, blocks that double, a reset
 * that keeps the largest block (the next request like the last allocates
 * nothing), and trimming the last allocation. */
START_TEST(arena_blocks_reset_trim)
{
	struct rw_arena a;
	rw_arena_init(&a, 1024, 64 * 1024);
	uint8_t *p = rw_arena_alloc(&a, 3), *q = rw_arena_alloc(&a, 5);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_eq(q, p + 8);
	ck_assert_ptr_null(rw_arena_alloc(&a, 65 * 1024)); /* past the limit */
	for (int i = 0; i < 20; i++)                       /* 20 KB: blocks of 1, 2, 4, 8, 16 KB */
		ck_assert_ptr_nonnull(rw_arena_alloc(&a, 1000));
	size_t held = a.used_bytes;
	rw_arena_reset(&a);
	ck_assert_uint_lt(a.used_bytes, held);
	size_t kept = a.used_bytes;
	ck_assert_uint_ge(kept, 16 * 1024); /* the largest block */
	for (int i = 0; i < 15; i++)
		ck_assert_ptr_nonnull(rw_arena_alloc(&a, 1000));
	ck_assert_uint_eq(a.used_bytes, kept); /* no new block */
	/* Trim: the end of the last allocation comes back; an earlier
	 * allocation is left as it is. */
	uint8_t *big = rw_arena_alloc(&a, 512), *after;
	rw_arena_trim(&a, big, 512, 10);
	after = rw_arena_alloc(&a, 8);
	ck_assert_ptr_eq(after, big + 16);
	rw_arena_trim(&a, big, 16, 1); /* not the last: nothing */
	ck_assert_ptr_eq(rw_arena_alloc(&a, 8), after + 8);
	rw_arena_fini(&a);
	ck_assert_uint_eq(a.used_bytes, 0);
}
END_TEST

START_TEST(addr_parse_and_text)
{
	static const struct {
		const char *text;
		int ok;
		const char *printed;
	} cases[] = {
	    {"127.0.0.1", 1, "127.0.0.1#53"},
	    {"127.0.0.1:5353", 1, "127.0.0.1#5353"},
	    {"::1", 1, "::1#53"},
	    {"[::1]:54", 1, "::1#54"},
	    {"[2001:db8::1]", 1, "2001:db8::1#53"},
	    {"", 0, NULL},
	    {"[::1", 0, NULL},
	    {"[::1]x", 0, NULL},
	    {"1.2.3:53", 0, NULL},
	    {"127.0.0.1:0", 0, NULL},
	    {"127.0.0.1:65536", 0, NULL},
	    {"127.0.0.1:", 0, NULL},
	    {"host.name:53", 0, NULL},
	    {"0123456789012345678901234567890123456789012345678901234567890123456789", 0, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct rw_sockaddr a;
		int e = rw_addr_parse(cases[i].text, 53, &a);
		ck_assert_msg((e == 0) == cases[i].ok, "%s: %d", cases[i].text, e);
		if (!cases[i].ok) {
			ck_assert_int_eq(e, RW_EINVAL);
			continue;
		}
		char buf[80];
		rw_addr_text((const struct sockaddr *)&a.ss, buf, sizeof buf);
		ck_assert_str_eq(buf, cases[i].printed);
		ck_assert_str_eq(a.text, cases[i].text);
	}
	/* a tiny buffer is still terminated */
	struct rw_sockaddr a;
	ck_assert_int_eq(rw_addr_parse("192.0.2.1:53", 53, &a), 0);
	char small[5];
	rw_addr_text((const struct sockaddr *)&a.ss, small, sizeof small);
	ck_assert_str_eq(small, "192.");
}
END_TEST

START_TEST(netblocks_and_loopback)
{
	struct rw_netblock b[3];
	ck_assert_int_eq(rw_netblock_parse("10.0.0.0/8", &b[0]), 0);
	ck_assert_int_eq(rw_netblock_parse("2001:db8::/33", &b[1]), 0);
	ck_assert_int_eq(rw_netblock_parse("0.0.0.0/0", &b[2]), 0);
	ck_assert_int_eq(rw_netblock_parse("10.0.0.0/33", &b[0]), RW_EINVAL);
	ck_assert_int_eq(rw_netblock_parse("::/129", &b[0]), RW_EINVAL);
	ck_assert_int_eq(rw_netblock_parse("10.0.0.0/", &b[0]), RW_EINVAL);
	ck_assert_int_eq(rw_netblock_parse("/8", &b[0]), RW_EINVAL);
	ck_assert_int_eq(rw_netblock_parse("ten/8", &b[0]), RW_EINVAL);
	ck_assert_int_eq(rw_netblock_parse("10.0.0.0/8", &b[0]), 0);
	struct sockaddr_in s4 = {.sin_family = AF_INET};
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6};
	inet_pton(AF_INET, "10.255.0.1", &s4.sin_addr);
	ck_assert(rw_netblock_match(b, 2, (struct sockaddr *)&s4));
	inet_pton(AF_INET, "11.0.0.1", &s4.sin_addr);
	ck_assert(!rw_netblock_match(b, 2, (struct sockaddr *)&s4));
	ck_assert(rw_netblock_match(b, 3, (struct sockaddr *)&s4)); /* /0 */
	inet_pton(AF_INET6, "2001:db8:8000::1", &s6.sin6_addr);
	ck_assert(!rw_netblock_match(b, 2, (struct sockaddr *)&s6)); /* bit 33 */
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6.sin6_addr);
	ck_assert(rw_netblock_match(b, 2, (struct sockaddr *)&s6)); /* v4-mapped */
	/* loopback and unspecified, in every form */
	static const char *const loop[] = {"127.0.0.1", "127.255.1.2", "0.0.0.0",
	                                   "::1",       "::",          "::ffff:127.0.0.1"};
	for (size_t i = 0; i < sizeof loop / sizeof loop[0]; i++) {
		struct rw_sockaddr a;
		ck_assert_int_eq(rw_addr_parse(loop[i], 53, &a), 0);
		ck_assert_msg(rw_addr_is_loopback_or_any((const struct sockaddr *)&a.ss), "%s",
		              loop[i]);
	}
	struct rw_sockaddr a;
	ck_assert_int_eq(rw_addr_parse("192.0.2.1", 53, &a), 0);
	ck_assert(!rw_addr_is_loopback_or_any((const struct sockaddr *)&a.ss));
	ck_assert_int_eq(rw_addr_parse("2001:db8::1", 53, &a), 0);
	ck_assert(!rw_addr_is_loopback_or_any((const struct sockaddr *)&a.ss));
}
END_TEST

/* One key per client for the per-client limits: an IPv4 address, an
 * IPv6 /64; the port never matters. */
START_TEST(client_keys)
{
	struct sockaddr_storage a = {0}, b = {0};
	uint8_t ka[RW_CLIENT_KEY_LEN], kb[RW_CLIENT_KEY_LEN];
	struct sockaddr_in *a4 = (struct sockaddr_in *)&a, *b4 = (struct sockaddr_in *)&b;
	a4->sin_family = b4->sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.2", &a4->sin_addr);
	inet_pton(AF_INET, "127.0.0.2", &b4->sin_addr);
	a4->sin_port = htons(1000);
	b4->sin_port = htons(2000);
	rw_client_key(&a, ka);
	rw_client_key(&b, kb);
	ck_assert_mem_eq(ka, kb, RW_CLIENT_KEY_LEN);
	inet_pton(AF_INET, "127.0.0.3", &b4->sin_addr);
	rw_client_key(&b, kb);
	ck_assert(memcmp(ka, kb, RW_CLIENT_KEY_LEN) != 0);
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&a, *b6 = (struct sockaddr_in6 *)&b;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	a6->sin6_family = b6->sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8:1:2::1", &a6->sin6_addr);
	inet_pton(AF_INET6, "2001:db8:1:2:ffff::9", &b6->sin6_addr);
	rw_client_key(&a, ka);
	rw_client_key(&b, kb);
	ck_assert_mem_eq(ka, kb, RW_CLIENT_KEY_LEN); /* the same /64 */
	inet_pton(AF_INET6, "2001:db8:1:3::1", &b6->sin6_addr);
	rw_client_key(&b, kb);
	ck_assert(memcmp(ka, kb, RW_CLIENT_KEY_LEN) != 0);
}
END_TEST

START_TEST(strbuf_grows)
{
	struct rw_buf b = {0};
	for (int i = 0; i < 2000; i++)
		rw_buf_printf(&b, "line %d\n", i);
	ck_assert(!b.failed);
	ck_assert_ptr_nonnull(strstr(b.p, "line 1999\n"));
	ck_assert_uint_eq(strlen(b.p), b.len);
	free(b.p);
	struct rw_buf f = {.failed = 1};
	rw_buf_printf(&f, "ignored");
	ck_assert_ptr_null(f.p);
}
END_TEST

START_TEST(ratelimit_verdicts)
{
	struct rw_ratelimit *rl = rw_ratelimit_new(10);
	ck_assert_ptr_nonnull(rl);
	struct sockaddr_in a = {.sin_family = AF_INET}, other = {.sin_family = AF_INET};
	inet_pton(AF_INET, "192.0.2.1", &a.sin_addr);
	inet_pton(AF_INET, "192.0.2.2", &other.sin_addr);
	uint64_t t = 1000;
	/* a burst of one second's worth passes */
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(rw_ratelimit_check(rl, (struct sockaddr *)&a, t), RW_RL_PASS);
	/* then every other reply slips, the rest drop */
	int slips = 0, drops = 0;
	for (int i = 0; i < 20; i++) {
		enum rw_rl_verdict v = rw_ratelimit_check(rl, (struct sockaddr *)&a, t);
		slips += v == RW_RL_SLIP;
		drops += v == RW_RL_DROP;
	}
	ck_assert_int_eq(slips, 10);
	ck_assert_int_eq(drops, 10);
	/* another client has its own bucket */
	ck_assert_int_eq(rw_ratelimit_check(rl, (struct sockaddr *)&other, t), RW_RL_PASS);
	/* 100 ms later: one more token (10 per second) */
	t += 100;
	ck_assert_int_eq(rw_ratelimit_check(rl, (struct sockaddr *)&a, t), RW_RL_PASS);
	ck_assert_int_ne(rw_ratelimit_check(rl, (struct sockaddr *)&a, t), RW_RL_PASS);
	/* IPv6 clients share a bucket per /56 */
	struct sockaddr_in6 x = {.sin6_family = AF_INET6}, y = {.sin6_family = AF_INET6};
	inet_pton(AF_INET6, "2001:db8:0:1::1", &x.sin6_addr);
	inet_pton(AF_INET6, "2001:db8:0:2::9", &y.sin6_addr);
	for (int i = 0; i < 10; i++)
		ck_assert_int_eq(rw_ratelimit_check(rl, (struct sockaddr *)&x, t), RW_RL_PASS);
	ck_assert_int_ne(rw_ratelimit_check(rl, (struct sockaddr *)&y, t), RW_RL_PASS);
	rw_ratelimit_free(rl);
}
END_TEST

/* The recoverable tier: true on a broken invariant, so the caller takes its
 * way out; it aborts only in builds made to (debug, sanitizers). */
START_TEST(assertion_tiers)
{
	ck_assert(!rw_fails_assert(1 + 1 == 2));
#ifndef RW_ASSERT_ABORT
	ck_assert(rw_fails_assert(1 + 1 == 3)); /* logged, not fatal here */
#endif
	RW_REQUIRE(true);
}
END_TEST

/* A fake root laid out like / for rw_cpu_budget: files under dir. */
static void put(const char *dir, const char *path, const char *text)
{
	char full[512], cmd[600];
	snprintf(full, sizeof full, "%s%s", dir, path);
	snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", full);
	ck_assert_int_eq(system(cmd), 0);
	FILE *f = fopen(full, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* Workers are sized from the affinity mask and the tightest cgroup quota
 * on the way to the root, v2 first, then v1's cpu controller; rounded up,
 * at least 1. */
START_TEST(cpu_budget)
{
	char root[] = "/tmp/rw-cpus.XXXXXX", why[96];
	ck_assert_ptr_nonnull(mkdtemp(root));
	/* nothing readable: the affinity count */
	ck_assert_uint_eq(rw_cpu_budget(root, 8, why, sizeof why), 8);
	ck_assert_str_eq(why, "8 CPUs allowed, no cgroup quota");
	/* cgroup v2: the pod's quota above the container's "max" */
	put(root, "/proc/self/mountinfo",
	    "22 1 0:21 / /sys rw - sysfs sysfs rw\n"
	    "30 22 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
	put(root, "/proc/self/cgroup", "0::/kubepods/pod1/ctr\n");
	put(root, "/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "max 100000\n");
	put(root, "/sys/fs/cgroup/kubepods/pod1/cpu.max", "150000 100000\n");
	put(root, "/sys/fs/cgroup/kubepods/cpu.max", "max 100000\n");
	ck_assert_uint_eq(rw_cpu_budget(root, 96, why, sizeof why), 2);
	ck_assert_str_eq(why, "96 CPUs allowed, cgroup quota 1.50 CPU");
	/* a 50m limit: one worker, not 96 */
	put(root, "/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "5000 100000\n");
	ck_assert_uint_eq(rw_cpu_budget(root, 96, why, sizeof why), 1);
	ck_assert_str_eq(why, "96 CPUs allowed, cgroup quota 0.05 CPU");
	/* a quota above the mask: the mask */
	put(root, "/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "800000 100000\n");
	put(root, "/sys/fs/cgroup/kubepods/pod1/cpu.max", "max 100000\n");
	ck_assert_uint_eq(rw_cpu_budget(root, 4, why, sizeof why), 4);
	/* garbage is no quota */
	put(root, "/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max", "lots\n");
	ck_assert_uint_eq(rw_cpu_budget(root, 4, why, sizeof why), 4);
	/* cgroup v1 (hybrid: a v2 mount without the cpu controller's files) */
	put(root, "/proc/self/mountinfo",
	    "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
	    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
	    "40 31 0:35 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
	put(root, "/proc/self/cgroup", "4:cpu,cpuacct:/docker/abc\n1:name=systemd:/x\n0::/\n");
	put(root, "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us", "250000\n");
	put(root, "/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us", "100000\n");
	put(root, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
	put(root, "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
	ck_assert_uint_eq(rw_cpu_budget(root, 16, why, sizeof why), 3);
	ck_assert_str_eq(why, "16 CPUs allowed, cgroup quota 2.50 CPU");
	/* this process's own affinity: at least 1, at most the machine */
	unsigned n = rw_cpu_budget("/nonexistent", 0, why, sizeof why);
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	char cmd[64];
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(error_texts)
{
	for (int e = 0; e >= RW_EEXIST; e--)
		ck_assert_str_ne(rw_strerror(e), "unknown error");
	ck_assert_ptr_nonnull(rw_strerror(-1000));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("base");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, arena_blocks_reset_trim);
	tcase_add_test(tc, addr_parse_and_text);
	tcase_add_test(tc, netblocks_and_loopback);
	tcase_add_test(tc, strbuf_grows);
	tcase_add_test(tc, client_keys);
	tcase_add_test(tc, ratelimit_verdicts);
	tcase_add_test(tc, assertion_tiers);
	tcase_add_test(tc, error_texts);
	tcase_add_test(tc, cpu_budget);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
