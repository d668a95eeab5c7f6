/* Counters and their readers (Unbound's daemon/stats.c): latency
 * sampling, the query log and rate-limited logs, per-worker snapshots,
 * /metrics in Prometheus text, /healthz, /ready, and the exit summary. */
#include "daemon_int.h"
#include "dnstap.h"
#include "buildinfo.h"
#include "rootwalk/version.h"
#include "http.h"
#include "rootwalk/err.h"
#include "rootwalk/rr.h"

#include <dirent.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

static void write_process(struct rw_buf *b, const struct rw_server *s, bool own);
#include <string.h>

/* Packets an attacker can send at line rate are logged a few per second. */
void rw__log_limited(struct worker *w, struct rw_log_limit *l, const char *what,
                     const struct sockaddr *sa)
{
	uint64_t suppressed;
	if (!rw_log_limit(l, uv_now(&w->loop), &suppressed))
		return;
	char client[80];
	rw_addr_text(sa, client, sizeof client);
	if (suppressed > 0)
		rw_log_info("worker %u: %s from %s (and %llu more not logged in the last second)",
		            w->index, what, client, (unsigned long long)suppressed);
	else
		rw_log_info("worker %u: %s from %s", w->index, what, client);
}

static const char *const rcode_names[6] = {"NOERROR",  "FORMERR", "SERVFAIL",
                                           "NXDOMAIN", "NOTIMP",  "REFUSED"};

static void counter(struct rw_buf *b, const char *name, const char *help, uint64_t v)
{
	rw_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
	              (unsigned long long)v);
}

static void gauge(struct rw_buf *b, const char *name, const char *help, uint64_t v)
{
	rw_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
	              (unsigned long long)v);
}

/* The workers' published counters, summed (each copied under its lock). */
static void sum_snapshots(struct rw_server *s, struct snapshot *out)
{
	struct snapshot t;
	memset(&t, 0, sizeof t);
	for (unsigned i = 0; i < s->nworkers; i++) {
		struct worker *w = s->workers[i];
		uv_mutex_lock(&w->snap_lock);
		struct snapshot x = w->snap;
		uv_mutex_unlock(&w->snap_lock);
		t.q.queries += x.q.queries;
		t.q.dropped += x.q.dropped;
		t.q.truncated += x.q.truncated;
		for (int k = 0; k < 6; k++)
			t.q.rcode[k] += x.q.rcode[k];
		for (int k = 0; k < RW_QSTAT_TYPES; k++)
			t.q.by_type[k] += x.q.by_type[k];
		for (int k = 0; k < 2; k++)
			t.q.by_transport[k] += x.q.by_transport[k];
		rw_cache_stats_add(&t.c, &x.c);
		t.up.queries += x.up.queries;
		t.up.timeouts += x.up.timeouts;
		t.up.failures += x.up.failures + x.up.rejected;
		t.up.overloaded += x.up.overloaded;
		t.up.wait_refused += x.up.wait_refused;
		t.up.discarded += x.up.discarded;
		t.up.recheck_hits += x.up.recheck_hits;
		t.rs.queries += x.rs.queries;
		t.rs.timeouts += x.rs.timeouts;
		t.rs.servfails += x.rs.servfails;
		t.rs.mismatched += x.rs.mismatched;
		t.rs.resolutions += x.rs.resolutions;
		t.rs.lame += x.rs.lame;
		for (int k = 0; k < RW_LIMIT_N; k++)
			t.rs.limit[k] += x.rs.limit[k];
		/* struct latency is counters only: summed as an array. */
		uint64_t *to = (uint64_t *)&t.lat;
		const uint64_t *from = (const uint64_t *)&x.lat;
		for (size_t k = 0; k < sizeof t.lat / sizeof(uint64_t); k++)
			to[k] += from[k];
		t.tcp.evicted += x.tcp.evicted;
		t.tcp.full_refused += x.tcp.full_refused;
		t.tcp.per_client_refused += x.tcp.per_client_refused;
		t.tcp.idle_closed += x.tcp.idle_closed;
		t.tcp.lifetime_closed += x.tcp.lifetime_closed;
		t.rl.slipped += x.rl.slipped;
		t.rl.dropped += x.rl.dropped;
		t.q.acl_refused += x.q.acl_refused;
		t.q.failures_cached += x.q.failures_cached;
		t.q.formerr_header += x.q.formerr_header;
		t.q.signed_refused += x.q.signed_refused;
		t.q.parse_limit += x.q.parse_limit;
		t.q.stale_served += x.q.stale_served;
		t.q.autopath += x.q.autopath;
		t.q.aaaa_filtered += x.q.aaaa_filtered;
		t.q.chaos += x.q.chaos;
		t.up.stale_late += x.up.stale_late;
		t.up.stale_refresh_failed += x.up.stale_refresh_failed;
		t.up.prefetches += x.up.prefetches;
		t.up.keep_warm += x.up.keep_warm;
		t.up.groups_broken += x.up.groups_broken;
	}
	*out = t;
}

/* Answers not straight from data: search names completed, AAAA filtered,
 * stale answers and their refreshes. */
static void write_answered_otherwise(struct rw_buf *b, const struct snapshot *t)
{
	counter(b, "rootwalk_autopath_total",
	        "Search names completed here: a pod's NAME.NS.svc question answered for the "
	        "next search name that exists (--autopath).",
	        t->q.autopath);
	counter(b, "rootwalk_chaos_answers_total",
	        "CHAOS TXT identity questions answered (id.server., version.bind., ...).",
	        t->q.chaos);
	counter(b, "rootwalk_aaaa_filtered_total",
	        "AAAA questions answered NODATA (--filter-aaaa).", t->q.aaaa_filtered);
	counter(b, "rootwalk_stale_answers_total",
	        "Answers from expired data: its refresh failed or was late (RFC 8767).",
	        t->q.stale_served);
	counter(b, "rootwalk_stale_late_total",
	        "Clients answered from expired data because its refresh took longer than "
	        "--serve-stale-timeout-ms.",
	        t->up.stale_late);
	counter(b, "rootwalk_stale_refresh_failed_total",
	        "Refreshes of expired data that failed (retried no sooner than "
	        "--serve-stale-retry-s).",
	        t->up.stale_refresh_failed);
}

/* Background refreshes (issue 12): prefetches and the keep-warm list. */
static void b_refreshes(struct rw_buf *b, const struct snapshot *t)
{
	rw_buf_printf(b,
	              "# HELP rootwalk_refreshes_total Background refreshes of cached answers: "
	              "asked for near their end (prefetch) or on the keep-warm list.\n"
	              "# TYPE rootwalk_refreshes_total counter\n"
	              "rootwalk_refreshes_total{reason=\"prefetch\"} %llu\n"
	              "rootwalk_refreshes_total{reason=\"keep_warm\"} %llu\n",
	              (unsigned long long)t->up.prefetches, (unsigned long long)t->up.keep_warm);
}

/* The counters of the limits on clients' input (issue 11): TCP and HTTP
 * connections closed or refused, queries refused unparsed. */
static void write_limits(struct rw_server *s, const struct snapshot *tp, struct rw_buf *b)
{
	const struct snapshot t = *tp;
	rw_buf_printf(b,
	              "# HELP rootwalk_tcp_closed_total TCP connections closed or refused by the "
	              "slot rules, by reason.\n"
	              "# TYPE rootwalk_tcp_closed_total counter\n"
	              "rootwalk_tcp_closed_total{reason=\"evicted\"} %llu\n"
	              "rootwalk_tcp_closed_total{reason=\"full\"} %llu\n"
	              "rootwalk_tcp_closed_total{reason=\"per_client\"} %llu\n"
	              "rootwalk_tcp_closed_total{reason=\"idle\"} %llu\n"
	              "rootwalk_tcp_closed_total{reason=\"lifetime\"} %llu\n",
	              (unsigned long long)t.tcp.evicted, (unsigned long long)t.tcp.full_refused,
	              (unsigned long long)t.tcp.per_client_refused,
	              (unsigned long long)t.tcp.idle_closed,
	              (unsigned long long)t.tcp.lifetime_closed);
	struct rw_http_stats hs = {0};
	if (s->http != NULL)
		rw_http_stats(s->http, &hs);
	rw_buf_printf(b,
	              "# HELP rootwalk_http_closed_total HTTP connections closed or refused by the "
	              "fairness rules, by reason.\n"
	              "# TYPE rootwalk_http_closed_total counter\n"
	              "rootwalk_http_closed_total{reason=\"evicted\"} %llu\n"
	              "rootwalk_http_closed_total{reason=\"per_client\"} %llu\n"
	              "rootwalk_http_closed_total{reason=\"timeout\"} %llu\n",
	              (unsigned long long)hs.evicted, (unsigned long long)hs.per_client_refused,
	              (unsigned long long)hs.timed_out);
	rw_buf_printf(
	    b, "# HELP rootwalk_recursion_limit_total Resolutions ended by a limit, by limit.\n"
	       "# TYPE rootwalk_recursion_limit_total counter\n");
	for (int k = 0; k < RW_LIMIT_N; k++)
		rw_buf_printf(b, "rootwalk_recursion_limit_total{limit=\"%s\"} %llu\n",
		              rw_res_limit_names[k], (unsigned long long)t.rs.limit[k]);
	counter(b, "rootwalk_outstanding_refused_total",
	        "Queries answered SERVFAIL at once: --max-outstanding questions in flight.",
	        t.up.overloaded);
	counter(b, "rootwalk_waiting_refused_total",
	        "Queries dropped: their client address had --max-waiting-per-client waiting.",
	        t.up.wait_refused);
	counter(b, "rootwalk_cache_recheck_hits_total",
	        "Misses whose answer reached the cache (their question's previous flight "
	        "landed) before they joined its next flight: answered from the cache, not "
	        "asked again.",
	        t.up.recheck_hits);
	counter(b, "rootwalk_replies_discarded_total",
	        "Replies not sent: later than --discard-timeout-ms after the query.",
	        t.up.discarded);
	counter(b, "rootwalk_queries_rejected_header_total",
	        "Queries answered FORMERR from the header alone (counts no query has).",
	        t.q.formerr_header);
	counter(b, "rootwalk_queries_pointer_limit_total",
	        "Queries answered FORMERR past the compression pointer bounds (16 a name, 1 per "
	        "4 bytes).",
	        t.q.parse_limit);
	counter(b, "rootwalk_queries_signed_total",
	        "TSIG or SIG(0) signed queries: NOTAUTH (no keys held) or FORMERR.",
	        t.q.signed_refused);
}

/* A size histogram per transport (CoreDNS's bounds). */
void rw__write_sizes(struct rw_buf *b, const char *name, const char *label, const char *more,
                     const uint64_t h[2][SIZE_BUCKETS + 1], const uint64_t *bytes)
{
	for (int t = 0; t < 2; t++) {
		const char *tn = t == 0 ? "udp" : "tcp";
		uint64_t cum = 0;
		for (int k = 0; k < SIZE_BUCKETS; k++) {
			cum += h[t][k];
			rw_buf_printf(b, "%s_bucket{%s%s=\"%s\",le=\"%u\"} %llu\n", name, more,
			              label, tn, rw__size_bounds[k], (unsigned long long)cum);
		}
		cum += h[t][SIZE_BUCKETS];
		rw_buf_printf(b,
		              "%s_bucket{%s%s=\"%s\",le=\"+Inf\"} %llu\n%s_sum{%s%s=\"%s\"} %llu\n"
		              "%s_count{%s%s=\"%s\"} %llu\n",
		              name, more, label, tn, (unsigned long long)cum, name, more, label, tn,
		              (unsigned long long)bytes[t], name, more, label, tn,
		              (unsigned long long)cum);
	}
}

static void write_sizes(struct rw_buf *b, const char *name, const char *label,
                        const uint64_t h[2][SIZE_BUCKETS + 1], const uint64_t *bytes)
{
	rw__write_sizes(b, name, label, "", h, bytes);
}

/* Client queries: received, answered, and what the cache did for them. */
static void write_queries(struct rw_server *s, struct rw_buf *b, const struct snapshot *tp)
{
	const struct snapshot t = *tp;
	rw_buf_printf(b, "# HELP rootwalk_queries_total Queries received, by transport.\n"
	                 "# TYPE rootwalk_queries_total counter\n");
	rw_buf_printf(b, "rootwalk_queries_total{transport=\"udp\"} %llu\n",
	              (unsigned long long)t.q.by_transport[0]);
	rw_buf_printf(b, "rootwalk_queries_total{transport=\"tcp\"} %llu\n",
	              (unsigned long long)t.q.by_transport[1]);
	rw_buf_printf(b, "# HELP rootwalk_queries_by_type_total Queries received, by type.\n"
	                 "# TYPE rootwalk_queries_by_type_total counter\n");
	for (int k = 0; k < RW_QSTAT_TYPES; k++) {
		char type[16] = "other";
		if (k < RW_QSTAT_TYPES - 1)
			rw_type_to_text(rw_qstat_types[k], type, sizeof type);
		rw_buf_printf(b, "rootwalk_queries_by_type_total{type=\"%s\"} %llu\n", type,
		              (unsigned long long)t.q.by_type[k]);
	}
	rw_buf_printf(b, "# HELP rootwalk_responses_total Responses sent, by rcode.\n"
	                 "# TYPE rootwalk_responses_total counter\n");
	for (int k = 0; k < 6; k++)
		rw_buf_printf(b, "rootwalk_responses_total{rcode=\"%s\"} %llu\n", rcode_names[k],
		              (unsigned long long)t.q.rcode[k]);
	counter(b, "rootwalk_dropped_total", "Requests dropped without a reply.", t.q.dropped);
	counter(b, "rootwalk_truncated_total", "Replies sent with TC=1.", t.q.truncated);
	rw_buf_printf(b,
	              "# HELP rootwalk_cache_hits_total Client queries answered from the cache, "
	              "by kind (success: records; denial: NXDOMAIN, NODATA or a failure held).\n"
	              "# TYPE rootwalk_cache_hits_total counter\n"
	              "rootwalk_cache_hits_total{type=\"success\"} %llu\n"
	              "rootwalk_cache_hits_total{type=\"denial\"} %llu\n",
	              (unsigned long long)t.lat.cache_hits[0],
	              (unsigned long long)t.lat.cache_hits[1]);
	counter(b, "rootwalk_cache_misses_total",
	        "Client queries the cache could not answer (sent upstream).", t.lat.cache_misses);
	rw_buf_printf(b,
	              "# HELP rootwalk_cache_lookups_total Cache lookups of every kind (client "
	              "queries, CNAME hops, the resolver's own), by result.\n"
	              "# TYPE rootwalk_cache_lookups_total counter\n"
	              "rootwalk_cache_lookups_total{result=\"hit\"} %llu\n"
	              "rootwalk_cache_lookups_total{result=\"miss\"} %llu\n",
	              (unsigned long long)t.c.hits, (unsigned long long)t.c.misses);
	counter(b, "rootwalk_cache_inserts_total", "Entries put in the cache.", t.c.inserts);
	counter(b, "rootwalk_cache_evictions_total", "Entries evicted for space.", t.c.evictions);
	counter(b, "rootwalk_cache_expired_total", "Entries found expired.", t.c.expired);
	gauge(b, "rootwalk_cache_entries", "Entries in the cache.", rw_cache_entries(s->cache));
	gauge(b, "rootwalk_cache_negative_entries",
	      "Entries in the cache that are NXDOMAIN or NODATA answers.",
	      rw_cache_entries_negative(s->cache));
	gauge(b, "rootwalk_cache_bytes", "Memory the cache counts against --cache-size.",
	      rw_cache_bytes(s->cache));
}

void rw__metrics_write(struct rw_server *s, struct rw_buf *b)
{
	struct snapshot t;
	sum_snapshots(s, &t);
	unsigned fam = s->gen->cfg->metrics_format;
	if (fam & RW_METRICS_COREDNS)
		rw__metrics_write_coredns(s, b, &t);
	rw__upstats_write(b, fam);
	if (!(fam & RW_METRICS_ROOTWALK)) {
		write_process(b, s, false);
		return;
	}
	write_queries(s, b, &t);
	rw_buf_printf(b,
	              "# HELP rootwalk_upstream_queries_total Queries sent upstream.\n"
	              "# TYPE rootwalk_upstream_queries_total counter\n"
	              "rootwalk_upstream_queries_total{mode=\"forward\"} %llu\n"
	              "rootwalk_upstream_queries_total{mode=\"recursive\"} %llu\n",
	              (unsigned long long)t.up.queries, (unsigned long long)t.rs.queries);
	rw_buf_printf(b,
	              "# HELP rootwalk_upstream_timeouts_total Upstream timeouts.\n"
	              "# TYPE rootwalk_upstream_timeouts_total counter\n"
	              "rootwalk_upstream_timeouts_total{mode=\"forward\"} %llu\n"
	              "rootwalk_upstream_timeouts_total{mode=\"recursive\"} %llu\n",
	              (unsigned long long)t.up.timeouts, (unsigned long long)t.rs.timeouts);
	rw_buf_printf(b,
	              "# HELP rootwalk_upstream_errors_total Upstream failures and bad replies.\n"
	              "# TYPE rootwalk_upstream_errors_total counter\n"
	              "rootwalk_upstream_errors_total{mode=\"forward\"} %llu\n"
	              "rootwalk_upstream_errors_total{mode=\"recursive\"} %llu\n",
	              (unsigned long long)t.up.failures,
	              (unsigned long long)(t.rs.servfails + t.rs.mismatched));
	counter(b, "rootwalk_forward_groups_broken_total",
	        "Times every server of a forward group failed (its clients get SERVFAIL at once "
	        "while it is probed).",
	        t.up.groups_broken);
	counter(b, "rootwalk_failures_cached_total",
	        "SERVFAIL answered at once: the question or its delegation just failed (RFC 9520).",
	        t.q.failures_cached);
	write_answered_otherwise(b, &t);
	if (s->dnstap != NULL) {
		uint64_t sent, dropped;
		rw_dnstap_counts(s->dnstap, &sent, &dropped);
		rw_buf_printf(
		    b,
		    "# HELP rootwalk_dnstap_messages_total dnstap messages queued for the "
		    "writer, and dropped (its queue full: the collector is slow or gone).\n"
		    "# TYPE rootwalk_dnstap_messages_total counter\n"
		    "rootwalk_dnstap_messages_total{result=\"sent\"} %llu\n"
		    "rootwalk_dnstap_messages_total{result=\"dropped\"} %llu\n",
		    (unsigned long long)sent, (unsigned long long)dropped);
	}
	b_refreshes(b, &t);
	write_limits(s, &t, b);
	gauge(b, "rootwalk_failures_held", "Questions, delegations and groups held failed.",
	      rw_failcache_count(s->failures));
	counter(b, "rootwalk_upstream_lame_total",
	        "Servers found lame for a zone they were delegated (each marked for minutes).",
	        t.rs.lame);
	counter(b, "rootwalk_overload_total", "Clients refused because too much was in flight.",
	        t.up.overloaded);
	counter(b, "rootwalk_acl_refused_total", "Queries refused: client not in --allow.",
	        t.q.acl_refused);
	rw_buf_printf(b,
	              "# HELP rootwalk_ratelimited_total Responses over --rate-limit.\n"
	              "# TYPE rootwalk_ratelimited_total counter\n"
	              "rootwalk_ratelimited_total{action=\"slip\"} %llu\n"
	              "rootwalk_ratelimited_total{action=\"drop\"} %llu\n",
	              (unsigned long long)t.rl.slipped, (unsigned long long)t.rl.dropped);
	rw_buf_printf(b, "# HELP rootwalk_query_duration_seconds Receive to reply, every client "
	                 "query, by where its answer came from.\n"
	                 "# TYPE rootwalk_query_duration_seconds histogram\n");
	for (unsigned k = 0; k < RW_SOURCES; k++) {
		char labels[32];
		snprintf(labels, sizeof labels, "source=\"%s\",", rw_source_names[k]);
		rw__histogram(b, "rootwalk_query_duration_seconds", labels, t.lat.bucket[k], 0,
		              t.lat.sum_ns[k]);
	}
	rw_buf_printf(b, "# HELP rootwalk_request_size_bytes Client queries' sizes.\n"
	                 "# TYPE rootwalk_request_size_bytes histogram\n");
	write_sizes(b, "rootwalk_request_size_bytes", "transport", t.lat.req_size, t.lat.req_bytes);
	rw_buf_printf(b, "# HELP rootwalk_response_size_bytes Replies' sizes.\n"
	                 "# TYPE rootwalk_response_size_bytes histogram\n");
	write_sizes(b, "rootwalk_response_size_bytes", "transport", t.lat.resp_size,
	            t.lat.resp_bytes);
	rw_buf_printf(b, "# HELP rootwalk_answers_total Replies sent, by source and rcode.\n"
	                 "# TYPE rootwalk_answers_total counter\n");
	for (unsigned k = 0; k < RW_SOURCES; k++)
		for (unsigned r = 0; r < RCODES; r++)
			if (t.lat.responses[r][k] > 0)
				rw_buf_printf(
				    b, "rootwalk_answers_total{source=\"%s\",rcode=\"%s\"} %llu\n",
				    rw_source_names[k], r < RCODES - 1 ? rcode_names[r] : "OTHER",
				    (unsigned long long)t.lat.responses[r][k]);
	rw_buf_printf(b,
	              "# HELP rootwalk_zone_reloads_total Zone reloads.\n"
	              "# TYPE rootwalk_zone_reloads_total counter\n"
	              "rootwalk_zone_reloads_total{result=\"ok\"} %llu\n"
	              "rootwalk_zone_reloads_total{result=\"failed\"} %llu\n",
	              (unsigned long long)s->reloads_ok, (unsigned long long)s->reloads_failed);
	gauge(b, "rootwalk_zones", "Zones served.", rw_zoneset_count(s->zones));
	rw_buf_printf(b,
	              "# HELP rootwalk_config_reloads_total Reloads of the configuration file "
	              "(SIGHUP, control reload).\n"
	              "# TYPE rootwalk_config_reloads_total counter\n"
	              "rootwalk_config_reloads_total{result=\"ok\"} %llu\n"
	              "rootwalk_config_reloads_total{result=\"failed\"} %llu\n",
	              (unsigned long long)s->config_ok, (unsigned long long)s->config_failed);
	gauge(b, "rootwalk_config_generation",
	      "Configurations applied since start (0: the one it started with).", s->gen->id);
	gauge(b, "rootwalk_config_restart_pending",
	      "1: the last reload changed settings that take a restart (listen, threads...).",
	      s->restart_pending);
	write_process(b, s, true);
}

/* The process (Prometheus' process_* names, what node exporters and
 * dashboards expect) and what was built (rootwalk_build_info). */
static void write_process(struct rw_buf *b, const struct rw_server *s, bool own)
{
	if (own)
		rw_buf_printf(
		    b,
		    "# HELP rootwalk_build_info What this binary is.\n"
		    "# TYPE rootwalk_build_info gauge\n"
		    "rootwalk_build_info{version=\"%s\",commit=\"%s\",buildtype=\"%s\"} 1\n",
		    RW_VERSION, RW_BUILD_COMMIT, RW_BUILD_TYPE);
	long page = sysconf(_SC_PAGESIZE);
	unsigned long long size = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "re");
	if (f != NULL) {
		if (fscanf(f, "%llu %llu", &size, &resident) != 2)
			size = resident = 0;
		fclose(f);
	}
	gauge(b, "process_resident_memory_bytes", "Resident memory size in bytes.",
	      resident * (unsigned long long)page);
	gauge(b, "process_virtual_memory_bytes", "Virtual memory size in bytes.",
	      size * (unsigned long long)page);
	struct rusage ru;
	double cpu = 0;
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		      (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	rw_buf_printf(b,
	              "# HELP process_cpu_seconds_total Total user and system CPU time spent in "
	              "seconds.\n# TYPE process_cpu_seconds_total counter\n"
	              "process_cpu_seconds_total %.3f\n",
	              cpu);
	unsigned long long fds = 0;
	DIR *d = opendir("/proc/self/fd");
	if (d != NULL) {
		/* Bound: the process's open descriptors. */
		for (struct dirent *de; (de = readdir(d)) != NULL;)
			fds += de->d_name[0] != '.';
		closedir(d);
		fds--; /* the one opendir holds */
	}
	gauge(b, "process_open_fds", "Number of open file descriptors.", fds);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		gauge(b, "process_max_fds", "Maximum number of open file descriptors.",
		      (unsigned long long)rl.rlim_cur);
	gauge(b, "process_start_time_seconds", "Start time of the process since the epoch.",
	      (unsigned long long)s->started_wall);
}

int rw__metrics_http(void *ctx, const char *path, struct rw_buf *body, const char **type)
{
	struct rw_server *s = ctx;
	if (strcmp(path, "/metrics") == 0) {
		*type = "text/plain; version=0.0.4; charset=utf-8";
		rw__metrics_write(s, body);
		return 200;
	}
	if (strcmp(path, "/healthz") == 0) {
		rw_buf_printf(body, "ok\n");
		return 200;
	}
	if (strcmp(path, "/ready") == 0) {
		bool ready = s->running && s->zones != NULL;
		rw_buf_printf(body, ready ? "ready\n" : "not ready\n");
		return ready ? 200 : 503;
	}
	return 404;
}

void rw__metrics_snapshot_cb(uv_timer_t *t)
{
	struct worker *w = t->data;
	uv_mutex_lock(&w->snap_lock);
	w->snap.q = w->env.stats;
	w->snap.c = w->env.cache_stats;
	w->snap.up = w->up;
	w->snap.rs = w->res_stats;
	w->snap.lat = w->lat;
	w->snap.rl = w->rl_stats;
	w->snap.tcp = w->tcp_stats;
	uv_mutex_unlock(&w->snap_lock);
}

void rw__metrics_log_summary(struct rw_server *s)
{
	struct rw_query_stats q = {0};
	struct rw_cache_stats cs = {0};
	struct upstream_stats up = {0};
	struct rw_res_stats rs = {0};
	for (unsigned i = 0; s->workers != NULL && i < s->nworkers; i++) {
		struct worker *w = s->workers[i];
		if (w == NULL)
			continue;
		q.queries += w->env.stats.queries;
		rw_cache_stats_add(&cs, &w->env.cache_stats);
		up.queries += w->up.queries;
		up.timeouts += w->up.timeouts;
		up.failures += w->up.failures;
		up.rejected += w->up.rejected;
		up.overloaded += w->up.overloaded;
		rs.resolutions += w->res_stats.resolutions;
		rs.queries += w->res_stats.queries;
		rs.timeouts += w->res_stats.timeouts;
		rs.mismatched += w->res_stats.mismatched + w->iter_dropped;
		rs.lame += w->res_stats.lame;
		rs.limit_hits += w->res_stats.limit_hits;
		rs.servfails += w->res_stats.servfails;
	}
	if (q.queries > 0)
		rw_log_info(
		    "served %llu queries; cache: %llu hits, %llu misses, %zu entries, %zu bytes; "
		    "upstream: %llu queries, %llu timeouts, %llu failures, %llu rejected",
		    (unsigned long long)q.queries, (unsigned long long)cs.hits,
		    (unsigned long long)cs.misses,
		    s->cache != NULL ? rw_cache_entries(s->cache) : 0,
		    s->cache != NULL ? rw_cache_bytes(s->cache) : 0, (unsigned long long)up.queries,
		    (unsigned long long)up.timeouts, (unsigned long long)up.failures,
		    (unsigned long long)up.rejected);
	if (rs.resolutions > 0)
		rw_log_info(
		    "recursion: %llu resolutions, %llu upstream queries, %llu timeouts, "
		    "%llu mismatched replies dropped, %llu lame, %llu limits hit, %llu SERVFAIL",
		    (unsigned long long)rs.resolutions, (unsigned long long)rs.queries,
		    (unsigned long long)rs.timeouts, (unsigned long long)rs.mismatched,
		    (unsigned long long)rs.lame, (unsigned long long)rs.limit_hits,
		    (unsigned long long)rs.servfails);
}
