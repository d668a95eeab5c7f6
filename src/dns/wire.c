/* Bounds-checked wire cursors; see include/dns/rootwalk/wire.h. */
#include "rootwalk/wire.h"
#include "rootwalk/err.h"

#include <string.h>

int rw_rbuf_u8(struct rw_rbuf *r, uint8_t *out)
{
	if (rw_rbuf_left(r) < 1)
		return RW_EMALFORMED;
	*out = r->base[r->pos++];
	return 0;
}

int rw_rbuf_u16(struct rw_rbuf *r, uint16_t *out)
{
	if (rw_rbuf_left(r) < 2)
		return RW_EMALFORMED;
	*out = rw_get16(r->base + r->pos);
	r->pos += 2;
	return 0;
}

int rw_rbuf_u32(struct rw_rbuf *r, uint32_t *out)
{
	if (rw_rbuf_left(r) < 4)
		return RW_EMALFORMED;
	*out = rw_get32(r->base + r->pos);
	r->pos += 4;
	return 0;
}

int rw_rbuf_bytes(struct rw_rbuf *r, void *out, size_t n)
{
	if (rw_rbuf_left(r) < n)
		return RW_EMALFORMED;
	if (out != NULL && n > 0)
		memcpy(out, r->base + r->pos, n);
	r->pos += n;
	return 0;
}

int rw_wbuf_u8(struct rw_wbuf *w, uint8_t v)
{
	if (w->cap - w->len < 1)
		return RW_ETRUNC;
	w->base[w->len++] = v;
	return 0;
}

int rw_wbuf_u16(struct rw_wbuf *w, uint16_t v)
{
	if (w->cap - w->len < 2)
		return RW_ETRUNC;
	rw_put16(w->base + w->len, v);
	w->len += 2;
	return 0;
}

int rw_wbuf_u32(struct rw_wbuf *w, uint32_t v)
{
	if (w->cap - w->len < 4)
		return RW_ETRUNC;
	rw_put32(w->base + w->len, v);
	w->len += 4;
	return 0;
}

int rw_wbuf_bytes(struct rw_wbuf *w, const void *p, size_t n)
{
	if (w->cap - w->len < n)
		return RW_ETRUNC;
	if (n > 0)
		memcpy(w->base + w->len, p, n);
	w->len += n;
	return 0;
}
