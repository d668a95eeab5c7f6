/* The resolver's world for the fuzz targets that drive it (fuzz_msg,
 * fuzz_iter): one root hint on loopback (127.53.0.1, never contacted: the
 * targets feed replies themselves), a small cache and infra table, the
 * default limits, and a clock the caller advances. */
#ifndef ROOTWALK_FUZZ_RES_H
#define ROOTWALK_FUZZ_RES_H

#include "rootwalk/cache.h"
#include "rootwalk/hints.h"
#include "rootwalk/infra.h"
#include "rootwalk/iter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const struct rw_hints *fuzz_hints(void)
{
	static struct rw_hints hints;
	if (hints.nns == 0) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&hints.ns[0].addr[0];
		s4->sin_family = AF_INET;
		s4->sin_port = htons(53);
		s4->sin_addr.s_addr = htonl(0x7f350001); /* 127.53.0.1 */
		hints.ns[0].naddr = 1;
		hints.nns = 1;
	}
	return &hints;
}

/* Fills env; its cache or infra is NULL when out of memory. */
static void fuzz_res_env(struct rw_res_env *env, struct rw_cache_stats *cst,
                         uint64_t (*clock)(void *), uint64_t *now)
{
	struct rw_cache_config cc;
	rw_cache_config_default(&cc);
	cc.limit_bytes = 256 * 1024;
	memset(env, 0, sizeof *env);
	memset(cst, 0, sizeof *cst);
	env->cache = rw_cache_new(&cc);
	env->cache_stats = cst;
	env->infra = rw_infra_new(64);
	env->hints = fuzz_hints();
	env->query_loopback = true;
	env->edns_size = 1232;
	env->clock = clock;
	env->clock_ctx = now;
	rw_res_limits_default(&env->lim);
}

static void fuzz_res_env_fini(struct rw_res_env *env)
{
	rw_cache_free(env->cache);
	rw_infra_free(env->infra);
}

#endif
