/* Helpers shared by the unit suites: building names and packets from
 * readable text, and running a suite. */
#ifndef ROOTWALK_TESTUTIL_H
#define ROOTWALK_TESTUTIL_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "rootwalk/name.h"

/* A wire name from presentation text; aborts the test on bad input. */
static inline size_t tu_name(const char *text, uint8_t out[RW_NAME_MAX])
{
	size_t len = 0;
	ck_assert_int_eq(rw_name_from_text(text, strlen(text), NULL, out, &len), 0);
	return len;
}

/* Appends a query (header + question) for name/type to buf; returns length. */
static inline size_t tu_query(uint8_t *buf, uint16_t id, uint16_t flags, const char *name,
                              uint16_t qtype, uint16_t qclass)
{
	uint8_t n[RW_NAME_MAX];
	size_t nl = tu_name(name, n);
	memset(buf, 0, 12);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	buf[2] = (uint8_t)(flags >> 8);
	buf[3] = (uint8_t)flags;
	buf[5] = 1;
	memcpy(buf + 12, n, nl);
	size_t p = 12 + nl;
	buf[p++] = (uint8_t)(qtype >> 8);
	buf[p++] = (uint8_t)qtype;
	buf[p++] = (uint8_t)(qclass >> 8);
	buf[p++] = (uint8_t)qclass;
	return p;
}

/* Appends an OPT record (ARCOUNT += 1). */
static inline size_t tu_opt(uint8_t *buf, size_t len, uint16_t udp, uint8_t version, int do_bit)
{
	uint8_t *p = buf + len;
	p[0] = 0;
	p[1] = 0;
	p[2] = 41;
	p[3] = (uint8_t)(udp >> 8);
	p[4] = (uint8_t)udp;
	p[5] = 0;
	p[6] = version;
	p[7] = do_bit ? 0x80 : 0;
	p[8] = 0;
	p[9] = 0;
	p[10] = 0;
	buf[11]++;
	return len + 11;
}

static inline int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
