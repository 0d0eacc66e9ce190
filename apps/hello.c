/* The plain C example: every rank says hello. Builds the same with gcc. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	const char *rank = getenv("TORO_RANK"), *size = getenv("TORO_NRANKS");
	printf("hello from rank %s of %s (%s, %d arguments)\n", rank ? rank : "0", size ? size : "1", argv[0], argc - 1);
	return 0;
}
