/* Bump allocator with a byte limit; see include/base/rootwalk/arena.h. */
#include "rootwalk/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct rw_arena_block {
	struct rw_arena_block *prev;
	size_t cap;
	size_t used;
	_Alignas(8) unsigned char data[];
};

void rw_arena_init(struct rw_arena *a, size_t block_bytes, size_t limit_bytes)
{
	a->head = NULL;
	a->used_bytes = 0;
	a->limit_bytes = limit_bytes;
	a->block_bytes = block_bytes < 256 ? 256 : block_bytes;
}

void *rw_arena_alloc(struct rw_arena *a, size_t n)
{
	if (n > SIZE_MAX - 7)
		return NULL;
	n = (n + 7) & ~(size_t)7;
	struct rw_arena_block *b = a->head;
	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > a->block_bytes ? n : a->block_bytes;
		size_t total = sizeof(*b) + cap;
		if (total < cap || a->used_bytes + total > a->limit_bytes)
			return NULL;
		b = malloc(total);
		if (b == NULL)
			return NULL;
		b->prev = a->head;
		b->cap = cap;
		b->used = 0;
		a->head = b;
		a->used_bytes += total;
	}
	void *p = b->data + b->used;
	b->used += n;
	return p;
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
	struct rw_arena_block *b = a->head;
	if (b == NULL)
		return;
	while (b->prev != NULL) {
		struct rw_arena_block *prev = b->prev;
		a->used_bytes -= sizeof(*b) + b->cap;
		free(b);
		b = prev;
	}
	b->used = 0;
	a->head = b;
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
	a->used_bytes = 0;
}
