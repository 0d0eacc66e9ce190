/* Every rank prints long lines through fully buffered stdout (as on Linux
 * when stdout is a pipe), so stdio flushes in the middle of lines; the
 * console must still show every line whole. */
#include <stdio.h>
#include <stdlib.h>

int main(void)
{
	const char *r = getenv("TORO_RANK");
	int rank = r ? atoi(r) : 0;
	for (int i = 0; i < 300; i++) {
		printf("rank %d line %03d ", rank, i);
		for (int j = 0; j < 60; j++)
			putchar('a' + (rank + j) % 26);
		putchar('\n');
	}
	printf("rank %d ends without a newline", rank);
	return 0;
}
