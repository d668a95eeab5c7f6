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

#endif
