/* Logging: one line per event to stderr, filtered by level, as text or
 * JSON ({"ts","level","msg"}).
 *
 * The level and format are process-wide state set once at start-up (the
 * one deliberate exception to "no mutable globals": every thread logs, none
 * passes a logger around). Events that an attacker can trigger at packet
 * rate go through an rw_log_limit owned by the caller's thread. */
#ifndef ROOTWALK_LOG_H
#define ROOTWALK_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rw_log_level {
	RW_LOG_ERROR = 0,
	RW_LOG_WARN = 1,
	RW_LOG_INFO = 2,
	RW_LOG_DEBUG = 3,
};

void rw_log_set_level(enum rw_log_level level);
void rw_log_set_json(bool json);
bool rw_log_is_json(void);

/* At most RW_LOG_LIMIT_PER_S lines per second per limiter; the first line
 * of a new second reports how many were suppressed in the last. One
 * limiter per thread and event kind (not thread-safe). */
#define RW_LOG_LIMIT_PER_S 5
struct rw_log_limit {
	uint64_t window_ms;
	uint64_t suppressed;
	unsigned logged;
};
/* True when the caller may log now; *suppressed: lines not logged since the
 * last window (report them). */
bool rw_log_limit(struct rw_log_limit *l, uint64_t now_ms, uint64_t *suppressed);
enum rw_log_level rw_log_get_level(void);
/* Parses "error", "warn", "info", "debug". Returns 0 or RW_EINVAL. */
int rw_log_level_parse(const char *text, enum rw_log_level *out);

void rw_log(enum rw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One field of a structured line. JSON: "key":value, the value quoted
 * (escaped) unless number; text: the value alone when bare, else
 * key=value. A NULL or empty value is left out of both. */
struct rw_log_field {
	const char *key;
	const char *value;
	bool number; /* JSON: the value is written unquoted */
	bool bare;   /* text: the value without its key */
};
/* A line of fields: JSON {"ts","level","msg":msg, fields...}; text "msg"
 * then each field, space-separated. */
void rw_log_fields(enum rw_log_level level, const char *msg, const struct rw_log_field *f,
                   size_t n);

#define rw_log_error(...) rw_log(RW_LOG_ERROR, __VA_ARGS__)
#define rw_log_warn(...) rw_log(RW_LOG_WARN, __VA_ARGS__)
#define rw_log_info(...) rw_log(RW_LOG_INFO, __VA_ARGS__)
#define rw_log_debug(...)                                                                          \
	do {                                                                                       \
		if (rw_log_get_level() >= RW_LOG_DEBUG)                                            \
			rw_log(RW_LOG_DEBUG, __VA_ARGS__);                                         \
	} while (0)

#endif
