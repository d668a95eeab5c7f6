/* Day-two operations on the main thread (Unbound's daemon/remote.c):
 * zone reloads built aside and handed to the workers, --watch-zones,
 * retiring old zone sets, the control socket's commands, signals, the
 * HTTP and control listeners, and dropping privileges. */
#include "daemon_int.h"
#include "rootwalk/err.h"
#include "control.h"
#include "http.h"
#include "rootwalk/zoneload.h"
#include "server.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Main thread: drops the references workers handed back. */
void rw__ops_retire_drain(struct rw_server *s)
{
	uv_mutex_lock(&s->retire_lock);
	struct retired *r = s->retired;
	s->retired = NULL;
	uv_mutex_unlock(&s->retire_lock);
	while (r != NULL) {
		struct retired *next = r->next;
		if (r->zones != NULL)
			rw_zoneset_unref(r->zones);
		rw__gen_unref(r->gen);
		free(r);
		r = next;
	}
}

void rw__ops_retire_cb(uv_async_t *a)
{
	rw__ops_retire_drain(a->data);
}

/* The zone sources cfg names; rw_zone_sources borrows cfg's strings and
 * two arrays made here (sources_fini frees them). */
static int sources_of(const struct rw_config *cfg, struct rw_zone_sources *src)
{
	struct rw_zone_file *files = calloc(cfg->nzones + 1, sizeof *files);
	const char **fwd = calloc(cfg->nforward_zones + 1, sizeof *fwd);
	if (files == NULL || fwd == NULL) {
		free(files);
		free(fwd);
		return RW_ENOMEM;
	}
	for (size_t i = 0; i < cfg->nzones; i++)
		files[i] = (struct rw_zone_file){cfg->zones[i].name, cfg->zones[i].file};
	for (size_t i = 0; i < cfg->nforward_zones; i++)
		fwd[i] = cfg->forward_zones[i].name;
	*src = (struct rw_zone_sources){.builtin = cfg->builtin_zones,
	                                .no_builtin = (const char *const *)cfg->no_builtin,
	                                .nno_builtin = cfg->nno_builtin,
	                                .dir = cfg->zones_dir,
	                                .zones = files,
	                                .nzones = cfg->nzones,
	                                .forward = fwd,
	                                .nforward = cfg->nforward_zones};
	return 0;
}

static void sources_fini(struct rw_zone_sources *src)
{
	free((void *)src->zones);
	free((void *)src->forward);
}

int rw_server_load_zones(const struct rw_config *cfg, struct rw_zoneset **out, char *err,
                         size_t err_len)
{
	struct rw_zone_sources src;
	if (sources_of(cfg, &src) != 0) {
		snprintf(err, err_len, "out of memory");
		return RW_ENOMEM;
	}
	int e = rw_zoneload(&src, out, err, err_len);
	/* A built-in zone below a forward zone still answers its own names:
	 * say so, with the way out. */
	for (size_t i = 0; e == 0 && i < src.nforward; i++) {
		char below[512];
		size_t n = rw_zoneset_builtin_below(*out, src.forward[i], below, sizeof below);
		if (n > 0)
			rw_log_warn(
			    "forward-zone %s: %zu built-in zone%s under it answer%s locally "
			    "(%s); --no-builtin-zone NAME sends one there",
			    src.forward[i], n, n == 1 ? "" : "s", n == 1 ? "s" : "", below);
	}
	sources_fini(&src);
	return e;
}

/* Hands every worker the zone set next and the settings gen (either may
 * be NULL: unchanged); each switches between two events. */
static void hand_over(struct rw_server *s, struct rw_zoneset *next, struct gen *gen)
{
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];
		uv_mutex_lock(&w->mail_lock);
		if (next != NULL) {
			if (w->next_zones != NULL)
				rw_zoneset_unref(w->next_zones);
			w->next_zones = rw_zoneset_ref(next);
		}
		if (gen != NULL) {
			rw__gen_unref(w->next_gen);
			w->next_gen = rw__gen_ref(gen);
		}
		if (!w->mail_closed)
			uv_async_send(&w->zones_async);
		uv_mutex_unlock(&w->mail_lock);
	}
}

/* The settings only the main thread holds: logging and the shared
 * cache's policy. */
static void apply_main_settings(struct rw_server *s, const struct rw_config *cfg)
{
	rw_log_set_level(cfg->log_level);
	rw_log_set_json(cfg->log_json);
	struct rw_cache_config cc;
	rw__cache_config_of(cfg, &cc);
	rw_cache_set_policy(s->cache, &cc);
}

/* Reads the configuration again (the same command line, the file it
 * names) into new settings: *out, and what changed into msg. On any
 * error nothing changes; RW_EINVAL with the error in msg (file:line:
 * problem for the file). */
static int reload_config(struct rw_server *s, struct gen **out, char *msg, size_t msg_len)
{
	struct rw_config *nc = calloc(1, sizeof *nc);
	if (nc == NULL) {
		snprintf(msg, msg_len, "out of memory");
		return RW_ENOMEM;
	}
	int e = rw_config_load(nc, s->argc, s->argv, msg, msg_len);
	if (e == 0 && nc->action != RW_CONFIG_RUN) {
		snprintf(msg, msg_len, "the command line is not a daemon's");
		e = RW_EINVAL;
	}
	/* Forward zones added or removed at run time (control forward-add,
	 * forward-remove) stay until a restart: they apply over the file. */
	for (size_t i = 0; e == 0 && i < s->nfwd_ops; i++) {
		const char *op = s->fwd_ops[i];
		if (op[0] == '+')
			e = rw_config_forward_zone_add(nc, op + 1, msg, msg_len);
		else
			rw_config_forward_zone_remove(nc, op + 1); /* gone already: fine */
	}
	struct gen *g = NULL;
	if (e == 0)
		e = rw__gen_new(NULL, nc, s->gen, &g, msg, msg_len);
	else
		rw_config_fini(nc);
	free(nc);
	if (e != 0)
		return e;
	char changed[512], restart[256];
	size_t n = rw_config_diff(s->gen->cfg, g->cfg, false, changed, sizeof changed);
	size_t r = rw_config_diff(s->cfg, g->cfg, true, restart, sizeof restart);
	s->restart_pending = r > 0;
	size_t len = (size_t)snprintf(msg, msg_len, "config: %zu setting%s changed%s%s", n,
	                              n == 1 ? "" : "s", n > 0 ? " (" : "", n > 0 ? changed : "");
	if (n > 0 && len < msg_len)
		len += (size_t)snprintf(msg + len, msg_len - len, ")");
	if (r > 0 && len < msg_len)
		snprintf(msg + len, msg_len - len, "; needs a restart: %s (running as before)",
		         restart);
	*out = g;
	return 0;
}

/* Builds the new zone set -- and, unless zones_only, the new settings --
 * aside (this thread), then hands them to every worker; on any error the
 * old ones keep serving. */
static int reload_now(struct rw_server *s, const char *why, bool zones_only, char *err,
                      size_t err_len);

/* A reload, told to systemd (Type=notify): RELOADING=1, then READY=1
 * whatever the outcome (on failure the old state keeps serving). */
static int reload(struct rw_server *s, const char *why, bool zones_only, char *err, size_t err_len)
{
	rw__notify("RELOADING=1");
	int e = reload_now(s, why, zones_only, err, err_len);
	rw__notify(e == 0 ? "READY=1\nSTATUS=serving"
	                  : "READY=1\nSTATUS=serving; the last reload failed");
	return e;
}

static int reload_now(struct rw_server *s, const char *why, bool zones_only, char *err,
                      size_t err_len)
{
	uint64_t t0 = uv_hrtime();
	struct gen *gen = NULL;
	char cmsg[1024] = "";
	if (!zones_only && s->argv != NULL) {
		if (reload_config(s, &gen, cmsg, sizeof cmsg) != 0) {
			s->config_failed++;
			rw_log_error("reload (%s) failed, still serving the previous configuration "
			             "and zones: %s",
			             why, cmsg);
			snprintf(err, err_len, "%s", cmsg);
			return RW_EINVAL;
		}
	}
	struct rw_zoneset *next = NULL;
	const struct rw_config *cfg = gen != NULL ? gen->cfg : s->gen->cfg;
	if (rw_server_load_zones(cfg, &next, err, err_len) != 0) {
		s->reloads_failed++;
		if (gen != NULL)
			s->config_failed++;
		rw__gen_unref(gen);
		rw_log_error("reload (%s) failed, still serving the previous %s: %s", why,
		             gen != NULL ? "configuration and zones" : "zones", err);
		return RW_EINVAL;
	}
	if (gen != NULL) {
		apply_main_settings(s, gen->cfg);
		rw__gen_unref(s->gen);
		s->gen = rw__gen_ref(gen);
		s->config_ok++;
		rw_log_info("configuration reloaded (%s): %s", why, cmsg);
		if (s->restart_pending)
			rw_log_warn(
			    "configuration reloaded (%s), but some settings take a restart: "
			    "%s",
			    why, strstr(cmsg, "needs a restart: ") + 17);
	}
	hand_over(s, next, gen);
	rw__gen_unref(gen);
	rw_zoneset_unref(s->zones);
	s->zones = next;
	s->reloads_ok++;
	size_t records = 0;
	for (size_t i = 0; i < rw_zoneset_count(next); i++)
		records += rw_zone_record_count(rw_zoneset_at(next, i));
	double ms = (double)(uv_hrtime() - t0) / 1e6;
	rw_log_info("zones reloaded (%s): %zu zones, %zu records, built in %.1f ms", why,
	            rw_zoneset_count(next), records, ms);
	snprintf(err, err_len, "%s%s%zu zones, %zu records, built in %.1f ms", cmsg,
	         cmsg[0] ? "; " : "", rw_zoneset_count(next), records, ms);
	return 0;
}

/* --watch-zones: reloads when what the zone files hold changed -- a hash
 * of their names and bytes against the one the zone set was built from
 * -- and not otherwise, so it may check on any event and every
 * --watch-interval-s. Content that failed once is not tried (or logged)
 * again until it changes. */
static void zones_check(struct rw_server *s, const char *why)
{
	struct rw_zone_sources src;
	if (sources_of(s->gen->cfg, &src) != 0)
		return;
	uint64_t h = rw_zone_sources_hash(&src);
	sources_fini(&src);
	if (h == rw_zoneset_source_hash(s->zones) || (s->zones_bad && h == s->zones_bad_hash)) {
		rw_log_debug("zone files checked (%s): unchanged", why);
		return;
	}
	char msg[1024];
	if (reload(s, why, true, msg, sizeof msg) != 0) {
		s->zones_bad = true;
		s->zones_bad_hash = h;
	} else {
		s->zones_bad = false;
	}
}

static void reload_timer_cb(uv_timer_t *t)
{
	zones_check(t->data, "zone files changed");
}

static void recheck_cb(uv_timer_t *t)
{
	zones_check(t->data, "periodic check");
}

/* --watch-zones: any change in a watched folder -- a zone file written in
 * steps or renamed over, or Kubernetes' ConfigMap update, which writes a
 * new hidden folder and renames the ..data symlink over the old one --
 * starts a check after 300 ms of quiet. */
static void on_zone_change(uv_fs_event_t *h, const char *file, int events, int status)
{
	(void)events;
	(void)file;
	struct rw_server *s = h->data;
	if (status < 0)
		return;
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
void rw__ops_start_watches(struct rw_server *s)
{
	const struct rw_config *cfg = s->cfg;
	uv_timer_init(&s->loop, &s->reload_timer);
	s->reload_timer.data = s;
	uv_timer_init(&s->loop, &s->recheck_timer);
	s->recheck_timer.data = s;
	s->reload_timer_inited = 1;
	uint64_t every = (uint64_t)cfg->watch_interval_s * 1000;
	if (every > 0) /* a safety net: events can be missed (NFS, overflows) */
		uv_timer_start(&s->recheck_timer, recheck_cb, every, every);
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

static void dump_line(void *ctx, const char *line)
{
	rw_buf_printf(ctx, "%s\n", line);
}

/* forward-add ZONE=ADDR... / forward-remove ZONE: one more run-time
 * change on top of the file, applied by a reload (which also applies what
 * changed in the file since); undone if the reload fails. */
static void forward_edit(struct rw_server *s, enum rw_control_cmd cmd, const char *arg,
                         struct rw_buf *out)
{
	char msg[1024];
	if (s->argv == NULL) {
		rw_buf_printf(out, "error: this daemon has no command line to reload from\n");
		return;
	}
	if (cmd == RW_CTL_FWD_REMOVE) {
		uint8_t want[RW_NAME_MAX], have[RW_NAME_MAX];
		size_t wl, hl;
		bool found = false;
		const struct rw_config *cfg = s->gen->cfg;
		rw_name_from_text(arg, strlen(arg), (const uint8_t *)"", want, &wl);
		/* Bound: the forward zones served. */
		for (size_t i = 0; i < cfg->nforward_zones && !found; i++) {
			const char *zn = cfg->forward_zones[i].name;
			found = rw_name_from_text(zn, strlen(zn), (const uint8_t *)"", have, &hl) ==
			            0 &&
			        rw_name_eq(want, have);
		}
		if (!found) {
			rw_buf_printf(out, "error: no forward zone %s\n", arg);
			return;
		}
	}
	char **grown = realloc(s->fwd_ops, (s->nfwd_ops + 1) * sizeof *grown);
	size_t al = strlen(arg);
	char *op = malloc(al + 2);
	if (grown == NULL || op == NULL) {
		free(op);
		if (grown != NULL)
			s->fwd_ops = grown;
		rw_buf_printf(out, "error: out of memory\n");
		return;
	}
	s->fwd_ops = grown;
	op[0] = cmd == RW_CTL_FWD_ADD ? '+' : '-';
	memcpy(op + 1, arg, al + 1);
	s->fwd_ops[s->nfwd_ops++] = op;
	const char *why = cmd == RW_CTL_FWD_ADD ? "control forward-add" : "control forward-remove";
	if (reload(s, why, false, msg, sizeof msg) == 0) {
		rw_log_info("%s %s: applied until a restart", why, arg);
		rw_buf_printf(out, "ok: %s %s (until a restart): %s\n",
		              cmd == RW_CTL_FWD_ADD ? "forwarding" : "no longer forwarding", arg,
		              msg);
		return;
	}
	free(s->fwd_ops[--s->nfwd_ops]);
	rw_buf_printf(out, "error: %s (nothing changed)\n", msg);
}

/* flush-infra [ADDR]: every server record, or one server's (its address
 * on every port when no port is given). */
static void flush_infra(struct rw_server *s, const char *arg, struct rw_buf *out)
{
	if (arg[0] == 0) {
		rw_buf_printf(out, "ok: forgot %zu server records\n", rw_infra_flush(s->infra));
		return;
	}
	struct rw_sockaddr a;
	if (rw_addr_parse(arg, 0, &a) != 0) {
		rw_buf_printf(out, "error: not an address: %s\n", arg);
		return;
	}
	const struct sockaddr *sa = (const struct sockaddr *)&a.ss;
	bool any_port = sa->sa_family == AF_INET
	                    ? ((const struct sockaddr_in *)sa)->sin_port == 0
	                    : ((const struct sockaddr_in6 *)sa)->sin6_port == 0;
	rw_buf_printf(out, "ok: forgot %zu server records of %s\n",
	              rw_infra_forget(s->infra, sa, any_port), arg);
}

static void control_handler(void *ctx, enum rw_control_cmd cmd, const char *arg, int client,
                            struct rw_buf *out)
{
	struct rw_server *s = ctx;
	char msg[1024];
	switch (cmd) {
	case RW_CTL_TAKEOVER: rw__takeover_give(s, client, out); break;
	case RW_CTL_STATUS:
	case RW_CTL_LOG_LEVEL:
	case RW_CTL_FLUSH_NEG:
	case RW_CTL_FLUSH_ZONE:
	case RW_CTL_FLUSH_TYPE:
	case RW_CTL_LIST_FWD:
	case RW_CTL_LIST_ZONES:
	case RW_CTL_LOOKUP:
		if (!rw__ctl_more(s, cmd, arg, out))
			rw_buf_printf(out, "error: bad argument\n");
		break;
	case RW_CTL_STATS:
		rw_buf_printf(out, "ok\n");
		rw__metrics_write(s, out);
		break;
	case RW_CTL_RELOAD:
		if (reload(s, "control", false, msg, sizeof msg) == 0)
			rw_buf_printf(out, "ok: reloaded: %s\n", msg);
		else
			rw_buf_printf(out,
			              "error: %s (still serving the previous configuration and "
			              "zones)\n",
			              msg);
		break;
	case RW_CTL_FLUSH:
		if (arg[0] == 0) {
			size_t n = rw_cache_entries(s->cache);
			rw_cache_flush(s->cache);
			/* A full flush starts afresh: servers and failures too. */
			size_t k = rw_infra_flush(s->infra), f = rw_failcache_flush(s->failures);
			rw_buf_printf(out,
			              "ok: flushed %zu entries, %zu server records, %zu failures\n",
			              n, k, f);
		} else {
			uint8_t wire[RW_NAME_MAX];
			size_t wl;
			rw_name_from_text(arg, strlen(arg), (const uint8_t *)"", wire, &wl);
			rw_buf_printf(out, "ok: flushed %zu entries for %s\n",
			              rw_cache_flush_name(s->cache, wire), arg);
		}
		break;
	case RW_CTL_INFRA: {
		struct rw_buf lines = {0};
		size_t n = rw_infra_dump(s->infra, uv_hrtime() / 1000000, dump_line, &lines);
		rw_buf_printf(out, "ok: %zu server records\n", n);
		if (lines.len > 0)
			rw_buf_printf(out, "%.*s", (int)lines.len, lines.p);
		out->failed |= lines.failed;
		free(lines.p);
		break;
	}
	case RW_CTL_FLUSH_INFRA: flush_infra(s, arg, out); break;
	case RW_CTL_FWD_ADD:
	case RW_CTL_FWD_REMOVE: forward_edit(s, cmd, arg, out); break;
	case RW_CTL_LOAD:
		if (rw__cache_load(s, arg, msg, sizeof msg) == 0)
			rw_buf_printf(out, "ok: %s\n", msg);
		else
			rw_buf_printf(out, "error: %s\n", msg);
		break;
	case RW_CTL_DUMP: {
		if (arg[0] != 0) { /* to a cache file */
			if (rw__cache_save(s, arg, msg, sizeof msg) == 0)
				rw_buf_printf(out, "ok: %s\n", msg);
			else
				rw_buf_printf(out, "error: %s\n", msg);
			break;
		}
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

void rw__ops_close_main(struct rw_server *s)
{
	if (s->retire_inited && !uv_is_closing((uv_handle_t *)&s->retire_async))
		uv_close((uv_handle_t *)&s->retire_async, NULL);
	rw_http_close(s->http);
	s->http = NULL;
	/* After a takeover the socket file is the new process's. */
	rw_control_close(s->control, s->handed_over);
	s->control = NULL;
	if (s->draining && !uv_is_closing((uv_handle_t *)&s->drain_timer))
		uv_close((uv_handle_t *)&s->drain_timer, NULL);
	for (int i = 0; i < 3; i++)
		if (!uv_is_closing((uv_handle_t *)&s->sigs[i]))
			uv_close((uv_handle_t *)&s->sigs[i], NULL);
	for (size_t i = 0; i < s->nwatches; i++)
		uv_close((uv_handle_t *)&s->watches[i], NULL);
	s->nwatches = 0;
	if (s->reload_timer_inited && !uv_is_closing((uv_handle_t *)&s->reload_timer)) {
		uv_close((uv_handle_t *)&s->reload_timer, NULL);
		uv_close((uv_handle_t *)&s->recheck_timer, NULL);
	}
}

void rw__ops_on_signal(uv_signal_t *sig, int signum)
{
	struct rw_server *s = sig->data;
	if (signum == SIGHUP) {
		char msg[1024];
		reload(s, "SIGHUP", false, msg, sizeof msg);
		return;
	}
	if (signum == SIGTERM && s->handed_over && !s->draining) {
		rw__takeover_drain(s); /* a new rootwalk took over: finish, then stop */
		return;
	}
	rw_log_info("received %s, shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
	rw__notify("STOPPING=1");
	for (unsigned i = 0; i < s->nworkers; i++)
		uv_async_send(&s->workers[i]->stop);
	rw__ops_close_main(s);
}

/* --user: after every socket is bound, become that user for good. */
int rw__ops_drop_privileges(const char *user)
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

void rw__ops_start_side_services(struct rw_server *s)
{
	char err[512];
	if (s->cfg->http != NULL) {
		int fd = s->inherit_http;
		s->inherit_http = -1; /* the listener's now, whatever happens */
		if (rw_http_start(&s->loop, s->cfg->http, fd, rw__metrics_http, s, &s->http, err,
		                  sizeof err) != 0)
			rw_log_error("%s (metrics off, still serving DNS)", err);
		else
			rw_log_info("metrics and health on http://%s/", s->cfg->http->text);
	}
	if (s->cfg->control != NULL) {
		int fd = s->inherit_control;
		s->inherit_control = -1;
		if (rw_control_start(&s->loop, s->cfg->control, fd, control_handler, s, &s->control,
		                     err, sizeof err) != 0)
			rw_log_error("%s (control off, still serving DNS)", err);
		else
			rw_log_info("control socket at %s", s->cfg->control);
	}
}
