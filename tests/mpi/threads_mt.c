/* MPI_THREAD_MULTIPLE (issue 15): several threads of each rank send and
 * receive at once, with distinct tags (order and contents per thread),
 * with MPI_ANY_SOURCE/MPI_ANY_TAG (every message arrives exactly once),
 * and with messages large enough for the rendezvous path; and blocking
 * collectives at once, each thread on its own communicator, crossing
 * point-to-point traffic of the other threads (Toro runs them through
 * shared memory and must let the other threads in while one waits).
 * Under Toro the threads share the rank's core(s) (toro-run
 * --threads-per-rank). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

#define NT 4        /* threads per rank */
#define K 200       /* messages per thread */
#define BIG 65536   /* bytes: past any eager limit */
#define NBIG 8

static MPI_Comm tag_comm, any_comm, big_comm, coll_comm[NT];
static int right, left;
static int thread_fails[NT];
static int got[NT][K];              /* wildcard test: message (sender thread, i) seen */
static int main_flag_in_thread = -1;

#define TCHECK(t, cond) do { if (!(cond)) thread_fails[t]++; } while (0)

static void *tagged(void *arg)
{
    int t = (int)(intptr_t)arg;
    for (int i = 0; i < K; i++) {
        int out[3] = {wrank, t, i}, in[3] = {-1, -1, -1};
        MPI_Request rq;
        MPI_Status st;
        TCHECK(t, MPI_Isend(out, 3, MPI_INT, right, t, tag_comm, &rq) == MPI_SUCCESS);
        TCHECK(t, MPI_Recv(in, 3, MPI_INT, left, t, tag_comm, &st) == MPI_SUCCESS);
        TCHECK(t, MPI_Wait(&rq, MPI_STATUS_IGNORE) == MPI_SUCCESS);
        TCHECK(t, in[0] == left && in[1] == t && in[2] == i);
        TCHECK(t, st.MPI_SOURCE == left && st.MPI_TAG == t);
    }
    if (t == 0)
        MPI_Is_thread_main(&main_flag_in_thread);
    return NULL;
}

static void *wildcard(void *arg)
{
    int t = (int)(intptr_t)arg;
    MPI_Request rq[K];
    for (int i = 0; i < K; i++) {
        static int outs[NT][K][2];
        outs[t][i][0] = t;
        outs[t][i][1] = i;
        TCHECK(t, MPI_Isend(outs[t][i], 2, MPI_INT, right, 100 + t, any_comm, &rq[i]) == MPI_SUCCESS);
    }
    for (int i = 0; i < K; i++) {
        int in[2] = {-1, -1};
        MPI_Status st;
        TCHECK(t, MPI_Recv(in, 2, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, any_comm, &st) == MPI_SUCCESS);
        int ok = in[0] >= 0 && in[0] < NT && in[1] >= 0 && in[1] < K;
        TCHECK(t, ok && st.MPI_SOURCE == left && st.MPI_TAG == 100 + in[0]);
        if (ok)
            __atomic_add_fetch(&got[in[0]][in[1]], 1, __ATOMIC_RELAXED);
    }
    TCHECK(t, MPI_Waitall(K, rq, MPI_STATUSES_IGNORE) == MPI_SUCCESS);
    return NULL;
}

static void *big(void *arg)
{
    int t = (int)(intptr_t)arg;
    unsigned char *out = malloc(BIG), *in = malloc(BIG);
    for (int i = 0; i < NBIG; i++) {
        for (int b = 0; b < BIG; b++)
            out[b] = (unsigned char)(wrank * 31 + t * 7 + i + b);
        memset(in, 0, BIG);
        TCHECK(t, MPI_Sendrecv(out, BIG, MPI_BYTE, right, t, in, BIG, MPI_BYTE, left, t, big_comm,
                               MPI_STATUS_IGNORE) == MPI_SUCCESS);
        int bad = 0;
        for (int b = 0; b < BIG; b++)
            bad += in[b] != (unsigned char)(left * 31 + t * 7 + i + b);
        TCHECK(t, bad == 0);
    }
    free(out);
    free(in);
    return NULL;
}

/* Even threads: collectives on their own communicator (small data and
 * past a slot's 2 KiB); odd threads: the tagged exchange meanwhile. */
#define NC 1000
static void *collectives(void *arg)
{
    int t = (int)(intptr_t)arg;
    if (t % 2)
        return tagged(arg);
    int *a = malloc(NC * sizeof *a), *b = malloc(NC * sizeof *b);
    MPI_Comm c = coll_comm[t];
    for (int i = 0; i < 60; i++) {
        int x = wrank + i, sum = -1, root = i % wsize, v = wrank == root ? i * 5 + t : -1;
        TCHECK(t, MPI_Allreduce(&x, &sum, 1, MPI_INT, MPI_SUM, c) == MPI_SUCCESS);
        TCHECK(t, sum == wsize * (wsize - 1) / 2 + wsize * i);
        TCHECK(t, MPI_Bcast(&v, 1, MPI_INT, root, c) == MPI_SUCCESS);
        TCHECK(t, v == i * 5 + t);
        for (int j = 0; j < NC; j++)
            a[j] = wrank * j + t;
        TCHECK(t, MPI_Allreduce(a, b, NC, MPI_INT, MPI_MAX, c) == MPI_SUCCESS);
        int bad = 0;
        for (int j = 0; j < NC; j++)
            bad += b[j] != (wsize - 1) * j + t;
        TCHECK(t, bad == 0);
        if (i % 10 == 0)
            TCHECK(t, MPI_Barrier(c) == MPI_SUCCESS);
    }
    free(a);
    free(b);
    return NULL;
}

static void run_threads(const char *name, void *(*fn)(void *))
{
    pthread_t th[NT];
    begin(name);
    memset(thread_fails, 0, sizeof thread_fails);
    int made = 0;
    for (int t = 0; t < NT; t++)
        made += pthread_create(&th[t], NULL, fn, (void *)(intptr_t)t) == 0;
    CHECKF(made == NT, "pthread_create made %d of %d threads", made, NT);
    for (int t = 0; t < made; t++)
        pthread_join(th[t], NULL);
    for (int t = 0; t < NT; t++)
        CHECKF(thread_fails[t] == 0, "thread %d: %d failed checks", t, thread_fails[t]);
}

int main(int argc, char **argv)
{
    int provided = -1, q = -1, is_main = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_MULTIPLE, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    MPI_Comm_size(MPI_COMM_WORLD, &wsize);
    right = (wrank + 1) % wsize;
    left = (wrank + wsize - 1) % wsize;
    MPI_Comm_dup(MPI_COMM_WORLD, &tag_comm);
    MPI_Comm_dup(MPI_COMM_WORLD, &any_comm);
    MPI_Comm_dup(MPI_COMM_WORLD, &big_comm);
    for (int t = 0; t < NT; t++)
        MPI_Comm_dup(MPI_COMM_WORLD, &coll_comm[t]);

    begin("init_thread_multiple");
    CHECKF(provided == MPI_THREAD_MULTIPLE, "provided %d", provided);
    CHECK(MPI_Query_thread(&q) == MPI_SUCCESS && q == provided);
    CHECK(MPI_Is_thread_main(&is_main) == MPI_SUCCESS && is_main);
    end();
    if (provided != MPI_THREAD_MULTIPLE)
        return finish("threads_mt");

    run_threads("threads_distinct_tags", tagged);
    CHECKF(main_flag_in_thread == 0, "MPI_Is_thread_main in a new thread gave %d", main_flag_in_thread);
    end();

    run_threads("threads_wildcards", wildcard);
    for (int t = 0; t < NT; t++)
        for (int i = 0; i < K; i++)
            CHECKF(got[t][i] == 1, "message %d of thread %d arrived %d times", i, t, got[t][i]);
    end();

    run_threads("threads_rendezvous", big);
    end();

    run_threads("threads_collectives", collectives);
    end();
    for (int t = 0; t < NT; t++)
        MPI_Comm_free(&coll_comm[t]);

    MPI_Comm_free(&tag_comm);
    MPI_Comm_free(&any_comm);
    MPI_Comm_free(&big_comm);
    return finish("threads_mt");
}
