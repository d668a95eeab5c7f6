/* Shared, immutable answers; see include/resolve/rootwalk/answer.h. */
#include "rootwalk/answer.h"
#include "rootwalk/assert.h"
#include "rootwalk/name.h"

#include <stdlib.h>
#include <string.h>

void rw_answer_builder_init(struct rw_answer_builder *b, struct rw_arena *arena)
{
	memset(b, 0, sizeof *b);
	b->arena = arena;
}

void rw_answer_builder_reset(struct rw_answer_builder *b)
{
	b->nrr[0] = b->nrr[1] = 0;
	b->bytes = 0;
	b->failed = false;
}

void rw_answer_add(struct rw_answer_builder *b, enum rw_section sec, const uint8_t *owner,
                   uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
                   uint16_t rdlen)
{
	unsigned s = sec == RW_SEC_AN ? 0 : 1;
	if (b->failed)
		return;
	if (b->nrr[0] + b->nrr[1] >= RW_ANSWER_RR_MAX) {
		b->failed = true;
		return;
	}
	if (b->nrr[s] == b->cap[s]) {
		/* Double in the arena (the old block stays until the arena is
		 * reset: bounded by RW_ANSWER_RR_MAX and the arena limit). */
		uint16_t cap = b->cap[s] ? (uint16_t)(b->cap[s] * 2) : 16;
		struct rw_answer_rr *p = rw_arena_alloc(b->arena, cap * sizeof *p);
		if (p == NULL) {
			b->failed = true;
			return;
		}
		if (b->nrr[s] > 0)
			memcpy(p, b->rr[s], b->nrr[s] * sizeof *p);
		b->rr[s] = p;
		b->cap[s] = cap;
	}
	size_t ol = rw_name_len(owner);
	uint8_t *o = rw_arena_alloc(b->arena, ol + (rdlen ? rdlen : 1));
	if (o == NULL) {
		b->failed = true;
		return;
	}
	rw_name_lower(o, owner, ol);
	if (rdlen > 0)
		memcpy(o + ol, rdata, rdlen);
	b->rr[s][b->nrr[s]++] = (struct rw_answer_rr){.owner = o,
	                                              .type = type,
	                                              .rclass = rclass,
	                                              .ttl = ttl,
	                                              .rdlen = rdlen,
	                                              .rdata = o + ol};
	b->bytes += ol + rdlen;
}

static struct rw_answer *alloc_answer(size_t nrr, size_t bytes)
{
	struct rw_answer *a = malloc(sizeof *a + nrr * sizeof(struct rw_answer_rr) + bytes);
	if (a != NULL) {
		memset(a, 0, sizeof *a);
		atomic_init(&a->refs, 1);
	}
	return a;
}

struct rw_answer *rw_answer_build(const struct rw_answer_builder *b, uint16_t rcode)
{
	if (b->failed)
		return rw_answer_servfail(RW_EDE_OTHER, "answer too large");
	size_t n = (size_t)b->nrr[0] + b->nrr[1];
	struct rw_answer *a = alloc_answer(n, b->bytes);
	if (a == NULL)
		return NULL;
	a->rcode = rcode;
	struct rw_answer_rr *rr = (struct rw_answer_rr *)(a + 1);
	uint8_t *data = (uint8_t *)(rr + n);
	for (unsigned s = 0; s < 2; s++) {
		a->rr[s] = rr;
		a->nrr[s] = b->nrr[s];
		for (uint16_t i = 0; i < b->nrr[s]; i++) {
			const struct rw_answer_rr *from = &b->rr[s][i];
			size_t ol = rw_name_len(from->owner);
			*rr = *from;
			memcpy(data, from->owner, ol);
			rr->owner = data;
			data += ol;
			if (from->rdlen > 0)
				memcpy(data, from->rdata, from->rdlen);
			rr->rdata = data;
			data += from->rdlen;
			rr++;
		}
	}
	return a;
}

struct rw_answer *rw_answer_servfail(uint16_t ede_code, const char *ede_text)
{
	struct rw_answer *a = alloc_answer(0, 0);
	if (a != NULL) {
		a->rcode = RW_RCODE_SERVFAIL;
		a->ede = (struct rw_ede){ede_code, ede_text};
	}
	return a;
}

struct rw_answer *rw_answer_in_cache(void)
{
	struct rw_answer *a = rw_answer_servfail(RW_EDE_OTHER, "answer gone from the cache");
	if (a != NULL)
		a->in_cache = true;
	return a;
}

struct rw_answer *rw_answer_ref(struct rw_answer *a)
{
	if (a != NULL)
		atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
	return a;
}

void rw_answer_unref(struct rw_answer *a)
{
	if (a == NULL)
		return;
	int was = atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel);
	RW_REQUIRE(was > 0); /* an unref too many: use after free */
	if (was == 1)
		free(a);
}
