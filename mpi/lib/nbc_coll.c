/* The nonblocking collectives of MPI-3.1 5.12 with a root, and the
 * barrier: argument checks as the blocking forms (coll.c), then a
 * schedule (nbc.h). A schedule is made on every call, even when nothing
 * moves, so that all members agree on the tag of each call. */
#include "coll.h"
#include "nbc.h"

int nbc_check_start(MPI_Comm comm, const char *fn, MPI_Request *req, struct comm **c)
{
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if ((rc = check_coll_comm(comm, fn, c)))
		return rc;
	return check_arg(*c, fn, req, "request pointer");
}

int nbc_begin(struct nbc_sched *s, MPI_Request *req, MPI_Comm comm, const char *fn)
{
	return coll_fail(comm, s ? nbc_start(s, req) : MPI_ERR_NO_MEM, fn);
}

int MPI_Ibarrier(MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Ibarrier";
	struct nbc_sched *s;
	struct comm *c;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)))
		return rc;
	/* dissemination, as MPI_Barrier */
	if ((s = nbc_new(c)))
		for (int k = 1; k < c->size; k <<= 1) {
			nbc_recv(s, NULL, 0, MPI_BYTE, (c->rank - k + c->size) % c->size);
			nbc_send(s, NULL, 0, MPI_BYTE, (c->rank + k) % c->size);
			nbc_round(s);
		}
	return nbc_begin(s, req, comm, fn);
}

int MPI_Ibcast(void *buffer, int count, MPI_Datatype datatype, int root, MPI_Comm comm,
	       MPI_Request *req)
{
	static const char fn[] = "MPI_Ibcast";
	struct nbc_sched *s;
	struct comm *c;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) || (rc = check_root(c, fn, root)) ||
	    (rc = check_type(c, fn, "", count, datatype)) ||
	    (rc = check_buf(c, fn, "", buffer, count, datatype)))
		return rc;
	if ((s = nbc_new(c)) && c->size > 1 && nbc_bytes(count, datatype))
		nbc_bcast(s, buffer, count, datatype, root);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Ireduce(const void *sendbuf, void *recvbuf, int count, MPI_Datatype datatype,
		MPI_Op op, int root, MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Ireduce";
	struct nbc_sched *s;
	struct comm *c;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) || (rc = check_root(c, fn, root)) ||
	    (rc = check_type(c, fn, "", count, datatype)) ||
	    (rc = check_op(c, fn, op, datatype)))
		return rc;
	/* MPI-3.1 5.9.1: MPI_IN_PLACE at the root only; recvbuf there only */
	if (!(c->rank == root && sendbuf == MPI_IN_PLACE) &&
	    (rc = check_buf(c, fn, "send ", sendbuf, count, datatype)))
		return rc;
	if (c->rank == root && (rc = check_buf(c, fn, "receive ", recvbuf, count, datatype)))
		return rc;
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	if ((s = nbc_new(c)) && nbc_bytes(count, datatype))
		nbc_reduce_to(s, sendbuf, recvbuf, count, datatype, op, root);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Igather(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Igather";
	struct blocks rb = { 0 };
	struct nbc_sched *s;
	struct comm *c;
	bool at_root;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) || (rc = check_root(c, fn, root)))
		return rc;
	at_root = c->rank == root;
	if ((rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   at_root && sendbuf == MPI_IN_PLACE)) ||
	    (at_root && (rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype, false))))
		return rc;
	if (at_root)
		rb = blocks_reg(recvbuf, recvcount, recvtype);
	if ((s = nbc_new(c)))
		nbc_gather(s, sendbuf, sendcount, sendtype, &rb, root);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Igatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		 const int recvcounts[], const int displs[], MPI_Datatype recvtype, int root,
		 MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Igatherv";
	struct blocks rb = { 0 };
	struct nbc_sched *s;
	struct comm *c;
	bool at_root, any;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) || (rc = check_root(c, fn, root)))
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
	if ((s = nbc_new(c)))
		nbc_gather(s, sendbuf, sendcount, sendtype, &rb, root);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Iscatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype, void *recvbuf,
		 int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Iscatter";
	struct blocks sb = { 0 };
	struct nbc_sched *s;
	struct comm *c;
	bool at_root;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) || (rc = check_root(c, fn, root)))
		return rc;
	at_root = c->rank == root;
	if ((at_root && (rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype, false))) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype,
			   at_root && recvbuf == MPI_IN_PLACE)))
		return rc;
	if (at_root)
		sb = blocks_reg(sendbuf, sendcount, sendtype);
	if ((s = nbc_new(c)))
		nbc_scatter(s, &sb, recvbuf, recvcount, recvtype, root);
	return nbc_begin(s, req, comm, fn);
}

int MPI_Iscatterv(const void *sendbuf, const int sendcounts[], const int displs[],
		  MPI_Datatype sendtype, void *recvbuf, int recvcount, MPI_Datatype recvtype,
		  int root, MPI_Comm comm, MPI_Request *req)
{
	static const char fn[] = "MPI_Iscatterv";
	struct blocks sb = { 0 };
	struct nbc_sched *s;
	struct comm *c;
	bool at_root, any;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)) || (rc = check_root(c, fn, root)))
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
	if ((s = nbc_new(c)))
		nbc_scatter(s, &sb, recvbuf, recvcount, recvtype, root);
	return nbc_begin(s, req, comm, fn);
}
