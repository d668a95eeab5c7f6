/* Request arena: a bump allocator for everything transient in one request.
 *
 * Ownership: the arena owns every block it hands out; nothing is freed one by
 * one. rw_arena_reset() releases all allocations at once but keeps the
 * largest block, so a steady stream of requests allocates nothing from the
 * heap.
 * A hard byte limit stops a hostile input from growing one arena without
 * bound. Not thread-safe: one arena per worker or per request. */
#ifndef ROOTWALK_ARENA_H
#define ROOTWALK_ARENA_H

#include <stddef.h>
#include <stdint.h>

struct rw_arena_block;

struct rw_arena {
	struct rw_arena_block *head; /* current block; older ones chained */
	unsigned char *cur, *end;    /* what is left of the current block */
	size_t used_bytes;           /* bytes allocated from the heap */
	size_t limit_bytes;          /* rw_arena_alloc fails beyond this */
	size_t block_bytes;          /* size of a normal block */
};

/* Initialises an empty arena. block_bytes: size of each heap block;
 * limit_bytes: total heap the arena may hold. */
void rw_arena_init(struct rw_arena *a, size_t block_bytes, size_t limit_bytes);
void *rw_arena_alloc_block(struct rw_arena *a, size_t n);

/* Returns n bytes aligned to 8, or NULL when the limit would be passed.
 * Inline: the parser allocates for every name it copies. */
static inline void *rw_arena_alloc(struct rw_arena *a, size_t n)
{
	if (n > SIZE_MAX - 7)
		return NULL;
	n = (n + 7) & ~(size_t)7;
	if ((uintptr_t)a->end - (uintptr_t)a->cur < n)
		return rw_arena_alloc_block(a, n);
	void *p = a->cur;
	a->cur += n;
	return p;
}
/* Gives back the end of the last allocation p, of n bytes, keeping the
 * first keep: for a caller that allocated the most it might need. */
static inline void rw_arena_trim(struct rw_arena *a, void *p, size_t n, size_t keep)
{
	unsigned char *c = p;
	if (c + ((n + 7) & ~(size_t)7) == a->cur)
		a->cur = c + ((keep + 7) & ~(size_t)7);
}
/* Copies n bytes into the arena; NULL on failure. */
void *rw_arena_dup(struct rw_arena *a, const void *src, size_t n);
/* Frees everything but the largest block, which is kept for reuse: the
 * next request like the last one allocates nothing from the heap. */
void rw_arena_reset(struct rw_arena *a);
/* Frees all blocks. */
void rw_arena_fini(struct rw_arena *a);

#endif
