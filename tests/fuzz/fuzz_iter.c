/* Fuzz target: the iterator fed a stream of replies over many steps.
 * The input is a sequence of replies, each a 2-byte length and the bytes;
 * every query the resolver sends gets the next one, its ID and question
 * made to match the query (so the reply is taken and its body is what the
 * fuzzer controls: referrals, CNAMEs, glue, negative answers, truncation,
 * lameness...), and once the input runs out, timeouts. The resolution
 * must end within its limits, leak nothing and hand over a consistent
 * answer. */
#include "rootwalk/cache.h"
#include "rootwalk/infra.h"
#include "rootwalk/iter.h"
#include "rootwalk/msg.h"
#include "rootwalk/name.h"
#include "rootwalk/wire.h"
#include "fuzz_res.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fuzz_clock(void *ctx)
{
	return *(uint64_t *)ctx += 7;
}

/* The reply to q: the input's next reply with q's ID and question in
 * place of its own (when it has room for them), into buf. */
static size_t next_reply(const uint8_t **data, size_t *size, const struct rw_res_query *q,
                         uint8_t *buf, size_t cap)
{
	if (*size < 2)
		return 0;
	size_t n = (size_t)(*data)[0] << 8 | (*data)[1];
	if (n > *size - 2)
		n = *size - 2;
	if (n > cap)
		n = cap;
	memcpy(buf, *data + 2, n);
	*data += 2 + n;
	*size -= 2 + n;
	/* our queries' question: an uncompressed name, type and class */
	size_t ql = q->len > 12 ? rw_name_len(q->buf + 12) + 4 : 0;
	if (n >= 12 + ql && ql > 0) {
		memcpy(buf, q->buf, 2); /* the ID */
		buf[2] |= 0x80;         /* QR */
		rw_put16(buf + 4, 1);   /* one question */
		memcpy(buf + 12, q->buf + 12, ql);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t now = 1000;
	struct rw_cache_stats cst;
	struct rw_res_stats rst = {0};
	struct rw_res_env env;
	fuzz_res_env(&env, &cst, fuzz_clock, &now);
	env.ipv6 = true;
	env.qmin = size > 0 && (data[0] & 1);
	struct rw_res *r = env.cache != NULL && env.infra != NULL
	                       ? rw_res_new(&env, &rst, (const uint8_t *)"\3www\7example\0", 1, 1)
	                       : NULL;
	if (r != NULL) {
		static uint8_t buf[65535];
		struct rw_res_query q;
		enum rw_res_step st;
		/* Bound: the resolver's own limits end it; 1000 steps is far
		 * more than they allow. */
		int i = 0;
		for (; i < 1000 && (st = rw_res_next(r, &q)) != RW_RES_DONE; i++) {
			size_t n =
			    st == RW_RES_SEND ? next_reply(&data, &size, &q, buf, sizeof buf) : 0;
			if (n == 0 || !rw_res_reply(r, buf, n))
				rw_res_timeout(r);
		}
		if (i == 1000)
			abort(); /* the limits did not end it */
		struct rw_answer *ans = rw_res_take_answer(r);
		if (ans != NULL && ans->rcode != 2 && ans->ede.text != NULL)
			abort();
		rw_answer_unref(ans);
		rw_res_free(r);
	}
	fuzz_res_env_fini(&env);
	return 0;
}
