/* Clients waiting for an upstream answer (Knot Resolver's qr_task in
 * daemon/worker.c): joining or leading the shared in-flight entry, the
 * leader's upstream work -- a forwarded query (c-ares) or a resolution
 * (iterio) -- and its deadline, and delivering the one answer to every
 * waiter: this worker's directly, the others' through their mailboxes.
 * What to ask and what the reply means is the core's (forward.h, iter.h);
 * this file moves requests, answers and timers. See src/DESIGN.md,
 * "Forwarding: who owns what". */
#include "daemon_int.h"
#include "rootwalk/assert.h"
#include "iterio.h"
#include "rootwalk/err.h"
#include "rootwalk/forward.h"
#include "rootwalk/rr.h"
#include "upstream.h"

#include <stdlib.h>
#include <string.h>

/* RFC 9520: a question that failed is held failed for a while (the query
 * path answers it SERVFAIL at once); one that got an answer is cleared. */
static void note_outcome(struct worker *w, const struct upq *u, const struct rw_answer *ans)
{
	const struct rw_question *q = &u->q;
	bool first;
	if (ans == NULL || ans->rcode == RW_RCODE_SERVFAIL) {
		/* A failed refresh of stale data is retried at most once per
		 * --serve-stale-retry-s (RFC 8767 §5): its stale data answers
		 * meanwhile. */
		uint32_t floor = u->stale ? w->gen->cfg->serve_stale_retry_s * 1000u : 0;
		if (u->stale)
			w->up.stale_refresh_failed++;
		rw_failcache_note_floor(w->srv->failures, q->qname, q->qtype, rw_question_tag(q),
		                        floor, &first);
	} else {
		rw_failcache_clear(w->srv->failures, q->qname, q->qtype, rw_question_tag(q));
	}
}

/* The waiter's client address. */
static const struct sockaddr_storage *client_of(const struct waiter *x)
{
	return x->c != NULL ? &x->c->peer : &x->addr;
}

/* Forgets a waiter: its memory, its count, its hold on a TCP connection. */
static void waiter_free(struct worker *w, struct waiter *x)
{
	RW_REQUIRE(w->waiting_bytes >= sizeof *x);
	w->waiting_bytes -= sizeof *x;
	if (x->counted)
		rw__addr_count(w->waiting_peers, client_of(x), -1);
	struct conn *c = x->c;
	free(x);
	if (c == NULL)
		return;
	RW_REQUIRE(c->waiting > 0);
	c->waiting--;
	if (c->dead && c->waiting == 0) {
		rw_tcpbuf_fini(&c->in);
		free(c);
	} else if (c->eof && c->pending == 0 && c->waiting == 0) {
		rw__conn_close(c); /* half-closed and nothing left to send */
	}
}

/* Replies to one waiter of this worker (ans NULL: SERVFAIL). */
static void answer(struct worker *w, struct waiter *x, const struct rw_answer *ans)
{
	size_t len;
	if (x->refresh) { /* nobody to answer: the cache has it now */
		waiter_free(w, x);
		return;
	}
	/* DNSBomb: replies held long and then released together are what
	 * turns a resolver into a pulse; a client that waited past
	 * --discard-timeout-ms has given up, and gets nothing. */
	if (uv_now(&w->loop) - x->born_ms > w->gen->cfg->discard_timeout_ms) {
		w->up.discarded++;
		waiter_free(w, x);
		return;
	}
	if (rw_query_finish(&w->env, &x->req, ans, w->sbuf, sizeof w->sbuf, &len) ==
	    RW_QUERY_REPLY) {
		const struct sockaddr *sa = x->req.transport == RW_TRANSPORT_UDP
		                                ? (const struct sockaddr *)&x->addr
		                                : (const struct sockaddr *)&x->c->peer;
		bool sent = true;
		if (x->req.transport == RW_TRANSPORT_UDP) {
			if (w->rl == NULL || rw__reply_allowed(w, x->udp, sa, w->sbuf, len))
				rw__udp_send(w, x->udp, sa, w->sbuf, len);
			else
				sent = false; /* rate-limited: dropped or slipped, counted there */
		} else if (!x->c->closing) {
			rw__conn_send(x->c, w->sbuf, len);
		} else {
			sent = false;
		}
		if (!sent) {
			waiter_free(w, x);
			return;
		}
		if (w->measure)
			rw__metrics_reply(w, sa, x->req.transport, x->req_len, w->sbuf, len, x->t0);
		if (w->tap != NULL)
			rw__tap_client(w, true, sa, x->req.transport == RW_TRANSPORT_TCP, w->sbuf,
			               len);
		rw__log_query(w, sa, x->req.transport, w->sbuf, len, x->t0,
		              ans != NULL ? ans->from : NULL);
	}
	waiter_free(w, x);
}

/* Appends waiters to another worker's mailbox, each holding a reference
 * to the answer (no allocation: the waiters are the mail). */
static void post(struct worker *to, struct rw_flight_waiter *list, struct rw_answer *ans)
{
	struct rw_flight_waiter *last = list;
	for (struct rw_flight_waiter *l = list; l != NULL; l = l->next) {
		((struct waiter *)l)->ans = rw_answer_ref(ans);
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
static void deliver(struct worker *w, struct rw_flight_waiter *list, struct rw_answer *ans)
{
	struct rw_server *s = w->srv;
	for (unsigned i = 0; i < s->nworkers; i++)
		w->split[i] = NULL;
	/* Bound: the entry's waiters (FLIGHT_WAITERS_MAX). */
	while (list != NULL) {
		struct rw_flight_waiter *next = list->next;
		struct waiter *x = (struct waiter *)list;
		RW_REQUIRE(x->w != NULL && x->w->index < s->nworkers);
		if (x->w == w) {
			answer(w, x, ans);
		} else {
			list->next = w->split[x->w->index];
			w->split[x->w->index] = list;
		}
		list = next;
	}
	for (unsigned i = 0; i < s->nworkers; i++)
		if (w->split[i] != NULL)
			post(s->workers[i], w->split[i], ans);
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
		struct rw_answer *ans = ((struct waiter *)l)->ans;
		answer(w, (struct waiter *)l, ans);
		rw_answer_unref(ans);
		l = next;
	}
}

void rw__upq_timer_closed(uv_handle_t *h)
{
	struct upq *u = h->data;
	RW_REQUIRE(u->refs > 0);
	if (--u->refs == 0)
		free(u);
}

/* Takes the question's waiters and answers them, once per question. */
static void upq_finish(struct upq *u, struct rw_answer *ans)
{
	if (u->answered)
		return;
	u->answered = 1;
	if (!uv_is_closing((uv_handle_t *)&u->deadline))
		uv_close((uv_handle_t *)&u->deadline, rw__upq_timer_closed);
	if (u->late_on && !uv_is_closing((uv_handle_t *)&u->late))
		uv_close((uv_handle_t *)&u->late, rw__upq_timer_closed);
	deliver(u->w, rw_flight_take(u->w->srv->flight, &u->q), ans);
}

/* The upstream work's callback ran: its share of the upq is over. */
static void upq_release(struct upq *u)
{
	RW_REQUIRE(u->refs > 0);
	if (--u->refs == 0)
		free(u);
}

/* What a waiter gets when the refresh of its stale data is late: a
 * SERVFAIL that rw_query_finish answers from the stale data. */
static struct rw_answer *late_answer(void)
{
	return rw_answer_servfail(RW_EDE_NO_REACHABLE_AUTHORITY, "refresh late, no stale data");
}

/* RFC 8767's client-response timer: the refresh is late, so the waiters
 * so far get the stale data, and so does everyone asking until it ends;
 * the refresh goes on and fills the cache. */
static void upq_late(uv_timer_t *t)
{
	struct upq *u = t->data;
	struct rw_flight_waiter *list = rw_flight_late(u->w->srv->flight, &u->q);
	struct rw_answer *ans = late_answer();
	for (struct rw_flight_waiter *l = list; l != NULL; l = l->next)
		u->w->up.stale_late++;
	deliver(u->w, list, ans);
	rw_answer_unref(ans);
	uv_close((uv_handle_t *)&u->late, rw__upq_timer_closed);
}

/* The clients' budget is over: SERVFAIL now. A late reply still fills the
 * cache. */
static void upq_deadline(uv_timer_t *t)
{
	struct upq *u = t->data;
	u->w->up.timeouts++;
	note_outcome(u->w, u, NULL);
	struct rw_answer *ans =
	    rw_answer_servfail(RW_EDE_NO_REACHABLE_AUTHORITY, "upstream timed out");
	upq_finish(u, ans);
	rw_answer_unref(ans);
}

/* This worker's group g and its probe, when g is one of the settings
 * being served (a reload may have replaced it since a query was sent). */
static struct rw_upstream *group_of(const struct worker *w, unsigned g)
{
	const struct gen *gen = w->gen;
	return g >= gen->group_base && g - gen->group_base < gen->ngroups
	           ? w->groups[g - gen->group_base]
	           : NULL;
}

static struct gprobe *probe_of(const struct worker *w, unsigned g)
{
	const struct gen *gen = w->gen;
	return g >= gen->group_base && g - gen->group_base < gen->ngroups
	           ? &w->probes[g - gen->group_base]
	           : NULL;
}

static void probe_start(struct worker *w, unsigned g);

/* Forward-mode health: no upstream of the group answered in time (a
 * black hole: the case that made every client wait the whole budget; a
 * refusal is fast and says nothing about other names). The whole group is held failed, its clients
 * get SERVFAIL at once, and this worker probes it in the background. */
static void group_failed(struct worker *w, unsigned g)
{
	bool first;
	unsigned tag = g + 1;
	const uint8_t *gz = rw__gen_group_zone(w->gen, g);
	if (gz == NULL)
		return; /* a group a reload replaced */
	uint32_t hold = rw_failcache_note(w->srv->failures, gz, 0, tag, &first);
	if (hold == 0)
		return; /* failure caching is off */
	if (first) {
		w->up.groups_broken++;
		char zone[RW_NAME_TEXT_MAX];
		rw_name_to_text(gz, zone, sizeof zone);
		rw_log_info("upstream group for %s: no upstream answers; SERVFAIL at once, "
		            "probing every %d ms",
		            zone, PROBE_MS);
	}
	probe_start(w, g);
}

static void group_answered(struct worker *w, unsigned g)
{
	const uint8_t *gz = rw__gen_group_zone(w->gen, g);
	if (gz == NULL)
		return; /* a group a reload replaced */
	if (rw_failcache_clear(w->srv->failures, gz, 0, g + 1)) {
		char zone[RW_NAME_TEXT_MAX];
		rw_name_to_text(gz, zone, sizeof zone);
		rw_log_info("upstream group for %s answers again", zone);
	}
	struct gprobe *p = probe_of(w, g);
	if (p->active) {
		uv_timer_stop(&p->timer);
		p->active = 0;
	}
}

static void probe_reply(void *arg, int status, const uint8_t *resp, size_t len, const char *from)
{
	(void)resp;
	(void)from;
	(void)len;
	struct gprobe *p = arg;
	p->in_flight = 0;
	if (status == RW_ECANCELED)
		return; /* shutting down: the timer is closed with the loop */
	/* Any reply says the group is reachable again, even a refusal. */
	if (status == RW_ETIMEOUT)
		group_failed(p->w, p->group);
	else
		group_answered(p->w, p->group);
}

static void probe_cb(uv_timer_t *t)
{
	struct gprobe *p = t->data;
	struct worker *w = p->w;
	struct rw_upstream *g = group_of(w, p->group);
	const uint8_t *gz = rw__gen_group_zone(w->gen, p->group);
	if (p->in_flight || g == NULL || gz == NULL)
		return;
	struct rw_question q = {.route = RW_ROUTE_FORWARD,
	                        .group = p->group,
	                        .qtype = RW_TYPE_SOA,
	                        .qclass = RW_CLASS_IN};
	q.qname_len = rw_name_len(gz);
	memcpy(q.qname, gz, q.qname_len);
	uint8_t buf[512];
	size_t len = rw_forward_query(&q, w->env.edns_size, buf, sizeof buf);
	if (len == 0)
		return;
	p->in_flight = 1;
	rw_upstream_send(g, buf, len, probe_reply, p);
}

static void probe_start(struct worker *w, unsigned g)
{
	struct gprobe *p = probe_of(w, g);
	if (p == NULL || p->active)
		return;
	if (p->kind == 0) { /* first use: the timer lives until the loop closes */
		p->kind = H_PROBE;
		p->w = w;
		p->group = g;
		uv_timer_init(&w->loop, &p->timer);
		p->timer.data = p;
	}
	p->active = 1;
	uv_timer_start(&p->timer, probe_cb, PROBE_MS, PROBE_MS);
}

/* A forwarded query's outcome (upstream.h): the reply is consumed once, by
 * the core, into the answer every waiter gets. */
static void upq_reply(void *arg, int status, const uint8_t *resp, size_t len, const char *from)
{
	struct upq *u = arg;
	struct worker *w = u->w;
	struct rw_answer *ans = NULL;
	if (status == 0) {
		w->up.replies++;
		int e = rw_forward_accept(&w->env, &u->q, resp, len, &ans);
		if (e == RW_EMALFORMED) {
			w->up.rejected++;
			ans = rw_answer_servfail(RW_EDE_OTHER, "bad upstream reply");
		} else if (ans != NULL && ans->rcode == RW_RCODE_SERVFAIL) {
			w->up.failures++;
		}
		group_answered(w, u->q.group); /* it answered, whatever it said */
		if (ans != NULL && from != NULL)
			snprintf(ans->from, sizeof ans->from, "%s", from);
	} else if (status == RW_ETIMEOUT) {
		if (!u->answered)
			w->up.timeouts++;
		ans = rw_answer_servfail(RW_EDE_NO_REACHABLE_AUTHORITY, "upstream timed out");
		group_failed(w, u->q.group);
	} else if (status == RW_EUPSTREAM) {
		w->up.failures++;
		ans = rw_answer_servfail(RW_EDE_OTHER, "upstream failed");
	} else if (status != RW_ECANCELED) {
		w->up.failures++;
		ans = rw_answer_servfail(RW_EDE_NETWORK_ERROR, "upstream failed");
	}
	if (status != RW_ECANCELED)
		note_outcome(w, u, ans);
	upq_finish(u, ans);
	rw_answer_unref(ans);
	upq_release(u);
}

/* A resolution ended (it cached what it learned itself). */
static void iter_done(void *arg, struct rw_answer *ans)
{
	struct upq *u = arg;
	note_outcome(u->w, u, ans);
	upq_finish(u, ans);
	rw_answer_unref(ans);
	upq_release(u);
}

/* Starts the upstream work for q, which this worker leads; stale: the
 * cache holds stale data for it. */
static void upq_start(struct worker *w, const struct rw_question *q, bool stale)
{
	struct upq *u = calloc(1, sizeof *u);
	if (u == NULL) {
		deliver(w, rw_flight_take(w->srv->flight, q), NULL);
		return;
	}
	u->kind = H_UPQ;
	u->w = w;
	u->q = *q;
	u->refs = 2; /* the callback and the deadline timer */
	uv_timer_init(&w->loop, &u->deadline);
	u->deadline.data = u;
	u->stale = stale;
	if (stale && w->gen->cfg->serve_stale_timeout_ms > 0) {
		u->refs++; /* and the client-response timer */
		u->late_on = true;
		uv_timer_init(&w->loop, &u->late);
		u->late.data = u;
		uv_timer_start(&u->late, upq_late, w->gen->cfg->serve_stale_timeout_ms, 0);
	}
	if (q->route == RW_ROUTE_ITERATE) {
		uv_timer_start(&u->deadline, upq_deadline, w->gen->cfg->resolve_timeout_ms + 500,
		               0);
		rw_iter_start(w->iter, q, iter_done, u);
		return;
	}
	uint8_t qbuf[512];
	size_t qlen = rw_forward_query(q, w->env.edns_size, qbuf, sizeof qbuf);
	struct rw_upstream *g = group_of(w, q->group);
	if (qlen == 0 || g == NULL) {
		upq_finish(u, NULL);
		upq_release(u);
		return;
	}
	uv_timer_start(&u->deadline, upq_deadline, rw_upstream_budget_ms(g) + 100, 0);
	w->up.queries++;
	rw_upstream_send(g, qbuf, qlen, upq_reply, u);
}

void rw__pending_forward(struct worker *w, uv_udp_t *udp, const struct sockaddr *addr,
                         struct conn *c, uint64_t t0, size_t req_len)
{
	const struct rw_request *req = &w->env.request;
	struct waiter *x =
	    w->waiting_bytes + sizeof *x <= WAITING_BYTES_MAX ? malloc(sizeof *x) : NULL;
	if (x == NULL) {
		size_t ol;
		if (rw_query_finish(&w->env, req, NULL, w->sbuf, sizeof w->sbuf, &ol) ==
		    RW_QUERY_REPLY) {
			if (c == NULL)
				rw__udp_send(w, udp, addr, w->sbuf, ol);
			else
				rw__conn_send(c, w->sbuf, ol);
		}
		return;
	}
	x->w = w;
	x->refresh = false;
	x->udp = udp;
	if (addr != NULL)
		memcpy(&x->addr, addr,
		       addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		                                   : sizeof(struct sockaddr_in));
	x->c = c;
	x->t0 = t0 != 0 || !(w->measure || w->env.log_queries) ? t0 : lat_now();
	x->req_len = (uint16_t)req_len;
	x->ans = NULL;
	x->req = *req;
	x->born_ms = uv_now(&w->loop);
	/* DNSBomb: one client address may have only so many queries waiting;
	 * more are dropped (a reply would be what the attack wants). */
	if (rw__addr_count(w->waiting_peers, client_of(x), 0) >= w->wait_per_client) {
		w->up.wait_refused++;
		free(x);
		return;
	}
	x->counted = rw__addr_count(w->waiting_peers, client_of(x), 1) > 0;
	w->waiting_bytes += sizeof *x;
	if (c != NULL)
		c->waiting++;
	struct rw_question q;
	rw_request_question(req, &q);
	enum rw_flight_role role;
	if (rw_flight_join(w->srv->flight, &q, &x->link, &role) != 0) {
		/* --max-outstanding questions, or too many clients on one */
		w->up.overloaded++;
		struct rw_answer *over =
		    rw_answer_servfail(RW_EDE_OTHER, "too many queries in flight");
		answer(w, x, over);
		rw_answer_unref(over);
		return;
	}
	if (role == RW_FLIGHT_LATE) {
		/* The refresh is late already: the stale data at once. */
		struct rw_answer *ans = late_answer();
		w->up.stale_late++;
		answer(w, x, ans);
		rw_answer_unref(ans);
	} else if (role == RW_FLIGHT_LEAD) {
		/* The question's previous flight may have stored its answer
		 * between this client's miss and its join: then no second query
		 * upstream (src/DESIGN.md, "Forwarding: who owns what"). */
		struct rw_answer *ans = rw_query_cached(&w->env, &q) ? rw_answer_in_cache() : NULL;
		if (ans == NULL) {
			upq_start(w, &q, req->stale);
			return;
		}
		w->up.recheck_hits++;
		deliver(w, rw_flight_take(w->srv->flight, &q), ans);
		rw_answer_unref(ans);
	}
}

bool rw__pending_refresh(struct worker *w, const struct rw_request *req)
{
	struct rw_question q;
	rw_request_question(req, &q);
	/* A refresh (or a client's miss) on its way already: nothing to do. */
	if (rw_flight_busy(w->srv->flight, &q) ||
	    w->waiting_bytes + sizeof(struct waiter) > WAITING_BYTES_MAX)
		return false;
	struct waiter *x = calloc(1, sizeof *x);
	if (x == NULL)
		return false;
	x->w = w;
	x->refresh = true;
	x->req = *req;
	x->born_ms = uv_now(&w->loop);
	w->waiting_bytes += sizeof *x;
	enum rw_flight_role role;
	if (rw_flight_join(w->srv->flight, &q, &x->link, &role) != 0 || role == RW_FLIGHT_LATE) {
		waiter_free(w, x);
		return false;
	}
	if (role == RW_FLIGHT_LEAD)
		upq_start(w, &q, false);
	return true;
}

void rw__pending_drain(struct worker *w)
{
	struct rw_flight_waiter *l = w->mail_head;
	w->mail_head = NULL;
	while (l != NULL) {
		struct rw_flight_waiter *next = l->next;
		rw_answer_unref(((struct waiter *)l)->ans);
		waiter_free(w, (struct waiter *)l);
		l = next;
	}
}
