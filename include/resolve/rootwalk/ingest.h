/* What a reply proves, and what of it is cached: one rule set for
 * forwarding and iteration.
 *
 * A reply from upstream is used only for what it proves about the question
 * asked, and only inside the bailiwick of the server that sent it (the zone
 * it was asked about when iterating; the root, i.e. everything, for a
 * configured forwarder):
 * - the answer section along the CNAME chain from the question's name
 *   (RFC 1034 §4.3.2 3a), each RRset cached at answer rank (authoritative
 *   when AA is set, RFC 2181 §5.4.1) and added to the client's answer;
 * - a negative answer (RFC 2308): the SOA of the zone holding the name,
 *   cached as NXDOMAIN or NODATA at authority rank and added to the
 *   client's authority section with TTL min(SOA TTL, MINIMUM) (§5);
 * - glue: addresses of NS names inside the bailiwick, at additional rank.
 * Nothing else is ever cached. The caller has already matched the reply to
 * its question (ID, address, question section). */
#ifndef ROOTWALK_INGEST_H
#define ROOTWALK_INGEST_H

#include <stdbool.h>
#include <stdint.h>

#include "rootwalk/answer.h"
#include "rootwalk/cache.h"
#include "rootwalk/msg.h"

/* Names remembered to detect a CNAME loop across replies. */
#define RW_CHAIN_SEEN 32

/* A CNAME chain followed across one or more replies of one resolution. */
struct rw_chain {
	unsigned hops, max;
	uint32_t seen[RW_CHAIN_SEEN]; /* name hashes: [0] the question */
};

void rw_chain_init(struct rw_chain *c, const uint8_t *qname, unsigned max_hops);

/* Where and how a reply's data is used. */
struct rw_ingest {
	struct rw_cache *cache; /* NULL: cache nothing */
	struct rw_cache_stats *stats;
	struct rw_arena *arena;           /* scratch for RRsets */
	const uint8_t *bailiwick;         /* lower-case; "" (the root) trusts every name */
	struct rw_answer_builder *answer; /* NULL: collect nothing (sub-requests) */
};

enum rw_ingest_result {
	RW_INGEST_ANSWER,   /* the final RRset was found (cached, added) */
	RW_INGEST_ALIAS,    /* CNAMEs only: *end is where the chain goes on */
	RW_INGEST_NOTHING,  /* nothing for the name: negative, referral or lame */
	RW_INGEST_LOOP,     /* the chain came back to a name already on it */
	RW_INGEST_TOO_LONG, /* more than the chain's max hops */
};

/* Follows the answer section from qname. *end is the last name of the
 * chain (qname when nothing matched; it points into m or at qname). For
 * qtype CNAME the CNAME itself is the answer; for ANY, every record at the
 * name is (RFC 8482), and none of it is cached. Bound: chain->max hops. */
enum rw_ingest_result rw_ingest_chain(const struct rw_ingest *in, const struct rw_msg *m,
                                      const uint8_t *qname, uint16_t qtype, uint16_t qclass,
                                      struct rw_chain *chain, const uint8_t **end);

/* The negative answer for name (NXDOMAIN, else NODATA for qtype): finds
 * the SOA of the zone holding name inside the bailiwick, caches the
 * negative entry and adds the SOA to the answer's authority section.
 * False when the reply holds no such SOA (then nothing is cached). */
bool rw_ingest_negative(const struct rw_ingest *in, const struct rw_msg *m, const uint8_t *name,
                        uint16_t qtype, uint16_t qclass, bool nxdomain);

/* A referral to zone: collects its NS RRset from the authority section
 * into *nss (in the arena), caches it at authority rank with its glue.
 * False when the reply holds no NS RRset for zone. The caller has checked
 * that zone lies strictly below the bailiwick and above the name. */
bool rw_ingest_delegation(const struct rw_ingest *in, const struct rw_msg *m, const uint8_t *zone,
                          uint16_t qclass, struct rw_cache_rrset *nss);

/* Caches the addresses (A, AAAA) in the additional section of the NS names
 * of nss that lie inside the bailiwick. */
void rw_ingest_glue(const struct rw_ingest *in, const struct rw_msg *m,
                    const struct rw_cache_rrset *nss);

#endif
