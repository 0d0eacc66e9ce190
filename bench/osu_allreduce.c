/* OSU-style allreduce latency: SIZE bytes of MPI_FLOAT summed on all ranks. */
#include "osu_common.h"

static float *sbuf, *rbuf;

static void allreduce(long size)
{
	MPI_Allreduce(sbuf, rbuf, size / sizeof(float), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_COLL, "osu_allreduce", 1 << 20);
	sbuf = bench_alloc(b.o.max_size);
	rbuf = bench_alloc(b.o.max_size);
	bench_coll_run(&b, "Allreduce Latency Test", "MPI_FLOAT", sizeof(float), allreduce);
	free(sbuf);
	free(rbuf);
	MPI_Finalize();
	return 0;
}
