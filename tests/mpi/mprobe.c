/* mprobe.c -- matched probes and receives (MPI-3.1 3.8.2, 3.8.3):
 * Mprobe + Mrecv by tag out of arrival order, Improbe loops (no threads)
 * with MPI_ANY_SOURCE, Imrecv, a large (rendezvous-sized) message, a
 * matched message that no later receive may take, MPI_PROC_NULL and
 * MPI_MESSAGE_NO_PROC, an error for MPI_MESSAGE_NULL; and the Fortran
 * conversions of messages, requests and statuses (17.2.4, 17.2.5).
 *
 * Prints "ok <test>" lines and "mpi-test mprobe: N passed, M failed". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD
#define BIG 100000

/* Each rank sends tags 1 and 2 to the next; the receiver takes tag 2
 * first with Mprobe/Mrecv, then tag 1 with an Improbe loop and Imrecv. */
static void test_order(void)
{
    begin("mprobe_by_tag");
    int next = (wrank + 1) % wsize, prev = (wrank + wsize - 1) % wsize;
    int a[3] = {wrank, 1, 11}, b[2] = {wrank, 2};
    MPI_Request rq[2];
    MPI_Isend(a, 3, MPI_INT, next, 1, W, &rq[0]);
    MPI_Isend(b, 2, MPI_INT, next, 2, W, &rq[1]);
    MPI_Message m = MPI_MESSAGE_NULL;
    MPI_Status st;
    int n = -1, got[3] = {-1, -1, -1};
    CHECK(MPI_Mprobe(prev, 2, W, &m, &st) == MPI_SUCCESS);
    CHECK(m != MPI_MESSAGE_NULL && m != MPI_MESSAGE_NO_PROC);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECKF(st.MPI_SOURCE == prev && st.MPI_TAG == 2 && n == 2, "status %d %d %d", st.MPI_SOURCE, st.MPI_TAG, n);
    CHECK(MPI_Mrecv(got, 2, MPI_INT, &m, &st) == MPI_SUCCESS);
    CHECK(m == MPI_MESSAGE_NULL);
    CHECKF(got[0] == prev && got[1] == 2, "got %d %d", got[0], got[1]);

    int flag = 0;
    long tries = 0;
    while (!flag && tries++ < 100000000L)
        CHECK(MPI_Improbe(MPI_ANY_SOURCE, 1, W, &flag, &m, &st) == MPI_SUCCESS);
    CHECK(flag && st.MPI_SOURCE == prev && st.MPI_TAG == 1);
    MPI_Request r;
    CHECK(MPI_Imrecv(got, 3, MPI_INT, &m, &r) == MPI_SUCCESS);
    CHECK(m == MPI_MESSAGE_NULL);
    CHECK(MPI_Wait(&r, &st) == MPI_SUCCESS);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECKF(got[0] == prev && got[1] == 1 && got[2] == 11 && n == 3 && st.MPI_SOURCE == prev,
           "Imrecv got %d %d %d (count %d)", got[0], got[1], got[2], n);
    MPI_Waitall(2, rq, MPI_STATUSES_IGNORE);

    /* nothing left */
    MPI_Barrier(W);
    CHECK(MPI_Improbe(MPI_ANY_SOURCE, MPI_ANY_TAG, W, &flag, &m, &st) == MPI_SUCCESS && !flag);
    end();
}

/* The first of two equal messages is matched; a receive afterwards must
 * get the second, and Mrecv the first. */
static void test_removed(void)
{
    begin("matched_is_removed");
    int next = (wrank + 1) % wsize, prev = (wrank + wsize - 1) % wsize;
    int one = 100 + wrank, two = 200 + wrank, x = -1, y = -1, flag;
    MPI_Send(&one, 1, MPI_INT, next, 5, W);   /* small: eager, no deadlock */
    MPI_Send(&two, 1, MPI_INT, next, 5, W);
    MPI_Message m;
    MPI_Status st;
    CHECK(MPI_Mprobe(MPI_ANY_SOURCE, 5, W, &m, &st) == MPI_SUCCESS);
    CHECK(MPI_Recv(&x, 1, MPI_INT, MPI_ANY_SOURCE, 5, W, &st) == MPI_SUCCESS);
    CHECKF(x == 200 + prev, "Recv after Mprobe got %d, expected %d", x, 200 + prev);
    CHECK(MPI_Iprobe(MPI_ANY_SOURCE, 5, W, &flag, &st) == MPI_SUCCESS && !flag);
    CHECK(MPI_Mrecv(&y, 1, MPI_INT, &m, &st) == MPI_SUCCESS);
    CHECKF(y == 100 + prev, "Mrecv got %d, expected %d", y, 100 + prev);
    end();
}

static void test_big(void)
{
    begin("mprobe_big");
    int next = (wrank + 1) % wsize, prev = (wrank + wsize - 1) % wsize;
    int *s = malloc(BIG * sizeof *s), *r = malloc(BIG * sizeof *r), n = -1, bad = 0;
    for (int i = 0; i < BIG; i++)
        s[i] = wrank * 7 + i, r[i] = -1;
    MPI_Request rq;
    MPI_Isend(s, BIG, MPI_INT, next, 7, W, &rq);
    MPI_Message m;
    MPI_Status st;
    CHECK(MPI_Mprobe(prev, 7, W, &m, &st) == MPI_SUCCESS);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(n == BIG);
    CHECK(MPI_Mrecv(r, BIG, MPI_INT, &m, MPI_STATUS_IGNORE) == MPI_SUCCESS);
    for (int i = 0; i < BIG; i++)
        bad += r[i] != prev * 7 + i;
    CHECKF(bad == 0, "%d wrong elements", bad);
    MPI_Wait(&rq, MPI_STATUS_IGNORE);
    free(s);
    free(r);
    end();
}

/* Every rank sends to rank 0, which takes them with an Improbe loop. */
static void test_any_source(void)
{
    begin("improbe_any_source");
    int v = 1000 + wrank, seen = 0;
    MPI_Request rq;
    MPI_Isend(&v, 1, MPI_INT, 0, 9, W, &rq);
    if (wrank == 0) {
        for (int k = 0; k < wsize; k++) {
            int flag = 0, x = -1;
            MPI_Message m;
            MPI_Status st;
            while (!flag)
                MPI_Improbe(MPI_ANY_SOURCE, 9, W, &flag, &m, &st);
            int src = st.MPI_SOURCE;
            MPI_Mrecv(&x, 1, MPI_INT, &m, &st);
            CHECKF(x == 1000 + src && st.MPI_SOURCE == src, "from %d got %d", src, x);
            if (src >= 0 && src < wsize)
                seen |= 1 << src;
        }
        CHECK(seen == (1 << wsize) - 1);
    }
    MPI_Wait(&rq, MPI_STATUS_IGNORE);
    end();
}

static void test_proc_null(void)
{
    begin("message_no_proc");
    MPI_Message m = MPI_MESSAGE_NULL;
    MPI_Status st;
    int n = -1, flag = 0, x = 42;
    CHECK(MPI_Mprobe(MPI_PROC_NULL, 3, W, &m, &st) == MPI_SUCCESS);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(m == MPI_MESSAGE_NO_PROC && st.MPI_SOURCE == MPI_PROC_NULL && st.MPI_TAG == MPI_ANY_TAG && n == 0);
    st.MPI_SOURCE = 0;
    CHECK(MPI_Mrecv(&x, 1, MPI_INT, &m, &st) == MPI_SUCCESS);
    CHECK(m == MPI_MESSAGE_NULL && st.MPI_SOURCE == MPI_PROC_NULL && x == 42);
    CHECK(MPI_Improbe(MPI_PROC_NULL, MPI_ANY_TAG, W, &flag, &m, &st) == MPI_SUCCESS);
    CHECK(flag && m == MPI_MESSAGE_NO_PROC);
    MPI_Request r;
    CHECK(MPI_Imrecv(&x, 1, MPI_INT, &m, &r) == MPI_SUCCESS);
    CHECK(m == MPI_MESSAGE_NULL);
    st.MPI_SOURCE = 0;
    CHECK(MPI_Wait(&r, &st) == MPI_SUCCESS);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(st.MPI_SOURCE == MPI_PROC_NULL && n == 0 && x == 42);
    end();

    /* Open MPI 4.1 reports this on MPI_COMM_NULL, whose handler is
     * fatal and cannot be changed: left out there */
#ifndef OPEN_MPI
    begin("message_null_error");
    int cls = -1;
    MPI_Comm_set_errhandler(W, MPI_ERRORS_RETURN);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_RETURN);
    m = MPI_MESSAGE_NULL;
    MPI_Error_class(MPI_Mrecv(&x, 1, MPI_INT, &m, &st), &cls);
    CHECK(cls == MPI_ERR_REQUEST);
    cls = -1;
    MPI_Error_class(MPI_Imrecv(&x, 1, MPI_INT, &m, &r), &cls);
    CHECK(cls == MPI_ERR_REQUEST);
    MPI_Comm_set_errhandler(W, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_set_errhandler(MPI_COMM_SELF, MPI_ERRORS_ARE_FATAL);
    end();
#endif
}

static void test_f2c(void)
{
    begin("fortran_handles");
    int next = (wrank + 1) % wsize, prev = (wrank + wsize - 1) % wsize, v = wrank, x = -1;
    MPI_Request rq;
    MPI_Isend(&v, 1, MPI_INT, next, 4, W, &rq);
    MPI_Fint fr = MPI_Request_c2f(rq);
    CHECK(MPI_Request_f2c(fr) == rq);
    MPI_Message m;
    MPI_Status st, back;
    MPI_Mprobe(prev, 4, W, &m, &st);
    MPI_Fint fm = MPI_Message_c2f(m);
    MPI_Message m2 = MPI_Message_f2c(fm);
    CHECK(m2 == m);
    CHECK(MPI_Mrecv(&x, 1, MPI_INT, &m2, &st) == MPI_SUCCESS && x == prev);
    MPI_Request r2 = MPI_Request_f2c(fr);
    CHECK(MPI_Wait(&r2, MPI_STATUS_IGNORE) == MPI_SUCCESS);
    CHECK(MPI_Message_f2c(MPI_Message_c2f(MPI_MESSAGE_NULL)) == MPI_MESSAGE_NULL);
    CHECK(MPI_Request_f2c(MPI_Request_c2f(MPI_REQUEST_NULL)) == MPI_REQUEST_NULL);

    MPI_Fint fs[16];      /* Open MPI 4.1's mpi.h lacks MPI_F_STATUS_SIZE */
    st.MPI_ERROR = MPI_SUCCESS;
    CHECK(MPI_Status_c2f(&st, fs) == MPI_SUCCESS);
#ifdef MPI_F_STATUS_SIZE
    CHECK(fs[MPI_F_SOURCE] == prev && fs[MPI_F_TAG] == 4);
#endif
    CHECK(MPI_Status_f2c(fs, &back) == MPI_SUCCESS);
    int n = -1;
    MPI_Get_count(&back, MPI_INT, &n);
    CHECK(back.MPI_SOURCE == prev && back.MPI_TAG == 4 && n == 1);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    test_order();
    test_removed();
    test_big();
    test_any_source();
    test_proc_null();
    test_f2c();
    return finish("mprobe");
}
