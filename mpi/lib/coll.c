/* Blocking collectives (MPI-3.1 chapter 5) on the point-to-point engine.
 *
 * Every message goes through coll_send/coll_recv/coll_sendrecv or
 * p2p_isend/p2p_irecv with coll = 1, i.e. on the communicator's collective
 * context, so it never matches user point-to-point traffic. Each collective
 * kind has its own tag. Collectives are called in the same order on every
 * rank (MPI-3.1 5.12) and messages between one pair are non-overtaking per
 * (context, tag), so a message of one call cannot be taken by another.
 * Messages of zero bytes are skipped only where both ends know it (type
 * signatures match, so both compute 0 bytes); the rest of the time an
 * empty message is sent.
 *
 * Algorithms:
 *   Barrier         dissemination, ceil(log2 p) rounds
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
 *
 * Barrier, Bcast, Reduce, Allreduce, Gather(v), Scatter(v), Allgather(v)
 * and Alltoall(v,w) go through shared memory instead (coll_shm.h) unless
 * TORO_SHM_COLL=0.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "coll_shm.h"

enum coll_tag {
	TAG_BARRIER = 1, TAG_BCAST, TAG_REDUCE, TAG_ALLREDUCE, TAG_GATHER,
	TAG_GATHERV, TAG_SCATTER, TAG_SCATTERV, TAG_ALLGATHER, TAG_ALLGATHERV,
	TAG_ALLTOALL, TAG_ALLTOALLV, TAG_ALLTOALLW, TAG_REDSCAT,
	TAG_REDSCAT_BLOCK, TAG_SCAN, TAG_EXSCAN,
};

/* Reports an error class met while running a collective. */
int coll_fail(MPI_Comm comm, int rc, const char *fn)
{
	if (rc == MPI_SUCCESS)
		return MPI_SUCCESS;
	if (rc == MPI_ERR_NO_MEM)
		return mpi_err(comm, rc, fn, "no memory for a temporary buffer");
	if (rc == MPI_ERR_TRUNCATE)
		return mpi_err(comm, rc, fn, "data longer than the receive buffer");
	if (rc == MPI_ERR_OP)
		return mpi_err(comm, rc, fn, "operation failed on this datatype");
	return mpi_err(comm, rc, fn, "communication failed");
}

/* ---- local copies and temporary buffers ---- */

static size_t nbytes(int count, MPI_Datatype dt)
{
	return (size_t)count * dtype_size(dt);
}

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

/* ---- cores: no argument checks, return an error class ---- */

/* Binomial tree: rank vr (relative to root) receives from vr minus its
 * lowest set bit, then sends to vr + 2^k for every 2^k below that bit,
 * biggest subtree first. */
static int bcast_core(void *buf, int count, MPI_Datatype dt, int root,
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
static int reduce_core(const void *mine, void *out, int count, MPI_Datatype dt,
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
static int allreduce_core(void *buf, int count, MPI_Datatype dt, MPI_Op op,
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
static int gather_core(const void *sbuf, int scount, MPI_Datatype st,
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
static int scatter_core(const struct blocks *sb, void *rbuf, int rcount,
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
static int allgather_ring(const struct blocks *rb, struct comm *c, int tag)
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
static int allgather_rd(char *buf, int count, MPI_Datatype dt, struct comm *c, int tag)
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
static int alltoall_core(const struct blocks *sb, const struct blocks *rb,
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
static int alltoall_inplace(const struct blocks *rb, struct comm *c, int tag)
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
static int redscat_core(const void *mine, void *rbuf, const struct blocks *rb,
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
static int scan_core(const void *mine, void *rbuf, int count, MPI_Datatype dt,
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

/* ---- the MPI functions ---- */

int MPI_Barrier(MPI_Comm comm)
{
	static const char fn[] = "MPI_Barrier";
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_barrier(comm);
	if ((rc = check_coll_comm(comm, fn, &c)))
		return rc;
	if (shm_coll_on(c) && (rc = shm_barrier(c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	/* Dissemination: in round k every rank signals rank+2^k and waits
	 * for rank-2^k; after ceil(log2 p) rounds each rank has heard,
	 * through the chains, from every other one. */
	for (int k = 1; k < c->size; k <<= 1) {
		rc = coll_sendrecv(NULL, 0, MPI_BYTE, (c->rank + k) % c->size,
				   NULL, 0, MPI_BYTE, (c->rank - k + c->size) % c->size,
				   TAG_BARRIER, c);
		if (rc)
			return coll_fail(comm, rc, fn);
	}
	return MPI_SUCCESS;
}

int MPI_Bcast(void *buffer, int count, MPI_Datatype datatype, int root,
	      MPI_Comm comm)
{
	static const char fn[] = "MPI_Bcast";
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_bcast(buffer, count, datatype, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)) ||
	    (rc = check_type(c, fn, "", count, datatype)) ||
	    (rc = check_buf(c, fn, "", buffer, count, datatype)))
		return rc;
	if (c->size == 1 || nbytes(count, datatype) == 0)
		return MPI_SUCCESS;
	if (shm_coll_on(c) && (rc = shm_bcast(buffer, count, datatype, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	return coll_fail(comm, bcast_core(buffer, count, datatype, root, c, TAG_BCAST), fn);
}

int MPI_Reduce(const void *sendbuf, void *recvbuf, int count,
	       MPI_Datatype datatype, MPI_Op op, int root, MPI_Comm comm)
{
	static const char fn[] = "MPI_Reduce";
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_reduce(sendbuf, recvbuf, count, datatype, op, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)) ||
	    (rc = check_type(c, fn, "", count, datatype)) ||
	    (rc = check_op(c, fn, op, datatype)))
		return rc;
	/* MPI-3.1 5.9.1: MPI_IN_PLACE as sendbuf at the root only (the input
	 * is then taken from recvbuf); recvbuf matters at the root only. */
	if (!(c->rank == root && sendbuf == MPI_IN_PLACE) &&
	    (rc = check_buf(c, fn, "send ", sendbuf, count, datatype)))
		return rc;
	if (c->rank == root && (rc = check_buf(c, fn, "receive ", recvbuf, count, datatype)))
		return rc;
	if (nbytes(count, datatype) == 0)
		return MPI_SUCCESS;
	if (shm_coll_on(c) &&
	    (rc = shm_reduce(sendbuf, recvbuf, count, datatype, op, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	rc = reduce_core(sendbuf, recvbuf, count, datatype, op, root, c, TAG_REDUCE);
	return coll_fail(comm, rc, fn);
}

int MPI_Allreduce(const void *sendbuf, void *recvbuf, int count,
		  MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	static const char fn[] = "MPI_Allreduce";
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_allreduce(sendbuf, recvbuf, count, datatype, op, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_type(c, fn, "", count, datatype)) ||
	    (rc = check_op(c, fn, op, datatype)))
		return rc;
	/* MPI-3.1 5.9.6: MPI_IN_PLACE as sendbuf on all ranks. */
	if ((sendbuf != MPI_IN_PLACE &&
	     (rc = check_buf(c, fn, "send ", sendbuf, count, datatype))) ||
	    (rc = check_buf(c, fn, "receive ", recvbuf, count, datatype)))
		return rc;
	if (nbytes(count, datatype) == 0)
		return MPI_SUCCESS;
	if (shm_coll_on(c) &&
	    (rc = shm_allreduce(sendbuf, recvbuf, count, datatype, op, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = sendbuf == MPI_IN_PLACE ? MPI_SUCCESS
		: local_copy(sendbuf, count, datatype, recvbuf, count, datatype);
	if (!rc)
		rc = allreduce_core(recvbuf, count, datatype, op, c, TAG_ALLREDUCE);
	return coll_fail(comm, rc, fn);
}

int MPI_Gather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
	       void *recvbuf, int recvcount, MPI_Datatype recvtype, int root,
	       MPI_Comm comm)
{
	static const char fn[] = "MPI_Gather";
	struct blocks rb = { 0 };
	struct comm *c;
	bool at_root;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_gatherv(fn, sendbuf, sendcount, sendtype, recvbuf, NULL, NULL, recvcount, recvtype, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)))
		return rc;
	at_root = c->rank == root;
	if ((rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   at_root && sendbuf == MPI_IN_PLACE)) ||
	    (at_root && (rc = check_side(c, fn, "receive ", recvbuf, recvcount,
				       recvtype, false))))
		return rc;
	if (at_root)
		rb = blocks_reg(recvbuf, recvcount, recvtype);
	if (shm_coll_on(c) &&
	    (rc = shm_gather(sendbuf, sendcount, sendtype, &rb, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = gather_core(sendbuf, sendcount, sendtype, &rb, root, c, TAG_GATHER);
	return coll_fail(comm, rc, fn);
}

int MPI_Gatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		void *recvbuf, const int recvcounts[], const int displs[],
		MPI_Datatype recvtype, int root, MPI_Comm comm)
{
	static const char fn[] = "MPI_Gatherv";
	struct blocks rb = { 0 };
	struct comm *c;
	bool at_root, any;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_gatherv(fn, sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, 0, recvtype, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)))
		return rc;
	at_root = c->rank == root;
	if ((rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   at_root && sendbuf == MPI_IN_PLACE)))
		return rc;
	if (at_root &&
	    ((rc = check_counts(c, fn, "receive ", recvcounts, displs, true, &any)) ||
	     (rc = check_side(c, fn, "receive ", recvbuf, any, recvtype, false))))
		return rc;
	if (at_root)
		rb = blocks_v(recvbuf, recvcounts, displs, recvtype);
	if (shm_coll_on(c) &&
	    (rc = shm_gather(sendbuf, sendcount, sendtype, &rb, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = gather_core(sendbuf, sendcount, sendtype, &rb, root, c, TAG_GATHERV);
	return coll_fail(comm, rc, fn);
}

int MPI_Scatter(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		void *recvbuf, int recvcount, MPI_Datatype recvtype, int root,
		MPI_Comm comm)
{
	static const char fn[] = "MPI_Scatter";
	struct blocks sb = { 0 };
	struct comm *c;
	bool at_root;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_scatterv(fn, sendbuf, NULL, NULL, sendcount, sendtype, recvbuf, recvcount, recvtype, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)))
		return rc;
	at_root = c->rank == root;
	/* MPI-3.1 5.6: MPI_IN_PLACE as recvbuf at the root only. */
	if ((at_root && (rc = check_side(c, fn, "send ", sendbuf, sendcount,
				       sendtype, false))) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype,
			   at_root && recvbuf == MPI_IN_PLACE)))
		return rc;
	if (at_root)
		sb = blocks_reg(sendbuf, sendcount, sendtype);
	if (shm_coll_on(c) &&
	    (rc = shm_scatter(&sb, false, recvbuf, recvcount, recvtype, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = scatter_core(&sb, recvbuf, recvcount, recvtype, root, c, TAG_SCATTER);
	return coll_fail(comm, rc, fn);
}

int MPI_Scatterv(const void *sendbuf, const int sendcounts[],
		 const int displs[], MPI_Datatype sendtype, void *recvbuf,
		 int recvcount, MPI_Datatype recvtype, int root, MPI_Comm comm)
{
	static const char fn[] = "MPI_Scatterv";
	struct blocks sb = { 0 };
	struct comm *c;
	bool at_root, any;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_scatterv(fn, sendbuf, sendcounts, displs, 0, sendtype, recvbuf, recvcount, recvtype, root, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) || (rc = check_root(c, fn, root)))
		return rc;
	at_root = c->rank == root;
	if (at_root &&
	    ((rc = check_counts(c, fn, "send ", sendcounts, displs, true, &any)) ||
	     (rc = check_side(c, fn, "send ", sendbuf, any, sendtype, false))))
		return rc;
	if ((rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype,
			   at_root && recvbuf == MPI_IN_PLACE)))
		return rc;
	if (at_root)
		sb = blocks_v(sendbuf, sendcounts, displs, sendtype);
	if (shm_coll_on(c) &&
	    (rc = shm_scatter(&sb, true, recvbuf, recvcount, recvtype, root, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = scatter_core(&sb, recvbuf, recvcount, recvtype, root, c, TAG_SCATTERV);
	return coll_fail(comm, rc, fn);
}

int MPI_Allgather(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		  void *recvbuf, int recvcount, MPI_Datatype recvtype,
		  MPI_Comm comm)
{
	static const char fn[] = "MPI_Allgather";
	struct blocks rb;
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_allgatherv(fn, sendbuf, sendcount, sendtype, recvbuf, NULL, NULL, recvcount, recvtype, comm);
	/* MPI-3.1 5.7: MPI_IN_PLACE as sendbuf on all ranks; each rank's
	 * block is then in its place in recvbuf already. */
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   sendbuf == MPI_IN_PLACE)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype, false)))
		return rc;
	rb = blocks_reg(recvbuf, recvcount, recvtype);
	if (shm_coll_on(c) &&
	    (rc = shm_allgather(sendbuf, sendcount, sendtype, &rb, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = sendbuf == MPI_IN_PLACE ? MPI_SUCCESS
		: local_copy(sendbuf, sendcount, sendtype, blk_addr(&rb, c->rank),
			     recvcount, recvtype);
	if (rc || nbytes(recvcount, recvtype) == 0)
		return coll_fail(comm, rc, fn);
	if ((c->size & (c->size - 1)) == 0 && (long)recvcount * c->size <= INT_MAX)
		rc = allgather_rd(recvbuf, recvcount, recvtype, c, TAG_ALLGATHER);
	else
		rc = allgather_ring(&rb, c, TAG_ALLGATHER);
	return coll_fail(comm, rc, fn);
}

int MPI_Allgatherv(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		   void *recvbuf, const int recvcounts[], const int displs[],
		   MPI_Datatype recvtype, MPI_Comm comm)
{
	static const char fn[] = "MPI_Allgatherv";
	struct blocks rb;
	struct comm *c;
	bool any;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_allgatherv(fn, sendbuf, sendcount, sendtype, recvbuf, recvcounts, displs, 0, recvtype, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   sendbuf == MPI_IN_PLACE)) ||
	    (rc = check_counts(c, fn, "receive ", recvcounts, displs, true, &any)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, any, recvtype, false)))
		return rc;
	rb = blocks_v(recvbuf, recvcounts, displs, recvtype);
	if (shm_coll_on(c) &&
	    (rc = shm_allgather(sendbuf, sendcount, sendtype, &rb, c)) != SHM_NONE)
		return coll_fail(comm, rc, fn);
	rc = sendbuf == MPI_IN_PLACE ? MPI_SUCCESS
		: local_copy(sendbuf, sendcount, sendtype, blk_addr(&rb, c->rank),
			     recvcounts[c->rank], recvtype);
	if (!rc)
		rc = allgather_ring(&rb, c, TAG_ALLGATHERV);
	return coll_fail(comm, rc, fn);
}

int MPI_Alltoall(const void *sendbuf, int sendcount, MPI_Datatype sendtype,
		 void *recvbuf, int recvcount, MPI_Datatype recvtype,
		 MPI_Comm comm)
{
	static const char fn[] = "MPI_Alltoall";
	struct blocks sb, rb;
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_alltoall(fn, sendbuf, NULL, NULL, sendcount, NULL, sendtype, recvbuf, NULL, NULL, recvcount, NULL, recvtype, comm);
	/* MPI-3.1 5.8: with MPI_IN_PLACE (all ranks) sendcount and sendtype
	 * are ignored and the data to send is taken from recvbuf. */
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_side(c, fn, "send ", sendbuf, sendcount, sendtype,
			   sendbuf == MPI_IN_PLACE)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, recvcount, recvtype, false)))
		return rc;
	rb = blocks_reg(recvbuf, recvcount, recvtype);
	if (shm_coll_on(c)) {
		sb = sendbuf == MPI_IN_PLACE ? rb : blocks_reg(sendbuf, sendcount, sendtype);
		rc = shm_alltoall(sendbuf == MPI_IN_PLACE ? NULL : &sb, &rb, c);
		if (rc != SHM_NONE)
			return coll_fail(comm, rc, fn);
	}
	if (sendbuf == MPI_IN_PLACE) {
		rc = alltoall_inplace(&rb, c, TAG_ALLTOALL);
	} else {
		sb = blocks_reg(sendbuf, sendcount, sendtype);
		rc = alltoall_core(&sb, &rb, c, TAG_ALLTOALL);
	}
	return coll_fail(comm, rc, fn);
}

int MPI_Alltoallv(const void *sendbuf, const int sendcounts[],
		  const int sdispls[], MPI_Datatype sendtype, void *recvbuf,
		  const int recvcounts[], const int rdispls[],
		  MPI_Datatype recvtype, MPI_Comm comm)
{
	static const char fn[] = "MPI_Alltoallv";
	struct blocks sb, rb;
	struct comm *c;
	bool any, in_place;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_alltoall(fn, sendbuf, sendcounts, sdispls, 0, NULL, sendtype, recvbuf, recvcounts, rdispls, 0, NULL, recvtype, comm);
	if ((rc = check_coll_comm(comm, fn, &c)))
		return rc;
	in_place = sendbuf == MPI_IN_PLACE;
	if (!in_place &&
	    ((rc = check_counts(c, fn, "send ", sendcounts, sdispls, true, &any)) ||
	     (rc = check_side(c, fn, "send ", sendbuf, any, sendtype, false))))
		return rc;
	if ((rc = check_counts(c, fn, "receive ", recvcounts, rdispls, true, &any)) ||
	    (rc = check_side(c, fn, "receive ", recvbuf, any, recvtype, false)))
		return rc;
	rb = blocks_v(recvbuf, recvcounts, rdispls, recvtype);
	if (shm_coll_on(c)) {
		sb = sendbuf == MPI_IN_PLACE ? rb : blocks_v(sendbuf, sendcounts, sdispls, sendtype);
		rc = shm_alltoall(sendbuf == MPI_IN_PLACE ? NULL : &sb, &rb, c);
		if (rc != SHM_NONE)
			return coll_fail(comm, rc, fn);
	}
	if (in_place) {
		rc = alltoall_inplace(&rb, c, TAG_ALLTOALLV);
	} else {
		sb = blocks_v(sendbuf, sendcounts, sdispls, sendtype);
		rc = alltoall_core(&sb, &rb, c, TAG_ALLTOALLV);
	}
	return coll_fail(comm, rc, fn);
}

int MPI_Alltoallw(const void *sendbuf, const int sendcounts[],
		  const int sdispls[], const MPI_Datatype sendtypes[],
		  void *recvbuf, const int recvcounts[], const int rdispls[],
		  const MPI_Datatype recvtypes[], MPI_Comm comm)
{
	static const char fn[] = "MPI_Alltoallw";
	struct blocks sb, rb;
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_alltoall(fn, sendbuf, sendcounts, sdispls, 0, sendtypes, MPI_DATATYPE_NULL, recvbuf, recvcounts, rdispls, 0, recvtypes, MPI_DATATYPE_NULL, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (sendbuf != MPI_IN_PLACE &&
	     (rc = check_w_side(c, fn, "send ", sendbuf, sendcounts, sdispls, sendtypes))) ||
	    (rc = check_w_side(c, fn, "receive ", recvbuf, recvcounts, rdispls, recvtypes)))
		return rc;
	rb = blocks_w(recvbuf, recvcounts, rdispls, recvtypes);
	if (shm_coll_on(c)) {
		sb = sendbuf == MPI_IN_PLACE ? rb : blocks_w(sendbuf, sendcounts, sdispls, sendtypes);
		rc = shm_alltoall(sendbuf == MPI_IN_PLACE ? NULL : &sb, &rb, c);
		if (rc != SHM_NONE)
			return coll_fail(comm, rc, fn);
	}
	if (sendbuf == MPI_IN_PLACE) {
		rc = alltoall_inplace(&rb, c, TAG_ALLTOALLW);
	} else {
		sb = blocks_w(sendbuf, sendcounts, sdispls, sendtypes);
		rc = alltoall_core(&sb, &rb, c, TAG_ALLTOALLW);
	}
	return coll_fail(comm, rc, fn);
}

int MPI_Reduce_scatter_block(const void *sendbuf, void *recvbuf, int recvcount,
			     MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	static const char fn[] = "MPI_Reduce_scatter_block";
	struct blocks rb;
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_reduce_scatter(fn, sendbuf, recvbuf, NULL, recvcount, datatype, op, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_red(c, fn, sendbuf, recvbuf, recvcount, datatype, op)))
		return rc;
	if ((long)recvcount * c->size > INT_MAX)
		return mpi_err(comm, MPI_ERR_COUNT, fn, "%d ranks times count %d is too large",
			       c->size, recvcount);
	if (nbytes(recvcount, datatype) == 0)
		return MPI_SUCCESS;
	/* MPI-3.1 5.10.1: with MPI_IN_PLACE the input is taken from recvbuf. */
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	rb = blocks_reg(NULL, recvcount, datatype);
	rc = redscat_core(sendbuf, recvbuf, &rb, recvcount * c->size, datatype, op,
			  c, TAG_REDSCAT_BLOCK);
	return coll_fail(comm, rc, fn);
}

int MPI_Reduce_scatter(const void *sendbuf, void *recvbuf, const int recvcounts[],
		       MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	static const char fn[] = "MPI_Reduce_scatter";
	struct blocks rb;
	struct comm *c;
	int rc, total = 0, *displs;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return inter_reduce_scatter(fn, sendbuf, recvbuf, recvcounts, 0, datatype, op, comm);
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_redscat_counts(c, fn, recvcounts, &total)))
		return rc;
	/* sendbuf holds total elements, recvbuf recvcounts[rank]; with
	 * MPI_IN_PLACE recvbuf holds the input, total (MPI-3.1 5.10.1). */
	if ((rc = check_type(c, fn, "", total, datatype)) ||
	    (rc = check_op(c, fn, op, datatype)) ||
	    (sendbuf != MPI_IN_PLACE &&
	     (rc = check_buf(c, fn, "send ", sendbuf, total, datatype))) ||
	    (rc = check_buf(c, fn, "receive ", recvbuf, sendbuf == MPI_IN_PLACE ?
			  total : recvcounts[c->rank], datatype)))
		return rc;
	if (nbytes(total, datatype) == 0)
		return MPI_SUCCESS;
	if (!(displs = malloc((size_t)c->size * sizeof *displs)))
		return coll_fail(comm, MPI_ERR_NO_MEM, fn);
	for (int i = 0, d = 0; i < c->size; d += recvcounts[i++])
		displs[i] = d;
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	rb = blocks_v(NULL, recvcounts, displs, datatype);
	rc = redscat_core(sendbuf, recvbuf, &rb, total, datatype, op, c, TAG_REDSCAT);
	free(displs);
	return coll_fail(comm, rc, fn);
}

static int scan_common(const char *fn, const void *sendbuf, void *recvbuf,
		       int count, MPI_Datatype datatype, MPI_Op op,
		       MPI_Comm comm, bool ex)
{
	struct comm *c;
	int rc;

	if (!mpi_ready(fn))
		return MPI_ERR_OTHER;
	if (comm_is_inter(comm))
		return mpi_err(comm, MPI_ERR_COMM, fn, "not defined on an intercommunicator (5.11)");
	/* MPI-3.1 5.11: MPI_IN_PLACE as sendbuf (all ranks) for both. */
	if ((rc = check_coll_comm(comm, fn, &c)) ||
	    (rc = check_red(c, fn, sendbuf, recvbuf, count, datatype, op)))
		return rc;
	if (nbytes(count, datatype) == 0)
		return MPI_SUCCESS;
	if (sendbuf == MPI_IN_PLACE)
		sendbuf = recvbuf;
	rc = scan_core(sendbuf, recvbuf, count, datatype, op, ex, c,
		       ex ? TAG_EXSCAN : TAG_SCAN);
	return coll_fail(comm, rc, fn);
}

int MPI_Scan(const void *sendbuf, void *recvbuf, int count,
	     MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	return scan_common("MPI_Scan", sendbuf, recvbuf, count, datatype, op, comm, false);
}

int MPI_Exscan(const void *sendbuf, void *recvbuf, int count,
	       MPI_Datatype datatype, MPI_Op op, MPI_Comm comm)
{
	return scan_common("MPI_Exscan", sendbuf, recvbuf, count, datatype, op, comm, true);
}
