/* Private to src/daemon: the worker and server structs and the functions
 * the daemon's files share (rw__ prefix). Not an interface: nothing outside
 * this folder includes it.
 *
 * Who owns what:
 * - struct rw_server (server.c) owns the workers, the shared cache,
 *   in-flight table, infra records and hints, and the main thread's loop
 *   (signals, reloads, HTTP, control: ops.c, metrics.c).
 * - struct worker (worker.c) is one thread and one libuv loop: its
 *   listeners (listen.c), client sessions and replies (session.c), the
 *   clients waiting on upstream answers (pending.c), its counters
 *   (metrics.c). Nothing in it is touched by another thread except the
 *   mailbox and the snapshot, each under its own mutex.
 * - A struct conn (one TCP client) lives until its handles are closed and
 *   no waiter holds it (conn->waiting). */
#ifndef ROOTWALK_DAEMON_INT_H
#define ROOTWALK_DAEMON_INT_H

#include "rootwalk/answer.h"
#include "rootwalk/cache.h"
#include "rootwalk/config.h"
#include "rootwalk/flight.h"
#include "rootwalk/hints.h"
#include "rootwalk/iter.h"
#include "rootwalk/log.h"
#include "rootwalk/query.h"
#include "rootwalk/ratelimit.h"
#include "rootwalk/strbuf.h"
#include "rootwalk/wire.h"
#include "rootwalk/zone.h"
#include "wireproto.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct rw_http;
struct rw_control;
struct rw_iter;
struct rw_upstream;

#define TCP_BACKLOG 1024

/* Datagrams read per recvmmsg call: libuv hands each to udp_recv in turn,
 * so a busy worker makes one receive syscall per batch, not per query. */
#define UDP_RECV_BATCH 16

#define UDP_DGRAM_MAX 65536

/* Stop reading from a client whose unread replies pile up past this. */
#define TCP_PENDING_MAX (256 * 1024)

/* Clients waiting on one question (--max-outstanding bounds the questions);
 * past either bound a client gets SERVFAIL at once. */
#define FLIGHT_WAITERS_MAX 1000

/* Memory one worker keeps for clients waiting on upstream (waiters). */
#define WAITING_BYTES_MAX (32u << 20)

enum hkind { H_WORKER = 1, H_CONN = 2, H_UPQ = 3, H_PROBE = 4, H_OLDGROUPS = 5 };

/* What one configuration makes of the daemon (issue 12: reload
 * everything): the settings and what the workers derive from them.
 * Immutable once built. The first is built from the configuration main
 * read (borrowed); each reload builds one from the re-read file (owned)
 * and hands every worker a reference, the way zone sets are handed over:
 * a worker switches between two events and lets go of the old one. */
struct gen {
	_Atomic int refs;
	unsigned id;                 /* 0: the first; one more per reload */
	const struct rw_config *cfg; /* &own, or the one main read */
	struct rw_config own;
	bool owned;
	/* Forwarding: forward zones, then --forward's group. Groups are
	 * numbered from group_base; a reload that changes forwarding
	 * numbers its groups anew, so questions, holds (the failure cache
	 * keys on the group) and in-flight entries of the old groups never
	 * mix with the new ones. */
	struct rw_route *routes;
	size_t nroutes, ngroups;
	unsigned group_base;
	enum rw_route_kind default_route; /* forward, or recursion from the root */
	unsigned default_group;
	uint8_t autopath[RW_NAME_MAX]; /* --autopath, lower-case wire form */
	bool has_autopath;
	/* Identity: NSID (empty: none), CHAOS answers (empty: hidden). */
	char nsid[129], identity[256], version[256];
};

/* A forward group whose every upstream fails: while its failure is held
 * (RFC 9520), its clients get SERVFAIL at once, and this worker asks the
 * group in the background, once a second, until one answers. */
#define PROBE_MS 1000
struct gprobe {
	enum hkind kind; /* H_PROBE: timer.data */
	struct worker *w;
	unsigned group;
	uv_timer_t timer;
	int active;    /* the timer runs */
	int in_flight; /* a probe query is out */
};

/* The largest UDP reply: --edns-buffer-size is at most 4096. */
#define UDP_REPLY_MAX 4096

/* The replies to one recvmmsg batch, sent with one sendmmsg when libuv
 * says the batch is over (UV_UDP_MMSG_FREE): one send syscall per batch
 * instead of one per reply. */
#define BATCH_UNTIMED 0xFF

struct udp_batch {
	uv_udp_t *h; /* the socket the batch came in on */
	unsigned n;
	struct mmsghdr msg[UDP_RECV_BATCH];
	struct iovec iov[UDP_RECV_BATCH];
	struct sockaddr_storage addr[UDP_RECV_BATCH];
	uint8_t buf[UDP_RECV_BATCH][UDP_REPLY_MAX];
	/* Metrics: when the batch's first datagram was read (0: not yet, or
	 * not measured), and each reply's source and type slot (source
	 * BATCH_UNTIMED: timed elsewhere, e.g. an answer that waited
	 * upstream and was sent through the batch). */
	uint64_t t0;
	uint8_t src[UDP_RECV_BATCH], qidx[UDP_RECV_BATCH];
};

/* One client waiting for an upstream answer: where to send the reply and
 * the parsed request (struct rw_request; the request bytes are not kept).
 * Owned by the worker that received the request; it is linked into the
 * shared in-flight table and comes back to that worker (directly or
 * through its mailbox) once. */
struct waiter {
	struct rw_flight_waiter link; /* first */
	struct worker *w;
	uv_udp_t *udp; /* UDP: the socket it came in on, and the client */
	struct sockaddr_storage addr;
	struct conn *c;        /* TCP: the connection (kept alive by c->waiting) */
	struct rw_answer *ans; /* in a mailbox: the answer (a reference; NULL: SERVFAIL) */
	uint64_t t0;           /* when the request came in (uv_hrtime), if measured */
	uint16_t req_len;      /* the request's bytes (metrics) */
	uint64_t born_ms;      /* uv_now when it began to wait */
	int counted;           /* in the worker's per-address waiting counts */
	bool refresh;          /* a background refresh (prefetch, keep-warm): no client */
	struct rw_request req;
};

/* The leader's upstream work for one question: a forwarded query or a
 * resolution. Freed when both its callback has run and the deadline timer
 * is closed. */
struct upq {
	enum hkind kind; /* H_UPQ: deadline.data, late.data */
	struct worker *w;
	struct rw_question q;
	uv_timer_t deadline;
	/* RFC 8767's client-response timer, when the cache holds stale data
	 * for q: its waiters are answered from it if the refresh is late. */
	uv_timer_t late;
	bool late_on;
	bool stale; /* the cache held stale data for q when it started */
	int refs;
	int answered; /* the waiters have been taken and answered */
};

struct upstream_stats {
	uint64_t queries, replies, timeouts, failures, rejected, overloaded;
	uint64_t wait_refused;         /* a client address had --max-waiting-per-client waiting */
	uint64_t discarded;            /* replies later than --discard-timeout-ms, not sent */
	uint64_t stale_late;           /* waiters answered stale: the refresh was late */
	uint64_t stale_refresh_failed; /* refreshes of stale data that failed */
	uint64_t prefetches;           /* background refreshes: hits near expiry */
	uint64_t keep_warm;            /* background refreshes: the keep-warm list */
	uint64_t groups_broken;        /* a forward group's every server failed (held) */
	uint64_t recheck_hits;         /* a miss's answer landed before it joined: from the cache */
};

/* What /metrics says of client queries, counted for every reply sent
 * (no sampling), per worker. Latency is receive to reply. A UDP datagram
 * answered at once is timed with its recvmmsg batch: one clock read when
 * the batch's first datagram is read, one when its replies go out
 * together, so every reply of the batch has the batch's time (what the
 * client saw, less the network) at two clock reads per batch. TCP
 * queries and answers that waited for upstream are timed one by one.
 *
 * Latency bounds (µs): 50, 100, then 250 x 2^k for k = 0..15 -- the last
 * sixteen are CoreDNS's (ExponentialBuckets(0.00025, 2, 16)), so one
 * histogram serves both families. Sizes: CoreDNS's bounds. */
#include "lat.h"
#define SIZE_BUCKETS 14
#define RCODES 7 /* NOERROR .. REFUSED, then other */

extern const unsigned rw__size_bounds[SIZE_BUCKETS];

struct latency {
	uint64_t bucket[RW_SOURCES][LAT_BUCKETS + 1]; /* the last: over every bound */
	uint64_t count[RW_SOURCES], sum_ns[RW_SOURCES];
	uint64_t type_bucket[RW_QSTAT_TYPES][LAT_BUCKETS + 1];
	uint64_t type_sum_ns[RW_QSTAT_TYPES];
	uint64_t requests[2][2][RW_QSTAT_TYPES]; /* transport, family (IPv4, IPv6), type */
	uint64_t responses[RCODES][RW_SOURCES];
	uint64_t req_size[2][SIZE_BUCKETS + 1], resp_size[2][SIZE_BUCKETS + 1];
	uint64_t req_bytes[2], resp_bytes[2];
	uint64_t do_requests;
	uint64_t cache_hits[2]; /* per client query: success, denial */
	uint64_t cache_misses;  /* per client query: went upstream */
};

struct rl_stats {
	uint64_t slipped, dropped;
};

/* TCP slots (tcpslots.c): connections closed or refused, by reason. */
struct tcp_stats {
	uint64_t evicted, full_refused, per_client_refused, idle_closed, lifetime_closed;
};

struct retired {
	struct retired *next;
	struct rw_zoneset *zones; /* or NULL */
	struct gen *gen;          /* or NULL */
};

/* --- gen.c: the settings a configuration makes (struct gen) -------------- */

/* Builds the settings for a configuration: own (moved into the result,
 * or freed on failure; zeroed either way), or when own is NULL cfg
 * (borrowed for the result's life). prev: the settings served so far
 * (NULL: the first), whose group numbers are kept when forwarding did not
 * change. RW_EINVAL with a message. */
int rw__gen_new(const struct rw_config *cfg, struct rw_config *own, const struct gen *prev,
                struct gen **out, char *err, size_t err_len);
struct gen *rw__gen_ref(struct gen *g);
/* The cache settings a configuration makes (creation, and a reload's
 * policy: rw_cache_set_policy takes the policy part). */
void rw__cache_config_of(const struct rw_config *cfg, struct rw_cache_config *cc);
void rw__gen_unref(struct gen *g);
/* Whether forwarding (its upstream groups) differs between a and b. */
bool rw__gen_forward_changed(const struct gen *a, const struct gen *b);
/* The zone group g serves (its forward zone, or the root), when g is one
 * of gen's groups; else NULL. */
const uint8_t *rw__gen_group_zone(const struct gen *gen, unsigned g);

/* What a worker publishes for /metrics: a copy of its counters, taken on
 * its own thread every SNAPSHOT_MS under snap_lock, so the main thread
 * reads consistent numbers without touching the worker's live ones. */
#define SNAPSHOT_MS 250

struct snapshot {
	struct rw_query_stats q;
	struct rw_cache_stats c;
	struct upstream_stats up;
	struct rw_res_stats rs;
	struct latency lat;
	struct rl_stats rl;
	struct tcp_stats tcp;
};

/* Upstream groups a reload replaced: kept until every query sent on them
 * had its deadline (the longest budget of them), so a reload drops
 * nothing, then closed and freed. */
struct oldgroups {
	enum hkind kind; /* H_OLDGROUPS: timer.data */
	struct worker *w;
	struct oldgroups *next;
	struct rw_upstream **groups;
	size_t n;
	struct gprobe *probes; /* one per group */
	uv_timer_t timer;
	int open;    /* handles still to close */
	int closing; /* close_old ran */
};

struct rw_dnstap;
struct rw_dnstap_queue;

struct worker {
	enum hkind kind; /* first: handle->data points here */
	struct rw_server *srv;
	/* The settings this worker serves with (a reference), and the next
	 * ones a reload handed over (under mail_lock). */
	struct gen *gen, *next_gen;
	struct oldgroups *old_groups;
	unsigned index;
	uv_thread_t thread;
	uv_loop_t loop;
	uv_async_t stop;
	/* Listening sockets: usually one UDP and one TCP per listen address;
	 * after a takeover from more workers, some workers have more. */
	size_t nudp, ntcp;
	uv_udp_t *udp;
	uv_tcp_t *tcp;
	int *udp_fds, *tcp_fds;
	unsigned *udp_li, *tcp_li; /* each one's listen address */
	uv_async_t drain_async;    /* the process handed over: stop reading */
	unsigned tcp_conns, tcp_limit, tcp_per_client;
	struct conn *lru_head, *lru_tail; /* by last complete query, oldest first */
	struct peer **peers;              /* connections per client address */
	struct peer **waiting_peers;      /* waiting queries per client address */
	unsigned wait_per_client;
	struct tcp_stats tcp_stats;
	int loop_close_rc;
	int loop_inited;
	struct rw_query_env env;
	uint8_t *rbuf; /* UDP_RECV_BATCH datagrams of 64 KiB (recvmmsg) */
	uint8_t sbuf[65536];
	struct udp_batch batch;
	uv_check_t flush_check; /* flushes the batch once per loop iteration */
	/* Forwarding: one c-ares channel per upstream group; recursion. */
	struct rw_upstream **groups;
	struct gprobe *probes; /* one per group */
	struct rw_iter *iter;
	uint64_t iter_dropped; /* replies with the wrong ID (kept at close) */
	struct rw_res_env res_env;
	struct rw_res_stats res_stats;
	struct upstream_stats up;
	size_t waiting_bytes;
	struct rw_flight_waiter **split; /* per-worker lists, in deliver() */
	/* Rate limit (--rate-limit) and rate-limited logs. */
	struct rw_ratelimit *rl; /* NULL: off */
	struct rl_stats rl_stats;
	struct rw_log_limit drop_log, refuse_log, rl_log, event_log;
	struct rw_dnstap_queue *tap; /* --dnstap: this worker's queue (NULL: off) */
	/* Metrics (--http): latency measured per query, counters published. */
	int measure;
	struct latency lat;
	uv_timer_t snap_timer;
	uv_timer_t warm_timer; /* worker 0: the keep-warm list (--keep-warm) */
	uv_mutex_t snap_lock;
	struct snapshot snap;
	/* Zones: the set this worker serves (a reference), and the next one
	 * handed over by a reload (under mail_lock). */
	struct rw_zoneset *zones, *next_zones;
	uv_async_t zones_async;
	/* Mailbox: answered waiters handed over by other workers. */
	uv_mutex_t mail_lock;
	struct rw_flight_waiter *mail_head, **mail_tail;
	int mail_closed;
	uv_async_t mail_async;
};

struct rw_server {
	const struct rw_config *cfg;
	size_t nlisten;
	unsigned nworkers;
	struct worker **workers;
	struct rw_cache *cache;   /* shared by the workers */
	struct rw_flight *flight; /* shared by the workers */
	/* The settings being served (the main thread's reference; workers
	 * hold their own). cfg above is the configuration the daemon
	 * started with: what a reload cannot change is read from there. */
	struct gen *gen;
	int argc; /* what a reload reads again (NULL argv: zones only) */
	char **argv;
	uint64_t config_ok, config_failed; /* reloads of the configuration */
	/* Run-time forward zones (control forward-add/-remove), applied over
	 * the file at every reload until a restart: "+ZONE=ADDR..." or
	 * "-ZONE", in order. */
	char **fwd_ops;
	size_t nfwd_ops;
	struct rw_dnstap *dnstap; /* --dnstap (NULL: off) */
	bool restart_pending;     /* a reload saw a setting it cannot apply */
	struct rw_infra *infra;
	struct rw_failcache *failures; /* RFC 9520, shared by the workers */
	struct rw_hints hints;
	uv_loop_t loop; /* signals, zone reloads (and later HTTP, control) */
	uv_signal_t sigs[3];
	/* Zones: the set being served (one reference; each worker holds its
	 * own), reload counters, and the --watch-zones watchers. */
	struct rw_zoneset *zones;
	uint64_t reloads_ok, reloads_failed;
	uv_fs_event_t *watches;
	size_t nwatches;
	uv_timer_t reload_timer;
	uv_timer_t recheck_timer; /* --watch-interval-s */
	int reload_timer_inited;
	bool zones_bad;          /* the zone files' current content failed to load */
	uint64_t zones_bad_hash; /* ... this content */
	struct rw_http *http;
	struct rw_control *control;
	/* Zone sets workers let go of, freed here on the main thread (a
	 * large set takes milliseconds to free: never on a worker). */
	uv_mutex_t retire_lock;
	struct retired *retired;
	uv_async_t retire_async;
	int retire_inited;
	int running;          /* listeners bound and workers started: /ready */
	uint64_t started_ns;  /* uv_hrtime() at start: status's uptime */
	int64_t started_wall; /* time() at start: process_start_time_seconds */
	/* A restart that drops nothing (--takeover, takeover.c): the
	 * sockets the new process was handed, and the old one's pid. */
	struct inherited *inherit;
	size_t ninherit;
	int inherit_http, inherit_control; /* -1: none */
	long takeover_pid;
	/* The old process: it handed its sockets over; on SIGTERM it stops
	 * reading, finishes what is in flight and exits. */
	bool handed_over, draining;
	uv_timer_t drain_timer;
	uint64_t drain_start_ms;
	int drain_idle; /* checks in a row that found nothing in flight */
};

/* A listening socket handed over by the rootwalk we took over from. */
struct inherited {
	int fd;
	int type;    /* SOCK_DGRAM or SOCK_STREAM */
	unsigned li; /* the listen address it is bound to */
};

struct conn {
	enum hkind kind;
	struct worker *w;
	uv_tcp_t tcp;
	uv_timer_t timer;
	struct rw_tcpbuf in; /* received bytes not yet cut into queries */
	size_t pending;      /* bytes queued in uv_write */
	int open_handles;
	int closing;
	int reading;
	int eof; /* the client closed its side; close ours once replies are out */
	struct sockaddr_storage peer; /* the client, for --allow and logs */
	unsigned waiting;             /* its queries waiting upstream (waiters hold c) */
	int dead;                     /* handles closed; freed when the last waiter is done */
	/* Its slot (tcpslots.c): the worker's list by last complete query,
	 * when it opened, whether its client address is counted. */
	struct conn *lru_prev, *lru_next;
	uint64_t born_ms;
	int counted;
};

struct wreq {
	uv_write_t req;
	struct conn *c;
	size_t len;
	uint8_t data[];
};

/* --- tcpslots.c: who may hold a TCP slot, and for how long --------------- */

int rw__slots_init(struct worker *w);
void rw__slots_fini(struct worker *w);
/* A new connection (its peer known): true when it may stay (it is counted
 * and listed; a full worker may have closed another for it). */
bool rw__slots_admit(struct worker *w, struct conn *c);
/* A complete query came: it is the most recently useful; the timer
 * restarts. */
void rw__slots_active(struct conn *c);
/* (Re)starts the connection's timer: idle timeout, or its lifetime. */
void rw__slots_arm(struct conn *c);
/* The connection closes: no longer listed or counted. */
void rw__slots_release(struct conn *c);
/* Adds delta to the count of a client address (an IPv6 /64) in table and
 * returns the new count (delta 0: reads it). At 0 the entry goes. */
unsigned rw__addr_count(struct peer **table, const struct sockaddr_storage *ss, int delta);

/* --- listen.c: sockets and the receive side ------------------------------- */

/* Binds a UDP or TCP socket on a (main thread); RW_EIO with a message. */
int rw__listen_socket(const struct rw_sockaddr *a, int type, int reuseport, int *out, char *err,
                      size_t err_len);
/* Fails when anyone (another rootwalk included) holds a's port. */
int rw__listen_probe(const struct rw_sockaddr *a, char *err, size_t err_len);
/* Gives w its sockets for every listen address (main thread): its share
 * of the inherited ones, else a new SO_REUSEPORT socket of its own. */
int rw__listen_bind(struct rw_server *s, struct worker *w, char *err, size_t err_len);
/* The process handed its sockets over: stop reading them, stop
 * accepting, let TCP clients go once their answers are out (w's thread). */
void rw__listen_drain(struct worker *w);
/* Hands w's bound sockets to its loop and starts receiving. */
int rw__listen_start(struct rw_server *s, struct worker *w, char *err, size_t err_len);
/* Starts (again) reading from a TCP client. */
void rw__conn_resume(struct conn *c);

/* --- session.c: the send side -------------------------------------------- */

/* UDP replies are batched: they go out together (one sendmmsg) when a
 * recvmmsg batch ends, when the batch is full or another socket's reply
 * comes, and at the end of every loop iteration (a uv_check handle), so
 * no reply waits for the next poll. */
void rw__udp_send(struct worker *w, uv_udp_t *h, const struct sockaddr *addr, const uint8_t *msg,
                  size_t len);
/* A free reply slot of the worker's batch for socket h (UDP_REPLY_MAX
 * bytes), flushing the batch first if it is full or another socket's. */
uint8_t *rw__udp_batch_slot(struct worker *w, uv_udp_t *h);
/* Queues the reply written into the slot rw__udp_batch_slot gave. */
void rw__udp_batch_add(struct worker *w, const struct sockaddr *addr, size_t len);
/* Sends the batch (sendmmsg); what the socket does not take now is sent
 * one by one, and queued in libuv if the socket is full. */
void rw__udp_batch_flush(struct worker *w);
void rw__udp_flush_cb(uv_check_t *c);
/* --rate-limit: true to send reply as is; false when it was sent as a
 * TC=1 slip instead, or dropped (both counted and logged). */
bool rw__reply_allowed(struct worker *w, uv_udp_t *h, const struct sockaddr *sa, uint8_t *reply,
                       size_t len);
void rw__conn_send(struct conn *c, const uint8_t *msg, size_t len);
void rw__conn_close(struct conn *c);

/* --- cachefile_io.c: the cache file (issue 12) ------------------------------ */

/* Writes the cache to path atomically; msg says what happened. */
int rw__cache_save(struct rw_server *s, const char *path, char *msg, size_t msg_len);
/* Reads path into the cache; RW_ENOTFOUND when there is no such file, an
 * error when it is refused (nothing loaded); msg says what happened. */
int rw__cache_load(struct rw_server *s, const char *path, char *msg, size_t msg_len);

/* --- pending.c: clients waiting for upstream answers ---------------------- */

/* A request the core routed upstream (w->env.request): joins or leads the
 * question's in-flight entry. */
void rw__pending_forward(struct worker *w, uv_udp_t *udp, const struct sockaddr *addr,
                         struct conn *c, uint64_t t0, size_t req_len);
/* Starts a background refresh of req's question (prefetch, keep-warm)
 * unless one is in flight: upstream work with no client, which fills the
 * cache. True when one was started. */
bool rw__pending_refresh(struct worker *w, const struct rw_request *req);
void rw__pending_mail_cb(uv_async_t *a);
/* After the threads are joined: forgets mail that came too late. */
void rw__pending_drain(struct worker *w);
void rw__upq_timer_closed(uv_handle_t *h);

/* --- metrics.c: counters, latency, logs of queries, /metrics -------------- */

void rw__observe(struct latency *l, unsigned src, unsigned qidx, uint64_t ns);

/* Counts a reply sent to a client (w->env.last says what it was): t0 its
 * request's arrival (lat_now()), or 0 for a reply in the UDP batch, timed
 * when the batch goes out. Inline: it runs for every reply. */
static inline unsigned size_bucket(size_t n)
{
	if (n <= 400) /* bounds 0, 100, 200, 300, 400: most queries and replies */
		return (unsigned)((n + 99) / 100);
	unsigned i = 5;
	while (i < SIZE_BUCKETS && n > rw__size_bounds[i])
		i++;
	return i;
}

/* A denial: NXDOMAIN, or NOERROR without answers (NODATA), or a failure
 * held (SERVFAIL) -- CoreDNS's "denial" cache. */
static inline bool denial(uint16_t rcode, const uint8_t *reply, size_t len)
{
	if (rcode != RW_RCODE_NOERROR)
		return true;
	return len >= RW_HEADER_LEN && rw_get16(reply + 6) == 0;
}

static inline void rw__metrics_reply(struct worker *w, const struct sockaddr *client,
                                     enum rw_transport t, size_t req_len, const uint8_t *reply,
                                     size_t reply_len, uint64_t t0)
{
	struct latency *l = &w->lat;
	unsigned src = w->env.last.source < RW_SOURCES ? w->env.last.source : RW_SOURCE_LOCAL;
	unsigned qidx = w->env.last.qidx < RW_QSTAT_TYPES ? w->env.last.qidx : RW_QSTAT_TYPES - 1;
	unsigned fam = client != NULL && client->sa_family == AF_INET6;
	unsigned rc = w->env.last.rcode < RCODES - 1 ? w->env.last.rcode : RCODES - 1;
	l->requests[t][fam][qidx]++;
	l->responses[rc][src]++;
	l->req_size[t][size_bucket(req_len)]++;
	l->req_bytes[t] += req_len;
	l->resp_size[t][size_bucket(reply_len)]++;
	l->resp_bytes[t] += reply_len;
	l->do_requests += w->env.last.do_bit;
	if (src == RW_SOURCE_CACHE || src == RW_SOURCE_STALE)
		l->cache_hits[denial(w->env.last.rcode, reply, reply_len)]++;
	else if (src == RW_SOURCE_UPSTREAM)
		l->cache_misses++;
	if (t0 != 0) {
		rw__observe(l, src, qidx, lat_now() - t0);
	} else if (t == RW_TRANSPORT_UDP && w->batch.n > 0) {
		w->batch.src[w->batch.n - 1] = (uint8_t)src;
		w->batch.qidx[w->batch.n - 1] = (uint8_t)qidx;
	}
}

/* The UDP batch went out: its replies' latency. */
void rw__metrics_batch(struct worker *w, const struct udp_batch *b);
/* dnstap (--dnstap): a client's query as received, or the reply sent. */
void rw__tap_client(struct worker *w, bool response, const struct sockaddr *client, bool tcp,
                    const uint8_t *msg, size_t len);
/* One histogram's series: bk[LAT_BUCKETS + 1] from bound first on
 * (the earlier ones counted in), labels `k="v",` pairs (or ""). */
void rw__histogram(struct rw_buf *b, const char *name, const char *labels, const uint64_t *bk,
                   unsigned first, uint64_t sum_ns);
void rw__write_sizes(struct rw_buf *b, const char *name, const char *label, const char *more,
                     const uint64_t h[2][SIZE_BUCKETS + 1], const uint64_t *bytes);
/* --- upmetrics.c: per forwarder series ---------------------------------- */
void rw__upstats_write(struct rw_buf *b, unsigned families);
/* CoreDNS's families of the client-query counters (metrics_coredns.c). */
struct snapshot;
void rw__metrics_write_coredns(struct rw_server *s, struct rw_buf *b, const struct snapshot *t);
/* --log-queries: the line for a reply sent (reply: its bytes; t0: the
 * request's arrival or 0; upstream: the server that answered, or NULL). */
void rw__log_query(struct worker *w, const struct sockaddr *sa, enum rw_transport t,
                   const uint8_t *reply, size_t len, uint64_t t0, const char *upstream);
const char *rw__rcode_text(uint16_t rcode);
void rw__log_limited(struct worker *w, struct rw_log_limit *l, const char *what,
                     const struct sockaddr *sa);
void rw__metrics_write(struct rw_server *s, struct rw_buf *b);
int rw__metrics_http(void *ctx, const char *path, struct rw_buf *body, const char **type);
void rw__metrics_snapshot_cb(uv_timer_t *t);
/* The exit summary: queries, cache, upstream and recursion totals. */
void rw__metrics_log_summary(struct rw_server *s);

/* --- worker.c: one thread, one loop --------------------------------------- */

int rw__worker_new(struct rw_server *s, unsigned index, struct rw_zoneset *zones,
                   struct worker **out, char *err, size_t err_len);
int rw__worker_start(struct rw_server *s, struct worker *w, char *err, size_t err_len);
void rw__worker_main(void *arg);
void rw__worker_shutdown(struct worker *w);
void rw__worker_free(struct worker *w);

/* --- ops.c: reloads, zone watching, control, signals, privileges ---------- */

void rw__ops_retire_drain(struct rw_server *s);
void rw__ops_retire_cb(uv_async_t *a);
void rw__ops_start_watches(struct rw_server *s);
void rw__ops_start_side_services(struct rw_server *s);
void rw__ops_close_main(struct rw_server *s);
void rw__ops_on_signal(uv_signal_t *sig, int signum);
int rw__ops_drop_privileges(const char *user);

/* --- ctlcmds.c: the control commands beyond the first few ------------------ */

/* Answers cmd into out when it is one of ctlcmds.c's; false otherwise. */
bool rw__ctl_more(struct rw_server *s, enum rw_control_cmd cmd, const char *arg,
                  struct rw_buf *out);

/* --- notify.c: systemd's readiness protocol ------------------------------------ */

/* Sends state ("READY=1", "RELOADING=1", "STOPPING=1", ...) to
 * $NOTIFY_SOCKET; nothing without it. */
void rw__notify(const char *state);

/* --- takeover.c: restarts that drop nothing -------------------------------- */

/* --takeover: takes the listening sockets of the rootwalk at --control
 * (none running: nothing to take, 0). RW_EIO with a message. */
int rw__takeover_take(struct rw_server *s, char *err, size_t err_len);
/* Whether a listen address has inherited sockets. */
bool rw__takeover_has(const struct rw_server *s, unsigned li);
/* The control command: hands every listening socket to the client. */
void rw__takeover_give(struct rw_server *s, int client, struct rw_buf *out);
/* SIGTERM after handing over: stop reading, finish what is in flight
 * (bounded), then shut down. */
void rw__takeover_drain(struct rw_server *s);
/* The new process serves: tell the old one to drain. */
void rw__takeover_done(struct rw_server *s);
/* Closes inherited sockets nobody took (rw_server_free). */
void rw__takeover_fini(struct rw_server *s);

#endif
