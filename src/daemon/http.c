/* The metrics/health HTTP endpoint; see http.h. */
#include "http.h"
#include "wireproto.h"
#include "rootwalk/err.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>

#define REQ_MAX RW_HTTP_REQ_MAX
#define CONN_MAX 64
#define CONN_PER_CLIENT 8
#define CONN_TIMEOUT_MS 5000
#define CONN_TIMEOUT_MIN_MS 200

struct hconn {
	struct hconn *next, **pprev;
	struct rw_http *h;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_write_t write;
	int open_handles;
	int closing;
	int replied;
	uint8_t peer_key[RW_CLIENT_KEY_LEN]; /* family, then the IPv4 address or the IPv6 /64 */
	char req[REQ_MAX];
	size_t len;
	char *out; /* the response being written */
};

struct rw_http {
	uv_tcp_t listener;
	rw_http_handler handler;
	void *ctx;
	struct hconn *conns; /* newest first */
	unsigned nconns;
	struct rw_http_stats stats;
	int closing;
	int open_handles;
};

static void listener_closed(uv_handle_t *hd)
{
	struct rw_http *h = hd->data;
	if (--h->open_handles == 0)
		free(h);
}

static void conn_closed(uv_handle_t *hd)
{
	struct hconn *c = hd->data;
	if (--c->open_handles > 0)
		return;
	struct rw_http *h = c->h;
	free(c->out);
	free(c);
	if (--h->open_handles == 0 && h->closing)
		free(h);
}

static void conn_close(struct hconn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	*c->pprev = c->next;
	if (c->next != NULL)
		c->next->pprev = c->pprev;
	c->h->nconns--;
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void written(uv_write_t *w, int status)
{
	(void)status;
	conn_close(w->data);
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 503: return "Service Unavailable";
	default: return "Internal Server Error";
	}
}

static void reply(struct hconn *c, int status, const char *type, const char *body, size_t len,
                  bool head)
{
	c->replied = 1;
	uv_read_stop((uv_stream_t *)&c->tcp);
	struct rw_buf b = {0};
	rw_buf_printf(&b,
	              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
	              "Connection: close\r\n\r\n",
	              status, reason(status), type, len);
	if (!head && len > 0) {
		rw_buf_printf(&b, "%.*s", (int)len, body);
	}
	if (b.failed) {
		free(b.p);
		conn_close(c);
		return;
	}
	c->out = b.p;
	uv_buf_t buf = uv_buf_init(b.p, (unsigned)b.len);
	c->write.data = c;
	if (uv_write(&c->write, (uv_stream_t *)&c->tcp, &buf, 1, written) != 0)
		conn_close(c);
}

static void simple(struct hconn *c, int status)
{
	char body[64];
	int n = snprintf(body, sizeof body, "%d %s\n", status, reason(status));
	reply(c, status, "text/plain; charset=utf-8", body, (size_t)n, false);
}

/* The request is complete and parsed (status 200): the handler's reply. */
static void handle(struct hconn *c, const char *path, bool head)
{
	struct rw_buf body = {0};
	const char *type = "text/plain; charset=utf-8";
	int status = c->h->handler(c->h->ctx, path, &body, &type);
	if (body.failed)
		status = 500;
	if (status == 404 && body.len == 0)
		rw_buf_printf(&body, "404 Not Found\n");
	reply(c, status, type, body.p ? body.p : "", body.failed ? 0 : body.len, head);
	free(body.p);
}

static void on_alloc(uv_handle_t *hd, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct hconn *c = hd->data;
	*buf = uv_buf_init(c->req + c->len, (unsigned)(REQ_MAX - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	struct hconn *c = s->data;
	if (c->replied || c->closing)
		return;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->len += (size_t)nread;
	bool head;
	char path[1024];
	int status = rw_http_parse(c->req, c->len, &head, path);
	if (status == 200)
		handle(c, path, head);
	else if (status != 0)
		simple(c, status);
}

static void on_timeout(uv_timer_t *t)
{
	struct hconn *c = t->data;
	c->h->stats.timed_out++;
	conn_close(c);
}

/* Admits c (already listed, its peer known): false when it must go. A
 * client's share, then room made by closing the oldest connection still
 * sending its request. Bound: CONN_MAX connections walked. */
static bool admit(struct rw_http *h, struct hconn *c)
{
	unsigned same = 0;
	for (struct hconn *o = h->conns; o != NULL; o = o->next)
		same += o != c && memcmp(o->peer_key, c->peer_key, RW_CLIENT_KEY_LEN) == 0;
	if (same >= CONN_PER_CLIENT) {
		h->stats.per_client_refused++;
		return false;
	}
	if (h->nconns <= CONN_MAX)
		return true;
	struct hconn *oldest = NULL;
	for (struct hconn *o = h->conns; o != NULL; o = o->next)
		if (o != c && !o->replied && !o->closing)
			oldest = o; /* the list is newest first */
	if (oldest == NULL)
		return false;
	h->stats.evicted++;
	conn_close(oldest);
	return true;
}

/* The whole request's deadline: shorter once half the connections are
 * taken. */
static uint64_t deadline_ms(const struct rw_http *h)
{
	unsigned half = CONN_MAX / 2;
	if (h->nconns <= half)
		return CONN_TIMEOUT_MS;
	uint64_t left = h->nconns >= CONN_MAX ? 0 : CONN_MAX - h->nconns;
	uint64_t t = (uint64_t)CONN_TIMEOUT_MS * left / half;
	return t < CONN_TIMEOUT_MIN_MS ? CONN_TIMEOUT_MIN_MS : t;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct rw_http *h = server->data;
	if (status < 0 || h->closing)
		return;
	struct hconn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return;
	c->h = h;
	uv_tcp_init(server->loop, &c->tcp);
	uv_timer_init(server->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	h->open_handles++;
	c->next = h->conns;
	c->pprev = &h->conns;
	if (h->conns != NULL)
		h->conns->pprev = &c->next;
	h->conns = c;
	h->nconns++;
	struct sockaddr_storage peer;
	int plen = sizeof peer;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
	    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&peer, &plen) != 0) {
		conn_close(c);
		return;
	}
	rw_client_key(&peer, c->peer_key);
	if (!admit(h, c)) {
		conn_close(c);
		return;
	}
	uv_timer_start(&c->timer, on_timeout, deadline_ms(h), 0);
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

int rw_http_start(uv_loop_t *loop, const struct rw_sockaddr *addr, int fd, rw_http_handler handler,
                  void *ctx, struct rw_http **out, char *err, size_t err_len)
{
	struct rw_http *h = calloc(1, sizeof *h);
	if (h == NULL) {
		snprintf(err, err_len, "out of memory");
		return RW_ENOMEM;
	}
	h->handler = handler;
	h->ctx = ctx;
	uv_tcp_init(loop, &h->listener);
	h->listener.data = h;
	h->open_handles = 1;
	int e = fd >= 0 ? uv_tcp_open(&h->listener, fd)
	                : uv_tcp_bind(&h->listener, (const struct sockaddr *)&addr->ss, 0);
	if (e == 0)
		e = uv_listen((uv_stream_t *)&h->listener, 64, on_connection);
	if (e != 0) {
		snprintf(err, err_len, "--http %s: %s", addr->text, uv_strerror(e));
		h->closing = 1;
		uv_close((uv_handle_t *)&h->listener, listener_closed);
		return RW_EIO;
	}
	*out = h;
	return 0;
}

int rw_http_fd(const struct rw_http *h)
{
	int fd = -1;
	uv_fileno((const uv_handle_t *)&h->listener, &fd);
	return fd;
}

void rw_http_close(struct rw_http *h)
{
	if (h == NULL || h->closing)
		return;
	h->closing = 1;
	while (h->conns != NULL)
		conn_close(h->conns);
	uv_close((uv_handle_t *)&h->listener, listener_closed);
}

void rw_http_stats(const struct rw_http *h, struct rw_http_stats *out)
{
	*out = h->stats;
}
