/* The RMA path inside one address space (rma.h): the target's window is
 * ordinary memory, so a put is a copy into it and a get a copy out of
 * it, done entirely by the origin. Accumulate-class operations on one
 * target hold the target's acc_lock, which makes each of them atomic
 * with respect to every other (MPI-3.1 11.7.1: per element is the least
 * the standard asks). Completion is immediate; a flush is a fence. */
#include <stdlib.h>
#include <string.h>
#include "rma.h"

/* Copies count x dt at src to dcount x ddt at dst (equal byte counts). */
static int copy_typed(void *dst, int dcount, MPI_Datatype ddt, const void *src, int count, MPI_Datatype dt)
{
	size_t bytes = (size_t)count * dtype_size(dt);
	if (dt == ddt && TORO_HANDLE_IS_BUILTIN(dt) && bytes <= 64 && dtype_contiguous(dt)) {
		memcpy(dst, src, bytes);      /* a few words: no call through memmove's checks */
		return MPI_SUCCESS;
	}
	if (dtype_contiguous(dt) && dtype_contiguous(ddt)) {
		memmove(dst, src, bytes);
		return MPI_SUCCESS;
	}
	void *tmp = malloc(bytes ? bytes : 1);
	if (!tmp)
		return MPI_ERR_NO_MEM;
	dtype_pack(src, count, dt, tmp);
	dtype_unpack(tmp, bytes, dst, dcount, ddt);
	free(tmp);
	return MPI_SUCCESS;
}

static int direct_put(struct win_rank *t, void *addr, const void *obuf, int ocount, MPI_Datatype odt,
		      int tcount, MPI_Datatype tdt)
{
	(void)t;
	return copy_typed(addr, tcount, tdt, obuf, ocount, odt);
}

static int direct_get(struct win_rank *t, const void *addr, void *obuf, int ocount, MPI_Datatype odt,
		      int tcount, MPI_Datatype tdt)
{
	(void)t;
	return copy_typed(obuf, ocount, odt, addr, tcount, tdt);
}

/* target = origin op target on the target's layout. */
static int combine(void *addr, int tcount, MPI_Datatype tdt, const void *obuf, int ocount, MPI_Datatype odt,
		   MPI_Op op)
{
	if (op == MPI_NO_OP)
		return MPI_SUCCESS;
	if (op == MPI_REPLACE)
		return copy_typed(addr, tcount, tdt, obuf, ocount, odt);
	if (odt == tdt && TORO_HANDLE_IS_BUILTIN(tdt) && dtype_contiguous(tdt))
		return op_apply(op, obuf, addr, tcount, tdt);
	MPI_Datatype basic = dtype_basic(tdt);
	size_t bytes = (size_t)tcount * dtype_size(tdt);
	int n = (int)(bytes / dtype_size(basic));
	if (dtype_contiguous(odt) && dtype_contiguous(tdt))
		return op_apply(op, obuf, addr, n, basic);
	char *in = malloc(bytes ? 2 * bytes : 1);
	if (!in)
		return MPI_ERR_NO_MEM;
	char *inout = in + bytes;
	dtype_pack(obuf, ocount, odt, in);
	dtype_pack(addr, tcount, tdt, inout);
	int rc = op_apply(op, in, inout, n, basic);
	if (rc == MPI_SUCCESS)
		dtype_unpack(inout, bytes, addr, tcount, tdt);
	free(in);
	return rc;
}

static int direct_accumulate(struct win_rank *t, void *addr, const void *obuf, int ocount, MPI_Datatype odt,
			     void *rbuf, int rcount, MPI_Datatype rdt, int tcount, MPI_Datatype tdt, MPI_Op op)
{
	rma_spin_lock(&t->acc_lock);
	int rc = rbuf ? copy_typed(rbuf, rcount, rdt, addr, tcount, tdt) : MPI_SUCCESS;
	if (rc == MPI_SUCCESS)
		rc = combine(addr, tcount, tdt, obuf, ocount, odt, op);
	rma_spin_unlock(&t->acc_lock);
	return rc;
}

static int direct_compare_and_swap(struct win_rank *t, void *addr, const void *obuf, const void *cbuf,
				   void *rbuf, MPI_Datatype dt)
{
	size_t n = dtype_size(dt);
	char old[32];
	rma_spin_lock(&t->acc_lock);
	memcpy(old, addr, n);
	if (memcmp(old, cbuf, n) == 0)
		memcpy(addr, obuf, n);
	rma_spin_unlock(&t->acc_lock);
	memcpy(rbuf, old, n);
	return MPI_SUCCESS;
}

static void direct_flush(struct win_rank *t)
{
	(void)t;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

const struct rma_path rma_direct = {
	.put = direct_put,
	.get = direct_get,
	.accumulate = direct_accumulate,
	.compare_and_swap = direct_compare_and_swap,
	.flush = direct_flush,
};
