/* Neighborhood collectives (MPI-3.1 7.6, 7.7): Neighbor_allgather(v) and
 * Neighbor_alltoall(v,w) and their nonblocking I-forms on Cartesian,
 * graph and distributed graph communicators.
 *
 * Each call posts one receive per in-neighbor and one send per
 * out-neighbor on the collective context and waits for all of them; an
 * I-form makes that one round of a schedule (nbc.h).
 * MPI_PROC_NULL neighbors (off the edge of a non-periodic Cartesian
 * dimension) move nothing: their receive blocks stay untouched. */
#include <stdlib.h>
#include "check.h"
#include "nbc.h"

/* Above coll.c's tags; a Cartesian block adds its index (toro_nbr_tag). */
#define TAG_NEIGHBOR 64

/* 7.6: a Cartesian communicator's neighbors are, for each dimension, the
 * source and then the destination of MPI_Cart_shift(dim, 1): the -1
 * neighbor, then the +1 neighbor; the same list receives and sends. */
static int cart_nbrs(const struct comm *c, int *list)
{
	int r = c->rank;
	for (int d = c->ndims - 1; d >= 0; d--) {   /* list[2d] holds the coordinate for now */
		list[2 * d] = r % c->dims[d];
		r /= c->dims[d];
	}
	int stride = 1;
	for (int d = c->ndims - 1; d >= 0; d--) {
		int x = list[2 * d], n = c->dims[d];
		for (int s = 0; s < 2; s++) {
			int y = x + (s ? 1 : -1);
			if (c->periods[d])
				y = (y + n) % n;
			list[2 * d + s] = y < 0 || y >= n ? MPI_PROC_NULL : c->rank + (y - x) * stride;
		}
		stride *= n;
	}
	return 2 * c->ndims;
}

static int *ints_copy(const int *p, int n)
{
	int *q = malloc(((size_t)n + 1) * sizeof *q);
	for (int i = 0; q && i < n; i++)
		q[i] = p[i];
	return q;
}

int toro_nbr_build(const struct comm *c, int *nin, int **in, int *nout, int **out)
{
	const struct graph *g = c->graph;
	*in = *out = NULL;
	if (c->topo == MPI_CART) {
		*in = malloc(((size_t)c->ndims * 2 + 1) * sizeof **in);
		if (*in) {
			*nin = *nout = cart_nbrs(c, *in);
			*out = ints_copy(*in, *nin);
		}
	} else if (c->topo == MPI_GRAPH) {
		int first = c->rank ? g->index[c->rank - 1] : 0;
		*nin = *nout = g->index[c->rank] - first;
		*in = ints_copy(g->edges + first, *nin);
		*out = ints_copy(g->edges + first, *nin);
	} else if (c->topo == MPI_DIST_GRAPH) {
		*nin = g->indeg;
		*nout = g->outdeg;
		*in = ints_copy(g->in, g->indeg);
		*out = ints_copy(g->out, g->outdeg);
	} else {
		return MPI_ERR_TOPOLOGY;
	}
	if (!*in || !*out) {
		free(*in);
		free(*out);
		*in = *out = NULL;
		return MPI_ERR_NO_MEM;
	}
	return MPI_SUCCESS;
}

/* The block sent to the -1 neighbor of dimension d is the +1 block of
 * that neighbor and the other way round: this matters when both are the
 * same process (a periodic dimension of size 1 or 2). */
int toro_nbr_tag(const struct comm *c, int k, bool send)
{
	if (c->topo != MPI_CART)
		return 0;
	return send ? k ^ 1 : k;
}

/* ---- the common engine ---- */

/* One buffer block: address, count, datatype. */
struct blk {
	char *p;
	int n;
	MPI_Datatype t;
};

/* Everything one call moves, and the neighbor lists it was built for. */
struct nbr {
	struct comm *c;
	int nin, nout, *in, *out;
	struct blk *rb, *sb;
};

static void nbr_free(struct nbr *x)
{
	free(x->in);
	free(x->out);
	free(x->rb);
	free(x->sb);
}

/* Checks the communicator and builds the neighbor lists and (unfilled)
 * block arrays; MPI_SUCCESS or what mpi_err returned. */
static int nbr_start(MPI_Comm comm, const char *fn, struct nbr *x)
{
	*x = (struct nbr){0};
	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	int rc = check_comm(comm, fn, &x->c);
	if (rc)
		return rc;
	rc = toro_nbr_build(x->c, &x->nin, &x->in, &x->nout, &x->out);
	if (rc == MPI_ERR_TOPOLOGY)
		return mpi_err(comm, rc, fn, "the communicator has no topology");
	if (rc == MPI_SUCCESS) {
		x->rb = malloc(((size_t)x->nin + 1) * sizeof *x->rb);
		x->sb = malloc(((size_t)x->nout + 1) * sizeof *x->sb);
		if (!x->rb || !x->sb)
			rc = MPI_ERR_NO_MEM;
	}
	if (rc != MPI_SUCCESS) {
		nbr_free(x);
		return mpi_err(comm, rc, fn, "out of memory");
	}
	return MPI_SUCCESS;
}

/* Checks every block of one side (rb or sb, nb of them). */
static int check_blocks(struct nbr *x, const char *fn, const char *what, const struct blk *b, int nb,
		    const void *buf)
{
	int rc;
	for (int i = 0; i < nb; i++)
		if ((rc = check_data(x->c, fn, what, buf, b[i].n, b[i].t)))
			return rc;
	return MPI_SUCCESS;
}

/* Checks the blocks, then moves them; frees x. */
static int nbr_run(struct nbr *x, const char *fn, const void *sbuf, const void *rbuf)
{
	struct comm *c = x->c;
	int rc, n = 0;
	if ((rc = check_blocks(x, fn, "send ", x->sb, x->nout, sbuf)) ||
	    (rc = check_blocks(x, fn, "receive ", x->rb, x->nin, rbuf))) {
		nbr_free(x);
		return rc;
	}
	MPI_Request *r = malloc(((size_t)x->nin + x->nout + 1) * sizeof *r);
	if (!r) {
		nbr_free(x);
		return mpi_err(c->handle, MPI_ERR_NO_MEM, fn, "out of memory");
	}
	for (int j = 0; j < x->nin && !rc; j++, n++)
		rc = p2p_irecv(x->rb[j].p, x->rb[j].n, x->rb[j].t, x->in[j],
			       TAG_NEIGHBOR + toro_nbr_tag(c, j, false), c, 1, &r[n]);
	for (int k = 0; k < x->nout && !rc; k++, n++)
		rc = p2p_isend(x->sb[k].p, x->sb[k].n, x->sb[k].t, x->out[k],
			       TAG_NEIGHBOR + toro_nbr_tag(c, k, true), c, 1, 0, &r[n]);
	if (rc)
		n--;    /* the failed one made no request */
	int rc2 = p2p_waitall(n, r, MPI_STATUSES_IGNORE);
	free(r);
	nbr_free(x);
	if (rc || rc2)
		return mpi_err(c->handle, rc ? rc : rc2, fn, "moving the data failed");
	return MPI_SUCCESS;
}

/* The nonblocking form: checks the blocks, then makes them one round of
 * a schedule. The schedule has one tag and messages between two ranks
 * match in order, so a Cartesian rank that is both neighbors of a
 * dimension must send its +1 block first (it arrives in the receiver's
 * -1 block, which is received first): blocks go out in order k ^ 1. */
static int nbr_istart(struct nbr *x, const char *fn, const void *sbuf, const void *rbuf, MPI_Request *req)
{
	struct comm *c = x->c;
	int rc;
	if (!req)
		rc = mpi_err(c->handle, MPI_ERR_ARG, fn, "NULL request pointer");
	else if (!(rc = check_blocks(x, fn, "send ", x->sb, x->nout, sbuf)))
		rc = check_blocks(x, fn, "receive ", x->rb, x->nin, rbuf);
	if (rc) {
		nbr_free(x);
		return rc;
	}
	struct nbc_sched *s = nbc_new(c);
	for (int j = 0; s && j < x->nin; j++)
		nbc_recv(s, x->rb[j].p, x->rb[j].n, x->rb[j].t, x->in[j]);
	for (int k = 0; s && k < x->nout; k++) {
		int b = c->topo == MPI_CART ? k ^ 1 : k;
		nbc_send(s, x->sb[b].p, x->sb[b].n, x->sb[b].t, x->out[b]);
	}
	if (s)
		nbc_round(s);
	nbr_free(x);
	return nbc_begin(s, req, c->handle, fn);
}

/* The same block for every out-neighbor: the allgathers' send side. */
static void same_blocks(struct blk *b, int nb, const void *buf, int n, MPI_Datatype t)
{
	for (int i = 0; i < nb; i++)
		b[i] = (struct blk){(char *)buf, n, t};
}

/* Consecutive blocks of n elements of t: the regular receive or send side. */
static void reg_blocks(struct blk *b, int nb, const void *buf, int n, MPI_Datatype t)
{
	MPI_Aint ext = dtype_ok(t) ? dtype_extent(t) : 0;
	for (int i = 0; i < nb; i++)
		b[i] = (struct blk){(char *)buf + (MPI_Aint)i * n * ext, n, t};
}

/* Blocks at displs[i] elements of t, counts[i] long. */
static int v_blocks(struct nbr *x, const char *fn, struct blk *b, int nb, const void *buf,
		    const int *counts, const int *displs, MPI_Datatype t)
{
	if (nb > 0 && (!counts || !displs))
		return mpi_err(x->c->handle, MPI_ERR_ARG, fn, "NULL counts or displacements");
	MPI_Aint ext = dtype_ok(t) ? dtype_extent(t) : 0;
	for (int i = 0; i < nb; i++)
		b[i] = (struct blk){(char *)buf + (MPI_Aint)displs[i] * ext, counts[i], t};
	return MPI_SUCCESS;
}

/* Blocks at displs[i] bytes, counts[i] elements of types[i]. */
static int w_blocks(struct nbr *x, const char *fn, struct blk *b, int nb, const void *buf,
		    const int *counts, const MPI_Aint *displs, const MPI_Datatype *types)
{
	if (nb > 0 && (!counts || !displs || !types))
		return mpi_err(x->c->handle, MPI_ERR_ARG, fn, "NULL counts, displacements or datatypes");
	for (int i = 0; i < nb; i++)
		b[i] = (struct blk){(char *)buf + displs[i], counts[i], types[i]};
	return MPI_SUCCESS;
}

/* ---- the MPI functions: each builds its blocks once, for the blocking
 * form (req NULL) and the nonblocking one ---- */

static int neighbor_allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			   void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
			bool nb, MPI_Request *req, const char *fn)
{
	struct nbr x;
	int rc = nbr_start(comm, fn, &x);
	if (rc)
		return rc;
	same_blocks(x.sb, x.nout, sendbuf, sendcount, sendtype);
	reg_blocks(x.rb, x.nin, recvbuf, recvcount, recvtype);
	return nb ? nbr_istart(&x, fn, sendbuf, recvbuf, req) : nbr_run(&x, fn, sendbuf, recvbuf);
}

static int neighbor_allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			    void *recvbuf, const int recvcounts[], const int displs[],
			    MPI_Datatype recvtype, MPI_Comm comm,
			bool nb, MPI_Request *req, const char *fn)
{
	struct nbr x;
	int rc = nbr_start(comm, fn, &x);
	if (rc)
		return rc;
	same_blocks(x.sb, x.nout, sendbuf, sendcount, sendtype);
	if ((rc = v_blocks(&x, fn, x.rb, x.nin, recvbuf, recvcounts, displs, recvtype))) {
		nbr_free(&x);
		return rc;
	}
	return nb ? nbr_istart(&x, fn, sendbuf, recvbuf, req) : nbr_run(&x, fn, sendbuf, recvbuf);
}

static int neighbor_alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			  void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
			bool nb, MPI_Request *req, const char *fn)
{
	struct nbr x;
	int rc = nbr_start(comm, fn, &x);
	if (rc)
		return rc;
	reg_blocks(x.sb, x.nout, sendbuf, sendcount, sendtype);
	reg_blocks(x.rb, x.nin, recvbuf, recvcount, recvtype);
	return nb ? nbr_istart(&x, fn, sendbuf, recvbuf, req) : nbr_run(&x, fn, sendbuf, recvbuf);
}

static int neighbor_alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
			   MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
			   const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm,
			bool nb, MPI_Request *req, const char *fn)
{
	struct nbr x;
	int rc = nbr_start(comm, fn, &x);
	if (rc)
		return rc;
	if ((rc = v_blocks(&x, fn, x.sb, x.nout, sendbuf, sendcounts, sdispls, sendtype)) ||
	    (rc = v_blocks(&x, fn, x.rb, x.nin, recvbuf, recvcounts, rdispls, recvtype))) {
		nbr_free(&x);
		return rc;
	}
	return nb ? nbr_istart(&x, fn, sendbuf, recvbuf, req) : nbr_run(&x, fn, sendbuf, recvbuf);
}

static int neighbor_alltoallw(const void *sendbuf, const int sendcounts[], const MPI_Aint sdispls[],
			   const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
			   const MPI_Aint rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm,
			bool nb, MPI_Request *req, const char *fn)
{
	struct nbr x;
	int rc = nbr_start(comm, fn, &x);
	if (rc)
		return rc;
	if ((rc = w_blocks(&x, fn, x.sb, x.nout, sendbuf, sendcounts, sdispls, sendtypes)) ||
	    (rc = w_blocks(&x, fn, x.rb, x.nin, recvbuf, recvcounts, rdispls, recvtypes))) {
		nbr_free(&x);
		return rc;
	}
	return nb ? nbr_istart(&x, fn, sendbuf, recvbuf, req) : nbr_run(&x, fn, sendbuf, recvbuf);
}

int MPI_Neighbor_allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			   void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
	return neighbor_allgather(sendbuf, sendcount, sendtype,
			recvbuf, recvcount, recvtype, comm, false, NULL, __func__);
}

int MPI_Ineighbor_allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			   void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
			    MPI_Request *request)
{
	return neighbor_allgather(sendbuf, sendcount, sendtype,
			recvbuf, recvcount, recvtype, comm, true, request, __func__);
}

int MPI_Neighbor_allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			    void *recvbuf, const int recvcounts[], const int displs[],
			    MPI_Datatype recvtype, MPI_Comm comm)
{
	return neighbor_allgatherv(sendbuf, sendcount, sendtype,
			recvbuf, recvcounts, displs, recvtype, comm, false, NULL, __func__);
}

int MPI_Ineighbor_allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			    void *recvbuf, const int recvcounts[], const int displs[],
			    MPI_Datatype recvtype, MPI_Comm comm,
			    MPI_Request *request)
{
	return neighbor_allgatherv(sendbuf, sendcount, sendtype,
			recvbuf, recvcounts, displs, recvtype, comm, true, request, __func__);
}

int MPI_Neighbor_alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			  void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm)
{
	return neighbor_alltoall(sendbuf, sendcount, sendtype,
			recvbuf, recvcount, recvtype, comm, false, NULL, __func__);
}

int MPI_Ineighbor_alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
			  void *recvbuf, int recvcount, MPI_Datatype recvtype, MPI_Comm comm,
			    MPI_Request *request)
{
	return neighbor_alltoall(sendbuf, sendcount, sendtype,
			recvbuf, recvcount, recvtype, comm, true, request, __func__);
}

int MPI_Neighbor_alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
			   MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
			   const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm)
{
	return neighbor_alltoallv(sendbuf, sendcounts, sdispls, sendtype,
			recvbuf, recvcounts, rdispls, recvtype, comm, false, NULL, __func__);
}

int MPI_Ineighbor_alltoallv(const void *sendbuf, const int sendcounts[], const int sdispls[],
			   MPI_Datatype sendtype, void *recvbuf, const int recvcounts[],
			   const int rdispls[], MPI_Datatype recvtype, MPI_Comm comm,
			    MPI_Request *request)
{
	return neighbor_alltoallv(sendbuf, sendcounts, sdispls, sendtype,
			recvbuf, recvcounts, rdispls, recvtype, comm, true, request, __func__);
}

int MPI_Neighbor_alltoallw(const void *sendbuf, const int sendcounts[], const MPI_Aint sdispls[],
			   const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
			   const MPI_Aint rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm)
{
	return neighbor_alltoallw(sendbuf, sendcounts, sdispls, sendtypes,
			recvbuf, recvcounts, rdispls, recvtypes, comm, false, NULL, __func__);
}

int MPI_Ineighbor_alltoallw(const void *sendbuf, const int sendcounts[], const MPI_Aint sdispls[],
			   const MPI_Datatype sendtypes[], void *recvbuf, const int recvcounts[],
			   const MPI_Aint rdispls[], const MPI_Datatype recvtypes[], MPI_Comm comm,
			    MPI_Request *request)
{
	return neighbor_alltoallw(sendbuf, sendcounts, sdispls, sendtypes,
			recvbuf, recvcounts, rdispls, recvtypes, comm, true, request, __func__);
}
