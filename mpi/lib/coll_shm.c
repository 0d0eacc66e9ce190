/* The engine of the shared-memory collectives (coll_shm.h): control
 * blocks, stamps, waiting and waking. */
#include <stdlib.h>
#include <string.h>
#include "coll_shm.h"
#include "thread.h"

#define TAG_SHM_SETUP 0x3ff00      /* below nbc.h's tags, above coll.c's */
#define SPIN_POLLS 200             /* looks before waiting through the kernel */

struct shm_block {                 /* malloc'd by comm rank 0 */
	int size;
	int detached;              /* ranks whose communicator is gone */
	struct shm_block *next;    /* rank 0's blocks still in use by others */
	char *slots;               /* 2 * size slots, after the lines */
	struct shm_line line[];
};

struct shm_coll {                  /* a communicator's local state */
	struct shm_block *b;       /* NULL: no block, the message path */
	uint64_t seq;              /* operations so far */
	struct shm_piece *tab;
	struct shm_use use[2];
};

static bool enabled = true;
static struct shm_block *dead; /* freed here once every rank let go */

void shm_coll_init(void)
{
	const char *e = getenv("TORO_SHM_COLL");
	enabled = !(e && strcmp(e, "0") == 0);
}

bool shm_coll_on(const struct comm *c)
{
	return enabled && !c->inter && c->size > 1 && !(c->shm && !c->shm->b);
}

static void reap(void)
{
	for (struct shm_block **pp = &dead; *pp;) {
		struct shm_block *b = *pp;
		if (__atomic_load_n(&b->detached, __ATOMIC_ACQUIRE) == b->size) {
			*pp = b->next;
			free(b);
		} else {
			pp = &b->next;
		}
	}
}

/* Every rank detaches; the last one's detach lets rank 0 free the block,
 * at once if it is last, else later (reap). No rank touches the block
 * after detaching: its operations have all returned. */
void shm_coll_free(struct comm *c)
{
	struct shm_coll *s = c->shm;
	if (!s)
		return;
	c->shm = NULL;
	struct shm_block *b = s->b;
	free(s->tab);
	free(s);
	if (!b)
		return;
	int n = __atomic_add_fetch(&b->detached, 1, __ATOMIC_ACQ_REL);
	if (c->rank != 0)
		return;
	if (n == b->size) {
		free(b);
	} else {
		b->next = dead;
		dead = b;
	}
	reap();
}

/* The first operation on c: rank 0 makes the block and sends its
 * address to every other rank (NULL when out of memory: everyone then
 * stays on the message path). */
static int setup(struct comm *c)
{
	struct shm_coll *s = calloc(1, sizeof *s);
	struct shm_block *b = NULL;
	int rc = MPI_SUCCESS;

	if (!s || !(s->tab = malloc((size_t)c->size * sizeof *s->tab))) {
		free(s);
		return MPI_ERR_NO_MEM;
	}
	if (c->rank == 0) {
		reap();
		size_t lines = sizeof *b + (size_t)c->size * sizeof b->line[0];
		size_t bytes = lines + 2 * (size_t)c->size * SHM_SLOT;
		if ((b = aligned_alloc(64, bytes))) {
			memset(b, 0, lines);
			b->size = c->size;
			b->slots = (char *)b + lines;
		}
		for (int i = 1; i < c->size && !rc; i++)
			rc = coll_send(&b, sizeof b, MPI_BYTE, i, TAG_SHM_SETUP, c);
	} else {
		rc = coll_recv(&b, sizeof b, MPI_BYTE, 0, TAG_SHM_SETUP, c);
	}
	s->b = rc ? NULL : b;
	c->shm = s;
	return rc;
}

int shm_start(struct comm *c, struct shm_op *o)
{
	int rc;
	if (!c->shm && (rc = setup(c)))
		return rc;
	struct shm_coll *s = c->shm;
	if (!s->b)
		return SHM_NONE;
	*o = (struct shm_op){ .c = c, .line = s->b->line, .slots = s->b->slots, .tab = s->tab, .use = s->use, .k = ++s->seq,
			      .me = c->rank, .size = c->size };
	return MPI_SUCCESS;
}

#define ALL_RANKS 0xfff

/* What a line's `waits` says while its rank waits for rank r's stamp s
 * (r = ALL_RANKS: every other rank's stamp s to reach its wait_k). */
static uint32_t waits_for(int s, int r)
{
	return (uint32_t)(1 + s) | (uint32_t)r << 4;
}

/* The lowest stamp s of all ranks (m[0], that of rank *at) and the
 * lowest of the others (m[1]): a waiter's own stamp does not count. */
static void low_stamps(const struct shm_op *o, int s, uint64_t *m, int *at)
{
	m[0] = m[1] = UINT64_MAX;
	for (int i = 0; i < o->size; i++) {
		uint64_t v = __atomic_load_n(&o->line[i].stamp[s], __ATOMIC_ACQUIRE);
		if (v < m[0]) {
			m[1] = m[0];
			m[0] = v;
			*at = i;
		} else if (v < m[1]) {
			m[1] = v;
		}
	}
}

/* After this rank set stamp s: wakes those of `to` that wait for it, or
 * that wait for everyone's and now have them all (so a barrier's
 * waiters are woken once, by the last rank to come). A waiter sets
 * `waits` before its last look at the stamps, a waker reads it after
 * setting the stamp, with a full fence between on both sides (store then
 * load), so one of them sees the other's store. */
static void wake(struct shm_op *o, int to, int s)
{
	uint64_t m[2];
	int at = -1;

	if (to < -1)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (int i = to < 0 ? 0 : to; i < (to < 0 ? o->size : to + 1); i++) {
		if (i == o->me)
			continue;
		uint32_t w = __atomic_load_n(&o->line[i].waits, __ATOMIC_ACQUIRE);
		if (w == waits_for(s, ALL_RANKS)) {
			if (at < 0)
				low_stamps(o, s, m, &at);
			if (m[i == at] < __atomic_load_n(&o->line[i].wait_k, __ATOMIC_RELAXED))
				continue;
		} else if (w != waits_for(s, o->me)) {
			continue;
		}
		toro->notify(o->c->world[i]);
	}
}

void shm_publish(struct shm_op *o, const void *ptr, const void *ptr2, size_t len, int to)
{
	struct shm_line *l = &o->line[o->me];
	l->ptr = ptr;
	l->ptr2 = ptr2;
	l->len = len;
	__atomic_store_n(&l->stamp[SHM_POST], o->k, __ATOMIC_RELEASE);
	wake(o, to, SHM_POST);
}

void shm_mark(struct shm_op *o, int s, int to)
{
	__atomic_store_n(&o->line[o->me].stamp[s], o->k, __ATOMIC_RELEASE);
	wake(o, to, s);
}

void shm_finish(struct shm_op *o, int from)
{
	shm_mark(o, SHM_DONE, from);
}

char *shm_slot(const struct shm_op *o, int r)
{
	return o->slots + ((size_t)r * 2 + (o->k & 1)) * SHM_SLOT;
}

/* ---- waiting ---- */

struct shm_wait {
	const struct shm_op *o;
	int s, next, end;          /* ranks next .. end-1 are left to look at */
	uint64_t k;                /* for the stamp to reach */
	bool tell;                 /* about to halt: say whom it waits for */
	bool all;                  /* for every other rank */
};

static bool stamped(const struct shm_wait *w)
{
	return __atomic_load_n(&w->o->line[w->next].stamp[w->s], __ATOMIC_ACQUIRE) >= w->k;
}

/* Only the rank waited for at the moment, or for all of them the last
 * one, is asked to wake this one. */
static bool arrived(struct shm_wait *w)
{
	const struct shm_op *o = w->o;
	struct shm_line *l = &o->line[o->me];
	uint32_t want = waits_for(w->s, w->all ? ALL_RANKS : w->next);
	for (; w->next < w->end; w->next++) {
		if (w->next == o->me || stamped(w))
			continue;
		if (!w->tell)
			return false;
		if (!w->all)
			want = waits_for(w->s, w->next);
		if (__atomic_load_n(&l->waits, __ATOMIC_RELAXED) != want) {
			__atomic_store_n(&l->wait_k, w->k, __ATOMIC_RELAXED);
			__atomic_store_n(&l->waits, want, __ATOMIC_RELEASE);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (stamped(w))
				continue;
		}
		return false;
	}
	return true;
}

/* Polled by toro->wait_until with the rank lock let go. */
static bool arrived_or_progress(void *arg)
{
	if (arrived(arg))
		return true;
	mt_progress();
	return arrived(arg);
}

static void wait_for(struct shm_op *o, int s, int r, uint64_t k)
{
	struct shm_wait w = { o, s, r < 0 ? 0 : r, r < 0 ? o->size : r + 1, k, false, r < 0 };

	for (int i = 0; i < SPIN_POLLS; i++) {
		if (arrived(&w))
			return;
		__builtin_ia32_pause();
	}
	p2p_progress();
	if (arrived(&w))
		return;
	w.tell = true;
	if (!arrived(&w)) {
		int held = mt_suspend();
		toro->wait_until(arrived_or_progress, &w);
		mt_resume(held);
	}
	__atomic_store_n(&o->line[o->me].waits, 0, __ATOMIC_RELAXED);
}

void shm_wait(struct shm_op *o, int s, int r)
{
	wait_for(o, s, r, o->k);
}

void shm_claim(struct shm_op *o, int readers)
{
	struct shm_use *u = &o->use[o->k & 1];
	if (u->k && u->readers >= -1)
		wait_for(o, SHM_DONE, u->readers, u->k);
	*u = (struct shm_use){ o->k, readers };
}

/* ---- data ---- */

const void *shm_bytes(const void *buf, int count, MPI_Datatype dt, void **tmp, int *rc)
{
	size_t n = (size_t)count * dtype_size(dt);

	*tmp = NULL;
	if (n == 0 || dtype_contiguous(dt))
		return buf;
	if (!(*tmp = malloc(n))) {
		*rc = MPI_ERR_NO_MEM;
		return NULL;
	}
	dtype_pack(buf, (size_t)count, dt, *tmp);
	return *tmp;
}

void shm_pack(const void *buf, int count, MPI_Datatype dt, void *dst)
{
	size_t n = (size_t)count * dtype_size(dt);

	if (n && dtype_contiguous(dt))
		memcpy(dst, buf, n);
	else if (n)
		dtype_pack(buf, (size_t)count, dt, dst);
}

int shm_unbytes(const void *src, size_t len, void *buf, int count, MPI_Datatype dt)
{
	if (len > (size_t)count * dtype_size(dt))
		return MPI_ERR_TRUNCATE;
	if (len == 0)
		return MPI_SUCCESS;
	if (dtype_contiguous(dt))
		memcpy(buf, src, len);
	else
		dtype_unpack(src, len, buf, (size_t)count, dt);
	return MPI_SUCCESS;
}
