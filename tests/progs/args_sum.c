/* Prints what the program's arguments arrived as: their number, their
 * total length and an FNV-1a hash over all of them (each with its NUL),
 * so a test can check that every byte of a huge command line came. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	unsigned long long h = 1469598103934665603ull;
	size_t total = 0;
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		total += n - 1;
		for (size_t j = 0; j < n; j++)
			h = (h ^ (unsigned char)argv[i][j]) * 1099511628211ull;
	}
	printf("args %d bytes %zu hash %016llx\n", argc - 1, total, h);
	return 0;
}
