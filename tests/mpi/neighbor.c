/* neighbor.c -- the blocking neighborhood collectives (MPI-3.1 7.6):
 * Neighbor_allgather, Neighbor_allgatherv, Neighbor_alltoall,
 * Neighbor_alltoallv and Neighbor_alltoallw on a periodic 2-D Cartesian
 * grid, a non-periodic one (whose off-grid MPI_PROC_NULL neighbors must
 * leave their receive blocks untouched), a graph (a ring) and a
 * distributed graph (each rank receives from r-1, r-2 and sends to r+1,
 * r+2, weighted). Every value names its sender, its send block and its
 * element, so a block from the wrong neighbor or the wrong block shows.
 *
 * Which send block arrives in which receive block when one process is a
 * neighbor twice (a ring of 1 or 2, a periodic dimension of size 1 or 2):
 * on graphs the k-th occurrence pairs with the k-th; on a Cartesian grid
 * the block sent to the -1 neighbor arrives in that neighbor's +1 block
 * (the sender is its +1 neighbor) and the other way round, in Toro and
 * in Open MPI 4.1 alike.
 *
 * Prints "ok <test>" lines and "mpi-test neighbor: N passed, M failed". */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* tests/mpi/ineighbor.c includes this file with NEIGHBOR_NONBLOCKING: the
 * same checks of the I-forms (7.7), each completed by an MPI_Test loop. */
#ifdef NEIGHBOR_NONBLOCKING
#define PROG "ineighbor"
static MPI_Request nb_req;
static int nb_done(int rc)
{
    int flag = 0;
    while (rc == MPI_SUCCESS && !flag)
        rc = MPI_Test(&nb_req, &flag, MPI_STATUS_IGNORE);
    return rc;
}
#define NB(call, ...) nb_done(MPI_Ineighbor_##call(__VA_ARGS__, &nb_req))
#else
#define PROG "neighbor"
#define NB(call, ...) MPI_Neighbor_##call(__VA_ARGS__)
#endif

#define W MPI_COMM_WORLD
#define MAXN 16          /* neighbors at most */
#define SENTINEL (-1)

enum { CART, GRAPH, DIST };

struct topo {
    const char *name;
    MPI_Comm comm;
    int kind;
    int nin, nout, in[MAXN], out[MAXN];
};

static int cart_list(MPI_Comm c, int r, int *list)
{
    int nd, dims[4], per[4], co[4], mine[4];
    MPI_Cartdim_get(c, &nd);
    MPI_Cart_get(c, nd, dims, per, mine);
    MPI_Cart_coords(c, r, nd, co);
    for (int d = 0; d < nd; d++)
        for (int s = 0; s < 2; s++) {
            int x = co[d], y = x + (s ? 1 : -1), rank;
            if (!per[d] && (y < 0 || y >= dims[d])) {
                list[2 * d + s] = MPI_PROC_NULL;
                continue;
            }
            co[d] = (y + dims[d]) % dims[d];
            MPI_Cart_rank(c, co, &rank);
            co[d] = x;
            list[2 * d + s] = rank;
        }
    return 2 * nd;
}

/* The out-neighbors of rank r (not only this one). */
static int out_of(const struct topo *t, int r, int *list)
{
    int n, size;
    MPI_Comm_size(t->comm, &size);
    switch (t->kind) {
    case CART:
        return cart_list(t->comm, r, list);
    case GRAPH:
        MPI_Graph_neighbors_count(t->comm, r, &n);
        MPI_Graph_neighbors(t->comm, r, MAXN, list);
        return n;
    default:
        list[0] = (r + 1) % size;
        list[1] = (r + 2) % size;
        return 2;
    }
}

/* The sender's block that arrives in receive block j. */
static int block_of(const struct topo *t, int j)
{
    int me, src = t->in[j], list[MAXN];
    MPI_Comm_rank(t->comm, &me);
    if (t->kind == CART)
        return j ^ 1;
    int occ = 0;
    for (int i = 0; i < j; i++)
        occ += t->in[i] == src;
    int n = out_of(t, src, list);
    for (int k = 0; k < n; k++)
        if (list[k] == me && occ-- == 0)
            return k;
    return -1;
}

static int value(int sender, int k, int e)
{
    return 1000 * sender + 10 * k + e;
}

/* Receive block j of n ints at p: from in[j] block k, or untouched. */
static void check_block(const struct topo *t, const char *call, const int *p, int n, int j, int k)
{
    for (int e = 0; e < n; e++) {
        int want = t->in[j] == MPI_PROC_NULL ? SENTINEL : value(t->in[j], k, e);
        CHECKF(p[e] == want, "%s on %s: block %d [%d] is %d, expected %d", call, t->name, j, e, p[e], want);
    }
}

static void fill(int *b, int n, int v)
{
    for (int i = 0; i < n; i++)
        b[i] = v;
}

static void run_allgather(const struct topo *t, int me)
{
    int sb[2] = {value(me, 0, 0), value(me, 0, 1)}, rb[2 * MAXN];
    fill(rb, 2 * MAXN, SENTINEL);
    CHECK(NB(allgather, sb, 2, MPI_INT, rb, 2, MPI_INT, t->comm) == MPI_SUCCESS);
    for (int j = 0; j < t->nin; j++)
        check_block(t, "allgather", rb + 2 * j, 2, j, 0);

    /* v: in[j] sends 1 + in[j] % 2 ints; blocks in reverse order, one apart */
    int rc[MAXN], dis[MAXN], rv[4 * MAXN];
    for (int j = 0, at = 0; j < t->nin; j++) {
        int jj = t->nin - 1 - j;
        rc[jj] = t->in[jj] == MPI_PROC_NULL ? 2 : 1 + t->in[jj] % 2;
        dis[jj] = at;
        at += rc[jj] + 1;
    }
    fill(rv, 4 * MAXN, SENTINEL);
    CHECK(NB(allgatherv, sb, 1 + me % 2, MPI_INT, rv, rc, dis, MPI_INT, t->comm) == MPI_SUCCESS);
    for (int j = 0; j < t->nin; j++) {
        check_block(t, "allgatherv", rv + dis[j], rc[j], j, 0);
        CHECKF(rv[dis[j] + rc[j]] == SENTINEL, "allgatherv on %s: gap after block %d written", t->name, j);
    }
}

static void run_alltoall(const struct topo *t, int me)
{
    int sb[2 * MAXN], rb[2 * MAXN];
    for (int k = 0; k < t->nout; k++)
        for (int e = 0; e < 2; e++)
            sb[2 * k + e] = value(me, k, e);
    fill(rb, 2 * MAXN, SENTINEL);
    CHECK(NB(alltoall, sb, 2, MPI_INT, rb, 2, MPI_INT, t->comm) == MPI_SUCCESS);
    for (int j = 0; j < t->nin; j++)
        check_block(t, "alltoall", rb + 2 * j, 2, j, block_of(t, j));

    /* v: send block k has 1 + k % 2 ints, at 3k; receive blocks in reverse */
    int sc[MAXN], sd[MAXN], rc[MAXN], rd[MAXN], sv[3 * MAXN], rv[4 * MAXN];
    for (int k = 0; k < t->nout; k++) {
        sc[k] = 1 + k % 2;
        sd[k] = 3 * k;
        for (int e = 0; e < sc[k]; e++)
            sv[sd[k] + e] = value(me, k, e);
    }
    for (int j = t->nin - 1, at = 0; j >= 0; j--) {
        rc[j] = t->in[j] == MPI_PROC_NULL ? 1 : 1 + block_of(t, j) % 2;
        rd[j] = at;
        at += rc[j] + 1;
    }
    fill(rv, 4 * MAXN, SENTINEL);
    CHECK(NB(alltoallv, sv, sc, sd, MPI_INT, rv, rc, rd, MPI_INT, t->comm) == MPI_SUCCESS);
    for (int j = 0; j < t->nin; j++)
        check_block(t, "alltoallv", rv + rd[j], rc[j], j, block_of(t, j));

    /* w: 2 MPI_INT sent, received as 1 "pair" (2 contiguous ints) in odd
     * blocks; byte displacements, receive blocks in reverse */
    MPI_Datatype pair, st[MAXN], rt[MAXN];
    MPI_Type_contiguous(2, MPI_INT, &pair);
    MPI_Type_commit(&pair);
    int scw[MAXN], rcw[MAXN];
    MPI_Aint sdw[MAXN], rdw[MAXN];
    for (int k = 0; k < t->nout; k++) {
        scw[k] = 2, st[k] = MPI_INT, sdw[k] = (MPI_Aint)(2 * k * sizeof(int));
    }
    for (int j = 0; j < t->nin; j++) {
        int odd = j % 2;
        rcw[j] = odd ? 1 : 2, rt[j] = odd ? pair : MPI_INT;
        rdw[j] = (MPI_Aint)(3 * (t->nin - 1 - j) * sizeof(int));
    }
    fill(rv, 4 * MAXN, SENTINEL);
    CHECK(NB(alltoallw, sb, scw, sdw, st, rv, rcw, rdw, rt, t->comm) == MPI_SUCCESS);
    for (int j = 0; j < t->nin; j++) {
        const int *p = (const int *)((const char *)rv + rdw[j]);
        check_block(t, "alltoallw", p, 2, j, block_of(t, j));
        CHECKF(p[2] == SENTINEL, "alltoallw on %s: gap after block %d written", t->name, j);
    }
    MPI_Type_free(&pair);
}

static void run(struct topo *t)
{
    begin(t->name);
    int me;
    MPI_Comm_rank(t->comm, &me);
    if (t->kind == DIST) {
        int wt, s[MAXN], d[MAXN], sw[MAXN], dw[MAXN];
        MPI_Dist_graph_neighbors_count(t->comm, &t->nin, &t->nout, &wt);
        MPI_Dist_graph_neighbors(t->comm, MAXN, s, sw, MAXN, d, dw);
        memcpy(t->in, s, sizeof s);
        memcpy(t->out, d, sizeof d);
    } else {
        t->nin = t->nout = out_of(t, me, t->in);
        memcpy(t->out, t->in, sizeof t->in);
    }
    run_allgather(t, me);
    run_alltoall(t, me);
    end();
}

static void test_errors(void)
{
    begin("no_topology");
    int x = 0, y = 0, cls = -1;
    MPI_Comm_set_errhandler(W, MPI_ERRORS_RETURN);
    int rc = NB(allgather, &x, 1, MPI_INT, &y, 1, MPI_INT, W);
    MPI_Error_class(rc, &cls);
    CHECK(rc != MPI_SUCCESS);
#ifndef OPEN_MPI    /* Open MPI 4.1 says MPI_ERR_INTERN */
    CHECKF(cls == MPI_ERR_TOPOLOGY, "Neighbor_allgather on MPI_COMM_WORLD: class %d", cls);
#endif
    MPI_Comm_set_errhandler(W, MPI_ERRORS_ARE_FATAL);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    if (wsize > 64) {
        if (wrank == 0)
            printf("%s: at most 64 ranks\n", PROG);
        MPI_Finalize();
        return 1;
    }
    int dims[2] = {0, 0}, per[2] = {1, 1}, nper[2] = {0, 0};
    MPI_Dims_create(wsize, 2, dims);
    struct topo t[4] = {{.name = "cart_periodic", .kind = CART}, {.name = "cart_nonperiodic", .kind = CART},
                        {.name = "graph_ring", .kind = GRAPH}, {.name = "dist_graph", .kind = DIST}};
    MPI_Cart_create(W, 2, dims, per, 0, &t[0].comm);
    MPI_Cart_create(W, 2, dims, nper, 1, &t[1].comm);
    int index[64], edges[128];
    for (int i = 0; i < wsize; i++) {
        edges[2 * i] = (i + 1) % wsize;
        edges[2 * i + 1] = (i + wsize - 1) % wsize;
        index[i] = 2 * i + 2;
    }
    MPI_Graph_create(W, wsize, index, edges, 0, &t[2].comm);
    int src[2] = {(wrank + wsize - 1) % wsize, (wrank + 2 * wsize - 2) % wsize};
    int dst[2] = {(wrank + 1) % wsize, (wrank + 2) % wsize}, w[2] = {1, 2};
    MPI_Dist_graph_create_adjacent(W, 2, src, w, 2, dst, w, MPI_INFO_NULL, 0, &t[3].comm);
    for (int i = 0; i < 4; i++) {
#if defined(OPEN_MPI) && defined(NEIGHBOR_NONBLOCKING)
        /* Open MPI 4.1's I-forms (libnbc) pair the blocks of a rank that is
         * both neighbors of a periodic dimension k-th with k-th, unlike its
         * blocking forms and Toro, and then truncate in alltoallv: the
         * periodic grid (at 1-4 ranks it always has a dimension of 1 or 2)
         * is left out of the reference run. */
        if (i == 0) {
            MPI_Comm_free(&t[i].comm);
            continue;
        }
#endif
        run(&t[i]);
        MPI_Comm_free(&t[i].comm);
    }
    test_errors();
    return finish(PROG);
}
