/* OSU-style allgather latency: SIZE bytes from every rank to every rank. */
#include "osu_common.h"

static char *sbuf, *rbuf;

static void allgather(long size)
{
	MPI_Allgather(sbuf, size, MPI_CHAR, rbuf, size, MPI_CHAR, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_COLL, "osu_allgather", 1 << 20);
	sbuf = bench_alloc(b.o.max_size);
	rbuf = bench_alloc(b.o.max_size * b.nranks);
	bench_coll_run(&b, "Allgather Latency Test", "MPI_CHAR", 1, allgather);
	free(sbuf);
	free(rbuf);
	MPI_Finalize();
	return 0;
}
