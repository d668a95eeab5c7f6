/* dnstap: the message encoding and the Frame Streams writer; see dnstap.h.
 * Field numbers are dnstap.proto's (dnstap.Dnstap, dnstap.Message). */
#include "dnstap.h"
#include "rootwalk/err.h"

#include <errno.h>
#include <fstrm.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- protobuf, the few shapes used ---------------------------------------- */

struct pb {
	uint8_t *p;
	size_t cap, n;
	bool full;
};

static void pb_varint(struct pb *b, uint64_t v)
{
	do {
		uint8_t byte = (uint8_t)(v & 0x7F);
		v >>= 7;
		if (b->n >= b->cap) {
			b->full = true;
			return;
		}
		b->p[b->n++] = byte | (v != 0 ? 0x80 : 0);
	} while (v != 0);
}

static void pb_key(struct pb *b, unsigned field, unsigned wire)
{
	pb_varint(b, (uint64_t)field << 3 | wire);
}

static void pb_uint(struct pb *b, unsigned field, uint64_t v)
{
	pb_key(b, field, 0);
	pb_varint(b, v);
}

static void pb_bytes(struct pb *b, unsigned field, const void *d, size_t len)
{
	pb_key(b, field, 2);
	pb_varint(b, len);
	if (b->n + len > b->cap) {
		b->full = true;
		return;
	}
	memcpy(b->p + b->n, d, len);
	b->n += len;
}

static void pb_fixed32(struct pb *b, unsigned field, uint32_t v)
{
	pb_key(b, field, 5);
	if (b->n + 4 > b->cap) {
		b->full = true;
		return;
	}
	for (int i = 0; i < 4; i++)
		b->p[b->n++] = (uint8_t)(v >> (8 * i)); /* little-endian */
}

static size_t name_len(const uint8_t *n)
{
	size_t l = 0;
	/* Bound: a wire name is at most 255 bytes. */
	while (l < 255 && n[l] != 0)
		l += 1u + n[l];
	return l + 1;
}

/* dnstap.Message (fields 1-14). */
static void message(struct pb *b, const struct rw_dnstap_event *ev)
{
	bool response = ev->type == RW_DNSTAP_CLIENT_RESPONSE ||
	                ev->type == RW_DNSTAP_RESOLVER_RESPONSE ||
	                ev->type == RW_DNSTAP_FORWARDER_RESPONSE;
	bool client = ev->type == RW_DNSTAP_CLIENT_QUERY || ev->type == RW_DNSTAP_CLIENT_RESPONSE;
	pb_uint(b, 1, ev->type);
	if (ev->peer != NULL &&
	    (ev->peer->sa_family == AF_INET || ev->peer->sa_family == AF_INET6)) {
		bool v6 = ev->peer->sa_family == AF_INET6;
		const void *addr;
		uint16_t port;
		if (v6) {
			const struct sockaddr_in6 *s6 = (const void *)ev->peer;
			addr = &s6->sin6_addr;
			port = ntohs(s6->sin6_port);
		} else {
			const struct sockaddr_in *s4 = (const void *)ev->peer;
			addr = &s4->sin_addr;
			port = ntohs(s4->sin_port);
		}
		pb_uint(b, 2, v6 ? 2 : 1);      /* socket_family: INET, INET6 */
		pb_uint(b, 3, ev->tcp ? 2 : 1); /* socket_protocol: UDP, TCP */
		/* The client asked us (query_address); we asked a server
		 * (response_address). */
		pb_bytes(b, client ? 4 : 5, addr, v6 ? 16 : 4);
		pb_uint(b, client ? 6 : 7, port);
	}
	const struct timespec *qt = response ? ev->query_time : &ev->now;
	if (qt != NULL) {
		pb_uint(b, 8, (uint64_t)qt->tv_sec);
		pb_fixed32(b, 9, (uint32_t)qt->tv_nsec);
	}
	if (!response)
		pb_bytes(b, 10, ev->msg, ev->len);
	if (ev->zone != NULL)
		pb_bytes(b, 11, ev->zone, name_len(ev->zone));
	if (response) {
		pb_uint(b, 12, (uint64_t)ev->now.tv_sec);
		pb_fixed32(b, 13, (uint32_t)ev->now.tv_nsec);
		pb_bytes(b, 14, ev->msg, ev->len);
	}
}

size_t rw_dnstap_encode(const struct rw_dnstap_event *ev, const char *identity, const char *version,
                        uint8_t *out, size_t cap)
{
	struct pb b = {out, cap, 0, false};
	if (identity != NULL && identity[0] != 0)
		pb_bytes(&b, 1, identity, strlen(identity));
	if (version != NULL && version[0] != 0)
		pb_bytes(&b, 2, version, strlen(version));
	/* message (14): its length goes first, so it is written after a
	 * 3-byte hole (a length below 2^21) and moved into place. */
	pb_key(&b, 14, 2);
	size_t hole = b.n;
	if (b.full || hole + 3 > cap)
		return 0;
	struct pb m = {out + hole + 3, cap - hole - 3, 0, false};
	message(&m, ev);
	if (m.full || m.n >= (1u << 21))
		return 0;
	struct pb len = {out + hole, 3, 0, false};
	pb_varint(&len, m.n);
	memmove(out + hole + len.n, out + hole + 3, m.n);
	b.n = hole + len.n + m.n;
	pb_uint(&b, 15, 1); /* type: MESSAGE */
	return b.full ? 0 : b.n;
}

/* --- the writer --------------------------------------------------------- */

struct rw_dnstap_queue {
	struct rw_dnstap *d;
	struct fstrm_iothr_queue *q;
	_Atomic uint64_t sent, dropped;
};

struct rw_dnstap {
	struct fstrm_iothr *iothr;
	struct rw_dnstap_queue *queues;
	unsigned nqueues;
	char identity[256], version[256];
};

static const char content_type[] = "protobuf:dnstap.Dnstap";

int rw_dnstap_open(const char *socket_path, const char *file_path, unsigned nqueues,
                   const char *identity, const char *version, struct rw_dnstap **out, char *err,
                   size_t err_len)
{
	struct rw_dnstap *d = calloc(1, sizeof *d);
	struct fstrm_writer_options *wopt = fstrm_writer_options_init();
	struct fstrm_iothr_options *iopt = fstrm_iothr_options_init();
	struct fstrm_writer *w = NULL;
	if (d == NULL || wopt == NULL || iopt == NULL)
		goto fail;
	snprintf(d->identity, sizeof d->identity, "%s", identity != NULL ? identity : "");
	snprintf(d->version, sizeof d->version, "%s", version != NULL ? version : "");
	fstrm_writer_options_add_content_type(wopt, content_type, sizeof content_type - 1);
	if (socket_path != NULL) {
		struct fstrm_unix_writer_options *u = fstrm_unix_writer_options_init();
		if (u == NULL)
			goto fail;
		fstrm_unix_writer_options_set_socket_path(u, socket_path);
		w = fstrm_unix_writer_init(u, wopt);
		fstrm_unix_writer_options_destroy(&u);
	} else {
		/* The I/O thread opens it later and only logs a failure: try
		 * here, so a bad path is an error at start. */
		FILE *probe = fopen(file_path, "ab");
		if (probe == NULL) {
			snprintf(err, err_len, "dnstap: cannot open file %s: %s", file_path,
			         strerror(errno));
			goto fail_quiet;
		}
		fclose(probe);
		struct fstrm_file_options *f = fstrm_file_options_init();
		if (f == NULL)
			goto fail;
		fstrm_file_options_set_file_path(f, file_path);
		w = fstrm_file_writer_init(f, wopt);
		fstrm_file_options_destroy(&f);
	}
	if (w == NULL)
		goto fail;
	fstrm_iothr_options_set_num_input_queues(iopt, nqueues);
	/* The mutex queue, though each has one producer: libfstrm's lock-free
	 * SPSC ring is invisible to ThreadSanitizer (not instrumented), and an
	 * uncontended mutex costs little beside encoding the message. */
	fstrm_iothr_options_set_queue_model(iopt, FSTRM_IOTHR_QUEUE_MODEL_MPSC);
	/* A collector that is not there yet is tried again every second. */
	fstrm_iothr_options_set_reopen_interval(iopt, 1);
	d->iothr = fstrm_iothr_init(iopt, &w); /* takes w */
	d->queues = calloc(nqueues, sizeof *d->queues);
	if (d->iothr == NULL || d->queues == NULL)
		goto fail;
	d->nqueues = nqueues;
	for (unsigned i = 0; i < nqueues; i++) {
		d->queues[i].d = d;
		d->queues[i].q = fstrm_iothr_get_input_queue_idx(d->iothr, i);
	}
	fstrm_iothr_options_destroy(&iopt);
	fstrm_writer_options_destroy(&wopt);
	*out = d;
	return 0;
fail:
	snprintf(err, err_len, "dnstap: cannot open %s %s", socket_path != NULL ? "socket" : "file",
	         socket_path != NULL ? socket_path : file_path);
fail_quiet:
	if (w != NULL)
		fstrm_writer_destroy(&w);
	if (iopt != NULL)
		fstrm_iothr_options_destroy(&iopt);
	if (wopt != NULL)
		fstrm_writer_options_destroy(&wopt);
	if (d != NULL) {
		if (d->iothr != NULL)
			fstrm_iothr_destroy(&d->iothr);
		free(d->queues);
		free(d);
	}
	return RW_EIO;
}

struct rw_dnstap_queue *rw_dnstap_queue(struct rw_dnstap *d, unsigned i)
{
	return d != NULL && i < d->nqueues ? &d->queues[i] : NULL;
}

void rw_dnstap_log(struct rw_dnstap_queue *q, struct rw_dnstap_event *ev)
{
	if (q == NULL)
		return;
	clock_gettime(CLOCK_REALTIME, &ev->now);
	size_t cap = ev->len + 768;
	uint8_t *buf = malloc(cap);
	size_t n = buf != NULL ? rw_dnstap_encode(ev, q->d->identity, q->d->version, buf, cap) : 0;
	if (n == 0 || fstrm_iothr_submit(q->d->iothr, q->q, buf, n, fstrm_free_wrapper, NULL) !=
	                  fstrm_res_success) {
		free(buf); /* fstrm frees only what it took */
		atomic_fetch_add_explicit(&q->dropped, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&q->sent, 1, memory_order_relaxed);
}

void rw_dnstap_counts(struct rw_dnstap *d, uint64_t *sent, uint64_t *dropped)
{
	*sent = *dropped = 0;
	for (unsigned i = 0; d != NULL && i < d->nqueues; i++) {
		*sent += atomic_load_explicit(&d->queues[i].sent, memory_order_relaxed);
		*dropped += atomic_load_explicit(&d->queues[i].dropped, memory_order_relaxed);
	}
}

void rw_dnstap_close(struct rw_dnstap *d)
{
	if (d == NULL)
		return;
	fstrm_iothr_destroy(&d->iothr); /* flushes what is queued */
	free(d->queues);
	free(d);
}
