/* Floods: more messages than a VirtIOBus ring holds, sent before any
 * receive is posted, so senders queue behind full rings and receivers
 * keep long unexpected queues; then received in an order unlike the
 * sending one. Many receives posted before any message, matched by tag
 * across communicators. Many senders flooding one receiver that takes
 * MPI_ANY_SOURCE: every sender is served (back-pressure, fairness). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"

#define PER_PEER 600      /* small messages to each rank: far more than a ring's slots */
#define TAGS 6

static int value(int from, int to, int i) { return from * 1000003 + to * 7919 + i; }

static void test_unexpected_flood(void)
{
    begin("unexpected_flood");
    int n = PER_PEER * wsize;
    int *out = malloc(n * 3 * sizeof *out), *in = malloc(3 * sizeof *in);
    MPI_Request *rs = malloc(n * sizeof *rs);
    for (int i = 0, m = 0; i < PER_PEER; i++) {
        for (int to = 0; to < wsize; to++, m++) {
            int *b = out + 3 * m;
            b[0] = value(wrank, to, i), b[1] = i, b[2] = -i;
            MPI_Isend(b, 3, MPI_INT, to, i % TAGS, MPI_COMM_WORLD, &rs[m]);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    /* by tag, last tag first; within a tag and source, in sending order */
    for (int from = 0; from < wsize; from++) {
        for (int tag = TAGS - 1; tag >= 0; tag--) {
            for (int i = tag; i < PER_PEER; i += TAGS) {
                MPI_Status st;
                MPI_Recv(in, 3, MPI_INT, from, tag, MPI_COMM_WORLD, &st);
                CHECKF(in[0] == value(from, wrank, i) && in[1] == i && in[2] == -i && st.MPI_TAG == tag,
                       "from %d tag %d: message %d holds %d (want %d)", from, tag, i, in[1], i);
            }
        }
    }
    MPI_Waitall(n, rs, MPI_STATUSES_IGNORE);
    free(out), free(in), free(rs);
    end();
}

/* Blocking sends into full rings while the receiver is busy elsewhere. */
static void test_blocking_flood(void)
{
    begin("blocking_flood");
    int to = (wrank + 1) % wsize, from = (wrank + wsize - 1) % wsize;
    int *got = malloc(PER_PEER * sizeof *got);
    MPI_Request *rs = malloc(PER_PEER * sizeof *rs);
    for (int i = 0; i < PER_PEER; i++)
        MPI_Irecv(&got[i], 1, MPI_INT, from, 77, MPI_COMM_WORLD, &rs[i]);
    for (int i = 0; i < PER_PEER; i++) {
        int v = value(wrank, to, i);
        MPI_Send(&v, 1, MPI_INT, to, 77, MPI_COMM_WORLD);
    }
    MPI_Waitall(PER_PEER, rs, MPI_STATUSES_IGNORE);
    for (int i = 0; i < PER_PEER; i++)
        CHECKF(got[i] == value(from, wrank, i), "receive %d got %d", i, got[i]);
    free(got), free(rs);
    end();
}

/* Receives posted first on two communicators with the same tags: each
 * message matches only its own communicator's receives. */
static void test_posted_two_comms(void)
{
    begin("posted_two_comms");
    MPI_Comm dup;
    MPI_Comm_dup(MPI_COMM_WORLD, &dup);
    int to = (wrank + 1) % wsize, from = (wrank + wsize - 1) % wsize;
    int a[50], b[50];
    MPI_Request rs[100];
    for (int i = 0; i < 50; i++) {
        MPI_Irecv(&a[i], 1, MPI_INT, from, i % 5, MPI_COMM_WORLD, &rs[i]);
        MPI_Irecv(&b[i], 1, MPI_INT, MPI_ANY_SOURCE, i % 5, dup, &rs[50 + i]);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    for (int i = 0; i < 50; i++) {
        int v = value(wrank, to, i), w = -value(wrank, to, i);
        MPI_Send(&w, 1, MPI_INT, to, i % 5, dup);
        MPI_Send(&v, 1, MPI_INT, to, i % 5, MPI_COMM_WORLD);
    }
    MPI_Waitall(100, rs, MPI_STATUSES_IGNORE);
    for (int i = 0; i < 50; i++) {
        CHECKF(a[i] == value(from, wrank, i), "world receive %d got %d", i, a[i]);
        CHECKF(b[i] == -value(from, wrank, i), "dup receive %d got %d", i, b[i]);
    }
    MPI_Comm_free(&dup);
    end();
}

/* ANY_SOURCE fairness: rank 1 fills its ring to rank 0 (1000 Isends:
 * more than a ring holds) and then tells ranks 2.., which each send rank
 * 0 one message, stamped with the time. Rank 0 starts receiving with
 * MPI_ANY_SOURCE only after a pause: a message stamped before it began
 * must not wait behind more than a bounded part of rank 1's flood (Toro
 * reads at most 64 messages of one sender per pass, from a rotating
 * start; reading a ring until it is empty would put 256 first). */
static void test_any_source_fairness(void)
{
    begin("any_source_fairness");
    enum { FLOOD = 1000, BOUND = 128 };
    int early = wsize > 2 ? wsize - 2 : 0, x = 0;
    MPI_Barrier(MPI_COMM_WORLD);
    if (wrank >= 2) {
        MPI_Recv(&x, 1, MPI_INT, 1, 56, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        double v[2] = {wrank, MPI_Wtime()};
        MPI_Send(v, 2, MPI_DOUBLE, 0, 55, MPI_COMM_WORLD);
    } else if (wrank == 1) {
        double (*v)[2] = malloc(FLOOD * sizeof *v);
        MPI_Request *rs = malloc(FLOOD * sizeof *rs);
        for (int i = 0; i < FLOOD; i++) {
            v[i][0] = 1, v[i][1] = i;
            MPI_Isend(v[i], 2, MPI_DOUBLE, 0, 55, MPI_COMM_WORLD, &rs[i]);
        }
        for (int p = 2; p < wsize; p++)
            MPI_Send(&x, 1, MPI_INT, p, 56, MPI_COMM_WORLD);
        MPI_Waitall(FLOOD, rs, MPI_STATUSES_IGNORE);
        free(v), free(rs);
    } else if (wsize > 1) {
        int next = 0;
        usleep(300000);
        double start = MPI_Wtime();
        for (int m = 0; m < FLOOD + early; m++) {
            double in[2];
            MPI_Status st;
            MPI_Recv(in, 2, MPI_DOUBLE, MPI_ANY_SOURCE, 55, MPI_COMM_WORLD, &st);
            if (st.MPI_SOURCE == 1) {
                CHECKF(in[0] == 1 && in[1] == next, "flood message %d holds %g", next, in[1]);
                next++;
            } else {
                CHECKF(st.MPI_SOURCE >= 2 && in[0] == st.MPI_SOURCE, "message %d from %d", m, st.MPI_SOURCE);
                CHECKF(in[1] > start || m < early + BOUND,
                       "rank %d's message, sent before the receives began, came %d-th", st.MPI_SOURCE, m);
            }
        }
    }
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    MPI_Comm_size(MPI_COMM_WORLD, &wsize);
    test_unexpected_flood();
    test_blocking_flood();
    test_posted_two_comms();
    test_any_source_fairness();
    return finish("p2p_flood");
}
