/* Clients waiting for an upstream answer (Knot Resolver's qr_task in
 * daemon/worker.c): joining or leading the shared in-flight entry, the
 * leader's upstream query (c-ares) or resolution (iterio), its deadline,
 * and delivering one answer to every waiter -- this worker's directly, the
 * others' through their mailboxes. See src/DESIGN.md, "Forwarding: who
 * owns what". */
#include "daemon_int.h"
#include "rootwalk/err.h"
#include "iterio.h"
#include "upstream.h"

#include <stdlib.h>
#include <string.h>

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
		rw__conn_close(c); /* half-closed and nothing left to send */
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
			if (w->rl == NULL || rw__reply_allowed(w, x->udp, sa, w->sbuf, len))
				rw__udp_reply(x->udp, sa, w->sbuf, len);
		} else if (!x->c->closing) {
			rw__conn_send(x->c, w->sbuf, len);
		}
		rw__log_query(w, sa, x->transport);
		if (w->measure && x->t0 != 0)
			rw__metrics_observe(w, x->t0);
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

void rw__pending_mail_cb(uv_async_t *a)
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

void rw__upq_timer_closed(uv_handle_t *h)
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
		uv_close((uv_handle_t *)&u->deadline, rw__upq_timer_closed);
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
void rw__pending_forward(struct worker *w, enum rw_transport t, uv_udp_t *udp,
                         const struct sockaddr *addr, struct conn *c, const uint8_t *req,
                         size_t len, uint64_t t0)
{
	struct waiter *x =
	    w->waiting_bytes + len <= WAITING_BYTES_MAX ? malloc(sizeof *x + len) : NULL;
	if (x == NULL) {
		size_t ol;
		if (rw_query_finish(&w->env, req, len, t, NULL, 0, NULL, w->sbuf, sizeof w->sbuf,
		                    &ol) == RW_QUERY_REPLY) {
			if (t == RW_TRANSPORT_UDP)
				rw__udp_reply(udp, addr, w->sbuf, ol);
			else
				rw__conn_send(c, w->sbuf, ol);
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

/* After the threads are joined: waiters handed over too late are
 * forgotten, without replies. */
void rw__pending_drain(struct worker *w)
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
