/* Upstream tries for recursion on libuv; see iterio.h. */
#include "iterio.h"
#include "dnstap.h"
#include "rootwalk/log.h"
#include "rootwalk/rr.h"
#include "rootwalk/wire.h"

#include <arpa/inet.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#define TCP_MSG_MAX (2 + 65535)

struct job;

/* One upstream try: a UDP socket or a TCP connection, and its timer. */
struct
try {
	unsigned kind; /* RW_ITER_HANDLE_KIND */
	struct job *job;
	int tcp;
	union {
		uv_udp_t udp;
		uv_tcp_t tcp;
	} h;
	uv_connect_t connect;
	uv_write_t write;
	uv_timer_t timer;
	int open_handles;
	int over; /* answered, timed out or abandoned */
	uint16_t id;
	uint8_t out[2 + 512];
	size_t out_len;
	uint8_t *in; /* TCP: the framed reply */
	size_t in_len;
	/* A UDP try that timed out keeps listening (its job's old list): a
	 * slow server's late answer is still taken. */
	int old;
	struct try *next_old;
	uint64_t sent_ms;
	struct sockaddr_storage addr;
};

/* Timed-out UDP tries a job keeps listening on. */
#define OLD_TRIES_MAX 4

struct job {
	struct job *next, **pprev; /* in the rw_iter's list */
	struct rw_iter *it;
	struct rw_res *res;
	struct try *cur;
	struct try *old; /* timed out, still listening (at most OLD_TRIES_MAX) */
	unsigned nold;
	rw_iter_cb cb;
	void *arg;
	struct sockaddr_storage last; /* the server of the last reply taken (logs) */
};

struct rw_iter {
	uv_loop_t *loop;
	const struct rw_res_env *env;
	struct rw_res_stats *stats;
	struct job *jobs;
	uint64_t dropped;
	int closing;
	uint8_t rbuf[65536];
	/* Query IDs come from the kernel's CSPRNG, 256 at a time (one
	 * getrandom per 256 tries, not per try). */
	uint16_t ids[256];
	unsigned ids_left;
	struct rw_dnstap_queue *tap; /* dnstap: RESOLVER_QUERY/RESPONSE (NULL: off) */
};

void rw_iter_set_tap(struct rw_iter *it, struct rw_dnstap_queue *tap)
{
	it->tap = tap;
}

struct rw_iter *rw_iter_new(uv_loop_t *loop, const struct rw_res_env *env,
                            struct rw_res_stats *stats)
{
	struct rw_iter *it = calloc(1, sizeof *it);
	if (it != NULL) {
		it->loop = loop;
		it->env = env;
		it->stats = stats;
	}
	return it;
}

uint64_t rw_iter_dropped(const struct rw_iter *it)
{
	return it->dropped;
}

static uint16_t random_id(struct rw_iter *it)
{
	if (it->ids_left == 0) {
		if (getrandom(it->ids, sizeof it->ids, 0) != (ssize_t)sizeof it->ids)
			for (size_t i = 0; i < sizeof it->ids / sizeof it->ids[0]; i++)
				it->ids[i] = (uint16_t)rand(); /* never on Linux >= 3.17 */
		it->ids_left = sizeof it->ids / sizeof it->ids[0];
	}
	return it->ids[--it->ids_left];
}

static void try_closed(uv_handle_t *h)
{
	struct try *t = h->data;
	if (--t->open_handles == 0) {
		free(t->in);
		free(t);
	}
}

/* Ends a try: its handles close, its memory goes with them. */
static void try_end(struct try *t)
{
	if (t->over)
		return;
	t->over = 1;
	if (t->job != NULL && t->job->cur == t)
		t->job->cur = NULL;
	uv_close(t->tcp ? (uv_handle_t *)&t->h.tcp : (uv_handle_t *)&t->h.udp, try_closed);
	uv_close((uv_handle_t *)&t->timer, try_closed);
}

static void step(struct job *j);

/* Stops listening on the job's timed-out tries (their question is over). */
static void old_end_all(struct job *j)
{
	while (j->old != NULL) {
		struct try *t = j->old;
		j->old = t->next_old;
		t->job = NULL;
		try_end(t);
	}
	j->nold = 0;
}

static void job_done(struct job *j)
{
	old_end_all(j);
	/* Not finished only when the loop stopped for shutdown. */
	struct rw_answer *ans = rw_res_state(j->res) == RW_ITER_FINISHED
	                            ? rw_res_take_answer(j->res)
	                            : rw_answer_servfail(RW_EDE_OTHER, "shutting down");
	/* The query log's "upstream": the server whose reply ended it. */
	if (ans != NULL && j->last.ss_family != 0 && ans->rcode != RW_RCODE_SERVFAIL) {
		/* ADDR:PORT, [ADDR6]:PORT: as forwarders are named */
		char h[INET6_ADDRSTRLEN] = "?";
		bool v6 = j->last.ss_family == AF_INET6;
		const struct sockaddr_in *s4 = (const void *)&j->last;
		const struct sockaddr_in6 *s6 = (const void *)&j->last;
		inet_ntop(j->last.ss_family,
		          v6 ? (const void *)&s6->sin6_addr : (const void *)&s4->sin_addr, h,
		          sizeof h);
		snprintf(ans->from, sizeof ans->from, "%s%.*s%s:%u", v6 ? "[" : "", 46, h,
		         v6 ? "]" : "", ntohs(v6 ? s6->sin6_port : s4->sin_port));
	}
	*j->pprev = j->next;
	if (j->next != NULL)
		j->next->pprev = j->pprev;
	j->cb(j->arg, ans);
	rw_res_free(j->res);
	free(j);
}

/* A reply for the try: the ID first (the socket is connected, so the
 * address and port are the server's), then the question in rw_res. */
static void deliver(struct try *t, const uint8_t *pkt, size_t len)
{
	struct job *j = t->job;
	if (j == NULL)
		return; /* an old try whose job is gone */
	bool ok = false;
	if (len >= 12 && rw_get16(pkt) == t->id) {
		uint64_t rtt = uv_now(j->it->loop) - t->sent_ms;
		ok = t->old ? rw_res_reply_from(j->res, (const struct sockaddr *)&t->addr,
		                                (uint32_t)rtt, pkt, len)
		            : rw_res_reply(j->res, pkt, len);
	}
	if (ok)
		memcpy(&j->last, &t->addr, sizeof j->last);
	if (ok && j->it->tap != NULL) {
		struct rw_dnstap_event ev = {.type = RW_DNSTAP_RESOLVER_RESPONSE,
		                             .tcp = t->tcp,
		                             .peer = (const struct sockaddr *)&t->addr,
		                             .msg = pkt,
		                             .len = len};
		rw_dnstap_log(j->it->tap, &ev);
	}
	if (!ok) {
		j->it->dropped++;
		return; /* keep waiting: spoofed, stray or garbage */
	}
	/* The question is answered: the current try and every old one are
	 * over (an old one's answer makes the current try moot). */
	if (j->cur != NULL && j->cur != t)
		try_end(j->cur);
	if (!t->old)
		try_end(t);
	old_end_all(j);
	step(j);
}

/* The try's time is up (keep: a UDP try that merely got no answer yet
 * keeps listening while the job goes on), or it cannot go on. */
static void timed_out(struct try *t, bool keep)
{
	struct job *j = t->job;
	if (keep && !t->tcp && !j->it->closing) {
		if (j->nold == OLD_TRIES_MAX) { /* the oldest one goes */
			struct try **pp = &j->old;
			while ((*pp)->next_old != NULL)
				pp = &(*pp)->next_old;
			struct try *gone = *pp;
			*pp = NULL;
			j->nold--;
			try_end(gone);
		}
		uv_timer_stop(&t->timer);
		t->old = 1;
		if (j->cur == t)
			j->cur = NULL;
		t->next_old = j->old;
		j->old = t;
		j->nold++;
	} else {
		try_end(t);
	}
	rw_res_timeout(j->res);
	step(j);
}

static void on_timeout(uv_timer_t *timer)
{
	timed_out(timer->data, true);
}

/* A try that cannot go on (connect refused, write failed, reset). */
static void try_failed(struct try *t)
{
	if (t->over || t->job == NULL)
		return;
	if (t->old) { /* an old try's socket failed: just stop listening */
		struct job *j = t->job;
		for (struct try **pp = &j->old; *pp != NULL; pp = &(*pp)->next_old)
			if (*pp == t) {
				*pp = t->next_old;
				j->nold--;
				break;
			}
		try_end(t);
		return;
	}
	timed_out(t, false);
}

static void udp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct try *t = h->data;
	*buf = uv_buf_init((char *)t->job->it->rbuf, sizeof t->job->it->rbuf);
}

static void udp_read(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf, const struct sockaddr *addr,
                     unsigned flags)
{
	(void)addr;
	struct try *t = h->data;
	if (t->over || nread == 0 || (flags & UV_UDP_PARTIAL))
		return;
	if (nread < 0) { /* ICMP unreachable on a connected socket */
		try_failed(t);
		return;
	}
	deliver(t, (const uint8_t *)buf->base, (size_t)nread);
}

static void tcp_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct try *t = h->data;
	if (t->in == NULL)
		t->in = malloc(TCP_MSG_MAX);
	if (t->in == NULL) {
		*buf = uv_buf_init(NULL, 0);
		return;
	}
	*buf = uv_buf_init((char *)t->in + t->in_len, (unsigned)(TCP_MSG_MAX - t->in_len));
}

static void tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	(void)buf;
	struct try *t = s->data;
	if (t->over)
		return;
	if (nread < 0) {
		try_failed(t);
		return;
	}
	t->in_len += (size_t)nread;
	while (t->in_len >= 2 && !t->over) {
		size_t n = (size_t)t->in[0] << 8 | t->in[1];
		if (t->in_len < 2 + n)
			return;
		/* Copy out: deliver may end the try and free t->in. */
		uint8_t *msg = malloc(n > 0 ? n : 1);
		if (msg == NULL) {
			try_failed(t);
			return;
		}
		memcpy(msg, t->in + 2, n);
		memmove(t->in, t->in + 2 + n, t->in_len - 2 - n);
		t->in_len -= 2 + n;
		deliver(t, msg, n);
		free(msg);
	}
}

static void tcp_written(uv_write_t *w, int status)
{
	struct try *t = w->data;
	if (status < 0)
		try_failed(t);
}

static void tcp_connected(uv_connect_t *c, int status)
{
	struct try *t = c->data;
	if (t->over)
		return;
	if (status < 0) {
		try_failed(t);
		return;
	}
	uv_buf_t b = uv_buf_init((char *)t->out, (unsigned)t->out_len);
	t->write.data = t;
	if (uv_write(&t->write, (uv_stream_t *)&t->h.tcp, &b, 1, tcp_written) != 0 ||
	    uv_read_start((uv_stream_t *)&t->h.tcp, tcp_alloc, tcp_read) != 0)
		try_failed(t);
}

static int udp_open(struct try *t, const struct rw_res_query *q)
{
	uv_loop_t *loop = t->job->it->loop;
	int e = uv_udp_init(loop, &t->h.udp);
	if (e != 0)
		return e;
	t->h.udp.data = t;
	t->open_handles++;
	struct sockaddr_storage any;
	memset(&any, 0, sizeof any);
	any.ss_family = q->addr.ss_family; /* INADDR_ANY / in6addr_any, port 0 */
	e = uv_udp_bind(&t->h.udp, (const struct sockaddr *)&any, 0);
	if (e == 0)
		e = uv_udp_connect(&t->h.udp, (const struct sockaddr *)&q->addr);
	if (e == 0)
		e = uv_udp_recv_start(&t->h.udp, udp_alloc, udp_read);
	if (e == 0) {
		uv_buf_t b = uv_buf_init((char *)t->out + 2, (unsigned)(t->out_len - 2));
		int r = uv_udp_try_send(&t->h.udp, &b, 1, NULL);
		e = r >= 0 ? 0 : r;
	}
	return e;
}

static int tcp_open(struct try *t, const struct rw_res_query *q)
{
	int e = uv_tcp_init(t->job->it->loop, &t->h.tcp);
	if (e != 0)
		return e;
	t->h.tcp.data = t;
	t->open_handles++;
	t->connect.data = t;
	return uv_tcp_connect(&t->connect, &t->h.tcp, (const struct sockaddr *)&q->addr,
	                      tcp_connected);
}

/* One debug line per upstream try: "upstream NAME TYPE to ADDR udp|tcp". */
static void log_try(const struct rw_res_query *q)
{
	if (rw_log_get_level() < RW_LOG_DEBUG)
		return;
	char name[RW_NAME_TEXT_MAX], type[16], addr[INET6_ADDRSTRLEN] = "?";
	const uint8_t *qn = q->buf + 12;
	size_t nl = rw_name_len(qn);
	if (rw_name_to_text(qn, name, sizeof name) < 0)
		snprintf(name, sizeof name, "?");
	rw_type_to_text(rw_get16(qn + nl), type, sizeof type);
	if (q->addr.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)&q->addr)->sin6_addr, addr,
		          sizeof addr);
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)&q->addr)->sin_addr, addr,
		          sizeof addr);
	rw_log_debug("upstream %s %s to %s %s", name, type, addr, q->tcp ? "tcp" : "udp");
}

/* Runs the resolution until it sends a query or ends. */
static void step(struct job *j)
{
	struct rw_res_query q;
	/* Bound: a failed send counts as a timeout in rw_res, whose query
	 * and deadline limits end the loop; rw_res asks to wait once per
	 * server set. */
	enum rw_res_step st;
	while (!j->it->closing && (st = rw_res_next(j->res, &q)) != RW_RES_DONE) {
		if (st == RW_RES_WAIT) {
			/* Listen longer to the last timed-out try (the head of
			 * the old list), as the current one again. */
			struct try *t = j->old;
			if (t == NULL) {
				rw_res_timeout(j->res);
				continue;
			}
			j->old = t->next_old;
			j->nold--;
			t->old = 0;
			t->next_old = NULL;
			j->cur = t;
			uv_timer_start(&t->timer, on_timeout, q.timeout_ms, 0);
			return;
		}
		struct try *t = calloc(1, sizeof *t);
		if (t == NULL) {
			rw_res_timeout(j->res);
			continue;
		}
		log_try(&q);
		t->kind = RW_ITER_HANDLE_KIND;
		t->job = j;
		t->tcp = q.tcp;
		t->id = random_id(j->it);
		rw_put16(t->out, (uint16_t)q.len);
		memcpy(t->out + 2, q.buf, q.len);
		rw_put16(t->out + 2, t->id);
		t->out_len = q.len + 2;
		uv_timer_init(j->it->loop, &t->timer);
		t->timer.data = t;
		t->open_handles = 1;
		t->sent_ms = uv_now(j->it->loop);
		memcpy(&t->addr, &q.addr, sizeof t->addr);
		int e = t->tcp ? tcp_open(t, &q) : udp_open(t, &q);
		j->cur = t;
		if (e == 0 && j->it->tap != NULL) {
			struct rw_dnstap_event ev = {.type = RW_DNSTAP_RESOLVER_QUERY,
			                             .tcp = t->tcp,
			                             .peer = (const struct sockaddr *)&t->addr,
			                             .msg = t->out + 2,
			                             .len = t->out_len - 2};
			rw_dnstap_log(j->it->tap, &ev);
		}
		if (e != 0) {
			try_end(t);
			rw_res_timeout(j->res);
			continue;
		}
		uv_timer_start(&t->timer, on_timeout, q.timeout_ms, 0);
		return;
	}
	job_done(j);
}

void rw_iter_start(struct rw_iter *it, const struct rw_question *q, rw_iter_cb cb, void *arg)
{
	struct job *j = calloc(1, sizeof *j);
	struct rw_res *res = j != NULL && !it->closing
	                         ? rw_res_new(it->env, it->stats, q->qname, q->qtype, q->qclass)
	                         : NULL;
	if (res == NULL) {
		free(j);
		cb(arg, rw_answer_servfail(RW_EDE_OTHER, "out of memory"));
		return;
	}
	j->it = it;
	j->res = res;
	j->cb = cb;
	j->arg = arg;
	j->next = it->jobs;
	j->pprev = &it->jobs;
	if (it->jobs != NULL)
		it->jobs->pprev = &j->next;
	it->jobs = j;
	step(j);
}

void rw_iter_close(struct rw_iter *it)
{
	if (it == NULL)
		return;
	it->closing = 1;
	while (it->jobs != NULL) {
		struct job *j = it->jobs;
		if (j->cur != NULL) {
			j->cur->job = NULL;
			try_end(j->cur);
		}
		old_end_all(j);
		*j->pprev = j->next;
		if (j->next != NULL)
			j->next->pprev = j->pprev;
		j->cb(j->arg, rw_answer_servfail(RW_EDE_OTHER, "shutting down"));
		rw_res_free(j->res);
		free(j);
	}
	free(it);
}
