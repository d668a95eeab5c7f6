/* Socket addresses and netblocks: parsing, matching, printing. Knows
 * nothing about DNS; see include/base/rootwalk/netaddr.h. */
#include "rootwalk/netaddr.h"
#include "rootwalk/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int rw_addr_parse(const char *text, uint16_t default_port, struct rw_sockaddr *out)
{
	char host[64];
	const char *port = NULL;
	memset(out, 0, sizeof *out);
	size_t tl = strlen(text);
	if (tl == 0 || tl >= sizeof out->text)
		return RW_EINVAL;
	memcpy(out->text, text, tl + 1);
	if (text[0] == '[') {
		const char *end = strchr(text, ']');
		if (end == NULL || (size_t)(end - text - 1) >= sizeof host)
			return RW_EINVAL;
		memcpy(host, text + 1, (size_t)(end - text - 1));
		host[end - text - 1] = 0;
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != 0)
			return RW_EINVAL;
	} else {
		const char *colon = strrchr(text, ':');
		if (colon != NULL && strchr(text, ':') == colon) {
			memcpy(host, text, (size_t)(colon - text));
			host[colon - text] = 0;
			port = colon + 1;
		} else {
			snprintf(host, sizeof host, "%s", text); /* bare IPv4 or IPv6 */
		}
	}
	unsigned long p = default_port;
	if (port != NULL) {
		char *end;
		errno = 0;
		p = strtoul(port, &end, 10);
		if (*port == 0 || *end != 0 || errno != 0 || p == 0 || p > 65535)
			return RW_EINVAL;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)&out->ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&out->ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		out->len = sizeof *s4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		out->len = sizeof *s6;
		return 0;
	}
	return RW_EINVAL;
}

int rw_netblock_parse(const char *text, struct rw_netblock *out)
{
	char host[64];
	const char *slash = strchr(text, '/');
	size_t hl = slash ? (size_t)(slash - text) : strlen(text);
	if (hl == 0 || hl >= sizeof host)
		return RW_EINVAL;
	memcpy(host, text, hl);
	host[hl] = 0;
	memset(out, 0, sizeof *out);
	unsigned max;
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return RW_EINVAL;
	}
	unsigned long p = max;
	if (slash != NULL) {
		char *end;
		errno = 0;
		p = strtoul(slash + 1, &end, 10);
		if (slash[1] == 0 || *end != 0 || errno != 0 || p > max)
			return RW_EINVAL;
	}
	out->prefix = (uint8_t)p;
	return 0;
}

/* IPv4 (x in network order): word compares, as every query is checked. */
static bool match_v4(const struct rw_netblock *blocks, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++) {
		const struct rw_netblock *b = &blocks[i];
		if (b->family != AF_INET)
			continue; /* (an IPv6 prefix may exceed 32) */
		uint32_t net;
		memcpy(&net, b->addr, 4);
		uint32_t mask = b->prefix == 0 ? 0 : htonl(0xFFFFFFFFu << (32 - b->prefix));
		if (((x ^ net) & mask) == 0)
			return true;
	}
	return false;
}

bool rw_netblock_match(const struct rw_netblock *blocks, size_t n, const struct sockaddr *sa)
{
	uint32_t x;
	if (sa->sa_family == AF_INET)
		return match_v4(blocks, n, ((const struct sockaddr_in *)sa)->sin_addr.s_addr);
	if (sa->sa_family != AF_INET6)
		return false;
	const uint8_t *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
	if (IN6_IS_ADDR_V4MAPPED((const struct in6_addr *)a)) {
		memcpy(&x, a + 12, 4);
		return match_v4(blocks, n, x);
	}
	for (size_t i = 0; i < n; i++) {
		const struct rw_netblock *b = &blocks[i];
		if (b->family != AF_INET6)
			continue;
		unsigned full = b->prefix / 8, rest = b->prefix % 8;
		if (memcmp(a, b->addr, full) != 0)
			continue;
		if (rest == 0 || ((a[full] ^ b->addr[full]) & (0xFF00 >> rest)) == 0)
			return true;
	}
	return false;
}

bool rw_addr_is_loopback_or_any(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		uint8_t first = ((const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr)[0];
		return first == 127 || first == 0;
	}
	if (sa->sa_family != AF_INET6)
		return true;
	const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_UNSPECIFIED(a))
		return true;
	if (IN6_IS_ADDR_V4MAPPED(a))
		return a->s6_addr[12] == 127 || a->s6_addr[12] == 0;
	return false;
}

void rw_addr_text(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host,
		          sizeof host);
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	}
	snprintf(buf, len, "%s#%u", host, port);
}

void rw_client_key(const struct sockaddr_storage *ss, uint8_t key[RW_CLIENT_KEY_LEN])
{
	memset(key, 0, RW_CLIENT_KEY_LEN);
	if (ss->ss_family == AF_INET6) {
		key[0] = 6;
		memcpy(key + 1, &((const struct sockaddr_in6 *)ss)->sin6_addr, 8);
	} else if (ss->ss_family == AF_INET) {
		key[0] = 4;
		memcpy(key + 1, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}
