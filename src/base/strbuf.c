/* A growable text buffer; see include/base/rootwalk/strbuf.h. */
#include "rootwalk/strbuf.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for need more bytes, doubling from 4 KiB; false (and failed set)
 * when that cannot be had. */
static bool grow(struct rw_buf *b, size_t need)
{
	size_t cap = b->cap ? b->cap : 4096;
	while (cap - b->len < need) {
		if (cap > SIZE_MAX / 2) {
			b->failed = 1;
			return false;
		}
		cap *= 2;
	}
	char *p = realloc(b->p, cap);
	if (p == NULL) {
		b->failed = 1;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void rw_buf_printf(struct rw_buf *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	for (int pass = 0; pass < 2; pass++) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if (b->p != NULL && (size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		if (!grow(b, (size_t)n + 1)) /* vsnprintf's NUL too */
			return;
	}
}

void rw_buf_append(struct rw_buf *b, const void *data, size_t n)
{
	if (b->failed || n == 0)
		return;
	if (b->cap - b->len < n && !grow(b, n))
		return;
	memcpy(b->p + b->len, data, n);
	b->len += n;
}
