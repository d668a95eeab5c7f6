/* The worst parse costs we can build (issue 11): 64 KB messages made to
 * be expensive -- pointer chains (8,000 deep, and as deep as allowed), as
 * many records as fit, as many names as fit (one shared name, each name in
 * a new place, each name to be copied, each a new 253-byte name), as many
 * records as fit of each rdata shape (A, MX, SOA, SRV, one TXT of empty
 * strings), the longest names, a query full of EDNS options, and a usual
 * query for scale -- each parsed N times. Prints, per message: its size, the parse result and
 * the time per parse (the best of 5 rounds). tools/bench runs it, and runs
 * each message under callgrind for instruction counts, which do not depend
 * on the machine's noise.
 *
 *   parse_cost [N [MESSAGE]]    N parses per round (default 200) */
#include "rootwalk/arena.h"
#include "rootwalk/msg.h"
#include "rootwalk/name.h"
#include "rootwalk/wire.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX 65535

/* A record's type, class IN, TTL and RDLENGTH at p (10 bytes). */
static void fixed(uint8_t *p, uint16_t type, uint32_t ttl, uint16_t rdlen)
{
	rw_put16(p, type);
	rw_put16(p + 2, 1);
	rw_put32(p + 4, ttl);
	rw_put16(p + 8, rdlen);
}

static size_t header(uint8_t *p, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ar)
{
	memset(p, 0, 12);
	rw_put16(p, 0x1234);
	rw_put16(p + 2, flags);
	rw_put16(p + 4, qd);
	rw_put16(p + 6, an);
	rw_put16(p + 10, ar);
	/* the question "a." A IN */
	memcpy(p + 12, "\1a\0\0\1\0\1", 7);
	return 19;
}

/* A chain of backward pointers hidden in the rdata of a record of an
 * unknown type (opaque: never parsed as names), then records whose owner
 * points at the chain's end. depth: pointers in the chain. */
static size_t chain_msg(uint8_t *p, size_t depth)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	rw_put16(p + n, 0xC00C);
	fixed(p + n + 2, 0xFF00, 0, (uint16_t)(2 * depth));
	n += 12;
	size_t prev = 12;
	for (size_t i = 0; i < depth; i++) {
		rw_put16(p + n, (uint16_t)(0xC000 | prev));
		prev = n;
		n += 2;
	}
	uint16_t an = 1;
	while (n + 12 <= MAX) {
		rw_put16(p + n, (uint16_t)(0xC000 | prev));
		fixed(p + n + 2, 0xFF00, 0, 0);
		n += 12;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* The attack: 8,000 pointers deep; every owner would walk them all. */
static size_t chains(uint8_t *p)
{
	return chain_msg(p, 8000);
}

/* Chains as deep as a name may follow (15 + the owner's own pointer):
 * records until the message's pointer budget runs out. */
static size_t chains16(uint8_t *p)
{
	return chain_msg(p, RW_NAME_PTRS_MAX - 1);
}

/* As many records as fit: a compressed owner, an unknown type, no rdata. */
static size_t records(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	uint16_t an = 0;
	while (n + 12 <= MAX) {
		rw_put16(p + n, 0xC00C);
		fixed(p + n + 2, 0xFF00, 0, 0);
		n += 12;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* As many names as fit: NS records, owner and target both compressed. */
static size_t names(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	uint16_t an = 0;
	while (n + 14 <= MAX) {
		rw_put16(p + n, 0xC00C);
		fixed(p + n + 2, 2, 300, 2);
		rw_put16(p + n + 12, 0xC00C);
		n += 14;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* Names that no shortcut can share: each owner points at the name in the
 * rdata of the record before it (a new place every time), each rdata a
 * short uncompressed name of its own. */
static size_t distinct_names(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	size_t prev = 12;
	uint16_t an = 0;
	while (n + 15 <= MAX) {
		rw_put16(p + n, (uint16_t)(0xC000 | prev));
		fixed(p + n + 2, 12, 300, 3); /* PTR: its rdata is a name */
		p[n + 12] = 1;
		p[n + 13] = (uint8_t)('a' + an % 26);
		p[n + 14] = 0;
		prev = n + 12;
		n += 15;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* The longest names, each different, at 4 bytes a name: a 253-byte name
 * once, then owners of one label of their own and a pointer to the long
 * name's second label, records with no rdata. */
static size_t long_suffix(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	size_t first = n;
	for (int i = 0; i < 126; i++)
		p[n + 2 * i] = 1, p[n + 2 * i + 1] = 'x';
	p[n + 252] = 0;
	n += 253;
	fixed(p + n, 0xFF00, 0, 0);
	n += 10;
	uint16_t an = 1;
	while (n + 15 <= MAX) {
		p[n] = 1;
		p[n + 1] = (uint8_t)('a' + an % 26);
		rw_put16(p + n + 2, (uint16_t)(0xC000 | (first + 2)));
		fixed(p + n + 4, 0xFF00, 0, 0);
		n += 14;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* Names that must each be copied: a label of their own, then a pointer
 * to the question (the shape of most compressed names), no rdata. */
static size_t prefixed(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	uint16_t an = 0;
	while (n + 14 <= MAX) {
		p[n] = 1;
		p[n + 1] = (uint8_t)('a' + an % 26);
		rw_put16(p + n + 2, 0xC00C);
		fixed(p + n + 4, 0xFF00, 0, 0);
		n += 14;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* Rdata whose names are decoded with its fields: MX records, owner and
 * exchange both pointers to the question. */
static size_t mx(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	uint16_t an = 0;
	while (n + 16 <= MAX) {
		rw_put16(p + n, 0xC00C);
		fixed(p + n + 2, 15, 300, 4);
		rw_put16(p + n + 12, an);
		rw_put16(p + n + 14, 0xC00C);
		n += 16;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* Records of a type whose rdata is checked field by field: A. */
static size_t a_records(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	uint16_t an = 0;
	while (n + 16 <= MAX) {
		rw_put16(p + n, 0xC00C);
		fixed(p + n + 2, 1, 300, 4);
		rw_put32(p + n + 12, 0xC0000201);
		n += 16;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* MX records whose exchange is a label of its own and a pointer to the
 * question: a name copied and the rdata laid out, every record. */
static size_t mx_prefixed(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	uint16_t an = 0;
	while (n + 18 <= MAX) {
		rw_put16(p + n, 0xC00C);
		fixed(p + n + 2, 15, 300, 6);
		rw_put16(p + n + 12, an);
		p[n + 14] = 1;
		p[n + 15] = (uint8_t)('a' + an % 26);
		rw_put16(p + n + 16, 0xC00C);
		n += 18;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* SOA records, both names pointers to the question. */
static size_t soa(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	uint16_t an = 0;
	while (n + 36 <= MAX) {
		rw_put16(p + n, 0xC00C);
		fixed(p + n + 2, 6, 300, 24);
		rw_put16(p + n + 12, 0xC00C);
		rw_put16(p + n + 14, 0xC00C);
		memset(p + n + 16, 0, 20);
		n += 36;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* SRV records: three numbers and a target, a pointer to the question. */
static size_t srv(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	uint16_t an = 0;
	while (n + 20 <= MAX) {
		rw_put16(p + n, 0xC00C);
		fixed(p + n + 2, 33, 300, 8);
		memset(p + n + 12, 0, 6);
		rw_put16(p + n + 18, 0xC00C);
		n += 20;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* One TXT record of the most strings that fit: every one empty. */
static size_t txt(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 1, 0);
	rw_put16(p + n, 0xC00C);
	size_t rdl = MAX - n - 12;
	fixed(p + n + 2, 16, 300, (uint16_t)rdl);
	memset(p + n + 12, 0, rdl);
	return n + 12 + rdl;
}

/* The longest names, uncompressed: 127 one-byte labels each. */
static size_t long_names(uint8_t *p)
{
	size_t n = header(p, 0x8180, 1, 0, 0);
	uint16_t an = 0;
	while (n + 255 + 10 <= MAX) {
		for (int i = 0; i < 127; i++)
			p[n + 2 * i] = 1, p[n + 2 * i + 1] = 'x';
		p[n + 254] = 0;
		n += 255;
		fixed(p + n, 0xFF00, 0, 0);
		n += 10;
		an++;
	}
	rw_put16(p + 6, an);
	return n;
}

/* A usual query, for scale: www.example.com A with an empty OPT. */
static size_t usual_query(uint8_t *p)
{
	memset(p, 0, 12);
	rw_put16(p, 0x1234);
	rw_put16(p + 2, 0x0100);
	rw_put16(p + 4, 1);
	rw_put16(p + 10, 1);
	memcpy(p + 12, "\3www\7example\3com\0\0\1\0\1", 21);
	size_t n = 33;
	p[n] = 0;
	rw_put16(p + n + 1, 41);
	rw_put16(p + n + 3, 1232);
	memset(p + n + 5, 0, 6);
	return n + 11;
}

/* A query whose OPT record holds as many empty options as fit. */
static size_t query_options(uint8_t *p)
{
	size_t n = header(p, 0x0100, 1, 0, 1);
	p[n] = 0;
	rw_put16(p + n + 1, 41);
	rw_put16(p + n + 3, 1232);
	memset(p + n + 5, 0, 4);
	size_t rdl = (MAX - n - 11) / 4 * 4;
	rw_put16(p + n + 9, (uint16_t)rdl);
	n += 11;
	for (size_t i = 0; i < rdl; i += 4) {
		rw_put16(p + n + i, 65001);
		rw_put16(p + n + i + 2, 0);
	}
	return n + rdl;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 200;
	const char *only = argc > 2 ? argv[2] : NULL;
	static const struct {
		const char *name;
		size_t (*build)(uint8_t *);
	} msgs[] = {{"chains", chains},
	            {"chains16", chains16},
	            {"records", records},
	            {"names", names},
	            {"distinct_names", distinct_names},
	            {"prefixed", prefixed},
	            {"a", a_records},
	            {"mx", mx},
	            {"mx_prefixed", mx_prefixed},
	            {"soa", soa},
	            {"srv", srv},
	            {"txt", txt},
	            {"long_names", long_names},
	            {"long_suffix", long_suffix},
	            {"query_options", query_options},
	            {"usual_query", usual_query}};
	static uint8_t pkt[MAX];
	struct rw_arena a;
	rw_arena_init(&a, 64 * 1024, 64u << 20);
	for (size_t k = 0; k < sizeof msgs / sizeof msgs[0]; k++) {
		if (only != NULL && strcmp(only, msgs[k].name) != 0)
			continue;
		size_t len = msgs[k].build(pkt);
		struct rw_msg m;
		uint64_t best = UINT64_MAX;
		int rc = 0;
		for (int round = 0; round < 5; round++) {
			uint64_t t0 = now_ns();
			for (int i = 0; i < iters; i++) {
				rw_arena_reset(&a);
				rc = rw_msg_parse(pkt, len, &a, &m);
			}
			uint64_t t = (now_ns() - t0) / (uint64_t)iters;
			if (t < best)
				best = t;
		}
		printf("%-14s %6zu bytes %5u records  %-9s %8.2f us/parse\n", msgs[k].name, len,
		       (unsigned)(m.nrr[0] + m.nrr[1] + m.nrr[2]), rc == 0 ? "parsed" : "rejected",
		       (double)best / 1000.0);
	}
	rw_arena_fini(&a);
	return 0;
}
