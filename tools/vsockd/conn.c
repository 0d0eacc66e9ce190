/* Connections: the (host port, guest port) table, their lifetimes, the
 * buffer of guest data a host socket has not taken yet, epoll interest. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vsock.h"

#define HASH_SIZE 1024

static struct conn *table[HASH_SIZE];
static struct conn *all;         /* every live connection */
static struct conn *zombies;     /* destroyed, freed by conn_reap */
int nconns;

static unsigned hash(uint32_t host_port, uint32_t guest_port)
{
	return (host_port * 2654435761u ^ guest_port * 40503u) % HASH_SIZE;
}

struct conn *conn_new(enum conn_kind kind, int fd)
{
	struct conn *c = calloc(1, sizeof *c);
	if (!c) {
		log_err("out of memory for a connection");
		return NULL;
	}
	c->w.fn = conn_event;
	c->fd = fd;
	c->kind = kind;
	c->next = all;
	if (all)
		all->prev = c;
	all = c;
	nconns++;
	return c;
}

void conn_set_ports(struct conn *c, uint32_t host_port, uint32_t guest_port)
{
	unsigned h = hash(host_port, guest_port);
	c->host_port = host_port;
	c->guest_port = guest_port;
	c->hnext = table[h];
	table[h] = c;
	c->hashed = true;
}

struct conn *conn_lookup(uint32_t host_port, uint32_t guest_port)
{
	for (struct conn *c = table[hash(host_port, guest_port)]; c; c = c->hnext)
		if (c->host_port == host_port && c->guest_port == guest_port)
			return c;
	return NULL;
}

void conn_unhash(struct conn *c)
{
	if (!c->hashed)
		return;
	struct conn **p = &table[hash(c->host_port, c->guest_port)];
	while (*p && *p != c)
		p = &(*p)->hnext;
	if (*p)
		*p = c->hnext;
	c->hashed = false;
}

/* A local port for a connection the host starts (as Firecracker does,
 * from 2^30 up), not in use with this guest port. */
uint32_t conn_alloc_port(uint32_t guest_port)
{
	static uint32_t next = 1u << 30;
	for (;;) {
		uint32_t p = next++;
		if (next == UINT32_MAX)
			next = 1u << 30;
		if (!conn_lookup(p, guest_port))
			return p;
	}
}

struct conn *conn_first(void)
{
	return all;
}

/* ---- the send queue: connections with packets for the guest, served
 * round robin as rx buffers come ---- */

static struct conn *sq_head, *sq_tail;

struct conn *sq_first(void)
{
	return sq_head;
}

void sq_add(struct conn *c)
{
	if (c->queued || c->dead)
		return;
	c->qnext = NULL;
	c->qprev = sq_tail;
	if (sq_tail)
		sq_tail->qnext = c;
	else
		sq_head = c;
	sq_tail = c;
	c->queued = true;
}

void sq_remove(struct conn *c)
{
	if (!c->queued)
		return;
	if (c->qprev)
		c->qprev->qnext = c->qnext;
	else
		sq_head = c->qnext;
	if (c->qnext)
		c->qnext->qprev = c->qprev;
	else
		sq_tail = c->qprev;
	c->queued = false;
}

/* Forgets the connection now: closes its socket, leaves every list.
 * The memory stays until conn_reap, as epoll events may still name it. */
void conn_destroy(struct conn *c)
{
	if (c->dead)
		return;
	conn_unhash(c);
	sq_remove(c);
	if (c->events)
		ep_del(c->fd);
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->buf);
	c->buf = NULL;
	if (c->prev)
		c->prev->next = c->next;
	else
		all = c->next;
	if (c->next)
		c->next->prev = c->prev;
	nconns--;
	c->dead = true;
	c->next = zombies;
	zombies = c;
}

void conn_reap(void)
{
	while (zombies) {
		struct conn *c = zombies;
		zombies = c->next;
		free(c);
	}
}

const char *conn_name(const struct conn *c)
{
	static char s[80];
	static const char *kinds[] = { "unix client", "tcp client", "unix", "tcp" };
	snprintf(s, sizeof s, "[host %u <-> guest %u, %s]", c->host_port, c->guest_port, kinds[c->kind]);
	return s;
}

/* virtio 1.2 5.10.6.3: what the guest can still take from us. */
uint32_t conn_peer_free(const struct conn *c)
{
	uint32_t in_flight = c->tx_cnt - c->peer_fwd_cnt;
	return in_flight >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - in_flight;
}

bool conn_can_read(const struct conn *c)
{
	return c->state == S_ESTABLISHED && !c->host_eof && !(c->guest_shut & VSOCK_SHUT_RCV) &&
	       !c->want_read && conn_peer_free(c) > 0;
}

/* Registers what the connection waits for. With no interest the fd
 * leaves epoll, or a hung-up socket would be reported without end. */
void conn_update_events(struct conn *c)
{
	uint32_t ev = 0;
	if (c->dead || c->fd < 0)
		return;
	switch (c->state) {
	case S_HANDSHAKE:
		ev = EPOLLIN;
		break;
	case S_HOST_CONNECT:
		ev = c->retry_at ? 0 : EPOLLOUT;
		break;
	default:
		if (conn_can_read(c))
			ev |= EPOLLIN;
		if (c->buf_len)
			ev |= EPOLLOUT;
	}
	if (ev == c->events)
		return;
	if (ev == 0)
		ep_del(c->fd);
	else if (c->events == 0)
		ep_add(c->fd, ev, &c->w);
	else
		ep_mod(c->fd, ev, &c->w);
	c->events = ev;
}

/* Appends the iovecs' bytes after the first skip to the buffer. The
 * caller has checked the credit, so they fit. */
int conn_buf_append(struct conn *c, const struct iovec *iov, int n, size_t skip)
{
	if (!c->buf) {
		c->buf = malloc(BUF_ALLOC);
		c->buf_head = 0;
		if (!c->buf) {
			log_err("%s: out of memory for the buffer", conn_name(c));
			return -1;
		}
	}
	for (int i = 0; i < n; i++) {
		const uint8_t *p = iov[i].iov_base;
		size_t l = iov[i].iov_len;
		if (skip >= l) {
			skip -= l;
			continue;
		}
		p += skip;
		l -= skip;
		skip = 0;
		while (l > 0) {
			size_t tail = (c->buf_head + c->buf_len) % BUF_ALLOC;
			size_t room = BUF_ALLOC - tail;
			size_t take = l < room ? l : room;
			memcpy(c->buf + tail, p, take);
			c->buf_len += take;
			p += take;
			l -= take;
		}
	}
	return 0;
}

/* Writes buffered bytes to the host socket: the count, or -1 (errno). */
ssize_t conn_buf_flush(struct conn *c)
{
	struct iovec iov[2];
	int n = 0;
	size_t first = BUF_ALLOC - c->buf_head;
	if (first > c->buf_len)
		first = c->buf_len;
	iov[n++] = (struct iovec){ c->buf + c->buf_head, first };
	if (c->buf_len > first)
		iov[n++] = (struct iovec){ c->buf, c->buf_len - first };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
	ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (w < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -1;
	c->buf_head = (c->buf_head + w) % BUF_ALLOC;
	c->buf_len -= w;
	if (c->buf_len == 0) {
		free(c->buf);
		c->buf = NULL;
		c->buf_head = 0;
	}
	return w;
}
