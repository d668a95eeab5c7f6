/* Assembles the served zone set from configuration; see
 * include/zone/rootwalk/zoneload.h. Opens files; never sockets. */
#include "rootwalk/zoneload.h"
#include "rootwalk/err.h"
#include "rootwalk/log.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int add_zone(struct rw_zoneset *zs, int e, struct rw_zone *z, const struct rw_zone_error *ze,
                    char *err, size_t err_len)
{
	if (e != 0) {
		int n;
		if (ze->line > 0)
			n = snprintf(err, err_len, "%s:%u: %s", ze->file, ze->line, ze->msg);
		else
			n = snprintf(err, err_len, "%s: %s", ze->file, ze->msg);
		if (ze->count > 1 && n > 0 && (size_t)n < err_len) {
			/* The others, one per line ("more" ends in a newline). */
			size_t ml = strlen(ze->more);
			snprintf(err + n, err_len - (size_t)n, "\n%u errors in all%s:\n%.*s",
			         ze->count,
			         ze->count > RW_ZONE_ERRORS_MAX ? ", the first 20 shown" : "",
			         ml > 0 ? (int)ml - 1 : 0, ze->more);
		}
		return e;
	}
	e = rw_zoneset_add(zs, z);
	if (e != 0)
		snprintf(err, err_len, "out of memory");
	return e;
}

static int origin_of(const char *text, size_t len, uint8_t *wire, const char *what, char *err,
                     size_t err_len)
{
	size_t wl;
	if (rw_name_from_text(text, len, (const uint8_t *)"", wire, &wl) != 0) {
		snprintf(err, err_len, "%s: '%.*s' is not a valid zone name", what, (int)len, text);
		return RW_EINVAL;
	}
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The "*.zone" names in dir (not hidden), sorted; *names is NULL when
 * there are none. 0, RW_EIO (cannot open) or RW_ENOMEM. */
static int list_dir(const char *dir, char ***names_out, size_t *n_out)
{
	*names_out = NULL;
	*n_out = 0;
	DIR *d = opendir(dir);
	if (d == NULL)
		return RW_EIO;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int e = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		if (l <= 5 || strcmp(de->d_name + l - 5, ".zone") != 0 || de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **p = realloc(names, cap * sizeof *p);
			if (p == NULL) {
				e = RW_ENOMEM;
				break;
			}
			names = p;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			e = RW_ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, name_cmp); /* deterministic order */
	*names_out = names;
	*n_out = n;
	return e;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* A configured zone whose origin another configured zone already has is an
 * error (a built-in zone of that origin is replaced, as it should be). */
static int not_twice(const struct rw_zoneset *zs, const uint8_t *origin, const char *path,
                     char *err, size_t err_len)
{
	uint8_t l[RW_NAME_MAX];
	rw_name_lower(l, origin, rw_name_len(origin));
	const struct rw_zone *z = rw_zoneset_find(zs, l);
	if (z == NULL || rw_zone_is_builtin(z) || !rw_name_eq(rw_zone_origin(z), l))
		return 0;
	char text[RW_NAME_TEXT_MAX];
	rw_name_to_text(l, text, sizeof text);
	snprintf(err, err_len, "%s: zone %s is given twice (another --zone or --zones-dir file)",
	         path, text);
	return RW_EINVAL;
}

static int load_dir(struct rw_zoneset *zs, const char *dir, char *err, size_t err_len)
{
	char **names;
	size_t n;
	int e = list_dir(dir, &names, &n);
	if (e == RW_EIO) {
		snprintf(err, err_len, "%s: cannot open zones directory", dir);
		return RW_EIO;
	}
	for (size_t i = 0; i < n && e == 0; i++) {
		char path[4096];
		uint8_t origin[RW_NAME_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		e = origin_of(names[i], strlen(names[i]) - 5, origin, path, err, err_len);
		if (e == 0)
			e = not_twice(zs, origin, path, err, err_len);
		if (e != 0)
			break;
		struct rw_zone *z = NULL;
		struct rw_zone_error ze = {0};
		e = rw_zone_load_file(path, origin, &z, &ze);
		e = add_zone(zs, e, z, &ze, err, err_len);
		if (e == 0)
			rw_log_debug("loaded zone %s", path);
	}
	free_names(names, n);
	if (e == RW_ENOMEM)
		snprintf(err, err_len, "out of memory");
	return e;
}

int rw_zoneload(const struct rw_zone_sources *src, struct rw_zoneset **out, char *err,
                size_t err_len)
{
	struct rw_zoneset *zs = rw_zoneset_new();
	if (zs == NULL) {
		snprintf(err, err_len, "out of memory");
		return RW_ENOMEM;
	}
	/* Before reading: a file changed meanwhile makes the next check
	 * differ, never the same. */
	rw_zoneset_set_source_hash(zs, rw_zone_sources_hash(src));
	int e = 0;
	bool off_used[64] = {false}; /* which --no-builtin-zone names matched */
	if (src->nno_builtin > sizeof off_used / sizeof off_used[0]) {
		snprintf(err, err_len, "no-builtin-zone: more than %zu names",
		         sizeof off_used / sizeof off_used[0]);
		e = RW_EINVAL;
	}
	for (size_t i = 0; src->builtin && i < rw_builtin_zone_count && e == 0; i++) {
		const struct rw_builtin_zone *b = &rw_builtin_zones[i];
		uint8_t origin[RW_NAME_MAX];
		e = origin_of(b->origin, strlen(b->origin), origin, b->label, err, err_len);
		bool off = false;
		for (size_t k = 0; e == 0 && k < src->nno_builtin; k++) {
			uint8_t w[RW_NAME_MAX];
			e = origin_of(src->no_builtin[k], strlen(src->no_builtin[k]), w,
			              "no-builtin-zone", err, err_len);
			if (e == 0 && rw_name_eq(w, origin))
				off = off_used[k] = true;
		}
		struct rw_zone *z = NULL;
		struct rw_zone_error ze = {0};
		if (e == 0 && !off) {
			e = rw_zone_load_text(b->label, b->text, strlen(b->text), origin, &z, &ze);
			if (e == 0)
				rw_zone_set_builtin(z);
			e = add_zone(zs, e, z, &ze, err, err_len);
		}
	}
	for (size_t k = 0; e == 0 && k < src->nno_builtin; k++) {
		if (!off_used[k] && src->builtin) {
			snprintf(err, err_len, "no-builtin-zone: '%s' is not a built-in zone",
			         src->no_builtin[k]);
			e = RW_EINVAL;
		}
	}
	if (e == 0 && src->dir != NULL)
		e = load_dir(zs, src->dir, err, err_len);
	for (size_t i = 0; i < src->nzones && e == 0; i++) {
		uint8_t origin[RW_NAME_MAX];
		e = origin_of(src->zones[i].name, strlen(src->zones[i].name), origin, "--zone", err,
		              err_len);
		if (e == 0)
			e = not_twice(zs, origin, src->zones[i].file, err, err_len);
		struct rw_zone *z = NULL;
		struct rw_zone_error ze = {0};
		if (e == 0) {
			e = rw_zone_load_file(src->zones[i].file, origin, &z, &ze);
			e = add_zone(zs, e, z, &ze, err, err_len);
		}
	}
	/* Built-in zones are defaults, not walls: one at or above a forward
	 * zone leaves that zone's names to it. */
	for (size_t i = 0; i < src->nforward && e == 0; i++) {
		uint8_t w[RW_NAME_MAX], l[RW_NAME_MAX];
		e = origin_of(src->forward[i], strlen(src->forward[i]), w, "forward-zone", err,
		              err_len);
		if (e != 0)
			break;
		rw_name_lower(l, w, rw_name_len(w));
		const struct rw_zone *z = rw_zoneset_find(zs, l);
		if (z != NULL && rw_zone_is_builtin(z) && (e = rw_zoneset_yield(zs, l)) != 0)
			snprintf(err, err_len, "out of memory");
	}
	if (e != 0) {
		rw_zoneset_unref(zs);
		return e;
	}
	*out = zs;
	return 0;
}

/* FNV-1a, 64 bits. */
static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

/* Adds a file's name and content (or that it cannot be read) to h. */
static uint64_t hash_file(uint64_t h, const char *path)
{
	h = fnv(h, path, strlen(path) + 1);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return fnv(h, "\0unreadable", 12);
	uint8_t buf[65536];
	size_t r;
	/* Bound: the file's size. */
	while ((r = fread(buf, 1, sizeof buf, f)) > 0)
		h = fnv(h, buf, r);
	fclose(f);
	return h;
}

uint64_t rw_zone_sources_hash(const struct rw_zone_sources *src)
{
	uint64_t h = 0xcbf29ce484222325ull;
	if (src->dir != NULL) {
		char **names;
		size_t n;
		if (list_dir(src->dir, &names, &n) != 0)
			h = fnv(h, "\0nodir", 7);
		for (size_t i = 0; i < n; i++) {
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", src->dir, names[i]);
			h = hash_file(h, path);
		}
		free_names(names, n);
	}
	for (size_t i = 0; i < src->nzones; i++)
		h = hash_file(fnv(h, src->zones[i].name, strlen(src->zones[i].name) + 1),
		              src->zones[i].file);
	return h;
}

size_t rw_zoneset_builtin_below(const struct rw_zoneset *zs, const char *fwd, char *out,
                                size_t out_len)
{
	uint8_t w[RW_NAME_MAX], l[RW_NAME_MAX];
	size_t wl, n = 0, len = 0;
	if (out_len > 0)
		out[0] = 0;
	if (rw_name_from_text(fwd, strlen(fwd), (const uint8_t *)"", w, &wl) != 0)
		return 0;
	rw_name_lower(l, w, wl);
	for (size_t i = 0; i < rw_zoneset_count(zs); i++) {
		const struct rw_zone *z = rw_zoneset_at(zs, i);
		const uint8_t *o = rw_zone_origin(z);
		if (!rw_zone_is_builtin(z) || rw_name_len(o) <= wl || !rw_name_is_under(o, l))
			continue;
		char text[RW_NAME_TEXT_MAX];
		rw_name_to_text(o, text, sizeof text);
		/* Names while they fit whole, then "...". */
		if (len + strlen(text) + 7 < out_len)
			len +=
			    (size_t)snprintf(out + len, out_len - len, "%s%s", n ? ", " : "", text);
		else if (len + 5 < out_len && (len < 3 || strcmp(out + len - 3, "...") != 0))
			len += (size_t)snprintf(out + len, out_len - len, ", ...");
		n++;
	}
	return n;
}
