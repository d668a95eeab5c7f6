/* libuv listeners and workers; see include/rootwalk/server.h. This file
 * owns sockets, timers and threads and nothing about DNS: every request
 * goes to rw_query_process(). TCP follows RFC 7766: 2-byte framing, several
 * and pipelined queries per connection, idle timeout, connection limit,
 * partial reads and writes. */
#include "rootwalk/server.h"
#include "rootwalk/cache.h"
#include "rootwalk/err.h"
#include "rootwalk/flight.h"
#include "rootwalk/log.h"
#include "rootwalk/query.h"
#include "control.h"
#include "http.h"
#include "iterio.h"
#include "rootwalk/infra.h"
#include "rootwalk/resolve.h"
#include "rootwalk/rr.h"
#include "rootwalk/zoneload.h"
#include "upstream.h"

#include <ares.h>
#include <stdatomic.h>

#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#define TCP_BACKLOG 1024
/* Datagrams read per recvmmsg call: libuv hands each to udp_recv in turn,
 * so a busy worker makes one receive syscall per batch, not per query. */
#define UDP_RECV_BATCH 16
#define UDP_DGRAM_MAX 65536
#define TCP_BUF_MIN 4096
#define TCP_BUF_MAX (2 + 65535 + TCP_BUF_MIN)
/* Stop reading from a client whose unread replies pile up past this. */
#define TCP_PENDING_MAX (256 * 1024)
/* Clients waiting on one question (--max-outstanding bounds the questions);
 * past either bound a client gets SERVFAIL at once. */
#define FLIGHT_WAITERS_MAX 1000
/* Request bytes one worker keeps for clients waiting on upstream. */
#define WAITING_BYTES_MAX (32u << 20)

enum hkind { H_WORKER = 1, H_CONN = 2, H_UPQ = 3 };

/* An upstream reply shared by the workers whose clients wait for it;
 * len 0: SERVFAIL with ede. */
struct result {
	atomic_int refs;
	struct rw_ede ede; /* text: a static string */
	size_t len;
	uint8_t data[];
};

/* One client waiting for an upstream answer. Owned by the worker that
 * received the request; it is linked into the shared in-flight table and
 * comes back to that worker (directly or through its mailbox) once. */
struct waiter {
	struct rw_flight_waiter link; /* first */
	struct worker *w;
	enum rw_transport transport;
	uv_udp_t *udp; /* UDP: the socket it came in on, and the client */
	struct sockaddr_storage addr;
	struct conn *c;     /* TCP: the connection (kept alive by c->waiting) */
	struct result *res; /* in a mailbox: the answer (NULL: SERVFAIL) */
	uint64_t t0;        /* when the request came in (uv_hrtime), if measured */
	size_t len;
	uint8_t req[];
};

/* The leader's upstream query. Freed when both the c-ares callback has
 * run and the deadline timer is closed. */
struct upq {
	enum hkind kind; /* H_UPQ: deadline.data */
	struct worker *w;
	struct rw_query_forward q;
	uv_timer_t deadline;
	int refs;
	int answered; /* the waiters have been taken and answered */
};

struct upstream_stats {
	uint64_t queries, replies, timeouts, failures, rejected, overloaded;
};

/* Query latency histogram (receive to reply), upper bounds in µs. Answers
 * from local zones and the cache are timed 1 in LAT_SAMPLE (two clock
 * reads on every hit cost 2.8% of its instructions); every answer that
 * waited for upstream is timed. */
#define LAT_SAMPLE 16
#define LAT_BUCKETS 12
static const uint32_t lat_bounds_us[LAT_BUCKETS] = {50,   100,   250,   500,    1000,    2500,
                                                    5000, 10000, 50000, 250000, 1000000, 5000000};
struct latency {
	uint64_t bucket[LAT_BUCKETS + 1]; /* the last: over every bound */
	uint64_t count, sum_ns;
};

/* Per-client response rate limit (--rate-limit): a token bucket per
 * client (IPv4 /32, IPv6 /56) in a direct-mapped table per worker; a new
 * client takes over a slot. Over the limit, every other response slips
 * out as an empty TC=1 reply (a real client retries over TCP, a spoofed
 * victim gets nothing bigger than its query) and the rest are dropped. */
#define RL_SLOTS 4096
struct rl_slot {
	uint8_t key[8];
	uint8_t used, slip;
	uint32_t tokens_milli; /* thousandths of a response */
	uint64_t last_ms;
};

struct rl_stats {
	uint64_t slipped, dropped;
};

struct retired {
	struct retired *next;
	struct rw_zoneset *zones;
};

/* What a worker publishes for /metrics: a copy of its counters, taken on
 * its own thread every SNAPSHOT_MS under snap_lock, so the main thread
 * reads consistent numbers without touching the worker's live ones. */
#define SNAPSHOT_MS 250
struct snapshot {
	struct rw_query_stats q;
	struct rw_cache_stats c;
	struct upstream_stats up;
	struct rw_res_stats rs;
	struct latency lat;
	struct rl_stats rl;
};

struct worker {
	enum hkind kind; /* first: handle->data points here */
	struct rw_server *srv;
	unsigned index;
	uv_thread_t thread;
	uv_loop_t loop;
	uv_async_t stop;
	uv_udp_t *udp;
	uv_tcp_t *tcp;
	int *udp_fds, *tcp_fds;
	unsigned tcp_conns, tcp_limit;
	int loop_close_rc;
	int loop_inited;
	struct rw_query_env env;
	uint8_t *rbuf; /* UDP_RECV_BATCH datagrams of 64 KiB (recvmmsg) */
	uint8_t sbuf[65536];
	/* Forwarding: one c-ares channel per upstream group; recursion. */
	struct rw_upstream **groups;
	struct rw_iter *iter;
	uint64_t iter_dropped; /* replies with the wrong ID (kept at close) */
	struct rw_res_env res_env;
	struct rw_res_stats res_stats;
	struct upstream_stats up;
	size_t waiting_bytes;
	struct rw_flight_waiter **split; /* per-worker lists, in deliver() */
	/* Rate limit (--rate-limit) and rate-limited logs. */
	struct rl_slot *rl;
	struct rl_stats rl_stats;
	struct rw_log_limit drop_log, refuse_log, rl_log;
	/* Metrics (--http): latency measured per query, counters published. */
	int measure;
	unsigned lat_tick;
	struct latency lat;
	uv_timer_t snap_timer;
	uv_mutex_t snap_lock;
	struct snapshot snap;
	/* Zones: the set this worker serves (a reference), and the next one
	 * handed over by a reload (under mail_lock). */
	struct rw_zoneset *zones, *next_zones;
	uv_async_t zones_async;
	/* Mailbox: answered waiters handed over by other workers. */
	uv_mutex_t mail_lock;
	struct rw_flight_waiter *mail_head, **mail_tail;
	int mail_closed;
	uv_async_t mail_async;
};

struct rw_server {
	const struct rw_config *cfg;
	size_t nlisten;
	unsigned nworkers;
	struct worker **workers;
	struct rw_cache *cache;   /* shared by the workers */
	struct rw_flight *flight; /* shared by the workers */
	struct rw_route *routes;  /* forward zones: group i is zone i */
	size_t nroutes;
	size_t ngroups; /* forward zones, plus one for --forward */
	int default_group;
	int recurse_group; /* the group resolved iteratively, -1: none */
	struct rw_infra *infra;
	struct rw_hints hints;
	uv_loop_t loop; /* signals, zone reloads (and later HTTP, control) */
	uv_signal_t sigs[3];
	/* Zones: the set being served (one reference; each worker holds its
	 * own), reload counters, and the --watch-zones watchers. */
	struct rw_zoneset *zones;
	uint64_t reloads_ok, reloads_failed;
	uv_fs_event_t *watches;
	size_t nwatches;
	uv_timer_t reload_timer;
	int reload_timer_inited;
	struct rw_http *http;
	struct rw_control *control;
	/* Zone sets workers let go of, freed here on the main thread (a
	 * large set takes milliseconds to free: never on a worker). */
	uv_mutex_t retire_lock;
	struct retired *retired;
	uv_async_t retire_async;
	int retire_inited;
	int running; /* listeners bound and workers started: /ready */
};

struct conn {
	enum hkind kind;
	struct worker *w;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uint8_t *buf;
	size_t len, cap;
	size_t pending; /* bytes queued in uv_write */
	int open_handles;
	int closing;
	int reading;
	int eof; /* the client closed its side; close ours once replies are out */
	struct sockaddr_storage peer; /* the client, for --allow and logs */
	unsigned waiting;             /* its queries waiting upstream (waiters hold c) */
	int dead;                     /* handles closed; freed when the last waiter is done */
};

struct wreq {
	uv_write_t req;
	struct conn *c;
	size_t len;
	uint8_t data[];
};

/* --- sockets (main thread) ------------------------------------------------ */

static int bind_socket(const struct rw_listen_addr *a, int type, int reuseport, int *out, char *err,
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
		snprintf(err, err_len,
		         "cannot listen on %s (%s): %s%s; try --listen 127.0.0.1:5353", a->text,
		         proto, strerror(e), hint);
		close(fd);
		return RW_EIO;
	}
	*out = fd;
	return 0;
}

/* SO_REUSEPORT lets a second copy of us bind the same port silently, so
 * first probe each address without it: that fails if anyone holds it. */
static int probe(const struct rw_listen_addr *a, char *err, size_t err_len)
{
	int types[2] = {SOCK_DGRAM, SOCK_STREAM};
	for (int i = 0; i < 2; i++) {
		int fd;
		int e = bind_socket(a, types[i], 0, &fd, err, err_len);
		if (e != 0)
			return e;
		close(fd);
	}
	return 0;
}

/* --- UDP ------------------------------------------------------------------ */

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct worker *w = h->data;
	*buf = uv_buf_init((char *)w->rbuf, UDP_RECV_BATCH * UDP_DGRAM_MAX);
}

static void udp_send_done(uv_udp_send_t *req, int status)
{
	(void)status;
	free(req);
}

static void observe(struct worker *w, uint64_t t0)
{
	uint64_t ns = uv_hrtime() - t0;
	uint64_t us = ns / 1000;
	unsigned i = 0;
	while (i < LAT_BUCKETS && us > lat_bounds_us[i])
		i++;
	w->lat.bucket[i]++;
	w->lat.count++;
	w->lat.sum_ns += ns;
}

static void udp_reply(uv_udp_t *h, const struct sockaddr *addr, const uint8_t *msg, size_t len)
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

static void forward(struct worker *w, enum rw_transport t, uv_udp_t *udp,
                    const struct sockaddr *addr, struct conn *c, const uint8_t *req, size_t len,
                    uint64_t t0);

static void addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
		          sizeof host);
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	snprintf(buf, len, "%s#%u", host, port);
}

/* --log-queries: one line per answered query. */
static void log_query(struct worker *w, const struct sockaddr *sa, enum rw_transport t)
{
	if (!w->env.log_queries || !w->env.last.valid)
		return;
	char client[80], name[RW_NAME_TEXT_MAX], type[16];
	addr_text(sa, client, sizeof client);
	rw_name_to_text(w->env.last.qname, name, sizeof name);
	rw_type_to_text(w->env.last.qtype, type, sizeof type);
	static const char *const rc[] = {"NOERROR",  "FORMERR", "SERVFAIL",
	                                 "NXDOMAIN", "NOTIMP",  "REFUSED"};
	unsigned r = w->env.last.rcode & 0xF;
	rw_log_info("query %s %s %s %s %s", client, t == RW_TRANSPORT_UDP ? "udp" : "tcp", name,
	            type, r < 6 ? rc[r] : "OTHER");
}

/* Packets an attacker can send at line rate are logged a few per second. */
static void log_limited(struct worker *w, struct rw_log_limit *l, const char *what,
                        const struct sockaddr *sa)
{
	uint64_t suppressed;
	if (!rw_log_limit(l, uv_now(&w->loop), &suppressed))
		return;
	char client[80];
	addr_text(sa, client, sizeof client);
	if (suppressed > 0)
		rw_log_info("worker %u: %s from %s (and %llu more not logged in the last second)",
		            w->index, what, client, (unsigned long long)suppressed);
	else
		rw_log_info("worker %u: %s from %s", w->index, what, client);
}

/* Returns true to send the reply as is; false after it sent a TC=1 slip
 * instead, or dropped it. */
static bool rate_ok(struct worker *w, uv_udp_t *h, const struct sockaddr *sa, uint8_t *reply,
                    size_t len)
{
	uint8_t key[8] = {0};
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else {
		key[0] = 6;
		memcpy(key + 1, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, 7);
	}
	uint32_t hsh = 2166136261u;
	for (int i = 0; i < 8; i++)
		hsh = (hsh ^ key[i]) * 16777619u;
	struct rl_slot *sl = &w->rl[hsh % RL_SLOTS];
	uint64_t now = uv_now(&w->loop);
	uint32_t rate = w->srv->cfg->rate_limit;
	uint64_t burst = (uint64_t)rate * 1000;
	if (!sl->used || memcmp(sl->key, key, 8) != 0) {
		memcpy(sl->key, key, 8);
		sl->used = 1;
		sl->tokens_milli = (uint32_t)(burst > UINT32_MAX ? UINT32_MAX : burst);
		sl->last_ms = now;
	} else if (now > sl->last_ms) {
		uint64_t t = sl->tokens_milli + (now - sl->last_ms) * rate;
		sl->tokens_milli = (uint32_t)(t > burst ? burst : t);
		sl->last_ms = now;
	}
	if (sl->tokens_milli >= 1000) {
		sl->tokens_milli -= 1000;
		return true;
	}
	log_limited(w, &w->rl_log, "response rate limit", sa);
	if ((sl->slip++ & 1) == 0) {
		w->rl_stats.slipped++;
		/* The header and question only, TC=1: "ask again over TCP". */
		size_t qend = RW_HEADER_LEN;
		if (len > RW_HEADER_LEN && rw_get16(reply + 4) == 1) {
			qend += rw_name_len(reply + RW_HEADER_LEN) + 4;
			if (qend > len)
				qend = RW_HEADER_LEN;
		}
		reply[2] |= RW_FLAG_TC >> 8;
		memset(reply + 6, 0, 6); /* no answer, authority or additional */
		if (qend == RW_HEADER_LEN)
			memset(reply + 4, 0, 2);
		udp_reply(h, sa, reply, qend);
	} else {
		w->rl_stats.dropped++;
	}
	return false;
}

static void udp_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags)
{
	struct worker *w = h->data;
	/* nread 0 with UV_UDP_MMSG_FREE ends a batch; the buffer is the
	 * worker's own, so there is nothing to free. */
	if (nread <= 0 || addr == NULL || (flags & UV_UDP_PARTIAL))
		return;
	size_t out_len;
	uint64_t t0 = w->measure && (++w->lat_tick % LAT_SAMPLE) == 0 ? uv_hrtime() : 0;
	w->env.client = addr;
	uint64_t refused = w->env.stats.acl_refused;
	switch (rw_query_process(&w->env, (const uint8_t *)buf->base, (size_t)nread,
	                         RW_TRANSPORT_UDP, w->sbuf, sizeof w->sbuf, &out_len)) {
	case RW_QUERY_REPLY:
		if (w->env.stats.acl_refused != refused)
			log_limited(w, &w->refuse_log, "refused (not in --allow)", addr);
		if (w->rl != NULL && !rate_ok(w, h, addr, w->sbuf, out_len))
			break;
		udp_reply(h, addr, w->sbuf, out_len);
		if (t0 != 0)
			observe(w, t0);
		log_query(w, addr, RW_TRANSPORT_UDP);
		break;
	case RW_QUERY_FORWARD:
		forward(w, RW_TRANSPORT_UDP, h, addr, NULL, (const uint8_t *)buf->base,
		        (size_t)nread, t0);
		break;
	case RW_QUERY_DROP:
		log_limited(w, &w->drop_log, "dropped a packet that is not a query", addr);
		break;
	}
}

/* --- TCP ------------------------------------------------------------------ */

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
	free(c->buf);
	free(c);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	uv_close((uv_handle_t *)&c->tcp, conn_closed);
	uv_close((uv_handle_t *)&c->timer, conn_closed);
}

static void conn_idle(uv_timer_t *t)
{
	conn_close(t->data);
}

static void conn_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct conn *c = h->data;
	if (c->cap - c->len < TCP_BUF_MIN / 2 && c->cap < TCP_BUF_MAX) {
		size_t cap = c->cap * 2 > TCP_BUF_MAX ? TCP_BUF_MAX : c->cap * 2;
		uint8_t *p = realloc(c->buf, cap);
		if (p != NULL) {
			c->buf = p;
			c->cap = cap;
		}
	}
	/* Never empty: at most one partial frame (< 65537 bytes) is kept. */
	*buf = uv_buf_init((char *)c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void conn_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void conn_written(uv_write_t *req, int status)
{
	struct wreq *wr = (struct wreq *)req;
	struct conn *c = wr->c;
	c->pending -= wr->len;
	free(wr);
	if (status < 0 || (c->eof && c->pending == 0 && c->waiting == 0)) {
		conn_close(c);
		return;
	}
	if (!c->reading && !c->closing && !c->eof && c->pending < TCP_PENDING_MAX / 2) {
		c->reading = 1;
		uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
	}
}

/* Sends one framed reply, directly when the socket takes it, else queued
 * (libuv keeps queued writes in order, and try_write refuses while any are
 * queued, so replies never reorder). */
static void conn_send(struct conn *c, const uint8_t *msg, size_t len)
{
	uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	uv_buf_t bufs[2] = {uv_buf_init((char *)prefix, 2),
	                    uv_buf_init((char *)msg, (unsigned)len)};
	size_t total = len + 2, done = 0;
	int r = uv_try_write((uv_stream_t *)&c->tcp, bufs, 2);
	if (r > 0)
		done = (size_t)r;
	else if (r != UV_EAGAIN && r != UV_ENOSYS) {
		conn_close(c);
		return;
	}
	if (done == total)
		return;
	size_t rest = total - done;
	struct wreq *wr = malloc(sizeof *wr + rest);
	if (wr == NULL) {
		conn_close(c);
		return;
	}
	for (size_t i = done; i < total; i++)
		wr->data[i - done] = i < 2 ? prefix[i] : msg[i - 2];
	wr->c = c;
	wr->len = rest;
	uv_buf_t b = uv_buf_init((char *)wr->data, (unsigned)rest);
	if (uv_write(&wr->req, (uv_stream_t *)&c->tcp, &b, 1, conn_written) != 0) {
		free(wr);
		conn_close(c);
		return;
	}
	c->pending += rest;
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
		conn_close(c); /* EOF with nothing queued, or an error */
		return;
	}
	if (nread == 0 || c->closing)
		return;
	c->len += (size_t)nread;
	uv_timer_again(&c->timer);
	struct worker *w = c->w;
	size_t pos = 0;
	/* Bound: each iteration consumes one whole frame from the buffer. */
	while (c->len - pos >= 2 && !c->closing) {
		size_t flen = (size_t)c->buf[pos] << 8 | c->buf[pos + 1];
		if (c->len - pos - 2 < flen)
			break;
		size_t out_len;
		uint64_t t0 = w->measure && (++w->lat_tick % LAT_SAMPLE) == 0 ? uv_hrtime() : 0;
		w->env.client = (const struct sockaddr *)&c->peer;
		switch (rw_query_process(&w->env, c->buf + pos + 2, flen, RW_TRANSPORT_TCP, w->sbuf,
		                         sizeof w->sbuf, &out_len)) {
		case RW_QUERY_REPLY:
			conn_send(c, w->sbuf, out_len);
			if (t0 != 0)
				observe(w, t0);
			log_query(w, (const struct sockaddr *)&c->peer, RW_TRANSPORT_TCP);
			break;
		case RW_QUERY_FORWARD:
			forward(w, RW_TRANSPORT_TCP, NULL, NULL, c, c->buf + pos + 2, flen, t0);
			break;
		case RW_QUERY_DROP: break;
		}
		pos += 2 + flen;
	}
	if (pos > 0) {
		memmove(c->buf, c->buf + pos, c->len - pos);
		c->len -= pos;
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
	c->cap = TCP_BUF_MIN;
	c->buf = malloc(c->cap);
	uv_tcp_init(&w->loop, &c->tcp);
	uv_timer_init(&w->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->open_handles = 2;
	w->tcp_conns++;
	if (c->buf == NULL || uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		conn_close(c);
		return;
	}
	if (w->tcp_conns > w->tcp_limit) {
		rw_log_debug("worker %u: TCP connection limit (%u) reached", w->index,
		             w->tcp_limit);
		conn_close(c);
		return;
	}
	int plen = sizeof c->peer;
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&c->peer, &plen) != 0) {
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	unsigned idle = w->srv->cfg->tcp_idle_timeout_ms;
	uv_timer_start(&c->timer, conn_idle, idle, idle);
	c->reading = 1;
	uv_read_start((uv_stream_t *)&c->tcp, conn_alloc, conn_read);
}

/* --- forwarding ----------------------------------------------------------- */

static void result_unref(struct result *r)
{
	if (r != NULL && atomic_fetch_sub(&r->refs, 1) == 1)
		free(r);
}

/* A result holding a copy of resp, or (resp NULL) SERVFAIL with ede. NULL
 * on allocation failure, which also means SERVFAIL. */
static struct result *result_new(const uint8_t *resp, size_t len, struct rw_ede ede)
{
	if (resp == NULL)
		len = 0;
	struct result *r = malloc(sizeof *r + len);
	if (r != NULL) {
		atomic_init(&r->refs, 1);
		r->ede = ede;
		r->len = len;
		if (len > 0)
			memcpy(r->data, resp, len);
	}
	return r;
}

/* Forgets a waiter: its bytes, its hold on a TCP connection. */
static void waiter_free(struct worker *w, struct waiter *x)
{
	w->waiting_bytes -= x->len;
	struct conn *c = x->c;
	free(x);
	if (c == NULL)
		return;
	c->waiting--;
	if (c->dead && c->waiting == 0) {
		free(c->buf);
		free(c);
	} else if (c->eof && c->pending == 0 && c->waiting == 0) {
		conn_close(c); /* half-closed and nothing left to send */
	}
}

/* Replies to one waiter of this worker (res NULL: SERVFAIL). */
static void answer(struct worker *w, struct waiter *x, const struct result *res)
{
	size_t len;
	if (rw_query_finish(&w->env, x->req, x->len, x->transport,
	                    res != NULL && res->len > 0 ? res->data : NULL, res ? res->len : 0,
	                    res ? &res->ede : NULL, w->sbuf, sizeof w->sbuf,
	                    &len) == RW_QUERY_REPLY) {
		const struct sockaddr *sa = x->transport == RW_TRANSPORT_UDP
		                                ? (const struct sockaddr *)&x->addr
		                                : (const struct sockaddr *)&x->c->peer;
		if (x->transport == RW_TRANSPORT_UDP) {
			if (w->rl == NULL || rate_ok(w, x->udp, sa, w->sbuf, len))
				udp_reply(x->udp, sa, w->sbuf, len);
		} else if (!x->c->closing) {
			conn_send(x->c, w->sbuf, len);
		}
		log_query(w, sa, x->transport);
		if (w->measure && x->t0 != 0)
			observe(w, x->t0);
	}
	waiter_free(w, x);
}

/* Appends waiters to another worker's mailbox, each holding a reference
 * to the result (no allocation: the waiters are the mail). */
static void post(struct worker *to, struct rw_flight_waiter *list, struct result *res)
{
	struct rw_flight_waiter *last = list;
	for (struct rw_flight_waiter *l = list; l != NULL; l = l->next) {
		((struct waiter *)l)->res = res;
		if (res != NULL)
			atomic_fetch_add(&res->refs, 1);
		last = l;
	}
	uv_mutex_lock(&to->mail_lock);
	*to->mail_tail = list;
	to->mail_tail = &last->next;
	/* A closed mailbox is drained by worker_free once the threads are
	 * joined; its async handle may be closed already. */
	if (!to->mail_closed)
		uv_async_send(&to->mail_async);
	uv_mutex_unlock(&to->mail_lock);
}

/* Hands every waiter of a finished question its answer: this worker's
 * directly, the others' through their mailboxes, one post per worker. */
static void deliver(struct worker *w, struct rw_flight_waiter *list, struct result *res)
{
	struct rw_server *s = w->srv;
	for (unsigned i = 0; i < s->nworkers; i++)
		w->split[i] = NULL;
	while (list != NULL) {
		struct rw_flight_waiter *next = list->next;
		struct waiter *x = (struct waiter *)list;
		if (x->w == w) {
			answer(w, x, res);
		} else {
			list->next = w->split[x->w->index];
			w->split[x->w->index] = list;
		}
		list = next;
	}
	for (unsigned i = 0; i < s->nworkers; i++)
		if (w->split[i] != NULL)
			post(s->workers[i], w->split[i], res);
}

static void mail_cb(uv_async_t *a)
{
	struct worker *w = a->data;
	uv_mutex_lock(&w->mail_lock);
	struct rw_flight_waiter *l = w->mail_head;
	w->mail_head = NULL;
	w->mail_tail = &w->mail_head;
	uv_mutex_unlock(&w->mail_lock);
	while (l != NULL) {
		struct rw_flight_waiter *next = l->next;
		struct result *res = ((struct waiter *)l)->res;
		answer(w, (struct waiter *)l, res);
		result_unref(res);
		l = next;
	}
}

static void upq_timer_closed(uv_handle_t *h)
{
	struct upq *u = h->data;
	if (--u->refs == 0)
		free(u);
}

/* Takes the question's waiters and answers them, once per upstream query. */
static void upq_finish(struct upq *u, struct result *res)
{
	if (u->answered)
		return;
	u->answered = 1;
	if (!uv_is_closing((uv_handle_t *)&u->deadline))
		uv_close((uv_handle_t *)&u->deadline, upq_timer_closed);
	deliver(u->w, rw_flight_take(u->w->srv->flight, &u->q), res);
}

/* The client's budget is over: SERVFAIL now. A late reply still fills the
 * cache. */
static void upq_deadline(uv_timer_t *t)
{
	struct upq *u = t->data;
	u->w->up.timeouts++;
	struct result *res = result_new(
	    NULL, 0, (struct rw_ede){RW_EDE_NO_REACHABLE_AUTHORITY, "upstream timed out"});
	upq_finish(u, res);
	result_unref(res);
}

static void upq_reply(void *arg, int status, const uint8_t *resp, size_t len)
{
	struct upq *u = arg;
	struct worker *w = u->w;
	struct result *res = NULL;
	if (status == 0) {
		w->up.replies++;
		int e = rw_query_upstream_accept(&w->env, &u->q, resp, len);
		if (e == RW_EMALFORMED)
			w->up.rejected++;
		else if (e != 0)
			w->up.failures++;
		res = e == 0 ? result_new(resp, len, (struct rw_ede){0, NULL})
		             : result_new(NULL, 0,
		                          (struct rw_ede){RW_EDE_OTHER,
		                                          e == RW_ELIMIT ? "upstream failed"
		                                                         : "bad upstream reply"});
	} else if (status == RW_ETIMEOUT) {
		if (!u->answered)
			w->up.timeouts++;
		res = result_new(
		    NULL, 0, (struct rw_ede){RW_EDE_NO_REACHABLE_AUTHORITY, "upstream timed out"});
	} else if (status != RW_ENOTFOUND) {
		w->up.failures++;
		res = result_new(NULL, 0, (struct rw_ede){RW_EDE_NETWORK_ERROR, "upstream failed"});
	}
	upq_finish(u, res);
	result_unref(res);
	if (--u->refs == 0)
		free(u);
}

/* A recursive resolution ended (it cached what it learned itself). */
static void iter_done(void *arg, const uint8_t *resp, size_t len, struct rw_ede ede)
{
	struct upq *u = arg;
	struct result *res = result_new(resp, len, ede);
	upq_finish(u, res);
	result_unref(res);
	if (--u->refs == 0)
		free(u);
}

/* Sends the upstream query for the question in w->env.fwd, or starts its
 * resolution from the root. */
static void upq_start(struct worker *w, const struct rw_query_forward *q)
{
	struct upq *u = calloc(1, sizeof *u);
	uint8_t qbuf[512];
	size_t qlen = rw_query_upstream_request(&w->env, q, qbuf, sizeof qbuf);
	if (u == NULL || qlen == 0) {
		free(u);
		deliver(w, rw_flight_take(w->srv->flight, q), NULL);
		return;
	}
	u->kind = H_UPQ;
	u->w = w;
	u->q = *q;
	u->refs = 2;
	uv_timer_init(&w->loop, &u->deadline);
	u->deadline.data = u;
	if ((int)q->group == w->srv->recurse_group) {
		uv_timer_start(&u->deadline, upq_deadline, w->srv->cfg->resolve_timeout_ms + 500,
		               0);
		rw_iter_start(w->iter, q, iter_done, u);
		return;
	}
	struct rw_upstream *g = w->groups[q->group];
	uv_timer_start(&u->deadline, upq_deadline, rw_upstream_budget_ms(g) + 100, 0);
	w->up.queries++;
	rw_upstream_send(g, qbuf, qlen, upq_reply, u);
}

/* A request local data and the cache could not answer: wait for the
 * question's upstream answer, sending the query when nobody else is. */
static void forward(struct worker *w, enum rw_transport t, uv_udp_t *udp,
                    const struct sockaddr *addr, struct conn *c, const uint8_t *req, size_t len,
                    uint64_t t0)
{
	struct waiter *x =
	    w->waiting_bytes + len <= WAITING_BYTES_MAX ? malloc(sizeof *x + len) : NULL;
	if (x == NULL) {
		size_t ol;
		if (rw_query_finish(&w->env, req, len, t, NULL, 0, NULL, w->sbuf, sizeof w->sbuf,
		                    &ol) == RW_QUERY_REPLY) {
			if (t == RW_TRANSPORT_UDP)
				udp_reply(udp, addr, w->sbuf, ol);
			else
				conn_send(c, w->sbuf, ol);
		}
		return;
	}
	x->w = w;
	x->transport = t;
	x->udp = udp;
	if (addr != NULL)
		memcpy(&x->addr, addr,
		       addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                   : sizeof(struct sockaddr_in));
	x->c = c;
	x->t0 = t0 != 0 || !w->measure ? t0 : uv_hrtime(); /* forwarded: always timed */
	x->res = NULL;
	x->len = len;
	memcpy(x->req, req, len);
	w->waiting_bytes += len;
	if (c != NULL)
		c->waiting++;
	struct rw_query_forward q = w->env.fwd;
	bool leader;
	if (rw_flight_join(w->srv->flight, &q, &x->link, &leader) != 0) {
		/* --max-outstanding questions, or too many clients on one */
		w->up.overloaded++;
		struct result over = {.ede = {RW_EDE_OTHER, "too many queries in flight"}};
		answer(w, x, &over);
		return;
	}
	if (leader)
		upq_start(w, &q);
}

/* --- workers -------------------------------------------------------------- */

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (uv_is_closing(h))
		return;
	enum hkind *kind = h->data;
	if (kind != NULL && *kind == H_CONN)
		conn_close((struct conn *)kind);
	else if (kind != NULL && *kind == H_UPQ)
		uv_close(h, upq_timer_closed);
	else
		uv_close(h, NULL);
}

static void worker_shutdown(struct worker *w)
{
	uv_mutex_lock(&w->mail_lock);
	w->mail_closed = 1;
	uv_mutex_unlock(&w->mail_lock);
	/* Cancels this worker's upstream queries: their waiters (here and on
	 * other workers) are answered or left in mailboxes; then every handle
	 * left is closed. */
	if (w->iter != NULL)
		w->iter_dropped = rw_iter_dropped(w->iter);
	rw_iter_close(w->iter);
	w->iter = NULL;
	for (size_t i = 0; i < w->srv->ngroups; i++) {
		rw_upstream_close(w->groups[i]);
		w->groups[i] = NULL;
	}
	uv_walk(&w->loop, close_walk, NULL);
}

static void worker_stop(uv_async_t *a)
{
	worker_shutdown(a->data);
}

static void worker_main(void *arg)
{
	struct worker *w = arg;
	uv_run(&w->loop, UV_RUN_DEFAULT);
	w->loop_close_rc = uv_loop_close(&w->loop);
}

/* After the threads are joined: waiters handed over too late are
 * forgotten, without replies. */
static void drain_mail(struct worker *w)
{
	struct rw_flight_waiter *l = w->mail_head;
	w->mail_head = NULL;
	while (l != NULL) {
		struct rw_flight_waiter *next = l->next;
		result_unref(((struct waiter *)l)->res);
		waiter_free(w, (struct waiter *)l);
		l = next;
	}
}

static void worker_free(struct worker *w, size_t nlisten)
{
	if (w == NULL)
		return;
	drain_mail(w);
	uv_mutex_destroy(&w->mail_lock);
	uv_mutex_destroy(&w->snap_lock);
	if (w->zones != NULL)
		rw_zoneset_unref(w->zones);
	if (w->next_zones != NULL)
		rw_zoneset_unref(w->next_zones);
	free(w->groups);
	free(w->split);
	free(w->rl);
	for (size_t i = 0; i < nlisten; i++) {
		if (w->udp_fds[i] >= 0)
			close(w->udp_fds[i]);
		if (w->tcp_fds[i] >= 0)
			close(w->tcp_fds[i]);
	}
	rw_query_env_fini(&w->env);
	free(w->rbuf);
	free(w->udp_fds);
	free(w->tcp_fds);
	free(w->udp);
	free(w->tcp);
	free(w);
}

static int worker_bind(struct rw_server *s, struct worker *w, char *err, size_t err_len)
{
	for (size_t i = 0; i < s->nlisten; i++) {
		const struct rw_listen_addr *a = &s->cfg->listen[i];
		int e = bind_socket(a, SOCK_DGRAM, 1, &w->udp_fds[i], err, err_len);
		if (e == 0)
			e = bind_socket(a, SOCK_STREAM, 1, &w->tcp_fds[i], err, err_len);
		if (e != 0)
			return e;
	}
	return 0;
}

static int worker_new(struct rw_server *s, unsigned index, struct rw_zoneset *zones,
                      struct worker **out, char *err, size_t err_len)
{
	struct worker *w = calloc(1, sizeof *w);
	if (w == NULL)
		return RW_ENOMEM;
	w->kind = H_WORKER;
	w->srv = s;
	w->index = index;
	w->udp_fds = malloc(s->nlisten * sizeof(int));
	w->tcp_fds = malloc(s->nlisten * sizeof(int));
	w->udp = calloc(s->nlisten, sizeof *w->udp);
	w->tcp = calloc(s->nlisten, sizeof *w->tcp);
	w->rbuf = malloc(UDP_RECV_BATCH * UDP_DGRAM_MAX);
	w->groups = calloc(s->ngroups + 1, sizeof *w->groups);
	w->split = calloc(s->nworkers, sizeof *w->split);
	uv_mutex_init(&w->mail_lock);
	uv_mutex_init(&w->snap_lock);
	w->measure = s->cfg->http != NULL || s->cfg->control != NULL;
	w->mail_tail = &w->mail_head;
	w->zones = rw_zoneset_ref(zones);
	rw_query_env_init(&w->env, zones, s->cfg->edns_size);
	w->env.cache = s->cache;
	w->env.round_robin = s->cfg->round_robin;
	w->env.acl = s->cfg->allow;
	w->env.nacl = s->cfg->nallow;
	w->env.local_from_any = s->cfg->local_from_any;
	w->env.log_queries = s->cfg->log_queries;
	if (s->cfg->rate_limit > 0)
		w->rl = calloc(RL_SLOTS, sizeof *w->rl);
	w->env.routes = s->routes;
	w->env.nroutes = s->nroutes;
	w->env.default_group = s->default_group;
	if (w->rbuf == NULL || w->udp_fds == NULL || w->tcp_fds == NULL || w->udp == NULL ||
	    w->tcp == NULL || w->groups == NULL || w->split == NULL) {
		*out = w;
		return RW_ENOMEM;
	}
	for (size_t i = 0; i < s->nlisten; i++)
		w->udp_fds[i] = w->tcp_fds[i] = -1;
	*out = w;
	unsigned limit = s->cfg->tcp_max_connections / s->nworkers;
	w->tcp_limit = limit > 0 ? limit : 1;
	return worker_bind(s, w, err, err_len);
}

static uint64_t loop_ms(void *ctx)
{
	uv_update_time(ctx);
	return uv_now(ctx);
}

static void snapshot_cb(uv_timer_t *t)
{
	struct worker *w = t->data;
	uv_mutex_lock(&w->snap_lock);
	w->snap.q = w->env.stats;
	w->snap.c = w->env.cache_stats;
	w->snap.up = w->up;
	w->snap.rs = w->res_stats;
	w->snap.lat = w->lat;
	w->snap.rl = w->rl_stats;
	uv_mutex_unlock(&w->snap_lock);
}

/* A reload handed this worker a new zone set: serve it from the next
 * request on, and drop this worker's reference to the old one (freed when
 * the last worker and the main thread have let go). */
static void zones_cb(uv_async_t *a)
{
	struct worker *w = a->data;
	uv_mutex_lock(&w->mail_lock);
	struct rw_zoneset *next = w->next_zones;
	w->next_zones = NULL;
	uv_mutex_unlock(&w->mail_lock);
	if (next == NULL)
		return;
	struct rw_zoneset *old = w->zones;
	w->zones = next;
	w->env.zones = next;
	struct rw_server *s = w->srv;
	struct retired *r = malloc(sizeof *r);
	if (r == NULL) {
		rw_zoneset_unref(old); /* no memory to hand it over: free it here */
		return;
	}
	r->zones = old;
	uv_mutex_lock(&s->retire_lock);
	r->next = s->retired;
	s->retired = r;
	uv_mutex_unlock(&s->retire_lock);
	uv_async_send(&s->retire_async);
}

/* Main thread: drops the references workers handed back. */
static void retire_drain(struct rw_server *s)
{
	uv_mutex_lock(&s->retire_lock);
	struct retired *r = s->retired;
	s->retired = NULL;
	uv_mutex_unlock(&s->retire_lock);
	while (r != NULL) {
		struct retired *next = r->next;
		rw_zoneset_unref(r->zones);
		free(r);
		r = next;
	}
}

static void retire_cb(uv_async_t *a)
{
	retire_drain(a->data);
}

/* Hands the bound sockets to libuv; after this the loop owns them. */
static int worker_start_handles(struct rw_server *s, struct worker *w, char *err, size_t err_len)
{
	int e = uv_loop_init(&w->loop);
	w->loop_inited = e == 0;
	if (e == 0)
		e = uv_async_init(&w->loop, &w->stop, worker_stop);
	if (e == 0) {
		w->stop.data = w;
		e = uv_async_init(&w->loop, &w->mail_async, mail_cb);
	}
	if (e == 0) {
		w->mail_async.data = w;
		e = uv_async_init(&w->loop, &w->zones_async, zones_cb);
		w->zones_async.data = w;
	}
	if (e != 0) {
		snprintf(err, err_len, "event loop: %s", uv_strerror(e));
		return RW_EIO;
	}
	w->mail_async.data = w;
	const struct rw_config *cfg = s->cfg;
	if (w->measure) {
		uv_timer_init(&w->loop, &w->snap_timer);
		w->snap_timer.data = w;
		uv_timer_start(&w->snap_timer, snapshot_cb, SNAPSHOT_MS, SNAPSHOT_MS);
	}
	if (s->recurse_group >= 0) {
		w->res_env = (struct rw_res_env){
		    .cache = s->cache,
		    .cache_stats = &w->env.cache_stats,
		    .infra = s->infra,
		    .hints = &s->hints,
		    .lim = {cfg->max_cname_chain, cfg->max_referrals, cfg->max_upstream_queries,
		            cfg->max_glueless, cfg->max_subrequest_depth, cfg->resolve_timeout_ms},
		    .query_loopback = cfg->query_loopback,
		    .ipv6 = cfg->ipv6_upstream,
		    .edns_size = cfg->edns_size,
		    .clock = loop_ms,
		    .clock_ctx = &w->loop,
		};
		w->iter = rw_iter_new(&w->loop, &w->res_env, &w->res_stats);
		if (w->iter == NULL) {
			snprintf(err, err_len, "out of memory");
			return RW_ENOMEM;
		}
	}
	for (size_t g = 0; g < s->ngroups; g++) {
		if ((int)g == s->recurse_group)
			continue;
		const struct rw_listen_addr *servers =
		    g < cfg->nforward_zones ? cfg->forward_zones[g].servers : cfg->forward;
		size_t n = g < cfg->nforward_zones ? cfg->forward_zones[g].nservers : cfg->nforward;
		if (rw_upstream_new(&w->loop, servers, n, cfg->upstream_timeout_ms,
		                    cfg->upstream_tries, cfg->edns_size, &w->groups[g], err,
		                    err_len) != 0)
			return RW_EIO;
	}
	for (size_t i = 0; i < s->nlisten; i++) {
		uv_udp_init_ex(&w->loop, &w->udp[i], AF_UNSPEC | UV_UDP_RECVMMSG);
		uv_tcp_init(&w->loop, &w->tcp[i]);
		w->udp[i].data = w->tcp[i].data = w;
		e = uv_udp_open(&w->udp[i], w->udp_fds[i]);
		if (e == 0) {
			w->udp_fds[i] = -1;
			e = uv_tcp_open(&w->tcp[i], w->tcp_fds[i]);
		}
		if (e == 0) {
			w->tcp_fds[i] = -1;
			e = uv_udp_recv_start(&w->udp[i], udp_alloc, udp_recv);
		}
		if (e == 0)
			e = uv_listen((uv_stream_t *)&w->tcp[i], TCP_BACKLOG, tcp_accept);
		if (e != 0) {
			snprintf(err, err_len, "cannot listen on %s: %s", s->cfg->listen[i].text,
			         uv_strerror(e));
			return RW_EIO;
		}
	}
	return 0;
}

/* The cache, the in-flight table and the forwarding routes. */
static int setup_shared(struct rw_server *s, char *err, size_t err_len)
{
	const struct rw_config *cfg = s->cfg;
	struct rw_cache_config cc;
	rw_cache_config_default(&cc);
	cc.limit_bytes = cfg->cache_size;
	cc.min_ttl_s = cfg->min_ttl;
	cc.max_ttl_s = cfg->max_ttl;
	cc.max_neg_ttl_s = cfg->max_negative_ttl;
	s->cache = rw_cache_new(&cc);
	s->flight = rw_flight_new(cfg->max_outstanding, FLIGHT_WAITERS_MAX);
	s->infra = rw_infra_new(100000);
	s->nroutes = cfg->nforward_zones;
	s->routes = calloc(s->nroutes + 1, sizeof *s->routes);
	if (s->cache == NULL || s->flight == NULL || s->routes == NULL || s->infra == NULL)
		return RW_ENOMEM;
	if (cfg->root_hints != NULL) {
		if (rw_hints_load(cfg->root_hints, &s->hints, err, err_len) != 0)
			return RW_EINVAL;
	} else {
		rw_hints_builtin(&s->hints);
	}
	for (size_t i = 0; i < s->nroutes; i++) {
		const char *name = cfg->forward_zones[i].name;
		uint8_t wire[RW_NAME_MAX];
		size_t wl;
		if (rw_name_from_text(name, strlen(name), (const uint8_t *)"", wire, &wl) != 0) {
			snprintf(err, err_len, "forward-zone: bad name '%s'", name);
			return RW_EINVAL;
		}
		rw_name_lower(s->routes[i].name, wire, wl);
		s->routes[i].group = (unsigned)i;
	}
	/* Groups: one per forward zone, then --forward or, without it,
	 * recursion from the root (no c-ares channel). */
	s->ngroups = s->nroutes + 1;
	s->default_group = (int)s->nroutes;
	s->recurse_group = cfg->nforward > 0 ? -1 : (int)s->nroutes;
	int rc = ares_library_init(ARES_LIB_INIT_ALL);
	if (rc != ARES_SUCCESS) {
		snprintf(err, err_len, "c-ares: %s", ares_strerror(rc));
		return RW_EIO;
	}
	return 0;
}

int rw_server_new(const struct rw_config *cfg, struct rw_zoneset *zones, struct rw_server **out,
                  char *err, size_t err_len)
{
	struct rw_server *s = calloc(1, sizeof *s);
	if (s == NULL)
		return RW_ENOMEM;
	s->cfg = cfg;
	uv_mutex_init(&s->retire_lock);
	s->zones = rw_zoneset_ref(zones);
	s->nlisten = cfg->nlisten;
	s->nworkers = cfg->threads;
	s->workers = calloc(s->nworkers, sizeof *s->workers);
	int e = s->workers == NULL ? RW_ENOMEM : setup_shared(s, err, err_len);
	for (size_t i = 0; i < s->nlisten && e == 0; i++)
		e = probe(&cfg->listen[i], err, err_len);
	for (unsigned i = 0; i < s->nworkers && e == 0; i++)
		e = worker_new(s, i, zones, &s->workers[i], err, err_len);
	if (e != 0) {
		if (e == RW_ENOMEM)
			snprintf(err, err_len, "out of memory");
		rw_server_free(s);
		return e;
	}
	*out = s;
	return 0;
}

/* Builds the new zone set aside (this thread), then hands it to every
 * worker; on any error the old set keeps serving. */
static int reload(struct rw_server *s, const char *why, char *err, size_t err_len)
{
	uint64_t t0 = uv_hrtime();
	struct rw_zoneset *next = NULL;
	if (rw_zoneload(s->cfg, &next, err, err_len) != 0) {
		s->reloads_failed++;
		rw_log_error("zone reload (%s) failed, still serving the previous zones: %s", why,
		             err);
		return RW_EINVAL;
	}
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];
		uv_mutex_lock(&w->mail_lock);
		if (w->next_zones != NULL)
			rw_zoneset_unref(w->next_zones);
		w->next_zones = rw_zoneset_ref(next);
		if (!w->mail_closed)
			uv_async_send(&w->zones_async);
		uv_mutex_unlock(&w->mail_lock);
	}
	rw_zoneset_unref(s->zones);
	s->zones = next;
	s->reloads_ok++;
	size_t records = 0;
	for (size_t i = 0; i < rw_zoneset_count(next); i++)
		records += rw_zone_record_count(rw_zoneset_at(next, i));
	double ms = (double)(uv_hrtime() - t0) / 1e6;
	rw_log_info("zones reloaded (%s): %zu zones, %zu records, built in %.1f ms", why,
	            rw_zoneset_count(next), records, ms);
	snprintf(err, err_len, "%zu zones, %zu records, built in %.1f ms", rw_zoneset_count(next),
	         records, ms);
	return 0;
}

static void reload_timer_cb(uv_timer_t *t)
{
	char msg[1024];
	reload(t->data, "zone files changed", msg, sizeof msg);
}

/* --watch-zones: editors write a file in several steps (or rename a new
 * one over it), so wait for 300 ms of quiet before reloading. */
static void on_zone_change(uv_fs_event_t *h, const char *file, int events, int status)
{
	(void)events;
	struct rw_server *s = h->data;
	if (status < 0)
		return;
	size_t n = file != NULL ? strlen(file) : 0;
	bool relevant = file == NULL || (n > 5 && strcmp(file + n - 5, ".zone") == 0);
	for (size_t i = 0; !relevant && i < s->cfg->nzones; i++) {
		const char *slash = strrchr(s->cfg->zones[i].file, '/');
		relevant = strcmp(slash ? slash + 1 : s->cfg->zones[i].file, file) == 0;
	}
	if (relevant)
		uv_timer_start(&s->reload_timer, reload_timer_cb, 300, 0);
}

static void watch_dir(struct rw_server *s, const char *dir)
{
	for (size_t i = 0; i < s->nwatches; i++) {
		char path[4096];
		size_t len = sizeof path;
		if (uv_fs_event_getpath(&s->watches[i], path, &len) == 0 && strcmp(path, dir) == 0)
			return;
	}
	uv_fs_event_t *h = &s->watches[s->nwatches];
	uv_fs_event_init(&s->loop, h);
	h->data = s;
	int e = uv_fs_event_start(h, on_zone_change, dir, 0);
	if (e != 0) {
		rw_log_warn("--watch-zones: cannot watch %s: %s", dir, uv_strerror(e));
		uv_close((uv_handle_t *)h, NULL);
		return;
	}
	s->nwatches++;
}

/* Watches the folders holding the zone files (a file replaced by rename
 * keeps its folder, not its inode). */
static void start_watches(struct rw_server *s)
{
	const struct rw_config *cfg = s->cfg;
	uv_timer_init(&s->loop, &s->reload_timer);
	s->reload_timer.data = s;
	s->reload_timer_inited = 1;
	s->watches = calloc(cfg->nzones + 1, sizeof *s->watches);
	if (s->watches == NULL)
		return;
	if (cfg->zones_dir != NULL)
		watch_dir(s, cfg->zones_dir);
	for (size_t i = 0; i < cfg->nzones; i++) {
		char dir[4096];
		snprintf(dir, sizeof dir, "%s", cfg->zones[i].file);
		char *slash = strrchr(dir, '/');
		if (slash == dir)
			slash[1] = 0;
		else if (slash != NULL)
			*slash = 0;
		else
			snprintf(dir, sizeof dir, ".");
		watch_dir(s, dir);
	}
	rw_log_info("watching %zu folder%s for zone changes", s->nwatches,
	            s->nwatches == 1 ? "" : "s");
}

/* --- /metrics, /healthz, /ready (main thread) ------------------------------ */

static const char *const rcode_names[6] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                           "NXDOMAIN", "NOTIMP",  "REFUSED"};

static void counter(struct rw_buf *b, const char *name, const char *help, uint64_t v)
{
	rw_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
	              (unsigned long long)v);
}

static void gauge(struct rw_buf *b, const char *name, const char *help, uint64_t v)
{
	rw_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
	              (unsigned long long)v);
}

static void metrics(struct rw_server *s, struct rw_buf *b)
{
	struct snapshot t;
	memset(&t, 0, sizeof t);
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];
		uv_mutex_lock(&w->snap_lock);
		struct snapshot x = w->snap;
		uv_mutex_unlock(&w->snap_lock);
		t.q.queries += x.q.queries;
		t.q.dropped += x.q.dropped;
		t.q.truncated += x.q.truncated;
		for (int k = 0; k < 6; k++)
			t.q.rcode[k] += x.q.rcode[k];
		for (int k = 0; k < RW_QSTAT_TYPES; k++)
			t.q.by_type[k] += x.q.by_type[k];
		for (int k = 0; k < 2; k++)
			t.q.by_transport[k] += x.q.by_transport[k];
		rw_cache_stats_add(&t.c, &x.c);
		t.up.queries += x.up.queries;
		t.up.timeouts += x.up.timeouts;
		t.up.failures += x.up.failures + x.up.rejected;
		t.up.overloaded += x.up.overloaded;
		t.rs.queries += x.rs.queries;
		t.rs.timeouts += x.rs.timeouts;
		t.rs.servfails += x.rs.servfails;
		t.rs.mismatched += x.rs.mismatched;
		t.rs.resolutions += x.rs.resolutions;
		for (int k = 0; k <= LAT_BUCKETS; k++)
			t.lat.bucket[k] += x.lat.bucket[k];
		t.lat.count += x.lat.count;
		t.lat.sum_ns += x.lat.sum_ns;
		t.rl.slipped += x.rl.slipped;
		t.rl.dropped += x.rl.dropped;
		t.q.acl_refused += x.q.acl_refused;
	}
	rw_buf_printf(b, "# HELP rootwalk_queries_total Queries received, by transport.\n"
	                 "# TYPE rootwalk_queries_total counter\n");
	rw_buf_printf(b, "rootwalk_queries_total{transport=\"udp\"} %llu\n",
	              (unsigned long long)t.q.by_transport[0]);
	rw_buf_printf(b, "rootwalk_queries_total{transport=\"tcp\"} %llu\n",
	              (unsigned long long)t.q.by_transport[1]);
	rw_buf_printf(b, "# HELP rootwalk_queries_by_type_total Queries received, by type.\n"
	                 "# TYPE rootwalk_queries_by_type_total counter\n");
	for (int k = 0; k < RW_QSTAT_TYPES; k++) {
		char type[16] = "other";
		if (k < RW_QSTAT_TYPES - 1)
			rw_type_to_text(rw_qstat_types[k], type, sizeof type);
		rw_buf_printf(b, "rootwalk_queries_by_type_total{type=\"%s\"} %llu\n", type,
		              (unsigned long long)t.q.by_type[k]);
	}
	rw_buf_printf(b, "# HELP rootwalk_responses_total Responses sent, by rcode.\n"
	                 "# TYPE rootwalk_responses_total counter\n");
	for (int k = 0; k < 6; k++)
		rw_buf_printf(b, "rootwalk_responses_total{rcode=\"%s\"} %llu\n", rcode_names[k],
		              (unsigned long long)t.q.rcode[k]);
	counter(b, "rootwalk_dropped_total", "Requests dropped without a reply.", t.q.dropped);
	counter(b, "rootwalk_truncated_total", "Replies sent with TC=1.", t.q.truncated);
	counter(b, "rootwalk_cache_hits_total", "Cache lookups that found a live entry.", t.c.hits);
	counter(b, "rootwalk_cache_misses_total", "Cache lookups that found nothing.", t.c.misses);
	counter(b, "rootwalk_cache_inserts_total", "Entries put in the cache.", t.c.inserts);
	counter(b, "rootwalk_cache_evictions_total", "Entries evicted for space.", t.c.evictions);
	counter(b, "rootwalk_cache_expired_total", "Entries found expired.", t.c.expired);
	gauge(b, "rootwalk_cache_entries", "Entries in the cache.", rw_cache_entries(s->cache));
	gauge(b, "rootwalk_cache_bytes", "Memory the cache counts against --cache-size.",
	      rw_cache_bytes(s->cache));
	rw_buf_printf(b,
	              "# HELP rootwalk_upstream_queries_total Queries sent upstream.\n"
	              "# TYPE rootwalk_upstream_queries_total counter\n"
	              "rootwalk_upstream_queries_total{mode=\"forward\"} %llu\n"
	              "rootwalk_upstream_queries_total{mode=\"recursive\"} %llu\n",
	              (unsigned long long)t.up.queries, (unsigned long long)t.rs.queries);
	rw_buf_printf(b,
	              "# HELP rootwalk_upstream_timeouts_total Upstream timeouts.\n"
	              "# TYPE rootwalk_upstream_timeouts_total counter\n"
	              "rootwalk_upstream_timeouts_total{mode=\"forward\"} %llu\n"
	              "rootwalk_upstream_timeouts_total{mode=\"recursive\"} %llu\n",
	              (unsigned long long)t.up.timeouts, (unsigned long long)t.rs.timeouts);
	rw_buf_printf(b,
	              "# HELP rootwalk_upstream_errors_total Upstream failures and bad replies.\n"
	              "# TYPE rootwalk_upstream_errors_total counter\n"
	              "rootwalk_upstream_errors_total{mode=\"forward\"} %llu\n"
	              "rootwalk_upstream_errors_total{mode=\"recursive\"} %llu\n",
	              (unsigned long long)t.up.failures,
	              (unsigned long long)(t.rs.servfails + t.rs.mismatched));
	counter(b, "rootwalk_overload_total", "Clients refused because too much was in flight.",
	        t.up.overloaded);
	counter(b, "rootwalk_acl_refused_total", "Queries refused: client not in --allow.",
	        t.q.acl_refused);
	rw_buf_printf(b,
	              "# HELP rootwalk_ratelimited_total Responses over --rate-limit.\n"
	              "# TYPE rootwalk_ratelimited_total counter\n"
	              "rootwalk_ratelimited_total{action=\"slip\"} %llu\n"
	              "rootwalk_ratelimited_total{action=\"drop\"} %llu\n",
	              (unsigned long long)t.rl.slipped, (unsigned long long)t.rl.dropped);
	rw_buf_printf(b,
	              "# HELP rootwalk_query_duration_seconds Receive to reply (local and cached "
	              "answers sampled 1 in 16, upstream answers all).\n"
	              "# TYPE rootwalk_query_duration_seconds histogram\n");
	uint64_t cum = 0;
	for (int k = 0; k < LAT_BUCKETS; k++) {
		cum += t.lat.bucket[k];
		rw_buf_printf(b, "rootwalk_query_duration_seconds_bucket{le=\"%g\"} %llu\n",
		              lat_bounds_us[k] / 1e6, (unsigned long long)cum);
	}
	rw_buf_printf(b,
	              "rootwalk_query_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
	              "rootwalk_query_duration_seconds_sum %.9f\n"
	              "rootwalk_query_duration_seconds_count %llu\n",
	              (unsigned long long)t.lat.count, (double)t.lat.sum_ns / 1e9,
	              (unsigned long long)t.lat.count);
	rw_buf_printf(b,
	              "# HELP rootwalk_zone_reloads_total Zone reloads.\n"
	              "# TYPE rootwalk_zone_reloads_total counter\n"
	              "rootwalk_zone_reloads_total{result=\"ok\"} %llu\n"
	              "rootwalk_zone_reloads_total{result=\"failed\"} %llu\n",
	              (unsigned long long)s->reloads_ok, (unsigned long long)s->reloads_failed);
	gauge(b, "rootwalk_zones", "Zones served.", rw_zoneset_count(s->zones));
}

static int http_handler(void *ctx, const char *path, struct rw_buf *body, const char **type)
{
	struct rw_server *s = ctx;
	if (strcmp(path, "/metrics") == 0) {
		*type = "text/plain; version=0.0.4; charset=utf-8";
		metrics(s, body);
		return 200;
	}
	if (strcmp(path, "/healthz") == 0) {
		rw_buf_printf(body, "ok\n");
		return 200;
	}
	if (strcmp(path, "/ready") == 0) {
		bool ready = s->running && s->zones != NULL;
		rw_buf_printf(body, ready ? "ready\n" : "not ready\n");
		return ready ? 200 : 503;
	}
	return 404;
}

static void dump_line(void *ctx, const char *line)
{
	rw_buf_printf(ctx, "%s\n", line);
}

static void control_handler(void *ctx, enum rw_control_cmd cmd, const char *arg, struct rw_buf *out)
{
	struct rw_server *s = ctx;
	char msg[1024];
	switch (cmd) {
	case RW_CTL_STATS:
		rw_buf_printf(out, "ok\n");
		metrics(s, out);
		break;
	case RW_CTL_RELOAD:
		if (reload(s, "control", msg, sizeof msg) == 0)
			rw_buf_printf(out, "ok: reloaded: %s\n", msg);
		else
			rw_buf_printf(out, "error: %s (still serving the previous zones)\n", msg);
		break;
	case RW_CTL_FLUSH:
		if (arg[0] == 0) {
			size_t n = rw_cache_entries(s->cache);
			rw_cache_flush(s->cache);
			rw_buf_printf(out, "ok: flushed %zu entries\n", n);
		} else {
			uint8_t wire[RW_NAME_MAX];
			size_t wl;
			rw_name_from_text(arg, strlen(arg), (const uint8_t *)"", wire, &wl);
			rw_buf_printf(out, "ok: flushed %zu entries for %s\n",
			              rw_cache_flush_name(s->cache, wire), arg);
		}
		break;
	case RW_CTL_DUMP: {
		struct rw_buf lines = {0};
		size_t n = rw_cache_dump(s->cache, dump_line, &lines);
		rw_buf_printf(out, "ok: %zu entries\n", n);
		if (lines.len > 0)
			rw_buf_printf(out, "%.*s", (int)lines.len, lines.p);
		out->failed |= lines.failed;
		free(lines.p);
		break;
	}
	}
}

static void close_main_handles(struct rw_server *s)
{
	if (s->retire_inited && !uv_is_closing((uv_handle_t *)&s->retire_async))
		uv_close((uv_handle_t *)&s->retire_async, NULL);
	rw_http_close(s->http);
	s->http = NULL;
	rw_control_close(s->control);
	s->control = NULL;
	for (int i = 0; i < 3; i++)
		if (!uv_is_closing((uv_handle_t *)&s->sigs[i]))
			uv_close((uv_handle_t *)&s->sigs[i], NULL);
	for (size_t i = 0; i < s->nwatches; i++)
		uv_close((uv_handle_t *)&s->watches[i], NULL);
	s->nwatches = 0;
	if (s->reload_timer_inited && !uv_is_closing((uv_handle_t *)&s->reload_timer))
		uv_close((uv_handle_t *)&s->reload_timer, NULL);
}

static void on_signal(uv_signal_t *sig, int signum)
{
	struct rw_server *s = sig->data;
	if (signum == SIGHUP) {
		char msg[1024];
		reload(s, "SIGHUP", msg, sizeof msg);
		return;
	}
	rw_log_info("received %s, shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	for (unsigned i = 0; i < s->nworkers; i++)
		uv_async_send(&s->workers[i]->stop);
	close_main_handles(s);
}

/* --user: after every socket is bound, become that user for good. */
static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (pw == NULL) {
		rw_log_error("--user %s: no such user; refusing to run", user);
		return RW_EINVAL;
	}
	if (getuid() == 0 && setgroups(0, NULL) != 0) {
		rw_log_error("--user %s: setgroups: %s; refusing to run", user, strerror(errno));
		return RW_EIO;
	}
	if (setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		rw_log_error("--user %s: cannot switch user: %s; refusing to run", user,
		             strerror(errno));
		return RW_EIO;
	}
	/* The drop must stick: no way back to root. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || geteuid() == 0 || getuid() == 0)) {
		rw_log_error("--user %s: still able to regain root; refusing to run", user);
		return RW_EIO;
	}
	rw_log_info("running as user %s (uid %u, gid %u)", user, (unsigned)pw->pw_uid,
	            (unsigned)pw->pw_gid);
	return 0;
}

static void start_side_services(struct rw_server *s)
{
	char err[512];
	if (s->cfg->http != NULL) {
		if (rw_http_start(&s->loop, s->cfg->http, http_handler, s, &s->http, err,
		                  sizeof err) != 0)
			rw_log_error("%s (metrics off, still serving DNS)", err);
		else
			rw_log_info("metrics and health on http://%s/", s->cfg->http->text);
	}
	if (s->cfg->control != NULL) {
		if (rw_control_start(&s->loop, s->cfg->control, control_handler, s, &s->control,
		                     err, sizeof err) != 0)
			rw_log_error("%s (control off, still serving DNS)", err);
		else
			rw_log_info("control socket at %s", s->cfg->control);
	}
}

int rw_server_run(struct rw_server *s)
{
	char err[512];
	int e = uv_loop_init(&s->loop);
	if (e != 0) {
		rw_log_error("event loop: %s", uv_strerror(e));
		return RW_EIO;
	}
	uv_async_init(&s->loop, &s->retire_async, retire_cb);
	s->retire_async.data = s;
	s->retire_inited = 1;
	int signums[3] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; i < 3; i++) {
		uv_signal_init(&s->loop, &s->sigs[i]);
		s->sigs[i].data = s;
		uv_signal_start(&s->sigs[i], on_signal, signums[i]);
	}
	unsigned started = 0;
	bool ok = true;
	for (unsigned i = 0; i < s->nworkers && ok; i++) {
		if (worker_start_handles(s, s->workers[i], err, sizeof err) != 0) {
			rw_log_error("%s", err);
			ok = false;
		}
	}
	/* HTTP and control listen before the privilege drop (the control
	 * socket may live in a root-owned folder); then the workers start. */
	if (ok)
		start_side_services(s);
	if (ok && s->cfg->user != NULL && drop_privileges(s->cfg->user) != 0)
		ok = false;
	for (unsigned i = 0; i < s->nworkers && ok; i++) {
		if (uv_thread_create(&s->workers[i]->thread, worker_main, s->workers[i]) != 0) {
			rw_log_error("could not start the worker threads");
			ok = false;
			break;
		}
		started++;
	}
	if (ok) {
		char addrs[1024] = "";
		size_t n = 0;
		for (size_t i = 0; i < s->nlisten && n < sizeof addrs; i++)
			n += (size_t)snprintf(addrs + n, sizeof addrs - n, "%s%s", i ? " " : "",
			                      s->cfg->listen[i].text);
		rw_log_info("rootwalk serving on %s (UDP and TCP) with %u worker%s", addrs,
		            s->nworkers, s->nworkers == 1 ? "" : "s");
		if (s->cfg->watch_zones)
			start_watches(s);
		s->running = 1;
		/* This thread builds reloaded zones (tens of ms for 100,000
		 * records) and serves HTTP and control: let the DNS workers
		 * win the CPU (Linux: nice is per thread). */
		if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 10) != 0)
			rw_log_debug("could not lower the main thread's priority");
		uv_run(&s->loop, UV_RUN_DEFAULT);
	} else {
		/* Stop what runs; close loops that never got a thread here. */
		for (unsigned i = 0; i < started; i++)
			uv_async_send(&s->workers[i]->stop);
		for (unsigned i = started; i < s->nworkers; i++) {
			struct worker *w = s->workers[i];
			if (!w->loop_inited)
				continue;
			worker_shutdown(w);
			uv_run(&w->loop, UV_RUN_DEFAULT);
			uv_loop_close(&w->loop);
		}
		close_main_handles(s);
		uv_run(&s->loop, UV_RUN_DEFAULT);
	}
	int rc = ok ? 0 : RW_EIO;
	for (unsigned i = 0; i < started; i++) {
		uv_thread_join(&s->workers[i]->thread);
		if (s->workers[i]->loop_close_rc != 0) {
			rw_log_error("worker %u: handles left open at exit", i);
			rc = RW_EIO;
		}
	}
	if (uv_loop_close(&s->loop) != 0) {
		rw_log_error("main loop: handles left open at exit");
		rc = RW_EIO;
	}
	return rc;
}

void rw_server_free(struct rw_server *s)
{
	if (s == NULL)
		return;
	struct rw_query_stats q = {0};
	struct rw_cache_stats cs = {0};
	struct upstream_stats up = {0};
	struct rw_res_stats rs = {0};
	for (unsigned i = 0; s->workers != NULL && i < s->nworkers; i++) {
		struct worker *w = s->workers[i];
		if (w == NULL)
			continue;
		q.queries += w->env.stats.queries;
		rw_cache_stats_add(&cs, &w->env.cache_stats);
		up.queries += w->up.queries;
		up.timeouts += w->up.timeouts;
		up.failures += w->up.failures;
		up.rejected += w->up.rejected;
		up.overloaded += w->up.overloaded;
		rs.resolutions += w->res_stats.resolutions;
		rs.queries += w->res_stats.queries;
		rs.timeouts += w->res_stats.timeouts;
		rs.mismatched += w->res_stats.mismatched + w->iter_dropped;
		rs.lame += w->res_stats.lame;
		rs.limit_hits += w->res_stats.limit_hits;
		rs.servfails += w->res_stats.servfails;
	}
	if (q.queries > 0)
		rw_log_info(
		    "served %llu queries; cache: %llu hits, %llu misses, %zu entries, %zu bytes; "
		    "upstream: %llu queries, %llu timeouts, %llu failures, %llu rejected",
		    (unsigned long long)q.queries, (unsigned long long)cs.hits,
		    (unsigned long long)cs.misses,
		    s->cache != NULL ? rw_cache_entries(s->cache) : 0,
		    s->cache != NULL ? rw_cache_bytes(s->cache) : 0, (unsigned long long)up.queries,
		    (unsigned long long)up.timeouts, (unsigned long long)up.failures,
		    (unsigned long long)up.rejected);
	if (rs.resolutions > 0)
		rw_log_info(
		    "recursion: %llu resolutions, %llu upstream queries, %llu timeouts, "
		    "%llu mismatched replies dropped, %llu lame, %llu limits hit, %llu SERVFAIL",
		    (unsigned long long)rs.resolutions, (unsigned long long)rs.queries,
		    (unsigned long long)rs.timeouts, (unsigned long long)rs.mismatched,
		    (unsigned long long)rs.lame, (unsigned long long)rs.limit_hits,
		    (unsigned long long)rs.servfails);
	for (unsigned i = 0; s->workers != NULL && i < s->nworkers; i++)
		worker_free(s->workers[i], s->nlisten);
	free(s->workers);
	retire_drain(s); /* sets handed back after the main loop stopped */
	uv_mutex_destroy(&s->retire_lock);
	rw_flight_free(s->flight);
	rw_cache_free(s->cache);
	rw_infra_free(s->infra);
	free(s->routes);
	free(s->watches);
	if (s->zones != NULL)
		rw_zoneset_unref(s->zones);
	ares_library_cleanup();
	free(s);
}
