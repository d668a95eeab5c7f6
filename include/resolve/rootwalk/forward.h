/* Forwarding, without I/O: the query sent to a configured upstream
 * resolver and the checked, cached answer made of its reply.
 *
 * The daemon sends rw_forward_query()'s bytes to the upstream group (c-ares
 * picks the ID and retries) and feeds the reply, once, to
 * rw_forward_accept(). A forwarder is trusted for every name (bailiwick:
 * the root), but only for what its reply proves about the question asked
 * (ingest.h). */
#ifndef ROOTWALK_FORWARD_H
#define ROOTWALK_FORWARD_H

#include <stddef.h>
#include <stdint.h>

#include "rootwalk/answer.h"
#include "rootwalk/query.h"

/* CNAME hops followed in a forwarded answer. */
#define RW_FORWARD_CNAME_MAX 8

/* Writes the query for q: ID 0 (the transport picks one), RD=1, CD as
 * q's, EDNS0 advertising edns_size with DO=1. Returns the length, 0 if cap
 * is too small. */
size_t rw_forward_query(const struct rw_question *q, uint16_t edns_size, uint8_t *out, size_t cap);

/* Checks an upstream reply to q and makes the answer of it, caching what
 * it proves. A reply to another question, opcode or a truncated one is
 * RW_EMALFORMED (nothing cached); a failure rcode (SERVFAIL, REFUSED, ...)
 * is a SERVFAIL answer with an EDE. Returns 0 with *out (one reference),
 * RW_EMALFORMED, or RW_ENOMEM. Uses env's arena and cache. */
int rw_forward_accept(struct rw_query_env *env, const struct rw_question *q, const uint8_t *resp,
                      size_t resp_len, struct rw_answer **out);

#endif
