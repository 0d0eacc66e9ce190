/* Exercises the kernel's service table directly, without MPI: every rank
 * sends numbered messages of varying length (1 to 5 slots, so chains wrap
 * around the ring) to every rank over VirtIOBus (more than a ring holds,
 * so senders wait for room) and checks what it receives, and that every
 * message it finds has its sender's bit in the pending word (at once or
 * within a second: the bit follows the publication). Then a ping-pong
 * between ranks 0 and 1 that reports the round-trip time. */
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>
#include "../../mpi/svc.h"

#define PER_PEER 300

static const struct toro_svc *svc;

struct msg {
	int from, seq;
	unsigned sum;
	char data[1000];
};

static int data_len(int seq) { return seq * 53 % (int)sizeof(((struct msg *)0)->data) + 1; }
static uint32_t msg_len(int seq) { return offsetof(struct msg, data) + data_len(seq); }

static void fill(struct msg *m, int from, int seq)
{
	m->from = from;
	m->seq = seq;
	m->sum = 0;
	for (int i = 0; i < data_len(seq); i++) {
		m->data[i] = (char)(from * 31 + seq * 7 + i);
		m->sum += (unsigned char)m->data[i];
	}
}

static int expected[64];
static int received, errors;

static uint64_t flagged;

/* The bit of src, which a message from src was found under. */
static bool wait_for_bit(int src)
{
	uint64_t end = svc->time_ns() + 1000000000ull;
	while (!(flagged & (1ull << src)) && svc->time_ns() < end)
		flagged |= svc->bus_take_pending();
	return flagged & (1ull << src);
}

static void drain(void)
{
	flagged |= svc->bus_take_pending();
	for (int src = 0; src < svc->nranks; src++) {
		uint32_t len;
		struct msg *m;
		while ((m = svc->bus_peek(src, &len))) {
			if (!wait_for_bit(src)) {
				printf("rank %d: a message from %d but no pending bit\n", svc->rank, src);
				errors++;
			}
			int seq = expected[src];
			unsigned sum = 0;
			for (int i = 0; i < data_len(seq) && len == msg_len(seq); i++)
				sum += (unsigned char)m->data[i];
			if (len != msg_len(seq) || m->from != src || m->seq != seq || sum != m->sum) {
				printf("rank %d: bad message from %d: len %u seq %d (want %d)\n", svc->rank, src, len, m->seq, expected[src]);
				errors++;
			}
			expected[src]++;
			received++;
			svc->bus_release(src, m);
		}
		flagged &= ~(1ull << src);
	}
}

static bool anything(void *arg)
{
	(void)arg;
	return svc->bus_pending();
}

static int nranks;

static bool all_arrived(void *arg)
{
	return __atomic_load_n((int *)arg, __ATOMIC_ACQUIRE) >= nranks;
}

/* A one-time barrier through the job's shared area. */
static void barrier(void)
{
	int *count = svc->shared;
	nranks = svc->nranks;
	__atomic_add_fetch(count, 1, __ATOMIC_ACQ_REL);
	for (int r = 0; r < svc->nranks; r++)
		svc->notify(r);
	svc->wait_until(all_arrived, count);
}

int main(void)
{
	svc = (const struct toro_svc *)getauxval(AT_TORO);
	if (!svc || svc->version != TORO_SVC_VERSION) {
		printf("no Toro service table\n");
		return 2;
	}
	int me = svc->rank, n = svc->nranks;
	for (int seq = 0; seq < PER_PEER; seq++) {
		for (int d = 0; d < n; d++) {
			struct msg *m;
			while (!(m = svc->bus_get_buf(d, msg_len(seq))))
				drain();
			fill(m, me, seq);
			svc->bus_post(d, m, msg_len(seq));
		}
		drain();
	}
	while (received < PER_PEER * n) {
		svc->wait_until(anything, NULL);
		drain();
	}
	printf("rank %d: received %d messages, %d errors\n", me, received, errors);
	barrier();

	/* ping-pong between ranks 0 and 1 */
	if (n >= 2 && me < 2) {
		int peer = 1 - me, iters = 2000;
		uint64_t t0 = svc->time_ns();
		for (int i = 0; i < iters; i++) {
			if (me == 1) {
				uint32_t len;
				void *b;
				while (!(b = svc->bus_peek(peer, &len)))
					svc->wait_until(anything, NULL);
				svc->bus_release(peer, b);
			}
			void *out;
			while (!(out = svc->bus_get_buf(peer, 8)))
				;
			memset(out, 0, 8);
			svc->bus_post(peer, out, 8);
			if (me == 0) {
				uint32_t len;
				void *b;
				while (!(b = svc->bus_peek(peer, &len)))
					svc->wait_until(anything, NULL);
				svc->bus_release(peer, b);
			}
		}
		if (me == 0)
			printf("ping-pong: %.2f us per round trip\n", (svc->time_ns() - t0) / 1e3 / iters);
	}
	return errors ? 1 : 0;
}
