/* datatypes.c -- every predefined C datatype in Send/Recv (sizes, extents,
 * values); the constructors Type_contiguous, vector, hvector, indexed,
 * hindexed, indexed_block, create_struct, create_resized, dup; commit, free,
 * size, get_extent, get_true_extent, get_name/set_name; Get_address;
 * Pack/Unpack/Pack_size; derived types in point to point (a matrix column,
 * structs, indexed layouts; gaps left untouched) and in collectives
 * (scattering and gathering the columns of a matrix).
 *
 * Prints "ok <test>" lines and "mpi-test datatypes: N passed, M failed". */
#include <mpi.h>
#include <complex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "harness.h"

#define W MPI_COMM_WORLD
static int left, right;

/* Isend to the right neighbour, Recv from the left one. */
static void shift(const void *out, int n, MPI_Datatype st, void *in, int m, MPI_Datatype rt,
                  MPI_Status *status)
{
    MPI_Request r;
    MPI_Isend(out, n, st, right, 0, W, &r);
    MPI_Recv(in, m, rt, left, 0, W, status);
    MPI_Wait(&r, MPI_STATUS_IGNORE);
}

/* ---- predefined types: fill with values that depend on the sender, check
 * by value (padding bytes of long double and of the pair types are not data) */
static int val(int src, int i) { return (src * 31 + i * 7) % 100; }

typedef signed char schar;
typedef unsigned char uchar;
typedef unsigned short ushort;
typedef unsigned long ulong;
typedef long long llong;
typedef unsigned long long ullong;
typedef long double ldouble;
typedef float _Complex fcomplex;
typedef double _Complex dcomplex;
typedef long double _Complex ldcomplex;

#define SIMPLE(T)                                                          \
    static void fill_##T(void *b, int n, int src)                          \
    {                                                                      \
        for (int i = 0; i < n; i++)                                        \
            ((T *)b)[i] = (T)val(src, i);                                  \
    }                                                                      \
    static int bad_##T(const void *b, int n, int src)                      \
    {                                                                      \
        int bad = 0;                                                       \
        for (int i = 0; i < n; i++)                                        \
            bad += ((const T *)b)[i] != (T)val(src, i);                    \
        return bad;                                                        \
    }
#define COMPLEX(T, R)                                                      \
    static void fill_##T(void *b, int n, int src)                          \
    {                                                                      \
        for (int i = 0; i < n; i++)                                        \
            ((T *)b)[i] = (R)val(src, i) + (R)val(src, i + 1) * I;         \
    }                                                                      \
    static int bad_##T(const void *b, int n, int src)                      \
    {                                                                      \
        int bad = 0;                                                       \
        for (int i = 0; i < n; i++)                                        \
            bad += ((const T *)b)[i] != (R)val(src, i) + (R)val(src, i + 1) * I; \
        return bad;                                                        \
    }
#define PAIR(NAME, VT)                                                     \
    struct NAME { VT v; int i; };                                          \
    static void fill_##NAME(void *b, int n, int src)                       \
    {                                                                      \
        for (int i = 0; i < n; i++) {                                      \
            ((struct NAME *)b)[i].v = (VT)val(src, i);                     \
            ((struct NAME *)b)[i].i = -val(src, i + 3);                    \
        }                                                                  \
    }                                                                      \
    static int bad_##NAME(const void *b, int n, int src)                   \
    {                                                                      \
        int bad = 0;                                                       \
        for (int i = 0; i < n; i++)                                        \
            bad += ((const struct NAME *)b)[i].v != (VT)val(src, i) ||     \
                   ((const struct NAME *)b)[i].i != -val(src, i + 3);      \
        return bad;                                                        \
    }

SIMPLE(char) SIMPLE(schar) SIMPLE(uchar) SIMPLE(short) SIMPLE(ushort) SIMPLE(int)
SIMPLE(unsigned) SIMPLE(long) SIMPLE(ulong) SIMPLE(llong) SIMPLE(ullong) SIMPLE(float)
SIMPLE(double) SIMPLE(ldouble) SIMPLE(wchar_t) SIMPLE(bool) SIMPLE(int8_t) SIMPLE(int16_t)
SIMPLE(int32_t) SIMPLE(int64_t) SIMPLE(uint8_t) SIMPLE(uint16_t) SIMPLE(uint32_t)
SIMPLE(uint64_t) SIMPLE(MPI_Aint) SIMPLE(MPI_Offset) SIMPLE(MPI_Count)
COMPLEX(fcomplex, float) COMPLEX(dcomplex, double) COMPLEX(ldcomplex, long double)
PAIR(float_int, float) PAIR(double_int, double) PAIR(long_int, long) PAIR(two_int, int)
PAIR(short_int, short) PAIR(ldouble_int, long double)

struct predef {
    MPI_Datatype type;
    const char *name;       /* NULL: an alias of another name, not checked */
    int size;               /* MPI_Type_size: the bytes of data */
    MPI_Aint extent;        /* sizeof the C type */
    void (*fill)(void *, int, int);
    int (*bad)(const void *, int, int);
};

#define T(mpi, ctype, fn) {mpi, #mpi, (int)sizeof(ctype), (MPI_Aint)sizeof(ctype), fill_##fn, bad_##fn}
#define A(mpi, ctype, fn) {mpi, NULL, (int)sizeof(ctype), (MPI_Aint)sizeof(ctype), fill_##fn, bad_##fn}
#define P(mpi, VT, fn) {mpi, #mpi, (int)(sizeof(VT) + sizeof(int)), (MPI_Aint)sizeof(struct fn), fill_##fn, bad_##fn}

static const struct predef predefs[] = {
    T(MPI_CHAR, char, char), T(MPI_SIGNED_CHAR, schar, schar), T(MPI_UNSIGNED_CHAR, uchar, uchar),
    T(MPI_BYTE, uchar, uchar), T(MPI_WCHAR, wchar_t, wchar_t), T(MPI_SHORT, short, short),
    T(MPI_UNSIGNED_SHORT, ushort, ushort), T(MPI_INT, int, int), T(MPI_UNSIGNED, unsigned, unsigned),
    T(MPI_LONG, long, long), T(MPI_UNSIGNED_LONG, ulong, ulong), T(MPI_LONG_LONG_INT, llong, llong),
    A(MPI_LONG_LONG, llong, llong), T(MPI_UNSIGNED_LONG_LONG, ullong, ullong),
    T(MPI_FLOAT, float, float), T(MPI_DOUBLE, double, double), T(MPI_LONG_DOUBLE, ldouble, ldouble),
    T(MPI_C_BOOL, bool, bool), T(MPI_INT8_T, int8_t, int8_t), T(MPI_INT16_T, int16_t, int16_t),
    T(MPI_INT32_T, int32_t, int32_t), T(MPI_INT64_T, int64_t, int64_t),
    T(MPI_UINT8_T, uint8_t, uint8_t), T(MPI_UINT16_T, uint16_t, uint16_t),
    T(MPI_UINT32_T, uint32_t, uint32_t), T(MPI_UINT64_T, uint64_t, uint64_t),
    A(MPI_C_COMPLEX, fcomplex, fcomplex), A(MPI_C_FLOAT_COMPLEX, fcomplex, fcomplex),
    T(MPI_C_DOUBLE_COMPLEX, dcomplex, dcomplex), T(MPI_C_LONG_DOUBLE_COMPLEX, ldcomplex, ldcomplex),
    T(MPI_AINT, MPI_Aint, MPI_Aint), T(MPI_OFFSET, MPI_Offset, MPI_Offset),
    T(MPI_COUNT, MPI_Count, MPI_Count),
    P(MPI_FLOAT_INT, float, float_int), P(MPI_DOUBLE_INT, double, double_int),
    P(MPI_LONG_INT, long, long_int), P(MPI_2INT, int, two_int), P(MPI_SHORT_INT, short, short_int),
    P(MPI_LONG_DOUBLE_INT, long double, ldouble_int),
};
#define NPREDEF ((int)(sizeof predefs / sizeof predefs[0]))

static void test_predefined(void)
{
    unsigned char out[7 * 64], in[7 * 64 + 64];
    begin("predefined_types");
    for (int k = 0; k < NPREDEF; k++) {
        const struct predef *p = &predefs[k];
        int size = -1, n = -1;
        MPI_Aint lb = -1, extent = -1;
        MPI_Type_size(p->type, &size);
        MPI_Type_get_extent(p->type, &lb, &extent);
        CHECKF(size == p->size, "%s: size %d, expected %d", p->name, size, p->size);
        CHECKF(lb == 0 && extent == p->extent, "%s: lb %ld extent %ld, expected 0 %ld", p->name,
               (long)lb, (long)extent, (long)p->extent);
        if (p->name) {
            char name[MPI_MAX_OBJECT_NAME];
            int len = -1;
            MPI_Type_get_name(p->type, name, &len);
            CHECKF(strcmp(name, p->name) == 0 && len == (int)strlen(name), "%s: name \"%s\"", p->name, name);
        }
        memset(out, 0, sizeof out);
        memset(in, 0xA5, sizeof in);
        p->fill(out, 7, wrank);
        MPI_Status st;
        shift(out, 7, p->type, in, 7, p->type, &st);
        MPI_Get_count(&st, p->type, &n);
        CHECKF(n == 7, "%s: count %d", p->name, n);
        CHECKF(p->bad(in, 7, left) == 0, "%s: %d wrong values", p->name, p->bad(in, 7, left));
        CHECKF(in[7 * p->extent] == 0xA5, "%s: wrote past the buffer", p->name);
    }
    end();
}

/* ---- constructors and queries ---- */
static void expect_layout(const char *what, MPI_Datatype t, int size, MPI_Aint lb, MPI_Aint extent,
                          MPI_Aint tlb, MPI_Aint textent)
{
    int s = -1;
    MPI_Aint l = -1, e = -1, tl = -1, te = -1;
    MPI_Type_size(t, &s);
    MPI_Type_get_extent(t, &l, &e);
    MPI_Type_get_true_extent(t, &tl, &te);
    CHECKF(s == size && l == lb && e == extent && tl == tlb && te == textent,
           "%s: size %d lb %ld extent %ld true lb %ld true extent %ld; expected %d %ld %ld %ld %ld", what,
           s, (long)l, (long)e, (long)tl, (long)te, size, (long)lb, (long)extent, (long)tlb, (long)textent);
}

/* Sends one item of type t built over src (ints) and receives it as n
 * contiguous ints: the ints of the type map, in order. */
static void expect_map(const char *what, MPI_Datatype t, const int *map, int n)
{
    int src[64], in[64];
    MPI_Status st;
    for (int i = 0; i < 64; i++)
        src[i] = val(wrank, i) + 1000 * i;
    shift(src, 1, t, in, 64, MPI_INT, &st);
    int got = -1, bad = 0;
    MPI_Get_count(&st, MPI_INT, &got);
    CHECKF(got == n, "%s: %d ints received, expected %d", what, got, n);
    for (int i = 0; i < n && i < got; i++)
        bad += in[i] != val(left, map[i]) + 1000 * map[i];
    CHECKF(bad == 0, "%s: %d wrong", what, bad);
    /* and back: ints received into the type, gaps untouched */
    int dst[64], from[64];
    for (int i = 0; i < n; i++)
        from[i] = val(wrank, i) + 7;
    for (int i = 0; i < 64; i++)
        dst[i] = -1;
    shift(from, n, MPI_INT, dst, 1, t, &st);
    bad = 0;
    int hit[64] = {0};
    for (int i = 0; i < n; i++) {
        hit[map[i]] = 1;
        bad += dst[map[i]] != val(left, i) + 7;
    }
    for (int i = 0; i < 64; i++)
        bad += !hit[i] && dst[i] != -1;
    CHECKF(bad == 0, "%s (receiving into it): %d wrong", what, bad);
}

static void test_constructors(void)
{
    const int SI = sizeof(int);   /* not I: <complex.h> defines it */
    MPI_Datatype t, t2;
    begin("type_constructors");

    MPI_Type_contiguous(5, MPI_INT, &t);
    MPI_Type_commit(&t);
    expect_layout("contiguous", t, 5 * SI, 0, 5 * SI, 0, 5 * SI);
    expect_map("contiguous", t, (int[]){0, 1, 2, 3, 4}, 5);
    CHECK(MPI_Type_free(&t) == MPI_SUCCESS && t == MPI_DATATYPE_NULL);

    MPI_Type_vector(3, 2, 4, MPI_INT, &t);
    MPI_Type_commit(&t);
    expect_layout("vector", t, 6 * SI, 0, 10 * SI, 0, 10 * SI);
    expect_map("vector", t, (int[]){0, 1, 4, 5, 8, 9}, 6);
    MPI_Type_free(&t);

    MPI_Type_create_hvector(3, 2, 5 * SI, MPI_INT, &t);
    MPI_Type_commit(&t);
    expect_layout("hvector", t, 6 * SI, 0, 12 * SI, 0, 12 * SI);
    expect_map("hvector", t, (int[]){0, 1, 5, 6, 10, 11}, 6);
    MPI_Type_free(&t);

    MPI_Type_indexed(3, (int[]){2, 1, 3}, (int[]){5, 2, 9}, MPI_INT, &t);
    MPI_Type_commit(&t);
    expect_layout("indexed", t, 6 * SI, 2 * SI, 10 * SI, 2 * SI, 10 * SI);
    expect_map("indexed", t, (int[]){5, 6, 2, 9, 10, 11}, 6);
    MPI_Type_free(&t);

    MPI_Type_create_hindexed(2, (int[]){1, 2}, (MPI_Aint[]){3 * SI, 8 * SI}, MPI_INT, &t);
    MPI_Type_commit(&t);
    expect_layout("hindexed", t, 3 * SI, 3 * SI, 7 * SI, 3 * SI, 7 * SI);
    expect_map("hindexed", t, (int[]){3, 8, 9}, 3);
    MPI_Type_free(&t);

    MPI_Type_create_indexed_block(3, 2, (int[]){7, 1, 4}, MPI_INT, &t);
    MPI_Type_commit(&t);
    expect_layout("indexed_block", t, 6 * SI, SI, 8 * SI, SI, 8 * SI);
    expect_map("indexed_block", t, (int[]){7, 8, 1, 2, 4, 5}, 6);
    MPI_Type_free(&t);

    /* resized: lb -1 int, extent 4 ints, over 2 ints; two items interleave */
    MPI_Type_contiguous(2, MPI_INT, &t2);
    MPI_Type_create_resized(t2, -SI, 4 * SI, &t);
    MPI_Type_commit(&t);
    expect_layout("resized", t, 2 * SI, -SI, 4 * SI, 0, 2 * SI);
    {
        int src[16], in[16];
        for (int i = 0; i < 16; i++)
            src[i] = val(wrank, i);
        shift(src + 1, 3, t, in, 16, MPI_INT, MPI_STATUS_IGNORE);   /* ints 1,2, 5,6, 9,10 */
        int want[6] = {1, 2, 5, 6, 9, 10}, bad = 0;
        for (int i = 0; i < 6; i++)
            bad += in[i] != val(left, want[i]);
        CHECKF(bad == 0, "3 items of the resized type: %d wrong", bad);
    }
    /* a type built on a freed type stays usable; dup copies the layout */
    MPI_Datatype v;
    MPI_Type_vector(2, 1, 3, t2, &v);    /* ints 0,1 and 6,7 */
    MPI_Type_free(&t2);
    MPI_Type_commit(&v);
    expect_layout("vector of contiguous", v, 4 * SI, 0, 8 * SI, 0, 8 * SI);
    expect_map("vector of a freed contiguous", v, (int[]){0, 1, 6, 7}, 4);
    CHECK(MPI_Type_dup(v, &t2) == MPI_SUCCESS);
    MPI_Type_free(&v);
    expect_layout("dup", t2, 4 * SI, 0, 8 * SI, 0, 8 * SI);
    expect_map("dup", t2, (int[]){0, 1, 6, 7}, 4);
    MPI_Type_free(&t2);
    MPI_Type_free(&t);

    /* an empty type */
    MPI_Type_contiguous(0, MPI_INT, &t);
    MPI_Type_commit(&t);
    int s = -1;
    MPI_Aint lb, ext;
    MPI_Type_size(t, &s);
    MPI_Type_get_extent(t, &lb, &ext);
    CHECK(s == 0 && ext == 0);
    MPI_Type_free(&t);
    end();
}

struct rec {
    char c;
    double d;
    int i[3];
};

static MPI_Datatype rec_type(void)
{
    struct rec r = {0};
    MPI_Aint base, a[3];
    MPI_Datatype t, rt;
    MPI_Get_address(&r, &base);
    MPI_Get_address(&r.c, &a[0]);
    MPI_Get_address(&r.d, &a[1]);
    MPI_Get_address(&r.i[0], &a[2]);
    for (int k = 0; k < 3; k++)
        a[k] -= base;
    MPI_Type_create_struct(3, (int[]){1, 1, 3}, a, (MPI_Datatype[]){MPI_CHAR, MPI_DOUBLE, MPI_INT}, &t);
    MPI_Type_create_resized(t, 0, sizeof(struct rec), &rt);
    MPI_Type_free(&t);
    MPI_Type_commit(&rt);
    return rt;
}

static void fill_rec(struct rec *r, int n, int src)
{
    memset(r, 0, n * sizeof *r);
    for (int k = 0; k < n; k++) {
        r[k].c = (char)('a' + (src + k) % 26);
        r[k].d = src * 0.5 + k;
        for (int j = 0; j < 3; j++)
            r[k].i[j] = src * 100 + k * 10 + j;
    }
}

static int bad_rec(const struct rec *r, int n, int src)
{
    int bad = 0;
    for (int k = 0; k < n; k++) {
        bad += r[k].c != (char)('a' + (src + k) % 26) || r[k].d != src * 0.5 + k;
        for (int j = 0; j < 3; j++)
            bad += r[k].i[j] != src * 100 + k * 10 + j;
    }
    return bad;
}

static void test_struct(void)
{
    struct rec r = {0};
    MPI_Aint a0, a1, a2;
    begin("struct_and_get_address");
    MPI_Get_address(&r.c, &a0);
    MPI_Get_address(&r.d, &a1);
    MPI_Get_address(&r.i[2], &a2);
    CHECK(a1 - a0 == (MPI_Aint)offsetof(struct rec, d));
    CHECK(a2 - a0 == (MPI_Aint)(offsetof(struct rec, i) + 2 * sizeof(int)));
    CHECK(a0 == (MPI_Aint)(uintptr_t)&r.c);   /* on a flat address space, the address */

    /* the raw struct: data 1 + 8 + 12 bytes, true extent to the end of i[2];
     * its extent is rounded up to the alignment of double (MPI-3.1 4.1.6) */
    MPI_Datatype t;
    MPI_Type_create_struct(3, (int[]){1, 1, 3},
                           (MPI_Aint[]){offsetof(struct rec, c), offsetof(struct rec, d), offsetof(struct rec, i)},
                           (MPI_Datatype[]){MPI_CHAR, MPI_DOUBLE, MPI_INT}, &t);
    MPI_Type_commit(&t);
    expect_layout("struct", t, 1 + 8 + 12, 0, sizeof(struct rec), 0, offsetof(struct rec, i) + 3 * sizeof(int));
    MPI_Type_free(&t);

    t = rec_type();
    expect_layout("resized struct", t, 21, 0, sizeof(struct rec), 0, offsetof(struct rec, i) + 3 * sizeof(int));
    struct rec out[3], in[4];
    MPI_Status st;
    int n = -1;
    fill_rec(out, 3, wrank);
    memset(in, 0x5A, sizeof in);
    shift(out, 3, t, in, 4, t, &st);
    MPI_Get_count(&st, t, &n);
    CHECK(n == 3);
    CHECKF(bad_rec(in, 3, left) == 0, "%d wrong fields", bad_rec(in, 3, left));
    CHECK(in[3].c == 0x5A);
    MPI_Get_elements(&st, t, &n);   /* basic elements: 5 per struct */
    CHECKF(n == 15, "Get_elements %d", n);

    /* names */
    char name[MPI_MAX_OBJECT_NAME];
    int len = -1;
    CHECK(MPI_Type_set_name(t, "struct rec") == MPI_SUCCESS);
    MPI_Type_get_name(t, name, &len);
    CHECK(strcmp(name, "struct rec") == 0 && len == 10);
    MPI_Type_free(&t);
    end();
}

static void test_pack(void)
{
    int ints[5], vec[10], vin[10];
    double dbl[3];
    MPI_Datatype vt;   /* ints 0,1, 4,5, 8,9 */
    int s1, s2, s3, pos = 0;
    begin("pack_unpack");
    MPI_Type_vector(3, 2, 4, MPI_INT, &vt);
    MPI_Type_commit(&vt);
    for (int i = 0; i < 5; i++)
        ints[i] = val(wrank, i);
    for (int i = 0; i < 3; i++)
        dbl[i] = wrank + i * 0.25;
    for (int i = 0; i < 10; i++)
        vec[i] = val(wrank, i + 20);
    MPI_Pack_size(5, MPI_INT, W, &s1);
    MPI_Pack_size(3, MPI_DOUBLE, W, &s2);
    MPI_Pack_size(1, vt, W, &s3);
    CHECK(s1 >= 20 && s2 >= 24 && s3 >= 24);
    int size = s1 + s2 + s3;
    char *buf = malloc(size), *rbuf = malloc(size);
    CHECK(MPI_Pack(ints, 5, MPI_INT, buf, size, &pos, W) == MPI_SUCCESS);
    CHECK(pos > 0 && pos <= s1);
    MPI_Pack(dbl, 3, MPI_DOUBLE, buf, size, &pos, W);
    MPI_Pack(vec, 1, vt, buf, size, &pos, W);
    CHECK(pos <= size);

    MPI_Status st;
    int n = -1, rpos = 0;
    shift(buf, pos, MPI_PACKED, rbuf, size, MPI_PACKED, &st);
    MPI_Get_count(&st, MPI_PACKED, &n);
    CHECK(n == pos);   /* every rank packs the same amount */
    int ri[5];
    double rd[3];
    for (int i = 0; i < 10; i++)
        vin[i] = -1;
    CHECK(MPI_Unpack(rbuf, n, &rpos, ri, 5, MPI_INT, W) == MPI_SUCCESS);
    MPI_Unpack(rbuf, n, &rpos, rd, 3, MPI_DOUBLE, W);
    MPI_Unpack(rbuf, n, &rpos, vin, 1, vt, W);
    CHECK(rpos == n);
    int bad = 0;
    for (int i = 0; i < 5; i++)
        bad += ri[i] != val(left, i);
    for (int i = 0; i < 3; i++)
        bad += rd[i] != left + i * 0.25;
    for (int i = 0; i < 10; i++)
        bad += vin[i] != (i % 4 < 2 ? val(left, i + 20) : -1);
    CHECKF(bad == 0, "%d wrong after unpacking", bad);
    /* packing the vector = packing its 6 ints */
    int flat[6] = {vec[0], vec[1], vec[4], vec[5], vec[8], vec[9]}, p1 = 0, p2 = 0;
    char a[64], b[64];
    MPI_Pack(vec, 1, vt, a, 64, &p1, W);
    MPI_Pack(flat, 6, MPI_INT, b, 64, &p2, W);
    CHECK(p1 == p2 && memcmp(a, b, p1) == 0);
    free(buf);
    free(rbuf);
    MPI_Type_free(&vt);
    end();
}

/* A ROWS x wsize matrix of ints at the root; its column j goes to rank j. */
#define ROWS 6
static void test_columns(void)
{
    int *m = malloc(ROWS * wsize * sizeof *m), col[ROWS], *m2 = malloc(ROWS * wsize * sizeof *m2);
    MPI_Datatype c, col_t;
    begin("matrix_columns");
    MPI_Type_vector(ROWS, 1, wsize, MPI_INT, &c);
    MPI_Type_create_resized(c, 0, sizeof(int), &col_t);   /* column j+1 starts one int later */
    MPI_Type_free(&c);
    MPI_Type_commit(&col_t);
    char name[MPI_MAX_OBJECT_NAME];
    int len;
    MPI_Type_set_name(col_t, "column");
    MPI_Type_get_name(col_t, name, &len);
    CHECK(strcmp(name, "column") == 0 && len == 6);

    /* point to point: a column out, ints in; ints out, into a column */
    for (int i = 0; i < ROWS * wsize; i++)
        m[i] = val(wrank, i) + 100 * i;
    int in[ROWS];
    shift(m + wsize - 1, 1, col_t, in, ROWS, MPI_INT, MPI_STATUS_IGNORE);   /* the last column */
    int bad = 0;
    for (int r = 0; r < ROWS; r++)
        bad += in[r] != val(left, r * wsize + wsize - 1) + 100 * (r * wsize + wsize - 1);
    CHECKF(bad == 0, "column sent, ints received: %d wrong", bad);
    int from[ROWS];
    for (int r = 0; r < ROWS; r++)
        from[r] = val(wrank, r) + 7;
    for (int i = 0; i < ROWS * wsize; i++)
        m2[i] = -1;
    shift(from, ROWS, MPI_INT, m2, 1, col_t, MPI_STATUS_IGNORE);   /* into column 0 */
    bad = 0;
    for (int i = 0; i < ROWS * wsize; i++)
        bad += m2[i] != (i % wsize == 0 ? val(left, i / wsize) + 7 : -1);
    CHECKF(bad == 0, "ints received into a column: %d wrong", bad);

    for (int root = 0; root < wsize; root++) {
        for (int i = 0; i < ROWS * wsize; i++) {
            m[i] = wrank == root ? 1000 * root + i : -1;
            m2[i] = -1;
        }
        for (int r = 0; r < ROWS; r++)
            col[r] = -1;
        CHECK(MPI_Scatter(m, 1, col_t, col, ROWS, MPI_INT, root, W) == MPI_SUCCESS);
        bad = 0;
        for (int r = 0; r < ROWS; r++)
            bad += col[r] != 1000 * root + r * wsize + wrank;
        CHECKF(bad == 0, "scatter of columns, root %d: %d wrong", root, bad);
        for (int r = 0; r < ROWS; r++)
            col[r] = col[r] * 2 + 1;
        CHECK(MPI_Gather(col, ROWS, MPI_INT, m2, 1, col_t, root, W) == MPI_SUCCESS);
        bad = 0;
        for (int i = 0; wrank == root && i < ROWS * wsize; i++)
            bad += m2[i] != (1000 * root + i) * 2 + 1;
        CHECKF(bad == 0, "gather of columns, root %d: %d wrong", root, bad);
    }
    /* every rank assembles the matrix from the columns */
    for (int r = 0; r < ROWS; r++)
        col[r] = wrank * 10 + r;
    MPI_Allgather(col, ROWS, MPI_INT, m2, 1, col_t, W);
    bad = 0;
    for (int i = 0; i < ROWS * wsize; i++)
        bad += m2[i] != (i % wsize) * 10 + i / wsize;
    CHECKF(bad == 0, "allgather of columns: %d wrong", bad);

    /* a struct array broadcast */
    MPI_Datatype rt = rec_type();
    struct rec recs[4];
    for (int root = 0; root < wsize; root++) {
        if (wrank == root)
            fill_rec(recs, 4, root);
        else
            memset(recs, 0, sizeof recs);
        MPI_Bcast(recs, 4, rt, root, W);
        CHECKF(bad_rec(recs, 4, root) == 0, "bcast of structs, root %d", root);
    }
    MPI_Type_free(&rt);
    MPI_Type_free(&col_t);
    free(m);
    free(m2);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    right = (wrank + 1) % wsize;
    left = (wrank + wsize - 1) % wsize;
    test_predefined();
    test_constructors();
    test_struct();
    test_pack();
    test_columns();
    return finish("datatypes");
}
