/* rma_atomics.c -- one-sided synchronisation and atomicity (MPI-3.1
 * 11.5, 11.7): concurrent MPI_Accumulate from every rank to one element
 * (exact sum, every predefined op family, MPI_REPLACE), Get_accumulate
 * and MPI_NO_OP, Fetch_and_op tickets (each value handed out once), a
 * spin lock built from Compare_and_swap guarding a read-modify-write done
 * with Get and Put, PSCW with partial groups (a ring) and Win_test,
 * lock/unlock epochs (exclusive and shared) with flush, and the request
 * forms Rput, Rget, Raccumulate, Rget_accumulate; PSCW with one target
 * exposed to every other rank and on a window of a split communicator
 * (group ranks are not world ranks); swaps with Get_accumulate and
 * Fetch_and_op (MPI_REPLACE, MPI_NO_OP); accumulate into a strided
 * target.
 *
 * Prints "ok <test>" lines and "mpi-test rma_atomics: N passed, M failed". */
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD
#define REPS 300

static MPI_Win make_win(long **mem, int n)
{
    MPI_Win win;
    MPI_Win_allocate(n * sizeof(long), sizeof(long), MPI_INFO_NULL, W, mem, &win);
    for (int i = 0; i < n; i++)
        (*mem)[i] = 0;
    MPI_Barrier(W);
    return win;
}

static void test_concurrent_accumulate(void)
{
    long *mem;
    MPI_Win win = make_win(&mem, 8);
    begin("accumulate_from_all_ranks_to_one_element");
    if (wrank == 0) {
        mem[1] = 1;
        mem[2] = 1000;
        mem[3] = -1;
    }
    MPI_Barrier(W);
    long one = 1, me = wrank + 1, minus = -(wrank + 1), bit = 1L << wrank;
    MPI_Win_lock_all(0, win);
    for (int i = 0; i < REPS; i++)
        MPI_Accumulate(&one, 1, MPI_LONG, 0, 0, 1, MPI_LONG, MPI_SUM, win);
    MPI_Accumulate(&me, 1, MPI_LONG, 0, 1, 1, MPI_LONG, MPI_PROD, win);
    MPI_Accumulate(&minus, 1, MPI_LONG, 0, 2, 1, MPI_LONG, MPI_MIN, win);
    MPI_Accumulate(&me, 1, MPI_LONG, 0, 3, 1, MPI_LONG, MPI_MAX, win);
    MPI_Accumulate(&bit, 1, MPI_LONG, 0, 4, 1, MPI_LONG, MPI_BOR, win);
    MPI_Accumulate(&bit, 1, MPI_LONG, 0, 5, 1, MPI_LONG, MPI_BXOR, win);
    MPI_Accumulate(&me, 1, MPI_LONG, 0, 6, 1, MPI_LONG, MPI_REPLACE, win);
    MPI_Win_unlock_all(win);
    MPI_Barrier(W);
    if (wrank == 0) {
        long fact = 1;
        for (int i = 1; i <= wsize; i++)
            fact *= i;
        CHECKF(mem[0] == (long)wsize * REPS, "sum %ld, want %ld", mem[0], (long)wsize * REPS);
        CHECKF(mem[1] == fact, "prod %ld", mem[1]);
        CHECKF(mem[2] == -wsize, "min %ld", mem[2]);
        CHECKF(mem[3] == wsize, "max %ld", mem[3]);
        CHECKF(mem[4] == (1L << wsize) - 1 && mem[5] == (1L << wsize) - 1, "bor %lx bxor %lx", mem[4], mem[5]);
        CHECKF(mem[6] >= 1 && mem[6] <= wsize, "replace left %ld", mem[6]);
    }
    MPI_Win_free(&win);
    end();
}

static void test_get_accumulate_and_no_op(void)
{
    long *mem, old = -1, now = -1, add = 5;
    MPI_Win win = make_win(&mem, 2);
    begin("get_accumulate_and_no_op");
    int next = (wrank + 1) % wsize;
    MPI_Win_fence(0, win);
    MPI_Get_accumulate(&add, 1, MPI_LONG, &old, 1, MPI_LONG, next, 0, 1, MPI_LONG, MPI_SUM, win);
    MPI_Win_fence(0, win);
    CHECKF(old == 0 && mem[0] == 5, "old %ld, mine %ld", old, mem[0]);
    MPI_Get_accumulate(NULL, 0, MPI_LONG, &now, 1, MPI_LONG, next, 0, 1, MPI_LONG, MPI_NO_OP, win);
    MPI_Win_fence(0, win);
    CHECKF(now == 5 && mem[0] == 5, "no_op read %ld, mine %ld", now, mem[0]);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    MPI_Win_free(&win);
    end();
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static void test_fetch_and_op_tickets(void)
{
    long *mem, one = 1, mine[REPS], *all = malloc(sizeof(long) * REPS * wsize);
    MPI_Win win = make_win(&mem, 1);
    begin("fetch_and_op_tickets_are_unique");
    MPI_Win_lock_all(0, win);
    for (int i = 0; i < REPS; i++) {
        MPI_Fetch_and_op(&one, &mine[i], MPI_LONG, 0, 0, MPI_SUM, win);
        MPI_Win_flush(0, win);
    }
    MPI_Win_unlock_all(win);
    MPI_Allgather(mine, REPS, MPI_LONG, all, REPS, MPI_LONG, W);
    qsort(all, (size_t)REPS * wsize, sizeof *all, cmp_long);
    for (int i = 0; i < REPS * wsize; i++)
        CHECKF(all[i] == i, "ticket %d is %ld", i, all[i]);
    MPI_Win_free(&win);
    free(all);
    end();
}

/* A lock made of Compare_and_swap on mem[0] of rank 0, guarding mem[1],
 * which is incremented with a plain Get, +1, Put. */
static void test_cas_lock(void)
{
    long *mem, zero = 0, me = wrank + 1, got, v;
    MPI_Win win = make_win(&mem, 2);
    begin("compare_and_swap_lock_guards_get_put");
    MPI_Win_lock_all(0, win);
    for (int i = 0; i < REPS / 3; i++) {
        do {
            MPI_Compare_and_swap(&me, &zero, &got, MPI_LONG, 0, 0, win);
            MPI_Win_flush(0, win);
        } while (got != 0);
        MPI_Get(&v, 1, MPI_LONG, 0, 1, 1, MPI_LONG, win);
        MPI_Win_flush(0, win);
        v++;
        MPI_Put(&v, 1, MPI_LONG, 0, 1, 1, MPI_LONG, win);
        MPI_Win_flush(0, win);
        MPI_Compare_and_swap(&zero, &me, &got, MPI_LONG, 0, 0, win);
        MPI_Win_flush(0, win);
        CHECKF(got == me, "the lock was %ld while rank %d held it", got, wrank);
    }
    MPI_Win_unlock_all(win);
    MPI_Barrier(W);
    if (wrank == 0)
        CHECKF(mem[1] == (long)wsize * (REPS / 3), "count %ld, want %ld", mem[1], (long)wsize * (REPS / 3));
    MPI_Win_free(&win);
    end();
}

/* Rank r exposes its window to r - 1 only and accesses r + 1 only. */
static void test_pscw_ring(void)
{
    long *mem;
    MPI_Win win = make_win(&mem, 4);
    MPI_Group world, to, from;
    begin("pscw_partial_groups_ring_and_win_test");
    MPI_Comm_group(W, &world);
    int next = (wrank + 1) % wsize, prev = (wrank + wsize - 1) % wsize;
    MPI_Group_incl(world, 1, &next, &to);
    MPI_Group_incl(world, 1, &prev, &from);
    for (int round = 1; round <= 3; round++) {
        CHECK(MPI_Win_post(from, 0, win) == MPI_SUCCESS);
        CHECK(MPI_Win_start(to, 0, win) == MPI_SUCCESS);
        long v = wrank * 10 + round;
        MPI_Put(&v, 1, MPI_LONG, next, 0, 1, MPI_LONG, win);
        CHECK(MPI_Win_complete(win) == MPI_SUCCESS);
        int flag = 0;
        if (round == 2)
            while (!flag)
                CHECK(MPI_Win_test(win, &flag) == MPI_SUCCESS);
        else
            CHECK(MPI_Win_wait(win) == MPI_SUCCESS);
        CHECKF(mem[0] == prev * 10 + round, "round %d: %ld", round, mem[0]);
    }
    MPI_Group_free(&to);
    MPI_Group_free(&from);
    MPI_Group_free(&world);
    MPI_Win_free(&win);
    end();
}

static void test_lock_epochs(void)
{
    long *mem, v, back = -1;
    MPI_Win win = make_win(&mem, 64);
    begin("lock_unlock_exclusive_and_shared_with_flush");
    for (int t = 0; t < wsize; t++) {
        v = wrank * 1000 + t;
        CHECK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, t, 0, win) == MPI_SUCCESS);
        MPI_Put(&v, 1, MPI_LONG, t, wrank, 1, MPI_LONG, win);
        MPI_Win_flush(t, win);
        MPI_Get(&back, 1, MPI_LONG, t, wrank, 1, MPI_LONG, win);
        MPI_Win_flush_local(t, win);
        CHECKF(back == v, "read back %ld from rank %d", back, t);
        CHECK(MPI_Win_unlock(t, win) == MPI_SUCCESS);
    }
    MPI_Barrier(W);
    for (int r = 0; r < wsize; r++)
        CHECKF(mem[r] == r * 1000 + wrank, "slot %d: %ld", r, mem[r]);
    int prev = (wrank + wsize - 1) % wsize;
    CHECK(MPI_Win_lock(MPI_LOCK_SHARED, prev, 0, win) == MPI_SUCCESS);
    MPI_Get(&back, 1, MPI_LONG, prev, wrank, 1, MPI_LONG, win);
    CHECK(MPI_Win_unlock(prev, win) == MPI_SUCCESS);
    CHECKF(back == wrank * 1000 + prev, "shared read %ld", back);
    MPI_Barrier(W);
    MPI_Win_free(&win);
    end();
}

static void test_request_forms(void)
{
    long *mem, v = wrank + 100, got = -1, old = -1, add = 1, after = -1;
    MPI_Request req[4];
    MPI_Win win = make_win(&mem, 4);
    begin("rput_rget_raccumulate_rget_accumulate");
    int next = (wrank + 1) % wsize;
    MPI_Win_lock_all(0, win);
    CHECK(MPI_Rput(&v, 1, MPI_LONG, next, 0, 1, MPI_LONG, win, &req[0]) == MPI_SUCCESS);
    CHECK(MPI_Raccumulate(&add, 1, MPI_LONG, next, 1, 1, MPI_LONG, MPI_SUM, win, &req[1]) == MPI_SUCCESS);
    CHECK(MPI_Waitall(2, req, MPI_STATUSES_IGNORE) == MPI_SUCCESS);
    CHECK(req[0] == MPI_REQUEST_NULL && req[1] == MPI_REQUEST_NULL);
    MPI_Win_flush(next, win);
    MPI_Barrier(W);
    CHECK(MPI_Rget(&got, 1, MPI_LONG, next, 0, 1, MPI_LONG, win, &req[2]) == MPI_SUCCESS);
    CHECK(MPI_Rget_accumulate(&add, 1, MPI_LONG, &old, 1, MPI_LONG, wrank, 1, 1, MPI_LONG, MPI_SUM, win,
                              &req[3]) == MPI_SUCCESS);
    MPI_Wait(&req[2], MPI_STATUS_IGNORE);
    int flag = 0;
    while (!flag)
        MPI_Test(&req[3], &flag, MPI_STATUS_IGNORE);
    MPI_Win_flush_all(win);
    MPI_Get(&after, 1, MPI_LONG, wrank, 1, 1, MPI_LONG, win);
    MPI_Win_flush_local_all(win);
    MPI_Win_unlock_all(win);
    CHECKF(got == wrank + 100, "rget %ld", got);
    CHECKF(old == 1 && after == 2, "rget_accumulate old %ld, after %ld", old, after);
    MPI_Win_free(&win);
    end();
}

/* Rank 0 exposes to all others at once; each writes its own slot. */
static void test_pscw_star(void)
{
    long *mem;
    MPI_Win win = make_win(&mem, 64);
    MPI_Group world, others, root;
    begin("pscw_one_target_many_origins");
    MPI_Comm_group(W, &world);
    int zero = 0;
    MPI_Group_excl(world, 1, &zero, &others);
    MPI_Group_incl(world, 1, &zero, &root);
    if (wrank == 0) {
        CHECK(MPI_Win_post(others, MPI_MODE_NOSTORE, win) == MPI_SUCCESS);
        CHECK(MPI_Win_wait(win) == MPI_SUCCESS);
        for (int r = 1; r < wsize; r++)
            CHECKF(mem[r] == r * 7, "slot %d: %ld", r, mem[r]);
    } else {
        long v = wrank * 7;
        CHECK(MPI_Win_start(root, 0, win) == MPI_SUCCESS);
        MPI_Put(&v, 1, MPI_LONG, 0, wrank, 1, MPI_LONG, win);
        CHECK(MPI_Win_complete(win) == MPI_SUCCESS);
    }
    MPI_Group_free(&others);
    MPI_Group_free(&root);
    MPI_Group_free(&world);
    MPI_Win_free(&win);
    end();
}

/* A window on the odd or even half of the world: its ranks and group
 * ranks are not world ranks. */
static void test_pscw_split(void)
{
    MPI_Comm half;
    MPI_Group g, to, from;
    long *mem;
    MPI_Win win;
    begin("pscw_on_a_split_communicator");
    MPI_Comm_split(W, wrank % 2, -wrank, &half);       /* reversed order */
    int r, n;
    MPI_Comm_rank(half, &r);
    MPI_Comm_size(half, &n);
    MPI_Win_allocate(4 * sizeof(long), sizeof(long), MPI_INFO_NULL, half, &mem, &win);
    mem[0] = -1;
    MPI_Barrier(half);
    MPI_Comm_group(half, &g);
    int next = (r + 1) % n, prev = (r + n - 1) % n;
    MPI_Group_incl(g, 1, &next, &to);
    MPI_Group_incl(g, 1, &prev, &from);
    MPI_Win_post(from, 0, win);
    MPI_Win_start(to, 0, win);
    long v = wrank;
    MPI_Put(&v, 1, MPI_LONG, next, 0, 1, MPI_LONG, win);
    MPI_Win_complete(win);
    MPI_Win_wait(win);
    int wprev;
    MPI_Group wg;
    MPI_Comm_group(W, &wg);
    MPI_Group_translate_ranks(g, 1, &prev, wg, &wprev);
    CHECKF(mem[0] == wprev, "got %ld from half-rank %d (world %d)", mem[0], prev, wprev);
    MPI_Group_free(&wg);
    MPI_Group_free(&to);
    MPI_Group_free(&from);
    MPI_Group_free(&g);
    MPI_Win_free(&win);
    MPI_Comm_free(&half);
    end();
}

static void test_swaps(void)
{
    long *mem, old = -1, mine = wrank + 1, peek = -1, z = 0;
    MPI_Win win = make_win(&mem, 1);
    begin("swap_with_replace_and_peek_with_no_op");
    MPI_Win_lock_all(0, win);
    MPI_Fetch_and_op(&mine, &old, MPI_LONG, 0, 0, MPI_REPLACE, win);   /* an atomic swap */
    MPI_Win_flush(0, win);
    MPI_Win_unlock_all(win);
    long *olds = malloc(sizeof(long) * wsize);
    MPI_Allgather(&old, 1, MPI_LONG, olds, 1, MPI_LONG, W);
    MPI_Win_lock_all(0, win);
    MPI_Fetch_and_op(&z, &peek, MPI_LONG, 0, 0, MPI_NO_OP, win);
    MPI_Win_unlock_all(win);
    /* the swaps form one chain: 0 and every value but the last one swapped in appear once */
    long seen = 0;
    for (int i = 0; i < wsize; i++)
        seen += olds[i];
    CHECKF(seen + peek == (long)wsize * (wsize + 1) / 2, "olds sum %ld, last %ld", seen, peek);
    CHECK(peek >= 1 && peek <= wsize);
    free(olds);
    MPI_Win_free(&win);
    end();
}

/* MPI_SUM of 4 contiguous ints into every other int of the target. */
static void test_strided_accumulate(void)
{
    long *mem;
    MPI_Win win = make_win(&mem, 8);
    MPI_Datatype every_other;
    begin("accumulate_into_a_strided_target");
    MPI_Type_vector(4, 1, 2, MPI_LONG, &every_other);
    MPI_Type_commit(&every_other);
    long add[4] = {1, 2, 3, 4};
    MPI_Win_fence(0, win);
    MPI_Accumulate(add, 4, MPI_LONG, 0, 0, 1, every_other, MPI_SUM, win);
    MPI_Win_fence(0, win);
    if (wrank == 0)
        for (int i = 0; i < 8; i++)
            CHECKF(mem[i] == (i % 2 ? 0 : (long)wsize * (i / 2 + 1)), "mem[%d] = %ld", i, mem[i]);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    MPI_Type_free(&every_other);
    MPI_Win_free(&win);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    test_concurrent_accumulate();
    test_get_accumulate_and_no_op();
    test_fetch_and_op_tickets();
    test_cas_lock();
    test_pscw_ring();
    test_lock_epochs();
    test_request_forms();
    test_pscw_star();
    test_pscw_split();
    test_swaps();
    test_strided_accumulate();
    return finish("rma_atomics");
}
