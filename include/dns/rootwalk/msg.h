/* DNS messages: parse into sections, build with compression and truncation.
 *
 * rw_msg_parse() validates a whole message (RFC 1035 §4, EDNS per RFC 6891)
 * and keeps what it reads -- owner names decompressed, rdata in canonical
 * form -- in the caller's arena (names and rdata that need no decoding point
 * into a copy of the message there), so the parsed message outlives nothing
 * but the arena. Its cost is linear in the message's size (decompress.h). The builder writes into a
 * caller-owned buffer; it never allocates. It compresses every name it may (RFC 1035 §4.1.4, and
 * inside rdata only for the RFC 1035 types, RFC 3597 §4) and supports marks and rollback so callers
 * add whole RRsets or nothing (RFC 2181 §9). */
#ifndef ROOTWALK_MSG_H
#define ROOTWALK_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/arena.h"
#include "rootwalk/name.h"

#define RW_HEADER_LEN 12
#define RW_FLAG_QR 0x8000
#define RW_FLAG_AA 0x0400
#define RW_FLAG_TC 0x0200
#define RW_FLAG_RD 0x0100
#define RW_FLAG_RA 0x0080
#define RW_FLAG_AD 0x0020
#define RW_FLAG_CD 0x0010
#define RW_OPCODE(flags) (((flags) >> 11) & 0xF)
#define RW_RCODE(flags) ((flags)&0xF)

enum rw_opcode { RW_OPCODE_QUERY = 0, RW_OPCODE_NOTIFY = 4, RW_OPCODE_UPDATE = 5 };

enum rw_rcode {
	RW_RCODE_NOERROR = 0,
	RW_RCODE_FORMERR = 1,
	RW_RCODE_SERVFAIL = 2,
	RW_RCODE_NXDOMAIN = 3,
	RW_RCODE_NOTIMP = 4,
	RW_RCODE_REFUSED = 5,
	RW_RCODE_NOTAUTH = 9,
	RW_RCODE_BADVERS = 16, /* extended: needs OPT (RFC 6891 §6.1.3) */
};

enum rw_section { RW_SEC_AN = 0, RW_SEC_NS = 1, RW_SEC_AR = 2 };

/* Extended DNS Error (RFC 8914), EDNS option 15. */
#define RW_EDNS_EDE 15
#define RW_EDNS_NSID 3 /* RFC 5001 */
enum rw_ede_code {
	RW_EDE_OTHER = 0,
	RW_EDE_STALE_ANSWER = 3,
	RW_EDE_STALE_NXDOMAIN = 19,
	RW_EDE_NO_REACHABLE_AUTHORITY = 22,
	RW_EDE_CACHED_ERROR = 13,
	RW_EDE_NETWORK_ERROR = 23,
};
struct rw_ede {
	uint16_t code;
	const char *text; /* NULL: no EDE */
};

struct rw_rr {
	const uint8_t *owner; /* uncompressed, case preserved; in the arena */
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata; /* canonical (names uncompressed); in the arena */
};

struct rw_edns {
	bool present;
	bool do_bit;
	uint8_t version;
	uint8_t ext_rcode; /* upper 8 bits of the 12-bit rcode */
	uint16_t udp_size; /* as sent; callers clamp (RFC 6891 §6.2.5) */
	uint16_t opts_len;
	const uint8_t *opts; /* raw option TLVs, checked for framing; arena */
};

struct rw_msg {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount;
	/* The question (present when qdcount == 1). */
	uint8_t qname[RW_NAME_MAX]; /* case as sent */
	size_t qname_len;
	uint16_t qtype;
	uint16_t qclass;
	/* Records other than the OPT pseudo-record, by section. */
	struct rw_rr *rr[3];
	uint16_t nrr[3];
	struct rw_edns edns;
};

/* Parses a whole message. Requires at least a header; accepts qdcount 0 or
 * 1 (more is RW_EMALFORMED: no implementation sends it). Rejects counts the
 * packet cannot hold, bad names (see rw_name_read), rdata that disagrees
 * with RDLENGTH or its type (TXT's strings are not walked: printing checks
 * them), an OPT record outside the additional section, not at the root or
 * repeated, option TLVs that overrun, and trailing bytes. Returns 0,
 * RW_EMALFORMED, RW_ELIMIT (past the compression pointer bounds,
 * rw_name_read, or the name bytes a message may cost, RW_MSG_NAME_BYTES),
 * or RW_ENOMEM when the arena limit is hit. */
int rw_msg_parse(const uint8_t *pkt, size_t len, struct rw_arena *arena, struct rw_msg *m);

/* The header's flags and the question of a reply, read without parsing
 * the rest: what a reply must match (QR, opcode QUERY, one question, the
 * name, type and class asked) before it costs a full parse. Returns true
 * when pkt is a QUERY response to (qname, qtype, qclass); qname is
 * compared case-insensitively. */
bool rw_msg_answers(const uint8_t *pkt, size_t len, const uint8_t *qname, uint16_t qtype,
                    uint16_t qclass);

/* --- builder ------------------------------------------------------------- */

#define RW_COMP_MAX 64

struct rw_builder {
	uint8_t *buf; /* borrowed */
	size_t cap;   /* maximum message size */
	size_t limit; /* cap minus bytes reserved (for OPT) */
	size_t len;
	uint16_t count[4];          /* QD, AN, NS, AR */
	uint16_t comp[RW_COMP_MAX]; /* offsets of names usable as pointers */
	unsigned ncomp;
	/* The question's name as written (0: none yet): an owner with the
	 * very same bytes -- the common case -- becomes a pointer to it
	 * without a search. */
	uint16_t qname_off, qname_len;
};

struct rw_builder_mark {
	size_t len;
	uint16_t count[4];
	unsigned ncomp;
};

/* Starts a message in buf (cap bytes, at least RW_HEADER_LEN) with id and
 * header flags (rcode included). */
void rw_builder_init(struct rw_builder *b, uint8_t *buf, size_t cap, uint16_t id, uint16_t flags);
/* Keeps n bytes free at the end (for the OPT record added last). */
int rw_builder_reserve(struct rw_builder *b, size_t n);
void rw_builder_set_flags(struct rw_builder *b, uint16_t flags);
uint16_t rw_builder_flags(const struct rw_builder *b);
/* Adds the question. The name is written as given (client's case). */
int rw_builder_question(struct rw_builder *b, const uint8_t *qname, uint16_t qtype,
                        uint16_t qclass);
/* Adds one record to a section (sections must be filled in order). rdata is
 * canonical; names in it are compressed where RFC 3597 allows. Returns 0 or
 * RW_ETRUNC, in which case nothing was added. */
int rw_builder_rr(struct rw_builder *b, enum rw_section sec, const uint8_t *owner, uint16_t type,
                  uint16_t rclass, uint32_t ttl, const uint8_t *rdata, size_t rdlen);
void rw_builder_mark(const struct rw_builder *b, struct rw_builder_mark *m);
void rw_builder_rollback(struct rw_builder *b, const struct rw_builder_mark *m);
/* Releases the reservation and adds the OPT record (RFC 6891 §6.1.2).
 * rcode is the full 12-bit code: its upper bits go to the OPT TTL field and
 * its lower 4 bits to the header. */
int rw_builder_opt(struct rw_builder *b, uint16_t udp_size, uint16_t rcode, bool do_bit,
                   const uint8_t *opts, size_t opts_len);
/* Writes the counts into the header; returns the message length. */
size_t rw_builder_finish(struct rw_builder *b);

#endif
