/* OSU-style multi-threaded latency: MPI_THREAD_MULTIPLE, 2 ranks, rank 0
 * with SEND threads and rank 1 with RECV threads (-t SEND:RECV). As in
 * OSU's osu_latency_mt, iteration i of a size is one ping-pong with tag i
 * between sender thread i mod SEND and receiver thread i mod RECV, so
 * with SEND = RECV each pair of threads ping-pongs on its own tags,
 * concurrently with the others. The latency is half the round trip one
 * sender thread sees: the wall time of the timed iterations divided by
 * 2 x (iterations / SEND). The rank's first thread is thread 0. */
#include <pthread.h>
#include <stdint.h>
#include "osu_common.h"

static struct bench b;
static pthread_barrier_t step;
static int nthreads;

/* This thread's share of iterations 0..count-1: ping-pongs with tag i. */
static void share(int t, long size, int count, char *s, char *r)
{
	int mine = b.rank == 0 ? b.o.send_threads : b.o.recv_threads;
	for (int i = t; i < count; i += mine) {
		if (b.rank == 0) {
			MPI_Send(s, size, MPI_CHAR, 1, i, MPI_COMM_WORLD);
			MPI_Recv(r, size, MPI_CHAR, 1, i, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
		} else {
			MPI_Recv(r, size, MPI_CHAR, 0, i, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
			MPI_Send(s, size, MPI_CHAR, 0, i, MPI_COMM_WORLD);
		}
	}
}

/* The whole sweep as thread t; thread 0 synchronises the ranks, times
 * and prints between the barriers of the rank's threads. */
static void *sweep(void *arg)
{
	int t = (int)(intptr_t)arg;
	char *s = bench_alloc(b.o.max_size), *r = bench_alloc(b.o.max_size);
	for (long n = b.o.min_size; n <= b.o.max_size; n = bench_next(n)) {
		double t0 = 0;
		if (t == 0)
			MPI_Barrier(MPI_COMM_WORLD);
		pthread_barrier_wait(&step);
		share(t, n, bench_warmup(&b.o, n), s, r);
		pthread_barrier_wait(&step);
		if (t == 0) {
			MPI_Barrier(MPI_COMM_WORLD);
			t0 = MPI_Wtime();
		}
		pthread_barrier_wait(&step);
		share(t, n, bench_iters(&b.o, n), s, r);
		pthread_barrier_wait(&step);
		if (t == 0) {
			double per_thread = (double)bench_iters(&b.o, n) / b.o.send_threads;
			bench_p2p_row(&b, n, (MPI_Wtime() - t0) * 1e6 / (2.0 * per_thread));
		}
	}
	free(s);
	free(r);
	return NULL;
}

int main(int argc, char **argv)
{
	bench_init(&b, &argc, &argv, BENCH_P2P_MT, "osu_latency_mt", 1 << 22);
	int tag_ub, *ub, flag;
	MPI_Comm_get_attr(MPI_COMM_WORLD, MPI_TAG_UB, &ub, &flag);
	tag_ub = flag ? *ub : 32767;
	if (b.o.iters > tag_ub || b.o.warmup > tag_ub) {
		if (b.rank == 0)
			fprintf(stderr, "osu_latency_mt: at most %d iterations (MPI_TAG_UB)\n", tag_ub);
		MPI_Finalize();
		return 1;
	}
	nthreads = b.rank == 0 ? b.o.send_threads : b.o.recv_threads;
	pthread_t th[BENCH_MAX_THREADS];
	pthread_barrier_init(&step, NULL, nthreads);
	if (b.rank == 0) {   /* bench_p2p_header's lines, OSU's thread counts before the columns */
		printf("# OSU MPI Multi-threaded Latency Test (Toro bench)\n# Datatype: MPI_CHAR.\n"
		       "# Number of Sender threads: %d\n# Number of Receiver threads: %d\n",
		       b.o.send_threads, b.o.recv_threads);
		printf("%-*s%*s\n", 10, "# Size", FIELD_WIDTH, "Latency (us)");
		fflush(stdout);
	}
	for (int t = 1; t < nthreads; t++) {
		int rc = pthread_create(&th[t], NULL, sweep, (void *)(intptr_t)t);
		if (rc) {
			fprintf(stderr, "osu_latency_mt: pthread_create: %s\n", strerror(rc));
			MPI_Abort(MPI_COMM_WORLD, 1);
		}
	}
	sweep((void *)0);
	for (int t = 1; t < nthreads; t++)
		pthread_join(th[t], NULL);
	pthread_barrier_destroy(&step);
	MPI_Finalize();
	return 0;
}
