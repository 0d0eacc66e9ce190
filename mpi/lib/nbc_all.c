/* The nonblocking collectives of MPI-3.1 5.12 without a root: all-reduce,
 * all-gather, all-to-all, reduce-scatter and scans, on the schedules of
 * nbc_build.c. Checks as the blocking forms (coll.c). */
#include <limits.h>
#include "coll.h"
#include "nbc.h"

/* Reduce to rank 0, then broadcast from it: every rank gets the same bits. */
int MPI_Iallreduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
		   MPI_Op op, MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Iallreduce";
	struct nbc_sched *s;
	struct comm *c;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) ||
	    (rc = check_red(c, fn, sendbuf, recvbuf, count, datatype, op)))
		return rc;
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	if ((s = nbc_new(c)) && nbc_bytes(count, datatype)) {
		nbc_reduce_to(s, sendbuf, recvbuf, count, datatype, op, 0);
		if (c->size > 1)
			nbc_bcast(s, recvbuf, count, datatype, 0);
	}
	return nbc_begin(s, req, comm, fn);
}

/* MPI-3.1 5.7: with MPI_IN_PLACE each rank's block is in recvbuf already. */
static void allgather_sched(struct nbc_sched *s, const void *sendbuf, int sendcount,
			    MPI_Datatype sendtype, const struct blocks *rb)
{
	int me = nbc_comm(s)->rank;

	if (sendbuf != MPI_IN_PLACE)
		nbc_copy(s, sendbuf, sendcount, sendtype, blk_addr(rb, me), blk_count(rb, me),
			 blk_type(rb, me));
	nbc_allgather(s, rb);
}

int MPI_Iallgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		   int recvcount, MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Iallgather";
	struct blocks rb;
	struct nbc_sched *s;
	struct comm *c;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) ||
	    (rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   sendbuf == MPI_IN_PLACE)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype, false)))
		return rc;
	rb = blocks_reg(recvbuf, recvcount, recvtype);
	if ((s = nbc_new(c)) && nbc_bytes(recvcount, recvtype))
		allgather_sched(s, sendbuf, sendcount, sendtype, &rb);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Iallgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		    const int recvcounts[], const int displs[], MPI_Datatype recvtype,
		    MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Iallgatherv";
	struct blocks rb;
	struct nbc_sched *s;
	struct comm *c;
	bool any;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) ||
	    (rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   sendbuf == MPI_IN_PLACE)) ||
	    (rc = check_counts(c, fn, "receive ", recvcounts, displs, true, &any)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, any, recvtype, false)))
		return rc;
	rb = blocks_v(recvbuf, recvcounts, displs, recvtype);
	if ((s = nbc_new(c)))
		allgather_sched(s, sendbuf, sendcount, sendtype, &rb);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Ialltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		  int recvcount, MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Ialltoall";
	struct blocks sb, rb;
	struct nbc_sched *s;
	struct comm *c;
	int rc;

	/* MPI-3.1 5.8: with MPI_IN_PLACE sendcount and sendtype are ignored */
	if ((rc = nbc_check_start(comm, fn, req, &c)) ||
	    (rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   sendbuf == MPI_IN_PLACE)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype, false)))
		return rc;
	rb = blocks_reg(recvbuf, recvcount, recvtype);
	if (sendbuf != MPI_IN_PLACE)
		sb = blocks_reg(sendbuf, sendcount, sendtype);
	if ((s = nbc_new(c)))
		nbc_alltoall(s, sendbuf == MPI_IN_PLACE ? NULL : &sb, &rb);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Ialltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
		   MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
		   const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Ialltoallv";
	struct blocks sb, rb;
	struct nbc_sched *s;
	struct comm *c;
	bool any, in_place = sendbuf == MPI_IN_PLACE;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)))
		return rc;
	if (!in_place &&
	    ((rc = check_counts(c, fn, "send ", sendcounts, sdispls, true, &any)) ||
	     (rc = check_side(c, fn, "send ", sendbuf, any, sendtype, false))))
		return rc;
	if ((rc = check_counts(c, fn, "receive ", recvcounts, rdispls, true, &any)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, any, recvtype, false)))
		return rc;
	rb = blocks_v(recvbuf, recvcounts, rdispls, recvtype);
	if (!in_place)
		sb = blocks_v(sendbuf, sendcounts, sdispls, sendtype);
	if ((s = nbc_new(c)))
		nbc_alltoall(s, in_place ? NULL : &sb, &rb);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Ialltoallw(const void *sendbuf, const int sendcounts[], const int sdispls[],
		   const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
		   const int rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm,
		   MPI_Request *req)
{
	static const char fn[] = "MPI_Ialltoallw";
	struct blocks sb, rb;
	struct nbc_sched *s;
	struct comm *c;
	bool in_place = sendbuf == MPI_IN_PLACE;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) ||
	    (!in_place &&
	     (rc = check_w_side(c, fn, "send ", sendbuf, sendcounts, sdispls, sendtypes))) ||
	    (rc = check_w_side(c, fn, "receive ", recvbuf, recvcounts, rdispls, recvtypes)))
		return rc;
	rb = blocks_w(recvbuf, recvcounts, rdispls, recvtypes);
	if (!in_place)
		sb = blocks_w(sendbuf, sendcounts, sdispls, sendtypes);
	if ((s = nbc_new(c)))
		nbc_alltoall(s, in_place ? NULL : &sb, &rb);
	return nbc_begin(s, req, comm, fn);
}

/* Reduces total elements to rank 0, then scatters block i of the result
 * (laid out as rb) to rank i. */
static void redscat_sched(struct nbc_sched *s, const void *mine, void *rbuf,
			  struct blocks *rb, int total, MPI_Datatype dt, MPI_Op op)
{
	struct comm *c = nbc_comm(s);
	char *full = NULL;

	if (c->rank == 0 && !(full = nbc_tmp_typed(s, total, dt)))
		return;
	nbc_reduce_to(s, mine, full, total, dt, op, 0);
	rb->buf = full;
	nbc_scatter(s, rb, rbuf, blk_count(rb, c->rank), dt, 0);
}

int MPI_Ireduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount,
			      MPI_Datatype datatype, MPI_Op op, MPI_Comm comm,
			      MPI_Request *req)
{
	static const char fn[] = "MPI_Ireduce_scatter_block";
	struct blocks rb;
	struct nbc_sched *s;
	struct comm *c;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) ||
	    (rc = check_red(c, fn, sendbuf, recvbuf, recvcount, datatype, op)))
		return rc;
	if ((long)recvcount * c->size > INT_MAX)
		return mpi_err(comm, MPI_ERR_COUNT, fn, "%d ranks times count %d is too large",
			       c->size, recvcount);
	/* MPI-3.1 5.10.1: with MPI_IN_PLACE the input is taken from recvbuf */
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	rb = blocks_reg(NULL, recvcount, datatype);
	if ((s = nbc_new(c)) && nbc_bytes(recvcount, datatype))
		redscat_sched(s, sendbuf, recvbuf, &rb, recvcount * c->size, datatype, op);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Ireduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[],
			MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Ireduce_scatter";
	struct blocks rb;
	struct nbc_sched *s;
	struct comm *c;
	int rc, total = 0, *displs;

	if ((rc = nbc_check_start(comm, fn, req, &c)) ||
	    (rc = check_redscat_counts(c, fn, recvcounts, &total)))
		return rc;
	if ((rc = check_type(c, fn, "", total, datatype)) ||
	    (rc = check_op(c, fn, op, datatype)) ||
	    (sendbuf != MPI_IN_PLACE &&
	     (rc = check_buf(c, fn, "send ", sendbuf, total, datatype))) ||
	    (rc = check_buf(c, fn, "receive ", recvbuf, sendbuf == MPI_IN_PLACE ?
			  total : recvcounts[c->rank], datatype)))
		return rc;
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	s = nbc_new(c);
	if (s && nbc_bytes(total, datatype) &&
	    (displs = nbc_tmp(s, (size_t)c->size * sizeof *displs))) {
		for (int i = 0, d = 0; i < c->size; d += recvcounts[i++])
			displs[i] = d;
		rb = blocks_v(NULL, recvcounts, displs, datatype);
		redscat_sched(s, sendbuf, recvbuf, &rb, total, datatype, op);
	}
	return nbc_begin(s, req, comm, fn);
}

static int iscan(const char *fn, const void *sendbuf, void *recvbuf, int count,
		 MPI_Datatype datatype, MPI_Op op, MPI_Comm comm, MPI_Request *req, bool ex)
{
	struct nbc_sched *s;
	struct comm *c;
	int rc;

	/* MPI-3.1 5.11: MPI_IN_PLACE as sendbuf (all ranks) for both */
	if ((rc = nbc_check_start(comm, fn, req, &c)) ||
	    (rc = check_red(c, fn, sendbuf, recvbuf, count, datatype, op)))
		return rc;
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	if ((s = nbc_new(c)) && nbc_bytes(count, datatype))
		nbc_scan(s, sendbuf, recvbuf, count, datatype, op, ex);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Iscan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
	      MPI_Op op, MPI_Comm comm, MPI_Request *req)
{
	return iscan("MPI_Iscan", sendbuf, recvbuf, count, datatype, op, comm, req, false);
}

int MPI_Iexscan(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
		MPI_Op op, MPI_Comm comm, MPI_Request *req)
{
	return iscan("MPI_Iexscan", sendbuf, recvbuf, count, datatype, op, comm, req, true);
}
