/* Wire-form names: decompression, comparison, hashing and presentation
 * format. See include/dns/rootwalk/name.h. */
#include "rootwalk/name.h"
#include "rootwalk/err.h"

#include <stdio.h>
#include <string.h>

static inline uint8_t lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

size_t rw_name_len(const uint8_t *name)
{
	size_t n = 0;
	while (name[n] != 0)
		n += (size_t)name[n] + 1;
	return n + 1;
}

unsigned rw_name_labels(const uint8_t *name)
{
	unsigned k = 0;
	for (size_t n = 0; name[n] != 0; n += (size_t)name[n] + 1)
		k++;
	return k;
}

/* Lower-cases 8 bytes at once (SWAR): a byte gets 0x20 when it is in
 * 'A'..'Z'. Length bytes (< 64) are never changed. */
static inline uint64_t lower8(uint64_t x)
{
	const uint64_t ones7 = 0x7F7F7F7F7F7F7F7Full, high = 0x8080808080808080ull;
	uint64_t h = x & ones7;
	uint64_t ge_a = h + 0x3F3F3F3F3F3F3F3Full; /* high bit: byte >= 'A' */
	uint64_t gt_z = h + 0x2525252525252525ull; /* high bit: byte > 'Z' */
	uint64_t upper = ge_a & ~gt_z & ~x & high; /* 'A'..'Z', ASCII only */
	return x | (upper >> 2);
}

void rw_name_lower(uint8_t *dst, const uint8_t *src, size_t len)
{
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, src + i, 8);
		w = lower8(w);
		memcpy(dst + i, &w, 8);
	}
	for (; i < len; i++)
		dst[i] = lower(src[i]);
}

bool rw_name_eq(const uint8_t *a, const uint8_t *b)
{
	for (size_t i = 0;; i++) {
		if (lower(a[i]) != lower(b[i]))
			return false;
		if (a[i] == 0)
			return true;
		size_t l = a[i];
		for (size_t j = 1; j <= l; j++)
			if (lower(a[i + j]) != lower(b[i + j]))
				return false;
		i += l;
	}
}

bool rw_name_is_under(const uint8_t *name, const uint8_t *parent)
{
	size_t nl = rw_name_len(name), pl = rw_name_len(parent);
	if (pl > nl)
		return false;
	size_t off = 0;
	while (nl - off > pl)
		off += (size_t)name[off] + 1;
	return nl - off == pl && rw_name_eq(name + off, parent);
}

const uint8_t *rw_name_parent(const uint8_t *name)
{
	return name[0] == 0 ? NULL : name + name[0] + 1;
}

uint32_t rw_name_hash(const uint8_t *name)
{
	/* 8 lower-cased bytes per step, multiply-xorshift mixing; the tail
	 * word is zero-padded (the length bytes keep names apart). */
	size_t len = rw_name_len(name);
	uint64_t h = 0x9E3779B97F4A7C15ull ^ len;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, name + i, 8);
		h = (h ^ lower8(w)) * 0xFF51AFD7ED558CCDull;
		h ^= h >> 29;
	}
	if (i < len) {
		uint64_t w = 0;
		memcpy(&w, name + i, len - i);
		h = (h ^ lower8(w)) * 0xFF51AFD7ED558CCDull;
		h ^= h >> 29;
	}
	h *= 0xC4CEB9FE1A85EC53ull;
	return (uint32_t)(h >> 32);
}

int rw_text_char(const char *text, size_t len, size_t *pos)
{
	size_t i = *pos;
	if (i >= len)
		return RW_EMALFORMED;
	unsigned c = (unsigned char)text[i];
	if (c != '\\') {
		*pos = i + 1;
		return (int)c;
	}
	if (i + 1 >= len)
		return RW_EMALFORMED;
	unsigned d = (unsigned char)text[i + 1];
	if (d < '0' || d > '9') {
		*pos = i + 2;
		return (int)d;
	}
	if (i + 3 >= len)
		return RW_EMALFORMED;
	unsigned v = 0;
	for (size_t k = 1; k <= 3; k++) {
		unsigned e = (unsigned char)text[i + k];
		if (e < '0' || e > '9')
			return RW_EMALFORMED;
		v = v * 10 + (e - '0');
	}
	if (v > 255)
		return RW_EMALFORMED;
	*pos = i + 4;
	return (int)v;
}

int rw_name_from_text(const char *text, size_t text_len, const uint8_t *origin,
                      uint8_t out[RW_NAME_MAX], size_t *out_len)
{
	if (text_len == 1 && text[0] == '@') {
		if (origin == NULL)
			return RW_EMALFORMED;
		size_t ol = rw_name_len(origin);
		memcpy(out, origin, ol);
		*out_len = ol;
		return 0;
	}
	if (text_len == 1 && text[0] == '.') {
		out[0] = 0;
		*out_len = 1;
		return 0;
	}
	if (text_len == 0)
		return RW_EMALFORMED;
	size_t n = 0;        /* bytes written to out */
	size_t label_at = 0; /* position of the current label's length byte */
	bool absolute = false;
	out[0] = 0;
	n = 1;
	for (size_t i = 0; i < text_len; i++) {
		unsigned c = (unsigned char)text[i];
		if (c == '.') {
			if (n - label_at - 1 == 0)
				return RW_EMALFORMED; /* empty label */
			if (i + 1 == text_len) {
				absolute = true;
				break;
			}
			if (n >= RW_NAME_MAX)
				return RW_EMALFORMED;
			label_at = n;
			out[n++] = 0;
			continue;
		}
		if (c == '\\') {
			int v = rw_text_char(text, text_len, &i);
			if (v < 0)
				return RW_EMALFORMED;
			c = (unsigned)v;
			i--; /* the loop's i++ moves past the escape */
		}
		if (n - label_at - 1 >= RW_LABEL_MAX || n >= RW_NAME_MAX - 1)
			return RW_EMALFORMED;
		out[n++] = (uint8_t)c;
		out[label_at] = (uint8_t)(n - label_at - 1);
	}
	if (absolute) {
		if (n >= RW_NAME_MAX)
			return RW_EMALFORMED;
		out[n++] = 0;
		*out_len = n;
		return 0;
	}
	if (origin == NULL)
		return RW_EMALFORMED;
	size_t ol = rw_name_len(origin);
	if (n + ol > RW_NAME_MAX)
		return RW_EMALFORMED;
	memcpy(out + n, origin, ol);
	*out_len = n + ol;
	return 0;
}

int rw_name_to_text(const uint8_t *name, char *buf, size_t cap)
{
	size_t n = 0;
	if (name[0] == 0) {
		if (cap < 2)
			return RW_ETRUNC;
		buf[0] = '.';
		buf[1] = 0;
		return 1;
	}
	for (size_t i = 0; name[i] != 0; i += (size_t)name[i] + 1) {
		for (size_t j = 1; j <= name[i]; j++) {
			unsigned c = name[i + j];
			if (cap - n < 6)
				return RW_ETRUNC;
			if (c <= 0x20 || c >= 0x7f) {
				n += (size_t)snprintf(buf + n, cap - n, "\\%03u", c);
				continue;
			}
			if (c == '.' || c == '\\' || c == '"' || c == '(' || c == ')' || c == ';' ||
			    c == '@' || c == '$')
				buf[n++] = '\\';
			buf[n++] = (char)c;
		}
		buf[n++] = '.';
	}
	buf[n] = 0;
	return (int)n;
}
