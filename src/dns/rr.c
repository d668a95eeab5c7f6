/* The RR type table and table-driven rdata codec: wire validation with
 * decompression, presentation parse and print. See include/dns/rootwalk/rr.h.
 * It does not compress (msg.c does, from the same table). */
#include "rootwalk/rr.h"
#include "rr_int.h"
#include "rootwalk/err.h"
#include "rootwalk/name.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define F(...)                                                                                     \
	{                                                                                          \
		__VA_ARGS__, RW_RDF_END                                                            \
	}

static struct rw_type_desc type_table[] = {
    /* derived fields: build_type_index */
    {RW_TYPE_A, "A", F(RW_RDF_IPV4)},
    {RW_TYPE_NS, "NS", F(RW_RDF_CNAME)},
    {RW_TYPE_CNAME, "CNAME", F(RW_RDF_CNAME)},
    {RW_TYPE_SOA, "SOA",
     F(RW_RDF_CNAME, RW_RDF_CNAME, RW_RDF_U32, RW_RDF_TTL, RW_RDF_TTL, RW_RDF_TTL, RW_RDF_TTL)},
    {RW_TYPE_PTR, "PTR", F(RW_RDF_CNAME)},
    {RW_TYPE_HINFO, "HINFO", F(RW_RDF_STR, RW_RDF_STR)},
    {RW_TYPE_MX, "MX", F(RW_RDF_U16, RW_RDF_CNAME)},
    {RW_TYPE_TXT, "TXT", F(RW_RDF_STRS)},
    {RW_TYPE_AAAA, "AAAA", F(RW_RDF_IPV6)},
    {RW_TYPE_SRV, "SRV", F(RW_RDF_U16, RW_RDF_U16, RW_RDF_U16, RW_RDF_NAME)},
    {RW_TYPE_DNAME, "DNAME", F(RW_RDF_NAME)},
    {RW_TYPE_CAA, "CAA", F(RW_RDF_U8, RW_RDF_TAG, RW_RDF_REST)},
/* Carried as opaque data on the wire (RFC 3597), with their
 * presentation forms for zone files and dumps (rrtext.c). */
#define T(...) {RW_RDF_END}, F(__VA_ARGS__)
    {29, "LOC", T(RW_RDF_LOC)},
    {35, "NAPTR", T(RW_RDF_U16, RW_RDF_U16, RW_RDF_STR, RW_RDF_STR, RW_RDF_STR, RW_RDF_NAME)},
    {37, "CERT", T(RW_RDF_CERTT, RW_RDF_U16, RW_RDF_U8, RW_RDF_B64)},
    {RW_TYPE_OPT, "OPT", {RW_RDF_END}},
    {RW_TYPE_DS, "DS", T(RW_RDF_U16, RW_RDF_U8, RW_RDF_U8, RW_RDF_HEX)},
    {44, "SSHFP", T(RW_RDF_U8, RW_RDF_U8, RW_RDF_HEX)},
    {RW_TYPE_RRSIG, "RRSIG",
     T(RW_RDF_TYPE, RW_RDF_U8, RW_RDF_U8, RW_RDF_U32, RW_RDF_TIME, RW_RDF_TIME, RW_RDF_U16,
       RW_RDF_NAME, RW_RDF_B64)},
    {RW_TYPE_NSEC, "NSEC", T(RW_RDF_NAME, RW_RDF_BITMAP)},
    {RW_TYPE_DNSKEY, "DNSKEY", T(RW_RDF_U16, RW_RDF_U8, RW_RDF_U8, RW_RDF_B64)},
    {RW_TYPE_NSEC3, "NSEC3",
     T(RW_RDF_U8, RW_RDF_U8, RW_RDF_U16, RW_RDF_HEX8, RW_RDF_B32X8, RW_RDF_BITMAP)},
    {51, "NSEC3PARAM", T(RW_RDF_U8, RW_RDF_U8, RW_RDF_U16, RW_RDF_HEX8)},
    {52, "TLSA", T(RW_RDF_U8, RW_RDF_U8, RW_RDF_U8, RW_RDF_HEX)},
    {53, "SMIMEA", T(RW_RDF_U8, RW_RDF_U8, RW_RDF_U8, RW_RDF_HEX)},
    {59, "CDS", T(RW_RDF_U16, RW_RDF_U8, RW_RDF_U8, RW_RDF_HEX)},
    {60, "CDNSKEY", T(RW_RDF_U16, RW_RDF_U8, RW_RDF_U8, RW_RDF_B64)},
    {61, "OPENPGPKEY", T(RW_RDF_B64)},
    {64, "SVCB", T(RW_RDF_U16, RW_RDF_NAME, RW_RDF_SVCP)},
    {65, "HTTPS", T(RW_RDF_U16, RW_RDF_NAME, RW_RDF_SVCP)},
    {RW_TYPE_URI, "URI", T(RW_RDF_U16, RW_RDF_U16, RW_RDF_REST)},
#undef T
    {RW_TYPE_IXFR, "IXFR", {RW_RDF_END}},
    {RW_TYPE_AXFR, "AXFR", {RW_RDF_END}},
    {RW_TYPE_MAILB, "MAILB", {RW_RDF_END}},
    {RW_TYPE_MAILA, "MAILA", {RW_RDF_END}},
    {RW_TYPE_ANY, "ANY", {RW_RDF_END}},
};

#define NTYPES (sizeof type_table / sizeof type_table[0])

/* Every record of a parsed message asks for its type: types below 256
 * through an index, the few above (CAA) among a short list, both built
 * once when the library loads. */
#define HIGH_MAX 4
static uint8_t type_index[256]; /* table position + 1; 0: unknown */
static const struct rw_type_desc *type_high[HIGH_MAX];
static size_t ntype_high;
static uint16_t type_high_max; /* the highest type described */

const struct rw_type_desc *rw__types_low[256];

/* How rw_msg_parse reads rdata of this type (enum rw_rdata_shape); for
 * RW_SHAPE_NAMED also d->pre, d->nnames, d->post. */
static uint8_t shape_of(struct rw_type_desc *d)
{
	static const uint8_t size[] = {[RW_RDF_U8] = 1,  [RW_RDF_U16] = 2,  [RW_RDF_U32] = 4,
	                               [RW_RDF_TTL] = 4, [RW_RDF_IPV4] = 4, [RW_RDF_IPV6] = 16};
	if (d->fields[0] == RW_RDF_END)
		return RW_SHAPE_OPAQUE;
	if (d->fixed_len != 0)
		return RW_SHAPE_FIXED;
	if (d->fields[0] == RW_RDF_STRS && d->fields[1] == RW_RDF_END)
		return RW_SHAPE_STRS;
	if (!d->has_names)
		return RW_SHAPE_CHECKED;
	/* fixed*, name{1,2}, fixed* */
	size_t f = 0;
	unsigned pre = 0, post = 0, names = 0;
	for (; f < RW_RDF_MAX && d->fields[f] < sizeof size && size[d->fields[f]] != 0; f++)
		pre += size[d->fields[f]];
	for (; f < RW_RDF_MAX && (d->fields[f] == RW_RDF_CNAME || d->fields[f] == RW_RDF_NAME); f++)
		names++;
	for (; f < RW_RDF_MAX && d->fields[f] < sizeof size && size[d->fields[f]] != 0; f++)
		post += size[d->fields[f]];
	if ((f < RW_RDF_MAX && d->fields[f] != RW_RDF_END) || names == 0 || names > 2)
		return RW_SHAPE_OTHER;
	if (names == 1 && pre == 0 && post == 0)
		return RW_SHAPE_NAME;
	d->pre = (uint8_t)pre;
	d->nnames = (uint8_t)names;
	d->post = (uint8_t)post;
	return RW_SHAPE_NAMED;
}

__attribute__((constructor)) static void build_type_index(void)
{
	_Static_assert(NTYPES < 255, "type_index holds table positions in a byte");
	for (size_t i = 0; i < NTYPES; i++) {
		struct rw_type_desc *d = &type_table[i];
		static const uint8_t size[] = {
		    [RW_RDF_U8] = 1,  [RW_RDF_U16] = 2,  [RW_RDF_U32] = 4,
		    [RW_RDF_TTL] = 4, [RW_RDF_IPV4] = 4, [RW_RDF_IPV6] = 16};
		unsigned fixed = 0;
		bool all_fixed = d->fields[0] != RW_RDF_END;
		for (size_t f = 0; f < RW_RDF_MAX && d->fields[f] != RW_RDF_END; f++) {
			uint8_t k = d->fields[f];
			d->has_names |= k == RW_RDF_CNAME || k == RW_RDF_NAME;
			if (k < sizeof size && size[k] != 0)
				fixed += size[k];
			else
				all_fixed = false;
		}
		d->fixed_len = all_fixed ? (uint16_t)fixed : 0;
		d->shape = shape_of(d);
		if (type_table[i].type < 256) {
			type_index[type_table[i].type] = (uint8_t)(i + 1);
			rw__types_low[type_table[i].type] = d;
		} else if (ntype_high < HIGH_MAX)
			type_high[ntype_high++] = &type_table[i];
		else
			abort(); /* raise HIGH_MAX */
		if (type_table[i].type > type_high_max)
			type_high_max = type_table[i].type;
	}
}

const struct rw_type_desc *rw_type_desc(uint16_t type)
{
	if (type < 256)
		return type_index[type] != 0 ? &type_table[type_index[type] - 1] : NULL;
	if (type > type_high_max)
		return NULL;
	for (size_t i = 0; i < ntype_high; i++)
		if (type_high[i]->type == type)
			return type_high[i];
	return NULL;
}

bool rw_type_known(uint16_t type)
{
	const struct rw_type_desc *d = rw_type_desc(type);
	return d != NULL && d->fields[0] != RW_RDF_END;
}

const char *rw_type_to_text(uint16_t type, char *buf, size_t cap)
{
	const struct rw_type_desc *d = rw_type_desc(type);
	if (d != NULL)
		snprintf(buf, cap, "%s", d->name);
	else
		snprintf(buf, cap, "TYPE%u", type);
	return buf;
}

int rw__parse_uint(const char *p, size_t len, unsigned long max, unsigned long *out)
{
	if (len == 0 || len > 10)
		return RW_EMALFORMED;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < '0' || p[i] > '9')
			return RW_EMALFORMED;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v > max)
		return RW_EMALFORMED;
	*out = v;
	return 0;
}

int rw_type_from_text(const char *text, size_t len, uint16_t *out)
{
	for (size_t i = 0; i < NTYPES; i++) {
		if (strlen(type_table[i].name) == len &&
		    strncasecmp(type_table[i].name, text, len) == 0) {
			*out = type_table[i].type;
			return 0;
		}
	}
	unsigned long v;
	if (len > 4 && strncasecmp(text, "TYPE", 4) == 0 &&
	    rw__parse_uint(text + 4, len - 4, 65535, &v) == 0) {
		*out = (uint16_t)v;
		return 0;
	}
	return RW_EMALFORMED;
}

static const struct {
	uint16_t rclass;
	const char *name;
} class_table[] = {{RW_CLASS_IN, "IN"},
                   {RW_CLASS_CH, "CH"},
                   {RW_CLASS_HS, "HS"},
                   {RW_CLASS_NONE, "NONE"},
                   {RW_CLASS_ANY, "ANY"}};

int rw_class_from_text(const char *text, size_t len, uint16_t *out)
{
	for (size_t i = 0; i < sizeof class_table / sizeof class_table[0]; i++) {
		if (strlen(class_table[i].name) == len &&
		    strncasecmp(class_table[i].name, text, len) == 0) {
			*out = class_table[i].rclass;
			return 0;
		}
	}
	unsigned long v;
	if (len > 5 && strncasecmp(text, "CLASS", 5) == 0 &&
	    rw__parse_uint(text + 5, len - 5, 65535, &v) == 0) {
		*out = (uint16_t)v;
		return 0;
	}
	return RW_EMALFORMED;
}

const char *rw_class_to_text(uint16_t rclass, char *buf, size_t cap)
{
	for (size_t i = 0; i < sizeof class_table / sizeof class_table[0]; i++) {
		if (class_table[i].rclass == rclass) {
			snprintf(buf, cap, "%s", class_table[i].name);
			return buf;
		}
	}
	snprintf(buf, cap, "CLASS%u", rclass);
	return buf;
}

int rw_ttl_from_text(const char *text, size_t len, uint32_t *out)
{
	if (len == 0)
		return RW_EMALFORMED;
	unsigned long long total = 0, cur = 0;
	bool digits = false, units = false;
	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (c >= '0' && c <= '9') {
			cur = cur * 10 + (unsigned)(c - '0');
			if (cur > 0xFFFFFFFFull)
				return RW_EMALFORMED;
			digits = true;
			continue;
		}
		unsigned long long mult;
		switch (c | 0x20) {
		case 's': mult = 1; break;
		case 'm': mult = 60; break;
		case 'h': mult = 3600; break;
		case 'd': mult = 86400; break;
		case 'w': mult = 604800; break;
		default: return RW_EMALFORMED;
		}
		if (!digits)
			return RW_EMALFORMED;
		total += cur * mult;
		if (total > 0x7FFFFFFFull)
			return RW_EMALFORMED;
		cur = 0;
		digits = false;
		units = true;
	}
	if (digits) {
		if (units)
			return RW_EMALFORMED; /* "1h30" is ambiguous; BIND rejects too */
		total = cur;
	}
	if (total > 0x7FFFFFFFull)
		return RW_EMALFORMED;
	*out = (uint32_t)total;
	return 0;
}

bool rw_rdata_has_names(uint16_t type)
{
	const struct rw_type_desc *d = rw_type_desc(type);
	return d != NULL && d->has_names;
}

/* --- wire ---------------------------------------------------------------- */

/* Writes to out, or only checks when out is NULL (rw_rdata_read). */
static inline int put(struct rw_wbuf *out, const void *p, size_t n)
{
	return out != NULL ? rw_wbuf_bytes(out, p, n) : 0;
}

int rw_rdata_read(struct rw_rbuf *r, uint16_t type, uint16_t rdlen, struct rw_wbuf *out)
{
	if (rw_rbuf_left(r) < rdlen)
		return RW_EMALFORMED;
	size_t start = r->pos, end = r->pos + rdlen;
	size_t out_start = out != NULL ? out->len : 0;
	const struct rw_type_desc *d = rw_type_desc(type);
	if (d == NULL || d->fields[0] == RW_RDF_END) {
		int e = put(out, r->base + start, rdlen);
		if (e == 0)
			r->pos = end;
		return e;
	}
	/* Names inside rdata are read against the whole message (they may
	 * point back into it) but must start and end within the rdata. */
	struct rw_rbuf in = {r->base, end, start, r->ptrs_left, r->memo};
	int e = 0;
	for (size_t f = 0; f < RW_RDF_MAX && d->fields[f] != RW_RDF_END && e == 0; f++) {
		uint8_t name[RW_NAME_MAX];
		size_t nl, n;
		switch (d->fields[f]) {
		case RW_RDF_U8: n = 1; goto fixed;
		case RW_RDF_U16: n = 2; goto fixed;
		case RW_RDF_U32:
		case RW_RDF_TTL:
		case RW_RDF_IPV4: n = 4; goto fixed;
		case RW_RDF_IPV6:
			n = 16;
		fixed:
			if (rw_rbuf_left(&in) < n)
				e = RW_EMALFORMED;
			else
				e = put(out, in.base + in.pos, n), in.pos += n;
			break;
		case RW_RDF_CNAME:
		case RW_RDF_NAME:
			e = rw_name_read(&in, name, &nl);
			if (e == 0)
				e = put(out, name, nl);
			break;
		case RW_RDF_STR:
		case RW_RDF_TAG:
			if (rw_rbuf_left(&in) < 1 || rw_rbuf_left(&in) < 1u + in.base[in.pos])
				e = RW_EMALFORMED;
			else if (d->fields[f] == RW_RDF_TAG && in.base[in.pos] == 0)
				e = RW_EMALFORMED; /* RFC 8659 §4.1: tag length >= 1 */
			else {
				n = 1u + in.base[in.pos];
				e = put(out, in.base + in.pos, n);
				in.pos += n;
			}
			break;
		case RW_RDF_STRS:
			if (rw_rbuf_left(&in) == 0)
				e = RW_EMALFORMED;
			while (e == 0 && rw_rbuf_left(&in) > 0) {
				n = 1u + in.base[in.pos];
				if (rw_rbuf_left(&in) < n) {
					e = RW_EMALFORMED;
					break;
				}
				e = put(out, in.base + in.pos, n);
				in.pos += n;
			}
			break;
		case RW_RDF_REST:
			n = rw_rbuf_left(&in);
			e = put(out, in.base + in.pos, n);
			in.pos += n;
			break;
		default: e = RW_EMALFORMED;
		}
	}
	if (e == 0 && in.pos != end)
		e = RW_EMALFORMED; /* RDLENGTH disagrees with the fields */
	if (e != 0) {
		if (out != NULL)
			out->len = out_start;
		return e;
	}
	r->pos = end;
	r->ptrs_left = in.ptrs_left;
	return 0;
}

/* --- presentation parse --------------------------------------------------- */

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes a token's escapes into raw bytes (at most max). */
static int unescape(const struct rw_tok *t, uint8_t *dst, size_t max, size_t *out_len)
{
	size_t n = 0;
	/* Bound: each call consumes at least one byte of the token. */
	for (size_t i = 0; i < t->len;) {
		int c = rw_text_char(t->p, t->len, &i);
		if (c < 0 || n >= max)
			return RW_EMALFORMED;
		dst[n++] = (uint8_t)c;
	}
	*out_len = n;
	return 0;
}

int rw_charstr_from_text(const struct rw_tok *t, struct rw_wbuf *out)
{
	uint8_t buf[255];
	size_t n;
	if (unescape(t, buf, sizeof buf, &n) != 0)
		return RW_EMALFORMED;
	if (rw_wbuf_u8(out, (uint8_t)n) != 0 || rw_wbuf_bytes(out, buf, n) != 0)
		return RW_EMALFORMED;
	return 0;
}

static int generic_from_text(const struct rw_tok *toks, size_t ntoks, struct rw_wbuf *out,
                             const char **why)
{
	unsigned long len;
	if (ntoks < 2 || rw__parse_uint(toks[1].p, toks[1].len, 65535, &len) != 0) {
		*why = "\\# needs a length (0-65535)";
		return RW_EMALFORMED;
	}
	size_t start = out->len;
	int hi = -1;
	for (size_t t = 2; t < ntoks; t++) {
		for (size_t i = 0; i < toks[t].len; i++) {
			int v = hexval((unsigned char)toks[t].p[i]);
			if (v < 0 || toks[t].quoted) {
				*why = "bad hex digit in \\# rdata";
				return RW_EMALFORMED;
			}
			if (hi < 0) {
				hi = v;
				continue;
			}
			if (rw_wbuf_u8(out, (uint8_t)(hi << 4 | v)) != 0) {
				*why = "rdata too long";
				return RW_EMALFORMED;
			}
			hi = -1;
		}
	}
	if (hi >= 0 || out->len - start != len) {
		*why = "\\# length does not match the hex data";
		return RW_EMALFORMED;
	}
	return 0;
}

/* One field of a structured type from toks[*tp...] (advancing *tp). */
static int field_from_text(enum rw_rdf kind, const struct rw_tok *toks, size_t ntoks, size_t *tp,
                           const uint8_t *origin, struct rw_wbuf *out, const char **why)
{
	size_t t = *tp;
	const struct rw_tok *k = &toks[t];
	unsigned long v;
	uint32_t ttl;
	uint8_t name[RW_NAME_MAX], ip[16];
	char tmp[64];
	size_t nl;
	int e = 0;
	if (k->quoted && kind != RW_RDF_STR && kind != RW_RDF_STRS && kind != RW_RDF_REST) {
		*why = "quoted string where a plain field is expected";
		return RW_EMALFORMED;
	}
	switch (kind) {
	case RW_RDF_U8:
	case RW_RDF_U16:
	case RW_RDF_U32: {
		unsigned long max = kind == RW_RDF_U8    ? 255
		                    : kind == RW_RDF_U16 ? 65535
		                                         : 0xFFFFFFFFul;
		if (rw__parse_uint(k->p, k->len, max, &v) != 0) {
			*why = kind == RW_RDF_U8    ? "expected a number 0-255"
			       : kind == RW_RDF_U16 ? "expected a number 0-65535"
			                            : "expected a 32-bit number";
			return RW_EMALFORMED;
		}
		e = kind == RW_RDF_U8    ? rw_wbuf_u8(out, (uint8_t)v)
		    : kind == RW_RDF_U16 ? rw_wbuf_u16(out, (uint16_t)v)
		                         : rw_wbuf_u32(out, (uint32_t)v);
		t++;
		break;
	}
	case RW_RDF_TTL:
		if (rw_ttl_from_text(k->p, k->len, &ttl) != 0) {
			*why = "expected a time value (e.g. 3600 or 1h)";
			return RW_EMALFORMED;
		}
		e = rw_wbuf_u32(out, ttl);
		t++;
		break;
	case RW_RDF_IPV4:
	case RW_RDF_IPV6:
		if (k->len >= sizeof tmp) {
			*why = "bad address";
			return RW_EMALFORMED;
		}
		memcpy(tmp, k->p, k->len);
		tmp[k->len] = 0;
		if (inet_pton(kind == RW_RDF_IPV4 ? AF_INET : AF_INET6, tmp, ip) != 1) {
			*why = kind == RW_RDF_IPV4 ? "bad IPv4 address" : "bad IPv6 address";
			return RW_EMALFORMED;
		}
		e = rw_wbuf_bytes(out, ip, kind == RW_RDF_IPV4 ? 4 : 16);
		t++;
		break;
	case RW_RDF_CNAME:
	case RW_RDF_NAME:
		if (rw_name_from_text(k->p, k->len, origin, name, &nl) != 0) {
			*why = "bad domain name";
			return RW_EMALFORMED;
		}
		e = rw_wbuf_bytes(out, name, nl);
		t++;
		break;
	case RW_RDF_STR:
	case RW_RDF_TAG:
		if (rw_charstr_from_text(k, out) != 0) {
			*why = "bad or over-long (255) character string";
			return RW_EMALFORMED;
		}
		if (kind == RW_RDF_TAG && k->len == 0) {
			*why = "empty CAA tag";
			return RW_EMALFORMED;
		}
		t++;
		break;
	case RW_RDF_STRS:
		for (; t < ntoks; t++) {
			if (rw_charstr_from_text(&toks[t], out) != 0) {
				*why = "bad or over-long (255) character string";
				return RW_EMALFORMED;
			}
		}
		break;
	case RW_RDF_REST: {
		uint8_t buf[1024];
		if (unescape(k, buf, sizeof buf, &nl) != 0) {
			*why = "bad string";
			return RW_EMALFORMED;
		}
		e = rw_wbuf_bytes(out, buf, nl);
		t++;
		break;
	}
	default: return RW_EMALFORMED;
	}
	if (e != 0) {
		*why = "rdata too long";
		return RW_EMALFORMED;
	}
	*tp = t;
	return 0;
}

int rw_rdata_from_text(uint16_t type, const struct rw_tok *toks, size_t ntoks,
                       const uint8_t *origin, struct rw_wbuf *out, const char **why)
{
	*why = "bad rdata";
	if (ntoks > 0 && !toks[0].quoted && toks[0].len == 2 && memcmp(toks[0].p, "\\#", 2) == 0)
		return generic_from_text(toks, ntoks, out, why);
	const struct rw_type_desc *d = rw_type_desc(type);
	/* A structured type's fields, or an opaque one's presentation form. */
	const uint8_t *kinds = d == NULL ? NULL : d->fields[0] != RW_RDF_END ? d->fields : d->text;
	if (kinds == NULL || kinds[0] == RW_RDF_END) {
		*why = "this type needs the generic \\# rdata form (RFC 3597)";
		return RW_EMALFORMED;
	}
	size_t t = 0;
	for (size_t f = 0; f < RW_RDF_MAX && kinds[f] != RW_RDF_END; f++) {
		enum rw_rdf kind = (enum rw_rdf)kinds[f];
		if (t >= ntoks && kind != RW_RDF_SVCP && kind != RW_RDF_BITMAP) {
			*why = "too few rdata fields";
			return RW_EMALFORMED;
		}
		if (kind >= RW_RDF_B64) {
			if (rw__rdf_parse(kind, toks, ntoks, &t, out, why) != 0)
				return RW_EMALFORMED;
			continue;
		}
		if (field_from_text(kind, toks, ntoks, &t, origin, out, why) != 0)
			return RW_EMALFORMED;
	}
	if (t != ntoks) {
		*why = "too many rdata fields";
		return RW_EMALFORMED;
	}
	return 0;
}

/* --- presentation print --------------------------------------------------- */

static void put_generic(struct rw__tbuf *b, const uint8_t *rd, size_t len)
{
	rw__tput(b, "\\# %zu", len);
	if (len > 0)
		rw__tput(b, " ");
	for (size_t i = 0; i < len; i++)
		rw__tput(b, "%02x", rd[i]);
}

int rw_rdata_to_text(uint16_t type, const uint8_t *rd, size_t len, char *buf, size_t cap)
{
	struct rw__tbuf b = {buf, cap, 0, false};
	if (cap == 0)
		return RW_ETRUNC;
	buf[0] = 0;
	const struct rw_type_desc *d = rw_type_desc(type);
	/* Validate first so a bad rdata prints generically, not half-way. */
	uint8_t scratch[65535 + 16];
	bool ok = d != NULL && d->fields[0] != RW_RDF_END;
	if (!ok && d != NULL && d->text[0] != RW_RDF_END) {
		/* An opaque type with a presentation form: printed through it
		 * when the bytes have its shape. */
		if (rw__text_print(d->text, rd, len, &b) == 0)
			return b.full ? RW_ETRUNC : (int)b.n;
		b = (struct rw__tbuf){buf, cap, 0, false};
	}
	if (ok) {
		struct rw_rbuf r = {rd, len, 0, RW_MSG_PTRS(len)};
		struct rw_wbuf w = {scratch, sizeof scratch, 0};
		ok =
		    rw_rdata_read(&r, type, (uint16_t)len, &w) == 0 && w.len == len && len <= 65535;
	}
	if (!ok) {
		put_generic(&b, rd, len);
		return b.full ? RW_ETRUNC : (int)b.n;
	}
	size_t pos = 0;
	for (size_t f = 0; f < RW_RDF_MAX && d->fields[f] != RW_RDF_END; f++) {
		char text[RW_NAME_TEXT_MAX];
		if (f > 0)
			rw__tput(&b, " ");
		switch (d->fields[f]) {
		case RW_RDF_U8:
			rw__tput(&b, "%u", rd[pos]);
			pos += 1;
			break;
		case RW_RDF_U16:
			rw__tput(&b, "%u", rw_get16(rd + pos));
			pos += 2;
			break;
		case RW_RDF_U32:
		case RW_RDF_TTL:
			rw__tput(&b, "%u", rw_get32(rd + pos));
			pos += 4;
			break;
		case RW_RDF_IPV4:
		case RW_RDF_IPV6: {
			bool v4 = d->fields[f] == RW_RDF_IPV4;
			inet_ntop(v4 ? AF_INET : AF_INET6, rd + pos, text, sizeof text);
			rw__tput(&b, "%s", text);
			pos += v4 ? 4 : 16;
			break;
		}
		case RW_RDF_CNAME:
		case RW_RDF_NAME:
			rw_name_to_text(rd + pos, text, sizeof text);
			rw__tput(&b, "%s", text);
			pos += rw_name_len(rd + pos);
			break;
		case RW_RDF_STR:
			rw__put_str(&b, rd + pos + 1, rd[pos], true);
			pos += 1u + rd[pos];
			break;
		case RW_RDF_TAG:
			rw__put_str(&b, rd + pos + 1, rd[pos], false);
			pos += 1u + rd[pos];
			break;
		case RW_RDF_STRS:
			while (pos < len) {
				rw__put_str(&b, rd + pos + 1, rd[pos], true);
				pos += 1u + rd[pos];
				if (pos < len)
					rw__tput(&b, " ");
			}
			break;
		case RW_RDF_REST:
			rw__put_str(&b, rd + pos, len - pos, true);
			pos = len;
			break;
		}
	}
	return b.full ? RW_ETRUNC : (int)b.n;
}

int rw_rr_to_text(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                  const uint8_t *rdata, size_t rdlen, char *buf, size_t cap)
{
	char name[RW_NAME_TEXT_MAX], ts[16], cs[16];
	rw_name_to_text(owner, name, sizeof name);
	int n =
	    snprintf(buf, cap, "%s %u %s %s ", name, ttl, rw_class_to_text(rclass, cs, sizeof cs),
	             rw_type_to_text(type, ts, sizeof ts));
	if (n < 0 || (size_t)n >= cap)
		return RW_ETRUNC;
	int m = rw_rdata_to_text(type, rdata, rdlen, buf + n, cap - (size_t)n);
	if (m < 0)
		return m;
	return n + m;
}

uint32_t rw_soa_negative_ttl(uint32_t soa_ttl, const uint8_t *rdata, uint16_t rdlen)
{
	if (rdlen < 4)
		return 0;
	uint32_t minimum = rw_get32(rdata + rdlen - 4);
	return soa_ttl < minimum ? soa_ttl : minimum;
}
