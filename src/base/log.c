/* Logging to stderr and the error-code texts. Owns the process log level;
 * does no buffering and no rate limiting (one write per line, so lines from
 * several threads do not interleave). */
#include "rootwalk/log.h"
#include "rootwalk/assert.h"
#include "rootwalk/err.h"

#include <stdarg.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic int log_level = RW_LOG_INFO;
static _Atomic int log_json = 0;

void rw_log_set_json(bool json)
{
	atomic_store(&log_json, json ? 1 : 0);
}

bool rw_log_is_json(void)
{
	return atomic_load(&log_json) != 0;
}

bool rw_log_limit(struct rw_log_limit *l, uint64_t now_ms, uint64_t *suppressed)
{
	if (now_ms - l->window_ms >= 1000 || l->window_ms == 0) {
		*suppressed = l->suppressed;
		l->window_ms = now_ms;
		l->suppressed = 0;
		l->logged = 1;
		return true;
	}
	if (l->logged < RW_LOG_LIMIT_PER_S) {
		l->logged++;
		*suppressed = 0;
		return true;
	}
	l->suppressed++;
	return false;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void rw_log_set_level(enum rw_log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum rw_log_level rw_log_get_level(void)
{
	return (enum rw_log_level)atomic_load(&log_level);
}

int rw_log_level_parse(const char *text, enum rw_log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(text, level_names[i]) == 0) {
			*out = (enum rw_log_level)i;
			return 0;
		}
	}
	return RW_EINVAL;
}

static void emit(enum rw_log_level level, const char *msg, const struct rw_log_field *f, size_t n,
                 size_t cap);

/* A plain line is a structured one without fields. */
void rw_log(enum rw_log_level level, const char *fmt, ...)
{
	if ((int)level > atomic_load(&log_level))
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (m < 0)
		msg[0] = 0;
	emit(level, msg, NULL, 0, 1024); /* a plain line is at most 1,024 bytes */
}

/* Appends text to line (JSON-escaped when json), keeping room for the end. */
static size_t put(char *line, size_t len, size_t cap, const char *text, bool json)
{
	for (const unsigned char *c = (const unsigned char *)text; *c && len + 8 < cap; c++) {
		if (json && (*c == '"' || *c == '\\')) {
			line[len++] = '\\';
			line[len++] = (char)*c;
		} else if (json && *c < 0x20) {
			len += (size_t)snprintf(line + len, 7, "\\u%04x", *c);
		} else {
			line[len++] = (char)*c;
		}
	}
	return len;
}

/* One line of at most cap (<= 2048) bytes. */
static void emit(enum rw_log_level level, const char *msg, const struct rw_log_field *f, size_t n,
                 size_t cap)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	bool json = atomic_load(&log_json) != 0;
	size_t len;
	if (json)
		len = (size_t)snprintf(line, cap,
		                       "{\"ts\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ\",\"level\":"
		                       "\"%s\",\"msg\":\"",
		                       tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		                       tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
		                       level_names[level]);
	else
		len = (size_t)snprintf(
		    line, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s: ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		    ts.tv_nsec / 1000000, level_names[level]);
	len = put(line, len, cap, msg, json);
	if (json)
		line[len++] = '"';
	/* Bound: n fields, each clipped to the line. */
	for (size_t i = 0; i < n; i++) {
		if (f[i].value == NULL || f[i].value[0] == 0)
			continue;
		if (json) {
			len = put(line, len, cap, ",\"", false);
			len = put(line, len, cap, f[i].key, false);
			len = put(line, len, cap, f[i].number ? "\":" : "\":\"", false);
			len = put(line, len, cap, f[i].value, true);
			if (!f[i].number)
				len = put(line, len, cap, "\"", false);
		} else {
			len = put(line, len, cap, " ", false);
			if (!f[i].bare) {
				len = put(line, len, cap, f[i].key, false);
				len = put(line, len, cap, "=", false);
			}
			len = put(line, len, cap, f[i].value, false);
		}
	}
	if (json)
		line[len++] = '}';
	line[len++] = '\n';
	fwrite(line, 1, len, stderr);
}

void rw_log_fields(enum rw_log_level level, const char *msg, const struct rw_log_field *f, size_t n)
{
	if ((int)level <= atomic_load(&log_level))
		emit(level, msg, f, n, 2048);
}

const char *rw_strerror(int err)
{
	switch (err) {
	case RW_OK: return "success";
	case RW_ENOMEM: return "out of memory";
	case RW_EINVAL: return "invalid argument";
	case RW_EMALFORMED: return "malformed input";
	case RW_ETRUNC: return "does not fit";
	case RW_ENOTFOUND: return "not found";
	case RW_ETIMEOUT: return "timed out";
	case RW_ECANCELED: return "cancelled";
	case RW_EUPSTREAM: return "upstream failure";
	case RW_EEXIST: return "better data exists";
	case RW_EIO: return "I/O error";
	case RW_ELIMIT: return "limit reached";
	case RW_ENOTIMPL: return "not implemented";
	}
	return "unknown error";
}

void rw__assert_failed(const char *expr, const char *file, int line)
{
	rw_log_error("internal error: assertion '%s' failed at %s:%d", expr, file, line);
#ifdef RW_ASSERT_ABORT
	abort();
#endif
}

void rw__require_failed(const char *expr, const char *file, int line)
{
	rw_log_error("internal error: '%s' does not hold at %s:%d; aborting", expr, file, line);
	abort();
}
