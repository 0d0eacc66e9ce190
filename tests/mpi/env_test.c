/* env_test.c -- the MPI environment: Initialized/Finalized before, during
 * and after; Init_thread (MPI_THREAD_FUNNELED asked), Query_thread,
 * Is_thread_main; Get_processor_name; Get_version, Get_library_version;
 * Wtime (monotonic, advancing across a 20 ms sleep) and Wtick; Alloc_mem and
 * Free_mem; MPI_COMM_WORLD and MPI_COMM_SELF sizes.
 *
 * Prints "ok <test>" lines and "mpi-test env_test: N passed, M failed";
 * the checks after MPI_Finalize are each rank's own (exit status 1). */
#define _POSIX_C_SOURCE 200809L
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

#define W MPI_COMM_WORLD

static int before_init, before_final, provided = -1;

static void test_init_state(void)
{
    int flag = -1;
    begin("initialized_finalized");
    CHECK(before_init == 0);                 /* MPI_Initialized before MPI_Init_thread */
    MPI_Initialized(&flag);
    CHECK(flag == 1);
    MPI_Finalized(&flag);
    CHECK(flag == 0);
    CHECK(before_final == 0);
    end();
}

static void test_threads(void)
{
    int q = -1, main_thread = 0;
    begin("thread_level");
    CHECK(MPI_THREAD_SINGLE < MPI_THREAD_FUNNELED && MPI_THREAD_FUNNELED < MPI_THREAD_SERIALIZED &&
          MPI_THREAD_SERIALIZED < MPI_THREAD_MULTIPLE);
    /* FUNNELED was asked: an implementation that supports it gives exactly
     * it (MPI-3.1 12.4.3); one that does not gives the highest it has */
    CHECKF(provided >= MPI_THREAD_SINGLE && provided <= MPI_THREAD_FUNNELED, "provided %d", provided);
    CHECK(MPI_Query_thread(&q) == MPI_SUCCESS);
    CHECK(q == provided);
    CHECK(MPI_Is_thread_main(&main_thread) == MPI_SUCCESS);
    CHECK(main_thread);
    end();
}

static void test_names_versions(void)
{
    char name[MPI_MAX_PROCESSOR_NAME + 1];
    char lib[MPI_MAX_LIBRARY_VERSION_STRING + 1];
    int len = -1, v = -1, sv = -1;
    begin("processor_name_and_versions");
    memset(name, 0x7f, sizeof name);
    CHECK(MPI_Get_processor_name(name, &len) == MPI_SUCCESS);
    CHECKF(len > 0 && len < MPI_MAX_PROCESSOR_NAME && len == (int)strnlen(name, sizeof name),
           "processor name length %d", len);
    CHECK(MPI_Get_version(&v, &sv) == MPI_SUCCESS);
    CHECKF(v > 3 || (v == 3 && sv >= 1), "version %d.%d", v, sv);
    CHECKF(v == MPI_VERSION && sv == MPI_SUBVERSION, "Get_version %d.%d, mpi.h %d.%d", v, sv,
           MPI_VERSION, MPI_SUBVERSION);
    memset(lib, 0x7f, sizeof lib);
    CHECK(MPI_Get_library_version(lib, &len) == MPI_SUCCESS);
    /* resultlen is "the length in printable characters" (MPI-3.1 8.1.1);
     * Open MPI 4.1 counts the terminating NUL as well, hence the +1 */
    int lib_len = (int)strnlen(lib, sizeof lib);
    CHECKF(lib_len > 0 && lib_len < MPI_MAX_LIBRARY_VERSION_STRING && (len == lib_len || len == lib_len + 1),
           "library version: resultlen %d, strlen %d", len, lib_len);
    if (wrank == 0) {
        printf("# processor %s; MPI %d.%d; thread level %d; library: %.*s\n", name, v, sv, provided,
               (int)strcspn(lib, "\n"), lib);
        fflush(stdout);
    }
    /* both are allowed before MPI_Init and after MPI_Finalize too (MPI-3.1 8.1.1) */
    end();
}

static void test_wtime(void)
{
    begin("wtime");
    double tick = MPI_Wtick();
    CHECKF(tick > 0 && tick < 0.01, "MPI_Wtick %g", tick);
    double prev = MPI_Wtime(), first = prev;
    int back = 0;
    for (int i = 0; i < 2000; i++) {
        double t = MPI_Wtime();
        back += t < prev;
        prev = t;
    }
    CHECKF(back == 0, "MPI_Wtime went back %d times", back);
    struct timespec d = {0, 20 * 1000 * 1000};
    double t0 = MPI_Wtime();
    nanosleep(&d, NULL);
    double t1 = MPI_Wtime();
    CHECKF(t1 - t0 >= 0.019 && t1 - t0 < 5.0, "a 20 ms sleep took %.6f s of MPI_Wtime", t1 - t0);
    CHECK(t0 >= first);
    end();
}

static void test_alloc_mem(void)
{
    begin("alloc_mem");
    for (int k = 0; k < 3; k++) {
        MPI_Aint size = (MPI_Aint)1 << (10 + 5 * k);   /* 1 KiB, 32 KiB, 1 MiB */
        unsigned char *p = NULL;
        CHECK(MPI_Alloc_mem(size, MPI_INFO_NULL, &p) == MPI_SUCCESS);
        CHECK(p != NULL);
        if (!p)
            continue;
        for (MPI_Aint i = 0; i < size; i++)
            p[i] = (unsigned char)(i * 13 + k);
        int bad = 0;
        for (MPI_Aint i = 0; i < size; i++)
            bad += p[i] != (unsigned char)(i * 13 + k);
        CHECK(bad == 0);
        /* usable as a communication buffer */
        int right = (wrank + 1) % wsize, left = (wrank + wsize - 1) % wsize;
        unsigned char *q;
        MPI_Alloc_mem(size, MPI_INFO_NULL, &q);
        MPI_Sendrecv(p, (int)size, MPI_BYTE, right, k, q, (int)size, MPI_BYTE, left, k, W, MPI_STATUS_IGNORE);
        CHECK(q[size - 1] == (unsigned char)((size - 1) * 13 + k));
        CHECK(MPI_Free_mem(p) == MPI_SUCCESS);
        CHECK(MPI_Free_mem(q) == MPI_SUCCESS);
    }
    end();
}

static void test_world(void)
{
    int s = -1, r = -1, n = 0;
    begin("world_and_self");
    MPI_Comm_size(MPI_COMM_SELF, &s);
    MPI_Comm_rank(MPI_COMM_SELF, &r);
    CHECK(s == 1 && r == 0);
    CHECK(wsize >= 1 && wrank >= 0 && wrank < wsize);
    int one = 1;
    MPI_Allreduce(&one, &n, 1, MPI_INT, MPI_SUM, W);
    CHECK(n == wsize);
    MPI_Errhandler eh;
    MPI_Comm_get_errhandler(W, &eh);
    CHECK(eh == MPI_ERRORS_ARE_FATAL);
    end();
}

int main(int argc, char **argv)
{
    int flag = -1;
    MPI_Initialized(&before_init);
    MPI_Finalized(&before_final);
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return 2;
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    test_init_state();
    test_threads();
    test_names_versions();
    test_wtime();
    test_alloc_mem();
    test_world();

    /* the summary comes after MPI_Finalize (not through finish()): the
     * checks after it are each rank's own; a rank that fails them exits 1 */
    (void)finish;
    MPI_Finalize();
    int init_after = -1;
    MPI_Finalized(&flag);
    MPI_Initialized(&init_after);
    int ok = flag == 1 && init_after == 1;
    if (ok)
        n_passed++;
    else
        n_failed++;
    if (wrank == 0) {
        printf("%s finalized%s\n", ok ? "ok" : "not ok", ok ? "" : " (MPI_Finalized or MPI_Initialized wrong)");
        printf("mpi-test env_test: %d passed, %d failed\n", n_passed, n_failed);
    } else if (!ok) {
        printf("FAIL finalized (rank %d): MPI_Finalized %d, MPI_Initialized %d\n", wrank, flag, init_after);
    }
    return n_failed ? 1 : 0;
}
