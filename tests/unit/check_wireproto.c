/* Unit tests: the control protocol's parser (src/daemon/wireproto.c) --
 * every command's argument rule, the errors, and "NAME [TYPE]". */
#include "rootwalk/rr.h"
#include "testutil.h"
#include "wireproto.h"

#include <string.h>

static enum rw_ctl_parse parse(unsigned cmd, const char *arg, const char **error)
{
	uint8_t req[RW_CTL_REQ_MAX + 8];
	size_t n = strlen(arg);
	memcpy(req, "RWC1", 4);
	req[4] = (uint8_t)cmd;
	req[5] = (uint8_t)n;
	memcpy(req + 6, arg, n);
	unsigned c = 0;
	char a[254];
	*error = NULL;
	enum rw_ctl_parse r = rw_ctl_parse(req, 6 + n, RW_CTL_LAST, &c, a, error);
	if (r == RW_CTL_OK) {
		ck_assert_uint_eq(c, cmd);
		ck_assert_str_eq(a, arg);
	}
	return r;
}

START_TEST(every_command)
{
	const char *e;
	static const struct {
		unsigned cmd;
		const char *arg;
		bool ok;
		const char *error;
	} cases[] = {
	    {RW_CTL_STATS, "", true, NULL},
	    {RW_CTL_STATS, "x", false, "this command takes no argument"},
	    {RW_CTL_RELOAD, "", true, NULL},
	    {RW_CTL_FLUSH, "", true, NULL},
	    {RW_CTL_FLUSH, "www.example", true, NULL},
	    {RW_CTL_FLUSH, "a..b", false, "not a domain name"},
	    {RW_CTL_DUMP, "", true, NULL},
	    {RW_CTL_DUMP, "/tmp/c", true, NULL},
	    {RW_CTL_DUMP, "c", false, "not an absolute path"},
	    {RW_CTL_INFRA, "", true, NULL},
	    {RW_CTL_FLUSH_INFRA, "", true, NULL},
	    {RW_CTL_FLUSH_INFRA, "192.0.2.1", true, NULL},
	    {RW_CTL_FLUSH_INFRA, "[2001:db8::1]:5353", true, NULL},
	    {RW_CTL_FLUSH_INFRA, "ns1.example", false,
	     "not an IP address (ADDR, ADDR:PORT or [ADDR]:PORT)"},
	    {RW_CTL_LOAD, "", false, "this command needs an argument"},
	    {RW_CTL_LOAD, "/tmp/c", true, NULL},
	    {RW_CTL_TAKEOVER, "", true, NULL},
	    {RW_CTL_STATUS, "", true, NULL},
	    {RW_CTL_STATUS, "now", false, "this command takes no argument"},
	    {RW_CTL_LOG_LEVEL, "debug", true, NULL},
	    {RW_CTL_LOG_LEVEL, "", false, "this command needs an argument"},
	    {RW_CTL_LOG_LEVEL, "loud", false, "not a log level (error, warn, info, debug)"},
	    {RW_CTL_FLUSH_NEG, "", true, NULL},
	    {RW_CTL_FLUSH_NEG, "x", false, "this command takes no argument"},
	    {RW_CTL_FLUSH_ZONE, "corp.example", true, NULL},
	    {RW_CTL_FLUSH_ZONE, "", false, "this command needs an argument"},
	    {RW_CTL_FLUSH_TYPE, "www.example AAAA", true, NULL},
	    {RW_CTL_FLUSH_TYPE, "www.example", false, "not NAME TYPE"},
	    {RW_CTL_FLUSH_TYPE, "www.example BOGUS", false, "not NAME TYPE"},
	    {RW_CTL_FLUSH_TYPE, "www.example A extra", false, "not NAME TYPE"},
	    {RW_CTL_LIST_FWD, "", true, NULL},
	    {RW_CTL_LIST_ZONES, "", true, NULL},
	    {RW_CTL_LOOKUP, "www.example", true, NULL},
	    {RW_CTL_LOOKUP, "www.example MX", true, NULL},
	    {RW_CTL_LOOKUP, "www.example ", false, "not NAME [TYPE]"},
	    {RW_CTL_LOOKUP, "", false, "this command needs an argument"},
	    {RW_CTL_FWD_ADD, "corp.example=192.0.2.1,192.0.2.2:5353 tcp", true, NULL},
	    {RW_CTL_FWD_ADD, "corp.example", false, "not ZONE=ADDR[:PORT][,ADDR[:PORT]...]"},
	    {RW_CTL_FWD_ADD, "=192.0.2.1", false, "not ZONE=ADDR[:PORT][,ADDR[:PORT]...]"},
	    {RW_CTL_FWD_ADD, "a..b=192.0.2.1", false, "not ZONE=ADDR[:PORT][,ADDR[:PORT]...]"},
	    {RW_CTL_FWD_ADD, "corp.example=", false, "not ZONE=ADDR[:PORT][,ADDR[:PORT]...]"},
	    {RW_CTL_FWD_ADD, "", false, "this command needs an argument"},
	    {RW_CTL_FWD_REMOVE, "corp.example", true, NULL},
	    {RW_CTL_FWD_REMOVE, "", false, "this command needs an argument"},
	    {RW_CTL_FWD_REMOVE, "a..b", false, "not a domain name"},
	    {RW_CTL_LAST + 1, "", false, "unknown command"},
	    {0, "", false, "unknown command"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		enum rw_ctl_parse r = parse(cases[i].cmd, cases[i].arg, &e);
		ck_assert_msg(r == (cases[i].ok ? RW_CTL_OK : RW_CTL_BAD), "%u '%s': %d",
		              cases[i].cmd, cases[i].arg, r);
		if (!cases[i].ok)
			ck_assert_str_eq(e, cases[i].error);
	}
	/* NAME [TYPE] */
	char arg[] = "Www.Example MX";
	uint8_t name[255];
	uint16_t type;
	ck_assert(rw_ctl_name_type(arg, name, &type));
	ck_assert(rw_name_eq(name, (const uint8_t *)"\3www\7example"));
	ck_assert_uint_eq(type, RW_TYPE_MX);
	char bare[] = "www.example";
	ck_assert(rw_ctl_name_type(bare, name, &type));
	ck_assert_uint_eq(type, 0);
	/* a request comes in pieces */
	unsigned c;
	char a[254];
	ck_assert_int_eq(rw_ctl_parse((const uint8_t *)"RWC1\11", 5, RW_CTL_LAST, &c, a, &e),
	                 RW_CTL_MORE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("wireproto");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, every_command);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
