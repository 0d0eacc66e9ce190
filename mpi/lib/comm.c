/* Communicators and their names (MPI-3.1 chapter 6); groups are group.c's,
 * attributes attr.c's.
 *
 * A communicator is a struct comm (impl.h): the world ranks of its
 * members in rank order and a context id. Run-time communicators are kept
 * in a table indexed by their handle; MPI_COMM_WORLD and MPI_COMM_SELF are
 * two statics. Context ids come in pairs (ctx for point to point, ctx + 1
 * for collectives): WORLD has 0, SELF 2, and each new communicator takes
 * the largest "next free id" of the parent's members (an MPI_Allreduce with
 * MPI_MAX), so the id is free on every member. Ids are never reused.
 *
 * The communicator holds one reference to its group (group.c).
 * Intercommunicators are made in intercomm.c (struct comm's inter fields).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "impl.h"
#include "coll_shm.h"

static struct comm world_c, self_c;
static bool world_ok;           /* comm_init_world has run */
static struct comm **ctab;      /* run-time communicators by handle index */
static int nctab;
static int next_ctx;            /* the next context id this rank has not used */

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
	c->group = group_of(size, world);
	if (!c->world || c->group == MPI_GROUP_NULL) {
		free(c->world);
		group_drop(c->group);
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
	*err = parent->inter;          /* intracommunicators only (topologies) */
	if (*err)
		return NULL;
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
	shm_coll_free(c);
	free(c->world);
	free(c->dims);
	free(c->periods);
	graph_free(c->graph);
	group_drop(c->group);
	if (c->inter) {
		free(c->rworld);
		group_drop(c->rgroup);
		comm_drop(c->local);
	}
	attrs_free(&c->attrs);
	free(c);
}

/* The delete callbacks of MPI_COMM_SELF, for MPI_Finalize (8.7.1: in the
 * reverse order of setting). */
int comm_finalize_self(void)
{
	return attrs_clear(ATTR_COMM, MPI_COMM_SELF, &self_c.attrs);
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
	int remote = MPI_IDENT;          /* intercommunicators: both groups count */
	if (a->inter != b->inter)
		remote = MPI_UNEQUAL;
	else if (a->inter && group_compare_lists(a->rsize, a->rworld, b->rsize, b->rworld, &remote) != MPI_SUCCESS)
		return mpi_err(comm1, MPI_ERR_NO_MEM, __func__, "out of memory");
	if (group_compare_lists(a->size, a->world, b->size, b->world, result) != MPI_SUCCESS)
		return mpi_err(comm1, MPI_ERR_NO_MEM, __func__, "out of memory");
	if (remote > *result)
		*result = remote;
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
	group_retain(c->group);
	*group = c->group;
	return MPI_SUCCESS;
}

/* 6.6.1: the remote group of an intercommunicator. */
int MPI_Comm_remote_size(MPI_Comm comm, int *size)
{
	int rc;
	struct comm *c = comm_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (!c->inter)
		return mpi_err(comm, MPI_ERR_COMM, __func__, "not an intercommunicator");
	if (!size)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "size is NULL");
	*size = c->rsize;
	return MPI_SUCCESS;
}

int MPI_Comm_remote_group(MPI_Comm comm, MPI_Group *group)
{
	int rc;
	struct comm *c = comm_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (!c->inter)
		return mpi_err(comm, MPI_ERR_COMM, __func__, "not an intercommunicator");
	if (!group)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "group is NULL");
	group_retain(c->rgroup);
	*group = c->rgroup;
	return MPI_SUCCESS;
}

int MPI_Comm_test_inter(MPI_Comm comm, int *flag)
{
	int rc;
	struct comm *c = comm_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (!flag)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "flag is NULL");
	*flag = c->inter;
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
	int rc = topo_copy(from, to) ? attrs_copy(ATTR_COMM, from->handle, from->attrs, &to->attrs) : MPI_ERR_NO_MEM;
	if (rc != MPI_SUCCESS) {
		attrs_clear(ATTR_COMM, to->handle, &to->attrs);
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
	struct comm *n = c->inter ? intercomm_clone(c, &err) : comm_create_from(c, c->size, c->world, &err);
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
	int gn;
	const int *gw = group_members(group, &gn);
	if (!gw)
		return mpi_err(comm, MPI_ERR_GROUP, __func__, "invalid group");
	if (!newcomm)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "newcomm is NULL");
	if (c->inter)
		return intercomm_create_sub(c, group, newcomm, __func__);
	int *pos = group_world_pos(c->size, c->world);
	if (!pos)
		return mpi_err(comm, MPI_ERR_NO_MEM, __func__, "out of memory");
	int i = 0;
	while (i < gn && pos[gw[i]] != MPI_UNDEFINED)
		i++;
	free(pos);
	if (i < gn)
		return mpi_err(comm, MPI_ERR_GROUP, __func__, "the group is not a subset of the communicator's");
	struct comm *n = comm_create_from(c, gn, gw, &err);
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
	if (c->inter)
		return intercomm_split(c, color, key, newcomm, func);
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
	if ((rc = attrs_clear(ATTR_COMM, c->handle, &c->attrs)) != MPI_SUCCESS)
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



/* ======================================================================
 * For comm_create_group.c and intercomm.c (impl.h)
 * ====================================================================== */

void comm_ctx_taken(int ctx)
{
	if (ctx + 2 > next_ctx)
		next_ctx = ctx + 2;
}

struct comm *comm_new(int size, const int *world, int ctx, MPI_Errhandler errh)
{
	struct comm parent = {.errh = errh};
	bool err = false;
	return comm_make(&parent, size, world, ctx, &err);
}

void comm_drop(struct comm *c)
{
	if (c)
		comm_destroy(c);
}

bool comm_is_inter(MPI_Comm h)
{
	struct comm *c = comm_get(h);
	return c && c->inter;
}



