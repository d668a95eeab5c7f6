/* Fuzz target (libFuzzer entry point): the YAML config reader. The input
 * is a config file; whatever it holds must load or fail with a message
 * naming the file, and rw_config_fini must free everything either way
 * (LeakSanitizer in the fuzz build). Seeds: tests/fuzz/corpus/config. */
#include "rootwalk/config.h"
#include "rootwalk/err.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rw_config cfg;
	char err[512] = "";
	int e = rw_config_load_yaml(&cfg, "fuzz.yaml", data, size, err, sizeof err);
	/* An error names the file; success leaves a valid config. */
	if (e == RW_EINVAL && strncmp(err, "fuzz.yaml", 9) != 0)
		abort();
	if (e == 0 && (cfg.nlisten == 0 || cfg.threads == 0 || cfg.nallow == 0))
		abort();
	rw_config_fini(&cfg);
	return 0;
}
