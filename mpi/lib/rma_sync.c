/* RMA synchronisation (MPI-3.1 11.5): fence, post-start-complete-wait,
 * passive-target locks, flush and sync.
 *
 * Operations complete inside their call (rma_direct), so what is left is
 * ordering and mutual exclusion, through words in each rank's win_rank:
 *   fence   a memory fence and a barrier on the window's communicator;
 *   PSCW    Win_post adds 1 to posted[target] of every origin in its group,
 *           Win_start waits for (and takes) posted[t] > 0 for every target,
 *           Win_complete adds 1 to each target's `completes`, Win_wait
 *           waits until `completes` reaches the size of its post group;
 *   locks   `lock` of the target: -1 exclusive, n > 0 shared holders.
 * The origin's own epoch state (struct win) is what makes an operation
 * outside any epoch MPI_ERR_RMA_SYNC. */
#include <stdlib.h>
#include "rma.h"

#define LOCK_NOCHECK 0x100            /* in w->locked: taken with MPI_MODE_NOCHECK */

void rma_sync_init(struct win *w)
{
	w->locked = calloc(w->size, sizeof *w->locked);
	w->started = calloc(w->size, sizeof *w->started);
	w->fence = EPOCH_NONE;
	w->nexposed = -1;
}

void rma_sync_free(struct win *w)
{
	free(w->locked);
	free(w->started);
}

int rma_epoch_check(struct win *w, int target)
{
	if (w->fence == EPOCH_FENCE || w->lock_all || w->locked[target] || (w->access && w->started[target]))
		return MPI_SUCCESS;
	return MPI_ERR_RMA_SYNC;
}

/* Spins until *word reaches at least `value` (the writer is another core). */
static void wait_at_least(volatile int *word, int value)
{
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < value)
		__builtin_ia32_pause();
}

static struct win *sync_arg(MPI_Win win, int assert, int allowed, const char *func, int *rc)
{
	struct win *w = win_arg(win, func, rc);
	if (!w)
		return NULL;
	if (assert & ~allowed) {
		*rc = win_err(w, MPI_ERR_ASSERT, func, "assertion 0x%x is not one this call takes", assert & ~allowed);
		return NULL;
	}
	return w;
}

static bool passive_open(struct win *w)
{
	if (w->lock_all)
		return true;
	for (int i = 0; i < w->size; i++)
		if (w->locked[i])
			return true;
	return false;
}

int MPI_Win_fence(int assert, MPI_Win win)
{
	int rc;
	struct win *w = sync_arg(win, assert, MPI_MODE_NOSTORE | MPI_MODE_NOPUT | MPI_MODE_NOPRECEDE |
				 MPI_MODE_NOSUCCEED, __func__, &rc);
	if (!w)
		return rc;
	if (w->access || w->nexposed >= 0 || passive_open(w))
		return win_err(w, MPI_ERR_RMA_SYNC, __func__, "a PSCW or lock epoch is open on this window");
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	rc = MPI_Barrier(w->comm);
	w->fence = assert & MPI_MODE_NOSUCCEED ? EPOCH_NONE : EPOCH_FENCE;
	return rc;
}

/* The window ranks of the members of group (-1 for one not in it). */
static int *group_ranks(struct win *w, MPI_Group group, int *n, const char *func, int *rc)
{
	*rc = MPI_SUCCESS;
	if (MPI_Group_size(group, n) != MPI_SUCCESS) {
		*rc = win_err(w, MPI_ERR_GROUP, func, "invalid group");
		return NULL;
	}
	int *in = malloc((*n + 1) * sizeof *in), *out = malloc((*n + 1) * sizeof *out);
	MPI_Group wg;
	if (!in || !out || MPI_Comm_group(w->comm, &wg) != MPI_SUCCESS) {
		free(in), free(out);
		*rc = win_err(w, MPI_ERR_NO_MEM, func, "out of memory");
		return NULL;
	}
	for (int i = 0; i < *n; i++)
		in[i] = i;
	MPI_Group_translate_ranks(group, *n, in, wg, out);
	MPI_Group_free(&wg);
	free(in);
	for (int i = 0; i < *n; i++)
		if (out[i] == MPI_UNDEFINED) {
			free(out);
			*rc = win_err(w, MPI_ERR_GROUP, func, "member %d of the group is not in the window", i);
			return NULL;
		}
	return out;
}

int MPI_Win_post(MPI_Group group, int assert, MPI_Win win)
{
	int rc, n;
	struct win *w = sync_arg(win, assert, MPI_MODE_NOCHECK | MPI_MODE_NOSTORE | MPI_MODE_NOPUT, __func__, &rc);
	if (!w)
		return rc;
	if (w->nexposed >= 0)
		return win_err(w, MPI_ERR_RMA_SYNC, __func__, "an exposure epoch is open already");
	int *ranks = group_ranks(w, group, &n, __func__, &rc);
	if (!ranks)
		return rc;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!(assert & MPI_MODE_NOCHECK))
		for (int i = 0; i < n; i++)
			__atomic_add_fetch(&w->peer[ranks[i]]->posted[w->rank], 1, __ATOMIC_RELEASE);
	free(ranks);
	w->nexposed = n;
	return MPI_SUCCESS;
}

int MPI_Win_start(MPI_Group group, int assert, MPI_Win win)
{
	int rc, n;
	struct win *w = sync_arg(win, assert, MPI_MODE_NOCHECK, __func__, &rc);
	if (!w)
		return rc;
	if (w->access)
		return win_err(w, MPI_ERR_RMA_SYNC, __func__, "an access epoch is open already");
	int *ranks = group_ranks(w, group, &n, __func__, &rc);
	if (!ranks)
		return rc;
	for (int i = 0; i < n; i++) {
		int t = ranks[i];
		w->started[t] = true;
		if (assert & MPI_MODE_NOCHECK)
			continue;
		wait_at_least(&w->mine->posted[t], 1);
		__atomic_sub_fetch(&w->mine->posted[t], 1, __ATOMIC_ACQ_REL);
	}
	free(ranks);
	w->access = true;
	return MPI_SUCCESS;
}

int MPI_Win_complete(MPI_Win win)
{
	int rc;
	struct win *w = sync_arg(win, 0, 0, __func__, &rc);
	if (!w)
		return rc;
	if (!w->access)
		return win_err(w, MPI_ERR_RMA_SYNC, __func__, "no access epoch (MPI_Win_start) is open");
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (int t = 0; t < w->size; t++)
		if (w->started[t]) {
			__atomic_add_fetch(&w->peer[t]->completes, 1, __ATOMIC_RELEASE);
			w->started[t] = false;
		}
	w->access = false;
	return MPI_SUCCESS;
}

/* Ends the exposure epoch if every origin completed; blocking or not. */
static int end_exposure(MPI_Win win, bool block, int *flag, const char *func)
{
	int rc;
	struct win *w = sync_arg(win, 0, 0, func, &rc);
	if (!w)
		return rc;
	if (w->nexposed < 0)
		return win_err(w, MPI_ERR_RMA_SYNC, func, "no exposure epoch (MPI_Win_post) is open");
	if (block)
		wait_at_least(&w->mine->completes, w->nexposed);
	else if (__atomic_load_n(&w->mine->completes, __ATOMIC_ACQUIRE) < w->nexposed) {
		*flag = 0;
		return MPI_SUCCESS;
	}
	__atomic_sub_fetch(&w->mine->completes, w->nexposed, __ATOMIC_ACQ_REL);
	w->nexposed = -1;
	*flag = 1;
	return MPI_SUCCESS;
}

int MPI_Win_wait(MPI_Win win)
{
	int flag;
	return end_exposure(win, true, &flag, __func__);
}

int MPI_Win_test(MPI_Win win, int *flag)
{
	if (!flag)
		return win_err(win_get(win), MPI_ERR_ARG, __func__, "flag is NULL");
	return end_exposure(win, false, flag, __func__);
}

static void lock_take(volatile int *lock, int type)
{
	for (;;) {
		int v = __atomic_load_n(lock, __ATOMIC_RELAXED);
		int want = type == MPI_LOCK_EXCLUSIVE ? -1 : v + 1;
		bool free_now = type == MPI_LOCK_EXCLUSIVE ? v == 0 : v >= 0;
		if (free_now && __atomic_compare_exchange_n(lock, &v, want, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
		__builtin_ia32_pause();
	}
}

static void lock_give(volatile int *lock, int type)
{
	if (type == MPI_LOCK_EXCLUSIVE)
		__atomic_store_n(lock, 0, __ATOMIC_RELEASE);
	else
		__atomic_sub_fetch(lock, 1, __ATOMIC_RELEASE);
}

static struct win *target_arg(MPI_Win win, int rank, const char *func, int *rc)
{
	struct win *w = sync_arg(win, 0, 0, func, rc);
	if (w && (rank < 0 || rank >= w->size)) {
		*rc = win_err(w, MPI_ERR_RANK, func, "invalid rank %d (window of %d ranks)", rank, w->size);
		return NULL;
	}
	return w;
}

int MPI_Win_lock(int lock_type, int rank, int assert, MPI_Win win)
{
	int rc;
	struct win *w = sync_arg(win, assert, MPI_MODE_NOCHECK, __func__, &rc);
	if (!w)
		return rc;
	if (lock_type != MPI_LOCK_SHARED && lock_type != MPI_LOCK_EXCLUSIVE)
		return win_err(w, MPI_ERR_LOCKTYPE, __func__, "lock type %d", lock_type);
	if (rank == MPI_PROC_NULL)
		return MPI_SUCCESS;
	if (!target_arg(win, rank, __func__, &rc))
		return rc;
	if (w->locked[rank] || w->lock_all)
		return win_err(w, MPI_ERR_RMA_SYNC, __func__, "rank %d is locked already", rank);
	if (!(assert & MPI_MODE_NOCHECK))
		lock_take(&w->peer[rank]->lock, lock_type);
	w->locked[rank] = lock_type | (assert & MPI_MODE_NOCHECK ? LOCK_NOCHECK : 0);
	return MPI_SUCCESS;
}

int MPI_Win_unlock(int rank, MPI_Win win)
{
	int rc;
	if (rank == MPI_PROC_NULL)
		return sync_arg(win, 0, 0, __func__, &rc) ? MPI_SUCCESS : rc;
	struct win *w = target_arg(win, rank, __func__, &rc);
	if (!w)
		return rc;
	if (!w->locked[rank])
		return win_err(w, MPI_ERR_RMA_SYNC, __func__, "rank %d is not locked (MPI_Win_lock)", rank);
	w->path[rank]->flush(w->peer[rank]);
	if (!(w->locked[rank] & LOCK_NOCHECK))
		lock_give(&w->peer[rank]->lock, w->locked[rank]);
	w->locked[rank] = 0;
	return MPI_SUCCESS;
}

int MPI_Win_lock_all(int assert, MPI_Win win)
{
	int rc;
	struct win *w = sync_arg(win, assert, MPI_MODE_NOCHECK, __func__, &rc);
	if (!w)
		return rc;
	if (passive_open(w))
		return win_err(w, MPI_ERR_RMA_SYNC, __func__, "a lock epoch is open already");
	if (!(assert & MPI_MODE_NOCHECK))
		for (int t = 0; t < w->size; t++)
			lock_take(&w->peer[t]->lock, MPI_LOCK_SHARED);
	w->lock_all = true;
	w->lock_all_nocheck = assert & MPI_MODE_NOCHECK;
	return MPI_SUCCESS;
}

int MPI_Win_unlock_all(MPI_Win win)
{
	int rc;
	struct win *w = sync_arg(win, 0, 0, __func__, &rc);
	if (!w)
		return rc;
	if (!w->lock_all)
		return win_err(w, MPI_ERR_RMA_SYNC, __func__, "no MPI_Win_lock_all epoch is open");
	for (int t = 0; t < w->size; t++) {
		w->path[t]->flush(w->peer[t]);
		if (!w->lock_all_nocheck)
			lock_give(&w->peer[t]->lock, MPI_LOCK_SHARED);
	}
	w->lock_all = false;
	return MPI_SUCCESS;
}

/* Flush and flush_local are the same here: an operation is complete at
 * the target when its call returns. */
static int flush_one(MPI_Win win, int rank, const char *func)
{
	int rc;
	struct win *w = target_arg(win, rank, func, &rc);
	if (!w)
		return rc;
	if (!w->lock_all && !w->locked[rank])
		return win_err(w, MPI_ERR_RMA_SYNC, func, "no lock epoch is open on rank %d", rank);
	w->path[rank]->flush(w->peer[rank]);
	return MPI_SUCCESS;
}

static int flush_all(MPI_Win win, const char *func)
{
	int rc;
	struct win *w = sync_arg(win, 0, 0, func, &rc);
	if (!w)
		return rc;
	if (!passive_open(w))
		return win_err(w, MPI_ERR_RMA_SYNC, func, "no lock epoch is open");
	for (int t = 0; t < w->size; t++)
		w->path[t]->flush(w->peer[t]);
	return MPI_SUCCESS;
}

int MPI_Win_flush(int rank, MPI_Win win) { return flush_one(win, rank, __func__); }
int MPI_Win_flush_local(int rank, MPI_Win win) { return flush_one(win, rank, __func__); }
int MPI_Win_flush_all(MPI_Win win) { return flush_all(win, __func__); }
int MPI_Win_flush_local_all(MPI_Win win) { return flush_all(win, __func__); }

/* 11.5.4: in the unified model the public and private copies are one;
 * what is left is the memory barrier. */
int MPI_Win_sync(MPI_Win win)
{
	int rc;
	if (!sync_arg(win, 0, 0, __func__, &rc))
		return rc;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return MPI_SUCCESS;
}
