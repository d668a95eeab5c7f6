/* The cache on disk; see include/cache/rootwalk/cachefile.h. */
#include "rootwalk/cachefile.h"
#include "rootwalk/err.h"
#include "rootwalk/name.h"
#include "rootwalk/rr.h"
#include "rootwalk/wire.h"

#include <string.h>

#define MAGIC "RWCACHE" /* and its NUL: 8 bytes */
#define HEADER_LEN 32
#define TRAILER_LEN 8
#define FIXED_LEN 18 /* kind, rank, type, class, expiry, TTL */

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static void put64(uint8_t *p, uint64_t v)
{
	rw_put32(p, (uint32_t)(v >> 32));
	rw_put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)rw_get32(p) << 32 | rw_get32(p + 4);
}

static void add16(struct rw_buf *b, uint16_t v)
{
	uint8_t x[2];
	rw_put16(x, v);
	rw_buf_append(b, x, 2);
}

static void add_name(struct rw_buf *b, const uint8_t *name)
{
	rw_buf_append(b, name, rw_name_len(name));
}

struct writer {
	struct rw_buf *out;
	uint64_t now;
};

static void write_entry(void *ctx, const struct rw_cache_entry *e, uint64_t left_ms, uint32_t ttl_s)
{
	struct writer *w = ctx;
	struct rw_buf *b = w->out;
	size_t start = b->len;
	uint8_t fx[4 + FIXED_LEN];
	fx[4] = (uint8_t)e->kind;
	fx[5] = (uint8_t)e->rank;
	rw_put16(fx + 6, e->set.type);
	rw_put16(fx + 8, e->set.rclass);
	put64(fx + 10, w->now + left_ms);
	rw_put32(fx + 18, ttl_s);
	rw_buf_append(b, fx, sizeof fx);
	add_name(b, e->set.owner);
	const struct rw_cache_rrset *set = e->kind == RW_CACHE_POSITIVE ? &e->set : &e->soa;
	if (e->kind == RW_CACHE_POSITIVE)
		add16(b, set->count);
	else
		add_name(b, set->owner);
	for (uint16_t i = 0; i < set->count; i++) {
		add16(b, set->rdlen[i]);
		rw_buf_append(b, set->rdata[i], set->rdlen[i]);
	}
	add16(b, e->proof.count);
	for (uint16_t i = 0; i < e->proof.count; i++) {
		const struct rw_cache_rr *rr = &e->proof.rr[i];
		add_name(b, rr->owner);
		add16(b, rr->type);
		add16(b, rr->rdlen);
		rw_buf_append(b, rr->rdata, rr->rdlen);
	}
	if (!b->failed)
		rw_put32((uint8_t *)b->p + start, (uint32_t)(b->len - start - 4));
}

size_t rw_cachefile_write(struct rw_cache *c, struct rw_arena *arena, uint64_t now_unix_ms,
                          struct rw_buf *out)
{
	uint8_t h[HEADER_LEN] = MAGIC;
	size_t start = out->len;
	rw_put32(h + 8, RW_CACHEFILE_VERSION);
	put64(h + 16, now_unix_ms);
	rw_buf_append(out, h, sizeof h);
	struct writer w = {out, now_unix_ms};
	size_t n = rw_cache_walk(c, arena, write_entry, &w);
	if (out->failed)
		return n;
	rw_put32((uint8_t *)out->p + start + 24, (uint32_t)n);
	uint8_t t[TRAILER_LEN];
	put64(t, fnv1a((const uint8_t *)out->p + start, out->len - start));
	rw_buf_append(out, t, sizeof t);
	return n;
}

/* A name in a record: uncompressed, within it. */
static bool read_name(struct rw_rbuf *r, const uint8_t **name)
{
	size_t start = r->pos, nl;
	uint8_t tmp[RW_NAME_MAX];
	r->ptrs_left = 0; /* no compression in the file */
	if (rw_name_read(r, tmp, &nl) != 0)
		return false;
	*name = r->base + start;
	return true;
}

/* Reads one rdata (u16 length, bytes). */
static bool read_rdata(struct rw_rbuf *r, uint16_t *len, const uint8_t **rd)
{
	if (rw_rbuf_u16(r, len) != 0 || rw_rbuf_left(r) < *len)
		return false;
	*rd = r->base + r->pos;
	r->pos += *len;
	return true;
}

/* Parses and caches one record (rec, len bytes). Returns 0 (cached),
 * RW_ETIMEOUT (expired), RW_EMALFORMED, or the cache's refusal. */
static int read_record(struct rw_cache *c, const uint8_t *rec, size_t len, uint64_t now,
                       struct rw_arena *a)
{
	struct rw_rbuf r;
	rw_rbuf_init(&r, rec, len);
	if (len < FIXED_LEN)
		return RW_EMALFORMED;
	uint8_t kind = rec[0], rank = rec[1];
	uint16_t type = rw_get16(rec + 2), rclass = rw_get16(rec + 4);
	uint64_t expiry = get64(rec + 6);
	r.pos = FIXED_LEN;
	const uint8_t *owner, *soa_owner = NULL;
	uint16_t count = 1;
	if (kind > RW_CACHE_NXDOMAIN || rank < RW_RANK_ADDITIONAL || rank > RW_RANK_AUTH_ANSWER ||
	    !read_name(&r, &owner) ||
	    (kind == RW_CACHE_POSITIVE ? rw_rbuf_u16(&r, &count) != 0 || count == 0 || type == 0
	                               : !read_name(&r, &soa_owner)))
		return RW_EMALFORMED;
	uint16_t *lens = rw_arena_alloc(a, (size_t)count * sizeof *lens);
	const uint8_t **rds = rw_arena_alloc(a, (size_t)count * sizeof *rds);
	if (lens == NULL || rds == NULL)
		return RW_ENOMEM;
	for (uint16_t i = 0; i < count; i++)
		if (!read_rdata(&r, &lens[i], &rds[i]))
			return RW_EMALFORMED;
	uint16_t np;
	if (rw_rbuf_u16(&r, &np) != 0)
		return RW_EMALFORMED;
	struct rw_cache_rr *prr = rw_arena_alloc(a, (size_t)np * sizeof *prr + 1);
	if (prr == NULL)
		return RW_ENOMEM;
	for (uint16_t i = 0; i < np; i++)
		if (!read_name(&r, &prr[i].owner) || rw_rbuf_u16(&r, &prr[i].type) != 0 ||
		    !read_rdata(&r, &prr[i].rdlen, &prr[i].rdata))
			return RW_EMALFORMED;
	if (rw_rbuf_left(&r) != 0)
		return RW_EMALFORMED;
	if (expiry <= now)
		return RW_ETIMEOUT;
	uint64_t left = (expiry - now + 999) / 1000;
	uint32_t ttl = left > UINT32_MAX ? UINT32_MAX : (uint32_t)left;
	struct rw_cache_proof proof = {np, prr};
	struct rw_cache_stats st = {0};
	if (kind == RW_CACHE_POSITIVE) {
		struct rw_cache_rrset set = {owner, type, rclass, ttl, count, lens, rds};
		return rw_cache_put(c, &set, &proof, (enum rw_rank)rank, &st);
	}
	struct rw_cache_rrset soa = {soa_owner, RW_TYPE_SOA, rclass, ttl, 1, lens, rds};
	return rw_cache_put_negative(c, (enum rw_cache_kind)kind, owner, type, rclass, &soa, &proof,
	                             (enum rw_rank)rank, &st);
}

int rw_cachefile_read(struct rw_cache *c, const uint8_t *buf, size_t len, uint64_t now_unix_ms,
                      struct rw_arena *arena, struct rw_cachefile_result *res, const char **why)
{
	memset(res, 0, sizeof *res);
	if (len == 0) {
		*why = "empty";
		return RW_EMALFORMED;
	}
	if (len < HEADER_LEN + TRAILER_LEN || memcmp(buf, MAGIC, 8) != 0) {
		*why = len >= 8 && memcmp(buf, MAGIC, 8) == 0 ? "truncated"
		                                              : "not a rootwalk cache file";
		return RW_EMALFORMED;
	}
	if (rw_get32(buf + 8) != RW_CACHEFILE_VERSION) {
		*why = "a cache file of another version";
		return RW_EMALFORMED;
	}
	size_t end = len - TRAILER_LEN;
	if (fnv1a(buf, end) != get64(buf + end)) {
		*why = "checksum mismatch (truncated or corrupt)";
		return RW_EMALFORMED;
	}
	uint32_t count = rw_get32(buf + 24);
	/* The framing first, so that a file refused is refused whole. Bound:
	 * the records the file holds (each at least 4 bytes). */
	size_t pos = HEADER_LEN;
	for (uint32_t i = 0; i < count; i++) {
		if (end - pos < 4 || rw_get32(buf + pos) > end - pos - 4) {
			*why = "a record runs past the end";
			return RW_EMALFORMED;
		}
		pos += 4 + (size_t)rw_get32(buf + pos);
	}
	pos = HEADER_LEN;
	for (uint32_t i = 0; i < count; i++) {
		size_t rl = rw_get32(buf + pos);
		rw_arena_reset(arena);
		int e = read_record(c, buf + pos + 4, rl, now_unix_ms, arena);
		if (e == 0)
			res->loaded++;
		else if (e == RW_ETIMEOUT)
			res->expired++;
		else if (e == RW_EMALFORMED)
			res->malformed++;
		else
			res->refused++;
		pos += 4 + rl;
	}
	if (pos != end)
		res->malformed++; /* bytes after the last record: ignored */
	return 0;
}
