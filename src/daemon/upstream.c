/* c-ares on a libuv loop; see upstream.h. */
#include "upstream.h"
#include "rootwalk/err.h"

#include <ares.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct upoll {
	unsigned kind; /* RW_UPSTREAM_HANDLE_KIND */
	struct upoll *next;
	struct rw_upstream *u;
	ares_socket_t fd;
	uv_poll_t poll;
};

struct rw_upstream {
	unsigned kind; /* RW_UPSTREAM_HANDLE_KIND (the timer's data) */
	uv_loop_t *loop;
	ares_channel ch;
	int ch_live;
	uv_timer_t timer;
	struct upoll *polls;
	unsigned open_handles; /* the timer and every poll */
	unsigned budget_ms;
	int closing;
};

struct usend {
	rw_upstream_cb cb;
	void *arg;
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

/* Re-arms the timer for c-ares' next deadline (retries, timeouts). */
static void rearm(struct rw_upstream *u)
{
	if (u->closing)
		return;
	struct timeval tv;
	if (ares_timeout(u->ch, NULL, &tv) == NULL) {
		uv_timer_stop(&u->timer);
		return;
	}
	uint64_t ms = (uint64_t)tv.tv_sec * 1000 + ((uint64_t)tv.tv_usec + 999) / 1000;
	uv_timer_start(&u->timer, on_timer, ms, 0);
}

static void on_timer(uv_timer_t *t)
{
	struct rw_upstream *u = t->data;
	ares_process_fd(u->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(u);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct upoll *p = h->data;
	struct rw_upstream *u = p->u;
	/* On an error let c-ares try both directions: it sees the failure
	 * and moves the queries on. */
	ares_socket_t r = status < 0 || (events & UV_READABLE) ? p->fd : ARES_SOCKET_BAD;
	ares_socket_t w = status < 0 || (events & UV_WRITABLE) ? p->fd : ARES_SOCKET_BAD;
	ares_process_fd(u->ch, r, w);
	rearm(u);
}

/* c-ares tells which sockets to watch (ARES_OPT_SOCK_STATE_CB). */
static void sock_state(void *data, ares_socket_t fd, int readable, int writable)
{
	struct rw_upstream *u = data;
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

int rw_upstream_new(uv_loop_t *loop, const struct rw_sockaddr *servers, size_t nservers,
                    unsigned timeout_ms, unsigned tries, uint16_t edns_size,
                    struct rw_upstream **out, char *err, size_t err_len)
{
	struct rw_upstream *u = calloc(1, sizeof *u);
	char *csv = calloc(nservers, 72);
	if (u == NULL || csv == NULL || nservers == 0) {
		free(u);
		free(csv);
		snprintf(err, err_len, "out of memory");
		return RW_ENOMEM;
	}
	u->kind = RW_UPSTREAM_HANDLE_KIND;
	u->loop = loop;
	struct ares_options o;
	memset(&o, 0, sizeof o);
	/* EDNS: c-ares accepts UDP answers up to ednspsz (else anything over
	 * 512 bytes goes to TCP) and retries without OPT on FORMERR. */
	o.flags = ARES_FLAG_EDNS | ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	o.ednspsz = edns_size;
	o.timeout = (int)timeout_ms;
	o.tries = (int)tries;
	o.sock_state_cb = sock_state;
	o.sock_state_cb_data = u;
	int mask = ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	           ARES_OPT_SOCK_STATE_CB | ARES_OPT_ROTATE;
	int rc = ares_init_options(&u->ch, &o, mask);
	if (rc != ARES_SUCCESS) {
		snprintf(err, err_len, "c-ares: %s", ares_strerror(rc));
		free(u);
		free(csv);
		return RW_EIO;
	}
	u->ch_live = 1;
	size_t n = 0;
	for (size_t i = 0; i < nservers; i++) {
		char host[INET6_ADDRSTRLEN];
		const struct sockaddr *sa = (const struct sockaddr *)&servers[i].ss;
		unsigned port;
		if (sa->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)sa;
			inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof host);
			port = ntohs(s6->sin6_port);
			n += (size_t)snprintf(csv + n, 72, "%s[%s]:%u", i ? "," : "", host, port);
		} else {
			const struct sockaddr_in *s4 = (const void *)sa;
			inet_ntop(AF_INET, &s4->sin_addr, host, sizeof host);
			port = ntohs(s4->sin_port);
			n += (size_t)snprintf(csv + n, 72, "%s%s:%u", i ? "," : "", host, port);
		}
	}
	rc = ares_set_servers_ports_csv(u->ch, csv);
	free(csv);
	if (rc != ARES_SUCCESS) {
		snprintf(err, err_len, "c-ares servers: %s", ares_strerror(rc));
		ares_destroy(u->ch);
		free(u);
		return RW_EIO;
	}
	/* c-ares waits timeout << (try / nservers) per attempt. */
	uint64_t budget = 0;
	for (unsigned t = 0; t < tries; t++)
		budget += (uint64_t)nservers * timeout_ms << t;
	u->budget_ms = budget > 600000 ? 600000 : (unsigned)budget;
	uv_timer_init(loop, &u->timer);
	u->timer.data = u;
	u->open_handles = 1;
	*out = u;
	return 0;
}

static void sent_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	(void)timeouts;
	struct usend *s = arg;
	int st;
	switch (status) {
	case ARES_SUCCESS: st = abuf != NULL && alen > 0 ? 0 : RW_EIO; break;
	case ARES_ETIMEOUT: st = RW_ETIMEOUT; break;
	case ARES_ESERVFAIL:
	case ARES_EREFUSED:
	case ARES_ENOTIMP:
	/* c-ares 1.18 reports "every server answered REFUSED" (and ICMP
	 * port unreachable) as ECONNREFUSED: the servers said no, at once. */
	case ARES_ECONNREFUSED: st = RW_EUPSTREAM; break;
	case ARES_EDESTRUCTION:
	case ARES_ECANCELLED: st = RW_ECANCELED; break;
	default: st = RW_EIO; break;
	}
	s->cb(s->arg, st, st == 0 ? abuf : NULL, st == 0 ? (size_t)alen : 0);
	free(s);
}

void rw_upstream_send(struct rw_upstream *u, const uint8_t *query, size_t len, rw_upstream_cb cb,
                      void *arg)
{
	struct usend *s = malloc(sizeof *s);
	if (s == NULL || u->closing) {
		free(s);
		cb(arg, u->closing ? RW_ECANCELED : RW_ENOMEM, NULL, 0);
		return;
	}
	s->cb = cb;
	s->arg = arg;
	ares_send(u->ch, query, (int)len, sent_cb, s);
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
	ares_destroy(u->ch);
	uv_close((uv_handle_t *)&u->timer, handle_closed);
}
