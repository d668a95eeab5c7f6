/* A growable text buffer for replies built with printf (metrics, control).
 *
 * Not for the DNS hot path: it allocates. A failed allocation sets failed
 * and turns every later append into a no-op, so a caller checks once at
 * the end. The caller frees p with free(). */
#ifndef ROOTWALK_STRBUF_H
#define ROOTWALK_STRBUF_H

#include <stddef.h>

struct rw_buf {
	char *p;
	size_t len, cap;
	int failed; /* an allocation failed: the reply becomes 500 */
};

void rw_buf_printf(struct rw_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends n bytes (binary content: the cache file). */
void rw_buf_append(struct rw_buf *b, const void *data, size_t n);

#endif
