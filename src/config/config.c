/* Command-line and YAML configuration; see include/config/rootwalk/config.h.
 *
 * Every setting is one row of settings[]: its name, value kind, the field it
 * fills (an offset into struct rw_config), default, bounds, an example
 * value and help. getopt's option list, the YAML reader, --help and the
 * defaults are all driven by that table, and a value is stored only into
 * its own row's field: setting one option can never free another's. The
 * module validates values and owns strings; it loads no zones and opens no
 * sockets. */
#include "rootwalk/config.h"
#include "rootwalk/cpus.h"
#include "rootwalk/err.h"
#include "rootwalk/name.h"
#include "rootwalk/rr.h"

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "config_int.h"

#define FIELD(f) offsetof(struct rw_config, f)
#define UINT(f) FIELD(f), sizeof(((struct rw_config *)0)->f)
#define LIST(f, n) FIELD(f), FIELD(n)

const struct setting rw__settings[] = {
    {"config", 'c', K_PATH, FIELD(config_file), 0, S_CLI_ONLY, 0, 0, NULL, "rootwalk.yaml", "FILE",
     "read settings from a YAML file"},
    {"listen", 0, K_ADDRS, LIST(listen, nlisten), S_RESTART, 0, 0, "127.0.0.1:53 [::1]:53",
     "127.0.0.1:5353", "ADDR[:PORT]", "listen on UDP and TCP (repeatable; IPv6 as [::1]:53)"},
    {"threads", 0, K_UINT, UINT(threads), S_RESTART, 1, 256, NULL, "2", "N",
     "worker threads (default: the CPUs this process may use -- its affinity\n"
     "mask and cgroup CPU quota, rounded up)"},
    {"zone", 0, K_ZONES, LIST(zones, nzones), 0, 0, 0, NULL, "example.=example.zone", "NAME=FILE",
     "serve a zone file (repeatable)"},
    {"zones-dir", 0, K_PATH, FIELD(zones_dir), 0, 0, 0, 0, NULL, "zones", "DIR",
     "serve every DIR/NAME.zone, origin = file name"},
    {"no-builtin-zones", 0, K_BOOL, FIELD(builtin_zones), 1, 0, 0, 0, NULL, "true", NULL,
     "do not serve the built-in RFC 6761/6303 zones"},
    {"no-builtin-zone", 0, K_NAMES, LIST(no_builtin, nno_builtin), 0, 0, 0, NULL, "10.in-addr.arpa",
     "NAME",
     "do not serve this built-in zone (repeatable; e.g. a private reverse zone\n"
     "a forward zone above it should get)"},
    {"watch-zones", 0, K_BOOL, FIELD(watch_zones), 0, S_RESTART, 0, 0, NULL, "true", NULL,
     "reload zones when their files change (SIGHUP always reloads)"},
    {"watch-interval-s", 0, K_UINT, UINT(watch_interval_s), S_RESTART, 0, 86400, "60", "30",
     "SECONDS",
     "with --watch-zones, also check the zone files this often (0: only on\n"
     "events); a check reloads only when their content changed"},
    {"autopath", 0, K_STR, FIELD(autopath), 0, 0, 0, 0, NULL, "cluster.local", "ZONE",
     "complete search names here: a pod of namespace NS (a pod name\n"
     "ADDR.NS.pod.ZONE holds its address) asking NAME.NS.svc.ZONE, which does\n"
     "not exist, gets a CNAME to the next search name that does (NAME.svc.ZONE,\n"
     "NAME.ZONE, NAME) and its answer, in one round trip"},
    {"filter-aaaa", 0, K_BOOL, FIELD(filter_aaaa), 0, 0, 0, 0, NULL, "true", NULL,
     "answer AAAA questions for names outside the local zones with NODATA\n"
     "(IPv4-only clusters)"},
    {"nsid", 0, K_STR, FIELD(nsid), 0, 0, 0, 0, NULL, "hostname", "TEXT",
     "answer a client that asks for the name server ID (RFC 5001) with TEXT;\n"
     "\"hostname\" is this host's name (default: none)"},
    {"identity", 0, K_STR, FIELD(identity), 0, 0, 0, 0, NULL, "dns-1.example", "TEXT",
     "the CHAOS TXT answer for id.server. and hostname.bind. (default: the host name)"},
    {"hide-identity", 0, K_BOOL, FIELD(hide_identity), 0, 0, 0, 0, NULL, "true", NULL,
     "answer id.server. and hostname.bind. REFUSED"},
    {"version-text", 0, K_STR, FIELD(version_text), 0, 0, 0, 0, NULL, "dns", "TEXT",
     "the CHAOS TXT answer for version.bind. and version.server.\n"
     "(default: rootwalk and its version)"},
    {"hide-version", 0, K_BOOL, FIELD(hide_version), 0, 0, 0, 0, NULL, "true", NULL,
     "answer version.bind. and version.server. REFUSED"},
    {"no-round-robin", 0, K_BOOL, FIELD(round_robin), 1, 0, 0, 0, NULL, "true", NULL,
     "keep A/AAAA records in zone order (default: rotate per answer)"},
    {"http", 0, K_ADDR, FIELD(http), 0, S_RESTART, 0, 0, NULL, "127.0.0.1:8053", "ADDR:PORT",
     "serve /metrics, /healthz, /ready over HTTP (off by default)"},
    {"dnstap", 0, K_STR, FIELD(dnstap), 0, S_RESTART, 0, 0, NULL, "unix:/run/rootwalk/dnstap.sock",
     "unix:PATH|file:PATH",
     "send dnstap messages -- client queries and responses, queries to and\n"
     "replies from forwarders and authoritative servers -- to a collector's\n"
     "unix socket, or to a file (dnstap-read reads it)"},
    {"metrics-format", 0, K_METRICS, FIELD(metrics_format), 0, 0, 0, 0, "rootwalk", "both",
     "rootwalk|coredns|both",
     "metric families /metrics serves: rootwalk's own, CoreDNS's names and\n"
     "labels (its dashboards and alerts work unchanged), or both"},
    {"control", 0, K_PATH, FIELD(control), 0, S_RESTART, 0, 0, NULL, "/run/rootwalk/control.sock",
     "PATH", "control socket (mode 0600) for `rootwalk control ...`"},
    {"allow", 0, K_NETBLOCKS, LIST(allow, nallow), 0, 0, 0, "127.0.0.0/8 ::1", "10.0.0.0/8",
     "NETBLOCK", "clients allowed recursion/forwarding (repeatable); others: REFUSED"},
    {"allow-local-zones-from-any", 0, K_BOOL, FIELD(local_from_any), 0, 0, 0, 0, NULL, "true", NULL,
     "answer local zones to every client, allowed or not"},
    {"rate-limit", 0, K_UINT, UINT(rate_limit), 0, 0, 1000000, NULL, "100", "QPS",
     "UDP responses per second per client (0: off); over it, every other\n"
     "reply is a TC=1 slip, the rest dropped"},
    {"user", 0, K_STR, FIELD(user), 0, S_RESTART, 0, 0, NULL, "nobody", "NAME",
     "after binding, run as this user (refuses to stay root)"},
    {"log-format", 0, K_LOGFMT, FIELD(log_json), 0, 0, 0, 0, "text", "json", "text|json",
     "log line format"},
    {"log-queries", 0, K_BOOL, FIELD(log_queries), 0, 0, 0, 0, NULL, "true", NULL,
     "one log line per query (client, name, type, rcode)"},
    {"log-level", 0, K_LOGLEVEL, FIELD(log_level), 0, 0, 0, 0, "info", "debug", "LEVEL",
     "error|warn|info|debug"},
    {"edns-buffer-size", 0, K_UINT, UINT(edns_size), 0, 512, 4096, "1232", "1400", "BYTES",
     "largest UDP reply"},
    {"tcp-idle-timeout-ms", 0, K_UINT, UINT(tcp_idle_timeout_ms), 0, 100, 3600000, "10000", "5000",
     "MS", "close idle TCP connections"},
    {"tcp-max-connections", 0, K_UINT, UINT(tcp_max_connections), 0, 1, 1000000, "1000", "500", "N",
     "open TCP connections at most"},
    {"tcp-max-per-client", 0, K_UINT, UINT(tcp_max_per_client), 0, 0, 1000000, "0", "16", "N",
     "open TCP connections per client address (IPv6: per /64)\n(0: a quarter of "
     "--tcp-max-connections)"},
    {"tcp-max-lifetime-ms", 0, K_UINT, UINT(tcp_max_lifetime_ms), 0, 1000, 86400000, "120000",
     "60000", "MS", "close a TCP connection this long after it opened"},
    {"max-waiting-per-client", 0, K_UINT, UINT(max_waiting_per_client), 0, 1, 1000000, "1000",
     "100", "N",
     "queries of one client address waiting upstream (IPv6: per /64);\nmore are dropped"},
    {"discard-timeout-ms", 0, K_UINT, UINT(discard_timeout_ms), 0, 100, 600000, "5000", "3000",
     "MS", "drop a reply that comes later than this after its query\n(the client gave up)"},
    {"cache-size", 0, K_SIZE, FIELD(cache_size), 0, S_RESTART, 65536, 1ULL << 40, "64M", "128M",
     "BYTES", "cache memory bound, suffix K, M or G"},
    {"min-ttl", 0, K_UINT, UINT(min_ttl), 0, 0, 604800, "0", "5", "SECONDS",
     "cache records at least this long"},
    {"max-ttl", 0, K_UINT, UINT(max_ttl), 0, 1, 604800, "86400", "3600", "SECONDS",
     "cache records at most this long"},
    {"max-negative-ttl", 0, K_UINT, UINT(max_negative_ttl), 0, 0, 604800, "3600", "900", "SECONDS",
     "cache NXDOMAIN/NODATA at most this long"},
    {"forward", 0, K_ADDRS, LIST(forward, nforward), 0, 0, 0, NULL, "127.0.0.1:5300", "ADDR[:PORT]",
     "send what local zones and the cache cannot answer to this resolver\n(repeatable)"},
    {"forward-zone", 0, K_FWDZONES, LIST(forward_zones, nforward_zones), 0, 0, 0, NULL,
     "corp.=127.0.0.1:5301,[::1]:5301 tcp max-ttl=30", "NAME=ADDR[:PORT][,...] [OPTION...]",
     "send names under NAME there (repeatable; overrides --forward); options:\n"
     "tcp (always over TCP), max-ttl=S, max-negative-ttl=S (cache caps for\n"
     "this zone's answers)"},
    {"upstream-timeout-ms", 0, K_UINT, UINT(upstream_timeout_ms), 0, 10, 60000, "1000", "800", "MS",
     "wait this long for an upstream reply per try"},
    {"upstream-tries", 0, K_UINT, UINT(upstream_tries), 0, 1, 10, "2", "3", "N",
     "tries per upstream server"},
    {"root-hints", 0, K_PATH, FIELD(root_hints), 0, S_RESTART, 0, 0, NULL, "root.hints", "FILE",
     "root servers (named.root format) instead of the built-in ones"},
    {"query-loopback", 0, K_BOOL, FIELD(query_loopback), 0, 0, 0, 0, NULL, "true", NULL,
     "also query 127/8, ::1, 0/8, :: addresses learned from the network"},
    {"no-ipv6-upstream", 0, K_BOOL, FIELD(ipv6_upstream), 1, 0, 0, 0, NULL, "true", NULL,
     "never query IPv6 servers when resolving"},
    {"no-qname-minimisation", 0, K_BOOL, FIELD(qname_minimisation), 1, 0, 0, 0, NULL, "true", NULL,
     "send the full name to every server (default: RFC 9156, relaxed)"},
    {"resolve-timeout-ms", 0, K_UINT, UINT(resolve_timeout_ms), 0, 100, 120000, "10000", "5000",
     "MS", "give up a resolution (SERVFAIL) after this long"},
    {"max-cname-chain", 0, K_UINT, UINT(max_cname_chain), 0, 1, 64, "8", "10", "N",
     "CNAME hops per resolution"},
    {"max-referrals", 0, K_UINT, UINT(max_referrals), 0, 1, 100, "30", "20", "N",
     "referrals followed per resolution"},
    {"max-upstream-queries", 0, K_UINT, UINT(max_upstream_queries), 0, 1, 1000, "64", "50", "N",
     "upstream queries per client query"},
    {"max-upstream-bytes", 0, K_UINT, UINT(max_upstream_bytes), 0, 65536, 67108864, "524288",
     "1048576", "BYTES",
     "reply bytes read from servers per client query\n(what parsing them may cost)"},
    {"max-glueless", 0, K_UINT, UINT(max_glueless), 0, 0, 32, "4", "3", "N",
     "NS address lookups per delegation"},
    {"max-subrequest-depth", 0, K_UINT, UINT(max_subrequest_depth), 0, 1, 6, "3", "2", "N",
     "nested NS address lookups"},
    {"max-outstanding", 0, K_UINT, UINT(max_outstanding), S_RESTART, 1, 1000000, "10000", "5000",
     "N", "questions in flight upstream at once"},
    {"failure-ttl", 0, K_UINT, UINT(failure_ttl), S_RESTART, 0, 3600, "1", "2", "SECONDS",
     "answer a question that just failed upstream SERVFAIL at once for this\n"
     "long, doubling while it keeps failing (RFC 9520; 0: off)"},
    {"failure-ttl-max", 0, K_UINT, UINT(failure_ttl_max), S_RESTART, 1, 86400, "300", "120",
     "SECONDS", "the longest a failure is held"},
    {"serve-stale-s", 0, K_UINT, UINT(serve_stale_s), 0, 0, 604800, "86400", "3600", "SECONDS",
     "answer with expired data for this long past its expiry when its refresh\n"
     "fails or is late (RFC 8767; 0: off)"},
    {"serve-stale-ttl", 0, K_UINT, UINT(serve_stale_ttl), 0, 1, 3600, "30", "10", "SECONDS",
     "the TTL of stale records in replies"},
    {"serve-stale-timeout-ms", 0, K_UINT, UINT(serve_stale_timeout_ms), 0, 0, 60000, "1800", "1000",
     "MS",
     "answer from stale data when its refresh takes longer than this\n"
     "(0: only when the refresh fails)"},
    {"serve-stale-retry-s", 0, K_UINT, UINT(serve_stale_retry_s), 0, 1, 3600, "30", "60", "SECONDS",
     "after a refresh of stale data failed, refresh it no sooner"},
    {"cache-file", 0, K_PATH, FIELD(cache_file), 0, 0, 0, 0, NULL, "/var/cache/rootwalk/cache",
     "FILE",
     "read the cache from FILE at start, write it there at a clean exit\n"
     "(a restart does not start cold)"},
    {"prefetch", 0, K_UINT, UINT(prefetch_pct), 0, 0, 50, "10", "20", "PERCENT",
     "refresh a cached answer in the background when it is asked for with\n"
     "less than this share of its TTL left (0: never)"},
    {"keep-warm", 0, K_WARM, LIST(keep_warm, nkeep_warm), 0, 0, 0, NULL, "www.example/AAAA",
     "NAME[/TYPE]", "keep this name's answer (type A by default) always fresh\n(repeatable)"},
    {"takeover", 0, K_BOOL, FIELD(takeover), 0, S_CLI_ONLY, 0, 0, NULL, "true", NULL,
     "take the listening sockets of the rootwalk running at --control, then\n"
     "let it finish what it has in flight and exit (a restart that drops\n"
     "nothing); with none running, start as usual"},
    {"check-config", 0, K_ACTION, FIELD(action), RW_CONFIG_CHECK, S_CLI_ONLY, 0, 0, NULL, NULL,
     NULL, "check config and zones, then exit"},
    {"sample-config", 0, K_ACTION, FIELD(action), RW_CONFIG_SAMPLE, S_CLI_ONLY, 0, 0, NULL, NULL,
     NULL, "print a documented sample configuration file and exit"},
    {"config-reference", 0, K_ACTION, FIELD(action), RW_CONFIG_REFERENCE, S_CLI_ONLY, 0, 0, NULL,
     NULL, NULL, "print every setting as a Markdown table and exit"},
    {"version", 0, K_ACTION, FIELD(action), RW_CONFIG_VERSION, S_CLI_ONLY, 0, 0, NULL, NULL, NULL,
     "print the version and exit"},
    {"help", 'h', K_ACTION, FIELD(action), RW_CONFIG_HELP, S_CLI_ONLY, 0, 0, NULL, NULL, NULL,
     "print this help and exit"},
};

#define settings rw__settings
#define NSETTINGS (sizeof rw__settings / sizeof rw__settings[0])
const size_t rw__nsettings = NSETTINGS;
#define SETTING_CONFIG 0 /* settings[0] is --config, read before the rest */
/* getopt values: the row index, past the range of short options. */
#define OPT_BASE 256

static bool takes_value(const struct setting *s)
{
	return s->kind != K_BOOL && s->kind != K_ACTION;
}

/* --- one setting's field --------------------------------------------- */

static void *field(struct rw_config *cfg, const struct setting *s)
{
	return (char *)cfg + s->off;
}

static size_t *list_count(struct rw_config *cfg, const struct setting *s)
{
	return (size_t *)((char *)cfg + s->aux);
}

static void free_elem(enum kind k, void *e)
{
	if (k == K_ZONES) {
		struct rw_zone_spec *z = e;
		free(z->name);
		free(z->file);
	} else if (k == K_FWDZONES) {
		struct rw_forward_zone *z = e;
		free(z->name);
		free(z->servers);
	} else if (k == K_NAMES) {
		free(*(char **)e);
	}
}

/* Frees what the row's field owns and zeroes it; never touches another
 * field (the count of a list is the list's own). */
static void clear(struct rw_config *cfg, const struct setting *s)
{
	if (is_list(s)) {
		char **list = field(cfg, s);
		size_t *n = list_count(cfg, s);
		for (size_t i = 0; i < *n; i++)
			free_elem(s->kind, *list + i * elem_size(s->kind));
		free(*list);
		*list = NULL;
		*n = 0;
	} else if (s->kind == K_STR || s->kind == K_PATH || s->kind == K_ADDR) {
		void **p = field(cfg, s);
		free(*p);
		*p = NULL;
	}
}

/* --- parsing values --------------------------------------------------- */

/* Where a value came from, for error messages and relative paths. */
struct origin {
	const char *file; /* NULL: command line or default */
	unsigned line;
	bool list_reset[NSETTINGS];   /* lists replaced already by this source */
	unsigned key_line[NSETTINGS]; /* the file: where each key came (0: not yet) */
	bool flag;                    /* the command line: errors name the --flag */
};

static int fail(char *err, size_t len, const struct origin *o, const char *fmt, const char *a,
                const char *b)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, a, b);
	if (o->file != NULL)
		snprintf(err, len, "%s:%u: %s", o->file, o->line, msg);
	else
		snprintf(err, len, "%s%s", o->flag && msg[0] != 0 ? "--" : "", msg);
	return RW_EINVAL;
}

static char *resolve_path(const struct origin *o, const char *v)
{
	if (o->file == NULL || v[0] == '/' || strrchr(o->file, '/') == NULL)
		return strdup(v);
	const char *slash = strrchr(o->file, '/');
	size_t dl = (size_t)(slash - o->file);
	size_t n = dl + 1 + strlen(v) + 1;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%.*s/%s", (int)dl, o->file, v);
	return p;
}

/* "64M" -> 67108864. Returns false on anything else than digits and one
 * optional K/M/G suffix (binary units). */
static bool parse_size(const char *v, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (*v < '0' || *v > '9')
		return false;
	unsigned long long n = strtoull(v, &end, 10);
	unsigned shift = 0;
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'M' || *end == 'm')
		shift = 20;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (shift != 0)
		end++;
	if (*end != 0 || errno != 0 || n > (~0ULL >> shift))
		return false;
	*out = n << shift;
	return true;
}

/* "ADDR[:PORT]" of len bytes, port 53 by default. */
static int parse_addr53(const char *text, size_t len, struct rw_sockaddr *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof buf)
		return RW_EINVAL;
	memcpy(buf, text, len);
	buf[len] = 0;
	return rw_addr_parse(buf, 53, out);
}

/* NAME=REST with a valid domain NAME: *eq points at '='. */
static bool name_eq(const char *v, const char **eq)
{
	uint8_t wire[RW_NAME_MAX];
	size_t wl;
	*eq = strchr(v, '=');
	return *eq != NULL && *eq != v && (*eq)[1] != 0 &&
	       rw_name_from_text(v, (size_t)(*eq - v), (const uint8_t *)"", wire, &wl) == 0;
}

/* Parses one list item into elem (elem_size(s->kind) bytes, zeroed). */
static int parse_item(const struct setting *s, const char *v, const struct origin *o, void *elem,
                      char *err, size_t err_len)
{
	const char *name = s->name, *eq;
	switch (s->kind) {
	case K_ADDRS:
		if (parse_addr53(v, strlen(v), elem) != 0)
			return fail(err, err_len, o,
			            "%s: '%s' is not ADDR[:PORT] (IPv6 as [::1]:53)", name, v);
		return 0;
	case K_NETBLOCKS:
		if (rw_netblock_parse(v, elem) != 0)
			return fail(err, err_len, o,
			            "%s: '%s' is not an address or ADDR/PREFIX (10.0.0.0/8, ::1)",
			            name, v);
		return 0;
	case K_WARM: {
		struct rw_keep_warm *k = elem;
		const char *slash = strchr(v, '/');
		size_t nlen = slash != NULL ? (size_t)(slash - v) : strlen(v), wl;
		k->type = RW_TYPE_A;
		if (nlen == 0 ||
		    rw_name_from_text(v, nlen, (const uint8_t *)"", k->name, &wl) != 0 ||
		    (slash != NULL &&
		     rw_type_from_text(slash + 1, strlen(slash + 1), &k->type) != 0))
			return fail(err, err_len, o,
			            "%s: '%s' is not NAME or NAME/TYPE (www.example/AAAA)", name,
			            v);
		return 0;
	}
	case K_NAMES: {
		uint8_t wire[RW_NAME_MAX];
		size_t wl;
		if (v[0] == 0 ||
		    rw_name_from_text(v, strlen(v), (const uint8_t *)"", wire, &wl) != 0)
			return fail(err, err_len, o, "%s: '%s' is not a domain name", name, v);
		*(char **)elem = strdup(v);
		return *(char **)elem != NULL ? 0 : RW_ENOMEM;
	}
	case K_ZONES: {
		struct rw_zone_spec *z = elem;
		if (!name_eq(v, &eq))
			return fail(err, err_len, o, "%s: '%s' is not NAME=FILE with a valid NAME",
			            name, v);
		z->name = strndup(v, (size_t)(eq - v));
		z->file = resolve_path(o, eq + 1);
		return z->name && z->file ? 0 : RW_ENOMEM;
	}
	case K_FWDZONES: {
		struct rw_forward_zone *z = elem;
		if (!name_eq(v, &eq))
			return fail(
			    err, err_len, o,
			    "%s: '%s' is not NAME=ADDR[:PORT][,ADDR[:PORT]...] with a valid NAME",
			    name, v);
		if ((z->name = strndup(v, (size_t)(eq - v))) == NULL)
			return RW_ENOMEM;
		/* Bound: one address per comma of the value, then one option
		 * per word after the first space. */
		const char *space = strchr(eq + 1, ' ');
		const char *end = space != NULL ? space : eq + 1 + strlen(eq + 1);
		for (const char *p = eq + 1;;) {
			const char *comma = memchr(p, ',', (size_t)(end - p));
			size_t len = comma != NULL ? (size_t)(comma - p) : (size_t)(end - p);
			struct rw_sockaddr a;
			if (parse_addr53(p, len, &a) != 0)
				return fail(err, err_len, o,
				            "%s: '%s' has an address that is not ADDR[:PORT]", name,
				            v);
			struct rw_sockaddr *l =
			    realloc(z->servers, (z->nservers + 1) * sizeof *z->servers);
			if (l == NULL)
				return RW_ENOMEM;
			z->servers = l;
			l[z->nservers++] = a;
			if (comma == NULL)
				break;
			p = comma + 1;
		}
		for (const char *p = end; *p != 0;) {
			while (*p == ' ')
				p++;
			size_t len = strcspn(p, " ");
			if (len == 0)
				break;
			char word[64];
			snprintf(word, sizeof word, "%.*s", (int)(len < 63 ? len : 63), p);
			char *num = strchr(word, '=');
			unsigned long long n = 0;
			if (num != NULL) {
				char *e;
				errno = 0;
				n = strtoull(num + 1, &e, 10);
				*num = 0;
				if (num[1] == 0 || *e != 0 || errno != 0 || n > 604800)
					word[0] = 0;
			}
			if (num == NULL && strcmp(word, "tcp") == 0)
				z->tcp = true;
			else if (num != NULL && strcmp(word, "max-ttl") == 0 && n > 0)
				z->max_ttl = (uint32_t)n;
			else if (num != NULL && strcmp(word, "max-negative-ttl") == 0)
				z->max_neg_ttl = (uint32_t)n, z->has_max_neg_ttl = true;
			else
				return fail(err, err_len, o,
				            "%s: '%s': options are tcp, max-ttl=SECONDS and "
				            "max-negative-ttl=SECONDS",
				            name, v);
			p += len;
		}
		return 0;
	}
	default: return RW_EINVAL;
	}
}

static int append(struct rw_config *cfg, const struct setting *s, const char *v,
                  const struct origin *o, char *err, size_t err_len)
{
	union {
		struct rw_sockaddr a;
		struct rw_netblock b;
		struct rw_zone_spec z;
		struct rw_forward_zone f;
		struct rw_keep_warm k;
		char *str;
	} item;
	memset(&item, 0, sizeof item);
	int e = parse_item(s, v, o, &item, err, err_len);
	char **list = field(cfg, s);
	size_t *n = list_count(cfg, s), sz = elem_size(s->kind);
	char *grown = e == 0 ? realloc(*list, (*n + 1) * sz) : NULL;
	if (grown == NULL) {
		free_elem(s->kind, &item);
		return e != 0 ? e : RW_ENOMEM;
	}
	*list = grown;
	memcpy(grown + *n * sz, &item, sz);
	(*n)++;
	return 0;
}

static int set_uint(struct rw_config *cfg, const struct setting *s, const char *v,
                    const struct origin *o, char *err, size_t err_len)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (*v == 0 || *end != 0 || errno != 0 || v[0] == '-' || n < s->min || n > s->max) {
		char msg[128];
		snprintf(msg, sizeof msg, "%s: expected a number %llu-%llu, got", s->name, s->min,
		         s->max);
		return fail(err, err_len, o, "%s '%s'", msg, v);
	}
	void *f = field(cfg, s);
	if (s->aux == 2) {
		uint16_t x = (uint16_t)n;
		memcpy(f, &x, 2);
	} else if (s->aux == 4) {
		uint32_t x = (uint32_t)n;
		memcpy(f, &x, 4);
	} else {
		uint64_t x = n;
		memcpy(f, &x, 8);
	}
	return 0;
}

/* Stores v (NULL for a bare flag) into the row's field. The first list
 * item from a new source replaces the list. */
static int apply(struct rw_config *cfg, size_t idx, const char *v, struct origin *o, char *err,
                 size_t err_len)
{
	const struct setting *s = &settings[idx];
	if (is_list(s)) {
		if (!o->list_reset[idx]) {
			o->list_reset[idx] = true;
			clear(cfg, s);
		}
		return append(cfg, s, v, o, err, err_len);
	}
	switch (s->kind) {
	case K_BOOL:
	case K_ACTION: {
		bool on = v == NULL || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0;
		if (v != NULL && !on && strcmp(v, "false") != 0 && strcmp(v, "no") != 0)
			return fail(err, err_len, o, "%s: expected true or false, got '%s'",
			            s->name, v);
		if (s->kind == K_BOOL)
			*(bool *)field(cfg, s) = s->aux ? !on : on;
		else if (on)
			*(enum rw_config_action *)field(cfg, s) = (enum rw_config_action)s->aux;
		return 0;
	}
	case K_UINT:
		if (s->off == offsetof(struct rw_config, threads))
			cfg->threads_why[0] = 0; /* set, not sized from the CPUs */
		return set_uint(cfg, s, v, o, err, err_len);
	case K_SIZE: {
		unsigned long long n;
		if (!parse_size(v, &n) || n < s->min || n > s->max)
			return fail(
			    err, err_len, o,
			    "%s: expected bytes from 64K to 1024G (suffix K, M or G), got '%s'",
			    s->name, v);
		*(size_t *)field(cfg, s) = (size_t)n;
		return 0;
	}
	case K_STR:
	case K_PATH: {
		char *p = s->kind == K_PATH ? resolve_path(o, v) : strdup(v);
		if (p == NULL)
			return RW_ENOMEM;
		clear(cfg, s);
		*(char **)field(cfg, s) = p;
		return 0;
	}
	case K_ADDR: {
		struct rw_sockaddr a, *p;
		if (rw_addr_parse(v, 0, &a) != 0 || ((struct sockaddr_in *)&a.ss)->sin_port == 0)
			return fail(err, err_len, o, "%s: '%s' is not ADDR:PORT", s->name, v);
		if ((p = malloc(sizeof *p)) == NULL)
			return RW_ENOMEM;
		*p = a;
		clear(cfg, s);
		*(struct rw_sockaddr **)field(cfg, s) = p;
		return 0;
	}
	case K_LOGLEVEL:
		if (rw_log_level_parse(v, field(cfg, s)) != 0)
			return fail(err, err_len, o,
			            "%s: expected error, warn, info or debug, got '%s'", s->name,
			            v);
		return 0;
	case K_LOGFMT:
		if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
			return fail(err, err_len, o, "%s: expected text or json, got '%s'", s->name,
			            v);
		*(bool *)field(cfg, s) = strcmp(v, "json") == 0;
		return 0;
	case K_METRICS: {
		unsigned *m = field(cfg, s);
		if (strcmp(v, "rootwalk") == 0)
			*m = RW_METRICS_ROOTWALK;
		else if (strcmp(v, "coredns") == 0)
			*m = RW_METRICS_COREDNS;
		else if (strcmp(v, "both") == 0)
			*m = RW_METRICS_ROOTWALK | RW_METRICS_COREDNS;
		else
			return fail(err, err_len, o,
			            "%s: expected rootwalk, coredns or both, got '%s'", s->name, v);
		return 0;
	}
	default: return RW_EINVAL;
	}
}

/* --- defaults, help ----------------------------------------------------- */

/* Every row's default, through apply() like a user's value. */
static int defaults(struct rw_config *cfg, char *err, size_t err_len)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->builtin_zones = true;
	cfg->round_robin = true;
	cfg->ipv6_upstream = true;
	cfg->qname_minimisation = true;
	struct origin o = {NULL, 0, {false}};
	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *d = settings[i].def;
		/* Bound: a default has a few space-separated items. */
		while (d != NULL && *d != 0) {
			char item[128];
			size_t len = is_list(&settings[i]) ? strcspn(d, " ") : strlen(d);
			snprintf(item, sizeof item, "%.*s", (int)len, d);
			int e = apply(cfg, i, item, &o, err, err_len);
			if (e != 0)
				return e;
			d += len;
			d += *d == ' ';
		}
	}
	/* The CPUs this process may use: affinity mask and cgroup quota. */
	unsigned cpus = rw_cpu_budget("", 0, cfg->threads_why, sizeof cfg->threads_why);
	cfg->threads = cpus > 256 ? 256 : cpus;
	return 0;
}

const char *rw_config_usage(void)
{
	static char text[12288];
	if (text[0] != 0)
		return text;
	size_t n = (size_t)snprintf(text, sizeof text,
	                            "usage: rootwalk [options]\n"
	                            "A caching DNS resolver. Options (each also a key in the "
	                            "--config YAML file, unless marked *;\n"
	                            "SIGHUP applies a changed file, except settings marked "
	                            "R, which take a restart):\n");
	for (size_t i = 0; i < NSETTINGS && n < sizeof text; i++) {
		const struct setting *s = &settings[i];
		char left[64], sh[8] = "    ";
		if (s->short_opt != 0)
			snprintf(sh, sizeof sh, "-%c, ", s->short_opt);
		snprintf(left, sizeof left, "%s--%s%s%s", sh, s->name, s->arg ? " " : "",
		         s->arg ? s->arg : "");
		n += (size_t)snprintf(text + n, sizeof text - n, "  %s\n", left);
		/* the help text, indented, one line per '\n' */
		for (const char *h = s->help; n < sizeof text;) {
			size_t len = strcspn(h, "\n");
			n += (size_t)snprintf(text + n, sizeof text - n, "        %.*s", (int)len,
			                      h);
			h += len;
			if (*h == 0)
				break;
			h++;
			n += (size_t)snprintf(text + n, sizeof text - n, "\n");
		}
		if (n < sizeof text && s->def != NULL)
			n += (size_t)snprintf(text + n, sizeof text - n, " (default %s)", s->def);
		if (n < sizeof text)
			n += (size_t)snprintf(text + n, sizeof text - n, "%s\n",
			                      s->flags & S_CLI_ONLY  ? "  *"
			                      : s->flags & S_RESTART ? "  R"
			                                             : "");
	}
	return text;
}

size_t rw_config_setting_count(void)
{
	return NSETTINGS;
}

bool rw_config_setting_info(size_t i, struct rw_config_setting_info *out)
{
	if (i >= NSETTINGS)
		return false;
	const struct setting *s = &settings[i];
	*out = (struct rw_config_setting_info){
	    .name = s->name,
	    .example = s->example,
	    .list = is_list(s),
	    .takes_value = takes_value(s),
	    .file_key = !(s->flags & S_CLI_ONLY),
	    .restart = (s->flags & S_RESTART) != 0,
	    .arg = s->arg,
	    .def = s->def,
	    .help = s->help,
	};
	return true;
}

/* --- the YAML file ---------------------------------------------------- */

/* One "key: value" or "key: [values]" pair of the file's mapping. */
static int load_pair(struct rw_config *cfg, yaml_document_t *doc, yaml_node_pair_t *pair,
                     struct origin *o, char *err, size_t err_len)
{
	yaml_node_t *k = yaml_document_get_node(doc, pair->key);
	yaml_node_t *v = yaml_document_get_node(doc, pair->value);
	o->line = (unsigned)k->start_mark.line + 1;
	if (k->type != YAML_SCALAR_NODE)
		return fail(err, err_len, o, "%s%s", "setting names must be plain words", "");
	const char *key = (const char *)k->data.scalar.value;
	size_t idx = find_setting(key);
	if (idx == NSETTINGS || (settings[idx].flags & S_CLI_ONLY))
		return fail(err, err_len, o, "unknown setting '%s'%s", key,
		            idx == NSETTINGS ? "" : " (command line only)");
	if (o->key_line[idx] != 0) { /* YAML allows it; a second value hides the first */
		char first[48];
		snprintf(first, sizeof first, " (first on line %u)", o->key_line[idx]);
		return fail(err, err_len, o, "'%s' is given twice%s", key, first);
	}
	o->key_line[idx] = o->line;
	if (v->type == YAML_SCALAR_NODE) {
		o->line = (unsigned)v->start_mark.line + 1;
		return apply(cfg, idx, (const char *)v->data.scalar.value, o, err, err_len);
	}
	if (v->type != YAML_SEQUENCE_NODE || !is_list(&settings[idx]))
		return fail(err, err_len, o, "%s: expected %s", key,
		            is_list(&settings[idx]) ? "a value or a list of values" : "one value");
	/* Bound: the items libyaml parsed from a file of bounded size. */
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		yaml_node_t *item = yaml_document_get_node(doc, *it);
		o->line = (unsigned)item->start_mark.line + 1;
		if (item->type != YAML_SCALAR_NODE)
			return fail(err, err_len, o, "%s: list items must be plain values%s", key,
			            "");
		int e = apply(cfg, idx, (const char *)item->data.scalar.value, o, err, err_len);
		if (e != 0)
			return e;
	}
	return 0;
}

/* Reads YAML text: a mapping from setting names to scalars, or to
 * sequences of scalars for repeatable settings. name is for messages and
 * relative paths. */
static int load_yaml(struct rw_config *cfg, const char *name, const uint8_t *text, size_t len,
                     char *err, size_t err_len)
{
	struct origin o = {name, 0, {false}};
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser))
		return RW_ENOMEM;
	yaml_parser_set_input_string(&parser, text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, err_len, "%s:%zu: YAML error: %s", name, parser.problem_mark.line + 1,
		         parser.problem ? parser.problem : "unknown");
		yaml_parser_delete(&parser);
		return RW_EINVAL;
	}
	int e = 0;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root != NULL && root->type != YAML_MAPPING_NODE) {
		o.line = (unsigned)root->start_mark.line + 1;
		e = fail(err, err_len, &o, "%s%s", "the file must be a mapping of setting: value",
		         "");
	}
	/* root NULL: an empty file, all defaults. Bound: the pairs parsed. */
	for (yaml_node_pair_t *pair = root != NULL && e == 0 ? root->data.mapping.pairs.start
	                                                     : NULL;
	     pair != NULL && pair < root->data.mapping.pairs.top && e == 0; pair++)
		e = load_pair(cfg, &doc, pair, &o, err, err_len);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return e;
}

/* A config file is small: anything larger is a mistake, not a config. */
#define CONFIG_FILE_MAX (1u << 20)

static int load_file(struct rw_config *cfg, const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
		return RW_EINVAL;
	}
	uint8_t *text = malloc(CONFIG_FILE_MAX + 1);
	if (text == NULL) {
		fclose(f);
		return RW_ENOMEM;
	}
	size_t len = fread(text, 1, CONFIG_FILE_MAX + 1, f);
	int rerr = ferror(f);
	fclose(f);
	int e;
	if (rerr) {
		snprintf(err, err_len, "%s: cannot read", path);
		e = RW_EINVAL;
	} else if (len > CONFIG_FILE_MAX) {
		snprintf(err, err_len, "%s: larger than %u bytes", path, CONFIG_FILE_MAX);
		e = RW_EINVAL;
	} else {
		e = load_yaml(cfg, path, text, len, err, err_len);
	}
	free(text);
	return e;
}

int rw_config_load_yaml(struct rw_config *cfg, const char *name, const uint8_t *text, size_t len,
                        char *err, size_t err_len)
{
	int e = defaults(cfg, err, err_len);
	if (e == 0)
		e = load_yaml(cfg, name, text, len, err, err_len);
	char msg[256];
	if (e == 0 && (e = rw_config_validate(cfg, msg, sizeof msg)) != 0)
		snprintf(err, err_len, "%s: %s", name, msg);
	return e;
}

/* --- the command line --------------------------------------------------- */

static void build_longopts(struct option *lo, char *shortopts)
{
	size_t k = 0;
	shortopts[k++] = ':'; /* report missing arguments distinctly */
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		lo[i] = (struct option){s->name, takes_value(s) ? required_argument : no_argument,
		                        NULL, (int)(OPT_BASE + i)};
		if (s->short_opt != 0) {
			shortopts[k++] = s->short_opt;
			if (takes_value(s))
				shortopts[k++] = ':';
		}
	}
	lo[NSETTINGS] = (struct option){NULL, 0, NULL, 0};
	shortopts[k] = 0;
}

/* getopt's answer -> the row index, or NSETTINGS. */
static size_t opt_index(int c)
{
	if (c >= OPT_BASE && (size_t)(c - OPT_BASE) < NSETTINGS)
		return (size_t)(c - OPT_BASE);
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].short_opt != 0 && settings[i].short_opt == c)
			return i;
	return NSETTINGS;
}

int rw_config_load(struct rw_config *cfg, int argc, char **argv, char *err, size_t err_len)
{
	int e = defaults(cfg, err, err_len);
	if (e != 0)
		return e;
	struct option lo[NSETTINGS + 1];
	char shortopts[2 * NSETTINGS + 2];
	build_longopts(lo, shortopts);
	struct origin cli = {NULL, 0, {false}, {0}, true};
	/* Pass 1: only the config file, so the file is read before flags. */
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1)
		if (opt_index(c) == SETTING_CONFIG &&
		    (e = apply(cfg, SETTING_CONFIG, optarg, &cli, err, err_len)) != 0)
			return e;
	if (cfg->config_file != NULL && (e = load_file(cfg, cfg->config_file, err, err_len)) != 0)
		return e;
	/* Pass 2: every flag, overriding the file. */
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if (c == '?') {
			snprintf(err, err_len, "unknown option '%s' (see --help)",
			         argv[optind - 1]);
			return RW_EINVAL;
		}
		if (c == ':') {
			snprintf(err, err_len, "option '%s' needs a value", argv[optind - 1]);
			return RW_EINVAL;
		}
		size_t i = opt_index(c);
		if (i == SETTING_CONFIG || i == NSETTINGS)
			continue;
		e = apply(cfg, i, takes_value(&settings[i]) ? optarg : NULL, &cli, err, err_len);
		if (e != 0)
			return e;
	}
	if (optind < argc) {
		snprintf(err, err_len, "unexpected argument '%s' (see --help)", argv[optind]);
		return RW_EINVAL;
	}
	return rw_config_validate(cfg, err, err_len);
}

int rw_config_validate(const struct rw_config *cfg, char *err, size_t err_len)
{
	if (cfg->failure_ttl > cfg->failure_ttl_max) {
		snprintf(err, err_len, "failure-ttl (%u) is larger than failure-ttl-max (%u)",
		         cfg->failure_ttl, cfg->failure_ttl_max);
		return RW_EINVAL;
	}
	uint8_t wire[RW_NAME_MAX];
	size_t wl;
	if (cfg->autopath != NULL &&
	    (cfg->autopath[0] == 0 || rw_name_from_text(cfg->autopath, strlen(cfg->autopath),
	                                                (const uint8_t *)"", wire, &wl) != 0)) {
		snprintf(err, err_len, "autopath: '%s' is not a zone name", cfg->autopath);
		return RW_EINVAL;
	}
	if (cfg->dnstap != NULL &&
	    ((strncmp(cfg->dnstap, "unix:", 5) != 0 && strncmp(cfg->dnstap, "file:", 5) != 0) ||
	     cfg->dnstap[5] == 0)) {
		snprintf(err, err_len, "dnstap: expected unix:PATH or file:PATH, got '%s'",
		         cfg->dnstap);
		return RW_EINVAL;
	}
	if (cfg->min_ttl > cfg->max_ttl) {
		snprintf(err, err_len, "min-ttl (%u) is larger than max-ttl (%u)", cfg->min_ttl,
		         cfg->max_ttl);
		return RW_EINVAL;
	}
	return 0;
}

void rw_config_fini(struct rw_config *cfg)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		clear(cfg, &settings[i]);
	memset(cfg, 0, sizeof *cfg);
}

/* --- run-time forward zones (control forward-add, forward-remove) ------- */

static bool same_zone(const char *a, const char *b)
{
	uint8_t wa[RW_NAME_MAX], wb[RW_NAME_MAX];
	size_t la, lb;
	if (rw_name_from_text(a, strlen(a), (const uint8_t *)"", wa, &la) != 0 ||
	    rw_name_from_text(b, strlen(b), (const uint8_t *)"", wb, &lb) != 0)
		return false;
	return rw_name_eq(wa, wb);
}

int rw_config_forward_zone_remove(struct rw_config *cfg, const char *name)
{
	/* Bound: the configured forward zones. */
	for (size_t i = 0; i < cfg->nforward_zones; i++) {
		if (!same_zone(cfg->forward_zones[i].name, name))
			continue;
		free_elem(K_FWDZONES, &cfg->forward_zones[i]);
		memmove(&cfg->forward_zones[i], &cfg->forward_zones[i + 1],
		        (cfg->nforward_zones - i - 1) * sizeof *cfg->forward_zones);
		cfg->nforward_zones--;
		return 0;
	}
	return RW_ENOTFOUND;
}

int rw_config_forward_zone_add(struct rw_config *cfg, const char *spec, char *err, size_t err_len)
{
	size_t idx = find_setting("forward-zone");
	struct origin o = {0};
	const char *eq = strchr(spec, '=');
	if (eq != NULL) {
		char name[RW_NAME_TEXT_MAX];
		snprintf(name, sizeof name, "%.*s", (int)(eq - spec), spec);
		rw_config_forward_zone_remove(cfg, name); /* the new one replaces it */
	}
	return append(cfg, &settings[idx], spec, &o, err, err_len);
}
