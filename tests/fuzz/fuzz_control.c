/* Fuzz target: the control request parser (src/daemon/wireproto.c), fed
 * the input whole and byte by byte: the verdict must not depend on how
 * the bytes arrive, and an accepted request must be exactly as long as it
 * says. */
#include "wireproto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned cmd = 0;
	char arg[254];
	const char *error = NULL;
	enum rw_ctl_parse whole = rw_ctl_parse(data, size, RW_CTL_LAST, &cmd, arg, &error);
	if (whole == RW_CTL_OK &&
	    (size != 6 + (size_t)data[5] || cmd < 1 || cmd > RW_CTL_LAST || strlen(arg) != data[5]))
		abort();
	if (whole == RW_CTL_BAD && error == NULL)
		abort();
	/* As the server reads it: a verdict at the first prefix that has one. */
	enum rw_ctl_parse first = RW_CTL_MORE;
	for (size_t n = 1; n <= size && first == RW_CTL_MORE; n++)
		first = rw_ctl_parse(data, n, RW_CTL_LAST, &cmd, arg, &error);
	if (first == RW_CTL_OK && whole != RW_CTL_OK && size == 6 + (size_t)data[5])
		abort();
	return 0;
}
