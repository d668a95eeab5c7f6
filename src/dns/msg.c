/* Message parsing and building; see include/dns/rootwalk/msg.h. Does not decide
 * what goes into a reply (query.c does) and never touches sockets. */
#include "rootwalk/msg.h"
#include "rootwalk/decompress.h"
#include "rootwalk/err.h"
#include "rootwalk/rr.h"
#include "rootwalk/wire.h"

#include <string.h>

/* The smallest record: root owner (1) + type, class, ttl, rdlength (10). */
#define MIN_RR_LEN 11

static int parse_edns(const struct rw_rr *rr, struct rw_edns *e)
{
	if (e->present || rr->owner[0] != 0)
		return RW_EMALFORMED; /* RFC 6891 §6.1.1: one OPT, at the root */
	e->present = true;
	e->udp_size = rr->rclass;
	e->ext_rcode = (uint8_t)(rr->ttl >> 24);
	e->version = (uint8_t)(rr->ttl >> 16);
	e->do_bit = (rr->ttl & 0x8000) != 0;
	/* Options: code(2) length(2) data; framing must be exact. */
	size_t pos = 0;
	while (pos < rr->rdlen) {
		if (rr->rdlen - pos < 4)
			return RW_EMALFORMED;
		size_t olen = rw_get16(rr->rdata + pos + 2);
		if (rr->rdlen - pos - 4 < olen)
			return RW_EMALFORMED;
		pos += 4 + olen;
	}
	e->opts = rr->rdata;
	e->opts_len = rr->rdlen;
	return 0;
}

/* Rdata of fixed fields and names: some fixed bytes, one or two names,
 * some fixed bytes (RW_SHAPE_NAMED -- MX: 2, 1, 0; SRV: 6, 1, 0; SOA: 0,
 * 2, 20). The names are read with the memo's help; what they cost is
 * taken from the message's name budget. */
static inline __attribute__((always_inline)) int rdata_named(struct rw_rbuf *r,
                                                             struct rw_arena *arena,
                                                             const struct rw_type_desc *d,
                                                             struct rw_rr *rr, uint16_t rdlen)
{
	size_t pre = d->pre, nnames = d->nnames, post = d->post;
	size_t end = r->pos + rdlen, len = r->len;
	if (rdlen < pre + nnames + post)
		return RW_EMALFORMED;
	/* Written in place, in room for the longest names, the rest given
	 * back. A name that is a lone pointer to one known is copied from
	 * it; another is read without entering it in the memo (a pointer to
	 * it later reads and enters it then). */
	size_t room = pre + nnames * RW_NAME_MAX + post, n = pre;
	uint8_t *out = rw_arena_alloc(arena, room);
	if (out == NULL)
		return RW_ENOMEM;
	rw_copy_small(out, r->base + r->pos, pre);
	r->pos += pre;
	r->len = end - post; /* the names must end before the fixed tail */
	int e = 0;
	for (size_t i = 0; i < nnames && e == 0; i++) {
		struct rw_name_hit h;
		size_t nl;
		if (rw_name_memo_lone(r, &h)) {
			rw_copy_small(out + n, h.name, h.len);
			nl = h.len;
			e = rw_name_memo_spend(r->memo, h.len);
		} else {
			e = rw_name_read(r, out + n, &nl);
		}
		n += nl;
	}
	r->len = len;
	if (e == RW_ELIMIT)
		return e;
	if (e != 0 || r->pos != end - post)
		return RW_EMALFORMED; /* a bad name, or RDLENGTH disagrees */
	rw_copy_small(out + n, r->base + r->pos, post);
	n += post;
	r->pos = end;
	rw_arena_trim(arena, out, room, n);
	rr->rdata = out;
	rr->rdlen = (uint16_t)n;
	return 0;
}

static inline __attribute__((always_inline)) int rdata_name(struct rw_rbuf *r, struct rw_rr *rr,
                                                            uint16_t rdlen);
static __attribute__((noinline)) int rdata_other(struct rw_rbuf *r, struct rw_arena *arena,
                                                 struct rw_rr *rr, uint16_t rdlen);

/* Reads one record's rdata, canonical (names uncompressed) and exactly as
 * long as it is, the way its type's shape says. Rdata without names is the
 * message's bytes as they are (r->base is the arena's copy), once checked:
 * by its size when all its fields are fixed, field by field otherwise.
 * TXT's chain of strings is not walked here (the one check that costs a
 * step per byte), as Unbound and Knot do not either: printing checks it
 * and shows a bad one in the generic form. Rdata with names is decoded.
 * Sets rr->rdata and rr->rdlen. */
static inline __attribute__((always_inline)) int
rdata_read(struct rw_rbuf *r, struct rw_arena *arena, struct rw_rr *rr, uint16_t rdlen)
{
	const struct rw_type_desc *d = rw_type_desc_fast(rr->type);
	const uint8_t *rd = rdlen > 0 ? r->base + r->pos : (const uint8_t *)"";
	switch (d != NULL ? d->shape : RW_SHAPE_OPAQUE) {
	case RW_SHAPE_FIXED:
		if (rdlen != d->fixed_len)
			return RW_EMALFORMED;
		break;
	case RW_SHAPE_STRS:
		if (rdlen == 0)
			return RW_EMALFORMED; /* one string at least */
		break;
	case RW_SHAPE_CHECKED: {
		int e = rw_rdata_read(r, rr->type, rdlen, NULL);
		if (e != 0)
			return e == RW_ELIMIT ? e : RW_EMALFORMED;
		r->pos -= rdlen; /* moved on below */
		break;
	}
	case RW_SHAPE_NAME: return rdata_name(r, rr, rdlen);
	case RW_SHAPE_NAMED: return rdata_named(r, arena, d, rr, rdlen);
	case RW_SHAPE_OTHER: return rdata_other(r, arena, rr, rdlen);
	default: break; /* opaque */
	}
	rr->rdata = rd;
	rr->rdlen = rdlen;
	r->pos += rdlen;
	return 0;
}

/* Rdata with names among other fields (no type in the table yet): decoded
 * field by field on the stack, then copied. */
static __attribute__((noinline)) int rdata_other(struct rw_rbuf *r, struct rw_arena *arena,
                                                 struct rw_rr *rr, uint16_t rdlen)
{
	uint8_t buf[2 * RW_NAME_MAX + 64];
	struct rw_wbuf w;
	rw_wbuf_init(&w, buf, sizeof buf);
	int e = rw_rdata_read(r, rr->type, rdlen, &w);
	if (e != 0)
		return e == RW_ELIMIT ? e : RW_EMALFORMED;
	rr->rdata = (const uint8_t *)"";
	if (w.len > 0 && (rr->rdata = rw_arena_dup(arena, buf, w.len)) == NULL)
		return RW_ENOMEM;
	rr->rdlen = (uint16_t)w.len;
	return 0;
}

/* Reads rdata that is one name and nothing else (NS, CNAME, PTR, DNAME):
 * the name decoded once in the message is shared, not copied again. */
static inline __attribute__((always_inline)) int rdata_name(struct rw_rbuf *r, struct rw_rr *rr,
                                                            uint16_t rdlen)
{
	size_t len = r->len, end = r->pos + rdlen;
	r->len = end; /* the name must end within the rdata */
	size_t nl;
	int e = rw_name_ref(r, &rr->rdata, &nl);
	r->len = len;
	if (e != 0)
		return e == RW_ELIMIT || e == RW_ENOMEM ? e : RW_EMALFORMED;
	if (r->pos != end)
		return RW_EMALFORMED; /* RDLENGTH disagrees with the name */
	rr->rdlen = (uint16_t)nl;
	return 0;
}

int rw_msg_parse(const uint8_t *pkt, size_t len, struct rw_arena *arena, struct rw_msg *m)
{
	memset(m, 0, offsetof(struct rw_msg, qname));
	m->qname_len = 0;
	memset(m->rr, 0, sizeof m->rr);
	memset(m->nrr, 0, sizeof m->nrr);
	memset(&m->edns, 0, sizeof m->edns);
	if (len < RW_HEADER_LEN)
		return RW_EMALFORMED;
	/* The parse reads a copy in the arena, so that what it keeps -- names
	 * without pointers, rdata without names, options -- is that copy's
	 * bytes and lives as long as the arena does, without a copy each. */
	const uint8_t *copy = rw_arena_dup(arena, pkt, len);
	if (copy == NULL)
		return RW_ENOMEM;
	struct rw_rbuf r;
	rw_rbuf_init(&r, copy, len);
	struct rw_name_memo memo;
	rw_name_memo_init(&memo, arena, copy, len);
	r.memo = &memo;
	uint16_t counts[4];
	rw_rbuf_u16(&r, &m->id);
	rw_rbuf_u16(&r, &m->flags);
	for (int i = 0; i < 4; i++)
		rw_rbuf_u16(&r, &counts[i]);
	m->qdcount = counts[0];
	if (counts[0] > 1)
		return RW_EMALFORMED;
	/* Counts the packet cannot possibly hold are rejected before any
	 * allocation (RFC 9267 §5). */
	size_t need =
	    (size_t)counts[0] * 5 + ((size_t)counts[1] + counts[2] + counts[3]) * MIN_RR_LEN;
	if (need > rw_rbuf_left(&r))
		return RW_EMALFORMED;
	if (counts[0] == 1) {
		int e = rw_name_read(&r, m->qname, &m->qname_len);
		if (e == RW_ELIMIT)
			return e;
		if (e != 0 || rw_rbuf_u16(&r, &m->qtype) != 0 || rw_rbuf_u16(&r, &m->qclass) != 0)
			return RW_EMALFORMED;
	}
	for (int s = 0; s < 3; s++) {
		uint16_t n = counts[s + 1];
		struct rw_rr *rrs = NULL; /* allocated at the first record kept */
		/* Bound: n <= 65535 and each record consumes >= 11 bytes. */
		for (uint16_t i = 0; i < n; i++) {
			const uint8_t *owner;
			size_t owner_len;
			int e = rw_name_ref(&r, &owner, &owner_len);
			if (e != 0)
				return e == RW_ELIMIT || e == RW_ENOMEM ? e : RW_EMALFORMED;
			if (rw_rbuf_left(&r) < 10)
				return RW_EMALFORMED;
			/* type, class, TTL, RDLENGTH: read at once */
			const uint8_t *fx = r.base + r.pos;
			uint16_t type = rw_get16(fx);
			uint16_t rdlen = rw_get16(fx + 8);
			r.pos += 10;
			if (rw_rbuf_left(&r) < rdlen)
				return RW_EMALFORMED;
			if (type == RW_TYPE_OPT) {
				/* Options are opaque: the bytes as they are. */
				struct rw_rr opt = {owner,
				                    type,
				                    rw_get16(fx + 2),
				                    rw_get32(fx + 4),
				                    rdlen,
				                    rdlen == 0 ? (const uint8_t *)""
				                               : r.base + r.pos};
				r.pos += rdlen;
				if (s != RW_SEC_AR || parse_edns(&opt, &m->edns) != 0)
					return RW_EMALFORMED;
				continue;
			}
			if (rrs == NULL &&
			    (rrs = rw_arena_alloc(arena, (size_t)n * sizeof *rrs)) == NULL)
				return RW_ENOMEM;
			m->rr[s] = rrs;
			/* Filled in place: no record is built twice. */
			struct rw_rr *rr = &rrs[m->nrr[s]];
			rr->owner = owner;
			rr->type = type;
			rr->rclass = rw_get16(fx + 2);
			rr->ttl = rw_get32(fx + 4);
			/* RFC 2181 §8: a TTL with the top bit set is zero. */
			if (rr->ttl & 0x80000000u)
				rr->ttl = 0;
			int re = rdata_read(&r, arena, rr, rdlen);
			if (re != 0)
				return re;
			m->nrr[s]++;
		}
	}
	if (rw_rbuf_left(&r) != 0)
		return RW_EMALFORMED; /* trailing garbage */
	return 0;
}

bool rw_msg_answers(const uint8_t *pkt, size_t len, const uint8_t *qname, uint16_t qtype,
                    uint16_t qclass)
{
	if (len < RW_HEADER_LEN)
		return false;
	uint16_t flags = rw_get16(pkt + 2);
	if (!(flags & RW_FLAG_QR) || RW_OPCODE(flags) != RW_OPCODE_QUERY || rw_get16(pkt + 4) != 1)
		return false;
	struct rw_rbuf r;
	rw_rbuf_init(&r, pkt, len);
	r.pos = RW_HEADER_LEN;
	uint8_t name[RW_NAME_MAX];
	uint16_t t, c;
	return rw_name_read(&r, name, NULL) == 0 && rw_rbuf_u16(&r, &t) == 0 &&
	       rw_rbuf_u16(&r, &c) == 0 && t == qtype && c == qclass && rw_name_eq(name, qname);
}

/* --- builder ------------------------------------------------------------- */

void rw_builder_init(struct rw_builder *b, uint8_t *buf, size_t cap, uint16_t id, uint16_t flags)
{
	b->buf = buf;
	b->cap = cap > 65535 ? 65535 : cap;
	b->limit = b->cap;
	b->len = RW_HEADER_LEN;
	memset(b->count, 0, sizeof b->count);
	b->ncomp = 0;
	b->qname_off = b->qname_len = 0;
	memset(buf, 0, RW_HEADER_LEN);
	rw_put16(buf, id);
	rw_put16(buf + 2, flags);
}

int rw_builder_reserve(struct rw_builder *b, size_t n)
{
	if (b->limit - b->len < n)
		return RW_ETRUNC;
	b->limit -= n;
	return 0;
}

void rw_builder_set_flags(struct rw_builder *b, uint16_t flags)
{
	rw_put16(b->buf + 2, flags);
}

uint16_t rw_builder_flags(const struct rw_builder *b)
{
	return rw_get16(b->buf + 2);
}

void rw_builder_mark(const struct rw_builder *b, struct rw_builder_mark *m)
{
	m->len = b->len;
	memcpy(m->count, b->count, sizeof m->count);
	m->ncomp = b->ncomp;
}

void rw_builder_rollback(struct rw_builder *b, const struct rw_builder_mark *m)
{
	b->len = m->len;
	memcpy(b->count, m->count, sizeof b->count);
	b->ncomp = m->ncomp;
	if (b->qname_off >= m->len)
		b->qname_off = 0; /* the question itself was rolled back */
}

/* Does the (possibly compressed) name at buf[off] equal the uncompressed
 * name, byte for byte? Case-exact on purpose: a pointer must not replace
 * the case of the data with the case of the question. Both were written by
 * us, so pointers only go backwards; hops are bounded anyway. */
static bool name_at_eq(const uint8_t *buf, size_t off, const uint8_t *name)
{
	for (int hops = 0; hops < 128;) {
		uint8_t c = buf[off];
		if ((c & 0xC0) == 0xC0) {
			off = (size_t)(c & 0x3F) << 8 | buf[off + 1];
			hops++;
			continue;
		}
		if (c != *name)
			return false;
		if (c == 0)
			return true;
		if (memcmp(buf + off + 1, name + 1, c) != 0)
			return false;
		off += (size_t)c + 1;
		name += c + 1;
	}
	return false;
}

static int write_name(struct rw_builder *b, const uint8_t *name, bool compress)
{
	size_t total = rw_name_len(name);
	size_t start = b->len;
	if (compress && total == b->qname_len && b->qname_off != 0 &&
	    memcmp(name, b->buf + b->qname_off, total) == 0) {
		if (b->limit - b->len < 2)
			return RW_ETRUNC;
		rw_put16(b->buf + b->len, (uint16_t)(0xC000 | b->qname_off));
		b->len += 2;
		return 0;
	}
	/* Find the longest suffix already in the message. Bound: at most 128
	 * suffixes times RW_COMP_MAX entries. */
	size_t prefix = total; /* bytes to write as labels */
	size_t ptr = 0;
	if (compress && b->ncomp > 0) {
		for (size_t i = 0; name[i] != 0 && ptr == 0; i += (size_t)name[i] + 1) {
			for (unsigned k = 0; k < b->ncomp; k++) {
				if (name_at_eq(b->buf, b->comp[k], name + i)) {
					prefix = i;
					ptr = b->comp[k];
					break;
				}
			}
		}
	}
	size_t need = ptr ? prefix + 2 : total;
	if (b->limit - b->len < need)
		return RW_ETRUNC;
	memcpy(b->buf + b->len, name, ptr ? prefix : total);
	b->len += ptr ? prefix : total;
	if (ptr) {
		rw_put16(b->buf + b->len, (uint16_t)(0xC000 | ptr));
		b->len += 2;
	}
	/* Remember the new label positions as future pointer targets. */
	for (size_t i = 0; i < prefix && name[i] != 0; i += (size_t)name[i] + 1) {
		if (b->ncomp < RW_COMP_MAX && start + i < 0x4000)
			b->comp[b->ncomp++] = (uint16_t)(start + i);
	}
	return 0;
}

int rw_builder_question(struct rw_builder *b, const uint8_t *qname, uint16_t qtype, uint16_t qclass)
{
	struct rw_builder_mark m;
	rw_builder_mark(b, &m);
	size_t off = b->len;
	if (write_name(b, qname, true) != 0 || b->limit - b->len < 4) {
		rw_builder_rollback(b, &m);
		return RW_ETRUNC;
	}
	if (b->qname_off == 0 && off < 0x4000 && b->len - off == rw_name_len(qname)) {
		b->qname_off = (uint16_t)off; /* written whole, not compressed */
		b->qname_len = (uint16_t)(b->len - off);
	}
	rw_put16(b->buf + b->len, qtype);
	rw_put16(b->buf + b->len + 2, qclass);
	b->len += 4;
	b->count[0]++;
	return 0;
}

static int write_rdata(struct rw_builder *b, uint16_t type, const uint8_t *rd, size_t rdlen)
{
	const struct rw_type_desc *d = rw_type_desc_fast(type);
	bool has_cname = false;
	if (d != NULL && d->has_names)
		for (size_t f = 0; f < RW_RDF_MAX && d->fields[f] != RW_RDF_END; f++)
			has_cname |= d->fields[f] == RW_RDF_CNAME;
	if (!has_cname) {
		if (b->limit - b->len < rdlen)
			return RW_ETRUNC;
		memcpy(b->buf + b->len, rd, rdlen);
		b->len += rdlen;
		return 0;
	}
	/* Only NS, CNAME, SOA, PTR, MX reach here: fixed fields and names. */
	size_t pos = 0;
	for (size_t f = 0; f < RW_RDF_MAX && d->fields[f] != RW_RDF_END; f++) {
		size_t n;
		switch (d->fields[f]) {
		case RW_RDF_CNAME:
			if (pos >= rdlen || write_name(b, rd + pos, true) != 0)
				return RW_ETRUNC;
			pos += rw_name_len(rd + pos);
			continue;
		case RW_RDF_U16: n = 2; break;
		default: n = 4; break; /* U32, TTL */
		}
		if (rdlen - pos < n || b->limit - b->len < n)
			return RW_ETRUNC;
		memcpy(b->buf + b->len, rd + pos, n);
		b->len += n;
		pos += n;
	}
	return 0;
}

int rw_builder_rr(struct rw_builder *b, enum rw_section sec, const uint8_t *owner, uint16_t type,
                  uint16_t rclass, uint32_t ttl, const uint8_t *rdata, size_t rdlen)
{
	struct rw_builder_mark m;
	rw_builder_mark(b, &m);
	if (write_name(b, owner, true) != 0 || b->limit - b->len < 10)
		goto trunc;
	uint8_t *hdr = b->buf + b->len;
	rw_put16(hdr, type);
	rw_put16(hdr + 2, rclass);
	rw_put32(hdr + 4, ttl);
	b->len += 10;
	size_t rd_start = b->len;
	if (write_rdata(b, type, rdata, rdlen) != 0 || b->len - rd_start > 65535)
		goto trunc;
	rw_put16(hdr + 8, (uint16_t)(b->len - rd_start));
	b->count[sec + 1]++;
	return 0;
trunc:
	rw_builder_rollback(b, &m);
	return RW_ETRUNC;
}

int rw_builder_opt(struct rw_builder *b, uint16_t udp_size, uint16_t rcode, bool do_bit,
                   const uint8_t *opts, size_t opts_len)
{
	b->limit = b->cap;
	if (b->limit - b->len < 11 + opts_len)
		return RW_ETRUNC;
	uint8_t *p = b->buf + b->len;
	p[0] = 0; /* root owner */
	rw_put16(p + 1, RW_TYPE_OPT);
	rw_put16(p + 3, udp_size);
	uint32_t ttl = (uint32_t)(rcode >> 4) << 24 | (do_bit ? 0x8000u : 0);
	rw_put32(p + 5, ttl);
	rw_put16(p + 9, (uint16_t)opts_len);
	if (opts_len > 0)
		memcpy(p + 11, opts, opts_len);
	b->len += 11 + opts_len;
	b->count[3]++;
	uint16_t flags = rw_builder_flags(b);
	rw_builder_set_flags(b, (uint16_t)((flags & ~0xF) | (rcode & 0xF)));
	return 0;
}

size_t rw_builder_finish(struct rw_builder *b)
{
	for (int i = 0; i < 4; i++)
		rw_put16(b->buf + 4 + 2 * i, b->count[i]);
	return b->len;
}
