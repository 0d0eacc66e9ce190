/* futex(2) for the threads of a rank (issue 15): WAIT, WAKE, the BITSET
 * forms, REQUEUE and CMP_REQUEUE, relative and absolute timeouts. All
 * ranks share one address space, so a futex is its virtual address, and
 * FUTEX_PRIVATE_FLAG changes nothing. Waiters queue in FIFO order in one
 * of a fixed set of hashed buckets; a waiter sleeps with thread_block,
 * which gives its core to the other threads there. */
#include "defs.h"
#include "cpu.h"
#include "sched.h"
#include "proc.h"
#include "errno.h"
#include "spinlock.h"

#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAIT_BITSET 9
#define FUTEX_WAKE_BITSET 10
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CLOCK_REALTIME 256
#define NBUCKETS 256

struct waiter {
	volatile uint64_t addr;     /* changes only under both buckets' locks (requeue) */
	uint32_t bitset;
	struct thread *t;
	volatile int woken;
	struct waiter *next;
};

struct bucket {
	struct spinlock lock;
	struct waiter *head;
};

static struct bucket buckets[NBUCKETS];

static struct bucket *bucket_of(uint64_t addr)
{
	return &buckets[((addr >> 2) * 0x9e3779b97f4a7c15ull) >> 56];
}

static void append(struct bucket *b, struct waiter *w)
{
	struct waiter **pp = &b->head;
	while (*pp)
		pp = &(*pp)->next;
	w->next = NULL;
	*pp = w;
}

static void unlink_waiter(struct bucket *b, struct waiter *w)
{
	for (struct waiter **pp = &b->head; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			return;
		}
}

/* The bucket of w's current address, locked (a requeue may move it). */
static struct bucket *lock_waiter(struct waiter *w)
{
	for (;;) {
		uint64_t a = w->addr;
		struct bucket *b = bucket_of(a);
		spin_lock(&b->lock);
		if (w->addr == a)
			return b;
		spin_unlock(&b->lock);
	}
}

static void lock_two(struct bucket *a, struct bucket *b)
{
	if (a == b) {
		spin_lock(&a->lock);
	} else if (a < b) {
		spin_lock(&a->lock);
		spin_lock(&b->lock);
	} else {
		spin_lock(&b->lock);
		spin_lock(&a->lock);
	}
}

static void unlock_two(struct bucket *a, struct bucket *b)
{
	spin_unlock(&a->lock);
	if (a != b)
		spin_unlock(&b->lock);
}

/* Wakes up to n waiters of addr in b (locked) whose bitset meets mask.
 * The wake happens under the lock, so a waiter that leaves (timeout)
 * takes the lock after it and its thread is never touched once gone. */
static int wake_locked(struct bucket *b, uint64_t addr, int n, uint32_t mask)
{
	int woken = 0;
	for (struct waiter **pp = &b->head; *pp && woken < n;) {
		struct waiter *w = *pp;
		if (w->addr != addr || !(w->bitset & mask)) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		struct thread *t = w->t;
		__atomic_store_n(&w->woken, 1, __ATOMIC_RELEASE);
		thread_wake(t);
		woken++;
	}
	return woken;
}

int futex_wake(uint64_t addr, int n, uint32_t mask)
{
	struct bucket *b = bucket_of(addr);
	spin_lock(&b->lock);
	int woken = wake_locked(b, addr, n, mask);
	spin_unlock(&b->lock);
	return woken;
}

static long futex_wait(uint64_t addr, uint32_t val, uint64_t deadline, uint32_t mask)
{
	if (!mask)
		return -EINVAL;
	struct waiter w = {.addr = addr, .bitset = mask, .t = current_thread()};
	struct bucket *b = bucket_of(addr);
	spin_lock(&b->lock);
	if (__atomic_load_n((uint32_t *)addr, __ATOMIC_ACQUIRE) != val) {
		spin_unlock(&b->lock);
		return -EAGAIN;
	}
	append(b, &w);
	spin_unlock(&b->lock);
	bool in_time = true;
	while (in_time && !__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE))
		in_time = thread_block_until(deadline);
	b = lock_waiter(&w);
	if (!w.woken)
		unlink_waiter(b, &w);
	spin_unlock(&b->lock);
	return w.woken ? 0 : -ETIMEDOUT;
}

static long requeue(uint64_t addr, int nwake, int nmove, uint64_t addr2, bool cmp, uint32_t val)
{
	if (nwake < 0 || nmove < 0 || !user_ok((void *)addr2, 4) || (addr2 & 3))
		return -EINVAL;
	struct bucket *b = bucket_of(addr), *b2 = bucket_of(addr2);
	lock_two(b, b2);
	if (cmp && __atomic_load_n((uint32_t *)addr, __ATOMIC_ACQUIRE) != val) {
		unlock_two(b, b2);
		return -EAGAIN;
	}
	int done = wake_locked(b, addr, nwake, ~0u);
	for (struct waiter **pp = &b->head; *pp && nmove > 0;) {
		struct waiter *w = *pp;
		if (w->addr != addr) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->addr = addr2;
		append(b2, w);
		nmove--;
		done++;
	}
	unlock_two(b, b2);
	return done;
}

struct timespec64 {
	int64_t sec, nsec;
};

/* The monotonic deadline for a wait, 0 for none; *err on a bad time. */
static uint64_t deadline_of(uint64_t ts, int cmd, int op, long *err)
{
	*err = 0;
	if (!ts)
		return 0;
	const struct timespec64 *t = (const void *)ts;
	if (!user_ok(t, sizeof *t)) {
		*err = -EFAULT;
		return 0;
	}
	if (t->sec < 0 || t->nsec < 0 || t->nsec >= 1000000000) {
		*err = -EINVAL;
		return 0;
	}
	uint64_t ns = t->sec * 1000000000ull + t->nsec, now = time_ns();
	if (cmd == FUTEX_WAIT) /* relative */
		return now + ns + !ns;
	if (op & FUTEX_CLOCK_REALTIME) { /* absolute, on CLOCK_REALTIME */
		uint64_t real = clock_ns(0);
		return ns > real ? now + (ns - real) : now;
	}
	return ns > now ? ns : now; /* absolute, on CLOCK_MONOTONIC */
}

static long futex_unsupported(int op)
{
	static volatile int said;
	struct proc *p = current_proc();
	if (!__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		kprintf("toro: rank %d: futex operation %d is not supported; returning ENOSYS\n", p ? p->rank : -1, op);
	return -ENOSYS;
}

long do_futex(uint64_t uaddr, int op, uint32_t val, uint64_t timeout, uint64_t uaddr2, uint32_t val3)
{
	int cmd = op & ~(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
	if (uaddr & 3)
		return -EINVAL;
	if (!user_ok((void *)uaddr, 4))
		return -EFAULT;
	long err;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET: {
		uint64_t deadline = deadline_of(timeout, cmd, op, &err);
		if (err)
			return err;
		return futex_wait(uaddr, val, deadline, cmd == FUTEX_WAIT ? ~0u : val3);
	}
	case FUTEX_WAKE:
		return futex_wake(uaddr, (int)val < 0 ? 0x7fffffff : (int)val, ~0u);
	case FUTEX_WAKE_BITSET:
		if (!val3)
			return -EINVAL;
		return futex_wake(uaddr, (int)val < 0 ? 0x7fffffff : (int)val, val3);
	case FUTEX_REQUEUE:
		return requeue(uaddr, val, (int)timeout, uaddr2, false, 0);
	case FUTEX_CMP_REQUEUE:
		return requeue(uaddr, val, (int)timeout, uaddr2, true, val3);
	default:
		return futex_unsupported(op);
	}
}
