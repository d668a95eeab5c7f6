/* Reading compressed names, and the memo that makes reading all of one
 * message's names cost what its bytes do; see
 * include/dns/rootwalk/decompress.h.
 *
 * A read walks the name in runs: from where it stands up to a pointer,
 * then from the pointer's target up to the next, and so on to the root
 * (RFC 1035 §4.1.4). What the memo knows of a position is one of two
 * things: the labels from there to the root are in place (an index slot
 * with RW_NAME_MEMO_FLAT and the length), or the position is in a run of
 * a name made of pieces, kept as an entry (struct rw_name_seen). Reads in
 * a message only jump backwards, so a read meets what the memo knows only
 * after a jump: the part of a name in place at the read's own position is
 * always new. */
#include "rootwalk/decompress.h"
#include "rootwalk/arena.h"
#include "rootwalk/err.h"

#include <string.h>

static inline struct rw_name_seen *seen_at(const struct rw_name_memo *m, size_t k)
{
	return &m->chunk[k / RW_NAME_MEMO_CHUNK][k % RW_NAME_MEMO_CHUNK];
}

static __attribute__((noinline)) bool index_new(struct rw_name_memo *m)
{
	if ((m->index = rw_arena_alloc(m->arena, m->span * sizeof *m->index)) == NULL)
		return false;
	memset(m->index, 0, m->span * sizeof *m->index);
	return true;
}

/* The index, made at the first position entered. */
static inline bool index_ready(struct rw_name_memo *m)
{
	return m->index != NULL || index_new(m);
}

/* A new entry; 0: none (out of memory: the read goes on without it). Each
 * entry names at least one position no other names, so there are at most
 * span of them. */
static uint16_t seen_new(struct rw_name_memo *m)
{
	if (m->nseen >= RW_NAME_MEMO_SPAN || !index_ready(m))
		return 0;
	size_t k = m->nseen;
	if (k % RW_NAME_MEMO_CHUNK == 0 &&
	    (m->chunk[k / RW_NAME_MEMO_CHUNK] = rw_arena_alloc(
	         m->arena, RW_NAME_MEMO_CHUNK * sizeof(struct rw_name_seen))) == NULL)
		return 0;
	m->nseen++;
	return (uint16_t)(k + 1);
}

static inline bool known(const struct rw_name_memo *m, size_t pos)
{
	return m->index != NULL && pos < m->span && m->index[pos] != 0;
}

/* --- the general walk ------------------------------------------------------ */

/* One read: its runs (where each starts and ends in the message, and the
 * pointer ending it) and, when it ended in what the memo knew, that. */
struct walk {
	size_t nruns;
	struct {
		uint16_t start, end; /* end: the pointer or the root */
		uint16_t next;       /* the pointer's target (0: the root) */
		uint16_t seen;       /* memo entry + 1 (0: none) */
	} run[RW_NAME_PTRS_MAX + 1];
	bool hit;
	struct rw_name_hit h; /* the rest of the name, when hit */
	size_t len;           /* the decoded name's length */
	unsigned ptrs;        /* pointers followed, the hit's included */
	size_t end_pos;       /* where the caller resumes */
	uint32_t reach;       /* one past the furthest byte read */
};

/* Enters position pos of the current run in the memo (the run's entry
 * starts at its first position entered). */
static inline void note(struct rw_name_memo *m, struct walk *w, size_t pos)
{
	if (pos >= m->span)
		return;
	uint16_t *seen = &w->run[w->nruns].seen;
	if (*seen == 0 && (*seen = seen_new(m)) == 0)
		return;
	m->index[pos] = *seen;
}

/* Walks the name at r->pos. keep: enter each run and position in the memo
 * (the caller then calls walk_done with the decoded name). */
static int walk(struct rw_rbuf *r, bool keep, struct walk *w)
{
	struct rw_name_memo *m = r->memo;
	size_t pos = r->pos;
	size_t limit = pos; /* every jump must land strictly before this */
	size_t len = 0;     /* bytes of the runs walked */
	unsigned ptrs = 0;
	size_t fresh = m != NULL ? m->nseen : 0; /* entries before this read */
	w->nruns = 0;
	w->hit = false;
	w->end_pos = 0;
	w->run[0].start = (uint16_t)pos;
	w->run[0].seen = 0;
	/* Bound: each iteration consumes a label (at most 128 fit in 255
	 * bytes), follows one of at most RW_NAME_PTRS_MAX pointers (RFC 9267
	 * §2, §3) or ends the read. */
	for (;;) {
		if (pos >= r->len)
			return RW_EMALFORMED;
		if (m != NULL && w->end_pos != 0 && known(m, pos)) {
			/* An entry of this very read: walking on would come
			 * back to that run's pointer, a loop. */
			uint16_t v = m->index[pos];
			if (!(v & RW_NAME_MEMO_FLAT) && v > fresh)
				return RW_EMALFORMED;
			/* The rest is known: the same checks as walking it. */
			struct rw_name_hit *h = &w->h;
			rw_name_memo_get(m, pos, h);
			len += pos - w->run[w->nruns].start;
			if (len + h->len > RW_NAME_MAX || h->reach > r->len ||
			    (h->next != 0 && h->next >= limit))
				return RW_EMALFORMED;
			if (ptrs + h->depth > RW_NAME_PTRS_MAX)
				return RW_ELIMIT;
			w->run[w->nruns].end = (uint16_t)pos;
			w->run[w->nruns].next = (uint16_t)h->next;
			w->nruns++;
			w->hit = true;
			w->len = len + h->len;
			w->ptrs = ptrs + h->depth;
			w->reach = (uint32_t)(h->reach > pos ? h->reach : pos);
			break;
		}
		uint8_t c = r->base[pos];
		if ((c & 0xC0) == 0xC0) {
			if (pos + 1 >= r->len)
				return RW_EMALFORMED;
			if (++ptrs > RW_NAME_PTRS_MAX || r->ptrs_left == 0)
				return RW_ELIMIT;
			r->ptrs_left--;
			size_t target = (size_t)(c & 0x3F) << 8 | r->base[pos + 1];
			if (target >= limit)
				return RW_EMALFORMED; /* forward pointer or loop */
			if (w->end_pos == 0)
				w->end_pos = pos + 2;
			if (keep)
				note(m, w, pos);
			len += pos - w->run[w->nruns].start;
			w->run[w->nruns].end = (uint16_t)pos;
			w->run[w->nruns].next = (uint16_t)target;
			w->nruns++;
			w->run[w->nruns].start = (uint16_t)target;
			w->run[w->nruns].seen = 0;
			limit = target;
			pos = target;
			continue;
		}
		if (c & 0xC0)
			return RW_EMALFORMED; /* 01 and 10 label types (RFC 6891 §5) */
		if (c == 0) {
			len += pos - w->run[w->nruns].start + 1;
			if (len > RW_NAME_MAX)
				return RW_EMALFORMED;
			w->run[w->nruns].end = (uint16_t)pos;
			w->run[w->nruns].next = 0;
			w->nruns++;
			w->len = len;
			w->ptrs = ptrs;
			w->reach = (uint32_t)pos + 1;
			pos++;
			break;
		}
		if (pos + 1 + c >= r->len ||
		    len + (pos - w->run[w->nruns].start) + 1 + c + 1 > RW_NAME_MAX)
			return RW_EMALFORMED; /* past the end, or no room for the root */
		if (keep)
			note(m, w, pos);
		pos += (size_t)c + 1;
	}
	if (w->end_pos == 0)
		w->end_pos = pos;
	return 0;
}

/* Writes the decoded name of a walk to out (w->len bytes). */
static void walk_copy(const struct rw_rbuf *r, const struct walk *w, uint8_t *out)
{
	size_t n = 0;
	for (size_t j = 0; j < w->nruns; j++) {
		size_t l = (size_t)w->run[j].end - w->run[j].start;
		if (j == w->nruns - 1 && !w->hit)
			l++; /* the root */
		rw_copy_small(out + n, r->base + w->run[j].start, l);
		n += l;
	}
	if (w->hit)
		rw_copy_small(out + n, w->h.name, w->h.len);
}

/* Fills in the memo entries a keep walk started, for the decoded name. */
static void walk_done(struct rw_name_memo *m, const struct walk *w, const uint8_t *name)
{
	/* Runs go backwards in the message, so reading from a run reads its
	 * own bytes and, further back, those of the runs after it. */
	uint32_t reach = w->reach;
	size_t off = w->len - (w->hit ? w->h.len : 0);
	for (size_t j = w->nruns; j-- > 0;) {
		uint32_t own = (uint32_t)w->run[j].end + (w->run[j].next != 0 ? 2 : 1);
		if (j + 1 < w->nruns && own > reach)
			reach = own;
		off -= (size_t)w->run[j].end - w->run[j].start;
		if (j == w->nruns - 1 && !w->hit)
			off--; /* the root */
		if (w->run[j].seen == 0)
			continue;
		struct rw_name_seen *s = seen_at(m, (size_t)w->run[j].seen - 1);
		s->name = name + off;
		s->len = (uint8_t)(w->len - off);
		s->depth = (uint8_t)(w->ptrs - j);
		s->start = w->run[j].start;
		s->next = w->run[j].next;
		s->reach = reach;
	}
}

/* The general case of rw_name_ref: walk, copy what the name is made of
 * unless it stands whole somewhere, and keep it. */
static __attribute__((noinline)) int ref_walk(struct rw_rbuf *r, const uint8_t **name, size_t *len)
{
	struct rw_name_memo *m = r->memo;
	struct walk w;
	int e = walk(r, true, &w);
	if (e != 0)
		return e;
	const uint8_t *keep;
	if (w.nruns == 1 && !w.hit && r->base == m->base) {
		keep = r->base + r->pos; /* no pointer: the bytes as they are */
	} else if (w.hit && w.len == w.h.len) {
		keep = w.h.name; /* only pointers to a name seen */
	} else {
		uint8_t *c;
		if ((e = rw_name_memo_spend(m, w.len)) != 0)
			return e;
		if ((c = rw_arena_alloc(m->arena, w.len)) == NULL)
			return RW_ENOMEM;
		walk_copy(r, &w, c);
		keep = c;
	}
	walk_done(m, &w, keep);
	r->pos = w.end_pos;
	*name = keep;
	*len = w.len;
	return 0;
}

/* --- the common cases, without the general walk ----------------------------- */

/* Label positions of a name in place that the memo may keep. */
struct labels {
	size_t n;
	uint16_t pos[RW_NAME_MAX / 2 + 1];
};

enum stop { AT_ROOT, AT_POINTER, AT_OTHER };

/* Scans the labels at pos up to the root or a pointer (its position in
 * *at), noting positions the memo may keep in f. AT_OTHER: anything else
 * (bad labels, the end, too long, or -- when after_jump -- a position the
 * memo knows), which the general walk then reads. f may be NULL. The
 * label walk is a chain of dependent loads; nothing else waits for it. */
static inline __attribute__((always_inline)) enum stop scan(const struct rw_rbuf *r,
                                                            const struct rw_name_memo *m,
                                                            size_t pos, bool after_jump,
                                                            struct labels *f, size_t *at)
{
	size_t p = pos;
	size_t seen = after_jump && m->index != NULL ? m->span : 0;
	size_t keep = f != NULL ? m->span : 0;
	if (f != NULL)
		f->n = 0;
	for (;;) {
		if (p >= r->len || p - pos >= RW_NAME_MAX || (p < seen && m->index[p] != 0))
			return AT_OTHER;
		uint8_t c = r->base[p];
		if ((c & 0xC0) != 0) {
			*at = p;
			return (c & 0xC0) == 0xC0 ? AT_POINTER : AT_OTHER;
		}
		if (c == 0) {
			*at = p;
			return AT_ROOT;
		}
		if (p < keep)
			f->pos[f->n++] = (uint16_t)p;
		p += (size_t)c + 1;
	}
}

/* Enters a name in place, its labels at f and its root at root. */
static inline void note_flat(struct rw_name_memo *m, const struct labels *f, size_t root)
{
	if (f->n == 0 || !index_ready(m))
		return;
	for (size_t i = 0; i < f->n; i++)
		m->index[f->pos[i]] = (uint16_t)(RW_NAME_MEMO_FLAT | (root + 1 - f->pos[i]));
}

/* Enters one run that ends in a pointer at ptr to t, whose name is known
 * as h: its labels at f (from start), then the pointer; name is what the
 * run spells. */
static void note_run(struct rw_name_memo *m, const struct labels *f, size_t start, size_t ptr,
                     size_t t, const uint8_t *name, size_t len, const struct rw_name_hit *h)
{
	if (f->n == 0 && ptr >= m->span)
		return;
	uint16_t k = seen_new(m);
	if (k == 0)
		return;
	struct rw_name_seen *s = seen_at(m, (size_t)k - 1);
	s->name = name;
	s->len = (uint8_t)len;
	s->depth = (uint8_t)(h->depth + 1);
	s->start = (uint16_t)start;
	s->next = (uint16_t)t;
	s->reach = (uint32_t)(h->reach > ptr + 2 ? h->reach : ptr + 2);
	for (size_t i = 0; i < f->n; i++)
		m->index[f->pos[i]] = k;
	if (ptr < m->span)
		m->index[ptr] = k;
}

/* A lone pointer to a pointer (a chain) whose target is known: the name
 * it is. Anything else: the general walk. */
static __attribute__((noinline)) int ref_chain(struct rw_rbuf *r, const uint8_t **name, size_t *len)
{
	struct rw_name_memo *m = r->memo;
	size_t pos = r->pos;
	struct rw_name_hit h;
	if ((r->base[pos] & 0xC0) != 0xC0 || r->len - pos < 2 || r->ptrs_left < 2)
		return ref_walk(r, name, len);
	size_t t = (size_t)(r->base[pos] & 0x3F) << 8 | r->base[pos + 1];
	if (t >= pos || (r->base[t] & 0xC0) != 0xC0 || r->len - t < 2)
		return ref_walk(r, name, len);
	size_t t2 = (size_t)(r->base[t] & 0x3F) << 8 | r->base[t + 1];
	if (t2 >= t || !rw_name_memo_get(m, t2, &h) || h.reach > r->len ||
	    h.depth + 2 > RW_NAME_PTRS_MAX)
		return ref_walk(r, name, len);
	/* Not entered: the next read of t costs as little again. */
	r->ptrs_left -= 2;
	r->pos += 2;
	*name = h.name;
	*len = h.len;
	return 0;
}

int rw_name_ref_slow(struct rw_rbuf *r, const uint8_t **name, size_t *len)
{
	struct rw_name_memo *m = r->memo;
	size_t pos = r->pos, at;
	struct labels f;
	struct rw_name_hit h;
	if (r->base != m->base)
		return ref_walk(r, name, len);
	/* Labels in place, then the root or one pointer. */
	enum stop stop = scan(r, m, pos, false, &f, &at);
	if (stop == AT_ROOT) {
		note_flat(m, &f, at);
		*name = r->base + pos;
		*len = at + 1 - pos;
		r->pos = at + 1;
		return 0;
	}
	if (stop != AT_POINTER || r->len - at < 2 || r->ptrs_left == 0)
		return ref_walk(r, name, len);
	size_t t = (size_t)(r->base[at] & 0x3F) << 8 | r->base[at + 1];
	if (t >= pos)
		return ref_walk(r, name, len); /* forward pointer or loop */
	/* The pointer's target: known, or a name in place to learn. */
	if (!rw_name_memo_get(m, t, &h)) {
		struct labels g;
		size_t root;
		if (scan(r, m, t, true, &g, &root) != AT_ROOT)
			return ref_chain(r, name, len);
		note_flat(m, &g, root);
		h = (struct rw_name_hit){r->base + t, root + 1 - t, 0, 0, root + 1};
	}
	size_t prefix = at - pos, n = prefix + h.len;
	if (n > RW_NAME_MAX || h.reach > r->len || h.depth + 1 > RW_NAME_PTRS_MAX ||
	    r->ptrs_left < h.depth + 1)
		return ref_walk(r, name, len); /* it reports the error */
	const uint8_t *keep = h.name;
	if (prefix > 0) {
		int e = rw_name_memo_spend(m, n);
		if (e != 0)
			return e;
		uint8_t *c = rw_arena_alloc(m->arena, n);
		if (c == NULL)
			return RW_ENOMEM;
		rw_copy_small(c, r->base + pos, prefix);
		rw_copy_small(c + prefix, h.name, h.len);
		keep = c;
	}
	note_run(m, &f, pos, at, t, keep, n, &h);
	r->ptrs_left -= h.depth + 1; /* what walking would have followed */
	r->pos = at + 2;
	*name = keep;
	*len = n;
	return 0;
}

/* rw_name_read by the general walk. */
static __attribute__((noinline)) int read_walk(struct rw_rbuf *r, uint8_t *out, size_t *out_len)
{
	struct walk w;
	int e = walk(r, false, &w);
	if (e == 0)
		e = rw_name_memo_spend(r->memo, w.len);
	if (e != 0)
		return e;
	walk_copy(r, &w, out);
	r->pos = w.end_pos;
	if (out_len != NULL)
		*out_len = w.len;
	return 0;
}

/* With a memo, the common shapes without the general walk, and nothing
 * entered: a name copied out is read again from the message when a
 * pointer leads to it, and entered then. */
int rw_name_read(struct rw_rbuf *r, uint8_t out[RW_NAME_MAX], size_t *out_len)
{
	struct rw_name_memo *m = r->memo;
	size_t pos = r->pos, at, n = 0, end = 0, rest_len = 0;
	const uint8_t *rest = NULL; /* what follows the labels in place */
	if (m != NULL && m->base == r->base && pos < r->len) {
		enum stop stop = (r->base[pos] & 0xC0) == 0xC0 ? (at = pos, AT_POINTER)
		                                               : scan(r, m, pos, false, NULL, &at);
		struct rw_name_hit h;
		if (stop == AT_ROOT) {
			n = at + 1 - pos;
			end = at + 1;
		} else if (stop == AT_POINTER && r->len - at >= 2 && r->ptrs_left > 0) {
			size_t t = (size_t)(r->base[at] & 0x3F) << 8 | r->base[at + 1];
			if (t < pos && rw_name_memo_get(m, t, &h) &&
			    at - pos + h.len <= RW_NAME_MAX && h.reach <= r->len &&
			    h.depth < RW_NAME_PTRS_MAX && r->ptrs_left > h.depth) {
				n = at - pos;
				end = at + 2;
				rest = h.name;
				rest_len = h.len;
				r->ptrs_left -= h.depth + 1;
			}
		}
	}
	if (end == 0)
		return read_walk(r, out, out_len);
	if (rw_name_memo_spend(m, n + rest_len) != 0)
		return RW_ELIMIT;
	rw_copy_small(out, r->base + pos, n);
	rw_copy_small(out + n, rest, rest_len);
	r->pos = end;
	if (out_len != NULL)
		*out_len = n + rest_len;
	return 0;
}
