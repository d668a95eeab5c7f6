/* One group of upstream resolvers on one worker's libuv loop, through
 * c-ares (internal to the daemon; the core library never sees c-ares).
 *
 * A group owns one ares channel whose server list is the group's
 * addresses. c-ares rotates over them, retries, and repeats a truncated
 * UDP answer over TCP; this file only connects it to libuv: c-ares says
 * which sockets it wants watched (ARES_OPT_SOCK_STATE_CB) and we keep a
 * uv_poll_t per socket, and one uv_timer_t fires at ares_timeout(). Every
 * call happens on the owning worker's thread; nothing blocks.
 *
 * Ownership: the worker owns its groups. rw_upstream_close() cancels every
 * query (each callback runs once, with RW_EIO... see below) and closes the
 * handles; the group frees itself once libuv has closed them. */
#ifndef ROOTWALK_UPSTREAM_H
#define ROOTWALK_UPSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "rootwalk/config.h"

struct rw_upstream;

/* status: 0 with the reply bytes (the caller checks them), RW_ETIMEOUT
 * (no server answered in time), RW_EUPSTREAM (every server answered
 * SERVFAIL, REFUSED or NOTIMP, or refused the connection), RW_EIO (other
 * failure) or RW_ECANCELED
 * (the group is closing). Called exactly once per send. */
typedef void (*rw_upstream_cb)(void *arg, int status, const uint8_t *resp, size_t len);

/* Marks the handles the group puts on the loop (handle->data points to a
 * struct starting with this value) so a loop walk can tell them apart. */
#define RW_UPSTREAM_HANDLE_KIND 0x75707374

int rw_upstream_new(uv_loop_t *loop, const struct rw_sockaddr *servers, size_t nservers,
                    unsigned timeout_ms, unsigned tries, uint16_t edns_size,
                    struct rw_upstream **out, char *err, size_t err_len);
/* Sends query (any ID: c-ares assigns its own). cb may run before this
 * returns (on an immediate failure). */
void rw_upstream_send(struct rw_upstream *u, const uint8_t *query, size_t len, rw_upstream_cb cb,
                      void *arg);
/* The longest c-ares may take for one query with these settings: every
 * server, every try, with its doubling timeout. */
unsigned rw_upstream_budget_ms(const struct rw_upstream *u);
void rw_upstream_close(struct rw_upstream *u);

#endif
