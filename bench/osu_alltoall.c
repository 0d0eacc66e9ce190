/* OSU-style all-to-all latency: SIZE bytes from every rank to every rank,
 * a different block to each. */
#include "osu_common.h"

static char *sbuf, *rbuf;

static void alltoall(long size)
{
	MPI_Alltoall(sbuf, size, MPI_CHAR, rbuf, size, MPI_CHAR, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_COLL, "osu_alltoall", 1 << 20);
	sbuf = bench_alloc(b.o.max_size * b.nranks);
	rbuf = bench_alloc(b.o.max_size * b.nranks);
	bench_coll_run(&b, "All-to-All Personalized Exchange Latency Test", "MPI_CHAR", 1, alltoall);
	free(sbuf);
	free(rbuf);
	MPI_Finalize();
	return 0;
}
