/* Fuzz target (libFuzzer entry point): message parsing, the whole query
 * path over UDP and TCP, and parse -> build -> parse round trips. Any
 * crash, sanitizer report or broken invariant aborts. The seed corpus in
 * tests/fuzz/corpus/msg runs in every test run through run_corpus.c. */
#include "rootwalk/cache.h"
#include "rootwalk/forward.h"
#include "rootwalk/msg.h"
#include "rootwalk/query.h"
#include "rootwalk/iter.h"
#include "rootwalk/rr.h"
#include "rootwalk/zone.h"
#include "fuzz_res.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rw_zoneset *zones(void)
{
	static struct rw_zoneset *zs;
	if (zs != NULL)
		return zs;
	static const char text[] = "$TTL 300\n@ SOA ns hm 1 2 3 4 60\n@ NS ns\nns A 192.0.2.1\n"
	                           "www A 192.0.2.2\nalias CNAME www\n*.w TXT \"x\"\nm MX 1 www\n";
	static const uint8_t origin[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
	struct rw_zone *z;
	struct rw_zone_error err;
	if (rw_zone_load_text("fuzz", text, sizeof text - 1, origin, &z, &err) != 0)
		abort();
	zs = rw_zoneset_new();
	rw_zoneset_add(zs, z);
	return zs;
}

static uint64_t fuzz_clock(void *ctx)
{
	return ++*(uint64_t *)ctx;
}

/* The resolver gets the input as the reply to its first query (for the
 * input's own question, so the question check passes), then timeouts for
 * whatever it asks next; it must end within its limits and never crash. */
static void fuzz_resolver(const uint8_t *data, size_t size)
{
	static uint64_t now;
	struct rw_arena a;
	rw_arena_init(&a, 4096, 1 << 20);
	struct rw_msg m;
	const uint8_t *qname = (const uint8_t *)"\3www\7example\0";
	uint16_t qtype = 1;
	if (rw_msg_parse(data, size, &a, &m) == 0 && m.qdcount == 1) {
		qname = m.qname;
		qtype = m.qtype;
	}
	struct rw_cache_stats cst;
	struct rw_res_stats rst = {0};
	struct rw_res_env env;
	fuzz_res_env(&env, &cst, fuzz_clock, &now);
	struct rw_res *r = env.cache && env.infra ? rw_res_new(&env, &rst, qname, qtype, 1) : NULL;
	if (r != NULL) {
		struct rw_res_query q;
		/* priming comes first: answer it with the input too */
		enum rw_res_step st;
		for (int i = 0; i < 200 && (st = rw_res_next(r, &q)) != RW_RES_DONE; i++) {
			if (st == RW_RES_SEND && i < 2 && size >= 12) {
				uint8_t *copy = malloc(size);
				if (copy == NULL)
					abort();
				memcpy(copy, data, size);
				memcpy(copy + 12, q.buf + 12,
				       q.len > 12 && size > q.len ? q.len - 12 : 0);
				if (!rw_res_reply(r, copy, size))
					rw_res_timeout(r);
				free(copy);
			} else {
				rw_res_timeout(r);
			}
		}
		/* Done or not (the loop may stop first), the resolver is freed
		 * cleanly; a finished one hands over a consistent answer. */
		if (rw_res_state(r) == RW_ITER_FINISHED) {
			struct rw_answer *ans = rw_res_take_answer(r);
			if (ans != NULL && ans->rcode != RW_RCODE_SERVFAIL && ans->ede.text != NULL)
				abort();
			rw_answer_unref(ans);
		}
		rw_res_free(r);
	}
	fuzz_res_env_fini(&env);
	rw_arena_fini(&a);
}

/* The names of a message read one by one without the parse's memo (the
 * plain walk of RFC 1035 §4.1.4): what the memo gives must be the same.
 * Returns 0 when every name reads and equals what m holds, 1 when a name
 * does not read, and aborts when names differ. */
static int plain_names(const uint8_t *data, size_t size, const struct rw_msg *m)
{
	struct rw_rbuf r;
	rw_rbuf_init(&r, data, size);
	r.ptrs_left = SIZE_MAX; /* the memo follows fewer pointers */
	r.pos = RW_HEADER_LEN;
	uint8_t name[RW_NAME_MAX];
	size_t nl;
	if (size < RW_HEADER_LEN)
		return 1;
	if (rw_get16(data + 4) == 1 && (rw_name_read(&r, name, &nl) != 0 || (r.pos += 4) > size))
		return 1;
	uint16_t kept[3] = {0, 0, 0};
	for (int s = 0; s < 3; s++)
		for (uint16_t i = 0; i < rw_get16(data + 6 + 2 * s); i++) {
			if (rw_name_read(&r, name, &nl) != 0 || size - r.pos < 10)
				return 1;
			uint16_t type = rw_get16(data + r.pos), rdlen = rw_get16(data + r.pos + 8);
			r.pos += 10;
			if (size - r.pos < rdlen)
				return 1;
			if (type == RW_TYPE_OPT) {
				r.pos += rdlen;
				continue;
			}
			if (kept[s] >= m->nrr[s] || memcmp(m->rr[s][kept[s]].owner, name, nl) != 0)
				abort();
			if (rw_rdata_is_name(type)) {
				struct rw_rbuf in = r;
				in.len = r.pos + rdlen;
				if (rw_name_read(&in, name, &nl) != 0 || in.pos != in.len)
					return 1;
				if (m->rr[s][kept[s]].rdlen != nl ||
				    memcmp(m->rr[s][kept[s]].rdata, name, nl) != 0)
					abort();
			}
			r.pos += rdlen;
			kept[s]++;
		}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_resolver(data, size);
	{
		/* The memo changes what names cost, never what they are. */
		struct rw_arena a;
		rw_arena_init(&a, 4096, 1 << 20);
		struct rw_msg pm;
		if (rw_msg_parse(data, size, &a, &pm) == 0 && plain_names(data, size, &pm) != 0)
			abort(); /* parsed, yet a name does not read plainly */
		rw_arena_fini(&a);
	}
	static uint8_t out[65536], again[65536];
	struct rw_arena arena;
	rw_arena_init(&arena, 4096, 1 << 20);
	struct rw_msg m;
	if (rw_msg_parse(data, size, &arena, &m) == 0) {
		/* Rebuild every record; the result must parse to the same
		 * records (names and rdata are canonical). */
		struct rw_builder b;
		rw_builder_init(&b, again, sizeof again, m.id, m.flags);
		if (m.qdcount == 1)
			rw_builder_question(&b, m.qname, m.qtype, m.qclass);
		size_t added[3] = {0, 0, 0};
		for (int s = 0; s < 3; s++)
			for (uint16_t i = 0; i < m.nrr[s]; i++) {
				const struct rw_rr *rr = &m.rr[s][i];
				if (rw_builder_rr(&b, (enum rw_section)s, rr->owner, rr->type,
				                  rr->rclass, rr->ttl, rr->rdata, rr->rdlen) == 0)
					added[s]++;
			}
		size_t len = rw_builder_finish(&b);
		struct rw_msg m2;
		if (rw_msg_parse(again, len, &arena, &m2) != 0)
			abort();
		for (int s = 0; s < 3; s++) {
			if (m2.nrr[s] != added[s])
				abort();
			for (size_t i = 0; i < added[s]; i++) {
				const struct rw_rr *x = &m.rr[s][i], *y = &m2.rr[s][i];
				if (x->type != y->type || x->rdlen != y->rdlen ||
				    memcmp(x->rdata, y->rdata, x->rdlen) != 0 ||
				    memcmp(x->owner, y->owner, rw_name_len(x->owner)) != 0)
					abort();
			}
		}
		/* Printing never fails on parsed data. */
		char line[70000];
		for (uint16_t i = 0; i < m.nrr[0]; i++) {
			const struct rw_rr *rr = &m.rr[0][i];
			if (rw_rr_to_text(rr->owner, rr->type, rr->rclass, rr->ttl, rr->rdata,
			                  rr->rdlen, line, sizeof line) < 0)
				abort();
		}
	}
	rw_arena_fini(&arena);

	/* The query path: a reply, when there is one, must parse and must
	 * fit the transport's limit. */
	struct rw_query_env env;
	rw_query_env_init(&env, zones(), 1232);
	for (int t = 0; t < 2; t++) {
		size_t len = 0;
		if (rw_query_process(&env, data, size, (enum rw_transport)t, out, sizeof out,
		                     &len) == RW_QUERY_REPLY) {
			struct rw_arena a2;
			rw_arena_init(&a2, 4096, 1 << 20);
			struct rw_msg r;
			if (rw_msg_parse(out, len, &a2, &r) != 0 || !(r.flags & RW_FLAG_QR))
				abort();
			if (t == RW_TRANSPORT_UDP && len > 1232)
				abort();
			if (memcmp(out, data, 2) != 0) /* same ID */
				abort();
			rw_arena_fini(&a2);
		}
	}
	/* The forwarding path: the input as an upstream reply to its own
	 * question (so the checks pass and the caching code runs), then the
	 * client's reply built from it, which must parse and fit 512 bytes. */
	if (size >= RW_HEADER_LEN + 5) {
		struct rw_cache_config cc;
		rw_cache_config_default(&cc);
		cc.limit_bytes = 256 * 1024;
		env.cache = rw_cache_new(&cc);
		struct rw_arena a3;
		rw_arena_init(&a3, 4096, 1 << 20);
		struct rw_msg up;
		if (env.cache != NULL && rw_msg_parse(data, size, &a3, &up) == 0 &&
		    up.qdcount == 1) {
			struct rw_request req = {.route = RW_ROUTE_FORWARD,
			                         .id = 0x5151,
			                         .flags = RW_FLAG_RD,
			                         .qtype = up.qtype,
			                         .qclass = up.qclass,
			                         .udp_limit = 512,
			                         .transport = RW_TRANSPORT_UDP,
			                         .qname_len = (uint8_t)up.qname_len};
			memcpy(req.qname, up.qname, up.qname_len);
			struct rw_question f;
			rw_request_question(&req, &f);
			struct rw_answer *ans = NULL;
			if (rw_forward_accept(&env, &f, data, size, &ans) != 0 && ans != NULL)
				abort();
			size_t len = 0;
			enum rw_query_result qr =
			    rw_query_finish(&env, &req, ans, out, sizeof out, &len);
			if (qr == RW_QUERY_REPLY) {
				struct rw_msg r;
				if (rw_msg_parse(out, len, &a3, &r) != 0 || len > 512 ||
				    r.id != 0x5151)
					abort();
			}
			/* A client that set DO: the signatures and proofs too,
			 * from this answer and then from the cache. */
			req.edns = req.do_bit = true;
			req.udp_limit = 1232;
			qr = rw_query_finish(&env, &req, ans, out, sizeof out, &len);
			rw_answer_unref(ans);
			struct rw_msg r;
			if (qr == RW_QUERY_REPLY &&
			    (rw_msg_parse(out, len, &a3, &r) != 0 || len > 1232 || !r.edns.do_bit))
				abort();
			struct rw_builder b;
			uint8_t q[600];
			rw_builder_init(&b, q, sizeof q, 0x5252, RW_FLAG_RD);
			if (rw_builder_question(&b, up.qname, up.qtype, up.qclass) == 0 &&
			    rw_builder_opt(&b, 1232, 0, true, NULL, 0) == 0) {
				size_t ql = rw_builder_finish(&b);
				qr = rw_query_process(&env, q, ql, RW_TRANSPORT_UDP, out,
				                      sizeof out, &len);
				if (qr == RW_QUERY_REPLY && (rw_msg_parse(out, len, &a3, &r) != 0 ||
				                             len > 1232 || r.id != 0x5252))
					abort();
			}
		}
		rw_arena_fini(&a3);
		rw_cache_free(env.cache);
		env.cache = NULL;
	}
	rw_query_env_fini(&env);
	return 0;
}
