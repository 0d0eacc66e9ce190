/* shm_coll.c -- the collectives Toro runs through shared memory (Barrier,
 * Bcast, Reduce, Allreduce, Gather, Scatter, Allgather, Alltoall) against
 * results computed locally, at the sizes where its algorithms change:
 * counts 0, 1, a few, a slot's worth (2 KiB), past it (the ranks read each
 * other's buffers), past 4 KiB (reductions cut into ranges per rank) and
 * 1 MiB. Every predefined op on MPI_INT, MPI_DOUBLE and MPI_CHAR,
 * MAXLOC/MINLOC, a non-commutative user op, a derived vector type (gaps
 * untouched) met by a contiguous type on the other side, MPI_IN_PLACE,
 * every root, communicators split in reversed rank order, doubles that
 * must come out bit-identical on every rank, many operations back to
 * back mixed with point to point, a send that can only finish while its
 * receiver waits in a barrier, and nonblocking collectives in between.
 *
 * Rank 0 prints "env TORO_SHM_COLL=<value>" (tests/test_mpi.py runs it
 * both ways). Prints "ok <test>" lines and "mpi-test shm_coll: N passed,
 * M failed". */
#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD
#define MIB (1 << 20)

static const int counts[] = {0, 1, 7, 500, 1500, 70000};
#define NCOUNTS (int)(sizeof counts / sizeof counts[0])

static const MPI_Op ops[] = {MPI_SUM, MPI_PROD, MPI_MAX, MPI_MIN, MPI_LAND, MPI_LOR,
                             MPI_LXOR, MPI_BAND, MPI_BOR, MPI_BXOR};
static const char *opname[] = {"SUM", "PROD", "MAX", "MIN", "LAND", "LOR", "LXOR", "BAND",
                               "BOR", "BXOR"};
#define NOPS 10

/* Rank r's element i: small values of both signs, zeros, ones. */
static int value(int r, int i)
{
    int v = (r * 7 + i * 5 + 3) % 9 - 3;
    return i % 13 == 4 ? 1 : v;
}

static long fold(int k, long a, long b)
{
    switch (k) {
    case 0: return a + b;
    case 1: return a * b;
    case 2: return a > b ? a : b;
    case 3: return a < b ? a : b;
    case 4: return a && b;
    case 5: return a || b;
    case 6: return !a != !b;
    case 7: return a & b;
    case 8: return a | b;
    default: return a ^ b;
    }
}

/* The reduction of element i over the n ranks world[0..n-1] of a comm
 * (in its rank order), in the arithmetic of type t: 0 int, 1 double, 2 char. */
static double expect(int k, int t, int n, const int *world, int i)
{
    long acc = value(world[0], i);
    double d = acc;
    for (int r = 1; r < n; r++) {
        long v = value(world[r], i);
        acc = fold(k, acc, v);
        if (t == 2)
            acc = (signed char)acc;
        d = k == 0 ? d + v : k == 1 ? d * v : (double)acc;
    }
    return t == 1 ? d : (double)acc;
}

static MPI_Datatype ttype(int t)
{
    return t == 0 ? MPI_INT : t == 1 ? MPI_DOUBLE : MPI_SIGNED_CHAR;
}

static size_t tsz(int t)
{
    return t == 0 ? sizeof(int) : t == 1 ? sizeof(double) : 1;
}

static void tput(int t, void *b, int i, double v)
{
    if (t == 0) ((int *)b)[i] = (int)v;
    else if (t == 1) ((double *)b)[i] = v;
    else ((signed char *)b)[i] = (signed char)v;
}

static double tget(int t, const void *b, int i)
{
    return t == 0 ? ((const int *)b)[i] : t == 1 ? ((const double *)b)[i]
                                                 : ((const signed char *)b)[i];
}

/* The world ranks of comm's members in its rank order. */
static int *members(MPI_Comm comm, int *n)
{
    MPI_Comm_size(comm, n);
    int *w = malloc(*n * sizeof *w), me;
    MPI_Comm_rank(W, &me);
    MPI_Allgather(&me, 1, MPI_INT, w, 1, MPI_INT, comm);
    return w;
}

/* Reduce (every root) and Allreduce, with and without MPI_IN_PLACE, for
 * every op, type and count on comm. */
static void reductions(MPI_Comm comm)
{
    int n, me, *world = members(comm, &n);
    MPI_Comm_rank(comm, &me);
    for (int t = 0; t < 3; t++)
        for (int k = 0; k < NOPS; k++) {
            if (t == 1 && k > 3)
                continue;                    /* logical and bit ops: integers only */
            for (int ci = 0; ci < NCOUNTS; ci++) {
                int c = counts[ci], root = (k + ci) % n, inplace = (k + t) % 2;
                char *in = malloc(c * tsz(t) + 1), *out = malloc(c * tsz(t) + 1);
                for (int i = 0; i < c; i++)
                    tput(t, in, i, value(world[me], i));
                memcpy(out, in, c * tsz(t));
                MPI_Allreduce(inplace ? MPI_IN_PLACE : in, out, c, ttype(t), ops[k], comm);
                for (int i = 0, bad = 0; i < c && bad < 3; i++)
                    if (tget(t, out, i) != expect(k, t, n, world, i))
                        CHECKF(bad++ < 0, "allreduce %s t%d count %d [%d] = %g, expected %g",
                               opname[k], t, c, i, tget(t, out, i), expect(k, t, n, world, i));
                memset(out, 0x5a, c * tsz(t));
                if (me == root && inplace)
                    memcpy(out, in, c * tsz(t));
                MPI_Reduce(me == root && inplace ? MPI_IN_PLACE : in, out, c, ttype(t), ops[k],
                           root, comm);
                for (int i = 0, bad = 0; me == root && i < c && bad < 3; i++)
                    if (tget(t, out, i) != expect(k, t, n, world, i))
                        CHECKF(bad++ < 0, "reduce %s t%d count %d root %d [%d] = %g, expected %g",
                               opname[k], t, c, root, i, tget(t, out, i), expect(k, t, n, world, i));
                free(in);
                free(out);
            }
        }
    free(world);
}

/* comm, world reversed, and (3 ranks or more) the even and odd world
 * ranks each in reversed order. */
static void on_comms(void (*fn)(MPI_Comm))
{
    MPI_Comm rev, half;
    fn(W);
    MPI_Comm_split(W, 0, wsize - wrank, &rev);
    fn(rev);
    MPI_Comm_free(&rev);
    if (wsize >= 3) {
        MPI_Comm_split(W, wrank % 2, -wrank, &half);
        fn(half);
        MPI_Comm_free(&half);
    }
}

static void test_reductions(void)
{
    begin("reductions_every_op_type_count");
    on_comms(reductions);
    end();
}

/* (m, c) stands for x -> m x + c mod P; op(a, b) = a after b: associative,
 * not commutative. */
#define P 10007
static void compose(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    long long *a = in, *b = inout;
    (void)dt;
    for (int i = 0; i < *len; i++, a += 2, b += 2) {
        long long m = a[0] * b[0] % P, c = (a[0] * b[1] + a[1]) % P;
        b[0] = m;
        b[1] = c;
    }
}

static void noncommutative(MPI_Comm comm)
{
    int n, me, *world = members(comm, &n);
    MPI_Datatype pair;
    MPI_Op op;
    MPI_Comm_rank(comm, &me);
    MPI_Type_contiguous(2, MPI_LONG_LONG, &pair);
    MPI_Type_commit(&pair);
    MPI_Op_create(compose, 0, &op);
    int sizes[] = {1, 100, 3000};
    for (int s = 0; s < 3; s++) {
        int c = sizes[s];
        long long *in = malloc(c * 16), *out = malloc(c * 16), *x = malloc(c * 16);
        for (int i = 0; i < c; i++) {
            in[2 * i] = 2 + (world[me] * 31 + i) % 50;
            in[2 * i + 1] = (world[me] * 17 + i * 3) % 97;
        }
        for (int root = 0; root < n; root++) {
            MPI_Reduce(in, out, c, pair, op, root, comm);
            MPI_Allreduce(in, x, c, pair, op, comm);
            for (int i = 0, bad = 0; i < c && bad < 3; i++) {
                long long m = 1, k = 0;             /* x0 after x1 after ... */
                for (int r = n - 1; r >= 0; r--) {
                    long long a = 2 + (world[r] * 31 + i) % 50, b = (world[r] * 17 + i * 3) % 97;
                    k = (a * k + b) % P;
                    m = a * m % P;
                }
                if (x[2 * i] != m || x[2 * i + 1] != k || (me == root && (out[2 * i] != m || out[2 * i + 1] != k)))
                    CHECKF(bad++ < 0, "count %d root %d [%d]: (%lld,%lld) expected (%lld,%lld)", c, root, i,
                           x[2 * i], x[2 * i + 1], m, k);
            }
        }
        free(in);
        free(out);
        free(x);
    }
    MPI_Op_free(&op);
    MPI_Type_free(&pair);
    free(world);
}

static void test_noncommutative(void)
{
    begin("noncommutative_user_op_rank_order");
    on_comms(noncommutative);
    end();
}

/* MAXLOC and MINLOC on MPI_2INT and MPI_DOUBLE_INT (a type with a gap). */
static void test_loc(void)
{
    begin("maxloc_minloc");
    for (int ci = 1; ci < NCOUNTS - 1; ci++) {
        int c = counts[ci];
        struct { int v, i; } *a = malloc(c * sizeof *a), *b = malloc(c * sizeof *b);
        struct { double v; int i; } *d = malloc(c * sizeof *d), *e = malloc(c * sizeof *e);
        for (int i = 0; i < c; i++) {
            a[i].v = value(wrank, i);
            a[i].i = wrank;
            d[i].v = value(wrank, i) * 0.5;
            d[i].i = wrank;
        }
        MPI_Allreduce(a, b, c, MPI_2INT, MPI_MAXLOC, W);
        MPI_Allreduce(d, e, c, MPI_DOUBLE_INT, MPI_MINLOC, W);
        for (int i = 0, bad = 0; i < c && bad < 3; i++) {
            int mx = value(0, i), mxr = 0, mn = value(0, i), mnr = 0;
            for (int r = 1; r < wsize; r++) {
                if (value(r, i) > mx) { mx = value(r, i); mxr = r; }
                if (value(r, i) < mn) { mn = value(r, i); mnr = r; }
            }
            if (b[i].v != mx || b[i].i != mxr || e[i].v != mn * 0.5 || e[i].i != mnr)
                CHECKF(bad++ < 0, "count %d [%d]: max (%d,%d) min (%g,%d), expected (%d,%d) (%g,%d)", c, i,
                       b[i].v, b[i].i, e[i].v, e[i].i, mx, mxr, mn * 0.5, mnr);
        }
        free(a); free(b); free(d); free(e);
    }
    end();
}

/* Sums of 1/(world rank + i + 1): rounding depends on the order, and
 * every rank must get the same bits (compared with rank 0's by bytes). */
static void bits(MPI_Comm comm)
{
    int n, me;
    MPI_Comm_size(comm, &n);
    MPI_Comm_rank(comm, &me);
    for (int ci = 1; ci < NCOUNTS; ci++) {
        int c = counts[ci];
        double *in = malloc(c * 8), *out = malloc(c * 8), *ref = malloc(c * 8);
        for (int i = 0; i < c; i++)
            in[i] = 1.0 / (wrank + i % 1000 + 1) + 1e-3 * (i % 7);
        MPI_Allreduce(in, out, c, MPI_DOUBLE, MPI_SUM, comm);
        memcpy(ref, out, c * 8);
        MPI_Bcast(ref, c, MPI_DOUBLE, 0, comm);
        CHECKF(memcmp(ref, out, c * 8) == 0, "count %d: the sum differs from rank 0's in its bits", c);
        free(in); free(out); free(ref);
    }
}

static void test_bits(void)
{
    begin("allreduce_double_bit_identical");
    on_comms(bits);
    end();
}

/* A vector of 3 ints with a gap after each (stride 2), resized so that
 * consecutive elements go on the same way: every other int. */
static MPI_Datatype vec3(void)
{
    MPI_Datatype v, r;
    MPI_Type_vector(3, 1, 2, MPI_INT, &v);
    MPI_Type_create_resized(v, 0, 6 * sizeof(int), &r);
    MPI_Type_free(&v);
    MPI_Type_commit(&r);
    return r;
}

/* Bcast and Gather/Scatter/Allgather/Alltoall at every root and count on
 * comm, one side MPI_INT, the other the vector type (odd roots) or both
 * MPI_CHAR (even roots, in bytes). */
static void movers(MPI_Comm comm)
{
    int n, me, *world = members(comm, &n);
    MPI_Datatype v = vec3();
    MPI_Comm_rank(comm, &me);
    for (int ci = 0; ci < NCOUNTS; ci++)
        for (int root = 0; root < n; root++) {
            int c = counts[ci] / (ci == NCOUNTS - 1 ? 8 * n : 1);   /* 1 MiB over all blocks at most */
            int ints = 3 * c;                              /* per block */
            size_t blk = (size_t)ints * n;
            int *a = malloc(2 * blk * 4 + 8), *b = malloc(2 * blk * 4 + 8);
            bool vec = root % 2;
            MPI_Datatype st = vec ? v : MPI_INT;
            int sc = vec ? c : ints;
            /* bcast: root sends through st, the others receive MPI_INT */
            for (size_t i = 0; i < 2 * blk; i++)
                a[i] = me == root ? (int)(i * 3 + root) : -1;
            if (me == root)
                MPI_Bcast(a, sc, st, root, comm);
            else
                MPI_Bcast(a, ints, MPI_INT, root, comm);
            for (int i = 0, bad = 0; me != root && i < ints && bad < 3; i++) {
                int want = vec ? 6 * i + root : 3 * i + root;
                if (a[i] != want)
                    CHECKF(bad++ < 0, "bcast count %d root %d [%d] = %d, expected %d", c, root, i, a[i], want);
            }
            /* gather: everyone sends through st from a, root gets MPI_INT blocks */
            for (size_t i = 0; i < 2 * blk; i++) {
                a[i] = world[me] * 100000 + (int)i;
                b[i] = -7;
            }
            MPI_Gather(me == root && ci % 2 ? MPI_IN_PLACE : a, sc, st, b, ints, MPI_INT, root, comm);
            for (int r = 0, bad = 0; me == root && r < n; r++) {
                if (r == root && ci % 2)
                    continue;
                for (int i = 0; i < ints && bad < 3; i++) {
                    int want = world[r] * 100000 + (vec ? 2 * i : i);
                    if (b[r * ints + i] != want)
                        CHECKF(bad++ < 0, "gather count %d root %d from %d [%d] = %d, expected %d", c, root, r,
                               i, b[r * ints + i], want);
                }
            }
            /* scatter: root's MPI_INT blocks, received through st (gaps stay) */
            for (size_t i = 0; i < 2 * blk; i++) {
                a[i] = (int)i * 2 + 1;
                b[i] = -9;
            }
            MPI_Scatter(a, ints, MPI_INT, me == root && ci % 2 ? MPI_IN_PLACE : b, sc, st, root, comm);
            for (int i = 0, bad = 0; !(me == root && ci % 2) && i < ints && bad < 3; i++) {
                int at = vec ? 2 * i : i, want = (me * ints + i) * 2 + 1;
                if (b[at] != want || (vec && b[at + 1] != -9))
                    CHECKF(bad++ < 0, "scatter count %d root %d [%d] = %d, expected %d", c, root, i, b[at], want);
            }
            /* allgather (root 0 and 1 only: it has no root) and alltoall */
            if (root < 2) {
                for (size_t i = 0; i < 2 * blk; i++)
                    b[i] = a[i] = world[me] * 1000 + (int)i % 1000;
                MPI_Allgather(ci % 2 ? MPI_IN_PLACE : a + me * ints, ints, MPI_INT, b, ints, MPI_INT, comm);
                if (ci % 2 == 0)
                    memcpy(a, b, blk * 4);
                MPI_Alltoall(root ? MPI_IN_PLACE : b, ints, MPI_INT, root ? b : a, ints, MPI_INT, comm);
                int *res = root ? b : a;
                for (int r = 0, bad = 0; r < n; r++)
                    for (int i = 0; i < ints && bad < 3; i++) {
                        /* block r of res: rank r's allgather result, block me */
                        int want = world[me] * 1000 + (me * ints + i) % 1000;
                        if (res[r * ints + i] != want)
                            CHECKF(bad++ < 0, "allgather+alltoall count %d from %d [%d] = %d, expected %d", c,
                                   r, i, res[r * ints + i], want);
                    }
            }
            free(a);
            free(b);
        }
    MPI_Type_free(&v);
    free(world);
}

static void test_movers(void)
{
    begin("bcast_gather_scatter_allgather_alltoall");
    on_comms(movers);
    end();
}

/* 1 MiB Bcast and Allreduce (of 262144 ints). */
static void test_large(void)
{
    begin("one_mebibyte");
    char *a = malloc(MIB);
    int *x = malloc(MIB), *y = malloc(MIB);
    for (int root = 0; root < wsize; root++) {
        for (int i = 0; i < MIB; i++)
            a[i] = wrank == root ? (char)(i * 7 + root) : 0;
        MPI_Bcast(a, MIB, MPI_CHAR, root, W);
        for (int i = 0, bad = 0; i < MIB && bad < 3; i++)
            if (a[i] != (char)(i * 7 + root))
                CHECKF(bad++ < 0, "bcast root %d [%d]", root, i);
    }
    for (int i = 0; i < MIB / 4; i++)
        x[i] = value(wrank, i);
    MPI_Allreduce(x, y, MIB / 4, MPI_INT, MPI_SUM, W);
    for (int i = 0, bad = 0; i < MIB / 4 && bad < 3; i++) {
        int want = 0;
        for (int r = 0; r < wsize; r++)
            want += value(r, i);
        if (y[i] != want)
            CHECKF(bad++ < 0, "allreduce [%d] = %d, expected %d", i, y[i], want);
    }
    free(a); free(x); free(y);
    end();
}

/* Many operations back to back, with point-to-point messages crossing
 * them and a nonblocking allreduce open across blocking collectives. */
static void test_back_to_back(void)
{
    begin("back_to_back_mixed_with_p2p");
    int right = (wrank + 1) % wsize, left = (wrank + wsize - 1) % wsize;
    for (int it = 0; it < 400; it++) {
        int tok = wrank * 1000 + it, got = -1, sum = 0, b = it, nb = -1, nbsum = 0;
        MPI_Request r[3];
        MPI_Irecv(&got, 1, MPI_INT, left, it, W, &r[0]);
        MPI_Isend(&tok, 1, MPI_INT, right, it, W, &r[1]);
        MPI_Iallreduce(&it, &nbsum, 1, MPI_INT, MPI_SUM, W, &r[2]);
        if (wrank == it % wsize)
            b = it * 3;
        MPI_Bcast(&b, 1, MPI_INT, it % wsize, W);
        MPI_Allreduce(&tok, &sum, 1, MPI_INT, MPI_SUM, W);
        if (it % 7 == 0)
            MPI_Barrier(W);
        MPI_Reduce(&tok, &nb, 1, MPI_INT, MPI_MAX, (it + 1) % wsize, W);
        MPI_Waitall(3, r, MPI_STATUSES_IGNORE);
        CHECKF(got == left * 1000 + it, "it %d: got %d from the left", it, got);
        CHECKF(b == it * 3, "it %d: bcast %d", it, b);
        CHECKF(sum == 1000 * wsize * (wsize - 1) / 2 + wsize * it, "it %d: sum %d", it, sum);
        CHECKF(nbsum == wsize * it, "it %d: iallreduce %d", it, nbsum);
        CHECKF(wrank != (it + 1) % wsize || nb == (wsize - 1) * 1000 + it, "it %d: max %d", it, nb);
    }
    end();
}

/* Rank 1's blocking 256 KiB send (rendezvous) finishes only once rank 0
 * matches it, which rank 0 can do only inside the barrier that rank 1
 * enters after the send: the barrier must keep point to point moving. */
static void test_progress_in_barrier(void)
{
    begin("send_completes_while_receiver_in_barrier");
    int n = 65536, *buf = malloc(n * 4);
    if (wsize >= 2 && wrank <= 1) {
        MPI_Request r = MPI_REQUEST_NULL;
        for (int i = 0; i < n; i++)
            buf[i] = wrank == 1 ? i ^ 0x55 : 0;
        if (wrank == 0)
            MPI_Irecv(buf, n, MPI_INT, 1, 77, W, &r);
        else
            MPI_Send(buf, n, MPI_INT, 0, 77, W);
        MPI_Barrier(W);
        MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT, MPI_MAX, W);
        MPI_Wait(&r, MPI_STATUS_IGNORE);
        for (int i = 0, bad = 0; wrank == 0 && i < n && bad < 3; i++)
            if (buf[i] != (i ^ 0x55))
                CHECKF(bad++ < 0, "[%d] = %d", i, buf[i]);
    } else {
        MPI_Barrier(W);
        MPI_Allreduce(MPI_IN_PLACE, &n, 1, MPI_INT, MPI_MAX, W);
    }
    free(buf);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    if (wrank == 0) {
        const char *e = getenv("TORO_SHM_COLL");
        printf("env TORO_SHM_COLL=%s\n", e ? e : "(unset)");
    }
    test_reductions();
    test_noncommutative();
    test_loc();
    test_bits();
    test_movers();
    test_large();
    test_back_to_back();
    test_progress_in_barrier();
    return finish("shm_coll");
}
