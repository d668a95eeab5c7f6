/* Per-client response rate limiting: token buckets, a verdict per reply.
 *
 * A direct-mapped table of buckets keyed by client (IPv4 /32, IPv6 /56);
 * a new client takes over a slot. Each client may send `rate` responses
 * per second with a burst of one second's worth. Over the limit, every
 * other response is a SLIP (the caller sends an empty TC=1 reply: a real
 * client retries over TCP, a spoofed victim gets nothing bigger than its
 * query) and the rest are DROPped. Knows nothing about DNS or sockets.
 *
 * Threading: one table per worker thread, no locks. So a client whose
 * queries SO_REUSEPORT spreads over N workers can get up to N times the
 * rate (src/DESIGN.md). */
#ifndef ROOTWALK_RATELIMIT_H
#define ROOTWALK_RATELIMIT_H

#include <stdint.h>
#include <sys/socket.h>

enum rw_rl_verdict { RW_RL_PASS = 0, RW_RL_SLIP = 1, RW_RL_DROP = 2 };

struct rw_ratelimit;

/* A table for rate responses per second per client (rate > 0). NULL on
 * allocation failure. */
struct rw_ratelimit *rw_ratelimit_new(uint32_t rate);
void rw_ratelimit_free(struct rw_ratelimit *rl);
/* Takes one response from sa's bucket at now_ms (a monotonic clock). */
enum rw_rl_verdict rw_ratelimit_check(struct rw_ratelimit *rl, const struct sockaddr *sa,
                                      uint64_t now_ms);

#endif
