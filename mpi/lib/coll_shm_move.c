/* Shared-memory collectives that move data (coll_shm.h): each rank
 * publishes its data as contiguous bytes, in its slot when they are
 * small, else in its buffer itself when the type is contiguous or as a
 * packed copy, and the ranks that need them copy them straight into
 * their own buffers, unpacking there for their own type (type signatures
 * match, MPI-3.1 5.1; the layouts need not). */
#include <stdlib.h>
#include "coll_shm.h"

static int first(int rc, int rc2)
{
	return rc ? rc : rc2;
}

static bool fits(size_t n)
{
	return n <= SHM_SLOT;
}

/* Contiguous bytes of this rank's data for the others: in its slot when
 * n fits (for `readers`), else shm_bytes. */
static const void *offer(struct shm_op *o, const void *buf, int count, MPI_Datatype dt,
			 int readers, void **tmp, int *rc)
{
	*tmp = NULL;
	if (fits((size_t)count * dtype_size(dt))) {
		shm_claim(o, readers);
		shm_pack(buf, count, dt, shm_slot(o, o->me));
		return shm_slot(o, o->me);
	}
	return shm_bytes(buf, count, dt, tmp, rc);
}

/* Rank r's n bytes: in its slot, or where its line points. */
static const void *offered(const struct shm_op *o, int r, size_t *n)
{
	if (fits(*n))
		return shm_slot(o, r);
	*n = shm_line(o, r)->len;
	return shm_line(o, r)->ptr;
}

/* Every rank posts and waits for every other's post: after that all have
 * entered the barrier. */
int shm_barrier(struct comm *c)
{
	struct shm_op o;
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	shm_publish(&o, NULL, NULL, 0, -1);
	shm_wait(&o, SHM_POST, -1);
	shm_finish(&o, -2);
	return MPI_SUCCESS;
}

int shm_bcast(void *buf, int count, MPI_Datatype dt, int root, struct comm *c)
{
	struct shm_op o;
	void *tmp = NULL;
	size_t n = (size_t)count * dtype_size(dt);
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	if (o.me == root) {
		const void *src = offer(&o, buf, count, dt, -1, &tmp, &rc);
		shm_publish(&o, src, NULL, src ? n : 0, -1);
		if (!fits(n))
			shm_wait(&o, SHM_DONE, -1);
		shm_finish(&o, -2);
		free(tmp);
		return rc;
	}
	shm_wait(&o, SHM_POST, root);
	const void *src = offered(&o, root, &n);
	rc = shm_unbytes(src, n, buf, count, dt);
	shm_finish(&o, root);
	return rc;
}

/* The root copies each rank's bytes into its block of rb. */
int shm_gather(const void *sbuf, int scount, MPI_Datatype st, const struct blocks *rb,
	       int root, struct comm *c)
{
	struct shm_op o;
	void *tmp = NULL;
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	if (o.me != root) {
		size_t n = (size_t)scount * dtype_size(st);
		const void *src = offer(&o, sbuf, scount, st, root, &tmp, &rc);
		shm_publish(&o, src, NULL, src ? n : 0, root);
		if (!fits(n))
			shm_wait(&o, SHM_DONE, root);
		shm_finish(&o, -2);
		free(tmp);
		return rc;
	}
	if (sbuf != MPI_IN_PLACE)
		rc = local_copy(sbuf, scount, st, blk_addr(rb, root), blk_count(rb, root),
				blk_type(rb, root));
	for (int s = 1; s < o.size; s++) {
		int i = (root + s) % o.size;
		size_t n = blk_bytes(rb, i);
		shm_wait(&o, SHM_POST, i);
		const void *src = offered(&o, i, &n);
		rc = first(rc, shm_unbytes(src, n, blk_addr(rb, i), blk_count(rb, i), blk_type(rb, i)));
	}
	shm_finish(&o, -1);
	return rc;
}

/* The n blocks of b as pieces of contiguous bytes in tab: a block
 * itself where its type is contiguous (and not `copy`), else packed into
 * one temporary buffer, which is returned (to free). */
static void *pieces(const struct blocks *b, int n, bool copy, struct shm_piece *tab, int *rc)
{
	size_t total = 0, off = 0;
	char *t = NULL;

	for (int j = 0; j < n; j++)
		if (copy || !dtype_contiguous(blk_type(b, j)))
			total += blk_bytes(b, j);
	if (total && !(t = malloc(total)))
		*rc = MPI_ERR_NO_MEM;
	for (int j = 0; j < n; j++) {
		size_t len = blk_bytes(b, j);
		tab[j] = (struct shm_piece){ blk_addr(b, j), len };
		if (len == 0 || (!copy && dtype_contiguous(blk_type(b, j))))
			continue;
		if (!t) {
			tab[j].len = 0;
			continue;
		}
		dtype_pack(blk_addr(b, j), (size_t)blk_count(b, j), blk_type(b, j), t + off);
		tab[j].p = t + off;
		off += len;
	}
	return t;
}

/* Blocks of equal size (no counts per rank) that fit in a slot together:
 * block j goes at j * bytes. Every rank's b agrees on this. */
static bool pack_all(const struct blocks *b, int n, struct shm_op *o, int readers)
{
	if (b->counts || !fits((size_t)n * blk_bytes(b, 0)))
		return false;
	shm_claim(o, readers);
	char *slot = shm_slot(o, o->me);
	for (int j = 0; j < n; j++)
		if (j != o->me)
			shm_pack(blk_addr(b, j), blk_count(b, j), blk_type(b, j),
				 slot + (size_t)j * blk_bytes(b, j));
	return true;
}

/* The piece of rank i for this rank: in i's slot (regular blocks that
 * fit, `bytes` each), else from i's table. */
static const void *piece_for(const struct shm_op *o, int i, bool slot, size_t *bytes)
{
	if (slot)
		return shm_slot(o, i) + (size_t)o->me * *bytes;
	const struct shm_piece *p = (const struct shm_piece *)shm_line(o, i)->ptr2 + o->me;
	*bytes = p->len;
	return p->p;
}

/* The root publishes a piece per rank; each copies its own. */
int shm_scatter(const struct blocks *sb, bool v, void *rbuf, int rcount, MPI_Datatype rt,
		int root, struct comm *c)
{
	struct shm_op o;
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	if (o.me == root) {
		void *tmp = NULL;
		bool slot = pack_all(sb, o.size, &o, -1);
		if (!slot)
			tmp = pieces(sb, o.size, false, o.tab, &rc);
		shm_publish(&o, NULL, o.tab, 0, -1);
		if (rbuf != MPI_IN_PLACE)
			rc = first(rc, local_copy(blk_addr(sb, root), blk_count(sb, root),
						  blk_type(sb, root), rbuf, rcount, rt));
		if (!slot)
			shm_wait(&o, SHM_DONE, -1);
		shm_finish(&o, -2);
		free(tmp);
		return rc;
	}
	size_t n = (size_t)rcount * dtype_size(rt);
	bool slot = !v && fits((size_t)o.size * n);
	shm_wait(&o, SHM_POST, root);
	const void *src = piece_for(&o, root, slot, &n);
	rc = shm_unbytes(src, n, rbuf, rcount, rt);
	shm_finish(&o, root);
	return rc;
}

/* Every rank publishes its block and copies everyone else's, starting
 * with its right neighbour so that the readers of one block spread. */
int shm_allgather(const void *sbuf, int scount, MPI_Datatype st, const struct blocks *rb,
		  struct comm *c)
{
	struct shm_op o;
	void *tmp = NULL;
	const void *src;
	size_t len;
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	if (sbuf == MPI_IN_PLACE) {
		src = offer(&o, blk_addr(rb, o.me), blk_count(rb, o.me), blk_type(rb, o.me), -1,
			    &tmp, &rc);
		len = blk_bytes(rb, o.me);
	} else {
		src = offer(&o, sbuf, scount, st, -1, &tmp, &rc);
		len = (size_t)scount * dtype_size(st);
		rc = first(rc, local_copy(sbuf, scount, st, blk_addr(rb, o.me),
					  blk_count(rb, o.me), blk_type(rb, o.me)));
	}
	shm_publish(&o, src, NULL, src ? len : 0, -1);
	for (int s = 1; s < o.size; s++) {
		int i = (o.me + s) % o.size;
		size_t n = blk_bytes(rb, i);
		shm_wait(&o, SHM_POST, i);
		const void *from = offered(&o, i, &n);
		rc = first(rc, shm_unbytes(from, n, blk_addr(rb, i), blk_count(rb, i), blk_type(rb, i)));
	}
	shm_finish(&o, -1);
	if (!fits(len))
		shm_wait(&o, SHM_DONE, -1);
	free(tmp);
	return rc;
}

/* Every rank publishes a piece per destination (with MPI_IN_PLACE a
 * copy of rb, which the exchange overwrites) and copies the piece each
 * other rank has for it. */
int shm_alltoall(const struct blocks *sb, const struct blocks *rb, struct comm *c)
{
	struct shm_op o;
	void *tmp = NULL;
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	bool slot = pack_all(sb ? sb : rb, o.size, &o, -1);
	if (!slot)
		tmp = pieces(sb ? sb : rb, o.size, !sb, o.tab, &rc);
	shm_publish(&o, NULL, o.tab, 0, -1);
	if (sb)
		rc = first(rc, local_copy(blk_addr(sb, o.me), blk_count(sb, o.me), blk_type(sb, o.me),
					  blk_addr(rb, o.me), blk_count(rb, o.me), blk_type(rb, o.me)));
	for (int s = 1; s < o.size; s++) {
		int i = (o.me + s) % o.size;
		size_t n = blk_bytes(rb, i);
		shm_wait(&o, SHM_POST, i);
		const void *from = piece_for(&o, i, slot, &n);
		rc = first(rc, shm_unbytes(from, n, blk_addr(rb, i), blk_count(rb, i), blk_type(rb, i)));
	}
	shm_finish(&o, -1);
	if (!slot)
		shm_wait(&o, SHM_DONE, -1);
	free(tmp);
	return rc;
}
