/* Presentation forms of the types rootwalk carries as bytes (DNSSEC's
 * DS, DNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM, CDS, CDNSKEY; NAPTR, SSHFP,
 * TLSA, SMIMEA, CERT, OPENPGPKEY, SVCB, HTTPS, URI, LOC): base64, hex,
 * base32hex, type bitmaps, times, SVCB parameters and LOC's degrees, so
 * ordinary BIND/NSD zone files load and dumps read as dig prints them.
 * Each parser writes wire bytes and each printer checks every bound (the
 * bytes may come from anywhere). */
#include "rr_int.h"
#include "rootwalk/err.h"
#include "rootwalk/name.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void rw__tput(struct rw__tbuf *b, const char *fmt, ...)
{
	if (b->full)
		return;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= b->cap - b->n) {
		b->full = true;
		return;
	}
	b->n += (size_t)m;
}

void rw__put_str(struct rw__tbuf *b, const uint8_t *s, size_t len, bool quote)
{
	if (quote)
		rw__tput(b, "\"");
	for (size_t i = 0; i < len; i++) {
		unsigned c = s[i];
		if (c < 0x20 || c >= 0x7f)
			rw__tput(b, "\\%03u", c);
		else if (c == '"' || c == '\\' || (!quote && c == ' '))
			rw__tput(b, "\\%c", c);
		else
			rw__tput(b, "%c", c);
	}
	if (quote)
		rw__tput(b, "\"");
}

/* --- encodings ----------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b32x[] = "0123456789ABCDEFGHIJKLMNOPQRSTUV";

static int b64_val(int c)
{
	const char *p = c != 0 ? strchr(b64, c) : NULL;
	return p != NULL ? (int)(p - b64) : -1;
}

static int hex_val(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static int b32x_val(int c)
{
	if (c >= 'a' && c <= 'v')
		c -= 32;
	const char *p = c != 0 ? strchr(b32x, c) : NULL;
	return p != NULL ? (int)(p - b32x) : -1;
}

/* Decodes the tokens from *t to the end as one base64 text (whitespace
 * between tokens is allowed, RFC 4034 §2.2). */
static int b64_decode(const struct rw_tok *toks, size_t ntoks, size_t *t, struct rw_wbuf *out)
{
	uint32_t acc = 0;
	unsigned bits = 0, pad = 0;
	size_t chars = 0;
	for (; *t < ntoks; (*t)++) {
		const struct rw_tok *k = &toks[*t];
		if (k->quoted)
			return RW_EMALFORMED;
		for (size_t i = 0; i < k->len; i++) {
			int c = (unsigned char)k->p[i];
			chars++;
			if (c == '=') {
				pad++;
				continue;
			}
			int v = b64_val(c);
			if (v < 0 || pad > 0)
				return RW_EMALFORMED;
			acc = acc << 6 | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (rw_wbuf_u8(out, (uint8_t)(acc >> bits)) != 0)
					return RW_EMALFORMED;
			}
		}
	}
	return chars == 0 || chars % 4 != 0 || pad > 2 ? RW_EMALFORMED : 0;
}

static int hex_decode(const char *p, size_t len, struct rw_wbuf *out, int *hi)
{
	for (size_t i = 0; i < len; i++) {
		int v = hex_val((unsigned char)p[i]);
		if (v < 0)
			return RW_EMALFORMED;
		if (*hi < 0) {
			*hi = v;
		} else {
			if (rw_wbuf_u8(out, (uint8_t)(*hi << 4 | v)) != 0)
				return RW_EMALFORMED;
			*hi = -1;
		}
	}
	return 0;
}

static void put_b64(struct rw__tbuf *b, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)d[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)d[i + 1] << 8;
		if (i + 2 < n)
			v |= d[i + 2];
		rw__tput(b, "%c%c%c%c", b64[v >> 18 & 63], b64[v >> 12 & 63],
		         i + 1 < n ? b64[v >> 6 & 63] : '=', i + 2 < n ? b64[v & 63] : '=');
	}
}

static void put_hex(struct rw__tbuf *b, const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rw__tput(b, "%02X", d[i]);
}

/* --- type bitmaps (RFC 4034 §4.1.2) -------------------------------------- */

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static int bitmap_parse(const struct rw_tok *toks, size_t ntoks, size_t *t, struct rw_wbuf *out)
{
	uint16_t types[512] = {0};
	size_t n = 0;
	for (; *t < ntoks; (*t)++) {
		if (n == sizeof types / sizeof *types ||
		    rw_type_from_text(toks[*t].p, toks[*t].len, &types[n]) != 0)
			return RW_EMALFORMED;
		n++;
	}
	qsort(types, n, sizeof *types, cmp_u16);
	/* Bound: the types, one window (256 types) at a time. */
	for (size_t i = 0; i < n;) {
		uint8_t win = (uint8_t)(types[i] >> 8), bits[32] = {0}, len = 0;
		for (; i < n && types[i] >> 8 == win; i++) {
			uint8_t lo = (uint8_t)types[i];
			bits[lo / 8] |= (uint8_t)(0x80 >> (lo % 8));
			len = (uint8_t)(lo / 8 + 1);
		}
		if (rw_wbuf_u8(out, win) != 0 || rw_wbuf_u8(out, len) != 0 ||
		    rw_wbuf_bytes(out, bits, len) != 0)
			return RW_EMALFORMED;
	}
	return 0;
}

static int bitmap_print(const uint8_t *d, size_t n, struct rw__tbuf *b)
{
	bool first = true;
	int last_win = -1;
	for (size_t i = 0; i < n;) {
		if (n - i < 2 || d[i + 1] == 0 || d[i + 1] > 32 || n - i - 2 < d[i + 1] ||
		    (int)d[i] <= last_win)
			return RW_EMALFORMED;
		unsigned win = d[i], len = d[i + 1];
		for (unsigned k = 0; k < len * 8; k++) {
			if (!(d[i + 2 + k / 8] & (0x80 >> (k % 8))))
				continue;
			char ts[16];
			rw__tput(b, "%s%s", first ? "" : " ",
			         rw_type_to_text((uint16_t)(win << 8 | k), ts, sizeof ts));
			first = false;
		}
		last_win = (int)win;
		i += 2 + len;
	}
	return 0;
}

/* --- times (RFC 4034 §3.2) ------------------------------------------------ */

static int time_parse(const struct rw_tok *k, uint32_t *out)
{
	char s[16];
	if (k->len == 14) {
		memcpy(s, k->p, 14);
		s[14] = 0;
		struct tm tm = {0};
		for (int i = 0; i < 14; i++)
			if (s[i] < '0' || s[i] > '9')
				return RW_EMALFORMED;
		tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + s[3] -
		             '0' - 1900;
		tm.tm_mon = (s[4] - '0') * 10 + s[5] - '0' - 1;
		tm.tm_mday = (s[6] - '0') * 10 + s[7] - '0';
		tm.tm_hour = (s[8] - '0') * 10 + s[9] - '0';
		tm.tm_min = (s[10] - '0') * 10 + s[11] - '0';
		tm.tm_sec = (s[12] - '0') * 10 + s[13] - '0';
		if (tm.tm_mon < 0 || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
		    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
			return RW_EMALFORMED;
		long long v = (long long)timegm(&tm);
		if (v < 0)
			return RW_EMALFORMED;
		*out = (uint32_t)v; /* serial arithmetic: modulo 2^32 */
		return 0;
	}
	unsigned long v;
	if (rw__parse_uint(k->p, k->len, 0xFFFFFFFFul, &v) != 0)
		return RW_EMALFORMED;
	*out = (uint32_t)v;
	return 0;
}

static void time_print(uint32_t v, struct rw__tbuf *b)
{
	time_t t = (time_t)v;
	struct tm tm;
	gmtime_r(&t, &tm);
	rw__tput(b, "%04d%02d%02d%02d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	         tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* --- CERT types (RFC 4398 §2.1) ------------------------------------------- */

static const struct {
	uint16_t v;
	const char *name;
} cert_types[] = {{1, "PKIX"}, {2, "SPKI"},   {3, "PGP"},     {4, "IPKIX"}, {5, "ISPKI"},
                  {6, "IPGP"}, {7, "ACPKIX"}, {8, "IACPKIX"}, {253, "URI"}, {254, "OID"}};

/* --- SVCB/HTTPS parameters (RFC 9460 §2.1) --------------------------------- */

static const char *const svc_keys[] = {"mandatory", "alpn", "no-default-alpn", "port",
                                       "ipv4hint",  "ech",  "ipv6hint"};
#define NSVC_KEYS (sizeof svc_keys / sizeof svc_keys[0])

static int svc_key(const char *p, size_t len, uint16_t *key)
{
	for (size_t i = 0; i < NSVC_KEYS; i++)
		if (strlen(svc_keys[i]) == len && strncasecmp(svc_keys[i], p, len) == 0) {
			*key = (uint16_t)i;
			return 0;
		}
	unsigned long v;
	if (len < 4 || strncasecmp(p, "key", 3) != 0 ||
	    rw__parse_uint(p + 3, len - 3, 65534, &v) != 0)
		return RW_EMALFORMED;
	*key = (uint16_t)v;
	return 0;
}

/* One parameter's value (raw text, escapes decoded) into its wire form. */
static int svc_value(uint16_t key, const uint8_t *v, size_t vl, struct rw_wbuf *out)
{
	char item[256];
	size_t start = 0;
	switch (key) {
	case 0:   /* mandatory: key names */
	case 1:   /* alpn: length-prefixed ids */
	case 4:   /* ipv4hint */
	case 6: { /* ipv6hint */
		if (vl == 0)
			return RW_EMALFORMED;
		/* Bound: the value's bytes, one comma-separated item at a time. */
		for (size_t i = 0; i <= vl; i++) {
			if (i < vl && v[i] != ',')
				continue;
			size_t il = i - start;
			if (il == 0 || il >= sizeof item)
				return RW_EMALFORMED;
			memcpy(item, v + start, il);
			item[il] = 0;
			uint8_t ip[16];
			uint16_t k;
			int e = 0;
			if (key == 0)
				e = svc_key(item, il, &k) != 0 || rw_wbuf_u16(out, k) != 0;
			else if (key == 1)
				e = rw_wbuf_u8(out, (uint8_t)il) != 0 ||
				    rw_wbuf_bytes(out, item, il) != 0;
			else
				e = inet_pton(key == 4 ? AF_INET : AF_INET6, item, ip) != 1 ||
				    rw_wbuf_bytes(out, ip, key == 4 ? 4 : 16) != 0;
			if (e)
				return RW_EMALFORMED;
			start = i + 1;
		}
		return 0;
	}
	case 2: return vl == 0 ? 0 : RW_EMALFORMED; /* no-default-alpn: no value */
	case 3: {                                   /* port */
		unsigned long p;
		return rw__parse_uint((const char *)v, vl, 65535, &p) != 0 ||
		               rw_wbuf_u16(out, (uint16_t)p) != 0
		           ? RW_EMALFORMED
		           : 0;
	}
	case 5: { /* ech: base64 */
		struct rw_tok one = {(const char *)v, vl, false};
		size_t t = 0;
		return b64_decode(&one, 1, &t, out);
	}
	default: return rw_wbuf_bytes(out, v, vl); /* keyNNNNN: the bytes */
	}
}

struct svcp {
	uint16_t key;
	uint16_t len;
	uint8_t data[1024];
};

static int svcp_cmp(const void *a, const void *b)
{
	return (int)((const struct svcp *)a)->key - (int)((const struct svcp *)b)->key;
}

static int svcp_parse(const struct rw_tok *toks, size_t ntoks, size_t *t, struct rw_wbuf *out)
{
	enum { MAXP = 16 };
	struct svcp *p = calloc(MAXP, sizeof *p);
	size_t n = 0;
	int e = p == NULL ? RW_ENOMEM : 0;
	for (; e == 0 && *t < ntoks; (*t)++) {
		const struct rw_tok *k = &toks[*t];
		const char *eq = memchr(k->p, '=', k->len);
		size_t kl = eq != NULL ? (size_t)(eq - k->p) : k->len;
		if (n == MAXP || k->quoted || svc_key(k->p, kl, &p[n].key) != 0) {
			e = RW_EMALFORMED;
			break;
		}
		/* The value: after '=', or the next token when it is quoted
		 * ("alpn=" "h2,h3" is not a form; alpn="h2,h3" is one token). */
		uint8_t raw[1024];
		size_t rl = 0;
		if (eq != NULL) {
			struct rw_tok vt = {eq + 1, k->len - kl - 1, false};
			if (vt.len == 0 && *t + 1 < ntoks && toks[*t + 1].quoted)
				vt = toks[++(*t)];
			else if (vt.len >= 2 && vt.p[0] == '"' && vt.p[vt.len - 1] == '"')
				vt = (struct rw_tok){vt.p + 1, vt.len - 2,
				                     true}; /* key="v" in one */
			/* Bound: each call consumes at least one byte. */
			for (size_t i = 0; i < vt.len && e == 0;) {
				int c = rw_text_char(vt.p, vt.len, &i);
				if (c < 0 || rl == sizeof raw)
					e = RW_EMALFORMED;
				else
					raw[rl++] = (uint8_t)c;
			}
		}
		struct rw_wbuf w = {p[n].data, sizeof p[n].data, 0};
		for (size_t j = 0; e == 0 && j < n; j++)
			if (p[j].key == p[n].key)
				e = RW_EMALFORMED; /* a key twice */
		if (e == 0 && (svc_value(p[n].key, raw, rl, &w) != 0 ||
		               (eq == NULL && p[n].key != 2 && p[n].key < NSVC_KEYS)))
			e = RW_EMALFORMED;
		p[n].len = (uint16_t)w.len;
		n++;
	}
	if (e == 0) {
		qsort(p, n, sizeof *p, svcp_cmp);
		for (size_t i = 0; e == 0 && i < n; i++)
			if (rw_wbuf_u16(out, p[i].key) != 0 || rw_wbuf_u16(out, p[i].len) != 0 ||
			    rw_wbuf_bytes(out, p[i].data, p[i].len) != 0)
				e = RW_EMALFORMED;
	}
	free(p);
	return e;
}

static int svcp_print(const uint8_t *d, size_t n, struct rw__tbuf *b)
{
	int last = -1;
	for (size_t i = 0; i < n;) {
		if (n - i < 4)
			return RW_EMALFORMED;
		unsigned key = rw_get16(d + i), len = rw_get16(d + i + 2);
		const uint8_t *v = d + i + 4;
		if (n - i - 4 < len || (int)key <= last)
			return RW_EMALFORMED;
		rw__tput(b, "%s", i > 0 ? " " : "");
		if (key < NSVC_KEYS)
			rw__tput(b, "%s", svc_keys[key]);
		else
			rw__tput(b, "key%u", key);
		if (key == 2) {
			if (len != 0)
				return RW_EMALFORMED;
		} else if (key == 0 || key == 4 || key == 6) {
			unsigned w = key == 0 ? 2 : key == 4 ? 4 : 16;
			if (len == 0 || len % w != 0)
				return RW_EMALFORMED;
			rw__tput(b, "=");
			for (unsigned k = 0; k < len; k += w) {
				char ip[INET6_ADDRSTRLEN];
				if (k > 0)
					rw__tput(b, ",");
				if (key == 0) {
					unsigned m = rw_get16(v + k);
					if (m < NSVC_KEYS)
						rw__tput(b, "%s", svc_keys[m]);
					else
						rw__tput(b, "key%u", m);
				} else {
					inet_ntop(key == 4 ? AF_INET : AF_INET6, v + k, ip,
					          sizeof ip);
					rw__tput(b, "%s", ip);
				}
			}
		} else if (key == 1) {
			rw__tput(b, "=\"");
			for (unsigned k = 0; k < len;) {
				unsigned l = v[k];
				if (l == 0 || len - k - 1 < l)
					return RW_EMALFORMED;
				if (k > 0)
					rw__tput(b, ",");
				for (unsigned j = 0; j < l; j++) {
					unsigned c = v[k + 1 + j];
					if (c == ',' || c == '\\')
						rw__tput(b, "\\\\%c", c);
					else if (c < 0x20 || c >= 0x7f || c == '"')
						rw__tput(b, "\\%03u", c);
					else
						rw__tput(b, "%c", c);
				}
				k += 1 + l;
			}
			rw__tput(b, "\"");
		} else if (key == 3) {
			if (len != 2)
				return RW_EMALFORMED;
			rw__tput(b, "=%u", rw_get16(v));
		} else if (key == 5) {
			rw__tput(b, "=");
			put_b64(b, v, len);
		} else {
			rw__tput(b, "=");
			rw__put_str(b, v, len, true);
		}
		last = (int)key;
		i += 4 + len;
	}
	return 0;
}

/* --- LOC (RFC 1876) --------------------------------------------------------- */

/* A token as a decimal number; metres: a trailing "m" allowed. */
static int decimal(const struct rw_tok *k, bool metres, double *out)
{
	char s[32];
	size_t len = k->len;
	if (metres && len > 0 && (k->p[len - 1] == 'm' || k->p[len - 1] == 'M'))
		len--;
	if (len == 0 || len >= sizeof s)
		return RW_EMALFORMED;
	memcpy(s, k->p, len);
	s[len] = 0;
	char *end;
	*out = strtod(s, &end);
	return *end == 0 ? 0 : RW_EMALFORMED;
}

/* A size or precision in metres as LOC's mantissa and power of ten of
 * centimetres. */
static int loc_size(const struct rw_tok *k, uint8_t *out)
{
	double m;
	if (decimal(k, true, &m) != 0 || m < 0 || m > 90000000.0)
		return RW_EMALFORMED;
	unsigned long long cm = (unsigned long long)(m * 100.0 + 0.5);
	unsigned exp = 0;
	/* Bound: at most 10 digits (90,000 km in cm). */
	while (cm > 9) {
		cm = (cm + 5) / 10; /* one significant digit, rounded */
		exp++;
	}
	if (exp > 9)
		return RW_EMALFORMED;
	*out = (uint8_t)(cm << 4 | exp);
	return 0;
}

static int loc_angle(const struct rw_tok *toks, size_t ntoks, size_t *t, const char *hemi,
                     unsigned max_deg, uint32_t *out)
{
	double parts[3] = {0, 0, 0};
	size_t np = 0;
	while (*t < ntoks && np < 3) {
		const struct rw_tok *k = &toks[*t];
		if (k->len == 1 && strchr(hemi, k->p[0] & ~0x20) != NULL)
			break;
		if (decimal(k, false, &parts[np]) != 0 || parts[np] < 0)
			return RW_EMALFORMED;
		np++;
		(*t)++;
	}
	if (np == 0 || *t >= ntoks || toks[*t].len != 1)
		return RW_EMALFORMED;
	char h = (char)(toks[*t].p[0] & ~0x20);
	if (strchr(hemi, h) == NULL)
		return RW_EMALFORMED;
	(*t)++;
	if (parts[0] > max_deg || parts[1] >= 60 || parts[2] >= 60)
		return RW_EMALFORMED;
	double ms = ((parts[0] * 60 + parts[1]) * 60 + parts[2]) * 1000.0;
	uint32_t v = (uint32_t)(ms + 0.5);
	*out = h == hemi[0] ? 0x80000000u + v : 0x80000000u - v;
	return 0;
}

static int loc_parse(const struct rw_tok *toks, size_t ntoks, size_t *t, struct rw_wbuf *out)
{
	uint32_t lat, lon;
	uint8_t sz = 0x12, hp = 0x16, vp = 0x13; /* 1 m, 10,000 m, 10 m */
	if (loc_angle(toks, ntoks, t, "NS", 90, &lat) != 0 ||
	    loc_angle(toks, ntoks, t, "EW", 180, &lon) != 0 || *t >= ntoks)
		return RW_EMALFORMED;
	double alt;
	if (decimal(&toks[(*t)++], true, &alt) != 0 || alt < -100000.0 || alt > 42849672.95)
		return RW_EMALFORMED;
	uint8_t *dst[3] = {&sz, &hp, &vp};
	for (int i = 0; i < 3 && *t < ntoks; i++)
		if (loc_size(&toks[(*t)++], dst[i]) != 0)
			return RW_EMALFORMED;
	if (*t != ntoks)
		return RW_EMALFORMED;
	uint32_t a = (uint32_t)(alt * 100.0 + 10000000.0 + 0.5);
	return rw_wbuf_u8(out, 0) || rw_wbuf_u8(out, sz) || rw_wbuf_u8(out, hp) ||
	               rw_wbuf_u8(out, vp) || rw_wbuf_u32(out, lat) || rw_wbuf_u32(out, lon) ||
	               rw_wbuf_u32(out, a)
	           ? RW_EMALFORMED
	           : 0;
}

static void loc_angle_print(struct rw__tbuf *b, uint32_t v, const char *hemi)
{
	bool pos = v >= 0x80000000u;
	uint32_t d = pos ? v - 0x80000000u : 0x80000000u - v;
	unsigned ms = d % 1000, s = d / 1000 % 60, m = d / 60000 % 60, deg = d / 3600000;
	rw__tput(b, "%u %u %u.%03u %c", deg, m, s, ms, pos ? hemi[0] : hemi[1]);
}

static double loc_metres(uint8_t v)
{
	double cm = v >> 4;
	for (unsigned e = v & 15; e > 0; e--)
		cm *= 10;
	return cm / 100.0;
}

static int loc_print(const uint8_t *d, size_t n, struct rw__tbuf *b)
{
	if (n != 16 || d[0] != 0)
		return RW_EMALFORMED;
	for (int i = 1; i <= 3; i++)
		if ((d[i] >> 4) > 9 || (d[i] & 15) > 9)
			return RW_EMALFORMED;
	loc_angle_print(b, rw_get32(d + 4), "NS");
	rw__tput(b, " ");
	loc_angle_print(b, rw_get32(d + 8), "EW");
	long long alt = (long long)rw_get32(d + 12) - 10000000;
	rw__tput(b, " %s%lld.%02lldm %.2fm %.2fm %.2fm", alt < 0 ? "-" : "", llabs(alt) / 100,
	         llabs(alt) % 100, loc_metres(d[1]), loc_metres(d[2]), loc_metres(d[3]));
	return 0;
}

/* --- the field kinds ------------------------------------------------------- */

int rw__rdf_parse(enum rw_rdf kind, const struct rw_tok *toks, size_t ntoks, size_t *t,
                  struct rw_wbuf *out, const char **why)
{
	const struct rw_tok *k = &toks[*t];
	int hi = -1;
	uint16_t type;
	uint32_t v;
	switch (kind) {
	case RW_RDF_B64: *why = "bad base64"; return b64_decode(toks, ntoks, t, out);
	case RW_RDF_HEX:
		*why = "bad hex";
		for (; *t < ntoks; (*t)++)
			if (toks[*t].quoted || hex_decode(toks[*t].p, toks[*t].len, out, &hi) != 0)
				return RW_EMALFORMED;
		return hi >= 0 ? RW_EMALFORMED : 0;
	case RW_RDF_HEX8: {
		*why = "bad salt (hex, or - for none)";
		size_t at = out->len;
		if (rw_wbuf_u8(out, 0) != 0)
			return RW_EMALFORMED;
		(*t)++;
		if (k->len == 1 && k->p[0] == '-')
			return 0;
		if (hex_decode(k->p, k->len, out, &hi) != 0 || hi >= 0 || out->len - at - 1 > 255)
			return RW_EMALFORMED;
		out->base[at] = (uint8_t)(out->len - at - 1);
		return 0;
	}
	case RW_RDF_B32X8: {
		*why = "bad base32hex";
		size_t at = out->len;
		uint32_t acc = 0;
		unsigned bits = 0;
		if (rw_wbuf_u8(out, 0) != 0)
			return RW_EMALFORMED;
		for (size_t i = 0; i < k->len; i++) {
			int c = b32x_val((unsigned char)k->p[i]);
			if (c < 0)
				return RW_EMALFORMED;
			acc = acc << 5 | (uint32_t)c;
			bits += 5;
			if (bits >= 8) {
				bits -= 8;
				if (rw_wbuf_u8(out, (uint8_t)(acc >> bits)) != 0)
					return RW_EMALFORMED;
			}
		}
		(*t)++;
		if (out->len - at - 1 > 255 || out->len - at - 1 == 0)
			return RW_EMALFORMED;
		out->base[at] = (uint8_t)(out->len - at - 1);
		return 0;
	}
	case RW_RDF_BITMAP:
		*why = "bad type in the type bitmap";
		return bitmap_parse(toks, ntoks, t, out);
	case RW_RDF_TYPE:
		*why = "bad type";
		(*t)++;
		return rw_type_from_text(k->p, k->len, &type) != 0 || rw_wbuf_u16(out, type) != 0
		           ? RW_EMALFORMED
		           : 0;
	case RW_RDF_TIME:
		*why = "bad time (YYYYMMDDHHmmSS)";
		(*t)++;
		return time_parse(k, &v) != 0 || rw_wbuf_u32(out, v) != 0 ? RW_EMALFORMED : 0;
	case RW_RDF_SVCP:
		*why = "bad SVCB parameter (RFC 9460: mandatory, alpn, no-default-alpn, port, "
		       "ipv4hint, ech, ipv6hint, keyNNNNN)";
		return svcp_parse(toks, ntoks, t, out);
	case RW_RDF_LOC:
		*why = "bad LOC (d [m [s]] N|S d [m [s]] E|W alt[m] [size[m] [hp[m] [vp[m]]]])";
		return loc_parse(toks, ntoks, t, out);
	case RW_RDF_CERTT: {
		*why = "bad certificate type";
		(*t)++;
		for (size_t i = 0; i < sizeof cert_types / sizeof *cert_types; i++)
			if (strlen(cert_types[i].name) == k->len &&
			    strncasecmp(cert_types[i].name, k->p, k->len) == 0)
				return rw_wbuf_u16(out, cert_types[i].v);
		unsigned long n;
		return rw__parse_uint(k->p, k->len, 65535, &n) != 0 ? RW_EMALFORMED
		                                                    : rw_wbuf_u16(out, (uint16_t)n);
	}
	default: *why = "bad rdata"; return RW_EMALFORMED;
	}
}

/* An uncompressed name within rd[pos..len): its length, or 0. */
static size_t name_in(const uint8_t *rd, size_t len, size_t pos)
{
	size_t n = 0;
	/* Bound: at most 255 bytes, one label at a time. */
	while (pos + n < len) {
		uint8_t l = rd[pos + n];
		if (l > 63)
			return 0;
		n += 1u + l;
		if (n > RW_NAME_MAX)
			return 0;
		if (l == 0)
			return pos + n <= len ? n : 0;
	}
	return 0;
}

int rw__text_print(const uint8_t *kinds, const uint8_t *rd, size_t len, struct rw__tbuf *b)
{
	size_t pos = 0;
	for (size_t f = 0; f < RW_RDF_MAX && kinds[f] != RW_RDF_END; f++) {
		size_t left = len - pos, n;
		char text[RW_NAME_TEXT_MAX];
		/* SVCB's parameters may be none (AliasMode): no separator then. */
		if (f > 0 && !(left == 0 && (kinds[f] == RW_RDF_SVCP || kinds[f] == RW_RDF_BITMAP)))
			rw__tput(b, " ");
		switch (kinds[f]) {
		case RW_RDF_U8:
			if (left < 1)
				return RW_EMALFORMED;
			rw__tput(b, "%u", rd[pos++]);
			break;
		case RW_RDF_U16:
		case RW_RDF_TYPE:
		case RW_RDF_CERTT:
			if (left < 2)
				return RW_EMALFORMED;
			if (kinds[f] == RW_RDF_TYPE)
				rw__tput(b, "%s",
				         rw_type_to_text(rw_get16(rd + pos), text, sizeof text));
			else
				rw__tput(b, "%u", rw_get16(rd + pos));
			pos += 2;
			break;
		case RW_RDF_U32:
		case RW_RDF_TIME:
			if (left < 4)
				return RW_EMALFORMED;
			if (kinds[f] == RW_RDF_TIME)
				time_print(rw_get32(rd + pos), b);
			else
				rw__tput(b, "%u", rw_get32(rd + pos));
			pos += 4;
			break;
		case RW_RDF_NAME:
		case RW_RDF_CNAME:
			if ((n = name_in(rd, len, pos)) == 0)
				return RW_EMALFORMED;
			rw_name_to_text(rd + pos, text, sizeof text);
			rw__tput(b, "%s", text);
			pos += n;
			break;
		case RW_RDF_STR:
			if (left < 1 || left - 1 < rd[pos])
				return RW_EMALFORMED;
			rw__put_str(b, rd + pos + 1, rd[pos], true);
			pos += 1u + rd[pos];
			break;
		case RW_RDF_REST:
			rw__put_str(b, rd + pos, left, true);
			pos = len;
			break;
		case RW_RDF_B64:
			if (left == 0)
				return RW_EMALFORMED;
			put_b64(b, rd + pos, left);
			pos = len;
			break;
		case RW_RDF_HEX:
			if (left == 0)
				return RW_EMALFORMED;
			put_hex(b, rd + pos, left);
			pos = len;
			break;
		case RW_RDF_HEX8:
			if (left < 1 || left - 1 < rd[pos])
				return RW_EMALFORMED;
			if (rd[pos] == 0)
				rw__tput(b, "-");
			put_hex(b, rd + pos + 1, rd[pos]);
			pos += 1u + rd[pos];
			break;
		case RW_RDF_B32X8: {
			if (left < 1 || left - 1 < rd[pos] || rd[pos] == 0)
				return RW_EMALFORMED;
			uint32_t acc = 0;
			unsigned bits = 0;
			for (size_t i = 0; i < rd[pos]; i++) {
				acc = acc << 8 | rd[pos + 1 + i];
				bits += 8;
				while (bits >= 5) {
					bits -= 5;
					rw__tput(b, "%c", b32x[acc >> bits & 31]);
				}
			}
			if (bits > 0)
				rw__tput(b, "%c", b32x[acc << (5 - bits) & 31]);
			pos += 1u + rd[pos];
			break;
		}
		case RW_RDF_BITMAP:
			if (bitmap_print(rd + pos, left, b) != 0)
				return RW_EMALFORMED;
			pos = len;
			break;
		case RW_RDF_SVCP:
			if (svcp_print(rd + pos, left, b) != 0)
				return RW_EMALFORMED;
			pos = len;
			break;
		case RW_RDF_LOC:
			if (loc_print(rd + pos, left, b) != 0)
				return RW_EMALFORMED;
			pos = len;
			break;
		default: return RW_EMALFORMED;
		}
	}
	return pos == len ? 0 : RW_EMALFORMED;
}
