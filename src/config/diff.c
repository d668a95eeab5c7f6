/* Comparing two configurations, row by row of the settings table: what a
 * reload reports and applies (include/config/rootwalk/config.h). */
#include "config_int.h"
#include "rootwalk/name.h"

#include <stdio.h>

#define settings rw__settings
#define NSETTINGS rw__nsettings

static bool same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static bool same_addr(const struct rw_sockaddr *a, const struct rw_sockaddr *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->len == b->len && memcmp(&a->ss, &b->ss, a->len) == 0;
}

static bool same_addrs(const struct rw_sockaddr *a, size_t na, const struct rw_sockaddr *b,
                       size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!same_addr(&a[i], &b[i]))
			return false;
	return true;
}

static bool same_elem(enum kind k, const void *x, const void *y)
{
	switch (k) {
	case K_ADDRS: return same_addr(x, y);
	case K_NETBLOCKS: {
		const struct rw_netblock *a = x, *b = y;
		return a->family == b->family && a->prefix == b->prefix &&
		       memcmp(a->addr, b->addr, sizeof a->addr) == 0;
	}
	case K_ZONES: {
		const struct rw_zone_spec *a = x, *b = y;
		return same_str(a->name, b->name) && same_str(a->file, b->file);
	}
	case K_FWDZONES: {
		const struct rw_forward_zone *a = x, *b = y;
		return same_str(a->name, b->name) &&
		       same_addrs(a->servers, a->nservers, b->servers, b->nservers) &&
		       a->tcp == b->tcp && a->max_ttl == b->max_ttl &&
		       a->max_neg_ttl == b->max_neg_ttl && a->has_max_neg_ttl == b->has_max_neg_ttl;
	}
	case K_NAMES: return same_str(*(char *const *)x, *(char *const *)y);
	case K_WARM: {
		const struct rw_keep_warm *a = x, *b = y;
		return a->type == b->type && rw_name_eq(a->name, b->name);
	}
	default: return false;
	}
}

/* Whether row s has the same value in a and b. */
static bool same(const struct setting *s, const struct rw_config *a, const struct rw_config *b)
{
	const void *fa = (const char *)a + s->off, *fb = (const char *)b + s->off;
	if (is_list(s)) {
		size_t na = *(const size_t *)((const char *)a + s->aux);
		size_t nb = *(const size_t *)((const char *)b + s->aux);
		const char *la = *(char *const *)fa, *lb = *(char *const *)fb;
		if (na != nb)
			return false;
		for (size_t i = 0; i < na; i++)
			if (!same_elem(s->kind, la + i * elem_size(s->kind),
			               lb + i * elem_size(s->kind)))
				return false;
		return true;
	}
	switch (s->kind) {
	case K_BOOL:
	case K_LOGFMT: return *(const bool *)fa == *(const bool *)fb;
	case K_METRICS: return *(const unsigned *)fa == *(const unsigned *)fb;
	case K_UINT: return memcmp(fa, fb, s->aux) == 0;
	case K_SIZE: return *(const size_t *)fa == *(const size_t *)fb;
	case K_LOGLEVEL: return *(const enum rw_log_level *)fa == *(const enum rw_log_level *)fb;
	case K_STR:
	case K_PATH: return same_str(*(char *const *)fa, *(char *const *)fb);
	case K_ADDR:
		return same_addr(*(struct rw_sockaddr *const *)fa,
		                 *(struct rw_sockaddr *const *)fb);
	default: return true; /* actions: not settings of a running daemon */
	}
}

size_t rw_config_diff(const struct rw_config *a, const struct rw_config *b, bool restart, char *out,
                      size_t out_len)
{
	size_t n = 0, len = 0;
	if (out_len > 0)
		out[0] = 0;
	for (size_t i = 0; i < NSETTINGS; i++) {
		const struct setting *s = &settings[i];
		if ((s->flags & S_CLI_ONLY) || s->kind == K_ACTION ||
		    !(s->flags & S_RESTART) != !restart || same(s, a, b))
			continue;
		if (len < out_len)
			len += (size_t)snprintf(out + len, out_len - len, "%s%s", n ? ", " : "",
			                        s->name);
		n++;
	}
	return n;
}

bool rw_config_same(const struct rw_config *a, const struct rw_config *b, const char *name)
{
	size_t i = find_setting(name);
	return i == NSETTINGS || same(&settings[i], a, b);
}
