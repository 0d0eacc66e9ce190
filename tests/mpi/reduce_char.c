/* reduce_char.c -- the integer reduction ops on MPI_CHAR and MPI_WCHAR,
 * which Open MPI and MPICH accept (the OSU Micro-Benchmarks 7.x reduce
 * MPI_CHAR with MPI_SUM): Reduce, Allreduce and Reduce_local with SUM,
 * PROD, MIN, MAX, BAND, BOR, BXOR, LAND, LOR, LXOR, checked against the
 * same loops done locally in char and wchar_t arithmetic. Open MPI 4.1
 * rejects MPI_WCHAR (Toro accepts it), so the MPI_WCHAR test is
 * left out when built against Open MPI.
 *
 * Prints "ok <test>" lines and "mpi-test reduce_char: N passed, M failed". */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "harness.h"

#define N 8
#define W MPI_COMM_WORLD

static const MPI_Op ops[] = {MPI_SUM, MPI_PROD, MPI_MIN, MPI_MAX, MPI_BAND,
                             MPI_BOR, MPI_BXOR, MPI_LAND, MPI_LOR, MPI_LXOR};
static const char *opnames[] = {"SUM", "PROD", "MIN", "MAX", "BAND",
                                "BOR", "BXOR", "LAND", "LOR", "LXOR"};
#define NOPS (int)(sizeof ops / sizeof ops[0])

/* Rank r's element i: small values of both signs, some zeros. */
static long value(int r, int i)
{
    long v = (r * 7 + i * 5) % 11 - 4;
    return (i == 3 && r % 2) ? 0 : v;
}

static long combine(int k, long a, long b)
{
    switch (k) {
    case 0: return a + b;
    case 1: return a * b;
    case 2: return a < b ? a : b;
    case 3: return a > b ? a : b;
    case 4: return a & b;
    case 5: return a | b;
    case 6: return a ^ b;
    case 7: return a && b;
    case 8: return a || b;
    default: return !a != !b;
    }
}

/* The expected result over all ranks, wrapped to char. */
static char expect_char(int k, int i)
{
    char acc = (char)value(0, i);
    for (int r = 1; r < wsize; r++)
        acc = (char)combine(k, (long)(char)value(r, i), acc);
    return acc;
}

#ifndef OPEN_MPI
static wchar_t expect_wchar(int k, int i)
{
    wchar_t acc = (wchar_t)value(0, i);
    for (int r = 1; r < wsize; r++)
        acc = (wchar_t)combine(k, (long)(wchar_t)value(r, i), acc);
    return acc;
}
#endif

static void test_char(void)
{
    begin("char_ops");
    for (int k = 0; k < NOPS; k++) {
        char in[N], out[N], all[N];
        for (int i = 0; i < N; i++)
            in[i] = (char)value(wrank, i);
        memset(out, 0x55, N);
        int rc = MPI_Reduce(in, out, N, MPI_CHAR, ops[k], 0, W);
        CHECKF(rc == MPI_SUCCESS, "MPI_Reduce MPI_CHAR %s: rc %d", opnames[k], rc);
        rc = MPI_Allreduce(in, all, N, MPI_CHAR, ops[k], W);
        CHECKF(rc == MPI_SUCCESS, "MPI_Allreduce MPI_CHAR %s: rc %d", opnames[k], rc);
        for (int i = 0; i < N; i++) {
            char e = expect_char(k, i);
            if (wrank == 0)
                CHECKF(out[i] == e, "Reduce %s [%d]: %d, expected %d", opnames[k], i, out[i], e);
            CHECKF(all[i] == e, "Allreduce %s [%d]: %d, expected %d", opnames[k], i, all[i], e);
        }
    }
    end();
}

#ifndef OPEN_MPI
static void test_wchar(void)
{
    begin("wchar_ops");
    for (int k = 0; k < NOPS; k++) {
        wchar_t in[N], out[N], all[N];
        for (int i = 0; i < N; i++)
            in[i] = (wchar_t)value(wrank, i);
        int rc = MPI_Reduce(in, out, N, MPI_WCHAR, ops[k], 0, W);
        CHECKF(rc == MPI_SUCCESS, "MPI_Reduce MPI_WCHAR %s: rc %d", opnames[k], rc);
        rc = MPI_Allreduce(in, all, N, MPI_WCHAR, ops[k], W);
        CHECKF(rc == MPI_SUCCESS, "MPI_Allreduce MPI_WCHAR %s: rc %d", opnames[k], rc);
        for (int i = 0; i < N; i++) {
            wchar_t e = expect_wchar(k, i);
            if (wrank == 0)
                CHECKF(out[i] == e, "Reduce %s [%d]: %ld, expected %ld", opnames[k], i,
                       (long)out[i], (long)e);
            CHECKF(all[i] == e, "Allreduce %s [%d]: %ld, expected %ld", opnames[k], i,
                   (long)all[i], (long)e);
        }
    }
    end();
}
#endif

/* A sum that wraps: 100 + 100 in a char is -56 on x86-64 (char is signed). */
static void test_local(void)
{
    begin("char_reduce_local");
    char a[2] = {100, -3}, b[2] = {100, 5};
    int rc = MPI_Reduce_local(a, b, 2, MPI_CHAR, MPI_SUM);
    CHECK(rc == MPI_SUCCESS);
    CHECKF(b[0] == (char)200 && b[1] == 2, "got %d %d", b[0], b[1]);
    char c[2] = {-3, 7}, d[2] = {2, 9};
    rc = MPI_Reduce_local(c, d, 2, MPI_CHAR, MPI_MAX);
    CHECK(rc == MPI_SUCCESS);
    CHECKF(d[0] == 2 && d[1] == 9, "MAX got %d %d", d[0], d[1]);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    test_char();
#ifndef OPEN_MPI
    test_wchar();
#endif
    test_local();
    return finish("reduce_char");
}
