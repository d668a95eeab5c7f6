/* Shared in-flight question table; see include/resolve/rootwalk/flight.h. A
 * chained hash table under one mutex: it is touched once per cache miss
 * and once per upstream reply, never on the cache-hit path. */
#include "rootwalk/flight.h"
#include "rootwalk/err.h"
#include "rootwalk/name.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 4096

struct entry {
	struct entry *next;
	struct rw_question q;
	struct rw_flight_waiter *head, **tail;
	size_t nwaiters;
	bool late;
};

struct rw_flight {
	pthread_mutex_t lock;
	size_t count, max_entries, max_waiters;
	struct entry *buckets[BUCKETS];
};

struct rw_flight *rw_flight_new(size_t max_entries, size_t max_waiters)
{
	struct rw_flight *f = calloc(1, sizeof *f);
	if (f == NULL)
		return NULL;
	pthread_mutex_init(&f->lock, NULL);
	f->max_entries = max_entries;
	f->max_waiters = max_waiters;
	return f;
}

void rw_flight_free(struct rw_flight *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++) {
		while (f->buckets[i] != NULL) { /* only after a failed start */
			struct entry *e = f->buckets[i];
			f->buckets[i] = e->next;
			free(e);
		}
	}
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static bool same(const struct rw_question *a, const struct rw_question *b)
{
	return a->route == b->route && a->group == b->group && a->qtype == b->qtype &&
	       a->qclass == b->qclass && a->cd == b->cd && a->qname_len == b->qname_len &&
	       memcmp(a->qname, b->qname, a->qname_len) == 0;
}

static struct entry **slot(struct rw_flight *f, const struct rw_question *q)
{
	uint32_t h = rw_name_hash(q->qname) ^ (uint32_t)q->qtype * 0x9e3779b1u ^ q->group;
	struct entry **p = &f->buckets[h % BUCKETS];
	while (*p != NULL && !same(&(*p)->q, q))
		p = &(*p)->next;
	return p;
}

int rw_flight_join(struct rw_flight *f, const struct rw_question *q, struct rw_flight_waiter *w,
                   enum rw_flight_role *role)
{
	int rc = 0;
	w->next = NULL;
	*role = RW_FLIGHT_WAIT;
	pthread_mutex_lock(&f->lock);
	struct entry **p = slot(f, q);
	struct entry *e = *p;
	if (e == NULL) {
		if (f->count >= f->max_entries) {
			rc = RW_ELIMIT;
			goto out;
		}
		e = calloc(1, sizeof *e);
		if (e == NULL) {
			rc = RW_ENOMEM;
			goto out;
		}
		e->q = *q;
		e->tail = &e->head;
		*p = e;
		f->count++;
		*role = RW_FLIGHT_LEAD;
	} else if (e->late) {
		*role = RW_FLIGHT_LATE;
		goto out;
	} else if (e->nwaiters >= f->max_waiters) {
		rc = RW_ELIMIT;
		goto out;
	}
	*e->tail = w;
	e->tail = &w->next;
	e->nwaiters++;
out:
	pthread_mutex_unlock(&f->lock);
	return rc;
}

struct rw_flight_waiter *rw_flight_take(struct rw_flight *f, const struct rw_question *q)
{
	pthread_mutex_lock(&f->lock);
	struct entry **p = slot(f, q);
	struct entry *e = *p;
	struct rw_flight_waiter *list = NULL;
	if (e != NULL) {
		*p = e->next;
		f->count--;
		list = e->head;
	}
	pthread_mutex_unlock(&f->lock);
	free(e);
	return list;
}

struct rw_flight_waiter *rw_flight_late(struct rw_flight *f, const struct rw_question *q)
{
	pthread_mutex_lock(&f->lock);
	struct entry *e = *slot(f, q);
	struct rw_flight_waiter *list = NULL;
	if (e != NULL) {
		list = e->head;
		e->head = NULL;
		e->tail = &e->head;
		e->nwaiters = 0;
		e->late = true;
	}
	pthread_mutex_unlock(&f->lock);
	return list;
}

bool rw_flight_busy(struct rw_flight *f, const struct rw_question *q)
{
	pthread_mutex_lock(&f->lock);
	bool busy = *slot(f, q) != NULL;
	pthread_mutex_unlock(&f->lock);
	return busy;
}

size_t rw_flight_count(struct rw_flight *f)
{
	pthread_mutex_lock(&f->lock);
	size_t n = f->count;
	pthread_mutex_unlock(&f->lock);
	return n;
}
