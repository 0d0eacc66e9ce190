/* p2p_basic.c -- blocking point to point: Send/Recv, Ssend, Rsend (after the
 * receiver said it posted), Bsend with Buffer_attach/detach, Sendrecv,
 * Sendrecv_replace, MPI_PROC_NULL, the status fields, Get_count and
 * Get_elements, MPI_ANY_SOURCE and MPI_ANY_TAG.
 *
 * Self-checking; passes at any number of ranks, one included (every exchange
 * is ordered so that it cannot deadlock, whatever the send mode).
 * Prints "ok <test>" lines and "mpi-test p2p_basic: N passed, M failed". */
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD
static int left, right;            /* ring neighbours */

typedef int (*send_fn)(const void *, int, MPI_Datatype, int, int, MPI_Comm);

/* Sends `out` to the right neighbour and receives `in` from the left one,
 * with the blocking MPI_Recv, in an order that cannot deadlock whatever the
 * send mode: even ranks send first, odd ranks receive first; alone, the
 * receive is posted (Irecv) before the send. */
static int ring_exchange(send_fn send, const void *out, void *in, int count,
                         MPI_Datatype type, int tag, MPI_Status *st)
{
    int rc1, rc2;
    if (wsize == 1) {
        MPI_Request r;
        MPI_Irecv(in, count, type, left, tag, W, &r);
        rc1 = send(out, count, type, right, tag, W);
        rc2 = MPI_Wait(&r, st);
    } else if (wrank % 2 == 0) {
        rc1 = send(out, count, type, right, tag, W);
        rc2 = MPI_Recv(in, count, type, left, tag, W, st);
    } else {
        rc2 = MPI_Recv(in, count, type, left, tag, W, st);
        rc1 = send(out, count, type, right, tag, W);
    }
    return rc1 != MPI_SUCCESS ? rc1 : rc2;
}

static int value(int from, int i) { return from * 100003 + i * 7 + 1; }

static void fill(int *buf, int n, int from)
{
    for (int i = 0; i < n; i++)
        buf[i] = value(from, i);
}

static int bad_values(const int *buf, int n, int from)
{
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad += buf[i] != value(from, i);
    return bad;
}

static const int counts[] = {0, 1, 100, 20000};   /* ints; 80 KB is past any eager limit */
#define NCOUNTS ((int)(sizeof counts / sizeof counts[0]))
#define MAXCOUNT 20000

static void check_status(const MPI_Status *st, int source, int tag, int count)
{
    int n = -1;
    MPI_Get_count(st, MPI_INT, &n);
    CHECKF(st->MPI_SOURCE == source, "MPI_SOURCE %d, expected %d", st->MPI_SOURCE, source);
    CHECKF(st->MPI_TAG == tag, "MPI_TAG %d, expected %d", st->MPI_TAG, tag);
    CHECKF(n == count, "count %d, expected %d", n, count);
}

static void test_mode(const char *name, send_fn send)
{
    static int out[MAXCOUNT], in[MAXCOUNT + 1];
    begin(name);
    for (int c = 0; c < NCOUNTS; c++) {
        MPI_Status st;
        fill(out, counts[c], wrank);
        for (int i = 0; i <= MAXCOUNT; i++)
            in[i] = -1;
        int rc = ring_exchange(send, out, in, counts[c], MPI_INT, 10 + c, &st);
        CHECK(rc == MPI_SUCCESS);
        CHECKF(bad_values(in, counts[c], left) == 0, "count %d: %d wrong values", counts[c],
               bad_values(in, counts[c], left));
        CHECKF(in[counts[c]] == -1, "count %d: wrote past the message", counts[c]);
        check_status(&st, left, 10 + c, counts[c]);
    }
    /* a receive buffer larger than the message, posted before the send */
    {
        MPI_Status st;
        MPI_Request r;
        fill(out, 10, wrank);
        MPI_Irecv(in, 1000, MPI_INT, left, 21, W, &r);
        MPI_Barrier(W);
        send(out, 10, MPI_INT, right, 21, W);
        MPI_Wait(&r, &st);
        check_status(&st, left, 21, 10);
        CHECK(bad_values(in, 10, left) == 0);
    }
    end();
}

static void test_rsend(void)
{
    static int out[MAXCOUNT], in[MAXCOUNT];
    begin("rsend");
    for (int c = 0; c < NCOUNTS; c++) {
        MPI_Request r;
        MPI_Status st;
        fill(out, counts[c], wrank);
        MPI_Irecv(in, counts[c], MPI_INT, left, 30, W, &r);
        /* tell the left neighbour (who sends to us) that the receive is
         * posted; hear the same from the right one */
        MPI_Sendrecv(NULL, 0, MPI_BYTE, left, 31, NULL, 0, MPI_BYTE, right, 31, W, MPI_STATUS_IGNORE);
        CHECK(MPI_Rsend(out, counts[c], MPI_INT, right, 30, W) == MPI_SUCCESS);
        MPI_Wait(&r, &st);
        check_status(&st, left, 30, counts[c]);
        CHECK(bad_values(in, counts[c], left) == 0);
    }
    end();
}

static void test_bsend(void)
{
    static int out[3][1000], in[1000];
    const int n[3] = {10, 1000, 0};
    int size = 0;
    begin("bsend");
    for (int k = 0; k < 3; k++) {
        int s;
        MPI_Pack_size(n[k], MPI_INT, W, &s);
        size += s + MPI_BSEND_OVERHEAD;
    }
    char *buf = malloc(size);
    CHECK(MPI_Buffer_attach(buf, size) == MPI_SUCCESS);
    /* three buffered sends complete locally, before any receive is posted */
    for (int k = 0; k < 3; k++) {
        fill(out[k], n[k], wrank * 3 + k);
        CHECK(MPI_Bsend(out[k], n[k], MPI_INT, right, 40 + k, W) == MPI_SUCCESS);
    }
    for (int k = 0; k < 3; k++)
        fill(out[k], n[k], -1);    /* the buffered copies must not change */
    for (int k = 2; k >= 0; k--) { /* received in reverse order, by tag */
        MPI_Status st;
        MPI_Recv(in, 1000, MPI_INT, left, 40 + k, W, &st);
        check_status(&st, left, 40 + k, n[k]);
        CHECK(bad_values(in, n[k], left * 3 + k) == 0);
    }
    /* the buffer space is reused once messages have left */
    for (int it = 0; it < 20; it++) {
        fill(out[1], 1000, wrank + it);
        CHECK(MPI_Bsend(out[1], 1000, MPI_INT, right, 44, W) == MPI_SUCCESS);
        MPI_Recv(in, 1000, MPI_INT, left, 44, W, MPI_STATUS_IGNORE);
        CHECK(bad_values(in, 1000, left + it) == 0);
    }
    void *back = NULL;
    int back_size = 0;
    CHECK(MPI_Buffer_detach(&back, &back_size) == MPI_SUCCESS);
    CHECK(back == buf);
    CHECK(back_size == size);
    free(buf);
    end();
}

static void test_sendrecv(void)
{
    static int out[MAXCOUNT], in[MAXCOUNT];
    MPI_Status st;
    begin("sendrecv");
    for (int c = 0; c < NCOUNTS; c++) {
        fill(out, counts[c], wrank);
        CHECK(MPI_Sendrecv(out, counts[c], MPI_INT, right, 50, in, counts[c], MPI_INT, left, 50, W, &st)
              == MPI_SUCCESS);
        check_status(&st, left, 50, counts[c]);
        CHECK(bad_values(in, counts[c], left) == 0);
    }
    /* different send and receive sizes and tags */
    fill(out, 3, wrank);
    MPI_Sendrecv(out, 3, MPI_INT, right, 51 + wrank, in, 10, MPI_INT, left, 51 + left, W, &st);
    check_status(&st, left, 51 + left, 3);
    CHECK(bad_values(in, 3, left) == 0);
    /* a non-periodic shift: the ends talk to MPI_PROC_NULL */
    int dst = wrank + 1 < wsize ? wrank + 1 : MPI_PROC_NULL;
    int src = wrank > 0 ? wrank - 1 : MPI_PROC_NULL;
    fill(out, 5, wrank);
    for (int i = 0; i < 5; i++)
        in[i] = -7;
    MPI_Sendrecv(out, 5, MPI_INT, dst, 52, in, 5, MPI_INT, src, 52, W, &st);
    if (src == MPI_PROC_NULL) {
        check_status(&st, MPI_PROC_NULL, MPI_ANY_TAG, 0);
        CHECK(in[0] == -7 && in[4] == -7);
    } else {
        check_status(&st, src, 52, 5);
        CHECK(bad_values(in, 5, src) == 0);
    }
    end();
}

static void test_sendrecv_replace(void)
{
    static double buf[100000];
    MPI_Status st;
    begin("sendrecv_replace");
    const int n[2] = {100, 100000};
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < n[k]; i++)
            buf[i] = wrank * 1000.5 + i;
        CHECK(MPI_Sendrecv_replace(buf, n[k], MPI_DOUBLE, right, 60, left, 60, W, &st) == MPI_SUCCESS);
        int bad = 0, got = -1;
        for (int i = 0; i < n[k]; i++)
            bad += buf[i] != left * 1000.5 + i;
        CHECKF(bad == 0, "%d of %d wrong", bad, n[k]);
        MPI_Get_count(&st, MPI_DOUBLE, &got);
        CHECK(st.MPI_SOURCE == left && st.MPI_TAG == 60 && got == n[k]);
    }
    end();
}

static void check_null_status(const MPI_Status *st)
{
    int n = -1;
    CHECKF(st->MPI_SOURCE == MPI_PROC_NULL, "MPI_SOURCE %d", st->MPI_SOURCE);
    CHECKF(st->MPI_TAG == MPI_ANY_TAG, "MPI_TAG %d", st->MPI_TAG);
    MPI_Get_count(st, MPI_INT, &n);
    CHECKF(n == 0, "count %d", n);
}

static void test_proc_null(void)
{
    int out[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, in[10];
    MPI_Status st;
    MPI_Request r;
    begin("proc_null");
    CHECK(MPI_Send(out, 10, MPI_INT, MPI_PROC_NULL, 1, W) == MPI_SUCCESS);
    CHECK(MPI_Ssend(out, 10, MPI_INT, MPI_PROC_NULL, 1, W) == MPI_SUCCESS);
    CHECK(MPI_Rsend(out, 10, MPI_INT, MPI_PROC_NULL, 1, W) == MPI_SUCCESS);
    CHECK(MPI_Bsend(out, 10, MPI_INT, MPI_PROC_NULL, 1, W) == MPI_SUCCESS);
    for (int i = 0; i < 10; i++)
        in[i] = -1;
    memset(&st, 0x55, sizeof st);
    CHECK(MPI_Recv(in, 10, MPI_INT, MPI_PROC_NULL, 1, W, &st) == MPI_SUCCESS);
    check_null_status(&st);
    CHECK(in[0] == -1 && in[9] == -1);
    memset(&st, 0x55, sizeof st);
    MPI_Irecv(in, 10, MPI_INT, MPI_PROC_NULL, MPI_ANY_TAG, W, &r);
    CHECK(MPI_Wait(&r, &st) == MPI_SUCCESS);
    CHECK(r == MPI_REQUEST_NULL);
    check_null_status(&st);
    MPI_Isend(out, 10, MPI_INT, MPI_PROC_NULL, 1, W, &r);
    CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE) == MPI_SUCCESS);
    CHECK(r == MPI_REQUEST_NULL);
    memset(&st, 0x55, sizeof st);
    MPI_Sendrecv(out, 10, MPI_INT, MPI_PROC_NULL, 1, in, 10, MPI_INT, MPI_PROC_NULL, 1, W, &st);
    check_null_status(&st);
    end();
}

/* Isend to the right, blocking Recv from the left: safe at any size. */
static void shift(const void *out, int n, MPI_Datatype st, void *in, int m, MPI_Datatype rt,
                  int tag, MPI_Status *status)
{
    MPI_Request r;
    MPI_Isend(out, n, st, right, tag, W, &r);
    MPI_Recv(in, m, rt, left, tag, W, status);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
}

static void test_counts(void)
{
    int out[16], in[16];
    char bytes[100];
    MPI_Datatype three;
    MPI_Status st;
    int n;
    begin("get_count_elements");
    MPI_Type_contiguous(3, MPI_INT, &three);
    MPI_Type_commit(&three);

    fill(out, 7, wrank);                        /* 7 ints into 3 x (3 ints) */
    shift(out, 7, MPI_INT, in, 3, three, 70, &st);
    CHECK(st.MPI_SOURCE == left && st.MPI_TAG == 70);
    MPI_Get_count(&st, three, &n);
    CHECKF(n == MPI_UNDEFINED, "Get_count %d, expected MPI_UNDEFINED", n);
    MPI_Get_elements(&st, three, &n);
    CHECKF(n == 7, "Get_elements %d, expected 7", n);
    CHECK(bad_values(in, 7, left) == 0);

    shift(out, 6, MPI_INT, in, 3, three, 71, &st);  /* 6 ints: 2 whole items */
    MPI_Get_count(&st, three, &n);
    CHECKF(n == 2, "Get_count %d, expected 2", n);
    MPI_Get_elements(&st, three, &n);
    CHECKF(n == 6, "Get_elements %d, expected 6", n);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECKF(n == 6, "Get_count(MPI_INT) %d, expected 6", n);

    memset(bytes, wrank, sizeof bytes);
    shift(bytes, 10, MPI_BYTE, bytes + 50, 50, MPI_BYTE, 72, &st);
    MPI_Get_count(&st, MPI_BYTE, &n);
    CHECK(n == 10);
    MPI_Get_elements(&st, MPI_BYTE, &n);
    CHECK(n == 10);
    CHECK(bytes[50] == (char)left && bytes[59] == (char)left);

    shift(out, 0, MPI_INT, in, 16, MPI_INT, 73, &st);  /* an empty message */
    CHECK(st.MPI_SOURCE == left && st.MPI_TAG == 73);
    MPI_Get_count(&st, MPI_INT, &n);
    CHECK(n == 0);
    MPI_Get_elements(&st, three, &n);
    CHECK(n == 0);
    MPI_Get_count(&st, three, &n);
    CHECK(n == 0);

    /* MPI_STATUS_IGNORE is accepted everywhere a status is written */
    shift(out, 2, MPI_INT, in, 2, MPI_INT, 74, MPI_STATUS_IGNORE);
    CHECK(bad_values(in, 2, left) == 0);
    MPI_Type_free(&three);
    end();
}

static void test_wildcards(void)
{
    MPI_Request *reqs = malloc(wsize * sizeof *reqs);
    int (*out)[2] = malloc(wsize * sizeof *out);
    int *seen = calloc(wsize, sizeof *seen);
    begin("any_source_any_tag");
    for (int d = 0; d < wsize; d++) {
        out[d][0] = wrank;
        out[d][1] = d;
        MPI_Isend(out[d], 2, MPI_INT, d, 100 + wrank, W, &reqs[d]);
    }
    for (int k = 0; k < wsize; k++) {
        int in[2] = {-1, -1};
        MPI_Status st;
        MPI_Recv(in, 2, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, W, &st);
        CHECK(in[1] == wrank);
        CHECK(in[0] >= 0 && in[0] < wsize);
        CHECKF(st.MPI_SOURCE == in[0], "MPI_SOURCE %d for a message from %d", st.MPI_SOURCE, in[0]);
        CHECKF(st.MPI_TAG == 100 + in[0], "MPI_TAG %d for a message from %d", st.MPI_TAG, in[0]);
        if (in[0] >= 0 && in[0] < wsize)
            seen[in[0]]++;
    }
    for (int s = 0; s < wsize; s++)
        CHECKF(seen[s] == 1, "%d messages from %d", seen[s], s);
    MPI_Waitall(wsize, reqs, MPI_STATUSES_IGNORE);
    MPI_Barrier(W);   /* no wildcard receive above may see the messages below */

    /* a tag selects among pending messages; ANY_TAG with a fixed source */
    int a = 1000 + wrank, b = 2000 + wrank, in = 0;
    MPI_Request two[2];
    MPI_Status st;
    MPI_Isend(&a, 1, MPI_INT, right, 1, W, &two[0]);
    MPI_Isend(&b, 1, MPI_INT, right, 2, W, &two[1]);
    MPI_Recv(&in, 1, MPI_INT, MPI_ANY_SOURCE, 2, W, &st);
    CHECK(in == 2000 + left && st.MPI_SOURCE == left && st.MPI_TAG == 2);
    MPI_Recv(&in, 1, MPI_INT, left, MPI_ANY_TAG, W, &st);
    CHECK(in == 1000 + left && st.MPI_SOURCE == left && st.MPI_TAG == 1);
    MPI_Waitall(2, two, MPI_STATUSES_IGNORE);
    free(reqs);
    free(out);
    free(seen);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    right = (wrank + 1) % wsize;
    left = (wrank + wsize - 1) % wsize;

    test_mode("send_recv", MPI_Send);
    test_mode("ssend", MPI_Ssend);
    test_rsend();
    test_bsend();
    test_sendrecv();
    test_sendrecv_replace();
    test_proc_null();
    test_counts();
    test_wildcards();
    return finish("p2p_basic");
}
