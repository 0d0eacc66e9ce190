/* What coll.c (the blocking collectives) shares with the nonblocking
 * ones (nbc_*.c): the argument checks, local copies and block layouts. */
#pragma once
#include "impl.h"

/* ---- argument checks: MPI_SUCCESS or what mpi_err returned ---- */
int chk_comm(MPI_Comm comm, const char *fn, struct comm **c);
int chk_root(struct comm *c, const char *fn, int root);
/* what: "send ", "receive " or "" (goes before "count"/"datatype"). */
int chk_type(struct comm *c, const char *fn, const char *what, int count, MPI_Datatype dt);
/* Refuses MPI_IN_PLACE, and NULL where data would start near address 0. */
int chk_ptr(struct comm *c, const char *fn, const char *what, const void *buf, int count,
	    MPI_Datatype dt);
int chk_op(struct comm *c, const char *fn, MPI_Op op, MPI_Datatype dt);
/* counts (and displs when displs_too) of c->size entries; *any: one > 0. */
int chk_counts(struct comm *c, const char *fn, const char *what, const int *counts,
	       const int *displs, bool displs_too, bool *any);
/* chk_type and chk_ptr, skipped when in_place. */
int chk_side(struct comm *c, const char *fn, const char *what, const void *buf, int count,
	     MPI_Datatype dt, bool in_place);
/* One side of an alltoallw: counts, displacements, types and buffer. */
int chk_w_side(struct comm *c, const char *fn, const char *what, const void *buf,
	       const int *counts, const int *displs, const MPI_Datatype *types);
/* Type, op, sendbuf (MPI_IN_PLACE allowed), recvbuf of count elements. */
int chk_red(struct comm *c, const char *fn, const void *sendbuf, void *recvbuf, int count,
	    MPI_Datatype dt, MPI_Op op);
/* recvcounts of MPI_Reduce_scatter; *total: their sum. */
int chk_redscat_counts(struct comm *c, const char *fn, const int *counts, int *total);
/* Reports an error class met while running a collective. */
int coll_fail(MPI_Comm comm, int rc, const char *fn);

/* ---- data ---- */
/* Copies (scount, st) at src into (rcount, rt) at dst, data bytes only;
 * MPI_ERR_TRUNCATE when it does not fit. */
int local_copy(const void *src, int scount, MPI_Datatype st, void *dst, int rcount,
	       MPI_Datatype rt);
/* Room for count (> 0) elements of dt laid out as a user buffer at
 * *base; returns the block to free (NULL: out of memory). */
void *tmp_alloc(int count, MPI_Datatype dt, char **base);

/* One side of a collective that moves one block per rank: block j is
 * counts[j] (else count) elements of types[j] (else type) at byte offset
 * displs[j] * unit (else j * stride) from buf. A send side is never
 * written through buf. */
struct blocks {
	char *buf;
	int count;
	const int *counts;
	MPI_Datatype type;
	const MPI_Datatype *types;
	const int *displs;
	MPI_Aint unit, stride;
};
struct blocks blocks_reg(const void *buf, int count, MPI_Datatype dt);
struct blocks blocks_v(const void *buf, const int *counts, const int *displs, MPI_Datatype dt);
struct blocks blocks_w(const void *buf, const int *counts, const int *displs,
		       const MPI_Datatype *types);
int blk_count(const struct blocks *b, int j);
MPI_Datatype blk_type(const struct blocks *b, int j);
char *blk_addr(const struct blocks *b, int j);
size_t blk_bytes(const struct blocks *b, int j);
/* A copy of the n blocks of b in a buffer of the same layout (*copy);
 * returns the block to free, NULL when out of memory. */
void *blocks_clone(const struct blocks *b, int n, struct blocks *copy);
