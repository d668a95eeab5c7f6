/* Resource record types and rdata, driven by one table.
 *
 * Each known type is described by its mnemonic and the list of its rdata
 * fields (rw_rdf). Every rdata operation -- validating and decompressing
 * rdata from a message, parsing presentation text, printing it -- walks that
 * list; there is no per-type switch elsewhere. Types with no field list are
 * carried as opaque bytes (RFC 3597) and printed as "\# len hex". Rdata is
 * stored canonically: names uncompressed, case preserved.
 *
 * The builder in msg.h uses the same table to compress names inside rdata
 * where RFC 3597 §4 allows it (the RFC 1035 types only). */
#ifndef ROOTWALK_RR_H
#define ROOTWALK_RR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/wire.h"

enum rw_type {
	RW_TYPE_A = 1,
	RW_TYPE_NS = 2,
	RW_TYPE_CNAME = 5,
	RW_TYPE_SOA = 6,
	RW_TYPE_PTR = 12,
	RW_TYPE_HINFO = 13,
	RW_TYPE_MX = 15,
	RW_TYPE_TXT = 16,
	RW_TYPE_AAAA = 28,
	RW_TYPE_SRV = 33,
	RW_TYPE_DNAME = 39,
	RW_TYPE_OPT = 41,
	RW_TYPE_DS = 43,
	RW_TYPE_RRSIG = 46,
	RW_TYPE_NSEC = 47,
	RW_TYPE_DNSKEY = 48,
	RW_TYPE_NSEC3 = 50,
	RW_TYPE_IXFR = 251,
	RW_TYPE_AXFR = 252,
	RW_TYPE_MAILB = 253,
	RW_TYPE_MAILA = 254,
	RW_TYPE_ANY = 255,
	RW_TYPE_CAA = 257,
	RW_TYPE_URI = 256,
};

enum rw_class {
	RW_CLASS_IN = 1,
	RW_CLASS_CH = 3,
	RW_CLASS_HS = 4,
	RW_CLASS_NONE = 254,
	RW_CLASS_ANY = 255,
};

/* Rdata field kinds. */
enum rw_rdf {
	RW_RDF_END = 0,
	RW_RDF_U8,
	RW_RDF_U16,
	RW_RDF_U32,
	RW_RDF_TTL, /* 32-bit seconds; text may use units (1h30m) */
	RW_RDF_IPV4,
	RW_RDF_IPV6,
	RW_RDF_CNAME, /* domain name, compressible on the wire (RFC 1035 types) */
	RW_RDF_NAME,  /* domain name, never compressed when written */
	RW_RDF_STR,   /* one <character-string> */
	RW_RDF_STRS,  /* one or more <character-string>s up to the end */
	RW_RDF_TAG,   /* CAA tag: length-prefixed, printed without quotes */
	RW_RDF_REST,  /* the rest of the rdata, printed as one quoted string */
	/* Presentation only (a type's text[] list; its wire form stays
	 * opaque): rrtext.c. */
	RW_RDF_B64,    /* base64 to the end; text: one or more tokens */
	RW_RDF_HEX,    /* hex to the end; text: one or more tokens */
	RW_RDF_HEX8,   /* length-prefixed hex; text "-" when empty (NSEC3 salt) */
	RW_RDF_B32X8,  /* length-prefixed base32hex (NSEC3's next hashed owner) */
	RW_RDF_BITMAP, /* a type bitmap to the end (NSEC, NSEC3); text: type names */
	RW_RDF_TYPE,   /* a 16-bit type; text: its mnemonic */
	RW_RDF_TIME,   /* 32-bit seconds since 1970; text YYYYMMDDHHmmSS or a number */
	RW_RDF_SVCP,   /* SVCB/HTTPS parameters to the end (RFC 9460) */
	RW_RDF_LOC,    /* the whole LOC rdata (RFC 1876) */
	RW_RDF_CERTT,  /* CERT type: a 16-bit number or mnemonic (RFC 4398) */
};

#define RW_RDF_MAX 10

/* How a message's rdata of a type is read (rw_msg_parse), derived from
 * its fields when the library loads. */
enum rw_rdata_shape {
	RW_SHAPE_OPAQUE = 0, /* no fields: the bytes as they are */
	RW_SHAPE_FIXED,      /* fixed fields only: the size is the check */
	RW_SHAPE_STRS,       /* character-strings to the end (TXT) */
	RW_SHAPE_CHECKED,    /* no names, fields of varying size */
	RW_SHAPE_NAME,       /* one name and nothing else */
	RW_SHAPE_NAMED,      /* fixed bytes, one or two names, fixed bytes */
	RW_SHAPE_OTHER,      /* names among other fields */
};

struct rw_type_desc {
	uint16_t type;
	const char *name;
	uint8_t fields[RW_RDF_MAX]; /* RW_RDF_END-terminated; empty: opaque */
	/* An opaque type's presentation form (RFC 3597 still accepted):
	 * zone files may write it so, and it prints so. The wire form is not
	 * checked or decompressed by it (these types are carried as bytes).
	 * Empty: "\# len hex" only. */
	uint8_t text[RW_RDF_MAX];
	/* Derived from fields when the library loads: */
	bool has_names;            /* a CNAME or NAME field */
	uint8_t shape;             /* enum rw_rdata_shape */
	uint8_t pre, nnames, post; /* RW_SHAPE_NAMED: its layout */
	uint16_t fixed_len;        /* every field fixed: their total; else 0 */
};

/* The descriptor of a type, or NULL when the type has no entry. */
const struct rw_type_desc *rw_type_desc(uint16_t type);
/* Types below 256 by number (built when the library loads). */
extern const struct rw_type_desc *rw__types_low[256];
static inline const struct rw_type_desc *rw_type_desc_fast(uint16_t type)
{
	return type < 256 ? rw__types_low[type] : rw_type_desc(type);
}
/* Does rdata of this type hold domain names (compressed or not)? Only
 * those change length when read canonically. */
bool rw_rdata_has_names(uint16_t type);
/* Is rdata of this type one name and nothing else? */
static inline bool rw_rdata_is_name(uint16_t type)
{
	return type == RW_TYPE_NS || type == RW_TYPE_CNAME || type == RW_TYPE_PTR ||
	       type == RW_TYPE_DNAME;
}
/* True when rdata of this type is structured (has a field list). */
bool rw_type_known(uint16_t type);
/* Mnemonic or "TYPEnnn" into buf (at least 12 bytes). Returns buf. */
const char *rw_type_to_text(uint16_t type, char *buf, size_t cap);
/* Mnemonic (case-insensitive) or TYPEnnn. 0 or RW_EMALFORMED. */
int rw_type_from_text(const char *text, size_t len, uint16_t *out);
/* Class mnemonic IN/CH/HS/NONE/ANY or CLASSnnn. 0 or RW_EMALFORMED. */
int rw_class_from_text(const char *text, size_t len, uint16_t *out);
const char *rw_class_to_text(uint16_t rclass, char *buf, size_t cap);
/* TTL in seconds, plain or with units s/m/h/d/w ("1h30m"); at most
 * 2^31-1 (RFC 2181 §8). 0 or RW_EMALFORMED. */
int rw_ttl_from_text(const char *text, size_t len, uint32_t *out);

/* The TTL of a negative answer proven by this SOA: min(SOA TTL, MINIMUM)
 * (RFC 2308 §3, §5). rdata is a canonical SOA (MINIMUM its last 4 bytes). */
uint32_t rw_soa_negative_ttl(uint32_t soa_ttl, const uint8_t *rdata, uint16_t rdlen);

/* Reads rdlen bytes of rdata at r->pos from a message of type `type` into
 * out in canonical form (names decompressed) and checks it against the field
 * list: every field must be complete and the fields must use exactly rdlen
 * bytes. Unknown types are copied as they are. out NULL: checked only.
 * Returns 0, RW_EMALFORMED or RW_ETRUNC (out too small). r->pos ends after
 * the rdata on success. */
int rw_rdata_read(struct rw_rbuf *r, uint16_t type, uint16_t rdlen, struct rw_wbuf *out);

/* A token of presentation text: raw characters (escapes not yet processed),
 * quoted when it came from "..." (p then excludes the quotes). */
struct rw_tok {
	const char *p;
	size_t len;
	bool quoted;
};

/* Parses rdata of `type` from tokens into canonical wire form. Accepts the
 * RFC 3597 generic form "\# len hex..." for every type. Relative names get
 * origin appended. On error returns RW_EMALFORMED and sets *why to a short
 * static description. */
int rw_rdata_from_text(uint16_t type, const struct rw_tok *toks, size_t ntoks,
                       const uint8_t *origin, struct rw_wbuf *out, const char **why);

/* Presentation form of canonical rdata. Returns the length (NUL written) or
 * RW_ETRUNC. Malformed rdata of a known type falls back to "\# len hex". */
int rw_rdata_to_text(uint16_t type, const uint8_t *rdata, size_t rdlen, char *buf, size_t cap);

/* One line "owner TTL CLASS TYPE rdata" for logs and tools. Returns the
 * length or RW_ETRUNC. */
int rw_rr_to_text(const uint8_t *owner, uint16_t type, uint16_t rclass, uint32_t ttl,
                  const uint8_t *rdata, size_t rdlen, char *buf, size_t cap);

/* Parses one <character-string> token (escapes \X, \DDD) into out with its
 * length byte. 0 or RW_EMALFORMED (over 255 bytes, bad escape). */
int rw_charstr_from_text(const struct rw_tok *t, struct rw_wbuf *out);

#endif
