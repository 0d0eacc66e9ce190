/* Groups (MPI-3.1 6.3): a group is a list of world ranks, reference
 * counted: a communicator holds one reference to its group and
 * MPI_Comm_group hands out more. MPI_GROUP_EMPTY is a static. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "impl.h"

struct group {
	int refs;
	int size;
	int *world;             /* world rank of each member, in group order */
};
static struct group empty_group = {1, 0, NULL};
static struct group **gtab;
static int ngtab;

static struct group *group_get(MPI_Group h)
{
	if (h == MPI_GROUP_EMPTY)
		return &empty_group;
	if (TORO_HANDLE_KIND(h) != TORO_KIND_GROUP || TORO_HANDLE_IS_BUILTIN(h) || h < 0)
		return NULL;
	int i = h & TORO_HANDLE_INDEX_MASK;
	return i < ngtab ? gtab[i] : NULL;
}

/* A group of n members (world ranks); MPI_GROUP_EMPTY when n is 0,
 * MPI_GROUP_NULL when out of memory. */
static MPI_Group group_new(int n, const int *world)
{
	if (n == 0)
		return MPI_GROUP_EMPTY;
	int i = 0;
	while (i < ngtab && gtab[i])
		i++;
	if (i == ngtab) {
		struct group **t = realloc(gtab, (ngtab + 1) * sizeof *t);
		if (!t)
			return MPI_GROUP_NULL;
		gtab = t;
		gtab[ngtab++] = NULL;
	}
	struct group *g = malloc(sizeof *g);
	int *w = malloc((size_t)n * sizeof *w);
	if (!g || !w) {
		free(g);
		free(w);
		return MPI_GROUP_NULL;
	}
	memcpy(w, world, (size_t)n * sizeof *w);
	*g = (struct group){1, n, w};
	gtab[i] = g;
	return TORO_MAKE_HANDLE(TORO_KIND_GROUP, i);
}

static void group_release(MPI_Group h)
{
	struct group *g = group_get(h);
	if (!g || g == &empty_group || --g->refs > 0)
		return;
	gtab[h & TORO_HANDLE_INDEX_MASK] = NULL;
	free(g->world);
	free(g);
}

/* pos[w] = the rank of world rank w in g, or MPI_UNDEFINED; an array of
 * the world's size, freed by the caller. NULL when out of memory. */
static int *group_pos(const struct group *g)
{
	int n = toro->nranks;
	int *pos = malloc((size_t)n * sizeof *pos);
	if (!pos)
		return NULL;
	for (int i = 0; i < n; i++)
		pos[i] = MPI_UNDEFINED;
	for (int i = 0; i < g->size; i++)
		pos[g->world[i]] = i;
	return pos;
}

/* The checks of a group argument; NULL after reporting. */
static struct group *group_arg(MPI_Group h, const char *func, int *rc)
{
	struct group *g = NULL;
	if (!mpi_ready(func))
		*rc = MPI_ERR_OTHER;
	else if (!(g = group_get(h)))
		*rc = mpi_err(MPI_COMM_NULL, MPI_ERR_GROUP, func, "invalid group");
	return g;
}

/* Stores a new group made of n world ranks in *out. */
static int group_out(int n, const int *world, MPI_Group *out, const char *func)
{
	MPI_Group h = group_new(n, world);
	if (h == MPI_GROUP_NULL)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, func, "out of memory");
	*out = h;
	return MPI_SUCCESS;
}

int MPI_Group_size(MPI_Group group, int *size)
{
	int rc;
	struct group *g = group_arg(group, __func__, &rc);
	if (!g)
		return rc;
	*size = g->size;
	return MPI_SUCCESS;
}

/* The rank of the calling process in the group, else MPI_UNDEFINED. */
int MPI_Group_rank(MPI_Group group, int *rank)
{
	int rc;
	struct group *g = group_arg(group, __func__, &rc);
	if (!g)
		return rc;
	*rank = MPI_UNDEFINED;
	for (int i = 0; i < g->size; i++)
		if (g->world[i] == toro->rank)
			*rank = i;
	return MPI_SUCCESS;
}

/* 6.3.2: MPI_GROUP_EMPTY may be freed too (the group calls return it). */
int MPI_Group_free(MPI_Group *group)
{
	int rc;
	if (!group)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "group is NULL");
	if (!group_arg(*group, __func__, &rc))
		return rc;
	group_release(*group);
	*group = MPI_GROUP_NULL;
	return MPI_SUCCESS;
}

/* 6.3.2: the n ranks must be valid and distinct; the new group has them
 * in the order given. `excl` keeps the others, in group order. */
static int incl_excl(MPI_Group group, int n, const int ranks[], MPI_Group *newgroup,
		     bool excl, const char *func)
{
	int rc;
	struct group *g = group_arg(group, func, &rc);
	if (!g)
		return rc;
	if (n < 0 || n > g->size || (n > 0 && !ranks) || !newgroup)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, func, "bad count %d or NULL array", n);
	char *seen = calloc((size_t)g->size + 1, 1);
	int *w = malloc(((size_t)g->size + 1) * sizeof *w);
	rc = MPI_SUCCESS;
	if (!seen || !w)
		rc = mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, func, "out of memory");
	for (int i = 0; rc == MPI_SUCCESS && i < n; i++) {
		if (ranks[i] < 0 || ranks[i] >= g->size || seen[ranks[i]])
			rc = mpi_err(MPI_COMM_NULL, MPI_ERR_RANK, func, "rank %d is %s (group of size %d)",
				     ranks[i], ranks[i] < 0 || ranks[i] >= g->size ? "invalid" : "repeated", g->size);
		else
			seen[ranks[i]] = 1;
	}
	if (rc == MPI_SUCCESS) {
		int m = 0;
		if (excl) {
			for (int i = 0; i < g->size; i++)
				if (!seen[i])
					w[m++] = g->world[i];
		} else {
			for (int i = 0; i < n; i++)
				w[m++] = g->world[ranks[i]];
		}
		rc = group_out(m, w, newgroup, func);
	}
	free(seen);
	free(w);
	return rc;
}

int MPI_Group_incl(MPI_Group group, int n, const int ranks[], MPI_Group *newgroup)
{
	return incl_excl(group, n, ranks, newgroup, false, __func__);
}

int MPI_Group_excl(MPI_Group group, int n, const int ranks[], MPI_Group *newgroup)
{
	return incl_excl(group, n, ranks, newgroup, true, __func__);
}

/* 6.3.2: a triplet (first, last, stride) stands for first, first + stride,
 * ..., first + floor((last - first) / stride) * stride; stride may be
 * negative but not zero, and first > last with stride > 0 means no rank.
 * Expands the n triplets into ranks (sized group size); returns the count,
 * -1 for a zero stride, -2 when there are more ranks than the group has
 * (so some repeat: erroneous). */
static int expand_ranges(int n, int ranges[][3], int size, int *ranks)
{
	int m = 0;
	for (int i = 0; i < n; i++) {
		long first = ranges[i][0], last = ranges[i][1], stride = ranges[i][2];
		if (stride == 0)
			return -1;
		long span = last - first;
		/* floor division (C truncates toward zero) */
		long steps = span / stride - ((span % stride != 0) && ((span < 0) != (stride < 0)));
		for (long k = 0; k <= steps; k++) {
			if (m == size)
				return -2;
			long r = first + k * stride;
			ranks[m++] = r < INT_MIN || r > INT_MAX ? -1 : (int)r;
		}
	}
	return m;
}

static int range_incl_excl(MPI_Group group, int n, int ranges[][3], MPI_Group *newgroup,
			   bool excl, const char *func)
{
	int rc;
	struct group *g = group_arg(group, func, &rc);
	if (!g)
		return rc;
	if (n < 0 || (n > 0 && !ranges))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, func, "bad count %d or NULL array", n);
	int *ranks = malloc(((size_t)g->size + 1) * sizeof *ranks);
	if (!ranks)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, func, "out of memory");
	int m = expand_ranges(n, ranges, g->size, ranks);
	if (m == -1)
		rc = mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, func, "a range has stride 0");
	else if (m == -2)
		rc = mpi_err(MPI_COMM_NULL, MPI_ERR_RANK, func, "the ranges name more ranks than the group has (%d)", g->size);
	else
		rc = incl_excl(group, m, ranks, newgroup, excl, func);
	free(ranks);
	return rc;
}

int MPI_Group_range_incl(MPI_Group group, int n, int ranges[][3], MPI_Group *newgroup)
{
	return range_incl_excl(group, n, ranges, newgroup, false, __func__);
}

int MPI_Group_range_excl(MPI_Group group, int n, int ranges[][3], MPI_Group *newgroup)
{
	return range_incl_excl(group, n, ranges, newgroup, true, __func__);
}

/* 6.3.2 set operations, in the order the standard fixes: union is all of
 * group1 then the members of group2 not in group1; intersection and
 * difference keep group1's order. op: 'u', 'i' or 'd'. */
static int setop(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup, char op, const char *func)
{
	int rc;
	struct group *a = group_arg(group1, func, &rc), *b;
	if (!a)
		return rc;
	if (!(b = group_arg(group2, func, &rc)))
		return rc;
	if (!newgroup)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, func, "newgroup is NULL");
	int *inb = group_pos(b), *ina = group_pos(a);
	int *w = malloc(((size_t)a->size + b->size + 1) * sizeof *w);
	int m = 0;
	if (!inb || !ina || !w) {
		rc = mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, func, "out of memory");
	} else {
		for (int i = 0; i < a->size; i++) {
			bool both = inb[a->world[i]] != MPI_UNDEFINED;
			if (op == 'u' || (op == 'i' && both) || (op == 'd' && !both))
				w[m++] = a->world[i];
		}
		for (int i = 0; op == 'u' && i < b->size; i++)
			if (ina[b->world[i]] == MPI_UNDEFINED)
				w[m++] = b->world[i];
		rc = group_out(m, w, newgroup, func);
	}
	free(inb);
	free(ina);
	free(w);
	return rc;
}

int MPI_Group_union(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup)
{
	return setop(group1, group2, newgroup, 'u', __func__);
}

int MPI_Group_intersection(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup)
{
	return setop(group1, group2, newgroup, 'i', __func__);
}

int MPI_Group_difference(MPI_Group group1, MPI_Group group2, MPI_Group *newgroup)
{
	return setop(group1, group2, newgroup, 'd', __func__);
}

/* 6.3.1: MPI_UNDEFINED where a process of group1 is not in group2;
 * MPI_PROC_NULL translates to MPI_PROC_NULL. */
int MPI_Group_translate_ranks(MPI_Group group1, int n, const int ranks1[], MPI_Group group2, int ranks2[])
{
	int rc;
	struct group *a = group_arg(group1, __func__, &rc), *b;
	if (!a)
		return rc;
	if (!(b = group_arg(group2, __func__, &rc)))
		return rc;
	if (n < 0 || (n > 0 && (!ranks1 || !ranks2)))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "bad count %d or NULL array", n);
	for (int i = 0; i < n; i++)
		if (ranks1[i] != MPI_PROC_NULL && (ranks1[i] < 0 || ranks1[i] >= a->size))
			return mpi_err(MPI_COMM_NULL, MPI_ERR_RANK, __func__, "invalid rank %d (group of size %d)",
				       ranks1[i], a->size);
	int *pos = group_pos(b);
	if (!pos)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, __func__, "out of memory");
	for (int i = 0; i < n; i++)
		ranks2[i] = ranks1[i] == MPI_PROC_NULL ? MPI_PROC_NULL : pos[a->world[ranks1[i]]];
	free(pos);
	return MPI_SUCCESS;
}

/* IDENT: same members in the same order; SIMILAR: same members;
 * else UNEQUAL (6.3.1). Also used for communicators (6.4.1). */
int group_compare_lists(int na, const int *a, int nb, const int *b, int *result)
{
	*result = MPI_UNEQUAL;
	if (na != nb)
		return MPI_SUCCESS;
	if (na == 0 || memcmp(a, b, (size_t)na * sizeof *a) == 0) {
		*result = MPI_IDENT;
		return MPI_SUCCESS;
	}
	struct group gb = {1, nb, (int *)b};
	int *pos = group_pos(&gb);
	if (!pos)
		return MPI_ERR_NO_MEM;
	int i = 0;
	while (i < na && pos[a[i]] != MPI_UNDEFINED)
		i++;
	*result = i == na ? MPI_SIMILAR : MPI_UNEQUAL;
	free(pos);
	return MPI_SUCCESS;
}

int MPI_Group_compare(MPI_Group group1, MPI_Group group2, int *result)
{
	int rc;
	struct group *a = group_arg(group1, __func__, &rc), *b;
	if (!a)
		return rc;
	if (!(b = group_arg(group2, __func__, &rc)))
		return rc;
	if (group_compare_lists(a->size, a->world, b->size, b->world, result) != MPI_SUCCESS)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, __func__, "out of memory");
	return MPI_SUCCESS;
}

MPI_Group group_of(int n, const int *world)
{
	return group_new(n, world);
}

const int *group_members(MPI_Group h, int *n)
{
	struct group *g = group_get(h);
	if (!g)
		return NULL;
	*n = g->size;
	static const int none[1];
	return g->world ? g->world : none;
}

void group_drop(MPI_Group h)
{
	group_release(h);
}

void group_retain(MPI_Group h)
{
	struct group *g = group_get(h);
	if (g)
		g->refs++;
}

/* pos[w] = the rank of world rank w among the n members `world`, or
 * MPI_UNDEFINED; freed by the caller; NULL when out of memory. */
int *group_world_pos(int n, const int *world)
{
	struct group g = {1, n, (int *)world};
	return group_pos(&g);
}

/* 17.2.4: handles are ints already, so the Fortran handle is the same
 * number (an invalid one stays invalid). */
MPI_Fint MPI_Group_c2f(MPI_Group group)
{
	return (MPI_Fint)group;
}

MPI_Group MPI_Group_f2c(MPI_Fint group)
{
	return (MPI_Group)group;
}
