/* CoreDNS's metric families (--metrics-format coredns|both): the names,
 * labels and buckets of CoreDNS 1.11's metrics, cache and forward plugins,
 * so its Grafana dashboards and alerts read rootwalk unchanged. The same
 * counters as rootwalk's own families; README "Metrics" lists which
 * CoreDNS series exist here and which do not. Labels: server is
 * "dns://" and the first listen address, zone "." (one server block),
 * view "" (no views). */
#include "daemon_int.h"
#include "buildinfo.h"
#include "rootwalk/rr.h"
#include "rootwalk/version.h"

#include <stdio.h>

/* The plugin CoreDNS would name as having written a reply. */
static const char *const plugin_of[RW_SOURCES] = {"file", "cache", "cache", "forward"};

static void head(struct rw_buf *b, const char *name, const char *type, const char *help)
{
	rw_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void type_text(unsigned k, char *out, size_t cap)
{
	if (k < RW_QSTAT_TYPES - 1)
		rw_type_to_text(rw_qstat_types[k], out, cap);
	else
		snprintf(out, cap, "other");
}

static void write_dns(struct rw_buf *b, const char *sv, const struct latency *l)
{
	head(b, "coredns_dns_requests_total", "counter",
	     "Counter of DNS requests made per zone, protocol and family.");
	for (int t = 0; t < 2; t++)
		for (int f = 0; f < 2; f++)
			for (unsigned k = 0; k < RW_QSTAT_TYPES; k++) {
				char type[16];
				if (k > 0 && l->requests[t][f][k] == 0)
					continue; /* as CoreDNS: a series once seen (A always) */
				type_text(k, type, sizeof type);
				rw_buf_printf(
				    b,
				    "coredns_dns_requests_total{%s,proto=\"%s\",family=\"%d\","
				    "type=\"%s\"} %llu\n",
				    sv, t == 0 ? "udp" : "tcp", f + 1, type,
				    (unsigned long long)l->requests[t][f][k]);
			}
	head(b, "coredns_dns_do_requests_total", "counter",
	     "Counter of DNS requests with DO bit set per zone.");
	rw_buf_printf(b, "coredns_dns_do_requests_total{%s} %llu\n", sv,
	              (unsigned long long)l->do_requests);
	head(b, "coredns_dns_request_duration_seconds", "histogram",
	     "Histogram of the time (in seconds) each request took per zone.");
	for (unsigned k = 0; k < RW_QSTAT_TYPES; k++) {
		char type[16], labels[200];
		if (k > 0 && l->type_bucket[k][LAT_BUCKETS] == 0 && l->type_sum_ns[k] == 0)
			continue;
		type_text(k, type, sizeof type);
		snprintf(labels, sizeof labels, "%s,type=\"%s\",", sv, type);
		rw__histogram(b, "coredns_dns_request_duration_seconds", labels, l->type_bucket[k],
		              2, l->type_sum_ns[k]);
	}
	head(b, "coredns_dns_request_size_bytes", "histogram",
	     "Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.");
	char more[160];
	snprintf(more, sizeof more, "%s,", sv);
	rw__write_sizes(b, "coredns_dns_request_size_bytes", "proto", more, l->req_size,
	                l->req_bytes);
	head(b, "coredns_dns_response_size_bytes", "histogram",
	     "Size of the returned response in bytes.");
	rw__write_sizes(b, "coredns_dns_response_size_bytes", "proto", more, l->resp_size,
	                l->resp_bytes);
	head(b, "coredns_dns_responses_total", "counter",
	     "Counter of response status codes per zone.");
	for (unsigned r = 0; r < RCODES; r++)
		for (unsigned k = 0; k < RW_SOURCES; k++)
			if (l->responses[r][k] > 0 || (r == 0 && k == 0))
				rw_buf_printf(
				    b,
				    "coredns_dns_responses_total{%s,rcode=\"%s\",plugin=\"%s\"} "
				    "%llu\n",
				    sv, r < RCODES - 1 ? rw__rcode_text((uint16_t)r) : "OTHER",
				    plugin_of[k], (unsigned long long)l->responses[r][k]);
}

static void write_cache(struct rw_server *s, struct rw_buf *b, const char *sv,
                        const struct snapshot *t)
{
	const struct latency *l = &t->lat;
	head(b, "coredns_cache_entries", "gauge", "The number of elements in the cache.");
	size_t all = rw_cache_entries(s->cache), neg = rw_cache_entries_negative(s->cache);
	rw_buf_printf(b,
	              "coredns_cache_entries{%s,type=\"success\"} %zu\n"
	              "coredns_cache_entries{%s,type=\"denial\"} %zu\n",
	              sv, all - (neg < all ? neg : all), sv, neg);
	head(b, "coredns_cache_hits_total", "counter", "The count of cache hits.");
	rw_buf_printf(b,
	              "coredns_cache_hits_total{%s,type=\"success\"} %llu\n"
	              "coredns_cache_hits_total{%s,type=\"denial\"} %llu\n",
	              sv, (unsigned long long)l->cache_hits[0], sv,
	              (unsigned long long)l->cache_hits[1]);
	head(b, "coredns_cache_misses_total", "counter", "The count of cache misses.");
	rw_buf_printf(b, "coredns_cache_misses_total{%s} %llu\n", sv,
	              (unsigned long long)l->cache_misses);
	head(b, "coredns_cache_requests_total", "counter", "The count of cache requests.");
	rw_buf_printf(b, "coredns_cache_requests_total{%s} %llu\n", sv,
	              (unsigned long long)(l->cache_hits[0] + l->cache_hits[1] + l->cache_misses));
	head(b, "coredns_cache_served_stale_total", "counter",
	     "The number of requests served stale.");
	rw_buf_printf(b, "coredns_cache_served_stale_total{%s} %llu\n", sv,
	              (unsigned long long)t->q.stale_served);
	head(b, "coredns_cache_prefetch_total", "counter",
	     "The number of times the cache has prefetched.");
	rw_buf_printf(b, "coredns_cache_prefetch_total{%s} %llu\n", sv,
	              (unsigned long long)t->up.prefetches);
	head(b, "coredns_cache_evictions_total", "counter", "The count of cache evictions.");
	rw_buf_printf(b, "coredns_cache_evictions_total{%s,type=\"success\"} %llu\n", sv,
	              (unsigned long long)t->c.evictions);
}

void rw__metrics_write_coredns(struct rw_server *s, struct rw_buf *b, const struct snapshot *t)
{
	const struct rw_config *cfg = s->gen->cfg;
	char addr[64] = "";
	if (cfg->nlisten > 0)
		snprintf(addr, sizeof addr, "%s", cfg->listen[0].text);
	char sv[150];
	snprintf(sv, sizeof sv, "server=\"dns://%s\",zone=\".\",view=\"\"", addr);
	head(b, "coredns_build_info", "gauge",
	     "A metric with a constant '1' value labeled by version, revision, and goversion from "
	     "which CoreDNS was built.");
	rw_buf_printf(
	    b,
	    "coredns_build_info{version=\"rootwalk-%s\",revision=\"%s\",goversion=\"none\"} "
	    "1\n",
	    RW_VERSION, RW_BUILD_COMMIT);
	head(b, "coredns_panics_total", "counter", "A metrics that counts the number of panics.");
	rw_buf_printf(b, "coredns_panics_total 0\n");
	head(b, "coredns_reload_failed_total", "counter",
	     "Counter of the number of failed reload attempts.");
	rw_buf_printf(b, "coredns_reload_failed_total %llu\n",
	              (unsigned long long)(s->config_failed + s->reloads_failed));
	head(b, "coredns_plugin_enabled", "gauge",
	     "A metric that monitors which plugin(s) is(are) enabled.");
	bool fwd = cfg->nforward > 0 || cfg->nforward_zones > 0;
	const char *plugins[] = {"cache", "file", fwd ? "forward" : NULL, "metrics"};
	for (size_t i = 0; i < sizeof plugins / sizeof *plugins; i++)
		if (plugins[i] != NULL)
			rw_buf_printf(b, "coredns_plugin_enabled{%s,name=\"%s\"} 1\n", sv,
			              plugins[i]);
	write_dns(b, sv, &t->lat);
	if (fwd) {
		head(b, "coredns_forward_healthcheck_broken_total", "counter",
		     "Counter of the number of complete failures of the healthchecks.");
		rw_buf_printf(b, "coredns_forward_healthcheck_broken_total %llu\n",
		              (unsigned long long)t->up.groups_broken);
	}
	char csv[160];
	snprintf(csv, sizeof csv, "server=\"dns://%s\",zones=\".\",view=\"\"", addr);
	write_cache(s, b, csv, t);
}
