/* comms.c -- communicators, groups, Cartesian topologies, attributes and
 * names: Comm_dup, Comm_split (by parity, keys reversing the order; and
 * MPI_UNDEFINED), Comm_split_type(MPI_COMM_TYPE_SHARED), Comm_create from a
 * group, Comm_free, Comm_compare; Group_incl/excl/union/intersection/
 * difference/translate_ranks/compare/size/rank/free; Dims_create,
 * Cart_create/coords/rank/shift/get/sub, Cartdim_get, Topo_test; the
 * attributes MPI_TAG_UB and MPI_WTIME_IS_GLOBAL; Comm_set_name/get_name;
 * traffic on split and duplicated communicators never matching traffic of
 * MPI_COMM_WORLD with the same source and tag.
 *
 * Prints "ok <test>" lines and "mpi-test comms: N passed, M failed". */
#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define W MPI_COMM_WORLD

/* the sum of the world ranks of c's members */
static int sum_of_ranks(MPI_Comm c)
{
    int s = -1;
    MPI_Allreduce(&wrank, &s, 1, MPI_INT, MPI_SUM, c);
    return s;
}

static void test_dup(void)
{
    MPI_Comm d;
    int r = -1, s = -1, cmp = -1;
    begin("comm_dup_free_compare");
    CHECK(MPI_Comm_dup(W, &d) == MPI_SUCCESS);
    MPI_Comm_rank(d, &r);
    MPI_Comm_size(d, &s);
    CHECK(r == wrank && s == wsize);
    CHECK(sum_of_ranks(d) == wsize * (wsize - 1) / 2);
    MPI_Comm_compare(W, W, &cmp);
    CHECK(cmp == MPI_IDENT);
    MPI_Comm_compare(W, d, &cmp);
    CHECK(cmp == MPI_CONGRUENT);
    MPI_Comm_compare(W, MPI_COMM_SELF, &cmp);
    CHECK(cmp == (wsize == 1 ? MPI_CONGRUENT : MPI_UNEQUAL));
    MPI_Comm_rank(MPI_COMM_SELF, &r);
    MPI_Comm_size(MPI_COMM_SELF, &s);
    CHECK(r == 0 && s == 1);
    CHECK(MPI_Comm_free(&d) == MPI_SUCCESS);
    CHECK(d == MPI_COMM_NULL);
    /* many communicators, created and freed: their resources are reused */
    for (int k = 0; k < 100; k++) {
        MPI_Comm_dup(W, &d);
        if (k % 10 == 0)
            MPI_Barrier(d);
        MPI_Comm_free(&d);
    }
    MPI_Comm many[20];
    for (int k = 0; k < 20; k++)
        MPI_Comm_dup(k ? many[k - 1] : W, &many[k]);
    CHECK(sum_of_ranks(many[19]) == wsize * (wsize - 1) / 2);
    for (int k = 19; k >= 0; k--)
        MPI_Comm_free(&many[k]);
    end();
}

static void test_split(void)
{
    MPI_Comm c;
    int r = -1, s = -1, cmp = -1;
    begin("comm_split");
    /* by parity; key -rank: the order reverses */
    CHECK(MPI_Comm_split(W, wrank % 2, -wrank, &c) == MPI_SUCCESS);
    int mates = 0, above = 0;   /* same parity: how many, how many of higher rank */
    for (int p = 0; p < wsize; p++)
        if (p % 2 == wrank % 2) {
            mates++;
            above += p > wrank;
        }
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &s);
    CHECKF(s == mates && r == above, "rank %d of %d, expected %d of %d", r, s, above, mates);
    int expect_sum = 0;
    for (int p = wrank % 2; p < wsize; p += 2)
        expect_sum += p;
    CHECK(sum_of_ranks(c) == expect_sum);
    MPI_Comm_compare(W, c, &cmp);
    CHECK(cmp == (wsize == 1 ? MPI_CONGRUENT : MPI_UNEQUAL));
    /* the world's group, translated: rank r of c is world rank (highest first) */
    MPI_Group wg, cg;
    MPI_Comm_group(W, &wg);
    MPI_Comm_group(c, &cg);
    int *in = malloc(s * sizeof *in), *out = malloc(s * sizeof *out);
    for (int i = 0; i < s; i++)
        in[i] = i;
    MPI_Group_translate_ranks(cg, s, in, wg, out);
    int bad = 0;
    for (int i = 0; i < s; i++) {
        int expect = -1, k = 0;
        for (int p = wsize - 1; p >= 0; p--)
            if (p % 2 == wrank % 2 && k++ == i)
                expect = p;
        bad += out[i] != expect;
    }
    CHECKF(bad == 0, "translate_ranks of the split: %d wrong", bad);
    free(in);
    free(out);
    MPI_Group_free(&cg);
    MPI_Group_free(&wg);
    MPI_Comm_free(&c);

    /* one color, reversed keys: same group in another order */
    MPI_Comm_split(W, 7, wsize - wrank, &c);
    MPI_Comm_rank(c, &r);
    CHECK(r == wsize - 1 - wrank);
    MPI_Comm_compare(W, c, &cmp);
    CHECK(cmp == (wsize == 1 ? MPI_CONGRUENT : MPI_SIMILAR));
    MPI_Comm_free(&c);
    /* equal keys: the order of the parent */
    MPI_Comm_split(W, 0, 0, &c);
    MPI_Comm_rank(c, &r);
    MPI_Comm_compare(W, c, &cmp);
    CHECK(r == wrank && cmp == MPI_CONGRUENT);
    MPI_Comm_free(&c);
    /* MPI_UNDEFINED: no communicator */
    MPI_Comm_split(W, wrank == 0 ? MPI_UNDEFINED : 1, 0, &c);
    if (wrank == 0) {
        CHECK(c == MPI_COMM_NULL);
    } else {
        MPI_Comm_size(c, &s);
        CHECK(s == wsize - 1);
        MPI_Comm_free(&c);
    }
    /* shared memory: every rank of this machine (all of them here) */
    CHECK(MPI_Comm_split_type(W, MPI_COMM_TYPE_SHARED, wrank, MPI_INFO_NULL, &c) == MPI_SUCCESS);
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &s);
    CHECKF(r == wrank && s == wsize, "shared: rank %d of %d", r, s);
    MPI_Comm_free(&c);
    MPI_Comm_split_type(W, MPI_UNDEFINED, 0, MPI_INFO_NULL, &c);
    CHECK(c == MPI_COMM_NULL);
    end();
}

static int is_even(int p) { return p % 2 == 0; }

static void check_members(MPI_Group g, MPI_Group world, const int *expect, int n, const char *what)
{
    int size = -1, bad = 0;
    MPI_Group_size(g, &size);
    CHECKF(size == n, "%s: size %d, expected %d", what, size, n);
    if (size != n)
        return;
    int *in = malloc((n + 1) * sizeof *in), *out = malloc((n + 1) * sizeof *out);
    for (int i = 0; i < n; i++)
        in[i] = i;
    MPI_Group_translate_ranks(g, n, in, world, out);
    for (int i = 0; i < n; i++)
        bad += out[i] != expect[i];
    CHECKF(bad == 0, "%s: %d members wrong", what, bad);
    int me = -2, pos = MPI_UNDEFINED;
    MPI_Group_rank(g, &me);
    for (int i = 0; i < n; i++)
        if (expect[i] == wrank)
            pos = i;
    CHECKF(me == pos, "%s: my rank %d, expected %d", what, me, pos);
    free(in);
    free(out);
}

static void test_groups(void)
{
    MPI_Group wg, even, odd, rev_even, un, inter, diff, empty;
    int n_even = (wsize + 1) / 2, n_odd = wsize / 2, cmp = -1;
    int *evens = malloc(wsize * sizeof *evens), *odds = malloc(wsize * sizeof *odds);
    int *rev = malloc(wsize * sizeof *rev), *all = malloc(wsize * sizeof *all);
    begin("groups");
    for (int i = 0; i < n_even; i++) {
        evens[i] = 2 * i;
        rev[i] = 2 * (n_even - 1 - i);
    }
    for (int i = 0; i < n_odd; i++)
        odds[i] = 2 * i + 1;
    MPI_Comm_group(W, &wg);
    for (int i = 0; i < wsize; i++)
        all[i] = i;
    check_members(wg, wg, all, wsize, "world");
    CHECK(MPI_Group_incl(wg, n_even, evens, &even) == MPI_SUCCESS);
    check_members(even, wg, evens, n_even, "incl");
    MPI_Group_excl(wg, n_even, evens, &odd);
    check_members(odd, wg, odds, n_odd, "excl");
    MPI_Group_incl(wg, n_even, rev, &rev_even);
    check_members(rev_even, wg, rev, n_even, "incl in reverse");
    MPI_Group_compare(even, rev_even, &cmp);
    CHECK(cmp == (n_even > 1 ? MPI_SIMILAR : MPI_IDENT));
    MPI_Group_compare(even, even, &cmp);
    CHECK(cmp == MPI_IDENT);
    MPI_Group_compare(even, wg, &cmp);
    CHECK(cmp == (wsize == 1 ? MPI_IDENT : MPI_UNEQUAL));

    /* union: evens first, then odds; intersection and difference keep the
     * order of their first group */
    MPI_Group_union(even, odd, &un);
    for (int i = 0; i < n_even; i++)
        all[i] = evens[i];
    for (int i = 0; i < n_odd; i++)
        all[n_even + i] = odds[i];
    check_members(un, wg, all, wsize, "union");
    MPI_Group_compare(un, wg, &cmp);
    CHECK(cmp == (wsize <= 2 ? MPI_IDENT : MPI_SIMILAR));
    MPI_Group_free(&un);
    MPI_Group_union(wg, rev_even, &un);   /* nothing new: the world's order */
    MPI_Group_compare(un, wg, &cmp);
    CHECK(cmp == MPI_IDENT);
    MPI_Group_intersection(wg, rev_even, &inter);
    check_members(inter, wg, evens, n_even, "intersection");
    MPI_Group_difference(wg, even, &diff);
    check_members(diff, wg, odds, n_odd, "difference");
    MPI_Group_difference(even, wg, &empty);
    int size = -1, r = -2;
    MPI_Group_size(empty, &size);
    MPI_Group_rank(empty, &r);
    CHECK(size == 0 && r == MPI_UNDEFINED);
    MPI_Group_compare(empty, MPI_GROUP_EMPTY, &cmp);
    CHECK(cmp == MPI_IDENT);

    /* translate_ranks: non-members give MPI_UNDEFINED, MPI_PROC_NULL stays */
    int q[2] = {wsize - 1, MPI_PROC_NULL}, a[2] = {-5, -5};
    MPI_Group_translate_ranks(wg, 2, q, even, a);
    CHECK(a[0] == (is_even(wsize - 1) ? (wsize - 1) / 2 : MPI_UNDEFINED));
    CHECK(a[1] == MPI_PROC_NULL);

    MPI_Group gs[] = {even, odd, rev_even, un, inter, diff, empty, wg};
    for (int i = 0; i < 8; i++) {
        CHECK(MPI_Group_free(&gs[i]) == MPI_SUCCESS);
        CHECK(gs[i] == MPI_GROUP_NULL);
    }
    free(evens);
    free(odds);
    free(rev);
    free(all);
    end();
}

static void test_create(void)
{
    MPI_Group wg, g;
    MPI_Comm c;
    int n_even = (wsize + 1) / 2;
    int *rev = malloc(wsize * sizeof *rev);
    begin("comm_create");
    for (int i = 0; i < n_even; i++)
        rev[i] = 2 * (n_even - 1 - i);   /* the even ranks, highest first */
    MPI_Comm_group(W, &wg);
    MPI_Group_incl(wg, n_even, rev, &g);
    CHECK(MPI_Comm_create(W, g, &c) == MPI_SUCCESS);
    if (wrank % 2) {
        CHECK(c == MPI_COMM_NULL);
    } else {
        int r = -1, s = -1, expect_sum = 0;
        MPI_Comm_rank(c, &r);
        MPI_Comm_size(c, &s);
        CHECKF(r == n_even - 1 - wrank / 2 && s == n_even, "rank %d of %d", r, s);
        for (int p = 0; p < wsize; p += 2)
            expect_sum += p;
        CHECK(sum_of_ranks(c) == expect_sum);
        MPI_Group cg;
        int cmp = -1;
        MPI_Comm_group(c, &cg);
        MPI_Group_compare(cg, g, &cmp);
        CHECK(cmp == MPI_IDENT);
        MPI_Group_free(&cg);
        MPI_Comm_free(&c);
    }
    /* the empty group gives MPI_COMM_NULL everywhere */
    MPI_Comm_create(W, MPI_GROUP_EMPTY, &c);
    CHECK(c == MPI_COMM_NULL);
    MPI_Group_free(&g);
    MPI_Group_free(&wg);
    free(rev);
    end();
}

static void test_cart(void)
{
    int dims[3], periods[2], coords[2], r, src, dst, nd;
    MPI_Comm cart;
    begin("cartesian");
    /* Dims_create: balanced, non-increasing, fixed entries kept */
    int d2[2] = {0, 0};
    CHECK(MPI_Dims_create(wsize, 2, d2) == MPI_SUCCESS);
    CHECKF(d2[0] * d2[1] == wsize && d2[0] >= d2[1], "Dims_create(%d, 2) = %d x %d", wsize, d2[0], d2[1]);
    int e[3] = {0, 0, 0};
    MPI_Dims_create(12, 3, e);
    CHECK(e[0] == 3 && e[1] == 2 && e[2] == 2);
    int f[2] = {0, 0};
    MPI_Dims_create(6, 2, f);
    CHECK(f[0] == 3 && f[1] == 2);
    int g[3] = {0, 3, 0};
    MPI_Dims_create(24, 3, g);
    CHECK(g[0] == 4 && g[1] == 3 && g[2] == 2);
    int h[2] = {0, 0};
    MPI_Dims_create(7, 2, h);
    CHECK(h[0] == 7 && h[1] == 1);
    if (wsize == 4)
        CHECK(d2[0] == 2 && d2[1] == 2);

    /* a 2-D grid, periodic in dimension 0 only, no reordering */
    dims[0] = d2[0];
    dims[1] = d2[1];
    periods[0] = 1;
    periods[1] = 0;
    CHECK(MPI_Cart_create(W, 2, dims, periods, 0, &cart) == MPI_SUCCESS);
    CHECK(cart != MPI_COMM_NULL);
    int topo = -1;
    MPI_Topo_test(cart, &topo);
    CHECK(topo == MPI_CART);
    MPI_Topo_test(W, &topo);
    CHECK(topo == MPI_UNDEFINED);
    MPI_Comm_rank(cart, &r);
    CHECK(r == wrank);
    MPI_Cartdim_get(cart, &nd);
    CHECK(nd == 2);
    MPI_Cart_coords(cart, wrank, 2, coords);
    CHECK(coords[0] == wrank / dims[1] && coords[1] == wrank % dims[1]);   /* row-major */
    int gd[2], gp[2], gc[2];
    MPI_Cart_get(cart, 2, gd, gp, gc);
    CHECK(gd[0] == dims[0] && gd[1] == dims[1] && gp[0] == 1 && gp[1] == 0);
    CHECK(gc[0] == coords[0] && gc[1] == coords[1]);
    int bad = 0;
    for (int p = 0; p < wsize; p++) {
        int c[2];
        MPI_Cart_coords(cart, p, 2, c);
        MPI_Cart_rank(cart, c, &r);
        bad += r != p;
    }
    CHECK(bad == 0);
    int wrap[2] = {coords[0] + dims[0], coords[1]};   /* periodic: wraps around */
    MPI_Cart_rank(cart, wrap, &r);
    CHECK(r == wrank);
    wrap[0] = coords[0] - dims[0];
    MPI_Cart_rank(cart, wrap, &r);
    CHECK(r == wrank);
    /* shifts: periodic along 0, MPI_PROC_NULL at the ends of 1 */
    MPI_Cart_shift(cart, 0, 1, &src, &dst);
    CHECK(src == ((coords[0] - 1 + dims[0]) % dims[0]) * dims[1] + coords[1]);
    CHECK(dst == ((coords[0] + 1) % dims[0]) * dims[1] + coords[1]);
    MPI_Cart_shift(cart, 1, 1, &src, &dst);
    CHECK(src == (coords[1] > 0 ? wrank - 1 : MPI_PROC_NULL));
    CHECK(dst == (coords[1] < dims[1] - 1 ? wrank + 1 : MPI_PROC_NULL));
    MPI_Cart_shift(cart, 1, -1, &src, &dst);
    CHECK(dst == (coords[1] > 0 ? wrank - 1 : MPI_PROC_NULL));
    /* traffic along the shift */
    int token = wrank, got = -1;
    MPI_Cart_shift(cart, 0, 1, &src, &dst);
    MPI_Sendrecv(&token, 1, MPI_INT, dst, 0, &got, 1, MPI_INT, src, 0, cart, MPI_STATUS_IGNORE);
    CHECK(got == src);
    /* Cart_sub: the rows */
    MPI_Comm row;
    int keep[2] = {0, 1}, rs = -1, rr = -1;
    MPI_Cart_sub(cart, keep, &row);
    MPI_Comm_size(row, &rs);
    MPI_Comm_rank(row, &rr);
    CHECK(rs == dims[1] && rr == coords[1]);
    MPI_Cartdim_get(row, &nd);
    CHECK(nd == 1);
    MPI_Comm_free(&row);
    MPI_Comm_free(&cart);

    /* a grid smaller than the world: the last rank is left out */
    if (wsize > 1) {
        int d1 = wsize - 1, p1 = 0;
        MPI_Cart_create(W, 1, &d1, &p1, 0, &cart);
        if (wrank == wsize - 1) {
            CHECK(cart == MPI_COMM_NULL);
        } else {
            CHECK(cart != MPI_COMM_NULL);
            MPI_Comm_free(&cart);
        }
    }
    end();
}

static void test_attributes_names(void)
{
    int *v = NULL, flag = 0;
    char name[MPI_MAX_OBJECT_NAME];
    int len = -1;
    begin("attributes_and_names");
    CHECK(MPI_Comm_get_attr(W, MPI_TAG_UB, &v, &flag) == MPI_SUCCESS);
    CHECK(flag && v);
    if (flag && v)
        CHECKF(*v >= 32767, "MPI_TAG_UB %d", *v);
    /* the largest tag works */
    if (flag && v) {
        int x = wrank, y = -1;
        MPI_Sendrecv(&x, 1, MPI_INT, (wrank + 1) % wsize, *v, &y, 1, MPI_INT, (wrank + wsize - 1) % wsize,
                     *v, W, MPI_STATUS_IGNORE);
        CHECK(y == (wrank + wsize - 1) % wsize);
    }
    flag = 0;
    v = NULL;
    CHECK(MPI_Comm_get_attr(W, MPI_WTIME_IS_GLOBAL, &v, &flag) == MPI_SUCCESS);
    CHECK(flag && v);
    if (flag && v)
        CHECKF(*v == 0 || *v == 1, "MPI_WTIME_IS_GLOBAL %d", *v);

    MPI_Comm_get_name(W, name, &len);
    CHECKF(strcmp(name, "MPI_COMM_WORLD") == 0 && len == 14, "name \"%s\"", name);
    MPI_Comm_get_name(MPI_COMM_SELF, name, &len);
    CHECKF(strcmp(name, "MPI_COMM_SELF") == 0 && len == 13, "name \"%s\"", name);
    MPI_Comm d;
    MPI_Comm_dup(W, &d);
    CHECK(MPI_Comm_set_name(d, "my duplicate") == MPI_SUCCESS);
    MPI_Comm_get_name(d, name, &len);
    CHECK(strcmp(name, "my duplicate") == 0 && len == 12);
    MPI_Comm_set_name(d, "renamed");
    MPI_Comm_get_name(d, name, &len);
    CHECK(strcmp(name, "renamed") == 0 && len == 7);
    MPI_Comm_get_name(W, name, &len);    /* the parent keeps its name */
    CHECK(strcmp(name, "MPI_COMM_WORLD") == 0);
    MPI_Comm_free(&d);
    end();
}

/* The same source, destination and tag on four communicators: each message
 * is received on its own communicator, whatever the order, wildcards too. */
static void test_isolation(void)
{
    MPI_Comm dup, split, created;
    MPI_Group wg;
    MPI_Request s[4];
    int right = (wrank + 1) % wsize, left = (wrank + wsize - 1) % wsize;
    int out[4], in = -1;
    MPI_Status st;
    begin("traffic_isolation");
    MPI_Comm_dup(W, &dup);
    MPI_Comm_split(W, 0, wrank, &split);
    MPI_Comm_group(W, &wg);
    MPI_Comm_create(W, wg, &created);
    MPI_Group_free(&wg);
    MPI_Comm comms[4] = {W, dup, split, created};
    for (int k = 0; k < 4; k++) {
        out[k] = 100 * k + wrank;
        MPI_Isend(&out[k], 1, MPI_INT, right, 5, comms[k], &s[k]);
    }
    for (int k = 3; k >= 0; k--) {   /* reverse order, and wildcards */
        MPI_Recv(&in, 1, MPI_INT, MPI_ANY_SOURCE, MPI_ANY_TAG, comms[k], &st);
        CHECKF(in == 100 * k + left && st.MPI_SOURCE == left && st.MPI_TAG == 5,
               "communicator %d received %d from %d", k, in, st.MPI_SOURCE);
    }
    MPI_Waitall(4, s, MPI_STATUSES_IGNORE);
    /* collectives on one communicator and point to point on another */
    int x = wrank, sum = -1;
    MPI_Isend(&x, 1, MPI_INT, right, 6, W, &s[0]);
    MPI_Allreduce(&x, &sum, 1, MPI_INT, MPI_SUM, dup);
    MPI_Recv(&in, 1, MPI_INT, left, 6, W, MPI_STATUS_IGNORE);
    CHECK(sum == wsize * (wsize - 1) / 2 && in == left);
    MPI_Wait(&s[0], MPI_STATUS_IGNORE);
    /* parity communicators: the same ranks numbers mean other processes */
    MPI_Comm par;
    MPI_Comm_split(W, wrank % 2, wrank, &par);
    int pr, ps;
    MPI_Comm_rank(par, &pr);
    MPI_Comm_size(par, &ps);
    int pv = wrank, pg = -1;
    MPI_Sendrecv(&pv, 1, MPI_INT, (pr + 1) % ps, 5, &pg, 1, MPI_INT, (pr + ps - 1) % ps, 5, par,
                 MPI_STATUS_IGNORE);
    int expect = wrank - 2 >= 0 ? wrank - 2 : wrank + 2 * (ps - 1);
    CHECKF(pg == expect, "parity ring: got %d, expected %d", pg, expect);
    MPI_Comm_free(&par);
    MPI_Comm_free(&dup);
    MPI_Comm_free(&split);
    MPI_Comm_free(&created);
    end();
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(W, &wrank);
    MPI_Comm_size(W, &wsize);
    test_dup();
    test_split();
    test_groups();
    test_create();
    test_cart();
    test_attributes_names();
    test_isolation();
    return finish("comms");
}
