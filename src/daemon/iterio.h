/* The I/O side of recursion on one worker's libuv loop (internal to the
 * daemon). Each upstream try gets a fresh UDP socket bound to port 0, so
 * the kernel picks a random source port, connected to the server so only
 * its address and port can answer, and a random 16-bit ID; a reply must
 * also carry that ID and the question (checked in rw_res_reply). TC or an
 * rw_res decision sends the try over TCP instead. Nothing blocks.
 *
 * Ownership: the worker owns its rw_iter; rw_iter_close() ends every job
 * (their callbacks run with SERVFAIL) and closes every handle. */
#ifndef ROOTWALK_ITERIO_H
#define ROOTWALK_ITERIO_H

#include <uv.h>

#include "rootwalk/query.h"
#include "rootwalk/iter.h"

struct rw_iter;

/* resp NULL: SERVFAIL, with ede. */
/* ans: the answer (one reference, now the callee's; NULL: SERVFAIL). */
typedef void (*rw_iter_cb)(void *arg, struct rw_answer *ans);

/* Marks the handles this module puts on the loop (handle->data points to a
 * struct starting with this value). */
#define RW_ITER_HANDLE_KIND 0x69746572

struct rw_iter *rw_iter_new(uv_loop_t *loop, const struct rw_res_env *env,
                            struct rw_res_stats *stats);
/* Resolves q; cb runs exactly once (maybe before this returns). */
void rw_iter_start(struct rw_iter *it, const struct rw_question *q, rw_iter_cb cb, void *arg);
struct rw_dnstap_queue;
/* dnstap: logs every query to and reply from a server there (NULL: off). */
void rw_iter_set_tap(struct rw_iter *it, struct rw_dnstap_queue *tap);
/* Upstream packets dropped: wrong ID, or not a reply to the question. */
uint64_t rw_iter_dropped(const struct rw_iter *it);
/* Ends every job (callbacks with SERVFAIL), closes handles, frees itself
 * once they are closed. */
void rw_iter_close(struct rw_iter *it);

#endif
