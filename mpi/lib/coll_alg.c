/* The algorithms of the blocking collectives (MPI-3.1 chapter 5) on the
 * point-to-point engine; coll.c checks the arguments and calls them, and
 * its opening comment gives the rules their messages follow.
 *
 * Algorithms:
 *   Barrier         dissemination, ceil(log2 p) rounds (in MPI_Barrier, coll.c)
 *   Bcast           binomial tree from the root
 *   Reduce          binomial tree; for a non-commutative op over plain
 *                   ranks rooted at 0 (subtrees are rank intervals, folded
 *                   in rank order), then rank 0 passes the result to root
 *   Allreduce       recursive doubling, in rank order (so non-commutative
 *                   ops are fine too); non-power-of-two sizes fold the
 *                   first 2*(p - 2^k) ranks pairwise first
 *   Gather(v), Scatter(v)    linear, all messages posted at once
 *   Allgather       recursive doubling for power-of-two sizes, else ring
 *   Allgatherv      ring
 *   Alltoall(v,w)   pairwise exchange: step i sends to rank+i, receives
 *                   from rank-i; MPI_IN_PLACE works on a copy
 *   Reduce_scatter(_block)   reduce to rank 0, then scatter(v)
 *   Scan, Exscan    recursive doubling in rank order
 */
#include <stdlib.h>
#include "coll.h"

/* ---- nonblocking sets ---- */

struct reqset {
	int n;
	MPI_Request *r;
	MPI_Status *st;
};

static bool reqs_init(struct reqset *q, int max)
{
	q->n = 0;
	q->r = malloc((size_t)max * sizeof *q->r);
	q->st = malloc((size_t)max * sizeof *q->st);
	if (q->r && q->st)
		return true;
	free(q->r);
	free(q->st);
	return false;
}

/* Waits for the requests of q; returns the first error class. */
static int reqs_wait(struct reqset *q)
{
	int rc = q->n ? p2p_waitall(q->n, q->r, q->st) : MPI_SUCCESS;

	if (rc == MPI_ERR_IN_STATUS)
		for (int i = 0; i < q->n; i++)
			if (q->st[i].MPI_ERROR != MPI_SUCCESS &&
			    q->st[i].MPI_ERROR != MPI_ERR_PENDING)
				return q->st[i].MPI_ERROR;
	return rc;
}

/* reqs_wait, then frees what reqs_init allocated. */
static int reqs_finish(struct reqset *q)
{
	int rc = reqs_wait(q);

	free(q->r);
	free(q->st);
	return rc;
}

/* ---- reduction steps ---- */

/* op_apply(op, in, inout) computes inout := in op inout. MPI-3.1 5.9.1:
 * the result must be as if the operands were combined in rank order, so
 * which side a partial result goes matters for a non-commutative op. */

/* acc := in op acc, where `in` covers ranks before those of acc. */
static int fold_before(MPI_Op op, char **acc, char **in, int count, MPI_Datatype dt)
{
	return op_apply(op, *in, *acc, count, dt);
}

/* acc := acc op in, where `in` covers ranks after those of acc. For a
 * non-commutative op the result is computed into `in` and the two
 * buffers swap roles (a commutative op needs no swap). */
static int fold_after(MPI_Op op, char **acc, char **in, int count, MPI_Datatype dt)
{
	char *t;
	int rc;

	if (op_commutative(op))
		return op_apply(op, *in, *acc, count, dt);
	rc = op_apply(op, *acc, *in, count, dt);
	t = *acc;
	*acc = *in;
	*in = t;
	return rc;
}

/* ---- cores: no argument checks, return an error class (coll.h) ---- */

/* Binomial tree: rank vr (relative to root) receives from vr minus its
 * lowest set bit, then sends to vr + 2^k for every 2^k below that bit,
 * biggest subtree first. */
int bcast_core(void *buf, int count, MPI_Datatype dt, int root,
	       struct comm *c, int tag)
{
	int size = c->size, vr = (c->rank - root + size) % size, mask, rc = 0, rc2;
	MPI_Request r[32];
	MPI_Status st[32];
	struct reqset q = { 0, r, st };

	for (mask = 1; mask < size; mask <<= 1)
		if (vr & mask) {
			rc = coll_recv(buf, count, dt, (vr - mask + root) % size, tag, c);
			if (rc)
				return rc;
			break;
		}
	for (mask >>= 1; mask > 0 && !rc; mask >>= 1) {
		if (vr + mask >= size)
			continue;
		rc = p2p_isend(buf, count, dt, (vr + mask + root) % size, tag, c,
			       1, 0, &q.r[q.n]);
		if (!rc)
			q.n++;
	}
	rc2 = reqs_wait(&q);
	return rc ? rc : rc2;
}

/* Reduces count elements from every rank into out at root; mine is this
 * rank's contribution (may be out at the root: MPI_IN_PLACE). A
 * commutative op uses a binomial tree rooted at root. A non-commutative
 * one uses the tree rooted at rank 0 over plain ranks: each subtree is an
 * interval of ranks and a child's interval follows its parent's, so
 * folding each child in after the parent keeps rank order; rank 0 then
 * sends the result to root. */
int reduce_core(const void *mine, void *out, int count, MPI_Datatype dt,
		MPI_Op op, int root, struct comm *c, int tag)
{
	int size = c->size, rank = c->rank, rc = MPI_SUCCESS, mask;
	int troot = op_commutative(op) ? root : 0;
	int vr = (rank - troot + size) % size;
	bool at_root = vr == 0 && rank == root;   /* root of the whole tree */
	char *acc = (char *)mine, *tmp = NULL;
	void *t1 = NULL, *t2 = NULL;

	if (vr % 2 == 0 && vr + 1 < size) {          /* has children */
		t1 = tmp_alloc(count, dt, &tmp);
		if (at_root)
			acc = out;
		else
			t2 = tmp_alloc(count, dt, &acc);
		if (!t1 || (!at_root && !t2)) {
			rc = MPI_ERR_NO_MEM;
			goto done;
		}
		rc = local_copy(mine, count, dt, acc, count, dt);
		for (mask = 1; !rc && mask < size && !(vr & mask); mask <<= 1) {
			if (vr + mask >= size)
				break;
			rc = coll_recv(tmp, count, dt, (vr + mask + troot) % size, tag, c);
			if (!rc)
				rc = fold_after(op, &acc, &tmp, count, dt);
		}
		if (rc)
			goto done;
	}
	if (vr != 0)
		rc = coll_send(acc, count, dt, (vr - (vr & -vr) + troot) % size, tag, c);
	else if (rank != root)
		rc = coll_send(acc, count, dt, root, tag, c);
	else
		rc = local_copy(acc, count, dt, out, count, dt);
	if (!rc && rank == root && vr != 0)
		rc = coll_recv(out, count, dt, troot, tag, c);
done:
	free(t1);
	free(t2);
	return rc;
}

/* Recursive doubling on buf (this rank's contribution in, the result
 * out). With p = 2^k + rem, ranks 2i and 2i+1 (i < rem) first combine on
 * 2i+1 and 2i sits out; the 2^k others, renumbered nr, exchange with
 * nr ^ 2^j in step j, each then holding the reduction over an aligned
 * interval of nr, i.e. of consecutive ranks: the lower interval goes on
 * the left, so rank order holds for non-commutative ops. Both partners
 * compute the same operation, so every rank gets the same bits. */
int allreduce_core(void *buf, int count, MPI_Datatype dt, MPI_Op op,
		   struct comm *c, int tag)
{
	int size = c->size, rank = c->rank, pof2 = 1, rem, nr, rc = MPI_SUCCESS;
	char *acc = buf, *tmp;
	void *t1;

	if (size == 1)
		return MPI_SUCCESS;
	while (pof2 * 2 <= size)
		pof2 *= 2;
	rem = size - pof2;
	if (rank < 2 * rem && rank % 2 == 0) {
		rc = coll_send(buf, count, dt, rank + 1, tag, c);
		return rc ? rc : coll_recv(buf, count, dt, rank + 1, tag, c);
	}
	if (!(t1 = tmp_alloc(count, dt, &tmp)))
		return MPI_ERR_NO_MEM;
	if (rank < 2 * rem) {
		rc = coll_recv(tmp, count, dt, rank - 1, tag, c);
		if (!rc)
			rc = fold_before(op, &acc, &tmp, count, dt);
	}
	nr = rank < 2 * rem ? rank / 2 : rank - rem;
	for (int mask = 1; !rc && mask < pof2; mask <<= 1) {
		int np = nr ^ mask, peer = np < rem ? 2 * np + 1 : np + rem;

		rc = coll_sendrecv(acc, count, dt, peer, tmp, count, dt, peer, tag, c);
		if (!rc)
			rc = np < nr ? fold_before(op, &acc, &tmp, count, dt)
				     : fold_after(op, &acc, &tmp, count, dt);
	}
	if (!rc)
		rc = local_copy(acc, count, dt, buf, count, dt);
	if (!rc && rank < 2 * rem)
		rc = coll_send(buf, count, dt, rank - 1, tag, c);
	free(t1);
	return rc;
}

/* Linear gather: every rank sends its block, the root posts all the
 * receives at once. sbuf == MPI_IN_PLACE at the root: its block is in
 * place already. rb matters at the root only. */
int gather_core(const void *sbuf, int scount, MPI_Datatype st,
		const struct blocks *rb, int root, struct comm *c, int tag)
{
	struct reqset q;
	int rc = MPI_SUCCESS, rc2;

	if (c->rank != root)
		return nbytes(scount, st) ? coll_send(sbuf, scount, st, root, tag, c)
					  : MPI_SUCCESS;
	if (!reqs_init(&q, c->size))
		return MPI_ERR_NO_MEM;
	for (int i = 0; i < c->size && !rc; i++) {
		if (i == root || blk_bytes(rb, i) == 0)
			continue;
		rc = p2p_irecv(blk_addr(rb, i), blk_count(rb, i), blk_type(rb, i),
			       i, tag, c, 1, &q.r[q.n]);
		if (!rc)
			q.n++;
	}
	if (!rc && sbuf != MPI_IN_PLACE)
		rc = local_copy(sbuf, scount, st, blk_addr(rb, root),
				blk_count(rb, root), blk_type(rb, root));
	rc2 = reqs_finish(&q);
	return rc ? rc : rc2;
}

/* Linear scatter, the mirror of gather_core. rbuf == MPI_IN_PLACE at the
 * root: its block stays where it is. sb matters at the root only. */
int scatter_core(const struct blocks *sb, void *rbuf, int rcount,
		 MPI_Datatype rt, int root, struct comm *c, int tag)
{
	struct reqset q;
	int rc = MPI_SUCCESS, rc2;

	if (c->rank != root)
		return nbytes(rcount, rt) ? coll_recv(rbuf, rcount, rt, root, tag, c)
					  : MPI_SUCCESS;
	if (!reqs_init(&q, c->size))
		return MPI_ERR_NO_MEM;
	for (int i = 0; i < c->size && !rc; i++) {
		if (i == root || blk_bytes(sb, i) == 0)
			continue;
		rc = p2p_isend(blk_addr(sb, i), blk_count(sb, i), blk_type(sb, i),
			       i, tag, c, 1, 0, &q.r[q.n]);
		if (!rc)
			q.n++;
	}
	if (!rc && rbuf != MPI_IN_PLACE)
		rc = local_copy(blk_addr(sb, root), blk_count(sb, root),
				blk_type(sb, root), rbuf, rcount, rt);
	rc2 = reqs_finish(&q);
	return rc ? rc : rc2;
}

/* Ring: in step s each rank passes the block it got in step s-1 (its own
 * at first) to rank+1 and gets the next one from rank-1; after p-1 steps
 * every block has been everywhere. Each rank's own block is in place. */
int allgather_ring(const struct blocks *rb, struct comm *c, int tag)
{
	int size = c->size, rank = c->rank, rc = MPI_SUCCESS;
	int right = (rank + 1) % size, left = (rank - 1 + size) % size;

	for (int s = 0; s < size - 1 && !rc; s++) {
		int sj = (rank - s + size) % size, rj = (rank - s - 1 + size) % size;

		rc = coll_sendrecv(blk_addr(rb, sj), blk_count(rb, sj), blk_type(rb, sj),
				   right, blk_addr(rb, rj), blk_count(rb, rj),
				   blk_type(rb, rj), left, tag, c);
	}
	return rc;
}

/* Recursive doubling for a power-of-two size: after the step with mask m
 * each rank holds the 2m consecutive blocks of its aligned group of 2m
 * ranks, which are 2m*count consecutive elements of buf. */
int allgather_rd(char *buf, int count, MPI_Datatype dt, struct comm *c, int tag)
{
	MPI_Aint blk = (MPI_Aint)count * dtype_extent(dt);
	int rank = c->rank, rc = MPI_SUCCESS;

	for (int mask = 1; mask < c->size && !rc; mask <<= 1) {
		int peer = rank ^ mask;
		MPI_Aint mine = rank & ~(mask - 1), theirs = peer & ~(mask - 1);

		rc = coll_sendrecv(buf + mine * blk, mask * count, dt, peer,
				   buf + theirs * blk, mask * count, dt, peer, tag, c);
	}
	return rc;
}

/* Pairwise exchange: step i sends block rank+i to rank+i and receives
 * block rank-i from rank-i (step 0 is the local copy). Every pair meets
 * once, so each exchange is a sendrecv even when empty. */
int alltoall_core(const struct blocks *sb, const struct blocks *rb,
		  struct comm *c, int tag)
{
	int size = c->size, rank = c->rank, rc;

	rc = local_copy(blk_addr(sb, rank), blk_count(sb, rank), blk_type(sb, rank),
			blk_addr(rb, rank), blk_count(rb, rank), blk_type(rb, rank));
	for (int i = 1; i < size && !rc; i++) {
		int dst = (rank + i) % size, src = (rank - i + size) % size;

		rc = coll_sendrecv(blk_addr(sb, dst), blk_count(sb, dst), blk_type(sb, dst),
				   dst, blk_addr(rb, src), blk_count(rb, src),
				   blk_type(rb, src), src, tag, c);
	}
	return rc;
}

/* MPI_IN_PLACE all-to-all (MPI-3.1 5.8): the data to send is taken from
 * the receive blocks, which the exchange overwrites, so send a copy. */
int alltoall_inplace(const struct blocks *rb, struct comm *c, int tag)
{
	struct blocks sb;
	void *p = blocks_clone(rb, c->size, &sb);
	int rc;

	if (!p)
		return MPI_ERR_NO_MEM;
	rc = alltoall_core(&sb, rb, c, tag);
	free(p);
	return rc;
}

/* Reduce-scatter: reduces the total elements of every rank's mine (laid
 * out as the blocks of rb) on rank 0, then scatters block i to rank i. */
int redscat_core(const void *mine, void *rbuf, const struct blocks *rb,
		 int total, MPI_Datatype dt, MPI_Op op, struct comm *c, int tag)
{
	struct blocks fb = *rb;
	char *full = NULL;
	void *t = NULL;
	int rc;

	if (c->rank == 0 && !(t = tmp_alloc(total, dt, &full)))
		return MPI_ERR_NO_MEM;
	rc = reduce_core(mine, full, total, dt, op, 0, c, tag);
	fb.buf = full;
	if (!rc)
		rc = scatter_core(&fb, rbuf, blk_count(rb, c->rank), dt, 0, c, tag);
	free(t);
	return rc;
}

/* Prefix reduction by recursive doubling in rank order. After the step
 * with mask m, part holds the reduction over this rank's aligned group
 * of 2m ranks (those below size) and rbuf the one over the ranks of the
 * group up to this one, or before it when ex (MPI_Exscan; rank 0 has
 * none: its rbuf is undefined, MPI-3.1 5.11.2). */
int scan_core(const void *mine, void *rbuf, int count, MPI_Datatype dt,
	      MPI_Op op, bool ex, struct comm *c, int tag)
{
	int size = c->size, rank = c->rank, rc;
	bool have = !ex;
	char *part, *tmp;
	void *t1, *t2;

	if (size == 1)
		return ex ? MPI_SUCCESS : local_copy(mine, count, dt, rbuf, count, dt);
	t1 = tmp_alloc(count, dt, &part);
	t2 = tmp_alloc(count, dt, &tmp);

	rc = t1 && t2 ? local_copy(mine, count, dt, part, count, dt) : MPI_ERR_NO_MEM;
	if (!rc && !ex)
		rc = local_copy(mine, count, dt, rbuf, count, dt);
	for (int mask = 1; !rc && mask < size; mask <<= 1) {
		int peer = rank ^ mask;

		if (peer >= size)
			continue;
		rc = coll_sendrecv(part, count, dt, peer, tmp, count, dt, peer, tag, c);
		if (rc)
			break;
		if (peer > rank) {              /* its group comes after ours */
			rc = fold_after(op, &part, &tmp, count, dt);
			continue;
		}
		if (have)                       /* rbuf := tmp op rbuf */
			rc = op_apply(op, tmp, rbuf, count, dt);
		else
			rc = local_copy(tmp, count, dt, rbuf, count, dt);
		have = true;
		if (!rc)
			rc = fold_before(op, &part, &tmp, count, dt);
	}
	free(t1);
	free(t2);
	return rc;
}
