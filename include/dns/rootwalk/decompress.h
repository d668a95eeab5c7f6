/* Decoding all of one message's names in time linear in its bytes.
 *
 * Pointers let one name's bytes serve many names, so decoding each name by
 * walking its labels costs up to 128 steps per 2-byte pointer: a 64 KB
 * message of such names took 1.4 ms (issue 11). A memo, shared by every
 * read of one message, remembers each name read by where its labels and
 * pointers stand in the message. A read that reaches a position seen before
 * takes the rest of the name from the memo instead of walking it, after the
 * checks the walk would have made (the name's length, the pointers per
 * name, reads within r->len, the next pointer before the current limit).
 * So each position is walked at most once, a name in place (no pointer) is
 * taken as it stands in the message, a lone pointer to a name seen before
 * is that name, and only names made of pieces are copied -- at most
 * RW_MSG_NAME_BYTES in all. rw_msg_parse is the user. */
#ifndef ROOTWALK_DECOMPRESS_H
#define ROOTWALK_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "rootwalk/err.h"
#include "rootwalk/name.h"
#include "rootwalk/wire.h"

/* Name bytes a message of len bytes may make the parser copy: names in
 * place cost no copy, and a message's pointers (at most one per 4 bytes,
 * RW_MSG_PTRS) rarely stand for more than a few dozen bytes each. Past it,
 * reads return RW_ELIMIT. */
#define RW_MSG_NAME_BYTES(len) (4 * (size_t)(len) + 16384)

/* Pointers reach only the first 16 KB of a message (14 bits). */
#define RW_NAME_MEMO_SPAN 0x4000
#define RW_NAME_MEMO_CHUNK 256
#define RW_NAME_MEMO_CHUNKS (RW_NAME_MEMO_SPAN / RW_NAME_MEMO_CHUNK)
/* An index slot with this bit: the position starts the labels of a name in
 * place with no pointer, of the length in the low byte. Without it: an
 * entry number + 1. */
#define RW_NAME_MEMO_FLAT 0x8000

struct rw_arena;

/* A name read that was made of pieces: from the run of bytes where the
 * read started (or jumped to) up to its next pointer, what the name spells
 * to the root. A position in the run stands for the same name less the
 * run's bytes before it. */
struct rw_name_seen {
	const uint8_t *name; /* uncompressed, living as long as the arena */
	uint8_t len;         /* bytes of name */
	uint8_t depth;       /* pointers followed from the run to the root */
	uint16_t start;      /* where the run starts in the message */
	uint16_t next;       /* target of the pointer ending the run (0: none) */
	uint32_t reach;      /* one past the furthest byte the reading reads */
};

struct rw_name_memo {
	struct rw_arena *arena;
	/* The message, when it lives as long as the arena (rw_msg_parse's
	 * copy): names in place are then taken as they stand. */
	const uint8_t *base;
	size_t span;     /* positions kept: min(message length, 16 KB) */
	uint16_t *index; /* per position; 0: not seen */
	struct rw_name_seen *chunk[RW_NAME_MEMO_CHUNKS];
	size_t nseen;
	size_t bytes_left; /* RW_MSG_NAME_BYTES minus what was copied */
};

/* What the memo knows of the name from one position. */
struct rw_name_hit {
	const uint8_t *name;
	size_t len;
	unsigned depth;
	size_t next;
	size_t reach;
};

/* Starts a memo for a message of msg_len bytes at base (which must live
 * as long as arena, or be NULL); memory comes from arena, lazily. Set
 * r->memo = m to use it. */
static inline void rw_name_memo_init(struct rw_name_memo *m, struct rw_arena *arena,
                                     const uint8_t *base, size_t msg_len)
{
	m->arena = arena;
	m->base = base;
	m->span = msg_len < RW_NAME_MEMO_SPAN ? msg_len : RW_NAME_MEMO_SPAN;
	m->index = NULL;
	m->nseen = 0;
	m->bytes_left = RW_MSG_NAME_BYTES(msg_len);
}

/* Takes n bytes of the message's name budget (m NULL: none kept): 0, or
 * RW_ELIMIT past it. */
static inline int rw_name_memo_spend(struct rw_name_memo *m, size_t n)
{
	if (m == NULL)
		return 0;
	if (n > m->bytes_left)
		return RW_ELIMIT; /* the message's names cost more than it may */
	m->bytes_left -= n;
	return 0;
}

/* What the memo knows of position pos; false: nothing. */
static inline __attribute__((always_inline)) bool
rw_name_memo_get(const struct rw_name_memo *m, size_t pos, struct rw_name_hit *h)
{
	if (m->index == NULL || pos >= m->span || m->index[pos] == 0)
		return false;
	uint16_t v = m->index[pos];
	if (v & RW_NAME_MEMO_FLAT) {
		h->name = m->base + pos;
		h->len = v & 0xFF;
		h->depth = 0;
		h->next = 0;
		h->reach = pos + h->len;
		return true;
	}
	size_t k = (size_t)v - 1;
	const struct rw_name_seen *s = &m->chunk[k / RW_NAME_MEMO_CHUNK][k % RW_NAME_MEMO_CHUNK];
	size_t off = pos - s->start;
	h->name = s->name + off;
	h->len = s->len - off;
	h->depth = s->depth;
	h->next = s->next;
	h->reach = s->reach;
	return true;
}

/* Copies n bytes of a name or rdata piece: small pieces -- most -- without
 * a call, as two overlapping moves. */
static inline void rw_copy_small(uint8_t *d, const uint8_t *s, size_t n)
{
	uint64_t a, b;
	if (n >= 8) {
		/* 8-byte moves, the last one overlapping: no call, and none
		 * of the slow-starting string instructions a compiler may
		 * choose for a copy of unknown size. */
		for (size_t i = 0; i + 8 < n; i += 8) {
			memcpy(&a, s + i, 8);
			memcpy(d + i, &a, 8);
		}
		memcpy(&b, s + n - 8, 8);
		memcpy(d + n - 8, &b, 8);
	} else if (n >= 4) {
		uint32_t x, y;
		memcpy(&x, s, 4);
		memcpy(&y, s + n - 4, 4);
		memcpy(d, &x, 4);
		memcpy(d + n - 4, &y, 4);
	} else if (n >= 2) {
		uint16_t x, y;
		memcpy(&x, s, 2);
		memcpy(&y, s + n - 2, 2);
		memcpy(d, &x, 2);
		memcpy(d + n - 2, &y, 2);
	} else if (n == 1) {
		d[0] = s[0];
	}
}

int rw_name_ref_slow(struct rw_rbuf *r, const uint8_t **name, size_t *len);

/* Is the name at r->pos a lone pointer to a name the memo knows, usable
 * here (within r->len and the pointers a name may follow)? Then *h is
 * that name and r moves past the pointer. The next pointer of what the
 * memo knows is before the target by nature. */
static inline __attribute__((always_inline)) bool rw_name_memo_lone(struct rw_rbuf *r,
                                                                    struct rw_name_hit *h)
{
	const uint8_t *p = r->base + r->pos;
	if (r->len - r->pos < 2 || (p[0] & 0xC0) != 0xC0 || r->ptrs_left == 0)
		return false;
	size_t t = (size_t)(p[0] & 0x3F) << 8 | p[1];
	if (t >= r->pos || !rw_name_memo_get(r->memo, t, h) || h->depth >= RW_NAME_PTRS_MAX ||
	    h->reach > r->len)
		return false;
	r->pos += 2;
	r->ptrs_left--;
	return true;
}

/* Reads the name at r->pos like rw_name_read, and sets *name to the name
 * uncompressed, living as long as the memo's arena: a name seen before
 * when it is a lone pointer to one, the message's own bytes when it has no
 * pointer, otherwise a new copy. Remembers what it read in the memo.
 * Requires r->memo. Returns what rw_name_read returns, or RW_ENOMEM. */
static inline __attribute__((always_inline)) int rw_name_ref(struct rw_rbuf *r,
                                                             const uint8_t **name, size_t *len)
{
	const uint8_t *p = r->base + r->pos;
	if (r->pos < r->len && p[0] == 0 && r->base == r->memo->base) {
		*name = p; /* the root (an OPT record's owner) */
		*len = 1;
		r->pos++;
		return 0;
	}
	struct rw_name_hit h;
	if (rw_name_memo_lone(r, &h)) {
		*name = h.name;
		*len = h.len;
		return 0;
	}
	return rw_name_ref_slow(r, name, len);
}

#endif
