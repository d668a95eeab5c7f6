/* The answer to a question that went upstream: what every waiting client's
 * reply is built from, without parsing anything again.
 *
 * Forwarding (forward.c) and iteration (iter.c) both end in a struct
 * rw_answer: an rcode, the answer section (the CNAME chain and the final
 * RRset, owner names lower-cased), the authority section (the SOA proving a
 * negative answer) and, for SERVFAIL, an Extended DNS Error (RFC 8914).
 * rw_query_finish() turns it into each client's reply with the client's
 * own ID, letter case and size limit.
 *
 * Ownership and threading: an answer is one heap allocation, immutable once
 * built, shared by every worker whose clients wait for it. It carries an
 * atomic reference count: rw_answer_ref() for each holder, rw_answer_unref()
 * when done; the last unref frees it. Nothing else in it changes after
 * rw_answer_build() returns, so readers need no lock.
 *
 * A builder collects records in a caller's arena while an answer is being
 * worked out (a resolution may add a CNAME hop per reply) and copies them
 * into the answer at the end. */
#ifndef ROOTWALK_ANSWER_H
#define ROOTWALK_ANSWER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/arena.h"
#include "rootwalk/msg.h"

/* Records one answer may hold; more is answered SERVFAIL (a bound on what a
 * hostile upstream can make every waiter copy). */
#define RW_ANSWER_RR_MAX 4096

struct rw_answer_rr {
	const uint8_t *owner; /* lower-case wire name, inside the answer */
	uint16_t type, rclass;
	uint32_t ttl;
	uint16_t rdlen;
	const uint8_t *rdata; /* canonical (names uncompressed) */
};

struct rw_answer {
	atomic_int refs;
	uint16_t rcode;    /* NOERROR, NXDOMAIN or SERVFAIL */
	struct rw_ede ede; /* SERVFAIL: why (static text; NULL: none) */
	uint16_t nrr[2];   /* RW_SEC_AN, RW_SEC_NS */
	struct rw_answer_rr *rr[2];
	/* The server it came from (address#port, for logs; empty: none
	 * known). Set by whoever received it, before it is shared. */
	char from[56];
	/* No records here: the cache holds the answer (rw_answer_in_cache). */
	bool in_cache;
	/* the records and their bytes follow, in the same allocation */
};

/* Collects an answer's records (in arena) until rw_answer_build(). */
struct rw_answer_builder {
	struct rw_arena *arena; /* borrowed */
	struct rw_answer_rr *rr[2];
	uint16_t nrr[2], cap[2];
	size_t bytes; /* owners and rdata, for the final allocation */
	bool failed;  /* out of arena or past RW_ANSWER_RR_MAX: SERVFAIL */
};

void rw_answer_builder_init(struct rw_answer_builder *b, struct rw_arena *arena);
/* Appends one record to sec (RW_SEC_AN or RW_SEC_NS); owner is stored
 * lower-cased. Copies into the arena. */
void rw_answer_add(struct rw_answer_builder *b, enum rw_section sec, const uint8_t *owner,
                   uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
                   uint16_t rdlen);
/* Forgets the records added so far (a resolution starting over). */
void rw_answer_builder_reset(struct rw_answer_builder *b);
/* The answer with rcode and the records collected (one reference), or, if
 * the builder failed, SERVFAIL. NULL only when out of memory (callers
 * answer SERVFAIL). */
struct rw_answer *rw_answer_build(const struct rw_answer_builder *b, uint16_t rcode);
/* A SERVFAIL answer with an EDE (text static). NULL when out of memory. */
struct rw_answer *rw_answer_servfail(uint16_t ede_code, const char *ede_text);

/* "Look in the cache": the answer a question's new flight gets when the
 * cache turned out to hold it after all -- its previous flight stored it
 * between a client's miss and the client's join (rw_query_cached). Each
 * waiter's reply is built from the cache; whoever does not know the flag
 * reads a SERVFAIL. NULL when out of memory. */
struct rw_answer *rw_answer_in_cache(void);

/* Adds a reference; returns a. NULL is passed through. */
struct rw_answer *rw_answer_ref(struct rw_answer *a);
/* Drops a reference; frees at the last. NULL is ignored. */
void rw_answer_unref(struct rw_answer *a);

#endif
