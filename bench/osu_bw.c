/* OSU-style bandwidth: rank 0 sends a window of 64 messages with Isend,
 * rank 1 receives them and answers with one small message. */
#include "osu_common.h"

#define WINDOW 64

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_P2P, "osu_bw", 1 << 22);
	if (b.o.min_size == 0)
		b.o.min_size = 1;
	b.o.iters_large = b.o.iters_large > 20 ? 20 : b.o.iters_large;
	char *buf = bench_alloc(b.o.max_size);
	MPI_Request req[WINDOW];
	char ack;
	bench_p2p_header(&b, "Bandwidth Test", "Bandwidth (MB/s)");
	for (long n = b.o.min_size; n <= b.o.max_size; n *= 2) {
		int iters = bench_iters(&b.o, n), warm = bench_warmup(&b.o, n);
		double t0 = 0;
		MPI_Barrier(MPI_COMM_WORLD);
		for (int i = 0; i < iters + warm; i++) {
			if (i == warm)
				t0 = MPI_Wtime();
			if (b.rank == 0) {
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
		bench_p2p_row(&b, n, (double)n * iters * WINDOW / (MPI_Wtime() - t0) / 1e6);
	}
	free(buf);
	MPI_Finalize();
	return 0;
}
