/* OSU-style bidirectional bandwidth: both ranks post a window of 64
 * receives, then send a window of 64 messages to each other, and wait for
 * all of them; the bytes of both directions count. */
#include "osu_common.h"

#define WINDOW 64

int main(int argc, char **argv)
{
	struct bench b;
	bench_init(&b, &argc, &argv, BENCH_P2P, "osu_bibw", 1 << 22);
	if (b.o.min_size == 0)
		b.o.min_size = 1;
	b.o.iters_large = b.o.iters_large > 20 ? 20 : b.o.iters_large;
	char *s = bench_alloc(b.o.max_size), *r = bench_alloc(b.o.max_size);
	MPI_Request sreq[WINDOW], rreq[WINDOW];
	int peer = 1 - b.rank;
	bench_p2p_header(&b, "Bi-Directional Bandwidth Test", "Bandwidth (MB/s)");
	for (long n = b.o.min_size; n <= b.o.max_size; n *= 2) {
		int iters = bench_iters(&b.o, n), warm = bench_warmup(&b.o, n);
		double t0 = 0;
		MPI_Barrier(MPI_COMM_WORLD);
		for (int i = 0; i < iters + warm; i++) {
			if (i == warm)
				t0 = MPI_Wtime();
			for (int w = 0; w < WINDOW; w++)
				MPI_Irecv(r, n, MPI_CHAR, peer, 10, MPI_COMM_WORLD, &rreq[w]);
			for (int w = 0; w < WINDOW; w++)
				MPI_Isend(s, n, MPI_CHAR, peer, 10, MPI_COMM_WORLD, &sreq[w]);
			MPI_Waitall(WINDOW, sreq, MPI_STATUSES_IGNORE);
			MPI_Waitall(WINDOW, rreq, MPI_STATUSES_IGNORE);
		}
		bench_p2p_row(&b, n, 2.0 * n * iters * WINDOW / (MPI_Wtime() - t0) / 1e6);
	}
	free(s);
	free(r);
	MPI_Finalize();
	return 0;
}
