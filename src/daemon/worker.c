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
	for (size_t i = 0; i < w->srv->ngroups; i++) {
		rw_upstream_close(w->groups[i]);
		w->groups[i] = NULL;
	}
	uv_walk(&w->loop, close_walk, NULL);
}

static void worker_stop(uv_async_t *a)
{
	rw__worker_shutdown(a->data);
}

void rw__worker_main(void *arg)
{
	struct worker *w = arg;
	uv_run(&w->loop, UV_RUN_DEFAULT);
	w->loop_close_rc = uv_loop_close(&w->loop);
}

void rw__worker_free(struct worker *w, size_t nlisten)
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
	free(w->groups);
	free(w->probes);
	free(w->split);
	rw_ratelimit_free(w->rl);
	for (size_t i = 0; i < nlisten; i++) {
		if (w->udp_fds[i] >= 0)
			close(w->udp_fds[i]);
		if (w->tcp_fds[i] >= 0)
			close(w->tcp_fds[i]);
	}
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
	const struct rw_config *cfg = w->srv->cfg;
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

int rw__worker_new(struct rw_server *s, unsigned index, struct rw_zoneset *zones,
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
	w->probes = calloc(s->ngroups + 1, sizeof *w->probes);
	w->split = calloc(s->nworkers, sizeof *w->split);
	uv_mutex_init(&w->mail_lock);
	uv_mutex_init(&w->snap_lock);
	w->measure = s->cfg->http != NULL || s->cfg->control != NULL;
	w->mail_tail = &w->mail_head;
	w->zones = rw_zoneset_ref(zones);
	rw_query_env_init(&w->env, zones, s->cfg->edns_size);
	w->env.cache = s->cache;
	w->env.failures = s->failures;
	w->env.round_robin = s->cfg->round_robin;
	w->env.acl = s->cfg->allow;
	w->env.nacl = s->cfg->nallow;
	w->env.local_from_any = s->cfg->local_from_any;
	w->env.log_queries = s->cfg->log_queries;
	if (s->cfg->rate_limit > 0)
		w->rl = rw_ratelimit_new(s->cfg->rate_limit);
	w->env.routes = s->routes;
	w->env.nroutes = s->nroutes;
	w->env.default_route = s->default_route;
	w->env.min_ttl = s->cfg->min_ttl;
	w->env.max_ttl = s->cfg->max_ttl;
	w->env.max_neg_ttl = s->cfg->max_negative_ttl;
	w->env.stale_ttl = s->cfg->serve_stale_s > 0 ? s->cfg->serve_stale_ttl : 0;
	w->env.default_group = s->default_group;
	if (w->rbuf == NULL || w->udp_fds == NULL || w->tcp_fds == NULL || w->udp == NULL ||
	    w->tcp == NULL || w->groups == NULL || w->split == NULL || w->probes == NULL) {
		*out = w;
		return RW_ENOMEM;
	}
	for (size_t i = 0; i < s->nlisten; i++)
		w->udp_fds[i] = w->tcp_fds[i] = -1;
	*out = w;
	unsigned limit = s->cfg->tcp_max_connections / s->nworkers;
	w->tcp_limit = limit > 0 ? limit : 1;
	unsigned per = s->cfg->tcp_max_per_client != 0 ? s->cfg->tcp_max_per_client
	                                               : s->cfg->tcp_max_connections / 4;
	per = (per + s->nworkers - 1) / s->nworkers;
	w->tcp_per_client = per > 0 ? per : 1;
	w->wait_per_client = (s->cfg->max_waiting_per_client + s->nworkers - 1) / s->nworkers;
	if (rw__slots_init(w) != 0)
		return RW_ENOMEM;
	return rw__listen_bind(s, w, err, err_len);
}

static uint64_t loop_ms(void *ctx)
{
	uv_update_time(ctx);
	return uv_now(ctx);
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
		e = uv_async_init(&w->loop, &w->zones_async, zones_cb);
		w->zones_async.data = w;
	}
	if (e != 0) {
		snprintf(err, err_len, "event loop: %s", uv_strerror(e));
		return RW_EIO;
	}
	w->mail_async.data = w;
	uv_check_init(&w->loop, &w->flush_check);
	w->flush_check.data = w;
	uv_check_start(&w->flush_check, rw__udp_flush_cb);
	const struct rw_config *cfg = s->cfg;
	if (w->measure) {
		uv_timer_init(&w->loop, &w->snap_timer);
		w->snap_timer.data = w;
		uv_timer_start(&w->snap_timer, rw__metrics_snapshot_cb, SNAPSHOT_MS, SNAPSHOT_MS);
	}
	if (w->index == 0 && cfg->nkeep_warm > 0) {
		uv_timer_init(&w->loop, &w->warm_timer);
		w->warm_timer.data = w;
		uv_timer_start(&w->warm_timer, keep_warm_cb, 0, KEEP_WARM_MS);
	}
	if (s->default_route == RW_ROUTE_ITERATE) {
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
		w->iter = rw_iter_new(&w->loop, &w->res_env, &w->res_stats);
		if (w->iter == NULL) {
			snprintf(err, err_len, "out of memory");
			return RW_ENOMEM;
		}
	}
	for (size_t g = 0; g < s->ngroups; g++) {
		const struct rw_sockaddr *servers =
		    g < cfg->nforward_zones ? cfg->forward_zones[g].servers : cfg->forward;
		size_t n = g < cfg->nforward_zones ? cfg->forward_zones[g].nservers : cfg->nforward;
		if (rw_upstream_new(&w->loop, servers, n, cfg->upstream_timeout_ms,
		                    cfg->upstream_tries, cfg->edns_size, &w->groups[g], err,
		                    err_len) != 0)
			return RW_EIO;
	}
	return rw__listen_start(s, w, err, err_len);
}
