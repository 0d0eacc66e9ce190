/* Host endpoints (Firecracker's convention):
 *  --uds-path PATH   host clients connect to PATH and write "CONNECT P\n";
 *                    a guest connecting to CID 2 port P reaches PATH_P.
 *  --forward H:P     TCP 127.0.0.1:H is guest port P.
 *  --connect P:A:B   a guest connecting to CID 2 port P reaches TCP A:B. */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "vsock.h"

#define HANDSHAKE_TIMEOUT_MS 10000
#define CONNECT_TIMEOUT_MS 5000
#define UNIX_RETRY_MS 20

struct listener {
	struct watch w;
	int fd;
	enum conn_kind kind;     /* K_UDS_IN or K_TCP_IN */
	uint32_t guest_port;     /* K_TCP_IN */
};

static struct listener *listeners;
static int nlisteners;
static bool uds_created;

/* Each vsock packet becomes one write; without TCP_NODELAY, Nagle holds a
 * small write back until the client's delayed ACK (40 ms) comes. */
static void no_delay(int fd)
{
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void accept_event(struct watch *w, uint32_t events);

static int unix_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof a->sun_path)
		return -1;
	strcpy(a->sun_path, path);
	return 0;
}

static int add_listener(int fd, enum conn_kind kind, uint32_t guest_port)
{
	struct listener *l = &listeners[nlisteners++];
	l->w.fn = accept_event;
	l->fd = fd;
	l->kind = kind;
	l->guest_port = guest_port;
	return ep_add(fd, EPOLLIN, &l->w);
}

static int listen_unix(const char *path)
{
	struct sockaddr_un a;
	struct stat st;
	if (unix_addr(&a, path) < 0) {
		log_err("--uds-path %s: too long for a Unix socket", path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("--uds-path %s: exists and is not a socket", path);
			return -1;
		}
		unlink(path);            /* a stale socket of an earlier run */
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, SOMAXCONN) < 0) {
		log_err("--uds-path %s: %m", path);
		return -1;
	}
	uds_created = true;
	return add_listener(fd, K_UDS_IN, 0);
}

static int listen_tcp(const struct forward *f)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(f->host_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, SOMAXCONN) < 0) {
		log_err("--forward %u:%u: listening on 127.0.0.1:%u: %m", f->host_port, f->guest_port,
			f->host_port);
		return -1;
	}
	return add_listener(fd, K_TCP_IN, f->guest_port);
}

int host_listen(void)
{
	listeners = calloc(opt.nforwards + 1, sizeof *listeners);
	if (!listeners)
		return -1;
	if (opt.uds_path && listen_unix(opt.uds_path) < 0)
		return -1;
	for (int i = 0; i < opt.nforwards; i++)
		if (listen_tcp(&opt.forwards[i]) < 0)
			return -1;
	return 0;
}

void host_cleanup(void)
{
	for (int i = 0; i < nlisteners; i++)
		close(listeners[i].fd);
	nlisteners = 0;
	if (uds_created)
		unlink(opt.uds_path);
	uds_created = false;
}

static void accept_event(struct watch *w, uint32_t events)
{
	struct listener *l = container_of(w, struct listener, w);
	(void)events;
	for (int i = 0; i < 64; i++) {
		int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				log_err("accept: %m");
			return;
		}
		if (nconns >= MAX_CONNS) {
			log_err("%d connections open; a new host client is refused", nconns);
			close(fd);
			continue;
		}
		struct conn *c = conn_new(l->kind, fd);
		if (!c) {
			close(fd);
			continue;
		}
		if (l->kind == K_TCP_IN) {
			no_delay(fd);
			log_v("tcp client for guest port %u", l->guest_port);
			conn_start_request(c, l->guest_port);
		} else {
			c->state = S_HANDSHAKE;
			c->deadline = now_ms() + HANDSHAKE_TIMEOUT_MS;
			conn_update_events(c);
		}
	}
}

/* "CONNECT <port>\n" (a '\r' before the '\n' is allowed). */
static int parse_connect(const char *s, uint32_t *port)
{
	char *end;
	if (strncmp(s, "CONNECT ", 8) != 0 || s[8] < '0' || s[8] > '9')
		return -1;
	errno = 0;
	unsigned long v = strtoul(s + 8, &end, 10);
	if (errno || v >= UINT32_MAX || (strcmp(end, "\n") != 0 && strcmp(end, "\r\n") != 0))
		return -1;
	*port = v;
	return 0;
}

/* Reads the CONNECT line a byte at a time, so that nothing after it is
 * taken from the socket before the connection is up. */
void host_handshake(struct conn *c)
{
	for (;;) {
		char ch;
		ssize_t r = recv(c->fd, &ch, 1, 0);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (r <= 0) {
			log_v("unix client left before CONNECT");
			conn_destroy(c);
			return;
		}
		c->hs[c->hs_len++] = ch;
		c->hs[c->hs_len] = 0;
		if (ch == '\n')
			break;
		if (c->hs_len == sizeof c->hs - 1) {
			log_err("unix client: no CONNECT line in the first %d bytes; closed", c->hs_len);
			conn_destroy(c);
			return;
		}
	}
	uint32_t port;
	if (parse_connect(c->hs, &port) < 0) {
		c->hs[strcspn(c->hs, "\r\n")] = 0;
		log_err("unix client: bad request \"%s\" (expected \"CONNECT <port>\"); closed", c->hs);
		conn_destroy(c);
		return;
	}
	conn_start_request(c, port);
}

static const struct connect_map *find_connect(uint32_t port)
{
	for (int i = 0; i < opt.nconnects; i++)
		if (opt.connects[i].guest_port == port)
			return &opt.connects[i];
	return NULL;
}

/* Starts connect() for a guest REQUEST: 0 connected, 1 under way,
 * 2 Unix listener's queue full (retry), -1 failed. */
static int start_connect(int fd, const struct sockaddr *a, socklen_t len)
{
	if (connect(fd, a, len) == 0)
		return 0;
	if (errno == EINPROGRESS)
		return 1;
	if (errno == EAGAIN)
		return 2;
	return -1;
}

static int unix_target(uint32_t port, struct sockaddr_un *a)
{
	char path[sizeof a->sun_path + 16];
	snprintf(path, sizeof path, "%s_%u", opt.uds_path, port);
	return unix_addr(a, path);
}

static void connect_failed(const struct vsock_hdr *h, const char *target)
{
	log_v("guest port %u -> host port %u (%s): %m; RST", h->src_port, h->dst_port, target);
	vsock_send_rst(h->dst_port, h->src_port);
}

void host_guest_connect(const struct vsock_hdr *h)
{
	const struct connect_map *m = find_connect(h->dst_port);
	struct sockaddr_un ua;
	const struct sockaddr *a = (const struct sockaddr *)&ua;
	socklen_t alen = sizeof ua;
	char target[sizeof ua.sun_path + sizeof m->text];
	enum conn_kind kind = K_UDS_OUT;

	if (m) {
		a = (const struct sockaddr *)&m->addr;
		alen = m->addrlen;
		kind = K_TCP_OUT;
		snprintf(target, sizeof target, "%s", m->text);
	} else if (!opt.uds_path || unix_target(h->dst_port, &ua) < 0) {
		log_v("guest port %u -> host port %u: nothing mapped; RST", h->src_port, h->dst_port);
		vsock_send_rst(h->dst_port, h->src_port);
		return;
	} else {
		snprintf(target, sizeof target, "%s", ua.sun_path);
	}
	if (nconns >= MAX_CONNS) {
		log_err("%d connections open; guest port %u refused", nconns, h->src_port);
		vsock_send_rst(h->dst_port, h->src_port);
		return;
	}
	int fd = socket(a->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && kind == K_TCP_OUT)
		no_delay(fd);
	int r = fd < 0 ? -1 : start_connect(fd, a, alen);
	if (r < 0) {
		connect_failed(h, target);
		if (fd >= 0)
			close(fd);
		return;
	}
	struct conn *c = conn_new(kind, fd);
	if (!c) {
		close(fd);
		vsock_send_rst(h->dst_port, h->src_port);
		return;
	}
	conn_set_ports(c, h->dst_port, h->src_port);
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	log_v("%s: REQUEST from the guest to %s", conn_name(c), target);
	if (r == 0) {
		conn_accept_guest(c);
		return;
	}
	c->state = S_HOST_CONNECT;
	c->deadline = now_ms() + CONNECT_TIMEOUT_MS;
	c->retry_at = r == 2 ? now_ms() + UNIX_RETRY_MS : 0;
	conn_update_events(c);
}

/* A Unix listener's queue was full: try again on the same socket. */
void host_retry_connect(struct conn *c)
{
	struct sockaddr_un ua;
	c->retry_at = 0;
	if (unix_target(c->host_port, &ua) < 0)
		return;
	int r = start_connect(c->fd, (struct sockaddr *)&ua, sizeof ua);
	if (r == 0 || r == 1) {
		if (r == 0)
			conn_accept_guest(c);
		else
			conn_update_events(c);
		return;
	}
	if (r == 2) {
		c->retry_at = now_ms() + UNIX_RETRY_MS;
		return;
	}
	log_v("%s: connect to %s: %m", conn_name(c), ua.sun_path);
	conn_reset(c);
}

/* EPOLLOUT on a socket whose connect() was under way. */
void host_connect_done(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		errno = err;
		log_v("%s: connect: %m", conn_name(c));
		conn_reset(c);
		return;
	}
	conn_accept_guest(c);
}
