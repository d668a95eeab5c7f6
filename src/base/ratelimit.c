/* Token buckets per client; see include/base/rootwalk/ratelimit.h. */
#include "rootwalk/ratelimit.h"

#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define RL_SLOTS 4096

struct rl_slot {
	uint8_t key[8];
	uint8_t used, slip;
	uint32_t tokens_milli; /* thousandths of a response */
	uint64_t last_ms;
};

struct rw_ratelimit {
	uint32_t rate;
	struct rl_slot slot[RL_SLOTS];
};

struct rw_ratelimit *rw_ratelimit_new(uint32_t rate)
{
	struct rw_ratelimit *rl = calloc(1, sizeof *rl);
	if (rl != NULL)
		rl->rate = rate;
	return rl;
}

void rw_ratelimit_free(struct rw_ratelimit *rl)
{
	free(rl);
}

enum rw_rl_verdict rw_ratelimit_check(struct rw_ratelimit *rl, const struct sockaddr *sa,
                                      uint64_t now)
{
	uint8_t key[8] = {0};
	if (sa->sa_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else {
		key[0] = 6; /* the /56 */
		memcpy(key + 1, ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr, 7);
	}
	uint32_t hsh = 2166136261u; /* FNV-1a */
	for (int i = 0; i < 8; i++)
		hsh = (hsh ^ key[i]) * 16777619u;
	struct rl_slot *sl = &rl->slot[hsh % RL_SLOTS];
	uint64_t burst = (uint64_t)rl->rate * 1000;
	if (!sl->used || memcmp(sl->key, key, 8) != 0) {
		memcpy(sl->key, key, 8);
		sl->used = 1;
		sl->slip = 0;
		sl->tokens_milli = (uint32_t)(burst > UINT32_MAX ? UINT32_MAX : burst);
		sl->last_ms = now;
	} else if (now > sl->last_ms) {
		uint64_t t = sl->tokens_milli + (now - sl->last_ms) * rl->rate;
		sl->tokens_milli = (uint32_t)(t > burst ? burst : t);
		sl->last_ms = now;
	}
	if (sl->tokens_milli >= 1000) {
		sl->tokens_milli -= 1000;
		return RW_RL_PASS;
	}
	return (sl->slip++ & 1) == 0 ? RW_RL_SLIP : RW_RL_DROP;
}
