/* How many CPUs this process may use: the CPU affinity mask, and the
 * cgroup CPU quota (v2 cpu.max, v1 cpu.cfs_quota_us / cpu.cfs_period_us)
 * of its cgroup and every cgroup above it, rounded up. A sidecar with a
 * 50m CPU limit on a 96-core node gets 1, not 96 (issue 13). */
#ifndef ROOTWALK_CPUS_H
#define ROOTWALK_CPUS_H

#include <stddef.h>

/* The CPUs to size for, at least 1. root: prefixed to /proc/self/... and
 * the cgroup mount points read from /proc/self/mountinfo ("" for this
 * system; tests give a folder laid out the same way). allowed: CPUs in the
 * affinity mask (0: ask the kernel). Writes how it decided into why
 * ("2 CPUs allowed, cgroup quota 0.50 CPU"). */
unsigned rw_cpu_budget(const char *root, unsigned allowed, char *why, size_t why_len);

#endif
