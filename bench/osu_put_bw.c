/* OSU-style MPI_Put bandwidth: RMA_WINDOW_SIZE puts of each size, then
 * one MPI_Win_flush; MB/s = bytes moved / time. */
#include "osu_rma.h"

static void window(struct rma_bench *r, long n)
{
	for (int i = 0; i < RMA_WINDOW_SIZE; i++)
		MPI_Put(r->origin, n, MPI_CHAR, 1, 0, n, MPI_CHAR, r->win);
	MPI_Win_flush(1, r->win);
}

int main(int argc, char **argv)
{
	struct rma_bench r;
	rma_init(&r, &argc, &argv, "osu_put_bw", "Put Bandwidth Test", "MPI_CHAR", "Bandwidth (MB/s)", 1 << 22);
	for (long n = r.b.o.min_size ? r.b.o.min_size : 1; n <= r.b.o.max_size; n = bench_next(n)) {
		double t = rma_time(&r, n, window);
		bench_p2p_row(&r.b, n, t > 0 ? n * (double)RMA_WINDOW_SIZE / t / 1e6 : 0);
	}
	return rma_finish(&r);
}
