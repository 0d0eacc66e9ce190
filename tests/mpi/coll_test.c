/* coll_test.c -- every blocking collective of MPI-3.1 against results
 * computed locally: Barrier, Bcast, Reduce, Allreduce, Gather(v),
 * Scatter(v), Allgather(v), Alltoall(v,w), Reduce_scatter(_block), Scan,
 * Exscan; with every root, the types MPI_INT, MPI_DOUBLE, MPI_LONG_LONG,
 * MPI_FLOAT and a derived vector type (whose gaps must stay untouched), the
 * ops SUM, PROD, MAX, MIN, LAND, BOR, MAXLOC, MINLOC and a non-commutative
 * user op (2x2 matrix product, on a derived type), MPI_IN_PLACE wherever the
 * standard allows it, irregular v-counts with zeros and displacements in
 * reverse order with gaps.
 *
 * Prints "ok <test>" lines and "mpi-test coll_test: N passed, M failed". */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define W MPI_COMM_WORLD
#define GARBAGE (-12345.0)

/* ---- the four basic types, seen through doubles (all values are small
 * integers, exact in every type) ---- */
enum { T_INT, T_DOUBLE, T_LL, T_FLOAT, NTYPES };
static const char *tnames[NTYPES] = {"MPI_INT", "MPI_DOUBLE", "MPI_LONG_LONG", "MPI_FLOAT"};

static MPI_Datatype mtype(int t)
{
    switch (t) {
    case T_INT: return MPI_INT;
    case T_DOUBLE: return MPI_DOUBLE;
    case T_LL: return MPI_LONG_LONG;
    default: return MPI_FLOAT;
    }
}

static size_t tsize(int t)
{
    switch (t) {
    case T_INT: return sizeof(int);
    case T_DOUBLE: return sizeof(double);
    case T_LL: return sizeof(long long);
    default: return sizeof(float);
    }
}

static void put(int t, void *b, int i, double v)
{
    switch (t) {
    case T_INT: ((int *)b)[i] = (int)v; break;
    case T_DOUBLE: ((double *)b)[i] = v; break;
    case T_LL: ((long long *)b)[i] = (long long)v; break;
    default: ((float *)b)[i] = (float)v; break;
    }
}

static double get(int t, const void *b, int i)
{
    switch (t) {
    case T_INT: return ((const int *)b)[i];
    case T_DOUBLE: return ((const double *)b)[i];
    case T_LL: return (double)((const long long *)b)[i];
    default: return ((const float *)b)[i];
    }
}

static void *alloc(int t, int n)
{
    return calloc(n > 0 ? n : 1, tsize(t));
}

/* the value element i of rank src contributes in data-movement collectives */
static double dval(int src, int i) { return src * 1000 + i; }

/* ---- reduction ops ---- */
enum { O_SUM, O_PROD, O_MAX, O_MIN, O_LAND, O_BOR, NOPS };
static const char *onames[NOPS] = {"SUM", "PROD", "MAX", "MIN", "LAND", "BOR"};

static MPI_Op mop(int o)
{
    switch (o) {
    case O_SUM: return MPI_SUM;
    case O_PROD: return MPI_PROD;
    case O_MAX: return MPI_MAX;
    case O_MIN: return MPI_MIN;
    case O_LAND: return MPI_LAND;
    default: return MPI_BOR;
    }
}

static int op_ok(int o, int t) { return o < O_LAND || t == T_INT || t == T_LL; }

/* rank r's element i for op o: products stay small, LAND sees zeros */
static double gen(int o, int r, int i)
{
    switch (o) {
    case O_PROD: return (r + i) % 3 == 0 ? 2 : (r + i) % 3 == 1 ? -1 : 1;
    case O_LAND: return (r * 3 + i) % 5 == 0 ? 0 : i % 2 ? 3 : 1;
    case O_BOR: return (double)(1 << ((r + 2 * i) % 7));
    default: return (r * 7 + i * 3) % 11 - 5;
    }
}

static double combine(int o, double a, double b)
{
    switch (o) {
    case O_SUM: return a + b;
    case O_PROD: return a * b;
    case O_MAX: return a > b ? a : b;
    case O_MIN: return a < b ? a : b;
    case O_LAND: return a != 0 && b != 0;
    default: return (double)((long long)a | (long long)b);
    }
}

/* the reduction of element i over ranks first..last */
static double expect(int o, int i, int first, int last)
{
    double v = gen(o, first, i);
    for (int r = first + 1; r <= last; r++)
        v = combine(o, v, gen(o, r, i));
    return v;
}

static int same(int o, double got, double want)
{
    return o == O_LAND ? (got != 0) == (want != 0) : got == want;
}

#define CHECK_ELEM(cond, what, t, o, i, got, want)                                       \
    CHECKF(cond, "%s %s %s element %d: got %g, expected %g", what, tnames[t], onames[o], i, \
           (double)(got), (double)(want))

/* ---- tests ---- */

static struct timespec now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

static double secs(struct timespec t) { return t.tv_sec + t.tv_nsec * 1e-9; }

/* Nobody leaves a barrier before the last rank entered it. The check reads
 * CLOCK_MONOTONIC on every rank: one clock for all ranks on one machine
 * (Linux, or Toro's shared TSC). The last rank to enter sleeps first. */
static void test_barrier(void)
{
    begin("barrier");
    for (int i = 0; i < 10; i++)
        CHECK(MPI_Barrier(W) == MPI_SUCCESS);
    for (int late = 0; late < wsize; late++) {
        double entered = 0, left;
        MPI_Barrier(W);
        if (wrank == late) {
            struct timespec d = {0, 20 * 1000 * 1000};
            nanosleep(&d, NULL);
            entered = secs(now());
        }
        MPI_Barrier(W);
        left = secs(now());
        MPI_Bcast(&entered, 1, MPI_DOUBLE, late, W);
        CHECKF(left >= entered, "left the barrier %.6f s before rank %d entered it",
               entered - left, late);
    }
    end();
}

static void test_bcast(void)
{
    begin("bcast");
    for (int root = 0; root < wsize; root++) {
        for (int t = 0; t < NTYPES; t++) {
            const int n = 1000;
            void *b = alloc(t, n);
            for (int i = 0; i < n; i++)
                put(t, b, i, wrank == root ? dval(root, i) : GARBAGE);
            CHECK(MPI_Bcast(b, n, mtype(t), root, W) == MPI_SUCCESS);
            int bad = 0;
            for (int i = 0; i < n; i++)
                bad += get(t, b, i) != dval(root, i);
            CHECKF(bad == 0, "root %d %s: %d wrong", root, tnames[t], bad);
            CHECK(MPI_Bcast(b, 0, mtype(t), root, W) == MPI_SUCCESS);
            free(b);
        }
        /* a derived vector type: elements 0, 2, 4 of every 5 ints */
        MPI_Datatype vt;
        int v[50], bad = 0;
        MPI_Type_vector(3, 1, 2, MPI_INT, &vt);
        MPI_Type_commit(&vt);
        for (int i = 0; i < 50; i++)
            v[i] = wrank == root ? (int)dval(root, i) : -1;
        MPI_Bcast(v, 10, vt, root, W);
        for (int i = 0; i < 50; i++) {
            int in_type = i % 5 % 2 == 0;
            int want = in_type || wrank == root ? (int)dval(root, i) : -1;
            bad += v[i] != want;
        }
        CHECKF(bad == 0, "root %d vector type: %d wrong (gaps must be untouched)", root, bad);
        MPI_Type_free(&vt);
        /* one large message */
        int nb = (1 << 20) + 7;
        unsigned char *big = malloc(nb);
        for (int i = 0; i < nb; i++)
            big[i] = wrank == root ? (unsigned char)(i * 7 + root) : 0;
        MPI_Bcast(big, nb, MPI_BYTE, root, W);
        bad = 0;
        for (int i = 0; i < nb; i++)
            bad += big[i] != (unsigned char)(i * 7 + root);
        CHECKF(bad == 0, "root %d: 1 MiB + 7 bytes: %d wrong", root, bad);
        free(big);
    }
    end();
}

#define COUNT 37

static void test_reduce(void)
{
    begin("reduce");
    for (int root = 0; root < wsize; root++)
        for (int t = 0; t < NTYPES; t++)
            for (int o = 0; o < NOPS; o++) {
                if (!op_ok(o, t))
                    continue;
                int inplace = wrank == root && (root + t + o) % 2 == 0;
                void *s = alloc(t, COUNT), *r = alloc(t, COUNT);
                for (int i = 0; i < COUNT; i++) {
                    put(t, s, i, gen(o, wrank, i));
                    put(t, r, i, inplace ? gen(o, wrank, i) : GARBAGE);
                }
                CHECK(MPI_Reduce(inplace ? MPI_IN_PLACE : s, r, COUNT, mtype(t), mop(o), root, W)
                      == MPI_SUCCESS);
                if (wrank == root)
                    for (int i = 0; i < COUNT; i++) {
                        double got = get(t, r, i), want = expect(o, i, 0, wsize - 1);
                        CHECK_ELEM(same(o, got, want), inplace ? "in place" : "", t, o, i, got, want);
                    }
                free(s);
                free(r);
            }
    end();
}

static void test_allreduce(void)
{
    begin("allreduce");
    for (int t = 0; t < NTYPES; t++)
        for (int o = 0; o < NOPS; o++) {
            if (!op_ok(o, t))
                continue;
            for (int inplace = 0; inplace < 2; inplace++) {
                void *s = alloc(t, COUNT), *r = alloc(t, COUNT);
                for (int i = 0; i < COUNT; i++) {
                    put(t, s, i, gen(o, wrank, i));
                    put(t, r, i, inplace ? gen(o, wrank, i) : GARBAGE);
                }
                CHECK(MPI_Allreduce(inplace ? MPI_IN_PLACE : s, r, COUNT, mtype(t), mop(o), W)
                      == MPI_SUCCESS);
                for (int i = 0; i < COUNT; i++) {
                    double got = get(t, r, i), want = expect(o, i, 0, wsize - 1);
                    CHECK_ELEM(same(o, got, want), inplace ? "in place" : "", t, o, i, got, want);
                }
                free(s);
                free(r);
            }
        }
    /* a long vector */
    const int n = 200000;
    double *s = malloc(n * sizeof *s), *r = malloc(n * sizeof *r);
    for (int i = 0; i < n; i++)
        s[i] = gen(O_SUM, wrank, i);
    MPI_Allreduce(s, r, n, MPI_DOUBLE, MPI_SUM, W);
    int bad = 0;
    for (int i = 0; i < n; i++)
        bad += r[i] != expect(O_SUM, i, 0, wsize - 1);
    CHECKF(bad == 0, "200000 doubles: %d wrong", bad);
    free(s);
    free(r);
    int zero_s = 1, zero_r = 2;   /* count 0 touches nothing */
    CHECK(MPI_Allreduce(&zero_s, &zero_r, 0, MPI_INT, MPI_SUM, W) == MPI_SUCCESS && zero_r == 2);
    end();
}

/* irregular counts for the v-collectives: zero for ranks 1, 4, 7, ... */
static int vcount(int r) { return r % 3 == 1 ? 0 : r + 2; }

/* displacements in reverse rank order with a one-element gap after each
 * block; returns the total extent in elements */
static int vdispls(int *displs, int (*count)(int))
{
    int pos = 0;
    for (int r = wsize - 1; r >= 0; r--) {
        displs[r] = pos;
        pos += count(r) + 1;
    }
    return pos;
}

static void test_reduce_scatter(void)
{
    begin("reduce_scatter_block");
    const int rc = 3;
    for (int t = 0; t < NTYPES; t++)
        for (int o = 0; o < NOPS; o++) {
            if (!op_ok(o, t))
                continue;
            int inplace = (t + o) % 2, n = rc * wsize;
            void *s = alloc(t, n), *r = alloc(t, n);
            for (int i = 0; i < n; i++) {
                put(t, s, i, gen(o, wrank, i));
                put(t, r, i, inplace ? gen(o, wrank, i) : GARBAGE);
            }
            CHECK(MPI_Reduce_scatter_block(inplace ? MPI_IN_PLACE : s, r, rc, mtype(t), mop(o), W)
                  == MPI_SUCCESS);
            for (int i = 0; i < rc; i++) {
                double got = get(t, r, i), want = expect(o, wrank * rc + i, 0, wsize - 1);
                CHECK_ELEM(same(o, got, want), inplace ? "in place" : "", t, o, i, got, want);
            }
            free(s);
            free(r);
        }
    end();

    begin("reduce_scatter");
    int *counts = malloc(wsize * sizeof *counts), n = 0, first = 0;
    for (int p = 0; p < wsize; p++) {
        counts[p] = vcount(p);
        n += counts[p];
        if (p < wrank)
            first += counts[p];
    }
    for (int t = 0; t < NTYPES; t++)
        for (int o = 0; o < NOPS; o++) {
            if (!op_ok(o, t))
                continue;
            int inplace = (t + o + 1) % 2;
            void *s = alloc(t, n), *r = alloc(t, n);
            for (int i = 0; i < n; i++) {
                put(t, s, i, gen(o, wrank, i));
                put(t, r, i, inplace ? gen(o, wrank, i) : GARBAGE);
            }
            CHECK(MPI_Reduce_scatter(inplace ? MPI_IN_PLACE : s, r, counts, mtype(t), mop(o), W)
                  == MPI_SUCCESS);
            for (int i = 0; i < counts[wrank]; i++) {
                double got = get(t, r, i), want = expect(o, first + i, 0, wsize - 1);
                CHECK_ELEM(same(o, got, want), inplace ? "in place" : "", t, o, i, got, want);
            }
            if (!inplace && counts[wrank] < n)
                CHECK(get(t, r, counts[wrank]) == GARBAGE);
            free(s);
            free(r);
        }
    free(counts);
    end();
}

static void test_scan(void)
{
    for (int ex = 0; ex < 2; ex++) {
        begin(ex ? "exscan" : "scan");
        for (int t = 0; t < NTYPES; t++)
            for (int o = 0; o < NOPS; o++) {
                if (!op_ok(o, t))
                    continue;
                for (int inplace = 0; inplace < 2; inplace++) {
                    void *s = alloc(t, COUNT), *r = alloc(t, COUNT);
                    for (int i = 0; i < COUNT; i++) {
                        put(t, s, i, gen(o, wrank, i));
                        put(t, r, i, inplace ? gen(o, wrank, i) : GARBAGE);
                    }
                    const void *sb = inplace ? MPI_IN_PLACE : s;
                    int rc = ex ? MPI_Exscan(sb, r, COUNT, mtype(t), mop(o), W)
                                : MPI_Scan(sb, r, COUNT, mtype(t), mop(o), W);
                    CHECK(rc == MPI_SUCCESS);
                    int last = ex ? wrank - 1 : wrank;   /* Exscan: rank 0's result is undefined */
                    for (int i = 0; last >= 0 && i < COUNT; i++) {
                        double got = get(t, r, i), want = expect(o, i, 0, last);
                        CHECK_ELEM(same(o, got, want), inplace ? "in place" : "", t, o, i, got, want);
                    }
                    free(s);
                    free(r);
                }
            }
        end();
    }
}

/* ---- MAXLOC / MINLOC on the pair types ---- */
struct pair_di { double v; int i; };
struct pair_fi { float v; int i; };
struct pair_li { long v; int i; };
struct pair_ii { int v; int i; };
struct pair_si { short v; int i; };

enum { P_2INT, P_DOUBLE_INT, P_FLOAT_INT, P_LONG_INT, P_SHORT_INT, NPAIRS };
static const char *pnames[NPAIRS] = {"MPI_2INT", "MPI_DOUBLE_INT", "MPI_FLOAT_INT", "MPI_LONG_INT",
                                     "MPI_SHORT_INT"};

static MPI_Datatype ptype(int p)
{
    switch (p) {
    case P_2INT: return MPI_2INT;
    case P_DOUBLE_INT: return MPI_DOUBLE_INT;
    case P_FLOAT_INT: return MPI_FLOAT_INT;
    case P_LONG_INT: return MPI_LONG_INT;
    default: return MPI_SHORT_INT;
    }
}

static size_t psize(int p)
{
    switch (p) {
    case P_2INT: return sizeof(struct pair_ii);
    case P_DOUBLE_INT: return sizeof(struct pair_di);
    case P_FLOAT_INT: return sizeof(struct pair_fi);
    case P_LONG_INT: return sizeof(struct pair_li);
    default: return sizeof(struct pair_si);
    }
}

static void pput(int p, void *b, int k, double v, int i)
{
    switch (p) {
    case P_2INT: ((struct pair_ii *)b)[k] = (struct pair_ii){(int)v, i}; break;
    case P_DOUBLE_INT: ((struct pair_di *)b)[k] = (struct pair_di){v, i}; break;
    case P_FLOAT_INT: ((struct pair_fi *)b)[k] = (struct pair_fi){(float)v, i}; break;
    case P_LONG_INT: ((struct pair_li *)b)[k] = (struct pair_li){(long)v, i}; break;
    default: ((struct pair_si *)b)[k] = (struct pair_si){(short)v, i}; break;
    }
}

static void pget(int p, const void *b, int k, double *v, int *i)
{
    switch (p) {
    case P_2INT: *v = ((const struct pair_ii *)b)[k].v; *i = ((const struct pair_ii *)b)[k].i; break;
    case P_DOUBLE_INT: *v = ((const struct pair_di *)b)[k].v; *i = ((const struct pair_di *)b)[k].i; break;
    case P_FLOAT_INT: *v = ((const struct pair_fi *)b)[k].v; *i = ((const struct pair_fi *)b)[k].i; break;
    case P_LONG_INT: *v = (double)((const struct pair_li *)b)[k].v; *i = ((const struct pair_li *)b)[k].i; break;
    default: *v = ((const struct pair_si *)b)[k].v; *i = ((const struct pair_si *)b)[k].i; break;
    }
}

/* many ties; the index is not monotonic in the rank, so the rule "the
 * smallest index among equal values" is what decides */
static double lval(int r, int k) { return ((r >> 1) + k) % 3 - 1; }
static int lidx(int r, int k) { return (wsize - r) * 3 + k % 2; }

static void lexpect(int maxloc, int k, int first, int last, double *v, int *i)
{
    *v = lval(first, k);
    *i = lidx(first, k);
    for (int r = first + 1; r <= last; r++) {
        double x = lval(r, k);
        int j = lidx(r, k);
        if ((maxloc ? x > *v : x < *v) || (x == *v && j < *i)) {
            *v = x;
            *i = j;
        }
    }
}

static void test_loc(void)
{
    const int n = 10;
    begin("maxloc_minloc");
    for (int p = 0; p < NPAIRS; p++)
        for (int maxloc = 0; maxloc < 2; maxloc++)
            for (int kind = 0; kind < wsize + 2; kind++) {   /* Reduce at every root, Allreduce, Scan */
                void *s = calloc(n, psize(p)), *r = calloc(n, psize(p));
                MPI_Op op = maxloc ? MPI_MAXLOC : MPI_MINLOC;
                for (int k = 0; k < n; k++) {
                    pput(p, s, k, lval(wrank, k), lidx(wrank, k));
                    pput(p, r, k, -99, -99);
                }
                int check_here = 1, last = wsize - 1;
                if (kind < wsize) {
                    MPI_Reduce(s, r, n, ptype(p), op, kind, W);
                    check_here = wrank == kind;
                } else if (kind == wsize) {
                    MPI_Allreduce(s, r, n, ptype(p), op, W);
                } else {
                    MPI_Scan(s, r, n, ptype(p), op, W);
                    last = wrank;
                }
                for (int k = 0; check_here && k < n; k++) {
                    double v, wv;
                    int i, wi;
                    pget(p, r, k, &v, &i);
                    lexpect(maxloc, k, 0, last, &wv, &wi);
                    CHECKF(v == wv && i == wi, "%s %s (%s) element %d: (%g, %d), expected (%g, %d)",
                           pnames[p], maxloc ? "MAXLOC" : "MINLOC",
                           kind < wsize ? "reduce" : kind == wsize ? "allreduce" : "scan", k, v, i,
                           wv, wi);
                }
                free(s);
                free(r);
            }
    end();
}

/* ---- a non-commutative user op: products of 2x2 integer matrices ---- */
typedef struct { int a, b, c, d; } mat;
static MPI_Datatype mat_type;
static int wrong_type_seen;

static mat mprod(mat x, mat y)
{
    return (mat){x.a * y.a + x.b * y.c, x.a * y.b + x.b * y.d, x.c * y.a + x.d * y.c,
                 x.c * y.b + x.d * y.d};
}

static void matmul(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    mat *x = in, *y = inout;
    if (*dt != mat_type)
        wrong_type_seen = 1;
    for (int k = 0; k < *len; k++)   /* inout = in * inout: in comes from lower ranks */
        y[k] = mprod(x[k], y[k]);
}

/* rank r's k-th matrix: shears, which do not commute */
static mat mgen(int r, int k)
{
    int s = (r + k) % 3 + 1;
    return r % 2 ? (mat){1, 0, s, 1} : (mat){1, s, 0, 1};
}

/* mgen(first, k) * ... * mgen(last, k) */
static mat mexpect(int k, int first, int last)
{
    mat acc = mgen(first, k);
    for (int r = first + 1; r <= last; r++)
        acc = mprod(acc, mgen(r, k));
    return acc;
}

static int mat_eq(mat x, mat y) { return x.a == y.a && x.b == y.b && x.c == y.c && x.d == y.d; }

static void test_user_op(void)
{
    MPI_Op op;
    const int n = 3;
    mat s[64], r[64];
    begin("noncommutative_user_op");
    MPI_Type_contiguous(4, MPI_INT, &mat_type);
    MPI_Type_commit(&mat_type);
    CHECK(MPI_Op_create(matmul, 0, &op) == MPI_SUCCESS);
    /* the order matters: a commutative implementation would fail */
    CHECK(!mat_eq(mprod(mgen(0, 0), mgen(1, 0)), mprod(mgen(1, 0), mgen(0, 0))));
    for (int k = 0; k < n; k++)
        s[k] = mgen(wrank, k);
    for (int root = 0; root < wsize; root++) {
        for (int k = 0; k < n; k++)
            r[k] = (mat){-1, -1, -1, -1};
        int inplace = root % 2 && wrank == root;
        if (inplace)
            memcpy(r, s, sizeof s);
        MPI_Reduce(inplace ? MPI_IN_PLACE : s, r, n, mat_type, op, root, W);
        for (int k = 0; wrank == root && k < n; k++)
            CHECKF(mat_eq(r[k], mexpect(k, 0, wsize - 1)), "reduce root %d element %d", root, k);
    }
    MPI_Allreduce(s, r, n, mat_type, op, W);
    for (int k = 0; k < n; k++)
        CHECKF(mat_eq(r[k], mexpect(k, 0, wsize - 1)), "allreduce element %d", k);
    memcpy(r, s, sizeof s);
    MPI_Allreduce(MPI_IN_PLACE, r, n, mat_type, op, W);
    for (int k = 0; k < n; k++)
        CHECKF(mat_eq(r[k], mexpect(k, 0, wsize - 1)), "allreduce in place element %d", k);
    MPI_Scan(s, r, n, mat_type, op, W);
    for (int k = 0; k < n; k++)
        CHECKF(mat_eq(r[k], mexpect(k, 0, wrank)), "scan element %d", k);
    MPI_Exscan(s, r, n, mat_type, op, W);
    for (int k = 0; wrank > 0 && k < n; k++)
        CHECKF(mat_eq(r[k], mexpect(k, 0, wrank - 1)), "exscan element %d", k);
    /* reduce_scatter_block: 2 matrices per rank */
    mat big[128];
    for (int k = 0; k < 2 * wsize; k++)
        big[k] = mgen(wrank, k);
    MPI_Reduce_scatter_block(big, r, 2, mat_type, op, W);
    for (int k = 0; k < 2; k++)
        CHECKF(mat_eq(r[k], mexpect(wrank * 2 + k, 0, wsize - 1)), "reduce_scatter_block element %d", k);
    CHECK(!wrong_type_seen);
    CHECK(MPI_Op_free(&op) == MPI_SUCCESS && op == MPI_OP_NULL);
    MPI_Type_free(&mat_type);
    end();
}

/* ---- data movement ---- */

static void test_gather_scatter(void)
{
    const int n = 5;
    MPI_Datatype vt;   /* 3 ints: elements 0, 2, 4 of 5 (extent 5 ints) */
    MPI_Type_vector(3, 1, 2, MPI_INT, &vt);
    MPI_Type_commit(&vt);

    begin("gather");
    for (int root = 0; root < wsize; root++) {
        for (int t = 0; t < NTYPES; t++) {
            int inplace = wrank == root && (root + t) % 2 == 1;
            void *s = alloc(t, n), *r = alloc(t, n * wsize);
            for (int i = 0; i < n; i++)
                put(t, s, i, dval(wrank, i));
            for (int i = 0; i < n * wsize; i++)
                put(t, r, i, inplace && i / n == root ? dval(root, i % n) : GARBAGE);
            CHECK(MPI_Gather(inplace ? MPI_IN_PLACE : s, n, mtype(t), r, n, mtype(t), root, W)
                  == MPI_SUCCESS);
            int bad = 0;
            for (int i = 0; wrank == root && i < n * wsize; i++)
                bad += get(t, r, i) != dval(i / n, i % n);
            CHECKF(bad == 0, "root %d %s%s: %d wrong", root, tnames[t], inplace ? " in place" : "", bad);
            free(s);
            free(r);
        }
        int v[5], got[3 * 64], bad = 0;   /* a vector type sent, ints received */
        for (int i = 0; i < 5; i++)
            v[i] = (int)dval(wrank, i);
        MPI_Gather(v, 1, vt, got, 3, MPI_INT, root, W);
        for (int i = 0; wrank == root && i < 3 * wsize; i++)
            bad += got[i] != (int)dval(i / 3, i % 3 * 2);
        CHECKF(bad == 0, "root %d vector type: %d wrong", root, bad);
    }
    end();

    begin("gatherv");
    int *counts = malloc(wsize * sizeof *counts), *displs = malloc(wsize * sizeof *displs);
    for (int p = 0; p < wsize; p++)
        counts[p] = vcount(p);
    int total = vdispls(displs, vcount);
    for (int root = 0; root < wsize; root++)
        for (int t = 0; t < NTYPES; t += 1) {
            int inplace = wrank == root && (root + t) % 2 == 0;
            void *s = alloc(t, counts[wrank]), *r = alloc(t, total);
            for (int i = 0; i < counts[wrank]; i++)
                put(t, s, i, dval(wrank, i));
            for (int i = 0; i < total; i++)
                put(t, r, i, GARBAGE);
            if (inplace)
                for (int i = 0; i < counts[root]; i++)
                    put(t, r, displs[root] + i, dval(root, i));
            CHECK(MPI_Gatherv(inplace ? MPI_IN_PLACE : s, counts[wrank], mtype(t), r, counts, displs,
                              mtype(t), root, W) == MPI_SUCCESS);
            int bad = 0;
            for (int p = 0; wrank == root && p < wsize; p++) {
                for (int i = 0; i < counts[p]; i++)
                    bad += get(t, r, displs[p] + i) != dval(p, i);
                bad += get(t, r, displs[p] + counts[p]) != GARBAGE;   /* the gap */
            }
            CHECKF(bad == 0, "root %d %s%s: %d wrong", root, tnames[t], inplace ? " in place" : "", bad);
            free(s);
            free(r);
        }
    end();

    begin("scatter");
    for (int root = 0; root < wsize; root++) {
        for (int t = 0; t < NTYPES; t++) {
            int inplace = wrank == root && (root + t) % 2 == 0;
            void *s = alloc(t, n * wsize), *r = alloc(t, n);
            for (int i = 0; i < n * wsize; i++)
                put(t, s, i, wrank == root ? dval(i / n, i % n) : GARBAGE);
            for (int i = 0; i < n; i++)
                put(t, r, i, GARBAGE);
            CHECK(MPI_Scatter(s, n, mtype(t), inplace ? MPI_IN_PLACE : r, n, mtype(t), root, W)
                  == MPI_SUCCESS);
            int bad = 0;
            for (int i = 0; i < n; i++)
                bad += inplace ? get(t, s, root * n + i) != dval(root, i) || get(t, r, i) != GARBAGE
                               : get(t, r, i) != dval(wrank, i);
            CHECKF(bad == 0, "root %d %s%s: %d wrong", root, tnames[t], inplace ? " in place" : "", bad);
            free(s);
            free(r);
        }
        int src[3 * 64], v[5] = {-1, -1, -1, -1, -1}, bad = 0;  /* ints sent, a vector received */
        for (int i = 0; i < 3 * wsize; i++)
            src[i] = (int)dval(i / 3, i % 3);
        MPI_Scatter(src, 3, MPI_INT, v, 1, vt, root, W);
        for (int i = 0; i < 5; i++)
            bad += v[i] != (i % 2 ? -1 : (int)dval(wrank, i / 2));
        CHECKF(bad == 0, "root %d vector type: %d wrong", root, bad);
    }
    end();

    begin("scatterv");
    for (int root = 0; root < wsize; root++)
        for (int t = 0; t < NTYPES; t++) {
            int inplace = wrank == root && (root + t) % 2 == 1;
            void *s = alloc(t, total), *r = alloc(t, counts[wrank] + 1);
            for (int i = 0; i < total; i++)
                put(t, s, i, GARBAGE);
            for (int p = 0; wrank == root && p < wsize; p++)
                for (int i = 0; i < counts[p]; i++)
                    put(t, s, displs[p] + i, dval(p, i));
            for (int i = 0; i <= counts[wrank]; i++)
                put(t, r, i, GARBAGE);
            CHECK(MPI_Scatterv(s, counts, displs, mtype(t), inplace ? MPI_IN_PLACE : r, counts[wrank],
                               mtype(t), root, W) == MPI_SUCCESS);
            int bad = 0;
            for (int i = 0; !inplace && i < counts[wrank]; i++)
                bad += get(t, r, i) != dval(wrank, i);
            bad += get(t, r, counts[wrank]) != GARBAGE;
            CHECKF(bad == 0, "root %d %s%s: %d wrong", root, tnames[t], inplace ? " in place" : "", bad);
            free(s);
            free(r);
        }
    free(counts);
    free(displs);
    MPI_Type_free(&vt);
    end();
}

static void test_allgather(void)
{
    const int n = 4;
    begin("allgather");
    for (int t = 0; t < NTYPES; t++)
        for (int inplace = 0; inplace < 2; inplace++) {
            void *s = alloc(t, n), *r = alloc(t, n * wsize);
            for (int i = 0; i < n; i++)
                put(t, s, i, dval(wrank, i));
            for (int i = 0; i < n * wsize; i++)
                put(t, r, i, inplace && i / n == wrank ? dval(wrank, i % n) : GARBAGE);
            CHECK(MPI_Allgather(inplace ? MPI_IN_PLACE : s, n, mtype(t), r, n, mtype(t), W) == MPI_SUCCESS);
            int bad = 0;
            for (int i = 0; i < n * wsize; i++)
                bad += get(t, r, i) != dval(i / n, i % n);
            CHECKF(bad == 0, "%s%s: %d wrong", tnames[t], inplace ? " in place" : "", bad);
            free(s);
            free(r);
        }
    MPI_Datatype vt;
    int v[5], got[3 * 64], bad = 0;
    MPI_Type_vector(3, 1, 2, MPI_INT, &vt);
    MPI_Type_commit(&vt);
    for (int i = 0; i < 5; i++)
        v[i] = (int)dval(wrank, i);
    MPI_Allgather(v, 1, vt, got, 3, MPI_INT, W);
    for (int i = 0; i < 3 * wsize; i++)
        bad += got[i] != (int)dval(i / 3, i % 3 * 2);
    CHECKF(bad == 0, "vector type: %d wrong", bad);
    MPI_Type_free(&vt);
    end();

    begin("allgatherv");
    int *counts = malloc(wsize * sizeof *counts), *displs = malloc(wsize * sizeof *displs);
    for (int p = 0; p < wsize; p++)
        counts[p] = vcount(p);
    int total = vdispls(displs, vcount);
    for (int t = 0; t < NTYPES; t++)
        for (int inplace = 0; inplace < 2; inplace++) {
            void *s = alloc(t, counts[wrank]), *r = alloc(t, total);
            for (int i = 0; i < counts[wrank]; i++)
                put(t, s, i, dval(wrank, i));
            for (int i = 0; i < total; i++)
                put(t, r, i, GARBAGE);
            for (int i = 0; inplace && i < counts[wrank]; i++)
                put(t, r, displs[wrank] + i, dval(wrank, i));
            CHECK(MPI_Allgatherv(inplace ? MPI_IN_PLACE : s, counts[wrank], mtype(t), r, counts, displs,
                                 mtype(t), W) == MPI_SUCCESS);
            int bad = 0;
            for (int p = 0; p < wsize; p++) {
                for (int i = 0; i < counts[p]; i++)
                    bad += get(t, r, displs[p] + i) != dval(p, i);
                bad += get(t, r, displs[p] + counts[p]) != GARBAGE;
            }
            CHECKF(bad == 0, "%s%s: %d wrong", tnames[t], inplace ? " in place" : "", bad);
            free(s);
            free(r);
        }
    free(counts);
    free(displs);
    end();
}

/* element i of the block that src sends to dst */
static double aval(int src, int dst, int i) { return src * 1000 + dst * 100 + i; }

static int a2a_count_of_me;   /* the rank a2a_count is asked about */
static int a2a_count(int peer) { return (a2a_count_of_me + peer) % 3; }   /* symmetric */

static void test_alltoall(void)
{
    const int n = 3;
    begin("alltoall");
    for (int t = 0; t < NTYPES; t++)
        for (int inplace = 0; inplace < 2; inplace++) {
            void *s = alloc(t, n * wsize), *r = alloc(t, n * wsize);
            for (int i = 0; i < n * wsize; i++) {
                put(t, s, i, aval(wrank, i / n, i % n));
                put(t, r, i, inplace ? aval(wrank, i / n, i % n) : GARBAGE);
            }
            CHECK(MPI_Alltoall(inplace ? MPI_IN_PLACE : s, n, mtype(t), r, n, mtype(t), W) == MPI_SUCCESS);
            int bad = 0;
            for (int i = 0; i < n * wsize; i++)
                bad += get(t, r, i) != aval(i / n, wrank, i % n);
            CHECKF(bad == 0, "%s%s: %d wrong", tnames[t], inplace ? " in place" : "", bad);
            free(s);
            free(r);
        }
    MPI_Datatype vt;   /* block j is elements 0, 2, 4 of ints j*5 .. j*5+4 */
    int *v = malloc(5 * wsize * sizeof *v), *got = malloc(3 * wsize * sizeof *got), bad = 0;
    MPI_Type_vector(3, 1, 2, MPI_INT, &vt);
    MPI_Type_commit(&vt);
    for (int i = 0; i < 5 * wsize; i++)
        v[i] = (int)aval(wrank, i / 5, i % 5);
    MPI_Alltoall(v, 1, vt, got, 3, MPI_INT, W);
    for (int i = 0; i < 3 * wsize; i++)
        bad += got[i] != (int)aval(i / 3, wrank, i % 3 * 2);
    CHECKF(bad == 0, "vector type: %d wrong", bad);
    MPI_Type_free(&vt);
    free(v);
    free(got);
    end();

    begin("alltoallv");
    int *sc = malloc(wsize * sizeof *sc), *sd = malloc(wsize * sizeof *sd);
    int *rcnt = malloc(wsize * sizeof *rcnt), *rd = malloc(wsize * sizeof *rd);
    a2a_count_of_me = wrank;
    for (int p = 0; p < wsize; p++)
        sc[p] = rcnt[p] = a2a_count(p);   /* what I send to p = what p sends to me */
    int stotal = vdispls(sd, a2a_count), rtotal = 0;
    for (int p = 0; p < wsize; p++) {      /* receive blocks in rank order, gap of 2 */
        rd[p] = rtotal;
        rtotal += rcnt[p] + 2;
    }
    for (int t = 0; t < NTYPES; t++)
        for (int inplace = 0; inplace < 2; inplace++) {
            void *s = alloc(t, stotal), *r = alloc(t, rtotal);
            for (int i = 0; i < stotal; i++)
                put(t, s, i, GARBAGE);
            for (int i = 0; i < rtotal; i++)
                put(t, r, i, GARBAGE);
            for (int p = 0; p < wsize; p++)
                for (int i = 0; i < sc[p]; i++) {
                    put(t, s, sd[p] + i, aval(wrank, p, i));
                    if (inplace)   /* in place: the data to send sits in the receive layout */
                        put(t, r, rd[p] + i, aval(wrank, p, i));
                }
            CHECK(MPI_Alltoallv(inplace ? MPI_IN_PLACE : s, sc, sd, mtype(t), r, rcnt, rd, mtype(t), W)
                  == MPI_SUCCESS);
            int bad = 0;
            for (int p = 0; p < wsize; p++) {
                for (int i = 0; i < rcnt[p]; i++)
                    bad += get(t, r, rd[p] + i) != aval(p, wrank, i);
                bad += get(t, r, rd[p] + rcnt[p]) != GARBAGE;
            }
            CHECKF(bad == 0, "%s%s: %d wrong", tnames[t], inplace ? " in place" : "", bad);
            free(s);
            free(r);
        }
    end();

    /* Alltoallw: the block between i and j has (i + j) % 3 + 1 elements of
     * MPI_INT when i + j is even, MPI_DOUBLE when odd (symmetric);
     * displacements in bytes, blocks in reverse order in the send buffer */
    begin("alltoallw");
    MPI_Datatype *st = malloc(wsize * sizeof *st);
    int sbytes = 0, rbytes = 0;
    for (int p = 0; p < wsize; p++) {
        st[p] = (wrank + p) % 2 ? MPI_DOUBLE : MPI_INT;
        sc[p] = (wrank + p) % 3 + 1;
    }
    for (int p = wsize - 1; p >= 0; p--) {
        sd[p] = sbytes;
        sbytes += sc[p] * 8 + 8;
    }
    for (int p = 0; p < wsize; p++) {
        rd[p] = rbytes;
        rbytes += sc[p] * 8 + 16;
    }
    for (int inplace = 0; inplace < 2; inplace++) {
        char *s = malloc(sbytes), *r = malloc(rbytes);
        memset(s, 0x7f, sbytes);
        memset(r, 0x7f, rbytes);
        for (int p = 0; p < wsize; p++)
            for (int i = 0; i < sc[p]; i++) {
                char *at = inplace ? r + rd[p] : s + sd[p];
                if (st[p] == MPI_INT)
                    ((int *)at)[i] = (int)aval(wrank, p, i);
                else
                    ((double *)at)[i] = aval(wrank, p, i);
            }
        CHECK(MPI_Alltoallw(inplace ? MPI_IN_PLACE : s, sc, sd, st, r, sc, rd, st, W) == MPI_SUCCESS);
        int bad = 0;
        for (int p = 0; p < wsize; p++) {
            for (int i = 0; i < sc[p]; i++)
                bad += st[p] == MPI_INT ? ((int *)(r + rd[p]))[i] != (int)aval(p, wrank, i)
                                        : ((double *)(r + rd[p]))[i] != aval(p, wrank, i);
            bad += (unsigned char)r[rd[p] + sc[p] * (st[p] == MPI_INT ? 4 : 8)] != 0x7f;
        }
        CHECKF(bad == 0, "%s: %d wrong", inplace ? "in place" : "", bad);
        free(s);
        free(r);
    }
    free(st);
    free(sc);
    free(sd);
    free(rcnt);
    free(rd);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    if (wsize > 64) {
        if (wrank == 0)
            printf("coll_test: at most 64 ranks\n");
        MPI_Finalize();
        return 1;
    }
    test_barrier();
    test_bcast();
    test_reduce();
    test_allreduce();
    test_reduce_scatter();
    test_scan();
    test_loc();
    test_user_op();
    test_gather_scatter();
    test_allgather();
    test_alltoall();
    return finish("coll_test");
}
