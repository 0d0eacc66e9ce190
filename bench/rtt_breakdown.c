/* Where one 8-byte round trip between ranks 0 and 1 goes (Toro only,
 * toro-run -n 2): the best of ROUNDS rounds of ITERS round trips each of
 *   floor   a cache line bounced between the two cores (kernel's shared area)
 *   ring    8-byte messages through the VirtIOBus service table directly
 *           (get_buf, post, peek, release; spinning, no MPI)
 *   mpi     MPI_Send / MPI_Recv of 8 bytes
 * and, timed with the TSC on rank 0 in the MPI round trips: the cycles
 * inside MPI_Send, inside MPI_Recv of a message that has already arrived
 * (rank 1 answers at once, rank 0 waits on the pending flag before
 * calling MPI_Recv), and the rest (waiting for the answer). library_ns is
 * mpi - ring: what the MPI layer adds to the bus.
 *
 *   rtt_breakdown [-i ITERS] [-r ROUNDS]
 *
 * prints "key value" lines, times in ns:
 *   floor_rtt_ns ring_rtt_ns mpi_rtt_ns library_ns send_ns recv_arrived_ns wait_ns */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "../mpi/svc.h"

struct line {
	volatile uint64_t v;
} __attribute__((aligned(64)));

static const struct toro_svc *svc;
static int me;
static long iters = 20000, rounds = 5;

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

/* The shared area's lines: [0] the bounce, [1] and [2] each rank's
 * "raw phase" flag, so that neither touches the rings while the other
 * may still read them through MPI. */
static struct line *lines(void) { return svc->shared; }

static void raw_phase_sync(uint64_t phase)
{
	struct line *l = lines();
	__atomic_store_n(&l[1 + me].v, phase, __ATOMIC_RELEASE);
	while (__atomic_load_n(&l[2 - me].v, __ATOMIC_ACQUIRE) < phase)
		;
}

static double floor_rtt(void)
{
	struct line *l = lines();
	double best = 1e30;
	uint64_t seq = 0;
	for (long r = 0; r <= rounds; r++) {
		uint64_t t0 = svc->time_ns();
		for (long i = 0; i < iters; i++) {
			if (me == 0) {
				__atomic_store_n(&l[0].v, ++seq, __ATOMIC_RELEASE);
				while (__atomic_load_n(&l[0].v, __ATOMIC_ACQUIRE) != seq + 1)
					;
				seq++;
			} else {
				while (__atomic_load_n(&l[0].v, __ATOMIC_ACQUIRE) != seq + 1)
					;
				seq++;
				__atomic_store_n(&l[0].v, ++seq, __ATOMIC_RELEASE);
			}
		}
		double rtt = (double)(svc->time_ns() - t0) / iters;
		if (r && rtt < best)
			best = rtt;
	}
	return best;
}

static void ring_send(int peer)
{
	void *b;
#if TORO_SVC_VERSION >= 2
	while (!(b = svc->bus_get_buf(peer, 8)))
		;
#else
	while (!(b = svc->bus_get_buf(peer)))
		;
#endif
	memset(b, 0, 8);
	svc->bus_post(peer, b, 8);
}

static void ring_recv(int peer)
{
	uint32_t len;
	void *b;
	while (!(b = svc->bus_peek(peer, &len)))
		;
	svc->bus_release(peer, b);
#if TORO_SVC_VERSION >= 2
	svc->bus_take_pending();
#endif
}

static double ring_rtt(void)
{
	int peer = 1 - me;
	double best = 1e30;
	for (long r = 0; r <= rounds; r++) {
		uint64_t t0 = svc->time_ns();
		for (long i = 0; i < iters; i++) {
			if (me == 0) {
				ring_send(peer);
				ring_recv(peer);
			} else {
				ring_recv(peer);
				ring_send(peer);
			}
		}
		double rtt = (double)(svc->time_ns() - t0) / iters;
		if (r && rtt < best)
			best = rtt;
	}
	return best;
}

struct mpi_times {
	double rtt, send, recv, wait;   /* ns */
};

/* Rank 0: Send, wait (spinning on the pending flag) for the answer to
 * arrive, Recv it. The TSC splits the round trip. */
static struct mpi_times mpi_rtt(double ns_per_tick)
{
	char buf[8] = {0};
	struct mpi_times best = {1e30, 0, 0, 0};
	for (long r = 0; r <= rounds; r++) {
		uint64_t send = 0, recv = 0, wait = 0;
		MPI_Barrier(MPI_COMM_WORLD);
		uint64_t t0 = svc->time_ns();
		for (long i = 0; i < iters; i++) {
			if (me == 0) {
				uint64_t a = rdtsc();
				MPI_Send(buf, 8, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
				uint64_t b = rdtsc();
				while (!svc->bus_pending())
					;
				uint64_t c = rdtsc();
				MPI_Recv(buf, 8, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
				uint64_t d = rdtsc();
				send += b - a, wait += c - b, recv += d - c;
			} else {
				MPI_Recv(buf, 8, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
				MPI_Send(buf, 8, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
			}
		}
		double rtt = (double)(svc->time_ns() - t0) / iters;
		if (r && rtt < best.rtt)
			best = (struct mpi_times){rtt, send * ns_per_tick / iters, recv * ns_per_tick / iters,
						  wait * ns_per_tick / iters};
	}
	return best;
}

static double tsc_ns_per_tick(void)
{
	uint64_t n0 = svc->time_ns(), t0 = rdtsc();
	while (svc->time_ns() - n0 < 50000000)
		;
	return (double)(svc->time_ns() - n0) / (double)(rdtsc() - t0);
}

int main(int argc, char **argv)
{
	for (int c; (c = getopt(argc, argv, "i:r:")) != -1;) {
		if (c == 'i' && atol(optarg) > 0)
			iters = atol(optarg);
		else if (c == 'r' && atol(optarg) > 0)
			rounds = atol(optarg);
		else {
			fprintf(stderr, "usage: rtt_breakdown [-i ITERS] [-r ROUNDS]\n");
			return 2;
		}
	}
	svc = (const struct toro_svc *)getauxval(AT_TORO);
	MPI_Init(&argc, &argv);
	int n;
	MPI_Comm_rank(MPI_COMM_WORLD, &me);
	MPI_Comm_size(MPI_COMM_WORLD, &n);
	if (!svc || n != 2) {
		if (me == 0)
			fprintf(stderr, "rtt_breakdown: needs Toro and exactly 2 ranks (toro-run -n 2)\n");
		MPI_Finalize();
		return 2;
	}
	double tick = tsc_ns_per_tick();
	MPI_Barrier(MPI_COMM_WORLD);
	raw_phase_sync(1);
	double fl = floor_rtt();
	double ring = ring_rtt();
	raw_phase_sync(2);
	struct mpi_times m = mpi_rtt(tick);
	if (me == 0) {
		printf("floor_rtt_ns %.0f\nring_rtt_ns %.0f\nmpi_rtt_ns %.0f\nlibrary_ns %.0f\n", fl, ring, m.rtt,
		       m.rtt - ring);
		printf("send_ns %.0f\nrecv_arrived_ns %.0f\nwait_ns %.0f\n", m.send, m.recv, m.wait);
	}
	MPI_Finalize();
	return 0;
}
