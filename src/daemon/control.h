/* The control channel: a unix socket (mode 0600) on the main thread's loop,
 * and the client side behind `rootwalk control ...` (internal).
 *
 * Wire format, client to server, one request per connection:
 *   "RWC1"  4 bytes magic
 *   cmd     1 byte: 1 stats, 2 reload, 3 flush, 4 dump-cache, 5 infra,
 *           6 flush-infra, 7 load-cache
 *   n       1 byte: argument length, 0-253 (flush takes a name; dump-cache
 *           and load-cache an absolute path)
 *   arg     n bytes
 * The server checks every field (unknown magic or command, an argument
 * where none is taken, a bad name: "error: ..."), answers with text whose
 * first line is "ok ..." or "error: ...", and closes. A request must be
 * complete within 5 s and 259 bytes. */
#ifndef ROOTWALK_CONTROL_H
#define ROOTWALK_CONTROL_H

#include <stddef.h>
#include <uv.h>

#include "rootwalk/strbuf.h"
#include "wireproto.h"

struct rw_control;

/* Writes the reply into out (first line "ok ..." or "error: ..."). arg is
 * NUL-terminated, empty when none. */
typedef void (*rw_control_handler)(void *ctx, enum rw_control_cmd cmd, const char *arg,
                                   struct rw_buf *out);

int rw_control_start(uv_loop_t *loop, const char *path, rw_control_handler handler, void *ctx,
                     struct rw_control **out, char *err, size_t err_len);
void rw_control_close(struct rw_control *c);

/* The client: `rootwalk control [--control PATH] COMMAND [NAME]`. Returns
 * the process exit code. */
int rw_control_client(int argc, char **argv, const char *default_path);

#endif
