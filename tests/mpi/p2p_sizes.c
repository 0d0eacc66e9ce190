/* p2p_sizes.c -- message sizes 0 B to 8 MiB with their content checked
 * byte for byte (a pattern that depends on sender, receiver, size and
 * position), in both directions between every pair of ranks and from a rank
 * to itself, with blocking and nonblocking calls; then truncation under
 * MPI_ERRORS_RETURN: the error class, where the standard says the status's
 * MPI_ERROR field is set (only by the calls that complete several requests),
 * and that nothing past the receive buffer is written.
 *
 * Prints "ok <test>" lines and "mpi-test p2p_sizes: N passed, M failed". */
#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD
#define BIG (8 << 20)
static const int sizes[] = {0, 1, 7, 8, 1000, 4095, 4096, 4097, 65536, (1 << 20) + 3, BIG};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))
static unsigned char *sbuf, *rbuf;  /* BIG + 1 bytes each */

static uint32_t mix(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static uint32_t seed_of(int n, int src, int dst)
{
    return mix((uint32_t)n * 2654435761U ^ (uint32_t)(src * 64 + dst + 1) * 40503U);
}

/* The message from src to dst of n bytes: 32-bit words of a hash. */
static void fill(unsigned char *b, int n, int src, int dst)
{
    uint32_t seed = seed_of(n, src, dst);
    for (int i = 0; i < n; i += 4) {
        uint32_t w = mix(seed + (uint32_t)(i >> 2));
        memcpy(b + i, &w, n - i < 4 ? (size_t)(n - i) : 4);
    }
}

/* Index of the first wrong byte, or -1. */
static int first_bad(const unsigned char *b, int n, int src, int dst)
{
    uint32_t seed = seed_of(n, src, dst);
    for (int i = 0; i < n; i += 4) {
        uint32_t w = mix(seed + (uint32_t)(i >> 2));
        size_t k = n - i < 4 ? (size_t)(n - i) : 4;
        if (memcmp(b + i, &w, k) != 0)
            for (size_t j = 0; j < k; j++)
                if (b[i + j] != ((unsigned char *)&w)[j])
                    return i + (int)j;
    }
    return -1;
}

static void check_message(const unsigned char *b, int n, int src, const MPI_Status *st, int tag)
{
    int bad = first_bad(b, n, src, wrank), count = -1;
    CHECKF(bad < 0, "%d bytes from %d: first wrong byte at %d", n, src, bad);
    CHECKF(b[n] == 0xEE, "%d bytes from %d: byte after the message overwritten", n, src);
    MPI_Get_count(st, MPI_BYTE, &count);
    CHECKF(count == n && st->MPI_SOURCE == src && st->MPI_TAG == tag,
           "status: count %d source %d tag %d, expected %d %d %d", count, st->MPI_SOURCE,
           st->MPI_TAG, n, src, tag);
}

static void clear_rbuf(int n)
{
    memset(rbuf, 0xEE, (size_t)n + 1);
}

/* Blocking Send/Recv of n bytes both ways between a and b (a < b): a sends
 * first, b receives first; at one rank, a receive posted before a blocking
 * send to itself. */
static void blocking_pair(int n, int a, int b, int tag)
{
    MPI_Status st;
    if (a == b) {
        MPI_Request r;
        fill(sbuf, n, a, a);
        clear_rbuf(n);
        MPI_Irecv(rbuf, n, MPI_BYTE, a, tag, W, &r);
        MPI_Send(sbuf, n, MPI_BYTE, a, tag, W);
        MPI_Wait(&r, &st);
        check_message(rbuf, n, a, &st, tag);
        return;
    }
    int peer = wrank == a ? b : a;
    fill(sbuf, n, wrank, peer);
    clear_rbuf(n);
    if (wrank == a) {
        MPI_Send(sbuf, n, MPI_BYTE, peer, tag, W);
        MPI_Recv(rbuf, n, MPI_BYTE, peer, tag, W, &st);
    } else {
        MPI_Recv(rbuf, n, MPI_BYTE, peer, tag, W, &st);
        MPI_Send(sbuf, n, MPI_BYTE, peer, tag, W);
    }
    check_message(rbuf, n, peer, &st, tag);
}

static void test_blocking(void)
{
    begin("sizes_blocking_all_pairs");
    for (int k = 0; k < NSIZES; k++) {
        int n = sizes[k];
        if (wsize == 1) {
            blocking_pair(n, 0, 0, k);
        } else if (n == BIG) {         /* the biggest between the first and last ranks only */
            if (wrank == 0 || wrank == wsize - 1)
                blocking_pair(n, 0, wsize - 1, k);
        } else {
            /* every pair, in one order that all ranks follow: deadlock-free */
            for (int a = 0; a < wsize; a++)
                for (int b = a + 1; b < wsize; b++)
                    if (wrank == a || wrank == b)
                        blocking_pair(n, a, b, k);
        }
    }
    end();
}

/* Nonblocking: shift by d (d = 0: to itself) for every d. */
static void test_nonblocking(void)
{
    begin("sizes_nonblocking_all_shifts");
    for (int k = 0; k < NSIZES; k++) {
        int n = sizes[k];
        for (int d = 0; d < wsize; d++) {
            if (n == BIG && d != (wsize > 1))
                continue;              /* the biggest once: to the right neighbour */
            int dst = (wrank + d) % wsize, src = (wrank - d + wsize) % wsize;
            MPI_Request r[2];
            MPI_Status st[2];
            fill(sbuf, n, wrank, dst);
            clear_rbuf(n);
            MPI_Irecv(rbuf, n, MPI_BYTE, src, 100 + k, W, &r[0]);
            MPI_Isend(sbuf, n, MPI_BYTE, dst, 100 + k, W, &r[1]);
            CHECK(MPI_Waitall(2, r, st) == MPI_SUCCESS);
            check_message(rbuf, n, src, &st[0], 100 + k);
        }
    }
    end();
}

/* Every size but the biggest, to and from every rank, all outstanding at once. */
static void test_all_at_once(void)
{
    int nreq = 2 * wsize * (NSIZES - 1);
    MPI_Request *r = malloc(nreq * sizeof *r);
    MPI_Status *st = malloc(nreq * sizeof *st);
    unsigned char **in = malloc(wsize * (NSIZES - 1) * sizeof *in);
    unsigned char **out = malloc(wsize * (NSIZES - 1) * sizeof *out);
    int q = 0;
    begin("sizes_all_outstanding");
    for (int p = 0; p < wsize; p++)
        for (int k = 0; k < NSIZES - 1; k++) {
            in[p * (NSIZES - 1) + k] = malloc(sizes[k] + 1);
            memset(in[p * (NSIZES - 1) + k], 0xEE, sizes[k] + 1);
            MPI_Irecv(in[p * (NSIZES - 1) + k], sizes[k], MPI_BYTE, p, 200 + k, W, &r[q++]);
        }
    for (int p = wsize - 1; p >= 0; p--)
        for (int k = NSIZES - 2; k >= 0; k--) {
            unsigned char *b = out[p * (NSIZES - 1) + k] = malloc(sizes[k] + 1);
            fill(b, sizes[k], wrank, p);
            MPI_Isend(b, sizes[k], MPI_BYTE, p, 200 + k, W, &r[q++]);
        }
    CHECK(MPI_Waitall(q, r, st) == MPI_SUCCESS);
    for (int p = 0; p < wsize; p++)
        for (int k = 0; k < NSIZES - 1; k++)
            check_message(in[p * (NSIZES - 1) + k], sizes[k], p, &st[p * (NSIZES - 1) + k], 200 + k);
    for (int i = 0; i < wsize * (NSIZES - 1); i++) {
        free(in[i]);
        free(out[i]);
    }
    free(in);
    free(out);
    free(r);
    free(st);
    end();
}

#define SENTINEL (-424242)

static int eclass(int code)
{
    int c = -1;
    MPI_Error_class(code, &c);
    return c;
}

static void test_truncation(void)
{
    MPI_Comm c;
    int right = (wrank + 1) % wsize, left = (wrank + wsize - 1) % wsize;
    unsigned char out[100], in[200];
    MPI_Request sr, rr, r2[2];
    MPI_Status st, sts[2];
    int rc;
    begin("truncation");
    MPI_Comm_dup(W, &c);
    MPI_Comm_set_errhandler(c, MPI_ERRORS_RETURN);
    fill(out, 100, wrank, right);

    /* MPI_Recv: returns the error; a single-completion call leaves
     * status.MPI_ERROR alone (MPI-3.1 section 3.2.5) */
    memset(in, 0xEE, sizeof in);
    MPI_Isend(out, 100, MPI_BYTE, right, 1, c, &sr);
    st.MPI_ERROR = SENTINEL;
    rc = MPI_Recv(in, 50, MPI_BYTE, left, 1, c, &st);
    CHECKF(eclass(rc) == MPI_ERR_TRUNCATE, "MPI_Recv returned class %d", eclass(rc));
    CHECK(in[50] == 0xEE && in[199] == 0xEE);
    CHECKF(st.MPI_ERROR == SENTINEL, "MPI_Recv set status.MPI_ERROR to %d", st.MPI_ERROR);
    CHECK(MPI_Wait(&sr, MPI_STATUS_IGNORE) == MPI_SUCCESS);  /* the sender sees no error */

    /* MPI_Irecv + MPI_Wait: the same. With several ranks the receive is
     * surely posted before the message arrives (the barrier); alone, the
     * message comes first (Open MPI 4.1's "self" transport reports no
     * truncation for a receive posted before a send to itself) */
    memset(in, 0xEE, sizeof in);
    if (wsize == 1)
        MPI_Isend(out, 100, MPI_BYTE, right, 2, c, &sr);
    MPI_Irecv(in, 50, MPI_BYTE, left, 2, c, &rr);
    MPI_Barrier(c);
    if (wsize > 1)
        MPI_Isend(out, 100, MPI_BYTE, right, 2, c, &sr);
    st.MPI_ERROR = SENTINEL;
    rc = MPI_Wait(&rr, &st);
    CHECKF(eclass(rc) == MPI_ERR_TRUNCATE, "MPI_Wait returned class %d", eclass(rc));
    CHECK(rr == MPI_REQUEST_NULL);
    CHECK(in[50] == 0xEE);
    CHECKF(st.MPI_ERROR == SENTINEL, "MPI_Wait set status.MPI_ERROR to %d", st.MPI_ERROR);
    CHECK(MPI_Wait(&sr, MPI_STATUS_IGNORE) == MPI_SUCCESS);

    /* MPI_Waitall: MPI_ERR_IN_STATUS, and each status says which failed */
    memset(in, 0xEE, sizeof in);
    MPI_Request s2[2];
    MPI_Isend(out, 100, MPI_BYTE, right, 3, c, &s2[0]);
    MPI_Isend(out, 100, MPI_BYTE, right, 4, c, &s2[1]);
    MPI_Irecv(in, 50, MPI_BYTE, left, 3, c, &r2[0]);
    MPI_Irecv(in + 100, 100, MPI_BYTE, left, 4, c, &r2[1]);
    sts[0].MPI_ERROR = sts[1].MPI_ERROR = SENTINEL;
    rc = MPI_Waitall(2, r2, sts);
    CHECKF(eclass(rc) == MPI_ERR_IN_STATUS, "MPI_Waitall returned class %d", eclass(rc));
    CHECKF(eclass(sts[0].MPI_ERROR) == MPI_ERR_TRUNCATE, "status[0].MPI_ERROR class %d",
           eclass(sts[0].MPI_ERROR));
    CHECKF(sts[1].MPI_ERROR == MPI_SUCCESS, "status[1].MPI_ERROR %d", sts[1].MPI_ERROR);
    CHECK(first_bad(in + 100, 100, left, wrank) < 0);
    CHECK(in[50] == 0xEE);
    CHECK(MPI_Waitall(2, s2, MPI_STATUSES_IGNORE) == MPI_SUCCESS);

    /* a large message (past any eager limit) into half its size */
    fill(sbuf, 1 << 20, wrank, right);
    memset(rbuf, 0xEE, (1 << 20) + 1);
    MPI_Isend(sbuf, 1 << 20, MPI_BYTE, right, 5, c, &sr);
    MPI_Irecv(rbuf, 1 << 19, MPI_BYTE, left, 5, c, &rr);
    rc = MPI_Wait(&rr, MPI_STATUS_IGNORE);
    CHECKF(eclass(rc) == MPI_ERR_TRUNCATE, "MPI_Wait (1 MiB) returned class %d", eclass(rc));
    /* nothing past the receive buffer is written (Open MPI 4.1 writes the
     * whole message there through its "self" transport, and through
     * vader's CMA single copy, which the tests turn off) */
    if (wsize > 1)
        CHECK(rbuf[1 << 19] == 0xEE && rbuf[1 << 20] == 0xEE);
    CHECK(MPI_Wait(&sr, MPI_STATUS_IGNORE) == MPI_SUCCESS);

    /* and the communicator still works */
    memset(in, 0xEE, sizeof in);
    MPI_Isend(out, 100, MPI_BYTE, right, 6, c, &sr);
    CHECK(MPI_Recv(in, 100, MPI_BYTE, left, 6, c, &st) == MPI_SUCCESS);
    CHECK(first_bad(in, 100, left, wrank) < 0);
    MPI_Wait(&sr, MPI_STATUS_IGNORE);
    MPI_Comm_free(&c);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    sbuf = malloc(BIG + 1);
    rbuf = malloc(BIG + 1);
    if (!sbuf || !rbuf) {
        printf("p2p_sizes: out of memory\n");
        MPI_Abort(W, 1);
    }
    test_blocking();
    test_nonblocking();
    test_all_at_once();
    test_truncation();
    free(sbuf);
    free(rbuf);
    return finish("p2p_sizes");
}
