/* poll(2), ppoll, select(2) and pselect6 over the file_ops poll calls
 * (epoll.c waits through do_poll too). */
#include "defs.h"
#include "sched.h"
#include "proc.h"
#include "file.h"
#include "errno.h"
#include "syscalls.h"

struct poll_wait {
	struct pollfd *fds;
	unsigned n;
	uint64_t deadline;
	int ready;
};

static int poll_scan(struct pollfd *fds, unsigned n)
{
	int ready = 0;
	for (unsigned i = 0; i < n; i++) {
		struct file *f = fds[i].fd < 0 ? NULL : fd_get(fds[i].fd);
		fds[i].revents = fds[i].fd < 0 ? 0 : !f ? POLLNVAL : f->ops->poll ? f->ops->poll(f, fds[i].events) : 0;
		ready += fds[i].revents != 0;
	}
	return ready;
}

static bool poll_over(void *arg)
{
	struct poll_wait *w = arg;
	w->ready = poll_scan(w->fds, w->n);
	return w->ready || time_ns() >= w->deadline;
}

/* Waits in the scheduler: a device that makes a descriptor ready wakes
 * the core (virtio/vsock_dev.c), a timeout is seen at the next tick. */
long do_poll(struct pollfd *fds, unsigned n, int64_t timeout_ns)
{
	if (n > MAX_FDS)
		return -EINVAL;
	if (n && !user_ok(fds, n * sizeof *fds))
		return -EFAULT;
	struct poll_wait w = {fds, n, timeout_ns < 0 ? ~0ull : time_ns() + timeout_ns, 0};
	if (!poll_over(&w))
		sched_wait_until(poll_over, &w);
	return w.ready;
}

/* select(2) and pselect6 through poll: fd_set bits in, readiness out.
 * Bits of descriptors that are not open give EBADF, as on Linux. */
static long do_select(int n, uint64_t *rd, uint64_t *wr, uint64_t *ex, int64_t timeout_ns)
{
	if (n < 0 || n > MAX_FDS)
		return -EINVAL;
	size_t words = (n + 63) / 64;
	uint64_t *sets[3] = {rd, wr, ex};
	static const short wants[3] = {POLLIN, POLLOUT, POLLPRI};
	for (int k = 0; k < 3; k++)
		if (sets[k] && !user_ok(sets[k], words * 8))
			return -EFAULT;
	struct pollfd *fds = kmalloc(n * sizeof *fds + 1);
	if (!fds)
		return -ENOMEM;
	unsigned m = 0;
	for (int fd = 0; fd < n; fd++) {
		short ev = 0;
		for (int k = 0; k < 3; k++)
			if (sets[k] && (sets[k][fd / 64] >> (fd % 64) & 1))
				ev |= wants[k];
		if (!ev)
			continue;
		if (!fd_get(fd)) {
			kfree(fds);
			return -EBADF;
		}
		fds[m++] = (struct pollfd){fd, ev, 0};
	}
	long r = do_poll(fds, m, timeout_ns);
	for (int k = 0; k < 3; k++)
		if (sets[k])
			memset(sets[k], 0, words * 8);
	long count = 0;
	for (unsigned i = 0; r >= 0 && i < m; i++) {
		short re = fds[i].revents;
		bool ready[3] = {re & (POLLIN | POLLHUP | POLLERR), re & (POLLOUT | POLLERR), re & POLLPRI};
		for (int k = 0; k < 3; k++)
			if (sets[k] && ready[k] && (fds[i].events & wants[k])) {
				sets[k][fds[i].fd / 64] |= 1ull << (fds[i].fd % 64);
				count++;
			}
	}
	kfree(fds);
	return r < 0 ? r : count;
}

/* --- the handlers of systab.c --- */
#define UPTR(x) ((void *)(x))

long sys_poll(const uint64_t *a) { return do_poll(UPTR(a[0]), a[1], (int)a[2] < 0 ? -1 : (int64_t)(int)a[2] * 1000000); }

long sys_ppoll(const uint64_t *a)
{
	int64_t *ts = UPTR(a[2]);
	if (ts && !user_ok(ts, 16))
		return -EFAULT;
	return do_poll(UPTR(a[0]), a[1], ts ? ts[0] * 1000000000 + ts[1] : -1);
}

/* select: the timeval becomes what is left, as Linux does */
long sys_select(const uint64_t *a)
{
	int64_t *tv = UPTR(a[4]);
	if (tv && !user_ok(tv, 16))
		return -EFAULT;
	uint64_t start = time_ns();
	int64_t ns = tv ? tv[0] * 1000000000 + tv[1] * 1000 : -1;
	long r = do_select(a[0], UPTR(a[1]), UPTR(a[2]), UPTR(a[3]), ns);
	if (tv) {
		int64_t left = MAX(ns - (int64_t)(time_ns() - start), 0);
		tv[0] = left / 1000000000, tv[1] = left % 1000000000 / 1000;
	}
	return r;
}

/* pselect6: the signal mask is moot, no signal is delivered */
long sys_pselect6(const uint64_t *a)
{
	int64_t *ts = UPTR(a[4]);
	if (ts && !user_ok(ts, 16))
		return -EFAULT;
	return do_select(a[0], UPTR(a[1]), UPTR(a[2]), UPTR(a[3]), ts ? ts[0] * 1000000000 + ts[1] : -1);
}
