/* Root hints: the root's NS names and their addresses, built in (IANA) or
 * read from a named.root file. The iterator primes from them (RFC 8109). */
#ifndef ROOTWALK_HINTS_H
#define ROOTWALK_HINTS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rootwalk/name.h"

#define RW_HINTS_MAX 16
#define RW_HINT_ADDRS 4

/* Root hints: the root's NS names and their addresses. */
struct rw_hints {
	struct {
		uint8_t name[RW_NAME_MAX];
		struct sockaddr_storage addr[RW_HINT_ADDRS];
		unsigned naddr;
	} ns[RW_HINTS_MAX];
	unsigned nns;
};

/* The IANA root servers (IPv4 and IPv6). */
void rw_hints_builtin(struct rw_hints *h);
/* Reads a named.root style file ("." NS records and their A/AAAA). Returns
 * 0, or RW_EINVAL with "file:line: problem" in err. */
int rw_hints_load(const char *path, struct rw_hints *h, char *err, size_t err_len);

#endif
