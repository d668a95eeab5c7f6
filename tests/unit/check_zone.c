/* Unit tests: master-file parsing (every error path names file and line),
 * zone-wide checks, lookups with wildcards and empty non-terminals, zone
 * sets. */
#include "rootwalk/err.h"
#include "rootwalk/rr.h"
#include "rootwalk/zone.h"
#include "testutil.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *SOA = "@ 3600 IN SOA ns hostmaster 1 7200 1800 86400 300\n";

static struct rw_zone *load_ok(const char *origin, const char *text)
{
	uint8_t o[RW_NAME_MAX];
	tu_name(origin, o);
	struct rw_zone *z = NULL;
	struct rw_zone_error err;
	int e = rw_zone_load_text("t.zone", text, strlen(text), o, &z, &err);
	ck_assert_msg(e == 0, "load failed: %s:%u: %s", err.file, err.line, err.msg);
	return z;
}

/* Loads text expecting failure at `line` with `msg` in the message. */
static void load_bad(const char *text, unsigned line, const char *msg)
{
	uint8_t o[RW_NAME_MAX];
	tu_name("example.", o);
	struct rw_zone *z = NULL;
	struct rw_zone_error err;
	int e = rw_zone_load_text("t.zone", text, strlen(text), o, &z, &err);
	ck_assert_msg(e != 0, "accepted: %s", text);
	ck_assert_ptr_null(z);
	ck_assert_str_eq(err.file, "t.zone");
	ck_assert_msg(err.line == line, "line %u, wanted %u (%s) for: %s", err.line, line, err.msg,
	              text);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "message '%s' lacks '%s'", err.msg, msg);
}

static const struct rw_rrset *get(const struct rw_zone *z, const char *name, uint16_t type,
                                  enum rw_zone_match want)
{
	uint8_t n[RW_NAME_MAX], l[RW_NAME_MAX];
	size_t nl = tu_name(name, n);
	rw_name_lower(l, n, nl);
	const struct rw_znode *node = NULL;
	enum rw_zone_match m = rw_zone_lookup(z, l, &node);
	ck_assert_msg(m == want, "%s: match %d, wanted %d", name, m, want);
	return m == RW_ZONE_NXDOMAIN ? NULL : rw_znode_rrset(node, type);
}

START_TEST(syntax_features)
{
	char text[4096];
	snprintf(text, sizeof text,
	         "; comment line\n"
	         "$TTL 1h30m\n"
	         "%s"
	         "@ IN NS ns ; trailing comment\n"
	         "ns A 192.0.2.53\n"
	         "www 60 IN A 192.0.2.1\n"
	         "    IN 60 A 192.0.2.2\n" /* omitted owner, class before TTL */
	         "\tAAAA 2001:db8::1\n"    /* omitted owner, TTL and class */
	         "txt TXT ( \"first part\"\n"
	         "          \"second; not a comment\" ) ; done\n"
	         "esc TXT \"quote\\\" and \\\\ and \\065\"\n"
	         "mx MX 10 mail.other.\n"
	         "Upper.Case A 192.0.2.9\n"
	         "$ORIGIN sub.example.\n"
	         "deep A 192.0.2.10\n"
	         "@ A 192.0.2.11\n"
	         "$ORIGIN example.\n"
	         "unk TYPE65280 \\# 2 abcd\n"
	         "caa CAA 0 issue \"ca.example\"\n"
	         "srv SRV 0 5 5060 www\n"
	         "ptr PTR www\n"
	         "a\\.dot A 192.0.2.12\n",
	         SOA);
	struct rw_zone *z = load_ok("example.", text);
	const struct rw_rrset *s = get(z, "www.example.", RW_TYPE_A, RW_ZONE_FOUND);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(s->count, 2);
	ck_assert_uint_eq(s->ttl, 60);
	s = get(z, "www.example.", RW_TYPE_AAAA, RW_ZONE_FOUND);
	ck_assert_uint_eq(s->ttl, 5400); /* $TTL */
	s = get(z, "txt.example.", RW_TYPE_TXT, RW_ZONE_FOUND);
	ck_assert_uint_eq(s->count, 1);
	size_t pos = 0;
	const uint8_t *rd;
	uint16_t rdlen;
	ck_assert(rw_rrset_next(s, &pos, &rd, &rdlen));
	ck_assert_uint_eq(rdlen, 1 + 10 + 1 + 21);
	s = get(z, "esc.example.", RW_TYPE_TXT, RW_ZONE_FOUND);
	pos = 0;
	rw_rrset_next(s, &pos, &rd, &rdlen);
	ck_assert_uint_eq(rdlen, 19);
	ck_assert_mem_eq(rd, "\x12quote\" and \\ and A", 19);
	ck_assert_ptr_nonnull(get(z, "upper.case.example.", RW_TYPE_A, RW_ZONE_FOUND));
	ck_assert_ptr_nonnull(get(z, "deep.sub.example.", RW_TYPE_A, RW_ZONE_FOUND));
	ck_assert_ptr_nonnull(get(z, "sub.example.", RW_TYPE_A, RW_ZONE_FOUND));
	ck_assert_ptr_nonnull(get(z, "unk.example.", 65280, RW_ZONE_FOUND));
	ck_assert_ptr_nonnull(get(z, "caa.example.", RW_TYPE_CAA, RW_ZONE_FOUND));
	ck_assert_ptr_nonnull(get(z, "a\\.dot.example.", RW_TYPE_A, RW_ZONE_FOUND));
	ck_assert_ptr_null(get(z, "a.dot.example.", RW_TYPE_A, RW_ZONE_NXDOMAIN));
	ck_assert_ptr_nonnull(rw_zone_soa(z));
	rw_zone_free(z);
}
END_TEST

START_TEST(duplicates_and_ttl_mix)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "$TTL 300\n%s"
	         "a A 192.0.2.1\n"
	         "a A 192.0.2.1\n"
	         "a 100 A 192.0.2.2\n"
	         "b 50\n"
	         " A 192.0.2.3\n",
	         SOA);
	(void)text;
	/* "b 50" has no type: an error on line 6 */
	load_bad(text, 6, "no type");
	snprintf(text, sizeof text, "$TTL 300\n%sa A 192.0.2.1\na A 192.0.2.1\na 100 A 192.0.2.2\n",
	         SOA);
	struct rw_zone *z = load_ok("example.", text);
	const struct rw_rrset *s = get(z, "a.example.", RW_TYPE_A, RW_ZONE_FOUND);
	ck_assert_uint_eq(s->count, 2);                /* the duplicate is dropped */
	ck_assert_uint_eq(s->ttl, 100);                /* the lowest TTL of the set */
	ck_assert_uint_eq(rw_zone_record_count(z), 3); /* SOA + 2 A */
	rw_zone_free(z);
}
END_TEST

START_TEST(lookups_wildcards_ents)
{
	char text[1024];
	snprintf(text, sizeof text,
	         "$TTL 300\n%s"
	         "*.wild A 192.0.2.1\n"
	         "*.wild MX 10 mx\n"
	         "host.wild A 192.0.2.2\n"
	         "a.b.c.ent A 192.0.2.3\n"
	         "*.ent A 192.0.2.4\n"
	         "*.cn CNAME host.wild\n",
	         SOA);
	struct rw_zone *z = load_ok("example.", text);
	/* exact beats wildcard */
	ck_assert_ptr_nonnull(get(z, "host.wild.example.", RW_TYPE_A, RW_ZONE_FOUND));
	/* wildcard matches one or more labels below the closest encloser */
	ck_assert_ptr_nonnull(get(z, "x.wild.example.", RW_TYPE_A, RW_ZONE_WILDCARD));
	ck_assert_ptr_nonnull(get(z, "y.x.wild.example.", RW_TYPE_MX, RW_ZONE_WILDCARD));
	ck_assert_ptr_null(get(z, "x.wild.example.", RW_TYPE_AAAA, RW_ZONE_WILDCARD));
	/* the wildcard does not match below an existing name (RFC 4592 §2.2.1) */
	ck_assert_ptr_null(get(z, "sub.host.wild.example.", RW_TYPE_A, RW_ZONE_NXDOMAIN));
	/* empty non-terminals exist (NODATA), and block the wildcard above */
	ck_assert_ptr_null(get(z, "b.c.ent.example.", RW_TYPE_A, RW_ZONE_FOUND));
	ck_assert_ptr_null(get(z, "c.ent.example.", RW_TYPE_A, RW_ZONE_FOUND));
	ck_assert_ptr_null(get(z, "x.c.ent.example.", RW_TYPE_A, RW_ZONE_NXDOMAIN));
	ck_assert_ptr_nonnull(get(z, "other.ent.example.", RW_TYPE_A, RW_ZONE_WILDCARD));
	ck_assert_ptr_nonnull(get(z, "q.cn.example.", RW_TYPE_CNAME, RW_ZONE_WILDCARD));
	ck_assert_ptr_null(get(z, "nothing.example.", RW_TYPE_A, RW_ZONE_NXDOMAIN));
	/* the apex */
	ck_assert_ptr_nonnull(get(z, "example.", RW_TYPE_SOA, RW_ZONE_FOUND));
	/* case-insensitive */
	ck_assert_ptr_nonnull(get(z, "HOST.Wild.EXAMPLE.", RW_TYPE_A, RW_ZONE_FOUND));
	rw_zone_free(z);
}
END_TEST

START_TEST(error_paths_syntax)
{
	char soa[256];
	snprintf(soa, sizeof soa, "$TTL 60\n%s", SOA); /* lines 1-2 */
	static const struct {
		const char *tail;
		unsigned line;
		const char *msg;
	} cases[] = {
	    {"a A 192.0.2.1 )\n", 3, "')' without"},
	    {"a TXT \"open\n", 3, "unterminated quoted"},
	    {"a TXT \"open", 3, "unterminated quoted"},
	    {"a TXT ( \"x\"\n\n", 3, "not closed"},
	    {"$INCLUDE other.zone\n", 3, "$INCLUDE is not allowed"},
	    {"$ORIGIN bad..name.\n", 3, "$ORIGIN needs"},
	    {"$ORIGIN\n", 3, "$ORIGIN needs"},
	    {"$TTL 1x\n", 3, "$TTL needs"},
	    {"$NOPE 1-2 a A 1.2.3.4\n", 3, "unknown directive"},
	    {"$GENERATE 2-1 a$ A 1.2.3.$\n", 3, "$GENERATE range '2-1'"},
	    {"$GENERATE 0-100000 a$ A 1.2.3.4\n", 3, "at most 65536 records"},
	    {"$GENERATE 1-2 a${x} A 1.2.3.$\n", 3, "$GENERATE: bad ${offset,width,base}"},
	    {"$GENERATE 1-2 a$\n", 3, "$GENERATE needs a range"},
	    {"$GENERATE 250-260 a$ A 1.2.3.$\n", 3, "A record: bad IPv4 address"},
	    {"bad..owner A 192.0.2.1\n", 3, "bad owner name"},
	    {"\"quoted\" A 192.0.2.1\n", 3, "bad owner name"},
	    {"a CH A 192.0.2.1\n", 3, "only IN"},
	    {"a 99999999999 A 192.0.2.1\n", 3, "bad TTL"},
	    {"a 1h30 A 192.0.2.1\n", 3, "bad TTL"},
	    {"a IN\n", 3, "no type"},
	    {"a BOGUS 1\n", 3, "unknown record type"},
	    {"a \"A\" 192.0.2.1\n", 3, "unknown record type"},
	    {"a OPT \\# 0\n", 3, "cannot appear"},
	    {"a ANY \\# 0\n", 3, "only IN"}, /* ANY is read as the class */
	    {"a MAILA \\# 0\n", 3, "cannot appear"},
	    {"a AXFR \\# 0\n", 3, "cannot appear"},
	    {"a A 192.0.2.300\n", 3, "A record: bad IPv4"},
	    {"a AAAA 192.0.2.1\n", 3, "AAAA record: bad IPv6"},
	    {"a MX mail\n", 3, "MX record"},
	    {"a MX 10\n", 3, "too few"},
	    {"a A 192.0.2.1 192.0.2.2\n", 3, "too many"},
	    {"a TYPE999 abc\n", 3, "generic"},
	    {"a TYPE999 \\# 3 ab\n", 3, "length does not match"},
	    {"\n\nb A 1.2.3.4\nc A x\n", 6, "bad IPv4"},
	    {"a SRV 0 0 70000 x\n", 3, "SRV record"},
	    {"a TXT ( \"x\"\n  \"y\" )\nb A 1\n", 5, "bad IPv4"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[1024];
		snprintf(text, sizeof text, "%s%s", soa, cases[i].tail);
		load_bad(text, cases[i].line, cases[i].msg);
	}
	/* Before any owner, an indented record has none to inherit. */
	load_bad("$TTL 60\n A 192.0.2.1\n", 2, "without an owner");
	/* No TTL anywhere. */
	load_bad("@ IN SOA ns hm 1 2 3 4 5\n", 1, "no TTL");
	/* A NUL byte. */
	uint8_t o[RW_NAME_MAX];
	tu_name("example.", o);
	struct rw_zone *z = NULL;
	struct rw_zone_error err;
	ck_assert_int_ne(rw_zone_load_text("t.zone", "a\0b", 3, o, &z, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "NUL"));
	/* Too many fields on one record. */
	size_t big = 5000 * 4 + 256;
	char *many = malloc(big);
	size_t n = (size_t)snprintf(many, big, "$TTL 60\n%sa TXT", SOA);
	for (int i = 0; i < 5000; i++)
		n += (size_t)snprintf(many + n, big - n, " \"x\"");
	load_bad(many, 3, "too many fields");
	free(many);
}
END_TEST

START_TEST(error_paths_zone_rules)
{
	static const struct {
		const char *text;
		unsigned line;
		const char *msg;
	} cases[] = {
	    {"$TTL 60\na A 192.0.2.1\n", 0, "no SOA"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ SOA ns hm 2 2 3 4 5\n", 2, "more than one SOA"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\nsub SOA ns hm 1 2 3 4 5\n", 3,
	     "not at the zone apex"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\nwww.other. A 192.0.2.1\n", 3, "outside"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\nc CNAME x\nc CNAME y\n", 4, "more than one CNAME"},
	    {"$TTL 60\n@ SOA ns hm 1 2 3 4 5\nc CNAME x\nc A 192.0.2.1\n", 3, "CNAME and other"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		load_bad(cases[i].text, cases[i].line, cases[i].msg);
}
END_TEST

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(files_and_include)
{
	snprintf(tmpdir, sizeof tmpdir, "/tmp/rwzoneXXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	char main_text[512];
	snprintf(main_text, sizeof main_text,
	         "$TTL 60\n%s$INCLUDE inc/hosts.inc\n$INCLUDE inc/hosts.inc other.example.\n"
	         "after A 192.0.2.9\n",
	         SOA);
	char sub[256];
	snprintf(sub, sizeof sub, "%s/inc", tmpdir);
	ck_assert_int_eq(mkdir(sub, 0700), 0);
	write_file("main.zone", main_text);
	write_file("inc/hosts.inc", "h1 A 192.0.2.1\nh2 A 192.0.2.2\n");
	char path[256];
	snprintf(path, sizeof path, "%s/main.zone", tmpdir);
	uint8_t o[RW_NAME_MAX];
	tu_name("example.", o);
	struct rw_zone *z = NULL;
	struct rw_zone_error err;
	ck_assert_msg(rw_zone_load_file(path, o, &z, &err) == 0, "%s:%u: %s", err.file, err.line,
	              err.msg);
	ck_assert_ptr_nonnull(get(z, "h1.example.", RW_TYPE_A, RW_ZONE_FOUND));
	ck_assert_ptr_nonnull(get(z, "h2.other.example.", RW_TYPE_A, RW_ZONE_FOUND));
	/* $INCLUDE does not change the includer's origin (RFC 1035 §5.1) */
	ck_assert_ptr_nonnull(get(z, "after.example.", RW_TYPE_A, RW_ZONE_FOUND));
	rw_zone_free(z);

	/* An error inside an included file names that file and its line. */
	write_file("inc/bad.inc", "ok A 192.0.2.1\nbad A nope\n");
	snprintf(main_text, sizeof main_text, "$TTL 60\n%s$INCLUDE inc/bad.inc\n", SOA);
	write_file("main.zone", main_text);
	ck_assert_int_ne(rw_zone_load_file(path, o, &z, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.file, "inc/bad.inc"));
	ck_assert_uint_eq(err.line, 2);
	/* A missing include, and bad $INCLUDE forms. */
	snprintf(main_text, sizeof main_text, "$TTL 60\n%s$INCLUDE nope.inc\n", SOA);
	write_file("main.zone", main_text);
	ck_assert_int_ne(rw_zone_load_file(path, o, &z, &err), 0);
	ck_assert_uint_eq(err.line, 3);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
	snprintf(main_text, sizeof main_text, "$TTL 60\n%s$INCLUDE\n", SOA);
	write_file("main.zone", main_text);
	ck_assert_int_ne(rw_zone_load_file(path, o, &z, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "needs a file name"));
	snprintf(main_text, sizeof main_text, "$TTL 60\n%s$INCLUDE inc/hosts.inc bad..o\n", SOA);
	write_file("main.zone", main_text);
	ck_assert_int_ne(rw_zone_load_file(path, o, &z, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "bad origin"));
	/* A file including itself stops at the depth bound. */
	write_file("loop.inc", "$INCLUDE loop.inc\n");
	snprintf(main_text, sizeof main_text, "$TTL 60\n%s$INCLUDE loop.inc\n", SOA);
	write_file("main.zone", main_text);
	ck_assert_int_ne(rw_zone_load_file(path, o, &z, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "nested deeper"));
	/* A missing zone file. */
	snprintf(path, sizeof path, "%s/absent.zone", tmpdir);
	ck_assert_int_ne(rw_zone_load_file(path, o, &z, &err), 0);
	ck_assert_str_eq(err.file, path);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot open"));
	/* A directory is not a zone file. */
	ck_assert_int_ne(rw_zone_load_file(tmpdir, o, &z, &err), 0);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(zoneset_longest_match)
{
	char text[512];
	snprintf(text, sizeof text, "$TTL 60\n%s", SOA);
	struct rw_zoneset *zs = rw_zoneset_new();
	ck_assert_int_eq(rw_zoneset_add(zs, load_ok("example.", text)), 0);
	ck_assert_int_eq(rw_zoneset_add(zs, load_ok("sub.example.", text)), 0);
	ck_assert_int_eq(rw_zoneset_add(zs, load_ok("other.", text)), 0);
	/* same origin replaces */
	ck_assert_int_eq(rw_zoneset_add(zs, load_ok("other.", text)), 0);
	ck_assert_uint_eq(rw_zoneset_count(zs), 3);
	uint8_t n[RW_NAME_MAX], o[RW_NAME_MAX];
	tu_name("a.sub.example.", n);
	tu_name("sub.example.", o);
	ck_assert(rw_name_eq(rw_zone_origin(rw_zoneset_find(zs, n)), o));
	tu_name("a.example.", n);
	tu_name("example.", o);
	ck_assert(rw_name_eq(rw_zone_origin(rw_zoneset_find(zs, n)), o));
	tu_name("xexample.", n);
	ck_assert_ptr_null(rw_zoneset_find(zs, n));
	tu_name("a.nowhere.", n);
	ck_assert_ptr_null(rw_zoneset_find(zs, n)); /* filtered by its TLD */
	tu_name(".", n);
	ck_assert_ptr_null(rw_zoneset_find(zs, n));
	/* a root zone catches what no other origin holds */
	ck_assert_int_eq(rw_zoneset_add(zs, load_ok(".", text)), 0);
	tu_name("a.nowhere.", n);
	ck_assert_uint_eq(
	    rw_zoneset_find(zs, n) != NULL ? rw_zone_origin(rw_zoneset_find(zs, n))[0] : 99, 0);
	tu_name("a.EXAMPLE.", n);
	rw_name_lower(n, n, rw_name_len(n));
	tu_name("example.", o);
	ck_assert(rw_name_eq(rw_zone_origin(rw_zoneset_find(zs, n)), o));
	struct rw_zoneset *ref = rw_zoneset_ref(zs);
	rw_zoneset_unref(zs);
	ck_assert_ptr_nonnull(rw_zoneset_at(ref, 0));
	rw_zoneset_unref(ref);
	/* more distinct TLDs than the filter holds: still found */
	zs = rw_zoneset_new();
	for (int i = 0; i < 40; i++) {
		char origin[32];
		snprintf(origin, sizeof origin, "z.tld%d.", i);
		ck_assert_int_eq(rw_zoneset_add(zs, load_ok(origin, text)), 0);
	}
	for (int i = 0; i < 40; i += 13) {
		char name[32], origin[32];
		snprintf(name, sizeof name, "www.z.tld%d.", i);
		snprintf(origin, sizeof origin, "z.tld%d.", i);
		tu_name(name, n);
		tu_name(origin, o);
		ck_assert(rw_name_eq(rw_zone_origin(rw_zoneset_find(zs, n)), o));
	}
	tu_name("www.tld99.", n);
	ck_assert_ptr_null(rw_zoneset_find(zs, n));
	rw_zoneset_unref(zs);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("zone");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, syntax_features);
	tcase_add_test(tc, duplicates_and_ttl_mix);
	tcase_add_test(tc, lookups_wildcards_ents);
	tcase_add_test(tc, error_paths_syntax);
	tcase_add_test(tc, error_paths_zone_rules);
	tcase_add_test(tc, files_and_include);
	tcase_add_test(tc, zoneset_longest_match);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
