/* Autopath's search for the next search name (issue 13; see
 * include/resolve/rootwalk/query.h, autopath_zone): what the zone says of
 * the client and of the names a stub would try next. */
#include "query_int.h"
#include "rootwalk/zone.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

/* Writes a client address as one label, as pod names do: 10-0-1-5,
 * fd00--11. 0: not an address. */
static size_t dashed_label(const struct sockaddr *sa, char *out, size_t cap)
{
	char text[64];
	if (sa == NULL ||
	    (sa->sa_family == AF_INET &&
	     inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, text,
	               sizeof text) == NULL) ||
	    (sa->sa_family == AF_INET6 &&
	     inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, text,
	               sizeof text) == NULL) ||
	    (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return 0;
	size_t n = 0;
	for (const char *c = text; *c != 0 && n + 1 < cap; c++)
		out[n++] = *c == '.' || *c == ':' ? '-' : *c;
	out[n] = 0;
	return n;
}

/* Does a local zone hold data at lname (not NXDOMAIN)? */
static bool local_exists(const struct rw_zoneset *zs, const uint8_t *lname)
{
	const struct rw_zone *z = rw_zoneset_find(zs, lname);
	const struct rw_znode *node;
	return z != NULL && rw_zone_lookup(z, lname, &node) != RW_ZONE_NXDOMAIN;
}

/* The client is a pod of NS when its pod name ADDR.NS.pod.ZONE exists
 * (query_int.h says the rest). */
size_t rw__autopath_target(const struct rw_query_env *env, const uint8_t *lname, uint8_t *target)
{
	const uint8_t *zone = env->autopath_zone;
	size_t zl = rw_name_len(zone), nl = rw_name_len(lname);
	/* Find NS and NAME: lname = NAME . NS . svc . ZONE */
	const uint8_t *labels[RW_NAME_MAX / 2 + 1];
	size_t n = 0;
	for (const uint8_t *p = lname; *p != 0; p += *p + 1)
		labels[n++] = p;
	if (n < 3 || nl <= zl || !rw_name_is_under(lname, zone))
		return 0;
	size_t zone_labels = 0;
	for (const uint8_t *p = zone; *p != 0; p += *p + 1)
		zone_labels++;
	if (n < zone_labels + 3)
		return 0;
	const uint8_t *svc = labels[n - zone_labels - 1], *ns = labels[n - zone_labels - 2];
	if (svc[0] != 3 || memcmp(svc + 1, "svc", 3) != 0)
		return 0;
	/* The client's pod name in NS: ADDR.NS.pod.ZONE */
	char addr[64];
	size_t al = dashed_label(env->client, addr, sizeof addr);
	uint8_t pod[RW_NAME_MAX];
	if (al == 0 || al > 63 || 1 + al + 1 + ns[0] + 4 + zl > RW_NAME_MAX)
		return 0;
	size_t pl = 0;
	pod[pl++] = (uint8_t)al;
	for (size_t i = 0; i < al; i++)
		pod[pl++] = (uint8_t)(addr[i] >= 'A' && addr[i] <= 'Z' ? addr[i] + 32 : addr[i]);
	memcpy(pod + pl, ns, (size_t)ns[0] + 1);
	pl += (size_t)ns[0] + 1;
	memcpy(pod + pl, "\3pod", 4);
	pl += 4;
	memcpy(pod + pl, zone, zl);
	if (!local_exists(env->zones, pod))
		return 0;
	/* NAME: the labels before NS */
	size_t name_len = (size_t)(ns - lname);
	uint8_t cand[RW_NAME_MAX];
	/* NAME.svc.ZONE, NAME.ZONE: local names */
	if (name_len + 4 + zl <= RW_NAME_MAX) {
		memcpy(cand, lname, name_len);
		memcpy(cand + name_len, "\3svc", 4);
		memcpy(cand + name_len + 4, zone, zl);
		if (local_exists(env->zones, cand)) {
			memcpy(target, cand, name_len + 4 + zl);
			return name_len + 4 + zl;
		}
	}
	memcpy(cand, lname, name_len);
	memcpy(cand + name_len, zone, zl);
	if (local_exists(env->zones, cand)) {
		memcpy(target, cand, name_len + zl);
		return name_len + zl;
	}
	/* NAME itself, the last name the client would try */
	memcpy(target, lname, name_len);
	target[name_len] = 0;
	return name_len + 1;
}
