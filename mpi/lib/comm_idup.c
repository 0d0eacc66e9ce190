/* MPI_Comm_idup (MPI-3.1 6.4.2): MPI_Comm_dup as a schedule (nbc.h).
 *
 * The members agree on a context id without blocking, in rounds of a
 * nonblocking all-reduce (MAX) on the parent:
 *   1. each proposes an id above every id it uses or holds; m = the max;
 *   2. each holds m if it is still free here (a blocking creation may
 *      have taken it meanwhile) and reports whether it could;
 *   3. all could: the communicator is made with m; else those that hold
 *      m let it go and 1 starts again above every proposal.
 * A held id is above what blocking creations take (comm_ctx_propose), so
 * nothing takes it between 2 and 3. The new handle is stored in *newcomm
 * when the request completes; the attributes are copied then. */
#include <stdlib.h>
#include "nbc.h"

struct idup {
	struct comm *parent;
	MPI_Comm *newcomm;
	int in[2], out[2];      /* [0]: an id (MAX), [1]: 1 if this rank could not hold it */
	int held;               /* the id this rank holds, or -1 */
};

static int check(struct nbc_sched *s, void *arg);
static int decide(struct nbc_sched *s, void *arg);

static void allreduce_then(struct nbc_sched *s, struct idup *d, nbc_fn *next)
{
	nbc_reduce_to(s, d->in, d->out, 2, MPI_INT, MPI_MAX, 0);
	if (d->parent->size > 1)
		nbc_bcast(s, d->out, 2, MPI_INT, 0);
	nbc_call(s, next, d);
}

/* After a failed round, two idups that met on some ranks would meet again
 * on the same id if all proposed alike; a random step apart breaks that. */
static int jitter(void)
{
	static unsigned x;
	x = x * 1103515245u + 12345u + (unsigned)toro->rank * 2654435761u;
	return 2 * (int)((x >> 16) % 16);
}

static int propose(struct nbc_sched *s, void *arg)
{
	struct idup *d = arg;
	int p = comm_ctx_propose();

	d->in[0] = p > d->out[0] ? p : d->out[0];
	if (d->out[0])
		d->in[0] += jitter();
	d->in[1] = 0;
	allreduce_then(s, d, check);
	return MPI_SUCCESS;
}

static int check(struct nbc_sched *s, void *arg)
{
	struct idup *d = arg;
	bool ok = comm_ctx_hold(d->out[0]);

	d->held = ok ? d->out[0] : -1;
	d->in[0] = comm_ctx_propose();
	d->in[1] = !ok;
	allreduce_then(s, d, decide);
	return MPI_SUCCESS;
}

static int decide(struct nbc_sched *s, void *arg)
{
	struct idup *d = arg;
	struct comm *n;
	bool err;
	int rc;

	if (d->out[1]) {                        /* someone could not: again */
		if (d->held >= 0)
			comm_ctx_unhold(d->held, false);
		d->held = -1;
		return propose(s, d);
	}
	comm_ctx_unhold(d->held, true);
	n = comm_make(d->parent, d->parent->size, d->parent->world, d->held, &err);
	if (!n)
		return MPI_ERR_NO_MEM;
	if ((rc = comm_dup_copy(d->parent, n)) != MPI_SUCCESS)
		return rc;
	*d->newcomm = n->handle;
	return MPI_SUCCESS;
}

int MPI_Comm_idup(MPI_Comm comm, MPI_Comm *newcomm, MPI_Request *req)
{
	static const char fn[] = "MPI_Comm_idup";
	struct nbc_sched *s;
	struct idup *d;
	struct comm *c;
	int rc;

	if ((rc = nbc_check_start(comm, fn, req, &c)))
		return rc;
	if (!newcomm)
		return mpi_err(comm, MPI_ERR_ARG, fn, "newcomm is NULL");
	*newcomm = MPI_COMM_NULL;
	if ((s = nbc_new(c)) && (d = nbc_tmp(s, sizeof *d))) {
		*d = (struct idup){ .parent = c, .newcomm = newcomm, .held = -1 };
		nbc_call(s, propose, d);
	}
	return nbc_begin(s, req, comm, fn);
}
