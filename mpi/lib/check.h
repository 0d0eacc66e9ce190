/* One vocabulary for the argument checks of the MPI calls (check.c).
 *
 * The *_fault functions find what is wrong with one argument: they return
 * its error class (MPI_SUCCESS when it is fine) and say why in `why`
 * (CHECK_WHY bytes) without reporting, so that any object's error handler
 * can be told (rma_ops.c tells the window's). The check_* functions
 * report a fault through mpi_err on communicator c (its handler runs; c
 * NULL: MPI_COMM_WORLD's, for calls on no communicator such as the
 * datatype calls, where check_count, check_dtype, check_type, check_buf,
 * check_data, check_op and check_arg take it) and return what mpi_err
 * returned, so that a call reads
 *     if ((rc = check_comm(comm, fn, &c)) || (rc = check_data(c, fn, "", buf, count, dt)) ||
 *         (rc = check_rank(c, fn, dest, RANK_PROC_NULL)) || (rc = check_tag(c, fn, tag, false)))
 *             return rc;
 * `what` names the argument: "send ", "receive ", "origin " or "", put
 * before "count", "datatype" and "buffer" in the message. */
#pragma once
#include "impl.h"

#define CHECK_WHY 160

/* ---- faults ---- */
int count_fault(const char *what, int count, char *why);              /* MPI_ERR_COUNT: negative */
int dtype_fault(const char *what, MPI_Datatype dt, char *why);        /* MPI_ERR_TYPE: invalid, not committed */
/* MPI_ERR_BUFFER: MPI_IN_PLACE (callers skip the check where the standard
 * allows it), or NULL where the data would start at address 0 or near
 * (NULL is also MPI_BOTTOM, right with a type of absolute addresses). */
int buf_fault(const char *what, const void *buf, int count, MPI_Datatype dt, char *why);
/* count_fault, dtype_fault, then buf_fault: a buffer of count elements of dt. */
int data_fault(const char *what, const void *buf, int count, MPI_Datatype dt, char *why);
/* MPI_ERR_RANK: rank among n; flags say which special values are fine. */
enum { RANK_PROC_NULL = 1, RANK_ANY_SOURCE = 2 };
int rank_fault(int rank, int n, int flags, char *why);
int tag_fault(int tag, bool any_ok, char *why);                       /* MPI_ERR_TAG: 0..TORO_TAG_UB */

/* ---- checks reported on a communicator ---- */
int check_comm(MPI_Comm comm, const char *fn, struct comm **c);       /* MPI_ERR_COMM (to MPI_COMM_WORLD's handler) */
/* check_comm, and MPI_ERR_UNSUPPORTED_OPERATION on an intercommunicator
 * (the collectives that do not take them yet). */
int check_coll_comm(MPI_Comm comm, const char *fn, struct comm **c);
int check_count(struct comm *c, const char *fn, const char *what, int count);
int check_dtype(struct comm *c, const char *fn, const char *what, MPI_Datatype dt);
int check_type(struct comm *c, const char *fn, const char *what, int count, MPI_Datatype dt); /* count, datatype */
int check_buf(struct comm *c, const char *fn, const char *what, const void *buf, int count, MPI_Datatype dt);
int check_data(struct comm *c, const char *fn, const char *what, const void *buf, int count, MPI_Datatype dt);
int check_rank(struct comm *c, const char *fn, int rank, int flags);  /* a point-to-point peer */
int check_root(struct comm *c, const char *fn, int root);              /* MPI_ERR_ROOT: a rank of c */
int check_tag(struct comm *c, const char *fn, int tag, bool any_ok);
int check_op(struct comm *c, const char *fn, MPI_Op op, MPI_Datatype dt); /* MPI_ERR_OP: invalid, not for dt */
int check_arg(struct comm *c, const char *fn, const void *p, const char *what); /* MPI_ERR_ARG: p NULL */

/* ---- the collectives' compositions (coll.c, nbc_*.c) ---- */
/* counts (and displs when displs_too) of c->size entries; *any: one > 0. */
int check_counts(struct comm *c, const char *fn, const char *what, const int *counts,
		 const int *displs, bool displs_too, bool *any);
/* check_type and check_buf, skipped when in_place. */
int check_side(struct comm *c, const char *fn, const char *what, const void *buf, int count,
	       MPI_Datatype dt, bool in_place);
/* One side of an alltoallw: counts, displacements, types and buffer. */
int check_w_side(struct comm *c, const char *fn, const char *what, const void *buf,
		 const int *counts, const int *displs, const MPI_Datatype *types);
/* Type, op, sendbuf (MPI_IN_PLACE allowed), recvbuf of count elements. */
int check_red(struct comm *c, const char *fn, const void *sendbuf, void *recvbuf, int count,
	      MPI_Datatype dt, MPI_Op op);
/* recvcounts of MPI_Reduce_scatter; *total: their sum. */
int check_redscat_counts(struct comm *c, const char *fn, const int *counts, int *total);
