/* The Linux socket calls, for whatever families registered (socket.h):
 * the descriptor, the user's memory and the flags are checked here, the
 * family does the rest. A family nobody registered fails with
 * EAFNOSUPPORT and is named once on the console. */
#include "defs.h"
#include "proc.h"
#include "errno.h"
#include "socket.h"
#include "syscalls.h"

#define MAX_FAMILIES 4

static const struct sock_family *families[MAX_FAMILIES];

void sock_register(const struct sock_family *fam)
{
	for (int i = 0; i < MAX_FAMILIES; i++)
		if (!families[i] || families[i]->family == fam->family) {
			families[i] = fam;
			return;
		}
	panic("too many socket families (MAX_FAMILIES in kernel/socket.c)");
}

static const struct sock_family *family_of(int family)
{
	for (int i = 0; i < MAX_FAMILIES && families[i]; i++)
		if (families[i]->family == family)
			return families[i];
	return NULL;
}

struct msghdr64 {
	void *name;
	uint32_t namelen;
	struct iovec64 *iov;
	uint64_t iovlen;
	void *control;
	uint64_t controllen;
	int flags;
};

static struct file *sock_file(int fd, long *err)
{
	struct file *f = fd_get(fd);
	*err = !f ? -EBADF : !f->ops->sock ? -ENOTSOCK : 0;
	return *err ? NULL : f;
}

/* A new descriptor for f; drops f when there is none. */
static long install(struct file *f, int type_flags)
{
	if (type_flags & SOCK_NONBLOCK)
		f->flags |= O_NONBLOCK;
	long fd = fd_install(f, 0);
	if (fd < 0)
		file_put(f);
	return fd;
}

static long do_socket(int family, int type, int protocol)
{
	static uint32_t reported;
	const struct sock_family *fam = family_of(family);
	if (!fam) {
		if (family >= 0 && family < 32 && !(__atomic_fetch_or(&reported, 1u << family, __ATOMIC_RELAXED) & (1u << family)))
			kprintf("toro: rank %d: socket family %d is not supported (only AF_VSOCK, 40, with a "
				"virtio-vsock device); returning EAFNOSUPPORT\n", current_proc()->rank, family);
		return -EAFNOSUPPORT;
	}
	struct file *f;
	long r = fam->create(type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC), protocol, &f);
	return r < 0 ? r : install(f, type);
}

/* Writes an address the way Linux does: truncated to *len, *len set to
 * the full size. */
static long put_addr(void *user, uint32_t *len, const void *addr, uint32_t size)
{
	if (!user)
		return 0;
	if (!user_ok(len, 4))
		return -EFAULT;
	if ((int)*len < 0)
		return -EINVAL;
	uint32_t n = MIN(*len, size);
	if (n && !user_ok(user, n))
		return -EFAULT;
	memcpy(user, addr, n);
	*len = size;
	return 0;
}

/* The peer's address to a recvfrom or recvmsg that asked for it. */
static long put_peer(struct file *f, void *user, uint32_t *len)
{
	uint8_t addr[SOCKADDR_MAX];
	long n = f->ops->sock->name(f, true, addr);
	return n < 0 ? 0 : put_addr(user, len, addr, n);
}

static long do_bind_connect(int fd, const void *user, uint32_t len, bool connect)
{
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	uint8_t addr[SOCKADDR_MAX];
	len = MIN(len, (uint32_t)sizeof addr);
	if (len && !user_ok(user, len))
		return -EFAULT;
	memcpy(addr, user, len);
	return connect ? f->ops->sock->connect(f, addr, len) : f->ops->sock->bind(f, addr, len);
}

static long do_accept(int fd, void *addr, uint32_t *len, int flags)
{
	long r;
	struct file *f = sock_file(fd, &r), *c;
	if (!f)
		return r;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (addr && !user_ok(len, 4))
		return -EFAULT;
	r = f->ops->sock->accept(f, &c);
	if (r < 0)
		return r;
	r = put_peer(c, addr, len);
	if (r < 0) {
		file_put(c);
		return r;
	}
	return install(c, flags);
}

static long do_name(int fd, void *user, uint32_t *len, bool peer)
{
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	uint8_t addr[SOCKADDR_MAX];
	long n = f->ops->sock->name(f, peer, addr);
	if (n < 0)
		return n;
	return user ? put_addr(user, len, addr, n) : -EFAULT;
}

/* Checks a vector from the rank; returns its count or -errno. */
static long check_iov(const struct iovec64 *iov, uint64_t n)
{
	if (n > 1024)
		return -EINVAL;
	if (n && !user_ok(iov, n * sizeof *iov))
		return -EFAULT;
	for (uint64_t i = 0; i < n; i++)
		if (iov[i].len && !user_ok(iov[i].base, iov[i].len))
			return -EFAULT;
	return n;
}

static long transfer(struct file *f, const struct iovec64 *iov, int n, int flags, bool send)
{
	if (f->flags & O_NONBLOCK)
		flags |= MSG_DONTWAIT;
	return send ? f->ops->sock->send(f, iov, n, flags) : f->ops->sock->recv(f, iov, n, flags);
}

/* sendto and recvfrom: a connected stream ignores the address. */
static long do_sendrecv(int fd, void *buf, size_t n, int flags, void *addr, uint32_t *alen, bool send)
{
	if (n && !user_ok(buf, n))
		return -EFAULT;
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	struct iovec64 v = {buf, n};
	r = transfer(f, &v, 1, flags, send);
	if (r >= 0 && !send && addr && put_peer(f, addr, alen) < 0)
		return -EFAULT;
	return r;
}

static long do_msg(int fd, struct msghdr64 *m, int flags, bool send)
{
	if (!user_ok(m, sizeof *m))
		return -EFAULT;
	long n = check_iov(m->iov, m->iovlen), r;
	if (n < 0)
		return n;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	r = transfer(f, m->iov, n, flags, send);
	if (r >= 0 && !send) {
		m->controllen = 0;
		m->flags = 0;
		if (m->name && put_peer(f, m->name, &m->namelen) < 0)
			return -EFAULT;
	}
	return r;
}

static long do_shutdown(int fd, int how)
{
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	return how < 0 || how > 2 ? -EINVAL : f->ops->sock->shutdown(f, how);
}

static long do_listen(int fd, int backlog)
{
	long r;
	struct file *f = sock_file(fd, &r);
	return f ? f->ops->sock->listen(f, backlog) : r;
}

static long do_setsockopt(int fd, int level, int name, const void *val, uint32_t len)
{
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	if (len && !user_ok(val, len))
		return -EFAULT;
	return f->ops->sock->setsockopt(f, level, name, val, len);
}

/* Every option a family answers is an int. */
static long do_getsockopt(int fd, int level, int name, void *val, uint32_t *len)
{
	long r;
	struct file *f = sock_file(fd, &r);
	if (!f)
		return r;
	if (!user_ok(len, 4) || (int)*len < 0)
		return -EFAULT;
	int v;
	r = f->ops->sock->getsockopt(f, level, name, &v);
	if (r < 0)
		return r;
	uint32_t n = MIN(*len, 4u);
	if (n && !user_ok(val, n))
		return -EFAULT;
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

/* --- the handlers of systab.c --- */
#define UPTR(x) ((void *)(x))
long sys_socket(const uint64_t *a) { return do_socket(a[0], a[1], a[2]); }
long sys_connect(const uint64_t *a) { return do_bind_connect(a[0], UPTR(a[1]), a[2], true); }
long sys_bind(const uint64_t *a) { return do_bind_connect(a[0], UPTR(a[1]), a[2], false); }
long sys_listen(const uint64_t *a) { return do_listen(a[0], a[1]); }
long sys_accept(const uint64_t *a) { return do_accept(a[0], UPTR(a[1]), UPTR(a[2]), 0); }
long sys_accept4(const uint64_t *a) { return do_accept(a[0], UPTR(a[1]), UPTR(a[2]), a[3]); }
long sys_sendto(const uint64_t *a) { return do_sendrecv(a[0], UPTR(a[1]), a[2], a[3], NULL, NULL, true); }
long sys_recvfrom(const uint64_t *a) { return do_sendrecv(a[0], UPTR(a[1]), a[2], a[3], UPTR(a[4]), UPTR(a[5]), false); }
long sys_sendmsg(const uint64_t *a) { return do_msg(a[0], UPTR(a[1]), a[2], true); }
long sys_recvmsg(const uint64_t *a) { return do_msg(a[0], UPTR(a[1]), a[2], false); }
long sys_shutdown(const uint64_t *a) { return do_shutdown(a[0], a[1]); }
long sys_getsockname(const uint64_t *a) { return do_name(a[0], UPTR(a[1]), UPTR(a[2]), false); }
long sys_getpeername(const uint64_t *a) { return do_name(a[0], UPTR(a[1]), UPTR(a[2]), true); }
long sys_socketpair(const uint64_t *a) { (void)a; return -EOPNOTSUPP; } /* vsock has none (nor does Linux) */
long sys_setsockopt(const uint64_t *a) { return do_setsockopt(a[0], a[1], a[2], UPTR(a[3]), a[4]); }
long sys_getsockopt(const uint64_t *a) { return do_getsockopt(a[0], a[1], a[2], UPTR(a[3]), UPTR(a[4])); }
