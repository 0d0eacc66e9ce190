/* virtio-vsock stream connections (virtio 1.2 section 5.10) and the
 * socket calls on them; the device and its queues are vsock_dev.c's.
 * The lock (vsock_impl.h) guards every connection.
 *
 * Flow control (5.10.6.3): each side tells the other, in every header,
 * buf_alloc (its receive buffer for the connection) and fwd_cnt (bytes its
 * reader consumed). A sender keeps tx_cnt - peer_fwd_cnt <= peer_buf_alloc.
 * The receive buffer of a connection is a ring of buf_alloc bytes, so the
 * peer's credit is exactly the free room in it. */
#include "vsock_impl.h"
#include "../kernel/defs.h"
#include "../kernel/errno.h"

#define CONN_BUF (256 * 1024)            /* buf_alloc of every connection */
#define CONNECT_TIMEOUT_NS (5 * 1000000000ull)
#define CLOSE_TIMEOUT_NS (2 * 1000000000ull)
#define FIRST_EPHEMERAL 49152

enum vstate { V_NEW, V_LISTEN, V_CONNECTING, V_CONNECTED, V_CLOSED };

struct vsock {
	struct vsock *next;          /* vc.all */
	enum vstate state;
	bool owns_port;              /* bound (explicitly or on connect) */
	bool orphan;                 /* its descriptor is closed; waits for the peer's RST */
	uint32_t port;
	uint32_t peer_port;
	uint64_t peer_cid;
	int err;                     /* pending: ECONNREFUSED, ECONNRESET, ETIMEDOUT */
	int shut_local, shut_peer;   /* VSOCK_SHUT_ bits */
	uint64_t deadline;           /* connecting: give up; orphan: reset */

	uint8_t *rx;                 /* the receive ring, CONN_BUF bytes */
	uint32_t rx_head, rx_used;
	uint32_t fwd_cnt, fwd_sent;  /* consumed; last told to the peer */

	uint32_t tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	bool credit_asked;

	struct vsock **queue;        /* listener: established, not yet accepted */
	int qmax, qlen;
	struct vsock *listener;      /* in that queue */
};

static struct {
	struct vsock *all;
	uint32_t next_port;
} vc = {.next_port = FIRST_EPHEMERAL};

static uint32_t credit(const struct vsock *s)
{
	uint32_t in_flight = s->tx_cnt - s->peer_fwd_cnt;
	return in_flight >= s->peer_buf_alloc ? 0 : s->peer_buf_alloc - in_flight;
}

static struct vsock_hdr header(struct vsock *s, int op, uint32_t flags, uint32_t len)
{
	s->fwd_sent = s->fwd_cnt;
	return (struct vsock_hdr){
		.src_cid = vsock_cid, .dst_cid = s->peer_cid, .src_port = s->port, .dst_port = s->peer_port,
		.len = len, .type = VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = CONN_BUF, .fwd_cnt = s->fwd_cnt,
	};
}

static void send_op(struct vsock *s, int op, uint32_t flags)
{
	struct vsock_hdr h = header(s, op, flags, 0);
	vsock_tx_control(&h);
}

static void reset_reply(const struct vsock_hdr *in)
{
	struct vsock_hdr h = {
		.src_cid = vsock_cid, .dst_cid = in->src_cid, .src_port = in->dst_port, .dst_port = in->src_port,
		.type = VSOCK_TYPE_STREAM, .op = VSOCK_OP_RST,
	};
	vsock_tx_control(&h);
}

/* --- connections --- */

static struct vsock *conn_alloc(void)
{
	struct vsock *s = kzalloc(sizeof *s);
	if (!s)
		return NULL;
	s->rx = kmalloc(CONN_BUF);
	if (!s->rx) {
		kfree(s);
		return NULL;
	}
	s->next = vc.all;
	vc.all = s;
	return s;
}

static void conn_free(struct vsock *s)
{
	for (struct vsock **pp = &vc.all; *pp; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	kfree(s->queue);
	kfree(s->rx);
	kfree(s);
}

static struct vsock *find_conn(const struct vsock_hdr *h)
{
	for (struct vsock *s = vc.all; s; s = s->next)
		if ((s->state == V_CONNECTING || s->state == V_CONNECTED || s->orphan) && s->port == h->dst_port &&
		    s->peer_cid == h->src_cid && s->peer_port == h->src_port)
			return s;
	return NULL;
}

static struct vsock *find_listener(uint32_t port)
{
	for (struct vsock *s = vc.all; s; s = s->next)
		if (s->state == V_LISTEN && s->port == port)
			return s;
	return NULL;
}

static bool port_in_use(uint32_t port)
{
	for (struct vsock *s = vc.all; s; s = s->next)
		if (s->owns_port && s->port == port)
			return true;
	return false;
}

/* The connection is over: no more packets either way. */
static void set_closed(struct vsock *s, int err)
{
	if (s->state == V_CONNECTING && !err)
		err = ECONNREFUSED;
	s->state = V_CLOSED;
	s->shut_peer = VSOCK_SHUT_RCV | VSOCK_SHUT_SEND;
	if (err && !s->err)
		s->err = err;
	if (s->orphan && !s->listener)
		conn_free(s);
}

static void drop_from_queue(struct vsock *c)
{
	struct vsock *l = c->listener;
	for (int i = 0; i < l->qlen; i++)
		if (l->queue[i] == c) {
			memmove(l->queue + i, l->queue + i + 1, (l->qlen - i - 1) * sizeof *l->queue);
			l->qlen--;
			break;
		}
	c->listener = NULL;
}

/* A REQUEST for a listening port: the connection is established at once
 * and waits in the accept queue. */
static void incoming(struct vsock *l, const struct vsock_hdr *h)
{
	struct vsock *c = l->qlen < l->qmax ? conn_alloc() : NULL;
	if (!c) {
		reset_reply(h);
		return;
	}
	c->state = V_CONNECTED;
	c->port = l->port;
	c->peer_cid = h->src_cid;
	c->peer_port = h->src_port;
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->listener = l;
	l->queue[l->qlen++] = c;
	send_op(c, VSOCK_OP_RESPONSE, 0);
}

static void receive_data(struct vsock *s, const uint8_t *data, uint32_t len)
{
	if (s->state != V_CONNECTED || (s->shut_peer & VSOCK_SHUT_SEND))
		return;
	if (len > CONN_BUF - s->rx_used) {
		kdebug("vsock: port %u: the peer sent beyond its credit; connection reset\n", s->port);
		send_op(s, VSOCK_OP_RST, 0);
		set_closed(s, ECONNRESET);
		return;
	}
	if ((s->shut_local & VSOCK_SHUT_RCV) || s->orphan) { /* nobody will read it */
		s->fwd_cnt += len;
		return;
	}
	uint32_t tail = (s->rx_head + s->rx_used) % CONN_BUF;
	uint32_t first = MIN(len, CONN_BUF - tail);
	memcpy(s->rx + tail, data, first);
	memcpy(s->rx, data + first, len - first);
	s->rx_used += len;
}

void vsock_receive(const struct vsock_hdr *h, const uint8_t *data)
{
	if (h->dst_cid != vsock_cid || h->type != VSOCK_TYPE_STREAM) {
		if (h->op != VSOCK_OP_RST)
			reset_reply(h);
		return;
	}
	struct vsock *s = find_conn(h);
	if (!s) {
		struct vsock *l = h->op == VSOCK_OP_REQUEST ? find_listener(h->dst_port) : NULL;
		if (l)
			incoming(l, h);
		else if (h->op != VSOCK_OP_RST)
			reset_reply(h);
		return;
	}
	s->peer_buf_alloc = h->buf_alloc;
	s->peer_fwd_cnt = h->fwd_cnt;
	s->credit_asked = false;
	switch (h->op) {
	case VSOCK_OP_RESPONSE:
		if (s->state == V_CONNECTING)
			s->state = V_CONNECTED;
		else if (s->state == V_CONNECTED) {
			send_op(s, VSOCK_OP_RST, 0);
			set_closed(s, ECONNRESET);
		}
		break;
	case VSOCK_OP_RW:
		receive_data(s, data, h->len);
		break;
	case VSOCK_OP_CREDIT_REQUEST:
		if (s->state == V_CONNECTED)
			send_op(s, VSOCK_OP_CREDIT_UPDATE, 0);
		break;
	case VSOCK_OP_SHUTDOWN:
		s->shut_peer |= h->flags & (VSOCK_SHUT_RCV | VSOCK_SHUT_SEND);
		if (s->orphan && s->shut_peer == (VSOCK_SHUT_RCV | VSOCK_SHUT_SEND)) {
			send_op(s, VSOCK_OP_RST, 0);
			conn_free(s);
		}
		break;
	case VSOCK_OP_RST:
		set_closed(s, s->state == V_CONNECTING ? ECONNREFUSED : 0);
		break;
	case VSOCK_OP_REQUEST: /* a second REQUEST on a live connection */
		send_op(s, VSOCK_OP_RST, 0);
		set_closed(s, ECONNRESET);
		break;
	}
}

/* Connect attempts and orphans whose time is up. */
void vsock_expire(void)
{
	uint64_t now = time_ns();
	struct vsock *next;
	for (struct vsock *s = vc.all; s; s = next) {
		next = s->next;
		if (!s->deadline || now < s->deadline)
			continue;
		if (s->state == V_CONNECTING) {
			s->deadline = 0;
			send_op(s, VSOCK_OP_RST, 0);
			set_closed(s, ETIMEDOUT);
		} else if (s->orphan) {
			send_op(s, VSOCK_OP_RST, 0);
			conn_free(s);
		}
	}
}

/* TRANSPORT_RESET (5.10.6.7): the peer forgot every connection; listeners stay. */
void vsock_reset_conns(void)
{
	struct vsock *next;
	for (struct vsock *s = vc.all; s; s = next) {
		next = s->next;
		if (s->state == V_CONNECTING || s->state == V_CONNECTED || s->orphan)
			set_closed(s, ECONNRESET);
	}
}

void vsock_fail_all(void)
{
	for (struct vsock *s = vc.all, *next; s; s = next) {
		next = s->next;
		if (s->state != V_LISTEN)
			set_closed(s, ECONNRESET);
	}
}

/* --- the calls --- */

long vsock_create(struct vsock **out)
{
	if (!vsock_up)
		return -EAFNOSUPPORT;
	spin_lock(&vsock_lock);
	struct vsock *s = conn_alloc();
	spin_unlock(&vsock_lock);
	if (!s)
		return -ENOMEM;
	*out = s;
	return 0;
}

static long bind_locked(struct vsock *s, uint32_t port)
{
	if (port == VMADDR_PORT_ANY) {
		for (uint32_t tries = 0;; tries++) {
			if (tries > 16384)
				return -EADDRINUSE;
			port = vc.next_port++;
			if (vc.next_port == 0 || vc.next_port == VMADDR_PORT_ANY)
				vc.next_port = FIRST_EPHEMERAL;
			if (!port_in_use(port))
				break;
		}
	} else if (port_in_use(port)) {
		return -EADDRINUSE;
	}
	s->port = port;
	s->owns_port = true;
	return 0;
}

long vsock_bind(struct vsock *s, uint32_t cid, uint32_t port)
{
	if (cid != VMADDR_CID_ANY && cid != vsock_cid)
		return -EADDRNOTAVAIL;
	spin_lock(&vsock_lock);
	long r = s->owns_port || s->state != V_NEW ? -EINVAL : bind_locked(s, port);
	spin_unlock(&vsock_lock);
	return r;
}

long vsock_listen(struct vsock *s, int backlog)
{
	backlog = backlog < 1 ? 1 : MIN(backlog, 128);
	spin_lock(&vsock_lock);
	long r = 0;
	if (s->state == V_LISTEN)
		s->qmax = MAX(s->qlen, backlog); /* the queue keeps its room */
	else if (s->state != V_NEW || !s->owns_port)
		r = -EINVAL;
	else if (!(s->queue = kzalloc(128 * sizeof *s->queue)))
		r = -ENOMEM;
	else {
		s->qmax = backlog;
		s->state = V_LISTEN;
		kfree(s->rx); /* a listener receives no data */
		s->rx = NULL;
	}
	spin_unlock(&vsock_lock);
	return r;
}

static bool accept_ready(void *arg)
{
	struct vsock *s = arg;
	vsock_pump();
	return s->qlen > 0 || s->state != V_LISTEN;
}

long vsock_accept(struct vsock *s, bool nonblock, struct vsock **out)
{
	for (;;) {
		spin_lock(&vsock_lock);
		vsock_pump_locked();
		if (s->state != V_LISTEN) {
			spin_unlock(&vsock_lock);
			return -EINVAL;
		}
		if (s->qlen > 0) {
			struct vsock *c = s->queue[0];
			drop_from_queue(c);
			spin_unlock(&vsock_lock);
			*out = c;
			return 0;
		}
		spin_unlock(&vsock_lock);
		if (nonblock)
			return -EAGAIN;
		vsock_wait_for(accept_ready, s);
	}
}

static bool connect_over(void *arg)
{
	struct vsock *s = arg;
	vsock_pump();
	return s->state != V_CONNECTING;
}

long vsock_connect(struct vsock *s, uint32_t cid, uint32_t port, bool nonblock)
{
	spin_lock(&vsock_lock);
	long r = 0;
	if (s->state == V_CONNECTED)
		r = -EISCONN;
	else if (s->state == V_CONNECTING)
		r = -EALREADY;
	else if (s->state != V_NEW)
		r = -EINVAL;
	else if (!s->owns_port)
		r = bind_locked(s, VMADDR_PORT_ANY);
	if (r == 0) {
		s->peer_cid = cid;
		s->peer_port = port;
		s->state = V_CONNECTING;
		s->deadline = time_ns() + CONNECT_TIMEOUT_NS;
		send_op(s, VSOCK_OP_REQUEST, 0);
	}
	spin_unlock(&vsock_lock);
	if (r < 0)
		return r;
	if (nonblock)
		return -EINPROGRESS;
	vsock_wait_for(connect_over, s);
	spin_lock(&vsock_lock);
	s->deadline = 0;
	r = s->state == V_CONNECTED ? 0 : -(s->err ? s->err : ECONNREFUSED);
	if (r < 0)
		s->err = 0;
	spin_unlock(&vsock_lock);
	return r;
}

static bool send_ready(void *arg)
{
	struct vsock *s = arg;
	vsock_pump();
	return s->state != V_CONNECTED || (s->shut_peer & VSOCK_SHUT_RCV) || s->err ||
	       (credit(s) > 0 && vsock_tx_room());
}

/* Takes up to max bytes starting at offset `skip` of the vector into a
 * shorter vector. */
static int slice(const struct iovec64 *iov, int n, size_t skip, size_t max, struct iovec64 *out, int nout)
{
	int k = 0;
	for (int i = 0; i < n && max && k < nout; i++) {
		if (skip >= iov[i].len) {
			skip -= iov[i].len;
			continue;
		}
		size_t take = MIN(iov[i].len - skip, max);
		out[k++] = (struct iovec64){(char *)iov[i].base + skip, take};
		max -= take;
		skip = 0;
	}
	return k;
}

long vsock_send(struct vsock *s, const struct iovec64 *iov, int n, bool nonblock)
{
	size_t total = 0, done = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].len;
	for (;;) {
		spin_lock(&vsock_lock);
		vsock_pump_locked();
		long err = 0;
		if (s->shut_local & VSOCK_SHUT_SEND)
			err = -EPIPE;
		else if (s->state == V_CONNECTING || s->state == V_NEW || s->state == V_LISTEN)
			err = -ENOTCONN;
		else if (s->state != V_CONNECTED || (s->shut_peer & VSOCK_SHUT_RCV))
			err = s->err ? -s->err : -EPIPE;
		while (!err && done < total && credit(s) > 0) {
			struct iovec64 part[8];
			size_t chunk = MIN(MIN(total - done, (size_t)credit(s)), TX_PAYLOAD_MAX);
			int k = slice(iov, n, done, chunk, part, 8);
			chunk = 0;
			for (int i = 0; i < k; i++)
				chunk += part[i].len;
			struct vsock_hdr h = header(s, VSOCK_OP_RW, 0, chunk);
			if (!vsock_tx_packet(&h, part, k))
				break;
			s->tx_cnt += chunk;
			done += chunk;
		}
		if (!err && done < total && credit(s) == 0 && !s->credit_asked) {
			s->credit_asked = true;
			send_op(s, VSOCK_OP_CREDIT_REQUEST, 0);
		}
		spin_unlock(&vsock_lock);
		if (done == total || (done && nonblock))
			return done;
		if (err)
			return done ? (long)done : err;
		if (nonblock)
			return -EAGAIN;
		vsock_wait_for(send_ready, s);
	}
}

static bool recv_ready(void *arg)
{
	struct vsock *s = arg;
	vsock_pump();
	return s->rx_used > 0 || (s->shut_peer & VSOCK_SHUT_SEND) || s->state != V_CONNECTED;
}

static size_t copy_out(struct vsock *s, const struct iovec64 *iov, int n, size_t skip, bool peek)
{
	size_t got = 0;
	uint32_t head = s->rx_head, used = s->rx_used;
	for (int i = 0; i < n && used; i++) {
		if (skip >= iov[i].len) {
			skip -= iov[i].len;
			continue;
		}
		size_t want = MIN(iov[i].len - skip, used);
		char *dst = (char *)iov[i].base + skip;
		skip = 0;
		while (want) {
			size_t run = MIN(want, (size_t)(CONN_BUF - head));
			memcpy(dst, s->rx + head, run);
			dst += run, want -= run, got += run;
			head = (head + run) % CONN_BUF;
			used -= run;
		}
	}
	if (!peek) {
		s->rx_head = used ? head : 0;
		s->rx_used = used;
		s->fwd_cnt += got;
		/* Tell the peer about room it may be waiting for (section 5.10.6.3). */
		if (s->state == V_CONNECTED && s->fwd_cnt - s->fwd_sent >= CONN_BUF / 4)
			send_op(s, VSOCK_OP_CREDIT_UPDATE, 0);
	}
	return got;
}

long vsock_recv(struct vsock *s, const struct iovec64 *iov, int n, bool nonblock, bool peek, bool waitall)
{
	size_t total = 0, done = 0;
	for (int i = 0; i < n; i++)
		total += iov[i].len;
	for (;;) {
		spin_lock(&vsock_lock);
		vsock_pump_locked();
		long r = 0;
		if (s->state == V_LISTEN || s->state == V_NEW || s->state == V_CONNECTING)
			r = -ENOTCONN;
		else
			done += copy_out(s, iov, n, done, peek);
		bool eof = !s->rx_used && ((s->shut_peer & VSOCK_SHUT_SEND) || s->state != V_CONNECTED ||
					    (s->shut_local & VSOCK_SHUT_RCV));
		int err = eof && !done && s->err == ECONNRESET ? s->err : 0;
		if (err)
			s->err = 0;
		spin_unlock(&vsock_lock);
		if (r < 0)
			return r;
		if (err)
			return -err;
		if (done == total || (done && (!waitall || peek)) || eof || total == 0)
			return done;
		if (nonblock)
			return done ? (long)done : -EAGAIN;
		vsock_wait_for(recv_ready, s);
	}
}

long vsock_shutdown(struct vsock *s, int how)
{
	spin_lock(&vsock_lock);
	long r = 0;
	if (s->state != V_CONNECTED && s->state != V_CLOSED)
		r = -ENOTCONN;
	else if ((how & ~s->shut_local) && s->state == V_CONNECTED) {
		s->shut_local |= how;
		send_op(s, VSOCK_OP_SHUTDOWN, s->shut_local);
	} else {
		s->shut_local |= how;
	}
	spin_unlock(&vsock_lock);
	return r;
}

int vsock_poll(struct vsock *s, int events)
{
	enum { IN = 1, OUT = 4, ERR = 8, HUP = 0x10, RDHUP = 0x2000 };
	vsock_note_waiter();
	vsock_pump();
	int r = 0;
	if (s->state == V_LISTEN)
		return s->qlen ? IN & events : 0;
	if (s->rx_used || (s->shut_peer & VSOCK_SHUT_SEND))
		r |= IN;
	if (s->shut_peer & VSOCK_SHUT_SEND)
		r |= RDHUP;
	if (s->state == V_CONNECTED && !(s->shut_local & VSOCK_SHUT_SEND) && !(s->shut_peer & VSOCK_SHUT_RCV) &&
	    credit(s) > 0)
		r |= OUT;
	if (s->state == V_CLOSED || (s->shut_peer == (VSOCK_SHUT_RCV | VSOCK_SHUT_SEND)))
		r |= HUP | IN;
	if (s->err)
		r |= ERR;
	return r & (events | ERR | HUP);
}

void vsock_close(struct vsock *s)
{
	spin_lock(&vsock_lock);
	if (s->state == V_LISTEN) {
		while (s->qlen) {
			struct vsock *c = s->queue[0];
			drop_from_queue(c);
			send_op(c, VSOCK_OP_RST, 0);
			conn_free(c);
		}
		conn_free(s);
	} else if (s->state == V_CONNECTED && s->shut_peer != (VSOCK_SHUT_RCV | VSOCK_SHUT_SEND)) {
		/* Orderly close (5.10.6.6): SHUTDOWN both ways, then the peer's RST
		 * frees it; data already queued still arrives first. */
		if (s->shut_local != (VSOCK_SHUT_RCV | VSOCK_SHUT_SEND))
			send_op(s, VSOCK_OP_SHUTDOWN, VSOCK_SHUT_RCV | VSOCK_SHUT_SEND);
		s->shut_local = VSOCK_SHUT_RCV | VSOCK_SHUT_SEND;
		s->orphan = true;
		s->deadline = time_ns() + CLOSE_TIMEOUT_NS;
	} else {
		if (s->state == V_CONNECTING || s->state == V_CONNECTED)
			send_op(s, VSOCK_OP_RST, 0);
		conn_free(s);
	}
	spin_unlock(&vsock_lock);
}

long vsock_name(struct vsock *s, bool peer, uint32_t *cid, uint32_t *port)
{
	if (peer) {
		if (s->state != V_CONNECTED && s->state != V_CLOSED)
			return -ENOTCONN;
		*cid = s->peer_cid, *port = s->peer_port;
	} else {
		bool named = s->owns_port || s->state == V_CONNECTED;
		*cid = named ? vsock_cid : VMADDR_CID_ANY;
		*port = named ? s->port : VMADDR_PORT_ANY;
	}
	return 0;
}

int vsock_take_error(struct vsock *s)
{
	spin_lock(&vsock_lock);
	int e = s->err;
	s->err = 0;
	spin_unlock(&vsock_lock);
	return e;
}

uint32_t vsock_buf_size(struct vsock *s) { (void)s; return CONN_BUF; }
bool vsock_listening(struct vsock *s) { return s->state == V_LISTEN; }
