/* grequest.c -- generalized requests (MPI-3.1 12.2): the callbacks are
 * called as the standard says: query_fn when Wait/Test completes the
 * request (also with MPI_STATUS_IGNORE) and by MPI_Request_get_status,
 * free_fn after it, only once; MPI_Request_free before
 * MPI_Grequest_complete frees at the completion, without query_fn;
 * cancel_fn gets the completion state; a query_fn error is what Wait
 * returns. Generalized requests complete through Wait, Test, Waitall,
 * Testany and Waitsome beside point-to-point requests.
 *
 * Prints "ok <test>" lines and "mpi-test grequest: N passed, M failed". */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

struct state {
    int queries, frees, cancels, cancel_complete;
    int order;          /* 1 when free_fn came after a query_fn */
    int fail;           /* query_fn returns this */
    int cancelled;
};

static int query(void *extra, MPI_Status *st)
{
    struct state *s = extra;
    s->queries++;
    st->MPI_SOURCE = wrank;
    st->MPI_TAG = 42;
    MPI_Status_set_elements(st, MPI_INT, 3);
    MPI_Status_set_cancelled(st, s->cancelled);
    return s->fail;
}

static int free_fn(void *extra)
{
    struct state *s = extra;
    s->frees++;
    s->order = s->queries > 0;
    return MPI_SUCCESS;
}

static int cancel(void *extra, int complete)
{
    struct state *s = extra;
    s->cancels++;
    s->cancel_complete = complete;
    s->cancelled = 1;
    return MPI_SUCCESS;
}

static void test_test_and_wait(void)
{
    struct state s = {0};
    MPI_Request r;
    MPI_Status st;
    int flag = -1, count = -1;
    begin("grequest_test_wait_callbacks");
    CHECK(MPI_Grequest_start(query, free_fn, cancel, &s, &r) == MPI_SUCCESS);
    CHECK(MPI_Test(&r, &flag, &st) == MPI_SUCCESS);
    CHECK(flag == 0 && s.queries == 0 && s.frees == 0 && r != MPI_REQUEST_NULL);
    CHECK(MPI_Grequest_complete(r) == MPI_SUCCESS);
    CHECK(s.queries == 0 && s.frees == 0);
    CHECK(MPI_Test(&r, &flag, &st) == MPI_SUCCESS);
    CHECK(flag == 1 && r == MPI_REQUEST_NULL);
    CHECKF(s.queries == 1 && s.frees == 1 && s.order == 1, "queries %d frees %d", s.queries, s.frees);
    MPI_Get_count(&st, MPI_INT, &count);
    CHECKF(st.MPI_SOURCE == wrank && st.MPI_TAG == 42 && count == 3, "source %d tag %d count %d",
           st.MPI_SOURCE, st.MPI_TAG, count);
    /* Wait with MPI_STATUS_IGNORE still queries */
    struct state s2 = {0};
    MPI_Grequest_start(query, free_fn, cancel, &s2, &r);
    MPI_Grequest_complete(r);
    CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE) == MPI_SUCCESS);
    CHECK(r == MPI_REQUEST_NULL && s2.queries == 1 && s2.frees == 1 && s2.order == 1);
    end();
}

static void test_get_status_and_free(void)
{
    struct state s = {0}, t = {0};
    MPI_Request r, q;
    MPI_Status st;
    int flag = -1;
    begin("grequest_get_status_request_free");
    MPI_Grequest_start(query, free_fn, cancel, &s, &r);
    CHECK(MPI_Request_get_status(r, &flag, &st) == MPI_SUCCESS);
    CHECK(flag == 0 && s.queries == 0);
    MPI_Grequest_complete(r);
    CHECK(MPI_Request_get_status(r, &flag, &st) == MPI_SUCCESS);
    CHECK(flag == 1 && s.queries == 1 && s.frees == 0 && st.MPI_TAG == 42 && r != MPI_REQUEST_NULL);
    CHECK(MPI_Wait(&r, &st) == MPI_SUCCESS);
    CHECK(s.frees == 1 && r == MPI_REQUEST_NULL);
    /* freed before completion: free_fn at MPI_Grequest_complete, no query */
    MPI_Grequest_start(query, free_fn, cancel, &t, &q);
    MPI_Request keep = q;
    CHECK(MPI_Request_free(&q) == MPI_SUCCESS);
    CHECK(q == MPI_REQUEST_NULL && t.frees == 0);
    CHECK(MPI_Grequest_complete(keep) == MPI_SUCCESS);
    CHECKF(t.frees == 1 && t.queries == 0, "frees %d queries %d", t.frees, t.queries);
    /* freed after completion: free_fn at once */
    struct state u = {0};
    MPI_Grequest_start(query, free_fn, cancel, &u, &q);
    MPI_Grequest_complete(q);
    CHECK(MPI_Request_free(&q) == MPI_SUCCESS);
    CHECK(u.frees == 1 && u.queries == 0);
    end();
}

static void test_cancel(void)
{
    struct state s = {0};
    MPI_Request r;
    MPI_Status st;
    int flag = 0;
    begin("grequest_cancel");
    MPI_Grequest_start(query, free_fn, cancel, &s, &r);
    CHECK(MPI_Cancel(&r) == MPI_SUCCESS);
    CHECK(s.cancels == 1 && s.cancel_complete == 0);
    MPI_Grequest_complete(r);
    MPI_Wait(&r, &st);
    MPI_Test_cancelled(&st, &flag);
    CHECK(flag == 1);
    struct state t = {0};
    MPI_Grequest_start(query, free_fn, cancel, &t, &r);
    MPI_Grequest_complete(r);
    MPI_Cancel(&r);
    CHECK(t.cancels == 1 && t.cancel_complete != 0);
    MPI_Wait(&r, &st);
    CHECK(t.frees == 1);
    end();
}

static void test_mixed(void)
{
    struct state g[3];
    MPI_Request r[5];
    MPI_Status st[5];
    int to = (wrank + 1) % wsize, from = (wrank - 1 + wsize) % wsize, v = wrank, got = -1;
    begin("grequest_with_point_to_point");
    memset(g, 0, sizeof g);
    for (int i = 0; i < 3; i++)
        MPI_Grequest_start(query, free_fn, cancel, &g[i], &r[i]);
    MPI_Irecv(&got, 1, MPI_INT, from, 9, MPI_COMM_WORLD, &r[3]);
    MPI_Isend(&v, 1, MPI_INT, to, 9, MPI_COMM_WORLD, &r[4]);
    int index = -1, flag = -1;
    /* Testany: nothing complete among the generalized ones yet */
    CHECK(MPI_Testany(3, r, &index, &flag, &st[0]) == MPI_SUCCESS);
    CHECK(flag == 0 && index == MPI_UNDEFINED);
    MPI_Grequest_complete(r[1]);
    CHECK(MPI_Testany(3, r, &index, &flag, &st[0]) == MPI_SUCCESS);
    CHECK(flag == 1 && index == 1 && r[1] == MPI_REQUEST_NULL && g[1].frees == 1);
    MPI_Grequest_complete(r[2]);
    int outcount = -1, idx[5];
    CHECK(MPI_Waitsome(3, r, &outcount, idx, st) == MPI_SUCCESS);
    CHECK(outcount == 1 && idx[0] == 2 && g[2].frees == 1 && st[0].MPI_TAG == 42);
    MPI_Grequest_complete(r[0]);
    CHECK(MPI_Waitall(5, r, st) == MPI_SUCCESS);
    CHECK(got == from && g[0].frees == 1 && st[0].MPI_TAG == 42 && st[3].MPI_SOURCE == from);
    for (int i = 0; i < 5; i++)
        CHECK(r[i] == MPI_REQUEST_NULL);
    end();
}

static void test_query_error(void)
{
    struct state s = {0};
    MPI_Request r;
    begin("grequest_query_error_is_returned");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    s.fail = MPI_ERR_OTHER;
    MPI_Grequest_start(query, free_fn, cancel, &s, &r);
    MPI_Grequest_complete(r);
    int rc = MPI_Wait(&r, MPI_STATUS_IGNORE), cls = -1;
    MPI_Error_class(rc, &cls);
    CHECKF(cls == MPI_ERR_OTHER, "Wait returned class %d", cls);
    CHECK(s.queries == 1 && s.frees == 1);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    MPI_Comm_size(MPI_COMM_WORLD, &wsize);
    test_test_and_wait();
    test_get_status_and_free();
    test_cancel();
    test_mixed();
    test_query_error();
    return finish("grequest");
}
