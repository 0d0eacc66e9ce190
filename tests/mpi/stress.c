/* stress.c -- seeded random traffic. In each round every rank sends a
 * random number of messages (0..40 to each rank, itself included) of random
 * sizes (0..70000 bytes of payload) and random tags with MPI_Isend; the
 * counts per pair are agreed first with MPI_Alltoall. Receivers take
 * whatever comes with MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG), size their
 * buffer from the probe and receive exactly that message. Every message
 * carries a header (source, tag, sequence number, length, checksum of the
 * payload); the receiver checks all of it, that each sender's messages come
 * in the order sent (non-overtaking: every message matches the wildcards),
 * the count from every source, and the totals across the job.
 *
 *   stress [SEED]      (default 12345)
 * Prints "ok <test>" lines and "mpi-test stress: N passed, M failed". */
#include <mpi.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD
#define ROUNDS 3
#define MAX_PER_PEER 40
#define MAX_PAYLOAD 70000

static uint64_t rng_state;

static uint64_t rng(void)   /* xorshift64* */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static uint32_t checksum(const unsigned char *p, size_t n)   /* FNV-1a */
{
    uint32_t h = 2166136261U;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619U;
    return h;
}

struct header {
    int32_t src, tag, seq, len;
    uint32_t sum;
};

struct msg {
    unsigned char *buf;
    int bytes;
};

static void round_of_traffic(int round, long long *sent_bytes, long long *recv_bytes,
                             long long *sent_msgs, long long *recv_msgs, uint32_t *sent_xor,
                             uint32_t *recv_xor)
{
    int *nsend = malloc(wsize * sizeof *nsend), *nrecv = malloc(wsize * sizeof *nrecv);
    int *next = calloc(wsize, sizeof *next), *got = calloc(wsize, sizeof *got);
    int total_send = 0, total_recv = 0, maxn = 0;
    for (int p = 0; p < wsize; p++) {
        nsend[p] = (int)(rng() % (MAX_PER_PEER + 1));
        total_send += nsend[p];
        if (nsend[p] > maxn)
            maxn = nsend[p];
    }
    CHECK(MPI_Alltoall(nsend, 1, MPI_INT, nrecv, 1, MPI_INT, W) == MPI_SUCCESS);
    for (int p = 0; p < wsize; p++)
        total_recv += nrecv[p];

    /* send: round robin over the destinations, sequence numbers per destination */
    struct msg *out = malloc((total_send + 1) * sizeof *out);
    MPI_Request *req = malloc((total_send + 1) * sizeof *req);
    int q = 0;
    for (int k = 0; k < maxn; k++)
        for (int p = 0; p < wsize; p++) {
            if (k >= nsend[p])
                continue;
            int len = (int)(rng() % 2 ? rng() % 257 : rng() % (MAX_PAYLOAD + 1));
            int tag = (int)(rng() % 1000);
            int bytes = (int)sizeof(struct header) + len;
            unsigned char *b = malloc(bytes);
            for (int i = 0; i < len; i += 8) {
                uint64_t r = rng();
                memcpy(b + sizeof(struct header) + i, &r, len - i < 8 ? (size_t)(len - i) : 8);
            }
            struct header h = {wrank, tag, k, len, checksum(b + sizeof(struct header), len)};
            memcpy(b, &h, sizeof h);
            out[q].buf = b;
            out[q].bytes = bytes;
            *sent_bytes += len;
            *sent_msgs += 1;
            *sent_xor ^= h.sum;
            CHECK(MPI_Isend(b, bytes, MPI_BYTE, p, tag, W, &req[q]) == MPI_SUCCESS);
            q++;
        }

    /* receive whatever comes */
    for (int m = 0; m < total_recv; m++) {
        MPI_Status st, rst;
        int bytes = -1;
        CHECK(MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, W, &st) == MPI_SUCCESS);
        MPI_Get_count(&st, MPI_BYTE, &bytes);
        int src = st.MPI_SOURCE;
        CHECKF(src >= 0 && src < wsize && bytes >= (int)sizeof(struct header) &&
                   bytes <= (int)sizeof(struct header) + MAX_PAYLOAD,
               "round %d: probed source %d, %d bytes", round, src, bytes);
        if (src < 0 || src >= wsize || bytes < (int)sizeof(struct header))
            break;
        unsigned char *b = malloc(bytes);
        CHECK(MPI_Recv(b, bytes, MPI_BYTE, src, st.MPI_TAG, W, &rst) == MPI_SUCCESS);
        int rbytes = -1;
        MPI_Get_count(&rst, MPI_BYTE, &rbytes);
        CHECKF(rbytes == bytes && rst.MPI_SOURCE == src && rst.MPI_TAG == st.MPI_TAG,
               "round %d: received %d bytes from %d tag %d after probing %d from %d tag %d", round,
               rbytes, rst.MPI_SOURCE, rst.MPI_TAG, bytes, src, st.MPI_TAG);
        struct header h;
        memcpy(&h, b, sizeof h);
        CHECKF(h.src == src && h.tag == st.MPI_TAG && h.len == bytes - (int)sizeof h,
               "round %d: header says source %d tag %d length %d; status says %d %d %d", round, h.src,
               h.tag, h.len, src, st.MPI_TAG, bytes - (int)sizeof h);
        CHECKF(h.seq == next[src], "round %d: from %d: message %d arrived when %d was next", round,
               src, h.seq, next[src]);
        next[src] = h.seq + 1;
        uint32_t sum = checksum(b + sizeof h, bytes - sizeof h);
        CHECKF(sum == h.sum, "round %d: from %d message %d (%d bytes): bad checksum", round, src,
               h.seq, h.len);
        got[src]++;
        *recv_bytes += bytes - (int)sizeof h;
        *recv_msgs += 1;
        *recv_xor ^= sum;
        free(b);
    }
    CHECK(MPI_Waitall(q, req, MPI_STATUSES_IGNORE) == MPI_SUCCESS);
    for (int p = 0; p < wsize; p++)
        CHECKF(got[p] == nrecv[p], "round %d: %d messages from %d, expected %d", round, got[p], p,
               nrecv[p]);
    int flag = 1;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, W, &flag, MPI_STATUS_IGNORE);
    CHECK(!flag);   /* nothing left over for this rank */
    for (int i = 0; i < q; i++)
        free(out[i].buf);
    free(out);
    free(req);
    free(nsend);
    free(nrecv);
    free(next);
    free(got);
    MPI_Barrier(W);   /* the next round's wildcards must not see this round */
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    unsigned long seed = argc > 1 ? strtoul(argv[1], NULL, 10) : 12345;
    rng_state = (seed + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(wrank + 1) * 0xD1B54A32D192ED03ULL;
    if (rng_state == 0)
        rng_state = 1;

    long long sb = 0, rb = 0, sm = 0, rm = 0;
    uint32_t sx = 0, rx = 0;
    begin("random_traffic");
    for (int round = 0; round < ROUNDS; round++)
        round_of_traffic(round, &sb, &rb, &sm, &rm, &sx, &rx);
    end();

    begin("totals");
    long long local[4] = {sb, rb, sm, rm}, all[4];
    uint32_t xs[2] = {sx, rx}, xall[2];
    MPI_Allreduce(local, all, 4, MPI_LONG_LONG, MPI_SUM, W);
    MPI_Allreduce(xs, xall, 2, MPI_UINT32_T, MPI_BXOR, W);
    CHECKF(all[0] == all[1] && all[2] == all[3], "sent %lld bytes in %lld messages, received %lld in %lld",
           all[0], all[2], all[1], all[3]);
    CHECK(xall[0] == xall[1]);
    if (wrank == 0)
        printf("# stress: seed %lu, %d ranks, %d rounds: %lld messages, %lld bytes of payload\n", seed,
               wsize, ROUNDS, all[2], all[0]);
    end();
    return finish("stress");
}
