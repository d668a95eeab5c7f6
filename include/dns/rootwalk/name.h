/* Domain names in wire form.
 *
 * Internally a name is its uncompressed wire form: a sequence of
 * length-prefixed labels ending in the zero-length root label, at most 255
 * bytes (RFC 1035 §3.1). A parent name is simply a suffix of the buffer, so
 * walking up the tree is pointer arithmetic. Because label lengths are at most
 * 63 (below 'A'), case folding and case-insensitive comparison can run over
 * the whole buffer byte by byte. This module reads names from messages
 * (decompression, safe against the RFC 9267 attacks), converts to and from
 * presentation format, compares and hashes. It owns no memory. */
#ifndef ROOTWALK_NAME_H
#define ROOTWALK_NAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/wire.h"

#define RW_NAME_MAX 255
#define RW_LABEL_MAX 63
/* Longest presentation form: every byte as \DDD plus dots, plus NUL. */
#define RW_NAME_TEXT_MAX 1024

/* Compression pointers one name may follow (RFC 9267 §2): real encoders
 * chain a few at most. */
#define RW_NAME_PTRS_MAX 16

/* Reads a possibly compressed name at r->pos into out (uncompressed, case
 * preserved) and moves r->pos past the name as it stands in the message.
 * Rejects (RW_EMALFORMED): pointers that do not point strictly before the
 * previous jump (loops and forward pointers), more than RW_NAME_PTRS_MAX
 * pointers in the name or more than the message's budget (r->ptrs_left),
 * label types 01/10, labels over 63 bytes, names over 255 bytes, reads past
 * the end; past the pointer bounds it is RW_ELIMIT. On error r->pos is
 * unchanged. out_len may be NULL. With r->memo (decompress.h), positions
 * read before are not walked again, and the name's bytes are taken from
 * the message's budget (RW_ELIMIT past it). */
int rw_name_read(struct rw_rbuf *r, uint8_t out[RW_NAME_MAX], size_t *out_len);

/* Length in bytes of a valid uncompressed name (incl. the root label). */
size_t rw_name_len(const uint8_t *name);
/* Number of labels, not counting the root label. */
unsigned rw_name_labels(const uint8_t *name);
/* Copies len bytes of src into dst, folding ASCII upper case to lower. */
void rw_name_lower(uint8_t *dst, const uint8_t *src, size_t len);
/* Case-insensitive equality of two uncompressed names. */
bool rw_name_eq(const uint8_t *a, const uint8_t *b);
/* True when name equals parent or lies below it (case-insensitive). */
bool rw_name_is_under(const uint8_t *name, const uint8_t *parent);
/* The name with its first label removed, or NULL for the root. */
const uint8_t *rw_name_parent(const uint8_t *name);
/* Hash of the lower-cased name (FNV-1a); equal for names rw_name_eq. */
uint32_t rw_name_hash(const uint8_t *name);

/* Parses presentation format: escapes \X and \DDD, "@" for the origin, a
 * relative name gets origin appended (origin NULL: relative names are an
 * error). Returns 0, RW_EMALFORMED (empty label, bad escape, label over 63,
 * name over 255, relative without origin). */
int rw_name_from_text(const char *text, size_t text_len, const uint8_t *origin,
                      uint8_t out[RW_NAME_MAX], size_t *out_len);
/* Decodes one character of presentation text at text[*pos]: a plain
 * byte, "\X" (X itself) or "\DDD" (decimal, at most 255), and moves *pos
 * past it. Returns the byte (0-255) or RW_EMALFORMED. Shared by names and
 * character strings (RFC 1035 §5.1). */
int rw_text_char(const char *text, size_t len, size_t *pos);
/* Writes the presentation form with a trailing dot and NUL. Returns the
 * length without the NUL, or RW_ETRUNC. */
int rw_name_to_text(const uint8_t *name, char *buf, size_t cap);

#endif
