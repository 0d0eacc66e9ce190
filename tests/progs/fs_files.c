/* Files through virtio-fs, checked byte for byte by the host (tests/test_fs.py).
 *   write DIR SEED CHUNK SIZE...   writes DIR/g<SIZE> in write() calls of CHUNK bytes (0: one call)
 *   read DIR SEED CHUNK SIZE...    reads DIR/h<SIZE>, made by the host, and compares
 *   bigwrite FILE MIB / bigread FILE MIB   one file, twice, timed (pattern seed 7)
 *   persist FILE SIZE              writes FILE and ends with _exit(): no close, no fsync
 * The pattern (the host makes the same): byte at offset p is the 8-byte
 * little-endian offset of its 4 KiB block in the block's first 8 bytes,
 * else (p % 251 + seed) & 0xff. Builds the same with gcc on Linux. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint8_t pattern(uint64_t p, unsigned seed)
{
	uint64_t in = p % 4096;
	if (in < 8)
		return (uint8_t)((p - in) >> (8 * in));
	return (uint8_t)(p % 251 + seed);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		b[i] = pattern(i, seed);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int write_all(int fd, const uint8_t *b, size_t n, size_t chunk)
{
	size_t done = 0;
	while (done < n || (n == 0 && done == 0 && chunk == 0)) {
		size_t want = chunk ? chunk : n - done;
		if (want > n - done)
			want = n - done;
		ssize_t r = write(fd, b + done, want);
		if (r < 0)
			return -1;
		done += r;
		if (n == 0)
			break;
	}
	return 0;
}

/* Reads to the end in read() calls of chunk bytes; returns the length. */
static ssize_t read_all(int fd, uint8_t *b, size_t cap, size_t chunk)
{
	size_t done = 0;
	for (;;) {
		size_t want = chunk ? chunk : cap - done;
		if (want > cap - done)
			want = cap - done;
		ssize_t r = read(fd, b + done, want);
		if (r < 0)
			return -1;
		if (r == 0)
			return done;
		done += r;
		if (done == cap) {
			uint8_t extra;
			r = read(fd, &extra, 1);
			return r == 0 ? (ssize_t)done : -2;
		}
	}
}

static int do_write(const char *dir, unsigned seed, size_t chunk, size_t size)
{
	char path[512];
	snprintf(path, sizeof path, "%s/g%zu", dir, size);
	uint8_t *b = malloc(size + 1);
	fill(b, size, seed);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write_all(fd, b, size, chunk) < 0 || close(fd) < 0) {
		printf("FAIL write %s: %s\n", path, strerror(errno));
		return 1;
	}
	printf("ok write %zu\n", size);
	free(b);
	return 0;
}

static int do_read(const char *dir, unsigned seed, size_t chunk, size_t size)
{
	char path[512];
	snprintf(path, sizeof path, "%s/h%zu", dir, size);
	uint8_t *b = malloc(size + 1), *want = malloc(size + 1);
	fill(want, size, seed);
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read_all(fd, b, size, chunk);
	if (n < 0) {
		printf("FAIL read %s: %s\n", path, n == -2 ? "longer than expected" : strerror(errno));
		return 1;
	}
	close(fd);
	if ((size_t)n != size || memcmp(b, want, size) != 0) {
		size_t i = 0;
		while (i < (size_t)n && i < size && b[i] == want[i])
			i++;
		printf("FAIL read %s: %zd bytes, first difference at %zu\n", path, n, i);
		return 1;
	}
	printf("ok read %zu\n", size);
	free(b);
	free(want);
	return 0;
}

/* One timed pass over the whole file; returns the bytes moved or -1. */
static ssize_t big_pass(const char *path, uint8_t *b, size_t n, int writing, double *secs)
{
	double t0 = now();
	int fd = open(path, writing ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY, 0644);
	ssize_t r = -1;
	if (fd >= 0)
		r = writing ? (write_all(fd, b, n, 0) == 0 ? (ssize_t)n : -1) : read_all(fd, b, n, 0);
	if (fd < 0 || close(fd) < 0)
		r = -1;
	*secs = now() - t0;
	return r;
}

/* Two passes: the first touches the buffer's guest memory for the first
 * time (on the host: virtiofsd faults in the shared pages), the second
 * reuses it. */
static int big(const char *path, size_t mib, int writing)
{
	size_t n = mib << 20;
	uint8_t *b = malloc(n), *want = malloc(n);
	if (!b || !want) {
		printf("FAIL big: no memory\n");
		return 1;
	}
	fill(want, n, 7);
	for (int pass = 0; pass < 2; pass++) {
		double t;
		ssize_t r = big_pass(path, writing ? want : b, n, writing, &t);
		if (r < 0) {
			printf("FAIL big %s: %s\n", path, strerror(errno));
			return 1;
		}
		printf("%s %zu MiB in %.3f s: %.1f MiB/s%s\n", writing ? "write" : "read", mib, t, mib / t,
		       pass ? " (again, same buffer)" : "");
		if (!writing && ((size_t)r != n || memcmp(b, want, n) != 0)) {
			printf("FAIL big read: content differs\n");
			return 1;
		}
	}
	printf("ok big %s\n", writing ? "write" : "read");
	return 0;
}

static int persist(const char *path, size_t size)
{
	uint8_t *b = malloc(size);
	fill(b, size, 3);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write_all(fd, b, size, 65536) < 0) {
		printf("FAIL persist: %s\n", strerror(errno));
		return 1;
	}
	printf("ok persist written\n");
	fflush(stdout);
	_exit(0);
}

int main(int argc, char **argv)
{
	if (argc >= 5 && (strcmp(argv[1], "write") == 0 || strcmp(argv[1], "read") == 0)) {
		int fails = 0;
		for (int i = 5; i < argc; i++) {
			unsigned seed = atoi(argv[3]);
			size_t chunk = strtoul(argv[4], NULL, 0), size = strtoul(argv[i], NULL, 0);
			fails += argv[1][0] == 'w' ? do_write(argv[2], seed, chunk, size) : do_read(argv[2], seed, chunk, size);
		}
		return fails != 0;
	}
	if (argc == 4 && strcmp(argv[1], "bigwrite") == 0)
		return big(argv[2], atoi(argv[3]), 1);
	if (argc == 4 && strcmp(argv[1], "bigread") == 0)
		return big(argv[2], atoi(argv[3]), 0);
	if (argc == 4 && strcmp(argv[1], "persist") == 0)
		return persist(argv[2], strtoul(argv[3], NULL, 0));
	fprintf(stderr, "usage: fs_files write|read DIR SEED CHUNK SIZE... | bigwrite|bigread FILE MIB | persist FILE SIZE\n");
	return 2;
}
