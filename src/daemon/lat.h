/* The latency histogram's buckets, shared by the client-query and the
 * per-forwarder series (daemon-internal). Bounds (µs): 50, 100, then
 * 250 x 2^k for k = 0..15 -- the last sixteen are CoreDNS's
 * (ExponentialBuckets(0.00025, 2, 16)), so one histogram serves both
 * families; the slot after the last bound counts the rest. */
#ifndef ROOTWALK_LAT_H
#define ROOTWALK_LAT_H

#include <stdint.h>
#include <uv.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#define LAT_BUCKETS 18

/* The clock latency is measured with (nanoseconds, monotonic, only ever
 * subtracted). On x86-64 with an invariant TSC (constant_tsc and
 * nonstop_tsc: every CPU since about 2008), the TSC scaled by a factor
 * lat_calibrate() measured against CLOCK_MONOTONIC: one instruction and a
 * multiply, where clock_gettime's vDSO path is some 60 instructions and
 * every reply took two (+5% of a local answer's instructions). Elsewhere,
 * uv_hrtime(). */
extern uint64_t lat_tsc_mult; /* ns per tick << 32; 0: use uv_hrtime */
void lat_calibrate(void);

static inline uint64_t lat_now(void)
{
#if defined(__x86_64__)
	if (lat_tsc_mult != 0)
		return (uint64_t)(((unsigned __int128)__rdtsc() * lat_tsc_mult) >> 32);
#endif
	return uv_hrtime();
}

static inline unsigned lat_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	if (us <= 50)
		return 0;
	if (us <= 100)
		return 1;
	uint64_t q = (us - 1) / 250; /* 0: up to 250 µs; bit length k: up to 250 x 2^k */
	unsigned k = q == 0 ? 0 : 64u - (unsigned)__builtin_clzll(q);
	return k > 15 ? LAT_BUCKETS : 2 + k;
}

static inline double lat_bound_s(unsigned i)
{
	return i == 0 ? 50e-6 : i == 1 ? 100e-6 : 250e-6 * (double)(1u << (i - 2));
}

#endif
