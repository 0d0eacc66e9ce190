/* Graph topologies (MPI-3.1 7.5.3) and distributed graph topologies
 * (7.5.4), their queries (7.5.5) and MPI_Graph_map (7.5.8).
 *
 * A graph communicator keeps the whole graph (struct graph in impl.h); a
 * distributed graph keeps only this rank's in- and out-edges, learnt in
 * MPI_Dist_graph_create by one all-to-all exchange of the edges given.
 * Reordering is never done (it is a hint): rank i of the new communicator
 * is rank i of the old one. */
#include <stdlib.h>
#include <string.h>
#include "impl.h"

void graph_free(struct graph *g)
{
	if (!g)
		return;
	free(g->index);
	free(g->edges);
	free(g->in);
	free(g->inw);
	free(g->out);
	free(g->outw);
	free(g);
}

/* A malloc'd copy of n ints (NULL for n == 0 or p == NULL); *ok false when
 * out of memory. */
static int *ints_dup(const int *p, int n, bool *ok)
{
	if (!p || n <= 0)
		return NULL;
	int *q = malloc((size_t)n * sizeof *q);
	if (!q)
		*ok = false;
	else
		memcpy(q, p, (size_t)n * sizeof *q);
	return q;
}

struct graph *graph_copy(const struct graph *g)
{
	struct graph *n = calloc(1, sizeof *n);
	if (!n)
		return NULL;
	bool ok = true;
	*n = *g;
	int nedges = g->nnodes > 0 ? g->index[g->nnodes - 1] : 0;
	n->index = ints_dup(g->index, g->nnodes, &ok);
	n->edges = ints_dup(g->edges, nedges, &ok);
	n->in = ints_dup(g->in, g->indeg, &ok);
	n->inw = ints_dup(g->inw, g->indeg, &ok);
	n->out = ints_dup(g->out, g->outdeg, &ok);
	n->outw = ints_dup(g->outw, g->outdeg, &ok);
	if (!ok) {
		graph_free(n);
		return NULL;
	}
	return n;
}

/* Makes the communicator of the first n ranks of parent with topology
 * `topo` and graph g (taken over, freed on failure); the others get
 * MPI_COMM_NULL. Collective over parent. */
static int graph_comm(struct comm *parent, int n, int topo, struct graph *g,
		      MPI_Comm *newcomm, const char *func)
{
	bool err;
	struct comm *nc = comm_create_from(parent, n, parent->world, &err);
	if (!nc) {
		graph_free(g);
		if (err)
			return mpi_err(parent->handle, MPI_ERR_OTHER, func, "creating the communicator failed");
		*newcomm = MPI_COMM_NULL;
		return MPI_SUCCESS;
	}
	nc->topo = topo;
	nc->graph = g;
	*newcomm = nc->handle;
	return MPI_SUCCESS;
}

/* The checks every creating call starts with; NULL after reporting. */
static struct comm *old_arg(MPI_Comm comm, const void *out, const char *func, int *rc)
{
	struct comm *c = NULL;
	if (!mpi_ready(func))
		*rc = MPI_ERR_OTHER;
	else if (!(c = comm_get(comm)))
		*rc = mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, func, "invalid communicator");
	else if (!out) {
		*rc = mpi_err(comm, MPI_ERR_ARG, func, "the new communicator argument is NULL");
		c = NULL;
	}
	return c;
}

/* Checks a graph of nnodes nodes for a communicator of `size`. */
static int graph_check(MPI_Comm comm, int nnodes, const int index[], const int edges[],
		       int size, const char *func)
{
	if (nnodes < 0 || nnodes > size)
		return mpi_err(comm, MPI_ERR_ARG, func, "nnodes is %d (communicator of size %d)", nnodes, size);
	if (nnodes > 0 && (!index || (index[nnodes - 1] > 0 && !edges)))
		return mpi_err(comm, MPI_ERR_ARG, func, "NULL argument");
	for (int i = 0; i < nnodes; i++)
		if (index[i] < (i ? index[i - 1] : 0))
			return mpi_err(comm, MPI_ERR_ARG, func, "index[%d] is %d, less than before", i, index[i]);
	for (int e = 0; nnodes > 0 && e < index[nnodes - 1]; e++)
		if (edges[e] < 0 || edges[e] >= nnodes)
			return mpi_err(comm, MPI_ERR_ARG, func, "edges[%d] is %d, not a node of 0..%d",
				       e, edges[e], nnodes - 1);
	return MPI_SUCCESS;
}

/* 7.5.3: a graph over the first nnodes ranks (none when nnodes is 0). */
int MPI_Graph_create(MPI_Comm comm_old, int nnodes, const int index[], const int edges[],
		     int reorder, MPI_Comm *comm_graph)
{
	(void)reorder;
	int rc;
	struct comm *c = old_arg(comm_old, comm_graph, __func__, &rc);
	if (!c)
		return rc;
	if ((rc = graph_check(comm_old, nnodes, index, edges, c->size, __func__)) != MPI_SUCCESS)
		return rc;
	if (nnodes == 0) {
		*comm_graph = MPI_COMM_NULL;
		return MPI_SUCCESS;
	}
	struct graph *g = calloc(1, sizeof *g);
	bool ok = g != NULL;
	if (g) {
		g->nnodes = nnodes;
		g->index = ints_dup(index, nnodes, &ok);
		g->edges = ints_dup(edges, index[nnodes - 1], &ok);
	}
	if (!ok) {
		graph_free(g);
		return mpi_err(comm_old, MPI_ERR_NO_MEM, __func__, "out of memory");
	}
	return graph_comm(c, nnodes, MPI_GRAPH, g, comm_graph, __func__);
}

/* The graph of a communicator that must have topology `topo`; NULL after
 * reporting. */
static struct graph *graph_arg(MPI_Comm comm, int topo, const char *func, int *rc)
{
	struct comm *c;
	*rc = MPI_ERR_INTERN;   /* a graph communicator always has its graph */
	if (!mpi_ready(func)) {
		*rc = MPI_ERR_OTHER;
		return NULL;
	}
	if (!(c = comm_get(comm))) {
		*rc = mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, func, "invalid communicator");
		return NULL;
	}
	if (c->topo != topo) {
		*rc = mpi_err(comm, MPI_ERR_TOPOLOGY, func, "the communicator has no %s topology",
			      topo == MPI_GRAPH ? "graph" : "distributed graph");
		return NULL;
	}
	return c->graph;
}

int MPI_Graphdims_get(MPI_Comm comm, int *nnodes, int *nedges)
{
	int rc;
	struct graph *g = graph_arg(comm, MPI_GRAPH, __func__, &rc);
	if (!g)
		return rc;
	*nnodes = g->nnodes;
	*nedges = g->index[g->nnodes - 1];
	return MPI_SUCCESS;
}

/* 7.5.5: at most maxindex and maxedges entries are written. */
int MPI_Graph_get(MPI_Comm comm, int maxindex, int maxedges, int index[], int edges[])
{
	int rc;
	struct graph *g = graph_arg(comm, MPI_GRAPH, __func__, &rc);
	if (!g)
		return rc;
	if (maxindex < 0 || maxedges < 0)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "maxindex %d, maxedges %d", maxindex, maxedges);
	for (int i = 0; i < maxindex && i < g->nnodes; i++)
		index[i] = g->index[i];
	for (int e = 0; e < maxedges && e < g->index[g->nnodes - 1]; e++)
		edges[e] = g->edges[e];
	return MPI_SUCCESS;
}

/* The first edge of node r and how many it has. */
static int node_edges(const struct graph *g, int r, int *first)
{
	*first = r ? g->index[r - 1] : 0;
	return g->index[r] - *first;
}

int MPI_Graph_neighbors_count(MPI_Comm comm, int rank, int *nneighbors)
{
	int rc, first;
	struct graph *g = graph_arg(comm, MPI_GRAPH, __func__, &rc);
	if (!g)
		return rc;
	if (rank < 0 || rank >= g->nnodes)
		return mpi_err(comm, MPI_ERR_RANK, __func__, "invalid rank %d (graph of %d nodes)", rank, g->nnodes);
	*nneighbors = node_edges(g, rank, &first);
	return MPI_SUCCESS;
}

int MPI_Graph_neighbors(MPI_Comm comm, int rank, int maxneighbors, int neighbors[])
{
	int rc, first;
	struct graph *g = graph_arg(comm, MPI_GRAPH, __func__, &rc);
	if (!g)
		return rc;
	if (rank < 0 || rank >= g->nnodes)
		return mpi_err(comm, MPI_ERR_RANK, __func__, "invalid rank %d (graph of %d nodes)", rank, g->nnodes);
	int n = node_edges(g, rank, &first);
	for (int i = 0; i < n && i < maxneighbors; i++)
		neighbors[i] = g->edges[first + i];
	return MPI_SUCCESS;
}

/* 7.5.8: the rank MPI_Graph_create would give (it does not reorder). */
int MPI_Graph_map(MPI_Comm comm, int nnodes, const int index[], const int edges[], int *newrank)
{
	int rc;
	if (!mpi_ready(__func__))
		return MPI_ERR_OTHER;
	struct comm *c = comm_get(comm);
	if (!c)
		return mpi_err(MPI_COMM_NULL, MPI_ERR_COMM, __func__, "invalid communicator");
	if ((rc = graph_check(comm, nnodes, index, edges, c->size, __func__)) != MPI_SUCCESS)
		return rc;
	if (!newrank)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "newrank is NULL");
	*newrank = c->rank < nnodes ? c->rank : MPI_UNDEFINED;
	return MPI_SUCCESS;
}

/* ---- distributed graphs (7.5.4) ---- */

/* Checks n ranks of a communicator of `size` and, unless unweighted,
 * non-negative weights. */
static int edges_check(MPI_Comm comm, int n, const int ranks[], const int w[], int size,
		       const char *what, const char *func)
{
	if (n < 0)
		return mpi_err(comm, MPI_ERR_ARG, func, "the %s count is %d", what, n);
	if (n > 0 && (!ranks || !w || w == MPI_WEIGHTS_EMPTY))
		return mpi_err(comm, MPI_ERR_ARG, func, "NULL %s array", what);
	for (int i = 0; i < n; i++) {
		if (ranks[i] < 0 || ranks[i] >= size)
			return mpi_err(comm, MPI_ERR_RANK, func, "%s[%d] is %d (communicator of size %d)",
				       what, i, ranks[i], size);
		if (w != MPI_UNWEIGHTED && w[i] < 0)
			return mpi_err(comm, MPI_ERR_ARG, func, "the weight of %s[%d] is %d", what, i, w[i]);
	}
	return MPI_SUCCESS;
}

/* A distributed graph of this rank's edges; weights copied unless
 * unweighted. NULL when out of memory. */
static struct graph *dist_new(int indeg, const int in[], const int inw[],
			      int outdeg, const int out[], const int outw[], bool weighted)
{
	struct graph *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	bool ok = true;
	g->indeg = indeg;
	g->outdeg = outdeg;
	g->weighted = weighted;
	g->in = ints_dup(in, indeg, &ok);
	g->out = ints_dup(out, outdeg, &ok);
	if (weighted) {
		g->inw = ints_dup(inw, indeg, &ok);
		g->outw = ints_dup(outw, outdeg, &ok);
	}
	if (!ok) {
		graph_free(g);
		return NULL;
	}
	return g;
}

int MPI_Dist_graph_create_adjacent(MPI_Comm comm_old, int indegree, const int sources[],
				   const int sourceweights[], int outdegree, const int destinations[],
				   const int destweights[], MPI_Info info, int reorder,
				   MPI_Comm *comm_dist_graph)
{
	(void)info, (void)reorder;
	int rc;
	struct comm *c = old_arg(comm_old, comm_dist_graph, __func__, &rc);
	if (!c)
		return rc;
	if ((sourceweights == MPI_UNWEIGHTED) != (destweights == MPI_UNWEIGHTED))
		return mpi_err(comm_old, MPI_ERR_ARG, __func__,
			       "only one of sourceweights and destweights is MPI_UNWEIGHTED");
	if ((rc = edges_check(comm_old, indegree, sources, sourceweights, c->size, "sources", __func__)) ||
	    (rc = edges_check(comm_old, outdegree, destinations, destweights, c->size, "destinations", __func__)))
		return rc;
	struct graph *g = dist_new(indegree, sources, sourceweights, outdegree, destinations,
				   destweights, sourceweights != MPI_UNWEIGHTED);
	if (!g)
		return mpi_err(comm_old, MPI_ERR_NO_MEM, __func__, "out of memory");
	return graph_comm(c, c->size, MPI_DIST_GRAPH, g, comm_dist_graph, __func__);
}

/* MPI_Dist_graph_create's exchange: each edge s -> d (weight w) given
 * anywhere becomes the record {1, d, w} for s (an out-edge) and {0, s, w}
 * for d (an in-edge). One Alltoall of the counts and one Alltoallv of the
 * records; each rank keeps its edges in the order of the ranks that gave
 * them, then the order they were given in. */
enum { REC = 3 };

static int dist_exchange(struct comm *c, int n, const int sources[], const int degrees[],
			 const int destinations[], const int weights[], bool weighted,
			 int **recs, int *nrecs)
{
	int size = c->size, rc = MPI_ERR_NO_MEM, total = 0;
	for (int i = 0; i < n; i++)
		total += degrees[i];
	int *cnt = calloc((size_t)size * 4, sizeof *cnt), *rcnt = cnt + size,
	    *sdis = cnt + 2 * size, *rdis = cnt + 3 * size;
	int *sbuf = malloc(((size_t)total * 2 * REC + 1) * sizeof *sbuf), *rbuf = NULL;
	if (!cnt || !sbuf)
		goto out;
	for (int i = 0, e = 0; i < n; i++)
		for (int j = 0; j < degrees[i]; j++, e++) {
			cnt[sources[i]] += REC;
			cnt[destinations[e]] += REC;
		}
	for (int r = 1; r < size; r++)
		sdis[r] = sdis[r - 1] + cnt[r - 1];
	int *fill = calloc((size_t)size, sizeof *fill);
	if (!fill)
		goto out;
	for (int i = 0, e = 0; i < n; i++)
		for (int j = 0; j < degrees[i]; j++, e++) {
			int s = sources[i], d = destinations[e], w = weighted ? weights[e] : 1;
			int *p = sbuf + sdis[s] + fill[s];
			p[0] = 1, p[1] = d, p[2] = w;
			fill[s] += REC;
			p = sbuf + sdis[d] + fill[d];
			p[0] = 0, p[1] = s, p[2] = w;
			fill[d] += REC;
		}
	free(fill);
	if ((rc = MPI_Alltoall(cnt, 1, MPI_INT, rcnt, 1, MPI_INT, c->handle)) != MPI_SUCCESS)
		goto out;
	for (int r = 1; r < size; r++)
		rdis[r] = rdis[r - 1] + rcnt[r - 1];
	*nrecs = (rdis[size - 1] + rcnt[size - 1]) / REC;
	rc = MPI_ERR_NO_MEM;
	if (!(rbuf = malloc(((size_t)*nrecs * REC + 1) * sizeof *rbuf)))
		goto out;
	rc = MPI_Alltoallv(sbuf, cnt, sdis, MPI_INT, rbuf, rcnt, rdis, MPI_INT, c->handle);
out:
	free(cnt);
	free(sbuf);
	if (rc != MPI_SUCCESS) {
		free(rbuf);
		rbuf = NULL;
	}
	*recs = rbuf;
	return rc;
}

/* The graph of this rank from the records it received. */
static struct graph *dist_from_recs(const int *recs, int nrecs, bool weighted)
{
	int deg[2] = {0, 0};
	for (int i = 0; i < nrecs; i++)
		deg[recs[i * REC]]++;
	int *v = malloc(((size_t)nrecs * 2 + 1) * sizeof *v);
	if (!v)
		return NULL;
	int *in = v, *inw = v + deg[0], *out = inw + deg[0], *outw = out + deg[1];
	for (int i = 0, ni = 0, no = 0; i < nrecs; i++) {
		const int *p = recs + i * REC;
		if (p[0]) {
			out[no] = p[1];
			outw[no++] = p[2];
		} else {
			in[ni] = p[1];
			inw[ni++] = p[2];
		}
	}
	struct graph *g = dist_new(deg[0], in, inw, deg[1], out, outw, weighted);
	free(v);
	return g;
}

int MPI_Dist_graph_create(MPI_Comm comm_old, int n, const int sources[], const int degrees[],
			  const int destinations[], const int weights[], MPI_Info info,
			  int reorder, MPI_Comm *comm_dist_graph)
{
	(void)info, (void)reorder;
	int rc, nrecs = 0, *recs = NULL;
	struct comm *c = old_arg(comm_old, comm_dist_graph, __func__, &rc);
	if (!c)
		return rc;
	if (n < 0 || (n > 0 && (!sources || !degrees)))
		return mpi_err(comm_old, MPI_ERR_ARG, __func__, "n is %d or an array is NULL", n);
	int total = 0;
	for (int i = 0; i < n; i++) {
		if (sources[i] < 0 || sources[i] >= c->size)
			return mpi_err(comm_old, MPI_ERR_RANK, __func__, "sources[%d] is %d (communicator of size %d)",
				       i, sources[i], c->size);
		if (degrees[i] < 0)
			return mpi_err(comm_old, MPI_ERR_ARG, __func__, "degrees[%d] is %d", i, degrees[i]);
		total += degrees[i];
	}
	if ((rc = edges_check(comm_old, total, destinations, weights, c->size, "destinations", __func__)))
		return rc;
	bool weighted = weights != MPI_UNWEIGHTED;
	rc = dist_exchange(c, n, sources, degrees, destinations, weights, weighted, &recs, &nrecs);
	if (rc != MPI_SUCCESS)
		return mpi_err(comm_old, rc, __func__, "exchanging the edges failed");
	struct graph *g = dist_from_recs(recs, nrecs, weighted);
	free(recs);
	if (!g)
		return mpi_err(comm_old, MPI_ERR_NO_MEM, __func__, "out of memory");
	return graph_comm(c, c->size, MPI_DIST_GRAPH, g, comm_dist_graph, __func__);
}

int MPI_Dist_graph_neighbors_count(MPI_Comm comm, int *indegree, int *outdegree, int *weighted)
{
	int rc;
	struct graph *g = graph_arg(comm, MPI_DIST_GRAPH, __func__, &rc);
	if (!g)
		return rc;
	*indegree = g->indeg;
	*outdegree = g->outdeg;
	*weighted = g->weighted;
	return MPI_SUCCESS;
}

/* 7.5.5: the weights are written only for a weighted graph, and only
 * where the caller did not pass MPI_UNWEIGHTED. */
int MPI_Dist_graph_neighbors(MPI_Comm comm, int maxindegree, int sources[], int *sourceweights,
			     int maxoutdegree, int destinations[], int *destweights)
{
	int rc;
	struct graph *g = graph_arg(comm, MPI_DIST_GRAPH, __func__, &rc);
	if (!g)
		return rc;
	if (maxindegree < g->indeg || maxoutdegree < g->outdeg)
		return mpi_err(comm, MPI_ERR_ARG, __func__, "room for %d and %d neighbors, there are %d and %d",
			       maxindegree, maxoutdegree, g->indeg, g->outdeg);
	bool sw = g->weighted && sourceweights != MPI_UNWEIGHTED && sourceweights != MPI_WEIGHTS_EMPTY;
	bool dw = g->weighted && destweights != MPI_UNWEIGHTED && destweights != MPI_WEIGHTS_EMPTY;
	for (int i = 0; i < g->indeg; i++) {
		sources[i] = g->in[i];
		if (sw)
			sourceweights[i] = g->inw[i];
	}
	for (int i = 0; i < g->outdeg; i++) {
		destinations[i] = g->out[i];
		if (dw)
			destweights[i] = g->outw[i];
	}
	return MPI_SUCCESS;
}
