/* One group of upstream resolvers on one worker's libuv loop, through
 * c-ares (internal to the daemon; the core library never sees c-ares).
 *
 * Each server of the group has its own ares channel (one try each; c-ares
 * still repeats a truncated UDP answer over TCP and drops EDNS on FORMERR)
 * and its own health: DOWN_AFTER timeouts in a row make it "down" -- asked
 * last, logged at info -- for 1 s doubling to 60 s; once that is over the
 * next query probes it, and any reply (a refusal too) brings it back. A
 * query goes round the group: the healthy servers first from a rotating
 * start, then the down ones, for --upstream-tries rounds, until one
 * answers; a server that said no (SERVFAIL, REFUSED, NOTIMP) is not asked
 * again. (c-ares 1.18 keeps no server health: with the whole group in one
 * channel, a dead first server cost every query its timeout.) When no
 * server of the group answers at all, pending.c holds the whole group.
 *
 * libuv glue: c-ares says which sockets it wants watched
 * (ARES_OPT_SOCK_STATE_CB) and we keep a uv_poll_t per socket, and one
 * uv_timer_t fires at the earliest ares_timeout() of the channels. Every
 * call happens on the owning worker's thread; nothing blocks. Health is
 * per worker (each worker's groups learn on their own).
 *
 * Ownership: the worker owns its groups. rw_upstream_close() cancels every
 * query (each callback runs once, with RW_ECANCELED) and closes the
 * handles; the group frees itself once libuv has closed them. */
#ifndef ROOTWALK_UPSTREAM_H
#define ROOTWALK_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "lat.h"
#include "rootwalk/config.h"

struct rw_upstream;

/* Counters of one forwarder (one zone's server), shared by every
 * worker's channel to it: relaxed atomics, only ever summed. Made and
 * kept by upmetrics.c for the process's life. */
#define RW_UPSTREAM_RCODES 7 /* NOERROR .. REFUSED, then other */
struct rw_upstream_stats {
	char zone[256], to[64];
	_Atomic uint64_t queries, timeouts, errors, down_marks;
	_Atomic uint64_t rcode[RW_UPSTREAM_RCODES];
	_Atomic uint64_t lat[RW_UPSTREAM_RCODES][LAT_BUCKETS + 1];
	_Atomic uint64_t lat_sum_ns[RW_UPSTREAM_RCODES];
	_Atomic int down; /* workers that hold it down */
};
/* The block for (zone text, "addr:port"); NULL past the bound. */
struct rw_upstream_stats *rw_upstream_stats_get(const char *zone, const char *to);
/* At exit, after every worker is gone. */
void rw_upstream_stats_free_all(void);

/* status: 0 with the reply bytes (the caller checks them), RW_ETIMEOUT
 * (no server answered in time), RW_EUPSTREAM (no answer, and a server
 * said SERVFAIL, REFUSED or NOTIMP, or refused the connection), RW_EIO
 * (other failure) or RW_ECANCELED (the group is closing); from: the server
 * that answered (its address text; NULL without a reply). Called exactly
 * once per send. */
typedef void (*rw_upstream_cb)(void *arg, int status, const uint8_t *resp, size_t len,
                               const char *from);

/* Marks the handles the group puts on the loop (handle->data points to a
 * struct starting with this value) so a loop walk can tell them apart. */
#define RW_UPSTREAM_HANDLE_KIND 0x75707374

/* tcp: every query over TCP (c-ares' ARES_FLAG_USEVC), for a forward
 * zone whose UDP path is unreliable (conntrack races on a node). */
/* zone: the group's zone as text ("." for --forward), naming its
 * servers' counters. */
int rw_upstream_new(uv_loop_t *loop, const char *zone, const struct rw_sockaddr *servers,
                    size_t nservers, unsigned timeout_ms, unsigned tries, uint16_t edns_size,
                    bool tcp, struct rw_upstream **out, char *err, size_t err_len);
/* Sends query (any ID: c-ares assigns its own). cb may run before this
 * returns (on an immediate failure). */
void rw_upstream_send(struct rw_upstream *u, const uint8_t *query, size_t len, rw_upstream_cb cb,
                      void *arg);
struct rw_dnstap_queue;
/* dnstap: logs every query to and reply from the group's servers there
 * (NULL: off). */
void rw_upstream_set_tap(struct rw_upstream *u, struct rw_dnstap_queue *tap);
/* The longest one query may take: every server, every round, one timeout
 * each. */
unsigned rw_upstream_budget_ms(const struct rw_upstream *u);
void rw_upstream_close(struct rw_upstream *u);

#endif
