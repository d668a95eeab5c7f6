/* Sharded, byte-bounded RRset cache with SIEVE eviction; see
 * include/cache/rootwalk/cache.h for the locking and ownership rules. It stores
 * and returns records; assembling answers (CNAME chains) is the query
 * layer's job. */
#include "rootwalk/cache.h"
#include "rootwalk/assert.h"
#include "rootwalk/rr.h"
#include "rootwalk/err.h"
#include "rootwalk/name.h"
#include "rootwalk/wire.h"

#include <malloc.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* One allocation per entry: header, then data =
 *   lower-cased owner name,
 *   POSITIVE: count x (u16 rdlen, rdata)
 *   NODATA/NXDOMAIN: SOA owner name, u16 rdlen, SOA rdata
 *   then nproof x (owner, u16 type, u16 rdlen, rdata): the DNSSEC records,
 *   owner the single byte SAME_OWNER when it is the entry's (an RRSIG of
 *   the set: no name stored twice). Unsigned data pays nothing but nproof,
 *   which fits in the header's padding. */
struct centry {
	struct centry *hnext;         /* hash chain */
	struct centry *qprev, *qnext; /* SIEVE queue: head newest, tail oldest */
	uint64_t expire_ms;
	uint32_t hash;
	uint32_t bytes; /* accounted: malloc_usable_size */
	uint32_t data_len;
	uint32_t ttl_s; /* as inserted (clamped): prefetch is a share of it */
	uint16_t type, rclass, count, nproof;
	uint8_t kind, rank, visited;
	uint8_t data[];
};

/* No wire name starts with 0xC0 (a label is at most 63 bytes long). */
#define SAME_OWNER 0xC0

struct shard {
	pthread_mutex_t lock;
	struct centry **buckets;
	size_t nbuckets, n;
	size_t nneg; /* of n: NXDOMAIN and NODATA entries */
	struct centry *head, *tail, *hand;
	size_t bytes, limit;
	size_t first_buckets; /* the table's first size */
};

/* The policy a reload may change while workers use the cache: each value
 * on its own, read relaxed (a lookup sees the old or the new value). */
struct policy {
	_Atomic uint32_t min_ttl_s, max_ttl_s, max_neg_ttl_s, stale_s, prefetch_pct;
};
#define POL(c, f) atomic_load_explicit(&(c)->pol.f, memory_order_relaxed)

struct rw_cache {
	struct rw_cache_config cfg; /* its policy fields: as created (pol holds them) */
	struct policy pol;
	struct shard shards[RW_CACHE_SHARDS];
};

void rw_cache_set_policy(struct rw_cache *c, const struct rw_cache_config *cfg)
{
	atomic_store_explicit(&c->pol.min_ttl_s, cfg->min_ttl_s, memory_order_relaxed);
	atomic_store_explicit(&c->pol.max_ttl_s, cfg->max_ttl_s, memory_order_relaxed);
	atomic_store_explicit(&c->pol.max_neg_ttl_s, cfg->max_neg_ttl_s, memory_order_relaxed);
	atomic_store_explicit(&c->pol.stale_s, cfg->stale_s, memory_order_relaxed);
	atomic_store_explicit(&c->pol.prefetch_pct, cfg->prefetch_pct, memory_order_relaxed);
}

/* Shards take the hash's top bits; buckets inside a shard its low bits. */
static struct shard *shard_of(struct rw_cache *c, uint32_t hash)
{
	return &c->shards[hash >> 26 & (RW_CACHE_SHARDS - 1)];
}

static uint64_t mono_ms(void *ctx)
{
	(void)ctx;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void rw_cache_config_default(struct rw_cache_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->limit_bytes = 64u << 20;
	cfg->max_ttl_s = 86400;
	cfg->max_neg_ttl_s = 3600;
	cfg->stale_s = 86400;
	cfg->prefetch_pct = 10;
}

struct rw_cache *rw_cache_new(const struct rw_cache_config *cfg)
{
	struct rw_cache *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->cfg = *cfg;
	rw_cache_set_policy(c, cfg);
	if (c->cfg.clock == NULL)
		c->cfg.clock = mono_ms;
	for (int i = 0; i < RW_CACHE_SHARDS; i++) {
		struct shard *s = &c->shards[i];
		pthread_mutex_init(&s->lock, NULL);
		s->limit = cfg->limit_bytes / RW_CACHE_SHARDS;
		/* Start the table at up to 4096 buckets (one per ~128-byte
		 * entry the shard can hold): growing from small leaves freed
		 * tables behind as heap holes, which showed as 7% more RSS
		 * than counted under the 32 MiB bound test in tools/bench. */
		s->first_buckets = 16;
		while (s->first_buckets < 4096 && s->first_buckets * 2 * 128 <= s->limit)
			s->first_buckets *= 2;
	}
	return c;
}

/* --- shard internals (lock held) ---------------------------------------- */

static void queue_unlink(struct shard *s, struct centry *e)
{
	if (s->hand == e)
		s->hand = e->qprev;
	if (e->qprev)
		e->qprev->qnext = e->qnext;
	else
		s->head = e->qnext;
	if (e->qnext)
		e->qnext->qprev = e->qprev;
	else
		s->tail = e->qprev;
}

static void entry_remove(struct shard *s, struct centry *e)
{
	struct centry **pp = &s->buckets[e->hash & (s->nbuckets - 1)];
	while (*pp != e) {
		RW_REQUIRE(*pp != NULL); /* the entry is in its bucket */
		pp = &(*pp)->hnext;
	}
	*pp = e->hnext;
	queue_unlink(s, e);
	RW_REQUIRE(s->n > 0 && s->bytes >= e->bytes);
	s->n--;
	s->nneg -= e->kind != RW_CACHE_POSITIVE;
	s->bytes -= e->bytes;
	free(e);
}

static struct centry *entry_find(struct shard *s, uint32_t hash, const uint8_t *lname,
                                 size_t name_len, uint16_t type, uint16_t rclass)
{
	if (s->nbuckets == 0)
		return NULL;
	for (struct centry *e = s->buckets[hash & (s->nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == hash && e->type == type && e->rclass == rclass &&
		    memcmp(e->data, lname, name_len) == 0)
			return e;
	return NULL;
}

static int grow(struct shard *s)
{
	size_t nb = s->nbuckets ? s->nbuckets * 2 : s->first_buckets;
	struct centry **b = calloc(nb, sizeof *b);
	if (b == NULL)
		return RW_ENOMEM;
	for (size_t i = 0; i < s->nbuckets; i++) {
		for (struct centry *e = s->buckets[i], *next; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	s->bytes += (nb - s->nbuckets) * sizeof *b;
	free(s->buckets);
	s->buckets = b;
	s->nbuckets = nb;
	return 0;
}

/* SIEVE: the hand walks from the tail towards the head, clearing visited
 * bits, and evicts the first unvisited (or expired) entry. Bound: two
 * passes over the queue at most (after one pass no bit is set). */
static bool evict_one(struct shard *s, uint64_t now, struct rw_cache_stats *st)
{
	struct centry *p = s->hand ? s->hand : s->tail;
	if (p == NULL)
		return false;
	while (p->visited && p->expire_ms > now) {
		p->visited = 0;
		p = p->qprev ? p->qprev : s->tail;
	}
	s->hand = p->qprev;
	if (p->expire_ms <= now)
		st->expired++;
	else
		st->evictions++;
	entry_remove(s, p);
	return true;
}

static void insert_locked(struct shard *s, struct centry *e)
{
	e->hnext = s->buckets[e->hash & (s->nbuckets - 1)];
	s->buckets[e->hash & (s->nbuckets - 1)] = e;
	e->qprev = NULL;
	e->qnext = s->head;
	if (s->head)
		s->head->qprev = e;
	s->head = e;
	if (s->tail == NULL)
		s->tail = e;
	s->n++;
	s->nneg += e->kind != RW_CACHE_POSITIVE;
	s->bytes += e->bytes;
}

/* Inserts e (already built) unless a live entry of higher rank holds the
 * key. Removes a live NXDOMAIN for the name when positive or NODATA data
 * arrives (the name exists after all). */
static int put_entry(struct rw_cache *c, struct centry *e, size_t name_len,
                     struct rw_cache_stats *st)
{
	struct shard *s = shard_of(c, e->hash);
	uint64_t now = c->cfg.clock(c->cfg.clock_ctx);
	pthread_mutex_lock(&s->lock);
	if (e->bytes > s->limit / 4) {
		pthread_mutex_unlock(&s->lock);
		free(e);
		return RW_ELIMIT; /* one entry may not crowd out the shard */
	}
	struct centry *old = entry_find(s, e->hash, e->data, name_len, e->type, e->rclass);
	if (old != NULL && old->expire_ms > now && old->rank > e->rank) {
		st->refused_rank++;
		pthread_mutex_unlock(&s->lock);
		free(e);
		return RW_EEXIST; /* RFC 2181 §5.4.1 */
	}
	if (old != NULL)
		entry_remove(s, old);
	if (e->kind != RW_CACHE_NXDOMAIN) {
		struct centry *nx = entry_find(s, e->hash, e->data, name_len, 0, e->rclass);
		if (nx != NULL && nx->kind == RW_CACHE_NXDOMAIN)
			entry_remove(s, nx);
	}
	if (s->n + 1 > s->nbuckets && grow(s) != 0) {
		pthread_mutex_unlock(&s->lock);
		free(e);
		return RW_ENOMEM;
	}
	insert_locked(s, e);
	while (s->bytes > s->limit && evict_one(s, now, st))
		;
	st->inserts++;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static struct centry *entry_alloc(size_t data_len)
{
	struct centry *e = malloc(offsetof(struct centry, data) + data_len);
	if (e == NULL)
		return NULL;
	memset(e, 0, offsetof(struct centry, data));
	e->data_len = (uint32_t)data_len;
	/* what malloc really holds: the usable size plus its chunk header */
	e->bytes = (uint32_t)(malloc_usable_size(e) + sizeof(size_t));
	return e;
}

static uint32_t clamp(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Bytes the proof takes in an entry keyed by owner. */
static size_t proof_len(const uint8_t *owner, const struct rw_cache_proof *p)
{
	size_t len = 0;
	for (uint16_t i = 0; p != NULL && i < p->count; i++) {
		const struct rw_cache_rr *rr = &p->rr[i];
		len += (rw_name_eq(rr->owner, owner) ? 1 : rw_name_len(rr->owner)) + 4 + rr->rdlen;
	}
	return len;
}

/* Writes the proof at data + pos (proof_len bytes); owners lower-cased. */
static void proof_write(struct centry *e, size_t pos, const uint8_t *owner,
                        const struct rw_cache_proof *p)
{
	for (uint16_t i = 0; p != NULL && i < p->count; i++) {
		const struct rw_cache_rr *rr = &p->rr[i];
		if (rw_name_eq(rr->owner, owner)) {
			e->data[pos++] = SAME_OWNER;
		} else {
			size_t ol = rw_name_len(rr->owner);
			rw_name_lower(e->data + pos, rr->owner, ol);
			pos += ol;
		}
		rw_put16(e->data + pos, rr->type);
		rw_put16(e->data + pos + 2, rr->rdlen);
		memcpy(e->data + pos + 4, rr->rdata, rr->rdlen);
		pos += 4 + (size_t)rr->rdlen;
	}
	e->nproof = p != NULL ? p->count : 0;
}

int rw_cache_put(struct rw_cache *c, const struct rw_cache_rrset *set,
                 const struct rw_cache_proof *proof, enum rw_rank rank, struct rw_cache_stats *st)
{
	if (set->count == 0 || set->type == 0)
		return RW_EINVAL;
	size_t nl = rw_name_len(set->owner), len = nl;
	for (uint16_t i = 0; i < set->count; i++)
		len += 2 + (size_t)set->rdlen[i];
	struct centry *e = entry_alloc(len + proof_len(set->owner, proof));
	if (e == NULL)
		return RW_ENOMEM;
	rw_name_lower(e->data, set->owner, nl);
	size_t pos = nl;
	for (uint16_t i = 0; i < set->count; i++) {
		rw_put16(e->data + pos, set->rdlen[i]);
		memcpy(e->data + pos + 2, set->rdata[i], set->rdlen[i]);
		pos += 2 + (size_t)set->rdlen[i];
	}
	proof_write(e, pos, set->owner, proof);
	uint32_t ttl = clamp(set->ttl_s, POL(c, min_ttl_s), POL(c, max_ttl_s));
	e->expire_ms = c->cfg.clock(c->cfg.clock_ctx) + (uint64_t)ttl * 1000;
	e->ttl_s = ttl;
	e->hash = rw_name_hash(e->data);
	e->type = set->type;
	e->rclass = set->rclass;
	e->count = set->count;
	e->kind = RW_CACHE_POSITIVE;
	e->rank = (uint8_t)rank;
	return put_entry(c, e, nl, st);
}

int rw_cache_put_negative(struct rw_cache *c, enum rw_cache_kind kind, const uint8_t *name,
                          uint16_t type, uint16_t rclass, const struct rw_cache_rrset *soa,
                          const struct rw_cache_proof *proof, enum rw_rank rank,
                          struct rw_cache_stats *st)
{
	if ((kind != RW_CACHE_NODATA && kind != RW_CACHE_NXDOMAIN) || soa->count != 1 ||
	    soa->rdlen[0] < 22 || (kind == RW_CACHE_NODATA && type == 0))
		return RW_EINVAL;
	size_t nl = rw_name_len(name), sl = rw_name_len(soa->owner);
	size_t len = nl + sl + 2 + soa->rdlen[0];
	struct centry *e = entry_alloc(len + proof_len(name, proof));
	if (e == NULL)
		return RW_ENOMEM;
	rw_name_lower(e->data, name, nl);
	memcpy(e->data + nl, soa->owner, sl);
	rw_put16(e->data + nl + sl, soa->rdlen[0]);
	memcpy(e->data + nl + sl + 2, soa->rdata[0], soa->rdlen[0]);
	proof_write(e, len, name, proof);
	uint32_t ttl = rw_soa_negative_ttl(soa->ttl_s, soa->rdata[0], soa->rdlen[0]);
	if (ttl > POL(c, max_neg_ttl_s))
		ttl = POL(c, max_neg_ttl_s);
	e->expire_ms = c->cfg.clock(c->cfg.clock_ctx) + (uint64_t)ttl * 1000;
	e->ttl_s = ttl;
	e->hash = rw_name_hash(e->data);
	e->type = kind == RW_CACHE_NXDOMAIN ? 0 : type;
	e->rclass = rclass;
	e->count = 1;
	e->kind = (uint8_t)kind;
	e->rank = (uint8_t)rank;
	return put_entry(c, e, nl, st);
}

/* Reads the proof of an entry copied to data (from pos on) into the
 * array rr; owner is the entry's. Bound: nproof records. */
static void proof_read(const uint8_t *data, size_t pos, const uint8_t *owner, uint16_t n,
                       struct rw_cache_rr *rr)
{
	for (uint16_t i = 0; i < n; i++) {
		if (data[pos] == SAME_OWNER) {
			rr[i].owner = owner;
			pos++;
		} else {
			rr[i].owner = data + pos;
			pos += rw_name_len(data + pos);
		}
		rr[i].type = rw_get16(data + pos);
		rr[i].rdlen = rw_get16(data + pos + 2);
		rr[i].rdata = data + pos + 4;
		pos += 4 + (size_t)rr[i].rdlen;
	}
}

/* Copies a live entry into the arena (lock held): one allocation for the
 * bytes and the per-record arrays; the proof only when with_proof. nl:
 * the owner's length (the key's). */
static inline __attribute__((always_inline)) int copy_out(const struct centry *e, uint32_t ttl,
                                                          size_t nl, bool with_proof,
                                                          struct rw_arena *a,
                                                          struct rw_cache_entry *out)
{
	/* Where the main records end, the proof begins (unsigned data: at
	 * the end, found without a walk). */
	size_t end = e->data_len;
	if (e->nproof > 0) {
		end = nl;
		if (e->kind != RW_CACHE_POSITIVE)
			end += rw_name_len(e->data + nl);
		for (uint16_t i = 0; i < e->count; i++)
			end += 2 + (size_t)rw_get16(e->data + end);
	}
	uint16_t np = with_proof ? e->nproof : 0;
	size_t len = np > 0 ? e->data_len : end;
	size_t proofs = (size_t)np * sizeof(struct rw_cache_rr);
	size_t arrays = proofs + (size_t)e->count * (sizeof(const uint8_t *) + sizeof(uint16_t));
	uint8_t *block = rw_arena_alloc(a, arrays + len);
	if (block == NULL)
		return RW_ENOMEM;
	struct rw_cache_rr *prr = (struct rw_cache_rr *)(void *)block; /* 8-aligned first */
	const uint8_t **rds = (const uint8_t **)(void *)(block + proofs);
	uint16_t *lens = (uint16_t *)(void *)(block + proofs + (size_t)e->count * sizeof *rds);
	uint8_t *data = block + arrays;
	memcpy(data, e->data, len);
	memset(out, 0, sizeof *out);
	out->kind = (enum rw_cache_kind)e->kind;
	out->rank = (enum rw_rank)e->rank;
	struct rw_cache_rrset *set = e->kind == RW_CACHE_POSITIVE ? &out->set : &out->soa;
	out->set.owner = data;
	out->set.type = e->type;
	out->set.rclass = e->rclass;
	out->set.ttl_s = ttl;
	size_t pos = nl;
	if (e->kind != RW_CACHE_POSITIVE) {
		set->owner = data + nl;
		set->type = 6; /* SOA */
		set->rclass = e->rclass;
		set->ttl_s = ttl;
		pos += rw_name_len(data + nl);
	}
	for (uint16_t i = 0; i < e->count; i++) {
		lens[i] = rw_get16(data + pos);
		rds[i] = data + pos + 2;
		pos += 2 + (size_t)lens[i];
	}
	set->count = e->count;
	set->rdlen = lens;
	set->rdata = rds;
	if (np > 0)
		proof_read(data, end, data, np, prr);
	out->proof.count = np;
	out->proof.rr = prr;
	return 0;
}

int rw_cache_get(struct rw_cache *c, const uint8_t *name, uint16_t type, uint16_t rclass,
                 struct rw_arena *arena, struct rw_cache_entry *out, struct rw_cache_stats *st)
{
	return rw_cache_get_flags(c, name, type, rclass, RW_CACHE_PROOF, arena, out, st);
}

int rw_cache_get_flags(struct rw_cache *c, const uint8_t *name, uint16_t type, uint16_t rclass,
                       unsigned flags, struct rw_arena *arena, struct rw_cache_entry *out,
                       struct rw_cache_stats *st)
{
	uint8_t lname[RW_NAME_MAX];
	size_t nl = rw_name_len(name);
	rw_name_lower(lname, name, nl);
	return rw_cache_get_lower(c, lname, nl, rw_name_hash(lname), type, rclass, flags, arena,
	                          out, st);
}

int rw_cache_get_lower(struct rw_cache *c, const uint8_t *lname, size_t nl, uint32_t h,
                       uint16_t type, uint16_t rclass, unsigned flags, struct rw_arena *arena,
                       struct rw_cache_entry *out, struct rw_cache_stats *st)
{
	struct shard *s = shard_of(c, h);
	uint64_t now = c->cfg.clock(c->cfg.clock_ctx);
	uint64_t window = (uint64_t)POL(c, stale_s) * 1000;
	int rc = RW_ENOTFOUND;
	struct centry *hit = NULL, *stale = NULL; /* stale: the first expired within the window */
	pthread_mutex_lock(&s->lock);
	/* A live NXDOMAIN answers every type of the name (RFC 2308 §5). */
	uint16_t keys[2] = {0, type};
	for (int k = 0; k < 2; k++) {
		struct centry *e = entry_find(s, h, lname, nl, keys[k], rclass);
		if (e == NULL || (k == 0 && e->kind != RW_CACHE_NXDOMAIN))
			continue;
		if (e->expire_ms <= now) {
			if (now - e->expire_ms >= window) {
				st->expired++;
				entry_remove(s, e); /* past the stale window */
			} else if (stale == NULL) {
				stale = e;
			}
			continue;
		}
		e->visited = 1;
		hit = e;
		break;
	}
	bool is_stale = hit == NULL && stale != NULL && (flags & RW_CACHE_STALE);
	if (is_stale)
		hit = stale;
	if (hit != NULL) {
		uint64_t left = is_stale ? 0 : hit->expire_ms - now;
		rc = copy_out(hit, (uint32_t)(left / 1000), nl, flags & RW_CACHE_PROOF, arena, out);
		if (rc == 0 && is_stale) {
			out->stale = true;
			st->stale++;
		} else if (rc == 0) {
			/* Asked for again in the last share of its life:
			 * refresh it now, while it still answers (prefetch). */
			out->prefetch =
			    left * 100 < (uint64_t)hit->ttl_s * 1000 * POL(c, prefetch_pct);
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (rc == 0 && !out->stale)
		st->hits++;
	else if (rc == RW_ENOTFOUND) {
		out->stale = stale != NULL;
		st->misses++;
	}
	return rc;
}

void rw_cache_flush(struct rw_cache *c)
{
	for (int i = 0; i < RW_CACHE_SHARDS; i++) {
		struct shard *s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		while (s->head != NULL)
			entry_remove(s, s->head);
		pthread_mutex_unlock(&s->lock);
	}
}

bool rw_cache_rrset_collect(struct rw_arena *arena, const struct rw_msg *m, enum rw_section sec,
                            const uint8_t *owner, uint16_t type, uint16_t rclass,
                            struct rw_cache_rrset *out)
{
	size_t n = 0;
	for (uint16_t i = 0; i < m->nrr[sec]; i++) {
		const struct rw_rr *rr = &m->rr[sec][i];
		if (rr->type == type && rr->rclass == rclass && rw_name_eq(rr->owner, owner))
			n++;
	}
	if (n == 0)
		return false;
	/* Duplicates are found through a table of 2n slots (O(n) for the
	 * largest set a message can hold, not O(n^2)). */
	size_t slots = 4;
	while (slots < 2 * n)
		slots *= 2;
	uint16_t *rdlen = rw_arena_alloc(arena, n * sizeof *rdlen);
	const uint8_t **rdata = rw_arena_alloc(arena, n * sizeof *rdata);
	uint32_t *seen = rw_arena_alloc(arena, slots * sizeof *seen); /* index + 1; 0: free */
	if (rdlen == NULL || rdata == NULL || seen == NULL)
		return false;
	memset(seen, 0, slots * sizeof *seen);
	*out = (struct rw_cache_rrset){.owner = owner,
	                               .type = type,
	                               .rclass = rclass,
	                               .ttl_s = UINT32_MAX,
	                               .rdlen = rdlen,
	                               .rdata = rdata};
	n = 0;
	for (uint16_t i = 0; i < m->nrr[sec]; i++) {
		const struct rw_rr *rr = &m->rr[sec][i];
		if (rr->type != type || rr->rclass != rclass || !rw_name_eq(rr->owner, owner))
			continue;
		if (rr->ttl < out->ttl_s)
			out->ttl_s = rr->ttl;
		uint32_t h = 2166136261u; /* FNV-1a over the rdata */
		for (uint16_t k = 0; k < rr->rdlen; k++)
			h = (h ^ rr->rdata[k]) * 16777619u;
		size_t s = h & (slots - 1);
		bool dup = false;
		/* Bound: the table is at most half full, so a probe ends. */
		for (; seen[s] != 0; s = (s + 1) & (slots - 1)) {
			size_t j = seen[s] - 1;
			if (rdlen[j] == rr->rdlen && memcmp(rdata[j], rr->rdata, rr->rdlen) == 0) {
				dup = true;
				break;
			}
		}
		if (dup)
			continue;
		seen[s] = (uint32_t)n + 1;
		rdlen[n] = rr->rdlen;
		rdata[n++] = rr->rdata;
	}
	out->count = (uint16_t)n;
	return true;
}

size_t rw_cache_flush_name(struct rw_cache *c, const uint8_t *name)
{
	uint8_t lname[RW_NAME_MAX];
	size_t nl = rw_name_len(name);
	rw_name_lower(lname, name, nl);
	uint32_t h = rw_name_hash(lname);
	struct shard *s = shard_of(c, h);
	size_t removed = 0;
	pthread_mutex_lock(&s->lock);
	/* Every type of a name lives in one bucket chain (same hash). */
	if (s->nbuckets > 0) {
		struct centry *e = s->buckets[h & (s->nbuckets - 1)];
		while (e != NULL) {
			struct centry *next = e->hnext;
			if (e->hash == h && memcmp(e->data, lname, nl) == 0) {
				entry_remove(s, e);
				removed++;
			}
			e = next;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return removed;
}

size_t rw_cache_flush_match(struct rw_cache *c, rw_cache_match_cb match, void *ctx)
{
	size_t removed = 0;
	for (int i = 0; i < RW_CACHE_SHARDS; i++) {
		struct shard *s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		/* Bound: the shard's entries, each looked at once. */
		for (struct centry *e = s->head, *next; e != NULL; e = next) {
			next = e->qnext;
			if (match(ctx, e->data, e->type, (enum rw_cache_kind)e->kind)) {
				entry_remove(s, e);
				removed++;
			}
		}
		pthread_mutex_unlock(&s->lock);
	}
	return removed;
}

/* The DNSSEC records of an entry (from pos on), a line each. */
static void dump_proof(const struct centry *e, size_t pos, uint32_t ttl, char *line, size_t cap,
                       rw_cache_dump_cb cb, void *ctx)
{
	struct rw_cache_rr rr[1];
	for (uint16_t k = 0; k < e->nproof; k++) {
		proof_read(e->data, pos, e->data, 1, rr);
		if (rw_rr_to_text(rr->owner, rr->type, e->rclass, ttl, rr->rdata, rr->rdlen, line,
		                  cap) > 0)
			cb(ctx, line);
		pos = (size_t)(rr->rdata - e->data) + rr->rdlen;
	}
}

size_t rw_cache_dump(struct rw_cache *c, rw_cache_dump_cb cb, void *ctx)
{
	size_t n = 0;
	uint64_t now = c->cfg.clock(c->cfg.clock_ctx);
	char line[70000];
	for (int i = 0; i < RW_CACHE_SHARDS; i++) {
		struct shard *s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		for (struct centry *e = s->head; e != NULL; e = e->qnext) {
			if (e->expire_ms <= now)
				continue;
			uint32_t ttl = (uint32_t)((e->expire_ms - now + 999) / 1000);
			size_t nl = rw_name_len(e->data);
			if (e->kind == RW_CACHE_POSITIVE) {
				size_t pos = nl;
				for (uint16_t k = 0; k < e->count; k++) {
					uint16_t len = rw_get16(e->data + pos);
					if (rw_rr_to_text(e->data, e->type, e->rclass, ttl,
					                  e->data + pos + 2, len, line,
					                  sizeof line) > 0)
						cb(ctx, line);
					pos += 2 + (size_t)len;
				}
				dump_proof(e, pos, ttl, line, sizeof line, cb, ctx);
			} else {
				char name[RW_NAME_TEXT_MAX], type[16];
				rw_name_to_text(e->data, name, sizeof name);
				rw_type_to_text(e->type, type, sizeof type);
				snprintf(line, sizeof line, "; %s %u %s%s", name, ttl,
				         e->kind == RW_CACHE_NXDOMAIN ? "NXDOMAIN" : "NODATA ",
				         e->kind == RW_CACHE_NXDOMAIN ? "" : type);
				cb(ctx, line);
				size_t pos = nl + rw_name_len(e->data + nl);
				dump_proof(e, pos + 2 + rw_get16(e->data + pos), ttl, line,
				           sizeof line, cb, ctx);
			}
			n++;
		}
		pthread_mutex_unlock(&s->lock);
	}
	return n;
}

size_t rw_cache_walk(struct rw_cache *c, struct rw_arena *arena, rw_cache_walk_cb cb, void *ctx)
{
	size_t n = 0;
	uint64_t now = c->cfg.clock(c->cfg.clock_ctx);
	for (int i = 0; i < RW_CACHE_SHARDS; i++) {
		struct shard *s = &c->shards[i];
		pthread_mutex_lock(&s->lock);
		/* Bound: the shard's entries. */
		for (struct centry *e = s->head; e != NULL; e = e->qnext) {
			struct rw_cache_entry out;
			if (e->expire_ms <= now)
				continue;
			rw_arena_reset(arena);
			if (copy_out(e, (uint32_t)((e->expire_ms - now) / 1000),
			             rw_name_len(e->data), true, arena, &out) != 0)
				continue;
			cb(ctx, &out, e->expire_ms - now, e->ttl_s);
			n++;
		}
		pthread_mutex_unlock(&s->lock);
	}
	return n;
}

/* The entries, or the negative ones only, summed over the shards (one
 * lock at a time). */
static size_t count_entries(struct rw_cache *c, bool negative)
{
	size_t n = 0;
	for (int i = 0; i < RW_CACHE_SHARDS; i++) {
		pthread_mutex_lock(&c->shards[i].lock);
		n += negative ? c->shards[i].nneg : c->shards[i].n;
		pthread_mutex_unlock(&c->shards[i].lock);
	}
	return n;
}

size_t rw_cache_entries(struct rw_cache *c)
{
	return count_entries(c, false);
}

size_t rw_cache_entries_negative(struct rw_cache *c)
{
	return count_entries(c, true);
}

size_t rw_cache_bytes(struct rw_cache *c)
{
	size_t n = 0;
	for (int i = 0; i < RW_CACHE_SHARDS; i++) {
		pthread_mutex_lock(&c->shards[i].lock);
		n += c->shards[i].bytes;
		pthread_mutex_unlock(&c->shards[i].lock);
	}
	return n;
}

void rw_cache_stats_add(struct rw_cache_stats *dst, const struct rw_cache_stats *src)
{
	dst->hits += src->hits;
	dst->misses += src->misses;
	dst->inserts += src->inserts;
	dst->evictions += src->evictions;
	dst->expired += src->expired;
	dst->refused_rank += src->refused_rank;
	dst->stale += src->stale;
}

void rw_cache_free(struct rw_cache *c)
{
	if (c == NULL)
		return;
	rw_cache_flush(c);
	for (int i = 0; i < RW_CACHE_SHARDS; i++) {
		free(c->shards[i].buckets);
		pthread_mutex_destroy(&c->shards[i].lock);
	}
	free(c);
}
