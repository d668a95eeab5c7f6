/* The daemon's wire protocols, without I/O; see wireproto.h. */
#include "wireproto.h"
#include "rootwalk/netaddr.h"
#include "rootwalk/log.h"
#include "rootwalk/name.h"
#include "rootwalk/rr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum rw_ctl_parse rw_ctl_parse(const uint8_t *req, size_t len, unsigned last_cmd, unsigned *cmd,
                               char arg[254], const char **error)
{
	if (len > RW_CTL_REQ_MAX) {
		*error = "request too long";
		return RW_CTL_BAD;
	}
	if (memcmp(req, "RWC1", len < 4 ? len : 4) != 0) {
		*error = "not a rootwalk control request";
		return RW_CTL_BAD;
	}
	if (len < 6)
		return RW_CTL_MORE;
	unsigned c = req[4], n = req[5];
	if (c < 1 || c > last_cmd) {
		*error = "unknown command";
		return RW_CTL_BAD;
	}
	if (n > 253) {
		*error = "argument too long";
		return RW_CTL_BAD;
	}
	if (len < 6 + n)
		return RW_CTL_MORE;
	if (len > 6 + n) {
		*error = "trailing bytes after the request";
		return RW_CTL_BAD;
	}
	memcpy(arg, req + 6, n);
	arg[n] = 0;
	*cmd = c;
	enum rw_ctl_arg kind = rw_ctl_arg_of(c);
	if (n > 0 && memchr(arg, 0, n) != NULL) {
		*error = "a NUL in the argument";
		return RW_CTL_BAD;
	}
	if (n == 0) {
		*error = "this command needs an argument";
		return rw_ctl_arg_required(kind) ? RW_CTL_BAD : RW_CTL_OK;
	}
	uint8_t wire[RW_NAME_MAX];
	size_t wl;
	uint16_t type;
	char copy[254];
	switch (kind) {
	case RW_CTL_ARG_NONE: *error = "this command takes no argument"; return RW_CTL_BAD;
	case RW_CTL_ARG_PATH:
	case RW_CTL_ARG_PATH_OPT:
		*error = "not an absolute path";
		return arg[0] == '/' ? RW_CTL_OK : RW_CTL_BAD;
	case RW_CTL_ARG_LEVEL: {
		enum rw_log_level l;
		*error = "not a log level (error, warn, info, debug)";
		return rw_log_level_parse(arg, &l) == 0 ? RW_CTL_OK : RW_CTL_BAD;
	}
	case RW_CTL_ARG_NAME_TYPE:
	case RW_CTL_ARG_NAME_TYPE_OPT:
		memcpy(copy, arg, n + 1);
		*error = kind == RW_CTL_ARG_NAME_TYPE ? "not NAME TYPE" : "not NAME [TYPE]";
		if (!rw_ctl_name_type(copy, wire, &type) ||
		    (kind == RW_CTL_ARG_NAME_TYPE && type == 0))
			return RW_CTL_BAD;
		return RW_CTL_OK;
	case RW_CTL_ARG_ADDR_OPT: {
		struct rw_sockaddr a;
		*error = "not an IP address (ADDR, ADDR:PORT or [ADDR]:PORT)";
		return rw_addr_parse(arg, 53, &a) == 0 ? RW_CTL_OK : RW_CTL_BAD;
	}
	case RW_CTL_ARG_FWD: {
		/* ZONE=ADDR...: the name checked here, the rest by the config
		 * parser (the daemon says what is wrong with it). */
		const char *eq = memchr(arg, '=', n);
		*error = "not ZONE=ADDR[:PORT][,ADDR[:PORT]...]";
		if (eq == NULL || eq == arg || eq[1] == 0 ||
		    rw_name_from_text(arg, (size_t)(eq - arg), (const uint8_t *)"", wire, &wl) != 0)
			return RW_CTL_BAD;
		return RW_CTL_OK;
	}
	default: break; /* a name */
	}
	if (rw_name_from_text(arg, n, (const uint8_t *)"", wire, &wl) != 0) {
		*error = "not a domain name";
		return RW_CTL_BAD;
	}
	return RW_CTL_OK;
}

enum rw_ctl_arg rw_ctl_arg_of(unsigned cmd)
{
	switch (cmd) {
	case RW_CTL_FLUSH: return RW_CTL_ARG_NAME_OPT;
	case RW_CTL_DUMP: return RW_CTL_ARG_PATH_OPT;
	case RW_CTL_LOAD: return RW_CTL_ARG_PATH;
	case RW_CTL_LOG_LEVEL: return RW_CTL_ARG_LEVEL;
	case RW_CTL_FLUSH_ZONE: return RW_CTL_ARG_NAME;
	case RW_CTL_FLUSH_TYPE: return RW_CTL_ARG_NAME_TYPE;
	case RW_CTL_LOOKUP: return RW_CTL_ARG_NAME_TYPE_OPT;
	case RW_CTL_FLUSH_INFRA: return RW_CTL_ARG_ADDR_OPT;
	case RW_CTL_FWD_ADD: return RW_CTL_ARG_FWD;
	case RW_CTL_FWD_REMOVE: return RW_CTL_ARG_NAME;
	default: return RW_CTL_ARG_NONE;
	}
}

bool rw_ctl_arg_required(enum rw_ctl_arg kind)
{
	return kind == RW_CTL_ARG_PATH || kind == RW_CTL_ARG_LEVEL || kind == RW_CTL_ARG_NAME ||
	       kind == RW_CTL_ARG_NAME_TYPE || kind == RW_CTL_ARG_NAME_TYPE_OPT ||
	       kind == RW_CTL_ARG_FWD;
}

bool rw_ctl_name_type(char *arg, uint8_t name[255], uint16_t *type)
{
	char *sp = strchr(arg, ' ');
	size_t nl = sp != NULL ? (size_t)(sp - arg) : strlen(arg), wl;
	*type = 0;
	if (nl == 0 || rw_name_from_text(arg, nl, (const uint8_t *)"", name, &wl) != 0)
		return false;
	if (sp == NULL)
		return true;
	return sp[1] != 0 && strchr(sp + 1, ' ') == NULL &&
	       rw_type_from_text(sp + 1, strlen(sp + 1), type) == 0 && *type != 0;
}

int rw_http_parse(char *req, size_t len, bool *head, char path[1024])
{
	req[len] = 0;
	if (memchr(req, 0, len) != NULL)
		return 400; /* NUL in a request line or header */
	if (strstr(req, "\r\n\r\n") == NULL && strstr(req, "\n\n") == NULL)
		return len >= RW_HTTP_REQ_MAX - 1 ? 400 : 0; /* headers too long */
	char *eol = memchr(req, '\n', len);
	if (eol == NULL)
		return 400;
	*eol = 0;
	char method[8], version[16];
	if (sscanf(req, "%7s %1023s %15s", method, path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) != 0 || path[0] != '/')
		return 400;
	*head = strcmp(method, "HEAD") == 0;
	if (!*head && strcmp(method, "GET") != 0)
		return 405;
	char *q = strchr(path, '?');
	if (q != NULL)
		*q = 0;
	return 200;
}

int rw_tcpbuf_init(struct rw_tcpbuf *t)
{
	t->len = 0;
	t->cap = RW_TCPBUF_MIN;
	t->buf = malloc(t->cap);
	return t->buf != NULL ? 0 : -1;
}

void rw_tcpbuf_fini(struct rw_tcpbuf *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = t->cap = 0;
}

uint8_t *rw_tcpbuf_space(struct rw_tcpbuf *t, size_t *room)
{
	if (t->cap - t->len < RW_TCPBUF_MIN / 2 && t->cap < RW_TCPBUF_MAX) {
		size_t cap = t->cap * 2 > RW_TCPBUF_MAX ? RW_TCPBUF_MAX : t->cap * 2;
		uint8_t *p = realloc(t->buf, cap);
		if (p != NULL) {
			t->buf = p;
			t->cap = cap;
		}
	}
	/* Never empty: at most one partial message (< 65537 bytes) is kept,
	 * and the largest buffer holds one and RW_TCPBUF_MIN more. */
	*room = t->cap - t->len;
	return t->buf + t->len;
}

void rw_tcpbuf_wrote(struct rw_tcpbuf *t, size_t n)
{
	t->len += n;
}

bool rw_tcpbuf_next(const struct rw_tcpbuf *t, size_t *pos, const uint8_t **msg, size_t *len)
{
	if (t->len - *pos < 2)
		return false;
	size_t flen = (size_t)t->buf[*pos] << 8 | t->buf[*pos + 1];
	if (t->len - *pos - 2 < flen)
		return false;
	*msg = t->buf + *pos + 2;
	*len = flen;
	*pos += 2 + flen;
	return true;
}

void rw_tcpbuf_consume(struct rw_tcpbuf *t, size_t pos)
{
	if (pos == 0)
		return;
	memmove(t->buf, t->buf + pos, t->len - pos);
	t->len -= pos;
}
