/* Process topologies (MPI-3.1 chapter 7): Cartesian communicators,
 * MPI_Dims_create and MPI_Topo_test. A Cartesian communicator is a
 * struct comm with topo == MPI_CART and its dims and periods; ranks are
 * numbered in row-major order (7.5.1: the last coordinate varies fastest).
 * Reordering is never done: rank i of the grid is rank i of the parent.
 * Graph and distributed graph topologies are in graph.c.
 */
#include <stdlib.h>
#include <string.h>
#include "impl.h"

/* The checks of a communicator argument that must be Cartesian; NULL
 * after reporting. */
static struct comm *cart_arg(MPI_Comm comm, const char *func, int *rc)
{
	struct comm *c = NULL;
	if (!mpi_ready(func))
		*rc = MPI_ERR_OTHER;
	else if (!(c = comm_get(comm)))
		*rc = mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, func, "invalid communicator");
	else if (c->topo != MPI_CART) {
		*rc = mpi_err(comm, MPI_ERR_TOPOLOGY, func, "the communicator has no Cartesian topology");
		c = NULL;
	}
	return c;
}

/* Checks the dims of a new grid for a communicator of `limit` processes
 * and sets *n to its size (1 for ndims == 0). Returns MPI_SUCCESS or the
 * error after reporting it. */
static int grid_check(MPI_Comm comm, int ndims, const int dims[], int limit, const char *func, long *n)
{
	if (ndims < 0)
		return mpi_err(comm, MPI_ERR_DIMS, func, "ndims is %d", ndims);
	if (ndims > 0 && !dims)
		return mpi_err(comm, MPI_ERR_ARG, func, "dims is NULL");
	*n = 1;
	for (int i = 0; i < ndims; i++) {
		if (dims[i] <= 0)
			return mpi_err(comm, MPI_ERR_DIMS, func, "dims[%d] is %d", i, dims[i]);
		*n *= dims[i];
		if (*n > limit)
			return mpi_err(comm, MPI_ERR_ARG, func,
				       "the grid is larger than the communicator (%d processes)", limit);
	}
	return MPI_SUCCESS;
}

/* Row-major coordinates of rank r. */
static void coords_of(const struct comm *c, int r, int coords[])
{
	for (int i = c->ndims - 1; i >= 0; i--) {
		coords[i] = r % c->dims[i];
		r /= c->dims[i];
	}
}

/* 7.5.1: a grid over the first dims[0] * ... ranks of comm_old; the
 * others get MPI_COMM_NULL. ndims == 0 makes a 0-dimensional grid of one
 * process. */
int MPI_Cart_create(MPI_Comm comm_old, int ndims, const int dims[], const int periods[],
		    int reorder, MPI_Comm *comm_cart)
{
	(void)reorder;
	bool err;
	long n;
	int rc;
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(comm_old);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, __func__, "invalid communicator");
	if ((rc = grid_check(comm_old, ndims, dims, c->size, __func__, &n)) != MPI_SUCCESS)
		return rc;
	if ((ndims > 0 && !periods) || !comm_cart)
		return mpi_err(comm_old, MPI_ERR_ARG, __func__, "NULL argument");
	struct comm *nc = comm_create_from(c, (int)n, c->world, &err);
	if (!nc) {
		if (err)
			return mpi_err(comm_old, MPI_ERR_OTHER, __func__, "creating the communicator failed");
		*comm_cart = MPI_COMM_NULL;
		return MPI_SUCCESS;
	}
	nc->topo = MPI_CART;
	nc->ndims = ndims;
	if (ndims > 0) {
		nc->dims = malloc((size_t)ndims * sizeof(int));
		nc->periods = malloc((size_t)ndims * sizeof(int));
		if (!nc->dims || !nc->periods) {
			MPI_Comm h = nc->handle;
			MPI_Comm_free(&h);
			return mpi_err(comm_old, MPI_ERR_NO_MEM, __func__, "out of memory");
		}
		for (int i = 0; i < ndims; i++) {
			nc->dims[i] = dims[i];
			nc->periods[i] = periods[i] != 0;
		}
	}
	*comm_cart = nc->handle;
	return MPI_SUCCESS;
}

/* 7.5.8: the rank this process would have in MPI_Cart_create (which does
 * not reorder), or MPI_UNDEFINED. */
int MPI_Cart_map(MPI_Comm comm, int ndims, const int dims[], const int periods[], int *newrank)
{
	(void)periods;
	long n;
	int rc;
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(comm);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, __func__, "invalid communicator");
	if ((rc = grid_check(comm, ndims, dims, c->size, __func__, &n)) != MPI_SUCCESS)
		return rc;
	*newrank = c->rank < n ? c->rank : MPI_UNDEFINED;
	return MPI_SUCCESS;
}

int MPI_Cartdim_get(MPI_Comm comm, int *ndims)
{
	int rc;
	struct comm *c = cart_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	*ndims = c->ndims;
	return MPI_SUCCESS;
}

int MPI_Cart_get(MPI_Comm comm, int maxdims, int dims[], int periods[], int coords[])
{
	int rc;
	struct comm *c = cart_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (maxdims < c->ndims)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "maxdims %d is less than the %d dimensions", maxdims, c->ndims);
	for (int i = 0; i < c->ndims; i++) {
		dims[i] = c->dims[i];
		periods[i] = c->periods[i];
	}
	coords_of(c, c->rank, coords);
	return MPI_SUCCESS;
}

int MPI_Cart_coords(MPI_Comm comm, int rank, int maxdims, int coords[])
{
	int rc;
	struct comm *c = cart_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (rank < 0 || rank >= c->size)
		return mpi_err(comm, MPI_ERR_RANK, __func__, "invalid rank %d (communicator of size %d)", rank, c->size);
	if (maxdims < c->ndims)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "maxdims %d is less than the %d dimensions", maxdims, c->ndims);
	coords_of(c, rank, coords);
	return MPI_SUCCESS;
}

/* 7.5.5: a coordinate out of range wraps on a periodic dimension and is
 * erroneous on another (MPI_ERR_ARG: the standard names no class). */
int MPI_Cart_rank(MPI_Comm comm, const int coords[], int *rank)
{
	int rc;
	struct comm *c = cart_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	int r = 0;
	for (int i = 0; i < c->ndims; i++) {
		int d = c->dims[i], x = coords[i];
		if (c->periods[i])
			x = (x % d + d) % d;
		else if (x < 0 || x >= d)
			return mpi_err(comm, MPI_ERR_ARG, __func__,
				       "coordinate %d is %d, outside 0..%d of a non-periodic dimension", i, x, d - 1);
		r = r * d + x;
	}
	*rank = r;
	return MPI_SUCCESS;
}

/* The rank at coords with coordinate `dir` moved by delta; MPI_PROC_NULL
 * off the edge of a non-periodic dimension. coords is restored. */
static int neighbour(const struct comm *c, int coords[], int dir, long delta)
{
	int d = c->dims[dir], x = coords[dir];
	long y = x + delta;
	if (c->periods[dir])
		y = (y % d + d) % d;
	else if (y < 0 || y >= d)
		return MPI_PROC_NULL;
	coords[dir] = (int)y;
	int r = 0;
	for (int i = 0; i < c->ndims; i++)
		r = r * c->dims[i] + coords[i];
	coords[dir] = x;
	return r;
}

/* 7.5.6: dest is disp steps up dimension `direction`, source disp down. */
int MPI_Cart_shift(MPI_Comm comm, int direction, int disp, int *rank_source, int *rank_dest)
{
	int rc;
	struct comm *c = cart_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if (direction < 0 || direction >= c->ndims)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "direction %d is not one of the %d dimensions",
			       direction, c->ndims);
	int *coords = malloc((size_t)c->ndims * sizeof *coords);
	if (!coords)
		return mpi_err(comm, MPI_ERR_NO_MEM, __func__, "out of memory");
	coords_of(c, c->rank, coords);
	*rank_dest = neighbour(c, coords, direction, disp);
	*rank_source = neighbour(c, coords, direction, -(long)disp);
	free(coords);
	return MPI_SUCCESS;
}

/* 7.5.7: splits the grid into subgrids over the dimensions kept; each
 * process gets the subgrid it is in. Its rank order is the row-major
 * order of the kept coordinates, so it is a Cartesian communicator too
 * (0-dimensional when nothing is kept). */
int MPI_Cart_sub(MPI_Comm comm, const int remain_dims[], MPI_Comm *newcomm)
{
	int rc;
	struct comm *c = cart_arg(comm, __func__, &rc);
	if (!c)
		return rc;
	if ((!remain_dims && c->ndims > 0) || !newcomm)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "NULL argument");
	int *coords = malloc(((size_t)c->ndims + 1) * sizeof *coords);
	if (!coords)
		return mpi_err(comm, MPI_ERR_NO_MEM, __func__, "out of memory");
	coords_of(c, c->rank, coords);
	int color = 0, key = 0, nd = 0;
	for (int i = 0; i < c->ndims; i++) {
		if (remain_dims[i]) {
			key = key * c->dims[i] + coords[i];
			nd++;
		} else {
			color = color * c->dims[i] + coords[i];
		}
	}
	free(coords);
	if ((rc = MPI_Comm_split(comm, color, key, newcomm)) != MPI_SUCCESS)
		return rc;
	struct comm *n = comm_get(*newcomm);
	n->topo = MPI_CART;
	n->ndims = nd;
	if (nd > 0) {
		n->dims = malloc((size_t)nd * sizeof(int));
		n->periods = malloc((size_t)nd * sizeof(int));
		if (!n->dims || !n->periods) {
			MPI_Comm_free(newcomm);
			return mpi_err(comm, MPI_ERR_NO_MEM, __func__, "out of memory");
		}
	}
	for (int i = 0, j = 0; i < c->ndims; i++)
		if (remain_dims[i]) {
			n->dims[j] = c->dims[i];
			n->periods[j++] = c->periods[i];
		}
	return MPI_SUCCESS;
}

int MPI_Topo_test(MPI_Comm comm, int *status)
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(comm);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, __func__, "invalid communicator");
	if (!status)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "status is NULL");
	*status = c->topo;      /* MPI_CART, MPI_GRAPH, MPI_DIST_GRAPH or MPI_UNDEFINED */
	return MPI_SUCCESS;
}

/* ---- MPI_Dims_create (7.5.2) ---- */

/* The divisors of m in increasing order; returns how many. A number
 * below 2^31 has at most 1600 divisors. */
static int divisors(int m, int *div)
{
	int lo = 0, hi = 0, top[800];
	for (long i = 1; i * i <= m; i++)
		if (m % i == 0) {
			div[lo++] = (int)i;
			if (i * i != m)
				top[hi++] = (int)(m / i);
		}
	while (hi > 0)
		div[lo++] = top[--hi];
	return lo;
}

/* True if d^k >= m. */
static bool pow_at_least(int d, int k, int m)
{
	long p = 1;
	for (int i = 0; i < k && p < m; i++)
		p *= d;
	return p >= m;
}

/* Factors m into k factors, none above cap, in non-increasing order,
 * making the vector as small as possible in lexicographic order: the
 * largest factor as small as it can be, then the next, ... This is the
 * "as close to each other as possible" of 7.5.2 (12 = 4x3, 72 = 6x4x3).
 * div: the divisors of the original number (they include m's). */
static bool balance(int m, int k, int cap, const int *div, int ndiv, int *out)
{
	if (k == 1) {
		out[0] = m;
		return m <= cap;
	}
	for (int i = 0; i < ndiv && div[i] <= cap; i++) {
		int d = div[i];
		if (m % d != 0 || !pow_at_least(d, k, m))
			continue;
		if (balance(m / d, k - 1, d, div, ndiv, out + 1)) {
			out[0] = d;
			return true;
		}
	}
	return false;
}

/* 7.5.2: fills the zero entries of dims so that the product is nnodes,
 * the filled ones as close to each other as possible and non-increasing;
 * nonzero entries are kept. MPI_ERR_DIMS when that cannot be done. */
int MPI_Dims_create(int nnodes, int ndims, int dims[])
{
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	if (nnodes <= 0)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_ARG, __func__, "nnodes is %d", nnodes);
	if (ndims < 0 || (ndims > 0 && !dims))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_DIMS, __func__, "ndims is %d", ndims);
	long fixed = 1;
	int free_dims = 0;
	for (int i = 0; i < ndims; i++) {
		if (dims[i] < 0)
			return mpi_err(MPI_COMM_NULL, MPI_ERR_DIMS, __func__, "dims[%d] is %d", i, dims[i]);
		if (dims[i] == 0)
			free_dims++;
		else if ((fixed *= dims[i]) > nnodes)
			break;
	}
	if (nnodes % fixed != 0 || (free_dims == 0 && fixed != nnodes))
		return mpi_err(MPI_COMM_NULL, MPI_ERR_DIMS, __func__,
			       "%d processes cannot fill a grid with the fixed dimensions given", nnodes);
	if (free_dims == 0)
		return MPI_SUCCESS;
	int m = (int)(nnodes / fixed);
	int div[1600], *f = malloc((size_t)free_dims * sizeof *f);
	if (!f)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_NO_MEM, __func__, "out of memory");
	balance(m, free_dims, m, div, divisors(m, div), f);  /* always succeeds */
	for (int i = 0, j = 0; i < ndims; i++)
		if (dims[i] == 0)
			dims[i] = f[j++];
	free(f);
	return MPI_SUCCESS;
}
