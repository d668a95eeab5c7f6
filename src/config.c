/* Command-line and YAML configuration; see include/rootwalk/config.h. It
 * validates values and owns strings; it loads no zones and opens no
 * sockets. */
#include "rootwalk/config.h"
#include "rootwalk/err.h"
#include "rootwalk/name.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

enum kind {
	K_FLAG,
	K_UINT,
	K_SIZE,
	K_ADDR,
	K_STR,
	K_PATH,
	K_LISTEN,
	K_ZONE,
	K_LOGLEVEL,
	K_FORWARD,
	K_FWDZONE,
	K_NETBLOCK,
	K_LOGFMT
};

struct setting {
	const char *name;
	int short_opt;
	enum kind kind;
	bool repeatable;
	bool cli_only;
	unsigned long min, max;
	const char *help;
};

enum {
	OPT_CONFIG = 'c',
	OPT_HELP = 'h',
	OPT_LISTEN = 256,
	OPT_THREADS,
	OPT_ZONE,
	OPT_ZONES_DIR,
	OPT_NO_BUILTIN,
	OPT_WATCH_ZONES,
	OPT_NO_RR,
	OPT_HTTP,
	OPT_CONTROL,
	OPT_ALLOW,
	OPT_LOCAL_ANY,
	OPT_RATE_LIMIT,
	OPT_USER,
	OPT_LOG_FORMAT,
	OPT_LOG_QUERIES,
	OPT_LOG_LEVEL,
	OPT_EDNS,
	OPT_TCP_IDLE,
	OPT_TCP_MAX,
	OPT_CACHE_SIZE,
	OPT_MIN_TTL,
	OPT_MAX_TTL,
	OPT_MAX_NEG_TTL,
	OPT_FORWARD,
	OPT_FORWARD_ZONE,
	OPT_UP_TIMEOUT,
	OPT_UP_TRIES,
	OPT_ROOT_HINTS,
	OPT_QUERY_LOOPBACK,
	OPT_NO_IPV6_UP,
	OPT_RESOLVE_TIMEOUT,
	OPT_MAX_CNAME,
	OPT_MAX_REFERRALS,
	OPT_MAX_UPQ,
	OPT_MAX_GLUELESS,
	OPT_MAX_DEPTH,
	OPT_MAX_OUTSTANDING,
	OPT_CHECK,
	OPT_VERSION,
};

static const struct setting settings[] = {
    [0] = {"config", OPT_CONFIG, K_PATH, false, true, 0, 0,
           "FILE   read settings from a YAML file"},
    {"listen", OPT_LISTEN, K_LISTEN, true, false, 0, 0,
     "ADDR:PORT   listen on UDP and TCP (repeatable; IPv6 as [::1]:53;\n"
     "                         default 127.0.0.1:53 and [::1]:53)"},
    {"threads", OPT_THREADS, K_UINT, false, false, 1, 256, "N   worker threads (default: cores)"},
    {"zone", OPT_ZONE, K_ZONE, true, false, 0, 0, "NAME=FILE   serve a zone file (repeatable)"},
    {"zones-dir", OPT_ZONES_DIR, K_PATH, false, false, 0, 0,
     "DIR   serve every DIR/NAME.zone, origin = file name"},
    {"no-builtin-zones", OPT_NO_BUILTIN, K_FLAG, false, false, 0, 0,
     "   do not serve the built-in RFC 6761/6303 zones"},
    {"watch-zones", OPT_WATCH_ZONES, K_FLAG, false, false, 0, 0,
     "   reload zones when their files change (SIGHUP always reloads)"},
    {"no-round-robin", OPT_NO_RR, K_FLAG, false, false, 0, 0,
     "   keep A/AAAA records in zone order (default: rotate per answer)"},
    {"http", OPT_HTTP, K_ADDR, false, false, 0, 0,
     "ADDR:PORT   serve /metrics, /healthz, /ready over HTTP (off by default)"},
    {"control", OPT_CONTROL, K_PATH, false, false, 0, 0,
     "PATH   control socket (mode 0600) for `rootwalk control ...`"},
    {"allow", OPT_ALLOW, K_NETBLOCK, true, false, 0, 0,
     "NETBLOCK   clients allowed recursion/forwarding (repeatable;\n"
     "                         default 127.0.0.0/8 and ::1); others: REFUSED"},
    {"allow-local-zones-from-any", OPT_LOCAL_ANY, K_FLAG, false, false, 0, 0,
     "   answer local zones to every client, allowed or not"},
    {"rate-limit", OPT_RATE_LIMIT, K_UINT, false, false, 0, 1000000,
     "QPS   UDP responses per second per client (0: off, the default);\n"
     "                         over it, every other reply is a TC=1 slip, the rest dropped"},
    {"user", OPT_USER, K_STR, false, false, 0, 0,
     "NAME   after binding, run as this user (refuses to stay root)"},
    {"log-format", OPT_LOG_FORMAT, K_LOGFMT, false, false, 0, 0, "text|json   log line format"},
    {"log-queries", OPT_LOG_QUERIES, K_FLAG, false, false, 0, 0,
     "   one log line per query (client, name, type, rcode)"},
    {"log-level", OPT_LOG_LEVEL, K_LOGLEVEL, false, false, 0, 0, "LEVEL   error|warn|info|debug"},
    {"edns-buffer-size", OPT_EDNS, K_UINT, false, false, 512, 4096,
     "BYTES   largest UDP reply (default 1232)"},
    {"tcp-idle-timeout-ms", OPT_TCP_IDLE, K_UINT, false, false, 100, 3600000,
     "MS   close idle TCP connections (default 10000)"},
    {"tcp-max-connections", OPT_TCP_MAX, K_UINT, false, false, 1, 1000000,
     "N   open TCP connections at most (default 1000)"},
    {"cache-size", OPT_CACHE_SIZE, K_SIZE, false, false, 65536, 1UL << 40,
     "BYTES   cache memory bound, suffix K, M or G (default 64M)"},
    {"min-ttl", OPT_MIN_TTL, K_UINT, false, false, 0, 604800,
     "SECONDS   cache records at least this long (default 0)"},
    {"max-ttl", OPT_MAX_TTL, K_UINT, false, false, 1, 604800,
     "SECONDS   cache records at most this long (default 86400)"},
    {"max-negative-ttl", OPT_MAX_NEG_TTL, K_UINT, false, false, 0, 604800,
     "SECONDS   cache NXDOMAIN/NODATA at most this long (default 3600)"},
    {"forward", OPT_FORWARD, K_FORWARD, true, false, 0, 0,
     "ADDR[:PORT]   send what local zones and the cache cannot answer\n"
     "                         to this resolver (repeatable)"},
    {"forward-zone", OPT_FORWARD_ZONE, K_FWDZONE, true, false, 0, 0,
     "NAME=ADDR[:PORT][,ADDR[:PORT]...]   send names under NAME there\n"
     "                         (repeatable; overrides --forward)"},
    {"upstream-timeout-ms", OPT_UP_TIMEOUT, K_UINT, false, false, 10, 60000,
     "MS   wait this long for an upstream reply per try (default 1000)"},
    {"upstream-tries", OPT_UP_TRIES, K_UINT, false, false, 1, 10,
     "N   tries per upstream server (default 2)"},
    {"root-hints", OPT_ROOT_HINTS, K_PATH, false, false, 0, 0,
     "FILE   root servers (named.root format) instead of the built-in ones"},
    {"query-loopback", OPT_QUERY_LOOPBACK, K_FLAG, false, false, 0, 0,
     "   also query 127/8, ::1, 0/8, :: addresses learned from the network"},
    {"no-ipv6-upstream", OPT_NO_IPV6_UP, K_FLAG, false, false, 0, 0,
     "   never query IPv6 servers when resolving"},
    {"resolve-timeout-ms", OPT_RESOLVE_TIMEOUT, K_UINT, false, false, 100, 120000,
     "MS   give up a resolution (SERVFAIL) after this long (default 10000)"},
    {"max-cname-chain", OPT_MAX_CNAME, K_UINT, false, false, 1, 64,
     "N   CNAME hops per resolution (default 8)"},
    {"max-referrals", OPT_MAX_REFERRALS, K_UINT, false, false, 1, 100,
     "N   referrals followed per resolution (default 30)"},
    {"max-upstream-queries", OPT_MAX_UPQ, K_UINT, false, false, 1, 1000,
     "N   upstream queries per client query (default 64)"},
    {"max-glueless", OPT_MAX_GLUELESS, K_UINT, false, false, 0, 32,
     "N   NS address lookups per delegation (default 4)"},
    {"max-subrequest-depth", OPT_MAX_DEPTH, K_UINT, false, false, 1, 6,
     "N   nested NS address lookups (default 3)"},
    {"max-outstanding", OPT_MAX_OUTSTANDING, K_UINT, false, false, 1, 1000000,
     "N   questions in flight upstream at once (default 10000)"},
    {"check-config", OPT_CHECK, K_FLAG, false, true, 0, 0, "   check config and zones, then exit"},
    {"version", OPT_VERSION, K_FLAG, false, true, 0, 0, "   print the version and exit"},
    {"help", OPT_HELP, K_FLAG, false, true, 0, 0, "   print this help and exit"},
};

#define NSETTINGS (sizeof settings / sizeof settings[0])

const char *rw_config_usage(void)
{
	static char text[8192];
	if (text[0] != 0)
		return text;
	size_t n = (size_t)snprintf(text, sizeof text,
	                            "usage: rootwalk [options]\n"
	                            "A caching DNS resolver. Options (each also a key in the "
	                            "--config YAML file, unless marked *):\n");
	for (size_t i = 0; i < NSETTINGS && n < sizeof text; i++) {
		const struct setting *s = &settings[i];
		char left[64];
		if (s->short_opt < 256)
			snprintf(left, sizeof left, "-%c, --%s", s->short_opt, s->name);
		else
			snprintf(left, sizeof left, "    --%s", s->name);
		n += (size_t)snprintf(text + n, sizeof text - n, "  %s %s%s\n", left, s->help,
		                      s->cli_only && s->short_opt != OPT_CONFIG ? "  *" : "");
	}
	return text;
}

int rw_config_parse_addr(const char *text, uint16_t default_port, struct rw_listen_addr *out)
{
	char host[64];
	const char *port = NULL;
	memset(out, 0, sizeof *out);
	size_t tl = strlen(text);
	if (tl == 0 || tl >= sizeof out->text)
		return RW_EINVAL;
	memcpy(out->text, text, tl + 1);
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (end == NULL || (size_t)(end - text - 1) >= sizeof host)
			return RW_EINVAL;
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = 0;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != 0)
			return RW_EINVAL;
	} else {
		const char *colon = strrchr(text, ':');
		if (colon != NULL && strchr(text, ':') == colon) {
			memcpy(host, text, (size_t)(colon - text));
			host[colon - text] = 0;
			port = colon + 1;
		} else {
			snprintf(host, sizeof host, "%s", text); /* bare IPv4 or IPv6 */
		}
	}
	unsigned long p = default_port;
	if (port != NULL) {
		char *end;
		errno = 0;
		p = strtoul(port, &end, 10);
		if (*port == 0 || *end != 0 || errno != 0 || p == 0 || p > 65535)
			return RW_EINVAL;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		out->len = sizeof *s4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		out->len = sizeof *s6;
		return 0;
	}
	return RW_EINVAL;
}

int rw_config_parse_netblock(const char *text, struct rw_netblock *out)
{
	char host[64];
	const char *slash = strchr(text, '/');
	size_t hl = slash ? (size_t)(slash - text) : strlen(text);
	if (hl == 0 || hl >= sizeof host)
		return RW_EINVAL;
	memcpy(host, text, hl);
	host[hl] = 0;
	memset(out, 0, sizeof *out);
	unsigned max;
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return RW_EINVAL;
	}
	unsigned long p = max;
	if (slash != NULL) {
		char *end;
		errno = 0;
		p = strtoul(slash + 1, &end, 10);
		if (slash[1] == 0 || *end != 0 || errno != 0 || p > max)
			return RW_EINVAL;
	}
	out->prefix = (uint8_t)p;
	return 0;
}

/* Where a value came from, for error messages and relative paths. */
struct origin {
	const char *file; /* NULL: command line */
	unsigned line;
	bool list_reset[NSETTINGS]; /* repeatable settings replaced already */
};

static int fail(char *err, size_t len, const struct origin *o, const char *fmt, const char *a,
                const char *b)
{
	char msg[512];
	snprintf(msg, sizeof msg, fmt, a, b);
	if (o->file != NULL)
		snprintf(err, len, "%s:%u: %s", o->file, o->line, msg);
	else
		snprintf(err, len, "%s", msg);
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

static void free_forward_zones(struct rw_config *cfg)
{
	for (size_t i = 0; i < cfg->nforward_zones; i++) {
		free(cfg->forward_zones[i].name);
		free(cfg->forward_zones[i].servers);
	}
	free(cfg->forward_zones);
	cfg->forward_zones = NULL;
	cfg->nforward_zones = 0;
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

/* Appends "ADDR[:PORT]" (port 53 by default) to a list. */
static int add_addr(struct rw_listen_addr **list, size_t *n, const char *text, size_t len)
{
	char buf[64];
	struct rw_listen_addr a;
	if (len == 0 || len >= sizeof buf)
		return RW_EINVAL;
	memcpy(buf, text, len);
	buf[len] = 0;
	if (rw_config_parse_addr(buf, 53, &a) != 0)
		return RW_EINVAL;
	struct rw_listen_addr *p = realloc(*list, (*n + 1) * sizeof *p);
	if (p == NULL)
		return RW_ENOMEM;
	*list = p;
	p[(*n)++] = a;
	return 0;
}

static int apply(struct rw_config *cfg, size_t idx, const char *v, struct origin *o, char *err,
                 size_t err_len)
{
	const struct setting *s = &settings[idx];
	const char *name = s->name;
	if (s->repeatable && !o->list_reset[idx]) {
		/* The first occurrence from a new source replaces the list. */
		o->list_reset[idx] = true;
		if (s->kind == K_LISTEN) {
			free(cfg->listen);
			cfg->listen = NULL;
			cfg->nlisten = 0;
		} else if (s->kind == K_ZONE) {
			for (size_t i = 0; i < cfg->nzones; i++) {
				free(cfg->zones[i].name);
				free(cfg->zones[i].file);
			}
			free(cfg->zones);
			cfg->zones = NULL;
			cfg->nzones = 0;
		} else if (s->kind == K_FORWARD) {
			free(cfg->forward);
			cfg->forward = NULL;
			cfg->nforward = 0;
		} else if (s->kind == K_FWDZONE) {
			free_forward_zones(cfg);
		} else if (s->kind == K_NETBLOCK) {
			free(cfg->allow);
			cfg->allow = NULL;
			cfg->nallow = 0;
		}
	}
	switch (s->kind) {
	case K_FLAG: {
		bool on = v == NULL || strcmp(v, "true") == 0 || strcmp(v, "yes") == 0;
		if (v != NULL && !on && strcmp(v, "false") != 0 && strcmp(v, "no") != 0)
			return fail(err, err_len, o, "%s: expected true or false, got '%s'", name,
			            v);
		if (strcmp(name, "no-builtin-zones") == 0)
			cfg->builtin_zones = !on;
		else if (strcmp(name, "no-round-robin") == 0)
			cfg->round_robin = !on;
		else if (strcmp(name, "allow-local-zones-from-any") == 0)
			cfg->local_from_any = on;
		else if (strcmp(name, "log-queries") == 0)
			cfg->log_queries = on;
		else if (strcmp(name, "watch-zones") == 0)
			cfg->watch_zones = on;
		else if (strcmp(name, "query-loopback") == 0)
			cfg->query_loopback = on;
		else if (strcmp(name, "no-ipv6-upstream") == 0)
			cfg->ipv6_upstream = !on;
		else if (strcmp(name, "check-config") == 0 && on)
			cfg->action = RW_CONFIG_CHECK;
		else if (strcmp(name, "version") == 0 && on)
			cfg->action = RW_CONFIG_VERSION;
		else if (strcmp(name, "help") == 0 && on)
			cfg->action = RW_CONFIG_HELP;
		return 0;
	}
	case K_UINT: {
		char *end;
		errno = 0;
		unsigned long n = strtoul(v, &end, 10);
		if (*v == 0 || *end != 0 || errno != 0 || v[0] == '-' || n < s->min || n > s->max) {
			char range[64];
			snprintf(range, sizeof range, "%lu-%lu", s->min, s->max);
			char msg[128];
			snprintf(msg, sizeof msg, "%s: expected a number %s, got", name, range);
			return fail(err, err_len, o, "%s '%s'", msg, v);
		}
		if (strcmp(name, "threads") == 0)
			cfg->threads = (unsigned)n;
		else if (strcmp(name, "edns-buffer-size") == 0)
			cfg->edns_size = (uint16_t)n;
		else if (strcmp(name, "tcp-idle-timeout-ms") == 0)
			cfg->tcp_idle_timeout_ms = (unsigned)n;
		else if (strcmp(name, "tcp-max-connections") == 0)
			cfg->tcp_max_connections = (unsigned)n;
		else if (strcmp(name, "min-ttl") == 0)
			cfg->min_ttl = (uint32_t)n;
		else if (strcmp(name, "max-ttl") == 0)
			cfg->max_ttl = (uint32_t)n;
		else if (strcmp(name, "max-negative-ttl") == 0)
			cfg->max_negative_ttl = (uint32_t)n;
		else if (strcmp(name, "upstream-timeout-ms") == 0)
			cfg->upstream_timeout_ms = (unsigned)n;
		else if (strcmp(name, "upstream-tries") == 0)
			cfg->upstream_tries = (unsigned)n;
		else if (strcmp(name, "rate-limit") == 0)
			cfg->rate_limit = (unsigned)n;
		else if (strcmp(name, "resolve-timeout-ms") == 0)
			cfg->resolve_timeout_ms = (unsigned)n;
		else if (strcmp(name, "max-cname-chain") == 0)
			cfg->max_cname_chain = (unsigned)n;
		else if (strcmp(name, "max-referrals") == 0)
			cfg->max_referrals = (unsigned)n;
		else if (strcmp(name, "max-upstream-queries") == 0)
			cfg->max_upstream_queries = (unsigned)n;
		else if (strcmp(name, "max-glueless") == 0)
			cfg->max_glueless = (unsigned)n;
		else if (strcmp(name, "max-subrequest-depth") == 0)
			cfg->max_subrequest_depth = (unsigned)n;
		else if (strcmp(name, "max-outstanding") == 0)
			cfg->max_outstanding = (unsigned)n;
		return 0;
	}
	case K_SIZE: {
		unsigned long long n;
		if (!parse_size(v, &n) || n < s->min || n > s->max)
			return fail(
			    err, err_len, o,
			    "%s: expected bytes from 64K to 1024G (suffix K, M or G), got '%s'",
			    name, v);
		cfg->cache_size = (size_t)n;
		return 0;
	}
	case K_LOGFMT:
		if (strcmp(v, "text") != 0 && strcmp(v, "json") != 0)
			return fail(err, err_len, o, "%s: expected text or json, got '%s'", name,
			            v);
		cfg->log_json = strcmp(v, "json") == 0;
		return 0;
	case K_NETBLOCK: {
		struct rw_netblock b;
		if (rw_config_parse_netblock(v, &b) != 0)
			return fail(err, err_len, o,
			            "%s: '%s' is not an address or ADDR/PREFIX (10.0.0.0/8, ::1)",
			            name, v);
		struct rw_netblock *list = realloc(cfg->allow, (cfg->nallow + 1) * sizeof *list);
		if (list == NULL)
			return RW_ENOMEM;
		cfg->allow = list;
		list[cfg->nallow++] = b;
		return 0;
	}
	case K_ADDR: {
		struct rw_listen_addr a;
		if (rw_config_parse_addr(v, 0, &a) != 0 ||
		    ((struct sockaddr_in *)&a.ss)->sin_port == 0)
			return fail(err, err_len, o, "%s: '%s' is not ADDR:PORT", name, v);
		free(cfg->http);
		free(cfg->control);
		cfg->http = malloc(sizeof *cfg->http);
		if (cfg->http == NULL)
			return RW_ENOMEM;
		*cfg->http = a;
		return 0;
	}
	case K_FORWARD: {
		int e = add_addr(&cfg->forward, &cfg->nforward, v, strlen(v));
		if (e == RW_EINVAL)
			return fail(err, err_len, o,
			            "%s: '%s' is not ADDR[:PORT] (IPv6 as [::1]:53)", name, v);
		return e;
	}
	case K_FWDZONE: {
		const char *eq = strchr(v, '=');
		uint8_t wire[RW_NAME_MAX];
		size_t wl;
		if (eq == NULL || eq == v || eq[1] == 0 ||
		    rw_name_from_text(v, (size_t)(eq - v), (const uint8_t *)"", wire, &wl) != 0)
			return fail(
			    err, err_len, o,
			    "%s: '%s' is not NAME=ADDR[:PORT][,ADDR[:PORT]...] with a valid NAME",
			    name, v);
		struct rw_forward_zone fz = {strndup(v, (size_t)(eq - v)), NULL, 0};
		if (fz.name == NULL)
			return RW_ENOMEM;
		int e = 0;
		for (const char *p = eq + 1; e == 0;) {
			const char *comma = strchr(p, ',');
			size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
			e = add_addr(&fz.servers, &fz.nservers, p, len);
			if (comma == NULL)
				break;
			p = comma + 1;
		}
		struct rw_forward_zone *list =
		    e == 0 ? realloc(cfg->forward_zones, (cfg->nforward_zones + 1) * sizeof *list)
		           : NULL;
		if (list == NULL) {
			free(fz.name);
			free(fz.servers);
			if (e == RW_EINVAL)
				return fail(err, err_len, o,
				            "%s: '%s' has an address that is not ADDR[:PORT]", name,
				            v);
			return RW_ENOMEM;
		}
		cfg->forward_zones = list;
		list[cfg->nforward_zones++] = fz;
		return 0;
	}
	case K_STR:
	case K_PATH: {
		char *p = resolve_path(o, v);
		if (p == NULL)
			return RW_ENOMEM;
		if (strcmp(name, "zones-dir") == 0) {
			free(cfg->zones_dir);
			cfg->zones_dir = p;
		} else if (strcmp(name, "config") == 0) {
			free(cfg->config_file);
			cfg->config_file = p;
		} else if (strcmp(name, "user") == 0) {
			free(p);
			free(cfg->user);
			cfg->user = strdup(v);
			if (cfg->user == NULL)
				return RW_ENOMEM;
		} else if (strcmp(name, "control") == 0) {
			free(cfg->control);
			cfg->control = p;
		} else if (strcmp(name, "root-hints") == 0) {
			free(cfg->root_hints);
			cfg->root_hints = p;
		} else {
			free(p);
		}
		return 0;
	}
	case K_LOGLEVEL:
		if (rw_log_level_parse(v, &cfg->log_level) != 0)
			return fail(err, err_len, o,
			            "%s: expected error, warn, info or debug, got '%s'", name, v);
		return 0;
	case K_LISTEN: {
		struct rw_listen_addr a;
		if (rw_config_parse_addr(v, 53, &a) != 0)
			return fail(err, err_len, o, "%s: '%s' is not ADDR:PORT (IPv6 as [::1]:53)",
			            name, v);
		struct rw_listen_addr *p = realloc(cfg->listen, (cfg->nlisten + 1) * sizeof *p);
		if (p == NULL)
			return RW_ENOMEM;
		cfg->listen = p;
		cfg->listen[cfg->nlisten++] = a;
		return 0;
	}
	case K_ZONE: {
		const char *eq = strchr(v, '=');
		uint8_t wire[RW_NAME_MAX];
		size_t wl;
		if (eq == NULL || eq == v || eq[1] == 0 ||
		    rw_name_from_text(v, (size_t)(eq - v), (const uint8_t *)"", wire, &wl) != 0)
			return fail(err, err_len, o, "%s: '%s' is not NAME=FILE with a valid NAME",
			            name, v);
		struct rw_zone_spec *p = realloc(cfg->zones, (cfg->nzones + 1) * sizeof *p);
		if (p == NULL)
			return RW_ENOMEM;
		cfg->zones = p;
		char *zn = strndup(v, (size_t)(eq - v));
		char *zf = resolve_path(o, eq + 1);
		if (zn == NULL || zf == NULL) {
			free(zn);
			free(zf);
			return RW_ENOMEM;
		}
		cfg->zones[cfg->nzones++] = (struct rw_zone_spec){zn, zf};
		return 0;
	}
	}
	return RW_EINVAL;
}

static size_t find_setting(const char *name)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].name, name) == 0)
			return i;
	return NSETTINGS;
}

/* Reads the YAML file: a mapping from setting names to scalars, or to
 * sequences of scalars for repeatable settings. */
static int load_file(struct rw_config *cfg, const char *path, char *err, size_t err_len)
{
	struct origin o = {path, 0, {false}};
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
		return RW_EINVAL;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		return RW_ENOMEM;
	}
	yaml_parser_set_input_file(&parser, f);
	int e = 0;
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, err_len, "%s:%zu: YAML error: %s", path, parser.problem_mark.line + 1,
		         parser.problem ? parser.problem : "unknown");
		yaml_parser_delete(&parser);
		fclose(f);
		return RW_EINVAL;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root == NULL) {
		goto done; /* empty file: all defaults */
	}
	if (root->type != YAML_MAPPING_NODE) {
		o.line = (unsigned)root->start_mark.line + 1;
		e = fail(err, err_len, &o, "%s%s", "the file must be a mapping of setting: value",
		         "");
		goto done;
	}
	for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top && e == 0; pair++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pair->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pair->value);
		o.line = (unsigned)k->start_mark.line + 1;
		if (k->type != YAML_SCALAR_NODE) {
			e = fail(err, err_len, &o, "%s%s", "setting names must be plain words", "");
			break;
		}
		const char *key = (const char *)k->data.scalar.value;
		size_t idx = find_setting(key);
		if (idx == NSETTINGS || settings[idx].cli_only) {
			e = fail(err, err_len, &o, "unknown setting '%s'%s", key,
			         idx == NSETTINGS ? "" : " (command line only)");
			break;
		}
		if (v->type == YAML_SCALAR_NODE) {
			o.line = (unsigned)v->start_mark.line + 1;
			e = apply(cfg, idx, (const char *)v->data.scalar.value, &o, err, err_len);
		} else if (v->type == YAML_SEQUENCE_NODE && settings[idx].repeatable) {
			for (yaml_node_item_t *it = v->data.sequence.items.start;
			     it < v->data.sequence.items.top && e == 0; it++) {
				yaml_node_t *item = yaml_document_get_node(&doc, *it);
				o.line = (unsigned)item->start_mark.line + 1;
				if (item->type != YAML_SCALAR_NODE)
					e = fail(err, err_len, &o,
					         "%s: list items must be plain values%s", key, "");
				else
					e = apply(cfg, idx, (const char *)item->data.scalar.value,
					          &o, err, err_len);
			}
		} else {
			e = fail(err, err_len, &o, "%s: expected %s", key,
			         settings[idx].repeatable ? "a value or a list of values"
			                                  : "one value");
		}
	}
done:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	return e;
}

static void defaults(struct rw_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	cfg->threads = cores < 1 ? 1 : cores > 256 ? 256 : (unsigned)cores;
	cfg->builtin_zones = true;
	cfg->round_robin = true;
	cfg->log_level = RW_LOG_INFO;
	cfg->edns_size = 1232; /* DNS flag day 2020 */
	cfg->tcp_idle_timeout_ms = 10000;
	cfg->tcp_max_connections = 1000;
	cfg->cache_size = 64UL << 20;
	cfg->max_ttl = 86400;
	cfg->max_negative_ttl = 3600;
	cfg->upstream_timeout_ms = 1000;
	cfg->upstream_tries = 2;
	cfg->ipv6_upstream = true;
	cfg->resolve_timeout_ms = 10000;
	cfg->max_cname_chain = 8;
	cfg->max_referrals = 30;
	cfg->max_upstream_queries = 64;
	cfg->max_glueless = 4;
	cfg->max_subrequest_depth = 3;
	cfg->max_outstanding = 10000;
}

static void build_longopts(struct option *lo, char *shortopts)
{
	size_t k = 0;
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		lo[i] =
		    (struct option){s->name, s->kind == K_FLAG ? no_argument : required_argument,
		                    NULL, s->short_opt};
		if (s->short_opt < 256) {
			shortopts[k++] = (char)s->short_opt;
			if (s->kind != K_FLAG)
				shortopts[k++] = ':';
		}
	}
	lo[NSETTINGS] = (struct option){NULL, 0, NULL, 0};
	shortopts[k] = 0;
}

int rw_config_load(struct rw_config *cfg, int argc, char **argv, char *err, size_t err_len)
{
	defaults(cfg);
	struct option lo[NSETTINGS + 1];
	char shortopts[2 * NSETTINGS + 2];
	build_longopts(lo, shortopts + 1);
	shortopts[0] = ':'; /* report missing arguments distinctly */
	struct origin cli = {NULL, 0, {false}};
	/* Pass 1: only the config file, so the file is read before flags. */
	opterr = 0;
	optind = 0;
	int c;
	while ((c = getopt_long(argc, argv, shortopts, lo, NULL)) != -1) {
		if (c == OPT_CONFIG) {
			int e = apply(cfg, 0, optarg, &cli, err, err_len);
			if (e != 0)
				return e;
		}
	}
	if (cfg->config_file != NULL) {
		int e = load_file(cfg, cfg->config_file, err, err_len);
		if (e != 0)
			return e;
	}
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
		if (c == OPT_CONFIG)
			continue;
		for (size_t i = 0; i < NSETTINGS; i++) {
			if (settings[i].short_opt == c) {
				int e = apply(cfg, i, settings[i].kind == K_FLAG ? NULL : optarg,
				              &cli, err, err_len);
				if (e != 0)
					return e;
				break;
			}
		}
	}
	if (optind < argc) {
		snprintf(err, err_len, "unexpected argument '%s' (see --help)", argv[optind]);
		return RW_EINVAL;
	}
	if (cfg->min_ttl > cfg->max_ttl) {
		snprintf(err, err_len, "min-ttl (%u) is larger than max-ttl (%u)", cfg->min_ttl,
		         cfg->max_ttl);
		return RW_EINVAL;
	}
	if (cfg->nallow == 0) {
		/* loopback only, for recursion and forwarding */
		cfg->allow = calloc(2, sizeof *cfg->allow);
		if (cfg->allow == NULL)
			return RW_ENOMEM;
		rw_config_parse_netblock("127.0.0.0/8", &cfg->allow[0]);
		rw_config_parse_netblock("::1", &cfg->allow[1]);
		cfg->nallow = 2;
	}
	if (cfg->nlisten == 0) {
		apply(cfg, 1, "127.0.0.1:53", &cli, err, err_len);
		apply(cfg, 1, "[::1]:53", &cli, err, err_len);
	}
	return 0;
}

void rw_config_fini(struct rw_config *cfg)
{
	free(cfg->config_file);
	free(cfg->listen);
	for (size_t i = 0; i < cfg->nzones; i++) {
		free(cfg->zones[i].name);
		free(cfg->zones[i].file);
	}
	free(cfg->zones);
	free(cfg->zones_dir);
	free(cfg->forward);
	free(cfg->http);
	free(cfg->control);
	free(cfg->allow);
	free(cfg->user);
	free(cfg->root_hints);
	free_forward_zones(cfg);
	memset(cfg, 0, sizeof *cfg);
}
