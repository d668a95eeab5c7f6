/* The control channel: a unix socket (mode 0600) on the main thread's loop,
 * and the client side behind `rootwalk control ...` (internal).
 *
 * Wire format, client to server, one request per connection:
 *   "RWC1"  4 bytes magic
 *   cmd     1 byte: 1 stats, 2 reload, 3 flush, 4 dump-cache, 5 infra,
 *           6 flush-infra, 7 load-cache, 8 takeover, 9 status, 10 log-level,
 *           11 flush-negative, 12 flush-zone, 13 flush-type, 14 list-forwards,
 *           15 list-local-zones, 16 lookup (wireproto.h: each one's argument)
 *   n       1 byte: argument length, 0-253 (flush takes a name; dump-cache
 *           and load-cache an absolute path)
 *   arg     n bytes
 * The server checks every field (unknown magic or command, an argument
 * where none is taken, a bad name: "error: ..."), answers with text whose
 * first line is "ok ..." or "error: ...", and closes. A request must be
 * complete within 5 s and 259 bytes.
 *
 * takeover (a new rootwalk started with --takeover; not a command of the
 * client below): before its text reply the server sends every listening
 * socket it has, as SCM_RIGHTS descriptors in messages of at most
 * RW_CTL_FDS_MAX, each with 7 bytes of data: "RWFD", the count (2 bytes,
 * network order) and 1 when it is the last. The text is then
 * "ok: handed over N sockets (pid P)". */
#ifndef ROOTWALK_CONTROL_H
#define ROOTWALK_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#include "rootwalk/strbuf.h"
#include "wireproto.h"

struct rw_control;

#define RW_CTL_FDS_MAX 200

/* Writes the reply into out (first line "ok ..." or "error: ..."). arg is
 * NUL-terminated, empty when none. client: the connection, for takeover's
 * descriptors (rw_control_send_fds) before the reply. */
typedef void (*rw_control_handler)(void *ctx, enum rw_control_cmd cmd, const char *arg, int client,
                                   struct rw_buf *out);

/* Listens at path, or on fd when fd >= 0 (a listening socket handed over
 * by the rootwalk we took over from: nothing is bound or unlinked). */
int rw_control_start(uv_loop_t *loop, const char *path, int fd, rw_control_handler handler,
                     void *ctx, struct rw_control **out, char *err, size_t err_len);
/* Stops listening; keep_path: leave the socket file (a rootwalk we handed
 * the listener to answers there now). */
void rw_control_close(struct rw_control *c, bool keep_path);
/* The listening socket (for a takeover). */
int rw_control_fd(const struct rw_control *c);
/* Sends n descriptors on a control connection (takeover). 0 or RW_EIO. */
int rw_control_send_fds(int client, const int *fds, size_t n);
/* A takeover: asks the rootwalk at path for its listening sockets. Fills
 * fds (at most cap; the caller closes them) and the old process's pid.
 * RW_ENOTFOUND when nothing listens at path; RW_EIO with a message. */
int rw_control_takeover(const char *path, int *fds, size_t cap, size_t *n, long *pid, char *err,
                        size_t err_len);

/* The client: `rootwalk control [--control PATH] COMMAND [NAME]`. Returns
 * the process exit code. */
int rw_control_client(int argc, char **argv, const char *default_path);

#endif
