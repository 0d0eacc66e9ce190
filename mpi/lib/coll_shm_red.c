/* Shared-memory reductions (coll_shm.h). All ranks pass the same count,
 * datatype and op (MPI-3.1 5.9.1), so every input is laid out as dt and
 * op_apply works on the other ranks' buffers directly.
 *
 * MPI-3.1 5.9.1: the result is as if the inputs were combined in rank
 * order; op_apply computes inout := in op inout, so a range is folded
 * from the last rank down: x0 op (x1 op (... op x(p-1))). Each element of
 * the result is computed once, or by every rank in the same order, so all
 * ranks get the same bits.
 *
 * Up to SMALL bytes every rank (allreduce) or the root (reduce) folds the
 * whole vector. Above, the vector is cut into c->size ranges of elements
 * and rank j folds range j: into its own receive buffer (allreduce, then
 * every rank copies range j from rank j's buffer once j's mid stamp says
 * it is ready) or straight into the root's (reduce). */
#include <stdlib.h>
#include "coll_shm.h"

#define SMALL 4096

/* The elements [lo, lo + n) of acc := the fold of every rank's input. */
static int fold_range(const struct shm_op *o, char *acc, int64_t lo, int n, MPI_Datatype dt,
		      MPI_Op op)
{
	MPI_Aint off = (MPI_Aint)lo * dtype_extent(dt);
	int rc;

	if (n == 0)
		return MPI_SUCCESS;
	for (int i = 0; i < o->size; i++)
		if (!shm_line(o, i)->ptr)
			return MPI_ERR_OTHER;  /* that rank had no memory for its input */
	rc = local_copy((const char *)shm_line(o, o->size - 1)->ptr + off, n, dt, acc + off, n, dt);
	for (int i = o->size - 2; i >= 0 && !rc; i--)
		rc = op_apply(op, (const char *)shm_line(o, i)->ptr + off, acc + off, n, dt);
	return rc;
}

static int64_t range_lo(int count, int j, int size)
{
	return (int64_t)count * j / size;
}

static int range_n(int count, int j, int size)
{
	return (int)(range_lo(count, j + 1, size) - range_lo(count, j, size));
}

/* The input of this rank: sbuf, or with MPI_IN_PLACE a copy of rbuf
 * (rbuf gets results while the others still read the input). */
static const void *input(const void *sbuf, const void *rbuf, int count, MPI_Datatype dt,
			 void **tmp, int *rc)
{
	char *base;

	*tmp = NULL;
	if (sbuf != MPI_IN_PLACE)
		return sbuf;
	if (!(*tmp = tmp_alloc(count, dt, &base))) {
		*rc = MPI_ERR_NO_MEM;
		return NULL;
	}
	*rc = local_copy(rbuf, count, dt, base, count, dt);
	return base;
}

static bool small(int count, MPI_Datatype dt)
{
	return (size_t)count * dtype_size(dt) <= SMALL;
}

/* sbuf is MPI_IN_PLACE at the root only (coll.c's checks). */
int shm_reduce(const void *sbuf, void *rbuf, int count, MPI_Datatype dt, MPI_Op op,
	       int root, struct comm *c)
{
	struct shm_op o;
	void *tmp = NULL;
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	const void *in = input(sbuf, rbuf, count, dt, &tmp, &rc);
	if (small(count, dt)) {
		shm_publish(&o, in, NULL, 0, root);
		if (o.me != root) {
			shm_wait(&o, SHM_DONE, root);
			return rc;
		}
		shm_wait(&o, SHM_POST, -1);
		rc = rc ? rc : fold_range(&o, rbuf, 0, count, dt, op);
		shm_mark(&o, SHM_DONE, -1);
		free(tmp);
		return rc;
	}
	shm_publish(&o, in, o.me == root ? rbuf : NULL, 0, -1);
	shm_wait(&o, SHM_POST, -1);
	if (!rc)
		rc = fold_range(&o, (char *)shm_line(&o, root)->ptr2, range_lo(count, o.me, o.size),
				range_n(count, o.me, o.size), dt, op);
	shm_mark(&o, SHM_DONE, -1);
	shm_wait(&o, SHM_DONE, -1);
	free(tmp);
	return rc;
}

int shm_allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype dt, MPI_Op op,
		  struct comm *c)
{
	struct shm_op o;
	void *tmp = NULL;
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	const void *in = input(sbuf, rbuf, count, dt, &tmp, &rc);
	shm_publish(&o, in, rbuf, 0, -1);
	shm_wait(&o, SHM_POST, -1);
	if (small(count, dt)) {
		rc = rc ? rc : fold_range(&o, rbuf, 0, count, dt, op);
	} else {
		if (!rc)
			rc = fold_range(&o, rbuf, range_lo(count, o.me, o.size),
					range_n(count, o.me, o.size), dt, op);
		shm_mark(&o, SHM_MID, -1);
		for (int s = 1; s < o.size; s++) {
			int i = (o.me + s) % o.size, n = range_n(count, i, o.size);
			MPI_Aint off = (MPI_Aint)range_lo(count, i, o.size) * dtype_extent(dt);
			shm_wait(&o, SHM_MID, i);
			if (!rc && n)
				rc = local_copy((const char *)shm_line(&o, i)->ptr2 + off, n, dt,
						(char *)rbuf + off, n, dt);
		}
	}
	shm_mark(&o, SHM_DONE, -1);
	shm_wait(&o, SHM_DONE, -1);
	free(tmp);
	return rc;
}
