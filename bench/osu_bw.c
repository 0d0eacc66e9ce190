/* OSU-style bandwidth: rank 0 sends a window of 64 messages with Isend,
 * rank 1 receives them and answers with one small message. */
#include "osu_common.h"

#define WINDOW 64

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
			fprintf(stderr, "osu_bw needs exactly 2 ranks\n");
		}
		MPI_Finalize();
		return 1;
	}
	if (o.min_size == 0)
		o.min_size = 1;
	o.iters_large = o.iters_large > 20 ? 20 : o.iters_large;
	char *buf = bench_alloc(o.max_size);
	MPI_Request req[WINDOW];
	char ack;
	if (rank == 0)
		printf("# OSU MPI Bandwidth Test (Toro bench)\n# Size      Bandwidth (MB/s)\n");
	for (long n = o.min_size; n <= o.max_size; n *= 2) {
		int iters = n > o.large ? o.iters_large : o.iters, warm = n > o.large ? o.warmup_large : o.warmup;
		double t0 = 0;
		MPI_Barrier(MPI_COMM_WORLD);
		for (int i = 0; i < iters + warm; i++) {
			if (i == warm)
				t0 = MPI_Wtime();
			if (rank == 0) {
				for (int w = 0; w < WINDOW; w++)
					MPI_Isend(buf, n, MPI_CHAR, 1, 100, MPI_COMM_WORLD, &req[w]);
				MPI_Waitall(WINDOW, req, MPI_STATUSES_IGNORE);
				MPI_Recv(&ack, 1, MPI_CHAR, 1, 101, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			} else {
				for (int w = 0; w < WINDOW; w++)
					MPI_Irecv(buf, n, MPI_CHAR, 0, 100, MPI_COMM_WORLD, &req[w]);
				MPI_Waitall(WINDOW, req, MPI_STATUSES_IGNORE);
				MPI_Send(&ack, 1, MPI_CHAR, 0, 101, MPI_COMM_WORLD);
			}
		}
		double t = MPI_Wtime() - t0;
		if (rank == 0)
			printf("%-10ld%18.2f\n", n, (double)n * iters * WINDOW / t / 1e6);
	}
	free(buf);
	MPI_Finalize();
	return 0;
}
