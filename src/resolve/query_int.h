/* Private to src/resolve's query path: what query.c shares with
 * request.c and autopath.c. Not an interface. */
#ifndef ROOTWALK_QUERY_INT_H
#define ROOTWALK_QUERY_INT_H

#include "rootwalk/query.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sets req's route for lname: the longest forward zone holding it, else
 * the default. */
void rw__route(const struct rw_query_env *env, const uint8_t *lname, struct rw_request *req);

/* Autopath: when lname (lower-case, its local answer NXDOMAIN) is
 * NAME.NS.svc.ZONE and the client is a pod of NS, writes the next search
 * name that exists -- NAME.svc.ZONE or NAME.ZONE when a local zone holds
 * it, else NAME -- into target and returns its length; 0: not for
 * autopath. */
size_t rw__autopath_target(const struct rw_query_env *env, const uint8_t *lname, uint8_t *target);

/* CHAOS TXT identity (what BIND, Unbound and Knot answer): id.server. and
 * hostname.bind. give env->identity, version.bind. and version.server.
 * env->version, written into b (after the question) with AA set; false
 * (the caller answers REFUSED) for anything else, or when hidden. */
struct rw_builder;
bool rw__answer_chaos(struct rw_builder *b, const struct rw_query_env *env, const struct rw_msg *q,
                      const uint8_t *lname);

#define RW__TYPE_TSIG 250

/* The TSIG record a reply to a TSIG-signed query ends with: the query's
 * algorithm, time and fudge, no MAC, error BADKEY (RFC 8945 §5.2.2). */
struct rw__tsig_error {
	const uint8_t *owner; /* the query's TSIG owner; NULL: none */
	uint16_t len;
	uint8_t rd[RW_NAME_MAX + 16];
};

/* A signed query (RFC 8945 TSIG, RFC 2931 SIG(0)), which we cannot
 * authenticate: NOTAUTH (with *t set for TSIG, RFC 8945 §5.3.2), or
 * FORMERR when a TSIG is not the last record or is malformed. 0
 * (NOERROR) for an unsigned query. tsig.c. */
uint16_t rw__signed_query(const struct rw_msg *q, struct rw__tsig_error *t);

#endif
