/* rootwalk's entry point: configuration, zones, server, exit code. Holds
 * the one daemon state (config, zone set, server) and passes it down; no
 * globals. */
#include "rootwalk/config.h"
#include "rootwalk/err.h"
#include "rootwalk/log.h"
#include "server.h"
#include "rootwalk/version.h"
#include "rootwalk/zoneload.h"
#include "control.h"
#include "buildinfo.h"

#include <ares.h>
#include <uv.h>
#include <yaml.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#ifdef __clang__
#define RW_COMPILER "clang " __clang_version__
#else
#define RW_COMPILER "gcc " __VERSION__
#endif

int main(int argc, char **argv)
{
	struct rw_config cfg;
	char err[8192]; /* a zone file's errors, up to 20 lines */
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && strcmp(argv[1], "control") == 0)
		return rw_control_client(argc - 1, argv + 1, "/run/rootwalk/control.sock");
	if (rw_config_load(&cfg, argc, argv, err, sizeof err) != 0) {
		fprintf(stderr, "rootwalk: %s\n", err);
		rw_config_fini(&cfg);
		return 2;
	}
	if (cfg.action == RW_CONFIG_HELP) {
		fputs(rw_config_usage(), stdout);
		rw_config_fini(&cfg);
		return 0;
	}
	if (cfg.action == RW_CONFIG_SAMPLE || cfg.action == RW_CONFIG_REFERENCE) {
		if (cfg.action == RW_CONFIG_SAMPLE)
			rw_config_write_sample(stdout);
		else
			rw_config_write_reference(stdout);
		rw_config_fini(&cfg);
		return 0;
	}
	if (cfg.action == RW_CONFIG_VERSION) {
		/* What support people ask first: which build, which libraries. */
		printf("rootwalk %s\ncommit: %s\nbuild: %s, %s\n"
		       "libraries: libuv %s, c-ares %s, libyaml %s\n",
		       RW_VERSION, RW_BUILD_COMMIT, RW_BUILD_TYPE, RW_COMPILER, uv_version_string(),
		       ares_version(NULL), yaml_get_version_string());
		rw_config_fini(&cfg);
		return 0;
	}
	rw_log_set_level(cfg.log_level);
	rw_log_set_json(cfg.log_json);
	struct rw_zoneset *zones = NULL;
	if (rw_server_load_zones(&cfg, &zones, err, sizeof err) != 0) {
		fprintf(stderr, "rootwalk: %s\n", err);
		rw_config_fini(&cfg);
		return 1;
	}
	if (cfg.action == RW_CONFIG_CHECK) {
		size_t records = 0;
		for (size_t i = 0; i < rw_zoneset_count(zones); i++)
			records += rw_zone_record_count(rw_zoneset_at(zones, i));
		printf("rootwalk: configuration OK: %zu zones, %zu records\n",
		       rw_zoneset_count(zones), records);
		rw_zoneset_unref(zones);
		rw_config_fini(&cfg);
		return 0;
	}
	struct rw_server *srv = NULL;
	int rc = 1;
	if (rw_server_new(&cfg, zones, &srv, err, sizeof err) != 0) {
		fprintf(stderr, "rootwalk: %s\n", err);
	} else {
		rw_server_set_args(srv, argc, argv);
		rc = rw_server_run(srv) == 0 ? 0 : 1;
		rw_server_free(srv);
	}
	rw_zoneset_unref(zones);
	rw_config_fini(&cfg);
	return rc;
}
