/* Host unit test of point-to-point matching and the protocols
 * (mpi/lib/match.c) on match_shim.c's in-process bus: posting order and
 * wildcards, unexpected messages in arrival order, contexts kept apart,
 * truncation, rendezvous and synchronous completion flags, the bounded
 * drain per sender, sends queued behind a full ring, cancel and probe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "match_shim.h"

static int failed, passed;
static const char *current;
static int fails_here;

#define CHECK(c) do { if (!(c)) { fails_here++; printf("FAIL %s line %d: %s\n", current, __LINE__, #c); } } while (0)

static void begin(const char *name)
{
	shim_reset();
	current = name;
	fails_here = 0;
}

static void end(void)
{
	if (fails_here)
		failed++;
	else
		passed++, printf("ok %s\n", current);
}

static int world[SHIM_RANKS] = {0, 1, 2, 3};
static struct comm comm_a = {.handle = MPI_COMM_WORLD, .ctx = 10, .rank = 0, .size = SHIM_RANKS, .world = world};
static struct comm comm_b = {.handle = MPI_COMM_SELF, .ctx = 20, .rank = 0, .size = SHIM_RANKS, .world = world};

static void eager_from(int src, int ctx, int tag, int value)
{
	struct msg m = {.kind = MSG_EAGER, .ctx = ctx, .src = src, .src_world = src, .tag = tag, .bytes = sizeof value};
	shim_deliver(src, &m, &value, sizeof value);
}

static void post_recv(struct request *r, int *buf, int count, int src, int tag, struct comm *c)
{
	memset(r, 0, sizeof *r);
	req_fill(r, REQ_RECV, buf, count, MPI_INT, src, tag, c, 0, MODE_STANDARD);
	recv_start(r);
}

static void test_posted_order(void)
{
	begin("posted_order");
	int a = -1, b = -1;
	struct request ra, rb;
	post_recv(&ra, &a, 1, MPI_ANY_SOURCE, 5, &comm_a);
	post_recv(&rb, &b, 1, 1, 5, &comm_a);
	CHECK(!ra.complete && !rb.complete);
	eager_from(1, 10, 5, 111);
	p2p_progress();
	CHECK(ra.complete && a == 111 && !rb.complete);   /* the first posted that matches */
	CHECK(ra.status.MPI_SOURCE == 1 && ra.status.MPI_TAG == 5);
	eager_from(1, 10, 5, 222);
	p2p_progress();
	CHECK(rb.complete && b == 222);
	end();
}

static void test_unexpected_order(void)
{
	begin("unexpected_order");
	eager_from(1, 10, 1, 10);
	eager_from(2, 10, 1, 20);
	eager_from(1, 10, 1, 11);
	p2p_progress();                       /* all three become unexpected */
	int v = -1;
	struct request r;
	post_recv(&r, &v, 1, 2, 1, &comm_a);
	CHECK(r.complete && v == 20);     /* a named source skips the others */
	post_recv(&r, &v, 1, MPI_ANY_SOURCE, MPI_ANY_TAG, &comm_a);
	CHECK(r.complete && v == 10);     /* per sender, in arrival order */
	post_recv(&r, &v, 1, MPI_ANY_SOURCE, 1, &comm_a);
	CHECK(r.complete && v == 11 && r.status.MPI_SOURCE == 1);
	post_recv(&r, &v, 1, MPI_ANY_SOURCE, MPI_ANY_TAG, &comm_a);
	CHECK(!r.complete);
	CHECK(match_cancel(&r));          /* posted: it can be taken out */
	CHECK(!match_cancel(&r));
	end();
}

static void test_contexts_apart(void)
{
	begin("contexts_apart");
	int v = -1, w = -1;
	struct request rb;
	post_recv(&rb, &w, 1, MPI_ANY_SOURCE, MPI_ANY_TAG, &comm_b);
	eager_from(3, 10, 7, 70);         /* communicator a's: must not match b's receive */
	p2p_progress();
	CHECK(!rb.complete);
	struct request ra;
	post_recv(&ra, &v, 1, 3, 7, &comm_a);
	CHECK(ra.complete && v == 70);
	eager_from(3, 20 + 64, 7, 71);    /* same hash bucket as b (64 buckets), other context */
	p2p_progress();
	CHECK(!rb.complete);
	eager_from(3, 20, 7, 72);
	p2p_progress();
	CHECK(rb.complete && w == 72);
	struct unexpected *u = unexpected_find(20 + 64, 3, 7, true);
	CHECK(u != NULL);
	if (u) {
		int x = 0;
		struct request r;
		memset(&r, 0, sizeof r);
		req_fill(&r, REQ_RECV, &x, 1, MPI_INT, 3, 7, &comm_a, 0, MODE_STANDARD);
		unexpected_deliver(&r, u);
		CHECK(x == 71);
	}
	end();
}

static void test_truncation(void)
{
	begin("truncation");
	int big[2] = {5, 6}, small[2] = {-1, -1};
	struct msg m = {.kind = MSG_EAGER, .ctx = 10, .src = 1, .src_world = 1, .tag = 3, .bytes = sizeof big};
	shim_deliver(1, &m, big, sizeof big);
	struct request r;
	post_recv(&r, small, 1, 1, 3, &comm_a);
	CHECK(r.complete && r.error == MPI_ERR_TRUNCATE);
	CHECK(small[0] == 5 && small[1] == -1);   /* no byte past the buffer */
	CHECK(status_bytes(&r.status) == sizeof(int));
	end();
}

static void test_rendezvous_and_sync(void)
{
	begin("rendezvous_and_sync");
	static int data[100];
	for (int i = 0; i < 100; i++)
		data[i] = i * 3;
	volatile int done = 0, sdone = 0;
	struct msg rts = {.kind = MSG_RTS, .ctx = 10, .src = 2, .src_world = 2, .tag = 9, .bytes = sizeof data,
			  .data = data, .done = &done};
	shim_deliver(2, &rts, NULL, 0);
	int sv = 44;
	struct msg sync = {.kind = MSG_EAGER, .sync = 1, .ctx = 10, .src = 1, .src_world = 1, .tag = 9, .bytes = sizeof sv,
			   .done = &sdone};
	shim_deliver(1, &sync, &sv, sizeof sv);
	p2p_progress();
	CHECK(!done && !sdone);           /* unexpected: not matched yet */
	int got[100] = {0}, s = 0;
	struct request r;
	post_recv(&r, got, 100, 2, 9, &comm_a);
	CHECK(r.complete && r.error == MPI_SUCCESS && got[99] == 297 && done == 1 && shim_notified[2] == 1);
	post_recv(&r, &s, 1, 1, 9, &comm_a);
	CHECK(r.complete && s == 44 && sdone == 1 && shim_notified[1] == 1);
	end();
}

/* One sender's ring full of messages must not keep another's unread:
 * one pass reads at most 64 of a sender. */
static void test_bounded_drain(void)
{
	begin("bounded_drain");
	for (int i = 0; i < 300; i++)
		eager_from(1, 10, 4, i);
	p2p_progress();                       /* a pass over sender 1 only */
	eager_from(2, 10, 4, 1000);
	int first2 = -1;
	for (int k = 0; k < 301; k++) {
		int v = -1;
		struct request r;
		post_recv(&r, &v, 1, MPI_ANY_SOURCE, 4, &comm_a);
		CHECK(r.complete);
		if (r.status.MPI_SOURCE == 2 && first2 < 0)
			first2 = k;
	}
	CHECK(first2 >= 0 && first2 <= 64);
	CHECK(fifos[1].head == 300 && fifos[2].head == 1);
	end();
}

static void test_sends(void)
{
	begin("sends");
	int v = 9;
	CHECK(send_eager_now(&v, sizeof v, 3, 6, 0, 10));
	struct msg *m = (struct msg *)sent[3].buf[0];
	CHECK(sent[3].n == 1 && sent[3].len[0] == sizeof *m + sizeof v);
	CHECK(m->kind == MSG_EAGER && m->tag == 6 && m->ctx == 10 && m->bytes == sizeof v && m->src_world == 0);
	CHECK(*(int *)(m + 1) == 9);
	/* above the eager limit: a rendezvous header with the data's address */
	static int big[1000];
	struct request r;
	memset(&r, 0, sizeof r);
	req_fill(&r, REQ_SEND, big, 1000, MPI_INT, 2, 8, &comm_a, 0, MODE_STANDARD);
	CHECK(send_start(&r) == MPI_SUCCESS);
	m = (struct msg *)sent[2].buf[0];
	CHECK(sent[2].n == 1 && m->kind == MSG_RTS && m->data == big && m->bytes == sizeof big);
	CHECK(!req_done(&r));
	*m->done = 1;                     /* the receiver copied it */
	CHECK(req_done(&r));
	/* a full ring: the send waits; a later one, even with room, queues
	 * behind it (no overtaking); both go in order once there is room */
	shim_room = 0;
	struct request q1, q2;
	memset(&q1, 0, sizeof q1);
	memset(&q2, 0, sizeof q2);
	int a = 1, b = 2;
	req_fill(&q1, REQ_SEND, &a, 1, MPI_INT, 1, 1, &comm_a, 0, MODE_STANDARD);
	req_fill(&q2, REQ_SEND, &b, 1, MPI_INT, 1, 1, &comm_a, 0, MODE_STANDARD);
	send_start(&q1);
	CHECK(!req_done(&q1) && sent[1].n == 0);
	shim_room = FIFO_MAX;
	send_start(&q2);
	CHECK(!send_eager_now(&v, sizeof v, 1, 1, 0, 10));   /* nothing may overtake them */
	p2p_progress();
	CHECK(req_done(&q1) && req_done(&q2) && sent[1].n == 2);
	CHECK(*(int *)((struct msg *)sent[1].buf[0] + 1) == 1 && *(int *)((struct msg *)sent[1].buf[1] + 1) == 2);
	end();
}

static void test_probe(void)
{
	begin("probe");
	eager_from(2, 10, 12, 5);
	struct unexpected *u = unexpected_find(10, MPI_ANY_SOURCE, 12, false);
	CHECK(u != NULL);
	MPI_Status st;
	if (u)
		unexpected_status(u, &st);
	CHECK(u && st.MPI_SOURCE == 2 && st.MPI_TAG == 12 && status_bytes(&st) == sizeof(int));
	CHECK(unexpected_find(10, 1, 12, false) == NULL);  /* another source */
	CHECK(unexpected_find(10, 2, 13, false) == NULL);  /* another tag */
	struct unexpected *t = unexpected_find(10, 2, 12, true);
	CHECK(t == u);
	CHECK(unexpected_find(10, MPI_ANY_SOURCE, MPI_ANY_TAG, false) == NULL); /* taken out */
	if (t) {
		int v = 0;
		struct request r;
		memset(&r, 0, sizeof r);
		req_fill(&r, REQ_RECV, &v, 1, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, &comm_a, 0, MODE_STANDARD);
		unexpected_deliver(&r, t);
		CHECK(r.complete && v == 5);
	}
	end();
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (p2p_init() != MPI_SUCCESS)
		return 2;
	test_posted_order();
	test_unexpected_order();
	test_contexts_apart();
	test_truncation();
	test_rendezvous_and_sync();
	test_bounded_drain();
	test_sends();
	test_probe();
	printf("match_test: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
