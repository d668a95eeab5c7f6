/* The control socket and its client; see control.h. */
#include "control.h"
#include "wireproto.h"
#include "rootwalk/err.h"
#include "rootwalk/name.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define REQ_MAX RW_CTL_REQ_MAX
#define CONNS_MAX 16
#define TIMEOUT_MS 5000

struct cconn {
	struct rw_control *ctl;
	uv_pipe_t pipe;
	uv_timer_t timer;
	uv_write_t write;
	int open_handles, closing, done;
	uint8_t req[REQ_MAX];
	size_t len;
	char *out;
};

struct rw_control {
	uv_pipe_t listener;
	rw_control_handler handler;
	void *ctx;
	unsigned nconns;
	int open_handles, closing;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void ctl_maybe_free(struct rw_control *c)
{
	if (c->closing && c->open_handles == 0)
		free(c);
}

static void listener_closed(uv_handle_t *h)
{
	struct rw_control *c = h->data;
	c->open_handles--;
	ctl_maybe_free(c);
}

static void conn_closed(uv_handle_t *h)
{
	struct cconn *k = h->data;
	if (--k->open_handles > 0)
		return;
	struct rw_control *c = k->ctl;
	c->nconns--;
	c->open_handles--;
	free(k->out);
	free(k);
	ctl_maybe_free(c);
}

static void conn_close(struct cconn *k)
{
	if (k->closing)
		return;
	k->closing = 1;
	uv_close((uv_handle_t *)&k->pipe, conn_closed);
	uv_close((uv_handle_t *)&k->timer, conn_closed);
}

static void written(uv_write_t *w, int status)
{
	(void)status;
	conn_close(w->data);
}

static void respond(struct cconn *k, struct rw_buf *b)
{
	k->done = 1;
	uv_read_stop((uv_stream_t *)&k->pipe);
	if (b->failed) {
		free(b->p);
		b->p = strdup("error: out of memory\n");
		b->len = b->p ? strlen(b->p) : 0;
	}
	k->out = b->p;
	uv_buf_t buf = uv_buf_init(b->p ? b->p : "", (unsigned)b->len);
	k->write.data = k;
	if (uv_write(&k->write, (uv_stream_t *)&k->pipe, &buf, 1, written) != 0)
		conn_close(k);
}

static void error_reply(struct cconn *k, const char *msg)
{
	struct rw_buf b = {0};
	rw_buf_printf(&b, "error: %s\n", msg);
	respond(k, &b);
}

/* Checks the request once it is complete; false while more is needed. */
static bool try_handle(struct cconn *k)
{
	unsigned cmd;
	char arg[254];
	const char *error;
	switch (rw_ctl_parse(k->req, k->len, RW_CTL_LAST, &cmd, arg, &error)) {
	case RW_CTL_MORE: return false;
	case RW_CTL_BAD: error_reply(k, error); return true;
	case RW_CTL_OK: break;
	}
	struct rw_buf b = {0};
	int fd = -1;
	uv_fileno((uv_handle_t *)&k->pipe, &fd);
	k->ctl->handler(k->ctl->ctx, (enum rw_control_cmd)cmd, arg, fd, &b);
	respond(k, &b);
	return true;
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	(void)hint;
	struct cconn *k = h->data;
	/* one byte of room past a full request detects trailing bytes */
	static char spill[1];
	if (k->len >= REQ_MAX)
		*buf = uv_buf_init(spill, 1);
	else
		*buf = uv_buf_init((char *)k->req + k->len, (unsigned)(REQ_MAX - k->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct cconn *k = s->data;
	if (k->done || k->closing)
		return;
	if (nread < 0) {
		conn_close(k);
		return;
	}
	if (buf->base != (char *)k->req + k->len) { /* past REQ_MAX */
		error_reply(k, "request too long");
		return;
	}
	k->len += (size_t)nread;
	try_handle(k);
}

static void on_timeout(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct rw_control *c = server->data;
	if (status < 0 || c->closing)
		return;
	struct cconn *k = calloc(1, sizeof *k);
	if (k == NULL)
		return;
	k->ctl = c;
	uv_pipe_init(server->loop, &k->pipe, 0);
	uv_timer_init(server->loop, &k->timer);
	k->pipe.data = k->timer.data = k;
	k->open_handles = 2;
	c->open_handles++;
	c->nconns++;
	if (uv_accept(server, (uv_stream_t *)&k->pipe) != 0 || c->nconns > CONNS_MAX) {
		conn_close(k);
		return;
	}
	uv_timer_start(&k->timer, on_timeout, TIMEOUT_MS, 0);
	uv_read_start((uv_stream_t *)&k->pipe, on_alloc, on_read);
}

int rw_control_start(uv_loop_t *loop, const char *path, int fd, rw_control_handler handler,
                     void *ctx, struct rw_control **out, char *err, size_t err_len)
{
	struct rw_control *c = calloc(1, sizeof *c);
	if (c == NULL || strlen(path) >= sizeof c->path) {
		free(c);
		snprintf(err, err_len, "--control %s: path too long or out of memory", path);
		return RW_EINVAL;
	}
	snprintf(c->path, sizeof c->path, "%s", path);
	c->handler = handler;
	c->ctx = ctx;
	uv_pipe_init(loop, &c->listener, 0);
	c->listener.data = c;
	c->open_handles = 1;
	int e;
	if (fd >= 0) {
		e = uv_pipe_open(&c->listener, fd);
	} else {
		/* A stale socket from an earlier run is removed; anything
		 * else at the path is left alone (and the bind fails). */
		struct stat st;
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
		/* Bound here, not by uv_pipe_bind: libuv unlinks a path it
		 * bound when the handle closes, and after a takeover the
		 * path is the new process's (rw_control_close decides). */
		int sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
		mode_t old = umask(077); /* created 0600: no window with wider rights */
		e = sfd < 0 || bind(sfd, (struct sockaddr *)&sa, sizeof sa) != 0
		        ? uv_translate_sys_error(errno)
		        : 0;
		umask(old);
		if (e == 0)
			e = chmod(path, 0600) == 0 ? 0 : uv_translate_sys_error(errno);
		if (e == 0)
			e = uv_pipe_open(&c->listener, sfd);
		else if (sfd >= 0)
			close(sfd);
	}
	if (e == 0)
		e = uv_listen((uv_stream_t *)&c->listener, 16, on_connection);
	if (e != 0) {
		snprintf(err, err_len, "--control %s: %s", path, uv_strerror(e));
		c->closing = 1;
		uv_close((uv_handle_t *)&c->listener, listener_closed);
		return RW_EIO;
	}
	*out = c;
	return 0;
}

void rw_control_close(struct rw_control *c, bool keep_path)
{
	if (c == NULL || c->closing)
		return;
	c->closing = 1;
	if (!keep_path)
		unlink(c->path);
	uv_close((uv_handle_t *)&c->listener, listener_closed);
}

int rw_control_fd(const struct rw_control *c)
{
	int fd = -1;
	uv_fileno((const uv_handle_t *)&c->listener, &fd);
	return fd;
}

/* --- takeover ------------------------------------------------------------- */

#define FD_HDR 7

int rw_control_send_fds(int client, const int *fds, size_t n)
{
	/* Bound: n / RW_CTL_FDS_MAX + 1 messages. */
	size_t sent = 0;
	do {
		size_t k = n - sent < RW_CTL_FDS_MAX ? n - sent : RW_CTL_FDS_MAX;
		uint8_t hdr[FD_HDR] = {'R',        'W',          'F', 'D', (uint8_t)(k >> 8),
		                       (uint8_t)k, sent + k == n};
		union {
			char buf[CMSG_SPACE(RW_CTL_FDS_MAX * sizeof(int))];
			struct cmsghdr align;
		} u;
		memset(&u, 0, sizeof u);
		struct iovec iov = {hdr, sizeof hdr};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
		if (k > 0) {
			m.msg_control = u.buf;
			m.msg_controllen = CMSG_SPACE(k * sizeof(int));
			struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(k * sizeof(int));
			memcpy(CMSG_DATA(cm), fds + sent, k * sizeof(int));
		}
		/* The connection is non-blocking; these few bytes fit its
		 * empty buffer (the client sends nothing more and waits). */
		struct pollfd p = {client, POLLOUT, 0};
		if (poll(&p, 1, 1000) != 1 || sendmsg(client, &m, MSG_NOSIGNAL) != sizeof hdr)
			return RW_EIO;
		sent += k;
	} while (sent < n);
	return 0;
}

/* Reads one batch of descriptors; 1: it was the last, 0: more follow,
 * -1: an error (closes what it got past cap). */
static int recv_fds(int fd, int *fds, size_t cap, size_t *n)
{
	uint8_t hdr[FD_HDR];
	union {
		char buf[CMSG_SPACE(RW_CTL_FDS_MAX * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = {hdr, sizeof hdr};
	struct msghdr m = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
	struct pollfd p = {fd, POLLIN, 0};
	if (poll(&p, 1, 10000) != 1)
		return -1;
	ssize_t r = recvmsg(fd, &m, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	size_t got = 0;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm != NULL; cm = CMSG_NXTHDR(&m, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int x;
			memcpy(&x, CMSG_DATA(cm) + i * sizeof(int), sizeof x);
			if (*n < cap)
				fds[(*n)++] = x;
			else
				close(x);
			got++;
		}
	}
	if (r != FD_HDR || memcmp(hdr, "RWFD", 4) != 0 || (m.msg_flags & MSG_CTRUNC) ||
	    got != ((size_t)hdr[4] << 8 | hdr[5]))
		return -1;
	return hdr[6] == 1;
}

int rw_control_takeover(const char *path, int *fds, size_t cap, size_t *n, long *pid, char *err,
                        size_t err_len)
{
	*n = 0;
	*pid = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;
		snprintf(err, err_len, "cannot connect to %s: %s", path, strerror(e));
		if (fd >= 0)
			close(fd);
		return e == ENOENT || e == ECONNREFUSED ? RW_ENOTFOUND : RW_EIO;
	}
	uint8_t req[6] = {'R', 'W', 'C', '1', RW_CTL_TAKEOVER, 0};
	int last = 0;
	if (write(fd, req, sizeof req) != (ssize_t)sizeof req) {
		snprintf(err, err_len, "%s: write: %s", path, strerror(errno));
		last = -1;
	}
	/* Bound: each batch carries up to RW_CTL_FDS_MAX of at most cap. */
	for (size_t batches = 0; last == 0 && batches <= cap / RW_CTL_FDS_MAX + 1; batches++)
		last = recv_fds(fd, fds, cap, n);
	char text[512];
	size_t len = 0;
	ssize_t r;
	struct pollfd p = {fd, POLLIN, 0};
	while (last == 1 && len < sizeof text - 1 && poll(&p, 1, 10000) == 1 &&
	       (r = read(fd, text + len, sizeof text - 1 - len)) > 0)
		len += (size_t)r;
	text[len] = 0;
	close(fd);
	char *at = strstr(text, "(pid ");
	if (last != 1 || strncmp(text, "ok:", 3) != 0 || at == NULL) {
		if (last == 1 || len > 0)
			snprintf(err, err_len, "%s: %.*s", path, (int)strcspn(text, "\n"), text);
		else if (last != 1)
			snprintf(err, err_len,
			         "%s: no sockets came (not a rootwalk that hands over?)", path);
		for (size_t i = 0; i < *n; i++)
			close(fds[i]);
		*n = 0;
		return RW_EIO;
	}
	*pid = strtol(at + 5, NULL, 10);
	return 0;
}

/* --- client --------------------------------------------------------------- */

int rw_control_client(int argc, char **argv, const char *default_path)
{
	const char *path = default_path;
	int i = 1;
	if (i + 1 < argc && strcmp(argv[i], "--control") == 0) {
		path = argv[i + 1];
		i += 2;
	}
	/* Index: the command's number; takeover (8) is not for people. */
	static const char *const names[] = {
	    NULL,         "stats",       "reload",        "flush",
	    "dump-cache", "dump-infra",  "flush-infra",   "load-cache",
	    NULL,         "status",      "log-level",     "flush-negative",
	    "flush-zone", "flush-type",  "list-forwards", "list-local-zones",
	    "lookup",     "forward-add", "forward-remove"};
	int cmd = 0;
	for (int k = 1; i < argc && k < (int)(sizeof names / sizeof names[0]); k++)
		if (names[k] != NULL && strcmp(argv[i], names[k]) == 0)
			cmd = k;
	if (i < argc && strcmp(argv[i], "infra") == 0)
		cmd = RW_CTL_INFRA; /* its first name */
	enum rw_ctl_arg kind = rw_ctl_arg_of((unsigned)cmd);
	/* The argument: one word, or "NAME TYPE" as two */
	int words = kind == RW_CTL_ARG_NONE                                            ? 0
	            : kind == RW_CTL_ARG_NAME_TYPE || kind == RW_CTL_ARG_NAME_TYPE_OPT ? 2
	                                                                               : 1;
	int have = argc - i - 1;
	char joined[260] = "";
	for (int w = 0; w < words && w < have; w++) {
		size_t jl = strlen(joined);
		snprintf(joined + jl, sizeof joined - jl, "%s%s", w ? " " : "", argv[i + 1 + w]);
	}
	if (kind == RW_CTL_ARG_FWD && have >= 1 && strchr(argv[i + 1], '=') == NULL) {
		/* forward-add ZONE ADDR... [OPTION...]: as --forward-zone's
		 * "ZONE=ADDR,ADDR OPTION..." */
		size_t jl = (size_t)snprintf(joined, sizeof joined, "%s", argv[i + 1]);
		int naddr = 0;
		for (int w = 2; w <= have && jl < sizeof joined; w++) {
			const char *word = argv[i + w];
			bool option = strcmp(word, "tcp") == 0 || strstr(word, "ttl=") != NULL;
			jl += (size_t)snprintf(joined + jl, sizeof joined - jl, "%s%s",
			                       option    ? " "
			                       : naddr++ ? ","
			                                 : "=",
			                       word);
		}
		words = have;
	}
	const char *arg = joined;
	/* A file is named to the daemon absolutely (its folder is not ours). */
	char abs[PATH_MAX + 2];
	if ((kind == RW_CTL_ARG_PATH || kind == RW_CTL_ARG_PATH_OPT) && arg[0] != 0 &&
	    arg[0] != '/') {
		char cwd[PATH_MAX];
		if (getcwd(cwd, sizeof cwd) == NULL ||
		    (size_t)snprintf(abs, sizeof abs, "%s/%s", cwd, arg) >= sizeof abs)
			abs[0] = 0;
		arg = abs;
	}
	if (cmd == 0 || have > words || strlen(arg) > 253 ||
	    (rw_ctl_arg_required(kind) && arg[0] == 0)) {
		fprintf(
		    stderr,
		    "usage: rootwalk control [--control PATH] COMMAND\n"
		    "  status | stats | reload | log-level LEVEL\n"
		    "  flush [NAME] | flush-zone NAME | flush-type NAME TYPE | flush-negative\n"
		    "  lookup NAME [TYPE] | list-forwards | list-local-zones\n"
		    "  dump-cache [FILE] | load-cache FILE | dump-infra | flush-infra [ADDR]\n"
		    "  forward-add ZONE ADDR[:PORT]... [tcp] [max-ttl=S] | forward-remove ZONE\n");
		return 2;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		fprintf(stderr, "rootwalk control: cannot connect to %s: %s\n", path,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	uint8_t req[REQ_MAX];
	size_t n = strlen(arg);
	memcpy(req, "RWC1", 4);
	req[4] = (uint8_t)cmd;
	req[5] = (uint8_t)n;
	memcpy(req + 6, arg, n);
	if (write(fd, req, 6 + n) != (ssize_t)(6 + n)) {
		fprintf(stderr, "rootwalk control: write: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	/* Read to EOF (bounded by the server's reply; 30 s without data ends it). */
	char buf[65536];
	bool first = true, ok = false;
	for (;;) {
		struct pollfd p = {fd, POLLIN, 0};
		if (poll(&p, 1, 30000) <= 0)
			break;
		ssize_t r = read(fd, buf, sizeof buf);
		if (r <= 0)
			break;
		if (first)
			ok = r >= 2 && memcmp(buf, "ok", 2) == 0;
		first = false;
		fwrite(buf, 1, (size_t)r, stdout);
	}
	close(fd);
	return ok ? 0 : 1;
}
