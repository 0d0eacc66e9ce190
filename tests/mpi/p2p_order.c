/* Message order and content across the eager/rendezvous switch and the
 * bus's slot sizes (MPI-3.1 3.5: messages from one sender on one
 * communicator do not overtake): every rank sends a sequence of sizes
 * from 0 bytes to 96 KiB to every rank, mixing Send, Isend, Ssend and
 * Rsend, and receives them with a named source, MPI_ANY_SOURCE and
 * MPI_ANY_TAG. Any eager limit (toro-run -x TORO_EAGER_LIMIT=N) must give
 * the same result. */
#include <stdlib.h>
#include <string.h>
#include "harness.h"

static const int sizes[] = {0, 1, 7, 100, 215, 216, 217, 256, 1000, 2047, 4096, 4097, 8192, 16384, 40000, 98304};
#define NSIZES ((int)(sizeof sizes / sizeof sizes[0]))

static unsigned char byte_at(int from, int to, int k, int i) { return (unsigned char)(from * 131 + to * 17 + k * 7 + i); }

static void fill(unsigned char *b, int from, int to, int k, int n)
{
    for (int i = 0; i < n; i++)
        b[i] = byte_at(from, to, k, i);
}

static int bad(const unsigned char *b, int from, int to, int k, int n)
{
    for (int i = 0; i < n; i++)
        if (b[i] != byte_at(from, to, k, i))
            return i + 1;
    return 0;
}

/* All sizes to every rank, received in order from each named source. */
static void test_named_sources(void)
{
    begin("named_sources");
    int max = sizes[NSIZES - 1];
    unsigned char **out = malloc(wsize * sizeof *out), *in = malloc(max);
    MPI_Request *reqs = malloc(wsize * NSIZES * sizeof *reqs);
    int nr = 0;
    for (int to = 0; to < wsize; to++) {
        out[to] = malloc((size_t)NSIZES * max);
        for (int k = 0; k < NSIZES; k++) {
            unsigned char *b = out[to] + (size_t)k * max;
            fill(b, wrank, to, k, sizes[k]);
            MPI_Isend(b, sizes[k], MPI_BYTE, to, 3, MPI_COMM_WORLD, &reqs[nr++]);
        }
    }
    for (int from = 0; from < wsize; from++) {
        for (int k = 0; k < NSIZES; k++) {
            MPI_Status st;
            int count = -1;
            MPI_Recv(in, max, MPI_BYTE, from, 3, MPI_COMM_WORLD, &st);
            MPI_Get_count(&st, MPI_BYTE, &count);
            CHECKF(count == sizes[k], "from %d message %d: %d bytes, want %d", from, k, count, sizes[k]);
            int b = count == sizes[k] ? bad(in, from, wrank, k, count) : 0;
            CHECKF(!b, "from %d message %d (%d bytes): byte %d wrong", from, k, count, b - 1);
        }
    }
    MPI_Waitall(nr, reqs, MPI_STATUSES_IGNORE);
    for (int to = 0; to < wsize; to++)
        free(out[to]);
    free(out), free(in), free(reqs);
    end();
}

/* Wildcards: per source, the k-th message that arrives is the k-th sent,
 * whatever the interleaving of sources; blocking modes mixed. */
static void test_wildcards(void)
{
    begin("wildcards");
    int max = sizes[NSIZES - 1];
    unsigned char *in = malloc(max), *out = malloc(max);
    int *next = calloc(wsize, sizeof *next);
    MPI_Request r;
    int peer_to = (wrank + 1) % wsize, peer_from = (wrank + wsize - 1) % wsize;
    /* ring: each rank receives only from its left, with wildcards */
    MPI_Irecv(in, max, MPI_BYTE, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &r);
    MPI_Barrier(MPI_COMM_WORLD);
    for (int k = 0; k < NSIZES; k++) {
        fill(out, wrank, peer_to, k, sizes[k]);
        if (k % 3 == 0)
            MPI_Ssend(out, sizes[k], MPI_BYTE, peer_to, 100 + k, MPI_COMM_WORLD);
        else if (k % 3 == 1 && k > 0)
            MPI_Rsend(out, sizes[k], MPI_BYTE, peer_to, 100 + k, MPI_COMM_WORLD);   /* a receive is posted */
        else
            MPI_Send(out, sizes[k], MPI_BYTE, peer_to, 100 + k, MPI_COMM_WORLD);
        MPI_Status st;
        int count;
        MPI_Wait(&r, &st);
        MPI_Get_count(&st, MPI_BYTE, &count);
        CHECKF(st.MPI_SOURCE == peer_from && st.MPI_TAG == 100 + k, "message %d: source %d tag %d", k,
               st.MPI_SOURCE, st.MPI_TAG);
        CHECKF(count == sizes[k] && !bad(in, peer_from, wrank, k, count), "message %d: %d bytes", k, count);
        if (k + 1 < NSIZES)
            MPI_Irecv(in, max, MPI_BYTE, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &r);
        MPI_Barrier(MPI_COMM_WORLD);   /* the next Rsend finds its receive posted */
    }
    free(in), free(out), free(next);
    end();
}

/* Every other rank sends every size to rank 0, which takes them all with
 * MPI_ANY_SOURCE and checks each source's messages came in order. */
static void test_any_source_order(void)
{
    begin("any_source_order");
    int max = sizes[NSIZES - 1];
    if (wrank == 0) {
        unsigned char *in = malloc(max);
        int *next = calloc(wsize, sizeof *next);
        for (int m = 0; m < (wsize - 1) * NSIZES; m++) {
            MPI_Status st;
            int count;
            MPI_Recv(in, max, MPI_BYTE, MPI_ANY_SOURCE, 9, MPI_COMM_WORLD, &st);
            MPI_Get_count(&st, MPI_BYTE, &count);
            int from = st.MPI_SOURCE, k = from >= 0 && from < wsize ? next[from]++ : -1;
            CHECKF(k >= 0 && k < NSIZES && count == sizes[k] && !bad(in, from, 0, k, count),
                   "from %d: message %d has %d bytes", from, k, count);
        }
        free(in), free(next);
    }
    unsigned char *out = malloc(max);
    for (int k = 0; k < NSIZES; k++) {
        fill(out, wrank, 0, k, sizes[k]);
        if (wrank != 0)
            MPI_Send(out, sizes[k], MPI_BYTE, 0, 9, MPI_COMM_WORLD);
    }
    if (wrank == 0) {   /* rank 0's own messages, after the others' */
        MPI_Request *rs = malloc(NSIZES * sizeof *rs);
        unsigned char *mine = malloc((size_t)NSIZES * max), *in = malloc(max);
        for (int k = 0; k < NSIZES; k++) {
            fill(mine + (size_t)k * max, 0, 0, k, sizes[k]);
            MPI_Isend(mine + (size_t)k * max, sizes[k], MPI_BYTE, 0, 10, MPI_COMM_WORLD, &rs[k]);
        }
        for (int k = 0; k < NSIZES; k++) {
            MPI_Status st;
            int count;
            MPI_Recv(in, max, MPI_BYTE, MPI_ANY_SOURCE, 10, MPI_COMM_WORLD, &st);
            MPI_Get_count(&st, MPI_BYTE, &count);
            CHECKF(count == sizes[k] && !bad(in, 0, 0, k, count), "self message %d: %d bytes", k, count);
        }
        MPI_Waitall(NSIZES, rs, MPI_STATUSES_IGNORE);
        free(rs), free(mine), free(in);
    }
    free(out);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    MPI_Comm_size(MPI_COMM_WORLD, &wsize);
    test_named_sources();
    test_wildcards();
    test_any_source_order();
    return finish("p2p_order");
}
