/* dnstap (dnstap.info): every client query and response, and every query
 * to and reply from a forwarder or an authoritative server, as
 * dnstap.Dnstap protobuf messages in a Frame Streams ("protobuf:
 * dnstap.Dnstap") to a unix socket (a collector: fstrm_capture, vector,
 * dnstap-receiver) or to a file (read with `dnstap-read`).
 *
 * libfstrm does the transport: its I/O thread writes, reconnects to a
 * socket that was not there or went away, and never blocks a worker --
 * each worker submits to its own queue, and a full queue
 * drops the message (counted). The protobuf encoding of the two messages
 * used is written here (rw_dnstap_encode): eight field kinds of one fixed
 * schema, where protobuf-c would add a code generator and a library for
 * the same bytes.
 *
 * Threading: rw_dnstap_open/close on the main thread, before the workers
 * start and after they stop; rw_dnstap_log on the queue's worker only. */
#ifndef ROOTWALK_DNSTAP_H
#define ROOTWALK_DNSTAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <time.h>

/* dnstap.Message.Type values used here. */
enum rw_dnstap_type {
	RW_DNSTAP_RESOLVER_QUERY = 3,
	RW_DNSTAP_RESOLVER_RESPONSE = 4,
	RW_DNSTAP_CLIENT_QUERY = 5,
	RW_DNSTAP_CLIENT_RESPONSE = 6,
	RW_DNSTAP_FORWARDER_QUERY = 7,
	RW_DNSTAP_FORWARDER_RESPONSE = 8,
};

/* One event. peer: the client (CLIENT_*) or the server asked (the others);
 * msg: the DNS message, verbatim; zone: the zone a resolver query was for
 * (wire form), or NULL; query_time: a response's query's time, or NULL. */
struct rw_dnstap_event {
	enum rw_dnstap_type type;
	bool tcp;
	const struct sockaddr *peer;
	const uint8_t *msg;
	size_t len;
	const uint8_t *zone;
	const struct timespec *query_time;
	struct timespec now;
};

/* Encodes one dnstap.Dnstap message (identity and version: NULL or text)
 * into out. Returns its length, or 0 when cap is too small (cap of
 * ev->len + 768 always suffices). */
size_t rw_dnstap_encode(const struct rw_dnstap_event *ev, const char *identity, const char *version,
                        uint8_t *out, size_t cap);

struct rw_dnstap;
struct rw_dnstap_queue;

/* A writer to socket_path (a unix socket) or file_path (exactly one),
 * with nqueues input queues. 0, or RW_EIO with the reason in err. */
int rw_dnstap_open(const char *socket_path, const char *file_path, unsigned nqueues,
                   const char *identity, const char *version, struct rw_dnstap **out, char *err,
                   size_t err_len);
struct rw_dnstap_queue *rw_dnstap_queue(struct rw_dnstap *d, unsigned i);
/* Logs one event on the queue's thread; never blocks (a full queue drops
 * it). The event's `now` is filled here. */
void rw_dnstap_log(struct rw_dnstap_queue *q, struct rw_dnstap_event *ev);
/* Messages sent and dropped (full queues), for /metrics. */
void rw_dnstap_counts(struct rw_dnstap *d, uint64_t *sent, uint64_t *dropped);
/* Flushes what is queued and closes. NULL: nothing. */
void rw_dnstap_close(struct rw_dnstap *d);

#endif
