/* nbc_basic.c -- every nonblocking collective of MPI-3.1 5.12 against
 * results computed locally: Ibarrier, Ibcast, Ireduce, Iallreduce,
 * Igather(v), Iscatter(v), Iallgather(v), Ialltoall(v,w),
 * Ireduce_scatter(_block), Iscan, Iexscan; every root, MPI_IN_PLACE where
 * the standard allows it, a derived vector type whose gaps must stay
 * untouched, a non-commutative user op (digit concatenation) that shows
 * rank order, completion by MPI_Wait with an empty status, and the error
 * classes of bad arguments under MPI_ERRORS_RETURN.
 *
 * Prints "ok <test>" lines and "mpi-test nbc_basic: N passed, M failed". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD
#define JUNK (-777)

/* (digits, length): a.b is a's digits followed by b's; associative, not
 * commutative. Rank r contributes the digit r + 1. */
static void concat(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    int *a = in, *b = inout;
    (void)dt;
    for (int i = 0; i < *len; i++) {
        int p = 1;
        for (int k = 0; k < b[2 * i + 1]; k++)
            p *= 10;
        b[2 * i] = a[2 * i] * p + b[2 * i];
        b[2 * i + 1] += a[2 * i + 1];
    }
}

/* The concatenation of digits lo+1 .. hi (ranks lo..hi-1). */
static int digits(int lo, int hi)
{
    int v = 0;
    for (int r = lo; r < hi; r++)
        v = v * 10 + r + 1;
    return v;
}

/* MPI_MIN on the ints of the vector type below (predefined ops are
 * defined on predefined types only, 5.9.2). */
static void vmin(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    int *a = in, *b = inout;
    (void)dt;
    for (int i = 0; i < *len; i++)
        for (int k = 0; k < 3; k += 2)
            if (a[3 * i + k] < b[3 * i + k])
                b[3 * i + k] = a[3 * i + k];
}

static MPI_Op op_concat, op_vmin;
static MPI_Datatype vec;      /* 2 ints: elements 0 and 2 of 3 (extent 3 ints) */

/* MPI-3.1 5.12: the source and tag of the status are undefined. */
static void wait_empty(MPI_Request *r)
{
    CHECK(MPI_Wait(r, MPI_STATUS_IGNORE) == MPI_SUCCESS);
    CHECK(*r == MPI_REQUEST_NULL);
}

static void test_barrier(void)
{
    MPI_Request r;
    int flag = 1, go = 1;
    begin("ibarrier");
    /* rank 0 enters only after every other rank has seen its barrier
     * still incomplete */
    if (wrank == 0) {
        for (int i = 1; i < wsize; i++)
            MPI_Recv(&go, 1, MPI_INT, i, 5, W, MPI_STATUS_IGNORE);
        CHECK(MPI_Ibarrier(W, &r) == MPI_SUCCESS);
    } else {
        CHECK(MPI_Ibarrier(W, &r) == MPI_SUCCESS);
        CHECK(MPI_Test(&r, &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS);
        CHECKF(!flag, "the barrier completed before rank 0 entered it");
        MPI_Send(&go, 1, MPI_INT, 0, 5, W);
    }
    wait_empty(&r);
    for (int i = 0; i < 3; i++) {            /* several in a row */
        CHECK(MPI_Ibarrier(W, &r) == MPI_SUCCESS);
        wait_empty(&r);
    }
    end();
}

static void test_bcast(void)
{
    MPI_Request r;
    int a[6], v[9];
    begin("ibcast");
    for (int root = 0; root < wsize; root++) {
        for (int i = 0; i < 6; i++)
            a[i] = wrank == root ? 100 * root + i : JUNK;
        CHECK(MPI_Ibcast(a, 6, MPI_INT, root, W, &r) == MPI_SUCCESS);
        wait_empty(&r);
        for (int i = 0; i < 6; i++)
            CHECKF(a[i] == 100 * root + i, "root %d a[%d] = %d", root, i, a[i]);
        for (int i = 0; i < 9; i++)
            v[i] = wrank == root ? 10 * root + i : JUNK;
        CHECK(MPI_Ibcast(v, 3, vec, root, W, &r) == MPI_SUCCESS);
        wait_empty(&r);
        for (int i = 0; i < 9; i++)
            CHECKF(v[i] == (i % 3 == 1 && wrank != root ? JUNK : 10 * root + i),
                   "vec root %d v[%d] = %d", root, i, v[i]);
    }
    end();
}

static void test_reduce(void)
{
    MPI_Request r;
    int s[4], out[4], c[2], co[2];
    begin("ireduce");
    for (int root = 0; root < wsize; root++) {
        for (int i = 0; i < 4; i++) {
            s[i] = wrank + i;
            out[i] = JUNK;
        }
        CHECK(MPI_Ireduce(s, out, 4, MPI_INT, MPI_SUM, root, W, &r) == MPI_SUCCESS);
        wait_empty(&r);
        for (int i = 0; wrank == root && i < 4; i++)
            CHECKF(out[i] == wsize * (wsize - 1) / 2 + wsize * i, "sum[%d] = %d", i, out[i]);
        /* in place at the root */
        for (int i = 0; i < 4; i++)
            out[i] = wrank * i;
        CHECK(MPI_Ireduce(wrank == root ? MPI_IN_PLACE : out, wrank == root ? out : NULL, 4,
                          MPI_INT, MPI_MAX, root, W, &r) == MPI_SUCCESS);
        wait_empty(&r);
        for (int i = 0; wrank == root && i < 4; i++)
            CHECKF(out[i] == (wsize - 1) * i, "max[%d] = %d", i, out[i]);
        /* rank order */
        c[0] = wrank + 1;
        c[1] = 1;
        co[0] = co[1] = JUNK;
        CHECK(MPI_Ireduce(c, co, 1, MPI_2INT, op_concat, root, W, &r) == MPI_SUCCESS);
        wait_empty(&r);
        if (wrank == root)
            CHECKF(co[0] == digits(0, wsize) && co[1] == wsize, "concat root %d: %d (%d)",
                   root, co[0], co[1]);
    }
    end();
}

static void test_allreduce(void)
{
    MPI_Request r;
    double d[3], o[3];
    int c[2], v[6];
    begin("iallreduce");
    for (int i = 0; i < 3; i++)
        d[i] = wrank * (i + 1) + 0.5;
    CHECK(MPI_Iallreduce(d, o, 3, MPI_DOUBLE, MPI_SUM, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int i = 0; i < 3; i++)
        CHECKF(o[i] == (i + 1) * wsize * (wsize - 1) / 2 + 0.5 * wsize, "sum[%d] = %f", i, o[i]);
    c[0] = wrank + 1;
    c[1] = 1;
    CHECK(MPI_Iallreduce(MPI_IN_PLACE, c, 1, MPI_2INT, op_concat, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    CHECKF(c[0] == digits(0, wsize) && c[1] == wsize, "concat %d (%d)", c[0], c[1]);
    /* a derived type: the gap keeps its value */
    for (int i = 0; i < 6; i++)
        v[i] = i % 3 == 1 ? JUNK : wrank + i;
    CHECK(MPI_Iallreduce(MPI_IN_PLACE, v, 2, vec, op_vmin, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int i = 0; i < 6; i++)
        CHECKF(v[i] == (i % 3 == 1 ? JUNK : i), "min v[%d] = %d", i, v[i]);
    end();
}

static void test_gather(void)
{
    MPI_Request r;
    int n = wsize, mine[2], all[8], counts[4], displs[4], vall[3 * 4];
    begin("igather_igatherv");
    for (int root = 0; root < n; root++) {
        mine[0] = 10 * wrank;
        mine[1] = 10 * wrank + 1;
        for (int i = 0; i < 8; i++)
            all[i] = JUNK;
        CHECK(MPI_Igather(mine, 2, MPI_INT, all, 2, MPI_INT, root, W, &r) == MPI_SUCCESS);
        wait_empty(&r);
        for (int i = 0; wrank == root && i < 2 * n; i++)
            CHECKF(all[i] == 10 * (i / 2) + i % 2, "gather root %d all[%d] = %d", root, i, all[i]);
        /* in place at the root, received as the vector type */
        for (int i = 0; i < 12; i++)
            vall[i] = wrank == root && i / 3 == root && i % 3 != 1 ? 10 * root + i % 3 / 2 : JUNK;
        CHECK(MPI_Igather(wrank == root ? MPI_IN_PLACE : mine, 2, MPI_INT, vall, 1, vec, root, W,
                          &r) == MPI_SUCCESS);
        wait_empty(&r);
        for (int i = 0; wrank == root && i < 3 * n; i++)
            CHECKF(vall[i] == (i % 3 == 1 ? JUNK : 10 * (i / 3) + i % 3 / 2),
                   "gather vec root %d vall[%d] = %d", root, i, vall[i]);
        /* v: rank i sends i % 3 ints, placed in reverse order */
        int tot = 0;
        for (int i = n - 1; i >= 0; i--) {
            counts[i] = i % 3;
            displs[i] = tot;
            tot += counts[i] + 1;
        }
        for (int i = 0; i < 8; i++)
            all[i] = JUNK;
        CHECK(MPI_Igatherv(mine, wrank % 3, MPI_INT, all, counts, displs, MPI_INT, root, W, &r) ==
              MPI_SUCCESS);
        wait_empty(&r);
        for (int i = 0; wrank == root && i < n; i++)
            for (int k = 0; k < counts[i]; k++)
                CHECKF(all[displs[i] + k] == 10 * i + k, "gatherv root %d from %d: %d", root, i,
                       all[displs[i] + k]);
    }
    end();
}

static void test_scatter(void)
{
    MPI_Request r;
    int n = wsize, all[8], got[2], counts[4], displs[4];
    begin("iscatter_iscatterv");
    for (int root = 0; root < n; root++) {
        for (int i = 0; i < 8; i++)
            all[i] = wrank == root ? 100 + i : JUNK;
        got[0] = got[1] = JUNK;
        CHECK(MPI_Iscatter(all, 2, MPI_INT, got, 2, MPI_INT, root, W, &r) == MPI_SUCCESS);
        wait_empty(&r);
        CHECKF(got[0] == 100 + 2 * wrank && got[1] == 101 + 2 * wrank, "scatter root %d: %d %d",
               root, got[0], got[1]);
        /* in place at the root: its block stays */
        CHECK(MPI_Iscatter(all, 2, MPI_INT, wrank == root ? MPI_IN_PLACE : got, 2, MPI_INT, root,
                           W, &r) == MPI_SUCCESS);
        wait_empty(&r);
        CHECK(wrank == root ? all[2 * root] == 100 + 2 * root : got[0] == 100 + 2 * wrank);
        int tot = 0;
        for (int i = n - 1; i >= 0; i--) {
            counts[i] = (i + 1) % 3;
            displs[i] = tot;
            tot += counts[i];
        }
        got[0] = got[1] = JUNK;
        CHECK(MPI_Iscatterv(all, counts, displs, MPI_INT, got, (wrank + 1) % 3, MPI_INT, root, W,
                            &r) == MPI_SUCCESS);
        wait_empty(&r);
        for (int k = 0; k < 2; k++)
            CHECKF(got[k] == (k < (wrank + 1) % 3 ? 100 + displs[wrank] + k : JUNK),
                   "scatterv root %d got[%d] = %d", root, k, got[k]);
    }
    end();
}

static void test_allgather(void)
{
    MPI_Request r;
    int n = wsize, mine[2] = {wrank, -wrank}, all[8], counts[4], displs[4];
    begin("iallgather_iallgatherv");
    for (int i = 0; i < 8; i++)
        all[i] = JUNK;
    CHECK(MPI_Iallgather(mine, 2, MPI_INT, all, 2, MPI_INT, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int i = 0; i < 2 * n; i++)
        CHECKF(all[i] == (i % 2 ? -(i / 2) : i / 2), "allgather all[%d] = %d", i, all[i]);
    for (int i = 0; i < 8; i++)
        all[i] = i / 2 == wrank ? 7 * wrank : JUNK;
    CHECK(MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, all, 2, MPI_INT, W, &r) ==
          MPI_SUCCESS);
    wait_empty(&r);
    for (int i = 0; i < 2 * n; i++)
        CHECKF(all[i] == 7 * (i / 2), "allgather in place all[%d] = %d", i, all[i]);
    int tot = 0;
    for (int i = n - 1; i >= 0; i--) {
        counts[i] = 2 - i % 2;
        displs[i] = tot;
        tot += counts[i];
    }
    for (int i = 0; i < 8; i++)
        all[i] = JUNK;
    CHECK(MPI_Iallgatherv(mine, counts[wrank], MPI_INT, all, counts, displs, MPI_INT, W, &r) ==
          MPI_SUCCESS);
    wait_empty(&r);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < counts[i]; k++)
            CHECKF(all[displs[i] + k] == (k ? -i : i), "allgatherv from %d [%d] = %d", i, k,
                   all[displs[i] + k]);
    end();
}

static void test_alltoall(void)
{
    MPI_Request r;
    int n = wsize, s[8], g[8], sc[4], sd[4], rc[4], rd[4];
    MPI_Datatype ts[4], tr[4];
    begin("ialltoall_v_w");
    for (int i = 0; i < 2 * n; i++) {
        s[i] = 100 * wrank + i;
        g[i] = JUNK;
    }
    CHECK(MPI_Ialltoall(s, 2, MPI_INT, g, 2, MPI_INT, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int i = 0; i < 2 * n; i++)
        CHECKF(g[i] == 100 * (i / 2) + 2 * wrank + i % 2, "alltoall g[%d] = %d", i, g[i]);
    CHECK(MPI_Ialltoall(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, s, 2, MPI_INT, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int i = 0; i < 2 * n; i++)
        CHECKF(s[i] == 100 * (i / 2) + 2 * wrank + i % 2, "alltoall in place s[%d] = %d", i, s[i]);
    /* v: rank i sends (i + j) % 2 + 1 ints to rank j */
    int so = 0, ro = 0;
    for (int j = 0; j < n; j++) {
        sc[j] = (wrank + j) % 2 + 1;
        sd[j] = so;
        so += sc[j];
        rc[j] = (j + wrank) % 2 + 1;
        rd[j] = ro;
        ro += rc[j];
    }
    for (int i = 0; i < 8; i++) {
        s[i] = 100 * wrank + i;
        g[i] = JUNK;
    }
    CHECK(MPI_Ialltoallv(s, sc, sd, MPI_INT, g, rc, rd, MPI_INT, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int j = 0; j < n; j++) {
        int their = 0;          /* offset of my block in rank j's send buffer */
        for (int k = 0; k < wrank; k++)
            their += (j + k) % 2 + 1;
        for (int k = 0; k < rc[j]; k++)
            CHECKF(g[rd[j] + k] == 100 * j + their + k, "alltoallv from %d [%d] = %d", j, k,
                   g[rd[j] + k]);
    }
    /* w: one int to each rank, byte displacements, MPI_INT sent as MPI_INT */
    for (int j = 0; j < n; j++) {
        sc[j] = rc[j] = 1;
        sd[j] = rd[j] = (int)((n - 1 - j) * sizeof(int));
        ts[j] = tr[j] = MPI_INT;
        s[n - 1 - j] = 1000 * wrank + j;
        g[j] = JUNK;
    }
    CHECK(MPI_Ialltoallw(s, sc, sd, ts, g, rc, rd, tr, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int j = 0; j < n; j++)
        CHECKF(g[n - 1 - j] == 1000 * j + wrank, "alltoallw from %d: %d", j, g[n - 1 - j]);
    CHECK(MPI_Ialltoallw(MPI_IN_PLACE, NULL, NULL, NULL, g, rc, rd, tr, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int j = 0; j < n; j++)
        CHECKF(g[n - 1 - j] == 1000 * wrank + j, "alltoallw in place from %d: %d", j, g[n - 1 - j]);
    end();
}

static void test_redscat(void)
{
    MPI_Request r;
    int n = wsize, s[8], g[8], counts[4], c[8];
    begin("ireduce_scatter_block");
    for (int i = 0; i < 2 * n; i++)
        s[i] = wrank * i;
    g[0] = g[1] = JUNK;
    CHECK(MPI_Ireduce_scatter_block(s, g, 2, MPI_INT, MPI_SUM, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int k = 0; k < 2; k++)
        CHECKF(g[k] == (2 * wrank + k) * n * (n - 1) / 2, "block g[%d] = %d", k, g[k]);
    for (int i = 0; i < n; i++) {
        c[2 * i] = wrank + 1;
        c[2 * i + 1] = 1;
    }
    CHECK(MPI_Ireduce_scatter_block(MPI_IN_PLACE, c, 1, MPI_2INT, op_concat, W, &r) ==
          MPI_SUCCESS);
    wait_empty(&r);
    CHECKF(c[0] == digits(0, n) && c[1] == n, "block concat %d (%d)", c[0], c[1]);
    end();
    begin("ireduce_scatter");
    int tot = 0;
    for (int i = 0; i < n; i++)
        tot += counts[i] = i % 3;
    for (int i = 0; i < tot; i++)
        s[i] = wrank + i;
    g[0] = g[1] = JUNK;
    CHECK(MPI_Ireduce_scatter(s, g, counts, MPI_INT, MPI_SUM, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    int off = 0;
    for (int i = 0; i < wrank; i++)
        off += counts[i];
    for (int k = 0; k < 2; k++)
        CHECKF(g[k] == (k < counts[wrank] ? n * (n - 1) / 2 + n * (off + k) : JUNK),
               "redscat g[%d] = %d", k, g[k]);
    for (int i = 0; i < tot; i++)
        s[i] = wrank + i;
    CHECK(MPI_Ireduce_scatter(MPI_IN_PLACE, s, counts, MPI_INT, MPI_MAX, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int k = 0; k < counts[wrank]; k++)
        CHECKF(s[k] == n - 1 + off + k, "redscat in place s[%d] = %d", k, s[k]);
    end();
}

static void test_scan(void)
{
    MPI_Request r;
    int a[3], o[3], c[2], co[2];
    begin("iscan_iexscan");
    for (int i = 0; i < 3; i++) {
        a[i] = wrank + i;
        o[i] = JUNK;
    }
    CHECK(MPI_Iscan(a, o, 3, MPI_INT, MPI_SUM, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int i = 0; i < 3; i++)
        CHECKF(o[i] == wrank * (wrank + 1) / 2 + (wrank + 1) * i, "scan o[%d] = %d", i, o[i]);
    c[0] = wrank + 1;
    c[1] = 1;
    CHECK(MPI_Iscan(MPI_IN_PLACE, c, 1, MPI_2INT, op_concat, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    CHECKF(c[0] == digits(0, wrank + 1) && c[1] == wrank + 1, "scan concat %d", c[0]);
    for (int i = 0; i < 3; i++)
        o[i] = JUNK;
    CHECK(MPI_Iexscan(a, o, 3, MPI_INT, MPI_SUM, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    for (int i = 0; wrank > 0 && i < 3; i++)
        CHECKF(o[i] == wrank * (wrank - 1) / 2 + wrank * i, "exscan o[%d] = %d", i, o[i]);
    c[0] = wrank + 1;
    c[1] = 1;
    co[0] = co[1] = JUNK;
    CHECK(MPI_Iexscan(c, co, 1, MPI_2INT, op_concat, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    if (wrank > 0)
        CHECKF(co[0] == digits(0, wrank) && co[1] == wrank, "exscan concat %d", co[0]);
    c[0] = wrank + 1;
    c[1] = 1;
    CHECK(MPI_Iexscan(MPI_IN_PLACE, c, 1, MPI_2INT, op_concat, W, &r) == MPI_SUCCESS);
    wait_empty(&r);
    if (wrank > 0)
        CHECKF(c[0] == digits(0, wrank), "exscan in place %d", c[0]);
    end();
}

/* Argument errors come back with the blocking forms' classes. */
static void test_errors(void)
{
    MPI_Comm d;
    MPI_Request r = MPI_REQUEST_NULL;
    int x = 0, y = 0, cls;
    begin("errors");
    MPI_Comm_dup(W, &d);
    MPI_Comm_set_errhandler(d, MPI_ERRORS_RETURN);
    MPI_Error_class(MPI_Ibcast(&x, 1, MPI_INT, wsize, d, &r), &cls);
    CHECKF(cls == MPI_ERR_ROOT, "bad root: class %d", cls);
    MPI_Error_class(MPI_Ireduce(&x, &y, -1, MPI_INT, MPI_SUM, 0, d, &r), &cls);
    CHECKF(cls == MPI_ERR_COUNT, "negative count: class %d", cls);
    MPI_Error_class(MPI_Iallreduce(&x, &y, 1, MPI_INT, MPI_OP_NULL, d, &r), &cls);
    CHECKF(cls == MPI_ERR_OP, "null op: class %d", cls);
    MPI_Error_class(MPI_Igather(&x, 1, MPI_DATATYPE_NULL, &y, 1, MPI_INT, 0, d, &r), &cls);
    CHECKF(cls == MPI_ERR_TYPE, "null type: class %d", cls);
    CHECK(r == MPI_REQUEST_NULL);
    /* the communicator still works: nothing was started */
    x = wrank;
    CHECK(MPI_Iallreduce(&x, &y, 1, MPI_INT, MPI_SUM, d, &r) == MPI_SUCCESS);
    CHECK(MPI_Wait(&r, MPI_STATUS_IGNORE) == MPI_SUCCESS);
    CHECK(y == wsize * (wsize - 1) / 2);
    MPI_Comm_free(&d);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    MPI_Op_create(concat, 0, &op_concat);
    MPI_Op_create(vmin, 1, &op_vmin);
    MPI_Type_vector(2, 1, 2, MPI_INT, &vec);
    MPI_Type_commit(&vec);
    if (wsize > 4) {
        if (wrank == 0)
            printf("nbc_basic: runs at 1-4 ranks\n");
        MPI_Finalize();
        return 1;
    }
    test_barrier();
    test_bcast();
    test_reduce();
    test_allreduce();
    test_gather();
    test_scatter();
    test_allgather();
    test_alltoall();
    test_redscat();
    test_scan();
    test_errors();
    MPI_Type_free(&vec);
    MPI_Op_free(&op_concat);
    MPI_Op_free(&op_vmin);
    return finish("nbc_basic");
}
