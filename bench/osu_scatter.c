/* OSU-style scatter latency: SIZE bytes from rank 0 to every rank. */
#include "osu_common.h"

static char *sbuf, *rbuf;

static void scatter(long size)
{
	MPI_Scatter(sbuf, size, MPI_CHAR, rbuf, size, MPI_CHAR, 0, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_COLL, "osu_scatter", 1 << 20);
	sbuf = bench_alloc(b.rank == 0 ? b.o.max_size * b.nranks : 1);
	rbuf = bench_alloc(b.o.max_size);
	bench_coll_run(&b, "Scatter Latency Test", "MPI_CHAR", 1, scatter);
	free(sbuf);
	free(rbuf);
	MPI_Finalize();
	return 0;
}
