/* What the resolver knows about each upstream server, shared by workers.
 *
 * One record per server address and port: smoothed RTT and its variance
 * (RFC 6298 style), timeouts in a row with an exponential back-off, EDNS
 * support, whether it answered only over TCP, and the one zone it was last
 * found lame for. Records expire (RW_INFRA_TTL_MS after their last update)
 * so a server that was down gets a fresh start.
 *
 * Locking and ownership: one mutex guards the table; every call copies in
 * or out under it and never holds it outside the call. Records are owned by
 * the table. The clock is the caller's (milliseconds, monotonic). */
#ifndef ROOTWALK_INFRA_H
#define ROOTWALK_INFRA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RW_INFRA_RTO_INITIAL_MS 400 /* unknown server */
#define RW_INFRA_RTO_MIN_MS 150
#define RW_INFRA_RTO_MAX_MS 3000
#define RW_INFRA_TTL_MS (15 * 60 * 1000)
/* A lame mark (a server that does not serve a zone it was delegated)
 * lasts this long: minutes, so one bad stretch does not hide a server for
 * the record's whole life. */
#define RW_INFRA_LAME_MS (2 * 60 * 1000)
/* A server that answered anything this recently is alive: timeouts for
 * some names (a server that drops one name, or is slow on it) are about
 * those names, not the server. */
#define RW_INFRA_ALIVE_MS (30 * 1000)

struct rw_infra;

/* A snapshot of one server's record. */
struct rw_infra_info {
	bool known;
	uint32_t srtt_ms;          /* smoothed RTT (valid when known) */
	uint32_t rto_ms;           /* the timeout to use for the next try */
	uint32_t timeouts;         /* in a row */
	uint32_t strikes;          /* of them, for different questions */
	uint64_t backoff_until_ms; /* do not use before this (dead) */
	uint64_t replied_ms;       /* the last answer of any kind (0: none) */
	bool no_edns;
	bool tcp_only;
	uint32_t lame_zone_hash; /* rw_name_hash of the zone, 0: none */
	uint64_t lame_until_ms;  /* the lame mark holds until then */
};

struct rw_infra *rw_infra_new(size_t max_records);
void rw_infra_free(struct rw_infra *t);

void rw_infra_get(struct rw_infra *t, const struct sockaddr *sa, uint64_t now_ms,
                  struct rw_infra_info *out);
/* A reply arrived after rtt_ms: updates SRTT/RTTVAR, clears timeouts. */
void rw_infra_rtt(struct rw_infra *t, const struct sockaddr *sa, uint32_t rtt_ms, uint64_t now_ms);
/* A try for question qhash timed out: doubles the timeout (bounded).
 * Timeouts in a row for 3 different questions back the server off for
 * 2^(n-3) s, at most 60 s: repeated tries of one question (a name the
 * server drops) are evidence about that name, not the server. */
void rw_infra_timeout(struct rw_infra *t, const struct sockaddr *sa, uint32_t qhash,
                      uint64_t now_ms);
/* True when the server answered anything within RW_INFRA_ALIVE_MS. */
bool rw_infra_is_alive(const struct rw_infra_info *i, uint64_t now_ms);
void rw_infra_set_no_edns(struct rw_infra *t, const struct sockaddr *sa, uint64_t now_ms);
void rw_infra_set_tcp_only(struct rw_infra *t, const struct sockaddr *sa, uint64_t now_ms);
/* Marks the server lame for the zone (by rw_name_hash) for
 * RW_INFRA_LAME_MS. */
void rw_infra_set_lame(struct rw_infra *t, const struct sockaddr *sa, uint32_t zone_hash,
                       uint64_t now_ms);
/* True when the record says the server is lame for the zone now. */
bool rw_infra_is_lame(const struct rw_infra_info *i, uint32_t zone_hash, uint64_t now_ms);
size_t rw_infra_count(struct rw_infra *t);
/* Forgets every record; returns how many there were. */
size_t rw_infra_flush(struct rw_infra *t);
/* Forgets the records of one server: sa's address and port, or with
 * any_port its address on every port. Returns how many. */
size_t rw_infra_forget(struct rw_infra *t, const struct sockaddr *sa, bool any_port);
/* Calls cb with one line per live record ("ADDR#PORT srtt=.. rto=..
 * timeouts=.. [backoff=..ms] [no-edns] [tcp-only] [lame=..ms]") under the
 * table's lock; cb must not call the table. Returns the count. */
size_t rw_infra_dump(struct rw_infra *t, uint64_t now_ms, void (*cb)(void *ctx, const char *line),
                     void *ctx);

#endif
