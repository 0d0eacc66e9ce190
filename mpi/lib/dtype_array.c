/* Datatypes: subarray and darray (MPI-3.1 4.1.3, 4.1.4), built one
 * dimension at a time from the flattening of dtype_build.c. */
#include "datatype.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- subarray and darray (4.1.3, 4.1.4) ---- */

/* One dimension of an array of gsize elements of type c: the runs
 * (start[j], len[j]) of elements, as a type of lower bound 0 and extent
 * gsize * extent(c). Frees c when it is a temporary (no handle). */
static struct dtype *make_dim(struct dtype *c, int gsize, int nrun, const int *start,
			      const int *len)
{
	struct build b;
	struct dtype *t = NULL;
	if (dt_build_start(&b)) {
		for (int j = 0; j < nrun && !b.oom; j++)
			dt_add_copies(&b, c, (MPI_Aint)start[j] * ext(c), (size_t)len[j], ext(c));
		t = dt_build_end(&b, false);
	}
	if (t) {
		t->has_lb = t->has_ub = true;
		t->lb = 0;
		t->ub = (MPI_Aint)gsize * ext(c);
	}
	if (!c->handle)
		dt_obj_free(c);
	return t;
}

static int check_order(const char *fn, int order)
{
	if (order != MPI_ORDER_C && order != MPI_ORDER_FORTRAN)
		return ERR(MPI_ERR_ARG, "invalid order %d", order);
	return MPI_SUCCESS;
}

static int subarray_check(const char *fn, int ndims, const int *sizes, const int *subsizes,
			  const int *starts)
{
	if (ndims <= 0)
		return ERR(MPI_ERR_ARG, "ndims %d is not positive", ndims);
	if (!sizes || !subsizes || !starts)
		return ERR(MPI_ERR_ARG, "NULL array argument");
	for (int i = 0; i < ndims; i++) {
		if (sizes[i] < 1)
			return ERR(MPI_ERR_ARG, "array_of_sizes[%d] = %d < 1", i, sizes[i]);
		if (subsizes[i] < 1 || subsizes[i] > sizes[i])
			return ERR(MPI_ERR_ARG, "array_of_subsizes[%d] = %d out of 1..%d", i,
				   subsizes[i], sizes[i]);
		if (starts[i] < 0 || starts[i] > sizes[i] - subsizes[i])
			return ERR(MPI_ERR_ARG, "array_of_starts[%d] = %d out of 0..%d", i,
				   starts[i], sizes[i] - subsizes[i]);
	}
	return MPI_SUCCESS;
}

int MPI_Type_create_subarray(int ndims, const int array_of_sizes[], const int array_of_subsizes[],
			     const int array_of_starts[], int order, MPI_Datatype oldtype,
			     MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_subarray";
	struct dtype *o;
	int rc = dt_ctor_begin(fn, 0, oldtype, newtype, &o);
	if (rc || (rc = subarray_check(fn, ndims, array_of_sizes, array_of_subsizes,
				       array_of_starts)) || (rc = check_order(fn, order)))
		return rc;
	/* the fastest dimension is the last in C order, the first in Fortran's */
	struct dtype *t = o;
	for (int k = 0; k < ndims && t; k++) {
		int d = order == MPI_ORDER_C ? ndims - 1 - k : k;
		t = make_dim(t, array_of_sizes[d], 1, &array_of_starts[d], &array_of_subsizes[d]);
	}
	if (!t || !dt_env_alloc(t, MPI_COMBINER_SUBARRAY, 3 * ndims + 2, 0, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	t->ints[0] = ndims;
	for (int i = 0; i < ndims; i++) {
		t->ints[1 + i] = array_of_sizes[i];
		t->ints[1 + ndims + i] = array_of_subsizes[i];
		t->ints[1 + 2 * ndims + i] = array_of_starts[i];
	}
	t->ints[1 + 3 * ndims] = order;
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	return dt_finish(fn, t, newtype);
}

/* The runs of dimension d owned by process coordinate r (4.1.4): blocks of
 * darg elements dealt round-robin to psize processes; block distribution
 * is the cyclic one with darg = ceil(gsize / psize). */
static struct dtype *darray_dim(struct dtype *c, int gsize, int distrib, int darg, int psize, int r)
{
	if (distrib == MPI_DISTRIBUTE_NONE) {
		int zero = 0;
		return make_dim(c, gsize, 1, &zero, &gsize);
	}
	if (darg == MPI_DISTRIBUTE_DFLT_DARG)
		darg = distrib == MPI_DISTRIBUTE_BLOCK ? (gsize + psize - 1) / psize : 1;
	int nrun = 0;
	for (long s = (long)r * darg; s < gsize; s += (long)psize * darg)
		nrun++;
	int *start = malloc((nrun ? nrun : 1) * sizeof *start);
	int *len = malloc((nrun ? nrun : 1) * sizeof *len);
	struct dtype *t = NULL;
	if (start && len) {
		int j = 0;
		for (long s = (long)r * darg; s < gsize; s += (long)psize * darg, j++) {
			start[j] = (int)s;
			len[j] = gsize - s < darg ? (int)(gsize - s) : darg;
		}
		t = make_dim(c, gsize, nrun, start, len);
		c = NULL;
	}
	if (c && !c->handle)
		dt_obj_free(c);
	free(start);
	free(len);
	return t;
}

static int darray_check(const char *fn, int size, int rank, int ndims, const int *gsizes,
			const int *distribs, const int *dargs, const int *psizes)
{
	if (size <= 0 || rank < 0 || rank >= size)
		return ERR(MPI_ERR_ARG, "rank %d not in a group of size %d", rank, size);
	if (ndims <= 0)
		return ERR(MPI_ERR_ARG, "ndims %d is not positive", ndims);
	if (!gsizes || !distribs || !dargs || !psizes)
		return ERR(MPI_ERR_ARG, "NULL array argument");
	long procs = 1;
	for (int i = 0; i < ndims; i++) {
		if (gsizes[i] < 1 || psizes[i] < 1)
			return ERR(MPI_ERR_ARG, "dimension %d: gsize %d, psize %d", i, gsizes[i],
				   psizes[i]);
		if (distribs[i] != MPI_DISTRIBUTE_BLOCK && distribs[i] != MPI_DISTRIBUTE_CYCLIC &&
		    distribs[i] != MPI_DISTRIBUTE_NONE)
			return ERR(MPI_ERR_ARG, "invalid distribution %d", distribs[i]);
		if (dargs[i] != MPI_DISTRIBUTE_DFLT_DARG && dargs[i] < 1)
			return ERR(MPI_ERR_ARG, "invalid darg %d", dargs[i]);
		if (distribs[i] == MPI_DISTRIBUTE_BLOCK && dargs[i] != MPI_DISTRIBUTE_DFLT_DARG &&
		    (long)dargs[i] * psizes[i] < gsizes[i])
			return ERR(MPI_ERR_ARG, "block size %d * %d processes < %d elements",
				   dargs[i], psizes[i], gsizes[i]);
		if (distribs[i] == MPI_DISTRIBUTE_NONE && psizes[i] != 1)
			return ERR(MPI_ERR_ARG, "MPI_DISTRIBUTE_NONE with %d processes", psizes[i]);
		procs *= psizes[i];
		if (procs > size)
			break;
	}
	if (procs != size)
		return ERR(MPI_ERR_ARG, "the process grid does not have %d processes", size);
	return MPI_SUCCESS;
}

int MPI_Type_create_darray(int size, int rank, int ndims, const int array_of_gsizes[],
			   const int array_of_distribs[], const int array_of_dargs[],
			   const int array_of_psizes[], int order, MPI_Datatype oldtype,
			   MPI_Datatype *newtype)
{
	static const char fn[] = "MPI_Type_create_darray";
	struct dtype *o;
	int rc = dt_ctor_begin(fn, 0, oldtype, newtype, &o);
	if (rc || (rc = darray_check(fn, size, rank, ndims, array_of_gsizes, array_of_distribs,
				     array_of_dargs, array_of_psizes)) ||
	    (rc = check_order(fn, order)))
		return rc;
	/* process coordinates: row-major in the grid, whatever the order */
	int *coord = malloc(ndims * sizeof *coord);
	if (!coord)
		return dt_nomem(fn);
	for (int i = ndims - 1, r = rank; i >= 0; i--) {
		coord[i] = r % array_of_psizes[i];
		r /= array_of_psizes[i];
	}
	struct dtype *t = o;
	for (int k = 0; k < ndims && t; k++) {
		int d = order == MPI_ORDER_C ? ndims - 1 - k : k;
		t = darray_dim(t, array_of_gsizes[d], array_of_distribs[d], array_of_dargs[d],
			       array_of_psizes[d], coord[d]);
	}
	free(coord);
	if (!t || !dt_env_alloc(t, MPI_COMBINER_DARRAY, 4 * ndims + 4, 0, 1)) {
		dt_obj_free(t);
		return dt_nomem(fn);
	}
	int *v = t->ints;
	v[0] = size;
	v[1] = rank;
	v[2] = ndims;
	for (int i = 0; i < ndims; i++) {
		v[3 + i] = array_of_gsizes[i];
		v[3 + ndims + i] = array_of_distribs[i];
		v[3 + 2 * ndims + i] = array_of_dargs[i];
		v[3 + 3 * ndims + i] = array_of_psizes[i];
	}
	v[3 + 4 * ndims] = order;
	t->types[0] = oldtype;
	dt_env_kids(t, 1);
	return dt_finish(fn, t, newtype);
}
