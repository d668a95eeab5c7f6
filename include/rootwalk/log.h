/* Logging: one line per event to stderr, filtered by level.
 *
 * The level is process-wide state set once at start-up (the one deliberate
 * exception to "no mutable globals": every thread logs, none passes a logger
 * around). Rate limiting and JSON output are not done here yet. */
#ifndef ROOTWALK_LOG_H
#define ROOTWALK_LOG_H

enum rw_log_level {
	RW_LOG_ERROR = 0,
	RW_LOG_WARN = 1,
	RW_LOG_INFO = 2,
	RW_LOG_DEBUG = 3,
};

void rw_log_set_level(enum rw_log_level level);
enum rw_log_level rw_log_get_level(void);
/* Parses "error", "warn", "info", "debug". Returns 0 or RW_EINVAL. */
int rw_log_level_parse(const char *text, enum rw_log_level *out);

void rw_log(enum rw_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define rw_log_error(...) rw_log(RW_LOG_ERROR, __VA_ARGS__)
#define rw_log_warn(...) rw_log(RW_LOG_WARN, __VA_ARGS__)
#define rw_log_info(...) rw_log(RW_LOG_INFO, __VA_ARGS__)
#define rw_log_debug(...)                                                                          \
	do {                                                                                       \
		if (rw_log_get_level() >= RW_LOG_DEBUG)                                            \
			rw_log(RW_LOG_DEBUG, __VA_ARGS__);                                         \
	} while (0)

#endif
