/* The interface between the files of the blocking collectives -- coll.c
 * (the MPI functions), coll_alg.c (the algorithms), coll_buf.c (local
 * copies and block layouts) -- and what they share with the nonblocking
 * ones (nbc_*.c) and the shared-memory ones (coll_shm*.c); their
 * argument checks are check.h's. */
#pragma once
#include "check.h"

/* Reports an error class met while running a collective. */
int coll_fail(MPI_Comm comm, int rc, const char *fn);

/* ---- data (coll_buf.c) ---- */
static inline size_t nbytes(int count, MPI_Datatype dt)
{
	return (size_t)count * dtype_size(dt);
}

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

/* ---- the algorithms (coll_alg.c, each described there): no argument
 * checks; each returns an error class, and its messages use tag on c's
 * collective context ---- */
int bcast_core(void *buf, int count, MPI_Datatype dt, int root,
	       struct comm *c, int tag);
/* mine may be out at the root (MPI_IN_PLACE). */
int reduce_core(const void *mine, void *out, int count, MPI_Datatype dt,
		MPI_Op op, int root, struct comm *c, int tag);
/* In place: buf holds this rank's contribution, then the result. */
int allreduce_core(void *buf, int count, MPI_Datatype dt, MPI_Op op,
		   struct comm *c, int tag);
/* rb (gather) and sb (scatter) matter at the root only. */
int gather_core(const void *sbuf, int scount, MPI_Datatype st,
		const struct blocks *rb, int root, struct comm *c, int tag);
int scatter_core(const struct blocks *sb, void *rbuf, int rcount,
		 MPI_Datatype rt, int root, struct comm *c, int tag);
/* Each rank's own block is in place in rb (buf) already; allgather_rd
 * needs a power-of-two size. */
int allgather_ring(const struct blocks *rb, struct comm *c, int tag);
int allgather_rd(char *buf, int count, MPI_Datatype dt, struct comm *c, int tag);
int alltoall_core(const struct blocks *sb, const struct blocks *rb,
		  struct comm *c, int tag);
int alltoall_inplace(const struct blocks *rb, struct comm *c, int tag);
int redscat_core(const void *mine, void *rbuf, const struct blocks *rb,
		 int total, MPI_Datatype dt, MPI_Op op, struct comm *c, int tag);
/* ex: MPI_Exscan (rank 0's rbuf is left alone). */
int scan_core(const void *mine, void *rbuf, int count, MPI_Datatype dt,
	      MPI_Op op, bool ex, struct comm *c, int tag);
