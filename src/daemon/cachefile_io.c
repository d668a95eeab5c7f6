/* The cache file on disk (issue 12): read at start and on `control
 * load-cache FILE`, written at a clean exit and on `control dump-cache
 * FILE`. The format and its checks are the cache layer's
 * (rootwalk/cachefile.h); this file only moves bytes, atomically: the new
 * file is written beside the old one, synced, and renamed over it, so a
 * crash leaves the old file or the new one, never half of one. */
#include "daemon_int.h"
#include "rootwalk/cachefile.h"
#include "rootwalk/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int rw__cache_save(struct rw_server *s, const char *path, char *msg, size_t msg_len)
{
	struct rw_buf b = {0};
	struct rw_arena a;
	rw_arena_init(&a, 64 * 1024, 1u << 24);
	size_t n = rw_cachefile_write(s->cache, &a, wall_ms(), &b);
	rw_arena_fini(&a);
	char tmp[4200];
	int fd = -1, rc = RW_EIO;
	if (b.failed) {
		snprintf(msg, msg_len, "%s: out of memory", path);
		rc = RW_ENOMEM;
		goto out;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(msg, msg_len, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t off = 0; off < b.len;) {
		ssize_t w = write(fd, b.p + off, b.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(msg, msg_len, "%s: %s", tmp, strerror(errno));
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		snprintf(msg, msg_len, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		snprintf(msg, msg_len, "%s: %s", path, strerror(errno));
		goto out;
	}
	snprintf(msg, msg_len, "wrote %zu entries (%zu bytes) to %s", n, b.len, path);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc != 0)
		unlink(tmp);
	free(b.p);
	return rc;
}

int rw__cache_load(struct rw_server *s, const char *path, char *msg, size_t msg_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(msg, msg_len, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? RW_ENOTFOUND : RW_EIO;
	}
	struct stat st;
	/* A cache file holds about what the cache does: more is not ours. */
	size_t max = s->cfg->cache_size * 4 + (1u << 20);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		snprintf(msg, msg_len, "%s: not a regular file of at most %zu bytes", path, max);
		close(fd);
		return RW_EMALFORMED;
	}
	size_t len = (size_t)st.st_size, got = 0;
	uint8_t *buf = malloc(len + 1);
	while (buf != NULL && got < len) {
		ssize_t r = read(fd, buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (buf == NULL || got != len) {
		snprintf(msg, msg_len, "%s: could not read it", path);
		free(buf);
		return RW_EIO;
	}
	struct rw_arena a;
	rw_arena_init(&a, 64 * 1024, 1u << 24);
	struct rw_cachefile_result res;
	const char *why = NULL;
	int rc = rw_cachefile_read(s->cache, buf, len, wall_ms(), &a, &res, &why);
	rw_arena_fini(&a);
	free(buf);
	if (rc != 0)
		snprintf(msg, msg_len, "%s: %s; nothing loaded", path, why);
	else
		snprintf(msg, msg_len,
		         "loaded %zu entries from %s (dropped: %zu expired, %zu malformed, %zu "
		         "refused)",
		         res.loaded, path, res.expired, res.malformed, res.refused);
	return rc;
}
