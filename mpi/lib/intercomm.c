/* Intercommunicators (MPI-3.1 6.6): MPI_Intercomm_create and _merge, and
 * what MPI_Comm_dup, MPI_Comm_create and MPI_Comm_split do on one (6.4.2).
 *
 * An intercommunicator is a struct comm over the local group with the
 * remote group's world ranks beside it (impl.h), so point to point on it
 * needs nothing special: a sender's rank in its own group is the source
 * the receiver sees in its remote group. Its context id is agreed on by
 * both groups (the largest proposal of all members); `local`, an
 * intracommunicator over the local group with the next id, carries the
 * local halves of the collectives. Both leaders (rank 0 of each group)
 * talk over the intercommunicator's collective context and pass what they
 * learnt to their group with MPI_Bcast. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "impl.h"

enum { TAG_SWAP = 0x40000000 - 64 };   /* above intercoll.c's tags */

/* An intercommunicator over the local and remote world ranks with context
 * ids ctx (and ctx + 2 for its local part); NULL when out of memory. */
static struct comm *make_inter(int lsize, const int *lworld, int rsize, const int *rworld, int ctx,
			       MPI_Errhandler errh)
{
	comm_ctx_taken(ctx + 2);
	struct comm *c = comm_new(lsize, lworld, ctx, errh);
	if (!c)
		return NULL;
	c->inter = true;
	c->rgroup = MPI_GROUP_NULL;
	c->rsize = rsize;
	c->rworld = malloc((size_t)(rsize > 0 ? rsize : 1) * sizeof *c->rworld);
	c->local = comm_new(lsize, lworld, ctx + 2, MPI_ERRORS_RETURN);
	if (c->rworld)
		memcpy(c->rworld, rworld, (size_t)rsize * sizeof *rworld);
	if (c->rworld)
		c->rgroup = group_of(rsize, rworld);
	if (!c->rworld || !c->local || c->rgroup == MPI_GROUP_NULL) {
		comm_drop(c);
		return NULL;
	}
	strcpy(c->local->name, "the local group of an intercommunicator");
	return c;
}

/* The leaders swap n ints (sbuf) for m ints (rbuf) over intercommunicator
 * c; then every member of the local group has the remote leader's rbuf.
 * Returns an error class; all members return the same one. */
static int swap(struct comm *c, const int *sbuf, int n, int *rbuf, int m)
{
	int rc = MPI_SUCCESS;
	if (c->rank == 0)
		rc = coll_sendrecv(sbuf, n, MPI_INT, 0, rbuf, m, MPI_INT, 0, TAG_SWAP, c);
	int brc = MPI_Bcast(&rc, 1, MPI_INT, 0, c->local->handle);
	if (brc != MPI_SUCCESS)
		return brc;
	if (rc != MPI_SUCCESS)
		return rc;
	return MPI_Bcast(rbuf, m, MPI_INT, 0, c->local->handle);
}

/* A context id free on every member of both groups of c. */
static int agree_ctx(struct comm *c, int *ctx)
{
	int mine = comm_ctx_propose(), lmax, rmax;
	int rc = MPI_Allreduce(&mine, &lmax, 1, MPI_INT, MPI_MAX, c->local->handle);
	if (rc == MPI_SUCCESS)
		rc = swap(c, &lmax, 1, &rmax, 1);
	*ctx = lmax > rmax ? lmax : rmax;
	return rc;
}

struct comm *intercomm_clone(struct comm *c, bool *err)
{
	int ctx;
	struct comm *n = NULL;
	if (agree_ctx(c, &ctx) == MPI_SUCCESS)
		n = make_inter(c->size, c->world, c->rsize, c->rworld, ctx, c->errh);
	*err = !n;
	return n;
}

/* The leader's half of MPI_Intercomm_create: swaps (context proposal,
 * size) and then the member lists with the remote leader over peer. */
static int leader_swap(struct comm *lc, struct comm *peer, int rleader, int tag, int *hdr, int **rworld)
{
	int mine[2] = {hdr[0], lc->size}, theirs[2];
	int rc = coll_sendrecv(mine, 2, MPI_INT, rleader, theirs, 2, MPI_INT, rleader, tag, peer);
	if (rc != MPI_SUCCESS)
		return rc;
	if (!(*rworld = malloc((size_t)theirs[1] * sizeof **rworld)))
		return MPI_ERR_NO_MEM;
	rc = coll_sendrecv(lc->world, lc->size, MPI_INT, rleader, *rworld, theirs[1], MPI_INT, rleader, tag, peer);
	hdr[0] = theirs[0] > hdr[0] ? theirs[0] : hdr[0];
	hdr[1] = theirs[1];
	return rc;
}

static bool overlap(const int *a, int na, const int *b, int nb)
{
	for (int i = 0; i < na; i++)
		for (int j = 0; j < nb; j++)
			if (a[i] == b[j])
				return true;
	return false;
}

/* 6.6.2: collective over local_comm; peer_comm, remote_leader and tag
 * matter at the leader only. The leaders' messages use peer_comm's
 * collective context with a negative tag made of `tag`, so they never
 * meet the user's messages or collectives on peer_comm. */
int MPI_Intercomm_create(MPI_Comm local_comm, int local_leader, MPI_Comm peer_comm, int remote_leader,
			 int tag, MPI_Comm *newintercomm)
{
	static const char fn[] = "MPI_Intercomm_create";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	struct comm *lc = comm_get(local_comm), *peer = NULL;
	if (!lc || lc->inter)
		return mpi_err(lc ? local_comm : MPI_COMM_NULL, MPI_ERR_COMM, fn, "local_comm is not a valid intracommunicator");
	if (local_leader < 0 || local_leader >= lc->size)
		return mpi_err(local_comm, MPI_ERR_RANK, fn, "invalid local_leader %d (communicator of size %d)",
			       local_leader, lc->size);
	if (!newintercomm)
		return mpi_err(local_comm, MPI_ERR_ARG, fn, "newintercomm is NULL");
	int hdr[3] = {0, 0, MPI_SUCCESS}, *rworld = NULL, mine = comm_ctx_propose();
	int rc = MPI_Allreduce(&mine, &hdr[0], 1, MPI_INT, MPI_MAX, local_comm);
	if (rc != MPI_SUCCESS)
		return rc;
	if (lc->rank == local_leader) {
		if (!(peer = comm_get(peer_comm)))
			hdr[2] = mpi_err(local_comm, MPI_ERR_COMM, fn, "invalid peer_comm");
		else if (remote_leader < 0 || remote_leader >= comm_npeers(peer))
			hdr[2] = mpi_err(local_comm, MPI_ERR_RANK, fn, "invalid remote_leader %d", remote_leader);
		else if (tag < 0 || tag > TORO_TAG_UB)
			hdr[2] = mpi_err(local_comm, MPI_ERR_TAG, fn, "invalid tag %d", tag);
		else
			hdr[2] = leader_swap(lc, peer, remote_leader, -2 - tag, hdr, &rworld);
	}
	/* the others learn the outcome, the context id and the remote group */
	if ((rc = MPI_Bcast(hdr, 3, MPI_INT, local_leader, local_comm)) != MPI_SUCCESS || hdr[2] != MPI_SUCCESS) {
		free(rworld);
		return rc != MPI_SUCCESS ? rc : mpi_err(local_comm, hdr[2], fn, "the leaders could not agree");
	}
	if (!rworld && !(rworld = malloc((size_t)hdr[1] * sizeof *rworld)))
		return mpi_err(local_comm, MPI_ERR_NO_MEM, fn, "out of memory");
	if ((rc = MPI_Bcast(rworld, hdr[1], MPI_INT, local_leader, local_comm)) != MPI_SUCCESS) {
		free(rworld);
		return rc;
	}
	struct comm *c = NULL;
	if (overlap(lc->world, lc->size, rworld, hdr[1]))
		rc = mpi_err(local_comm, MPI_ERR_COMM, fn, "the local and remote groups overlap");
	else if (!(c = make_inter(lc->size, lc->world, hdr[1], rworld, hdr[0], lc->errh)))
		rc = mpi_err(local_comm, MPI_ERR_NO_MEM, fn, "out of memory");
	free(rworld);
	if (c)
		*newintercomm = c->handle;
	return rc;
}

/* 6.6.2: the group whose processes said high = false comes first; when
 * both said the same, the group with the lower world rank as leader. */
int MPI_Intercomm_merge(MPI_Comm intercomm, int high, MPI_Comm *newintracomm)
{
	static const char fn[] = "MPI_Intercomm_merge";
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(intercomm);
	if (!c || !c->inter)
		return mpi_err(c ? intercomm : MPI_COMM_NULL, MPI_ERR_COMM, fn, "not an intercommunicator");
	if (!newintracomm)
		return mpi_err(intercomm, MPI_ERR_ARG, fn, "newintracomm is NULL");
	int ctx, mine = high ? 1 : 0, theirs;
	int rc = agree_ctx(c, &ctx);
	if (rc == MPI_SUCCESS)
		rc = swap(c, &mine, 1, &theirs, 1);
	if (rc != MPI_SUCCESS)
		return mpi_err(intercomm, rc, fn, "exchanging with the remote group failed");
	bool first = mine != theirs ? !mine : c->world[0] < c->rworld[0];
	int n = c->size + c->rsize;
	int *all = malloc((size_t)n * sizeof *all);
	if (!all)
		return mpi_err(intercomm, MPI_ERR_NO_MEM, fn, "out of memory");
	memcpy(all + (first ? 0 : c->rsize), c->world, (size_t)c->size * sizeof *all);
	memcpy(all + (first ? c->size : 0), c->rworld, (size_t)c->rsize * sizeof *all);
	comm_ctx_taken(ctx);
	struct comm *nc = comm_new(n, all, ctx, c->errh);
	free(all);
	if (!nc)
		return mpi_err(intercomm, MPI_ERR_NO_MEM, fn, "out of memory");
	*newintracomm = nc->handle;
	return MPI_SUCCESS;
}

/* The new intercommunicator of MPI_Comm_create/split: `mine` and
 * `theirs` are the local and remote members (world ranks); everyone
 * agrees on a context id first, then those in `mine` build it when both
 * sides have members. */
static int finish_sub(struct comm *c, int nmine, const int *mine, int ntheirs, const int *theirs,
		      MPI_Comm *newcomm, const char *func)
{
	int ctx, rc = agree_ctx(c, &ctx);
	if (rc != MPI_SUCCESS)
		return mpi_err(c->handle, rc, func, "agreeing on a context id failed");
	bool member = false;
	for (int i = 0; i < nmine; i++)
		member |= mine[i] == toro->rank;
	*newcomm = MPI_COMM_NULL;
	if (!member || ntheirs == 0) {
		comm_ctx_taken(ctx + 2);
		return MPI_SUCCESS;
	}
	struct comm *n = make_inter(nmine, mine, ntheirs, theirs, ctx, c->errh);
	if (!n)
		return mpi_err(c->handle, MPI_ERR_NO_MEM, func, "out of memory");
	*newcomm = n->handle;
	return MPI_SUCCESS;
}

/* 6.4.2: group is a subgroup of the local group; the new local group is
 * it, the new remote group what the other side passed. */
int intercomm_create_sub(struct comm *c, MPI_Group group, MPI_Comm *newcomm, const char *func)
{
	int n, rn;
	const int *mine = group_members(group, &n);
	for (int i = 0; i < n; i++) {
		int k = 0;
		while (k < c->size && c->world[k] != mine[i])
			k++;
		if (k == c->size)
			return mpi_err(c->handle, MPI_ERR_GROUP, func, "the group is not a subset of the local group");
	}
	int rc = swap(c, &n, 1, &rn, 1);
	int *theirs = rc == MPI_SUCCESS ? malloc((size_t)(rn > 0 ? rn : 1) * sizeof *theirs) : NULL;
	if (rc == MPI_SUCCESS && !theirs)
		rc = MPI_ERR_NO_MEM;
	if (rc == MPI_SUCCESS)
		rc = swap(c, mine, n, theirs, rn);
	if (rc == MPI_SUCCESS)
		rc = finish_sub(c, n, mine, rn, theirs, newcomm, func);
	else
		rc = mpi_err(c->handle, rc, func, "exchanging with the remote group failed");
	free(theirs);
	return rc;
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

/* From n (color, key) pairs of a group whose world ranks are world[],
 * the world ranks of color `color` by key (ties by rank) into out. */
static int pick(const int *ck, int n, const int *world, int color, int *out)
{
	struct member m[n > 0 ? n : 1];
	int k = 0;
	for (int i = 0; color != MPI_UNDEFINED && i < n; i++)
		if (ck[2 * i] == color)
			m[k++] = (struct member){ck[2 * i + 1], i};
	qsort(m, (size_t)k, sizeof *m, member_cmp);
	for (int i = 0; i < k; i++)
		out[i] = world[m[i].rank];
	return k;
}

/* 6.4.2: each group is split by color; the new intercommunicator joins
 * the processes of one color in both groups. */
int intercomm_split(struct comm *c, int color, int key, MPI_Comm *newcomm, const char *func)
{
	int mine[2] = {color, key};
	int *lck = malloc((size_t)c->size * 2 * sizeof *lck), *rck = malloc((size_t)c->rsize * 2 * sizeof *rck);
	int *lw = malloc((size_t)c->size * sizeof *lw), *rw = malloc((size_t)c->rsize * sizeof *rw);
	int rc = lck && rck && lw && rw ? MPI_SUCCESS : MPI_ERR_NO_MEM;
	if (rc == MPI_SUCCESS)
		rc = MPI_Allgather(mine, 2, MPI_INT, lck, 2, MPI_INT, c->local->handle);
	if (rc == MPI_SUCCESS)
		rc = swap(c, lck, 2 * c->size, rck, 2 * c->rsize);
	if (rc == MPI_SUCCESS) {
		int nl = pick(lck, c->size, c->world, color, lw);
		int nr = pick(rck, c->rsize, c->rworld, color, rw);
		rc = finish_sub(c, nl, lw, nr, rw, newcomm, func);
	} else {
		rc = mpi_err(c->handle, rc, func, "exchanging with the remote group failed");
	}
	free(lck);
	free(rck);
	free(lw);
	free(rw);
	return rc;
}
