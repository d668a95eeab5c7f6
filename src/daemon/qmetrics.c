/* Per-reply accounting: what /metrics counts of every reply sent to a
 * client (no sampling; see struct latency), and the query log line. */
#include "daemon_int.h"
#include "dnstap.h"
#include "rootwalk/rr.h"
#include "rootwalk/wire.h"

#include <stdio.h>
#include <string.h>

uint64_t lat_tsc_mult;

void lat_calibrate(void)
{
#if defined(__x86_64__)
	/* An invariant TSC only: it ticks at one rate whatever the CPU's
	 * frequency or sleep state. */
	bool invariant = false;
	FILE *f = fopen("/proc/cpuinfo", "re");
	if (f != NULL) {
		char line[4096];
		while (!invariant && fgets(line, sizeof line, f) != NULL)
			invariant = strncmp(line, "flags", 5) == 0 &&
			            strstr(line, " constant_tsc") != NULL &&
			            strstr(line, " nonstop_tsc") != NULL;
		fclose(f);
	}
	if (!invariant)
		return;
	/* 20 ms against CLOCK_MONOTONIC: the rate to 0.01% or so. */
	uint64_t n0 = uv_hrtime(), t0 = __rdtsc(), n1;
	do
		n1 = uv_hrtime();
	while (n1 - n0 < 20000000);
	uint64_t ticks = __rdtsc() - t0;
	if (ticks > 0)
		lat_tsc_mult = (uint64_t)(((unsigned __int128)(n1 - n0) << 32) / ticks);
#endif
}

const unsigned rw__size_bounds[SIZE_BUCKETS] = {0,    100,  200,  300,   400,   511,   1023,
                                                2047, 4095, 8291, 16000, 32000, 48000, 64000};

void rw__observe(struct latency *l, unsigned src, unsigned qidx, uint64_t ns)
{
	unsigned b = lat_bucket(ns);
	l->bucket[src][b]++;
	l->count[src]++;
	l->sum_ns[src] += ns;
	l->type_bucket[qidx][b]++;
	l->type_sum_ns[qidx] += ns;
}

void rw__metrics_batch(struct worker *w, const struct udp_batch *b)
{
	if (b->t0 == 0 || b->n == 0)
		return;
	uint64_t ns = lat_now() - b->t0;
	unsigned k = lat_bucket(ns); /* one time for the whole batch */
	struct latency *l = &w->lat;
	/* Bound: the batch's replies. */
	for (unsigned i = 0; i < b->n; i++) {
		unsigned src = b->src[i], qidx = b->qidx[i];
		if (src == BATCH_UNTIMED)
			continue;
		l->bucket[src][k]++;
		l->count[src]++;
		l->sum_ns[src] += ns;
		l->type_bucket[qidx][k]++;
		l->type_sum_ns[qidx] += ns;
	}
}

static const char *const rcode_text[] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  "RCODE11",  "RCODE12", "RCODE13", "RCODE14",  "RCODE15",
    "BADVERS", "BADKEY",  "BADTIME",  "BADMODE",  "BADNAME", "BADALG",  "BADTRUNC", "BADCOOKIE"};

void rw__tap_client(struct worker *w, bool response, const struct sockaddr *client, bool tcp,
                    const uint8_t *msg, size_t len)
{
	struct rw_dnstap_event ev = {.type = response ? RW_DNSTAP_CLIENT_RESPONSE
	                                              : RW_DNSTAP_CLIENT_QUERY,
	                             .tcp = tcp,
	                             .peer = client,
	                             .msg = msg,
	                             .len = len};
	rw_dnstap_log(w->tap, &ev);
}

const char *rw__rcode_text(uint16_t rcode)
{
	return rcode < sizeof rcode_text / sizeof *rcode_text ? rcode_text[rcode] : "OTHER";
}

/* The reply's header flags, as dig prints them ("qr rd ra"). */
static void flags_text(const uint8_t *reply, size_t len, const char *sep, char *out, size_t cap)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} f[] = {{RW_FLAG_QR, "qr"}, {RW_FLAG_AA, "aa"}, {RW_FLAG_TC, "tc"}, {RW_FLAG_RD, "rd"},
	         {RW_FLAG_RA, "ra"}, {RW_FLAG_AD, "ad"}, {RW_FLAG_CD, "cd"}};
	size_t n = 0;
	out[0] = 0;
	if (len < RW_HEADER_LEN)
		return;
	uint16_t flags = rw_get16(reply + 2);
	for (size_t i = 0; i < sizeof f / sizeof *f; i++)
		if ((flags & f[i].bit) && n + 4 < cap)
			n +=
			    (size_t)snprintf(out + n, cap - n, "%s%s", n > 0 ? sep : "", f[i].name);
}

/* --log-queries: one line per reply sent. Text: "query CLIENT udp NAME
 * TYPE RCODE" then class, flags, source, duration, size, upstream; JSON:
 * each a field. t0: the request's arrival (0: unknown). */
void rw__log_query(struct worker *w, const struct sockaddr *sa, enum rw_transport t,
                   const uint8_t *reply, size_t len, uint64_t t0, const char *upstream)
{
	if (!w->env.log_queries || !w->env.last.valid)
		return;
	char client[80], name[RW_NAME_TEXT_MAX], type[16], cls[16], flags[32], dur[32] = "",
	                                                                       size[16];
	rw_addr_text(sa, client, sizeof client);
	rw_name_to_text(w->env.last.qname, name, sizeof name);
	rw_type_to_text(w->env.last.qtype, type, sizeof type);
	rw_class_to_text(w->env.last.qclass, cls, sizeof cls);
	bool json = rw_log_is_json();
	flags_text(reply, len, json ? " " : ",", flags, sizeof flags);
	if (t0 != 0)
		snprintf(dur, sizeof dur, "%.6f", (double)(lat_now() - t0) / 1e9);
	snprintf(size, sizeof size, "%zu", len);
	unsigned src = w->env.last.source < RW_SOURCES ? w->env.last.source : 0;
	const struct rw_log_field f[] = {
	    {"client", client, false, true},
	    {"transport", t == RW_TRANSPORT_UDP ? "udp" : "tcp", false, true},
	    {"name", name, false, true},
	    {"type", type, false, true},
	    {"rcode", rw__rcode_text(w->env.last.rcode), false, true},
	    {"class", cls, false, true},
	    {"flags", flags, false, false},
	    {"source", rw_source_names[src], false, false},
	    {"duration_s", dur, true, false},
	    {"size", size, true, false},
	    {"upstream", upstream, false, false},
	};
	rw_log_fields(RW_LOG_INFO, "query", f, sizeof f / sizeof *f);
}
