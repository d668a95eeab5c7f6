/* Fuzz target: the HTTP request parser (src/daemon/wireproto.c), fed as
 * the server reads: growing prefixes of the input, up to the request
 * size limit. A verdict is final; a parsed path starts with '/' and holds
 * no query string. */
#include "wireproto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char req[RW_HTTP_REQ_MAX];
	if (size > RW_HTTP_REQ_MAX - 1)
		size = RW_HTTP_REQ_MAX - 1;
	/* in steps of a few bytes, as reads come */
	size_t step = size > 0 ? 1 + data[0] % 7 : 1;
	for (size_t n = step < size ? step : size;; n = n + step < size ? n + step : size) {
		memcpy(req, data, n);
		bool head = false;
		char path[1024];
		int status = rw_http_parse(req, n, &head, path);
		if (status == 200 && (path[0] != '/' || strchr(path, '?') != NULL))
			abort();
		if (status != 0 && status != 200 && status != 400 && status != 405)
			abort();
		if (status != 0 || n == size)
			break;
	}
	return 0;
}
