/* stdio on virtio-fs files: fopen, fprintf, fgets, fscanf, fwrite, fread,
 * fseek, ftell, rewind, "a" mode; run in the share's root. Also reads
 * host.txt (made by the host) line by line. Prints "ok NAME" or "FAIL
 * NAME", then "N failed". Builds the same with gcc on Linux. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fails;

static void check(const char *name, int ok)
{
	printf("%s %s\n", ok ? "ok" : "FAIL", name);
	if (!ok)
		printf("  errno %d (%s)\n", errno, strerror(errno));
	fails += !ok;
}

static void text(void)
{
	FILE *f = fopen("lines.txt", "w");
	check("fopen w", f != NULL);
	if (!f)
		return;
	for (int i = 0; i < 5000; i++)
		fprintf(f, "line %d: %x\n", i, i * 7919);
	check("fclose", fclose(f) == 0);
	f = fopen("lines.txt", "r");
	char buf[128];
	int i = 0, good = 1;
	while (f && fgets(buf, sizeof buf, f)) {
		char want[128];
		snprintf(want, sizeof want, "line %d: %x\n", i, i * 7919);
		good &= strcmp(buf, want) == 0;
		i++;
	}
	check("fgets every line back", f && good && i == 5000 && feof(f));
	rewind(f);
	int n, v;
	check("rewind + fscanf", fscanf(f, "line %d: %x", &n, &v) == 2 && n == 0 && v == 0);
	check("fseek SEEK_SET + ftell", fseek(f, 10, SEEK_SET) == 0 && ftell(f) == 10 && fgets(buf, sizeof buf, f) &&
	      strcmp(buf, "line 1: 1eef\n") == 0);
	check("fseek SEEK_END", fseek(f, 0, SEEK_END) == 0 && ftell(f) > 50000);
	fclose(f);
	f = fopen("lines.txt", "a");
	check("fopen a", f && fprintf(f, "appended\n") == 9 && fclose(f) == 0);
	f = fopen("lines.txt", "r");
	check("append at the end", f && fseek(f, -9, SEEK_END) == 0 && fgets(buf, sizeof buf, f) &&
	      strcmp(buf, "appended\n") == 0);
	fclose(f);
}

static void binary(void)
{
	size_t n = 300000;
	unsigned *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
	for (size_t i = 0; i < n; i++)
		a[i] = i * 2654435761u;
	FILE *f = fopen("data.bin", "wb");
	check("fwrite", f && fwrite(a, sizeof *a, n, f) == n && fclose(f) == 0);
	f = fopen("data.bin", "rb");
	check("fread", f && fread(b, sizeof *b, n, f) == n && memcmp(a, b, n * sizeof *a) == 0);
	check("fseek SEEK_CUR backwards + fread", fseek(f, -(long)(10 * sizeof *a), SEEK_CUR) == 0 &&
	      fread(b, sizeof *b, 10, f) == 10 && memcmp(b, a + n - 10, 10 * sizeof *a) == 0);
	check("fread at end", fread(b, 1, 1, f) == 0 && feof(f));
	fclose(f);
	f = fopen("data.bin", "r+b");
	unsigned x = 42;
	check("r+ overwrite", f && fseek(f, 4, SEEK_SET) == 0 && fwrite(&x, sizeof x, 1, f) == 1 &&
	      fseek(f, 0, SEEK_SET) == 0 && fread(b, sizeof *b, 3, f) == 3 && b[1] == 42 && b[2] == a[2]);
	fclose(f);
	free(a);
	free(b);
}

static void host_file(void)
{
	FILE *f = fopen("host.txt", "r");
	char buf[64];
	int i = 0, good = 1;
	while (f && fgets(buf, sizeof buf, f)) {
		char want[64];
		snprintf(want, sizeof want, "host line %d\n", i++);
		good &= strcmp(buf, want) == 0;
	}
	check("a host file read with fgets", f && good && i == 1000);
	if (f)
		fclose(f);
	check("fopen of a missing file gives ENOENT", fopen("missing.txt", "r") == NULL && errno == ENOENT);
}

int main(void)
{
	text();
	binary();
	host_file();
	printf("%d failed\n", fails);
	return fails != 0;
}
