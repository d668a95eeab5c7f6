/* Fuzz target: DNS over TCP framing (src/daemon/wireproto.c) with a byte
 * stream split at points the input chooses. The first two bytes pick the
 * split sizes; the rest is the stream. Whatever the splits, the messages
 * cut out are the same as from the stream read at once, and each goes
 * through the query path as the server would send it. */
#include "rootwalk/query.h"
#include "wireproto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MSGS_MAX 4096

/* Cuts the stream into messages, reading it in pieces of step bytes (0:
 * as much as fits); returns how many, their offsets and lengths. */
static size_t frames(const uint8_t *s, size_t n, size_t step, size_t *off, size_t *len)
{
	struct rw_tcpbuf t;
	if (rw_tcpbuf_init(&t) != 0)
		abort();
	size_t count = 0, fed = 0;
	/* Bound: each pass feeds at least one byte. */
	while (fed < n) {
		size_t room;
		uint8_t *p = rw_tcpbuf_space(&t, &room);
		if (room == 0)
			abort(); /* the buffer always has room for the next read */
		size_t k = n - fed < room ? n - fed : room;
		if (step != 0 && k > step)
			k = step;
		memcpy(p, s + fed, k);
		rw_tcpbuf_wrote(&t, k);
		fed += k;
		size_t pos = 0, flen;
		const uint8_t *msg;
		while (rw_tcpbuf_next(&t, &pos, &msg, &flen)) {
			if (count == MSGS_MAX)
				abort();
			/* where the message lies in the stream */
			off[count] = fed - (t.len - (size_t)(msg - t.buf));
			len[count++] = flen;
		}
		rw_tcpbuf_consume(&t, pos);
		if (t.len > 2 + 65535)
			abort(); /* more than one partial message kept */
	}
	rw_tcpbuf_fini(&t);
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t step = 1 + (data[0] | (size_t)data[1] << 8) % 97;
	const uint8_t *s = data + 2;
	size_t n = size - 2;
	static size_t off1[MSGS_MAX], len1[MSGS_MAX], off2[MSGS_MAX], len2[MSGS_MAX];
	size_t c1 = frames(s, n, 0, off1, len1), c2 = frames(s, n, step, off2, len2);
	if (c1 != c2 || memcmp(off1, off2, c1 * sizeof *off1) != 0 ||
	    memcmp(len1, len2, c1 * sizeof *len1) != 0)
		abort();
	/* each message through the query path, as a TCP query */
	static struct rw_query_env env;
	static int inited;
	if (!inited) {
		rw_query_env_init(&env, rw_zoneset_new(), 1232);
		inited = 1;
	}
	static uint8_t out[65536];
	for (size_t i = 0; i < c1 && i < 64; i++) {
		size_t ol = 0;
		if (rw_query_process(&env, s + off1[i], len1[i], RW_TRANSPORT_TCP, out, sizeof out,
		                     &ol) == RW_QUERY_REPLY &&
		    (ol < 12 || ol > 65535))
			abort();
	}
	return 0;
}
