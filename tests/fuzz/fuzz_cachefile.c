/* Fuzz target: the cache file reader (src/cache/cachefile.c). Whatever
 * the bytes, it refuses the file or loads what parses, never crashes; what
 * it loaded writes out and reads back whole (the writer and the reader
 * agree). Half the inputs get their checksum recomputed first, so that the
 * fuzzer reaches the records behind it. */
#include "rootwalk/cachefile.h"
#include "rootwalk/wire.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

static struct rw_cache *fresh(void)
{
	struct rw_cache_config cfg;
	rw_cache_config_default(&cfg);
	cfg.limit_bytes = 4u << 20;
	return rw_cache_new(&cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint64_t wall = 1700000000000ull;
	uint8_t *buf = malloc(size + 1);
	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	if (size >= 40 && (data[size - 1] & 1)) {
		uint64_t h = fnv1a(buf, size - 8);
		rw_put32(buf + size - 8, (uint32_t)(h >> 32));
		rw_put32(buf + size - 4, (uint32_t)h);
	}
	struct rw_arena a;
	rw_arena_init(&a, 4096, 1u << 24);
	struct rw_cache *c = fresh();
	struct rw_cachefile_result res;
	const char *why = NULL;
	int rc = rw_cachefile_read(c, buf, size, wall, &a, &res, &why);
	if (rc != 0 && (why == NULL || rw_cache_entries(c) != 0))
		abort(); /* refused: with a reason, and nothing loaded */
	if (rc == 0) {
		struct rw_buf out = {0};
		size_t n = rw_cachefile_write(c, &a, wall, &out);
		struct rw_cache *c2 = fresh();
		struct rw_cachefile_result res2;
		if (out.failed ||
		    rw_cachefile_read(c2, (const uint8_t *)out.p, out.len, wall, &a, &res2, &why) !=
		        0 ||
		    res2.loaded != n || res2.malformed != 0)
			abort(); /* what was written must read back whole */
		rw_cache_free(c2);
		free(out.p);
	}
	rw_cache_free(c);
	rw_arena_fini(&a);
	free(buf);
	return 0;
}
