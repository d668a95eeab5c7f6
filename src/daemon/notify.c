/* systemd's readiness protocol without libsystemd (sd_notify(3)): one
 * datagram to the unix socket in $NOTIFY_SOCKET ("@..." an abstract
 * address). READY=1 once every socket is bound and the workers serve,
 * RELOADING=1 (with MONOTONIC_USEC) while a reload is built, STOPPING=1 at
 * shutdown; Type=notify units wait for READY=1. Without $NOTIFY_SOCKET,
 * nothing. */
#include "daemon_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

void rw__notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (path == NULL || path[0] == 0)
		return;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t n = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof sa.sun_path)
		return;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = 0; /* abstract */
	char msg[256];
	int len;
	if (strncmp(state, "RELOADING=1", 11) == 0) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		len = snprintf(msg, sizeof msg, "%s\nMONOTONIC_USEC=%llu", state,
		               (unsigned long long)ts.tv_sec * 1000000ULL +
		                   (unsigned long long)ts.tv_nsec / 1000);
	} else {
		len = snprintf(msg, sizeof msg, "%s", state);
	}
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	socklen_t sl = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (sendto(fd, msg, (size_t)len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sl) < 0)
		rw_log_debug("sd_notify: %s", strerror(errno));
	close(fd);
}
