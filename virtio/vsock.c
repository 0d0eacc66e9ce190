/* The virtio socket device (virtio 1.2 section 5.10) and its stream
 * connections. Queue 0 receives (the driver posts empty buffers), queue 1
 * transmits, queue 2 carries events (only TRANSPORT_RESET exists).
 *
 * Every packet is one descriptor: the 44-byte header then the payload.
 * Transmitted packets are copied into a slot of their own (slot i belongs
 * to descriptor i), so a write returns as soon as the packet is queued.
 *
 * One lock guards the queues and every connection. Received packets are
 * taken from the used ring by whichever thread waits on a socket (the
 * "pump"), never by the interrupt handler, which only wakes the waiting
 * cores: taking a packet may allocate (an incoming connection) and kmalloc
 * is not for interrupt handlers.
 *
 * Flow control (5.10.6.3): each side tells the other, in every header,
 * buf_alloc (its receive buffer for the connection) and fwd_cnt (bytes its
 * reader consumed). A sender keeps tx_cnt - peer_fwd_cnt <= peer_buf_alloc.
 * The receive buffer of a connection is a ring of buf_alloc bytes, so the
 * peer's credit is exactly the free room in it. */
#include "vsock.h"
#include "mmio.h"
#include "../kernel/defs.h"
#include "../kernel/cpu.h"
#include "../kernel/sched.h"
#include "../kernel/spinlock.h"
#include "../kernel/errno.h"

#define QSIZE 64
#define RX_BUF_SIZE (16 * 1024)          /* header included */
#define TX_SLOT_SIZE (32 * 1024)         /* header included */
#define CONN_BUF (256 * 1024)            /* buf_alloc of every connection */
#define EV_BUFS 4
#define CTL_MAX 256                      /* control packets waiting for a tx slot */
#define CONNECT_TIMEOUT_NS (5 * 1000000000ull)
#define CLOSE_TIMEOUT_NS (2 * 1000000000ull)
#define FIRST_EPHEMERAL 49152

enum vstate { V_NEW, V_LISTEN, V_CONNECTING, V_CONNECTED, V_CLOSED };

struct vsock {
	struct vsock *next;          /* vs.all */
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
	struct spinlock lock;
	struct vmmio dev;
	bool up;
	uint64_t cid;
	struct virtq rxq, txq, evq;
	uint8_t *txbuf;              /* txq.num slots of TX_SLOT_SIZE */
	uint32_t events[EV_BUFS];
	struct vsock *all;
	uint32_t next_port;
	volatile uint64_t waiters;   /* cores that have waited on a socket */
	struct vsock_hdr ctl[CTL_MAX];
	int nctl;
} vs;


static uint32_t credit(const struct vsock *s)
{
	uint32_t in_flight = s->tx_cnt - s->peer_fwd_cnt;
	return in_flight >= s->peer_buf_alloc ? 0 : s->peer_buf_alloc - in_flight;
}

/* --- transmit --- */

static void reclaim_tx(void)
{
	void *data;
	uint32_t len;
	while (virtq_get_buf(&vs.txq, &data, &len))
		;
}

static void notify(int queue, struct virtq *vq)
{
	virtq_publish(vq);
	if (!(__atomic_load_n(&vq->used->flags, __ATOMIC_ACQUIRE) & VIRTQ_USED_F_NO_NOTIFY))
		vmmio_notify(&vs.dev, queue);
}

/* Queues one packet; false when every slot is in use. */
static bool tx_packet(const struct vsock_hdr *h, const struct iovec64 *iov, int niov)
{
	reclaim_tx();
	if (vs.txq.num_free < 1)
		return false;
	uint8_t *slot = vs.txbuf + (size_t)vs.txq.free_head * TX_SLOT_SIZE;
	memcpy(slot, h, sizeof *h);
	size_t off = sizeof *h;
	for (int i = 0; i < niov; i++) {
		memcpy(slot + off, iov[i].base, iov[i].len);
		off += iov[i].len;
	}
	uint64_t addr = (uint64_t)slot;
	uint32_t len = off;
	virtq_add(&vs.txq, &addr, &len, 1, 0);
	notify(1, &vs.txq);
	return true;
}

static struct vsock_hdr header(struct vsock *s, int op, uint32_t flags, uint32_t len)
{
	s->fwd_sent = s->fwd_cnt;
	return (struct vsock_hdr){
		.src_cid = vs.cid, .dst_cid = s->peer_cid, .src_port = s->port, .dst_port = s->peer_port,
		.len = len, .type = VSOCK_TYPE_STREAM, .op = op, .flags = flags,
		.buf_alloc = CONN_BUF, .fwd_cnt = s->fwd_cnt,
	};
}

/* A packet without payload. It waits in vs.ctl while the ring is full
 * (the pump cannot wait for room); if even that is full, it is dropped
 * and the peer's timeouts take over. */
static void tx_control(const struct vsock_hdr *h)
{
	if (vs.nctl == 0 && tx_packet(h, NULL, 0))
		return;
	if (vs.nctl < CTL_MAX)
		vs.ctl[vs.nctl++] = *h;
	else
		kdebug("vsock: control packet (op %u) dropped: transmit ring full\n", h->op);
}

static void flush_control(void)
{
	int sent = 0;
	while (sent < vs.nctl && tx_packet(&vs.ctl[sent], NULL, 0))
		sent++;
	memmove(vs.ctl, vs.ctl + sent, (vs.nctl - sent) * sizeof vs.ctl[0]);
	vs.nctl -= sent;
}

static void send_op(struct vsock *s, int op, uint32_t flags)
{
	struct vsock_hdr h = header(s, op, flags, 0);
	tx_control(&h);
}

static void reset_reply(const struct vsock_hdr *in)
{
	struct vsock_hdr h = {
		.src_cid = vs.cid, .dst_cid = in->src_cid, .src_port = in->dst_port, .dst_port = in->src_port,
		.type = VSOCK_TYPE_STREAM, .op = VSOCK_OP_RST,
	};
	tx_control(&h);
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
	s->next = vs.all;
	vs.all = s;
	return s;
}

static void conn_free(struct vsock *s)
{
	for (struct vsock **pp = &vs.all; *pp; pp = &(*pp)->next)
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
	for (struct vsock *s = vs.all; s; s = s->next)
		if ((s->state == V_CONNECTING || s->state == V_CONNECTED || s->orphan) && s->port == h->dst_port &&
		    s->peer_cid == h->src_cid && s->peer_port == h->src_port)
			return s;
	return NULL;
}

static struct vsock *find_listener(uint32_t port)
{
	for (struct vsock *s = vs.all; s; s = s->next)
		if (s->state == V_LISTEN && s->port == port)
			return s;
	return NULL;
}

static bool port_in_use(uint32_t port)
{
	for (struct vsock *s = vs.all; s; s = s->next)
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

static void receive(const struct vsock_hdr *h, const uint8_t *data)
{
	if (h->dst_cid != vs.cid || h->type != VSOCK_TYPE_STREAM) {
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
static void expire(void)
{
	uint64_t now = time_ns();
	struct vsock *next;
	for (struct vsock *s = vs.all; s; s = next) {
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

/* --- receive and events --- */

static void post_rx(uint8_t *buf)
{
	uint64_t addr = (uint64_t)buf;
	uint32_t len = RX_BUF_SIZE;
	virtq_add_data(&vs.rxq, &addr, &len, 0, 1, buf);
}

static void post_event(uint32_t *ev)
{
	uint64_t addr = (uint64_t)ev;
	uint32_t len = sizeof *ev;
	virtq_add_data(&vs.evq, &addr, &len, 0, 1, ev);
}

/* TRANSPORT_RESET (5.10.6.7): the peer forgot every connection; listeners
 * stay, and the guest CID may have changed. */
static void transport_reset(void)
{
	struct vsock *next;
	for (struct vsock *s = vs.all; s; s = next) {
		next = s->next;
		if (s->state == V_CONNECTING || s->state == V_CONNECTED || s->orphan)
			set_closed(s, ECONNRESET);
	}
	vs.cid = vmmio_config32(&vs.dev, 0) | (uint64_t)vmmio_config32(&vs.dev, 4) << 32;
	kdebug("vsock: transport reset; guest CID %lu\n", vs.cid);
}

static bool take_events(void)
{
	void *ev;
	uint32_t len;
	bool any = false;
	while (virtq_get_buf(&vs.evq, &ev, &len)) {
		if (len >= 4 && *(uint32_t *)ev == VSOCK_EVENT_TRANSPORT_RESET)
			transport_reset();
		post_event(ev);
		any = true;
	}
	if (any)
		notify(2, &vs.evq);
	return any;
}

static bool take_packets(void)
{
	void *data;
	uint32_t len;
	bool any = false;
	while (virtq_get_buf(&vs.rxq, &data, &len)) { /* len <= RX_BUF_SIZE: the ring checked it */
		uint8_t *buf = data;
		struct vsock_hdr h;
		memcpy(&h, buf, sizeof h);
		if (len >= sizeof h && h.len <= len - sizeof h)
			receive(&h, buf + sizeof h);
		else
			kdebug("vsock: malformed packet of %u bytes dropped\n", len);
		post_rx(buf);
		any = true;
	}
	if (any)
		notify(0, &vs.rxq);
	return any;
}

static void kick_waiters(void)
{
	uint64_t w = __atomic_load_n(&vs.waiters, __ATOMIC_ACQUIRE);
	struct cpu *me = this_cpu();
	for (int i = 0; i < ncpus; i++)
		if ((w >> i & 1) && cpus[i] != me)
			sched_kick(cpus[i]);
}

/* A queue the device corrupted (virtqueue.c said which): the device is
 * reset, every connection fails with ECONNRESET and new sockets with
 * EAFNOSUPPORT. Called from thread context with the lock held. */
static bool device_broken(void)
{
	if (!virtq_broken(&vs.rxq) & !virtq_broken(&vs.txq) & !virtq_broken(&vs.evq))
		return false;
	kprintf("toro: virtio-vsock: the device is reset; connections fail with ECONNRESET\n");
	vmmio_reset(&vs.dev);
	vs.up = false;
	for (struct vsock *s = vs.all, *next; s; s = next) {
		next = s->next;
		if (s->state != V_LISTEN)
			set_closed(s, ECONNRESET);
	}
	kick_waiters();
	return true;
}

/* Everything the device has done; called with the lock held. */
static void pump_locked(void)
{
	bool any = take_packets() | take_events();
	reclaim_tx();
	if (device_broken())
		return;
	if (vs.nctl)
		flush_control();
	expire();
	if (any)
		kick_waiters();
}

static void pump(void)
{
	if (vs.up && spin_trylock(&vs.lock)) {
		pump_locked();
		spin_unlock(&vs.lock);
	}
}

static void vsock_irq(int vector, void *arg)
{
	(void)vector, (void)arg;
	vmmio_ack_interrupt(&vs.dev);
	kick_waiters();
}

/* This core waits on sockets (now or soon): the interrupt handler and
 * the pump kick it from now on. */
static void note_waiter(void)
{
	__atomic_fetch_or(&vs.waiters, 1ull << this_cpu()->id, __ATOMIC_RELEASE);
}

static void wait_for(bool (*cond)(void *), void *arg)
{
	note_waiter();
	sched_wait_until(cond, arg);
}

/* --- the calls --- */

long vsock_create(struct vsock **out)
{
	if (!vs.up)
		return -EAFNOSUPPORT;
	spin_lock(&vs.lock);
	struct vsock *s = conn_alloc();
	spin_unlock(&vs.lock);
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
			port = vs.next_port++;
			if (vs.next_port == 0 || vs.next_port == VMADDR_PORT_ANY)
				vs.next_port = FIRST_EPHEMERAL;
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
	if (cid != VMADDR_CID_ANY && cid != vs.cid)
		return -EADDRNOTAVAIL;
	spin_lock(&vs.lock);
	long r = s->owns_port || s->state != V_NEW ? -EINVAL : bind_locked(s, port);
	spin_unlock(&vs.lock);
	return r;
}

long vsock_listen(struct vsock *s, int backlog)
{
	backlog = backlog < 1 ? 1 : MIN(backlog, 128);
	spin_lock(&vs.lock);
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
	spin_unlock(&vs.lock);
	return r;
}

static bool accept_ready(void *arg)
{
	struct vsock *s = arg;
	pump();
	return s->qlen > 0 || s->state != V_LISTEN;
}

long vsock_accept(struct vsock *s, bool nonblock, struct vsock **out)
{
	for (;;) {
		spin_lock(&vs.lock);
		pump_locked();
		if (s->state != V_LISTEN) {
			spin_unlock(&vs.lock);
			return -EINVAL;
		}
		if (s->qlen > 0) {
			struct vsock *c = s->queue[0];
			drop_from_queue(c);
			spin_unlock(&vs.lock);
			*out = c;
			return 0;
		}
		spin_unlock(&vs.lock);
		if (nonblock)
			return -EAGAIN;
		wait_for(accept_ready, s);
	}
}

static bool connect_over(void *arg)
{
	struct vsock *s = arg;
	pump();
	return s->state != V_CONNECTING;
}

long vsock_connect(struct vsock *s, uint32_t cid, uint32_t port, bool nonblock)
{
	spin_lock(&vs.lock);
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
	spin_unlock(&vs.lock);
	if (r < 0)
		return r;
	if (nonblock)
		return -EINPROGRESS;
	wait_for(connect_over, s);
	spin_lock(&vs.lock);
	s->deadline = 0;
	r = s->state == V_CONNECTED ? 0 : -(s->err ? s->err : ECONNREFUSED);
	if (r < 0)
		s->err = 0;
	spin_unlock(&vs.lock);
	return r;
}

static bool send_ready(void *arg)
{
	struct vsock *s = arg;
	pump();
	return s->state != V_CONNECTED || (s->shut_peer & VSOCK_SHUT_RCV) || s->err ||
	       (credit(s) > 0 && vs.txq.num_free > 0);
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
		spin_lock(&vs.lock);
		pump_locked();
		long err = 0;
		if (s->shut_local & VSOCK_SHUT_SEND)
			err = -EPIPE;
		else if (s->state == V_CONNECTING || s->state == V_NEW || s->state == V_LISTEN)
			err = -ENOTCONN;
		else if (s->state != V_CONNECTED || (s->shut_peer & VSOCK_SHUT_RCV))
			err = s->err ? -s->err : -EPIPE;
		while (!err && done < total && credit(s) > 0) {
			struct iovec64 part[8];
			size_t chunk = MIN(MIN(total - done, (size_t)credit(s)), TX_SLOT_SIZE - sizeof(struct vsock_hdr));
			int k = slice(iov, n, done, chunk, part, 8);
			chunk = 0;
			for (int i = 0; i < k; i++)
				chunk += part[i].len;
			struct vsock_hdr h = header(s, VSOCK_OP_RW, 0, chunk);
			if (!tx_packet(&h, part, k))
				break;
			s->tx_cnt += chunk;
			done += chunk;
		}
		if (!err && done < total && credit(s) == 0 && !s->credit_asked) {
			s->credit_asked = true;
			send_op(s, VSOCK_OP_CREDIT_REQUEST, 0);
		}
		spin_unlock(&vs.lock);
		if (done == total || (done && nonblock))
			return done;
		if (err)
			return done ? (long)done : err;
		if (nonblock)
			return -EAGAIN;
		wait_for(send_ready, s);
	}
}

static bool recv_ready(void *arg)
{
	struct vsock *s = arg;
	pump();
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
		spin_lock(&vs.lock);
		pump_locked();
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
		spin_unlock(&vs.lock);
		if (r < 0)
			return r;
		if (err)
			return -err;
		if (done == total || (done && (!waitall || peek)) || eof || total == 0)
			return done;
		if (nonblock)
			return done ? (long)done : -EAGAIN;
		wait_for(recv_ready, s);
	}
}

long vsock_shutdown(struct vsock *s, int how)
{
	spin_lock(&vs.lock);
	long r = 0;
	if (s->state != V_CONNECTED && s->state != V_CLOSED)
		r = -ENOTCONN;
	else if ((how & ~s->shut_local) && s->state == V_CONNECTED) {
		s->shut_local |= how;
		send_op(s, VSOCK_OP_SHUTDOWN, s->shut_local);
	} else {
		s->shut_local |= how;
	}
	spin_unlock(&vs.lock);
	return r;
}

int vsock_poll(struct vsock *s, int events)
{
	enum { IN = 1, OUT = 4, ERR = 8, HUP = 0x10, RDHUP = 0x2000 };
	note_waiter();
	pump();
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
	spin_lock(&vs.lock);
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
	spin_unlock(&vs.lock);
}

long vsock_name(struct vsock *s, bool peer, uint32_t *cid, uint32_t *port)
{
	if (peer) {
		if (s->state != V_CONNECTED && s->state != V_CLOSED)
			return -ENOTCONN;
		*cid = s->peer_cid, *port = s->peer_port;
	} else {
		bool named = s->owns_port || s->state == V_CONNECTED;
		*cid = named ? vs.cid : VMADDR_CID_ANY;
		*port = named ? s->port : VMADDR_PORT_ANY;
	}
	return 0;
}

int vsock_take_error(struct vsock *s)
{
	spin_lock(&vs.lock);
	int e = s->err;
	s->err = 0;
	spin_unlock(&vs.lock);
	return e;
}

uint32_t vsock_buf_size(struct vsock *s) { (void)s; return CONN_BUF; }
bool vsock_listening(struct vsock *s) { return s->state == V_LISTEN; }

/* --- the device --- */

static int vsock_start(void)
{
	if (!vmmio_negotiate(&vs.dev, VIRTIO_F_VERSION_1)) {
		kprintf("toro: virtio-vsock: the device refused the features (virtio 1.0 required)\n");
		return -1;
	}
	if (vmmio_queue_setup(&vs.dev, 0, &vs.rxq, QSIZE, 0, "virtio-vsock rx") < 0 ||
	    vmmio_queue_setup(&vs.dev, 1, &vs.txq, QSIZE, 0, "virtio-vsock tx") < 0 ||
	    vmmio_queue_setup(&vs.dev, 2, &vs.evq, EV_BUFS, 0, "virtio-vsock event") < 0) {
		kprintf("toro: virtio-vsock: cannot set up the queues\n");
		vmmio_failed(&vs.dev);
		return -1;
	}
	uint8_t *rxbuf = page_alloc_any(0, (size_t)vs.rxq.num * RX_BUF_SIZE / PAGE_SIZE);
	vs.txbuf = page_alloc_any(0, (size_t)vs.txq.num * TX_SLOT_SIZE / PAGE_SIZE);
	if (!rxbuf || !vs.txbuf) {
		kprintf("toro: virtio-vsock: out of memory for the packet buffers\n");
		vmmio_failed(&vs.dev);
		return -1;
	}
	for (int i = 0; i < vs.rxq.num; i++)
		post_rx(rxbuf + (size_t)i * RX_BUF_SIZE);
	for (int i = 0; i < vs.evq.num && i < EV_BUFS; i++)
		post_event(&vs.events[i]);
	vs.cid = vmmio_config32(&vs.dev, 0) | (uint64_t)vmmio_config32(&vs.dev, 4) << 32;
	vs.next_port = FIRST_EPHEMERAL;
	if (vmmio_irq(&vs.dev, vsock_irq, NULL) < 0)
		kdebug("virtio-vsock: no interrupt for GSI %d; polling\n", vs.dev.gsi);
	vmmio_driver_ok(&vs.dev);
	notify(0, &vs.rxq);
	notify(2, &vs.evq);
	kdebug("virtio-vsock: slot %d, guest CID %lu, %u rx buffers\n", vs.dev.slot, vs.cid, vs.rxq.num);
	return 0;
}

/* Takes the first virtio-vsock device and registers AF_VSOCK. */
bool virtio_vsock_probe(const struct vmmio *d)
{
	if (vs.up)
		return false;
	vs.dev = *d;
	if (vsock_start() < 0)
		return false;
	vs.up = true;
	vsock_register_family();
	return true;
}
