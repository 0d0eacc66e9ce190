/* MPI_THREAD_MULTIPLE (issue 15, MPI-3.1 section 12.4): one lock per rank
 * makes the library safe for concurrent calls from the rank's threads.
 * Every MPI_X a program calls enters through a trampoline
 * (scripts/gen-mt-wrap, build/mpi/mt_wrap.S) that jumps straight to
 * PMPI_X unless the program asked for MPI_THREAD_MULTIPLE and the rank
 * has more than one thread; then toro_mt_call takes the lock around the
 * call. The lock is per thread recursive (a user callback may call MPI)
 * and is let go while a call waits (mt_suspend), so the threads of a rank
 * take turns in the progress engine: lock, progress once, unlock, wait. */
#include "impl.h"
#include "thread.h"

#define MT_DEPTH 32

static const int one_thread = 1;
/* Read by the trampolines: the rank's live thread count once the level is
 * MULTIPLE, a constant 1 before. */
const volatile int *toro_mt_threads = &one_thread;

static volatile int rank_lock;
static _Thread_local int depth;
static _Thread_local uint64_t saved_ret[MT_DEPTH];
static _Thread_local int main_thread;

static void lock_acquire(void)
{
	while (__atomic_exchange_n(&rank_lock, 1, __ATOMIC_ACQUIRE)) {
		for (int i = 0; i < 64 && __atomic_load_n(&rank_lock, __ATOMIC_RELAXED); i++)
			__builtin_ia32_pause();
		toro->yield(); /* the holder may share this core */
	}
}

/* Another thread of the rank may wait for what this one just did (a
 * message it matched for it): wake the rank's halted cores. */
static void lock_release(void)
{
	__atomic_store_n(&rank_lock, 0, __ATOMIC_RELEASE);
	toro->notify(toro->rank);
}

/* Called by toro_mt_call with the caller's return address, which it
 * keeps here while the call runs (the trampoline leaves the stack as the
 * caller built it, stack arguments included). */
void toro_mt_enter(uint64_t ret)
{
	if (depth == MT_DEPTH)
		toro->abort_job(MPI_ERR_INTERN, "MPI error: MPI calls nested too deeply in callbacks");
	if (depth++ == 0)
		lock_acquire();
	saved_ret[depth - 1] = ret;
}

uint64_t toro_mt_leave(void)
{
	uint64_t ret = saved_ret[--depth];
	if (depth == 0)
		lock_release();
	return ret;
}

int mt_suspend(void)
{
	int held = depth;
	if (held) {
		depth = 0;
		lock_release();
	}
	return held;
}

void mt_resume(int held)
{
	if (held) {
		lock_acquire();
		depth = held;
	}
}

/* p2p_progress for a thread that waits with the lock let go (inside a
 * wait_until cond, coll_shm.c): straight when no other thread can be in
 * the library, else only if the lock is free (taken around the call);
 * when another thread holds it, that thread makes the progress. */
void mt_progress(void)
{
	if (depth || *toro_mt_threads <= 1) {
		p2p_progress();
		return;
	}
	if (__atomic_exchange_n(&rank_lock, 1, __ATOMIC_ACQUIRE))
		return;
	depth = 1;
	p2p_progress();
	depth = 0;
	lock_release();
}

/* MPI_Init_thread: the level granted (12.4.3: the one asked for; Toro
 * has all four), and the thread that is "main" (12.4.2). */
int mt_init(int required)
{
	int level = required < MPI_THREAD_SINGLE ? MPI_THREAD_SINGLE
		  : required > MPI_THREAD_MULTIPLE ? MPI_THREAD_MULTIPLE : required;
	main_thread = 1;
	if (level == MPI_THREAD_MULTIPLE && toro->nthreads)
		toro_mt_threads = toro->nthreads;
	return level;
}

bool mt_is_main(void) { return main_thread; }
