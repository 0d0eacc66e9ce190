/* OSU-style broadcast latency: rank 0 broadcasts SIZE bytes. */
#include "osu_common.h"

static char *buf;

static void bcast(long size)
{
	MPI_Bcast(buf, size, MPI_CHAR, 0, MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_COLL, "osu_bcast", 1 << 20);
	buf = bench_alloc(b.o.max_size);
	bench_coll_run(&b, "Broadcast Latency Test", "MPI_CHAR", 1, bcast);
	free(buf);
	MPI_Finalize();
	return 0;
}
