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
#include "rootwalk/netaddr.h"
#include "rootwalk/msg.h"
#include "rootwalk/zone.h"

#include <sys/socket.h>

/* CNAME chain bound inside local data (each hop is one lookup). */
#define RW_QUERY_CNAME_MAX 16
/* A/AAAA sets larger than this are not rotated. */
#define RW_QUERY_ROTATE_MAX 64
/* CNAME chain bound when assembling an answer from cached pieces. */
#define RW_QUERY_CACHE_CNAME_MAX 8

/* Query types counted one by one (by_type); the rest is "other". */
#define RW_QSTAT_TYPES 11
extern const uint16_t rw_qstat_types[RW_QSTAT_TYPES - 1];

/* Per-worker counters: plain integers, summed by whoever reads them. */
struct rw_query_stats {
	uint64_t queries;
	uint64_t dropped;
	uint64_t rcode[6]; /* NOERROR .. REFUSED */
	uint64_t badvers;
	uint64_t truncated;
	uint64_t by_type[RW_QSTAT_TYPES]; /* rw_qstat_types order, then other */
	uint64_t by_transport[2];         /* UDP, TCP */
	uint64_t acl_refused;             /* clients outside --allow */
};

/* A forwarding route: names at or under name go to upstream group. */
struct rw_route {
	uint8_t name[RW_NAME_MAX]; /* lower-case wire form */
	unsigned group;
};

/* The question of a request that needs an upstream answer, as filled in
 * by rw_query_process() when it returns RW_QUERY_FORWARD. Identical
 * questions (same group, name, type, class) may share one upstream query. */
struct rw_query_forward {
	unsigned group;
	uint8_t qname[RW_NAME_MAX]; /* lower-case */
	size_t qname_len;
	uint16_t qtype, qclass;
};

struct rw_query_env {
	const struct rw_zoneset *zones; /* borrowed; immutable */
	struct rw_cache *cache;         /* borrowed, shared; NULL: no cache */
	struct rw_cache_stats cache_stats;
	uint16_t edns_size;    /* our UDP payload limit (1232) */
	struct rw_arena arena; /* reset for every request */
	struct rw_query_stats stats;
	/* Forwarding: the longest matching route wins, else default_group
	 * (-1: none; such misses are REFUSED). Borrowed. With any route,
	 * replies carry RA=1. */
	const struct rw_route *routes;
	size_t nroutes;
	int default_group;
	struct rw_query_forward fwd; /* set on RW_QUERY_FORWARD */
	bool round_robin;            /* rotate A/AAAA order (default on) */
	unsigned rotation;
	/* Access control: set per request by the caller (NULL: trusted).
	 * Clients outside acl get REFUSED, or local zones only when
	 * local_from_any. */
	const struct sockaddr *client;
	const struct rw_netblock *acl;
	size_t nacl;
	bool local_from_any;
	/* Filled per request when log_queries: what the query log prints. */
	bool log_queries;
	struct {
		uint8_t qname[RW_NAME_MAX];
		uint16_t qtype, rcode;
		bool valid;
	} last;
};

enum rw_query_result {
	RW_QUERY_DROP = 0,  /* send nothing */
	RW_QUERY_REPLY = 1, /* *out_len bytes in out */
	/* Nothing written: env->fwd names the question to ask upstream;
	 * keep the request bytes and finish with rw_query_finish(). */
	RW_QUERY_FORWARD = 2,
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

/* Writes the query to send upstream for f: ID 0 (the transport picks
 * one), RD=1, EDNS0 with env->edns_size. Returns the length, 0 if cap is
 * too small. */
size_t rw_query_upstream_request(const struct rw_query_env *env, const struct rw_query_forward *f,
                                 uint8_t *out, size_t cap);

/* Checks an upstream reply to f and caches what it proves. Accepted: a
 * response to the same question (name compared case-insensitively, same
 * type and class), opcode QUERY, not truncated, rcode NOERROR or NXDOMAIN.
 * Cached: the answer-section RRsets along the CNAME chain from the
 * question (rank by AA), and a negative entry (NXDOMAIN for the last name,
 * or NODATA for it and the type) when the authority section has the
 * zone's SOA (RFC 2308 §5; without one nothing negative is cached).
 * Nothing from the authority or additional sections is cached otherwise.
 * Returns 0, RW_EMALFORMED (garbage, or not a reply to f) or RW_ELIMIT
 * (SERVFAIL, REFUSED or another failure rcode). Uses env's arena. */
int rw_query_upstream_accept(struct rw_query_env *env, const struct rw_query_forward *f,
                             const uint8_t *resp, size_t resp_len);

/* Builds the reply to a request that got RW_QUERY_FORWARD, from an
 * upstream reply that passed rw_query_upstream_accept() or, with resp NULL,
 * a SERVFAIL (with ede, when given and the client speaks EDNS). The client gets its own ID, its own
 * letter case in the question and the owner names equal to it, RA=1, the answer section and, for a
 * negative answer, the SOA; sized to the client's limit like rw_query_process (TC when the answer
 * does not fit over UDP). */
enum rw_query_result rw_query_finish(struct rw_query_env *env, const uint8_t *req, size_t len,
                                     enum rw_transport transport, const uint8_t *resp,
                                     size_t resp_len, const struct rw_ede *ede, uint8_t *out,
                                     size_t out_cap, size_t *out_len);

/* Turns a reply built by rw_query_process/finish into a rate-limit "slip"
 * in place: the header with TC=1 and the question only ("ask again over
 * TCP", as BIND's response-rate-limit slip). Returns the new length (0 when
 * len is shorter than a header). */
size_t rw_query_slip(uint8_t *reply, size_t len);

#endif
