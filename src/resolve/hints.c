/* Root hints: the built-in IANA root servers and named.root files; see
 * include/resolve/rootwalk/hints.h. Reads files, opens no sockets. */
#include "rootwalk/hints.h"
#include "rootwalk/err.h"
#include "rootwalk/rr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name, *v4, *v6;
} iana_roots[] = {
    {"a.root-servers.net.", "198.41.0.4", "2001:503:ba3e::2:30"},
    {"b.root-servers.net.", "170.247.170.2", "2801:1b8:10::b"},
    {"c.root-servers.net.", "192.33.4.12", "2001:500:2::c"},
    {"d.root-servers.net.", "199.7.91.13", "2001:500:2d::d"},
    {"e.root-servers.net.", "192.203.230.10", "2001:500:a8::e"},
    {"f.root-servers.net.", "192.5.5.241", "2001:500:2f::f"},
    {"g.root-servers.net.", "192.112.36.4", "2001:500:12::d0d"},
    {"h.root-servers.net.", "198.97.190.53", "2001:500:1::53"},
    {"i.root-servers.net.", "192.36.148.17", "2001:7fe::53"},
    {"j.root-servers.net.", "192.58.128.30", "2001:503:c27::2:30"},
    {"k.root-servers.net.", "193.0.14.129", "2001:7fd::1"},
    {"l.root-servers.net.", "199.7.83.42", "2001:500:9f::42"},
    {"m.root-servers.net.", "202.12.27.33", "2001:dc3::35"},
};

/* Fills ss from an IPv4 or IPv6 address in text, port 53. */
static bool make_addr(const char *text, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(53);
		return true;
	}
	if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(53);
		return true;
	}
	return false;
}

static int hint_ns(struct rw_hints *h, const uint8_t *name, bool create)
{
	for (unsigned i = 0; i < h->nns; i++)
		if (rw_name_eq(h->ns[i].name, name))
			return (int)i;
	if (!create || h->nns == RW_HINTS_MAX)
		return -1;
	memcpy(h->ns[h->nns].name, name, rw_name_len(name));
	h->ns[h->nns].naddr = 0;
	return (int)h->nns++;
}

void rw_hints_builtin(struct rw_hints *h)
{
	memset(h, 0, sizeof *h);
	for (size_t i = 0; i < sizeof iana_roots / sizeof iana_roots[0]; i++) {
		uint8_t n[RW_NAME_MAX];
		size_t nl;
		rw_name_from_text(iana_roots[i].name, strlen(iana_roots[i].name), NULL, n, &nl);
		int k = hint_ns(h, n, true);
		make_addr(iana_roots[i].v4, &h->ns[k].addr[h->ns[k].naddr++]);
		make_addr(iana_roots[i].v6, &h->ns[k].addr[h->ns[k].naddr++]);
	}
}

int rw_hints_load(const char *path, struct rw_hints *h, char *err, size_t err_len)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, err_len, "%s: cannot open: %s", path, strerror(errno));
		return RW_EINVAL;
	}
	memset(h, 0, sizeof *h);
	char line[1024];
	unsigned lineno = 0;
	int rc = 0;
	/* Addresses may come before or after their NS line: keep them aside
	 * under their names and attach them at the end. */
	struct rw_hints addrs;
	memset(&addrs, 0, sizeof addrs);
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		lineno++;
		char *semi = strchr(line, ';');
		if (semi != NULL)
			*semi = 0;
		char *tok[8];
		int nt = 0;
		for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && nt < 8;
		     t = strtok_r(NULL, " \t\r\n", &save))
			tok[nt++] = t;
		if (nt == 0)
			continue;
		/* owner [ttl] [class] type rdata */
		int ti = 1;
		while (ti < nt - 1 && (strcasecmp(tok[ti], "IN") == 0 ||
		                       strspn(tok[ti], "0123456789") == strlen(tok[ti])))
			ti++;
		uint8_t owner[RW_NAME_MAX];
		size_t ol;
		if (ti >= nt - 1 ||
		    rw_name_from_text(tok[0], strlen(tok[0]), NULL, owner, &ol) != 0) {
			snprintf(err, err_len, "%s:%u: expected 'owner [ttl] [IN] type data'", path,
			         lineno);
			rc = RW_EINVAL;
			break;
		}
		const char *type = tok[ti], *data = tok[ti + 1];
		if (strcasecmp(type, "NS") == 0) {
			uint8_t n[RW_NAME_MAX];
			size_t nl;
			if (owner[0] != 0 ||
			    rw_name_from_text(data, strlen(data), NULL, n, &nl) != 0) {
				snprintf(err, err_len,
				         "%s:%u: NS records must be for '.' and name a host", path,
				         lineno);
				rc = RW_EINVAL;
			} else if (hint_ns(h, n, true) < 0) {
				snprintf(err, err_len, "%s:%u: more than %d root servers", path,
				         lineno, RW_HINTS_MAX);
				rc = RW_EINVAL;
			}
		} else if (strcasecmp(type, "A") == 0 || strcasecmp(type, "AAAA") == 0) {
			struct sockaddr_storage ss;
			int fam = strcasecmp(type, "A") == 0 ? AF_INET : AF_INET6;
			if (!make_addr(data, &ss) || ss.ss_family != fam) {
				snprintf(err, err_len, "%s:%u: bad %s address '%s'", path, lineno,
				         type, data);
				rc = RW_EINVAL;
				break;
			}
			int k = hint_ns(&addrs, owner, true);
			if (k >= 0 && addrs.ns[k].naddr < RW_HINT_ADDRS)
				addrs.ns[k].addr[addrs.ns[k].naddr++] = ss;
		} else {
			snprintf(err, err_len, "%s:%u: unexpected type '%s' (only NS, A, AAAA)",
			         path, lineno, type);
			rc = RW_EINVAL;
		}
	}
	fclose(f);
	if (rc != 0)
		return rc;
	unsigned with_addr = 0;
	for (unsigned i = 0; i < h->nns; i++) {
		int k = hint_ns(&addrs, h->ns[i].name, false);
		if (k < 0)
			continue;
		h->ns[i].naddr = addrs.ns[k].naddr;
		memcpy(h->ns[i].addr, addrs.ns[k].addr, sizeof h->ns[i].addr);
		with_addr += h->ns[i].naddr > 0;
	}
	if (with_addr == 0) {
		snprintf(err, err_len, "%s: no root server with an address", path);
		return RW_EINVAL;
	}
	return 0;
}
