/* Nonblocking collectives as schedules (MPI-3.1 5.12).
 *
 * A schedule is a list of steps cut into rounds. When a round starts, its
 * steps run in order: sends and receives are posted (on the collective
 * context of the communicator, with the schedule's own tag), local steps
 * (copy, reduce, call) run at once. The round ends when all its sends and
 * receives have completed; then the next one starts. A step that needs
 * data received in a round therefore goes in a later round.
 *
 * Tags: every schedule made on a communicator takes the next value of the
 * communicator's nbc_seq, folded into NBC_TAG_BASE + (seq & NBC_TAG_MASK),
 * a range no blocking collective uses. All members call the nonblocking
 * collectives of a communicator in the same order (5.12), so they agree
 * on each tag, and messages of two outstanding schedules never match.
 *
 * The schedule advances whenever the library makes progress (p2p.c's
 * progress() calls nbc_progress()): in MPI_Test/Wait* on any request and
 * inside every other blocking call.
 *
 * Building one (all of it at the call, on the caller's buffers; the
 * builder functions record an error in the schedule instead of returning
 * one, nbc_start reports it):
 *
 *     struct nbc_sched *s = nbc_new(c);          // c: the communicator
 *     nbc_recv(s, buf, n, dt, left);
 *     nbc_send(s, mine, n, dt, right);
 *     nbc_round(s);                              // wait for both
 *     nbc_reduce(s, op, buf, acc, n, dt);        // acc := buf op acc
 *     int rc = nbc_start(s, &request);           // MPI_SUCCESS or an error class
 *
 * nbc_start turns the schedule into an MPI_Request that every completion
 * call accepts; it is freed when it completes. Ranks are communicator
 * ranks; MPI_PROC_NULL peers are allowed. Datatypes given to the steps
 * are retained until the schedule ends. Messages between two ranks match
 * in the order their steps were added (one tag, non-overtaking), also
 * within one round: a neighborhood collective whose neighbor lists name
 * one rank twice is one round of sends and receives in neighbor order. */
#pragma once
#include "impl.h"

#define NBC_TAG_BASE 0x100000
#define NBC_TAG_MASK 0xfffff

struct nbc_sched;

/* A new empty schedule on c (takes a reference to c, and the next tag);
 * NULL when out of memory. */
struct nbc_sched *nbc_new(struct comm *c);
void nbc_send(struct nbc_sched *s, const void *buf, int count, MPI_Datatype dt, int peer);
void nbc_recv(struct nbc_sched *s, void *buf, int count, MPI_Datatype dt, int peer);
/* Copies like a send to oneself: (scount, st) at src to (rcount, rt) at dst. */
void nbc_copy(struct nbc_sched *s, const void *src, int scount, MPI_Datatype st,
	      void *dst, int rcount, MPI_Datatype rt);
/* inout := in op inout (op_apply), count elements of dt. */
void nbc_reduce(struct nbc_sched *s, MPI_Op op, const void *in, void *inout, int count,
		MPI_Datatype dt);
/* Calls fn(s, arg) when reached; fn may add steps at the end of the
 * schedule, and returns MPI_SUCCESS or an error class. */
typedef int nbc_fn(struct nbc_sched *s, void *arg);
void nbc_call(struct nbc_sched *s, nbc_fn *fn, void *arg);
/* Ends the current round (no effect on an empty one). */
void nbc_round(struct nbc_sched *s);
/* Memory freed with the schedule: bytes, or room for count elements of dt
 * laid out as in a user buffer (the address to use as the buffer). NULL
 * when out of memory (the schedule then fails at nbc_start). */
void *nbc_tmp(struct nbc_sched *s, size_t bytes);
void *nbc_tmp_typed(struct nbc_sched *s, int count, MPI_Datatype dt);
/* Frees p (from malloc) with the schedule; NULL p records MPI_ERR_NO_MEM. */
void nbc_keep(struct nbc_sched *s, void *p);
/* Records an error class (the first one sticks). */
void nbc_fail(struct nbc_sched *s, int err);
struct comm *nbc_comm(struct nbc_sched *s);
/* Starts s and gives its request; on an error (building failed) frees s
 * and returns the class. */
int nbc_start(struct nbc_sched *s, MPI_Request *req);

/* For the MPI_I* functions: the checks they all start with (MPI
 * initialized, comm valid, req not NULL), and the end of one: starts s
 * (NULL: out of memory), reporting any failure as fn's error on comm. */
int nbc_check_start(MPI_Comm comm, const char *fn, MPI_Request *req, struct comm **c);
int nbc_begin(struct nbc_sched *s, MPI_Request *req, MPI_Comm comm, const char *fn);
static inline size_t nbc_bytes(int count, MPI_Datatype dt)
{
	return (size_t)count * dtype_size(dt);
}

/* Common schedules (nbc_build.c), appended to s; each ends with
 * nbc_round. Roots and ranks are communicator ranks; `struct blocks`
 * (coll.h) says where each rank's block lies. */
void nbc_bcast(struct nbc_sched *s, void *buf, int count, MPI_Datatype dt, int root);
/* mine may be out at the root (in place); out matters at the root. */
void nbc_reduce_to(struct nbc_sched *s, const void *mine, void *out, int count,
		   MPI_Datatype dt, MPI_Op op, int root);
/* sbuf may be MPI_IN_PLACE at the root; rb matters at the root. */
struct blocks;
void nbc_gather(struct nbc_sched *s, const void *sbuf, int scount, MPI_Datatype st,
		const struct blocks *rb, int root);
/* rbuf may be MPI_IN_PLACE at the root; sb matters at the root. */
void nbc_scatter(struct nbc_sched *s, const struct blocks *sb, void *rbuf, int rcount,
		 MPI_Datatype rt, int root);
/* Each rank's own block of rb is in place already. */
void nbc_allgather(struct nbc_sched *s, const struct blocks *rb);
/* sb NULL: in place (the data to send is in rb, copied at the call). */
void nbc_alltoall(struct nbc_sched *s, const struct blocks *sb, const struct blocks *rb);
/* Prefix reduction (ex: exclusive; rank 0's rbuf is then left alone). */
void nbc_scan(struct nbc_sched *s, const void *mine, void *rbuf, int count, MPI_Datatype dt,
	      MPI_Op op, bool ex);
