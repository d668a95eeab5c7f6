/* The settings one configuration makes (struct gen, daemon_int.h): built
 * by the main thread at start and on every reload, shared read-only by
 * the workers, freed by whoever lets go last. */
#include "daemon_int.h"
#include "rootwalk/err.h"
#include "rootwalk/name.h"
#include "rootwalk/version.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Group numbers stay below the failure cache's CD tag (query.h). */
#define GROUP_BASE_MAX 0x8000u

static void gen_free(struct gen *g)
{
	if (g->owned)
		rw_config_fini(&g->own);
	free(g->routes);
	free(g);
}

void rw__cache_config_of(const struct rw_config *cfg, struct rw_cache_config *cc)
{
	rw_cache_config_default(cc);
	cc->limit_bytes = cfg->cache_size;
	cc->min_ttl_s = cfg->min_ttl;
	cc->max_ttl_s = cfg->max_ttl;
	cc->max_neg_ttl_s = cfg->max_negative_ttl;
	cc->stale_s = cfg->serve_stale_s;
	cc->prefetch_pct = cfg->prefetch_pct;
}

struct gen *rw__gen_ref(struct gen *g)
{
	atomic_fetch_add(&g->refs, 1);
	return g;
}

void rw__gen_unref(struct gen *g)
{
	if (g != NULL && atomic_fetch_sub(&g->refs, 1) == 1)
		gen_free(g);
}

bool rw__gen_forward_changed(const struct gen *a, const struct gen *b)
{
	static const char *const fwd[] = {"forward", "forward-zone", "upstream-timeout-ms",
	                                  "upstream-tries", "edns-buffer-size"};
	for (size_t i = 0; i < sizeof fwd / sizeof fwd[0]; i++)
		if (!rw_config_same(a->cfg, b->cfg, fwd[i]))
			return true;
	return false;
}

const uint8_t *rw__gen_group_zone(const struct gen *gen, unsigned g)
{
	if (g < gen->group_base || g - gen->group_base >= gen->ngroups)
		return NULL;
	unsigned i = g - gen->group_base;
	return i < gen->nroutes ? gen->routes[i].name : (const uint8_t *)"";
}

int rw__gen_new(const struct rw_config *cfg, struct rw_config *own, const struct gen *prev,
                struct gen **out, char *err, size_t err_len)
{
	bool owned = own != NULL;
	struct gen *g = calloc(1, sizeof *g);
	if (g == NULL)
		goto nomem;
	atomic_init(&g->refs, 1);
	g->owned = owned;
	if (owned) {
		g->own = *own;
		memset(own, 0, sizeof *own);
		g->cfg = &g->own;
	} else {
		g->cfg = cfg;
	}
	g->id = prev != NULL ? prev->id + 1 : 0;
	const struct rw_config *c = g->cfg;
	g->nroutes = c->nforward_zones;
	g->routes = calloc(g->nroutes + 1, sizeof *g->routes);
	if (g->routes == NULL)
		goto nomem;
	/* Upstream groups: one per forward zone, then --forward; without
	 * --forward, the rest is resolved from the root. */
	g->ngroups = g->nroutes + (c->nforward > 0);
	g->default_route = c->nforward > 0 ? RW_ROUTE_FORWARD : RW_ROUTE_ITERATE;
	if (prev != NULL && !rw__gen_forward_changed(prev, g)) {
		g->group_base = prev->group_base;
	} else if (prev != NULL) {
		g->group_base = prev->group_base + (unsigned)prev->ngroups;
		if (g->group_base + g->ngroups >= GROUP_BASE_MAX)
			g->group_base = 0;
	}
	g->default_group = g->group_base + (unsigned)g->nroutes;
	for (size_t i = 0; i < g->nroutes; i++) {
		const char *name = c->forward_zones[i].name;
		uint8_t wire[RW_NAME_MAX];
		size_t wl;
		if (rw_name_from_text(name, strlen(name), (const uint8_t *)"", wire, &wl) != 0) {
			snprintf(err, err_len, "forward-zone: bad name '%s'", name);
			rw__gen_unref(g);
			return RW_EINVAL;
		}
		rw_name_lower(g->routes[i].name, wire, wl);
		g->routes[i].group = g->group_base + (unsigned)i;
		const struct rw_forward_zone *fz = &c->forward_zones[i];
		g->routes[i].max_ttl = fz->max_ttl;
		g->routes[i].neg_cap = fz->has_max_neg_ttl;
		g->routes[i].max_neg_ttl = fz->max_neg_ttl;
	}
	if (c->autopath != NULL) {
		uint8_t wire[RW_NAME_MAX];
		size_t wl;
		if (rw_name_from_text(c->autopath, strlen(c->autopath), (const uint8_t *)"", wire,
		                      &wl) != 0) {
			snprintf(err, err_len, "autopath: '%s' is not a zone name", c->autopath);
			rw__gen_unref(g);
			return RW_EINVAL;
		}
		rw_name_lower(g->autopath, wire, wl);
		g->has_autopath = true;
	}
	char host[256] = "";
	if (gethostname(host, sizeof host - 1) != 0)
		snprintf(host, sizeof host, "rootwalk");
	if (c->nsid != NULL)
		snprintf(g->nsid, sizeof g->nsid, "%.128s", /* RFC 5001: short */
		         strcmp(c->nsid, "hostname") == 0 ? host : c->nsid);
	if (!c->hide_identity)
		snprintf(g->identity, sizeof g->identity, "%.255s",
		         c->identity ? c->identity : host);
	if (!c->hide_version)
		snprintf(g->version, sizeof g->version, "%.255s",
		         c->version_text ? c->version_text : "rootwalk " RW_VERSION);
	*out = g;
	return 0;
nomem:
	if (g != NULL)
		rw__gen_unref(g);
	else if (owned)
		rw_config_fini(own);
	snprintf(err, err_len, "out of memory");
	return RW_ENOMEM;
}
