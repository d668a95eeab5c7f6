/* Socket addresses and netblocks: parsing, matching and printing.
 *
 * The types every layer passes around for "an address with a port" (listen
 * addresses, forwarders, root hints) and "a prefix" (--allow). Nothing here
 * knows about DNS or sockets beyond struct sockaddr. */
#ifndef ROOTWALK_NETADDR_H
#define ROOTWALK_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address with a port, as given by the user. */
struct rw_sockaddr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[64]; /* as the user wrote it, for messages */
};

/* An IPv4 or IPv6 prefix. */
struct rw_netblock {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t prefix;
};

/* Parses "ADDR:PORT", "[V6]:PORT", "ADDR" or "[V6]" (port defaults to
 * default_port). 0 or RW_EINVAL. */
int rw_addr_parse(const char *text, uint16_t default_port, struct rw_sockaddr *out);
/* Parses "ADDR" or "ADDR/PREFIX" (IPv4 or IPv6). 0 or RW_EINVAL. */
int rw_netblock_parse(const char *text, struct rw_netblock *out);
/* True when sa (IPv4, IPv6 or IPv4-mapped IPv6) is inside one of the
 * blocks. */
bool rw_netblock_match(const struct rw_netblock *blocks, size_t n, const struct sockaddr *sa);
/* True for 127.0.0.0/8, ::1, 0.0.0.0/8 and :: (and v4-mapped forms), and
 * for any family other than IPv4 and IPv6. */
bool rw_addr_is_loopback_or_any(const struct sockaddr *sa);
/* Writes "ADDR#PORT" into buf (always terminated). */
void rw_addr_text(const struct sockaddr *sa, char *buf, size_t len);

/* Who a client is, for per-client limits: the family byte, then the IPv4
 * address or the IPv6 /64 (one host may hold a whole /64), zero-padded.
 * Equal keys are the same client. */
#define RW_CLIENT_KEY_LEN 9
void rw_client_key(const struct sockaddr_storage *ss, uint8_t key[RW_CLIENT_KEY_LEN]);

#endif
