/* Communicators, groups, attribute caching and names (MPI-3.1 chapter 6,
 * 8.1.2 for the attributes of MPI_COMM_WORLD).
 *
 * A communicator is a struct comm (impl.h): the world ranks of its
 * members in rank order and a context id. Run-time communicators are kept
 * in a table indexed by their handle; MPI_COMM_WORLD and MPI_COMM_SELF are
 * two statics. Context ids come in pairs (ctx for point to point, ctx + 1
 * for collectives): WORLD has 0, SELF 2, and each new communicator takes
 * the largest "next free id" of the parent's members (an MPI_Allreduce with
 * MPI_MAX), so the id is free on every member. Ids are never reused.
 *
 * A group is a list of world ranks (struct group below), reference
 * counted: the communicator holds one reference to its group and
 * MPI_Comm_group hands out more. Intercommunicators do not exist in Toro.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "impl.h"

/* errors.c (to move to impl.h): the value of MPI_LASTUSEDCODE. */

/* c->attrs: the cached attributes in the order they were set (a value
 * set again moves to the end). */
struct attr {
	int keyval;
	void *val;
};
struct attrs {
	int n;
	struct attr *v;
};

static struct comm world_c, self_c;
static bool world_ok;           /* comm_init_world has run */
static struct comm **ctab;      /* run-time communicators by handle index */
static int nctab;
static int next_ctx;            /* the next context id this rank has not used */

/* ======================================================================
 * Groups
 * ====================================================================== */

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
static int compare_lists(int na, const int *a, int nb, const int *b, int *result)
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
	if (compare_lists(a->size, a->world, b->size, b->world, result) != MPI_SUCCESS)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, __func__, "out of memory");
	return MPI_SUCCESS;
}

/* ======================================================================
 * Communicator objects
 * ====================================================================== */

struct comm *comm_get(MPI_Comm h)
{
	if (h == MPI_COMM_WORLD)
		return world_ok ? &world_c : NULL;
	if (h == MPI_COMM_SELF)
		return world_ok ? &self_c : NULL;
	if (TORO_HANDLE_KIND(h) != TORO_KIND_COMM || TORO_HANDLE_IS_BUILTIN(h) || h < 0)
		return NULL;
	int i = h & TORO_HANDLE_INDEX_MASK;
	return i < nctab ? ctab[i] : NULL;
}

/* Fills c for the members `world` (size of them) with this rank at
 * `rank`; false when out of memory (then c holds nothing to free). */
static bool comm_fill(struct comm *c, int size, const int *world, int rank, int ctx)
{
	c->world = malloc((size_t)size * sizeof *c->world);
	c->group = group_new(size, world);
	if (!c->world || c->group == MPI_GROUP_NULL) {
		free(c->world);
		group_release(c->group);
		return false;
	}
	memcpy(c->world, world, (size_t)size * sizeof *c->world);
	c->ctx = ctx;
	c->rank = rank;
	c->size = size;
	c->errh = MPI_ERRORS_ARE_FATAL;
	c->topo = MPI_UNDEFINED;
	c->refs = 1;
	return true;
}

void comm_init_world(int rank, int size)
{
	int *all = malloc((size_t)size * sizeof *all);
	if (!all) {
		mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, "MPI_Init", "out of memory");
		return;
	}
	for (int i = 0; i < size; i++)
		all[i] = i;
	if (!comm_fill(&world_c, size, all, rank, 0) || !comm_fill(&self_c, 1, &rank, 0, 2))
		mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, "MPI_Init", "out of memory");
	free(all);
	world_c.handle = MPI_COMM_WORLD;
	self_c.handle = MPI_COMM_SELF;
	strcpy(world_c.name, "MPI_COMM_WORLD");
	strcpy(self_c.name, "MPI_COMM_SELF");
	next_ctx = 4;
	world_ok = true;
}

/* A free slot of the communicator table; -1 when out of memory. */
static int comm_slot(void)
{
	int i = 0;
	while (i < nctab && ctab[i])
		i++;
	if (i == nctab) {
		struct comm **t = realloc(ctab, (nctab + 1) * sizeof *t);
		if (!t)
			return -1;
		ctab = t;
		ctab[nctab++] = NULL;
	}
	return i;
}

/* Context ids that pending MPI_Comm_idup calls hold (comm_idup.c): a new
 * communicator takes an id above all of them, so that a blocking creation
 * between the start and the end of an idup cannot take the idup's id. */
static int *held;
static int nheld;

int comm_ctx_propose(void)
{
	int p = next_ctx;
	for (int i = 0; i < nheld; i++)
		if (held[i] + 2 > p)
			p = held[i] + 2;
	return p;
}

bool comm_ctx_hold(int ctx)
{
	if (ctx < next_ctx)
		return false;
	for (int i = 0; i < nheld; i++)
		if (held[i] == ctx)
			return false;
	int *t = realloc(held, (size_t)(nheld + 1) * sizeof *t);
	if (!t)
		return false;
	held = t;
	held[nheld++] = ctx;
	return true;
}

void comm_ctx_unhold(int ctx, bool taken)
{
	for (int i = 0; i < nheld; i++)
		if (held[i] == ctx)
			held[i] = held[--nheld];
	if (taken && ctx + 2 > next_ctx)
		next_ctx = ctx + 2;
}

struct comm *comm_create_from(struct comm *parent, int size, const int *world, bool *err)
{
	int mine = comm_ctx_propose(), ctx;
	*err = false;
	if (MPI_Allreduce(&mine, &ctx, 1, MPI_INT, MPI_MAX, parent->handle) != MPI_SUCCESS) {
		*err = true;
		return NULL;
	}
	next_ctx = ctx + 2;
	return comm_make(parent, size, world, ctx, err);
}

struct comm *comm_make(struct comm *parent, int size, const int *world, int ctx, bool *err)
{
	int rank = -1;
	for (int i = 0; i < size; i++)
		if (world[i] == toro->rank)
			rank = i;
	if (rank < 0)
		return NULL;
	struct comm *c = calloc(1, sizeof *c);
	int slot = comm_slot();
	if (!c || slot < 0 || !comm_fill(c, size, world, rank, ctx)) {
		free(c);
		*err = true;
		return NULL;
	}
	c->handle = TORO_MAKE_HANDLE(TORO_KIND_COMM, slot);
	c->errh = parent->errh;         /* 8.3: inherited from the parent */
	ctab[slot] = c;
	return c;
}

/* Drops one reference; the last frees the object. The handle must be
 * out of the table already. (For p2p.c, which may hold references for
 * pending requests: to move to impl.h.) */
void comm_release(struct comm *c)
{
	if (--c->refs > 0 || c == &world_c || c == &self_c)
		return;
	free(c->world);
	free(c->dims);
	free(c->periods);
	graph_free(c->graph);
	group_release(c->group);
	if (c->attrs)
		free(((struct attrs *)c->attrs)->v);
	free(c->attrs);
	free(c);
}

/* The checks of a communicator argument; NULL after reporting. */
static struct comm *comm_arg(MPI_Comm h, const char *func, int *rc)
{
	struct comm *c = NULL;
	if (!mpi_ready(func))
		*rc = MPI_ERR_OTHER;
	else if (!(c = comm_get(h)))
		*rc = mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, func, "invalid communicator");
	return c;
}

/* Reports the failure of comm_create_from (its MPI_Allreduce has already
 * gone through the error handler when that failed). */
static int create_failed(struct comm *parent, const char *func)
{
	return mpi_err(parent->handle, MPI_ERR_OTHER, func, "creating the communicator failed");
}

int MPI_Comm_size(MPI_Comm comm, int *size)
{
	int rc;
	struct comm *c = comm_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (!size)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "size is NULL");
	*size = c->size;
	return MPI_SUCCESS;
}

int MPI_Comm_rank(MPI_Comm comm, int *rank)
{
	int rc;
	struct comm *c = comm_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (!rank)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "rank is NULL");
	*rank = c->rank;
	return MPI_SUCCESS;
}

/* 6.4.1: IDENT only for the same object; CONGRUENT for the same members
 * in the same order (different contexts); SIMILAR, UNEQUAL as groups. */
int MPI_Comm_compare(MPI_Comm comm1, MPI_Comm comm2, int *result)
{
	int rc;
	struct comm *a = comm_arg(comm1, __func__, &rc), *b;
	if (!a)
		return rc;
	if (!(b = comm_arg(comm2, __func__, &rc)))
		return rc;
	if (a == b) {
		*result = MPI_IDENT;
		return MPI_SUCCESS;
	}
	if (compare_lists(a->size, a->world, b->size, b->world, result) != MPI_SUCCESS)
		return mpi_err(comm1, MPI_ERR_NO_MEM, __func__, "out of memory");
	if (*result == MPI_IDENT)
		*result = MPI_CONGRUENT;
	return MPI_SUCCESS;
}

int MPI_Comm_group(MPI_Comm comm, MPI_Group *group)
{
	int rc;
	struct comm *c = comm_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (!group)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "group is NULL");
	group_get(c->group)->refs++;
	*group = c->group;
	return MPI_SUCCESS;
}

/* 6.6.1: an intracommunicator has no remote group. */
int MPI_Comm_remote_size(MPI_Comm comm, int *size)
{
	int rc;
	(void)size;
	if (!comm_arg(comm, __func__, &rc))
		return rc;
	return mpi_err(comm, MPI_ERR_COMM, __func__, "not an intercommunicator (Toro has none)");
}

int MPI_Comm_remote_group(MPI_Comm comm, MPI_Group *group)
{
	int rc;
	(void)group;
	if (!comm_arg(comm, __func__, &rc))
		return rc;
	return mpi_err(comm, MPI_ERR_COMM, __func__, "not an intercommunicator (Toro has none)");
}

int MPI_Comm_test_inter(MPI_Comm comm, int *flag)
{
	int rc;
	if (!comm_arg(comm, __func__, &rc))
		return rc;
	*flag = 0;
	return MPI_SUCCESS;
}

/* 6.8: names are local and not copied by MPI_Comm_dup; longer names are
 * cut to MPI_MAX_OBJECT_NAME - 1 characters. */
int MPI_Comm_set_name(MPI_Comm comm, const char *comm_name)
{
	int rc;
	struct comm *c = comm_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (!comm_name)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "comm_name is NULL");
	strncpy(c->name, comm_name, MPI_MAX_OBJECT_NAME - 1);
	c->name[MPI_MAX_OBJECT_NAME - 1] = 0;
	return MPI_SUCCESS;
}

int MPI_Comm_get_name(MPI_Comm comm, char *comm_name, int *resultlen)
{
	int rc;
	struct comm *c = comm_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (!comm_name || !resultlen)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "NULL argument");
	strcpy(comm_name, c->name);
	*resultlen = (int)strlen(c->name);
	return MPI_SUCCESS;
}

/* Toro uses no hints: set_info accepts any, get_info gives an empty info. */
int MPI_Comm_set_info(MPI_Comm comm, MPI_Info info)
{
	int rc;
	(void)info;
	if (!comm_arg(comm, __func__, &rc))
		return rc;
	return MPI_SUCCESS;
}

int MPI_Comm_get_info(MPI_Comm comm, MPI_Info *info_used)
{
	int rc;
	if (!comm_arg(comm, __func__, &rc))
		return rc;
	return MPI_Info_create(info_used);
}

/* ======================================================================
 * Attributes (6.7; the MPI-1 names of chapter 15)
 * ====================================================================== */

struct keyval {
	MPI_Comm_copy_attr_function *copy;
	MPI_Comm_delete_attr_function *del;
	void *extra;
	int refs;               /* the user's handle + one per attribute */
	bool freed;             /* the user freed the handle */
};
static struct keyval **ktab;
static int nktab;


/* The values of the predefined attributes (8.1.2); get_attr returns a
 * pointer to them. */
static int attr_tag_ub = TORO_TAG_UB, attr_host = MPI_PROC_NULL, attr_io = MPI_ANY_SOURCE;
static int attr_wtime_global = 1, attr_universe, attr_lastused, attr_appnum = 0;

static struct keyval *keyval_get(int h)
{
	if (TORO_HANDLE_KIND(h) != TORO_KIND_KEYVAL || TORO_HANDLE_IS_BUILTIN(h) || h < 0)
		return NULL;
	int i = h & TORO_HANDLE_INDEX_MASK;
	return i < nktab ? ktab[i] : NULL;
}

static void keyval_release(int h)
{
	struct keyval *k = keyval_get(h);
	if (k && --k->refs == 0) {
		ktab[h & TORO_HANDLE_INDEX_MASK] = NULL;
		free(k);
	}
}

static struct attrs *attrs_of(struct comm *c)
{
	if (!c->attrs)
		c->attrs = calloc(1, sizeof(struct attrs));
	return c->attrs;
}

static int attr_find(struct comm *c, int keyval)
{
	struct attrs *a = c->attrs;
	for (int i = 0; a && i < a->n; i++)
		if (a->v[i].keyval == keyval)
			return i;
	return -1;
}

/* Appends (keyval, val) to c's list; false when out of memory. */
static bool attr_append(struct comm *c, int keyval, void *val)
{
	struct attrs *a = attrs_of(c);
	struct attr *t = a ? realloc(a->v, (a->n + 1) * sizeof *t) : NULL;
	if (!t)
		return false;
	a->v = t;
	a->v[a->n++] = (struct attr){keyval, val};
	keyval_get(keyval)->refs++;
	return true;
}

/* Runs the delete callback of attribute i of c and removes it; on a
 * callback error the attribute stays and its code is returned (6.7.2:
 * the call that caused it then fails). */
static int attr_remove(struct comm *c, int i)
{
	struct attrs *a = c->attrs;
	struct attr at = a->v[i];
	struct keyval *k = keyval_get(at.keyval);
	if (k->del) {
		int rc = k->del(c->handle, at.keyval, at.val, k->extra);
		if (rc != MPI_SUCCESS)
			return rc;
	}
	/* the callback may have changed the list: find the entry again */
	i = attr_find(c, at.keyval);
	if (i >= 0) {
		memmove(&a->v[i], &a->v[i + 1], (size_t)(a->n - i - 1) * sizeof *a->v);
		a->n--;
		keyval_release(at.keyval);
	}
	return MPI_SUCCESS;
}

/* Deletes every attribute of c, the last set first. */
static int attrs_clear(struct comm *c)
{
	struct attrs *a = c->attrs;
	while (a && a->n > 0) {
		int rc = attr_remove(c, a->n - 1);
		if (rc != MPI_SUCCESS)
			return rc;
	}
	return MPI_SUCCESS;
}

/* 6.7.2: MPI_Comm_dup calls each copy callback; the attribute is copied
 * to the new communicator when the callback sets flag. */
static int attrs_copy(struct comm *from, struct comm *to)
{
	struct attrs *a = from->attrs;
	for (int i = 0; a && i < a->n; i++) {
		struct attr at = a->v[i];
		struct keyval *k = keyval_get(at.keyval);
		void *out = NULL;
		int flag = 0;
		if (k->copy) {
			int rc = k->copy(from->handle, at.keyval, k->extra, at.val, &out, &flag);
			if (rc != MPI_SUCCESS)
				return rc;
		}
		if (flag && !attr_append(to, at.keyval, out))
			return MPI_ERR_NO_MEM;
	}
	return MPI_SUCCESS;
}

/* The delete callbacks of MPI_COMM_SELF, for MPI_Finalize (8.7.1: in the
 * reverse order of setting). */
int comm_finalize_self(void)
{
	return attrs_clear(&self_c);
}

static int create_keyval(MPI_Comm_copy_attr_function *copy, MPI_Comm_delete_attr_function *del,
			 int *keyval, void *extra, const char *func)
{
	if (!mpi_ready(func))
		return MPI_ERR_OTHER;
	if (!keyval)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, func, "keyval is NULL");
	int i = 0;
	while (i < nktab && ktab[i])
		i++;
	struct keyval *k = malloc(sizeof *k);
	struct keyval **t = i < nktab ? ktab : realloc(ktab, (nktab + 1) * sizeof *t);
	if (!k || !t) {
		free(k);
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, func, "out of memory");
	}
	ktab = t;
	if (i == nktab)
		nktab++;
	*k = (struct keyval){copy, del, extra, 1, false};
	ktab[i] = k;
	*keyval = TORO_MAKE_HANDLE(TORO_KIND_KEYVAL, i);
	return MPI_SUCCESS;
}

/* 6.7.2: the keyval goes away when the last attribute using it does;
 * the handle is set to MPI_KEYVAL_INVALID. */
static int free_keyval(int *keyval, const char *func)
{
	if (!mpi_ready(func))
		return MPI_ERR_OTHER;
	struct keyval *k = keyval ? keyval_get(*keyval) : NULL;
	if (!k || k->freed)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_KEYVAL, func, "invalid keyval%s",
			       keyval && TORO_HANDLE_IS_BUILTIN(*keyval) ? " (predefined keyvals cannot be freed)" : "");
	k->freed = true;
	keyval_release(*keyval);
	*keyval = MPI_KEYVAL_INVALID;
	return MPI_SUCCESS;
}

static int set_attr(MPI_Comm comm, int keyval, void *val, const char *func)
{
	int rc;
	struct comm *c = comm_arg(comm, func, &rc);
	if (!c)
		return rc;
	struct keyval *k = keyval_get(keyval);
	if (!k || k->freed)
		return mpi_err(comm, MPI_ERR_KEYVAL, func, "invalid keyval%s",
			       TORO_HANDLE_IS_BUILTIN(keyval) ? " (predefined attributes are read-only)" : "");
	/* 6.7.2: as if the old value were deleted first (callback run) */
	int i = attr_find(c, keyval);
	if (i >= 0 && (rc = attr_remove(c, i)) != MPI_SUCCESS)
		return mpi_err(comm, rc, func, "the delete callback of the old value failed");
	if (!attr_append(c, keyval, val))
		return mpi_err(comm, MPI_ERR_NO_MEM, func, "out of memory");
	return MPI_SUCCESS;
}

/* The predefined attributes (8.1.2), on every communicator. NULL for a
 * keyval that is not one of them. */
static int *predefined_attr(int keyval)
{
	switch (keyval) {
	case MPI_TAG_UB: return &attr_tag_ub;
	case MPI_HOST: return &attr_host;
	case MPI_IO: return &attr_io;
	case MPI_WTIME_IS_GLOBAL: return &attr_wtime_global;
	case MPI_APPNUM: return &attr_appnum;
	case MPI_UNIVERSE_SIZE:
		attr_universe = toro->nranks;
		return &attr_universe;
	case MPI_LASTUSEDCODE:
		attr_lastused = err_lastused();
		return &attr_lastused;
	default: return NULL;
	}
}

/* attribute_val is really a void **: it receives the stored pointer (for
 * the predefined attributes, a pointer to the int value). */
static int get_attr(MPI_Comm comm, int keyval, void *attribute_val, int *flag, const char *func)
{
	int rc;
	struct comm *c = comm_arg(comm, func, &rc);
	if (!c)
		return rc;
	if (!attribute_val || !flag)
		return mpi_err(comm, MPI_ERR_ARG, func, "NULL argument");
	int *pre = predefined_attr(keyval);
	if (pre) {
		*(void **)attribute_val = pre;
		*flag = 1;
		return MPI_SUCCESS;
	}
	if (!keyval_get(keyval))
		return mpi_err(comm, MPI_ERR_KEYVAL, func, "invalid keyval");
	int i = attr_find(c, keyval);
	*flag = i >= 0;
	if (i >= 0)
		*(void **)attribute_val = ((struct attrs *)c->attrs)->v[i].val;
	return MPI_SUCCESS;
}

static int delete_attr(MPI_Comm comm, int keyval, const char *func)
{
	int rc;
	struct comm *c = comm_arg(comm, func, &rc);
	if (!c)
		return rc;
	if (!keyval_get(keyval))
		return mpi_err(comm, MPI_ERR_KEYVAL, func, "invalid keyval%s",
			       TORO_HANDLE_IS_BUILTIN(keyval) ? " (predefined attributes are read-only)" : "");
	int i = attr_find(c, keyval);
	if (i < 0)
		return mpi_err(comm, MPI_ERR_KEYVAL, func, "no attribute with this keyval on the communicator");
	if ((rc = attr_remove(c, i)) != MPI_SUCCESS)
		return mpi_err(comm, rc, func, "the delete callback failed");
	return MPI_SUCCESS;
}

int MPI_Comm_create_keyval(MPI_Comm_copy_attr_function *comm_copy_attr_fn,
			   MPI_Comm_delete_attr_function *comm_delete_attr_fn,
			   int *comm_keyval, void *extra_state)
{
	return create_keyval(comm_copy_attr_fn, comm_delete_attr_fn, comm_keyval, extra_state, __func__);
}

int MPI_Comm_free_keyval(int *comm_keyval)
{
	return free_keyval(comm_keyval, __func__);
}

int MPI_Comm_set_attr(MPI_Comm comm, int comm_keyval, void *attribute_val)
{
	return set_attr(comm, comm_keyval, attribute_val, __func__);
}

int MPI_Comm_get_attr(MPI_Comm comm, int comm_keyval, void *attribute_val, int *flag)
{
	return get_attr(comm, comm_keyval, attribute_val, flag, __func__);
}

int MPI_Comm_delete_attr(MPI_Comm comm, int comm_keyval)
{
	return delete_attr(comm, comm_keyval, __func__);
}

/* The deprecated MPI-1 names (15); in C they behave as the new ones. */
int MPI_Keyval_create(MPI_Copy_function *copy_fn, MPI_Delete_function *delete_fn,
		      int *keyval, void *extra_state)
{
	return create_keyval(copy_fn, delete_fn, keyval, extra_state, __func__);
}

int MPI_Keyval_free(int *keyval)
{
	return free_keyval(keyval, __func__);
}

int MPI_Attr_put(MPI_Comm comm, int keyval, void *attribute_val)
{
	return set_attr(comm, keyval, attribute_val, __func__);
}

int MPI_Attr_get(MPI_Comm comm, int keyval, void *attribute_val, int *flag)
{
	return get_attr(comm, keyval, attribute_val, flag, __func__);
}

int MPI_Attr_delete(MPI_Comm comm, int keyval)
{
	return delete_attr(comm, keyval, __func__);
}

/* The predefined callbacks (6.7.2, 15). */
int MPI_COMM_NULL_COPY_FN(MPI_Comm oldcomm, int comm_keyval, void *extra_state,
			  void *attribute_val_in, void *attribute_val_out, int *flag)
{
	(void)oldcomm, (void)comm_keyval, (void)extra_state, (void)attribute_val_in, (void)attribute_val_out;
	*flag = 0;
	return MPI_SUCCESS;
}

int MPI_COMM_DUP_FN(MPI_Comm oldcomm, int comm_keyval, void *extra_state,
		    void *attribute_val_in, void *attribute_val_out, int *flag)
{
	(void)oldcomm, (void)comm_keyval, (void)extra_state;
	*(void **)attribute_val_out = attribute_val_in;
	*flag = 1;
	return MPI_SUCCESS;
}

int MPI_COMM_NULL_DELETE_FN(MPI_Comm comm, int comm_keyval, void *attribute_val, void *extra_state)
{
	(void)comm, (void)comm_keyval, (void)attribute_val, (void)extra_state;
	return MPI_SUCCESS;
}

int MPI_NULL_COPY_FN(MPI_Comm oldcomm, int keyval, void *extra_state,
		     void *attribute_val_in, void *attribute_val_out, int *flag)
{
	return MPI_COMM_NULL_COPY_FN(oldcomm, keyval, extra_state, attribute_val_in, attribute_val_out, flag);
}

int MPI_DUP_FN(MPI_Comm oldcomm, int keyval, void *extra_state,
	       void *attribute_val_in, void *attribute_val_out, int *flag)
{
	return MPI_COMM_DUP_FN(oldcomm, keyval, extra_state, attribute_val_in, attribute_val_out, flag);
}

int MPI_NULL_DELETE_FN(MPI_Comm comm, int keyval, void *attribute_val, void *extra_state)
{
	return MPI_COMM_NULL_DELETE_FN(comm, keyval, attribute_val, extra_state);
}

/* ======================================================================
 * Making and freeing communicators (6.4)
 * ====================================================================== */

/* Takes c out of the handle table and drops the table's reference. */
static void comm_destroy(struct comm *c)
{
	ctab[c->handle & TORO_HANDLE_INDEX_MASK] = NULL;
	comm_release(c);
}

static bool topo_copy(struct comm *from, struct comm *to)
{
	to->topo = from->topo;
	to->ndims = from->ndims;
	if (from->graph && !(to->graph = graph_copy(from->graph)))
		return false;
	if (from->topo != MPI_CART || from->ndims == 0)
		return true;
	size_t n = (size_t)from->ndims * sizeof(int);
	to->dims = malloc(n);
	to->periods = malloc(n);
	if (!to->dims || !to->periods)
		return false;
	memcpy(to->dims, from->dims, n);
	memcpy(to->periods, from->periods, n);
	return true;
}

int comm_dup_copy(struct comm *from, struct comm *to)
{
	int rc = topo_copy(from, to) ? attrs_copy(from, to) : MPI_ERR_NO_MEM;
	if (rc != MPI_SUCCESS) {
		attrs_clear(to);
		comm_destroy(to);
	}
	return rc;
}

/* 6.4.2: same group, new context, the attributes the copy callbacks
 * choose, the topology; the error handler comes with comm_create_from. */
static int dup(MPI_Comm comm, MPI_Comm *newcomm, const char *func)
{
	int rc;
	bool err;
	struct comm *c = comm_arg(comm, func, &rc);
	if (!c)
		return rc;
	if (!newcomm)
		return mpi_err(comm, MPI_ERR_ARG, func, "newcomm is NULL");
	struct comm *n = comm_create_from(c, c->size, c->world, &err);
	if (!n)
		return create_failed(c, func);
	if ((rc = comm_dup_copy(c, n)) != MPI_SUCCESS)
		return mpi_err(comm, rc, func, "%s", rc == MPI_ERR_NO_MEM ? "out of memory"
			       : "an attribute copy callback failed");
	*newcomm = n->handle;
	return MPI_SUCCESS;
}

int MPI_Comm_dup(MPI_Comm comm, MPI_Comm *newcomm)
{
	return dup(comm, newcomm, __func__);
}

/* Toro has no hints, so this is MPI_Comm_dup. */
int MPI_Comm_dup_with_info(MPI_Comm comm, MPI_Info info, MPI_Comm *newcomm)
{
	(void)info;
	return dup(comm, newcomm, __func__);
}

/* 6.4.2: collective over comm; the members of group (a subset of comm's)
 * get the new communicator, in group order, the others MPI_COMM_NULL. */
int MPI_Comm_create(MPI_Comm comm, MPI_Group group, MPI_Comm *newcomm)
{
	int rc;
	bool err;
	struct comm *c = comm_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	struct group *g = group_get(group);
	if (!g)
		return mpi_err(comm, MPI_ERR_GROUP, __func__, "invalid group");
	if (!newcomm)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "newcomm is NULL");
	struct group cg = {1, c->size, c->world};
	int *pos = group_pos(&cg);
	if (!pos)
		return mpi_err(comm, MPI_ERR_NO_MEM, __func__, "out of memory");
	int i = 0;
	while (i < g->size && pos[g->world[i]] != MPI_UNDEFINED)
		i++;
	free(pos);
	if (i < g->size)
		return mpi_err(comm, MPI_ERR_GROUP, __func__, "the group is not a subset of the communicator's");
	struct comm *n = comm_create_from(c, g->size, g->world, &err);
	if (!n && err)
		return create_failed(c, __func__);
	*newcomm = n ? n->handle : MPI_COMM_NULL;
	return MPI_SUCCESS;
}

struct member {
	int key, rank;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->rank > y->rank) - (x->rank < y->rank);
}

/* From the gathered (color, key, rank) triples of the n ranks of a
 * communicator, the ranks of color `color` ordered by key, ties by old
 * rank (6.4.2). Returns how many; ranks needs room for n. */
static int split_members(const int *all, int n, int color, int *ranks)
{
	struct member *m = malloc(((size_t)n + 1) * sizeof *m);
	int k = 0;
	if (!m)
		return -1;
	for (int i = 0; color != MPI_UNDEFINED && i < n; i++)
		if (all[3 * i] == color)
			m[k++] = (struct member){all[3 * i + 1], all[3 * i + 2]};
	qsort(m, (size_t)k, sizeof *m, member_cmp);
	for (int i = 0; i < k; i++)
		ranks[i] = m[i].rank;
	free(m);
	return k;
}

static int split(MPI_Comm comm, int color, int key, MPI_Comm *newcomm, const char *func)
{
	int rc;
	bool err;
	struct comm *c = comm_arg(comm, func, &rc);
	if (!c)
		return rc;
	if (color < 0 && color != MPI_UNDEFINED)
		return mpi_err(comm, MPI_ERR_ARG, func, "color %d is negative", color);
	if (!newcomm)
		return mpi_err(comm, MPI_ERR_ARG, func, "newcomm is NULL");
	int mine[3] = {color, key, c->rank};
	int *all = malloc((size_t)c->size * 3 * sizeof *all);
	int *world = malloc((size_t)c->size * sizeof *world);
	if (!all || !world) {
		free(all);
		free(world);
		return mpi_err(comm, MPI_ERR_NO_MEM, func, "out of memory");
	}
	rc = MPI_Allgather(mine, 3, MPI_INT, all, 3, MPI_INT, comm);
	struct comm *nc = NULL;
	if (rc == MPI_SUCCESS) {
		int n = split_members(all, c->size, color, world);
		for (int i = 0; i < n; i++)
			world[i] = c->world[world[i]];
		/* out of memory: still take part in the collective */
		nc = comm_create_from(c, n < 0 ? 0 : n, world, &err);
		if (n < 0)
			rc = mpi_err(comm, MPI_ERR_NO_MEM, func, "out of memory");
		else if (!nc && err)
			rc = create_failed(c, func);
	}
	free(all);
	free(world);
	if (rc == MPI_SUCCESS)
		*newcomm = nc ? nc->handle : MPI_COMM_NULL;
	return rc;
}

int MPI_Comm_split(MPI_Comm comm, int color, int key, MPI_Comm *newcomm)
{
	return split(comm, color, key, newcomm, __func__);
}

/* 6.4.2: all ranks share one memory, so MPI_COMM_TYPE_SHARED puts
 * everyone who asks for it in one communicator. */
int MPI_Comm_split_type(MPI_Comm comm, int split_type, int key, MPI_Info info, MPI_Comm *newcomm)
{
	(void)info;
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	if (split_type != MPI_COMM_TYPE_SHARED && split_type != MPI_UNDEFINED)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "unknown split_type %d", split_type);
	return split(comm, split_type == MPI_UNDEFINED ? MPI_UNDEFINED : 0, key, newcomm, __func__);
}

/* 6.4.3: runs the attribute delete callbacks, then the handle becomes
 * MPI_COMM_NULL. MPI_COMM_WORLD and MPI_COMM_SELF cannot be freed. */
int MPI_Comm_free(MPI_Comm *comm)
{
	int rc;
	if (!comm)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "comm is NULL");
	struct comm *c = comm_arg(*comm, __func__, &rc);
	if (!c)
		return rc;
	if (c == &world_c || c == &self_c)
		return mpi_err(*comm, MPI_ERR_COMM, __func__, "%s cannot be freed", c->name[0] ? c->name : "a predefined communicator");
	if ((rc = attrs_clear(c)) != MPI_SUCCESS)
		return mpi_err(*comm, rc, __func__, "an attribute delete callback failed");
	comm_destroy(c);
	*comm = MPI_COMM_NULL;
	return MPI_SUCCESS;
}

/* 10.5.4: on an intracommunicator this is MPI_Comm_free (Toro completes
 * no communication in the background, so there is nothing to wait for). */
int MPI_Comm_disconnect(MPI_Comm *comm)
{
	return MPI_Comm_free(comm);
}

/* 10.3.2: no process of a Toro job was spawned. */
int MPI_Comm_get_parent(MPI_Comm *parent)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	*parent = MPI_COMM_NULL;
	return MPI_SUCCESS;
}

/* 17.2.4: handles are ints already, so the Fortran handle is the same
 * number (an invalid one stays invalid). */
MPI_Fint MPI_Comm_c2f(MPI_Comm comm)
{
	return (MPI_Fint)comm;
}

MPI_Comm MPI_Comm_f2c(MPI_Fint comm)
{
	return (MPI_Comm)comm;
}

MPI_Fint MPI_Group_c2f(MPI_Group group)
{
	return (MPI_Fint)group;
}

MPI_Group MPI_Group_f2c(MPI_Fint group)
{
	return (MPI_Group)group;
}
