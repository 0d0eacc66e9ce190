/* nbc_overlap.c -- nonblocking collectives overlapped with each other, with
 * point to point and with blocking collectives on one communicator
 * (MPI-3.1 5.12: matched in the order they are called), completed through
 * MPI_Wait, Waitall, Waitany, Waitsome, Test, Testall, Testany, Testsome and
 * Request_get_status; progress made only by MPI_Test calls between
 * computations; MPI_Comm_idup overlapped with other communicator
 * creations, its results usable and isolated from each other.
 *
 * Prints "ok <test>" lines and "mpi-test nbc_overlap: N passed, M failed". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD
#define BIG 60000             /* doubles: large enough for a rendezvous */

static volatile double sink;

/* Some work that makes no MPI call. */
static void compute(int n)
{
    double x = 0;
    for (int i = 0; i < n; i++)
        x += i * 0.5;
    sink = x;
}

static int left(void) { return (wrank - 1 + wsize) % wsize; }
static int right(void) { return (wrank + 1) % wsize; }

/* Five I-collectives, a point-to-point exchange and a blocking collective
 * all outstanding on one communicator, completed in reverse order. */
static void test_outstanding(void)
{
    MPI_Request r[7];
    int bc[3], ar, ag[4], a2a_s[4], a2a_r[4], got = -1, sent = wrank, blk, sum = 0;
    begin("outstanding_mixed");
    for (int i = 0; i < 3; i++)
        bc[i] = wrank == 1 % wsize ? 40 + i : -1;
    for (int i = 0; i < wsize; i++) {
        a2a_s[i] = 10 * wrank + i;
        a2a_r[i] = ag[i] = -1;
    }
    CHECK(MPI_Irecv(&got, 1, MPI_INT, left(), 0, W, &r[0]) == MPI_SUCCESS);
    CHECK(MPI_Ibcast(bc, 3, MPI_INT, 1 % wsize, W, &r[1]) == MPI_SUCCESS);
    CHECK(MPI_Iallreduce(&wrank, &ar, 1, MPI_INT, MPI_SUM, W, &r[2]) == MPI_SUCCESS);
    CHECK(MPI_Ialltoall(a2a_s, 1, MPI_INT, a2a_r, 1, MPI_INT, W, &r[3]) == MPI_SUCCESS);
    CHECK(MPI_Ibarrier(W, &r[4]) == MPI_SUCCESS);
    CHECK(MPI_Isend(&sent, 1, MPI_INT, right(), 0, W, &r[5]) == MPI_SUCCESS);
    CHECK(MPI_Igather(&wrank, 1, MPI_INT, ag, 1, MPI_INT, 0, W, &r[6]) == MPI_SUCCESS);
    blk = wrank + 1;
    MPI_Allreduce(&blk, &sum, 1, MPI_INT, MPI_SUM, W);      /* blocking, in between */
    CHECK(sum == wsize * (wsize + 1) / 2);
    compute(20000 * (wrank + 1));
    for (int i = 6; i >= 0; i--)
        CHECK(MPI_Wait(&r[i], MPI_STATUS_IGNORE) == MPI_SUCCESS);
    CHECKF(got == left(), "p2p got %d", got);
    for (int i = 0; i < 3; i++)
        CHECKF(bc[i] == 40 + i, "bcast %d", bc[i]);
    CHECK(ar == wsize * (wsize - 1) / 2);
    for (int i = 0; i < wsize; i++) {
        CHECKF(a2a_r[i] == 10 * i + wrank, "alltoall from %d: %d", i, a2a_r[i]);
        if (wrank == 0)
            CHECKF(ag[i] == i, "gather %d: %d", i, ag[i]);
    }
    end();
}

/* Many at once, of alternating kinds, completed by Testsome and Waitall. */
static void test_many(void)
{
    enum { N = 32 };
    MPI_Request r[N];
    int in[N], out[N];
    begin("many_testsome_waitall");
    for (int i = 0; i < N; i++) {
        in[i] = wrank + i;
        out[i] = -1;
        switch (i % 4) {
        case 0: MPI_Iallreduce(&in[i], &out[i], 1, MPI_INT, MPI_MAX, W, &r[i]); break;
        case 1: out[i] = wrank == i % wsize ? i : -1;
                MPI_Ibcast(&out[i], 1, MPI_INT, i % wsize, W, &r[i]); break;
        case 2: MPI_Iscan(&in[i], &out[i], 1, MPI_INT, MPI_SUM, W, &r[i]); break;
        default: MPI_Ibarrier(W, &r[i]); break;
        }
    }
    /* the first half through Testsome, the rest through one Waitall */
    for (int left_ = N / 2; left_ > 0;) {
        int n, idx[N];
        CHECK(MPI_Testsome(N / 2, r, &n, idx, MPI_STATUSES_IGNORE) == MPI_SUCCESS);
        for (int k = 0; k < n && n != MPI_UNDEFINED; k++)
            CHECK(r[idx[k]] == MPI_REQUEST_NULL && idx[k] < N / 2);
        left_ -= n == MPI_UNDEFINED ? left_ : n;
        compute(1000);
    }
    CHECK(MPI_Waitall(N, r, MPI_STATUSES_IGNORE) == MPI_SUCCESS);
    for (int i = 0; i < N; i++) {
        CHECK(r[i] == MPI_REQUEST_NULL);
        if (i % 4 == 0)
            CHECKF(out[i] == wsize - 1 + i, "max %d: %d", i, out[i]);
        else if (i % 4 == 1)
            CHECKF(out[i] == i, "bcast %d: %d", i, out[i]);
        else if (i % 4 == 2)
            CHECKF(out[i] == wrank * (wrank + 1) / 2 + (wrank + 1) * i, "scan %d: %d", i, out[i]);
    }
    end();
}

/* Every rank but the last one makes progress only with MPI_Test (and
 * Request_get_status) between computations; the last one waits, then
 * tells the others. Without progress in those calls the last rank would
 * never finish and the others would stop at the time limit. */
static void test_progress(void)
{
    double *a = malloc(BIG * sizeof *a), *b = malloc(BIG * sizeof *b);
    int big_done = 0, note = 0, flag = 0, tests = 0;
    MPI_Request rq[2], nq = MPI_REQUEST_NULL;
    begin("progress_between_tests");
    for (int i = 0; i < BIG; i++) {
        a[i] = wrank + i;
        b[i] = wrank == 0 ? i : -1;
    }
    MPI_Barrier(W);
    MPI_Iallreduce(MPI_IN_PLACE, a, BIG, MPI_DOUBLE, MPI_SUM, W, &rq[0]);
    MPI_Ibcast(b, BIG, MPI_DOUBLE, 0, W, &rq[1]);
    if (wrank == wsize - 1) {
        CHECK(MPI_Waitall(2, rq, MPI_STATUSES_IGNORE) == MPI_SUCCESS);
        for (int i = 0; i < wsize - 1; i++)
            MPI_Send(&note, 1, MPI_INT, i, 9, W);
        big_done = 1;
    } else {
        double t0 = MPI_Wtime();
        MPI_Irecv(&note, 1, MPI_INT, wsize - 1, 9, W, &nq);
        while (!(big_done && flag) && MPI_Wtime() - t0 < 60) {
            compute(5000);
            if (!big_done) {
                int f0 = 0, f1 = 0;
                MPI_Request_get_status(rq[0], &f0, MPI_STATUS_IGNORE);
                if (f0)
                    MPI_Testall(2, rq, &big_done, MPI_STATUSES_IGNORE);
                else
                    MPI_Test(&rq[1], &f1, MPI_STATUS_IGNORE);
            }
            if (!flag)
                MPI_Test(&nq, &flag, MPI_STATUS_IGNORE);
            tests++;
        }
        CHECKF(big_done && flag, "not complete after %d tests", tests);
        if (!big_done)
            MPI_Waitall(2, rq, MPI_STATUSES_IGNORE);
        if (!flag)
            MPI_Wait(&nq, MPI_STATUS_IGNORE);
    }
    for (int i = 0; i < BIG; i++) {
        CHECKF(a[i] == wsize * (wsize - 1) / 2.0 + (double)wsize * i, "allreduce a[%d] = %f", i, a[i]);
        CHECKF(b[i] == i, "bcast b[%d] = %f", i, b[i]);
    }
    free(a);
    free(b);
    end();
}

/* Testany until two requests are done, then Waitsome, then Waitany:
 * collective and point-to-point requests in one array. */
static void test_any_some(void)
{
    MPI_Request r[5];
    int got = -1, mine = 100 + wrank, ar = -1, sc = -1, ex = -1, seen[5] = {0}, done = 0;
    begin("testany_waitsome_waitany");
    MPI_Irecv(&got, 1, MPI_INT, left(), 3, W, &r[0]);
    MPI_Iallreduce(&wrank, &ar, 1, MPI_INT, MPI_MIN, W, &r[1]);
    MPI_Ibarrier(W, &r[2]);
    MPI_Iscan(&wrank, &sc, 1, MPI_INT, MPI_MAX, W, &r[3]);
    MPI_Isend(&mine, 1, MPI_INT, right(), 3, W, &r[4]);
    while (done < 2) {
        int idx, flag = 0;
        CHECK(MPI_Testany(5, r, &idx, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS);
        if (flag && idx != MPI_UNDEFINED) {
            CHECK(!seen[idx]++);
            CHECK(r[idx] == MPI_REQUEST_NULL);
            done++;
        }
        compute(2000);
    }
    while (done < 4) {
        int n, idx[5];
        CHECK(MPI_Waitsome(5, r, &n, idx, MPI_STATUSES_IGNORE) == MPI_SUCCESS);
        CHECK(n >= 1);
        for (int i = 0; i < n && n != MPI_UNDEFINED; i++) {
            CHECK(!seen[idx[i]]++);
            done++;
        }
    }
    while (done < 5) {
        int idx;
        CHECK(MPI_Waitany(5, r, &idx, MPI_STATUS_IGNORE) == MPI_SUCCESS);
        CHECK(idx != MPI_UNDEFINED && !seen[idx]++);
        done++;
    }
    CHECK(MPI_Iexscan(&wrank, &ex, 1, MPI_INT, MPI_SUM, W, &r[0]) == MPI_SUCCESS);
    CHECK(MPI_Wait(&r[0], MPI_STATUS_IGNORE) == MPI_SUCCESS);
    CHECK(got == 100 + left());
    CHECK(ar == 0);
    CHECK(sc == wrank);
    if (wrank > 0)
        CHECK(ex == wrank * (wrank - 1) / 2);
    end();
}

static int key_copied;

/* Sends a value on each communicator to the right and receives them in
 * reverse order: communicators whose contexts mixed would swap values. */
static void check_isolated(MPI_Comm *cs, int n)
{
    MPI_Request r[8];
    int out[8], in[8];
    for (int i = 0; i < n; i++) {
        int size, rank;
        MPI_Comm_size(cs[i], &size);
        MPI_Comm_rank(cs[i], &rank);
        out[i] = 1000 * i + rank;
        MPI_Isend(&out[i], 1, MPI_INT, (rank + 1) % size, 7, cs[i], &r[i]);
    }
    for (int i = n - 1; i >= 0; i--) {
        int size, rank;
        MPI_Comm_size(cs[i], &size);
        MPI_Comm_rank(cs[i], &rank);
        MPI_Recv(&in[i], 1, MPI_INT, (rank - 1 + size) % size, 7, cs[i], MPI_STATUS_IGNORE);
        CHECKF(in[i] == 1000 * i + (rank - 1 + size) % size, "communicator %d got %d", i, in[i]);
    }
    MPI_Waitall(n, r, MPI_STATUSES_IGNORE);
}

static void test_idup(void)
{
    MPI_Comm d1, d2, d3, half, dh, dself;
    MPI_Request r[5];
    int cmp, size, rank, x, y, z, *val, flag = 0, attr = 77;
    begin("comm_idup");
    MPI_Comm_create_keyval(MPI_COMM_DUP_FN, MPI_COMM_NULL_DELETE_FN, &key_copied, NULL);
    MPI_Comm_set_attr(W, key_copied, &attr);
    MPI_Comm_split(W, wrank % 2, wrank, &half);
    CHECK(MPI_Comm_idup(W, &d1, &r[0]) == MPI_SUCCESS);
    x = wrank;
    MPI_Iallreduce(&x, &y, 1, MPI_INT, MPI_SUM, W, &r[1]);
    CHECK(MPI_Comm_idup(half, &dh, &r[2]) == MPI_SUCCESS);
    MPI_Comm_dup(W, &d3);                   /* blocking creation in between */
    CHECK(MPI_Comm_idup(W, &d2, &r[3]) == MPI_SUCCESS);
    CHECK(MPI_Comm_idup(MPI_COMM_SELF, &dself, &r[4]) == MPI_SUCCESS);
    CHECK(MPI_Waitall(5, r, MPI_STATUSES_IGNORE) == MPI_SUCCESS);
    CHECK(y == wsize * (wsize - 1) / 2);
    CHECK(d1 != MPI_COMM_NULL && d2 != MPI_COMM_NULL && dh != MPI_COMM_NULL && dself != MPI_COMM_NULL);
    MPI_Comm_compare(W, d1, &cmp);
    CHECK(cmp == MPI_CONGRUENT);
    MPI_Comm_compare(d1, d2, &cmp);
    CHECK(cmp == MPI_CONGRUENT);
    MPI_Comm_compare(half, dh, &cmp);
    CHECK(cmp == MPI_CONGRUENT);
    MPI_Comm_size(d2, &size);
    MPI_Comm_rank(d2, &rank);
    CHECK(size == wsize && rank == wrank);
    MPI_Comm_get_attr(d1, key_copied, &val, &flag);
    CHECK(flag && *val == 77);
    MPI_Comm cs[6] = {W, d1, d2, d3, half, dh};
    check_isolated(cs, 6);
    /* collectives on the new communicators, two outstanding at once */
    z = wrank == 0 ? 5 : -1;
    MPI_Iallreduce(&x, &y, 1, MPI_INT, MPI_MAX, d1, &r[0]);
    MPI_Ibcast(&z, 1, MPI_INT, 0, d2, &r[1]);
    MPI_Ibarrier(dself, &r[2]);
    MPI_Waitall(3, r, MPI_STATUSES_IGNORE);
    CHECK(y == wsize - 1 && z == 5);
    MPI_Allreduce(&x, &y, 1, MPI_INT, MPI_SUM, dh);
    z = 0;
    for (int i = wrank % 2; i < wsize; i += 2)
        z += i;
    CHECKF(y == z, "sum over the idup of a split: %d", y);
    MPI_Comm_free(&d1);
    MPI_Comm_free(&d2);
    MPI_Comm_free(&d3);
    MPI_Comm_free(&dh);
    MPI_Comm_free(&dself);
    MPI_Comm_free(&half);
    MPI_Comm_delete_attr(W, key_copied);
    MPI_Comm_free_keyval(&key_copied);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    if (wsize > 4) {
        if (wrank == 0)
            printf("nbc_overlap: runs at 1-4 ranks\n");
        MPI_Finalize();
        return 1;
    }
    test_outstanding();
    test_many();
    test_progress();
    test_any_some();
    test_idup();
    return finish("nbc_overlap");
}
