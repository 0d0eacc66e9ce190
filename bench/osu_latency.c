/* OSU-style latency: ping-pong between ranks 0 and 1; half the round trip. */
#include "osu_common.h"

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_P2P, "osu_latency", 1 << 22);
	char *s = bench_alloc(b.o.max_size), *r = bench_alloc(b.o.max_size);
	bench_p2p_header(&b, "Latency Test", "Latency (us)");
	for (long n = b.o.min_size; n <= b.o.max_size; n = bench_next(n)) {
		int iters = bench_iters(&b.o, n), warm = bench_warmup(&b.o, n);
		double t0 = 0;
		MPI_Barrier(MPI_COMM_WORLD);
		for (int i = 0; i < iters + warm; i++) {
			if (i == warm)
				t0 = MPI_Wtime();
			if (b.rank == 0) {
				MPI_Send(s, n, MPI_CHAR, 1, 1, MPI_COMM_WORLD);
				MPI_Recv(r, n, MPI_CHAR, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			} else {
				MPI_Recv(r, n, MPI_CHAR, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
				MPI_Send(s, n, MPI_CHAR, 0, 1, MPI_COMM_WORLD);
			}
		}
		bench_p2p_row(&b, n, (MPI_Wtime() - t0) * 1e6 / (2.0 * iters));
	}
	free(s);
	free(r);
	MPI_Finalize();
	return 0;
}
