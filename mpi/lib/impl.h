/* The internal interface of Toro's MPI library. The library is linked into
 * every rank (toro-mpicc adds build/libtorompi.a), so its globals are that
 * rank's own; ranks meet through the kernel's service table (../svc.h):
 * the VirtIOBus rings, waiting and notification.
 *
 * Files and what they own:
 *   env.c       Init/Finalize/Abort/Wtime/..., the service table, init state
 *   errors.c    error classes and strings, error handlers, mpi_err()
 *   p2p.c       the point-to-point calls and the coll_* helpers below;
 *               request.c, match.c, bsend.c the rest of point to point
 *               (p2p.h: their own interface)
 *   datatype.c  datatype handles, builtins, commit/free (datatype.h: the
 *               representation; dtype_build.c, dtype_array.c constructors,
 *               dtype_pack.c Pack/Unpack/external32, dtype_query.c queries)
 *   op.c        reduction operations
 *   coll.c      the blocking collectives: argument checks, then shared
 *               memory or the algorithms of coll_alg.c; coll_buf.c local
 *               copies, temporary buffers, block layouts (coll.h: the
 *               interface between these, nbc_*.c and coll_shm*.c)
 *   coll_shm.c, coll_shm_move.c, coll_shm_red.c  the blocking collectives
 *               through the single address space (coll_shm.h)
 *   nbc.c       the schedule engine of nonblocking collectives (nbc.h)
 *   nbc_build.c, nbc_coll.c, nbc_all.c  the nonblocking collectives
 *   comm_idup.c MPI_Comm_idup
 *   comm.c      communicators and names
 *   group.c     groups
 *   attr.c      attributes of communicators, datatypes and windows
 *   comm_create_group.c  MPI_Comm_create_group
 *   intercomm.c intercommunicators: create, merge, dup, split, create
 *   intercoll.c blocking collectives over intercommunicators
 *   grequest.c  generalized requests
 *   topo.c      Cartesian topologies, Dims_create, Topo_test
 *   graph.c     graph and distributed graph topologies
 *   neighbor.c  blocking neighborhood collectives
 *   mprobe.c    matched probes and receives (the matching is p2p.c's)
 *   handles.c   Fortran conversions of requests, statuses, messages
 *   unsupported.c  the MPI-3.1 functions not implemented yet
 */
#pragma once
#include <mpi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "../svc.h"

/* ---- env.c ---- */
extern const struct toro_svc *toro;    /* the kernel's service table */
extern int mpi_state;                  /* 0 before Init, 1 initialized, 2 finalized */
/* Fails with MPI_ERR_OTHER through the handler of MPI_COMM_WORLD unless
 * MPI is initialized and not finalized. Use: if (!mpi_ready(__func__)) return ...; */
bool mpi_ready(const char *func);

/* ---- errors.c ---- */
/* Reports an error of class `errclass` found by `func` (e.g. "MPI_Send")
 * on communicator `comm` (MPI_COMM_NULL: use MPI_COMM_WORLD's handler):
 * under MPI_ERRORS_ARE_FATAL prints one line
 *   "MPI error: MPI_Send on rank 1: MPI_ERR_RANK: invalid rank 5 (communicator of size 2)"
 * and ends the job with status errclass; under MPI_ERRORS_RETURN returns
 * errclass; a user handler is called and then errclass is returned.
 * fmt/... add the detail after the class name. */
int mpi_err(MPI_Comm comm, int errclass, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
MPI_Errhandler errh_of_comm(MPI_Comm comm);
/* The same for an object that is not a communicator (a window): handler
 * e of object `handle` gets the error (fatal, return, or its function). */
int mpi_err_errh(MPI_Errhandler e, int handle, int errclass, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
int errh_create(void (*fn)(int *, int *, ...), int kind, MPI_Errhandler *eh, const char *func);
bool errh_valid_for(MPI_Errhandler e, int kind);  /* predefined, or made for that kind */
void errh_retain(MPI_Errhandler e);               /* a Get hands out a new reference */
int err_lastused(void);                 /* the MPI_LASTUSEDCODE attribute */
/* Notes for callers of mpi_err: an empty fmt means "the class's standard
 * text"; toro->abort_job gets the line without a trailing newline. */

/* ---- comm.c ---- */
struct comm {
	MPI_Comm handle;
	int ctx;               /* context id; point-to-point traffic uses ctx,
				  collective traffic ctx + 1, so they never match */
	int rank, size;        /* this rank's rank in the communicator, its size */
	int *world;            /* world rank of each rank of the communicator */
	MPI_Group group;
	MPI_Errhandler errh;
	int topo;              /* MPI_UNDEFINED, MPI_CART, MPI_GRAPH or MPI_DIST_GRAPH */
	int ndims;
	int *dims, *periods;
	struct graph *graph;   /* MPI_GRAPH and MPI_DIST_GRAPH (graph.c) */
	char name[MPI_MAX_OBJECT_NAME];
	void *attrs;           /* attr.c's attribute list */
	/* An intercommunicator (intercomm.c): rank, size, world and group
	 * are the local group's; rsize, rworld and rgroup the remote group's,
	 * which the ranks of point to point name; `local` is an intra-
	 * communicator over the local group for the collectives. */
	bool inter;
	int rsize;
	int *rworld;
	MPI_Group rgroup;
	struct comm *local;
	unsigned nbc_seq;      /* nonblocking collectives started (nbc.h) */
	struct shm_coll *shm;  /* shared-memory collectives' state (coll_shm.c) */
	int refs;              /* whoever keeps a struct comm * beyond a call
				  (a request) takes one and comm_release()s it;
				  MPI_Comm_free drops the handle's */
};
struct comm *comm_get(MPI_Comm h);     /* NULL for invalid, null or freed handles */
void comm_init_world(int rank, int size); /* MPI_COMM_WORLD, MPI_COMM_SELF, called by MPI_Init */
void comm_release(struct comm *c);
int comm_finalize_self(void);           /* MPI_Finalize: delete MPI_COMM_SELF's attributes */
/* A communicator over the given world ranks (this rank among them), with a
 * fresh context id agreed on by all members of parent (collective over
 * parent). Returns NULL when this rank is not in `world`. */
struct comm *comm_create_from(struct comm *parent, int size, const int *world, bool *err);
/* For comm_create_group.c and intercomm.c (which propose context ids with
 * comm_ctx_propose below): comm_ctx_taken(ctx) marks ctx and ctx + 1 used.
 * comm_new makes a registered communicator over `world` (this rank among
 * them) with context id ctx, or NULL when out of memory; comm_drop takes
 * it out of the handle table and releases it. */
void comm_ctx_taken(int ctx);
struct comm *comm_new(int size, const int *world, int ctx, MPI_Errhandler errh);
void comm_drop(struct comm *c);
/* Point-to-point peers: the remote group of an intercommunicator. */
static inline int comm_npeers(const struct comm *c) { return c->inter ? c->rsize : c->size; }
static inline int comm_peer_world(const struct comm *c, int r) { return c->inter ? c->rworld[r] : c->world[r]; }
bool comm_is_inter(MPI_Comm h);

/* ---- group.c ---- */
MPI_Group group_of(int n, const int *world);          /* MPI_GROUP_NULL: out of memory */
const int *group_members(MPI_Group h, int *n);        /* world ranks; NULL: invalid */
void group_retain(MPI_Group h);                       /* one more reference */
void group_drop(MPI_Group h);                         /* one reference less */
/* pos[w] = the rank of world rank w among the n members `world`, or
 * MPI_UNDEFINED; malloc'd (NULL: out of memory), the world's size. */
int *group_world_pos(int n, const int *world);
/* MPI_IDENT, MPI_SIMILAR or MPI_UNEQUAL for two lists of world ranks
 * (6.3.1, 6.4.1) in *result; MPI_ERR_NO_MEM. */
int group_compare_lists(int na, const int *a, int nb, const int *b, int *result);

/* ---- attr.c: attributes of communicators, datatypes and windows (6.7) ---- */
enum { ATTR_COMM, ATTR_TYPE, ATTR_WIN };    /* the kinds of objects with attributes */
/* An object's attributes hang off its `void *attrs` (NULL: none).
 * attrs_copy: the copy callbacks of a dup (object `from` to the new list);
 * attrs_clear: the delete callbacks, last set first, then the list is
 * freed (stops at a failing callback: its code); attrs_free: the list's
 * memory only. */
int attrs_copy(int kind, int from, void *from_list, void **to_list);
int attrs_clear(int kind, int h, void **list);
void attrs_free(void **list);

/* ---- intercomm.c: what comm.c calls for intercommunicators ---- */
/* A new intercommunicator over the groups of c, with a fresh context
 * (MPI_Comm_dup); NULL on failure, *err set. */
struct comm *intercomm_clone(struct comm *c, bool *err);
int intercomm_create_sub(struct comm *c, MPI_Group group, MPI_Comm *newcomm, const char *func);
int intercomm_split(struct comm *c, int color, int key, MPI_Comm *newcomm, const char *func);

/* ---- intercoll.c: the blocking collectives on an intercommunicator ---- */
int inter_barrier(MPI_Comm comm);
int inter_bcast(void *buf, int count, MPI_Datatype dt, int root, MPI_Comm comm);
int inter_reduce(const void *sbuf, void *rbuf, int count, MPI_Datatype dt, MPI_Op op, int root, MPI_Comm comm);
int inter_allreduce(const void *sbuf, void *rbuf, int count, MPI_Datatype dt, MPI_Op op, MPI_Comm comm);
int inter_gatherv(const char *fn, const void *sbuf, int scount, MPI_Datatype st, void *rbuf,
		  const int *rcounts, const int *displs, int rcount, MPI_Datatype rt, int root, MPI_Comm comm);
int inter_scatterv(const char *fn, const void *sbuf, const int *scounts, const int *displs, int scount,
		   MPI_Datatype st, void *rbuf, int rcount, MPI_Datatype rt, int root, MPI_Comm comm);
int inter_allgatherv(const char *fn, const void *sbuf, int scount, MPI_Datatype st, void *rbuf,
		     const int *rcounts, const int *displs, int rcount, MPI_Datatype rt, MPI_Comm comm);
/* Alltoall(v,w): scounts/rcounts NULL for the plain form (scount/rcount
 * then), displacements in elements of st/rt unless bytes (the w form,
 * which also gives a type per peer in sts/rts). */
int inter_alltoall(const char *fn, const void *sbuf, const int *scounts, const int *sdispls, int scount,
		   const MPI_Datatype *sts, MPI_Datatype st, void *rbuf, const int *rcounts,
		   const int *rdispls, int rcount, const MPI_Datatype *rts, MPI_Datatype rt, MPI_Comm comm);
int inter_reduce_scatter(const char *fn, const void *sbuf, void *rbuf, const int *rcounts, int rcount,
			 MPI_Datatype dt, MPI_Op op, MPI_Comm comm);
/* The second half of comm_create_from, for an agreed context id ctx. */
struct comm *comm_make(struct comm *parent, int size, const int *world, int ctx, bool *err);
/* What MPI_Comm_dup copies (topology, attributes) from `from` to the new
 * `to`; on failure `to` is freed and the error class returned. */
int comm_dup_copy(struct comm *from, struct comm *to);
/* Context ids for MPI_Comm_idup (comm_idup.c): the id this rank proposes
 * (above all it used or holds); hold ctx for a pending idup (false when
 * used or held); drop the hold, `taken` when ctx is now in use. */
int comm_ctx_propose(void);
bool comm_ctx_hold(int ctx);
void comm_ctx_unhold(int ctx, bool taken);

/* ---- p2p.c ---- */
#define TORO_TAG_UB 0x3fffffff             /* the value of the MPI_TAG_UB attribute */
int p2p_init(void);                    /* called by MPI_Init after comm_init_world */
/* Nonblocking point to point on a communicator; coll = 1 uses the
 * collective context. Ranks are communicator ranks (MPI_PROC_NULL allowed).
 * mode: 0 standard, 1 synchronous, 2 ready, 3 buffered. No argument checks. */
int p2p_isend(const void *buf, int count, MPI_Datatype dt, int dest, int tag,
	      struct comm *c, int coll, int mode, MPI_Request *req);
int p2p_irecv(void *buf, int count, MPI_Datatype dt, int src, int tag,
	      struct comm *c, int coll, MPI_Request *req);
int p2p_wait(MPI_Request *req, MPI_Status *st);
int p2p_waitall(int n, MPI_Request *reqs, MPI_Status *sts);
int p2p_done_request(MPI_Request *req);  /* a request that is complete already */
/* Blocking helpers for collectives: collective context, no argument checks,
 * return MPI_SUCCESS or an error class (MPI_ERR_TRUNCATE, ...). */
int coll_send(const void *buf, int count, MPI_Datatype dt, int dest, int tag, struct comm *c);
int coll_recv(void *buf, int count, MPI_Datatype dt, int src, int tag, struct comm *c);
int coll_sendrecv(const void *sbuf, int scount, MPI_Datatype sdt, int dest,
		  void *rbuf, int rcount, MPI_Datatype rdt, int src, int tag, struct comm *c);
/* Generalized requests: p2p.c keeps the request (kind REQ_GEN), grequest.c
 * the callbacks. p2p_gen_request makes an active one holding `state`;
 * p2p_gen_complete marks it complete (MPI_ERR_REQUEST: not an incomplete
 * generalized request). p2p.c calls back: grequest_done when the request
 * completes in a Wait/Test (query_fn into *st unless st is NULL, then
 * free_fn and the state is freed when `release`), grequest_cancel for
 * MPI_Cancel. They return an error code, MPI_SUCCESS when all went well. */
int p2p_gen_request(void *state, MPI_Request *req);
int p2p_gen_complete(MPI_Request req);
int grequest_done(void *state, MPI_Status *st, bool release);
int grequest_cancel(void *state, bool complete);
/* Matched probes (mprobe.c): p2p_mprobe takes the first arrived message
 * matching (src, tag) on c's point-to-point context out of matching
 * (NULL if none; *st gets source, tag, size); p2p_mrecv receives such a
 * message into a request that is already complete. p2p_wait_event
 * halts until a message may have arrived. */
void *p2p_mprobe(struct comm *c, int src, int tag, MPI_Status *st);
int p2p_mrecv(void *msg, void *buf, int count, MPI_Datatype dt, struct comm *c, MPI_Request *req);
void p2p_wait_event(void);
/* For nbc.c: a request of the collective kind, active until
 * p2p_coll_done(r, error class); returns r (opaque) and sets *h. */
void *p2p_coll_request(struct comm *c, MPI_Request *h);
void p2p_coll_done(void *r, int err);
/* Completes *req if it is done, without making progress: *done, and the
 * request's error class. */
int p2p_poll(MPI_Request *req, bool *done);
/* Reads what has arrived, pushes waiting sends, advances nonblocking
 * collectives: for code that waits on shared memory (a wait_until cond)
 * and must keep point to point moving meanwhile. */
void p2p_progress(void);
/* Receives completed so far: nbc.c advances its schedules again when a
 * receive completed while it was advancing one. */
extern unsigned p2p_delivered;
/* A send of req waits for a receiver that has now finished. */
bool p2p_wakes(MPI_Request req);
/* Status fields for the library's own use: the count is kept in bytes. */
static inline void status_set(MPI_Status *st, int source, int tag, int error, int64_t bytes, bool cancelled)
{
	(void)error;
	if (st == MPI_STATUS_IGNORE)
		return;
	st->MPI_SOURCE = source;
	st->MPI_TAG = tag;
	st->count_lo = (int)(bytes & 0xffffffff);
	st->count_hi_and_cancelled = (int)(((bytes >> 32) << 1) | (cancelled ? 1 : 0));
}
static inline int64_t status_bytes(const MPI_Status *st)
{
	return (int64_t)(uint32_t)st->count_lo | ((int64_t)((uint32_t)st->count_hi_and_cancelled >> 1) << 32);
}

/* ---- nbc.c ---- */
extern int nbc_nactive;                /* schedules started and not finished */
void nbc_progress(void);               /* advances them (called by progress()) */
bool nbc_ready(void);                  /* one of them has a send to finish */

/* ---- datatype.c and dtype_*.c ---- */
bool dtype_ok(MPI_Datatype dt);         /* a valid handle (builtin or live), not MPI_DATATYPE_NULL */
bool dtype_committed(MPI_Datatype dt);  /* builtins are always committed */
size_t dtype_size(MPI_Datatype dt);     /* bytes of data in one element (MPI_Type_size) */
MPI_Aint dtype_extent(MPI_Datatype dt); /* MPI_Type_get_extent's extent */
MPI_Aint dtype_lb(MPI_Datatype dt);
MPI_Aint dtype_true_lb(MPI_Datatype dt);
MPI_Aint dtype_true_extent(MPI_Datatype dt);
/* The data of one element is one contiguous run starting at offset 0 and
 * consecutive elements touch (extent == size, lb == 0): buf can be copied
 * as count * size bytes. */
bool dtype_contiguous(MPI_Datatype dt);
/* Copies count elements at buf (typed dt) into / out of a packed byte
 * stream. unpack takes at most `bytes` bytes of the stream (a short
 * message fills only the first elements). */
void dtype_pack(const void *buf, size_t count, MPI_Datatype dt, void *packed);
/* What the point-to-point path needs of a type, found once: element size,
 * true lower bound, dtype_contiguous, committed (invalid: all zero but
 * contig). */
struct dtype_view {
	size_t size;
	MPI_Aint true_lb;
	bool contig, committed;
};
void dtype_view(MPI_Datatype dt, struct dtype_view *v);
void dtype_unpack(const void *packed, size_t bytes, void *buf, size_t count, MPI_Datatype dt);
/* The predefined type every basic element of dt has (MPI_DATATYPE_NULL if
 * it mixes types), for reductions on derived types. */
MPI_Datatype dtype_basic(MPI_Datatype dt);
/* A request holds its datatype from start to completion, so that
 * MPI_Type_free of a type in use by a pending operation is safe (4.1.9). */
void dtype_retain(MPI_Datatype dt);
void dtype_release(MPI_Datatype dt);
void **dtype_attrs(MPI_Datatype dt);    /* a valid type's attribute list (attr.c); NULL: invalid */

/* ---- op.c ---- */
bool op_ok(MPI_Op op);
bool op_commutative(MPI_Op op);
/* inout[i] = in[i] op inout[i] for count elements of dt, as MPI_Reduce
 * needs. Returns MPI_SUCCESS, MPI_ERR_OP when op is not defined for dt, or
 * MPI_ERR_NO_MEM when a non-contiguous type needs temporary copies. */
int op_apply(MPI_Op op, const void *in, void *inout, int count, MPI_Datatype dt);
/* MPI_ERR_OP if the predefined op is not defined on dt's basic type. */
int op_check(MPI_Op op, MPI_Datatype dt);

/* ---- graph.c ---- */
/* A graph topology (7.5.3): the whole graph as MPI_Graph_create got it;
 * a distributed graph (7.5.4): this rank's edges, in the order
 * MPI_Dist_graph_neighbors returns them. Weights are NULL when the graph
 * is unweighted. */
struct graph {
	int nnodes, *index, *edges;             /* MPI_GRAPH */
	int indeg, outdeg, *in, *inw, *out, *outw; /* MPI_DIST_GRAPH */
	bool weighted;
};
void graph_free(struct graph *g);
struct graph *graph_copy(const struct graph *g);  /* NULL when out of memory */

/* ---- neighbor.c ---- */
/* The neighbors of this rank in c's topology, in the order of the buffer
 * blocks of the neighborhood collectives (7.6): *in the *nin ranks it
 * receives from, *out the *nout ranks it sends to (MPI_PROC_NULL kept:
 * the off-grid neighbors of a non-periodic Cartesian dimension). Both
 * arrays are malloc'd (free them); MPI_ERR_TOPOLOGY when c has no
 * topology, MPI_ERR_NO_MEM. */
int toro_nbr_build(const struct comm *c, int *nin, int **in, int *nout, int **out);
/* Which message is which when a rank is a neighbor twice: block k sent
 * to out[k] carries tag toro_nbr_tag(c, k, true) and is received in the
 * receiver's block j with toro_nbr_tag(c, j, false) equal to it (a
 * Cartesian block sent to the -1 neighbor arrives in its +1 block; on
 * graphs repeated edges match in order, all with tag 0). Add the result
 * to the operation's own tag. */
int toro_nbr_tag(const struct comm *c, int k, bool send);
