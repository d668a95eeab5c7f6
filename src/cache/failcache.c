/* Remembered resolution failures; see include/cache/rootwalk/failcache.h.
 * A fixed table of buckets, each a short chain, under one mutex; touched
 * only on the miss path (one check per miss, one note or clear per
 * upstream answer). */
#include "rootwalk/failcache.h"
#include "rootwalk/name.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BUCKETS 1024
#define CHAIN_MAX 8 /* entries per bucket at most: a bound on every walk */

struct fentry {
	struct fentry *next;
	uint64_t until_ms; /* held until */
	uint32_t hold_ms;  /* the last hold, for the back-off */
	uint16_t type;
	unsigned tag;
	uint8_t len;
	uint8_t name[]; /* lower-case wire name */
};

struct rw_failcache {
	pthread_mutex_t lock;
	size_t n, max;
	uint32_t min_ms, max_ms;
	rw_clock_cb clock;
	void *clock_ctx;
	struct fentry *buckets[BUCKETS];
};

static uint64_t mono_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct rw_failcache *rw_failcache_new(size_t max, uint32_t min_ms, uint32_t max_ms,
                                      rw_clock_cb clock, void *clock_ctx)
{
	struct rw_failcache *fc = calloc(1, sizeof *fc);
	if (fc == NULL)
		return NULL;
	pthread_mutex_init(&fc->lock, NULL);
	fc->max = max;
	fc->min_ms = min_ms;
	fc->max_ms = max_ms < min_ms ? min_ms : max_ms;
	fc->clock = clock != NULL ? clock : mono_ms;
	fc->clock_ctx = clock_ctx;
	return fc;
}

size_t rw_failcache_flush(struct rw_failcache *fc)
{
	pthread_mutex_lock(&fc->lock);
	size_t n = fc->n;
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct fentry *e = fc->buckets[i], *next; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
		fc->buckets[i] = NULL;
	}
	fc->n = 0;
	pthread_mutex_unlock(&fc->lock);
	return n;
}

void rw_failcache_free(struct rw_failcache *fc)
{
	if (fc == NULL)
		return;
	rw_failcache_flush(fc);
	pthread_mutex_destroy(&fc->lock);
	free(fc);
}

static size_t bucket(const uint8_t *lname, uint16_t type, unsigned tag)
{
	return (rw_name_hash(lname) ^ (uint32_t)type * 0x9e3779b1u ^ tag * 0x85ebca6bu) % BUCKETS;
}

/* The entry for the key, or NULL (lock held). */
static struct fentry **find(struct rw_failcache *fc, const uint8_t *lname, size_t len,
                            uint16_t type, unsigned tag)
{
	struct fentry **pp = &fc->buckets[bucket(lname, type, tag)];
	for (; *pp != NULL; pp = &(*pp)->next)
		if ((*pp)->type == type && (*pp)->tag == tag && (*pp)->len == len &&
		    memcmp((*pp)->name, lname, len) == 0)
			return pp;
	return NULL;
}

uint32_t rw_failcache_note(struct rw_failcache *fc, const uint8_t *lname, uint16_t type,
                           unsigned tag, bool *first)
{
	return rw_failcache_note_floor(fc, lname, type, tag, 0, first);
}

uint32_t rw_failcache_note_floor(struct rw_failcache *fc, const uint8_t *lname, uint16_t type,
                                 unsigned tag, uint32_t floor_ms, bool *first)
{
	*first = false;
	if (fc == NULL || (fc->min_ms == 0 && floor_ms == 0))
		return 0;
	uint32_t min_ms = fc->min_ms > floor_ms ? fc->min_ms : floor_ms;
	uint32_t max_ms = fc->max_ms > min_ms ? fc->max_ms : min_ms;
	size_t len = rw_name_len(lname);
	uint64_t now = fc->clock(fc->clock_ctx);
	pthread_mutex_lock(&fc->lock);
	struct fentry **pp = find(fc, lname, len, type, tag), *e = pp ? *pp : NULL;
	if (e != NULL) {
		*first = e->until_ms <= now;
		/* Failing again within one hold of the last: back off. */
		uint64_t hold = e->until_ms + e->hold_ms >= now ? (uint64_t)e->hold_ms * 2 : min_ms;
		if (hold < min_ms)
			hold = min_ms;
		e->hold_ms = (uint32_t)(hold > max_ms ? max_ms : hold);
		e->until_ms = now + e->hold_ms;
		uint32_t h = e->hold_ms;
		pthread_mutex_unlock(&fc->lock);
		return h;
	}
	*first = true;
	size_t b = bucket(lname, type, tag), chain = 0;
	struct fentry **victim = NULL;
	for (struct fentry **q = &fc->buckets[b]; *q != NULL; q = &(*q)->next, chain++)
		if (victim == NULL || (*q)->until_ms < (*victim)->until_ms)
			victim = q;
	/* A full bucket gives up the failure that ends first; a full table an
	 * expired one of this bucket. */
	if (victim != NULL &&
	    (chain >= CHAIN_MAX || (fc->n >= fc->max && (*victim)->until_ms <= now))) {
		struct fentry *v = *victim;
		*victim = v->next;
		free(v);
		fc->n--;
	}
	if (fc->n >= fc->max) {
		pthread_mutex_unlock(&fc->lock);
		return 0; /* full of live failures: not kept */
	}
	e = malloc(sizeof *e + len);
	if (e == NULL) {
		pthread_mutex_unlock(&fc->lock);
		return 0;
	}
	e->hold_ms = min_ms;
	e->until_ms = now + min_ms;
	e->type = type;
	e->tag = tag;
	e->len = (uint8_t)len;
	memcpy(e->name, lname, len);
	e->next = fc->buckets[b];
	fc->buckets[b] = e;
	fc->n++;
	pthread_mutex_unlock(&fc->lock);
	return min_ms;
}

bool rw_failcache_clear(struct rw_failcache *fc, const uint8_t *lname, uint16_t type, unsigned tag)
{
	if (fc == NULL)
		return false;
	size_t len = rw_name_len(lname);
	uint64_t now = fc->clock(fc->clock_ctx);
	pthread_mutex_lock(&fc->lock);
	struct fentry **pp = find(fc, lname, len, type, tag);
	bool live = false;
	if (pp != NULL) {
		struct fentry *e = *pp;
		live = e->until_ms > now;
		*pp = e->next;
		free(e);
		fc->n--;
	}
	pthread_mutex_unlock(&fc->lock);
	return live;
}

uint32_t rw_failcache_check(struct rw_failcache *fc, const uint8_t *lname, uint16_t qtype,
                            unsigned tag)
{
	if (fc == NULL)
		return 0;
	uint64_t now = fc->clock(fc->clock_ctx), until = 0;
	pthread_mutex_lock(&fc->lock);
	struct fentry **pp = find(fc, lname, rw_name_len(lname), qtype, tag);
	if (pp != NULL)
		until = (*pp)->until_ms;
	/* Bound: the labels of the name, the root included. */
	for (const uint8_t *z = lname; z != NULL && until <= now; z = rw_name_parent(z)) {
		pp = find(fc, z, rw_name_len(z), 0, tag);
		if (pp != NULL && (*pp)->until_ms > until)
			until = (*pp)->until_ms;
	}
	pthread_mutex_unlock(&fc->lock);
	return until > now ? (uint32_t)(until - now) : 0;
}

size_t rw_failcache_count(struct rw_failcache *fc)
{
	pthread_mutex_lock(&fc->lock);
	size_t n = fc->n;
	pthread_mutex_unlock(&fc->lock);
	return n;
}
