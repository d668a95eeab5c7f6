/* Questions in flight upstream, shared by all workers.
 *
 * When several clients ask the same question (same upstream group, name,
 * type and class) while it is being resolved, only the first -- the
 * leader -- sends an upstream query; the others join its entry and get
 * their answers from the same upstream reply.
 *
 * Locking and ownership:
 * - One mutex guards the whole table; it is held only inside these calls
 *   (a few list operations), never across I/O.
 * - Waiters are intrusive and owned by the caller: the table links them
 *   but never allocates, frees or reads them. rw_flight_take() hands the
 *   whole list back to the leader, who delivers every waiter (to other
 *   workers through their mailboxes).
 * - Each entry is one allocation, freed by rw_flight_take(). */
#ifndef ROOTWALK_FLIGHT_H
#define ROOTWALK_FLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/query.h"

struct rw_flight;

/* Embedded first in the caller's waiter struct. */
struct rw_flight_waiter {
	struct rw_flight_waiter *next;
};

/* Creates a table holding at most max_entries questions, each with at
 * most max_waiters waiters. NULL on allocation failure. */
struct rw_flight *rw_flight_new(size_t max_entries, size_t max_waiters);
/* The table must be empty. */
void rw_flight_free(struct rw_flight *f);

/* What a joiner is to the question's entry. */
enum rw_flight_role {
	RW_FLIGHT_WAIT = 0, /* linked: it gets the leader's answer */
	RW_FLIGHT_LEAD = 1, /* linked, and the entry is new: the caller sends
	                       the upstream query and later calls rw_flight_take() */
	RW_FLIGHT_LATE = 2, /* not linked: the answer is overdue (rw_flight_late),
	                       the caller answers at once from stale data */
};

/* Adds w to the question's entry, creating it when there is none. Returns
 * 0 (*role says how) or RW_ELIMIT (a bound is reached: answer the client
 * SERVFAIL) or RW_ENOMEM. */
int rw_flight_join(struct rw_flight *f, const struct rw_question *q, struct rw_flight_waiter *w,
                   enum rw_flight_role *role);
/* Removes the question's entry and returns its waiters in arrival order
 * (NULL when there is no entry). */
struct rw_flight_waiter *rw_flight_take(struct rw_flight *f, const struct rw_question *q);
/* The answer is overdue (RFC 8767's client-response timer): returns the
 * waiters so far and keeps the entry, marked late, until rw_flight_take();
 * later joiners are RW_FLIGHT_LATE. The upstream work goes on and still
 * refreshes the cache. */
struct rw_flight_waiter *rw_flight_late(struct rw_flight *f, const struct rw_question *q);
/* Is the question in flight (a refresh on its way)? */
bool rw_flight_busy(struct rw_flight *f, const struct rw_question *q);
/* Questions in flight now. */
size_t rw_flight_count(struct rw_flight *f);

#endif
