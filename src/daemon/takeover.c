/* Restarts and upgrades that drop nothing (issue 12).
 *
 * A new rootwalk started with --takeover asks the running one, over its
 * control socket, for every listening socket it has (DNS over UDP and
 * TCP, HTTP, control) and gets them as descriptors (SCM_RIGHTS): the same
 * sockets, not new ones bound beside them, so no datagram or connection
 * waiting in a socket's queue is lost. Both processes read them until the
 * new one serves; then it sends the old one SIGTERM, and the old one --
 * having handed its sockets over -- stops reading and accepting, finishes
 * the questions it has in flight upstream (answers go out on the same
 * sockets), and exits. The old one writes its cache file before handing
 * over, so the new one starts warm. Why not SO_REUSEPORT with the old
 * process closing its own sockets: datagrams already queued on a closing
 * socket are dropped, and a reuseport group reshuffles when one leaves. */
#include "control.h"
#include "daemon_int.h"
#include "http.h"
#include "rootwalk/err.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* How many sockets a takeover may bring: 256 workers, 8 addresses each. */
#define INHERIT_MAX 4096
/* How often a draining process looks at what it still has in flight (it
 * waits at most the resolve timeout plus a second). */
#define DRAIN_CHECK_MS 50

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->ss_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
	}
	return false;
}

/* Where an inherited socket goes: a listen address, the HTTP or control
 * listener, or nowhere (closed: the new configuration does not listen
 * there). */
static void classify(struct rw_server *s, int fd)
{
	const struct rw_config *cfg = s->cfg;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	int type = 0;
	socklen_t tl = sizeof type;
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0) {
		close(fd);
		return;
	}
	if (ss.ss_family == AF_UNIX && cfg->control != NULL && s->inherit_control < 0) {
		s->inherit_control = fd;
		return;
	}
	if (type == SOCK_STREAM && cfg->http != NULL && s->inherit_http < 0 &&
	    same_addr(&ss, &cfg->http->ss)) {
		s->inherit_http = fd;
		return;
	}
	for (unsigned i = 0; i < s->nlisten; i++) {
		if ((type == SOCK_DGRAM || type == SOCK_STREAM) &&
		    same_addr(&ss, &cfg->listen[i].ss)) {
			s->inherit[s->ninherit++] = (struct inherited){fd, type, i};
			return;
		}
	}
	close(fd); /* an address we no longer listen on */
}

int rw__takeover_take(struct rw_server *s, char *err, size_t err_len)
{
	const struct rw_config *cfg = s->cfg;
	if (cfg->control == NULL) {
		snprintf(err, err_len,
		         "--takeover needs --control: the control socket of the rootwalk to "
		         "take over");
		return RW_EINVAL;
	}
	int *fds = malloc(INHERIT_MAX * sizeof *fds);
	s->inherit = calloc(INHERIT_MAX, sizeof *s->inherit);
	if (fds == NULL || s->inherit == NULL) {
		free(fds);
		snprintf(err, err_len, "out of memory");
		return RW_ENOMEM;
	}
	size_t n;
	char msg[512];
	int e = rw_control_takeover(cfg->control, fds, INHERIT_MAX, &n, &s->takeover_pid, msg,
	                            sizeof msg);
	if (e == RW_ENOTFOUND) {
		rw_log_info("--takeover: no rootwalk to take over (%s); starting afresh", msg);
		free(fds);
		return 0;
	}
	if (e != 0) {
		snprintf(err, err_len, "--takeover: %s", msg);
		free(fds);
		return RW_EIO;
	}
	for (size_t i = 0; i < n; i++)
		classify(s, fds[i]);
	free(fds);
	rw_log_info("--takeover: took %zu listening sockets from pid %ld (%zu DNS, %s, %s)", n,
	            s->takeover_pid, s->ninherit, s->inherit_http >= 0 ? "HTTP" : "no HTTP",
	            s->inherit_control >= 0 ? "control" : "no control");
	return 0;
}

bool rw__takeover_has(const struct rw_server *s, unsigned li)
{
	for (size_t k = 0; k < s->ninherit; k++)
		if (s->inherit[k].li == li)
			return true;
	return false;
}

void rw__takeover_done(struct rw_server *s)
{
	if (s->takeover_pid <= 0)
		return;
	if (kill((pid_t)s->takeover_pid, SIGTERM) == 0)
		rw_log_info("--takeover: serving; pid %ld finishes what it has in flight and "
		            "exits",
		            s->takeover_pid);
	else
		rw_log_warn("--takeover: could not signal pid %ld: %s", s->takeover_pid,
		            strerror(errno));
}

void rw__takeover_fini(struct rw_server *s)
{
	for (size_t k = 0; k < s->ninherit; k++)
		if (s->inherit[k].fd >= 0)
			close(s->inherit[k].fd);
	if (s->inherit_http >= 0)
		close(s->inherit_http);
	if (s->inherit_control >= 0)
		close(s->inherit_control);
	free(s->inherit);
	s->inherit = NULL;
	s->ninherit = 0;
	s->inherit_http = s->inherit_control = -1;
}

void rw__takeover_give(struct rw_server *s, int client, struct rw_buf *out)
{
	const struct rw_config *cfg = s->gen->cfg;
	if (s->draining) {
		rw_buf_printf(out, "error: draining: handed over already\n");
		return;
	}
	/* The new process reads the cache file as it starts: write it now,
	 * so it starts warm. */
	char msg[4500];
	if (cfg->cache_file != NULL) {
		if (rw__cache_save(s, cfg->cache_file, msg, sizeof msg) == 0)
			rw_log_info("takeover: cache: %s", msg);
		else
			rw_log_warn("takeover: cache: could not save: %s", msg);
	}
	size_t cap = 2, n = 0;
	for (unsigned i = 0; i < s->nworkers; i++)
		cap += s->workers[i]->nudp + s->workers[i]->ntcp;
	int *fds = malloc(cap * sizeof *fds);
	if (fds == NULL) {
		rw_buf_printf(out, "error: out of memory\n");
		return;
	}
	/* The workers' listening handles do not change while they run (a
	 * drain starts only after this); their descriptors are read here. */
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];
		for (size_t k = 0; k < w->nudp; k++)
			if (uv_fileno((uv_handle_t *)&w->udp[k], &fds[n]) == 0)
				n++;
		for (size_t k = 0; k < w->ntcp; k++)
			if (uv_fileno((uv_handle_t *)&w->tcp[k], &fds[n]) == 0)
				n++;
	}
	if (s->http != NULL && (fds[n] = rw_http_fd(s->http)) >= 0)
		n++;
	if (s->control != NULL && (fds[n] = rw_control_fd(s->control)) >= 0)
		n++;
	if (rw_control_send_fds(client, fds, n) != 0) {
		free(fds);
		rw_buf_printf(out, "error: could not send the sockets\n");
		return;
	}
	free(fds);
	s->handed_over = true;
	rw_log_info("takeover: handed %zu listening sockets to a new rootwalk; on SIGTERM this "
	            "one finishes what it has in flight and exits",
	            n);
	rw_buf_printf(out, "ok: handed over %zu sockets (pid %ld)\n", n, (long)getpid());
}

static void drain_closed(uv_handle_t *h)
{
	(void)h;
}

static void drain_check(uv_timer_t *t)
{
	struct rw_server *s = t->data;
	size_t left = rw_flight_count(s->flight);
	uint64_t waited = uv_now(&s->loop) - s->drain_start_ms;
	/* Nothing in flight twice in a row: answers handed to other
	 * workers' mailboxes in between have gone out. */
	s->drain_idle = left == 0 ? s->drain_idle + 1 : 0;
	uint64_t cap = (uint64_t)s->gen->cfg->resolve_timeout_ms + 1000;
	if (s->drain_idle < 2 && waited < cap)
		return;
	if (left > 0)
		rw_log_warn("drained for %llu ms; %zu questions still in flight are dropped",
		            (unsigned long long)waited, left);
	else
		rw_log_info("drained in %llu ms; shutting down", (unsigned long long)waited);
	uv_timer_stop(t);
	uv_close((uv_handle_t *)t, drain_closed);
	for (unsigned i = 0; i < s->nworkers; i++)
		uv_async_send(&s->workers[i]->stop);
	rw__ops_close_main(s);
}

void rw__takeover_drain(struct rw_server *s)
{
	rw__notify("STOPPING=1");
	s->draining = true;
	rw_log_info("SIGTERM after a takeover: no new queries here; finishing %zu questions in "
	            "flight",
	            rw_flight_count(s->flight));
	/* The new process holds these listeners too: ours go, theirs stay. */
	rw_http_close(s->http);
	s->http = NULL;
	rw_control_close(s->control, true);
	s->control = NULL;
	for (unsigned i = 0; i < s->nworkers; i++)
		uv_async_send(&s->workers[i]->drain_async);
	uv_timer_init(&s->loop, &s->drain_timer);
	s->drain_timer.data = s;
	s->drain_start_ms = uv_now(&s->loop);
	uv_timer_start(&s->drain_timer, drain_check, DRAIN_CHECK_MS, DRAIN_CHECK_MS);
}
