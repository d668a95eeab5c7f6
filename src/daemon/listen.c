/* The receive side of the DNS transports (Knot Resolver's daemon/io.c,
 * Unbound's services/listen_dnsport.c): binding the listen sockets, UDP
 * datagrams in recvmmsg batches, TCP accept and RFC 7766 framing of
 * pipelined queries. Each request goes to the core (rw_query_process) and
 * its reply to session.c; requests the core routes upstream go to
 * pending.c. Knows nothing about DNS beyond the 2-byte TCP frame length. */
#include "daemon_int.h"
#include "rootwalk/err.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int rw__listen_socket(const struct rw_sockaddr *a, int type, int reuseport, int *out, char *err,
                      size_t err_len)
{
	const char *proto = type == SOCK_DGRAM ? "UDP" : "TCP";
	int fd = socket(a->ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, err_len, "cannot listen on %s (%s): %s", a->text, proto,
		         strerror(errno));
		return RW_EIO;
	}
	int one = 1;
	/* SO_REUSEADDR only for TCP (TIME_WAIT): on UDP it would let another
	 * socket share the port and defeat the in-use probe. */
	if (type == SOCK_STREAM)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (a->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0 ||
	    (type == SOCK_STREAM && listen(fd, TCP_BACKLOG) != 0)) {
		int e = errno;
		const char *hint = e == EACCES
		                       ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE)"
		                   : e == EADDRINUSE ? " (another server is running there)"
		                                     : "";
		/* A port to try instead: 5353, or 5354 when 5353 is the one in use. */
		unsigned port =
		    a->ss.ss_family == AF_INET6
		        ? ntohs(((const struct sockaddr_in6 *)(const void *)&a->ss)->sin6_port)
		        : ntohs(((const struct sockaddr_in *)(const void *)&a->ss)->sin_port);
		snprintf(err, err_len, "cannot listen on %s (%s): %s%s; try --listen %s:%u",
		         a->text, proto, strerror(e), hint,
		         a->ss.ss_family == AF_INET6 ? "[::1]" : "127.0.0.1",
		         port == 5353 ? 5354u : 5353u);
		close(fd);
		return RW_EIO;
	}
	*out = fd;
	return 0;
}

/* SO_REUSEPORT lets a second copy of us bind the same port silently, so
 * first probe each address without it: that fails if anyone holds it. */
int rw__listen_probe(const struct rw_sockaddr *a, char *err, size_t err_len)
{
	int types[2] = {SOCK_DGRAM, SOCK_STREAM};
	for (int i = 0; i < 2; i++) {
		int fd;
		int e = rw__listen_socket(a, types[i], 0, &fd, err, err_len);
		if (e != 0)
			return e;
		close(fd);
	}
	return 0;
}

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct worker *w = h->data;
	*buf = uv_buf_init((char *)w->rbuf, UDP_RECV_BATCH * UDP_DGRAM_MAX);
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags)
{
	struct worker *w = h->data;
	/* nread 0 with UV_UDP_MMSG_FREE ends a recvmmsg batch (the buffer is
	 * the worker's own: nothing to free): its replies go out together. */
	if (flags & UV_UDP_MMSG_FREE) {
		rw__udp_batch_flush(w);
		return;
	}
	if (nread <= 0 || addr == NULL || (flags & UV_UDP_PARTIAL))
		return;
	/* The reply is written straight into the batch. */
	uint8_t *out = rw__udp_batch_slot(w, h);
	size_t out_cap = UDP_REPLY_MAX;
	size_t out_len;
	/* The batch's first datagram: its time is every one's (metrics). */
	if ((w->measure || w->env.log_queries) && w->batch.t0 == 0)
		w->batch.t0 = lat_now();
	w->env.client = addr;
	if (w->tap != NULL)
		rw__tap_client(w, false, addr, false, (const uint8_t *)buf->base, (size_t)nread);
	uint64_t refused = w->env.stats.acl_refused;
	switch (rw_query_process(&w->env, (const uint8_t *)buf->base, (size_t)nread,
	                         RW_TRANSPORT_UDP, out, out_cap, &out_len)) {
	case RW_QUERY_REPLY:
		if (w->env.stats.acl_refused != refused)
			rw__log_limited(w, &w->refuse_log, "refused (not in --allow)", addr);
		if (w->rl != NULL && !rw__reply_allowed(w, h, addr, out, out_len))
			break;
		rw__udp_batch_add(w, addr, out_len);
		if (w->tap != NULL)
			rw__tap_client(w, true, addr, false, out, out_len);
		if (w->measure)
			rw__metrics_reply(w, addr, RW_TRANSPORT_UDP, (size_t)nread, out, out_len,
			                  0);
		if (w->env.log_queries)
			rw__log_query(w, addr, RW_TRANSPORT_UDP, out, out_len, w->batch.t0, NULL);
		if (w->env.prefetch && rw__pending_refresh(w, &w->env.request))
			w->up.prefetches++;
		break;
	case RW_QUERY_UPSTREAM:
		rw__pending_forward(w, h, addr, NULL, w->batch.t0, (size_t)nread);
		break;
	case RW_QUERY_DROP:
		rw__log_limited(w, &w->drop_log, "dropped a packet that is not a query", addr);
		break;
	}
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct conn *c = h->data;
	size_t room;
	uint8_t *p = rw_tcpbuf_space(&c->in, &room);
	*buf = uv_buf_init((char *)p, (unsigned)room);
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	struct conn *c = s->data;
	if (nread == UV_EOF && (c->pending > 0 || c->waiting > 0) && !c->closing) {
		/* Half-close after the last query (RFC 7766 §6.2.4): finish
		 * sending the queued replies first; conn_written closes. */
		c->eof = 1;
		uv_read_stop(s);
		c->reading = 0;
		return;
	}
	if (nread < 0) {
		rw__conn_close(c); /* EOF with nothing queued, or an error */
		return;
	}
	if (nread == 0 || c->closing)
		return;
	rw_tcpbuf_wrote(&c->in, (size_t)nread);
	struct worker *w = c->w;
	size_t pos = 0, flen;
	const uint8_t *msg;
	/* Bound: each iteration consumes one whole frame from the buffer. */
	while (!c->closing && rw_tcpbuf_next(&c->in, &pos, &msg, &flen)) {
		size_t out_len;
		uint64_t t0 = w->measure || w->env.log_queries ? lat_now() : 0;
		w->env.client = (const struct sockaddr *)&c->peer;
		if (w->tap != NULL)
			rw__tap_client(w, false, w->env.client, true, msg, flen);
		switch (rw_query_process(&w->env, msg, flen, RW_TRANSPORT_TCP, w->sbuf,
		                         sizeof w->sbuf, &out_len)) {
		case RW_QUERY_REPLY:
			rw__conn_send(c, w->sbuf, out_len);
			if (w->tap != NULL)
				rw__tap_client(w, true, (const struct sockaddr *)&c->peer, true,
				               w->sbuf, out_len);
			if (w->measure)
				rw__metrics_reply(w, (const struct sockaddr *)&c->peer,
				                  RW_TRANSPORT_TCP, flen, w->sbuf, out_len, t0);
			rw__log_query(w, (const struct sockaddr *)&c->peer, RW_TRANSPORT_TCP,
			              w->sbuf, out_len, t0, NULL);
			if (w->env.prefetch && rw__pending_refresh(w, &w->env.request))
				w->up.prefetches++;
			break;
		case RW_QUERY_UPSTREAM: rw__pending_forward(w, NULL, NULL, c, t0, flen); break;
		case RW_QUERY_DROP: break;
		}
	}
	if (pos > 0) {
		/* Whole queries came: the idle timer restarts (bytes alone do
		 * not restart it, or one byte a second would hold the slot). */
		rw_tcpbuf_consume(&c->in, pos);
		if (!c->closing)
			rw__slots_active(c);
	}
	if (c->pending > TCP_PENDING_MAX && c->reading && !c->closing) {
		uv_read_stop((uv_stream_t *)&c->tcp); /* back-pressure */
		c->reading = 0;
	}
}

static void tcp_accept(uv_stream_t *server, int status)
{
	struct worker *w = server->data;
	if (status < 0)
		return;
	struct conn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return;
	c->kind = H_CONN;
	c->w = w;
	int in_ok = rw_tcpbuf_init(&c->in);
	uv_tcp_init(&w->loop, &c->tcp);
	uv_timer_init(&w->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	w->tcp_conns++;
	if (in_ok != 0 || uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		rw__conn_close(c);
		return;
	}
	int plen = sizeof c->peer;
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &plen) != 0 ||
	    !rw__slots_admit(w, c)) {
		rw__conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	rw__slots_arm(c);
	c->reading = 1;
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

/* w's share of the inherited sockets of listen address li and type:
 * the k-th of them goes to worker k mod N. Returns how many it took. */
static size_t take_inherited(struct rw_server *s, struct worker *w, unsigned li, int type)
{
	size_t rank = 0, took = 0;
	for (size_t k = 0; k < s->ninherit; k++) {
		struct inherited *in = &s->inherit[k];
		if (in->li != li || in->type != type)
			continue;
		if (rank++ % s->nworkers != w->index || in->fd < 0)
			continue;
		if (type == SOCK_DGRAM) {
			w->udp_fds[w->nudp] = in->fd;
			w->udp_li[w->nudp++] = li;
		} else {
			w->tcp_fds[w->ntcp] = in->fd;
			w->tcp_li[w->ntcp++] = li;
		}
		in->fd = -1; /* the worker's now */
		took++;
	}
	return took;
}

int rw__listen_bind(struct rw_server *s, struct worker *w, char *err, size_t err_len)
{
	for (unsigned i = 0; i < s->nlisten; i++) {
		const struct rw_sockaddr *a = &s->cfg->listen[i];
		int e = 0;
		if (take_inherited(s, w, i, SOCK_DGRAM) == 0) {
			e = rw__listen_socket(a, SOCK_DGRAM, 1, &w->udp_fds[w->nudp], err, err_len);
			if (e == 0)
				w->udp_li[w->nudp++] = i;
		}
		if (e == 0 && take_inherited(s, w, i, SOCK_STREAM) == 0) {
			e = rw__listen_socket(a, SOCK_STREAM, 1, &w->tcp_fds[w->ntcp], err,
			                      err_len);
			if (e == 0)
				w->tcp_li[w->ntcp++] = i;
		}
		if (e != 0)
			return e;
	}
	return 0;
}

/* Hands the bound sockets to libuv; after this the loop owns them. */
int rw__listen_start(struct rw_server *s, struct worker *w, char *err, size_t err_len)
{
	int e = 0;
	size_t i;
	for (i = 0; i < w->nudp && e == 0; i++) {
		uv_udp_init_ex(&w->loop, &w->udp[i], AF_UNSPEC | UV_UDP_RECVMMSG);
		w->udp[i].data = w;
		e = uv_udp_open(&w->udp[i], w->udp_fds[i]);
		if (e == 0) {
			w->udp_fds[i] = -1;
			e = uv_udp_recv_start(&w->udp[i], udp_alloc, udp_recv);
		}
		if (e != 0)
			snprintf(err, err_len, "cannot listen on %s (UDP): %s",
			         s->cfg->listen[w->udp_li[i]].text, uv_strerror(e));
	}
	for (i = 0; i < w->ntcp && e == 0; i++) {
		uv_tcp_init(&w->loop, &w->tcp[i]);
		w->tcp[i].data = w;
		e = uv_tcp_open(&w->tcp[i], w->tcp_fds[i]);
		if (e == 0) {
			w->tcp_fds[i] = -1;
			e = uv_listen((uv_stream_t *)&w->tcp[i], TCP_BACKLOG, tcp_accept);
		}
		if (e != 0)
			snprintf(err, err_len, "cannot listen on %s (TCP): %s",
			         s->cfg->listen[w->tcp_li[i]].text, uv_strerror(e));
	}
	return e != 0 ? RW_EIO : 0;
}

void rw__listen_drain(struct worker *w)
{
	/* The sockets stay open for the replies still to come; the new
	 * process reads them (they are its too). */
	for (size_t i = 0; i < w->nudp; i++)
		uv_udp_recv_stop(&w->udp[i]);
	for (size_t i = 0; i < w->ntcp; i++)
		if (!uv_is_closing((uv_handle_t *)&w->tcp[i]))
			uv_close((uv_handle_t *)&w->tcp[i], NULL);
	/* Bound: the worker's connections, each visited once. */
	for (struct conn *c = w->lru_head, *next; c != NULL; c = next) {
		next = c->lru_next;
		if (c->closing)
			continue;
		if (c->pending == 0 && c->waiting == 0) {
			rw__conn_close(c);
			continue;
		}
		c->eof = 1; /* closed once its answers are out */
		if (c->reading)
			uv_read_stop((uv_stream_t *)&c->tcp);
		c->reading = 0;
	}
}

void rw__conn_resume(struct conn *c)
{
	c->reading = 1;
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}
