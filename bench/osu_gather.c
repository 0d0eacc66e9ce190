/* OSU-style gather latency: SIZE bytes from every rank to rank 0. */
#include "osu_common.h"

static char *sbuf, *rbuf;

static void gather(long size)
{
	MPI_Gather(sbuf, size, MPI_CHAR, rbuf, size, MPI_CHAR, 0, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_COLL, "osu_gather", 1 << 20);
	sbuf = bench_alloc(b.o.max_size);
	rbuf = bench_alloc(b.rank == 0 ? b.o.max_size * b.nranks : 1);
	bench_coll_run(&b, "Gather Latency Test", "MPI_CHAR", 1, gather);
	free(sbuf);
	free(rbuf);
	MPI_Finalize();
	return 0;
}
