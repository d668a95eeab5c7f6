/* Bump allocator with a byte limit; see include/base/rootwalk/arena.h. */
#include "rootwalk/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct rw_arena_block {
	struct rw_arena_block *prev;
	size_t cap;
	_Alignas(8) unsigned char data[];
};

void rw_arena_init(struct rw_arena *a, size_t block_bytes, size_t limit_bytes)
{
	a->head = NULL;
	a->cur = a->end = NULL;
	a->used_bytes = 0;
	a->limit_bytes = limit_bytes;
	a->block_bytes = block_bytes < 256 ? 256 : block_bytes;
}

/* A new block for an allocation of n bytes (a multiple of 8) that the
 * current one cannot hold. */
void *rw_arena_alloc_block(struct rw_arena *a, size_t n)
{
	struct rw_arena_block *b = a->head;
	/* Each new block is twice the last (while the limit allows), so a
	 * large request takes a few blocks, and the largest, kept by
	 * rw_arena_reset, holds the next one like it. */
	size_t cap = n > a->block_bytes ? n : a->block_bytes;
	if (b != NULL && b->cap * 2 > cap &&
	    a->used_bytes + sizeof(*b) + b->cap * 2 <= a->limit_bytes)
		cap = b->cap * 2;
	size_t total = sizeof(*b) + cap;
	if (total < cap || a->used_bytes + total > a->limit_bytes)
		return NULL;
	b = malloc(total);
	if (b == NULL)
		return NULL;
	b->prev = a->head;
	b->cap = cap;
	a->head = b;
	a->used_bytes += total;
	a->cur = b->data + n;
	a->end = b->data + cap;
	return b->data;
}

void *rw_arena_dup(struct rw_arena *a, const void *src, size_t n)
{
	void *p = rw_arena_alloc(a, n);
	if (p != NULL && n > 0)
		memcpy(p, src, n);
	return p;
}

void rw_arena_reset(struct rw_arena *a)
{
	struct rw_arena_block *keep = a->head;
	for (struct rw_arena_block *b = a->head; b != NULL; b = b->prev)
		if (b->cap > keep->cap)
			keep = b;
	struct rw_arena_block *b = a->head;
	while (b != NULL) {
		struct rw_arena_block *prev = b->prev;
		if (b != keep) {
			a->used_bytes -= sizeof(*b) + b->cap;
			free(b);
		}
		b = prev;
	}
	if (keep != NULL) {
		keep->prev = NULL;
		a->cur = keep->data;
		a->end = keep->data + keep->cap;
	}
	a->head = keep;
}

void rw_arena_fini(struct rw_arena *a)
{
	struct rw_arena_block *b = a->head;
	while (b != NULL) {
		struct rw_arena_block *prev = b->prev;
		free(b);
		b = prev;
	}
	a->head = NULL;
	a->cur = a->end = NULL;
	a->used_bytes = 0;
}
