/* The one-sided benchmarks in OSU's style (osu_put_latency, osu_get_latency,
 * osu_put_bw, osu_get_bw, osu_acc_latency): rank 0 is the origin, rank 1
 * the target; the window is made with MPI_Win_allocate and rank 0 holds a
 * lock on rank 1 for the whole sweep, completing operations with
 * MPI_Win_flush (OSU's "-w allocate -s flush", their default). */
#pragma once
#include "osu_common.h"

#define RMA_WINDOW_SIZE 64           /* operations per flush in the bandwidth tests */

struct rma_bench {
	struct bench b;
	char *origin, *result, *base;
	MPI_Win win;
};

static inline void rma_init(struct rma_bench *r, int *argc, char ***argv, const char *name, const char *title,
			    const char *dtype, const char *column, long max)
{
	bench_init(&r->b, argc, argv, BENCH_P2P, name, max);
	r->origin = bench_alloc(r->b.o.max_size);
	r->result = bench_alloc(r->b.o.max_size);
	MPI_Win_allocate(r->b.o.max_size ? r->b.o.max_size : 1, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &r->base, &r->win);
	memset(r->base, 'b', r->b.o.max_size);
	if (r->b.rank == 0) {
		printf("# OSU MPI_%s (Toro bench)\n# Datatype: %s.\n# Window creation: MPI_Win_allocate\n"
		       "# Synchronization: MPI_Win_flush\n", title, dtype);
		printf("%-*s%*s\n", 10, "# Size", FIELD_WIDTH, column);
		fflush(stdout);
	}
	MPI_Barrier(MPI_COMM_WORLD);
	if (r->b.rank == 0)
		MPI_Win_lock(MPI_LOCK_SHARED, 1, 0, r->win);
}

/* Times iters calls of op (after warm untimed ones) at rank 0; op does
 * one operation of `size` bytes (latency) or a window of them (bw).
 * Returns seconds per call. The target only waits at the barrier. */
static inline double rma_time(struct rma_bench *r, long size, void (*op)(struct rma_bench *, long))
{
	int iters = bench_iters(&r->b.o, size), warm = bench_warmup(&r->b.o, size);
	double t0 = 0, t = 0;
	if (r->b.rank == 0) {
		for (int i = 0; i < iters + warm; i++) {
			if (i == warm)
				t0 = MPI_Wtime();
			op(r, size);
		}
		t = (MPI_Wtime() - t0) / iters;
	}
	MPI_Barrier(MPI_COMM_WORLD);
	return t;
}

static inline int rma_finish(struct rma_bench *r)
{
	if (r->b.rank == 0)
		MPI_Win_unlock(1, r->win);
	MPI_Win_free(&r->win);
	free(r->origin);
	free(r->result);
	MPI_Finalize();
	return 0;
}
