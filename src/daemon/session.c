/* The send side of a client transport (Knot Resolver's session2.c): UDP
 * replies (sent at once, queued only when the socket is full), the rate
 * limiter's verdict, TCP framed writes in order with back-pressure, and a
 * TCP connection's lifetime. */
#include "daemon_int.h"
#include "rootwalk/err.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static void udp_send_done(uv_udp_send_t *req, int status)
{
	(void)status;
	free(req);
}

/* Sends one reply now (a copy is queued when the socket is full). */
static void udp_send_now(uv_udp_t *h, const struct sockaddr *addr, const uint8_t *msg, size_t len)
{
	uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
	int r = uv_udp_try_send(h, &b, 1, addr);
	if (r >= 0 || (r != UV_EAGAIN && r != UV_ENOSYS))
		return;
	/* The socket buffer is full: queue a copy (rare; the hot path
	 * allocates nothing). */
	uv_udp_send_t *req = malloc(sizeof *req + len);
	if (req == NULL)
		return;
	memcpy(req + 1, msg, len);
	b = uv_buf_init((char *)(req + 1), (unsigned)len);
	if (uv_udp_send(req, h, &b, 1, addr, udp_send_done) != 0)
		free(req);
}

uint8_t *rw__udp_batch_slot(struct worker *w, uv_udp_t *h)
{
	struct udp_batch *b = &w->batch;
	if (b->n == UDP_RECV_BATCH || (b->n > 0 && b->h != h))
		rw__udp_batch_flush(w);
	b->h = h;
	return b->buf[b->n];
}

void rw__udp_send(struct worker *w, uv_udp_t *h, const struct sockaddr *addr, const uint8_t *msg,
                  size_t len)
{
	if (len > UDP_REPLY_MAX) { /* cannot happen: replies are sized to 4096 */
		udp_send_now(h, addr, msg, len);
		return;
	}
	uint8_t *slot = rw__udp_batch_slot(w, h);
	if (slot != msg)
		memcpy(slot, msg, len);
	rw__udp_batch_add(w, addr, len);
}

void rw__udp_flush_cb(uv_check_t *c)
{
	rw__udp_batch_flush(c->data);
}

void rw__udp_batch_add(struct worker *w, const struct sockaddr *addr, size_t len)
{
	struct udp_batch *b = &w->batch;
	unsigned i = b->n++;
	b->src[i] = BATCH_UNTIMED; /* rw__metrics_reply marks the replies it times here */
	size_t alen =
	    addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	memcpy(&b->addr[i], addr, alen);
	b->iov[i] = (struct iovec){.iov_base = b->buf[i], .iov_len = len};
	b->msg[i] = (struct mmsghdr){.msg_hdr = {.msg_name = &b->addr[i],
	                                         .msg_namelen = (socklen_t)alen,
	                                         .msg_iov = &b->iov[i],
	                                         .msg_iovlen = 1}};
}

void rw__udp_batch_flush(struct worker *w)
{
	struct udp_batch *b = &w->batch;
	if (w->measure)
		rw__metrics_batch(w, b);
	b->t0 = 0;
	if (b->n == 0)
		return;
	unsigned sent = 0;
	uv_os_fd_t fd;
	/* Queued sends go first (libuv keeps their order): then no batch. */
	if (b->h->send_queue_count == 0 && uv_fileno((uv_handle_t *)b->h, &fd) == 0) {
		int r = sendmmsg(fd, b->msg, b->n, MSG_DONTWAIT);
		sent = r > 0 ? (unsigned)r : 0;
	}
	/* Bound: the batch's replies. What the socket did not take (full:
	 * EAGAIN) is retried one by one, and queued if need be. */
	for (unsigned i = sent; i < b->n; i++)
		udp_send_now(b->h, (const struct sockaddr *)&b->addr[i], b->buf[i],
		             b->iov[i].iov_len);
	b->n = 0;
}

static void conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	if (--c->open_handles > 0)
		return;
	c->w->tcp_conns--;
	if (c->waiting > 0) {
		c->dead = 1; /* the last waiter frees it */
		return;
	}
	rw_tcpbuf_fini(&c->in);
	free(c);
}

void rw__conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	rw__slots_release(c);
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void conn_written(uv_write_t *req, int status)
{
	struct wreq *wr = (struct wreq *)req;
	struct conn *c = wr->c;
	c->pending -= wr->len;
	free(wr);
	if (status < 0 || (c->eof && c->pending == 0 && c->waiting == 0)) {
		rw__conn_close(c);
		return;
	}
	if (!c->reading && !c->closing && !c->eof && c->pending < TCP_PENDING_MAX / 2) {
		rw__conn_resume(c);
	}
}

/* Sends one framed reply, directly when the socket takes it, else queued
 * (libuv keeps queued writes in order, and try_write refuses while any are
 * queued, so replies never reorder). */
void rw__conn_send(struct conn *c, const uint8_t *msg, size_t len)
{
	uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	uv_buf_t bufs[2] = {uv_buf_init((char *)prefix, 2),
	                    uv_buf_init((char *)msg, (unsigned)len)};
	size_t total = len + 2, done = 0;
	int r = uv_try_write((uv_stream_t *)&c->tcp, bufs, 2);
	if (r > 0)
		done = (size_t)r;
	else if (r != UV_EAGAIN && r != UV_ENOSYS) {
		rw__conn_close(c);
		return;
	}
	if (done == total)
		return;
	size_t rest = total - done;
	struct wreq *wr = malloc(sizeof *wr + rest);
	if (wr == NULL) {
		rw__conn_close(c);
		return;
	}
	for (size_t i = done; i < total; i++)
		wr->data[i - done] = i < 2 ? prefix[i] : msg[i - 2];
	wr->c = c;
	wr->len = rest;
	uv_buf_t b = uv_buf_init((char *)wr->data, (unsigned)rest);
	if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, conn_written) != 0) {
		free(wr);
		rw__conn_close(c);
		return;
	}
	c->pending += rest;
}

/* --rate-limit (src/base/ratelimit.c gives the verdict; the slip is built
 * by the core from the reply's question). */
bool rw__reply_allowed(struct worker *w, uv_udp_t *h, const struct sockaddr *sa, uint8_t *reply,
                       size_t len)
{
	enum rw_rl_verdict v = rw_ratelimit_check(w->rl, sa, uv_now(&w->loop));
	if (v == RW_RL_PASS)
		return true;
	rw__log_limited(w, &w->rl_log, "response rate limit", sa);
	if (v == RW_RL_SLIP) {
		w->rl_stats.slipped++;
		size_t n = rw_query_slip(reply, len);
		if (n > 0)
			rw__udp_send(w, h, sa, reply, n);
	} else {
		w->rl_stats.dropped++;
	}
	return false;
}
