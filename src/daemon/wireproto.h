/* The daemon's own wire protocols, parsed without I/O so that each can be
 * fuzzed on its own (tests/fuzz/fuzz_{control,http,tcp}.c):
 * - the control request (control.h has the format);
 * - an HTTP/1.x request's line and headers (http.h has the rules);
 * - DNS over TCP framing (RFC 7766 §8): a growing buffer of received
 *   bytes, cut into 2-byte-length-prefixed messages.
 * Internal to src/daemon; no libuv here. */
#ifndef ROOTWALK_WIREPROTO_H
#define ROOTWALK_WIREPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- control -------------------------------------------------------------- */

enum rw_control_cmd {
	RW_CTL_STATS = 1,
	RW_CTL_RELOAD = 2,
	RW_CTL_FLUSH = 3,
	RW_CTL_DUMP = 4,        /* the cache as text, or (with a path) to a cache file */
	RW_CTL_INFRA = 5,       /* the upstream servers' state */
	RW_CTL_FLUSH_INFRA = 6, /* forget it (lame marks, back-offs, RTTs) */
	RW_CTL_LOAD = 7,        /* a cache file into the cache */
	RW_CTL_TAKEOVER = 8,    /* a new rootwalk takes the listening sockets (control.h) */
	RW_CTL_STATUS = 9,      /* version, uptime, workers, cache, zones, forwarders */
	RW_CTL_LOG_LEVEL = 10,  /* LEVEL: the log level until the next reload */
	RW_CTL_FLUSH_NEG = 11,  /* every NXDOMAIN/NODATA entry */
	RW_CTL_FLUSH_ZONE = 12, /* NAME: every entry at or under it */
	RW_CTL_FLUSH_TYPE = 13, /* "NAME TYPE": that one entry */
	RW_CTL_LIST_FWD = 14,   /* the forward zones and forwarders */
	RW_CTL_LIST_ZONES = 15, /* the local zones */
	RW_CTL_LOOKUP = 16,     /* "NAME [TYPE]": what the cache holds, where a miss goes */
	RW_CTL_FWD_ADD = 17,    /* "ZONE=ADDR[,ADDR...] [OPTION...]": forward a zone there */
	RW_CTL_FWD_REMOVE = 18, /* ZONE: stop forwarding it (a run-time or configured zone) */
	RW_CTL_LAST = RW_CTL_FWD_REMOVE,
};

/* The largest control request: magic, command, length, a name in text. */
#define RW_CTL_REQ_MAX (4 + 1 + 1 + 253)

enum rw_ctl_parse { RW_CTL_MORE = 0, RW_CTL_OK = 1, RW_CTL_BAD = -1 };

/* What a command's argument is. */
enum rw_ctl_arg {
	RW_CTL_ARG_NONE,          /* none allowed */
	RW_CTL_ARG_NAME_OPT,      /* flush: a domain name, or none */
	RW_CTL_ARG_PATH_OPT,      /* dump-cache: an absolute path, or none */
	RW_CTL_ARG_PATH,          /* load-cache: an absolute path */
	RW_CTL_ARG_LEVEL,         /* log-level: error, warn, info, debug */
	RW_CTL_ARG_NAME,          /* flush-zone: a domain name */
	RW_CTL_ARG_NAME_TYPE,     /* flush-type: "NAME TYPE" */
	RW_CTL_ARG_NAME_TYPE_OPT, /* lookup: "NAME [TYPE]" */
	RW_CTL_ARG_ADDR_OPT,      /* flush-infra: an IP address (and port), or none */
	RW_CTL_ARG_FWD,           /* forward-add: "ZONE=ADDR[,...] [OPTION...]" */
};
enum rw_ctl_arg rw_ctl_arg_of(unsigned cmd);
/* Whether a command with this kind of argument must be given one. */
bool rw_ctl_arg_required(enum rw_ctl_arg kind);
/* Splits "NAME [TYPE]" (arg is changed): the name in wire form and the
 * type (0: none). false: not that. */
bool rw_ctl_name_type(char *arg, uint8_t name[255], uint16_t *type);

/* Parses the len bytes of a control request received so far. RW_CTL_OK:
 * *cmd and arg (NUL-terminated, empty when none) are set; RW_CTL_MORE:
 * incomplete; RW_CTL_BAD: *error says why (static text). last_cmd: the
 * highest command number known. The argument of RW_CTL_DUMP and
 * RW_CTL_LOAD is an absolute path; any other's a domain name. */
enum rw_ctl_parse rw_ctl_parse(const uint8_t *req, size_t len, unsigned last_cmd, unsigned *cmd,
                               char arg[254], const char **error);

/* --- HTTP ------------------------------------------------------------------- */

#define RW_HTTP_REQ_MAX 8192

/* Parses the bytes of an HTTP request received so far (req holds len
 * bytes and one more for a NUL). Returns 0 while the headers have not
 * ended, else an HTTP status: 200 (parsed: *head, path without its query
 * string), 400 (malformed, NUL bytes, headers over RW_HTTP_REQ_MAX - 1
 * bytes) or 405 (not GET or HEAD). */
int rw_http_parse(char *req, size_t len, bool *head, char path[1024]);

/* --- DNS over TCP framing --------------------------------------------------- */

#define RW_TCPBUF_MIN 4096
#define RW_TCPBUF_MAX (2 + 65535 + RW_TCPBUF_MIN)

/* Received bytes not yet cut into messages: at most one partial message
 * (< 65537 bytes) stays between reads. The buffer starts at RW_TCPBUF_MIN
 * and doubles up to RW_TCPBUF_MAX as a large message needs it. */
struct rw_tcpbuf {
	uint8_t *buf;
	size_t len, cap;
};

int rw_tcpbuf_init(struct rw_tcpbuf *t);
void rw_tcpbuf_fini(struct rw_tcpbuf *t);
/* Where the next read may write, and how much (never 0): grows the buffer
 * when little room is left and it may still grow (a failed growth leaves
 * the room there is). */
uint8_t *rw_tcpbuf_space(struct rw_tcpbuf *t, size_t *room);
/* n bytes were written at the space given. */
void rw_tcpbuf_wrote(struct rw_tcpbuf *t, size_t n);
/* The next complete message: true with *msg and *len (into the buffer,
 * valid until the next call that changes it) and *pos advanced past it;
 * false when the bytes from *pos on hold no whole message. */
bool rw_tcpbuf_next(const struct rw_tcpbuf *t, size_t *pos, const uint8_t **msg, size_t *len);
/* Forgets the bytes before pos (the messages taken). */
void rw_tcpbuf_consume(struct rw_tcpbuf *t, size_t pos);

#endif
