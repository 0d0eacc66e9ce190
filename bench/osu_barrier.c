/* OSU-style barrier latency. */
#include "osu_common.h"

static void barrier(long size)
{
	(void)size;
	MPI_Barrier(MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_BARRIER, "osu_barrier", 0);
	bench_coll_run(&b, "Barrier Latency Test", NULL, 0, barrier);
	MPI_Finalize();
	return 0;
}
