/* Checks of internal invariants, in two tiers (Knot Resolver's
 * lib/utils.h kr_require / kr_fails_assert).
 *
 * - RW_REQUIRE(cond): a state that would corrupt memory if we went on.
 *   Always checked; logs file:line and aborts.
 * - rw_fails_assert(cond): an invariant whose breach one request can
 *   survive. True when cond is false, so the caller takes its way out
 *   (typically: SERVFAIL for this request). It logs file:line and aborts
 *   in builds made with RW_ASSERT_ABORT (debug and sanitizer builds, so
 *   tests fail loudly); a production build keeps serving.
 * Neither is ever used on network or configuration input: that is
 * validation and returns an error. */
#ifndef ROOTWALK_ASSERT_H
#define ROOTWALK_ASSERT_H

#include <stdbool.h>

/* Logs and aborts when built with RW_ASSERT_ABORT. */
void rw__assert_failed(const char *expr, const char *file, int line);
/* Logs and aborts. */
void rw__require_failed(const char *expr, const char *file, int line) __attribute__((noreturn));

#define RW_REQUIRE(cond)                                                                           \
	do {                                                                                       \
		if (!(cond))                                                                       \
			rw__require_failed(#cond, __FILE__, __LINE__);                             \
	} while (0)

#define rw_fails_assert(cond)                                                                      \
	(!(cond) ? (rw__assert_failed(#cond, __FILE__, __LINE__), true) : false)

#endif
