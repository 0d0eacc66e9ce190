/* The blocking collectives on an intercommunicator (MPI-3.1 5.2.2): the
 * data of one group goes to the other. coll.c calls these when the
 * communicator is an intercommunicator.
 *
 * Rooted ones (Bcast, Reduce, Gather(v), Scatter(v)): in the root's group
 * the root passes MPI_ROOT and the others MPI_PROC_NULL (they take no
 * part); the other group passes the root's rank in the root's group.
 * Bcast and Reduce go through rank 0 of the non-root group and its local
 * intracommunicator (c->local); Gather and Scatter are direct. The
 * all-to-all kinds send every block straight to its remote peer.
 * Allreduce and Reduce_scatter reduce within each group to its rank 0,
 * the two rank 0s swap the results, and each group spreads what came
 * from the other side. Barrier: local barrier, the rank 0s swap, local
 * barrier. */
#include <stdlib.h>
#include <string.h>
#include "check.h"

enum {
	TAG_BARRIER = 1, TAG_BCAST, TAG_REDUCE, TAG_ALLREDUCE, TAG_GATHER, TAG_SCATTER,
	TAG_ALLGATHER, TAG_ALLTOALL, TAG_REDSCAT,
};

static struct comm *inter_of(MPI_Comm comm)
{
	return comm_get(comm);          /* coll.c calls us only for a valid intercommunicator */
}

static int fail(MPI_Comm comm, int rc, const char *fn)
{
	if (rc == MPI_SUCCESS)
		return rc;
	return mpi_err(comm, rc, fn, "%s", rc == MPI_ERR_NO_MEM ? "out of memory" : rc == MPI_ERR_TRUNCATE
		       ? "data longer than the receive buffer" : "communication failed");
}

/* The local step that ends a collective runs even when rank 0 failed
 * before it (a truncated message, say), so that no member of its group is
 * left waiting; the first error is the call's. */
static int spread(int rc, int local_rc)
{
	return rc != MPI_SUCCESS ? rc : local_rc;
}

/* MPI_IN_PLACE has no meaning on an intercommunicator. */
static int check_not_in_place(struct comm *c, const char *fn, const void *buf)
{
	if (buf == MPI_IN_PLACE)
		return mpi_err(c->handle, MPI_ERR_BUFFER, fn, "MPI_IN_PLACE on an intercommunicator");
	return MPI_SUCCESS;
}

/* 1: this rank is the root, 0: it waits for data from the remote root,
 * -1: MPI_PROC_NULL (nothing to do); or an error from mpi_err (< -1 is
 * impossible: error classes are positive, returned through *rc). */
static int root_role(struct comm *c, const char *fn, int root, int *rc)
{
	*rc = MPI_SUCCESS;
	if (root == MPI_ROOT)
		return 1;
	if (root == MPI_PROC_NULL)
		return -1;
	if (root < 0 || root >= c->rsize)
		*rc = mpi_err(c->handle, MPI_ERR_ROOT, fn, "invalid root %d (remote group of size %d)", root, c->rsize);
	return 0;
}

/* A buffer for count elements of dt (its data at the usual offsets). */
static void *tmp_alloc(int count, MPI_Datatype dt, void **base)
{
	MPI_Aint span = count > 0 ? dtype_true_extent(dt) + (MPI_Aint)(count - 1) * dtype_extent(dt) : 1;
	*base = malloc((size_t)(span > 0 ? span : 1));
	return *base ? (char *)*base - dtype_true_lb(dt) : NULL;
}

static char *at(const void *buf, MPI_Aint elems, MPI_Datatype dt)
{
	return (char *)buf + elems * dtype_extent(dt);
}

int inter_barrier(MPI_Comm comm)
{
	struct comm *c = inter_of(comm);
	int rc = MPI_Barrier(c->local->handle);
	if (rc == MPI_SUCCESS && c->rank == 0)
		rc = coll_sendrecv(NULL, 0, MPI_BYTE, 0, NULL, 0, MPI_BYTE, 0, TAG_BARRIER, c);
	return fail(comm, spread(rc, MPI_Barrier(c->local->handle)), "MPI_Barrier");
}

int inter_bcast(void *buf, int count, MPI_Datatype dt, int root, MPI_Comm comm)
{
	static const char fn[] = "MPI_Bcast";
	struct comm *c = inter_of(comm);
	int rc, role = root_role(c, fn, root, &rc);
	if (rc || role < 0 || (rc = check_type(c, fn, "", count, dt)))
		return rc;
	if (role == 1)
		return fail(comm, coll_send(buf, count, dt, 0, TAG_BCAST, c), fn);
	if (c->rank == 0)
		rc = coll_recv(buf, count, dt, root, TAG_BCAST, c);
	return fail(comm, spread(rc, MPI_Bcast(buf, count, dt, 0, c->local->handle)), fn);
}

/* The reduction over the local group of sbuf, at local rank 0 (in a new
 * buffer, *base to free); NULL elsewhere. */
static int local_reduce(struct comm *c, const void *sbuf, int count, MPI_Datatype dt, MPI_Op op,
			void **res, void **base)
{
	*res = *base = NULL;
	if (c->rank == 0 && !(*res = tmp_alloc(count, dt, base)))
		return MPI_ERR_NO_MEM;
	return MPI_Reduce(sbuf, *res, count, dt, op, 0, c->local->handle);
}

static int check_inter_red(struct comm *c, const char *fn, const void *sbuf, int count, MPI_Datatype dt, MPI_Op op)
{
	int rc;
	if ((rc = check_type(c, fn, "", count, dt)) || (rc = check_op(c, fn, op, dt)))
		return rc;
	return check_not_in_place(c, fn, sbuf);
}

int inter_reduce(const void *sbuf, void *rbuf, int count, MPI_Datatype dt, MPI_Op op, int root, MPI_Comm comm)
{
	static const char fn[] = "MPI_Reduce";
	struct comm *c = inter_of(comm);
	int rc, role = root_role(c, fn, root, &rc);
	if (rc || role < 0)
		return rc;
	if (role == 1) {
		if ((rc = check_type(c, fn, "", count, dt)))
			return rc;
		return fail(comm, coll_recv(rbuf, count, dt, 0, TAG_REDUCE, c), fn);
	}
	if ((rc = check_inter_red(c, fn, sbuf, count, dt, op)))
		return rc;
	void *res, *base;
	rc = local_reduce(c, sbuf, count, dt, op, &res, &base);
	if (rc == MPI_SUCCESS && c->rank == 0)
		rc = coll_send(res, count, dt, root, TAG_REDUCE, c);
	free(base);
	return fail(comm, rc, fn);
}

int inter_allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype dt, MPI_Op op, MPI_Comm comm)
{
	static const char fn[] = "MPI_Allreduce";
	struct comm *c = inter_of(comm);
	int rc = check_inter_red(c, fn, sbuf, count, dt, op);
	if (rc)
		return rc;
	void *res, *base;
	rc = local_reduce(c, sbuf, count, dt, op, &res, &base);
	if (rc == MPI_SUCCESS && c->rank == 0)
		rc = coll_sendrecv(res, count, dt, 0, rbuf, count, dt, 0, TAG_ALLREDUCE, c);
	free(base);
	return fail(comm, spread(rc, MPI_Bcast(rbuf, count, dt, 0, c->local->handle)), fn);
}

/* Posts one receive from (irecv) or send to each remote rank i of
 * counts[i] (or count) elements at displs[i] (or i * count). */
static int post_all(struct comm *c, bool recv, const void *buf, const int *counts, const int *displs,
		    int count, MPI_Datatype dt, int tag, MPI_Request *reqs)
{
	int rc = MPI_SUCCESS;
	for (int i = 0; i < c->rsize && rc == MPI_SUCCESS; i++) {
		int n = counts ? counts[i] : count;
		char *p = at(buf, counts ? displs[i] : (MPI_Aint)i * count, dt);
		rc = recv ? p2p_irecv(p, n, dt, i, tag, c, 1, &reqs[i])
			  : p2p_isend(p, n, dt, i, tag, c, 1, 0, &reqs[i]);
	}
	return rc;
}

static int wait_all(int rc, int n, MPI_Request *reqs)
{
	int wrc = p2p_waitall(n, reqs, MPI_STATUSES_IGNORE);
	return rc ? rc : wrc;
}

/* counts and displs of the remote group. */
static int check_remote_counts(struct comm *c, const char *fn, const int *counts, const int *displs)
{
	if (!counts || !displs)
		return mpi_err(c->handle, MPI_ERR_ARG, fn, "NULL counts or displacements");
	for (int i = 0; i < c->rsize; i++)
		if (counts[i] < 0)
			return mpi_err(c->handle, MPI_ERR_COUNT, fn, "negative count %d for remote rank %d", counts[i], i);
	return MPI_SUCCESS;
}

int inter_gatherv(const char *fn, const void *sbuf, int scount, MPI_Datatype st, void *rbuf,
		  const int *rcounts, const int *displs, int rcount, MPI_Datatype rt, int root, MPI_Comm comm)
{
	struct comm *c = inter_of(comm);
	int rc, role = root_role(c, fn, root, &rc);
	if (rc || role < 0)
		return rc;
	if (role == 0) {
		if ((rc = check_type(c, fn, "", scount, st)) || (rc = check_not_in_place(c, fn, sbuf)))
			return rc;
		return fail(comm, coll_send(sbuf, scount, st, root, TAG_GATHER, c), fn);
	}
	if ((rc = check_type(c, fn, "", rcount, rt)) || (rcounts && (rc = check_remote_counts(c, fn, rcounts, displs))))
		return rc;
	MPI_Request reqs[c->rsize];
	rc = post_all(c, true, rbuf, rcounts, displs, rcount, rt, TAG_GATHER, reqs);
	return fail(comm, wait_all(rc, c->rsize, reqs), fn);
}

int inter_scatterv(const char *fn, const void *sbuf, const int *scounts, const int *displs, int scount,
		   MPI_Datatype st, void *rbuf, int rcount, MPI_Datatype rt, int root, MPI_Comm comm)
{
	struct comm *c = inter_of(comm);
	int rc, role = root_role(c, fn, root, &rc);
	if (rc || role < 0)
		return rc;
	if (role == 0) {
		if ((rc = check_type(c, fn, "", rcount, rt)) || (rc = check_not_in_place(c, fn, rbuf)))
			return rc;
		return fail(comm, coll_recv(rbuf, rcount, rt, root, TAG_SCATTER, c), fn);
	}
	if ((rc = check_type(c, fn, "", scount, st)) || (scounts && (rc = check_remote_counts(c, fn, scounts, displs))))
		return rc;
	MPI_Request reqs[c->rsize];
	rc = post_all(c, false, sbuf, scounts, displs, scount, st, TAG_SCATTER, reqs);
	return fail(comm, wait_all(rc, c->rsize, reqs), fn);
}

/* Every process receives the remote group's blocks and sends its own
 * block to every remote process. */
int inter_allgatherv(const char *fn, const void *sbuf, int scount, MPI_Datatype st, void *rbuf,
		     const int *rcounts, const int *displs, int rcount, MPI_Datatype rt, MPI_Comm comm)
{
	struct comm *c = inter_of(comm);
	int rc;
	if ((rc = check_type(c, fn, "", scount, st)) || (rc = check_not_in_place(c, fn, sbuf)) ||
	    (rc = check_type(c, fn, "", rcount, rt)) || (rcounts && (rc = check_remote_counts(c, fn, rcounts, displs))))
		return rc;
	MPI_Request reqs[2 * c->rsize];
	for (int i = 0; i < 2 * c->rsize; i++)
		reqs[i] = MPI_REQUEST_NULL;
	rc = post_all(c, true, rbuf, rcounts, displs, rcount, rt, TAG_ALLGATHER, reqs);
	for (int i = 0; i < c->rsize && rc == MPI_SUCCESS; i++)
		rc = p2p_isend(sbuf, scount, st, i, TAG_ALLGATHER, c, 1, 0, &reqs[c->rsize + i]);
	return fail(comm, wait_all(rc, 2 * c->rsize, reqs), fn);
}

int inter_alltoall(const char *fn, const void *sbuf, const int *scounts, const int *sdispls, int scount,
		   const MPI_Datatype *sts, MPI_Datatype st, void *rbuf, const int *rcounts,
		   const int *rdispls, int rcount, const MPI_Datatype *rts, MPI_Datatype rt, MPI_Comm comm)
{
	struct comm *c = inter_of(comm);
	int n = c->rsize, rc = MPI_SUCCESS;
	if ((rc = check_not_in_place(c, fn, sbuf)))
		return rc;
	if (scounts && ((rc = check_remote_counts(c, fn, scounts, sdispls)) || (rc = check_remote_counts(c, fn, rcounts, rdispls))))
		return rc;
	for (int i = 0; i < n && rc == MPI_SUCCESS; i++)
		if ((rc = check_type(c, fn, "", scounts ? scounts[i] : scount, sts ? sts[i] : st)) == MPI_SUCCESS)
			rc = check_type(c, fn, "", rcounts ? rcounts[i] : rcount, rts ? rts[i] : rt);
	if (rc)
		return rc;
	MPI_Request reqs[2 * n];
	for (int i = 0; i < 2 * n; i++)
		reqs[i] = MPI_REQUEST_NULL;
	for (int i = 0; i < n && rc == MPI_SUCCESS; i++) {
		MPI_Datatype t = rts ? rts[i] : rt;
		char *p = rts ? (char *)rbuf + rdispls[i] : at(rbuf, rcounts ? rdispls[i] : (MPI_Aint)i * rcount, t);
		rc = p2p_irecv(p, rcounts ? rcounts[i] : rcount, t, i, TAG_ALLTOALL, c, 1, &reqs[i]);
	}
	for (int i = 0; i < n && rc == MPI_SUCCESS; i++) {
		MPI_Datatype t = sts ? sts[i] : st;
		const char *p = sts ? (const char *)sbuf + sdispls[i]
				    : at(sbuf, scounts ? sdispls[i] : (MPI_Aint)i * scount, t);
		rc = p2p_isend(p, scounts ? scounts[i] : scount, t, i, TAG_ALLTOALL, c, 1, 0, &reqs[n + i]);
	}
	return fail(comm, wait_all(rc, 2 * n, reqs), fn);
}

/* 5.10: each group gives vectors of sum(recvcounts) elements (the same
 * sum in both groups); the other group's reduction is scattered over
 * this one by its recvcounts (rcounts NULL: rcount each). */
int inter_reduce_scatter(const char *fn, const void *sbuf, void *rbuf, const int *rcounts, int rcount,
			 MPI_Datatype dt, MPI_Op op, MPI_Comm comm)
{
	struct comm *c = inter_of(comm);
	int total = 0, rc;
	for (int i = 0; i < c->size; i++) {
		int n = rcounts ? rcounts[i] : rcount;
		if ((rc = check_count(c, fn, "", n)))
			return rc;
		total += n;
	}
	if ((rc = check_inter_red(c, fn, sbuf, total, dt, op)))
		return rc;
	void *res, *base, *other = NULL, *obase = NULL;
	rc = local_reduce(c, sbuf, total, dt, op, &res, &base);
	if (rc == MPI_SUCCESS && c->rank == 0 && !(other = tmp_alloc(total, dt, &obase)))
		rc = MPI_ERR_NO_MEM;
	if (rc == MPI_SUCCESS && c->rank == 0)
		rc = coll_sendrecv(res, total, dt, 0, other, total, dt, 0, TAG_REDSCAT, c);
	int displs[c->size];
	for (int i = 0, d = 0; i < c->size; d += rcounts ? rcounts[i] : rcount, i++)
		displs[i] = d;
	if (rc == MPI_SUCCESS && rcounts)
		rc = MPI_Scatterv(other, rcounts, displs, dt, rbuf, rcounts[c->rank], dt, 0, c->local->handle);
	else if (rc == MPI_SUCCESS)
		rc = MPI_Scatter(other, rcount, dt, rbuf, rcount, dt, 0, c->local->handle);
	free(base);
	free(obase);
	return fail(comm, rc, fn);
}
