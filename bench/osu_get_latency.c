/* OSU-style MPI_Get latency: one get of each size, then MPI_Win_flush. */
#include "osu_rma.h"

static void one(struct rma_bench *r, long n)
{
	MPI_Get(r->result, n, MPI_CHAR, 1, 0, n, MPI_CHAR, r->win);
	MPI_Win_flush(1, r->win);
}

int main(int argc, char **argv)
{
	struct rma_bench r;
	rma_init(&r, &argc, &argv, "osu_get_latency", "Get Latency Test", "MPI_CHAR", "Latency (us)", 1 << 22);
	for (long n = r.b.o.min_size; n <= r.b.o.max_size; n = bench_next(n))
		bench_p2p_row(&r.b, n, rma_time(&r, n, one) * 1e6);
	return rma_finish(&r);
}
