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
 * A contiguous type whose data fits a slot: every rank copies its input
 * into its slot, then every rank (allreduce) or the root (reduce) folds
 * the slots. Else the inputs are read where they are (with MPI_IN_PLACE
 * from a copy: the receive buffer gets results while others read), and
 * up to SMALL bytes are folded whole as above; above, the vector is cut
 * into c->size ranges and rank j folds range j: into its own receive
 * buffer (allreduce, then every rank copies range j from rank j's once
 * j's mid stamp says it is ready) or straight into the root's (reduce). */
#include <stdlib.h>
#include <string.h>
#include "coll_shm.h"

#define SMALL 4096

/* The elements [lo, lo + n) of acc := the fold of the inputs in[]. */
static int fold_range(const struct shm_op *o, const char *const *in, char *acc, int64_t lo,
		      int n, MPI_Datatype dt, MPI_Op op)
{
	MPI_Aint off = (MPI_Aint)lo * dtype_extent(dt);
	int rc;

	if (n == 0)
		return MPI_SUCCESS;
	for (int i = 0; i < o->size; i++)
		if (!in[i])
			return MPI_ERR_OTHER;  /* that rank had no memory for its input */
	rc = local_copy(in[o->size - 1] + off, n, dt, acc + off, n, dt);
	for (int i = o->size - 2; i >= 0 && !rc; i--)
		rc = op_apply(op, in[i] + off, acc + off, n, dt);
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

/* Slots hold the inputs: the same answer on every rank. */
static bool in_slots(int count, MPI_Datatype dt)
{
	return dtype_contiguous(dt) && (size_t)count * dtype_size(dt) <= SHM_SLOT;
}

/* This rank's input into its slot, for `readers`. */
static void to_slot(struct shm_op *o, const void *sbuf, const void *rbuf, int count,
		    MPI_Datatype dt, int readers)
{
	shm_claim(o, readers);
	memcpy(shm_slot(o, o->me), sbuf == MPI_IN_PLACE ? rbuf : sbuf,
	       (size_t)count * dtype_size(dt));
}

/* The input of this rank where others read it: sbuf, or with
 * MPI_IN_PLACE a copy of rbuf in *tmp (to free). */
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

/* The inputs of all ranks, after their posts: slots or published. */
static void inputs(const struct shm_op *o, bool slots, const char **in)
{
	for (int i = 0; i < o->size; i++)
		in[i] = slots ? shm_slot(o, i) : shm_line(o, i)->ptr;
}

static bool small(int count, MPI_Datatype dt)
{
	return (size_t)count * dtype_size(dt) <= SMALL;
}

/* sbuf is MPI_IN_PLACE at the root only (coll.c's checks). */
int shm_reduce(const void *sbuf, void *rbuf, int count, MPI_Datatype dt, MPI_Op op,
	       int root, struct comm *c)
{
	const char *in[TORO_MAX_RANKS];
	struct shm_op o;
	void *tmp = NULL;
	const void *mine = NULL;
	bool slots = in_slots(count, dt);
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	if (slots)
		to_slot(&o, sbuf, rbuf, count, dt, o.me == root ? -2 : root);
	else
		mine = input(sbuf, rbuf, count, dt, &tmp, &rc);
	if (slots || small(count, dt)) {
		shm_publish(&o, mine, NULL, 0, root);
		if (o.me != root) {
			if (!slots)
				shm_wait(&o, SHM_DONE, root);
			shm_finish(&o, -2);
			free(tmp);
			return rc;
		}
		shm_wait(&o, SHM_POST, -1);
		inputs(&o, slots, in);
		rc = rc ? rc : fold_range(&o, in, rbuf, 0, count, dt, op);
		shm_finish(&o, -1);
		free(tmp);
		return rc;
	}
	shm_publish(&o, mine, o.me == root ? rbuf : NULL, 0, -1);
	shm_wait(&o, SHM_POST, -1);
	inputs(&o, false, in);
	if (!rc)
		rc = fold_range(&o, in, (char *)shm_line(&o, root)->ptr2,
				range_lo(count, o.me, o.size), range_n(count, o.me, o.size), dt, op);
	shm_finish(&o, -1);
	shm_wait(&o, SHM_DONE, -1);
	free(tmp);
	return rc;
}

/* Every rank copies range i from rank i's receive buffer. */
static int gather_ranges(struct shm_op *o, char *rbuf, int count, MPI_Datatype dt)
{
	int rc = MPI_SUCCESS;

	for (int s = 1; s < o->size; s++) {
		int i = (o->me + s) % o->size, n = range_n(count, i, o->size);
		MPI_Aint off = (MPI_Aint)range_lo(count, i, o->size) * dtype_extent(dt);
		shm_wait(o, SHM_MID, i);
		if (!rc && n)
			rc = local_copy((const char *)shm_line(o, i)->ptr2 + off, n, dt,
					rbuf + off, n, dt);
	}
	return rc;
}

int shm_allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype dt, MPI_Op op,
		  struct comm *c)
{
	const char *in[TORO_MAX_RANKS];
	struct shm_op o;
	void *tmp = NULL;
	const void *mine = NULL;
	bool slots = in_slots(count, dt);
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	if (slots)
		to_slot(&o, sbuf, rbuf, count, dt, -1);
	else
		mine = input(sbuf, rbuf, count, dt, &tmp, &rc);
	shm_publish(&o, mine, rbuf, 0, -1);
	shm_wait(&o, SHM_POST, -1);
	inputs(&o, slots, in);
	if (slots || small(count, dt)) {
		rc = rc ? rc : fold_range(&o, in, rbuf, 0, count, dt, op);
	} else {
		if (!rc)
			rc = fold_range(&o, in, rbuf, range_lo(count, o.me, o.size),
					range_n(count, o.me, o.size), dt, op);
		shm_mark(&o, SHM_MID, -1);
		int rc2 = gather_ranges(&o, rbuf, count, dt);
		rc = rc ? rc : rc2;
	}
	shm_finish(&o, -1);
	if (!slots)
		shm_wait(&o, SHM_DONE, -1);
	free(tmp);
	return rc;
}
