/* The argument checks of the MPI calls: check.h says how they are used. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include "check.h"

/* Says why in why; returns cls. */
static int fault(char *why, int cls, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fault(char *why, int cls, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, CHECK_WHY, fmt, ap);
	va_end(ap);
	return cls;
}

/* ---- faults ---- */

int count_fault(const char *what, int count, char *why)
{
	return count < 0 ? fault(why, MPI_ERR_COUNT, "negative %scount %d", what, count) : MPI_SUCCESS;
}

int dtype_fault(const char *what, MPI_Datatype dt, char *why)
{
	if (!dtype_ok(dt))
		return fault(why, MPI_ERR_TYPE, "invalid %sdatatype", what);
	if (!dtype_committed(dt))
		return fault(why, MPI_ERR_TYPE, "%sdatatype not committed", what);
	return MPI_SUCCESS;
}

int buf_fault(const char *what, const void *buf, int count, MPI_Datatype dt, char *why)
{
	if (buf == MPI_IN_PLACE)
		return fault(why, MPI_ERR_BUFFER, "MPI_IN_PLACE is not allowed as %sbuffer here", what);
	if (!buf && count > 0 && dtype_size(dt) > 0 && dtype_true_lb(dt) == 0)
		return fault(why, MPI_ERR_BUFFER, "NULL %sbuffer with count %d", what, count);
	return MPI_SUCCESS;
}

int data_fault(const char *what, const void *buf, int count, MPI_Datatype dt, char *why)
{
	int cls;
	if ((cls = count_fault(what, count, why)) || (cls = dtype_fault(what, dt, why)))
		return cls;
	return buf_fault(what, buf, count, dt, why);
}

int rank_fault(int rank, int n, int flags, char *why)
{
	if ((rank == MPI_PROC_NULL && (flags & RANK_PROC_NULL)) ||
	    (rank == MPI_ANY_SOURCE && (flags & RANK_ANY_SOURCE)) || (rank >= 0 && rank < n))
		return MPI_SUCCESS;
	return fault(why, MPI_ERR_RANK, "invalid rank %d (communicator of size %d)", rank, n);
}

int tag_fault(int tag, bool any_ok, char *why)
{
	if ((tag == MPI_ANY_TAG && any_ok) || (tag >= 0 && tag <= TORO_TAG_UB))
		return MPI_SUCCESS;
	return fault(why, MPI_ERR_TAG, "invalid tag %d", tag);
}

/* ---- checks reported on a communicator ---- */

/* The communicator whose handler gets an error: c's, MPI_COMM_WORLD's
 * for c NULL (calls on no communicator, such as the datatype calls). */
static MPI_Comm on(const struct comm *c)
{
	return c ? c->handle : MPI_COMM_NULL;
}

/* Reports fault cls (MPI_SUCCESS: none) of c's call fn. */
static int report(struct comm *c, const char *fn, int cls, const char *why)
{
	return cls ? mpi_err(on(c), cls, fn, "%s", why) : MPI_SUCCESS;
}

int check_comm(MPI_Comm comm, const char *fn, struct comm **c)
{
	*c = comm_get(comm);
	return *c ? MPI_SUCCESS : mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, fn, "invalid communicator");
}

int check_coll_comm(MPI_Comm comm, const char *fn, struct comm **c)
{
	int rc = check_comm(comm, fn, c);
	if (rc == MPI_SUCCESS && (*c)->inter)
		return mpi_err(comm, MPI_ERR_UNSUPPORTED_OPERATION, fn, "not implemented on an intercommunicator");
	return rc;
}

int check_count(struct comm *c, const char *fn, const char *what, int count)
{
	char why[CHECK_WHY];
	return report(c, fn, count_fault(what, count, why), why);
}

int check_dtype(struct comm *c, const char *fn, const char *what, MPI_Datatype dt)
{
	char why[CHECK_WHY];
	return report(c, fn, dtype_fault(what, dt, why), why);
}

int check_type(struct comm *c, const char *fn, const char *what, int count, MPI_Datatype dt)
{
	int rc = check_count(c, fn, what, count);
	return rc ? rc : check_dtype(c, fn, what, dt);
}

int check_buf(struct comm *c, const char *fn, const char *what, const void *buf, int count, MPI_Datatype dt)
{
	char why[CHECK_WHY];
	return report(c, fn, buf_fault(what, buf, count, dt, why), why);
}

int check_data(struct comm *c, const char *fn, const char *what, const void *buf, int count, MPI_Datatype dt)
{
	char why[CHECK_WHY];
	return report(c, fn, data_fault(what, buf, count, dt, why), why);
}

int check_rank(struct comm *c, const char *fn, int rank, int flags)
{
	char why[CHECK_WHY];
	return report(c, fn, rank_fault(rank, comm_npeers(c), flags, why), why);
}

/* MPI_PROC_NULL and MPI_ROOT are roots of intercommunicator collectives
 * only (MPI-3.1 5.2.2); on an intracommunicator root is a rank. */
int check_root(struct comm *c, const char *fn, int root)
{
	if (root < 0 || root >= c->size)
		return mpi_err(c->handle, MPI_ERR_ROOT, fn,
			       "invalid root %d (communicator of size %d)", root, c->size);
	return MPI_SUCCESS;
}

int check_tag(struct comm *c, const char *fn, int tag, bool any_ok)
{
	char why[CHECK_WHY];
	return report(c, fn, tag_fault(tag, any_ok, why), why);
}

int check_op(struct comm *c, const char *fn, MPI_Op op, MPI_Datatype dt)
{
	if (!op_ok(op))
		return mpi_err(on(c), MPI_ERR_OP, fn, "invalid operation");
	if (op_check(op, dt) != MPI_SUCCESS)
		return mpi_err(on(c), MPI_ERR_OP, fn, "operation not defined for this datatype");
	return MPI_SUCCESS;
}

int check_arg(struct comm *c, const char *fn, const void *p, const char *what)
{
	return p ? MPI_SUCCESS : mpi_err(on(c), MPI_ERR_ARG, fn, "%s is NULL", what);
}

/* ---- the collectives' compositions ---- */

int check_counts(struct comm *c, const char *fn, const char *what, const int *counts,
		 const int *displs, bool displs_too, bool *any)
{
	*any = false;
	if (!counts || (displs_too && !displs))
		return mpi_err(c->handle, MPI_ERR_ARG, fn, "NULL %scounts or displacements", what);
	for (int i = 0; i < c->size; i++) {
		if (counts[i] < 0)
			return mpi_err(c->handle, MPI_ERR_COUNT, fn,
				       "negative %scount %d for rank %d", what, counts[i], i);
		*any |= counts[i] > 0;
	}
	return MPI_SUCCESS;
}

/* The send side of Gather(v) (significant everywhere but at a root
 * passing MPI_IN_PLACE, MPI-3.1 5.5) and the receive side of Scatter(v). */
int check_side(struct comm *c, const char *fn, const char *what, const void *buf, int count,
	       MPI_Datatype dt, bool in_place)
{
	return in_place ? MPI_SUCCESS : check_data(c, fn, what, buf, count, dt);
}

int check_w_side(struct comm *c, const char *fn, const char *what, const void *buf,
		 const int *counts, const int *displs, const MPI_Datatype *types)
{
	bool any;
	int rc;

	if ((rc = check_counts(c, fn, what, counts, displs, true, &any)))
		return rc;
	if (!types)
		return mpi_err(c->handle, MPI_ERR_ARG, fn, "NULL %sdatatypes", what);
	for (int j = 0; j < c->size; j++)
		if ((rc = check_data(c, fn, what, buf, counts[j], types[j])))
			return rc;
	return MPI_SUCCESS;
}

/* Common checks of the reduce-scatters and scans: datatype and op, then
 * sendbuf (MPI_IN_PLACE allowed on all ranks) and recvbuf. */
int check_red(struct comm *c, const char *fn, const void *sendbuf, void *recvbuf, int count,
	      MPI_Datatype dt, MPI_Op op)
{
	int rc;

	if ((rc = check_type(c, fn, "", count, dt)) || (rc = check_op(c, fn, op, dt)))
		return rc;
	if (sendbuf != MPI_IN_PLACE && (rc = check_buf(c, fn, "send ", sendbuf, count, dt)))
		return rc;
	return check_buf(c, fn, "receive ", recvbuf, count, dt);
}

int check_redscat_counts(struct comm *c, const char *fn, const int *counts, int *total)
{
	long sum = 0;
	bool any;
	int rc;

	if ((rc = check_counts(c, fn, "receive ", counts, NULL, false, &any)))
		return rc;
	for (int i = 0; i < c->size; i++)
		sum += counts[i];
	if (sum > INT_MAX)
		return mpi_err(c->handle, MPI_ERR_COUNT, fn, "total count %ld is too large", sum);
	*total = (int)sum;
	return MPI_SUCCESS;
}
