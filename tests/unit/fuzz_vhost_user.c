/* libFuzzer target (make fuzz): the bytes are what a vhost-user front-end
 * (QEMU) sends toro-vsockd -- messages (header, payload) with memfds or
 * eventfds as SCM_RIGHTS -- over a socket pair into vhost_user.c's own
 * connection handler (conn_event_vu: read_msg, dispatch, handle_msg).
 * vhost_user.c is included, not linked, to reach its static state; the
 * Makefile's mutant builds include a copy with a check removed instead.
 * Nothing may crash (ASan, UBSan), hang (the writer end is shut before
 * the handler runs, and the socket has receive/send time limits) or leak
 * fds (after each input only the epoll fd is left). */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef VHOST_USER_C
#define VHOST_USER_C "../../tools/vsockd/vhost_user.c"
#endif
#include VHOST_USER_C

struct options opt = {.guest_cid = 3};

#define MEM_SIZE 0x10000         /* each memfd: rings may point into it */
#define MAX_MSGS 32


struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct input *in, int bytes)
{
	uint32_t v = 0;
	for (int i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint32_t)*in->p << (8 * i);
	return v;
}

/* The fds of the kinds this program and vsockd open (libFuzzer opens
 * pipes of its own now and then), as /proc/self/fd names them. */
static int count_our_fds(void)
{
	static const char *kinds[] = { "socket:", "/memfd:guest", "anon_inode:[eventfd]",
				       "anon_inode:[eventpoll]" };
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;
	if (!d)
		abort();
	while ((e = readdir(d))) {
		char path[300], what[256];
		snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
		ssize_t len = readlink(path, what, sizeof what - 1);
		if (len <= 0 || atoi(e->d_name) == dirfd(d))
			continue;
		what[len] = 0;
		for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
			n += strncmp(what, kinds[k], strlen(kinds[k])) == 0;
	}
	closedir(d);
	return n;
}

static int new_fd(unsigned kind)
{
	if (kind & 1)
		return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	int fd = memfd_create("guest", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, MEM_SIZE) < 0)
		abort();
	return fd;
}

/* Fields made plausible (with control bit 0x10): queue indexes up to one
 * out of range, fd-message flags, and memory regions and ring addresses
 * inside the first four 64 KiB of gpa/uva, so SET_MEM_TABLE can map the
 * memfds and a started ring can be read. */
static void make_plausible(struct vu_hdr *h, uint8_t *payload, uint32_t len, int nfds)
{
	union vu_payload p;
	memcpy(&p, payload, len < sizeof p ? len : sizeof p);
	if ((h->request >= 8 && h->request <= 11) || h->request == 18)
		p.state.index %= NUM_QUEUES + 1;   /* addr.index too */
	if (h->request >= 12 && h->request <= 14)
		p.u64 = (p.u64 & 0x100) | (p.u64 & 0xff) % (NUM_QUEUES + 1);
	if (h->request == 5) {
		p.mem.nregions = nfds ? nfds : p.mem.nregions;
		for (int i = 0; i < MEM_MAX_REGIONS; i++) {
			struct mem_region_msg *r = &p.mem.regions[i];
			r->size = r->size % MEM_SIZE + 1;
			r->mmap_offset %= MEM_SIZE - r->size + 1;
			r->gpa = r->gpa % 4 * MEM_SIZE;
			r->uva = r->uva % 4 * MEM_SIZE;
		}
	}
	if (h->request == 9) {
		p.addr.desc %= 4 * MEM_SIZE;
		p.addr.used %= 4 * MEM_SIZE;
		p.addr.avail %= 4 * MEM_SIZE;
	}
	memcpy(payload, &p, len < sizeof p ? len : sizeof p);
}

/* One message from the bytes: a control byte (fds to attach; whether to
 * make the header plausible: version 1, a known request, size = payload
 * length), the header, then the payload. */
static void send_one(int s, struct input *in)
{
	unsigned ctl = take(in, 1);
	struct vu_hdr h;
	uint8_t payload[sizeof(union vu_payload) + 64];
	h.request = take(in, 4);
	h.flags = take(in, 4);
	h.size = take(in, 4);
	uint32_t len = take(in, 2) % sizeof payload;
	if (len > in->n)
		len = in->n;
	memcpy(payload, in->p, len);
	in->p += len, in->n -= len;
	int nfds = ctl & 0x20 ? (ctl >> 1) % 11 : ctl & 1;   /* up to 10: over VU_MAX_FDS */
	if (ctl & 0x10) {
		h.request %= NHANDLERS + 1;
		make_plausible(&h, payload, len, nfds);
		h.flags = (h.flags & ~3u) | VU_VERSION;
		h.size = len;
	}
	int fds[10];
	union {
		char buf[CMSG_SPACE(sizeof fds)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov[2] = { { &h, sizeof h }, { payload, len } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	for (int i = 0; i < nfds; i++)
		if ((fds[i] = new_fd(ctl >> (6 + i % 2))) < 0)
			abort();
	if (nfds) {
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	(void)sendmsg(s, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
	for (int i = 0; i < nfds; i++)
		close(fds[i]);   /* the receiver has its own copies */
}

static void drain(int fd)
{
	char buf[4096];
	while (recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0)
		;
}

/* Back to a daemon that has just started and not yet been connected. */
static void reset(void)
{
	vsock_reset_all("fuzz");
	conn_reap();
	for (int i = 0; i < NUM_QUEUES; i++)
		vring_reset(&vrings[i]);
	mem_clear();
	if (vu_fd >= 0)
		close(vu_fd);
	vu_fd = -1;
	vu_done = false;
	vu_exit_status = 0;
	acked_features = acked_protocol = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
	if (g_epfd < 0) {
		g_epfd = epoll_create1(EPOLL_CLOEXEC);
		if (g_epfd < 0)
			abort();
		vring_init_all();
	}
	struct input in = {bytes, size};
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	struct timeval tv = { .tv_usec = 100000 };   /* backstop: the writer end is shut below */
	setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	vu_fd = sv[0];
	for (int i = 0; i < MAX_MSGS && in.n; i++)
		send_one(sv[1], &in);
	shutdown(sv[1], SHUT_WR);
	for (int i = 0; i < MAX_MSGS + 1 && !vu_done; i++) {
		conn_event_vu(&conn_watch, EPOLLIN);
		drain(sv[1]);
	}
	if (!vu_done)   /* the stream ended: the handler must have seen it */
		abort();
	close(sv[1]);
	reset();
	if (count_our_fds() != 1)
		abort();     /* an fd leaked: only g_epfd should be left */
	return 0;
}
