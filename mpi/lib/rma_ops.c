/* The RMA communication calls (MPI-3.1 11.3): Put, Get, Accumulate,
 * Get_accumulate, Fetch_and_op, Compare_and_swap, and the request forms
 * Rput, Rget, Raccumulate, Rget_accumulate. Each checks its arguments and
 * the origin's epoch, finds the target data (range checked), and hands
 * the operation to the target's path (rma.h). */
#include "check.h"
#include "rma.h"

/* An RMA call's window and target: MPI_SUCCESS or the error; *skip for
 * MPI_PROC_NULL (nothing to do). request: a request form, which 11.3.5
 * allows only in a passive-target epoch. */
static int begin(const char *fn, MPI_Win win, int target, bool request, struct win **out, bool *skip)
{
	int rc;
	*skip = false;
	struct win *w = win_arg(win, fn, &rc);
	if (!w)
		return rc;
	*out = w;
	if (target == MPI_PROC_NULL) {
		*skip = true;
		return MPI_SUCCESS;
	}
	if (target < 0 || target >= w->size)
		return win_err(w, MPI_ERR_RANK, fn, "invalid target rank %d (window of %d ranks)", target, w->size);
	if (request && !w->lock_all && !w->locked[target])
		return win_err(w, MPI_ERR_RMA_SYNC, fn, "a request form needs a lock epoch on rank %d", target);
	if (rma_epoch_check(w, target))
		return win_err(w, MPI_ERR_RMA_SYNC, fn, "no access epoch to rank %d is open (fence, start or lock)",
			       target);
	return 0;
}

static int win_check_data(struct win *w, const char *fn, const char *what, const void *buf, int count,
			  MPI_Datatype dt)
{
	char why[CHECK_WHY];
	int cls = data_fault(what, buf, count, dt, why);
	return cls ? win_err(w, cls, fn, "%s", why) : MPI_SUCCESS;
}

static int same_bytes(struct win *w, const char *fn, const char *what, int count, MPI_Datatype dt, int tcount,
		      MPI_Datatype tdt)
{
	size_t a = (size_t)count * dtype_size(dt), b = (size_t)tcount * dtype_size(tdt);
	if (a == b)
		return MPI_SUCCESS;
	return win_err(w, MPI_ERR_TYPE, fn, "the %shas %zu bytes, the target %zu", what, a, b);
}

/* The target data of (disp, count, dt), or NULL after reporting
 * MPI_ERR_RMA_RANGE in *rc. */
static void *target_data(struct win *w, const char *fn, int target, MPI_Aint disp, int count, MPI_Datatype dt,
			 int *rc)
{
	MPI_Aint lo = 0, hi = 0;
	if (TORO_HANDLE_IS_BUILTIN(dt) && dtype_contiguous(dt)) {
		hi = (MPI_Aint)count * TORO_BUILTIN_TYPE_SIZE(dt);
	} else if (count > 0 && dtype_size(dt) > 0) {
		lo = dtype_true_lb(dt);
		hi = (MPI_Aint)(count - 1) * dtype_extent(dt) + dtype_true_lb(dt) + dtype_true_extent(dt);
	}
	if (disp < 0 && w->flavor != MPI_WIN_FLAVOR_DYNAMIC) {
		*rc = win_err(w, MPI_ERR_DISP, fn, "negative target displacement %ld", (long)disp);
		return NULL;
	}
	void *addr = win_target_addr(w, target, disp, lo, hi);
	*rc = MPI_SUCCESS;
	if (!addr)
		*rc = win_err(w, MPI_ERR_RMA_RANGE, fn, w->flavor == MPI_WIN_FLAVOR_DYNAMIC ?
			      "address 0x%lx + [%ld, %ld) is in no region attached at rank %d" :
			      "displacement %ld, bytes [%ld, %ld) are outside the window of rank %d",
			      (long)disp, (long)lo, (long)hi, target);
	return addr;
}

static int op_arg(struct win *w, const char *fn, MPI_Op op, bool no_op_ok, MPI_Datatype odt, MPI_Datatype tdt)
{
	if (!op_ok(op) || !TORO_HANDLE_IS_BUILTIN(op))
		return win_err(w, MPI_ERR_OP, fn, "invalid operation (11.3.4: only predefined ones)");
	if (op == MPI_NO_OP && !no_op_ok)
		return win_err(w, MPI_ERR_OP, fn, "MPI_NO_OP is for MPI_Get_accumulate and MPI_Fetch_and_op");
	if (op == MPI_NO_OP || op == MPI_REPLACE)
		return MPI_SUCCESS;
	MPI_Datatype b = dtype_basic(tdt);
	if (b == MPI_DATATYPE_NULL || b != dtype_basic(odt))
		return win_err(w, MPI_ERR_TYPE, fn, "origin and target must be built of one and the same basic type");
	if (op_check(op, b))
		return win_err(w, MPI_ERR_OP, fn, "operation not defined for this datatype");
	return MPI_SUCCESS;
}

static int done(struct win *w, const char *fn, int rc)
{
	return rc ? win_err(w, rc, fn, "the operation failed") : MPI_SUCCESS;
}

/* The common case: one predefined, contiguous type and count on both
 * sides, so the checks need one datatype lookup. */
static bool simple(int ocount, MPI_Datatype odt, int tcount, MPI_Datatype tdt)
{
	return odt == tdt && ocount == tcount && ocount >= 0 && TORO_HANDLE_IS_BUILTIN(odt) && dtype_contiguous(odt);
}

/* The checks of one side's data against the target's; the common case
 * (simple) needs none beyond a buffer. */
static int check_pair(struct win *w, const char *fn, const char *what, const void *buf, int count,
		      MPI_Datatype dt, int tcount, MPI_Datatype tdt)
{
	int rc;
	if (simple(count, dt, tcount, tdt) && (buf || !count))
		return MPI_SUCCESS;
	if ((rc = win_check_data(w, fn, what, buf, count, dt)) || (rc = win_check_data(w, fn, "target ", (void *)1, tcount, tdt)))
		return rc;
	return same_bytes(w, fn, what, count, dt, tcount, tdt);
}

/* Put (get false) or Get: obuf is read for a put, written for a get. */
static int move(const char *fn, bool get, void *obuf, int ocount, MPI_Datatype odt, int target, MPI_Aint disp,
		int tcount, MPI_Datatype tdt, MPI_Win win, MPI_Request *req)
{
	struct win *w;
	bool skip;
	int rc = begin(fn, win, target, req != NULL, &w, &skip);
	if (rc == 0 && !skip && !(rc = check_pair(w, fn, "origin ", obuf, ocount, odt, tcount, tdt))) {
		void *addr = target_data(w, fn, target, disp, tcount, tdt, &rc);
		const struct rma_path *p = w->path[target];
		if (addr)
			rc = done(w, fn, get ? p->get(w->peer[target], addr, obuf, ocount, odt, tcount, tdt)
					     : p->put(w->peer[target], addr, obuf, ocount, odt, tcount, tdt));
	}
	if (rc)
		return rc;
	return req ? p2p_done_request(req) : MPI_SUCCESS;
}

/* Accumulate (rbuf NULL) and Get_accumulate; NO_OP ignores the origin. */
static int accumulate(const char *fn, const void *obuf, int ocount, MPI_Datatype odt, void *rbuf, int rcount,
		      MPI_Datatype rdt, int target, MPI_Aint disp, int tcount, MPI_Datatype tdt, MPI_Op op,
		      MPI_Win win, MPI_Request *req)
{
	struct win *w;
	bool fetch = rbuf != NULL || rdt != MPI_DATATYPE_NULL, skip;
	int rc = begin(fn, win, target, req != NULL, &w, &skip);
	if (op == MPI_NO_OP)
		odt = tdt, ocount = tcount, obuf = NULL;
	if (rc == 0 && !skip && !(rc = op_arg(w, fn, op, fetch, odt, tdt)) &&
	    !(rc = op == MPI_NO_OP ? win_check_data(w, fn, "target ", (void *)1, tcount, tdt)
				   : check_pair(w, fn, "origin ", obuf, ocount, odt, tcount, tdt)) &&
	    (!fetch || !(rc = check_pair(w, fn, "result ", rbuf, rcount, rdt, tcount, tdt)))) {
		void *addr = target_data(w, fn, target, disp, tcount, tdt, &rc);
		if (addr)
			rc = done(w, fn, w->path[target]->accumulate(w->peer[target], addr, obuf, ocount, odt,
								     fetch ? rbuf : NULL, rcount, rdt, tcount, tdt, op));
	}
	if (rc)
		return rc;
	return req ? p2p_done_request(req) : MPI_SUCCESS;
}

int MPI_Put(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype, int target_rank,
	    MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype, MPI_Win win)
{
	return move(__func__, false, (void *)origin_addr, origin_count, origin_datatype, target_rank, target_disp,
		    target_count, target_datatype, win, NULL);
}

int MPI_Rput(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype, int target_rank,
	     MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype, MPI_Win win,
	     MPI_Request *request)
{
	if (!request)
		return win_err(win_get(win), MPI_ERR_ARG, __func__, "request is NULL");
	return move(__func__, false, (void *)origin_addr, origin_count, origin_datatype, target_rank, target_disp,
		    target_count, target_datatype, win, request);
}

int MPI_Get(void *origin_addr, int origin_count, MPI_Datatype origin_datatype, int target_rank,
	    MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype, MPI_Win win)
{
	return move(__func__, true, origin_addr, origin_count, origin_datatype, target_rank, target_disp, target_count,
		   target_datatype, win, NULL);
}

int MPI_Rget(void *origin_addr, int origin_count, MPI_Datatype origin_datatype, int target_rank,
	     MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype, MPI_Win win,
	     MPI_Request *request)
{
	if (!request)
		return win_err(win_get(win), MPI_ERR_ARG, __func__, "request is NULL");
	return move(__func__, true, origin_addr, origin_count, origin_datatype, target_rank, target_disp, target_count,
		   target_datatype, win, request);
}

int MPI_Accumulate(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype, int target_rank,
		   MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype, MPI_Op op, MPI_Win win)
{
	return accumulate(__func__, origin_addr, origin_count, origin_datatype, NULL, 0, MPI_DATATYPE_NULL,
			  target_rank, target_disp, target_count, target_datatype, op, win, NULL);
}

int MPI_Raccumulate(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype, int target_rank,
		    MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype, MPI_Op op, MPI_Win win,
		    MPI_Request *request)
{
	if (!request)
		return win_err(win_get(win), MPI_ERR_ARG, __func__, "request is NULL");
	return accumulate(__func__, origin_addr, origin_count, origin_datatype, NULL, 0, MPI_DATATYPE_NULL,
			  target_rank, target_disp, target_count, target_datatype, op, win, request);
}

int MPI_Get_accumulate(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
		       void *result_addr, int result_count, MPI_Datatype result_datatype, int target_rank,
		       MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype, MPI_Op op, MPI_Win win)
{
	return accumulate(__func__, origin_addr, origin_count, origin_datatype, result_addr, result_count,
			  result_datatype, target_rank, target_disp, target_count, target_datatype, op, win, NULL);
}

int MPI_Rget_accumulate(const void *origin_addr, int origin_count, MPI_Datatype origin_datatype,
			void *result_addr, int result_count, MPI_Datatype result_datatype, int target_rank,
			MPI_Aint target_disp, int target_count, MPI_Datatype target_datatype, MPI_Op op,
			MPI_Win win, MPI_Request *request)
{
	if (!request)
		return win_err(win_get(win), MPI_ERR_ARG, __func__, "request is NULL");
	return accumulate(__func__, origin_addr, origin_count, origin_datatype, result_addr, result_count,
			  result_datatype, target_rank, target_disp, target_count, target_datatype, op, win, request);
}

int MPI_Fetch_and_op(const void *origin_addr, void *result_addr, MPI_Datatype datatype, int target_rank,
		     MPI_Aint target_disp, MPI_Op op, MPI_Win win)
{
	return accumulate(__func__, origin_addr, 1, datatype, result_addr, 1, datatype, target_rank, target_disp,
			  1, datatype, op, win, NULL);
}

/* 11.3.4: for one element of an integer, logical or byte type. */
int MPI_Compare_and_swap(const void *origin_addr, const void *compare_addr, void *result_addr,
			 MPI_Datatype datatype, int target_rank, MPI_Aint target_disp, MPI_Win win)
{
	static const char fn[] = "MPI_Compare_and_swap";
	struct win *w;
	bool skip;
	int rc = begin(fn, win, target_rank, false, &w, &skip);
	if (rc || skip)
		return rc;
	if (!dtype_ok(datatype) || !TORO_HANDLE_IS_BUILTIN(datatype) ||
	    (op_check(MPI_BOR, datatype) && op_check(MPI_LAND, datatype)))
		return win_err(w, MPI_ERR_TYPE, fn, "the datatype must be a predefined integer, logical or byte type");
	if (!origin_addr || !compare_addr || !result_addr)
		return win_err(w, MPI_ERR_BUFFER, fn, "NULL buffer");
	void *addr = target_data(w, fn, target_rank, target_disp, 1, datatype, &rc);
	if (!addr)
		return rc;
	return done(w, fn, w->path[target_rank]->compare_and_swap(w->peer[target_rank], addr, origin_addr,
								   compare_addr, result_addr, datatype));
}
