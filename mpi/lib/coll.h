/* What coll.c (the blocking collectives) shares with the nonblocking
 * ones (nbc_*.c): local copies and block layouts; their argument checks
 * are check.h's. */
#pragma once
#include "check.h"

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
