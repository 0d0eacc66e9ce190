/* The floor under any message between two cores: one cache line bounced
 * between two cores. Player 0 writes an odd value into the line and spins
 * until player 1 has answered with the next even one; half of that round
 * trip is the least a message from one core to another can cost.
 *
 * Under Toro (AT_TORO in the auxiliary vector) the players are ranks 0
 * and 1 (cores 0 and 1; toro-run -n 2) and the line is the first of the
 * kernel's shared area; ranks above 1 exit at once. Elsewhere (Linux:
 * gcc -O2 -pthread bounce.c) two threads pinned to two CPUs play.
 *
 *   bounce [-i ITERS] [-r ROUNDS]
 *
 * prints, one "key value" a line (the time is the best round's, in ns):
 *   bounce_mode toro|pthread
 *   bounce_iterations ITERS
 *   bounce_rounds ROUNDS
 *   bounce_half_rtt_ns VALUE */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>
#include "../mpi/svc.h"

struct line {
	_Atomic uint64_t v;
} __attribute__((aligned(64)));

static long iters = 100000, rounds = 5;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void wait_for(struct line *l, uint64_t v)
{
	while (atomic_load_explicit(&l->v, memory_order_acquire) != v)
		;
}

/* One untimed round first: it also waits for the other player to start. */
static double player0(struct line *l)
{
	uint64_t seq = 0;
	double best = 0;
	for (long r = 0; r <= rounds; r++) {
		double t0 = now_ns();
		for (long i = 0; i < iters; i++) {
			atomic_store_explicit(&l->v, ++seq, memory_order_release);
			wait_for(l, ++seq);
		}
		double half = (now_ns() - t0) / (2.0 * iters);
		if (r > 0 && (best == 0 || half < best))
			best = half;
	}
	return best;
}

static void player1(struct line *l)
{
	uint64_t seq = 0;
	for (long k = 0; k < (rounds + 1) * iters; k++) {
		wait_for(l, ++seq);
		atomic_store_explicit(&l->v, ++seq, memory_order_release);
	}
}

static void report(const char *mode, double half)
{
	printf("bounce_mode %s\nbounce_iterations %ld\nbounce_rounds %ld\nbounce_half_rtt_ns %.1f\n",
	       mode, iters, rounds, half);
}

static void pin(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0)
		perror("bounce: sched_setaffinity");
}

static struct line host_line;
static int host_cpu[2] = {-1, -1};

static void *host_player1(void *arg)
{
	(void)arg;
	if (host_cpu[1] >= 0)
		pin(host_cpu[1]);
	player1(&host_line);
	return NULL;
}

/* Not under Toro: the first two CPUs this process may run on. */
static int run_threads(void)
{
	cpu_set_t set;
	int n = 0;
	if (sched_getaffinity(0, sizeof set, &set) == 0)
		for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
			if (CPU_ISSET(c, &set))
				host_cpu[n++] = c;
	if (n < 2) {
		fprintf(stderr, "bounce: fewer than 2 CPUs; the threads are not pinned\n");
		host_cpu[0] = host_cpu[1] = -1;
	}
	pthread_t t;
	if (pthread_create(&t, NULL, host_player1, NULL) != 0) {
		fprintf(stderr, "bounce: pthread_create failed\n");
		return 1;
	}
	if (host_cpu[0] >= 0)
		pin(host_cpu[0]);
	double half = player0(&host_line);
	pthread_join(t, NULL);
	report("pthread", half);
	return 0;
}

static long positive(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *s && !*end && v > 0 && v <= 1L << 40 ? v : -1;
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "i:r:")) != -1) {
		if (c == 'i' && (iters = positive(optarg)) > 0)
			continue;
		if (c == 'r' && (rounds = positive(optarg)) > 0)
			continue;
		fprintf(stderr, "Usage: %s [-i ITERS] [-r ROUNDS]\n"
				"  -i ITERS   round trips per round (default 100000)\n"
				"  -r ROUNDS  timed rounds; the best is printed (default 5)\n", argv[0]);
		return 1;
	}
	struct toro_svc *svc = (struct toro_svc *)getauxval(AT_TORO);
	if (!svc)
		return run_threads();
	if (svc->nranks < 2) {
		fprintf(stderr, "bounce: needs 2 ranks (toro-run -n 2)\n");
		return 1;
	}
	struct line *l = svc->shared;
	if (svc->rank == 0)
		report("toro", player0(l));
	else if (svc->rank == 1)
		player1(l);
	return 0;
}
