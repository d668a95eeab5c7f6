/* Bounds-checked cursors over DNS wire data.
 *
 * Every read of untrusted bytes in rootwalk goes through struct rw_rbuf: each
 * call checks the remaining length and returns RW_EMALFORMED instead of
 * reading past the end, leaving the cursor unchanged on failure. The writer
 * struct rw_wbuf returns RW_ETRUNC when the output does not fit. Neither
 * allocates; both borrow the caller's buffer. Name handling (compression)
 * lives in name.h, which builds on these. */
#ifndef ROOTWALK_WIRE_H
#define ROOTWALK_WIRE_H

#include <stddef.h>
#include <stdint.h>

struct rw_name_memo;

struct rw_rbuf {
	const uint8_t *base; /* whole message: names may point anywhere in it */
	size_t len;          /* bytes in base */
	size_t pos;          /* next byte to read */
	/* Compression pointers the whole message may still have followed
	 * (rw_name_read): a budget by size, so that chains of pointers cannot
	 * make a message cost more than its bytes do. */
	size_t ptrs_left;
	/* The names of this message decoded so far, by where they are in it
	 * (name.h); NULL: none kept, every name is walked. */
	struct rw_name_memo *memo;
};

/* A message may follow one pointer per 4 bytes, plus 64: a real one has
 * at most one per name occurrence (2 bytes of pointer, 10 or more around
 * it), and chains of them are short. */
#define RW_MSG_PTRS(len) ((len) / 4 + 64)

static inline void rw_rbuf_init(struct rw_rbuf *r, const uint8_t *base, size_t len)
{
	r->base = base;
	r->len = len;
	r->pos = 0;
	r->ptrs_left = RW_MSG_PTRS(len);
	r->memo = NULL;
}

static inline size_t rw_rbuf_left(const struct rw_rbuf *r)
{
	return r->len - r->pos;
}

int rw_rbuf_u8(struct rw_rbuf *r, uint8_t *out);
int rw_rbuf_u16(struct rw_rbuf *r, uint16_t *out);
int rw_rbuf_u32(struct rw_rbuf *r, uint32_t *out);
/* Copies n bytes into out (may be NULL to skip them). */
int rw_rbuf_bytes(struct rw_rbuf *r, void *out, size_t n);

struct rw_wbuf {
	uint8_t *base; /* borrowed */
	size_t cap;    /* bytes usable in base */
	size_t len;    /* bytes written */
};

static inline void rw_wbuf_init(struct rw_wbuf *w, uint8_t *base, size_t cap)
{
	w->base = base;
	w->cap = cap;
	w->len = 0;
}

int rw_wbuf_u8(struct rw_wbuf *w, uint8_t v);
int rw_wbuf_u16(struct rw_wbuf *w, uint16_t v);
int rw_wbuf_u32(struct rw_wbuf *w, uint32_t v);
int rw_wbuf_bytes(struct rw_wbuf *w, const void *p, size_t n);

static inline uint16_t rw_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t rw_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void rw_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void rw_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
