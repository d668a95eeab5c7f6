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
		if (ze->line > 0)
			snprintf(err, err_len, "%s:%u: %s", ze->file, ze->line, ze->msg);
		else
			snprintf(err, err_len, "%s: %s", ze->file, ze->msg);
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

static int load_dir(struct rw_zoneset *zs, const char *dir, char *err, size_t err_len)
{
	DIR *d = opendir(dir);
	if (d == NULL) {
		snprintf(err, err_len, "%s: cannot open zones directory", dir);
		return RW_EIO;
	}
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
	for (size_t i = 0; i < n && e == 0; i++) {
		char path[4096];
		uint8_t origin[RW_NAME_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		e = origin_of(names[i], strlen(names[i]) - 5, origin, path, err, err_len);
		if (e != 0)
			break;
		struct rw_zone *z = NULL;
		struct rw_zone_error ze = {0};
		e = rw_zone_load_file(path, origin, &z, &ze);
		e = add_zone(zs, e, z, &ze, err, err_len);
		if (e == 0)
			rw_log_debug("loaded zone %s", path);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
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
	int e = 0;
	for (size_t i = 0; src->builtin && i < rw_builtin_zone_count && e == 0; i++) {
		const struct rw_builtin_zone *b = &rw_builtin_zones[i];
		uint8_t origin[RW_NAME_MAX];
		e = origin_of(b->origin, strlen(b->origin), origin, b->label, err, err_len);
		struct rw_zone *z = NULL;
		struct rw_zone_error ze = {0};
		if (e == 0) {
			e = rw_zone_load_text(b->label, b->text, strlen(b->text), origin, &z, &ze);
			e = add_zone(zs, e, z, &ze, err, err_len);
		}
	}
	if (e == 0 && src->dir != NULL)
		e = load_dir(zs, src->dir, err, err_len);
	for (size_t i = 0; i < src->nzones && e == 0; i++) {
		uint8_t origin[RW_NAME_MAX];
		e = origin_of(src->zones[i].name, strlen(src->zones[i].name), origin, "--zone", err,
		              err_len);
		struct rw_zone *z = NULL;
		struct rw_zone_error ze = {0};
		if (e == 0) {
			e = rw_zone_load_file(src->zones[i].file, origin, &z, &ze);
			e = add_zone(zs, e, z, &ze, err, err_len);
		}
	}
	if (e != 0) {
		rw_zoneset_unref(zs);
		return e;
	}
	*out = zs;
	return 0;
}
