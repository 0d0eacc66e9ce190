/* The test harness every tests/mpi program shares: begin()/end() around
 * each test, CHECK/CHECKF inside, finish() at the end. Every rank agrees on
 * each result (an Allreduce of the failure counts); rank 0 prints `ok NAME`
 * and the summary line `mpi-test PROG: N passed, M failed`. */
#pragma once
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>

static int wrank, wsize;           /* rank and size in MPI_COMM_WORLD */
static int fails_here;             /* failed checks of the current test on this rank */
static int n_passed, n_failed;     /* tests; every rank agrees (Allreduce) */
static const char *test_name = "?";

static inline void failf(int line, const char *fmt, ...)
{
    va_list ap;
    if (fails_here++ >= 8)         /* the first few are enough to diagnose */
        return;
    printf("FAIL %s (rank %d, line %d): ", test_name, wrank, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}
#define CHECK(cond) do { if (!(cond)) failf(__LINE__, "%s", #cond); } while (0)
#define CHECKF(cond, ...) do { if (!(cond)) failf(__LINE__, __VA_ARGS__); } while (0)

static inline void begin(const char *name)
{
    test_name = name;
    fails_here = 0;
}

/* Ends the current test: all ranks agree on its result; rank 0 prints it. */
static inline void end(void)
{
    int total = 0;
    MPI_Allreduce(&fails_here, &total, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (total == 0)
        n_passed++;
    else
        n_failed++;
    if (wrank == 0) {
        if (total == 0)
            printf("ok %s\n", test_name);
        else
            printf("not ok %s (%d failed checks)\n", test_name, total);
        fflush(stdout);
    }
}

static inline int finish(const char *prog)
{
    if (wrank == 0) {
        printf("mpi-test %s: %d passed, %d failed\n", prog, n_passed, n_failed);
        fflush(stdout);
    }
    MPI_Finalize();
    return n_failed ? 1 : 0;
}
