/* Shared upstream server records; see include/cache/rootwalk/infra.h. A chained
 * hash table under one mutex, touched only on the miss path (once per
 * upstream try and reply). When full, expired records are dropped first
 * and then the table refuses new ones (callers then see "unknown"). */
#include "rootwalk/infra.h"

#include "rootwalk/netaddr.h"

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 1024

struct rec {
	struct rec *next;
	struct sockaddr_storage ss;
	uint64_t updated_ms;
	struct rw_infra_info info;
	uint32_t rttvar_ms;
	uint32_t last_qhash; /* the question of the last timeout */
};

struct rw_infra {
	pthread_mutex_t lock;
	size_t n, max;
	struct rec *buckets[BUCKETS];
};

struct rw_infra *rw_infra_new(size_t max_records)
{
	struct rw_infra *t = calloc(1, sizeof *t);
	if (t != NULL) {
		pthread_mutex_init(&t->lock, NULL);
		t->max = max_records;
	}
	return t;
}

void rw_infra_free(struct rw_infra *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < BUCKETS; i++)
		for (struct rec *r = t->buckets[i], *next; r != NULL; r = next) {
			next = r->next;
			free(r);
		}
	pthread_mutex_destroy(&t->lock);
	free(t);
}

static size_t key_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static bool same(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

static uint32_t hash(const struct sockaddr *sa)
{
	const uint8_t *p;
	size_t n;
	uint16_t port;
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		p = s6->sin6_addr.s6_addr;
		n = 16;
		port = s6->sin6_port;
	} else {
		const struct sockaddr_in *s4 = (const void *)sa;
		p = (const uint8_t *)&s4->sin_addr;
		n = 4;
		port = s4->sin_port;
	}
	uint32_t h = 2166136261u ^ port;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

/* The live record for sa, or NULL; expired ones are removed. */
static struct rec *find(struct rw_infra *t, const struct sockaddr *sa, uint64_t now, bool create)
{
	struct rec **pp = &t->buckets[hash(sa) % BUCKETS];
	while (*pp != NULL) {
		struct rec *r = *pp;
		if (now > r->updated_ms + RW_INFRA_TTL_MS) {
			*pp = r->next;
			free(r);
			t->n--;
			continue;
		}
		if (same(sa, &r->ss))
			return r;
		pp = &r->next;
	}
	if (!create || t->n >= t->max)
		return NULL;
	struct rec *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	memcpy(&r->ss, sa, key_len(sa));
	r->info.known = false;
	r->info.rto_ms = RW_INFRA_RTO_INITIAL_MS;
	r->updated_ms = now;
	*pp = r;
	t->n++;
	return r;
}

bool rw_infra_is_alive(const struct rw_infra_info *i, uint64_t now_ms)
{
	return i->replied_ms != 0 && now_ms - i->replied_ms < RW_INFRA_ALIVE_MS;
}

void rw_infra_get(struct rw_infra *t, const struct sockaddr *sa, uint64_t now_ms,
                  struct rw_infra_info *out)
{
	pthread_mutex_lock(&t->lock);
	struct rec *r = find(t, sa, now_ms, false);
	if (r != NULL) {
		*out = r->info;
	} else {
		memset(out, 0, sizeof *out);
		out->rto_ms = RW_INFRA_RTO_INITIAL_MS;
	}
	pthread_mutex_unlock(&t->lock);
}

static uint32_t clamp_rto(uint64_t v)
{
	return v < RW_INFRA_RTO_MIN_MS   ? RW_INFRA_RTO_MIN_MS
	       : v > RW_INFRA_RTO_MAX_MS ? RW_INFRA_RTO_MAX_MS
	                                 : (uint32_t)v;
}

void rw_infra_rtt(struct rw_infra *t, const struct sockaddr *sa, uint32_t rtt_ms, uint64_t now_ms)
{
	pthread_mutex_lock(&t->lock);
	struct rec *r = find(t, sa, now_ms, true);
	if (r != NULL) {
		if (!r->info.known) { /* RFC 6298 §2.2 */
			r->info.srtt_ms = rtt_ms;
			r->rttvar_ms = rtt_ms / 2;
			r->info.known = true;
		} else { /* §2.3: alpha 1/8, beta 1/4 */
			uint32_t d = rtt_ms > r->info.srtt_ms ? rtt_ms - r->info.srtt_ms
			                                      : r->info.srtt_ms - rtt_ms;
			r->rttvar_ms = (3 * r->rttvar_ms + d) / 4;
			r->info.srtt_ms = (7 * r->info.srtt_ms + rtt_ms) / 8;
		}
		r->info.rto_ms = clamp_rto((uint64_t)r->info.srtt_ms + 4 * (uint64_t)r->rttvar_ms);
		r->info.timeouts = 0;
		r->info.strikes = 0;
		r->info.backoff_until_ms = 0;
		r->info.replied_ms = now_ms;
		r->updated_ms = now_ms;
	}
	pthread_mutex_unlock(&t->lock);
}

void rw_infra_timeout(struct rw_infra *t, const struct sockaddr *sa, uint32_t qhash,
                      uint64_t now_ms)
{
	pthread_mutex_lock(&t->lock);
	struct rec *r = find(t, sa, now_ms, true);
	if (r != NULL) {
		r->info.timeouts++;
		r->info.rto_ms = clamp_rto((uint64_t)r->info.rto_ms * 2); /* §5.5 */
		if (r->info.strikes == 0 || qhash != r->last_qhash)
			r->info.strikes++;
		r->last_qhash = qhash;
		if (r->info.strikes >= 3) {
			unsigned shift = r->info.strikes - 3 > 6 ? 6 : r->info.strikes - 3;
			uint64_t ms = 1000ull << shift;
			r->info.backoff_until_ms = now_ms + (ms > 60000 ? 60000 : ms);
		}
		r->updated_ms = now_ms;
	}
	pthread_mutex_unlock(&t->lock);
}

#define SETTER(fn, stmt)                                                                           \
	void fn                                                                                    \
	{                                                                                          \
		pthread_mutex_lock(&t->lock);                                                      \
		struct rec *r = find(t, sa, now_ms, true);                                         \
		if (r != NULL) {                                                                   \
			stmt;                                                                      \
			r->updated_ms = now_ms;                                                    \
		}                                                                                  \
		pthread_mutex_unlock(&t->lock);                                                    \
	}

SETTER(rw_infra_set_no_edns(struct rw_infra *t, const struct sockaddr *sa, uint64_t now_ms),
       r->info.no_edns = true)
SETTER(rw_infra_set_tcp_only(struct rw_infra *t, const struct sockaddr *sa, uint64_t now_ms),
       r->info.tcp_only = true)
SETTER(rw_infra_set_lame(struct rw_infra *t, const struct sockaddr *sa, uint32_t zone_hash,
                         uint64_t now_ms),
       r->info.lame_zone_hash = zone_hash;
       r->info.lame_until_ms = now_ms + RW_INFRA_LAME_MS)

bool rw_infra_is_lame(const struct rw_infra_info *i, uint32_t zone_hash, uint64_t now_ms)
{
	return i->lame_zone_hash != 0 && i->lame_zone_hash == zone_hash &&
	       i->lame_until_ms > now_ms;
}

size_t rw_infra_flush(struct rw_infra *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->n;
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct rec *r = t->buckets[i], *next; r != NULL; r = next) {
			next = r->next;
			free(r);
		}
		t->buckets[i] = NULL;
	}
	t->n = 0;
	pthread_mutex_unlock(&t->lock);
	return n;
}

/* Whether a record is of sa's address (and port, unless any_port). */
static bool same_server(const struct sockaddr_storage *ss, const struct sockaddr *sa, bool any_port)
{
	if (ss->ss_family != sa->sa_family)
		return false;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss, *b = (const void *)sa;
		return a->sin_addr.s_addr == b->sin_addr.s_addr &&
		       (any_port || a->sin_port == b->sin_port);
	}
	const struct sockaddr_in6 *a = (const void *)ss, *b = (const void *)sa;
	return memcmp(&a->sin6_addr, &b->sin6_addr, 16) == 0 &&
	       (any_port || a->sin6_port == b->sin6_port);
}

size_t rw_infra_forget(struct rw_infra *t, const struct sockaddr *sa, bool any_port)
{
	size_t n = 0;
	pthread_mutex_lock(&t->lock);
	/* Bound: the table's records (a port-less address may be in any
	 * bucket: they are hashed with the port). */
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct rec **p = &t->buckets[i]; *p != NULL;) {
			struct rec *r = *p;
			if (same_server(&r->ss, sa, any_port)) {
				*p = r->next;
				free(r);
				n++;
				t->n--;
			} else {
				p = &r->next;
			}
		}
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t rw_infra_dump(struct rw_infra *t, uint64_t now_ms, void (*cb)(void *ctx, const char *line),
                     void *ctx)
{
	size_t n = 0;
	pthread_mutex_lock(&t->lock);
	/* Bound: the table's records (at most max). */
	for (size_t i = 0; i < BUCKETS; i++) {
		for (struct rec *r = t->buckets[i]; r != NULL; r = r->next) {
			if (now_ms - r->updated_ms > RW_INFRA_TTL_MS)
				continue;
			char addr[80], line[256];
			rw_addr_text((const struct sockaddr *)&r->ss, addr, sizeof addr);
			int k = snprintf(line, sizeof line, "%s srtt=%ums rto=%ums timeouts=%u",
			                 addr, r->info.srtt_ms, r->info.rto_ms, r->info.timeouts);
			if (r->info.backoff_until_ms > now_ms && k > 0 && (size_t)k < sizeof line)
				k += snprintf(
				    line + k, sizeof line - (size_t)k, " backoff=%llums",
				    (unsigned long long)(r->info.backoff_until_ms - now_ms));
			if (r->info.no_edns && k > 0 && (size_t)k < sizeof line)
				k += snprintf(line + k, sizeof line - (size_t)k, " no-edns");
			if (r->info.tcp_only && k > 0 && (size_t)k < sizeof line)
				k += snprintf(line + k, sizeof line - (size_t)k, " tcp-only");
			if (r->info.lame_until_ms > now_ms && k > 0 && (size_t)k < sizeof line)
				snprintf(line + k, sizeof line - (size_t)k, " lame=%llums",
				         (unsigned long long)(r->info.lame_until_ms - now_ms));
			cb(ctx, line);
			n++;
		}
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t rw_infra_count(struct rw_infra *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->n;
	pthread_mutex_unlock(&t->lock);
	return n;
}
