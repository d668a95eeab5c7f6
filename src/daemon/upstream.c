/* c-ares on a libuv loop, a channel per upstream server; see upstream.h. */
#include "upstream.h"
#include "dnstap.h"
#include "rootwalk/err.h"
#include "rootwalk/log.h"

#include <ares.h>
#include <stdatomic.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Timeouts in a row after which a server is asked last, for BACKOFF_MIN_MS
 * doubling to BACKOFF_MAX_MS while its probes keep failing. */
#define DOWN_AFTER 3
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 60000

struct userver;

struct upoll {
	unsigned kind; /* RW_UPSTREAM_HANDLE_KIND */
	struct upoll *next;
	struct rw_upstream *u; /* outlives sv: the close completes later */
	struct userver *sv;
	ares_socket_t fd;
	uv_poll_t poll;
};

/* One upstream server: its own c-ares channel (c-ares 1.18 keeps no server
 * health, and with one channel for the group a reply cannot be told
 * apart by server) and its health. */
struct userver {
	struct rw_upstream *u;
	ares_channel ch;
	char name[INET6_ADDRSTRLEN + 8];
	unsigned timeouts;            /* in a row */
	uint64_t down_until;          /* uv_now ms: asked last until then */
	uint32_t backoff_ms;          /* the next down period */
	bool down;                    /* logged as not answering */
	struct rw_upstream_stats *st; /* shared counters (NULL: past the bound) */
	struct rw_sockaddr addr;      /* dnstap */
};

struct rw_upstream {
	unsigned kind; /* RW_UPSTREAM_HANDLE_KIND (the timer's data) */
	uv_loop_t *loop;
	struct userver *sv;
	size_t nsv, live; /* servers; channels initialised */
	unsigned next;    /* rotation among the healthy ones */
	unsigned tries;
	uv_timer_t timer;
	struct upoll *polls;
	unsigned open_handles; /* the timer and every poll */
	unsigned budget_ms;
	int closing;
	struct rw_dnstap_queue *tap; /* FORWARDER_QUERY/RESPONSE (NULL: off) */
	bool tcp;
};

void rw_upstream_set_tap(struct rw_upstream *u, struct rw_dnstap_queue *tap)
{
	u->tap = tap;
}

static void tap(struct rw_upstream *u, const struct userver *sv, enum rw_dnstap_type type,
                const uint8_t *msg, size_t len)
{
	struct rw_dnstap_event ev = {.type = type,
	                             .tcp = u->tcp,
	                             .peer = (const struct sockaddr *)&sv->addr.ss,
	                             .msg = msg,
	                             .len = len};
	rw_dnstap_log(u->tap, &ev);
}

/* One query on its way through the group's servers. */
struct usend {
	struct rw_upstream *u;
	rw_upstream_cb cb;
	void *arg;
	unsigned attempt, nattempts; /* into order, round by round */
	int worst;                   /* status if nobody answers */
	uint8_t *order;              /* nsv server indexes */
	uint8_t *answered;           /* nsv flags: said no, not asked again */
	size_t len;
	uint64_t sent_ns; /* lat_now() at the current try */
	uint8_t *query;
	uint8_t tail[]; /* order, answered, query */
};

static void handle_closed(uv_handle_t *h)
{
	struct rw_upstream *u;
	if (h->type == UV_POLL) {
		struct upoll *p = h->data;
		u = p->u;
		free(p);
	} else {
		u = h->data;
	}
	if (--u->open_handles == 0 && u->closing)
		free(u);
}

static void on_timer(uv_timer_t *t);

/* Re-arms the timer for the channels' next deadline (retries, timeouts). */
static void rearm(struct rw_upstream *u)
{
	if (u->closing)
		return;
	/* ares_timeout gives the earlier of its channel's deadline and the
	 * one passed in: the earliest of all, channel by channel. */
	struct timeval best = {0, 0}, tv, *cur = NULL;
	for (size_t i = 0; i < u->live; i++) {
		struct timeval *r = ares_timeout(u->sv[i].ch, cur, &tv);
		if (r != NULL) {
			best = *r;
			cur = &best;
		}
	}
	if (cur == NULL) {
		uv_timer_stop(&u->timer);
		return;
	}
	uint64_t ms = (uint64_t)best.tv_sec * 1000 + ((uint64_t)best.tv_usec + 999) / 1000;
	uv_timer_start(&u->timer, on_timer, ms, 0);
}

static void on_timer(uv_timer_t *t)
{
	struct rw_upstream *u = t->data;
	for (size_t i = 0; i < u->live && !u->closing; i++)
		ares_process_fd(u->sv[i].ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(u);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct upoll *p = h->data;
	struct rw_upstream *u = p->sv->u;
	/* On an error let c-ares try both directions: it sees the failure
	 * and moves the queries on. */
	ares_socket_t r = status < 0 || (events & UV_READABLE) ? p->fd : ARES_SOCKET_BAD;
	ares_socket_t w = status < 0 || (events & UV_WRITABLE) ? p->fd : ARES_SOCKET_BAD;
	ares_process_fd(p->sv->ch, r, w);
	rearm(u);
}

/* c-ares tells which sockets to watch (ARES_OPT_SOCK_STATE_CB). */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct userver *sv = data;
	struct rw_upstream *u = sv->u;
	struct upoll **pp = &u->polls;
	while (*pp != NULL && (*pp)->fd != fd)
		pp = &(*pp)->next;
	struct upoll *p = *pp;
	if (!readable && !writable) {
		if (p != NULL) {
			*pp = p->next;
			uv_poll_stop(&p->poll);
			uv_close((uv_handle_t *)&p->poll, handle_closed);
		}
		return;
	}
	if (p == NULL) {
		p = calloc(1, sizeof *p);
		if (p == NULL)
			return; /* the query times out instead */
		p->kind = RW_UPSTREAM_HANDLE_KIND;
		p->u = u;
		p->sv = sv;
		p->fd = fd;
		if (uv_poll_init_socket(u->loop, &p->poll, fd) != 0) {
			free(p);
			return;
		}
		p->poll.data = p;
		u->open_handles++;
		p->next = u->polls;
		u->polls = p;
	}
	uv_poll_start(&p->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0),
	              on_poll);
}

/* "addr:port" or "[addr]:port" for c-ares and for log lines. */
static void server_text(const struct rw_sockaddr *a, char *out, size_t cap)
{
	char host[INET6_ADDRSTRLEN];
	const struct sockaddr *sa = (const struct sockaddr *)&a->ss;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
		snprintf(out, cap, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
		snprintf(out, cap, "%s:%u", host, ntohs(s4->sin_port));
	}
}

static int channel_new(struct userver *sv, unsigned timeout_ms, uint16_t edns_size, bool tcp,
                       char *err, size_t err_len)
{
	struct ares_options o;
	memset(&o, 0, sizeof o);
	/* EDNS: c-ares accepts UDP answers up to ednspsz (else anything over
	 * 512 bytes goes to TCP) and retries without OPT on FORMERR. One try:
	 * the retries go round the group's servers (rw_upstream_send). */
	o.flags = ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	if (tcp)
		o.flags |= ARES_FLAG_USEVC; /* every query over TCP (a forward zone's "tcp") */
	o.ednspsz = edns_size;
	o.timeout = (int)timeout_ms;
	o.tries = 1;
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = sv;
	int mask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	           ARES_OPT_SOCK_STATE_CB;
	int rc = ares_init_options(&sv->ch, &o, mask);
	if (rc == ARES_SUCCESS) {
		rc = ares_set_servers_ports_csv(sv->ch, sv->name);
		if (rc != ARES_SUCCESS)
			ares_destroy(sv->ch);
	}
	if (rc != ARES_SUCCESS) {
		snprintf(err, err_len, "c-ares (%s): %s", sv->name, ares_strerror(rc));
		return RW_EIO;
	}
	return 0;
}

int rw_upstream_new(uv_loop_t *loop, const char *zone, const struct rw_sockaddr *servers,
                    size_t nservers, unsigned timeout_ms, unsigned tries, uint16_t edns_size,
                    bool tcp, struct rw_upstream **out, char *err, size_t err_len)
{
	if (nservers == 0 || nservers > 255 || tries == 0) {
		snprintf(err, err_len, "1 to 255 upstream servers per group, at least one try");
		return RW_EINVAL;
	}
	struct rw_upstream *u = calloc(1, sizeof *u);
	struct userver *sv = calloc(nservers, sizeof *sv);
	if (u == NULL || sv == NULL) {
		free(u);
		free(sv);
		snprintf(err, err_len, "out of memory");
		return RW_ENOMEM;
	}
	u->kind = RW_UPSTREAM_HANDLE_KIND;
	u->loop = loop;
	u->sv = sv;
	u->nsv = nservers;
	u->tries = tries;
	u->tcp = tcp;
	for (size_t i = 0; i < nservers; i++) {
		sv[i].u = u;
		sv[i].backoff_ms = BACKOFF_MIN_MS;
		server_text(&servers[i], sv[i].name, sizeof sv[i].name);
		sv[i].st = rw_upstream_stats_get(zone, sv[i].name);
		sv[i].addr = servers[i];
		if (channel_new(&sv[i], timeout_ms, edns_size, tcp, err, err_len) != 0) {
			for (size_t k = 0; k < u->live; k++)
				ares_destroy(sv[k].ch);
			free(sv);
			free(u);
			return RW_EIO;
		}
		u->live++;
	}
	/* Every server, every round, one timeout each. */
	uint64_t budget = (uint64_t)tries * nservers * timeout_ms;
	u->budget_ms = budget > 600000 ? 600000 : (unsigned)budget;
	uv_timer_init(loop, &u->timer);
	u->timer.data = u;
	u->open_handles = 1;
	*out = u;
	return 0;
}

/* --- per-server health ---------------------------------------------------- */

#define ADD(st, field, n)                                                                          \
	do {                                                                                       \
		if ((st) != NULL)                                                                  \
			atomic_fetch_add_explicit(&(st)->field, (n), memory_order_relaxed);        \
	} while (0)

static void server_answered(struct userver *sv)
{
	if (sv->down) {
		rw_log_info("upstream %s answers again", sv->name);
		ADD(sv->st, down, -1);
	}
	sv->timeouts = 0;
	sv->down = false;
	sv->down_until = 0;
	sv->backoff_ms = BACKOFF_MIN_MS;
}

static void server_timed_out(struct userver *sv)
{
	if (++sv->timeouts < DOWN_AFTER)
		return;
	uint64_t now = uv_now(sv->u->loop);
	if (!sv->down) {
		rw_log_info("upstream %s: no reply to %u queries in a row; asked last for %u ms, "
		            "then probed",
		            sv->name, sv->timeouts, sv->backoff_ms);
		ADD(sv->st, down, 1);
		ADD(sv->st, down_marks, 1);
	}
	sv->down = true;
	sv->down_until = now + sv->backoff_ms;
	sv->backoff_ms = sv->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : sv->backoff_ms * 2;
}

/* The order a query asks the servers in: the healthy ones first, starting
 * at a rotating one (the load spreads, as ARES_OPT_ROTATE did), then the
 * ones that stopped answering (down) -- each of those is a probe once its
 * back-off is over, and then ranks with the healthy. */
static void plan(struct rw_upstream *u, struct usend *s)
{
	uint64_t now = uv_now(u->loop);
	size_t n = 0, start = u->next++ % u->nsv;
	for (int pass = 0; pass < 2; pass++)
		for (size_t k = 0; k < u->nsv; k++) {
			size_t i = (start + k) % u->nsv;
			bool healthy = !u->sv[i].down || u->sv[i].down_until <= now;
			if (healthy == (pass == 0))
				s->order[n++] = (uint8_t)i;
		}
	s->nattempts = (unsigned)(u->tries * u->nsv);
}

static void try_next(struct usend *s);

/* A try's outcome in the server's counters: its reply's rcode and time,
 * or a timeout, or an error. */
static void count(struct userver *sv, const struct usend *s, int status, int st,
                  const unsigned char *abuf, int alen)
{
	struct rw_upstream_stats *c = sv->st;
	if (c == NULL || st == RW_ECANCELED)
		return;
	/* c-ares 1.18 folds a SERVFAIL, REFUSED or NOTIMP reply (and an ICMP
	 * port unreachable) into ARES_ECONNREFUSED: counted as SERVFAIL, the
	 * server said no (what CoreDNS's forward alerts look for). */
	int rc = -1;
	if (st == 0 && alen >= 4)
		rc = abuf[3] & 0xF;
	else if (status == ARES_ESERVFAIL || status == ARES_ECONNREFUSED)
		rc = 2;
	else if (status == ARES_ENOTIMP)
		rc = 4;
	else if (status == ARES_EREFUSED)
		rc = 5;
	if (st == RW_ETIMEOUT) {
		ADD(c, timeouts, 1);
	} else if (rc < 0) {
		ADD(c, errors, 1);
	} else {
		unsigned r = rc < RW_UPSTREAM_RCODES - 1 ? (unsigned)rc : RW_UPSTREAM_RCODES - 1;
		uint64_t ns = lat_now() - s->sent_ns;
		ADD(c, rcode[r], 1);
		ADD(c, lat[r][lat_bucket(ns)], 1);
		ADD(c, lat_sum_ns[r], ns);
	}
}

static void sent_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct usend *s = arg;
	struct rw_upstream *u = s->u;
	struct userver *sv = &u->sv[s->order[(s->attempt - 1) % u->nsv]];
	int st;
	switch (status) {
	case ARES_SUCCESS: st = abuf != NULL && alen > 0 ? 0 : RW_EIO; break;
	case ARES_ETIMEOUT: st = RW_ETIMEOUT; break;
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ENOTIMP:
	/* c-ares 1.18 reports REFUSED (and ICMP port unreachable) as
	 * ECONNREFUSED: the server said no, at once. */
	case ARES_ECONNREFUSED: st = RW_EUPSTREAM; break;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED: st = RW_ECANCELED; break;
	default: st = RW_EIO; break;
	}
	count(sv, s, status, st, abuf, alen);
	if (u->tap != NULL && abuf != NULL && alen > 0)
		tap(u, sv, RW_DNSTAP_FORWARDER_RESPONSE, abuf, (size_t)alen);
	if (st == RW_ETIMEOUT)
		server_timed_out(sv);
	else if (st == 0 || st == RW_EUPSTREAM)
		server_answered(sv); /* a refusal is a reply: the server is there */
	if (st == 0 || st == RW_ECANCELED || u->closing) {
		s->cb(s->arg, u->closing ? RW_ECANCELED : st, st == 0 ? abuf : NULL,
		      st == 0 ? (size_t)alen : 0, st == 0 ? sv->name : NULL);
		free(s);
		return;
	}
	/* Another server, or this one again next round; a server that said
	 * no is not asked again. The group's status: EUPSTREAM once anyone
	 * said no, else the last failure. */
	if (st == RW_EUPSTREAM)
		s->answered[sv - u->sv] = 1;
	if (s->worst != RW_EUPSTREAM)
		s->worst = st;
	try_next(s);
}

/* Sends s to its next server; ends it when none is left. */
static void try_next(struct usend *s)
{
	struct rw_upstream *u = s->u;
	while (s->attempt < s->nattempts) {
		size_t i = s->order[s->attempt++ % u->nsv];
		if (s->answered[i])
			continue;
		ADD(u->sv[i].st, queries, 1);
		if (u->tap != NULL)
			tap(u, &u->sv[i], RW_DNSTAP_FORWARDER_QUERY, s->query, s->len);
		s->sent_ns = lat_now();
		ares_send(u->sv[i].ch, s->query, (int)s->len, sent_cb, s);
		return;
	}
	s->cb(s->arg, s->worst, NULL, 0, NULL);
	free(s);
}

void rw_upstream_send(struct rw_upstream *u, const uint8_t *query, size_t len, rw_upstream_cb cb,
                      void *arg)
{
	struct usend *s = u->closing ? NULL : malloc(sizeof *s + 2 * u->nsv + len);
	if (s == NULL) {
		cb(arg, u->closing ? RW_ECANCELED : RW_ENOMEM, NULL, 0, NULL);
		return;
	}
	memset(s, 0, sizeof *s + 2 * u->nsv);
	s->order = s->tail;
	s->answered = s->tail + u->nsv;
	s->query = s->tail + 2 * u->nsv;
	s->u = u;
	s->cb = cb;
	s->arg = arg;
	s->worst = RW_ETIMEOUT;
	s->len = len;
	memcpy(s->query, query, len);
	plan(u, s);
	try_next(s);
	rearm(u);
}

unsigned rw_upstream_budget_ms(const struct rw_upstream *u)
{
	return u->budget_ms;
}

void rw_upstream_close(struct rw_upstream *u)
{
	if (u == NULL || u->closing)
		return;
	/* Cancels every query (callbacks run with RW_ECANCELED) and reports
	 * each socket closed through sock_state, which closes its poll. */
	u->closing = 1;
	for (size_t i = 0; i < u->live; i++) {
		if (u->sv[i].down)
			ADD(u->sv[i].st, down, -1); /* this worker's hold goes with it */
		ares_destroy(u->sv[i].ch);
	}
	free(u->sv);
	u->sv = NULL;
	u->live = 0;
	uv_close((uv_handle_t *)&u->timer, handle_closed);
}
