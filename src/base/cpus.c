/* CPUs this process may use; see include/base/rootwalk/cpus.h. */
#include "rootwalk/cpus.h"

#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool read_line(const char *root, const char *path, char *buf, size_t len)
{
	char full[4096];
	if ((size_t)snprintf(full, sizeof full, "%s%s", root, path) >= sizeof full)
		return false;
	FILE *f = fopen(full, "re");
	if (f == NULL)
		return false;
	bool ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	return ok;
}

/* The mount point of the cgroup v2 hierarchy (v2) or of v1's cpu
 * controller, from /proc/self/mountinfo; "" when there is none. Fields:
 * id parent major:minor root mountpoint options ... - fstype source
 * superoptions. */
static void mount_of(const char *root, bool v2, char *out, size_t len)
{
	out[0] = 0;
	char path[4096];
	snprintf(path, sizeof path, "%s/proc/self/mountinfo", root);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return;
	char line[4096];
	/* Bound: the lines of the file. */
	while (fgets(line, sizeof line, f) != NULL) {
		char mnt[1024], fstype[64], super[1024];
		const char *dash = strstr(line, " - ");
		if (dash == NULL || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		bool cpu = false;
		char *save = NULL;
		for (char *t = strtok_r(super, ",", &save); t != NULL;
		     t = strtok_r(NULL, ",", &save))
			cpu |= strcmp(t, "cpu") == 0;
		if ((v2 && strcmp(fstype, "cgroup2") == 0) ||
		    (!v2 && strcmp(fstype, "cgroup") == 0 && cpu)) {
			snprintf(out, len, "%s", mnt);
			break;
		}
	}
	fclose(f);
}

/* This process's cgroup path in the v2 hierarchy (v2) or in the v1 cpu
 * controller's, from /proc/self/cgroup ("0::/a/b", "4:cpu,cpuacct:/a"). */
static bool cgroup_of(const char *root, bool v2, char *out, size_t len)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/proc/self/cgroup", root);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return false;
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = 0;
		char *c1 = strchr(line, ':'), *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
		if (c2 == NULL)
			continue;
		*c1 = *c2 = 0; /* line: the hierarchy's number; ctl: its controllers */
		const char *ctl = c1 + 1;
		bool cpu = false;
		char *save = NULL;
		for (char *t = strtok_r(c1 + 1, ",", &save); t != NULL;
		     t = strtok_r(NULL, ",", &save))
			cpu |= strcmp(t, "cpu") == 0;
		if ((v2 && strcmp(line, "0") == 0 && ctl[0] == 0) || (!v2 && cpu)) {
			snprintf(out, len, "%s", c2 + 1);
			found = true;
		}
	}
	fclose(f);
	return found;
}

/* The quota of one cgroup folder in CPUs (0: none). */
static double quota_at(const char *root, const char *dir, bool v2)
{
	char path[4096], buf[128];
	if (v2) {
		if ((size_t)snprintf(path, sizeof path, "%s/cpu.max", dir) >= sizeof path)
			return 0;
		long long q, p;
		if (!read_line(root, path, buf, sizeof buf) || strncmp(buf, "max", 3) == 0 ||
		    sscanf(buf, "%lld %lld", &q, &p) != 2 || q <= 0 || p <= 0)
			return 0;
		return (double)q / (double)p;
	}
	long long q, p;
	if ((size_t)snprintf(path, sizeof path, "%s/cpu.cfs_quota_us", dir) >= sizeof path)
		return 0;
	if (!read_line(root, path, buf, sizeof buf) || sscanf(buf, "%lld", &q) != 1 || q <= 0)
		return 0;
	if ((size_t)snprintf(path, sizeof path, "%s/cpu.cfs_period_us", dir) >= sizeof path)
		return 0;
	if (!read_line(root, path, buf, sizeof buf) || sscanf(buf, "%lld", &p) != 1 || p <= 0)
		return 0;
	return (double)q / (double)p;
}

/* The smallest quota on the way from this process's cgroup to the root of
 * the hierarchy (0: none). */
static double cgroup_quota(const char *root, bool v2)
{
	char mnt[1024], cg[2048];
	mount_of(root, v2, mnt, sizeof mnt);
	if (mnt[0] == 0 || !cgroup_of(root, v2, cg, sizeof cg))
		return 0;
	double best = 0;
	/* Bound: one step per folder of the path. */
	for (;;) {
		char dir[3200];
		snprintf(dir, sizeof dir, "%s%s", mnt, strcmp(cg, "/") == 0 ? "" : cg);
		double q = quota_at(root, dir, v2);
		if (q > 0 && (best == 0 || q < best))
			best = q;
		char *slash = strrchr(cg, '/');
		if (slash == NULL || strcmp(cg, "/") == 0)
			break;
		if (slash == cg)
			cg[1] = 0;
		else
			*slash = 0;
	}
	return best;
}

unsigned rw_cpu_budget(const char *root, unsigned allowed, char *why, size_t why_len)
{
	if (allowed == 0) {
		cpu_set_t set;
		if (sched_getaffinity(0, sizeof set, &set) == 0)
			allowed = (unsigned)CPU_COUNT(&set);
		if (allowed == 0) {
			long n = sysconf(_SC_NPROCESSORS_ONLN);
			allowed = n > 0 ? (unsigned)n : 1;
		}
	}
	double q = cgroup_quota(root, true);
	if (q == 0)
		q = cgroup_quota(root, false);
	unsigned n = allowed;
	if (q > 0) {
		unsigned qn = (unsigned)q;
		if ((double)qn < q)
			qn++; /* rounded up: 0.5 CPU is one worker */
		if (qn < n)
			n = qn;
	}
	if (n == 0)
		n = 1;
	if (q > 0)
		snprintf(why, why_len, "%u CPU%s allowed, cgroup quota %.2f CPU", allowed,
		         allowed == 1 ? "" : "s", q);
	else
		snprintf(why, why_len, "%u CPU%s allowed, no cgroup quota", allowed,
		         allowed == 1 ? "" : "s");
	return n;
}
