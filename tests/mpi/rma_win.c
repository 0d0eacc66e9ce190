/* rma_win.c -- one-sided windows and data movement (MPI-3.1 chapter 11):
 * Win_create / Win_allocate / Win_allocate_shared (contiguous and
 * alloc_shared_noncontig, Win_shared_query, direct loads and stores) /
 * Win_create_dynamic with attach and detach; Put and Get under fences,
 * with derived datatypes on either side; the predefined attributes, user
 * attributes, names, info, group and error handlers; the error classes
 * MPI_ERR_RMA_RANGE, MPI_ERR_RMA_SYNC, MPI_ERR_RANK, MPI_ERR_WIN,
 * MPI_ERR_LOCKTYPE, MPI_ERR_OP.
 *
 * Prints "ok <test>" lines and "mpi-test rma_win: N passed, M failed". */
#include <mpi.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD
#define N 16

static void test_create_fence_put_get(void)
{
    int buf[N], got[N];
    MPI_Win win;
    begin("win_create_fence_put_get");
    for (int i = 0; i < N; i++)
        buf[i] = -1;
    CHECK(MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, W, &win) == MPI_SUCCESS);
    MPI_Win_fence(MPI_MODE_NOPRECEDE, win);
    for (int t = 0; t < wsize; t++) {           /* rank r writes slot r of everybody */
        int v = wrank * 100 + t;
        CHECK(MPI_Put(&v, 1, MPI_INT, t, wrank, 1, MPI_INT, win) == MPI_SUCCESS);
    }
    MPI_Win_fence(0, win);
    for (int r = 0; r < wsize; r++)
        CHECKF(buf[r] == r * 100 + wrank, "slot %d is %d", r, buf[r]);
    for (int i = wsize; i < N; i++)
        CHECK(buf[i] == -1);
    int next = (wrank + 1) % wsize;
    CHECK(MPI_Get(got, wsize, MPI_INT, next, 0, wsize, MPI_INT, win) == MPI_SUCCESS);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    for (int r = 0; r < wsize; r++)
        CHECKF(got[r] == r * 100 + next, "got[%d] = %d", r, got[r]);
    CHECK(MPI_Win_free(&win) == MPI_SUCCESS && win == MPI_WIN_NULL);
    end();
}

static int deleted;
static int count_delete(MPI_Win w, int key, void *val, void *extra)
{
    (void)w, (void)key, (void)extra;
    deleted += *(int *)val;
    return MPI_SUCCESS;
}

static void test_attributes(void)
{
    int buf[4], flag = 0, *ip, key, val = 7, len;
    void *base;
    MPI_Aint *sp;
    MPI_Win win;
    char name[MPI_MAX_OBJECT_NAME];
    MPI_Group g, wg;
    MPI_Info info;
    begin("win_attributes_names_group_info");
    MPI_Win_create(buf, sizeof buf, 4, MPI_INFO_NULL, W, &win);
    MPI_Win_get_attr(win, MPI_WIN_BASE, &base, &flag);
    CHECK(flag && base == buf);
    MPI_Win_get_attr(win, MPI_WIN_SIZE, &sp, &flag);
    CHECK(flag && *sp == sizeof buf);
    MPI_Win_get_attr(win, MPI_WIN_DISP_UNIT, &ip, &flag);
    CHECK(flag && *ip == 4);
    MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &ip, &flag);
    CHECK(flag && *ip == MPI_WIN_FLAVOR_CREATE);
    MPI_Win_get_attr(win, MPI_WIN_MODEL, &ip, &flag);
    CHECK(flag && *ip == MPI_WIN_UNIFIED);
    CHECK(MPI_Win_create_keyval(MPI_WIN_NULL_COPY_FN, count_delete, &key, NULL) == MPI_SUCCESS);
    MPI_Win_get_attr(win, key, &ip, &flag);
    CHECK(!flag);
    CHECK(MPI_Win_set_attr(win, key, &val) == MPI_SUCCESS);
    MPI_Win_get_attr(win, key, &ip, &flag);
    CHECK(flag && ip == &val);
    deleted = 0;
    CHECK(MPI_Win_delete_attr(win, key) == MPI_SUCCESS && deleted == 7);
    MPI_Win_set_attr(win, key, &val);
    MPI_Win_set_name(win, "halo window");
    MPI_Win_get_name(win, name, &len);
    CHECK(strcmp(name, "halo window") == 0 && len == 11);
    MPI_Win_get_group(win, &g);
    MPI_Comm_group(W, &wg);
    int cmp = -1;
    MPI_Group_compare(g, wg, &cmp);
    CHECK(cmp == MPI_IDENT);
    MPI_Group_free(&g);
    MPI_Group_free(&wg);
    CHECK(MPI_Win_get_info(win, &info) == MPI_SUCCESS && info != MPI_INFO_NULL);
    MPI_Info_free(&info);
    deleted = 0;
    MPI_Win_free(&win);
    CHECK(deleted == 7);                         /* Win_free deletes the attributes */
    MPI_Win_free_keyval(&key);
    CHECK(key == MPI_KEYVAL_INVALID);
    end();
}

static void test_allocate(void)
{
    int *mem = NULL, flag, *flavor;
    MPI_Win win;
    begin("win_allocate_ring");
    CHECK(MPI_Win_allocate(N * sizeof(int), sizeof(int), MPI_INFO_NULL, W, &mem, &win) == MPI_SUCCESS);
    CHECK(mem != NULL);
    MPI_Win_get_attr(win, MPI_WIN_CREATE_FLAVOR, &flavor, &flag);
    CHECK(flag && *flavor == MPI_WIN_FLAVOR_ALLOCATE);
    for (int i = 0; i < N; i++)
        mem[i] = 0;
    MPI_Win_fence(0, win);
    int v[N];
    for (int i = 0; i < N; i++)
        v[i] = wrank * 1000 + i;
    MPI_Put(v, N, MPI_INT, (wrank + 1) % wsize, 0, N, MPI_INT, win);
    MPI_Win_fence(0, win);
    int prev = (wrank + wsize - 1) % wsize;
    for (int i = 0; i < N; i++)
        CHECKF(mem[i] == prev * 1000 + i, "mem[%d] = %d", i, mem[i]);
    MPI_Win_free(&win);
    end();
}

/* Every rank writes into its neighbour's segment with plain stores. */
static void shared_neighbours(MPI_Win win, int *mine, bool contiguous)
{
    MPI_Aint size;
    int du, *seg[64];
    for (int r = 0; r < wsize; r++) {
        CHECK(MPI_Win_shared_query(win, r, &size, &du, &seg[r]) == MPI_SUCCESS);
        /* noncontiguous segments may be rounded up (Open MPI: to a page) */
        CHECKF((contiguous ? size == (MPI_Aint)((r + 1) * sizeof(int)) : size >= (MPI_Aint)((r + 1) * sizeof(int))) &&
               du == (int)sizeof(int), "rank %d: size %ld, unit %d",
               r, (long)size, du);
        if (contiguous && r > 0)
            CHECKF(seg[r] == seg[r - 1] + r, "segment %d is not right after segment %d", r, r - 1);
    }
    CHECK(seg[wrank] == mine);
    MPI_Win_lock_all(0, win);
    int next = (wrank + 1) % wsize;
    for (int i = 0; i <= next; i++)
        seg[next][i] = wrank * 10 + i;        /* a store straight into the neighbour's memory */
    MPI_Win_sync(win);
    MPI_Barrier(W);
    MPI_Win_sync(win);
    int prev = (wrank + wsize - 1) % wsize;
    for (int i = 0; i <= wrank; i++)
        CHECKF(mine[i] == prev * 10 + i, "mine[%d] = %d", i, mine[i]);
    MPI_Win_unlock_all(win);
}

static void test_allocate_shared(void)
{
    int *mine;
    MPI_Win win;
    MPI_Info info;
    begin("win_allocate_shared_contiguous_and_noncontig");
    CHECK(MPI_Win_allocate_shared((wrank + 1) * sizeof(int), sizeof(int), MPI_INFO_NULL, W, &mine, &win) ==
          MPI_SUCCESS);
    shared_neighbours(win, mine, true);
    MPI_Win_free(&win);
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");
    CHECK(MPI_Win_allocate_shared((wrank + 1) * sizeof(int), sizeof(int), info, W, &mine, &win) ==
          MPI_SUCCESS);
    MPI_Info_free(&info);
    shared_neighbours(win, mine, false);
    MPI_Win_free(&win);
    end();
}

static void test_dynamic(void)
{
    int buf[N], got = -1;
    MPI_Aint addr, addrs[64];
    MPI_Win win;
    begin("win_create_dynamic_attach_detach");
    for (int i = 0; i < N; i++)
        buf[i] = wrank * 100 + i;
    CHECK(MPI_Win_create_dynamic(MPI_INFO_NULL, W, &win) == MPI_SUCCESS);
    CHECK(MPI_Win_attach(win, buf, sizeof buf) == MPI_SUCCESS);
    MPI_Get_address(&buf[3], &addr);
    MPI_Allgather(&addr, 1, MPI_AINT, addrs, 1, MPI_AINT, W);
    int next = (wrank + 1) % wsize;
    MPI_Win_lock_all(0, win);
    CHECK(MPI_Get(&got, 1, MPI_INT, next, addrs[next], 1, MPI_INT, win) == MPI_SUCCESS);
    MPI_Win_flush(next, win);
    CHECKF(got == next * 100 + 3, "got %d", got);
    MPI_Win_unlock_all(win);
    MPI_Barrier(W);
    CHECK(MPI_Win_detach(win, buf) == MPI_SUCCESS);
    MPI_Win_free(&win);
    end();
}

static void test_derived(void)
{
    int buf[2 * N], src[N], strided[2 * N];
    MPI_Datatype every_other;
    MPI_Win win;
    begin("rma_derived_datatypes_both_sides");
    MPI_Type_vector(N, 1, 2, MPI_INT, &every_other);
    MPI_Type_commit(&every_other);
    for (int i = 0; i < 2 * N; i++)
        buf[i] = -1;
    for (int i = 0; i < N; i++)
        src[i] = wrank * 100 + i;
    MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, W, &win);
    MPI_Win_fence(0, win);
    int next = (wrank + 1) % wsize, prev = (wrank + wsize - 1) % wsize;
    MPI_Put(src, N, MPI_INT, next, 0, 1, every_other, win);       /* contiguous -> strided */
    MPI_Win_fence(0, win);
    for (int i = 0; i < N; i++)
        CHECKF(buf[2 * i] == prev * 100 + i && buf[2 * i + 1] == -1, "buf[%d..] = %d %d", 2 * i, buf[2 * i],
               buf[2 * i + 1]);
    for (int i = 0; i < 2 * N; i++)
        strided[i] = -2;
    MPI_Get(strided, 1, every_other, next, 0, N, MPI_INT, win);    /* the first N ints -> strided */
    MPI_Win_fence(0, win);
    for (int i = 0; i < N; i++) {
        int want = i % 2 ? -1 : wrank * 100 + i / 2;     /* next's buf holds what we put */
        CHECKF(strided[2 * i] == want && strided[2 * i + 1] == -2, "strided[%d] = %d", 2 * i, strided[2 * i]);
    }
    MPI_Win_free(&win);
    MPI_Type_free(&every_other);
    end();
}

static int handler_calls, handler_code;
static void win_handler(MPI_Win *w, int *code, ...)
{
    (void)w;
    handler_calls++;
    handler_code = *code;
}

static int cls(int err)
{
    int c;
    MPI_Error_class(err, &c);
    return c;
}

static void user_op(void *in, void *inout, int *n, MPI_Datatype *dt)
{
    (void)in, (void)inout, (void)n, (void)dt;
}

static void test_errors(void)
{
    int buf[4] = {0}, v = 1;
    MPI_Win win;
    MPI_Op op;
    MPI_Errhandler eh;
    begin("rma_error_classes");
    MPI_Win_create(buf, sizeof buf, sizeof(int), MPI_INFO_NULL, W, &win);
    MPI_Win_set_errhandler(win, MPI_ERRORS_RETURN);
    MPI_Win_fence(0, win);
#ifndef OPEN_MPI   /* the reference run uses osc/pt2pt (tests/test_mpi.py), which checks ranges at the target */
    CHECK(cls(MPI_Put(&v, 1, MPI_INT, 0, 4, 1, MPI_INT, win)) == MPI_ERR_RMA_RANGE);
    CHECK(cls(MPI_Put(&v, 2, MPI_INT, 0, 3, 2, MPI_INT, win)) == MPI_ERR_RMA_RANGE);
#endif
    CHECK(cls(MPI_Get(&v, 1, MPI_INT, 0, -1, 1, MPI_INT, win)) == MPI_ERR_DISP);
    CHECK(cls(MPI_Put(&v, 1, MPI_INT, wsize, 0, 1, MPI_INT, win)) == MPI_ERR_RANK);
    CHECK(MPI_Put(&v, 1, MPI_INT, MPI_PROC_NULL, 0, 1, MPI_INT, win) == MPI_SUCCESS);
    MPI_Op_create(user_op, 1, &op);
    CHECK(cls(MPI_Accumulate(&v, 1, MPI_INT, 0, 0, 1, MPI_INT, op, win)) == MPI_ERR_OP);
    MPI_Op_free(&op);
    MPI_Win_fence(MPI_MODE_NOSUCCEED, win);
    CHECK(cls(MPI_Put(&v, 1, MPI_INT, 0, 0, 1, MPI_INT, win)) == MPI_ERR_RMA_SYNC);   /* no epoch */
    CHECK(cls(MPI_Win_unlock(0, win)) == MPI_ERR_RMA_SYNC);
    CHECK(cls(MPI_Win_complete(win)) == MPI_ERR_RMA_SYNC);
    CHECK(cls(MPI_Win_wait(win)) == MPI_ERR_RMA_SYNC);
    CHECK(cls(MPI_Win_lock(99, 0, 0, win)) == MPI_ERR_LOCKTYPE);
    MPI_Win_create_errhandler(win_handler, &eh);
    MPI_Win_set_errhandler(win, eh);
    handler_calls = 0;
    MPI_Win_call_errhandler(win, MPI_ERR_RMA_SYNC);
    CHECK(handler_calls == 1 && handler_code == MPI_ERR_RMA_SYNC);
    MPI_Put(&v, 1, MPI_INT, 0, 100, 1, MPI_INT, win);          /* no epoch: the handler hears it */
    CHECK(handler_calls == 2);
    MPI_Errhandler_free(&eh);
    MPI_Win_free(&win);
    MPI_Comm_set_errhandler(W, MPI_ERRORS_RETURN);
    MPI_Win nowin = MPI_WIN_NULL;
    CHECK(cls(MPI_Win_fence(0, MPI_WIN_NULL)) == MPI_ERR_WIN);
    CHECK(cls(MPI_Win_free(&nowin)) == MPI_ERR_WIN);
    MPI_Comm_set_errhandler(W, MPI_ERRORS_ARE_FATAL);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    test_create_fence_put_get();
    test_attributes();
    test_allocate();
    test_allocate_shared();
    test_dynamic();
    test_derived();
    test_errors();
    return finish("rma_win");
}
