/* comm_create_group.c -- MPI_Comm_create_group (MPI-3.1 6.4.2): only the
 * members of the group call it. The even and the odd world ranks make
 * their communicators at the same time (different tags); a group in
 * reverse order gives reversed ranks; MPI_GROUP_EMPTY gives
 * MPI_COMM_NULL; traffic on a new communicator never matches traffic of
 * MPI_COMM_WORLD with the same source and tag.
 *
 * Prints "ok <test>" lines and "mpi-test comm_create_group: N passed, M failed". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

#define W MPI_COMM_WORLD

static void test_parity(void)
{
    MPI_Group wg, g;
    MPI_Comm c = MPI_COMM_NULL;
    int n = 0, ranks[64], parity = wrank % 2;
    begin("create_group_even_and_odd_at_once");
    MPI_Comm_group(W, &wg);
    for (int r = parity; r < wsize; r += 2)
        ranks[n++] = r;
    MPI_Group_incl(wg, n, ranks, &g);
    CHECK(MPI_Comm_create_group(W, g, 10 + parity, &c) == MPI_SUCCESS);
    CHECK(c != MPI_COMM_NULL);
    if (c != MPI_COMM_NULL) {
        int r = -1, s = -1, sum = -1;
        MPI_Comm_rank(c, &r);
        MPI_Comm_size(c, &s);
        CHECKF(r == wrank / 2 && s == n, "rank %d size %d", r, s);
        MPI_Allreduce(&wrank, &sum, 1, MPI_INT, MPI_SUM, c);
        int want = 0;
        for (int i = 0; i < n; i++)
            want += ranks[i];
        CHECKF(sum == want, "sum %d, want %d", sum, want);
        MPI_Comm_free(&c);
    }
    MPI_Group_free(&g);
    MPI_Group_free(&wg);
    end();
}

static void test_reversed_and_isolated(void)
{
    MPI_Group wg, g;
    MPI_Comm c = MPI_COMM_NULL;
    int ranks[64];
    begin("create_group_reversed_isolated");
    MPI_Comm_group(W, &wg);
    for (int i = 0; i < wsize; i++)
        ranks[i] = wsize - 1 - i;
    MPI_Group_incl(wg, wsize, ranks, &g);
    CHECK(MPI_Comm_create_group(W, g, 0, &c) == MPI_SUCCESS);
    int r = -1;
    MPI_Comm_rank(c, &r);
    CHECKF(r == wsize - 1 - wrank, "rank %d", r);
    /* world rank w sends to w+1 on both W and c (same tag); c's rank of
     * world rank w+1 is wsize-2-w. */
    int to = (wrank + 1) % wsize, from = (wrank - 1 + wsize) % wsize;
    int a = 100 + wrank, b = 200 + wrank, ga = -1, gb = -1;
    MPI_Request q[2];
    MPI_Isend(&a, 1, MPI_INT, to, 3, W, &q[0]);
    MPI_Isend(&b, 1, MPI_INT, wsize - 1 - to, 3, c, &q[1]);
    MPI_Recv(&gb, 1, MPI_INT, wsize - 1 - from, 3, c, MPI_STATUS_IGNORE);
    MPI_Recv(&ga, 1, MPI_INT, from, 3, W, MPI_STATUS_IGNORE);
    MPI_Waitall(2, q, MPI_STATUSES_IGNORE);
    CHECKF(ga == 100 + from && gb == 200 + from, "got %d and %d from %d", ga, gb, from);
    MPI_Comm_free(&c);
    MPI_Group_free(&g);
    MPI_Group_free(&wg);
    end();
}

static void test_empty_and_single(void)
{
    MPI_Comm c = MPI_COMM_WORLD;
    begin("create_group_empty_and_self");
    CHECK(MPI_Comm_create_group(W, MPI_GROUP_EMPTY, 1, &c) == MPI_SUCCESS);
    CHECK(c == MPI_COMM_NULL);
    /* a group of one: this rank alone, no one else takes part */
    MPI_Group wg, g;
    MPI_Comm_group(W, &wg);
    MPI_Group_incl(wg, 1, &wrank, &g);
    CHECK(MPI_Comm_create_group(W, g, 2, &c) == MPI_SUCCESS);
    int s = -1;
    MPI_Comm_size(c, &s);
    CHECK(s == 1);
    MPI_Comm_free(&c);
    MPI_Group_free(&g);
    MPI_Group_free(&wg);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    test_parity();
    test_reversed_and_isolated();
    test_empty_and_single();
    return finish("comm_create_group");
}
