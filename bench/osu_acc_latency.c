/* OSU-style MPI_Accumulate latency: one MPI_SUM accumulate of each size,
 * then MPI_Win_flush. The data are MPI_INT (size / 4 of them; OSU uses
 * MPI_CHAR, which the MPI standard leaves out of MPI_SUM). */
#include "osu_rma.h"

static void one(struct rma_bench *r, long n)
{
	MPI_Accumulate(r->origin, (int)(n / 4), MPI_INT, 1, 0, (int)(n / 4), MPI_INT, MPI_SUM, r->win);
	MPI_Win_flush(1, r->win);
}

int main(int argc, char **argv)
{
	struct rma_bench r;
	rma_init(&r, &argc, &argv, "osu_acc_latency", "Accumulate latency Test", "MPI_INT", "Latency (us)", 1 << 22);
	for (long n = r.b.o.min_size; n <= r.b.o.max_size; n = bench_next(n))
		if (n == 0 || n >= 4)
			bench_p2p_row(&r.b, n, rma_time(&r, n, one) * 1e6);
	return rma_finish(&r);
}
