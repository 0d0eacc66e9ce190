/* Threads inside a rank (issue 15): clone with the flags musl's
 * pthread_create passes, thread exit with the CLONE_CHILD_CLEARTID store
 * and futex wake that pthread_join waits for, gettid, set_tid_address,
 * set_robust_list, tkill/tgkill, sched_getaffinity/setaffinity within
 * the rank's cores, sched_yield. A new thread goes to the least-loaded
 * core it may use; threads that share a core take turns (nothing
 * preempts; a thread waiting in a futex or in MPI gives its core up). */
#include "defs.h"
#include "x86.h"
#include "cpu.h"
#include "sched.h"
#include "proc.h"
#include "errno.h"
#include "frame.h"
#include "../mpi/svc.h"
#include "syscalls.h"

#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_THREAD 0x10000
#define CLONE_SYSVSEM 0x40000
#define CLONE_SETTLS 0x80000
#define CLONE_PARENT_SETTID 0x100000
#define CLONE_CHILD_CLEARTID 0x200000
#define CLONE_DETACHED 0x400000 /* ignored by Linux; musl passes it */
#define CLONE_CHILD_SETTID 0x1000000
#define THREAD_FLAGS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM)
#define OPTIONAL_FLAGS (CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED | CLONE_CHILD_SETTID)

#define MAIN_TID(p) (100 + (p)->rank) /* = getpid(), as on Linux */
#define USER_KSTACK (64 * 1024)

static uint64_t rank_cores(struct proc *p)
{
	uint64_t n = threads_per_rank == 64 ? ~0ull : (1ull << threads_per_rank) - 1;
	return n << p->first_core;
}

/* Wakes the rank's halted cores: whichever of its threads waits for a
 * message, it waits on one of them. */
void rank_kick(int rank)
{
	int first = rank * threads_per_rank;
	for (int c = first; c < first + threads_per_rank && c < ncpus; c++)
		sched_kick(cpus[c]);
}

static int least_loaded(uint64_t mask)
{
	int best = -1;
	for (int c = 0; c < ncpus; c++)
		if ((mask >> c & 1) && (best < 0 || cpus[c]->load < cpus[best]->load))
			best = c;
	return best;
}

void proc_add_main_thread(struct proc *p, struct thread *t)
{
	t->tid = MAIN_TID(p);
	t->affinity = rank_cores(p);
	t->tnext = NULL;
	p->threads = t;
	p->nthreads = 1;
	if (p->services) /* the MPI library takes its lock only while threads > 1 */
		((struct toro_svc *)p->services)->nthreads = &p->nthreads;
	__atomic_add_fetch(&t->cpu->load, 1, __ATOMIC_RELAXED);
}

/* The rank's memory map and descriptors, once it has several threads.
 * The holder may wait (a file on virtio-fs), so a waiter yields its core
 * rather than spin against a thread that shares it. */
void proc_lock(struct proc *p)
{
	if (__atomic_load_n(&p->nthreads, __ATOMIC_RELAXED) <= 1)
		return;
	while (__atomic_exchange_n(&p->mlock, 1, __ATOMIC_ACQUIRE)) {
		if (this_cpu()->runq_head)
			thread_yield();
		else
			cpu_relax();
	}
}

void proc_unlock(struct proc *p) { __atomic_store_n(&p->mlock, 0, __ATOMIC_RELEASE); }

static void child_start(void *arg)
{
	struct syscall_frame f = *(struct syscall_frame *)arg;
	kfree(arg);
	/* The parent punched the stack's guard page on its core; drop any
	 * large-page translation of it this core still holds. */
	write_cr3(read_cr3());
	syscall_return_zero(&f);
}

static long clone_refused(struct proc *p, uint64_t flags)
{
	static volatile int said;
	if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		kprintf("toro: rank %d: clone with flags 0x%lx is not supported (only threads, as pthread_create "
			"makes them; no fork or vfork); returning ENOSYS\n", p->rank, flags);
	return (flags & CLONE_THREAD) ? -EINVAL : -ENOSYS;
}

/* The lowest mapped address of the stack run that holds sp (its guard
 * page, if any, is just below): for the fault report. */
static uint64_t stack_low(struct proc *p, uint64_t sp)
{
	for (struct region *r = p->regions; r; r = r->next)
		if (r->start < sp && sp <= r->end) {
			uint64_t a = r->start;
			while (a < sp && !mmu_is_mapped(a))
				a += PAGE_SIZE;
			return a;
		}
	return 0;
}

static long do_clone(uint64_t flags, uint64_t sp, uint64_t ptid, uint64_t ctid, uint64_t tls)
{
	struct proc *p = current_proc();
	struct thread *self = current_thread();
	if (!p)
		return -EINVAL;
	if ((flags & THREAD_FLAGS) != THREAD_FLAGS || (flags & ~(uint64_t)(THREAD_FLAGS | OPTIONAL_FLAGS)))
		return clone_refused(p, flags);
	if (!sp || ((flags & CLONE_PARENT_SETTID) && !user_ok((void *)ptid, 4)) ||
	    ((flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) && !user_ok((void *)ctid, 4)))
		return -EFAULT;
	struct syscall_frame *f = kmalloc(sizeof *f);
	if (!f)
		return -ENOMEM;
	*f = *(struct syscall_frame *)(this_cpu()->kstack_top - sizeof *f);
	f->rsp = sp;
	int core = least_loaded(self->affinity);
	struct thread *t = thread_new(core, "thread", child_start, f, USER_KSTACK);
	if (!t) {
		kfree(f);
		return -ENOMEM; /* Linux says EAGAIN for no resources; musl maps either */
	}
	t->rank = p->rank;
	t->tid = 1000 + t->id;
	snprintf(t->name, sizeof t->name, "rank%d.%d", p->rank, t->tid);
	t->affinity = self->affinity;
	t->fs_base = (flags & CLONE_SETTLS) ? tls : self->fs_base;
	t->clear_tid = (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
	t->detached = 1; /* freed when it ends; pthread_join waits on clear_tid */
	proc_lock(p);
	t->user_stack = (uint8_t *)stack_low(p, sp);
	proc_unlock(p);
	t->user_stack_size = t->user_stack ? sp - (uint64_t)t->user_stack : 0;
	fpu_save(t->fpu); /* the child starts with the parent's FPU and SSE state */
	if (flags & CLONE_PARENT_SETTID)
		*(int *)ptid = t->tid;
	if (flags & CLONE_CHILD_SETTID)
		*(int *)ctid = t->tid;
	int tid = t->tid;
	spin_lock(&p->tlock);
	t->tnext = p->threads;
	p->threads = t;
	p->nthreads++;
	spin_unlock(&p->tlock);
	__atomic_add_fetch(&t->cpu->load, 1, __ATOMIC_RELAXED);
	thread_start(t);
	return tid;
}

static void unlink_thread(struct proc *p, struct thread *t)
{
	for (struct thread **pp = &p->threads; *pp; pp = &(*pp)->tnext)
		if (*pp == t) {
			*pp = t->tnext;
			p->nthreads--;
			return;
		}
}

#define FUTEX_WAITERS 0x80000000u
#define FUTEX_OWNER_DIED 0x40000000u
#define FUTEX_TID_MASK 0x3fffffffu

static void owner_died(struct thread *t, uint64_t word)
{
	if (!user_ok((void *)word, 4) || (word & 3))
		return;
	uint32_t *w = (uint32_t *)word, v = __atomic_load_n(w, __ATOMIC_ACQUIRE);
	while ((v & FUTEX_TID_MASK) == (uint32_t)t->tid)
		if (__atomic_compare_exchange_n(w, &v, (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			if (v & FUTEX_WAITERS)
				futex_wake(word, 1, ~0u);
			return;
		}
}

/* The robust futexes the thread still holds get FUTEX_OWNER_DIED, as
 * Linux does at exit (kernel robust-futex ABI: a list of entries, each
 * futex_offset bytes before its lock word, plus one pending entry). */
static void release_robust(struct thread *t)
{
	struct { uint64_t list; int64_t offset; uint64_t pending; } *h = (void *)t->robust_list;
	if (!h || !user_ok(h, sizeof *h))
		return;
	uint64_t e = h->list;
	for (int n = 0; e && e != (uint64_t)h && n < 4096 && user_ok((void *)e, 8); n++) {
		uint64_t next = *(uint64_t *)e;
		if (e != h->pending)
			owner_died(t, e + h->offset);
		e = next;
	}
	if (h->pending)
		owner_died(t, h->pending + h->offset);
}

/* exit(2): this thread only; the rank ends with its last thread. */
static __attribute__((noreturn)) void exit_thread(int status)
{
	struct proc *p = current_proc();
	struct thread *t = current_thread();
	spin_lock(&p->tlock);
	bool last = p->nthreads <= 1;
	if (!last)
		unlink_thread(p, t);
	spin_unlock(&p->tlock);
	if (last)
		proc_exit(p, status);
	release_robust(t);
	if (t->clear_tid && user_ok((void *)t->clear_tid, 4)) {
		__atomic_store_n((int *)t->clear_tid, 0, __ATOMIC_RELEASE);
		futex_wake(t->clear_tid, 1, ~0u);
	}
	__atomic_sub_fetch(&t->cpu->load, 1, __ATOMIC_RELAXED);
	thread_exit(status);
}

/* Called with p->tlock held. */
static struct thread *find_tid(struct proc *p, int tid)
{
	if (tid == 0)
		return current_thread();
	for (struct thread *t = p->threads; t; t = t->tnext)
		if (t->tid == tid)
			return t;
	return NULL;
}

static long thread_signal(struct proc *p, int tgid, int tid, int sig)
{
	if (sig < 0 || sig > 64 || tid <= 0)
		return -EINVAL;
	if (tgid != -1 && tgid != MAIN_TID(p))
		return -ESRCH;
	spin_lock(&p->tlock);
	struct thread *t = find_tid(p, tid);
	spin_unlock(&p->tlock);
	if (!t)
		return -ESRCH;
	bool ignored = sig == 0 || sig == 17 || sig == 18 || sig == 23 || sig == 28; /* CHLD CONT URG WINCH */
	if (ignored)
		return 0;
	if (sig < 32)
		proc_kill(p, sig); /* the default action ends the whole process */
	static volatile int said;
	if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		kprintf("toro: rank %d: signal %d to a thread cannot be delivered (Toro has no signal handlers; "
			"pthread_cancel does not work); returning ENOSYS\n", p->rank, sig);
	return -ENOSYS;
}

static long do_getaffinity(struct proc *p, int pid, size_t size, uint8_t *mask)
{
	if (size < 8)
		return -EINVAL;
	if (!user_ok(mask, size))
		return -EFAULT;
	spin_lock(&p->tlock);
	struct thread *t = find_tid(p, pid);
	uint64_t m = t ? t->affinity : 0;
	spin_unlock(&p->tlock);
	if (!t)
		return -ESRCH;
	memset(mask, 0, size);
	memcpy(mask, &m, 8);
	return 8;
}

/* Cores outside the rank's own are dropped (as a cpuset would); a thread
 * on a core it may no longer use moves at its next yield. */
static long do_setaffinity(struct proc *p, int pid, size_t size, const uint8_t *mask)
{
	if (!user_ok(mask, size))
		return -EFAULT;
	uint64_t m = 0;
	memcpy(&m, mask, MIN(size, 8));
	m &= rank_cores(p);
	if (!m)
		return -EINVAL;
	spin_lock(&p->tlock);
	struct thread *t = find_tid(p, pid);
	if (t) {
		t->affinity = m;
		if (!(m >> t->cpu->id & 1)) {
			int to = least_loaded(m);
			__atomic_sub_fetch(&t->cpu->load, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&cpus[to]->load, 1, __ATOMIC_RELAXED);
			t->move_to = to + 1;
		}
	}
	spin_unlock(&p->tlock);
	if (!t)
		return -ESRCH;
	if (t == current_thread() && t->move_to) {
		thread_yield();
		write_cr3(read_cr3()); /* see child_start */
	}
	return 0;
}

long sys_sched_yield(const uint64_t *a)
{
	(void)a;
	thread_yield();
	return 0;
}

long sys_clone(const uint64_t *a) { return do_clone(a[0], a[1], a[2], a[3], a[4]); }
long sys_exit(const uint64_t *a) { exit_thread(a[0]); }
long sys_gettid(const uint64_t *a) { (void)a; return current_thread()->tid; }
long sys_futex(const uint64_t *a) { return do_futex(a[0], a[1], a[2], a[3], a[4], a[5]); }

long sys_tkill(const uint64_t *a)
{
	struct proc *p = current_proc();
	return p ? thread_signal(p, -1, a[0], a[1]) : -ESRCH;
}

long sys_tgkill(const uint64_t *a)
{
	struct proc *p = current_proc();
	return p ? thread_signal(p, a[0], a[1], a[2]) : -ESRCH;
}

long sys_sched_setaffinity(const uint64_t *a)
{
	struct proc *p = current_proc();
	return p ? do_setaffinity(p, a[0], a[1], (void *)a[2]) : -EINVAL;
}

long sys_sched_getaffinity(const uint64_t *a)
{
	struct proc *p = current_proc();
	return p ? do_getaffinity(p, a[0], a[1], (void *)a[2]) : -EINVAL;
}

long sys_set_tid_address(const uint64_t *a)
{
	current_thread()->clear_tid = a[0];
	return current_thread()->tid;
}

/* Kept for the exit walk (release_robust). */
long sys_set_robust_list(const uint64_t *a)
{
	if (a[1] != 24)
		return -EINVAL;
	current_thread()->robust_list = a[0];
	return 0;
}
