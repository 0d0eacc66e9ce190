/* The schedule engine of the nonblocking collectives (nbc.h).
 *
 * A schedule keeps its steps in one array; a STEP_ROUND step ends a
 * round. `pc` is the next step to run, `reqs` the sends and receives of
 * the round that runs. Started schedules are on a list that
 * nbc_progress() walks; one that reaches its end completes its request
 * and is freed. A failed step (a truncated receive, an op undefined on
 * the type) is recorded and the schedule goes on, so that the other
 * ranks, which wait for its messages, do not wait forever; the first
 * error is the request's. */
#include <stdlib.h>
#include <string.h>
#include "coll.h"
#include "nbc.h"

enum { STEP_SEND, STEP_RECV, STEP_COPY, STEP_REDUCE, STEP_CALL, STEP_ROUND };

struct step {
	int kind;
	const void *src;          /* send buffer, copy/reduce input */
	void *dst;                /* receive buffer, copy/reduce output */
	int count, rcount, peer;
	MPI_Datatype dt, rdt;
	MPI_Op op;
	/* op_apply, through a pointer: a program that reduces nothing then
	 * links no op kernels (--gc-sections, scripts/toro-mpicc) */
	int (*reduce)(MPI_Op, const void *, void *, int, MPI_Datatype);
	nbc_fn *fn;
	void *arg;
};

struct nbc_sched {
	struct comm *c;
	int tag;
	struct step *steps;
	int nsteps, cap, pc;
	MPI_Request *reqs;
	int nreqs, reqcap;
	void **tmps;
	int ntmps;
	int err;
	void *req;                /* p2p.c's request, once started */
	struct nbc_sched *next;
};

int nbc_nactive;
static struct nbc_sched *active;
static bool busy;                 /* a schedule is advancing: no re-entry */
static unsigned queued;           /* schedules started while busy */

struct nbc_sched *nbc_new(struct comm *c)
{
	struct nbc_sched *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->c = c;
	c->refs++;
	s->tag = NBC_TAG_BASE + (int)(c->nbc_seq++ & NBC_TAG_MASK);
	return s;
}

struct comm *nbc_comm(struct nbc_sched *s) { return s->c; }

void nbc_fail(struct nbc_sched *s, int err)
{
	if (!s->err)
		s->err = err;
}

static struct step *add(struct nbc_sched *s, int kind)
{
	static struct step spare;
	if (s->nsteps == s->cap) {
		int n = s->cap ? 2 * s->cap : 16;
		struct step *t = realloc(s->steps, (size_t)n * sizeof *t);
		if (!t) {
			nbc_fail(s, MPI_ERR_NO_MEM);
			return &spare;
		}
		s->steps = t;
		s->cap = n;
	}
	struct step *p = &s->steps[s->nsteps++];
	memset(p, 0, sizeof *p);
	p->kind = kind;
	p->dt = p->rdt = MPI_DATATYPE_NULL;
	return p;
}

static void hold(MPI_Datatype dt)
{
	if (dt != MPI_DATATYPE_NULL)
		dtype_retain(dt);
}

void nbc_send(struct nbc_sched *s, const void *buf, int count, MPI_Datatype dt, int peer)
{
	struct step *p = add(s, STEP_SEND);
	*p = (struct step){.kind = STEP_SEND, .src = buf, .count = count, .dt = dt, .peer = peer,
			   .rdt = MPI_DATATYPE_NULL};
	hold(dt);
}

void nbc_recv(struct nbc_sched *s, void *buf, int count, MPI_Datatype dt, int peer)
{
	struct step *p = add(s, STEP_RECV);
	*p = (struct step){.kind = STEP_RECV, .dst = buf, .count = count, .dt = dt, .peer = peer,
			   .rdt = MPI_DATATYPE_NULL};
	hold(dt);
}

void nbc_copy(struct nbc_sched *s, const void *src, int scount, MPI_Datatype st,
	      void *dst, int rcount, MPI_Datatype rt)
{
	struct step *p = add(s, STEP_COPY);
	*p = (struct step){.kind = STEP_COPY, .src = src, .count = scount, .dt = st,
			   .dst = dst, .rcount = rcount, .rdt = rt};
	hold(st);
	hold(rt);
}

void nbc_reduce(struct nbc_sched *s, MPI_Op op, const void *in, void *inout, int count,
		MPI_Datatype dt)
{
	struct step *p = add(s, STEP_REDUCE);
	*p = (struct step){.kind = STEP_REDUCE, .op = op, .src = in, .dst = inout,
			   .count = count, .dt = dt, .rdt = MPI_DATATYPE_NULL, .reduce = op_apply};
	hold(dt);
}

void nbc_call(struct nbc_sched *s, nbc_fn *fn, void *arg)
{
	struct step *p = add(s, STEP_CALL);
	p->fn = fn;
	p->arg = arg;
}

void nbc_round(struct nbc_sched *s)
{
	if (s->nsteps > 0 && s->steps[s->nsteps - 1].kind != STEP_ROUND)
		add(s, STEP_ROUND);
}

void nbc_keep(struct nbc_sched *s, void *p)
{
	void **t = p ? realloc(s->tmps, (size_t)(s->ntmps + 1) * sizeof *t) : NULL;
	if (!t) {
		free(p);
		nbc_fail(s, MPI_ERR_NO_MEM);
		return;
	}
	s->tmps = t;
	s->tmps[s->ntmps++] = p;
}

void *nbc_tmp(struct nbc_sched *s, size_t bytes)
{
	int n = s->ntmps;
	nbc_keep(s, malloc(bytes ? bytes : 1));
	return s->ntmps > n ? s->tmps[n] : NULL;
}

void *nbc_tmp_typed(struct nbc_sched *s, int count, MPI_Datatype dt)
{
	char *base;
	int n = s->ntmps;
	nbc_keep(s, tmp_alloc(count > 0 ? count : 1, dt, &base));
	return s->ntmps > n ? base : NULL;
}

static void sched_free(struct nbc_sched *s)
{
	for (int i = 0; i < s->nsteps; i++) {
		if (s->steps[i].dt != MPI_DATATYPE_NULL)
			dtype_release(s->steps[i].dt);
		if (s->steps[i].rdt != MPI_DATATYPE_NULL)
			dtype_release(s->steps[i].rdt);
	}
	for (int i = 0; i < s->nreqs; i++)
		if (s->reqs[i] != MPI_REQUEST_NULL)
			p2p_wait(&s->reqs[i], MPI_STATUS_IGNORE);
	for (int i = 0; i < s->ntmps; i++)
		free(s->tmps[i]);
	comm_release(s->c);
	free(s->tmps);
	free(s->reqs);
	free(s->steps);
	free(s);
}

static MPI_Request *new_req(struct nbc_sched *s)
{
	if (s->nreqs == s->reqcap) {
		int n = s->reqcap ? 2 * s->reqcap : 8;
		MPI_Request *t = realloc(s->reqs, (size_t)n * sizeof *t);
		if (!t)
			return NULL;
		s->reqs = t;
		s->reqcap = n;
	}
	return &s->reqs[s->nreqs++];
}

/* Runs one step of a round that starts. */
static int run_step(struct nbc_sched *s, struct step *p)
{
	MPI_Request *r;

	switch (p->kind) {
	case STEP_SEND:
	case STEP_RECV:
		if (p->peer == MPI_PROC_NULL)
			return MPI_SUCCESS;
		if (!(r = new_req(s)))
			return MPI_ERR_NO_MEM;
		*r = MPI_REQUEST_NULL;
		if (p->kind == STEP_SEND)
			return p2p_isend(p->src, p->count, p->dt, p->peer, s->tag, s->c, 1, 0, r);
		return p2p_irecv(p->dst, p->count, p->dt, p->peer, s->tag, s->c, 1, r);
	case STEP_COPY:
		return local_copy(p->src, p->count, p->dt, p->dst, p->rcount, p->rdt);
	case STEP_REDUCE:
		return p->count ? p->reduce(p->op, p->src, p->dst, p->count, p->dt) : MPI_SUCCESS;
	case STEP_CALL:
		return p->fn(s, p->arg);
	}
	return MPI_SUCCESS;
}

/* Advances s as far as it goes; true when it has ended. */
static bool advance(struct nbc_sched *s)
{
	for (;;) {
		for (int i = 0; i < s->nreqs; i++) {
			bool done;
			int err = p2p_poll(&s->reqs[i], &done);
			if (!done)
				return false;
			if (err)
				nbc_fail(s, err);
		}
		s->nreqs = 0;
		if (s->pc >= s->nsteps)
			return true;
		while (s->pc < s->nsteps) {
			/* a call step may add steps: index, not pointer */
			int i = s->pc++;
			if (s->steps[i].kind == STEP_ROUND)
				break;
			int err = run_step(s, &s->steps[i]);
			if (err)
				nbc_fail(s, err);
		}
	}
}

static void finish_sched(struct nbc_sched *s)
{
	p2p_coll_done(s->req, s->err);
	sched_free(s);
}

void nbc_progress(void)
{
	if (busy)
		return;
	busy = true;
	/* posting a receive reads the bus, which may complete a receive of a
	 * schedule passed already: then pass again, or a waiting rank would
	 * halt with work left */
	unsigned seen, nq;
	do {
		seen = p2p_delivered;
		nq = queued;
		for (struct nbc_sched **pp = &active; *pp;) {
			struct nbc_sched *s = *pp;
			if (advance(s)) {
				*pp = s->next;
				nbc_nactive--;
				finish_sched(s);
			} else {
				pp = &s->next;
			}
		}
	} while ((seen != p2p_delivered || nq != queued) && active);
	busy = false;
}

bool nbc_ready(void)
{
	for (struct nbc_sched *s = active; s; s = s->next)
		for (int i = 0; i < s->nreqs; i++)
			if (p2p_wakes(s->reqs[i]))
				return true;
	return false;
}

int nbc_start(struct nbc_sched *s, MPI_Request *req)
{
	int err = s->err;
	if (!err && !(s->req = p2p_coll_request(s->c, req)))
		err = MPI_ERR_NO_MEM;
	if (err) {
		sched_free(s);
		return err;
	}
	/* posts the first round now (unless a schedule is advancing: then
	 * the next progress call does) */
	if (busy) {
		queued++;
	} else {
		busy = true;
		bool done = advance(s);
		busy = false;
		if (done) {
			finish_sched(s);
			return MPI_SUCCESS;
		}
	}
	s->next = active;
	active = s;
	nbc_nactive++;
	return MPI_SUCCESS;
}
