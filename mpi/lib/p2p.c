/* The point-to-point calls (MPI-3.1 chapter 3): blocking, nonblocking
 * and persistent sends and receives, Sendrecv, probes, and the helpers
 * the collectives use. Argument checks decode the communicator and the
 * datatype once; a blocking send of a contiguous eager message goes
 * straight into the ring (match.c send_eager_now) with no request. */
#include <stdlib.h>
#include <string.h>
#include "p2p.h"
#include "check.h"

/* ---- argument checks ---- */

static inline bool rank_fine(int r, const struct comm *c, bool recv)
{
	return (r >= 0 && r < comm_npeers(c)) || r == MPI_PROC_NULL || (recv && r == MPI_ANY_SOURCE);
}

static inline bool tag_fine(int tag, bool recv)
{
	return (tag >= 0 && tag <= TORO_TAG_UB) || (recv && tag == MPI_ANY_TAG);
}

/* The error a failed fast check stands for, in check.h's words. */
static int check_slow(const char *fn, const void *buf, int count, MPI_Datatype dt, int peer, int tag,
		      struct comm *c, bool recv)
{
	int rc;
	if ((rc = check_data(c, fn, "", buf, count, dt)) ||
	    (rc = check_rank(c, fn, peer, RANK_PROC_NULL | (recv ? RANK_ANY_SOURCE : 0))))
		return rc;
	return check_tag(c, fn, tag, recv);
}

/* Checks the arguments of a send (recv false) or receive; on success *out
 * and *v hold the communicator and the datatype's view. */
static inline int check_p2p(const char *fn, const void *buf, int count, MPI_Datatype dt, int peer, int tag,
			    MPI_Comm comm, bool recv, struct comm **out, struct dtype_view *v)
{
	if (mpi_state != 1 && !mpi_ready(fn))
		return MPI_ERR_OTHER;
	struct comm *c = *out = comm_get(comm);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, fn, "invalid communicator");
	dtype_view(dt, v);
	if (count < 0 || !v->committed || buf == MPI_IN_PLACE || (!buf && count > 0 && v->size > 0 && v->true_lb == 0) ||
	    !rank_fine(peer, c, recv) || !tag_fine(tag, recv))
		return check_slow(fn, buf, count, dt, peer, tag, c, recv);
	return MPI_SUCCESS;
}

/* ---- the library's own sends and receives ---- */

int p2p_isend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, struct comm *c, int coll, int mode,
	      MPI_Request *req)
{
	struct request *r = req_alloc();
	if (!r)
		return MPI_ERR_NO_MEM;
	req_fill(r, REQ_SEND, buf, count, dt, dest, tag, c, coll, mode);
	req_hold(r);
	int err = send_start(r);
	if (err) {
		req_release(r);
		return err;
	}
	*req = req_handle(r);
	return *req == MPI_REQUEST_NULL ? MPI_ERR_NO_MEM : MPI_SUCCESS;
}

int p2p_irecv(void *buf, int count, MPI_Datatype dt, int src, int tag, struct comm *c, int coll, MPI_Request *req)
{
	struct request *r = req_alloc();
	if (!r)
		return MPI_ERR_NO_MEM;
	req_fill(r, REQ_RECV, buf, count, dt, src, tag, c, coll, MODE_STANDARD);
	req_hold(r);
	recv_start(r);
	*req = req_handle(r);
	return *req == MPI_REQUEST_NULL ? MPI_ERR_NO_MEM : MPI_SUCCESS;
}

/* A blocking send: straight into the ring when it can, else with a
 * request on the stack. */
static int send_blocking(const void *buf, int count, MPI_Datatype dt, const struct dtype_view *v, int dest, int tag,
			 struct comm *c, int coll, int mode)
{
	size_t bytes = (size_t)count * v->size;
	if (v->contig && (mode == MODE_STANDARD || mode == MODE_READY) && bytes <= eager_max && dest != MPI_PROC_NULL &&
	    send_eager_now((const char *)buf + v->true_lb, bytes, comm_peer_world(c, dest), tag, c->rank, c->ctx + coll))
		return MPI_SUCCESS;
	struct request r;
	memset(&r, 0, sizeof r);
	req_fill(&r, REQ_SEND, buf, count, dt, dest, tag, c, coll, mode);
	int err = send_start(&r);
	if (err)
		return err;
	wait_one(&r);
	return MPI_SUCCESS;
}

static int recv_blocking(void *buf, int count, MPI_Datatype dt, int src, int tag, struct comm *c, int coll,
			 MPI_Status *st)
{
	struct request r;
	memset(&r, 0, sizeof r);
	req_fill(&r, REQ_RECV, buf, count, dt, src, tag, c, coll, MODE_STANDARD);
	recv_start(&r);
	wait_one(&r);
	if (st != MPI_STATUS_IGNORE) {
		int e = st->MPI_ERROR;
		*st = r.status;
		st->MPI_ERROR = e;
	}
	return r.error;
}

int coll_send(const void *buf, int count, MPI_Datatype dt, int dest, int tag, struct comm *c)
{
	struct dtype_view v;
	dtype_view(dt, &v);
	return send_blocking(buf, count, dt, &v, dest, tag, c, 1, MODE_STANDARD);
}

int coll_recv(void *buf, int count, MPI_Datatype dt, int src, int tag, struct comm *c)
{
	return recv_blocking(buf, count, dt, src, tag, c, 1, MPI_STATUS_IGNORE);
}

int coll_sendrecv(const void *sbuf, int scount, MPI_Datatype sdt, int dest, void *rbuf, int rcount,
		  MPI_Datatype rdt, int src, int tag, struct comm *c)
{
	MPI_Request rr;
	int err = p2p_irecv(rbuf, rcount, rdt, src, tag, c, 1, &rr);
	if (err)
		return err;
	struct dtype_view v;
	dtype_view(sdt, &v);
	err = send_blocking(sbuf, scount, sdt, &v, dest, tag, c, 1, MODE_STANDARD);
	int err2 = p2p_wait(&rr, MPI_STATUS_IGNORE);
	return err ? err : err2;
}

/* ---- the MPI functions: blocking ---- */

static int send_call(const char *fn, const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm,
		     int mode)
{
	struct comm *c;
	struct dtype_view v;
	int err = check_p2p(fn, buf, count, dt, dest, tag, comm, false, &c, &v);
	if (err)
		return err;
	err = send_blocking(buf, count, dt, &v, dest, tag, c, 0, mode);
	return err ? mpi_err(comm, err, fn, "%s", err == MPI_ERR_BUFFER ? "the attached buffer is too small" : "send failed") : MPI_SUCCESS;
}

int MPI_Send(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm)
{
	return send_call("MPI_Send", buf, count, dt, dest, tag, comm, MODE_STANDARD);
}

int MPI_Ssend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm)
{
	return send_call("MPI_Ssend", buf, count, dt, dest, tag, comm, MODE_SYNC);
}

int MPI_Rsend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm)
{
	return send_call("MPI_Rsend", buf, count, dt, dest, tag, comm, MODE_READY);
}

int MPI_Bsend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm)
{
	return send_call("MPI_Bsend", buf, count, dt, dest, tag, comm, MODE_BUFFERED);
}

int MPI_Recv(void *buf, int count, MPI_Datatype dt, int src, int tag, MPI_Comm comm, MPI_Status *st)
{
	struct comm *c;
	struct dtype_view v;
	int err = check_p2p("MPI_Recv", buf, count, dt, src, tag, comm, true, &c, &v);
	if (err)
		return err;
	err = recv_blocking(buf, count, dt, src, tag, c, 0, st);
	if (err == MPI_ERR_TRUNCATE)
		return mpi_err(comm, err, "MPI_Recv", "message longer than the receive buffer (%d elements)", count);
	return err;
}

int MPI_Sendrecv(const void *sbuf, int scount, MPI_Datatype sdt, int dest, int stag, void *rbuf, int rcount,
		 MPI_Datatype rdt, int src, int rtag, MPI_Comm comm, MPI_Status *st)
{
	struct comm *c;
	struct dtype_view v, rv;
	int err = check_p2p("MPI_Sendrecv", sbuf, scount, sdt, dest, stag, comm, false, &c, &v);
	if (!err)
		err = check_p2p("MPI_Sendrecv", rbuf, rcount, rdt, src, rtag, comm, true, &c, &rv);
	if (err)
		return err;
	MPI_Request rr;
	err = p2p_irecv(rbuf, rcount, rdt, src, rtag, c, 0, &rr);
	if (!err)
		err = send_blocking(sbuf, scount, sdt, &v, dest, stag, c, 0, MODE_STANDARD);
	int err2 = err ? err : p2p_wait(&rr, st);
	if (err2)
		return mpi_err(comm, err2, "MPI_Sendrecv", "%s", err2 == MPI_ERR_TRUNCATE ? "message truncated" : "failed");
	return MPI_SUCCESS;
}

int MPI_Sendrecv_replace(void *buf, int count, MPI_Datatype dt, int dest, int stag, int src, int rtag,
			 MPI_Comm comm, MPI_Status *st)
{
	struct comm *c;
	struct dtype_view v;
	int err = check_p2p("MPI_Sendrecv_replace", buf, count, dt, dest, stag, comm, false, &c, &v);
	if (!err)
		err = check_p2p("MPI_Sendrecv_replace", buf, count, dt, src, rtag, comm, true, &c, &v);
	if (err)
		return err;
	size_t bytes = (size_t)count * v.size;
	void *tmp = malloc(bytes ? bytes : 1);
	if (!tmp)
		return mpi_err(comm, MPI_ERR_NO_MEM, "MPI_Sendrecv_replace", "no memory for %zu bytes", bytes);
	dtype_pack(buf, count, dt, tmp);
	MPI_Request rr;
	err = p2p_irecv(buf, count, dt, src, rtag, c, 0, &rr);
	if (!err)
		err = send_blocking(tmp, (int)bytes, MPI_BYTE, &(struct dtype_view){1, 0, true, true}, dest, stag, c, 0,
				    MODE_STANDARD);
	int err2 = err ? err : p2p_wait(&rr, st);
	free(tmp);
	if (err2)
		return mpi_err(comm, err2, "MPI_Sendrecv_replace", "%s", err2 == MPI_ERR_TRUNCATE ? "message truncated" : "failed");
	return MPI_SUCCESS;
}

/* ---- nonblocking and persistent ---- */

static int isend_call(const char *fn, const void *buf, int count, MPI_Datatype dt, int dest, int tag,
		      MPI_Comm comm, int mode, MPI_Request *req, bool persistent)
{
	struct comm *c;
	struct dtype_view v;
	int err = check_p2p(fn, buf, count, dt, dest, tag, comm, false, &c, &v);
	if (err)
		return err;
	if (!req)
		return mpi_err(comm, MPI_ERR_ARG, fn, "NULL request pointer");
	struct request *r = req_alloc();
	if (!r)
		return mpi_err(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	req_fill(r, REQ_SEND, buf, count, dt, dest, tag, c, 0, mode);
	req_hold(r);
	r->persistent = persistent;
	if (!persistent && (err = send_start(r))) {
		req_release(r);
		return mpi_err(comm, err, fn, "%s", err == MPI_ERR_BUFFER ? "the attached buffer is too small" : "send failed");
	}
	*req = req_handle(r);
	return MPI_SUCCESS;
}

int MPI_Isend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Isend", buf, count, dt, dest, tag, comm, MODE_STANDARD, req, false);
}

int MPI_Issend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Issend", buf, count, dt, dest, tag, comm, MODE_SYNC, req, false);
}

int MPI_Irsend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Irsend", buf, count, dt, dest, tag, comm, MODE_READY, req, false);
}

int MPI_Ibsend(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Ibsend", buf, count, dt, dest, tag, comm, MODE_BUFFERED, req, false);
}

int MPI_Send_init(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Send_init", buf, count, dt, dest, tag, comm, MODE_STANDARD, req, true);
}

int MPI_Ssend_init(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Ssend_init", buf, count, dt, dest, tag, comm, MODE_SYNC, req, true);
}

int MPI_Rsend_init(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Rsend_init", buf, count, dt, dest, tag, comm, MODE_READY, req, true);
}

int MPI_Bsend_init(const void *buf, int count, MPI_Datatype dt, int dest, int tag, MPI_Comm comm, MPI_Request *req)
{
	return isend_call("MPI_Bsend_init", buf, count, dt, dest, tag, comm, MODE_BUFFERED, req, true);
}

static int irecv_call(const char *fn, void *buf, int count, MPI_Datatype dt, int src, int tag, MPI_Comm comm,
		      MPI_Request *req, bool persistent)
{
	struct comm *c;
	struct dtype_view v;
	int err = check_p2p(fn, buf, count, dt, src, tag, comm, true, &c, &v);
	if (err)
		return err;
	if (!req)
		return mpi_err(comm, MPI_ERR_ARG, fn, "NULL request pointer");
	struct request *r = req_alloc();
	if (!r)
		return mpi_err(comm, MPI_ERR_NO_MEM, fn, "no memory for a request");
	req_fill(r, REQ_RECV, buf, count, dt, src, tag, c, 0, MODE_STANDARD);
	req_hold(r);
	r->persistent = persistent;
	if (!persistent)
		recv_start(r);
	*req = req_handle(r);
	return MPI_SUCCESS;
}

int MPI_Irecv(void *buf, int count, MPI_Datatype dt, int src, int tag, MPI_Comm comm, MPI_Request *req)
{
	return irecv_call("MPI_Irecv", buf, count, dt, src, tag, comm, req, false);
}

int MPI_Recv_init(void *buf, int count, MPI_Datatype dt, int src, int tag, MPI_Comm comm, MPI_Request *req)
{
	return irecv_call("MPI_Recv_init", buf, count, dt, src, tag, comm, req, true);
}

int MPI_Start(MPI_Request *req)
{
	if (!mpi_ready("MPI_Start"))
		return MPI_ERR_OTHER;
	struct request *r = req ? req_get(*req) : NULL;
	if (!r || !r->persistent)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_REQUEST, "MPI_Start", "not a persistent request");
	if (r->active)
		return mpi_err(r->comm_handle, MPI_ERR_REQUEST, "MPI_Start", "the request is already active");
	if (r->kind == REQ_RECV) {
		recv_start(r);
		return MPI_SUCCESS;
	}
	int err = send_start(r);
	if (err)
		r->active = false;
	return err ? mpi_err(r->comm_handle, err, "MPI_Start", "send failed") : MPI_SUCCESS;
}

int MPI_Startall(int n, MPI_Request reqs[])
{
	if (n < 0)
		return mpi_err(MPI_COMM_WORLD, MPI_ERR_COUNT, "MPI_Startall", "negative count %d", n);
	for (int i = 0; i < n; i++) {
		int err = MPI_Start(&reqs[i]);
		if (err)
			return err;
	}
	return MPI_SUCCESS;
}

/* ---- probing ---- */

static int probe(const char *fn, int src, int tag, MPI_Comm comm, int *flag, MPI_Status *st, bool block)
{
	struct comm *c;
	struct dtype_view v;
	int dummy = 0;
	int err = check_p2p(fn, &dummy, 0, MPI_BYTE, src, tag, comm, true, &c, &v);
	if (err)
		return err;
	if (src == MPI_PROC_NULL) {
		if (flag)
			*flag = 1;
		status_set(st, MPI_PROC_NULL, MPI_ANY_TAG, 0, 0, false);
		return MPI_SUCCESS;
	}
	for (;;) {
		struct unexpected *u = unexpected_find(c->ctx, src, tag, false);
		if (u) {
			if (flag)
				*flag = 1;
			unexpected_status(u, st);
			return MPI_SUCCESS;
		}
		if (!block) {
			*flag = 0;
			return MPI_SUCCESS;
		}
		wait_for_event(NULL, 0);
	}
}

int MPI_Probe(int src, int tag, MPI_Comm comm, MPI_Status *st)
{
	return probe("MPI_Probe", src, tag, comm, NULL, st, true);
}

int MPI_Iprobe(int src, int tag, MPI_Comm comm, int *flag, MPI_Status *st)
{
	if (!flag)
		return mpi_err(comm, MPI_ERR_ARG, "MPI_Iprobe", "NULL flag");
	return probe("MPI_Iprobe", src, tag, comm, flag, st, false);
}

/* ---- matched probes: the hooks of mprobe.c ---- */

/* 3.8.2: the first unexpected message that a receive (src, tag) on c
 * would match, taken out of matching so that no other receive gets it;
 * NULL when none has arrived. *st gets its source, tag and size. */
void *p2p_mprobe(struct comm *c, int src, int tag, MPI_Status *st)
{
	struct unexpected *u = unexpected_find(c->ctx, src, tag, true);
	if (u)
		unexpected_status(u, st);
	return u;
}

void p2p_wait_event(void)
{
	wait_for_event(NULL, 0);
}

/* Receives a message p2p_mprobe took into a request that is complete
 * already (the data is here or in the sender's memory). */
int p2p_mrecv(void *msg, void *buf, int count, MPI_Datatype dt, struct comm *c, MPI_Request *req)
{
	struct request *r = req_alloc();
	if (!r)
		return MPI_ERR_NO_MEM;
	req_fill(r, REQ_RECV, buf, count, dt, MPI_ANY_SOURCE, MPI_ANY_TAG, c, 0, MODE_STANDARD);
	req_hold(r);
	r->active = true;
	unexpected_deliver(r, msg);
	*req = req_handle(r);
	return *req == MPI_REQUEST_NULL ? MPI_ERR_NO_MEM : MPI_SUCCESS;
}

