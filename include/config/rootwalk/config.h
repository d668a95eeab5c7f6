/* Daemon configuration: command line and YAML file.
 *
 * One table of settings (src/config/config.c: name, kind, field, default,
 * bounds, example, help) drives getopt, the YAML reader, --help and the
 * defaults, so every flag has a file key of the same name (without "--")
 * and the same value syntax; repeatable flags are YAML sequences. Flags override the file:
 * a repeatable flag given on the command line replaces the file's list.
 * Relative paths in the file are taken relative to the file's folder.
 * The config owns its strings; rw_config_fini frees them. */
#ifndef ROOTWALK_CONFIG_H
#define ROOTWALK_CONFIG_H

#include <stdbool.h>
#include <stdio.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rootwalk/log.h"
#include "rootwalk/netaddr.h"

/* --forward-zone NAME=ADDR[,ADDR...]: names under NAME go to these. */
struct rw_forward_zone {
	char *name; /* presentation form, as given */
	struct rw_sockaddr *servers;
	size_t nservers;
	bool tcp;             /* "tcp": every query over TCP (no conntrack races) */
	uint32_t max_ttl;     /* "max-ttl=S": cache its answers at most S (0: the global cap) */
	uint32_t max_neg_ttl; /* "max-negative-ttl=S": its NXDOMAIN/NODATA */
	bool has_max_neg_ttl;
};

/* A name kept fresh at all times (--keep-warm). */
struct rw_keep_warm {
	uint8_t name[255]; /* wire form */
	uint16_t type;
};

struct rw_zone_spec {
	char *name; /* presentation form */
	char *file;
};

enum rw_config_action {
	RW_CONFIG_RUN = 0,
	RW_CONFIG_CHECK,     /* --check-config */
	RW_CONFIG_HELP,      /* --help */
	RW_CONFIG_VERSION,   /* --version */
	RW_CONFIG_SAMPLE,    /* --sample-config: the documented YAML file */
	RW_CONFIG_REFERENCE, /* --config-reference: the Markdown table */
};

/* Metric families /metrics serves (--metrics-format). */
#define RW_METRICS_ROOTWALK 1u
#define RW_METRICS_COREDNS 2u

struct rw_config {
	enum rw_config_action action;
	char *config_file;
	struct rw_sockaddr *listen;
	size_t nlisten;
	unsigned threads;
	char threads_why[96]; /* threads sized from the CPUs: how ("" when set) */
	struct rw_zone_spec *zones;
	size_t nzones;
	char *zones_dir;
	bool builtin_zones; /* RFC 6761/6303 zones compiled in */
	char **no_builtin;  /* built-in zones not to serve (names as written) */
	size_t nno_builtin;
	bool watch_zones;          /* reload when zone files change */
	uint32_t watch_interval_s; /* ... and check them this often (0: on events only) */
	bool round_robin;          /* rotate A/AAAA order between answers */
	char *autopath;            /* --autopath ZONE (NULL: off) */
	bool filter_aaaa;          /* --filter-aaaa */
	/* Identity (issue 14): NSID, CHAOS id.server. and version.bind. */
	char *nsid, *identity, *version_text;
	bool hide_identity, hide_version;
	struct rw_sockaddr *http; /* --http ADDR:PORT; NULL: off */
	char *control;            /* --control PATH; NULL: off */
	/* Safety and logging (issue 5). */
	struct rw_netblock *allow; /* --allow; default 127.0.0.0/8 and ::1 */
	size_t nallow;
	bool local_from_any;     /* --allow-local-zones-from-any */
	unsigned rate_limit;     /* responses per second per client; 0: off */
	char *user;              /* --user NAME; NULL: keep the identity */
	bool log_json;           /* --log-format json */
	unsigned metrics_format; /* --metrics-format: RW_METRICS_* bits */
	char *dnstap;            /* --dnstap unix:PATH or file:PATH; NULL: off */
	bool log_queries;        /* --log-queries */
	enum rw_log_level log_level;
	uint16_t edns_size; /* our UDP payload size (RFC 6891), 512-4096 */
	unsigned tcp_idle_timeout_ms;
	unsigned tcp_max_connections;
	unsigned tcp_max_per_client;     /* 0: a quarter of tcp_max_connections */
	unsigned tcp_max_lifetime_ms;    /* a connection is closed after this */
	unsigned max_waiting_per_client; /* clients' queries waiting upstream, per address */
	unsigned discard_timeout_ms;     /* a reply later than this is not sent */
	/* Cache (issue 3). */
	size_t cache_size; /* bytes; default 64 MiB */
	uint32_t min_ttl, max_ttl, max_negative_ttl;
	/* Forwarding: everything (forward) or names under a zone. */
	struct rw_sockaddr *forward;
	size_t nforward;
	struct rw_forward_zone *forward_zones;
	size_t nforward_zones;
	unsigned upstream_timeout_ms; /* per try (c-ares) */
	unsigned upstream_tries;      /* tries per server */
	/* Recursion (issue 4). */
	char *root_hints; /* NULL: the built-in IANA root servers */
	bool query_loopback;
	bool ipv6_upstream;
	bool qname_minimisation; /* RFC 9156 (default on) */
	unsigned resolve_timeout_ms;
	unsigned max_cname_chain, max_referrals, max_upstream_queries, max_glueless,
	    max_subrequest_depth, max_outstanding;
	unsigned max_upstream_bytes; /* reply bytes taken in per client query */
	/* RFC 9520 failure caching, in seconds (failure_ttl 0: off). */
	uint32_t failure_ttl, failure_ttl_max;
	/* Serve-stale (RFC 8767): how long past expiry data may be served
	 * (0: off), the TTL it goes out with, how long a client waits for a
	 * refresh before getting it, and how soon a failed refresh is tried
	 * again. */
	uint32_t serve_stale_s, serve_stale_ttl, serve_stale_timeout_ms, serve_stale_retry_s;
	char *cache_file; /* the cache across restarts (NULL: none) */
	/* Prefetch (percent of a TTL left; 0: off) and the keep-warm list. */
	uint32_t prefetch_pct;
	struct rw_keep_warm *keep_warm;
	size_t nkeep_warm;
	bool takeover; /* --takeover: the sockets of the rootwalk at --control */
};

/* Fills cfg from argv (and the config file named there). On error returns
 * RW_EINVAL (or RW_ENOMEM) and writes one line into err (naming file and
 * line for config-file errors). Call rw_config_fini() either way. */
int rw_config_load(struct rw_config *cfg, int argc, char **argv, char *err, size_t err_len);
/* Fills cfg with the defaults and then the settings in YAML text (as if
 * read from a file called name). For tests and the fuzz target; same
 * errors as rw_config_load. Call rw_config_fini() either way. */
int rw_config_load_yaml(struct rw_config *cfg, const char *name, const uint8_t *text, size_t len,
                        char *err, size_t err_len);
/* Checks what single settings cannot (min-ttl <= max-ttl). 0 or
 * RW_EINVAL with a message. */
int rw_config_validate(const struct rw_config *cfg, char *err, size_t err_len);
/* Frees everything cfg owns and zeroes it. */
void rw_config_fini(struct rw_config *cfg);
/* Reload: the names of the settings whose values differ between a and b,
 * comma-separated, into out (cut short when it is full); restart: only
 * those a running daemon cannot apply (listen, threads, user, http,
 * control, cache-size, root-hints, max-outstanding, failure-ttl,
 * failure-ttl-max, watch-zones, watch-interval-s, dnstap), else only those it
 * can. Returns how many
 * differ. */
size_t rw_config_diff(const struct rw_config *a, const struct rw_config *b, bool restart, char *out,
                      size_t out_len);
/* Whether the setting called name ("forward", ...) is the same in a and b
 * (an unknown name: true). */
bool rw_config_same(const struct rw_config *a, const struct rw_config *b, const char *name);
/* The usage text printed by --help. */
const char *rw_config_usage(void);

/* One row of the settings table, for tests and documentation. */
struct rw_config_setting_info {
	const char *name;    /* flag "--name" and file key "name" */
	const char *example; /* a valid value; NULL for actions (--help...) */
	bool list;           /* repeatable; a YAML sequence in the file */
	bool takes_value;    /* false: a flag ("true"/"false" in the file) */
	bool file_key;       /* false: command line only */
	bool restart;        /* a running daemon applies a change only at restart */
	const char *arg;     /* the value's metavariable ("ADDR[:PORT]"); NULL: none */
	const char *def;     /* the default as written; NULL: none or computed */
	const char *help;    /* lines separated by '\n' */
};
size_t rw_config_setting_count(void);
/* Fills out for row i; false past the end. */
bool rw_config_setting_info(size_t i, struct rw_config_setting_info *out);
/* Writes the documented sample configuration (every file setting with
 * its help, default and an example, commented out), or the Markdown table
 * of every setting (README "Configuration reference"), from the settings
 * table, so neither can miss a setting. */
void rw_config_write_sample(FILE *f);
/* Run-time forward zones on top of a loaded configuration (control
 * forward-add/-remove): adds "NAME=ADDR[:PORT][,...] [OPTION...]" as
 * --forward-zone takes it, replacing a zone of that name (RW_EINVAL with
 * the problem in err); removes NAME (RW_ENOTFOUND: no such zone). */
int rw_config_forward_zone_add(struct rw_config *cfg, const char *spec, char *err, size_t err_len);
int rw_config_forward_zone_remove(struct rw_config *cfg, const char *name);
void rw_config_write_reference(FILE *f);

#endif
