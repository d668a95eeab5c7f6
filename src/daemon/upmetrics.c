/* Per-upstream-server counters (forwarding): one block per forward zone
 * and server address, shared by every worker's channel to that server
 * (relaxed atomics: they are only summed), kept for the process's life so
 * a reload that keeps a server keeps its counters. Blocks are made when a
 * worker builds its groups and read by /metrics, both under one lock;
 * at most UPSTATS_MAX (a server past that is not counted). Recursion has
 * no per-server series: the servers are the whole internet. */
#include "daemon_int.h"
#include "upstream.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define UPSTATS_MAX 256
_Static_assert(RW_UPSTREAM_RCODES == RCODES, "one rcode layout");

static uv_once_t once = UV_ONCE_INIT;
static uv_mutex_t lock;
static struct rw_upstream_stats *all[UPSTATS_MAX];
static unsigned nall;

static void init_lock(void)
{
	uv_mutex_init(&lock);
}

struct rw_upstream_stats *rw_upstream_stats_get(const char *zone, const char *to)
{
	uv_once(&once, init_lock);
	uv_mutex_lock(&lock);
	struct rw_upstream_stats *st = NULL;
	for (unsigned i = 0; i < nall && st == NULL; i++)
		if (strcmp(all[i]->zone, zone) == 0 && strcmp(all[i]->to, to) == 0)
			st = all[i];
	if (st == NULL && nall < UPSTATS_MAX && (st = calloc(1, sizeof *st)) != NULL) {
		snprintf(st->zone, sizeof st->zone, "%s", zone);
		snprintf(st->to, sizeof st->to, "%s", to);
		all[nall++] = st;
	}
	uv_mutex_unlock(&lock);
	return st;
}

void rw_upstream_stats_free_all(void)
{
	uv_once(&once, init_lock);
	uv_mutex_lock(&lock);
	for (unsigned i = 0; i < nall; i++)
		free(all[i]);
	nall = 0;
	uv_mutex_unlock(&lock);
}

static uint64_t ld(const _Atomic uint64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void head(struct rw_buf *b, const char *name, const char *type, const char *help)
{
	rw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A histogram's series for one label set (labels: `k="v",` pairs). */
void rw__histogram(struct rw_buf *b, const char *name, const char *labels, const uint64_t *bk,
                   unsigned first, uint64_t sum_ns)
{
	uint64_t cum = 0;
	for (unsigned i = 0; i < first; i++)
		cum += bk[i];
	for (unsigned i = first; i < LAT_BUCKETS; i++) {
		cum += bk[i];
		rw_buf_printf(b, "%s_bucket{%sle=\"%g\"} %llu\n", name, labels, lat_bound_s(i),
		              (unsigned long long)cum);
	}
	cum += bk[LAT_BUCKETS];
	rw_buf_printf(b, "%s_bucket{%sle=\"+Inf\"} %llu\n%s_sum{%.*s} %.9f\n%s_count{%.*s} %llu\n",
	              name, labels, (unsigned long long)cum, name, (int)strlen(labels) - 1, labels,
	              (double)sum_ns / 1e9, name, (int)strlen(labels) - 1, labels,
	              (unsigned long long)cum);
}

/* A counter of a block, by its offset (offsetof(struct rw_upstream_stats, ...)). */
static uint64_t at(const struct rw_upstream_stats *st, size_t off)
{
	return ld((const _Atomic uint64_t *)(const void *)((const char *)st + off));
}

/* One counter family of rootwalk's, a series per forward zone and server. */
static void per_server(struct rw_buf *b, const char *name, const char *help, size_t off)
{
	head(b, name, "counter", help);
	for (unsigned i = 0; i < nall; i++)
		rw_buf_printf(b, "%s{zone=\"%s\",to=\"%s\"} %llu\n", name, all[i]->zone, all[i]->to,
		              (unsigned long long)at(all[i], off));
}

/* The counter at off summed over the blocks of all[i]'s address (CoreDNS
 * labels by address only), from i on: i is that address's first block. */
static uint64_t sum_to(unsigned i, size_t off)
{
	uint64_t v = 0;
	for (unsigned j = i; j < nall; j++)
		if (strcmp(all[j]->to, all[i]->to) == 0)
			v += at(all[j], off);
	return v;
}

#define OFF(field) offsetof(struct rw_upstream_stats, field)

static void write_rootwalk(struct rw_buf *b)
{
	per_server(b, "rootwalk_forward_server_queries_total",
	           "Queries sent to each forwarder (every try).", OFF(queries));
	head(b, "rootwalk_forward_server_responses_total", "counter",
	     "Replies from each forwarder, by rcode.");
	for (unsigned i = 0; i < nall; i++)
		for (unsigned k = 0; k < RCODES; k++)
			if (ld(&all[i]->rcode[k]) > 0)
				rw_buf_printf(
				    b,
				    "rootwalk_forward_server_responses_total{zone=\"%s\",to="
				    "\"%s\",rcode=\"%s\"} %llu\n",
				    all[i]->zone, all[i]->to,
				    k < RCODES - 1 ? rw__rcode_text((uint16_t)k) : "OTHER",
				    (unsigned long long)ld(&all[i]->rcode[k]));
	per_server(b, "rootwalk_forward_server_timeouts_total",
	           "Tries of each forwarder that had no reply in --upstream-timeout-ms.",
	           OFF(timeouts));
	per_server(b, "rootwalk_forward_server_errors_total",
	           "Tries of each forwarder that failed otherwise (connection refused, bad reply).",
	           OFF(errors));
	per_server(b, "rootwalk_forward_server_down_total",
	           "Times a worker marked the forwarder down (3 timeouts in a row).",
	           OFF(down_marks));
	head(b, "rootwalk_forward_server_up", "gauge",
	     "1: every worker takes the forwarder as answering; 0: some hold it down.");
	for (unsigned i = 0; i < nall; i++)
		rw_buf_printf(b, "rootwalk_forward_server_up{zone=\"%s\",to=\"%s\"} %d\n",
		              all[i]->zone, all[i]->to,
		              atomic_load_explicit(&all[i]->down, memory_order_relaxed) <= 0);
	head(b, "rootwalk_forward_server_duration_seconds", "histogram",
	     "Time from sending a try to its reply, per forwarder.");
	for (unsigned i = 0; i < nall; i++) {
		uint64_t bk[LAT_BUCKETS + 1] = {0}, sum = 0;
		for (unsigned r = 0; r < RCODES; r++) {
			sum += ld(&all[i]->lat_sum_ns[r]);
			for (unsigned k = 0; k <= LAT_BUCKETS; k++)
				bk[k] += ld(&all[i]->lat[r][k]);
		}
		char labels[RW_NAME_TEXT_MAX + 96];
		snprintf(labels, sizeof labels, "zone=\"%s\",to=\"%s\",", all[i]->zone, all[i]->to);
		rw__histogram(b, "rootwalk_forward_server_duration_seconds", labels, bk, 0, sum);
	}
}

/* CoreDNS's forward plugin series, one per address (zones summed). */
static void write_coredns(struct rw_buf *b)
{
	bool first[UPSTATS_MAX] = {false};
	for (unsigned i = 0; i < nall; i++) {
		first[i] = true;
		for (unsigned j = 0; j < i && first[i]; j++)
			first[i] = strcmp(all[j]->to, all[i]->to) != 0;
	}
	head(b, "coredns_forward_requests_total", "counter",
	     "Counter of requests made per upstream.");
	for (unsigned i = 0; i < nall; i++)
		if (first[i])
			rw_buf_printf(b, "coredns_forward_requests_total{to=\"%s\"} %llu\n",
			              all[i]->to, (unsigned long long)sum_to(i, OFF(queries)));
	head(b, "coredns_forward_responses_total", "counter",
	     "Counter of responses received per upstream.");
	for (unsigned i = 0; i < nall; i++)
		for (unsigned k = 0; first[i] && k < RCODES; k++) {
			uint64_t v = sum_to(i, OFF(rcode) + k * sizeof all[i]->rcode[0]);
			if (v > 0)
				rw_buf_printf(b,
				              "coredns_forward_responses_total{rcode=\"%s\",to=\"%"
				              "s\"} %llu\n",
				              k < RCODES - 1 ? rw__rcode_text((uint16_t)k)
				                             : "OTHER",
				              all[i]->to, (unsigned long long)v);
		}
	head(b, "coredns_forward_healthcheck_failures_total", "counter",
	     "Counter of the number of failed healthchecks.");
	for (unsigned i = 0; i < nall; i++)
		if (first[i])
			rw_buf_printf(
			    b, "coredns_forward_healthcheck_failures_total{to=\"%s\"} %llu\n",
			    all[i]->to, (unsigned long long)sum_to(i, OFF(down_marks)));
	static const char *const dur[2] = {"coredns_forward_request_duration_seconds",
	                                   "coredns_proxy_request_duration_seconds"};
	for (int d = 0; d < 2; d++) {
		head(b, dur[d], "histogram", "Histogram of the time each request took.");
		for (unsigned i = 0; i < nall; i++)
			for (unsigned r = 0; first[i] && r < RCODES; r++) {
				uint64_t bk[LAT_BUCKETS + 1] = {0}, n = 0, sum = 0;
				for (unsigned j = i; j < nall; j++) {
					if (strcmp(all[j]->to, all[i]->to) != 0)
						continue;
					sum += ld(&all[j]->lat_sum_ns[r]);
					for (unsigned k = 0; k <= LAT_BUCKETS; k++)
						bk[k] += ld(&all[j]->lat[r][k]);
				}
				for (unsigned k = 0; k <= LAT_BUCKETS; k++)
					n += bk[k];
				if (n == 0)
					continue;
				char labels[160];
				snprintf(labels, sizeof labels, "%sto=\"%s\",rcode=\"%s\",",
				         d == 1 ? "proxy_name=\"forward\"," : "", all[i]->to,
				         r < RCODES - 1 ? rw__rcode_text((uint16_t)r) : "OTHER");
				rw__histogram(b, dur[d], labels, bk, 2, sum);
			}
	}
}

void rw__upstats_write(struct rw_buf *b, unsigned families)
{
	uv_once(&once, init_lock);
	uv_mutex_lock(&lock);
	if (families & RW_METRICS_ROOTWALK)
		write_rootwalk(b);
	if (families & RW_METRICS_COREDNS)
		write_coredns(b);
	uv_mutex_unlock(&lock);
}
