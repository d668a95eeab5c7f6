/* Fuzz target (libFuzzer entry point): the zone-file parser and zone
 * builder. The input is a zone file for "example."; it must load or fail
 * with a line number and a message, and a loaded zone must answer a
 * lookup of its apex. Seeds: tests/fuzz/corpus/zone. */
#include "rootwalk/err.h"
#include "rootwalk/zone.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t origin[] = {7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0};
	struct rw_zone *z = NULL;
	struct rw_zone_error err;
	int e = rw_zone_load_text("fuzz.zone", (const char *)data, size, origin, &z, &err);
	if (e == 0) {
		const struct rw_znode *node;
		if (z == NULL || rw_zone_soa(z) == NULL ||
		    rw_zone_lookup(z, origin, &node) == RW_ZONE_NXDOMAIN)
			abort();
		rw_zone_free(z);
	} else if (z != NULL || err.msg[0] == 0) {
		abort();
	}
	return 0;
}
