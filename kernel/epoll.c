/* epoll(7) on top of poll: an epoll descriptor keeps its interest list
 * (descriptor, events, user data) and epoll_wait polls it. Readiness is
 * level-triggered; EPOLLET is accepted and reported the same way, which
 * is correct for servers that read and write until EAGAIN, only with
 * more wake-ups. EPOLLONESHOT disables an entry once reported, until
 * EPOLL_CTL_MOD. An entry whose descriptor was closed (or now names
 * another file) is dropped, as Linux drops it when the file goes. */
#include "defs.h"
#include "proc.h"
#include "file.h"
#include "errno.h"
#include "syscalls.h"

#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3
#define EPOLLERR 0x008
#define EPOLLHUP 0x010
#define EPOLLONESHOT (1u << 30)
#define EPOLLET (1u << 31)
#define EPOLL_CLOEXEC 02000000

struct epoll_event {
	uint32_t events;
	uint64_t data;
} __attribute__((packed));

struct epitem {
	int fd;
	struct file *file;
	uint32_t events;
	uint64_t data;
	bool disabled;
};

struct epoll {
	struct epitem *items;
	int n, cap;
	int next;          /* where the next scan starts, so that no entry starves */
};

static void ep_close(struct file *f)
{
	struct epoll *ep = f->priv;
	kfree(ep->items);
	kfree(ep);
}

static const struct file_ops epoll_ops = {.close = ep_close};

static long epoll_create(int flags)
{
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	struct epoll *ep = kzalloc(sizeof *ep);
	struct file *f = ep ? file_alloc(&epoll_ops, ep, O_RDWR) : NULL;
	if (!f) {
		kfree(ep);
		return -ENOMEM;
	}
	long fd = fd_install(f, 0);
	if (fd < 0)
		file_put(f);
	return fd;
}

static struct epoll *epoll_get(int epfd)
{
	struct file *f = fd_get(epfd);
	return f && f->ops == &epoll_ops ? f->priv : NULL;
}

static struct epitem *find(struct epoll *ep, int fd, struct file *f)
{
	for (int i = 0; i < ep->n; i++)
		if (ep->items[i].fd == fd && ep->items[i].file == f)
			return &ep->items[i];
	return NULL;
}

static long epoll_ctl(int epfd, int op, int fd, const struct epoll_event *ev)
{
	struct epoll *ep = epoll_get(epfd);
	struct file *f = fd_get(fd);
	if (!fd_get(epfd) || !f)
		return -EBADF;
	if (!ep || fd == epfd || f->ops == &epoll_ops)
		return -EINVAL;
	if (op != EPOLL_CTL_DEL && !user_ok(ev, sizeof *ev))
		return -EFAULT;
	struct epitem *it = find(ep, fd, f);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (it)
			return -EEXIST;
		if (ep->n == ep->cap) {
			int cap = ep->cap ? 2 * ep->cap : 16;
			struct epitem *items = kmalloc(cap * sizeof *items);
			if (!items)
				return -ENOMEM;
			memcpy(items, ep->items, ep->n * sizeof *items);
			kfree(ep->items);
			ep->items = items;
			ep->cap = cap;
		}
		ep->items[ep->n++] = (struct epitem){fd, f, ev->events, ev->data, false};
		return 0;
	case EPOLL_CTL_MOD:
		if (!it)
			return -ENOENT;
		*it = (struct epitem){fd, f, ev->events, ev->data, false};
		return 0;
	case EPOLL_CTL_DEL:
		if (!it)
			return -ENOENT;
		*it = ep->items[--ep->n];
		return 0;
	default:
		return -EINVAL;
	}
}

static void drop_stale(struct epoll *ep)
{
	for (int i = 0; i < ep->n;)
		if (fd_get(ep->items[i].fd) != ep->items[i].file)
			ep->items[i] = ep->items[--ep->n];
		else
			i++;
}

static long epoll_wait(int epfd, struct epoll_event *out, int max, int64_t timeout_ns)
{
	struct epoll *ep = epoll_get(epfd);
	if (!ep)
		return fd_get(epfd) ? -EINVAL : -EBADF;
	if (max <= 0)
		return -EINVAL;
	if (!user_ok(out, (size_t)max * sizeof *out))
		return -EFAULT;
	drop_stale(ep);
	struct pollfd *fds = kmalloc(ep->n * sizeof *fds + 1);
	int *which = kmalloc(ep->n * sizeof *which + 1);
	if (!fds || !which) {
		kfree(fds);
		kfree(which);
		return -ENOMEM;
	}
	unsigned m = 0;
	for (int k = 0; k < ep->n; k++) {
		int i = (ep->next + k) % ep->n;
		if (!ep->items[i].disabled) {
			which[m] = i;
			fds[m++] = (struct pollfd){ep->items[i].fd, (short)ep->items[i].events, 0};
		}
	}
	long r = do_poll(fds, m, timeout_ns);
	int got = 0;
	for (unsigned k = 0; r > 0 && k < m && got < max; k++) {
		if (!fds[k].revents)
			continue;
		struct epitem *it = &ep->items[which[k]];
		out[got++] = (struct epoll_event){(uint16_t)fds[k].revents, it->data};
		if (it->events & EPOLLONESHOT)
			it->disabled = true;
		ep->next = (which[k] + 1) % ep->n;
	}
	kfree(fds);
	kfree(which);
	return r < 0 ? r : got;
}

/* --- the handlers of systab.c --- */
long sys_epoll_create(const uint64_t *a) { return (int)a[0] <= 0 ? -EINVAL : epoll_create(0); }
long sys_epoll_create1(const uint64_t *a) { return epoll_create(a[0]); }
long sys_epoll_ctl(const uint64_t *a) { return epoll_ctl(a[0], a[1], a[2], (void *)a[3]); }

/* epoll_wait and epoll_pwait (no signal is ever delivered: the mask is moot) */
long sys_epoll_wait(const uint64_t *a)
{
	return epoll_wait(a[0], (void *)a[1], a[2], (int)a[3] < 0 ? -1 : (int64_t)(int)a[3] * 1000000);
}

/* epoll_pwait2: a timespec */
long sys_epoll_pwait2(const uint64_t *a)
{
	int64_t *ts = (void *)a[3];
	if (ts && !user_ok(ts, 16))
		return -EFAULT;
	return epoll_wait(a[0], (void *)a[1], a[2], ts ? ts[0] * 1000000000 + ts[1] : -1);
}
