/* Shared setup, option parsing, timing and output of the OSU-style
 * benchmarks: the same options, column layout and per-iteration timing as
 * the OSU Micro-Benchmarks 7.x, so results can be laid beside theirs and
 * one parser reads both. */
#pragma once
#include <getopt.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD_WIDTH 20
#define FLOAT_PRECISION 2
#define BENCH_MAX_SIZE (1L << 30)   /* counts are ints; keep clear of that */

enum bench_kind {
	BENCH_P2P,      /* exactly 2 ranks; -m -i -x */
	BENCH_COLL,     /* 2 ranks or more; -m -i -x -f */
	BENCH_BARRIER,  /* 2 ranks or more; -i -x -f (no sizes) */
	BENCH_P2P_MT,   /* exactly 2 ranks, MPI_THREAD_MULTIPLE; -m -i -x -t */
};

#define BENCH_MAX_THREADS 64

/* The level a BENCH_P2P_MT program asks MPI_Init_thread for. The tests
 * build with a lower one to see the refusal an MPI without
 * MPI_THREAD_MULTIPLE gets. */
#ifndef BENCH_THREAD_LEVEL
#define BENCH_THREAD_LEVEL MPI_THREAD_MULTIPLE
#endif

struct bench_opts {
	long min_size, max_size;
	int iters, iters_large, warmup, warmup_large;
	int full;          /* -f: min, max and avg columns */
	long large;        /* sizes above this use the _large counts */
	int send_threads, recv_threads;   /* -t SEND:RECV (BENCH_P2P_MT) */
};

struct bench {
	enum bench_kind kind;
	const char *name;  /* osu_bcast: for the usage text */
	int rank, nranks;
	struct bench_opts o;
};

static inline void bench_usage(const struct bench *b, FILE *f)
{
	fprintf(f, "Usage: %s [options]\nOptions:\n", b->name);
	if (b->kind != BENCH_BARRIER)
		fprintf(f, "  -m MIN:MAX  message sizes in bytes, powers of two in between\n"
			   "              (also -m MAX, -m MIN:)\n");
	if (b->kind == BENCH_BARRIER)
		fprintf(f, "  -i ITERS    timed iterations (default 1000)\n"
			   "  -x WARMUP   untimed iterations (default 100)\n");
	else
		fprintf(f, "  -i ITERS    timed iterations per size (default 1000, 100 above 8 KiB)\n"
			   "  -x WARMUP   untimed iterations per size (default 100, 10 above 8 KiB)\n");
	if (b->kind == BENCH_P2P_MT)
		fprintf(f, "  -t SEND:RECV  threads of rank 0 and of rank 1 (default 2:2, -t N: N:N, at most %d)\n",
			BENCH_MAX_THREADS);
	else if (b->kind != BENCH_P2P)
		fprintf(f, "  -f          print min and max over ranks and the iterations\n");
	fprintf(f, "  -h          print this help\n");
}

/* A whole decimal number in [lo, hi]; -1 if s is not one. */
static inline long bench_number(const char *s, long lo, long hi)
{
	char *end;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	long v = strtol(s, &end, 10);
	return *end || v < lo || v > hi ? -1 : v;
}

/* -m MIN:MAX, -m MAX or -m MIN: */
static inline int bench_sizes(const char *arg, struct bench_opts *o)
{
	const char *colon = strchr(arg, ':');
	if (!colon)
		return (o->max_size = bench_number(arg, 0, BENCH_MAX_SIZE)) < 0 ? -1 : 0;
	char min[32];
	size_t n = colon - arg;
	if (n >= sizeof min)
		return -1;
	memcpy(min, arg, n);
	min[n] = 0;
	if ((o->min_size = bench_number(min, 0, BENCH_MAX_SIZE)) < 0)
		return -1;
	if (colon[1] && (o->max_size = bench_number(colon + 1, 0, BENCH_MAX_SIZE)) < 0)
		return -1;
	return 0;
}

/* -t SEND:RECV or -t N (both N). */
static inline int bench_threads(const char *arg, struct bench_opts *o)
{
	const char *colon = strchr(arg, ':');
	char send[32];
	size_t n = colon ? (size_t)(colon - arg) : strlen(arg);
	if (n >= sizeof send)
		return -1;
	memcpy(send, arg, n);
	send[n] = 0;
	o->send_threads = bench_number(send, 1, BENCH_MAX_THREADS);
	o->recv_threads = colon ? bench_number(colon + 1, 1, BENCH_MAX_THREADS) : o->send_threads;
	return o->send_threads < 0 || o->recv_threads < 0 ? -1 : 0;
}

static inline int bench_is_p2p(enum bench_kind kind)
{
	return kind == BENCH_P2P || kind == BENCH_P2P_MT;
}

/* 0: run; 1: -h; -1: bad command line (*bad says what). */
static inline int bench_parse(int argc, char **argv, struct bench *b, long def_max, char *bad, size_t badlen)
{
	const char *optstring = b->kind == BENCH_P2P ? ":m:i:x:h" :
				b->kind == BENCH_P2P_MT ? ":m:i:x:t:h" :
				b->kind == BENCH_COLL ? ":m:i:x:fh" : ":i:x:fh";
	struct bench_opts *o = &b->o;
	*o = (struct bench_opts){0, def_max, 1000, 100, 100, 10, 0, 8192, 2, 2};
	int c;
	long v;
	opterr = 0;   /* every rank parses; only rank 0 reports */
	while ((c = getopt(argc, argv, optstring)) != -1) {
		switch (c) {
		case 'm':
			if (bench_sizes(optarg, o) < 0)
				goto badarg;
			break;
		case 'i':
			if ((v = bench_number(optarg, 1, 1 << 30)) < 0)
				goto badarg;
			o->iters = o->iters_large = v;
			break;
		case 'x':
			if ((v = bench_number(optarg, 0, 1 << 30)) < 0)
				goto badarg;
			o->warmup = o->warmup_large = v;
			break;
		case 't':
			if (bench_threads(optarg, o) < 0)
				goto badarg;
			break;
		case 'f': o->full = 1; break;
		case 'h': return 1;
		case ':':
			snprintf(bad, badlen, "option -%c needs an argument", optopt);
			return -1;
		default:
			snprintf(bad, badlen, "invalid option -%c", optopt);
			return -1;
		}
	}
	if (optind < argc) {
		snprintf(bad, badlen, "unexpected argument %s", argv[optind]);
		return -1;
	}
	if (o->max_size < o->min_size) {
		snprintf(bad, badlen, "invalid sizes: MIN %ld is above MAX %ld", o->min_size, o->max_size);
		return -1;
	}
	return 0;
badarg:
	snprintf(bad, badlen, "invalid argument -%c %s", c, optarg);
	return -1;
}

/* MPI_Init, the options and the number of ranks. Returns only if the
 * benchmark is to run; otherwise rank 0 says why (with the usage), every
 * rank finalizes and exits: 0 after -h, 1 after a bad command line. */
static inline void bench_init(struct bench *b, int *argc, char ***argv, enum bench_kind kind,
		       const char *name, long def_max)
{
	char bad[160] = "";
	*b = (struct bench){.kind = kind, .name = name};
	int provided = MPI_THREAD_MULTIPLE;
	if (kind == BENCH_P2P_MT)
		MPI_Init_thread(argc, argv, BENCH_THREAD_LEVEL, &provided);
	else
		MPI_Init(argc, argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &b->rank);
	MPI_Comm_size(MPI_COMM_WORLD, &b->nranks);
	if (provided != MPI_THREAD_MULTIPLE) {   /* OSU's words */
		if (b->rank == 0)
			fprintf(stderr, "MPI_Init_thread must return MPI_THREAD_MULTIPLE!\n");
		MPI_Finalize();
		exit(1);
	}
	int rc = bench_parse(*argc, *argv, b, def_max, bad, sizeof bad);
	if (rc == 0 && bench_is_p2p(kind) && b->nranks != 2)
		rc = -2;
	if (rc == 0 && !bench_is_p2p(kind) && b->nranks < 2)
		rc = -2;
	if (rc == 0)
		return;
	if (b->rank == 0) {
		if (rc == 1) {
			bench_usage(b, stdout);
		} else if (rc == -1) {
			fprintf(stderr, "%s: %s\n", name, bad);
			bench_usage(b, stderr);
		} else {
			fprintf(stderr, "%s: this test requires %s two processes\n",
				name, bench_is_p2p(kind) ? "exactly" : "at least");
		}
	}
	MPI_Finalize();
	exit(rc == 1 ? 0 : 1);
}

static inline int bench_iters(const struct bench_opts *o, long size)
{
	return size > o->large ? o->iters_large : o->iters;
}

static inline int bench_warmup(const struct bench_opts *o, long size)
{
	return size > o->large ? o->warmup_large : o->warmup;
}

/* The next size of the sweep: powers of two, 0 then 1 when MIN is 0. */
static inline long bench_next(long size)
{
	return size ? size * 2 : 1;
}

static inline void *bench_alloc(size_t n)
{
	void *p = NULL;
	if (posix_memalign(&p, 4096, n ? n : 1) != 0) {
		fprintf(stderr, "out of memory for %zu bytes\n", n);
		MPI_Abort(MPI_COMM_WORLD, 1);
	}
	memset(p, 'a', n);
	return p;
}

/* Point to point: "# OSU MPI <title>", the datatype, "# Size  <column>". */
static inline void bench_p2p_header(const struct bench *b, const char *title, const char *column)
{
	if (b->rank != 0)
		return;
	printf("# OSU MPI %s (Toro bench)\n# Datatype: MPI_CHAR.\n", title);
	printf("%-*s%*s\n", 10, "# Size", FIELD_WIDTH, column);
	fflush(stdout);
}

static inline void bench_p2p_row(const struct bench *b, long size, double value)
{
	if (b->rank != 0)
		return;
	printf("%-*ld%*.*f\n", 10, size, FIELD_WIDTH, FLOAT_PRECISION, value);
	fflush(stdout);
}

/* Collectives: a blank line, "# OSU MPI <title>", the datatype (none for
 * the barrier), then "# Size  Avg Latency(us)" (barrier: no size) and with
 * -f the min, max and iterations columns. */
static inline void bench_coll_header(const struct bench *b, const char *title, const char *dtype)
{
	if (b->rank != 0)
		return;
	printf("\n# OSU MPI %s (Toro bench)\n", title);
	if (dtype)
		printf("# Datatype: %s.\n", dtype);
	if (b->kind == BENCH_BARRIER)
		printf("# Avg Latency(us)");
	else
		printf("%-*s%*s", 10, "# Size", FIELD_WIDTH, "Avg Latency(us)");
	if (b->o.full)
		printf("%*s%*s%*s", FIELD_WIDTH, "Min Latency(us)", FIELD_WIDTH, "Max Latency(us)",
		       12, "Iterations");
	printf("\n");
	fflush(stdout);
}

/* One row from each rank's mean latency (us): min, max and average over
 * the ranks, reduced to rank 0, which prints. */
static inline void bench_coll_row(const struct bench *b, long size, double lat, int iters)
{
	double min, max, sum;
	MPI_Reduce(&lat, &min, 1, MPI_DOUBLE, MPI_MIN, 0, MPI_COMM_WORLD);
	MPI_Reduce(&lat, &max, 1, MPI_DOUBLE, MPI_MAX, 0, MPI_COMM_WORLD);
	MPI_Reduce(&lat, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
	if (b->rank == 0) {
		if (b->kind == BENCH_BARRIER)
			printf("%*.*f", 17, FLOAT_PRECISION, sum / b->nranks);
		else
			printf("%-*ld%*.*f", 10, size, FIELD_WIDTH, FLOAT_PRECISION, sum / b->nranks);
		if (b->o.full)
			printf("%*.*f%*.*f%*d", FIELD_WIDTH, FLOAT_PRECISION, min,
			       FIELD_WIDTH, FLOAT_PRECISION, max, 12, iters);
		printf("\n");
		fflush(stdout);
	}
	MPI_Barrier(MPI_COMM_WORLD);
}

/* This rank's mean time of op(size) in us, as OSU 7 times a collective:
 * each iteration alone, followed by a barrier that is not timed. */
static inline double bench_coll_time(const struct bench_opts *o, long size, void (*op)(long size))
{
	int iters = bench_iters(o, size), warm = bench_warmup(o, size);
	double sum = 0;
	MPI_Barrier(MPI_COMM_WORLD);
	for (int i = 0; i < warm + iters; i++) {
		double t0 = MPI_Wtime();
		op(size);
		double t = MPI_Wtime() - t0;
		MPI_Barrier(MPI_COMM_WORLD);
		if (i >= warm)
			sum += t;
	}
	return sum * 1e6 / iters;
}

/* The whole sweep of a collective benchmark: sizes from MIN (at least
 * unit, the element size) to MAX, one row each; the barrier runs once. */
static inline void bench_coll_run(const struct bench *b, const char *title, const char *dtype,
			   long unit, void (*op)(long size))
{
	bench_coll_header(b, title, dtype);
	if (b->kind == BENCH_BARRIER) {
		bench_coll_row(b, 0, bench_coll_time(&b->o, 0, op), bench_iters(&b->o, 0));
		return;
	}
	for (long n = b->o.min_size < unit ? unit : b->o.min_size; n <= b->o.max_size; n *= 2)
		bench_coll_row(b, n, bench_coll_time(&b->o, n, op), bench_iters(&b->o, n));
}
