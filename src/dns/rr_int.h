/* Private to src/dns: the text buffer the rdata printers share, and the
 * presentation-only field kinds (rrtext.c). Not an interface. */
#ifndef ROOTWALK_RR_INT_H
#define ROOTWALK_RR_INT_H

#include "rootwalk/rr.h"
#include "rootwalk/wire.h"

#include <stdbool.h>
#include <stddef.h>

struct rw__tbuf {
	char *p;
	size_t cap, n;
	bool full;
};

void rw__tput(struct rw__tbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A character-string's bytes, escaped (RFC 1035 §5.1), quoted or not. */
void rw__put_str(struct rw__tbuf *b, const uint8_t *s, size_t len, bool quote);

/* A decimal number of 1-10 digits, at most max: 0 or RW_EMALFORMED. */
int rw__parse_uint(const char *p, size_t len, unsigned long max, unsigned long *out);

/* Parses one field of a presentation-only kind (RW_RDF_B64 ...) from
 * toks[*t...] (advancing *t past what it used; the to-the-end kinds take
 * every token left). 0, or RW_EMALFORMED with *why. */
int rw__rdf_parse(enum rw_rdf kind, const struct rw_tok *toks, size_t ntoks, size_t *t,
                  struct rw_wbuf *out, const char **why);
/* Prints rdata through a text[] field list, checking every bound: 0, or
 * RW_EMALFORMED when the bytes are not of that shape (the caller prints
 * them generically). */
int rw__text_print(const uint8_t *kinds, const uint8_t *rd, size_t len, struct rw__tbuf *b);

#endif
