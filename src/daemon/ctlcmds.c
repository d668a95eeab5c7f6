/* The control socket's commands beyond the first few (issue 14): status,
 * log-level, the cache flushes by kind, zone and type, the forward and
 * local zone lists, and lookup. Main thread, like the rest of ops.c. */
#include "daemon_int.h"
#include "rootwalk/rr.h"
#include "rootwalk/version.h"
#include "rootwalk/zone.h"
#include "wireproto.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

struct name_type {
	const uint8_t *name; /* lower-case wire form */
	uint16_t type;       /* 0: any */
	bool under;          /* at or under name */
	bool negative;       /* NXDOMAIN and NODATA entries only */
};

static bool match(void *ctx, const uint8_t *name, uint16_t type, enum rw_cache_kind kind)
{
	const struct name_type *m = ctx;
	if (m->negative)
		return kind != RW_CACHE_POSITIVE;
	if (m->under)
		return rw_name_is_under(name, m->name);
	return rw_name_eq(name, m->name) && (m->type == 0 || m->type == type);
}

/* The lines of a cache dump for one owner (and type). */
struct filter {
	struct rw_buf *out;
	char owner[RW_NAME_TEXT_MAX + 1]; /* "name. " */
	char type[24];                    /* " IN TYPE " or "" */
	size_t n;
};

static void filter_line(void *ctx, const char *line)
{
	struct filter *f = ctx;
	if (strncasecmp(line, f->owner, strlen(f->owner)) != 0)
		return;
	if (f->type[0] != 0 && strstr(line, f->type) == NULL)
		return;
	rw_buf_printf(f->out, "%s\n", line);
	f->n++;
}

static void status(struct rw_server *s, struct rw_buf *out)
{
	const struct rw_config *cfg = s->gen->cfg;
	uint64_t up = (uv_hrtime() - s->started_ns) / 1000000000u;
	rw_buf_printf(out,
	              "ok\nversion: rootwalk %s\nuptime: %llus\nworkers: %u\nlisten:", RW_VERSION,
	              (unsigned long long)up, s->nworkers);
	for (size_t i = 0; i < s->nlisten; i++)
		rw_buf_printf(out, " %s", s->cfg->listen[i].text);
	rw_buf_printf(out,
	              "\ncache: %zu entries, %zu of %zu bytes\nlocal zones: %zu\n"
	              "forward zones: %zu\nforwarders: %zu\nmode: %s\n"
	              "configuration: generation %u%s\nlog level: %s\n",
	              rw_cache_entries(s->cache), rw_cache_bytes(s->cache), s->cfg->cache_size,
	              rw_zoneset_count(s->zones), cfg->nforward_zones, cfg->nforward,
	              cfg->nforward > 0 ? "forwarding" : "recursion from the root", s->gen->id,
	              s->restart_pending ? " (a restart is pending)" : "",
	              (const char *[]){"error", "warn", "info", "debug"}[rw_log_get_level()]);
}

static void list_forwards(struct rw_server *s, struct rw_buf *out)
{
	const struct rw_config *cfg = s->gen->cfg;
	rw_buf_printf(out, "ok: %zu forward zones%s\n", cfg->nforward_zones,
	              cfg->nforward > 0 ? ", and everything else forwarded" : "");
	for (size_t i = 0; i < cfg->nforward_zones; i++) {
		const struct rw_forward_zone *z = &cfg->forward_zones[i];
		rw_buf_printf(out, "%s", z->name);
		for (size_t k = 0; k < z->nservers; k++)
			rw_buf_printf(out, " %s", z->servers[k].text);
		if (z->tcp)
			rw_buf_printf(out, " tcp");
		if (z->max_ttl > 0)
			rw_buf_printf(out, " max-ttl=%u", z->max_ttl);
		if (z->has_max_neg_ttl)
			rw_buf_printf(out, " max-negative-ttl=%u", z->max_neg_ttl);
		rw_buf_printf(out, "\n");
	}
	if (cfg->nforward > 0) {
		rw_buf_printf(out, ".");
		for (size_t k = 0; k < cfg->nforward; k++)
			rw_buf_printf(out, " %s", cfg->forward[k].text);
		rw_buf_printf(out, "\n");
	}
}

static void list_zones(struct rw_server *s, struct rw_buf *out)
{
	size_t n = rw_zoneset_count(s->zones);
	rw_buf_printf(out, "ok: %zu local zones\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct rw_zone *z = rw_zoneset_at(s->zones, i);
		char text[RW_NAME_TEXT_MAX];
		rw_name_to_text(rw_zone_origin(z), text, sizeof text);
		rw_buf_printf(out, "%s %zu records%s\n", text, rw_zone_record_count(z),
		              rw_zone_is_builtin(z) ? " (built in)" : "");
	}
}

/* Where a miss for name goes: a forward zone, --forward, or the root. */
static void route_of(struct rw_server *s, const uint8_t *lname, struct rw_buf *out)
{
	const struct gen *g = s->gen;
	size_t best = 0, bi = 0;
	for (size_t i = 0; i < g->nroutes; i++) {
		size_t l = rw_name_len(g->routes[i].name);
		if (l > best && rw_name_is_under(lname, g->routes[i].name))
			best = l, bi = i + 1;
	}
	if (rw_zoneset_find(s->zones, lname) != NULL) {
		rw_buf_printf(out, "answered by a local zone\n");
	} else if (bi > 0) {
		const struct rw_forward_zone *z = &g->cfg->forward_zones[bi - 1];
		rw_buf_printf(out, "a miss goes to forward zone %s:", z->name);
		for (size_t k = 0; k < z->nservers; k++)
			rw_buf_printf(out, " %s", z->servers[k].text);
		rw_buf_printf(out, "\n");
	} else if (g->cfg->nforward > 0) {
		rw_buf_printf(out, "a miss goes to the forwarders:");
		for (size_t k = 0; k < g->cfg->nforward; k++)
			rw_buf_printf(out, " %s", g->cfg->forward[k].text);
		rw_buf_printf(out, "\n");
	} else {
		rw_buf_printf(
		    out, "a miss is resolved from the root (control infra: the servers known)\n");
	}
}

bool rw__ctl_more(struct rw_server *s, enum rw_control_cmd cmd, const char *arg, struct rw_buf *out)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", arg);
	uint8_t name[RW_NAME_MAX], lname[RW_NAME_MAX];
	uint16_t type = 0;
	struct name_type m = {0};
	switch (cmd) {
	case RW_CTL_STATUS: status(s, out); return true;
	case RW_CTL_LOG_LEVEL: {
		enum rw_log_level l;
		rw_log_level_parse(arg, &l); /* checked by the parser */
		rw_log_set_level(l);
		rw_log_info("log level set to %s by control", arg);
		rw_buf_printf(out, "ok: log level %s (until the next reload)\n", arg);
		return true;
	}
	case RW_CTL_FLUSH_NEG:
		m.negative = true;
		rw_buf_printf(out, "ok: flushed %zu negative entries\n",
		              rw_cache_flush_match(s->cache, match, &m));
		return true;
	case RW_CTL_FLUSH_ZONE:
	case RW_CTL_FLUSH_TYPE:
	case RW_CTL_LOOKUP:
		if (!rw_ctl_name_type(buf, name, &type))
			break; /* checked by the parser */
		rw_name_lower(lname, name, rw_name_len(name));
		m.name = lname;
		m.type = type;
		m.under = cmd == RW_CTL_FLUSH_ZONE;
		if (cmd != RW_CTL_LOOKUP) {
			rw_buf_printf(out, "ok: flushed %zu entries\n",
			              rw_cache_flush_match(s->cache, match, &m));
			return true;
		}
		struct filter f = {.out = out};
		rw_name_to_text(lname, f.owner, sizeof f.owner - 1);
		strcat(f.owner, " ");
		if (type != 0) {
			char t[16];
			rw_type_to_text(type, t, sizeof t);
			snprintf(f.type, sizeof f.type, " IN %s ", t);
		}
		struct rw_buf lines = {0};
		f.out = &lines;
		rw_cache_dump(s->cache, filter_line, &f);
		rw_buf_printf(out, "ok: %zu cached records\n", f.n);
		if (lines.len > 0)
			rw_buf_printf(out, "%.*s", (int)lines.len, lines.p);
		out->failed |= lines.failed;
		free(lines.p);
		route_of(s, lname, out);
		return true;
	case RW_CTL_LIST_FWD: list_forwards(s, out); return true;
	case RW_CTL_LIST_ZONES: list_zones(s, out); return true;
	default: break;
	}
	return false;
}
