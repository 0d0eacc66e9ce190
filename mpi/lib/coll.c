/* Blocking collectives (MPI-3.1 chapter 5) on the point-to-point engine.
 *
 * Every message goes through coll_send/coll_recv/coll_sendrecv or
 * p2p_isend/p2p_irecv with coll = 1, i.e. on the communicator's collective
 * context, so it never matches user point-to-point traffic. Each collective
 * kind has its own tag. Collectives are called in the same order on every
 * rank (MPI-3.1 5.12) and messages between one pair are non-overtaking per
 * (context, tag), so a message of one call cannot be taken by another.
 * Messages of zero bytes are skipped only where both ends know it (type
 * signatures match, so both compute 0 bytes); the rest of the time an
 * empty message is sent.
 *
 * The algorithms are coll_alg.c's (its opening comment lists them); the
 * local copies and block layouts are coll_buf.c's.
 *
 * Barrier, Bcast, Reduce, Allreduce, Gather(v), Scatter(v), Allgather(v)
 * and Alltoall(v,w) go through shared memory instead (coll_shm.h) unless
 * TORO_SHM_COLL=0.
 */
#include <limits.h>
#include <stdlib.h>
#include "coll_shm.h"

enum coll_tag {
	TAG_BARRIER = 1, TAG_BCAST, TAG_REDUCE, TAG_ALLREDUCE, TAG_GATHER,
	TAG_GATHERV, TAG_SCATTER, TAG_SCATTERV, TAG_ALLGATHER, TAG_ALLGATHERV,
	TAG_ALLTOALL, TAG_ALLTOALLV, TAG_ALLTOALLW, TAG_REDSCAT,
	TAG_REDSCAT_BLOCK, TAG_SCAN, TAG_EXSCAN,
};

/* Reports an error class met while running a collective. */
int coll_fail(MPI_Comm comm, int rc, const char *fn)
{
	if (rc == MPI_SUCCESS)
		return MPI_SUCCESS;
	if (rc == MPI_ERR_NO_MEM)
		return mpi_err(comm, rc, fn, "no memory for a temporary buffer");
	if (rc == MPI_ERR_TRUNCATE)
		return mpi_err(comm, rc, fn, "data longer than the receive buffer");
	if (rc == MPI_ERR_OP)
		return mpi_err(comm, rc, fn, "operation failed on this datatype");
	return mpi_err(comm, rc, fn, "communication failed");
}

/* ---- the MPI functions ---- */

int MPI_Barrier(MPI_Comm comm)
{
	static const char fn[] = "MPI_Barrier";
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_barrier(comm);
	if ((rc = check_coll_comm(comm, fn, &c)))
		return rc;
	if (shm_coll_on(c) && (rc = shm_barrier(c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	/* Dissemination: in round k every rank signals rank+2^k and waits
	 * for rank-2^k; after ceil(log2 p) rounds each rank has heard,
	 * through the chains, from every other one. */
	for (int k = 1; k < c->size; k <<= 1) {
		rc = coll_sendrecv(NULL, 0, MPI_BYTE, (c->rank + k) % c->size,
				   NULL, 0, MPI_BYTE, (c->rank - k + c->size) % c->size,
				   TAG_BARRIER, c);
		if (rc)
			return coll_fail(comm, rc, fn);
	}
	return MPI_SUCCESS;
}

int MPI_Bcast(void *buffer, int count, MPI_Datatype datatype, int root,
	      MPI_Comm comm)
{
	static const char fn[] = "MPI_Bcast";
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_bcast(buffer, count, datatype, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)) ||
	    (rc = check_type(c, fn, "", count, datatype)) ||
	    (rc = check_buf(c, fn, "", buffer, count, datatype)))
		return rc;
	if (c->size == 1 || nbytes(count, datatype) == 0)
		return MPI_SUCCESS;
	if (shm_coll_on(c) && (rc = shm_bcast(buffer, count, datatype, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	return coll_fail(comm, bcast_core(buffer, count, datatype, root, c, TAG_BCAST), fn);
}

int MPI_Reduce(const void *sendbuf, void *recvbuf, int count,
	       MPI_Datatype datatype, MPI_Op op, int root, MPI_Comm comm)
{
	static const char fn[] = "MPI_Reduce";
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_reduce(sendbuf, recvbuf, count, datatype, op, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)) ||
	    (rc = check_type(c, fn, "", count, datatype)) ||
	    (rc = check_op(c, fn, op, datatype)))
		return rc;
	/* MPI-3.1 5.9.1: MPI_IN_PLACE as sendbuf at the root only (the input
	 * is then taken from recvbuf); recvbuf matters at the root only. */
	if (!(c->rank == root && sendbuf == MPI_IN_PLACE) &&
	    (rc = check_buf(c, fn, "send ", sendbuf, count, datatype)))
		return rc;
	if (c->rank == root && (rc = check_buf(c, fn, "receive ", recvbuf, count, datatype)))
		return rc;
	if (nbytes(count, datatype) == 0)
		return MPI_SUCCESS;
	if (shm_coll_on(c) &&
	    (rc = shm_reduce(sendbuf, recvbuf, count, datatype, op, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	rc = reduce_core(sendbuf, recvbuf, count, datatype, op, root, c, TAG_REDUCE);
	return coll_fail(comm, rc, fn);
}

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count,
		  MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	static const char fn[] = "MPI_Allreduce";
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_allreduce(sendbuf, recvbuf, count, datatype, op, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_type(c, fn, "", count, datatype)) ||
	    (rc = check_op(c, fn, op, datatype)))
		return rc;
	/* MPI-3.1 5.9.6: MPI_IN_PLACE as sendbuf on all ranks. */
	if ((sendbuf != MPI_IN_PLACE &&
	     (rc = check_buf(c, fn, "send ", sendbuf, count, datatype))) ||
	    (rc = check_buf(c, fn, "receive ", recvbuf, count, datatype)))
		return rc;
	if (nbytes(count, datatype) == 0)
		return MPI_SUCCESS;
	if (shm_coll_on(c) &&
	    (rc = shm_allreduce(sendbuf, recvbuf, count, datatype, op, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = sendbuf == MPI_IN_PLACE ? MPI_SUCCESS
		: local_copy(sendbuf, count, datatype, recvbuf, count, datatype);
	if (!rc)
		rc = allreduce_core(recvbuf, count, datatype, op, c, TAG_ALLREDUCE);
	return coll_fail(comm, rc, fn);
}

int MPI_Gather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
	       void *recvbuf, int recvcount, MPI_Datatype recvtype, int root,
	       MPI_Comm comm)
{
	static const char fn[] = "MPI_Gather";
	struct blocks rb = { 0 };
	struct comm *c;
	bool at_root;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_gatherv(fn, sendbuf, sendcount, sendtype, recvbuf, NULL, NULL, recvcount, recvtype, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)))
		return rc;
	at_root = c->rank == root;
	if ((rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   at_root && sendbuf == MPI_IN_PLACE)) ||
	    (at_root && (rc = check_side(c, fn, "receive ", recvbuf, recvcount,
				       recvtype, false))))
		return rc;
	if (at_root)
		rb = blocks_reg(recvbuf, recvcount, recvtype);
	if (shm_coll_on(c) &&
	    (rc = shm_gather(sendbuf, sendcount, sendtype, &rb, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = gather_core(sendbuf, sendcount, sendtype, &rb, root, c, TAG_GATHER);
	return coll_fail(comm, rc, fn);
}

int MPI_Gatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		void *recvbuf, const int recvcounts[], const int displs[],
		MPI_Datatype recvtype, int root, MPI_Comm comm)
{
	static const char fn[] = "MPI_Gatherv";
	struct blocks rb = { 0 };
	struct comm *c;
	bool at_root, any;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_gatherv(fn, sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, 0, recvtype, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)))
		return rc;
	at_root = c->rank == root;
	if ((rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   at_root && sendbuf == MPI_IN_PLACE)))
		return rc;
	if (at_root &&
	    ((rc = check_counts(c, fn, "receive ", recvcounts, displs, true, &any)) ||
	     (rc = check_side(c, fn, "receive ", recvbuf, any, recvtype, false))))
		return rc;
	if (at_root)
		rb = blocks_v(recvbuf, recvcounts, displs, recvtype);
	if (shm_coll_on(c) &&
	    (rc = shm_gather(sendbuf, sendcount, sendtype, &rb, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = gather_core(sendbuf, sendcount, sendtype, &rb, root, c, TAG_GATHERV);
	return coll_fail(comm, rc, fn);
}

int MPI_Scatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		void *recvbuf, int recvcount, MPI_Datatype recvtype, int root,
		MPI_Comm comm)
{
	static const char fn[] = "MPI_Scatter";
	struct blocks sb = { 0 };
	struct comm *c;
	bool at_root;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_scatterv(fn, sendbuf, NULL, NULL, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)))
		return rc;
	at_root = c->rank == root;
	/* MPI-3.1 5.6: MPI_IN_PLACE as recvbuf at the root only. */
	if ((at_root && (rc = check_side(c, fn, "send ", sendbuf, sendcount,
				       sendtype, false))) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype,
			   at_root && recvbuf == MPI_IN_PLACE)))
		return rc;
	if (at_root)
		sb = blocks_reg(sendbuf, sendcount, sendtype);
	if (shm_coll_on(c) &&
	    (rc = shm_scatter(&sb, false, recvbuf, recvcount, recvtype, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = scatter_core(&sb, recvbuf, recvcount, recvtype, root, c, TAG_SCATTER);
	return coll_fail(comm, rc, fn);
}

int MPI_Scatterv(const void *sendbuf, const int sendcounts[],
		 const int displs[], MPI_Datatype sendtype, void *recvbuf,
		 int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm)
{
	static const char fn[] = "MPI_Scatterv";
	struct blocks sb = { 0 };
	struct comm *c;
	bool at_root, any;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_scatterv(fn, sendbuf, sendcounts, displs, 0, sendtype, recvbuf, recvcount, recvtype, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)))
		return rc;
	at_root = c->rank == root;
	if (at_root &&
	    ((rc = check_counts(c, fn, "send ", sendcounts, displs, true, &any)) ||
	     (rc = check_side(c, fn, "send ", sendbuf, any, sendtype, false))))
		return rc;
	if ((rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype,
			   at_root && recvbuf == MPI_IN_PLACE)))
		return rc;
	if (at_root)
		sb = blocks_v(sendbuf, sendcounts, displs, sendtype);
	if (shm_coll_on(c) &&
	    (rc = shm_scatter(&sb, true, recvbuf, recvcount, recvtype, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = scatter_core(&sb, recvbuf, recvcount, recvtype, root, c, TAG_SCATTERV);
	return coll_fail(comm, rc, fn);
}

int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		  void *recvbuf, int recvcount, MPI_Datatype recvtype,
		  MPI_Comm comm)
{
	static const char fn[] = "MPI_Allgather";
	struct blocks rb;
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_allgatherv(fn, sendbuf, sendcount, sendtype, recvbuf, NULL, NULL, recvcount, recvtype, comm);
	/* MPI-3.1 5.7: MPI_IN_PLACE as sendbuf on all ranks; each rank's
	 * block is then in its place in recvbuf already. */
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   sendbuf == MPI_IN_PLACE)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype, false)))
		return rc;
	rb = blocks_reg(recvbuf, recvcount, recvtype);
	if (shm_coll_on(c) &&
	    (rc = shm_allgather(sendbuf, sendcount, sendtype, &rb, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = sendbuf == MPI_IN_PLACE ? MPI_SUCCESS
		: local_copy(sendbuf, sendcount, sendtype, blk_addr(&rb, c->rank),
			     recvcount, recvtype);
	if (rc || nbytes(recvcount, recvtype) == 0)
		return coll_fail(comm, rc, fn);
	if ((c->size & (c->size - 1)) == 0 && (long)recvcount * c->size <= INT_MAX)
		rc = allgather_rd(recvbuf, recvcount, recvtype, c, TAG_ALLGATHER);
	else
		rc = allgather_ring(&rb, c, TAG_ALLGATHER);
	return coll_fail(comm, rc, fn);
}

int MPI_Allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		   void *recvbuf, const int recvcounts[], const int displs[],
		   MPI_Datatype recvtype, MPI_Comm comm)
{
	static const char fn[] = "MPI_Allgatherv";
	struct blocks rb;
	struct comm *c;
	bool any;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_allgatherv(fn, sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, 0, recvtype, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   sendbuf == MPI_IN_PLACE)) ||
	    (rc = check_counts(c, fn, "receive ", recvcounts, displs, true, &any)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, any, recvtype, false)))
		return rc;
	rb = blocks_v(recvbuf, recvcounts, displs, recvtype);
	if (shm_coll_on(c) &&
	    (rc = shm_allgather(sendbuf, sendcount, sendtype, &rb, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = sendbuf == MPI_IN_PLACE ? MPI_SUCCESS
		: local_copy(sendbuf, sendcount, sendtype, blk_addr(&rb, c->rank),
			     recvcounts[c->rank], recvtype);
	if (!rc)
		rc = allgather_ring(&rb, c, TAG_ALLGATHERV);
	return coll_fail(comm, rc, fn);
}

int MPI_Alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		 void *recvbuf, int recvcount, MPI_Datatype recvtype,
		 MPI_Comm comm)
{
	static const char fn[] = "MPI_Alltoall";
	struct blocks sb, rb;
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_alltoall(fn, sendbuf, NULL, NULL, sendcount, NULL, sendtype, recvbuf, NULL, NULL, recvcount, NULL, recvtype, comm);
	/* MPI-3.1 5.8: with MPI_IN_PLACE (all ranks) sendcount and sendtype
	 * are ignored and the data to send is taken from recvbuf. */
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   sendbuf == MPI_IN_PLACE)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype, false)))
		return rc;
	rb = blocks_reg(recvbuf, recvcount, recvtype);
	if (shm_coll_on(c)) {
		sb = sendbuf == MPI_IN_PLACE ? rb : blocks_reg(sendbuf, sendcount, sendtype);
		rc = shm_alltoall(sendbuf == MPI_IN_PLACE ? NULL : &sb, &rb, c);
		if (rc != SHM_NONE)
			return coll_fail(comm, rc, fn);
	}
	if (sendbuf == MPI_IN_PLACE) {
		rc = alltoall_inplace(&rb, c, TAG_ALLTOALL);
	} else {
		sb = blocks_reg(sendbuf, sendcount, sendtype);
		rc = alltoall_core(&sb, &rb, c, TAG_ALLTOALL);
	}
	return coll_fail(comm, rc, fn);
}

int MPI_Alltoallv(const void *sendbuf, const int sendcounts[],
		  const int sdispls[], MPI_Datatype sendtype, void *recvbuf,
		  const int recvcounts[], const int rdispls[],
		  MPI_Datatype recvtype, MPI_Comm comm)
{
	static const char fn[] = "MPI_Alltoallv";
	struct blocks sb, rb;
	struct comm *c;
	bool any, in_place;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_alltoall(fn, sendbuf, sendcounts, sdispls, 0, NULL, sendtype, recvbuf, recvcounts, rdispls, 0, NULL, recvtype, comm);
	if ((rc = check_coll_comm(comm, fn, &c)))
		return rc;
	in_place = sendbuf == MPI_IN_PLACE;
	if (!in_place &&
	    ((rc = check_counts(c, fn, "send ", sendcounts, sdispls, true, &any)) ||
	     (rc = check_side(c, fn, "send ", sendbuf, any, sendtype, false))))
		return rc;
	if ((rc = check_counts(c, fn, "receive ", recvcounts, rdispls, true, &any)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, any, recvtype, false)))
		return rc;
	rb = blocks_v(recvbuf, recvcounts, rdispls, recvtype);
	if (shm_coll_on(c)) {
		sb = sendbuf == MPI_IN_PLACE ? rb : blocks_v(sendbuf, sendcounts, sdispls, sendtype);
		rc = shm_alltoall(sendbuf == MPI_IN_PLACE ? NULL : &sb, &rb, c);
		if (rc != SHM_NONE)
			return coll_fail(comm, rc, fn);
	}
	if (in_place) {
		rc = alltoall_inplace(&rb, c, TAG_ALLTOALLV);
	} else {
		sb = blocks_v(sendbuf, sendcounts, sdispls, sendtype);
		rc = alltoall_core(&sb, &rb, c, TAG_ALLTOALLV);
	}
	return coll_fail(comm, rc, fn);
}

int MPI_Alltoallw(const void *sendbuf, const int sendcounts[],
		  const int sdispls[], const MPI_Datatype sendtypes[],
		  void *recvbuf, const int recvcounts[], const int rdispls[],
		  const MPI_Datatype recvtypes[], MPI_Comm comm)
{
	static const char fn[] = "MPI_Alltoallw";
	struct blocks sb, rb;
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_alltoall(fn, sendbuf, sendcounts, sdispls, 0, sendtypes, MPI_DATATYPE_NULL, recvbuf, recvcounts, rdispls, 0, recvtypes, MPI_DATATYPE_NULL, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (sendbuf != MPI_IN_PLACE &&
	     (rc = check_w_side(c, fn, "send ", sendbuf, sendcounts, sdispls, sendtypes))) ||
	    (rc = check_w_side(c, fn, "receive ", recvbuf, recvcounts, rdispls, recvtypes)))
		return rc;
	rb = blocks_w(recvbuf, recvcounts, rdispls, recvtypes);
	if (shm_coll_on(c)) {
		sb = sendbuf == MPI_IN_PLACE ? rb : blocks_w(sendbuf, sendcounts, sdispls, sendtypes);
		rc = shm_alltoall(sendbuf == MPI_IN_PLACE ? NULL : &sb, &rb, c);
		if (rc != SHM_NONE)
			return coll_fail(comm, rc, fn);
	}
	if (sendbuf == MPI_IN_PLACE) {
		rc = alltoall_inplace(&rb, c, TAG_ALLTOALLW);
	} else {
		sb = blocks_w(sendbuf, sendcounts, sdispls, sendtypes);
		rc = alltoall_core(&sb, &rb, c, TAG_ALLTOALLW);
	}
	return coll_fail(comm, rc, fn);
}

int MPI_Reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount,
			     MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	static const char fn[] = "MPI_Reduce_scatter_block";
	struct blocks rb;
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_reduce_scatter(fn, sendbuf, recvbuf, NULL, recvcount, datatype, op, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_red(c, fn, sendbuf, recvbuf, recvcount, datatype, op)))
		return rc;
	if ((long)recvcount * c->size > INT_MAX)
		return mpi_err(comm, MPI_ERR_COUNT, fn, "%d ranks times count %d is too large",
			       c->size, recvcount);
	if (nbytes(recvcount, datatype) == 0)
		return MPI_SUCCESS;
	/* MPI-3.1 5.10.1: with MPI_IN_PLACE the input is taken from recvbuf. */
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	rb = blocks_reg(NULL, recvcount, datatype);
	rc = redscat_core(sendbuf, recvbuf, &rb, recvcount * c->size, datatype, op,
			  c, TAG_REDSCAT_BLOCK);
	return coll_fail(comm, rc, fn);
}

int MPI_Reduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[],
		       MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	static const char fn[] = "MPI_Reduce_scatter";
	struct blocks rb;
	struct comm *c;
	int rc, total = 0, *displs;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_reduce_scatter(fn, sendbuf, recvbuf, recvcounts, 0, datatype, op, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_redscat_counts(c, fn, recvcounts, &total)))
		return rc;
	/* sendbuf holds total elements, recvbuf recvcounts[rank]; with
	 * MPI_IN_PLACE recvbuf holds the input, total (MPI-3.1 5.10.1). */
	if ((rc = check_type(c, fn, "", total, datatype)) ||
	    (rc = check_op(c, fn, op, datatype)) ||
	    (sendbuf != MPI_IN_PLACE &&
	     (rc = check_buf(c, fn, "send ", sendbuf, total, datatype))) ||
	    (rc = check_buf(c, fn, "receive ", recvbuf, sendbuf == MPI_IN_PLACE ?
			  total : recvcounts[c->rank], datatype)))
		return rc;
	if (nbytes(total, datatype) == 0)
		return MPI_SUCCESS;
	if (!(displs = malloc((size_t)c->size * sizeof *displs)))
		return coll_fail(comm, MPI_ERR_NO_MEM, fn);
	for (int i = 0, d = 0; i < c->size; d += recvcounts[i++])
		displs[i] = d;
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	rb = blocks_v(NULL, recvcounts, displs, datatype);
	rc = redscat_core(sendbuf, recvbuf, &rb, total, datatype, op, c, TAG_REDSCAT);
	free(displs);
	return coll_fail(comm, rc, fn);
}

static int scan_common(const char *fn, const void *sendbuf, void *recvbuf,
		       int count, MPI_Datatype datatype, MPI_Op op,
		       MPI_Comm comm, bool ex)
{
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return mpi_err(comm, MPI_ERR_COMM, fn, "not defined on an intercommunicator (5.11)");
	/* MPI-3.1 5.11: MPI_IN_PLACE as sendbuf (all ranks) for both. */
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_red(c, fn, sendbuf, recvbuf, count, datatype, op)))
		return rc;
	if (nbytes(count, datatype) == 0)
		return MPI_SUCCESS;
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	rc = scan_core(sendbuf, recvbuf, count, datatype, op, ex, c,
		       ex ? TAG_EXSCAN : TAG_SCAN);
	return coll_fail(comm, rc, fn);
}

int MPI_Scan(const void *sendbuf, void *recvbuf, int count,
	     MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	return scan_common("MPI_Scan", sendbuf, recvbuf, count, datatype, op, comm, false);
}

int MPI_Exscan(const void *sendbuf, void *recvbuf, int count,
	       MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	return scan_common("MPI_Exscan", sendbuf, recvbuf, count, datatype, op, comm, true);
}
