/* A minimal HTTP/1.x server for /metrics, /healthz and /ready on the main
 * thread's loop (internal to the daemon; never on a DNS worker).
 *
 * One request per connection: the request line and headers must arrive
 * within 8 KiB and 5 s from the connection's start (bytes do not extend
 * it), else 400 (or the connection is closed); only GET and HEAD; the
 * handler picks the status and body; the connection closes after the
 * reply.
 *
 * Fairness (a health probe must get through while others hold
 * connections, issue 11): at most 64 connections, at most 8 from one
 * client address (IPv6: one /64); past half full, a new connection's
 * deadline shrinks in proportion to the free ones (down to 200 ms); and a
 * full server closes the oldest connection still sending its request to
 * make room, so a client that sends a whole request at once is answered.
 * Each is counted (rw_http_stats). */
#ifndef ROOTWALK_HTTP_H
#define ROOTWALK_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "rootwalk/netaddr.h"
#include "rootwalk/strbuf.h"

struct rw_http;

/* Fills body for path; returns the HTTP status (200, 404, 503...). */
typedef int (*rw_http_handler)(void *ctx, const char *path, struct rw_buf *body,
                               const char **content_type);

/* Listens on addr, or on fd when fd >= 0 (a listening socket handed over
 * by the rootwalk we took over from). */
int rw_http_start(uv_loop_t *loop, const struct rw_sockaddr *addr, int fd, rw_http_handler handler,
                  void *ctx, struct rw_http **out, char *err, size_t err_len);
/* The listening socket (for a takeover). */
int rw_http_fd(const struct rw_http *h);
/* Closes the listener and every connection; frees itself when closed. */
void rw_http_close(struct rw_http *h);

/* Connections closed or refused by the fairness rules, by reason. */
struct rw_http_stats {
	uint64_t evicted, per_client_refused, timed_out;
};
void rw_http_stats(const struct rw_http *h, struct rw_http_stats *out);

#endif
