/* Prints the variables named on its command line as NAME=VALUE, or
 * NAME unset; for toro-run -x. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *v = getenv(argv[i]);
		if (v)
			printf("%s=[%s]\n", argv[i], v);
		else
			printf("%s unset\n", argv[i]);
	}
	return 0;
}
