/* Unit tests: assembling the served zone set from configuration -- built-in
 * zones, --zones-dir, --zone, overriding, errors naming file and line, and
 * the zones shipped in zones/ loading cleanly. */
#include "rootwalk/config.h"
#include "rootwalk/err.h"
#include "rootwalk/rr.h"
#include "rootwalk/zoneload.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool has(const struct rw_zoneset *zs, const char *name, uint16_t type)
{
	uint8_t n[RW_NAME_MAX], l[RW_NAME_MAX];
	size_t nl = tu_name(name, n);
	rw_name_lower(l, n, nl);
	const struct rw_zone *z = rw_zoneset_find(zs, l);
	const struct rw_znode *node;
	if (z == NULL || rw_zone_lookup(z, l, &node) == RW_ZONE_NXDOMAIN)
		return false;
	return rw_znode_rrset(node, type) != NULL;
}

START_TEST(builtin_zones)
{
	struct rw_zone_sources c = {.builtin = true};
	struct rw_zoneset *zs;
	char err[512];
	ck_assert_msg(rw_zoneload(&c, &zs, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_gt(rw_zoneset_count(zs), 30);
	ck_assert(has(zs, "localhost.", RW_TYPE_A));
	ck_assert(has(zs, "anything.localhost.", RW_TYPE_AAAA));
	ck_assert(has(zs, "1.0.0.127.in-addr.arpa.", RW_TYPE_PTR));
	ck_assert(has(zs,
	              "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.",
	              RW_TYPE_PTR));
	ck_assert(has(zs, "invalid.", RW_TYPE_SOA));
	ck_assert(has(zs, "168.192.in-addr.arpa.", RW_TYPE_SOA));
	ck_assert(!has(zs, "foo.invalid.", RW_TYPE_A));
	rw_zoneset_unref(zs);
	c.builtin = false;
	ck_assert_int_eq(rw_zoneload(&c, &zs, err, sizeof err), 0);
	ck_assert_uint_eq(rw_zoneset_count(zs), 0);
	rw_zoneset_unref(zs);
}
END_TEST

/* Whether a name is answered by a local zone at all (not left to the
 * cache and forwarding). */
static bool local(const struct rw_zoneset *zs, const char *name)
{
	uint8_t n[RW_NAME_MAX], l[RW_NAME_MAX];
	size_t nl = tu_name(name, n);
	rw_name_lower(l, n, nl);
	return rw_zoneset_find(zs, l) != NULL;
}

/* Built-in zones are defaults, not walls (issue 13): a forward zone at or
 * below one takes its names; --no-builtin-zone turns one off; a forward
 * zone above some is told which still answer locally. */
START_TEST(builtin_zones_yield)
{
	const char *fwd[] = {"10.in-addr.arpa", "0.96.172.in-addr.arpa", "Example.Test."};
	struct rw_zone_sources c = {.builtin = true, .forward = fwd, .nforward = 3};
	struct rw_zoneset *zs;
	char err[512];
	ck_assert_msg(rw_zoneload(&c, &zs, err, sizeof err) == 0, "%s", err);
	ck_assert(!local(zs, "5.0.96.10.in-addr.arpa.")); /* at the built-in */
	ck_assert(!local(zs, "10.in-addr.arpa."));
	ck_assert(local(zs, "5.0.0.192.in-addr.arpa.") == false); /* never built in */
	ck_assert(local(zs, "1.0.16.172.in-addr.arpa."));         /* another built-in */
	ck_assert(!local(zs, "www.example.test."));               /* below test. */
	ck_assert(local(zs, "other.test."));                      /* the rest of test. */
	ck_assert(local(zs, "localhost."));
	ck_assert(has(zs, "1.0.0.127.in-addr.arpa.", RW_TYPE_PTR));
	rw_zoneset_unref(zs);
	/* 0.96.172 is under no built-in zone (172.16/12 ends at 31): nothing
	 * to yield, and nothing is wrong */
	/* turning one off */
	const char *off[] = {"168.192.IN-ADDR.arpa", "onion"};
	struct rw_zone_sources d = {.builtin = true, .no_builtin = off, .nno_builtin = 2};
	ck_assert_msg(rw_zoneload(&d, &zs, err, sizeof err) == 0, "%s", err);
	ck_assert(!local(zs, "1.1.168.192.in-addr.arpa."));
	ck_assert(!local(zs, "x.onion."));
	ck_assert(local(zs, "1.10.in-addr.arpa."));
	ck_assert(local(zs, "localhost."));
	/* a forward zone above built-in zones: which still answer */
	char below[2048];
	ck_assert_uint_eq(rw_zoneset_builtin_below(zs, "in-addr.arpa", below, sizeof below), 24);
	ck_assert(strstr(below, "10.in-addr.arpa., ") != NULL);
	ck_assert(strstr(below, "168.192") == NULL);
	ck_assert_uint_eq(rw_zoneset_builtin_below(zs, "16.172.in-addr.arpa", below, sizeof below),
	                  0);
	ck_assert_uint_eq(rw_zoneset_builtin_below(zs, "example", below, sizeof below), 0);
	ck_assert_str_eq(below, "");
	rw_zoneset_unref(zs);
	/* a name that is not a built-in zone: an error naming it */
	const char *bad[] = {"example.com"};
	d.no_builtin = bad;
	d.nno_builtin = 1;
	ck_assert_int_eq(rw_zoneload(&d, &zs, err, sizeof err), RW_EINVAL);
	ck_assert_str_eq(err, "no-builtin-zone: 'example.com' is not a built-in zone");
}
END_TEST

START_TEST(shipped_zones)
{
	struct rw_zone_sources c = {.builtin = true, .dir = RW_SOURCE_DIR "/zones"};
	struct rw_zoneset *zs;
	char err[512];
	ck_assert_msg(rw_zoneload(&c, &zs, err, sizeof err) == 0, "%s", err);
	ck_assert(has(zs, "bookstore.default.svc.cluster.local.", RW_TYPE_A));
	ck_assert(has(zs, "_http._tcp.bookstore.default.svc.cluster.local.", RW_TYPE_SRV));
	/* zones/10.in-addr.arpa.zone replaces the built-in empty zone */
	ck_assert(has(zs, "11.1.0.10.in-addr.arpa.", RW_TYPE_PTR));
	rw_zoneset_unref(zs);
}
END_TEST

START_TEST(dir_and_zone_errors)
{
	char dir[64] = "/tmp/rwzlXXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof path, "%s/good.test.zone", dir);
	FILE *f = fopen(path, "w");
	fputs("$TTL 60\n@ SOA ns hm 1 2 3 4 5\nwww A 192.0.2.1\n", f);
	fclose(f);
	struct rw_zone_sources c = {.dir = dir};
	struct rw_zoneset *zs;
	char err[512];
	ck_assert_msg(rw_zoneload(&c, &zs, err, sizeof err) == 0, "%s", err);
	ck_assert(has(zs, "www.good.test.", RW_TYPE_A));
	rw_zoneset_unref(zs);
	/* a zone given twice (--zone and the directory) is an error naming it
	 * (issue 14: it used to replace the directory's silently) */
	char other[256];
	snprintf(other, sizeof other, "%s/other.txt", dir);
	f = fopen(other, "w");
	fputs("$TTL 60\n@ SOA ns hm 1 2 3 4 5\nmail A 192.0.2.2\n", f);
	fclose(f);
	struct rw_zone_file spec = {"good.test", other};
	c.zones = &spec;
	c.nzones = 1;
	ck_assert_int_eq(rw_zoneload(&c, &zs, err, sizeof err), RW_EINVAL);
	ck_assert_msg(strstr(err, "other.txt: zone good.test. is given twice") != NULL, "%s", err);
	/* the same without the directory: the file alone serves */
	c.dir = NULL;
	ck_assert_int_eq(rw_zoneload(&c, &zs, err, sizeof err), 0);
	ck_assert(has(zs, "mail.good.test.", RW_TYPE_A));
	rw_zoneset_unref(zs);
	c.dir = dir;
	c.nzones = 0;
	/* a bad file: file:line: problem */
	snprintf(path, sizeof path, "%s/bad.test.zone", dir);
	f = fopen(path, "w");
	fputs("$TTL 60\n@ SOA ns hm 1 2 3 4 5\nwww A 192.0.2.999\n", f);
	fclose(f);
	ck_assert_int_ne(rw_zoneload(&c, &zs, err, sizeof err), 0);
	char want[300];
	snprintf(want, sizeof want, "%s:3: A record: bad IPv4 address", path);
	ck_assert_str_eq(err, want);
	unlink(path);
	/* a missing --zone file */
	spec.name = "missing.test";
	c.nzones = 1;
	spec.file = "/nonexistent.zone";
	ck_assert_int_ne(rw_zoneload(&c, &zs, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent.zone: cannot open"));
	/* a bad zone name */
	spec.name = "a..b";
	ck_assert_int_ne(rw_zoneload(&c, &zs, err, sizeof err), 0);
	/* a missing directory */
	c.nzones = 0;
	c.dir = "/nonexistent-dir";
	ck_assert_int_ne(rw_zoneload(&c, &zs, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(err, "cannot open zones directory"));
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("zoneload");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, builtin_zones);
	tcase_add_test(tc, builtin_zones_yield);
	tcase_add_test(tc, shipped_zones);
	tcase_add_test(tc, dir_and_zone_errors);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
