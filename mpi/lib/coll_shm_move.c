/* Shared-memory collectives that move data (coll_shm.h): each rank
 * publishes its data as contiguous bytes (its buffer itself when the type
 * is contiguous, else a packed copy) and the ranks that need them copy
 * them straight into their own buffers, unpacking there for their own
 * type (type signatures match, MPI-3.1 5.1, the layouts need not). A
 * rank waits for its readers' done stamps before it returns. */
#include <stdlib.h>
#include "coll_shm.h"

static int first(int rc, int rc2)
{
	return rc ? rc : rc2;
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
	return MPI_SUCCESS;
}

int shm_bcast(void *buf, int count, MPI_Datatype dt, int root, struct comm *c)
{
	struct shm_op o;
	void *tmp = NULL;
	int rc = shm_start(c, &o), rc2;

	if (rc)
		return rc;
	if (o.me == root) {
		const void *src = shm_bytes(buf, count, dt, &tmp, &rc);
		shm_publish(&o, src, NULL, src ? (size_t)count * dtype_size(dt) : 0, -1);
		shm_wait(&o, SHM_DONE, -1);
		free(tmp);
		return rc;
	}
	shm_publish(&o, NULL, NULL, 0, root);
	shm_wait(&o, SHM_POST, root);
	const struct shm_line *l = shm_line(&o, root);
	rc2 = shm_unbytes(l->ptr, l->len, buf, count, dt);
	shm_mark(&o, SHM_DONE, root);
	return rc2;
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
		const void *src = shm_bytes(sbuf, scount, st, &tmp, &rc);
		shm_publish(&o, src, NULL, src ? (size_t)scount * dtype_size(st) : 0, root);
		shm_wait(&o, SHM_DONE, root);
		free(tmp);
		return rc;
	}
	shm_publish(&o, NULL, NULL, 0, -1);
	if (sbuf != MPI_IN_PLACE)
		rc = local_copy(sbuf, scount, st, blk_addr(rb, root), blk_count(rb, root),
				blk_type(rb, root));
	for (int s = 1; s < o.size; s++) {
		int i = (root + s) % o.size;
		shm_wait(&o, SHM_POST, i);
		const struct shm_line *l = shm_line(&o, i);
		rc = first(rc, shm_unbytes(l->ptr, l->len, blk_addr(rb, i), blk_count(rb, i),
					   blk_type(rb, i)));
	}
	shm_mark(&o, SHM_DONE, -1);
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

/* The root publishes a piece per rank; each copies its own. */
int shm_scatter(const struct blocks *sb, void *rbuf, int rcount, MPI_Datatype rt,
		int root, struct comm *c)
{
	struct shm_op o;
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	if (o.me == root) {
		void *tmp = pieces(sb, o.size, false, o.tab, &rc);
		shm_publish(&o, NULL, o.tab, 0, -1);
		if (rbuf != MPI_IN_PLACE)
			rc = first(rc, local_copy(blk_addr(sb, root), blk_count(sb, root),
						  blk_type(sb, root), rbuf, rcount, rt));
		shm_wait(&o, SHM_DONE, -1);
		free(tmp);
		return rc;
	}
	shm_publish(&o, NULL, NULL, 0, root);
	shm_wait(&o, SHM_POST, root);
	const struct shm_piece *p = (const struct shm_piece *)shm_line(&o, root)->ptr2 + o.me;
	rc = shm_unbytes(p->p, p->len, rbuf, rcount, rt);
	shm_mark(&o, SHM_DONE, root);
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
		src = shm_bytes(blk_addr(rb, o.me), blk_count(rb, o.me), blk_type(rb, o.me), &tmp, &rc);
		len = blk_bytes(rb, o.me);
	} else {
		src = shm_bytes(sbuf, scount, st, &tmp, &rc);
		len = (size_t)scount * dtype_size(st);
		rc = first(rc, local_copy(sbuf, scount, st, blk_addr(rb, o.me),
					  blk_count(rb, o.me), blk_type(rb, o.me)));
	}
	shm_publish(&o, src, NULL, src ? len : 0, -1);
	for (int s = 1; s < o.size; s++) {
		int i = (o.me + s) % o.size;
		shm_wait(&o, SHM_POST, i);
		const struct shm_line *l = shm_line(&o, i);
		rc = first(rc, shm_unbytes(l->ptr, l->len, blk_addr(rb, i), blk_count(rb, i),
					   blk_type(rb, i)));
	}
	shm_mark(&o, SHM_DONE, -1);
	shm_wait(&o, SHM_DONE, -1);
	free(tmp);
	return rc;
}

/* Every rank publishes a piece per destination (with MPI_IN_PLACE a
 * packed copy of rb, which the exchange overwrites) and copies the piece
 * each other rank has for it. */
int shm_alltoall(const struct blocks *sb, const struct blocks *rb, struct comm *c)
{
	struct shm_op o;
	int rc = shm_start(c, &o);

	if (rc)
		return rc;
	void *tmp = pieces(sb ? sb : rb, o.size, !sb, o.tab, &rc);
	shm_publish(&o, NULL, o.tab, 0, -1);
	if (sb)
		rc = first(rc, local_copy(blk_addr(sb, o.me), blk_count(sb, o.me), blk_type(sb, o.me),
					  blk_addr(rb, o.me), blk_count(rb, o.me), blk_type(rb, o.me)));
	for (int s = 1; s < o.size; s++) {
		int i = (o.me + s) % o.size;
		shm_wait(&o, SHM_POST, i);
		const struct shm_piece *p = (const struct shm_piece *)shm_line(&o, i)->ptr2 + o.me;
		rc = first(rc, shm_unbytes(p->p, p->len, blk_addr(rb, i), blk_count(rb, i),
					   blk_type(rb, i)));
	}
	shm_mark(&o, SHM_DONE, -1);
	shm_wait(&o, SHM_DONE, -1);
	free(tmp);
	return rc;
}
