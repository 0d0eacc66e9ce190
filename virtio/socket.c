/* The Linux socket calls, for AF_VSOCK stream sockets (virtio/vsock.c).
 * This file owns the user ABI: descriptors, struct sockaddr_vm, msghdr,
 * flags and socket options. Any other family fails with EAFNOSUPPORT and
 * says so once. */
#include "../kernel/defs.h"
#include "../kernel/proc.h"
#include "../kernel/file.h"
#include "../kernel/errno.h"
#include "../kernel/syscalls.h"
#include "vsock.h"

#define AF_VSOCK 40
#define SOCK_STREAM 1
#define SOCK_NONBLOCK 04000
#define SOCK_CLOEXEC 02000000
#define MSG_PEEK 2
#define MSG_DONTWAIT 0x40
#define MSG_WAITALL 0x100
#define MSG_NOSIGNAL 0x4000
#define SOL_SOCKET 1
#define S_IFSOCK 0140000

/* struct sockaddr_vm (linux/vm_sockets.h) */
struct sockaddr_vm {
	uint16_t family;
	uint16_t reserved1;
	uint32_t port;
	uint32_t cid;
	uint8_t flags;
	uint8_t zero[3];
};

struct msghdr64 {
	void *name;
	uint32_t namelen;
	struct iovec64 *iov;
	uint64_t iovlen;
	void *control;
	uint64_t controllen;
	int flags;
};

static long sock_read(struct file *f, void *buf, size_t n, int64_t off)
{
	if (off >= 0)
		return -ESPIPE;
	struct iovec64 v = {buf, n};
	return vsock_recv(f->priv, &v, 1, f->flags & O_NONBLOCK, false, false);
}

static long sock_write(struct file *f, const void *buf, size_t n, int64_t off)
{
	if (off >= 0)
		return -ESPIPE;
	struct iovec64 v = {(void *)buf, n};
	return vsock_send(f->priv, &v, 1, f->flags & O_NONBLOCK);
}

static long sock_writev(struct file *f, const struct iovec64 *iov, int n)
{
	return vsock_send(f->priv, iov, n, f->flags & O_NONBLOCK);
}

static int sock_poll(struct file *f, int events) { return vsock_poll(f->priv, events); }

static long sock_stat(struct file *f, struct linux_stat *st)
{
	fill_stat(st, S_IFSOCK | 0777, 0, (uint64_t)f->priv);
	st->blksize = vsock_buf_size(f->priv);
	return 0;
}

static void sock_close(struct file *f) { vsock_close(f->priv); }

static const struct file_ops socket_ops = {
	.read = sock_read, .write = sock_write, .writev = sock_writev,
	.poll = sock_poll, .stat = sock_stat, .close = sock_close,
};

static long socket_fd(int fd, struct vsock **out)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (f->ops != &socket_ops)
		return -ENOTSOCK;
	*out = f->priv;
	return 0;
}

/* A new descriptor for s; closes s when there is none. */
static long install(struct vsock *s, int flags)
{
	struct file *f = file_alloc(&socket_ops, s, O_RDWR | (flags & SOCK_NONBLOCK ? O_NONBLOCK : 0));
	if (!f) {
		vsock_close(s);
		return -ENOMEM;
	}
	long fd = fd_install(f, 0);
	if (fd < 0)
		file_put(f);
	return fd;
}

static long do_socket(int family, int type, int protocol)
{
	static uint32_t reported;
	if (family != AF_VSOCK) {
		if (family >= 0 && family < 32 && !(__atomic_fetch_or(&reported, 1u << family, __ATOMIC_RELAXED) & (1u << family)))
			kprintf("toro: rank %d: socket family %d is not supported (only AF_VSOCK, 40); "
				"returning EAFNOSUPPORT\n", current_proc()->rank, family);
		return -EAFNOSUPPORT;
	}
	if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != 0)
		return -EPROTONOSUPPORT;
	if (!vsock_present())
		return -EAFNOSUPPORT; /* no virtio-vsock device: toro-run --vsock-forward or --vsock-unix adds one */
	struct vsock *s;
	long r = vsock_create(&s);
	return r < 0 ? r : install(s, type);
}

static long get_addr(const void *user, uint32_t len, struct sockaddr_vm *out)
{
	if (len < sizeof *out)
		return -EINVAL;
	if (!user_ok(user, sizeof *out))
		return -EFAULT;
	memcpy(out, user, sizeof *out);
	return out->family == AF_VSOCK ? 0 : -EAFNOSUPPORT;
}

/* Writes an address the way Linux does: truncated to *len, *len set to
 * the full size. */
static long put_addr(void *user, uint32_t *len, uint32_t cid, uint32_t port)
{
	if (!user)
		return 0;
	if (!user_ok(len, 4))
		return -EFAULT;
	struct sockaddr_vm a = {.family = AF_VSOCK, .port = port, .cid = cid};
	uint32_t n = MIN(*len, (uint32_t)sizeof a);
	if ((int)*len < 0)
		return -EINVAL;
	if (n && !user_ok(user, n))
		return -EFAULT;
	memcpy(user, &a, n);
	*len = sizeof a;
	return 0;
}

static long do_bind_connect(int fd, const void *addr, uint32_t len, bool connect)
{
	struct vsock *s;
	struct sockaddr_vm a;
	long r = socket_fd(fd, &s);
	if (r == 0)
		r = get_addr(addr, len, &a);
	if (r < 0)
		return r;
	if (!connect)
		return vsock_bind(s, a.cid, a.port);
	return vsock_connect(s, a.cid, a.port, fd_get(fd)->flags & O_NONBLOCK);
}

static long do_accept(int fd, void *addr, uint32_t *len, int flags)
{
	struct vsock *s, *c;
	long r = socket_fd(fd, &s);
	if (r < 0)
		return r;
	if (flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC))
		return -EINVAL;
	if (addr && !user_ok(len, 4))
		return -EFAULT;
	r = vsock_accept(s, fd_get(fd)->flags & O_NONBLOCK, &c);
	if (r < 0)
		return r;
	uint32_t cid, port;
	vsock_name(c, true, &cid, &port);
	r = put_addr(addr, len, cid, port);
	if (r < 0) {
		vsock_close(c);
		return r;
	}
	return install(c, flags);
}

static long do_name(int fd, void *addr, uint32_t *len, bool peer)
{
	struct vsock *s;
	uint32_t cid, port;
	long r = socket_fd(fd, &s);
	if (r == 0)
		r = vsock_name(s, peer, &cid, &port);
	if (r == 0 && !addr)
		r = -EFAULT;
	return r < 0 ? r : put_addr(addr, len, cid, port);
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

static long transfer(int fd, const struct iovec64 *iov, int n, int flags, bool send)
{
	struct vsock *s;
	long r = socket_fd(fd, &s);
	if (r < 0)
		return r;
	bool nonblock = (fd_get(fd)->flags & O_NONBLOCK) || (flags & MSG_DONTWAIT);
	if (send)
		return vsock_send(s, iov, n, nonblock);
	return vsock_recv(s, iov, n, nonblock, flags & MSG_PEEK, flags & MSG_WAITALL);
}

/* sendto and recvfrom: a connected stream ignores the address. */
static long do_sendrecv(int fd, void *buf, size_t n, int flags, void *addr, uint32_t *alen, bool send)
{
	if (n && !user_ok(buf, n))
		return -EFAULT;
	struct iovec64 v = {buf, n};
	long r = transfer(fd, &v, 1, flags, send);
	if (r >= 0 && !send && addr) {
		struct vsock *s = fd_get(fd)->priv;
		uint32_t cid, port;
		if (vsock_name(s, true, &cid, &port) == 0 && put_addr(addr, alen, cid, port) < 0)
			return -EFAULT;
	}
	return r;
}

static long do_msg(int fd, struct msghdr64 *m, int flags, bool send)
{
	if (!user_ok(m, sizeof *m))
		return -EFAULT;
	long n = check_iov(m->iov, m->iovlen);
	if (n < 0)
		return n;
	long r = transfer(fd, m->iov, n, flags, send);
	if (r >= 0 && !send) {
		m->controllen = 0;
		m->flags = 0;
		if (m->name) {
			struct vsock *s = fd_get(fd)->priv;
			uint32_t cid, port;
			if (vsock_name(s, true, &cid, &port) == 0 && put_addr(m->name, &m->namelen, cid, port) < 0)
				return -EFAULT;
		}
	}
	return r;
}

static long do_shutdown(int fd, int how)
{
	struct vsock *s;
	long r = socket_fd(fd, &s);
	if (r < 0)
		return r;
	if (how < 0 || how > 2)
		return -EINVAL;
	return vsock_shutdown(s, how + 1); /* SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2 */
}

/* The options servers and libraries set are accepted (they change nothing
 * here); SO_ERROR, SO_TYPE and the buffer sizes are answered. */
static long do_setsockopt(int fd, int level, int name, const void *val, uint32_t len)
{
	struct vsock *s;
	long r = socket_fd(fd, &s);
	if (r < 0)
		return r;
	if (len && !user_ok(val, len))
		return -EFAULT;
	if (level == SOL_SOCKET) {
		switch (name) {
		case 2: case 7: case 8: case 9: case 13: case 15: case 20: case 21:
			/* REUSEADDR, SNDBUF, RCVBUF, KEEPALIVE, LINGER, REUSEPORT, RCVTIMEO, SNDTIMEO */
			return 0;
		}
	}
	if (level == 6) /* IPPROTO_TCP: TCP_NODELAY and friends, set by HTTP servers */
		return 0;
	return -ENOPROTOOPT;
}

static long do_getsockopt(int fd, int level, int name, void *val, uint32_t *len)
{
	struct vsock *s;
	long r = socket_fd(fd, &s);
	if (r < 0)
		return r;
	if (!user_ok(len, 4) || (int)*len < 0)
		return -EFAULT;
	int v;
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	switch (name) {
	case 3: v = SOCK_STREAM; break;                  /* SO_TYPE */
	case 4: v = vsock_take_error(s); break;          /* SO_ERROR */
	case 7: case 8: v = vsock_buf_size(s); break;    /* SO_SNDBUF, SO_RCVBUF */
	case 30: v = vsock_listening(s); break;          /* SO_ACCEPTCONN */
	case 39: v = AF_VSOCK; break;                    /* SO_DOMAIN */
	case 2: case 9: case 15: v = 0; break;           /* REUSEADDR, KEEPALIVE, REUSEPORT */
	default: return -ENOPROTOOPT;
	}
	uint32_t n = MIN(*len, 4u);
	if (n && !user_ok(val, n))
		return -EFAULT;
	memcpy(val, &v, n);
	*len = n;
	return 0;
}

/* --- the handlers of kernel/systab.c --- */
#define UPTR(x) ((void *)(x))
long sys_socket(const uint64_t *a) { return do_socket(a[0], a[1], a[2]); }
long sys_connect(const uint64_t *a) { return do_bind_connect(a[0], UPTR(a[1]), a[2], true); }
long sys_bind(const uint64_t *a) { return do_bind_connect(a[0], UPTR(a[1]), a[2], false); }
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

long sys_listen(const uint64_t *a)
{
	struct vsock *s;
	long r = socket_fd(a[0], &s);
	return r < 0 ? r : vsock_listen(s, a[1]);
}
