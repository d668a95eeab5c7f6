/* One worker: a thread with its own libuv loop, listeners, c-ares
 * channels, iterator and counters. Creation and binding on the main
 * thread, the loop on its own thread, the shutdown order (src/DESIGN.md),
 * and the zone hand-over from reloads. */
#include "daemon_int.h"
#include "rootwalk/err.h"
#include "rootwalk/rr.h"
#include "iterio.h"
#include "upstream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (uv_is_closing(h))
		return;
	enum hkind *kind = h->data;
	if (kind != NULL && *kind == H_CONN)
		rw__conn_close((struct conn *)kind);
	else if (kind != NULL && *kind == H_UPQ)
		uv_close(h, rw__upq_timer_closed);
	else
		uv_close(h, NULL);
}

/* --- upstream groups a reload replaced ---------------------------------- */

static void old_closed(uv_handle_t *h)
{
	struct oldgroups *o = h->data;
	if (--o->open > 0)
		return;
	struct oldgroups **pp = &o->w->old_groups;
	while (*pp != o)
		pp = &(*pp)->next;
	*pp = o->next;
	free(o->groups);
	free(o->probes);
	free(o);
}

/* Closes replaced groups: queries still on them are canceled (each had
 * its deadline by now), and their probes stop. */
static void close_old(struct oldgroups *o)
{
	if (o->closing)
		return;
	o->closing = 1;
	for (size_t i = 0; i < o->n; i++)
		rw_upstream_close(o->groups[i]);
	o->open = 1;
	for (size_t i = 0; i < o->n; i++) {
		struct gprobe *p = &o->probes[i];
		if (p->kind == 0)
			continue;
		p->timer.data = o;
		o->open++;
		uv_close((uv_handle_t *)&p->timer, old_closed);
	}
	uv_close((uv_handle_t *)&o->timer, old_closed);
}

static void old_timer_cb(uv_timer_t *t)
{
	close_old(t->data);
}

/* Makes this worker's upstream groups for g (its loop, its thread). */
static int groups_new(struct worker *w, const struct gen *g, char *err, size_t err_len)
{
	const struct rw_config *cfg = g->cfg;
	w->groups = calloc(g->ngroups + 1, sizeof *w->groups);
	w->probes = calloc(g->ngroups + 1, sizeof *w->probes);
	if (w->groups == NULL || w->probes == NULL) {
		snprintf(err, err_len, "out of memory");
		return RW_ENOMEM;
	}
	for (size_t i = 0; i < g->ngroups; i++) {
		const struct rw_sockaddr *servers =
		    i < cfg->nforward_zones ? cfg->forward_zones[i].servers : cfg->forward;
		size_t n = i < cfg->nforward_zones ? cfg->forward_zones[i].nservers : cfg->nforward;
		bool tcp = i < cfg->nforward_zones && cfg->forward_zones[i].tcp;
		char zone[RW_NAME_TEXT_MAX] = ".";
		if (i < cfg->nforward_zones)
			snprintf(zone, sizeof zone, "%s", cfg->forward_zones[i].name);
		if (rw_upstream_new(&w->loop, zone, servers, n, cfg->upstream_timeout_ms,
		                    cfg->upstream_tries, cfg->edns_size, tcp, &w->groups[i], err,
		                    err_len) != 0)
			return RW_EIO;
		rw_upstream_set_tap(w->groups[i], w->tap);
	}
	return 0;
}

/* Forwarding changed: the groups so far stay until every query sent on
 * them had its deadline, their probes stop; new groups take over. */
static void groups_replace(struct worker *w, const struct gen *old, const struct gen *next)
{
	struct oldgroups *o = calloc(1, sizeof *o);
	unsigned budget = 0;
	for (size_t i = 0; i < old->ngroups; i++) {
		if (w->groups[i] != NULL && rw_upstream_budget_ms(w->groups[i]) > budget)
			budget = rw_upstream_budget_ms(w->groups[i]);
		if (w->probes[i].active) {
			uv_timer_stop(&w->probes[i].timer);
			w->probes[i].active = 0;
		}
	}
	if (o == NULL) { /* no memory to wait: cancel them now */
		for (size_t i = 0; i < old->ngroups; i++)
			rw_upstream_close(w->groups[i]);
		rw_log_error("reload: out of memory; upstream queries in flight were canceled");
	} else {
		o->kind = H_OLDGROUPS;
		o->w = w;
		o->groups = w->groups;
		o->n = old->ngroups;
		o->probes = w->probes;
		o->next = w->old_groups;
		w->old_groups = o;
		uv_timer_init(&w->loop, &o->timer);
		o->timer.data = o;
		uv_timer_start(&o->timer, old_timer_cb, (uint64_t)budget + 200, 0);
	}
	if (o == NULL) {
		free(w->groups);
		free(w->probes);
	}
	w->groups = NULL;
	w->probes = NULL;
	char err[256];
	if (groups_new(w, next, err, sizeof err) != 0)
		rw_log_error("reload: upstream groups: %s; forwarded names get SERVFAIL", err);
}

void rw__worker_shutdown(struct worker *w)
{
	rw__udp_batch_flush(w); /* replies of this iteration go out first */
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
	for (size_t i = 0; i < w->gen->ngroups; i++) {
		rw_upstream_close(w->groups[i]);
		w->groups[i] = NULL;
	}
	for (struct oldgroups *o = w->old_groups; o != NULL; o = o->next)
		close_old(o);
	uv_walk(&w->loop, close_walk, NULL);
}

static void worker_stop(uv_async_t *a)
{
	rw__worker_shutdown(a->data);
}

/* The process handed its sockets to a new rootwalk and drains. */
static void worker_drain(uv_async_t *a)
{
	struct worker *w = a->data;
	if (w->warm_timer.data != NULL)
		uv_timer_stop(&w->warm_timer); /* no new refreshes */
	rw__listen_drain(w);
}

void rw__worker_main(void *arg)
{
	struct worker *w = arg;
	uv_run(&w->loop, UV_RUN_DEFAULT);
	w->loop_close_rc = uv_loop_close(&w->loop);
}

void rw__worker_free(struct worker *w)
{
	if (w == NULL)
		return;
	rw__pending_drain(w);
	uv_mutex_destroy(&w->mail_lock);
	uv_mutex_destroy(&w->snap_lock);
	if (w->zones != NULL)
		rw_zoneset_unref(w->zones);
	if (w->next_zones != NULL)
		rw_zoneset_unref(w->next_zones);
	rw__gen_unref(w->gen);
	rw__gen_unref(w->next_gen);
	free(w->groups);
	free(w->probes);
	free(w->split);
	rw_ratelimit_free(w->rl);
	for (size_t i = 0; i < w->nudp; i++)
		if (w->udp_fds[i] >= 0)
			close(w->udp_fds[i]);
	for (size_t i = 0; i < w->ntcp; i++)
		if (w->tcp_fds[i] >= 0)
			close(w->tcp_fds[i]);
	free(w->udp_li);
	free(w->tcp_li);
	rw_query_env_fini(&w->env);
	free(w->rbuf);
	rw__slots_fini(w);
	free(w->udp_fds);
	free(w->tcp_fds);
	free(w->udp);
	free(w->tcp);
	free(w);
}

/* The keep-warm list, checked every KEEP_WARM_MS on worker 0: a name that
 * is not cached, or is within the prefetch share of its end (at least the
 * last 2 checks' worth), is refreshed in the background. */
#define KEEP_WARM_MS 1000
static void keep_warm_cb(uv_timer_t *t)
{
	struct worker *w = t->data;
	const struct rw_config *cfg = w->gen->cfg;
	struct rw_arena *a = &w->env.arena;
	/* Bound: the list (settings); one cache lookup each. */
	for (size_t i = 0; i < cfg->nkeep_warm; i++) {
		const struct rw_keep_warm *k = &cfg->keep_warm[i];
		struct rw_cache_entry e;
		struct rw_cache_stats st = {0}; /* not the clients' hits and misses */
		rw_arena_reset(a);
		int rc =
		    rw_cache_get_flags(w->srv->cache, k->name, k->type, RW_CLASS_IN, 0, a, &e, &st);
		uint32_t ttl = rc != 0                       ? 0
		               : e.kind == RW_CACHE_POSITIVE ? e.set.ttl_s
		                                             : e.soa.ttl_s;
		if (rc == 0 && !e.prefetch && ttl > 2 * KEEP_WARM_MS / 1000)
			continue;
		struct rw_request req;
		if (rw_query_refresh_request(&w->env, k->name, k->type, &req) &&
		    rw__pending_refresh(w, &req))
			w->up.keep_warm++;
	}
}

static uint64_t loop_ms(void *ctx)
{
	uv_update_time(ctx);
	return uv_now(ctx);
}

/* Takes the settings of g into this worker's own state: the query path's
 * environment, the TCP and waiting bounds, the rate limiter (a new one
 * when the rate changed from prev's), recursion's limits. On the main
 * thread before the workers run, then on the worker's own. */
static void apply_settings(struct worker *w, const struct gen *g, const struct gen *prev)
{
	const struct rw_config *cfg = g->cfg;
	struct rw_server *s = w->srv;
	w->env.edns_size = cfg->edns_size;
	w->env.round_robin = cfg->round_robin;
	w->env.acl = cfg->allow;
	w->env.nacl = cfg->nallow;
	w->env.local_from_any = cfg->local_from_any;
	w->env.log_queries = cfg->log_queries;
	w->env.routes = g->routes;
	w->env.nroutes = g->nroutes;
	w->env.default_route = g->default_route;
	w->env.default_group = g->default_group;
	w->env.min_ttl = cfg->min_ttl;
	w->env.max_ttl = cfg->max_ttl;
	w->env.max_neg_ttl = cfg->max_negative_ttl;
	w->env.stale_ttl = cfg->serve_stale_s > 0 ? cfg->serve_stale_ttl : 0;
	w->env.autopath_zone = g->has_autopath ? g->autopath : NULL;
	w->env.filter_aaaa = cfg->filter_aaaa;
	w->env.nsid = g->nsid[0] ? g->nsid : NULL;
	w->env.identity = g->identity[0] ? g->identity : NULL;
	w->env.version = g->version[0] ? g->version : NULL;
	if (prev == NULL || prev->cfg->rate_limit != cfg->rate_limit) {
		rw_ratelimit_free(w->rl);
		w->rl = cfg->rate_limit > 0 ? rw_ratelimit_new(cfg->rate_limit) : NULL;
	}
	unsigned limit = cfg->tcp_max_connections / s->nworkers;
	w->tcp_limit = limit > 0 ? limit : 1;
	unsigned per =
	    cfg->tcp_max_per_client != 0 ? cfg->tcp_max_per_client : cfg->tcp_max_connections / 4;
	per = (per + s->nworkers - 1) / s->nworkers;
	w->tcp_per_client = per > 0 ? per : 1;
	w->wait_per_client = (cfg->max_waiting_per_client + s->nworkers - 1) / s->nworkers;
	w->res_env = (struct rw_res_env){
	    .cache = s->cache,
	    .cache_stats = &w->env.cache_stats,
	    .infra = s->infra,
	    .failures = s->failures,
	    .hints = &s->hints,
	    .lim = {cfg->max_cname_chain, cfg->max_referrals, cfg->max_upstream_queries,
	            cfg->max_glueless, cfg->max_subrequest_depth, cfg->resolve_timeout_ms,
	            cfg->max_upstream_bytes},
	    .query_loopback = cfg->query_loopback,
	    .ipv6 = cfg->ipv6_upstream,
	    .qmin = cfg->qname_minimisation,
	    .edns_size = cfg->edns_size,
	    .clock = loop_ms,
	    .clock_ctx = &w->loop,
	    .event_log = &w->event_log,
	};
}

/* The parts of the settings that live on the loop: recursion (made when
 * first needed) and worker 0's keep-warm timer. */
static int apply_loop_settings(struct worker *w, const struct gen *g, char *err, size_t err_len)
{
	if (g->default_route == RW_ROUTE_ITERATE && w->iter == NULL) {
		w->iter = rw_iter_new(&w->loop, &w->res_env, &w->res_stats);
		if (w->iter == NULL) {
			snprintf(err, err_len, "out of memory");
			return RW_ENOMEM;
		}
		rw_iter_set_tap(w->iter, w->tap);
	}
	if (w->index == 0 && g->cfg->nkeep_warm > 0 && w->warm_timer.data == NULL) {
		uv_timer_init(&w->loop, &w->warm_timer);
		w->warm_timer.data = w;
		uv_timer_start(&w->warm_timer, keep_warm_cb, 0, KEEP_WARM_MS);
	} else if (w->warm_timer.data != NULL && g->cfg->nkeep_warm == 0) {
		uv_timer_stop(&w->warm_timer);
	} else if (w->warm_timer.data != NULL && !uv_is_active((uv_handle_t *)&w->warm_timer)) {
		uv_timer_start(&w->warm_timer, keep_warm_cb, 0, KEEP_WARM_MS);
	}
	return 0;
}

/* A reload handed this worker new settings: serve with them from the next
 * event on (a request being answered has finished with the old ones). */
static void switch_gen(struct worker *w, struct gen *next)
{
	struct gen *old = w->gen;
	char err[256];
	apply_settings(w, next, old);
	if (rw__gen_forward_changed(old, next))
		groups_replace(w, old, next);
	w->gen = next;
	if (apply_loop_settings(w, next, err, sizeof err) != 0)
		rw_log_error("reload: %s", err);
	rw__gen_unref(old);
}

int rw__worker_new(struct rw_server *s, unsigned index, struct rw_zoneset *zones,
                   struct worker **out, char *err, size_t err_len)
{
	struct worker *w = calloc(1, sizeof *w);
	if (w == NULL)
		return RW_ENOMEM;
	w->kind = H_WORKER;
	w->srv = s;
	w->index = index;
	/* Room for a socket of its own per listen address, or a share of
	 * the inherited ones. */
	size_t room = s->nlisten + s->ninherit;
	w->udp_fds = malloc(room * sizeof(int));
	w->tcp_fds = malloc(room * sizeof(int));
	w->udp_li = malloc(room * sizeof(unsigned));
	w->tcp_li = malloc(room * sizeof(unsigned));
	w->udp = calloc(room, sizeof *w->udp);
	w->tcp = calloc(room, sizeof *w->tcp);
	w->rbuf = malloc(UDP_RECV_BATCH * UDP_DGRAM_MAX);
	w->split = calloc(s->nworkers, sizeof *w->split);
	uv_mutex_init(&w->mail_lock);
	uv_mutex_init(&w->snap_lock);
	w->measure = s->cfg->http != NULL || s->cfg->control != NULL;
	w->mail_tail = &w->mail_head;
	w->zones = rw_zoneset_ref(zones);
	rw_query_env_init(&w->env, zones, s->cfg->edns_size);
	w->env.cache = s->cache;
	w->env.failures = s->failures;
	w->gen = rw__gen_ref(s->gen);
	apply_settings(w, w->gen, NULL);
	if (w->rbuf == NULL || w->udp_fds == NULL || w->tcp_fds == NULL || w->udp == NULL ||
	    w->tcp == NULL || w->udp_li == NULL || w->tcp_li == NULL || w->split == NULL ||
	    (s->cfg->rate_limit > 0 && w->rl == NULL)) {
		*out = w;
		return RW_ENOMEM;
	}
	*out = w;
	if (rw__slots_init(w) != 0)
		return RW_ENOMEM;
	return rw__listen_bind(s, w, err, err_len);
}

/* A reload handed this worker a new zone set, new settings or both:
 * serve them from the next request on. The old zone set goes back to the
 * main thread (freed when the last worker and the main thread have let
 * go: a large set takes milliseconds to free, never on a worker). */
static void handover_cb(uv_async_t *a)
{
	struct worker *w = a->data;
	uv_mutex_lock(&w->mail_lock);
	struct rw_zoneset *next = w->next_zones;
	struct gen *gen = w->next_gen;
	w->next_zones = NULL;
	w->next_gen = NULL;
	uv_mutex_unlock(&w->mail_lock);
	if (gen != NULL)
		switch_gen(w, gen);
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
	r->gen = NULL;
	uv_mutex_lock(&s->retire_lock);
	r->next = s->retired;
	s->retired = r;
	uv_mutex_unlock(&s->retire_lock);
	uv_async_send(&s->retire_async);
}

/* Hands the bound sockets to libuv; after this the loop owns them. */
int rw__worker_start(struct rw_server *s, struct worker *w, char *err, size_t err_len)
{
	int e = uv_loop_init(&w->loop);
	w->loop_inited = e == 0;
	if (e == 0)
		e = uv_async_init(&w->loop, &w->stop, worker_stop);
	if (e == 0) {
		w->stop.data = w;
		e = uv_async_init(&w->loop, &w->mail_async, rw__pending_mail_cb);
	}
	if (e == 0) {
		w->mail_async.data = w;
		e = uv_async_init(&w->loop, &w->zones_async, handover_cb);
		w->zones_async.data = w;
	}
	if (e == 0) {
		e = uv_async_init(&w->loop, &w->drain_async, worker_drain);
		w->drain_async.data = w;
	}
	if (e != 0) {
		snprintf(err, err_len, "event loop: %s", uv_strerror(e));
		return RW_EIO;
	}
	w->mail_async.data = w;
	uv_check_init(&w->loop, &w->flush_check);
	w->flush_check.data = w;
	uv_check_start(&w->flush_check, rw__udp_flush_cb);
	if (w->measure) {
		uv_timer_init(&w->loop, &w->snap_timer);
		w->snap_timer.data = w;
		uv_timer_start(&w->snap_timer, rw__metrics_snapshot_cb, SNAPSHOT_MS, SNAPSHOT_MS);
	}
	if (apply_loop_settings(w, w->gen, err, err_len) != 0 ||
	    groups_new(w, w->gen, err, err_len) != 0)
		return RW_EIO;
	return rw__listen_start(s, w, err, err_len);
}
