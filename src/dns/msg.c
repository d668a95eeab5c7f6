/* Message parsing and building; see include/dns/rootwalk/msg.h. Does not decide
 * what goes into a reply (query.c does) and never touches sockets. */
#include "rootwalk/msg.h"
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

/* Reads one record's rdata into the arena, canonical (names uncompressed),
 * exactly as long as it is. Types without names are copied as they are;
 * a type with names is decoded on the stack first (its canonical form is
 * at most two names and a few fixed fields). Sets rr->rdata (NULL: out of
 * memory) and rr->rdlen. */
static int rdata_read(struct rw_rbuf *r, struct rw_arena *arena, struct rw_rr *rr, uint16_t rdlen)
{
	rr->rdata = (const uint8_t *)"";
	uint8_t buf[2 * RW_NAME_MAX + 64];
	struct rw_wbuf w;
	if (!rw_rdata_has_names(rr->type)) {
		/* Checked field by field all the same; the length is kept. */
		uint8_t *rd = rdlen > 0 ? rw_arena_alloc(arena, rdlen) : buf;
		if (rd == NULL) {
			rr->rdata = NULL;
			return RW_ENOMEM;
		}
		rw_wbuf_init(&w, rd, rdlen);
		int e = rw_rdata_read(r, rr->type, rdlen, &w);
		if (e != 0 || w.len != rdlen)
			return e == RW_ELIMIT ? e : RW_EMALFORMED;
		rr->rdata = rdlen > 0 ? rd : (const uint8_t *)"";
		rr->rdlen = rdlen;
		return 0;
	}
	rw_wbuf_init(&w, buf, sizeof buf);
	int e = rw_rdata_read(r, rr->type, rdlen, &w);
	if (e != 0)
		return e == RW_ELIMIT ? e : RW_EMALFORMED;
	if (w.len > 0 && (rr->rdata = rw_arena_dup(arena, buf, w.len)) == NULL)
		return RW_ENOMEM;
	rr->rdlen = (uint16_t)w.len;
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
	struct rw_rbuf r;
	rw_rbuf_init(&r, pkt, len);
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
	const uint8_t *last_owner = NULL;
	size_t last_owner_len = 0;
	uint16_t last_ptr = 0; /* the last owner, when it was one pointer alone */
	for (int s = 0; s < 3; s++) {
		uint16_t n = counts[s + 1];
		struct rw_rr *rrs = NULL; /* allocated at the first record kept */
		/* Bound: n <= 65535 and each record consumes >= 11 bytes. */
		for (uint16_t i = 0; i < n; i++) {
			uint8_t owner[RW_NAME_MAX];
			size_t owner_len;
			uint16_t rdlen;
			struct rw_rr rr;
			/* The same pointer as the last owner's: the same name,
			 * already decoded (a set's records, the common case). */
			size_t at = r.pos;
			bool same = last_ptr != 0 && rw_rbuf_left(&r) >= 2 &&
			            rw_get16(r.base + at) == last_ptr && r.ptrs_left > 0;
			if (same) {
				r.pos += 2;
				r.ptrs_left--;
				owner_len = last_owner_len;
			} else {
				int e = rw_name_read(&r, owner, &owner_len);
				if (e != 0)
					return e == RW_ELIMIT ? e : RW_EMALFORMED;
				last_ptr = r.pos == at + 2 && (r.base[at] & 0xC0) == 0xC0
				               ? rw_get16(r.base + at)
				               : 0;
			}
			if (rw_rbuf_left(&r) < 10)
				return RW_EMALFORMED;
			/* type, class, TTL, RDLENGTH: read at once */
			const uint8_t *fx = r.base + r.pos;
			rr.type = rw_get16(fx);
			rr.rclass = rw_get16(fx + 2);
			rr.ttl = rw_get32(fx + 4);
			rdlen = rw_get16(fx + 8);
			r.pos += 10;
			if (rw_rbuf_left(&r) < rdlen)
				return RW_EMALFORMED;
			if (rr.type == RW_TYPE_OPT) {
				/* Options are opaque: copied as they are, and not at
				 * all when there are none (the common query). */
				rr.owner = owner;
				rr.rdlen = rdlen;
				rr.rdata = rdlen == 0 ? (const uint8_t *)""
				                      : rw_arena_dup(arena, r.base + r.pos, rdlen);
				if (rr.rdata == NULL)
					return RW_ENOMEM;
				r.pos += rdlen;
				if (s != RW_SEC_AR || parse_edns(&rr, &m->edns) != 0)
					return RW_EMALFORMED;
				continue;
			}
			/* RFC 2181 §8: a TTL with the top bit set is zero. */
			if (rr.ttl & 0x80000000u)
				rr.ttl = 0;
			if (rrs == NULL &&
			    (rrs = rw_arena_alloc(arena, (size_t)n * sizeof *rrs)) == NULL)
				return RW_ENOMEM;
			m->rr[s] = rrs;
			/* Records of one owner in a row share its copy (the
			 * common case: a set, compressed to one name). */
			if (same) {
				rr.owner = last_owner;
			} else if (last_owner != NULL && last_owner_len == owner_len &&
			           memcmp(last_owner, owner, owner_len) == 0) {
				rr.owner = last_owner;
			} else {
				uint8_t *on = rw_arena_dup(arena, owner, owner_len);
				if (on == NULL)
					return RW_ENOMEM;
				rr.owner = last_owner = on;
				last_owner_len = owner_len;
			}
			int re = rdata_read(&r, arena, &rr, rdlen);
			if (re != 0)
				return rr.rdata == NULL ? RW_ENOMEM : re;
			rrs[m->nrr[s]++] = rr;
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
	const struct rw_type_desc *d = rw_type_desc(type);
	bool has_cname = false;
	if (d != NULL)
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
