/* OSU-style latency: ping-pong between ranks 0 and 1; half the round trip. */
#include "osu_common.h"

int main(int argc, char **argv)
{
	int rank, size;
	struct bench_opts o;
	MPI_Init(&argc, &argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &rank);
	MPI_Comm_size(MPI_COMM_WORLD, &size);
	if (bench_parse(argc, argv, &o, 1 << 22) < 0 || size != 2) {
		if (rank == 0) {
			bench_usage(argv[0]);
			fprintf(stderr, "osu_latency needs exactly 2 ranks\n");
		}
		MPI_Finalize();
		return 1;
	}
	char *s = bench_alloc(o.max_size), *r = bench_alloc(o.max_size);
	if (rank == 0)
		printf("# OSU MPI Latency Test (Toro bench)\n# Size          Latency (us)\n");
	for (long n = o.min_size; n <= o.max_size; n = n ? n * 2 : 1) {
		int iters = n > o.large ? o.iters_large : o.iters, warm = n > o.large ? o.warmup_large : o.warmup;
		double t0 = 0;
		MPI_Barrier(MPI_COMM_WORLD);
		for (int i = 0; i < iters + warm; i++) {
			if (i == warm)
				t0 = MPI_Wtime();
			if (rank == 0) {
				MPI_Send(s, n, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
				MPI_Recv(r, n, MPI_CHAR, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			} else {
				MPI_Recv(r, n, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
				MPI_Send(s, n, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
			}
		}
		double lat = (MPI_Wtime() - t0) * 1e6 / (2.0 * iters);
		if (rank == 0)
			printf("%-10ld%18.2f\n", n, lat);
	}
	free(s);
	free(r);
	MPI_Finalize();
	return 0;
}
