/* Runs a fuzz target over every file of the given folders (the seed corpus)
 * without libFuzzer, so the corpus is a regression test in every build,
 * sanitizer build included. Prints "N passed, 0 failed". */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
	size_t n = 0;
	for (int i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		if (d == NULL) {
			fprintf(stderr, "cannot open %s\n", argv[i]);
			return 1;
		}
		struct dirent *de;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			char path[4096];
			snprintf(path, sizeof path, "%s/%s", argv[i], de->d_name);
			FILE *f = fopen(path, "rb");
			if (f == NULL)
				continue;
			static uint8_t buf[1 << 20];
			size_t len = fread(buf, 1, sizeof buf, f);
			fclose(f);
			/* Copy to an exact-size heap block so ASan sees overreads. */
			uint8_t *exact = malloc(len ? len : 1);
			memcpy(exact, buf, len);
			LLVMFuzzerTestOneInput(exact, len);
			free(exact);
			n++;
		}
		closedir(d);
	}
	if (n == 0) {
		fprintf(stderr, "empty corpus\n");
		return 1;
	}
	printf("fuzz corpus: %zu passed, 0 failed\n", n);
	return 0;
}
