/* The latency histogram's buckets, shared by the client-query and the
 * per-forwarder series (daemon-internal). Bounds (µs): 50, 100, then
 * 250 x 2^k for k = 0..15 -- the last sixteen are CoreDNS's
 * (ExponentialBuckets(0.00025, 2, 16)), so one histogram serves both
 * families; the slot after the last bound counts the rest. */
#ifndef ROOTWALK_LAT_H
#define ROOTWALK_LAT_H

#include <stdint.h>

#define LAT_BUCKETS 18

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
