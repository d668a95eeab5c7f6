/* Answering one client query, without I/O.
 *
 * rw_query_process() takes the bytes of a request and writes the bytes of
 * the reply (or says to drop it). It applies the server's admission rules
 * (RFC 1035 §4.1.1, RFC 6891, RFC 8482) and answers from local zones. It
 * never touches sockets, never blocks and allocates only from the worker's
 * arena, which it resets per request. The listeners (server.c) call it for
 * UDP datagrams and TCP frames alike.
 *
 * Threading: one struct rw_query_env per worker thread. The zone set it
 * points to is shared and immutable. */
#ifndef ROOTWALK_QUERY_H
#define ROOTWALK_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/arena.h"
#include "rootwalk/cache.h"
#include "rootwalk/zone.h"

/* CNAME chain bound inside local data (each hop is one lookup). */
#define RW_QUERY_CNAME_MAX 16
/* CNAME chain bound when assembling an answer from cached pieces. */
#define RW_QUERY_CACHE_CNAME_MAX 8

/* Per-worker counters: plain integers, summed by whoever reads them. */
struct rw_query_stats {
	uint64_t queries;
	uint64_t dropped;
	uint64_t rcode[6]; /* NOERROR .. REFUSED */
	uint64_t badvers;
	uint64_t truncated;
};

struct rw_query_env {
	const struct rw_zoneset *zones; /* borrowed; immutable */
	struct rw_cache *cache;         /* borrowed, shared; NULL: no cache */
	struct rw_cache_stats cache_stats;
	uint16_t edns_size;    /* our UDP payload limit (1232) */
	struct rw_arena arena; /* reset for every request */
	struct rw_query_stats stats;
};

enum rw_query_result {
	RW_QUERY_DROP = 0,  /* send nothing */
	RW_QUERY_REPLY = 1, /* *out_len bytes in out */
};

enum rw_transport { RW_TRANSPORT_UDP = 0, RW_TRANSPORT_TCP = 1 };

void rw_query_env_init(struct rw_query_env *env, const struct rw_zoneset *zones,
                       uint16_t edns_size);
void rw_query_env_fini(struct rw_query_env *env);

/* Processes one request. out must hold 65535 bytes for TCP; for UDP the
 * reply is sized to the client's limit (512 without EDNS, else
 * min(client, env->edns_size), at least 512), with TC set when the answer
 * does not fit. */
enum rw_query_result rw_query_process(struct rw_query_env *env, const uint8_t *req, size_t len,
                                      enum rw_transport transport, uint8_t *out, size_t out_cap,
                                      size_t *out_len);

#endif
