/* intercomm.c -- intercommunicators (MPI-3.1 6.6, 5.2.2): the world is
 * split into a low and a high half, MPI_Intercomm_create joins them;
 * queries (test_inter, sizes, remote group); point to point whose ranks
 * name the remote group; every blocking collective with the data going
 * across (rooted ones with MPI_ROOT/MPI_PROC_NULL from both sides);
 * Comm_dup, Comm_split and Comm_create on the intercommunicator;
 * Intercomm_merge both ways. At 1 rank there is no second group: one ok
 * line says it was skipped.
 *
 * Prints "ok <test>" lines and "mpi-test intercomm: N passed, M failed". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD

static int color, lsize, rsize, lrank, rbase, lbase; /* rbase/lbase: world rank of remote/local rank 0 */
static MPI_Comm local, ic;

static int rworld(int r) { return rbase + r; }     /* world rank of remote rank r */

static void test_create_queries(void)
{
    int flag = -1, s = -1, r = -1, rs = -1;
    begin("intercomm_create_queries");
    CHECK(MPI_Intercomm_create(local, 0, W, color ? 0 : wsize / 2, 99, &ic) == MPI_SUCCESS);
    MPI_Comm_test_inter(ic, &flag);
    CHECK(flag == 1);
    MPI_Comm_test_inter(W, &flag);
    CHECK(flag == 0);
    MPI_Comm_size(ic, &s);
    MPI_Comm_rank(ic, &r);
    MPI_Comm_remote_size(ic, &rs);
    CHECKF(s == lsize && r == lrank && rs == rsize, "size %d rank %d remote size %d", s, r, rs);
    MPI_Group rg, wg;
    MPI_Comm_remote_group(ic, &rg);
    MPI_Comm_group(W, &wg);
    int in[64], out[64], gs = -1;
    MPI_Group_size(rg, &gs);
    CHECK(gs == rsize);
    for (int i = 0; i < rsize; i++)
        in[i] = i;
    MPI_Group_translate_ranks(rg, rsize, in, wg, out);
    for (int i = 0; i < rsize; i++)
        CHECKF(out[i] == rworld(i), "remote %d is world %d", i, out[i]);
    MPI_Group_free(&rg);
    MPI_Group_free(&wg);
    end();
}

static void test_p2p(void)
{
    begin("intercomm_point_to_point");
    /* every local rank sends to every remote rank; tag = receiver */
    MPI_Request q[128];
    int sv[64], rv[64], n = 0;
    for (int j = 0; j < rsize; j++) {
        sv[j] = 1000 * wrank + j;
        MPI_Isend(&sv[j], 1, MPI_INT, j, j, ic, &q[n++]);
    }
    for (int j = 0; j < rsize; j++)
        MPI_Irecv(&rv[j], 1, MPI_INT, j, lrank, ic, &q[n++]);
    MPI_Status st[128];
    MPI_Waitall(n, q, st);
    for (int j = 0; j < rsize; j++) {
        CHECKF(rv[j] == 1000 * rworld(j) + lrank, "from remote %d got %d", j, rv[j]);
        CHECKF(st[rsize + j].MPI_SOURCE == j, "source %d", st[rsize + j].MPI_SOURCE);
    }
    /* MPI_ANY_SOURCE: the source is a remote rank */
    int v = wrank, got = -1;
    MPI_Status s1;
    if (lrank < rsize)
        MPI_Send(&v, 1, MPI_INT, lrank, 7, ic);
    if (lrank < rsize) {
        MPI_Status sp;
        CHECK(MPI_Probe(MPI_ANY_SOURCE, 7, ic, &sp) == MPI_SUCCESS);
        CHECKF(sp.MPI_SOURCE == lrank, "probe source %d", sp.MPI_SOURCE);
        MPI_Recv(&got, 1, MPI_INT, MPI_ANY_SOURCE, 7, ic, &s1);
        CHECKF(s1.MPI_SOURCE == lrank && got == rworld(lrank), "source %d value %d", s1.MPI_SOURCE, got);
    }
    end();
}

static void test_barrier_bcast(void)
{
    begin("intercomm_barrier_bcast");
    CHECK(MPI_Barrier(ic) == MPI_SUCCESS);
    for (int side = 0; side < 2; side++) {
        int rootlocal = side == 0 ? 0 : (wsize - wsize / 2) - 1;   /* in group `side` */
        int buf[3] = {-1, -1, -1}, root;
        if (color == side) {
            root = lrank == rootlocal ? MPI_ROOT : MPI_PROC_NULL;
            if (root == MPI_ROOT)
                buf[0] = 5, buf[1] = 6, buf[2] = side;
        } else {
            root = rootlocal;
        }
        CHECK(MPI_Bcast(buf, 3, MPI_INT, root, ic) == MPI_SUCCESS);
        if (color != side)
            CHECKF(buf[0] == 5 && buf[1] == 6 && buf[2] == side, "side %d got %d %d %d", side, buf[0], buf[1], buf[2]);
        else if (root == MPI_PROC_NULL)
            CHECK(buf[0] == -1);
    }
    end();
}

static int remote_sum(int (*f)(int)) { int s = 0; for (int j = 0; j < rsize; j++) s += f(rworld(j)); return s; }
static int plus1(int w) { return w + 1; }
static int times3(int w) { return 3 * w; }

static void test_reduce_allreduce(void)
{
    begin("intercomm_reduce_allreduce");
    for (int side = 0; side < 2; side++) {
        int send[2] = {wrank + 1, 3 * wrank}, recv[2] = {-7, -7}, root;
        if (color == side)
            root = lrank == 0 ? MPI_ROOT : MPI_PROC_NULL;
        else
            root = 0;
        CHECK(MPI_Reduce(send, recv, 2, MPI_INT, MPI_SUM, root, ic) == MPI_SUCCESS);
        if (root == MPI_ROOT)
            CHECKF(recv[0] == remote_sum(plus1) && recv[1] == remote_sum(times3), "got %d %d", recv[0], recv[1]);
        else
            CHECK(recv[0] == -7);
    }
    double d = wrank, dm = -1;
    int s[2] = {wrank + 1, 3 * wrank}, r[2];
    CHECK(MPI_Allreduce(s, r, 2, MPI_INT, MPI_SUM, ic) == MPI_SUCCESS);
    CHECKF(r[0] == remote_sum(plus1) && r[1] == remote_sum(times3), "allreduce %d %d", r[0], r[1]);
    MPI_Allreduce(&d, &dm, 1, MPI_DOUBLE, MPI_MAX, ic);
    CHECK(dm == rworld(rsize - 1));
    end();
}

static void test_gather_scatter(void)
{
    begin("intercomm_gather_scatter");
    for (int side = 0; side < 2; side++) {
        int root = color == side ? (lrank == 0 ? MPI_ROOT : MPI_PROC_NULL) : 0;
        int s[2] = {wrank, -wrank}, r[128], counts[64], displs[64];
        for (int i = 0; i < 128; i++)
            r[i] = -9;
        CHECK(MPI_Gather(s, 2, MPI_INT, r, 2, MPI_INT, root, ic) == MPI_SUCCESS);
        if (root == MPI_ROOT)
            for (int j = 0; j < rsize; j++)
                CHECKF(r[2 * j] == rworld(j) && r[2 * j + 1] == -rworld(j), "gather %d", j);
        /* Gatherv: remote rank j sends j % 2 + 1 ints, placed backwards */
        int d = 0;
        for (int j = rsize - 1; j >= 0; j--)
            counts[j] = j % 2 + 1, displs[j] = d, d += counts[j];
        int mycount = lrank % 2 + 1;
        CHECK(MPI_Gatherv(s, mycount, MPI_INT, r, counts, displs, MPI_INT, root, ic) == MPI_SUCCESS);
        if (root == MPI_ROOT)
            for (int j = 0; j < rsize; j++)
                CHECKF(r[displs[j]] == rworld(j) && (counts[j] == 1 || r[displs[j] + 1] == -rworld(j)), "gatherv %d", j);
        /* Scatter: remote rank j gets 10 * j, 10 * j + 1 */
        int sb[128], got[2] = {-1, -1};
        for (int i = 0; i < 128; i++)
            sb[i] = 10 * (i / 2) + i % 2;
        CHECK(MPI_Scatter(sb, 2, MPI_INT, got, 2, MPI_INT, root, ic) == MPI_SUCCESS);
        if (color != side)
            CHECKF(got[0] == 10 * lrank && got[1] == 10 * lrank + 1, "scatter %d %d", got[0], got[1]);
        got[0] = got[1] = -1;
        CHECK(MPI_Scatterv(sb, counts, displs, MPI_INT, got, mycount, MPI_INT, root, ic) == MPI_SUCCESS);
        if (color != side) {
            /* displs/counts describe the remote side from the root's view:
             * this rank's part starts at its own displs[lrank], computed the same way */
            int dd = 0, mine = 0;
            for (int j = lsize - 1; j >= 0; j--) {
                if (j == lrank)
                    mine = dd;
                dd += j % 2 + 1;
            }
            CHECKF(got[0] == sb[mine] && (mycount == 1 || got[1] == sb[mine + 1]), "scatterv %d", got[0]);
        }
    }
    end();
}

static void test_allgather_alltoall(void)
{
    begin("intercomm_allgather_alltoall");
    int s[2] = {wrank, 7}, r[128], counts[64], displs[64];
    CHECK(MPI_Allgather(s, 2, MPI_INT, r, 2, MPI_INT, ic) == MPI_SUCCESS);
    for (int j = 0; j < rsize; j++)
        CHECKF(r[2 * j] == rworld(j) && r[2 * j + 1] == 7, "allgather %d: %d", j, r[2 * j]);
    int d = 0;
    for (int j = 0; j < rsize; j++)
        counts[j] = j % 2 + 1, displs[j] = d, d += counts[j] + 1;
    for (int i = 0; i < 128; i++)
        r[i] = -1;
    CHECK(MPI_Allgatherv(s, lrank % 2 + 1, MPI_INT, r, counts, displs, MPI_INT, ic) == MPI_SUCCESS);
    for (int j = 0; j < rsize; j++)
        CHECKF(r[displs[j]] == rworld(j) && r[displs[j] + counts[j]] == -1, "allgatherv %d", j);
    /* Alltoall: block j for remote j is 100 * wrank + j */
    int sb[128], rb[128];
    for (int j = 0; j < rsize; j++)
        sb[j] = 100 * wrank + j;
    CHECK(MPI_Alltoall(sb, 1, MPI_INT, rb, 1, MPI_INT, ic) == MPI_SUCCESS);
    for (int j = 0; j < rsize; j++)
        CHECKF(rb[j] == 100 * rworld(j) + lrank, "alltoall %d: %d", j, rb[j]);
    /* Alltoallv: to remote j, j + 1 copies; from remote j, lrank + 1 copies */
    int sc[64], sd[64], rc[64], rd[64], ns = 0, nr = 0;
    for (int j = 0; j < rsize; j++) {
        sc[j] = j + 1, sd[j] = ns;
        for (int k = 0; k < sc[j]; k++)
            sb[ns++] = 100 * wrank + j;
        rc[j] = lrank + 1, rd[j] = nr, nr += rc[j];
    }
    CHECK(MPI_Alltoallv(sb, sc, sd, MPI_INT, rb, rc, rd, MPI_INT, ic) == MPI_SUCCESS);
    for (int j = 0; j < rsize; j++)
        for (int k = 0; k < rc[j]; k++)
            CHECKF(rb[rd[j] + k] == 100 * rworld(j) + lrank, "alltoallv %d", j);
    /* Alltoallw: ints to even remote ranks, doubles to odd ones */
    double sdbl[64], rdbl[64];
    int sw[64], rw[64], cnt[64];
    MPI_Datatype st[64], rt[64];
    char *sbase = (char *)sdbl, *rbase_ = (char *)rdbl;
    (void)sbase; (void)rbase_;
    struct { int i; double d; } *sx = malloc(64 * sizeof *sx), *rx = malloc(64 * sizeof *rx);
    for (int j = 0; j < rsize; j++) {
        cnt[j] = 1;
        st[j] = rt[j] = (j + lrank) % 2 ? MPI_DOUBLE : MPI_INT;
        if (st[j] == MPI_INT) {
            sx[j].i = 100 * wrank + j;
            sw[j] = (int)((char *)&sx[j].i - (char *)sx);
            rw[j] = (int)((char *)&rx[j].i - (char *)rx);
        } else {
            sx[j].d = 0.5 + wrank + j;
            sw[j] = (int)((char *)&sx[j].d - (char *)sx);
            rw[j] = (int)((char *)&rx[j].d - (char *)rx);
        }
    }
    CHECK(MPI_Alltoallw(sx, cnt, sw, st, rx, cnt, rw, rt, ic) == MPI_SUCCESS);
    for (int j = 0; j < rsize; j++) {
        if (rt[j] == MPI_INT)
            CHECKF(rx[j].i == 100 * rworld(j) + lrank, "alltoallw int %d", j);
        else
            CHECKF(rx[j].d == 0.5 + rworld(j) + lrank, "alltoallw double %d", j);
    }
    free(sx);
    free(rx);
    end();
}

static void test_reduce_scatter(void)
{
    begin("intercomm_reduce_scatter");
    /* both groups reduce vectors of T = 2 * lsize * rsize elements */
    int T = 2 * lsize * rsize, rc = 2 * rsize;
    int *v = malloc(T * sizeof *v), *out = malloc(T * sizeof *out), counts[64];
    for (int k = 0; k < T; k++)
        v[k] = 100 * wrank + k;
    CHECK(MPI_Reduce_scatter_block(v, out, rc, MPI_INT, MPI_SUM, ic) == MPI_SUCCESS);
    for (int k = 0; k < rc; k++) {
        int e = lrank * rc + k, want = 0;
        for (int j = 0; j < rsize; j++)
            want += 100 * rworld(j) + e;
        CHECKF(out[k] == want, "block element %d: %d, want %d", k, out[k], want);
    }
    for (int i = 0; i < lsize; i++)
        counts[i] = rc;
    if (lsize > 1)
        counts[0]--, counts[lsize - 1]++;
    CHECK(MPI_Reduce_scatter(v, out, counts, MPI_INT, MPI_SUM, ic) == MPI_SUCCESS);
    int start = 0;
    for (int i = 0; i < lrank; i++)
        start += counts[i];
    for (int k = 0; k < counts[lrank]; k++) {
        int want = 0;
        for (int j = 0; j < rsize; j++)
            want += 100 * rworld(j) + start + k;
        CHECKF(out[k] == want, "element %d: %d, want %d", k, out[k], want);
    }
    free(v);
    free(out);
    end();
}

static void test_dup_split_create(void)
{
    begin("intercomm_dup_split_create");
    MPI_Comm d, sp, cr;
    int flag = 0, rs = -1;
    CHECK(MPI_Comm_dup(ic, &d) == MPI_SUCCESS);
    MPI_Comm_test_inter(d, &flag);
    MPI_Comm_remote_size(d, &rs);
    CHECK(flag == 1 && rs == rsize);
    /* same source and tag on ic and on its duplicate stay apart */
    int a = 1, b = 2, ga = 0, gb = 0;
    if (lrank == 0) {
        MPI_Request q[2];
        MPI_Isend(&a, 1, MPI_INT, 0, 4, ic, &q[0]);
        MPI_Isend(&b, 1, MPI_INT, 0, 4, d, &q[1]);
        MPI_Recv(&gb, 1, MPI_INT, 0, 4, d, MPI_STATUS_IGNORE);
        MPI_Recv(&ga, 1, MPI_INT, 0, 4, ic, MPI_STATUS_IGNORE);
        MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
        CHECKF(ga == 1 && gb == 2, "ic %d, dup %d", ga, gb);
    }
    int sum = -1;
    MPI_Allreduce(&wrank, &sum, 1, MPI_INT, MPI_SUM, d);
    CHECK(sum == remote_sum(plus1) - rsize);
    MPI_Comm_free(&d);
    /* split by local rank parity: remote members of the same parity */
    CHECK(MPI_Comm_split(ic, lrank % 2, -lrank, &sp) == MPI_SUCCESS);
    int want_remote = 0, want_local = 0;
    for (int j = 0; j < rsize; j++)
        want_remote += j % 2 == lrank % 2;
    for (int j = 0; j < lsize; j++)
        want_local += j % 2 == lrank % 2;
    if (want_remote == 0) {
        CHECK(sp == MPI_COMM_NULL);
    } else {
        int s = -1, r = -1;
        CHECK(sp != MPI_COMM_NULL);
        MPI_Comm_size(sp, &s);
        MPI_Comm_rank(sp, &r);
        MPI_Comm_remote_size(sp, &rs);
        CHECKF(s == want_local && rs == want_remote, "split sizes %d %d", s, rs);
        /* keys reverse the order: the highest local rank is rank 0 */
        int above = 0;
        for (int j = lrank + 1; j < lsize; j++)
            above += j % 2 == lrank % 2;
        CHECKF(r == above, "split rank %d, want %d", r, above);
        MPI_Allreduce(&wrank, &sum, 1, MPI_INT, MPI_MAX, sp);
        int mx = -1;
        for (int j = 0; j < rsize; j++)
            if (j % 2 == lrank % 2)
                mx = rworld(j);
        CHECKF(sum == mx, "split allreduce %d, want %d", sum, mx);
        MPI_Comm_free(&sp);
    }
    /* MPI_UNDEFINED: the last local rank takes no part */
    CHECK(MPI_Comm_split(ic, lrank == lsize - 1 ? MPI_UNDEFINED : 0, 0, &sp) == MPI_SUCCESS);
    if (lrank == lsize - 1 || rsize == 1) {
        /* a remote group whose only member said MPI_UNDEFINED leaves nobody */
        CHECK(sp == MPI_COMM_NULL);
    } else {
        int s = -1;
        MPI_Comm_size(sp, &s);
        MPI_Comm_remote_size(sp, &rs);
        CHECKF(s == lsize - 1 && rs == rsize - 1, "undefined split %d %d", s, rs);
        MPI_Comm_free(&sp);
    }
    /* create from the local group's first member only: a 1 x 1 intercomm */
    MPI_Group lg, first;
    int zero = 0;
    MPI_Comm_group(ic, &lg);
    MPI_Group_incl(lg, 1, &zero, &first);
    CHECK(MPI_Comm_create(ic, first, &cr) == MPI_SUCCESS);
    if (lrank == 0) {
        CHECK(cr != MPI_COMM_NULL);
        if (cr != MPI_COMM_NULL) {
            int x = wrank, y = -1;
            MPI_Comm_remote_size(cr, &rs);
            CHECK(rs == 1);
            MPI_Sendrecv(&x, 1, MPI_INT, 0, 0, &y, 1, MPI_INT, 0, 0, cr, MPI_STATUS_IGNORE);
            CHECKF(y == rbase, "create sendrecv %d", y);
            MPI_Comm_free(&cr);
        }
    } else {
        CHECK(cr == MPI_COMM_NULL);
    }
    MPI_Group_free(&first);
    MPI_Group_free(&lg);
    end();
}

static void test_merge(void)
{
    begin("intercomm_merge");
    for (int flip = 0; flip < 2; flip++) {
        MPI_Comm m;
        int high = flip ? !color : color, r = -1, s = -1;
        CHECK(MPI_Intercomm_merge(ic, high, &m) == MPI_SUCCESS);
        MPI_Comm_size(m, &s);
        MPI_Comm_rank(m, &r);
        int want = high ? rsize + lrank : lrank;
        CHECKF(s == wsize && r == want, "merge(high=%d): size %d rank %d, want %d", high, s, r, want);
        int flag = 1, sum = -1;
        MPI_Comm_test_inter(m, &flag);
        CHECK(flag == 0);
        MPI_Allreduce(&wrank, &sum, 1, MPI_INT, MPI_SUM, m);
        CHECK(sum == wsize * (wsize - 1) / 2);
        MPI_Comm_free(&m);
    }
    end();
}

static void test_compare_errors_types(void)
{
    MPI_Comm d;
    int cmp = -1, x = -1, cls = -1;
    begin("intercomm_compare_errors_datatypes");
    MPI_Comm_dup(ic, &d);
    MPI_Comm_compare(ic, ic, &cmp);
    CHECK(cmp == MPI_IDENT);
    MPI_Comm_compare(ic, d, &cmp);
    CHECKF(cmp == MPI_CONGRUENT, "dup: %d", cmp);
    MPI_Comm_compare(ic, W, &cmp);
    CHECKF(cmp == MPI_UNEQUAL, "world: %d", cmp);
    MPI_Comm_free(&d);
#ifndef OPEN_MPI
    /* an intracommunicator has no remote group (Open MPI answers 0) */
    MPI_Comm_set_errhandler(W, MPI_ERRORS_RETURN);
    int rc = MPI_Comm_remote_size(W, &x);
    MPI_Error_class(rc, &cls);
    CHECKF(rc != MPI_SUCCESS && cls == MPI_ERR_COMM, "remote_size(WORLD): class %d", cls);
    MPI_Comm_set_errhandler(W, MPI_ERRORS_ARE_FATAL);
#else
    (void)x, (void)cls;
#endif
    /* a strided type across: every other int of six */
    MPI_Datatype v;
    MPI_Type_vector(3, 1, 2, MPI_INT, &v);
    MPI_Type_commit(&v);
    int buf[6] = {-1, -1, -1, -1, -1, -1};
    int root = color == 0 ? (lrank == 0 ? MPI_ROOT : MPI_PROC_NULL) : 0;
    if (root == MPI_ROOT)
        for (int i = 0; i < 6; i++)
            buf[i] = 10 + i;
    CHECK(MPI_Bcast(buf, 1, v, root, ic) == MPI_SUCCESS);
    if (color == 1)
        CHECKF(buf[0] == 10 && buf[1] == -1 && buf[2] == 12 && buf[4] == 14 && buf[5] == -1,
               "vector bcast %d %d %d %d", buf[0], buf[1], buf[2], buf[5]);
    /* the same through Allgather with a derived receive type */
    int s2[3] = {wrank, wrank + 1, wrank + 2}, r2[6 * 64];
    for (int i = 0; i < 6 * rsize; i++)
        r2[i] = -1;
    MPI_Datatype rv;
    MPI_Type_create_resized(v, 0, 6 * sizeof(int), &rv);
    MPI_Type_commit(&rv);
    CHECK(MPI_Allgather(s2, 3, MPI_INT, r2, 1, rv, ic) == MPI_SUCCESS);
    for (int j = 0; j < rsize; j++)
        CHECKF(r2[6 * j] == rworld(j) && r2[6 * j + 2] == rworld(j) + 1 && r2[6 * j + 4] == rworld(j) + 2 &&
               r2[6 * j + 1] == -1, "allgather vector %d", j);
    MPI_Type_free(&rv);
    MPI_Type_free(&v);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    if (wsize < 2) {
        begin("intercomm_skipped_at_1_rank_needs_two_groups");
        end();
        return finish("intercomm");
    }
    color = wrank >= wsize / 2;
    MPI_Comm_split(W, color, wrank, &local);
    MPI_Comm_size(local, &lsize);
    MPI_Comm_rank(local, &lrank);
    rsize = wsize - lsize;
    rbase = color ? 0 : wsize / 2;
    lbase = color ? wsize / 2 : 0;
    (void)lbase;
    test_create_queries();
    test_p2p();
    test_barrier_bcast();
    test_reduce_allreduce();
    test_gather_scatter();
    test_allgather_alltoall();
    test_reduce_scatter();
    test_dup_split_create();
    test_merge();
    test_compare_errors_types();
    MPI_Comm_free(&ic);
    MPI_Comm_free(&local);
    return finish("intercomm");
}
