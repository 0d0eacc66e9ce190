/* Local copies, temporary buffers and block layouts of the collectives
 * (coll.h): what the blocking ones (coll.c, coll_alg.c), the
 * shared-memory ones (coll_shm*.c) and the nonblocking ones (nbc_*.c)
 * move data with. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "coll.h"

/* ---- local copies and temporary buffers ---- */

/* Copies the scount elements of st at src into the rcount elements of rt
 * at dst: only data bytes move (type-signature rules, MPI-3.1 3.3), the
 * gaps of dst keep their contents. */
int local_copy(const void *src, int scount, MPI_Datatype st,
		      void *dst, int rcount, MPI_Datatype rt)
{
	size_t n = nbytes(scount, st);
	void *p;

	if (n > nbytes(rcount, rt))
		return MPI_ERR_TRUNCATE;
	if (n == 0 || (src == dst && st == rt))
		return MPI_SUCCESS;
	if (dtype_contiguous(st) && dtype_contiguous(rt)) {
		memmove(dst, src, n);
		return MPI_SUCCESS;
	}
	if (!(p = malloc(n)))
		return MPI_ERR_NO_MEM;
	dtype_pack(src, (size_t)scount, st, p);
	dtype_unpack(p, n, dst, (size_t)rcount, rt);
	free(p);
	return MPI_SUCCESS;
}

/* Bytes [*lo, *hi) relative to the buffer address that count (> 0)
 * elements of dt touch: true_lb .. true_lb + true_extent for the first,
 * each next one extent further (the extent may be negative). */
static void data_span(int count, MPI_Datatype dt, MPI_Aint *lo, MPI_Aint *hi)
{
	MPI_Aint step = (MPI_Aint)(count - 1) * dtype_extent(dt);

	*lo = dtype_true_lb(dt) + (step < 0 ? step : 0);
	*hi = dtype_true_lb(dt) + dtype_true_extent(dt) + (step > 0 ? step : 0);
}

/* Room for count (> 0) elements of dt laid out as in a user buffer, so
 * that op_apply and the datatype engine work on it unchanged: sets *base
 * to the address to use as the buffer and returns the block to free
 * (NULL when out of memory). */
void *tmp_alloc(int count, MPI_Datatype dt, char **base)
{
	MPI_Aint lo, hi;
	char *p;

	data_span(count, dt, &lo, &hi);
	p = malloc(hi > lo ? (size_t)(hi - lo) : 1);
	*base = p ? (char *)((uintptr_t)p - (uintptr_t)lo) : NULL;
	return p;
}

/* ---- one block per rank ---- */

struct blocks blocks_reg(const void *buf, int count, MPI_Datatype dt)
{
	return (struct blocks){ .buf = (char *)buf, .count = count, .type = dt,
		.stride = (MPI_Aint)count * dtype_extent(dt) };
}

/* MPI-3.1 5.5: displacements of the v-variants count extents of the type. */
struct blocks blocks_v(const void *buf, const int *counts,
			      const int *displs, MPI_Datatype dt)
{
	return (struct blocks){ .buf = (char *)buf, .counts = counts, .type = dt,
		.displs = displs, .unit = dtype_extent(dt) };
}

/* MPI-3.1 5.8: the displacements of MPI_Alltoallw are in bytes. */
struct blocks blocks_w(const void *buf, const int *counts,
			      const int *displs, const MPI_Datatype *types)
{
	return (struct blocks){ .buf = (char *)buf, .counts = counts,
		.types = types, .displs = displs, .unit = 1 };
}

int blk_count(const struct blocks *b, int j)
{
	return b->counts ? b->counts[j] : b->count;
}

MPI_Datatype blk_type(const struct blocks *b, int j)
{
	return b->types ? b->types[j] : b->type;
}

char *blk_addr(const struct blocks *b, int j)
{
	return b->buf + (b->displs ? (MPI_Aint)b->displs[j] * b->unit
				   : (MPI_Aint)j * b->stride);
}

size_t blk_bytes(const struct blocks *b, int j)
{
	return nbytes(blk_count(b, j), blk_type(b, j));
}

/* A copy of the n blocks of b in a temporary buffer of the same layout
 * (*copy describes it); returns the block to free, NULL when out of
 * memory. */
void *blocks_clone(const struct blocks *b, int n, struct blocks *copy)
{
	MPI_Aint lo = 0, hi = 0, l, h;
	bool any = false;
	char *p;

	for (int j = 0; j < n; j++) {
		if (blk_bytes(b, j) == 0)
			continue;
		data_span(blk_count(b, j), blk_type(b, j), &l, &h);
		l += blk_addr(b, j) - b->buf;
		h += blk_addr(b, j) - b->buf;
		lo = any && lo < l ? lo : l;
		hi = any && hi > h ? hi : h;
		any = true;
	}
	if (!(p = malloc(hi > lo ? (size_t)(hi - lo) : 1)))
		return NULL;
	*copy = *b;
	copy->buf = (char *)((uintptr_t)p - (uintptr_t)lo);
	for (int j = 0; j < n; j++)
		if (local_copy(blk_addr(b, j), blk_count(b, j), blk_type(b, j),
			       blk_addr(copy, j), blk_count(b, j), blk_type(b, j))) {
			free(p);
			return NULL;
		}
	return p;
}
