/* The schedules that the nonblocking collectives are made of (nbc.h).
 * They follow the algorithms of the blocking forms (coll_alg.c) with the same
 * rank-order rules for non-commutative ops; where coll_alg.c swaps two
 * buffers after a fold, the swap happens here while building, since the
 * schedule only records which buffer each step uses. */
#include "coll.h"
#include "nbc.h"

void nbc_bcast(struct nbc_sched *s, void *buf, int count, MPI_Datatype dt, int root)
{
	struct comm *c = nbc_comm(s);
	int size = c->size, vr = (c->rank - root + size) % size, mask;

	for (mask = 1; mask < size; mask <<= 1)
		if (vr & mask) {
			nbc_recv(s, buf, count, dt, (vr - mask + root) % size);
			nbc_round(s);
			break;
		}
	for (mask >>= 1; mask > 0; mask >>= 1)
		if (vr + mask < size)
			nbc_send(s, buf, count, dt, (vr + mask + root) % size);
	nbc_round(s);
}

/* Binomial tree as reduce_core in coll_alg.c: rooted at root for a
 * commutative op, else at rank 0 over plain ranks (a child's ranks follow
 * its parent's, so acc := acc op child keeps rank order), rank 0 then
 * passing the result to root. All children's receives go in one round. */
void nbc_reduce_to(struct nbc_sched *s, const void *mine, void *out, int count,
		   MPI_Datatype dt, MPI_Op op, int root)
{
	struct comm *c = nbc_comm(s);
	int size = c->size, rank = c->rank;
	bool comm = op_commutative(op);
	int troot = comm ? root : 0, vr = (rank - troot + size) % size, mask;
	const char *acc = mine;
	char *kid[32];
	int nkids = 0;

	for (mask = 1; mask < size && !(vr & mask) && vr + mask < size; mask <<= 1) {
		if (!(kid[nkids] = nbc_tmp_typed(s, count, dt)))
			return;
		nbc_recv(s, kid[nkids++], count, dt, (vr + mask + troot) % size);
	}
	if (nkids) {
		char *a = vr == 0 && rank == root ? out : nbc_tmp_typed(s, count, dt);
		if (!a)
			return;
		nbc_copy(s, mine, count, dt, a, count, dt);
		nbc_round(s);
		for (int k = 0; k < nkids; k++) {
			if (comm) {
				nbc_reduce(s, op, kid[k], a, count, dt);
			} else {        /* kid := a op kid, which becomes a */
				nbc_reduce(s, op, a, kid[k], count, dt);
				a = kid[k];
			}
		}
		acc = a;
	}
	if (vr != 0)
		nbc_send(s, acc, count, dt, (vr - (vr & -vr) + troot) % size);
	else if (rank != root)
		nbc_send(s, acc, count, dt, root);
	else
		nbc_copy(s, acc, count, dt, out, count, dt);
	if (rank == root && vr != 0)
		nbc_recv(s, out, count, dt, troot);
	nbc_round(s);
}

void nbc_gather(struct nbc_sched *s, const void *sbuf, int scount, MPI_Datatype st,
		const struct blocks *rb, int root)
{
	struct comm *c = nbc_comm(s);

	if (c->rank != root) {
		if (nbc_bytes(scount, st))
			nbc_send(s, sbuf, scount, st, root);
		nbc_round(s);
		return;
	}
	for (int i = 0; i < c->size; i++)
		if (i != root && blk_bytes(rb, i))
			nbc_recv(s, blk_addr(rb, i), blk_count(rb, i), blk_type(rb, i), i);
	if (sbuf != MPI_IN_PLACE)
		nbc_copy(s, sbuf, scount, st, blk_addr(rb, root), blk_count(rb, root),
			 blk_type(rb, root));
	nbc_round(s);
}

void nbc_scatter(struct nbc_sched *s, const struct blocks *sb, void *rbuf, int rcount,
		 MPI_Datatype rt, int root)
{
	struct comm *c = nbc_comm(s);

	if (c->rank != root) {
		if (nbc_bytes(rcount, rt))
			nbc_recv(s, rbuf, rcount, rt, root);
		nbc_round(s);
		return;
	}
	for (int i = 0; i < c->size; i++)
		if (i != root && blk_bytes(sb, i))
			nbc_send(s, blk_addr(sb, i), blk_count(sb, i), blk_type(sb, i), i);
	if (rbuf != MPI_IN_PLACE)
		nbc_copy(s, blk_addr(sb, root), blk_count(sb, root), blk_type(sb, root),
			 rbuf, rcount, rt);
	nbc_round(s);
}

/* Ring: in round k each rank passes on the block it got in round k-1 (its
 * own first) to rank+1 and gets the next from rank-1. */
void nbc_allgather(struct nbc_sched *s, const struct blocks *rb)
{
	struct comm *c = nbc_comm(s);
	int size = c->size, rank = c->rank;
	int right = (rank + 1) % size, left = (rank - 1 + size) % size;

	for (int k = 0; k < size - 1; k++) {
		int sj = (rank - k + size) % size, rj = (rank - k - 1 + size) % size;

		nbc_recv(s, blk_addr(rb, rj), blk_count(rb, rj), blk_type(rb, rj), left);
		nbc_send(s, blk_addr(rb, sj), blk_count(rb, sj), blk_type(rb, sj), right);
		nbc_round(s);
	}
}

/* Every send and receive in one round; the own block is a local copy. */
void nbc_alltoall(struct nbc_sched *s, const struct blocks *sb, const struct blocks *rb)
{
	struct comm *c = nbc_comm(s);
	int size = c->size, rank = c->rank;
	struct blocks copy;

	if (!sb) {              /* MPI-3.1 5.8: in place, send what rb holds now */
		void *p = blocks_clone(rb, size, &copy);
		nbc_keep(s, p);
		if (!p)
			return;
		sb = &copy;
	}
	nbc_copy(s, blk_addr(sb, rank), blk_count(sb, rank), blk_type(sb, rank),
		 blk_addr(rb, rank), blk_count(rb, rank), blk_type(rb, rank));
	for (int i = 1; i < size; i++) {
		int dst = (rank + i) % size, src = (rank - i + size) % size;

		nbc_recv(s, blk_addr(rb, src), blk_count(rb, src), blk_type(rb, src), src);
		nbc_send(s, blk_addr(sb, dst), blk_count(sb, dst), blk_type(sb, dst), dst);
	}
	nbc_round(s);
}

/* Recursive doubling in rank order as scan_core in coll_alg.c: after the round
 * with mask m, part holds the reduction over this rank's aligned group of
 * 2m ranks, rbuf the one up to (or, ex, before) this rank. */
void nbc_scan(struct nbc_sched *s, const void *mine, void *rbuf, int count, MPI_Datatype dt,
	      MPI_Op op, bool ex)
{
	struct comm *c = nbc_comm(s);
	int size = c->size, rank = c->rank;
	bool have = !ex, comm = op_commutative(op);
	char *part = nbc_tmp_typed(s, count, dt), *tmp = nbc_tmp_typed(s, count, dt), *t;

	if (!part || !tmp)
		return;
	nbc_copy(s, mine, count, dt, part, count, dt);
	if (!ex)
		nbc_copy(s, mine, count, dt, rbuf, count, dt);
	for (int mask = 1; mask < size; mask <<= 1) {
		int peer = rank ^ mask;

		if (peer >= size)
			continue;
		nbc_recv(s, tmp, count, dt, peer);
		nbc_send(s, part, count, dt, peer);
		nbc_round(s);
		if (peer > rank) {              /* part := part op tmp */
			if (comm) {
				nbc_reduce(s, op, tmp, part, count, dt);
			} else {
				nbc_reduce(s, op, part, tmp, count, dt);
				t = part;
				part = tmp;
				tmp = t;
			}
			continue;
		}
		if (have)                       /* rbuf := tmp op rbuf */
			nbc_reduce(s, op, tmp, rbuf, count, dt);
		else
			nbc_copy(s, tmp, count, dt, rbuf, count, dt);
		have = true;
		nbc_reduce(s, op, tmp, part, count, dt);
	}
	nbc_round(s);
}
