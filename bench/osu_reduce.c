/* OSU-style reduce latency: SIZE bytes of MPI_FLOAT summed to rank 0. */
#include "osu_common.h"

static float *sbuf, *rbuf;

static void reduce(long size)
{
	MPI_Reduce(sbuf, rbuf, size / sizeof(float), MPI_FLOAT, MPI_SUM, 0, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_COLL, "osu_reduce", 1 << 20);
	sbuf = bench_alloc(b.o.max_size);
	rbuf = bench_alloc(b.o.max_size);
	bench_coll_run(&b, "Reduce Latency Test", "MPI_FLOAT", sizeof(float), reduce);
	free(sbuf);
	free(rbuf);
	MPI_Finalize();
	return 0;
}
