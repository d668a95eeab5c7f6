/* The DNS server: listeners and worker threads on libuv.
 *
 * rw_server_new() binds every socket in the calling thread first (so a port
 * in use or a missing privilege is one clear error before anything runs),
 * one UDP and one TCP socket per listen address per worker, each with
 * SO_REUSEPORT so the kernel spreads clients over the workers.
 * rw_server_run() starts the workers (one libuv loop each, nothing shared
 * but the immutable zone set) and runs the signal loop in the calling
 * thread until SIGTERM or SIGINT, then closes every handle and joins the
 * workers. */
#ifndef ROOTWALK_SERVER_H
#define ROOTWALK_SERVER_H

#include <stddef.h>

#include "rootwalk/config.h"
#include "rootwalk/zone.h"

struct rw_server;

/* Binds all listeners. The server and each worker take their own
 * reference to zones; SIGHUP (and --watch-zones) replaces the set with a
 * new one built from cfg, each worker switching at its next request. On
 * failure returns an error code and writes one line into err. */
int rw_server_new(const struct rw_config *cfg, struct rw_zoneset *zones, struct rw_server **out,
                  char *err, size_t err_len);
/* The command line a reload reads the configuration from again (it must
 * live as long as s). Without it, a reload reloads the zones only. */
void rw_server_set_args(struct rw_server *s, int argc, char **argv);
/* Serves until SIGTERM/SIGINT. Returns 0 after a clean shutdown (every
 * loop closed with no handle left), else RW_EIO. */
int rw_server_run(struct rw_server *s);
void rw_server_free(struct rw_server *s);

/* Loads the zone set cfg names (rw_zoneload with cfg's sources). */
int rw_server_load_zones(const struct rw_config *cfg, struct rw_zoneset **out, char *err,
                         size_t err_len);

#endif
