/* The AF_VSOCK socket family (linux/vm_sockets.h) on virtio/vsock.c's
 * connections: struct sockaddr_vm, the stream type and the socket
 * options. kernel/socket.c owns the calls themselves; virtio_vsock_probe
 * registers this family once the device is up. */
#include "../kernel/defs.h"
#include "../kernel/socket.h"
#include "../kernel/errno.h"
#include "vsock.h"

#define AF_VSOCK 40

/* struct sockaddr_vm (linux/vm_sockets.h) */
struct sockaddr_vm {
	uint16_t family;
	uint16_t reserved1;
	uint32_t port;
	uint32_t cid;
	uint8_t flags;
	uint8_t zero[3];
};

static bool nonblocking(int msg_flags) { return msg_flags & MSG_DONTWAIT; }

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

static void sock_close(struct file *f)
{
	vsock_close(f->priv);
	kfree(f);
}

static long get_addr(const void *addr, uint32_t len, struct sockaddr_vm *out)
{
	if (len < sizeof *out)
		return -EINVAL;
	memcpy(out, addr, sizeof *out);
	return out->family == AF_VSOCK ? 0 : -EAFNOSUPPORT;
}

static long vs_bind(struct file *f, const void *addr, uint32_t len)
{
	struct sockaddr_vm a;
	long r = get_addr(addr, len, &a);
	return r < 0 ? r : vsock_bind(f->priv, a.cid, a.port);
}

static long vs_connect(struct file *f, const void *addr, uint32_t len)
{
	struct sockaddr_vm a;
	long r = get_addr(addr, len, &a);
	return r < 0 ? r : vsock_connect(f->priv, a.cid, a.port, f->flags & O_NONBLOCK);
}

static long vs_listen(struct file *f, int backlog) { return vsock_listen(f->priv, backlog); }

static const struct file_ops socket_ops;

static long vs_accept(struct file *f, struct file **out)
{
	struct vsock *c;
	long r = vsock_accept(f->priv, f->flags & O_NONBLOCK, &c);
	if (r < 0)
		return r;
	*out = file_alloc(&socket_ops, c, O_RDWR);
	if (!*out) {
		vsock_close(c);
		return -ENOMEM;
	}
	return 0;
}

static long vs_send(struct file *f, const struct iovec64 *iov, int n, int flags)
{
	return vsock_send(f->priv, iov, n, nonblocking(flags));
}

static long vs_recv(struct file *f, const struct iovec64 *iov, int n, int flags)
{
	return vsock_recv(f->priv, iov, n, nonblocking(flags), flags & MSG_PEEK, flags & MSG_WAITALL);
}

static long vs_name(struct file *f, bool peer, void *addr)
{
	uint32_t cid, port;
	long r = vsock_name(f->priv, peer, &cid, &port);
	if (r < 0)
		return r;
	struct sockaddr_vm a = {.family = AF_VSOCK, .port = port, .cid = cid};
	memcpy(addr, &a, sizeof a);
	return sizeof a;
}

static long vs_shutdown(struct file *f, int how)
{
	return vsock_shutdown(f->priv, how + 1); /* SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2 -> bits */
}

/* The options servers and libraries set are accepted (they change nothing
 * here); SO_ERROR, SO_TYPE and the buffer sizes are answered. */
static long vs_setsockopt(struct file *f, int level, int name, const void *val, uint32_t len)
{
	(void)f, (void)val, (void)len;
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

static long vs_getsockopt(struct file *f, int level, int name, int *v)
{
	if (level != SOL_SOCKET)
		return -ENOPROTOOPT;
	switch (name) {
	case 3: *v = SOCK_STREAM; return 0;                 /* SO_TYPE */
	case 4: *v = vsock_take_error(f->priv); return 0;   /* SO_ERROR */
	case 7: case 8: *v = vsock_buf_size(f->priv); return 0; /* SO_SNDBUF, SO_RCVBUF */
	case 30: *v = vsock_listening(f->priv); return 0;   /* SO_ACCEPTCONN */
	case 39: *v = AF_VSOCK; return 0;                   /* SO_DOMAIN */
	case 2: case 9: case 15: *v = 0; return 0;          /* REUSEADDR, KEEPALIVE, REUSEPORT */
	default: return -ENOPROTOOPT;
	}
}

static const struct sock_ops vsock_sock_ops = {
	.bind = vs_bind, .connect = vs_connect, .listen = vs_listen, .accept = vs_accept,
	.send = vs_send, .recv = vs_recv, .name = vs_name, .shutdown = vs_shutdown,
	.setsockopt = vs_setsockopt, .getsockopt = vs_getsockopt,
};

static const struct file_ops socket_ops = {
	.read = sock_read, .write = sock_write, .writev = sock_writev,
	.poll = sock_poll, .stat = sock_stat, .close = sock_close, .sock = &vsock_sock_ops,
};

static long vs_create(int type, int protocol, struct file **out)
{
	if (type != SOCK_STREAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != 0)
		return -EPROTONOSUPPORT;
	struct vsock *s;
	long r = vsock_create(&s);
	if (r < 0)
		return r;
	*out = file_alloc(&socket_ops, s, O_RDWR);
	if (!*out) {
		vsock_close(s);
		return -ENOMEM;
	}
	return 0;
}

static const struct sock_family vsock_family = {AF_VSOCK, vs_create};

void vsock_register_family(void) { sock_register(&vsock_family); }
