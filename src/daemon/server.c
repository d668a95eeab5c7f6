/* The server's lifecycle: the shared state (cache, in-flight table, infra,
 * hints, forwarding routes), binding every worker's sockets, running the
 * main loop while the workers run theirs, and the orderly shutdown
 * (src/DESIGN.md). The parts live beside it: listen.c, session.c,
 * pending.c, worker.c, metrics.c, ops.c (daemon_int.h says who owns what). */
#include "server.h"
#include "daemon_int.h"
#include "upstream.h"
#include "dnstap.h"
#include "control.h"
#include "http.h"
#include "rootwalk/err.h"
#include "rootwalk/infra.h"

#include <ares.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int setup_shared(struct rw_server *s, char *err, size_t err_len)
{
	const struct rw_config *cfg = s->cfg;
	struct rw_cache_config cc;
	rw__cache_config_of(cfg, &cc);
	s->cache = rw_cache_new(&cc);
	s->flight = rw_flight_new(cfg->max_outstanding, FLIGHT_WAITERS_MAX);
	s->infra = rw_infra_new(100000);
	s->failures = rw_failcache_new(100000, cfg->failure_ttl * 1000u,
	                               cfg->failure_ttl_max * 1000u, NULL, NULL);
	if (s->cache == NULL || s->flight == NULL || s->infra == NULL || s->failures == NULL)
		return RW_ENOMEM;
	if (cfg->cache_file != NULL && cfg->action == RW_CONFIG_RUN) {
		/* A restart does not start cold; a file that is missing or
		 * refused leaves the cache empty, with a line saying why. */
		char msg[4500];
		int e = rw__cache_load(s, cfg->cache_file, msg, sizeof msg);
		if (e == 0)
			rw_log_info("cache: %s", msg);
		else if (e == RW_ENOTFOUND)
			rw_log_info("cache: no cache file yet (%s); starting empty",
			            cfg->cache_file);
		else
			rw_log_warn("cache: %s; starting empty", msg);
	}
	if (cfg->root_hints != NULL) {
		if (rw_hints_load(cfg->root_hints, &s->hints, err, err_len) != 0)
			return RW_EINVAL;
	} else {
		rw_hints_builtin(&s->hints);
	}
	/* The settings the workers start with; reloads replace them. */
	int e = rw__gen_new(cfg, NULL, NULL, &s->gen, err, err_len);
	if (e != 0)
		return e;
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
	s->inherit_http = s->inherit_control = -1;
	uv_mutex_init(&s->retire_lock);
	s->zones = rw_zoneset_ref(zones);
	s->nlisten = cfg->nlisten;
	s->nworkers = cfg->threads;
	s->workers = calloc(s->nworkers, sizeof *s->workers);
	/* A takeover comes first: the old process writes its cache file
	 * before it hands over, and setup_shared reads it. */
	int e = s->workers == NULL ? RW_ENOMEM : 0;
	if (e == 0 && cfg->takeover && cfg->action == RW_CONFIG_RUN)
		e = rw__takeover_take(s, err, err_len);
	if (e == 0)
		e = setup_shared(s, err, err_len);
	for (unsigned i = 0; i < s->nlisten && e == 0; i++) {
		/* "--listen 127.0.0.1" means port 53: say so, once. */
		const char *t = cfg->listen[i].text, *colon = strrchr(t, ':');
		if (colon == NULL || (t[0] == '[' && colon < strrchr(t, ']')))
			rw_log_info("listen %s: no port given, so port 53", t);
		if (!rw__takeover_has(s, i))
			e = rw__listen_probe(&cfg->listen[i], err, err_len);
	}
	for (unsigned i = 0; i < s->nworkers && e == 0; i++)
		e = rw__worker_new(s, i, zones, &s->workers[i], err, err_len);
	if (e == 0 && cfg->dnstap != NULL && cfg->action == RW_CONFIG_RUN) {
		/* One queue per worker; identity and version as CHAOS gives them. */
		bool sock = strncmp(cfg->dnstap, "unix:", 5) == 0;
		e = rw_dnstap_open(sock ? cfg->dnstap + 5 : NULL, sock ? NULL : cfg->dnstap + 5,
		                   s->nworkers, s->gen != NULL ? s->gen->identity : NULL,
		                   s->gen != NULL ? s->gen->version : NULL, &s->dnstap, err,
		                   err_len);
		for (unsigned i = 0; i < s->nworkers && e == 0; i++)
			s->workers[i]->tap = rw_dnstap_queue(s->dnstap, i);
		if (e == 0)
			rw_log_info("dnstap to %s", cfg->dnstap);
	}
	if (e != 0) {
		if (e == RW_ENOMEM)
			snprintf(err, err_len, "out of memory");
		rw_server_free(s);
		return e;
	}
	*out = s;
	return 0;
}

int rw_server_run(struct rw_server *s)
{
	char err[512];
	s->started_ns = uv_hrtime();
	s->started_wall = (int64_t)time(NULL);
	/* The latency clock is fixed before any worker reads it. */
	if (s->cfg->http != NULL || s->cfg->control != NULL || s->cfg->log_queries)
		lat_calibrate();
	int e = uv_loop_init(&s->loop);
	if (e != 0) {
		rw_log_error("event loop: %s", uv_strerror(e));
		return RW_EIO;
	}
	uv_async_init(&s->loop, &s->retire_async, rw__ops_retire_cb);
	s->retire_async.data = s;
	s->retire_inited = 1;
	int signums[3] = {SIGTERM, SIGINT, SIGHUP};
	for (int i = 0; i < 3; i++) {
		uv_signal_init(&s->loop, &s->sigs[i]);
		s->sigs[i].data = s;
		uv_signal_start(&s->sigs[i], rw__ops_on_signal, signums[i]);
	}
	unsigned started = 0;
	bool ok = true;
	for (unsigned i = 0; i < s->nworkers && ok; i++) {
		if (rw__worker_start(s, s->workers[i], err, sizeof err) != 0) {
			rw_log_error("%s", err);
			ok = false;
		}
	}
	/* HTTP and control listen before the privilege drop (the control
	 * socket may live in a root-owned folder); then the workers start. */
	if (ok)
		rw__ops_start_side_services(s);
	if (ok && s->cfg->user != NULL && rw__ops_drop_privileges(s->cfg->user) != 0)
		ok = false;
	for (unsigned i = 0; i < s->nworkers && ok; i++) {
		if (uv_thread_create(&s->workers[i]->thread, rw__worker_main, s->workers[i]) != 0) {
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
		rw_log_info("rootwalk serving on %s (UDP and TCP) with %u worker%s%s%s%s", addrs,
		            s->nworkers, s->nworkers == 1 ? "" : "s",
		            s->cfg->threads_why[0] ? " (" : "", s->cfg->threads_why,
		            s->cfg->threads_why[0] ? ")" : "");
		if (s->cfg->watch_zones)
			rw__ops_start_watches(s);
		s->running = 1;
		rw__takeover_done(s);
		rw__notify("READY=1\nSTATUS=serving");
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
			rw__worker_shutdown(w);
			uv_run(&w->loop, UV_RUN_DEFAULT);
			uv_loop_close(&w->loop);
		}
		rw__ops_close_main(s);
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
	if (ok && s->gen->cfg->cache_file != NULL && !s->draining) {
		/* A clean exit keeps the cache for the next start (after a
		 * takeover, the new process has it and writes it). */
		char msg[4500];
		if (rw__cache_save(s, s->gen->cfg->cache_file, msg, sizeof msg) == 0)
			rw_log_info("cache: %s", msg);
		else
			rw_log_error("cache: could not save: %s", msg);
	}
	if (uv_loop_close(&s->loop) != 0) {
		rw_log_error("main loop: handles left open at exit");
		rc = RW_EIO;
	}
	return rc;
}

void rw_server_set_args(struct rw_server *s, int argc, char **argv)
{
	s->argc = argc;
	s->argv = argv;
}

void rw_server_free(struct rw_server *s)
{
	if (s == NULL)
		return;
	rw__metrics_log_summary(s);
	for (unsigned i = 0; s->workers != NULL && i < s->nworkers; i++)
		rw__worker_free(s->workers[i]);
	free(s->workers);
	rw__ops_retire_drain(s); /* sets handed back after the main loop stopped */
	uv_mutex_destroy(&s->retire_lock);
	rw_flight_free(s->flight);
	rw_cache_free(s->cache);
	rw_infra_free(s->infra);
	rw_failcache_free(s->failures);
	rw_upstream_stats_free_all(); /* every worker, and so every channel, is gone */
	rw_dnstap_close(s->dnstap);   /* after the workers: flushes what they queued */
	rw__gen_unref(s->gen);
	rw__takeover_fini(s);
	free(s->watches);
	for (size_t i = 0; i < s->nfwd_ops; i++)
		free(s->fwd_ops[i]);
	free(s->fwd_ops);
	if (s->zones != NULL)
		rw_zoneset_unref(s->zones);
	ares_library_cleanup();
	free(s);
}
