/* A c-ares stub client for the system tests: resolves NAME (A records)
 * through the servers in /etc/resolv.conf, as any c-ares program would,
 * and prints one address per line. Exits 0 when it got addresses, 1 on a
 * DNS error, 2 after 5 s. Usage: ares_client NAME */
#include <ares.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <sys/select.h>
#include <time.h>

static int status = -1;

static void done(void *arg, int st, int timeouts, struct hostent *h)
{
	(void)arg;
	(void)timeouts;
	status = st;
	if (st != ARES_SUCCESS) {
		fprintf(stderr, "ares_client: %s\n", ares_strerror(st));
		return;
	}
	for (char **a = h->h_addr_list; *a != NULL; a++) {
		char text[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, *a, text, sizeof text);
		printf("%s\n", text);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: ares_client NAME\n");
		return 2;
	}
	ares_channel ch;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS || ares_init(&ch) != ARES_SUCCESS)
		return 2;
	ares_gethostbyname(ch, argv[1], AF_INET, done, NULL);
	time_t end = time(NULL) + 5;
	while (status < 0 && time(NULL) < end) {
		fd_set r, w;
		FD_ZERO(&r);
		FD_ZERO(&w);
		int n = ares_fds(ch, &r, &w);
		if (n == 0)
			break;
		struct timeval tv = {0, 100000};
		select(n, &r, &w, NULL, &tv);
		ares_process(ch, &r, &w);
	}
	ares_destroy(ch);
	ares_library_cleanup();
	return status == ARES_SUCCESS ? 0 : status < 0 ? 2 : 1;
}
