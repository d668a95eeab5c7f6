/* Answering one client query, without I/O.
 *
 * rw_query_process() takes the bytes of a request and writes the bytes of
 * the reply (or says to drop it). It applies the server's admission rules
 * (RFC 1035 §4.1.1, RFC 6891, RFC 8482) and answers from local zones and
 * the cache. It never touches sockets, never blocks and allocates only from
 * the worker's arena, which it resets per request. The listeners
 * (src/daemon/listen.c) call it for UDP datagrams and TCP frames alike.
 *
 * A request that needs upstream, end to end (the daemon only moves bytes
 * and timers):
 *   rw_query_process(bytes) -> RW_QUERY_UPSTREAM: env->request is the
 *       request, parsed once and routed once (forward group or iteration).
 *   The daemon keeps that struct rw_request while the client waits, and
 *   joins identical questions (rw_request_question(), flight.h). For the
 *   first of them it produces the upstream work:
 *     RW_ROUTE_FORWARD: rw_forward_query() to the group's servers, whose
 *         reply rw_forward_accept() consumes once -> an rw_answer;
 *     RW_ROUTE_ITERATE: an rw_res (iter.h), which ends in an rw_answer.
 *   Both cache through one rule set (ingest.h). rw_query_finish(request,
 *   answer) then writes each waiting client's reply, parsing nothing.
 *
 * Threading: one struct rw_query_env per worker thread. The zone set it
 * points to is shared and immutable. */
#ifndef ROOTWALK_QUERY_H
#define ROOTWALK_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rootwalk/answer.h"
#include "rootwalk/arena.h"
#include "rootwalk/cache.h"
#include "rootwalk/failcache.h"
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

/* Query types counted one by one (by_type; CoreDNS's list and HTTPS);
 * the rest is "other". */
#define RW_QSTAT_TYPES 19
extern const uint16_t rw_qstat_types[RW_QSTAT_TYPES - 1];
/* The by_type slot of a query type: rw_qstat_types order, else the last. */
unsigned rw_qstat_index(uint16_t qtype);

/* Where a reply's answer came from (metrics and query logs): the server
 * itself (local zones, identity, every refusal and error it makes), the
 * cache (a failure held there too), expired cache data (RFC 8767), or an
 * upstream answer (forwarded or resolved). */
enum rw_source {
	RW_SOURCE_LOCAL = 0,
	RW_SOURCE_CACHE,
	RW_SOURCE_STALE,
	RW_SOURCE_UPSTREAM,
	RW_SOURCES
};
extern const char *const rw_source_names[RW_SOURCES];

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
	uint64_t failures_cached;         /* SERVFAIL from the failure cache */
	uint64_t formerr_header;          /* FORMERR from the header alone (counts) */
	uint64_t signed_refused;          /* TSIG/SIG(0): NOTAUTH (no keys) or FORMERR */
	uint64_t parse_limit;             /* FORMERR: past the compression pointer bounds */
	uint64_t stale_served;            /* answered from expired data (RFC 8767) */
	uint64_t autopath;                /* search names completed here (--autopath) */
	uint64_t aaaa_filtered;           /* AAAA answered NODATA (--filter-aaaa) */
	uint64_t chaos;                   /* CHAOS TXT identity answered */
};

enum rw_transport { RW_TRANSPORT_UDP = 0, RW_TRANSPORT_TCP = 1 };

/* A forwarding route: names at or under name go to upstream group. */
struct rw_route {
	uint8_t name[RW_NAME_MAX]; /* lower-case wire form */
	unsigned group;
	/* The zone's own caps on the TTLs of its replies: positive records
	 * (0: none), and the SOA of negative answers (when neg_cap). Zeroed:
	 * no caps. */
	uint32_t max_ttl;
	bool neg_cap;
	uint32_t max_neg_ttl;
};

/* How a request the local zones and the cache cannot answer is resolved;
 * decided once, by the core (rw_query_process). */
enum rw_route_kind {
	RW_ROUTE_NONE = 0, /* nowhere: REFUSED */
	RW_ROUTE_FORWARD,  /* to upstream group `group` (c-ares) */
	RW_ROUTE_ITERATE,  /* from the root (iter.h) */
};

/* What identical requests share while one upstream answer is awaited: the
 * lower-cased question and its route (the in-flight table's key).
 *
 * cd: a forwarded request with CD=1 (RFC 4035 §3.2.2) is its own
 * question: it goes upstream with CD=1, so a validating upstream answers
 * it unchecked, and that answer is given to CD=1 clients only -- not
 * cached, not shared with CD=0 clients, and its failures are held apart.
 * Iteration asks authoritative servers, which check nothing: cd is false
 * there and every client shares one question. */
struct rw_question {
	enum rw_route_kind route;
	unsigned group; /* RW_ROUTE_FORWARD */
	uint8_t qname[RW_NAME_MAX];
	size_t qname_len;
	uint16_t qtype, qclass;
	bool cd;
};

/* Added to a CD=1 question's failure cache tag (rw_question_tag). */
#define RW_QUESTION_TAG_CD 0x10000u

/* One client's request waiting for an upstream answer: everything its
 * reply needs, parsed once by rw_query_process (the request bytes are not
 * kept). Plain data: copy it where the request waits. */
struct rw_request {
	enum rw_route_kind route;
	unsigned group;
	uint16_t id;
	uint16_t flags; /* the client's RD and CD */
	uint16_t qtype, qclass;
	uint16_t udp_limit; /* reply size over UDP: 512, or the EDNS size clamped */
	bool edns, do_bit;
	/* The cache holds expired data for the question (RFC 8767): if the
	 * refresh fails or is late, the client gets that. */
	bool stale;
	enum rw_transport transport;
	uint8_t qname_len;
	uint8_t qname[RW_NAME_MAX]; /* the client's letter case */
	/* A local CNAME chain led out of local data: the name upstream is
	 * asked about (lower-case), whose answer follows the chain (0: the
	 * question itself). */
	uint8_t target_len;
	uint8_t target[RW_NAME_MAX];
	bool autopath; /* the chain is autopath's CNAME from qname to target */
	bool nsid;     /* the client asked for the NSID (RFC 5001) */
};

/* The question r waits for (lower-cased). */
void rw_request_question(const struct rw_request *r, struct rw_question *q);
/* The failure cache's tag for a question's route: 0 for iteration, the
 * forward group + 1 (plus RW_QUESTION_TAG_CD for a CD=1 question). */
unsigned rw_question_tag(const struct rw_question *q);

struct rw_query_env {
	const struct rw_zoneset *zones; /* borrowed; immutable */
	struct rw_cache *cache;         /* borrowed, shared; NULL: no cache */
	struct rw_cache_stats cache_stats;
	uint16_t edns_size;    /* our UDP payload limit (1232) */
	struct rw_arena arena; /* reset for every request */
	struct rw_query_stats stats;
	/* Misses: the longest matching forward route wins, else the default
	 * (RW_ROUTE_NONE: REFUSED). Borrowed. With any route, replies carry
	 * RA=1. */
	const struct rw_route *routes;
	size_t nroutes;
	enum rw_route_kind default_route;
	unsigned default_group;    /* default_route RW_ROUTE_FORWARD */
	struct rw_request request; /* filled on RW_QUERY_UPSTREAM */
	/* Set with an RW_QUERY_REPLY from cached data near its end (less than
	 * the cache's prefetch share of its TTL left): request is filled, and
	 * the daemon refreshes it in the background (no client waits). */
	bool prefetch;
	/* TTL clamps for answers from upstream, the first one as much as the
	 * cached ones (--min-ttl, --max-ttl, --max-negative-ttl). */
	uint32_t min_ttl, max_ttl, max_neg_ttl;
	/* Failures held (RFC 9520), shared; NULL: none kept. Borrowed. */
	struct rw_failcache *failures;
	/* Serve-stale (RFC 8767): the TTL of a stale answer's records (the
	 * cache keeps expired data for its stale window; 0 there: off). */
	uint32_t stale_ttl;
	bool round_robin; /* rotate A/AAAA order (default on) */
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
	/* Server-side search completion (--autopath): the cluster zone
	 * (lower-case wire form; NULL: off). A client whose address has a pod
	 * name in namespace NS (ADDR.NS.pod.ZONE) asking NAME.NS.svc.ZONE,
	 * which does not exist, is answered for the next search name that
	 * does -- NAME.svc.ZONE, NAME.ZONE, NAME -- through a CNAME. */
	const uint8_t *autopath_zone;
	/* --filter-aaaa: AAAA questions for names outside the local zones are
	 * answered NODATA at once (IPv4-only clusters). */
	bool filter_aaaa;
	/* Identity (issue 14): the NSID a client asking for one gets (RFC
	 * 5001; NULL: none), and the CHAOS TXT answers for id.server. and
	 * hostname.bind. (identity) and version.bind./version.server.
	 * (version); NULL: REFUSED. Borrowed, NUL-terminated. */
	const char *nsid;
	const char *identity;
	const char *version;
	/* The last reply, for the daemon's metrics and logs: its type,
	 * rcode and source always (qtype 0: none parsed); its name (valid)
	 * when log_queries. */
	struct {
		uint8_t qname[RW_NAME_MAX];
		uint16_t qtype, qclass, rcode;
		uint8_t qidx; /* rw_qstat_index(qtype) */
		enum rw_source source;
		bool do_bit;
		bool valid;
	} last;
};

enum rw_query_result {
	RW_QUERY_DROP = 0,  /* send nothing */
	RW_QUERY_REPLY = 1, /* *out_len bytes in out */
	/* Nothing written: env->request is the parsed request, routed;
	 * it waits for an rw_answer and ends with rw_query_finish(). */
	RW_QUERY_UPSTREAM = 2,
};

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

/* Builds a waiting request's reply from the answer to its question (ans
 * NULL: SERVFAIL): the client's own ID and letter case (in the question
 * and in owner names equal to it), RA=1, the answer and authority
 * sections, the EDE of a SERVFAIL when the client speaks EDNS; sized to the
 * client's limit like rw_query_process (TC when the answer does not fit
 * over UDP). Parses nothing; rw_answer_in_cache() is answered from
 * the cache's fresh data. A failure (NULL or SERVFAIL, which is also
 * what a late refresh gives) is answered from stale data when the cache has it
 * (RFC 8767: EDE 3, or 19 for NXDOMAIN, TTL env->stale_ttl). */
enum rw_query_result rw_query_finish(struct rw_query_env *env, const struct rw_request *req,
                                     const struct rw_answer *ans, uint8_t *out, size_t out_cap,
                                     size_t *out_len);

/* Whether the cache holds a fresh answer to q now: its data, positive or
 * negative, or a CNAME chain to it. A question's new flight asks before
 * going upstream, as the previous flight may have stored the answer
 * between a client's miss and its join; the waiters then get
 * rw_answer_in_cache(), which rw_query_finish answers from the cache.
 * Counts no lookup. */
bool rw_query_cached(struct rw_query_env *env, const struct rw_question *q);

/* Fills req for a background refresh of (qname, qtype) -- the keep-warm
 * list: routed as a client's miss would be, RD=1. False when it has no
 * route. */
bool rw_query_refresh_request(const struct rw_query_env *env, const uint8_t *qname, uint16_t qtype,
                              struct rw_request *req);

/* Turns a reply built by rw_query_process/finish into a rate-limit "slip"
 * in place: the header with TC=1 and the question only ("ask again over
 * TCP", as BIND's response-rate-limit slip). Returns the new length (0 when
 * len is shorter than a header). */
size_t rw_query_slip(uint8_t *reply, size_t len);

#endif
