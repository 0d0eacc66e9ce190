/* Matched probes and receives (MPI-3.1 3.8.2, 3.8.3): MPI_Mprobe,
 * MPI_Improbe, MPI_Mrecv, MPI_Imrecv.
 *
 * A matched probe takes the message out of p2p.c's matching at once, so
 * no other receive or probe can see it; the message handle keeps it (and
 * a reference to its communicator) until MPI_Mrecv or MPI_Imrecv receives
 * it. A probe of MPI_PROC_NULL matches at once with MPI_MESSAGE_NO_PROC,
 * whose receive completes at once with the MPI_PROC_NULL status. */
#include <stdlib.h>
#include "check.h"

struct matched {
	void *msg;             /* p2p_mprobe's; NULL: free slot */
	struct comm *comm;
};
static struct matched *msgs;
static int nmsgs;

/* A handle for a matched message; MPI_MESSAGE_NULL when out of memory. */
static MPI_Message msg_new(void *m, struct comm *c)
{
	int i = 0;
	while (i < nmsgs && msgs[i].msg)
		i++;
	if (i == nmsgs) {
		if (nmsgs > (int)TORO_HANDLE_INDEX_MASK)
			return MPI_MESSAGE_NULL;
		int n = nmsgs ? nmsgs * 2 : 16;
		struct matched *t = realloc(msgs, (size_t)n * sizeof *t);
		if (!t)
			return MPI_MESSAGE_NULL;
		for (int j = nmsgs; j < n; j++)
			t[j].msg = NULL;
		msgs = t;
		nmsgs = n;
	}
	msgs[i] = (struct matched){m, c};
	c->refs++;
	return TORO_MAKE_HANDLE(TORO_KIND_MESSAGE, i);
}

static struct matched *msg_get(MPI_Message h)
{
	if (TORO_HANDLE_KIND(h) != TORO_KIND_MESSAGE || TORO_HANDLE_IS_BUILTIN(h))
		return NULL;
	int i = h & TORO_HANDLE_INDEX_MASK;
	return i < nmsgs && msgs[i].msg ? &msgs[i] : NULL;
}

/* The checks of Mprobe and Improbe's arguments; NULL after reporting. */
static struct comm *probe_args(const char *fn, int src, int tag, MPI_Comm comm,
			       const MPI_Message *message, int *rc)
{
	struct comm *c;
	*rc = MPI_ERR_OTHER;
	if (!mpi_ready(fn))
		return NULL;
	if ((*rc = check_comm(comm, fn, &c)) || (*rc = check_rank(c, fn, src, RANK_PROC_NULL | RANK_ANY_SOURCE)) ||
	    (*rc = check_tag(c, fn, tag, true)) || (*rc = check_arg(c, fn, message, "message")))
		return NULL;
	return c;
}

/* One matching attempt; *flag tells whether a message was matched. */
static int mprobe_once(const char *fn, struct comm *c, int src, int tag, int *flag,
		       MPI_Message *message, MPI_Status *st)
{
	*flag = 0;
	if (src == MPI_PROC_NULL) {
		status_set(st, MPI_PROC_NULL, MPI_ANY_TAG, 0, 0, false);
		*message = MPI_MESSAGE_NO_PROC;
		*flag = 1;
		return MPI_SUCCESS;
	}
	MPI_Status s;
	void *m = p2p_mprobe(c, src, tag, &s);
	if (!m)
		return MPI_SUCCESS;
	if ((*message = msg_new(m, c)) == MPI_MESSAGE_NULL) {
		/* the message cannot be kept: receive it into nothing so that
		 * it is not lost silently (the error ends or reports) */
		MPI_Request r;
		if (p2p_mrecv(m, NULL, 0, MPI_BYTE, c, &r) == MPI_SUCCESS)
			p2p_wait(&r, MPI_STATUS_IGNORE);
		return mpi_err(c->handle, MPI_ERR_NO_MEM, fn, "no memory for a message handle");
	}
	if (st != MPI_STATUS_IGNORE) {
		int e = st->MPI_ERROR;
		*st = s;
		st->MPI_ERROR = e;
	}
	*flag = 1;
	return MPI_SUCCESS;
}

int MPI_Mprobe(int source, int tag, MPI_Comm comm, MPI_Message *message, MPI_Status *status)
{
	int rc, flag;
	struct comm *c = probe_args(__func__, source, tag, comm, message, &rc);
	if (!c)
		return rc;
	for (;;) {
		if ((rc = mprobe_once(__func__, c, source, tag, &flag, message, status)) || flag)
			return rc;
		p2p_wait_event();
	}
}

int MPI_Improbe(int source, int tag, MPI_Comm comm, int *flag, MPI_Message *message,
		MPI_Status *status)
{
	int rc;
	struct comm *c = probe_args(__func__, source, tag, comm, message, &rc);
	if (!c)
		return rc;
	if (!flag)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "flag is NULL");
	return mprobe_once(__func__, c, source, tag, flag, message, status);
}

/* The start of both receives: *req gets a request that is complete
 * already; for MPI_MESSAGE_NO_PROC only *no_proc is set. *comm: the
 * message's communicator, for reporting. */
static int mrecv_start(const char *fn, void *buf, int count, MPI_Datatype dt, MPI_Message *message,
		       MPI_Request *req, bool *no_proc, MPI_Comm *comm)
{
	*no_proc = false;
	*comm = MPI_COMM_NULL;
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (!message)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, fn, "message is NULL");
	if (*message == MPI_MESSAGE_NO_PROC) {
		*no_proc = true;
		*message = MPI_MESSAGE_NULL;
		return MPI_SUCCESS;
	}
	struct matched *m = msg_get(*message);
	if (!m)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_REQUEST, fn, "%s",
			       *message == MPI_MESSAGE_NULL ? "the message is MPI_MESSAGE_NULL"
							    : "invalid message handle");
	struct comm *c = m->comm;
	*comm = c->handle;
	int rc = check_type(c, fn, "", count, dt);
	if (rc)
		return rc;
	rc = p2p_mrecv(m->msg, buf, count, dt, c, req);
	m->msg = NULL;
	*message = MPI_MESSAGE_NULL;
	comm_release(c);     /* the request holds its own reference */
	if (rc)
		return mpi_err(*comm, rc, fn, "no memory for a request");
	return MPI_SUCCESS;
}

int MPI_Mrecv(void *buf, int count, MPI_Datatype datatype, MPI_Message *message, MPI_Status *status)
{
	MPI_Request r;
	MPI_Comm comm;
	bool no_proc;
	int rc = mrecv_start(__func__, buf, count, datatype, message, &r, &no_proc, &comm);
	if (rc)
		return rc;
	if (no_proc) {
		status_set(status, MPI_PROC_NULL, MPI_ANY_TAG, 0, 0, false);
		return MPI_SUCCESS;
	}
	if ((rc = p2p_wait(&r, status)))
		return mpi_err(comm, rc, __func__, "%s", rc == MPI_ERR_TRUNCATE ?
			       "message longer than the receive buffer" : "");
	return MPI_SUCCESS;
}

/* For MPI_MESSAGE_NO_PROC the request is a receive from MPI_PROC_NULL,
 * which completes at once with the MPI_PROC_NULL status. */
int MPI_Imrecv(void *buf, int count, MPI_Datatype datatype, MPI_Message *message,
	       MPI_Request *request)
{
	MPI_Comm comm;
	bool no_proc;
	if (!request)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "request is NULL");
	int rc = mrecv_start(__func__, buf, count, datatype, message, request, &no_proc, &comm);
	if (rc || !no_proc)
		return rc;
	struct comm *self = comm_get(MPI_COMM_SELF);
	if ((rc = p2p_irecv(buf, 0, MPI_BYTE, MPI_PROC_NULL, 0, self, 0, request)))
		return mpi_err(MPI_COMM_NULL, rc, __func__, "no memory for a request");
	return MPI_SUCCESS;
}
