/* Shared option parsing and output of the OSU-style benchmarks: the same
 * options and column layout as the OSU Micro-Benchmarks, so results can
 * be laid beside theirs. */
#pragma once
#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bench_opts {
	long min_size, max_size;
	int iters, iters_large, warmup, warmup_large;
	int full;          /* -f: min, max and avg columns */
	long large;        /* sizes above this use the _large counts */
};

static void bench_usage(const char *prog)
{
	fprintf(stderr, "Usage: %s [-m MIN:MAX] [-i ITERS] [-x WARMUP] [-f]\n"
			"  -m MIN:MAX  message sizes in bytes (powers of two in between)\n"
			"  -i ITERS    timed iterations per size (default 1000, 100 above 8 KiB)\n"
			"  -x WARMUP   untimed iterations per size (default 100, 10 above 8 KiB)\n"
			"  -f          print min, max and average over ranks\n", prog);
}

static int bench_parse(int argc, char **argv, struct bench_opts *o, long def_max)
{
	*o = (struct bench_opts){0, def_max, 1000, 100, 100, 10, 0, 8192};
	int c;
	while ((c = getopt(argc, argv, "m:i:x:fh")) != -1) {
		switch (c) {
		case 'm': {
			char *colon = strchr(optarg, ':');
			if (colon) {
				o->min_size = atol(optarg);
				o->max_size = atol(colon + 1);
			} else {
				o->max_size = atol(optarg);
			}
			break;
		}
		case 'i': o->iters = o->iters_large = atoi(optarg); break;
		case 'x': o->warmup = o->warmup_large = atoi(optarg); break;
		case 'f': o->full = 1; break;
		default: return -1;
		}
	}
	if (o->min_size < 0 || o->max_size < o->min_size || o->iters < 1 || o->warmup < 0)
		return -1;
	return 0;
}

static void *bench_alloc(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 4096, n ? n : 1) != 0) {
		fprintf(stderr, "out of memory for %zu bytes\n", n);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	memset(p, 'a', n);
	return p;
}
