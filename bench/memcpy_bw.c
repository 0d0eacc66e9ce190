/* The floor under large messages: memcpy bandwidth of one core, 1 MiB at
 * a time from a warm source to a warm destination (both in cache as far
 * as they fit), best of several repetitions. No MPI: under Toro rank 0
 * measures and the other ranks exit; on Linux (gcc -O2) it simply runs.
 *
 *   memcpy_bw [-s BYTES] [-n COPIES] [-r REPS]
 *
 * prints, one "key value" a line (MB = 10^6 bytes, as OSU's MB/s):
 *   memcpy_bytes BYTES
 *   memcpy_copies COPIES
 *   memcpy_reps REPS
 *   memcpy_bw_mbs VALUE */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>
#include "../mpi/svc.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static long positive(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *s && !*end && v > 0 && v <= 1L << 40 ? v : -1;
}

int main(int argc, char **argv)
{
	long size = 1 << 20, copies = 64, reps = 10;
	int c;
	while ((c = getopt(argc, argv, "s:n:r:")) != -1) {
		if (c == 's' && (size = positive(optarg)) > 0)
			continue;
		if (c == 'n' && (copies = positive(optarg)) > 0)
			continue;
		if (c == 'r' && (reps = positive(optarg)) > 0)
			continue;
		fprintf(stderr, "Usage: %s [-s BYTES] [-n COPIES] [-r REPS]\n"
				"  -s BYTES   bytes per memcpy (default 1048576)\n"
				"  -n COPIES  memcpy calls per repetition (default 64)\n"
				"  -r REPS    timed repetitions; the best is printed (default 10)\n", argv[0]);
		return 1;
	}
	struct toro_svc *svc = (struct toro_svc *)getauxval(AT_TORO);
	if (svc && svc->rank != 0)
		return 0;
	char *src = malloc(size), *dst = malloc(size);
	if (!src || !dst) {
		fprintf(stderr, "memcpy_bw: out of memory for 2 x %ld bytes\n", size);
		return 1;
	}
	memset(src, 'a', size);
	memset(dst, 'b', size);
	double best = 0;
	for (long r = -1; r < reps; r++) {   /* r == -1: warming up, not timed */
		double t0 = now_s();
		for (long i = 0; i < copies; i++) {
			memcpy(dst, src, size);
			__asm__ volatile("" : : "r"(dst) : "memory");   /* every copy happens */
		}
		double mbs = (double)size * copies / (now_s() - t0) / 1e6;
		if (r >= 0 && mbs > best)
			best = mbs;
	}
	if (dst[size - 1] != 'a') {
		fprintf(stderr, "memcpy_bw: the copy is wrong\n");
		return 1;
	}
	printf("memcpy_bytes %ld\nmemcpy_copies %ld\nmemcpy_reps %ld\nmemcpy_bw_mbs %.1f\n", size, copies, reps, best);
	free(src);
	free(dst);
	return 0;
}
