/* Unit tests: the shared cache -- TTL countdown and expiry on an injected
 * clock (no sleeping), clamps, negative entries, ranking, whole-set
 * replacement, the byte bound, scan resistance, and concurrent use. */
#include "rootwalk/cache.h"
#include "rootwalk/cachefile.h"
#include "rootwalk/err.h"
#include "rootwalk/failcache.h"
#include "rootwalk/name.h"
#include "rootwalk/rr.h"
#include "testutil.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static uint64_t now_ms;
static uint64_t fake_clock(void *ctx)
{
	(void)ctx;
	return now_ms;
}

static struct rw_cache *cache;
static struct rw_cache_stats st;
static struct rw_arena arena;

static struct rw_cache *make(size_t limit)
{
	struct rw_cache_config cfg;
	rw_cache_config_default(&cfg);
	cfg.limit_bytes = limit;
	cfg.clock = fake_clock;
	return rw_cache_new(&cfg);
}

static void setup(void)
{
	now_ms = 1000000;
	cache = make(64u << 20);
	memset(&st, 0, sizeof st);
	rw_arena_init(&arena, 8192, 1 << 24);
}

static void teardown(void)
{
	rw_cache_free(cache);
	rw_arena_fini(&arena);
}

/* Puts an A RRset of n addresses 10.0.0.(base+i). */
static int put_a(struct rw_cache *c, const char *name, uint32_t ttl, int n, int base,
                 enum rw_rank rank)
{
	uint8_t owner[RW_NAME_MAX], rd[16][4];
	const uint8_t *rds[16];
	uint16_t lens[16];
	tu_name(name, owner);
	for (int i = 0; i < n; i++) {
		rd[i][0] = 10;
		rd[i][1] = rd[i][2] = 0;
		rd[i][3] = (uint8_t)(base + i);
		rds[i] = rd[i];
		lens[i] = 4;
	}
	struct rw_cache_rrset s = {owner, 1, 1, ttl, (uint16_t)n, lens, rds};
	return rw_cache_put(c, &s, NULL, rank, &st);
}

static int get(struct rw_cache *c, const char *name, uint16_t type, struct rw_cache_entry *e)
{
	uint8_t n[RW_NAME_MAX];
	tu_name(name, n);
	return rw_cache_get(c, n, type, 1, &arena, e, &st);
}

static const struct rw_cache_rrset *soa(uint32_t ttl, uint32_t minimum)
{
	static uint8_t owner[RW_NAME_MAX], rd[3 * RW_NAME_MAX];
	static const uint8_t *rds[1] = {rd};
	static uint16_t len[1];
	static struct rw_cache_rrset s;
	tu_name("example.", owner);
	size_t a = tu_name("ns.example.", rd);
	size_t b = tu_name("hm.example.", rd + a);
	uint8_t *p = rd + a + b;
	memset(p, 0, 20);
	rw_put32(p + 16, minimum);
	len[0] = (uint16_t)(a + b + 20);
	s = (struct rw_cache_rrset){owner, 6, 1, ttl, 1, len, rds};
	return &s;
}

START_TEST(ttl_countdown_and_expiry)
{
	ck_assert_int_eq(put_a(cache, "www.example.", 300, 2, 1, RW_RANK_ANSWER), 0);
	struct rw_cache_entry e;
	ck_assert_int_eq(get(cache, "WWW.Example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.ttl_s, 300);
	ck_assert_uint_eq(e.set.count, 2);
	ck_assert_uint_eq(e.set.rdata[1][3], 2);
	now_ms += 100500;
	ck_assert_int_eq(get(cache, "www.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.ttl_s, 199);
	now_ms += 199 * 1000;
	ck_assert_int_eq(get(cache, "www.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.ttl_s, 0);
	now_ms += 500; /* exactly at expiry: no longer answered... */
	ck_assert_int_eq(get(cache, "www.example.", 1, &e), RW_ENOTFOUND);
	ck_assert(e.stale); /* ...but kept for serve-stale (RFC 8767) */
	ck_assert_uint_eq(rw_cache_entries(cache), 1);
	ck_assert_int_eq(get(cache, "www.example.", 28, &e), RW_ENOTFOUND);
	ck_assert(!e.stale);
	ck_assert_uint_eq(st.hits, 3);
	ck_assert_uint_eq(st.misses, 2);
	now_ms += 86400 * 1000; /* past the stale window: gone */
	ck_assert_int_eq(get(cache, "www.example.", 1, &e), RW_ENOTFOUND);
	ck_assert(!e.stale);
	ck_assert_uint_eq(st.expired, 1);
	ck_assert_uint_eq(rw_cache_entries(cache), 0);
}
END_TEST

static int get_stale(struct rw_cache *c, const char *name, uint16_t type, struct rw_cache_entry *e)
{
	uint8_t n[RW_NAME_MAX];
	tu_name(name, n);
	return rw_cache_get_flags(c, n, type, 1, RW_CACHE_STALE, &arena, e, &st);
}

/* Serve-stale (RFC 8767): expired data is kept for the window and handed
 * only to lookups that ask for it (TTL 0, marked), NXDOMAIN first; live
 * data always wins, a fresh answer of any kind replaces stale data, and a
 * window of 0 drops data at expiry. */
START_TEST(stale_window)
{
	struct rw_cache_entry e;
	put_a(cache, "old.example.", 10, 1, 7, RW_RANK_ANSWER);
	ck_assert_int_eq(get_stale(cache, "old.example.", 1, &e), 0);
	ck_assert(!e.stale); /* live: the normal answer */
	ck_assert_uint_eq(e.set.ttl_s, 10);
	now_ms += 11000;
	ck_assert_int_eq(get_stale(cache, "old.example.", 1, &e), 0);
	ck_assert(e.stale);
	ck_assert_uint_eq(e.set.ttl_s, 0);
	ck_assert_uint_eq(e.set.rdata[0][3], 7);
	ck_assert_uint_eq(st.stale, 1);
	ck_assert_int_eq(get_stale(cache, "old.example.", 28, &e), RW_ENOTFOUND);
	/* a stale NXDOMAIN answers every type, before stale data of the type */
	uint8_t n[RW_NAME_MAX];
	tu_name("old.example.", n);
	ck_assert_int_eq(rw_cache_put_negative(cache, RW_CACHE_NXDOMAIN, n, 0, 1, soa(5, 5), NULL,
	                                       RW_RANK_AUTH_ANSWER, &st),
	                 0);
	ck_assert_int_eq(get(cache, "old.example.", 1, &e), 0); /* fresh: NXDOMAIN */
	ck_assert_int_eq(e.kind, RW_CACHE_NXDOMAIN);
	now_ms += 6000;
	ck_assert_int_eq(get_stale(cache, "old.example.", 28, &e), 0);
	ck_assert_int_eq(e.kind, RW_CACHE_NXDOMAIN);
	ck_assert(e.stale);
	ck_assert_uint_eq(e.soa.ttl_s, 0);
	/* fresh data replaces stale data whatever the ranks */
	put_a(cache, "old.example.", 60, 1, 9, RW_RANK_ADDITIONAL);
	ck_assert_int_eq(get(cache, "old.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.rdata[0][3], 9);
	ck_assert(!e.stale);
	/* window 0: expired data is gone at once */
	struct rw_cache_config cfg;
	rw_cache_config_default(&cfg);
	cfg.clock = fake_clock;
	cfg.stale_s = 0;
	struct rw_cache *c = rw_cache_new(&cfg);
	put_a(c, "a.example.", 1, 1, 1, RW_RANK_ANSWER);
	now_ms += 1000;
	ck_assert_int_eq(get_stale(c, "a.example.", 1, &e), RW_ENOTFOUND);
	ck_assert(!e.stale);
	ck_assert_uint_eq(rw_cache_entries(c), 0);
	rw_cache_free(c);
}
END_TEST

START_TEST(ttl_clamps)
{
	struct rw_cache_config cfg;
	rw_cache_config_default(&cfg);
	cfg.clock = fake_clock;
	cfg.min_ttl_s = 60;
	cfg.max_ttl_s = 1000;
	cfg.max_neg_ttl_s = 30;
	struct rw_cache *c = rw_cache_new(&cfg);
	struct rw_cache_entry e;
	put_a(c, "low.example.", 5, 1, 1, RW_RANK_ANSWER);
	put_a(c, "high.example.", 999999, 1, 1, RW_RANK_ANSWER);
	ck_assert_int_eq(get(c, "low.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.ttl_s, 60);
	ck_assert_int_eq(get(c, "high.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.ttl_s, 1000);
	uint8_t n[RW_NAME_MAX];
	tu_name("neg.example.", n);
	ck_assert_int_eq(rw_cache_put_negative(c, RW_CACHE_NXDOMAIN, n, 0, 1, soa(3600, 900), NULL,
	                                       RW_RANK_AUTH_ANSWER, &st),
	                 0);
	ck_assert_int_eq(get(c, "neg.example.", 1, &e), 0);
	ck_assert_uint_eq(e.soa.ttl_s, 30);
	/* a reload's new policy: for inserts and lookups from then on;
	 * entries already in keep their expiry */
	cfg.min_ttl_s = 0;
	cfg.max_ttl_s = 50;
	cfg.max_neg_ttl_s = 10;
	cfg.stale_s = 0;
	cfg.prefetch_pct = 0;
	rw_cache_set_policy(c, &cfg);
	ck_assert_int_eq(get(c, "high.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.ttl_s, 1000);
	put_a(c, "new.example.", 5, 1, 1, RW_RANK_ANSWER);
	put_a(c, "big.example.", 999, 1, 1, RW_RANK_ANSWER);
	ck_assert_int_eq(get(c, "new.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.ttl_s, 5);
	ck_assert_int_eq(get(c, "big.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.ttl_s, 50);
	tu_name("neg2.example.", n);
	ck_assert_int_eq(rw_cache_put_negative(c, RW_CACHE_NXDOMAIN, n, 0, 1, soa(3600, 900), NULL,
	                                       RW_RANK_AUTH_ANSWER, &st),
	                 0);
	ck_assert_int_eq(get(c, "neg2.example.", 1, &e), 0);
	ck_assert_uint_eq(e.soa.ttl_s, 10);
	now_ms += 49000; /* 1 s of 50 left: prefetch is off now */
	ck_assert_int_eq(get(c, "big.example.", 1, &e), 0);
	ck_assert(!e.prefetch);
	now_ms += 2000; /* expired, and serve-stale is off now */
	ck_assert_int_eq(get_stale(c, "big.example.", 1, &e), RW_ENOTFOUND);
	cfg.stale_s = 3600;
	cfg.prefetch_pct = 10;
	rw_cache_set_policy(c, &cfg);
	put_a(c, "big.example.", 999, 1, 1, RW_RANK_ANSWER);
	now_ms += 51000;
	ck_assert_int_eq(get_stale(c, "big.example.", 1, &e), 0);
	ck_assert(e.stale);
	rw_cache_free(c);
	/* defaults: max 86400, negative max 3600 */
	put_a(cache, "day.example.", 999999, 1, 1, RW_RANK_ANSWER);
	ck_assert_int_eq(get(cache, "day.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.ttl_s, 86400);
}
END_TEST

static bool negative_only(void *ctx, const uint8_t *name, uint16_t type, enum rw_cache_kind kind)
{
	(void)ctx, (void)name, (void)type;
	return kind != RW_CACHE_POSITIVE;
}

static bool under_corp(void *ctx, const uint8_t *name, uint16_t type, enum rw_cache_kind kind)
{
	(void)type, (void)kind;
	return rw_name_is_under(name, ctx);
}

/* rw_cache_flush_match (control's flush-negative, flush-zone): exactly
 * the entries it says yes to go. */
START_TEST(flush_by_match)
{
	uint8_t n[RW_NAME_MAX];
	struct rw_cache_entry e;
	put_a(cache, "www.corp.", 300, 1, 1, RW_RANK_ANSWER);
	put_a(cache, "a.b.corp.", 300, 1, 2, RW_RANK_ANSWER);
	put_a(cache, "www.other.", 300, 1, 3, RW_RANK_ANSWER);
	tu_name("gone.corp.", n);
	ck_assert_int_eq(rw_cache_put_negative(cache, RW_CACHE_NXDOMAIN, n, 0, 1, soa(600, 120),
	                                       NULL, RW_RANK_AUTH_ANSWER, &st),
	                 0);
	ck_assert_uint_eq(rw_cache_flush_match(cache, negative_only, NULL), 1);
	ck_assert_int_eq(get(cache, "gone.corp.", 1, &e), RW_ENOTFOUND);
	ck_assert_int_eq(get(cache, "www.corp.", 1, &e), 0);
	uint8_t corp[RW_NAME_MAX];
	tu_name("corp.", corp);
	ck_assert_uint_eq(rw_cache_flush_match(cache, under_corp, corp), 2);
	ck_assert_int_eq(get(cache, "a.b.corp.", 1, &e), RW_ENOTFOUND);
	ck_assert_int_eq(get(cache, "www.other.", 1, &e), 0);
	ck_assert_uint_eq(rw_cache_entries(cache), 1);
}
END_TEST

START_TEST(negative_entries)
{
	uint8_t n[RW_NAME_MAX];
	struct rw_cache_entry e;
	tu_name("gone.example.", n);
	/* RFC 2308: TTL = min(SOA TTL 600, MINIMUM 120) */
	ck_assert_int_eq(rw_cache_put_negative(cache, RW_CACHE_NXDOMAIN, n, 1, 1, soa(600, 120),
	                                       NULL, RW_RANK_AUTH_ANSWER, &st),
	                 0);
	for (uint16_t t = 1; t < 40; t += 7) { /* NXDOMAIN covers every type */
		ck_assert_int_eq(get(cache, "gone.example.", t, &e), 0);
		ck_assert_int_eq(e.kind, RW_CACHE_NXDOMAIN);
		ck_assert_uint_eq(e.soa.ttl_s, 120);
		ck_assert_uint_eq(e.soa.type, 6);
		ck_assert(rw_name_eq(e.soa.owner, (const uint8_t *)"\7example"));
		ck_assert_uint_eq(rw_get32(e.soa.rdata[0] + e.soa.rdlen[0] - 4), 120);
	}
	/* NODATA is per type; negative entries are counted apart */
	size_t neg0 = rw_cache_entries_negative(cache), all0 = rw_cache_entries(cache);
	ck_assert_uint_ge(neg0, 1);
	tu_name("www.example.", n);
	ck_assert_int_eq(rw_cache_put_negative(cache, RW_CACHE_NODATA, n, 28, 1, soa(600, 900),
	                                       NULL, RW_RANK_AUTH_ANSWER, &st),
	                 0);
	ck_assert_uint_eq(rw_cache_entries_negative(cache), neg0 + 1);
	ck_assert_uint_eq(rw_cache_entries(cache), all0 + 1);
	ck_assert_int_eq(get(cache, "www.example.", 28, &e), 0);
	ck_assert_int_eq(e.kind, RW_CACHE_NODATA);
	ck_assert_uint_eq(e.soa.ttl_s, 600);
	ck_assert_int_eq(get(cache, "www.example.", 1, &e), RW_ENOTFOUND);
	/* positive data for a name removes its NXDOMAIN */
	put_a(cache, "gone.example.", 60, 1, 1, RW_RANK_AUTH_ANSWER);
	ck_assert_uint_eq(rw_cache_entries_negative(cache), neg0); /* the NXDOMAIN went */
	ck_assert_uint_eq(rw_cache_entries(cache), all0 + 1);      /* and the A came */
	ck_assert_int_eq(get(cache, "gone.example.", 1, &e), 0);
	ck_assert_int_eq(e.kind, RW_CACHE_POSITIVE);
	ck_assert_int_eq(get(cache, "gone.example.", 16, &e), RW_ENOTFOUND);
	/* bad arguments */
	ck_assert_int_eq(rw_cache_put_negative(cache, RW_CACHE_POSITIVE, n, 1, 1, soa(1, 1), NULL,
	                                       RW_RANK_ANSWER, &st),
	                 RW_EINVAL);
	ck_assert_int_eq(rw_cache_put_negative(cache, RW_CACHE_NODATA, n, 0, 1, soa(1, 1), NULL,
	                                       RW_RANK_ANSWER, &st),
	                 RW_EINVAL);
	ck_assert_int_eq(put_a(cache, "x.", 1, 0, 0, RW_RANK_ANSWER), RW_EINVAL);
}
END_TEST

/* Prefetch: a live hit with less than 10% of its TTL left says so; not
 * before, not when stale, not when prefetch is off. */
START_TEST(prefetch_mark)
{
	struct rw_cache_entry e;
	put_a(cache, "hot.example.", 100, 1, 1, RW_RANK_ANSWER);
	now_ms += 89000; /* 11 s of 100 left */
	ck_assert_int_eq(get(cache, "hot.example.", 1, &e), 0);
	ck_assert(!e.prefetch);
	now_ms += 2000; /* 9 s left */
	ck_assert_int_eq(get(cache, "hot.example.", 1, &e), 0);
	ck_assert(e.prefetch);
	now_ms += 10000; /* expired: a stale answer is no prefetch */
	ck_assert_int_eq(get_stale(cache, "hot.example.", 1, &e), 0);
	ck_assert(e.stale);
	ck_assert(!e.prefetch);
	struct rw_cache_config cfg;
	rw_cache_config_default(&cfg);
	cfg.clock = fake_clock;
	cfg.prefetch_pct = 0;
	struct rw_cache *c = rw_cache_new(&cfg);
	put_a(c, "hot.example.", 100, 1, 1, RW_RANK_ANSWER);
	now_ms += 99000;
	ck_assert_int_eq(get(c, "hot.example.", 1, &e), 0);
	ck_assert(!e.prefetch);
	rw_cache_free(c);
}
END_TEST

/* The cache file (issue 12): written and read back with absolute expiry
 * (a later read counts down from where it was, and drops what expired);
 * positive and negative entries and their proofs survive; empty,
 * truncated, corrupt, foreign and other-version files are refused whole. */
START_TEST(cache_file_round_trip)
{
	uint8_t n[RW_NAME_MAX];
	put_a(cache, "www.example.", 300, 2, 1, RW_RANK_AUTH_ANSWER);
	put_a(cache, "short.example.", 5, 1, 9, RW_RANK_ANSWER);
	tu_name("gone.example.", n);
	ck_assert_int_eq(rw_cache_put_negative(cache, RW_CACHE_NXDOMAIN, n, 0, 1, soa(600, 120),
	                                       NULL, RW_RANK_AUTH_ANSWER, &st),
	                 0);
	/* a proof: an RRSIG kept with the set */
	uint8_t owner[RW_NAME_MAX], sig[32] = {0, 1};
	tu_name("signed.example.", owner);
	uint8_t rd[4] = {10, 0, 0, 7};
	const uint8_t *rds[1] = {rd};
	uint16_t lens[1] = {4};
	struct rw_cache_rr prr = {owner, RW_TYPE_RRSIG, sizeof sig, sig};
	struct rw_cache_proof proof = {1, &prr};
	struct rw_cache_rrset set = {owner, 1, 1, 300, 1, lens, rds};
	ck_assert_int_eq(rw_cache_put(cache, &set, &proof, RW_RANK_AUTH_ANSWER, &st), 0);
	struct rw_buf b = {0};
	uint64_t wall = 1700000000000ull;
	ck_assert_uint_eq(rw_cachefile_write(cache, &arena, wall, &b), 4);
	ck_assert(!b.failed);
	/* read into a fresh cache 100 s later (wall clock): short.example
	 * expired meanwhile */
	struct rw_cache *c2 = make(64u << 20);
	struct rw_cachefile_result res;
	const char *why = NULL;
	ck_assert_int_eq(
	    rw_cachefile_read(c2, (const uint8_t *)b.p, b.len, wall + 100000, &arena, &res, &why),
	    0);
	ck_assert_uint_eq(res.loaded, 3);
	ck_assert_uint_eq(res.expired, 1);
	ck_assert_uint_eq(res.malformed, 0);
	struct rw_cache_entry e;
	ck_assert_int_eq(get(c2, "www.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.count, 2);
	ck_assert_uint_eq(e.rank, RW_RANK_AUTH_ANSWER);
	ck_assert_uint_eq(e.set.ttl_s, 200); /* 300 - 100 */
	ck_assert_int_eq(get(c2, "gone.example.", 28, &e), 0);
	ck_assert_int_eq(e.kind, RW_CACHE_NXDOMAIN);
	ck_assert_uint_eq(e.soa.ttl_s, 20); /* 120 - 100 */
	ck_assert_int_eq(get(c2, "signed.example.", 1, &e), 0);
	ck_assert_uint_eq(e.proof.count, 1);
	ck_assert_uint_eq(e.proof.rr[0].type, RW_TYPE_RRSIG);
	ck_assert_int_eq(get(c2, "short.example.", 1, &e), RW_ENOTFOUND);
	rw_cache_free(c2);
	/* refused whole: nothing loaded, a reason */
	c2 = make(64u << 20);
	ck_assert_int_eq(rw_cachefile_read(c2, (const uint8_t *)b.p, 0, wall, &arena, &res, &why),
	                 RW_EMALFORMED);
	ck_assert_str_eq(why, "empty");
	ck_assert_int_eq(
	    rw_cachefile_read(c2, (const uint8_t *)b.p, b.len - 20, wall, &arena, &res, &why),
	    RW_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "checksum"));
	ck_assert_int_eq(rw_cachefile_read(c2, (const uint8_t *)b.p, 20, wall, &arena, &res, &why),
	                 RW_EMALFORMED);
	ck_assert_str_eq(why, "truncated");
	b.p[40] ^= 1;
	ck_assert_int_eq(
	    rw_cachefile_read(c2, (const uint8_t *)b.p, b.len, wall, &arena, &res, &why),
	    RW_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "checksum"));
	b.p[40] ^= 1;
	b.p[11] = 2; /* version 2 */
	ck_assert_int_eq(
	    rw_cachefile_read(c2, (const uint8_t *)b.p, b.len, wall, &arena, &res, &why),
	    RW_EMALFORMED);
	ck_assert_ptr_nonnull(strstr(why, "version"));
	/* a record that does not parse is dropped alone: the first
	 * record's rank byte made 9, the checksum made right again */
	b.p[11] = 1;
	b.p[32 + 4 + 1] = 9;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i + 8 < b.len; i++)
		h = (h ^ (uint8_t)b.p[i]) * 0x100000001b3ull;
	rw_put32((uint8_t *)b.p + b.len - 8, (uint32_t)(h >> 32));
	rw_put32((uint8_t *)b.p + b.len - 4, (uint32_t)h);
	ck_assert_int_eq(
	    rw_cachefile_read(c2, (const uint8_t *)b.p, b.len, wall, &arena, &res, &why), 0);
	ck_assert_uint_eq(res.malformed, 1);
	ck_assert_uint_eq(res.loaded + res.expired, 3);
	rw_cache_flush(c2);
	const char foreign[] = "$TTL 300\n@ SOA ns hm 1 2 3 4 5\nwww A 192.0.2.1\n";
	ck_assert_int_eq(rw_cachefile_read(c2, (const uint8_t *)foreign, sizeof foreign, wall,
	                                   &arena, &res, &why),
	                 RW_EMALFORMED);
	ck_assert_str_eq(why, "not a rootwalk cache file");
	ck_assert_uint_eq(rw_cache_entries(c2), 0);
	rw_cache_free(c2);
	free(b.p);
}
END_TEST

START_TEST(ranking_and_whole_replacement)
{
	struct rw_cache_entry e;
	ck_assert_int_eq(put_a(cache, "ns.example.", 300, 2, 1, RW_RANK_AUTH_ANSWER), 0);
	/* glue never replaces answer data (RFC 2181 §5.4.1) */
	ck_assert_int_eq(put_a(cache, "ns.example.", 300, 1, 50, RW_RANK_ADDITIONAL), RW_EEXIST);
	ck_assert_uint_eq(st.refused_rank, 1);
	ck_assert_int_eq(get(cache, "ns.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.count, 2);
	ck_assert_uint_eq(e.set.rdata[0][3], 1);
	/* equal or higher rank replaces the whole set, never merges */
	ck_assert_int_eq(put_a(cache, "ns.example.", 300, 1, 9, RW_RANK_AUTH_ANSWER), 0);
	ck_assert_int_eq(get(cache, "ns.example.", 1, &e), 0);
	ck_assert_uint_eq(e.set.count, 1);
	ck_assert_uint_eq(e.set.rdata[0][3], 9);
	/* glue first, then answer data: replaced */
	put_a(cache, "glue.example.", 300, 1, 1, RW_RANK_ADDITIONAL);
	ck_assert_int_eq(put_a(cache, "glue.example.", 300, 1, 2, RW_RANK_ANSWER), 0);
	ck_assert_int_eq(get(cache, "glue.example.", 1, &e), 0);
	ck_assert_int_eq(e.rank, RW_RANK_ANSWER);
	/* an expired higher-ranked entry does not block lower-ranked data */
	put_a(cache, "old.example.", 10, 1, 1, RW_RANK_AUTH_ANSWER);
	now_ms += 11000;
	ck_assert_int_eq(put_a(cache, "old.example.", 10, 1, 2, RW_RANK_ADDITIONAL), 0);
	ck_assert_uint_eq(rw_cache_entries(cache), 3);
}
END_TEST

START_TEST(byte_bound_and_eviction)
{
	size_t limit = 1u << 20;
	struct rw_cache *c = make(limit);
	char name[64];
	for (int i = 0; i < 50000; i++) {
		snprintf(name, sizeof name, "host%d.example.", i);
		ck_assert_int_eq(put_a(c, name, 300, 2, 1, RW_RANK_ANSWER), 0);
		ck_assert_uint_le(rw_cache_bytes(c), limit + limit / 10);
	}
	ck_assert_uint_gt(rw_cache_bytes(c), limit - limit / 10); /* and it is used */
	ck_assert_uint_gt(st.evictions, 30000);
	ck_assert_uint_eq(st.inserts, 50000);
	size_t entries = rw_cache_entries(c);
	ck_assert_uint_gt(entries, 1000);
	ck_assert_uint_eq(entries + st.evictions, 50000);
	/* an entry too big for its shard is refused, not thrashing it */
	uint8_t big[600][16];
	const uint8_t *rds[600];
	uint16_t lens[600];
	for (int i = 0; i < 600; i++) {
		memset(big[i], (uint8_t)i, 16);
		big[i][0] = 15;
		rds[i] = big[i];
		lens[i] = 16;
	}
	uint8_t owner[RW_NAME_MAX];
	tu_name("big.example.", owner);
	struct rw_cache_rrset s = {owner, 16, 1, 60, 600, lens, rds};
	ck_assert_int_eq(rw_cache_put(c, &s, NULL, RW_RANK_ANSWER, &st), RW_ELIMIT);
	rw_cache_flush(c);
	ck_assert_uint_eq(rw_cache_entries(c), 0);
	rw_cache_free(c);
}
END_TEST

START_TEST(flood_does_not_flush_popular)
{
	struct rw_cache *c = make(4u << 20);
	char name[64];
	struct rw_cache_entry e;
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "popular%d.example.", i);
		put_a(c, name, 3600, 1, 1, RW_RANK_ANSWER);
	}
	/* A flood of one-off names, many times the cache's size, while the
	 * popular names keep being asked for. */
	int popular_misses = 0;
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 2000; i++) {
			snprintf(name, sizeof name, "popular%d.example.", i);
			rw_arena_reset(&arena);
			if (get(c, name, 1, &e) != 0) {
				popular_misses++;
				put_a(c, name, 3600, 1, 1, RW_RANK_ANSWER);
			}
		}
		for (int i = 0; i < 10000; i++) {
			snprintf(name, sizeof name, "once%d-%d.flood.", round, i);
			put_a(c, name, 3600, 1, 1, RW_RANK_ANSWER);
		}
	}
	int present = 0;
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof name, "popular%d.example.", i);
		rw_arena_reset(&arena);
		present += get(c, name, 1, &e) == 0;
	}
	ck_assert_msg(present >= 1990, "only %d of 2000 popular names survived", present);
	/* Under FIFO every flood round pushes ~10% of them out again. */
	ck_assert_msg(popular_misses < 400, "%d popular lookups missed", popular_misses);
	ck_assert_uint_gt(st.evictions, 100000);
	rw_cache_free(c);
}
END_TEST

/* Several threads put and get overlapping names; every answer must be the
 * data some writer wrote for that very name (no torn or mixed entries). */
struct worker_arg {
	struct rw_cache *c;
	int id;
	int bad;
};

static void *hammer(void *p)
{
	struct worker_arg *w = p;
	struct rw_arena a;
	struct rw_cache_stats s = {0};
	rw_arena_init(&a, 4096, 1 << 20);
	char name[64];
	for (int i = 0; i < 20000; i++) {
		int k = (i * 7 + w->id * 13) % 500;
		snprintf(name, sizeof name, "n%d.example.", k);
		uint8_t owner[RW_NAME_MAX];
		size_t ol;
		rw_name_from_text(name, strlen(name), NULL, owner, &ol);
		if (i % 3 == 0) {
			uint8_t rd[4] = {10, (uint8_t)(k >> 8), (uint8_t)k, (uint8_t)w->id};
			const uint8_t *rds[1] = {rd};
			uint16_t len[1] = {4};
			struct rw_cache_rrset set = {owner, 1, 1, 60, 1, len, rds};
			rw_cache_put(w->c, &set, NULL, RW_RANK_ANSWER, &s);
		} else {
			struct rw_cache_entry e;
			rw_arena_reset(&a);
			if (rw_cache_get(w->c, owner, 1, 1, &a, &e, &s) == 0 &&
			    (e.set.count != 1 || e.set.rdata[0][1] != (uint8_t)(k >> 8) ||
			     e.set.rdata[0][2] != (uint8_t)k))
				w->bad++;
		}
	}
	rw_arena_fini(&a);
	return NULL;
}

START_TEST(concurrent_readers_writers)
{
	struct rw_cache *c = make(256u << 10); /* small: evictions race too */
	pthread_t t[4];
	struct worker_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct worker_arg){c, i, 0};
		pthread_create(&t[i], NULL, hammer, &args[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(args[i].bad, 0);
	}
	ck_assert_uint_le(rw_cache_bytes(c), (256u << 10) + (256u << 10) / 10);
	rw_cache_free(c);
	struct rw_cache_stats a = {1, 2, 3, 4, 5, 6}, b = {1, 1, 1, 1, 1, 1};
	rw_cache_stats_add(&a, &b);
	ck_assert_uint_eq(a.hits + a.misses + a.inserts + a.evictions + a.expired + a.refused_rank,
	                  27);
}
END_TEST

static char dumped[4096];
static void dump_line(void *ctx, const char *line)
{
	(*(int *)ctx)++;
	snprintf(dumped + strlen(dumped), sizeof dumped - strlen(dumped), "%s\n", line);
}

START_TEST(flush_name_and_dump)
{
	ck_assert_int_eq(put_a(cache, "a.example.", 300, 2, 1, RW_RANK_ANSWER), 0);
	ck_assert_int_eq(put_a(cache, "b.example.", 300, 1, 7, RW_RANK_ANSWER), 0);
	uint8_t n[RW_NAME_MAX];
	tu_name("a.example.", n);
	ck_assert_int_eq(rw_cache_put_negative(cache, RW_CACHE_NODATA, n, 28, 1, soa(300, 60), NULL,
	                                       RW_RANK_AUTHORITY, &st),
	                 0);
	int lines = 0;
	dumped[0] = 0;
	ck_assert_uint_eq(rw_cache_dump(cache, dump_line, &lines), 3);
	ck_assert_int_eq(lines, 4); /* two A records, one A, one NODATA */
	ck_assert_ptr_nonnull(strstr(dumped, "a.example. 300 IN A 10.0.0.1"));
	ck_assert_ptr_nonnull(strstr(dumped, "; a.example. 60 NODATA AAAA"));
	/* flush one name: every type of it goes, other names stay */
	tu_name("A.Example.", n);
	ck_assert_uint_eq(rw_cache_flush_name(cache, n), 2);
	struct rw_cache_entry e;
	ck_assert_int_eq(get(cache, "a.example.", 1, &e), RW_ENOTFOUND);
	ck_assert_int_eq(get(cache, "a.example.", 28, &e), RW_ENOTFOUND);
	ck_assert_int_eq(get(cache, "b.example.", 1, &e), 0);
	ck_assert_uint_eq(rw_cache_flush_name(cache, n), 0);
	/* expired entries are not dumped */
	now_ms += 301000;
	lines = 0;
	ck_assert_uint_eq(rw_cache_dump(cache, dump_line, &lines), 0);
}
END_TEST

/* A fake RRSIG rdata covering type (RFC 4034 §3.1: covered, algorithm,
 * labels, original TTL, expiration, inception, key tag, signer, signature). */
static size_t fake_sig(uint8_t *rd, uint16_t covered, uint8_t labels, const char *signer)
{
	memset(rd, 0, 18);
	rd[0] = (uint8_t)(covered >> 8);
	rd[1] = (uint8_t)covered;
	rd[2] = 13;
	rd[3] = labels;
	size_t n = 18 + tu_name(signer, rd + 18);
	memset(rd + n, 0xAB, 64); /* the signature */
	return n + 64;
}

/* DNSSEC records live in their entry: a positive set keeps its RRSIGs
 * (the owner stored once), a negative entry its NSEC proof; a lookup
 * copies them only when asked; a replacement without them drops them; the
 * dump lists them. */
START_TEST(proofs_kept_with_entries)
{
	uint8_t owner[RW_NAME_MAX], nsec_owner[RW_NAME_MAX], sig[2][400], nsec[300];
	tu_name("www.Example.", owner);
	tu_name("example.", nsec_owner);
	uint8_t a[4] = {192, 0, 2, 1};
	const uint8_t *rds[1] = {a};
	uint16_t lens[1] = {4};
	struct rw_cache_rrset set = {owner, 1, 1, 300, 1, lens, rds};
	struct rw_cache_rr prr[2] = {
	    {owner, RW_TYPE_RRSIG, (uint16_t)fake_sig(sig[0], 1, 2, "example."), sig[0]},
	    {owner, RW_TYPE_RRSIG, (uint16_t)fake_sig(sig[1], 1, 2, "example."), sig[1]},
	};
	struct rw_cache_proof proof = {2, prr};
	size_t before = rw_cache_bytes(cache);
	ck_assert_int_eq(rw_cache_put(cache, &set, &proof, RW_RANK_AUTH_ANSWER, &st), 0);
	size_t signed_bytes = rw_cache_bytes(cache) - before;
	struct rw_cache_entry e;
	uint8_t ln[RW_NAME_MAX];
	tu_name("www.example.", ln);
	ck_assert_int_eq(rw_cache_get_lower(cache, ln, rw_name_len(ln), rw_name_hash(ln), 1, 1,
	                                    true, &arena, &e, &st),
	                 0);
	ck_assert_uint_eq(e.set.count, 1);
	ck_assert_uint_eq(e.proof.count, 2);
	for (int i = 0; i < 2; i++) {
		ck_assert_ptr_eq(e.proof.rr[i].owner, e.set.owner); /* stored once */
		ck_assert_uint_eq(e.proof.rr[i].type, RW_TYPE_RRSIG);
		ck_assert_uint_eq(e.proof.rr[i].rdlen, prr[i].rdlen);
		ck_assert_mem_eq(e.proof.rr[i].rdata, prr[i].rdata, prr[i].rdlen);
	}
	ck_assert_mem_eq(e.set.rdata[0], a, 4);
	/* without DO the proof is not copied */
	ck_assert_int_eq(rw_cache_get_lower(cache, ln, rw_name_len(ln), rw_name_hash(ln), 1, 1,
	                                    false, &arena, &e, &st),
	                 0);
	ck_assert_uint_eq(e.proof.count, 0);
	ck_assert_uint_eq(e.set.count, 1);
	ck_assert_mem_eq(e.set.rdata[0], a, 4);
	int lines = 0;
	dumped[0] = 0;
	ck_assert_uint_eq(rw_cache_dump(cache, dump_line, &lines), 1);
	ck_assert_int_eq(lines, 3);
	ck_assert_ptr_nonnull(strstr(dumped, "www.example. 300 IN RRSIG"));
	/* the same set unsigned replaces it, signatures and all */
	ck_assert_int_eq(rw_cache_put(cache, &set, NULL, RW_RANK_AUTH_ANSWER, &st), 0);
	ck_assert_uint_lt(rw_cache_bytes(cache) - before, signed_bytes);
	ck_assert_int_eq(get(cache, "www.example.", 1, &e), 0);
	ck_assert_uint_eq(e.proof.count, 0);

	/* a negative entry keeps the SOA's signature and the NSEC (another
	 * owner) with its own */
	size_t nl = tu_name("zzz.example.", nsec);
	nsec[nl] = 0; /* window 0, 1 byte: A */
	nsec[nl + 1] = 1;
	nsec[nl + 2] = 0x40;
	uint8_t nx[RW_NAME_MAX];
	tu_name("nope.example.", nx);
	struct rw_cache_rr nrr[3] = {
	    {nsec_owner, RW_TYPE_RRSIG, (uint16_t)fake_sig(sig[0], 6, 1, "example."), sig[0]},
	    {nsec_owner, RW_TYPE_NSEC, (uint16_t)(nl + 3), nsec},
	    {nsec_owner, RW_TYPE_RRSIG, (uint16_t)fake_sig(sig[1], 47, 1, "example."), sig[1]},
	};
	struct rw_cache_proof nproof = {3, nrr};
	ck_assert_int_eq(rw_cache_put_negative(cache, RW_CACHE_NXDOMAIN, nx, 0, 1, soa(600, 120),
	                                       &nproof, RW_RANK_AUTHORITY, &st),
	                 0);
	ck_assert_int_eq(get(cache, "nope.example.", 16, &e), 0);
	ck_assert_int_eq(e.kind, RW_CACHE_NXDOMAIN);
	ck_assert_uint_eq(e.soa.count, 1);
	ck_assert_uint_eq(e.proof.count, 3);
	ck_assert(rw_name_eq(e.proof.rr[1].owner, nsec_owner));
	ck_assert_uint_eq(e.proof.rr[1].type, RW_TYPE_NSEC);
	ck_assert_mem_eq(e.proof.rr[1].rdata, nsec, nl + 3);
	ck_assert_mem_eq(e.proof.rr[2].rdata, sig[1], nrr[2].rdlen);
	ck_assert_uint_eq(e.soa.ttl_s, 120);
	lines = 0;
	dumped[0] = 0;
	rw_cache_dump(cache, dump_line, &lines);
	ck_assert_ptr_nonnull(strstr(dumped, "example. 120 IN NSEC zzz.example. A\n"));
}
END_TEST

/* RFC 9520: failures held 1 s, doubling while they recur, at most the max;
 * a delegation's failure covers the names under it; tags keep routes
 * apart; a success clears; the table is bounded. */
START_TEST(failure_cache)
{
	now_ms = 1000000;
	struct rw_failcache *fc = rw_failcache_new(100, 1000, 8000, fake_clock, NULL);
	uint8_t q[RW_NAME_MAX], z[RW_NAME_MAX], other[RW_NAME_MAX];
	tu_name("www.dead.example.", q);
	tu_name("dead.example.", z);
	tu_name("www.alive.example.", other);
	bool first;
	ck_assert_uint_eq(rw_failcache_check(fc, q, 1, 0), 0);
	ck_assert_uint_eq(rw_failcache_note(fc, q, 1, 0, &first), 1000);
	ck_assert(first);
	ck_assert_uint_eq(rw_failcache_check(fc, q, 1, 0), 1000);
	ck_assert_uint_eq(rw_failcache_check(fc, q, 28, 0), 0); /* another type */
	ck_assert_uint_eq(rw_failcache_check(fc, q, 1, 1), 0);  /* another route */
	now_ms += 1000;
	ck_assert_uint_eq(rw_failcache_check(fc, q, 1, 0), 0); /* the hold is over */
	/* failing again right after: held twice as long, up to the max */
	ck_assert_uint_eq(rw_failcache_note(fc, q, 1, 0, &first), 2000);
	ck_assert(first); /* it was not held any more: a new transition */
	ck_assert_uint_eq(rw_failcache_note(fc, q, 1, 0, &first), 4000);
	ck_assert(!first);
	ck_assert_uint_eq(rw_failcache_note(fc, q, 1, 0, &first), 8000);
	ck_assert_uint_eq(rw_failcache_note(fc, q, 1, 0, &first), 8000);
	/* a success clears it */
	ck_assert(rw_failcache_clear(fc, q, 1, 0));
	ck_assert_uint_eq(rw_failcache_check(fc, q, 1, 0), 0);
	ck_assert(!rw_failcache_clear(fc, q, 1, 0));
	/* long after a failure, the next one starts at the minimum again */
	rw_failcache_note(fc, q, 1, 0, &first);
	now_ms += 60000;
	ck_assert_uint_eq(rw_failcache_note(fc, q, 1, 0, &first), 1000);
	/* a delegation (type 0) holds every name and type under it */
	rw_failcache_note(fc, z, 0, 0, &first);
	ck_assert_uint_gt(rw_failcache_check(fc, q, 28, 0), 0);
	ck_assert_uint_eq(rw_failcache_check(fc, other, 1, 0), 0);
	ck_assert_uint_eq(rw_failcache_flush(fc), 2);
	ck_assert_uint_eq(rw_failcache_count(fc), 0);
	/* bounded: at most max entries, whatever is noted */
	for (int i = 0; i < 1000; i++) {
		uint8_t n[RW_NAME_MAX];
		char text[64];
		snprintf(text, sizeof text, "n%d.example.", i);
		tu_name(text, n);
		rw_failcache_note(fc, n, 1, 0, &first);
	}
	ck_assert_uint_le(rw_failcache_count(fc), 100);
	rw_failcache_free(fc);
	/* minimum 0: failure caching off */
	fc = rw_failcache_new(100, 0, 0, fake_clock, NULL);
	ck_assert_uint_eq(rw_failcache_note(fc, q, 1, 0, &first), 0);
	ck_assert_uint_eq(rw_failcache_check(fc, q, 1, 0), 0);
	/* a floor (a failed refresh of stale data, RFC 8767) is held anyway,
	 * at least that long, and doubles from there */
	ck_assert_uint_eq(rw_failcache_note_floor(fc, q, 1, 0, 30000, &first), 30000);
	ck_assert_uint_eq(rw_failcache_check(fc, q, 1, 0), 30000);
	ck_assert_uint_eq(rw_failcache_note_floor(fc, q, 1, 0, 30000, &first), 30000);
	rw_failcache_free(fc);
	fc = rw_failcache_new(100, 1000, 300000, fake_clock, NULL);
	ck_assert_uint_eq(rw_failcache_note_floor(fc, q, 1, 0, 30000, &first), 30000);
	ck_assert_uint_eq(rw_failcache_note_floor(fc, q, 1, 0, 30000, &first), 60000);
	ck_assert_uint_eq(rw_failcache_note(fc, other, 1, 0, &first), 1000);
	rw_failcache_free(fc);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cache");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, ttl_countdown_and_expiry);
	tcase_add_test(tc, ttl_clamps);
	tcase_add_test(tc, stale_window);
	tcase_add_test(tc, prefetch_mark);
	tcase_add_test(tc, cache_file_round_trip);
	tcase_add_test(tc, negative_entries);
	tcase_add_test(tc, flush_by_match);
	tcase_add_test(tc, ranking_and_whole_replacement);
	tcase_add_test(tc, byte_bound_and_eviction);
	tcase_add_test(tc, flood_does_not_flush_popular);
	tcase_add_test(tc, concurrent_readers_writers);
	tcase_add_test(tc, flush_name_and_dump);
	tcase_add_test(tc, failure_cache);
	tcase_add_test(tc, proofs_kept_with_entries);
	suite_add_tcase(s, tc);
	return tu_run(s);
}
