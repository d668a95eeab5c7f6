/* Private to src/config: the settings table (config.c) and what reads it
 * besides the parser (diff.c). Not an interface. */
#ifndef ROOTWALK_CONFIG_INT_H
#define ROOTWALK_CONFIG_INT_H

#include "rootwalk/config.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

/* How a value is written and where it goes. */
enum kind {
	K_BOOL,      /* bool; aux 1: the flag turns the field off (no-...) */
	K_ACTION,    /* enum rw_config_action; aux: the action */
	K_UINT,      /* unsigned integer of aux bytes (2, 4 or 8), min..max */
	K_SIZE,      /* size_t bytes with an optional K/M/G suffix, min..max */
	K_STR,       /* char *, as written */
	K_PATH,      /* char *, relative to the config file's folder */
	K_ADDR,      /* struct rw_sockaddr * (one, heap), a port required */
	K_LOGLEVEL,  /* enum rw_log_level */
	K_LOGFMT,    /* bool log_json: "text" or "json" */
	K_METRICS,   /* unsigned: RW_METRICS_* bits ("rootwalk", "coredns", "both") */
	K_ADDRS,     /* list of struct rw_sockaddr, port 53 by default */
	K_NETBLOCKS, /* list of struct rw_netblock */
	K_ZONES,     /* list of struct rw_zone_spec (NAME=FILE) */
	K_FWDZONES,  /* list of struct rw_forward_zone (NAME=ADDR,...) */
	K_WARM,      /* list of struct rw_keep_warm (NAME[/TYPE]) */
	K_NAMES,     /* list of char *, each a domain name as written */
};

#define S_CLI_ONLY 1u /* not a file key */
#define S_RESTART 2u  /* a running daemon cannot apply a change (a reload says so) */

struct setting {
	const char *name;
	char short_opt; /* 0: long option only */
	enum kind kind;
	size_t off; /* the field in struct rw_config */
	size_t aux; /* K_UINT: field size; lists: offset of the count; see enum kind */
	unsigned flags;
	unsigned long long min, max;
	const char *def;     /* default, parsed like a user's value (lists: space-separated) */
	const char *example; /* a valid value, for tests and the sample file */
	const char *arg;     /* metavariable in --help */
	const char *help;
};

/* Every setting, one row each (config.c). */
extern const struct setting rw__settings[];
extern const size_t rw__nsettings;

static inline bool is_list(const struct setting *s)
{
	return s->kind >= K_ADDRS;
}

static inline size_t elem_size(enum kind k)
{
	switch (k) {
	case K_ADDRS: return sizeof(struct rw_sockaddr);
	case K_NETBLOCKS: return sizeof(struct rw_netblock);
	case K_ZONES: return sizeof(struct rw_zone_spec);
	case K_FWDZONES: return sizeof(struct rw_forward_zone);
	case K_WARM: return sizeof(struct rw_keep_warm);
	case K_NAMES: return sizeof(char *);
	default: return 0;
	}
}

/* The row called name; rw__nsettings when there is none. */
static inline size_t find_setting(const char *name)
{
	for (size_t i = 0; i < rw__nsettings; i++)
		if (strcmp(rw__settings[i].name, name) == 0)
			return i;
	return rw__nsettings;
}

#endif
