/* graph_topo.c -- graph and distributed graph topologies (MPI-3.1 7.5.3,
 * 7.5.4) and their queries: MPI_Graph_create (a ring over all ranks and
 * a smaller graph that leaves a rank out), Graphdims_get, Graph_get,
 * Graph_neighbors(_count), Graph_map, Cart_map, Topo_test on every kind,
 * the topology kept by MPI_Comm_dup and MPI_Comm_idup,
 * Dist_graph_create_adjacent weighted and MPI_UNWEIGHTED, Dist_graph_create with edges given by other ranks
 * (compared as sorted multisets: their order is the implementation's),
 * and MPI_ERR_TOPOLOGY for queries of the wrong kind.
 *
 * Open MPI 4.1's Cart_map and Graph_map return the caller's rank even
 * where it is outside the grid (7.5.8 says MPI_UNDEFINED): that check
 * is left out under Open MPI.
 *
 * Prints "ok <test>" lines and "mpi-test graph_topo: N passed, M failed". */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD

/* MPI_UNWEIGHTED through a volatile: GCC 12 warns when it sees the
 * constant pointer passed where an array is declared. */
static int *unw(void)
{
    int *volatile p = MPI_UNWEIGHTED;
    return p;
}

/* The ring: node i has edges to i+1 and i-1 (mod n); 2n entries. */
static void ring(int n, int *index, int *edges)
{
    for (int i = 0; i < n; i++) {
        edges[2 * i] = (i + 1) % n;
        edges[2 * i + 1] = (i + n - 1) % n;
        index[i] = 2 * (i + 1);
    }
}

static void check_ring(MPI_Comm g, int n)
{
    int index[64], edges[128], nn = -1, ne = -1, st = -1;
    ring(n, index, edges);
    CHECK(MPI_Topo_test(g, &st) == MPI_SUCCESS && st == MPI_GRAPH);
    CHECK(MPI_Graphdims_get(g, &nn, &ne) == MPI_SUCCESS);
    CHECKF(nn == n && ne == 2 * n, "Graphdims_get %d %d", nn, ne);
    int gi[64], ge[128];
    CHECK(MPI_Graph_get(g, n, 2 * n, gi, ge) == MPI_SUCCESS);
    CHECK(memcmp(gi, index, (size_t)n * sizeof(int)) == 0);
    CHECK(memcmp(ge, edges, (size_t)(2 * n) * sizeof(int)) == 0);
    for (int r = 0; r < n; r++) {
        int k = -1, nb[2] = {-1, -1};
        CHECK(MPI_Graph_neighbors_count(g, r, &k) == MPI_SUCCESS && k == 2);
        CHECK(MPI_Graph_neighbors(g, r, 2, nb) == MPI_SUCCESS);
        CHECKF(nb[0] == (r + 1) % n && nb[1] == (r + n - 1) % n, "neighbors of %d: %d %d", r, nb[0], nb[1]);
    }
}

static void test_graph(void)
{
    begin("graph_create");
    int index[64], edges[128], newrank = -2;
    ring(wsize, index, edges);
    MPI_Comm g, d;
    CHECK(MPI_Graph_create(W, wsize, index, edges, 0, &g) == MPI_SUCCESS);
    CHECK(g != MPI_COMM_NULL);
    if (g != MPI_COMM_NULL) {
        int r, s;
        MPI_Comm_rank(g, &r);
        MPI_Comm_size(g, &s);
        CHECK(s == wsize);
        CHECK(MPI_Graph_map(W, wsize, index, edges, &newrank) == MPI_SUCCESS && newrank == wrank);
        check_ring(g, wsize);
        CHECK(MPI_Comm_dup(g, &d) == MPI_SUCCESS);
        check_ring(d, wsize);
        MPI_Comm_free(&d);
        MPI_Request rq;
        CHECK(MPI_Comm_idup(g, &d, &rq) == MPI_SUCCESS);
        MPI_Wait(&rq, MPI_STATUS_IGNORE);
        check_ring(d, wsize);
        MPI_Comm_free(&d);
        MPI_Comm_free(&g);
    }
    end();

    begin("graph_smaller");
    int n = wsize > 1 ? wsize - 1 : 1;
    ring(n, index, edges);
    CHECK(MPI_Graph_create(W, n, index, edges, 1, &g) == MPI_SUCCESS);
    CHECK(MPI_Graph_map(W, n, index, edges, &newrank) == MPI_SUCCESS);
    if (wrank < n) {
        CHECK(g != MPI_COMM_NULL && newrank == wrank);
        if (g != MPI_COMM_NULL) {
            check_ring(g, n);
            MPI_Comm_free(&g);
        }
    } else {
        CHECK(g == MPI_COMM_NULL);
#ifndef OPEN_MPI
        CHECK(newrank == MPI_UNDEFINED);
#endif
    }
    end();
}

static void test_cart_map(void)
{
    begin("cart_map_topo_test");
    int dims[1] = {wsize}, per[1] = {1}, nr = -2, st = -2;
    CHECK(MPI_Cart_map(W, 1, dims, per, &nr) == MPI_SUCCESS && nr == wrank);
    dims[0] = 1;
    CHECK(MPI_Cart_map(W, 1, dims, per, &nr) == MPI_SUCCESS);
#ifndef OPEN_MPI
    CHECK(nr == (wrank == 0 ? 0 : MPI_UNDEFINED));
#else
    CHECK(wrank != 0 || nr == 0);
#endif
    CHECK(MPI_Topo_test(W, &st) == MPI_SUCCESS && st == MPI_UNDEFINED);
    MPI_Comm c;
    dims[0] = wsize;
    MPI_Cart_create(W, 1, dims, per, 0, &c);
    CHECK(MPI_Topo_test(c, &st) == MPI_SUCCESS && st == MPI_CART);
    MPI_Comm_free(&c);
    end();
}

static void test_adjacent(void)
{
    begin("dist_graph_adjacent");
    int prev = (wrank + wsize - 1) % wsize, next = (wrank + 1) % wsize;
    int src[2] = {prev, next}, sw[2] = {10 * prev + wrank, 10 * next + wrank};
    int dst[1] = {next}, dw[1] = {10 * wrank + next};
    MPI_Comm g;
    CHECK(MPI_Dist_graph_create_adjacent(W, 2, src, sw, 1, dst, dw, MPI_INFO_NULL, 0, &g) == MPI_SUCCESS);
    int in = -1, out = -1, wt = -1, st = -1;
    CHECK(MPI_Topo_test(g, &st) == MPI_SUCCESS && st == MPI_DIST_GRAPH);
    CHECK(MPI_Dist_graph_neighbors_count(g, &in, &out, &wt) == MPI_SUCCESS);
    CHECKF(in == 2 && out == 1 && wt, "count %d %d %d", in, out, wt);
    int s2[2] = {-1, -1}, sw2[2] = {-1, -1}, d2[1] = {-1}, dw2[1] = {-1};
    CHECK(MPI_Dist_graph_neighbors(g, 2, s2, sw2, 1, d2, dw2) == MPI_SUCCESS);
    CHECK(s2[0] == prev && s2[1] == next && sw2[0] == sw[0] && sw2[1] == sw[1]);
    CHECK(d2[0] == next && dw2[0] == dw[0]);
    MPI_Comm d;
    MPI_Comm_dup(g, &d);
    CHECK(MPI_Dist_graph_neighbors_count(d, &in, &out, &wt) == MPI_SUCCESS && in == 2 && out == 1);
    MPI_Comm_free(&d);
    MPI_Comm_free(&g);

    CHECK(MPI_Dist_graph_create_adjacent(W, 1, src, unw(), 1, dst, unw(),
                                         MPI_INFO_NULL, 1, &g) == MPI_SUCCESS);
    CHECK(MPI_Dist_graph_neighbors_count(g, &in, &out, &wt) == MPI_SUCCESS);
    CHECKF(in == 1 && out == 1 && !wt, "unweighted count %d %d %d", in, out, wt);
    CHECK(MPI_Dist_graph_neighbors(g, 1, s2, unw(), 1, d2, unw()) == MPI_SUCCESS);
    CHECK(s2[0] == prev && d2[0] == next);
    MPI_Comm_free(&g);
    end();
}

static int cmp_pair(const void *a, const void *b)
{
    const int *x = a, *y = b;
    return x[0] != y[0] ? x[0] - y[0] : x[1] - y[1];
}

/* Edges r -> r+1 (weight 100r + r+1) given by r, and edges j -> 0 for
 * every j (weight 7 + j) all given by rank 0. */
static void test_dist_create(void)
{
    begin("dist_graph_create");
    int n = 0, sources[65], degrees[65], dests[130], weights[130], e = 0;
    sources[n] = wrank;
    degrees[n++] = 1;
    dests[e] = (wrank + 1) % wsize;
    weights[e++] = 100 * wrank + (wrank + 1) % wsize;
    if (wrank == 0)
        for (int j = 0; j < wsize; j++) {
            sources[n] = j;
            degrees[n++] = 1;
            dests[e] = 0;
            weights[e++] = 7 + j;
        }
    MPI_Comm g;
    CHECK(MPI_Dist_graph_create(W, n, sources, degrees, dests, weights, MPI_INFO_NULL, 0, &g) == MPI_SUCCESS);
    int in, out, wt;
    CHECK(MPI_Dist_graph_neighbors_count(g, &in, &out, &wt) == MPI_SUCCESS && wt);
    int ein = 1 + (wrank == 0 ? wsize : 0), eout = 2;
    CHECKF(in == ein && out == eout, "degrees %d %d, expected %d %d", in, out, ein, eout);
    if (in == ein && out == eout) {
        int s[65], sw[65], d[2], dw[2], got[130], want[130];
        CHECK(MPI_Dist_graph_neighbors(g, in, s, sw, out, d, dw) == MPI_SUCCESS);
        int prev = (wrank + wsize - 1) % wsize, next = (wrank + 1) % wsize;
        for (int i = 0; i < in; i++)
            got[2 * i] = s[i], got[2 * i + 1] = sw[i];
        want[0] = prev, want[1] = 100 * prev + wrank;
        for (int j = 0; wrank == 0 && j < wsize; j++)
            want[2 + 2 * j] = j, want[3 + 2 * j] = 7 + j;
        qsort(got, (size_t)in, 2 * sizeof(int), cmp_pair);
        qsort(want, (size_t)in, 2 * sizeof(int), cmp_pair);
        CHECK(memcmp(got, want, (size_t)in * 2 * sizeof(int)) == 0);
        int og[4] = {d[0], dw[0], d[1], dw[1]}, ow[4] = {next, 100 * wrank + next, 0, 7 + wrank};
        qsort(og, 2, 2 * sizeof(int), cmp_pair);
        qsort(ow, 2, 2 * sizeof(int), cmp_pair);
        CHECKF(memcmp(og, ow, sizeof og) == 0, "out %d/%d %d/%d", og[0], og[1], og[2], og[3]);
    }
    MPI_Comm_free(&g);

    /* unweighted, and a rank that gives no edges */
    n = wrank == 0 ? 1 : 0;
    sources[0] = 0, degrees[0] = wsize, e = 0;
    for (int j = 0; j < wsize; j++)
        dests[j] = j;
    CHECK(MPI_Dist_graph_create(W, n, sources, degrees, dests, unw(), MPI_INFO_NULL, 1, &g) == MPI_SUCCESS);
    CHECK(MPI_Dist_graph_neighbors_count(g, &in, &out, &wt) == MPI_SUCCESS);
    CHECKF(in == 1 && out == (wrank == 0 ? wsize : 0) && !wt, "star %d %d %d", in, out, wt);
    int s0 = -1;
    if (wrank != 0) {
        CHECK(MPI_Dist_graph_neighbors(g, 1, &s0, unw(), 0, dests, unw()) == MPI_SUCCESS);
        CHECK(s0 == 0);
    }
    MPI_Comm_free(&g);
    end();
}

static void test_errors(void)
{
    begin("wrong_topology");
    MPI_Comm_set_errhandler(W, MPI_ERRORS_RETURN);
    int a, b, c, cls = -1;
    int rc = MPI_Graphdims_get(W, &a, &b);
    MPI_Error_class(rc, &cls);
    CHECKF(cls == MPI_ERR_TOPOLOGY, "Graphdims_get on MPI_COMM_WORLD: class %d", cls);
    rc = MPI_Dist_graph_neighbors_count(W, &a, &b, &c);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_TOPOLOGY);
    int index[64], edges[128];
    ring(wsize, index, edges);
    MPI_Comm g;
    MPI_Graph_create(W, wsize, index, edges, 0, &g);
    MPI_Comm_set_errhandler(g, MPI_ERRORS_RETURN);
    rc = MPI_Dist_graph_neighbors_count(g, &a, &b, &c);
    MPI_Error_class(rc, &cls);
    CHECK(cls == MPI_ERR_TOPOLOGY);
    MPI_Comm_free(&g);
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
            printf("graph_topo: at most 64 ranks\n");
        MPI_Finalize();
        return 1;
    }
    test_graph();
    test_cart_map();
    test_adjacent();
    test_dist_create();
    test_errors();
    return finish("graph_topo");
}
