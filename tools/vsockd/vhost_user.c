/* The vhost-user protocol, back-end side (QEMU docs/interop/vhost-user.rst).
 *
 * One front-end (QEMU) connects; each message is a 12-byte header
 * (request, flags, size), a payload of size bytes, and file descriptors
 * as SCM_RIGHTS ancillary data. Messages are handled one at a time. A
 * message we cannot parse at all (bad version, size over our maximum,
 * cut short) leaves the stream out of step: we log it and end the
 * connection (exit status 1). A well-formed message we refuse (unknown
 * request, wrong fd count, bad ring index or size) is logged and, if the
 * front-end asked for a reply, answered with a failure; we go on. */
#define _GNU_SOURCE /* accept4 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vhost_user.h"
#include "vring.h"
#include "vsock.h"

#define VU_VERSION 1
#define VU_FLAG_REPLY (1u << 2)
#define VU_FLAG_NEED_REPLY (1u << 3)
#define VU_MAX_FDS 8
#define VU_CONFIG_MAX 256
#define VU_IO_TIMEOUT_S 5    /* for the rest of a message once it began */

#define VHOST_USER_F_PROTOCOL_FEATURES 30
#define PROTO_F_REPLY_ACK 3
#define PROTO_F_CONFIG 9

static const uint64_t offered_features = 1ull << VIRTIO_F_VERSION_1_BIT | 1ull << VHOST_USER_F_PROTOCOL_FEATURES;
static const uint64_t offered_protocol = 1ull << PROTO_F_REPLY_ACK | 1ull << PROTO_F_CONFIG;

struct vu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;
};

union vu_payload {
	uint64_t u64;
	struct {
		uint32_t index, num;
	} state;
	struct {
		uint32_t index, flags;
		uint64_t desc, used, avail, log;
	} addr;
	struct {
		uint32_t nregions, padding;
		struct mem_region_msg regions[MEM_MAX_REGIONS];
	} mem;
	struct {
		uint32_t offset, size, flags;
		uint8_t data[VU_CONFIG_MAX];
	} config;
	uint8_t raw[4096];   /* our payload maximum: larger messages are refused */
};

struct vu_msg {
	struct vu_hdr hdr;
	union vu_payload p;
	int fds[VU_MAX_FDS];
	int nfds;
	bool fds_truncated;
	uint32_t reply_size;     /* for requests answered with a payload */
};

struct handler {
	const char *name;
	int (*fn)(struct vu_msg *m);
	uint32_t min_size;       /* payload at least */
	bool takes_fds;
	bool has_reply;          /* answered with a payload, whatever happens */
};

static int listen_fd = -1, vu_fd = -1;
static char *listen_path;
static struct watch listen_watch, conn_watch;
static uint64_t acked_features, acked_protocol;
bool vu_done;
int vu_exit_status;

/* ---- requests ---- */

static struct vring *ring_of(uint32_t index, const char *req)
{
	if (index >= NUM_QUEUES) {
		log_err("%s: queue index %u out of range (the device has %d queues)", req, index, NUM_QUEUES);
		return NULL;
	}
	return &vrings[index];
}

static int take_fd(struct vu_msg *m)
{
	int fd = m->fds[0];
	m->fds[0] = -1;
	return fd;
}

static int get_features(struct vu_msg *m)
{
	m->p.u64 = offered_features;
	m->reply_size = 8;
	return 0;
}

static int set_features(struct vu_msg *m)
{
	if (m->p.u64 & ~offered_features)
		log_err("SET_FEATURES 0x%llx: bits 0x%llx were not offered; ignored",
			(unsigned long long)m->p.u64, (unsigned long long)(m->p.u64 & ~offered_features));
	acked_features = m->p.u64 & offered_features;
	/* Without protocol features rings are enabled from the start. */
	if (!(acked_features & 1ull << VHOST_USER_F_PROTOCOL_FEATURES))
		for (int i = 0; i < NUM_QUEUES; i++)
			vrings[i].enabled = true;
	return 0;
}

static int get_protocol_features(struct vu_msg *m)
{
	m->p.u64 = offered_protocol;
	m->reply_size = 8;
	return 0;
}

static int set_protocol_features(struct vu_msg *m)
{
	if (m->p.u64 & ~offered_protocol)
		log_err("SET_PROTOCOL_FEATURES 0x%llx: bits 0x%llx were not offered; ignored",
			(unsigned long long)m->p.u64, (unsigned long long)(m->p.u64 & ~offered_protocol));
	acked_protocol = m->p.u64 & offered_protocol;
	return 0;
}

static int set_owner(struct vu_msg *m)
{
	(void)m;
	return 0;
}

/* RESET_OWNER (and RESET_DEVICE): the device starts over. */
static int reset_owner(struct vu_msg *m)
{
	(void)m;
	vsock_reset_all("device reset");
	for (int i = 0; i < NUM_QUEUES; i++)
		vring_reset(&vrings[i]);
	return 0;
}

static int set_mem_table(struct vu_msg *m)
{
	uint32_t n = m->p.mem.nregions;
	if (n == 0 || n > MEM_MAX_REGIONS) {
		log_err("SET_MEM_TABLE: %u regions (1 to %d allowed)", n, MEM_MAX_REGIONS);
		return -1;
	}
	if (m->hdr.size < 8 + n * sizeof(struct mem_region_msg) || (uint32_t)m->nfds != n) {
		log_err("SET_MEM_TABLE: %u regions with %u payload bytes and %d fds", n, m->hdr.size, m->nfds);
		return -1;
	}
	vsock_reset_all("new memory table");
	for (int i = 0; i < NUM_QUEUES; i++)
		vring_notify(&vrings[i]);        /* while the old mapping is there */
	int r = mem_set_table(m->p.mem.regions, n, m->fds);
	for (int i = 0; i < NUM_QUEUES; i++) {
		struct vring *vr = &vrings[i];
		if (vr->started && vring_remap(vr) < 0)
			log_err("queue %d: not usable with the new memory table", i);
	}
	return r;
}

static int set_vring_num(struct vu_msg *m)
{
	struct vring *vr = ring_of(m->p.state.index, "SET_VRING_NUM");
	uint32_t num = m->p.state.num;
	if (!vr)
		return -1;
	if (num == 0 || num > VRING_MAX_NUM || (num & (num - 1))) {
		log_err("SET_VRING_NUM: queue %u: size %u is not a power of two up to %d",
			vr->index, num, VRING_MAX_NUM);
		return -1;
	}
	if (vr->started) {
		log_err("SET_VRING_NUM: queue %u is running", vr->index);
		return -1;
	}
	vr->num = num;
	return 0;
}

static int set_vring_addr(struct vu_msg *m)
{
	struct vring *vr = ring_of(m->p.addr.index, "SET_VRING_ADDR");
	if (!vr)
		return -1;
	vr->desc_uva = m->p.addr.desc;
	vr->used_uva = m->p.addr.used;
	vr->avail_uva = m->p.addr.avail;
	vr->have_addr = true;
	if (vr->started && vring_remap(vr) < 0)
		return -1;
	return 0;
}

static int set_vring_base(struct vu_msg *m)
{
	struct vring *vr = ring_of(m->p.state.index, "SET_VRING_BASE");
	if (!vr)
		return -1;
	if (m->p.state.num > 0xffff || vr->started) {
		log_err("SET_VRING_BASE: queue %u: base %u %s", vr->index, m->p.state.num,
			vr->started ? "while the queue runs" : "is over 65535");
		return -1;
	}
	vr->base = m->p.state.num;
	return 0;
}

/* Stops the ring and says where it stopped. The guest's device is going
 * away (reset, or the VM stops): its connections are gone. */
static int get_vring_base(struct vu_msg *m)
{
	struct vring *vr = ring_of(m->p.state.index, "GET_VRING_BASE");
	m->reply_size = sizeof m->p.state;
	m->p.state.num = 0;
	if (!vr)
		return -1;
	vring_stop(vr);
	vsock_reset_all("queue stopped");
	m->p.state.num = vr->base;
	return 0;
}

/* SET_VRING_KICK/CALL/ERR: queue index in bits 0-7, bit 8 "no fd". */
static struct vring *ring_fd_msg(struct vu_msg *m, const char *req, int *fd)
{
	bool nofd = m->p.u64 & 0x100;
	struct vring *vr;
	*fd = -1;
	if (m->p.u64 & ~0x1ffull) {
		log_err("%s: reserved bits set in 0x%llx", req, (unsigned long long)m->p.u64);
		return NULL;
	}
	if (m->nfds != (nofd ? 0 : 1)) {
		log_err("%s: %d fds, expected %d", req, m->nfds, nofd ? 0 : 1);
		return NULL;
	}
	vr = ring_of(m->p.u64 & 0xff, req);
	if (vr && !nofd)
		*fd = take_fd(m);
	return vr;
}

static int set_vring_kick(struct vu_msg *m)
{
	int fd;
	struct vring *vr = ring_fd_msg(m, "SET_VRING_KICK", &fd);
	if (!vr)
		return -1;
	vring_stop(vr);
	if (fd < 0) {
		log_err("SET_VRING_KICK: queue %d: polling without a kick fd is not supported", vr->index);
		return -1;
	}
	vr->kick_fd = fd;
	if (vring_start(vr) < 0) {
		vring_stop(vr);
		return -1;
	}
	vsock_kicked(vr->index);     /* buffers may be waiting already */
	return 0;
}

static void replace_fd(int *slot, int fd)
{
	if (*slot >= 0)
		close(*slot);
	*slot = fd;
}

static int set_vring_call(struct vu_msg *m)
{
	int fd;
	struct vring *vr = ring_fd_msg(m, "SET_VRING_CALL", &fd);
	if (!vr)
		return -1;
	replace_fd(&vr->call_fd, fd);
	return 0;
}

static int set_vring_err(struct vu_msg *m)
{
	int fd;
	struct vring *vr = ring_fd_msg(m, "SET_VRING_ERR", &fd);
	if (!vr)
		return -1;
	replace_fd(&vr->err_fd, fd);
	return 0;
}

static int set_vring_enable(struct vu_msg *m)
{
	struct vring *vr = ring_of(m->p.state.index, "SET_VRING_ENABLE");
	if (!vr)
		return -1;
	if (m->p.state.num > 1) {
		log_err("SET_VRING_ENABLE: queue %u: value %u", vr->index, m->p.state.num);
		return -1;
	}
	vr->enabled = m->p.state.num;
	if (vr->enabled)
		vsock_kicked(vr->index);
	return 0;
}

/* struct vsock_config (wire.h), little endian. */
static int get_config(struct vu_msg *m)
{
	uint32_t off = m->p.config.offset, size = m->p.config.size;
	uint8_t cfg[VU_CONFIG_MAX] = { 0 };
	struct vsock_config vc = { .guest_cid = htole64(opt.guest_cid) };
	m->reply_size = 12;          /* a failure: the config header, no bytes */
	if (size > VU_CONFIG_MAX || off > VU_CONFIG_MAX - size || m->hdr.size < 12 + size) {
		log_err("GET_CONFIG: offset %u size %u in a %u-byte message", off, size, m->hdr.size);
		m->p.config.size = 0;
		return -1;
	}
	memcpy(cfg, &vc, sizeof vc);
	memcpy(m->p.config.data, cfg + off, size);
	m->reply_size = 12 + size;
	return 0;
}

static int set_config(struct vu_msg *m)
{
	(void)m;
	log_err("SET_CONFIG: the vsock configuration is read-only");
	return -1;
}

static int get_queue_num(struct vu_msg *m)
{
	m->p.u64 = NUM_QUEUES;
	m->reply_size = 8;
	return 0;
}

static const struct handler handlers[] = {
	[1] = { "GET_FEATURES", get_features, 0, false, true },
	[2] = { "SET_FEATURES", set_features, 8, false, false },
	[3] = { "SET_OWNER", set_owner, 0, false, false },
	[4] = { "RESET_OWNER", reset_owner, 0, false, false },
	[5] = { "SET_MEM_TABLE", set_mem_table, 8, true, false },
	[6] = { "SET_LOG_BASE", NULL, 0, true, false },
	[7] = { "SET_LOG_FD", NULL, 0, true, false },
	[8] = { "SET_VRING_NUM", set_vring_num, 8, false, false },
	[9] = { "SET_VRING_ADDR", set_vring_addr, 40, false, false },
	[10] = { "SET_VRING_BASE", set_vring_base, 8, false, false },
	[11] = { "GET_VRING_BASE", get_vring_base, 8, false, true },
	[12] = { "SET_VRING_KICK", set_vring_kick, 8, true, false },
	[13] = { "SET_VRING_CALL", set_vring_call, 8, true, false },
	[14] = { "SET_VRING_ERR", set_vring_err, 8, true, false },
	[15] = { "GET_PROTOCOL_FEATURES", get_protocol_features, 0, false, true },
	[16] = { "SET_PROTOCOL_FEATURES", set_protocol_features, 8, false, false },
	[17] = { "GET_QUEUE_NUM", get_queue_num, 0, false, true },
	[18] = { "SET_VRING_ENABLE", set_vring_enable, 8, false, false },
	[19] = { "SEND_RARP", NULL, 0, false, false },
	[20] = { "NET_SET_MTU", NULL, 0, false, false },
	[21] = { "SET_BACKEND_REQ_FD", NULL, 0, true, false },
	[22] = { "IOTLB_MSG", NULL, 0, false, false },
	[23] = { "SET_VRING_ENDIAN", NULL, 0, false, false },
	[24] = { "GET_CONFIG", get_config, 12, false, true },
	[25] = { "SET_CONFIG", set_config, 12, false, false },
	[26] = { "CREATE_CRYPTO_SESSION", NULL, 0, false, false },
	[27] = { "CLOSE_CRYPTO_SESSION", NULL, 0, false, false },
	[28] = { "POSTCOPY_ADVISE", NULL, 0, false, false },
	[29] = { "POSTCOPY_LISTEN", NULL, 0, false, false },
	[30] = { "POSTCOPY_END", NULL, 0, false, false },
	[31] = { "GET_INFLIGHT_FD", NULL, 0, false, false },
	[32] = { "SET_INFLIGHT_FD", NULL, 0, true, false },
	[33] = { "GPU_SET_SOCKET", NULL, 0, true, false },
	[34] = { "RESET_DEVICE", reset_owner, 0, false, false },
	[35] = { "VRING_KICK", NULL, 0, false, false },
	[36] = { "GET_MAX_MEM_SLOTS", NULL, 0, false, false },
	[37] = { "ADD_MEM_REG", NULL, 0, true, false },
	[38] = { "REM_MEM_REG", NULL, 0, true, false },
	[39] = { "SET_STATUS", NULL, 0, false, false },
	[40] = { "GET_STATUS", NULL, 0, false, false },
};
#define NHANDLERS (sizeof handlers / sizeof handlers[0])

/* ---- messages on the socket ---- */

/* Ends the connection after a message we cannot step over. */
static void fatal(const char *fmt, unsigned a, unsigned b)
{
	char msg[200];
	snprintf(msg, sizeof msg, fmt, a, b);
	log_err("vhost-user: %s; closing the connection", msg);
	vu_done = true;
	vu_exit_status = 1;
}

/* The rest of a message that has begun: blocking, with a time limit. */
static int recv_all(void *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t r = recv(vu_fd, (char *)buf + done, len - done, MSG_WAITALL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += r;
	}
	return 0;
}

static void collect_fds(struct vu_msg *m, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(c);
		for (int i = 0; i < n; i++) {
			if (m->nfds < VU_MAX_FDS)
				m->fds[m->nfds++] = fds[i];
			else
				close(fds[i]);
		}
	}
	m->fds_truncated = mh->msg_flags & MSG_CTRUNC;
}

static void close_fds(struct vu_msg *m)
{
	for (int i = 0; i < m->nfds; i++)
		if (m->fds[i] >= 0)
			close(m->fds[i]);
	m->nfds = 0;
}

/* 1: a message in *m; 0: QEMU closed the connection; -1: fatal. */
static int read_msg(struct vu_msg *m)
{
	union {
		char buf[CMSG_SPACE(VU_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { &m->hdr, sizeof m->hdr };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
			     .msg_controllen = sizeof ctl.buf };
	ssize_t r = recvmsg(vu_fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 2;
	if (r == 0 || (r < 0 && errno == ECONNRESET))
		return 0;
	if (r < 0) {
		log_err("vhost-user: recvmsg: %m");
		return -1;
	}
	collect_fds(m, &mh);
	if ((size_t)r < sizeof m->hdr && recv_all((char *)&m->hdr + r, sizeof m->hdr - r) < 0) {
		fatal("short header (%u of %u bytes)", r, sizeof m->hdr);
		return -1;
	}
	if ((m->hdr.flags & 3) != VU_VERSION) {
		fatal("bad header (request %u, flags 0x%x): not protocol version 1", m->hdr.request, m->hdr.flags);
		return -1;
	}
	if (m->hdr.size > sizeof m->p) {
		fatal("payload size %u is over the maximum %u", m->hdr.size, sizeof m->p);
		return -1;
	}
	if (recv_all(&m->p, m->hdr.size) < 0) {
		fatal("short payload (%u bytes announced, request %u)", m->hdr.size, m->hdr.request);
		return -1;
	}
	return 1;
}

static void send_msg(struct vu_msg *m, uint32_t size)
{
	struct iovec iov[2] = { { &m->hdr, sizeof m->hdr }, { &m->p, size } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
	m->hdr.flags = VU_VERSION | VU_FLAG_REPLY;
	m->hdr.size = size;
	if (sendmsg(vu_fd, &mh, MSG_NOSIGNAL) != (ssize_t)(sizeof m->hdr + size)) {
		log_err("vhost-user: sending the reply: %m; closing the connection");
		vu_done = true;
		vu_exit_status = 1;
	}
}

static const char *request_name(uint32_t req)
{
	return req < NHANDLERS && handlers[req].name ? handlers[req].name : "unknown";
}

/* Checks the message against its handler and runs it: 0 or -1. */
static int dispatch(struct vu_msg *m, const struct handler *h)
{
	const char *name = request_name(m->hdr.request);
	if (!h || !h->fn) {
		log_err("vhost-user: request %u (%s) is not supported", m->hdr.request, name);
		return -1;
	}
	if (m->hdr.size < h->min_size) {
		log_err("vhost-user: %s with %u payload bytes, expected at least %u", name, m->hdr.size,
			h->min_size);
		return -1;
	}
	if (m->fds_truncated || (m->nfds && !h->takes_fds)) {
		log_err("vhost-user: %s came with %s fds; refused", name,
			m->fds_truncated ? "too many" : "unexpected");
		return -1;
	}
	return h->fn(m);
}

static void handle_msg(struct vu_msg *m)
{
	uint32_t req = m->hdr.request;
	const struct handler *h = req < NHANDLERS && handlers[req].name ? &handlers[req] : NULL;
	bool need_reply = m->hdr.flags & VU_FLAG_NEED_REPLY;

	log_v("vhost-user: %s (%u), %u bytes, %d fds%s", request_name(req), req, m->hdr.size, m->nfds,
	      need_reply ? ", reply wanted" : "");
	m->reply_size = 0;
	int r = dispatch(m, h);
	close_fds(m);
	if (h && h->has_reply && h->fn) {
		send_msg(m, m->reply_size);
	} else if (need_reply) {
		/* REPLY_ACK: 0 for success, anything else a failure. */
		m->p.u64 = r == 0 ? 0 : 1;
		send_msg(m, 8);
	}
}

static void conn_event_vu(struct watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	for (int i = 0; i < 64 && !vu_done; i++) {
		struct vu_msg m;
		m.nfds = 0;
		int r = read_msg(&m);
		if (r == 2)
			return;
		if (r <= 0) {
			close_fds(&m);
			if (r == 0)
				log_v("vhost-user: QEMU closed the connection");
			vu_done = true;
			if (r < 0)
				vu_exit_status = 1;
			return;
		}
		handle_msg(&m);
	}
}

static void accept_event(struct watch *w, uint32_t events)
{
	(void)w;
	(void)events;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	struct timeval tv = { .tv_sec = VU_IO_TIMEOUT_S };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	vu_fd = fd;
	/* One front-end only: stop listening; the socket file goes. */
	ep_del(listen_fd);
	close(listen_fd);
	listen_fd = -1;
	unlink(listen_path);
	log_v("vhost-user: front-end connected");
	ep_add(vu_fd, EPOLLIN, &conn_watch);
}

int vu_listen(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	char tmp[sizeof a.sun_path];
	struct stat st;

	if (snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid()) >= (int)sizeof tmp) {
		log_err("--socket %s: path too long for a Unix socket", path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("--socket %s: exists and is not a socket", path);
			return -1;
		}
		unlink(path);
	}
	strcpy(a.sun_path, tmp);
	unlink(tmp);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || bind(listen_fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(listen_fd, 1) < 0 ||
	    rename(tmp, path) < 0) {
		log_err("--socket %s: %m", path);
		unlink(tmp);
		return -1;
	}
	listen_path = (char *)path;
	listen_watch.fn = accept_event;
	conn_watch.fn = conn_event_vu;
	return ep_add(listen_fd, EPOLLIN, &listen_watch);
}

void vu_cleanup(void)
{
	if (listen_fd >= 0) {
		close(listen_fd);
		unlink(listen_path);
		listen_fd = -1;
	}
	if (vu_fd >= 0)
		close(vu_fd);
	vu_fd = -1;
	for (int i = 0; i < NUM_QUEUES; i++)
		vring_reset(&vrings[i]);
	mem_clear();
}
