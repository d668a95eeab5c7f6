/* Who may hold a TCP slot, and for how long (issue 11: slow-loris
 * clients held every slot for as long as they liked).
 *
 * - Per client: at most tcp_slots_per_client connections from one address
 *   (IPv6: one /64) per worker (--tcp-max-per-client split across the
 *   workers, as the slots are; SO_REUSEPORT spreads a client's connections
 *   over them).
 * - A full worker does not turn the newcomer away: it closes its least
 *   recently useful connection -- the one whose last complete query is
 *   oldest -- unless that one still has replies or upstream work pending
 *   (then the newcomer goes). A client that sends a whole query always
 *   gets a slot; a slow-loris one loses its slot to it.
 * - The idle timer restarts on a complete query only, never on a byte: a
 *   client dribbling a query one byte at a time is idle all along. It
 *   shrinks as the worker fills: --tcp-idle-timeout-ms up to half full,
 *   then in proportion to the free slots, down to TCP_IDLE_MIN_MS.
 * - Every connection is closed --tcp-max-lifetime-ms after it opened (once
 *   its pending replies are out).
 * Each of these is counted (struct tcp_stats, /metrics). All on the
 * worker's thread. */
#include "daemon_int.h"
#include "rootwalk/assert.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define TCP_IDLE_MIN_MS 200
#define PEER_BUCKETS 1024

struct peer {
	struct peer *next;
	uint8_t key[RW_CLIENT_KEY_LEN]; /* family byte, then the IPv4 address or the IPv6 /64 */
	unsigned n;
};

static struct peer **peer_slot(struct peer **table, const uint8_t key[RW_CLIENT_KEY_LEN])
{
	uint32_t h = 2166136261u;
	for (int i = 0; i < RW_CLIENT_KEY_LEN; i++)
		h = (h ^ key[i]) * 16777619u;
	struct peer **pp = &table[h % PEER_BUCKETS];
	while (*pp != NULL && memcmp((*pp)->key, key, RW_CLIENT_KEY_LEN) != 0)
		pp = &(*pp)->next;
	return pp;
}

unsigned rw__addr_count(struct peer **table, const struct sockaddr_storage *ss, int delta)
{
	uint8_t key[RW_CLIENT_KEY_LEN];
	rw_client_key(ss, key);
	struct peer **pp = peer_slot(table, key), *p = *pp;
	if (p == NULL) {
		if (delta <= 0 || (p = calloc(1, sizeof *p)) == NULL)
			return 0;
		memcpy(p->key, key, RW_CLIENT_KEY_LEN);
		*pp = p;
	}
	RW_REQUIRE(delta >= 0 || p->n >= (unsigned)-delta);
	p->n = (unsigned)((int)p->n + delta);
	unsigned n = p->n;
	if (n == 0) {
		*pp = p->next;
		free(p);
	}
	return n;
}

int rw__slots_init(struct worker *w)
{
	w->peers = calloc(PEER_BUCKETS, sizeof *w->peers);
	w->waiting_peers = calloc(PEER_BUCKETS, sizeof *w->waiting_peers);
	return w->peers != NULL && w->waiting_peers != NULL ? 0 : -1;
}

static void table_free(struct peer **table)
{
	for (size_t b = 0; table != NULL && b < PEER_BUCKETS; b++)
		for (struct peer *p = table[b], *next; p != NULL; p = next) {
			next = p->next;
			free(p);
		}
	free(table);
}

void rw__slots_fini(struct worker *w)
{
	table_free(w->peers);
	table_free(w->waiting_peers);
	w->peers = w->waiting_peers = NULL;
}

static void lru_unlink(struct worker *w, struct conn *c)
{
	if (c->lru_prev != NULL)
		c->lru_prev->lru_next = c->lru_next;
	else if (w->lru_head == c)
		w->lru_head = c->lru_next;
	if (c->lru_next != NULL)
		c->lru_next->lru_prev = c->lru_prev;
	else if (w->lru_tail == c)
		w->lru_tail = c->lru_prev;
	c->lru_prev = c->lru_next = NULL;
}

static void lru_append(struct worker *w, struct conn *c)
{
	c->lru_prev = w->lru_tail;
	c->lru_next = NULL;
	if (w->lru_tail != NULL)
		w->lru_tail->lru_next = c;
	else
		w->lru_head = c;
	w->lru_tail = c;
}

/* The idle timeout now: full length up to half the slots, then in
 * proportion to the slots left. */
static uint64_t idle_ms(const struct worker *w)
{
	uint64_t base = w->gen->cfg->tcp_idle_timeout_ms;
	unsigned half = w->tcp_limit / 2, used = w->tcp_conns;
	if (used <= half || half == 0)
		return base;
	uint64_t left = used >= w->tcp_limit ? 0 : w->tcp_limit - used;
	uint64_t t = base * left / half;
	return t < TCP_IDLE_MIN_MS ? TCP_IDLE_MIN_MS : t;
}

static void slot_timer(uv_timer_t *t)
{
	struct conn *c = t->data;
	struct worker *w = c->w;
	if (uv_now(&w->loop) >= c->born_ms + w->gen->cfg->tcp_max_lifetime_ms) {
		w->tcp_stats.lifetime_closed++;
		/* Replies still owed go out first (conn_written closes). */
		if (c->pending > 0 || c->waiting > 0) {
			c->eof = 1;
			if (c->reading) {
				uv_read_stop((uv_stream_t *)&c->tcp);
				c->reading = 0;
			}
			return;
		}
	} else {
		w->tcp_stats.idle_closed++;
	}
	rw__conn_close(c);
}

void rw__slots_arm(struct conn *c)
{
	struct worker *w = c->w;
	uint64_t now = uv_now(&w->loop), end = c->born_ms + w->gen->cfg->tcp_max_lifetime_ms;
	uint64_t t = idle_ms(w);
	if (now + t > end)
		t = end > now ? end - now : 0;
	uv_timer_start(&c->timer, slot_timer, t, 0);
}

void rw__slots_active(struct conn *c)
{
	struct worker *w = c->w;
	lru_unlink(w, c);
	lru_append(w, c);
	rw__slots_arm(c);
}

bool rw__slots_admit(struct worker *w, struct conn *c)
{
	if (rw__addr_count(w->peers, &c->peer, 0) >= w->tcp_per_client) {
		w->tcp_stats.per_client_refused++;
		return false;
	}
	if (w->tcp_conns > w->tcp_limit) {
		/* Full: the connection whose last query is oldest gives way,
		 * unless it still owes replies. Bound: the first few. */
		struct conn *v = w->lru_head;
		for (int k = 0;
		     k < 8 && v != NULL && (v->pending > 0 || v->waiting > 0 || v->closing); k++)
			v = v->lru_next;
		if (v == NULL || v->pending > 0 || v->waiting > 0 || v->closing) {
			w->tcp_stats.full_refused++;
			return false;
		}
		w->tcp_stats.evicted++;
		rw__conn_close(v);
	}
	if (rw__addr_count(w->peers, &c->peer, 1) == 0)
		return false; /* out of memory */
	c->counted = 1;
	c->born_ms = uv_now(&w->loop);
	lru_append(w, c);
	return true;
}

void rw__slots_release(struct conn *c)
{
	struct worker *w = c->w;
	lru_unlink(w, c);
	if (!c->counted)
		return;
	c->counted = 0;
	rw__addr_count(w->peers, &c->peer, -1);
}
