/* The virtio-vsock device (virtio 1.2 section 5.10): packets from the tx
 * queue drive connection state; packets for the guest go out through the
 * rx queue as the guest posts buffers.
 *
 * Flow control (5.10.6.3) both ways:
 *  - to the guest: never more than peer_buf_alloc - (tx_cnt - peer_fwd_cnt)
 *    bytes; a host socket is read only when the guest has credit and an
 *    rx buffer is there, straight into that buffer.
 *  - from the guest: we advertise BUF_ALLOC and fwd_cnt (bytes the host
 *    socket took); what a host socket does not take yet is buffered, and
 *    the guest cannot send more than BUF_ALLOC ahead of fwd_cnt. */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vring.h"
#include "vsock.h"

/* Control packets not tied to a live connection (RSTs), in order. */
struct ctrl_pkt {
	uint32_t host_port, guest_port;
};
#define CTRLQ_TX_LIMIT 1024  /* stop reading the tx queue at this many */
static struct ctrl_pkt *ctrlq;
static size_t cq_cap, cq_head, cq_len;
static bool tx_blocked;

static struct chain rxc, txc;

#define REQUEST_TIMEOUT_MS 5000
#define CLOSING_TIMEOUT_MS 2000
#define LINGER_TIMEOUT_MS 5000

/* ---- building packets ---- */

static void hdr_to_le(struct vsock_hdr *h)
{
	h->src_cid = htole64(h->src_cid);
	h->dst_cid = htole64(h->dst_cid);
	h->src_port = htole32(h->src_port);
	h->dst_port = htole32(h->dst_port);
	h->len = htole32(h->len);
	h->type = htole16(h->type);
	h->op = htole16(h->op);
	h->flags = htole32(h->flags);
	h->buf_alloc = htole32(h->buf_alloc);
	h->fwd_cnt = htole32(h->fwd_cnt);
}

static void hdr_from_le(struct vsock_hdr *h)
{
	h->src_cid = le64toh(h->src_cid);
	h->dst_cid = le64toh(h->dst_cid);
	h->src_port = le32toh(h->src_port);
	h->dst_port = le32toh(h->dst_port);
	h->len = le32toh(h->len);
	h->type = le16toh(h->type);
	h->op = le16toh(h->op);
	h->flags = le32toh(h->flags);
	h->buf_alloc = le32toh(h->buf_alloc);
	h->fwd_cnt = le32toh(h->fwd_cnt);
}

/* Writes a header into the rx chain. With a connection, it carries our
 * credit (buf_alloc, fwd_cnt), which the guest now knows. */
static void put_hdr(struct chain *ch, uint32_t host_port, uint32_t guest_port, uint16_t op,
		    uint32_t flags, uint32_t len, struct conn *c)
{
	struct vsock_hdr h = {
		.src_cid = HOST_CID, .dst_cid = opt.guest_cid,
		.src_port = host_port, .dst_port = guest_port,
		.len = len, .type = VSOCK_TYPE_STREAM, .op = op, .flags = flags,
	};
	if (c) {
		h.buf_alloc = BUF_ALLOC;
		h.fwd_cnt = c->fwd_cnt;
		c->fwd_cnt_sent = c->fwd_cnt;
		c->ctrl &= ~CTRL_CREDIT_UPDATE;  /* this one says it all */
	}
	hdr_to_le(&h);
	chain_write(ch, 0, &h, VSOCK_HDR_SIZE);
}

void vsock_send_rst(uint32_t host_port, uint32_t guest_port)
{
	if (cq_len == cq_cap) {
		size_t cap = cq_cap ? 2 * cq_cap : 64;
		struct ctrl_pkt *q = malloc(cap * sizeof *q);
		if (!q) {
			log_err("out of memory for an RST to guest port %u", guest_port);
			return;
		}
		for (size_t i = 0; i < cq_len; i++)
			q[i] = ctrlq[(cq_head + i) % cq_cap];
		free(ctrlq);
		ctrlq = q;
		cq_cap = cap;
		cq_head = 0;
	}
	ctrlq[(cq_head + cq_len++) % cq_cap] = (struct ctrl_pkt){ host_port, guest_port };
}

/* Tells the guest the connection is gone and forgets it. */
void conn_reset(struct conn *c)
{
	log_v("%s reset", conn_name(c));
	/* The guest knows of it once our REQUEST went out, or it asked. */
	if (c->hashed && c->state != S_HANDSHAKE && !(c->ctrl & CTRL_REQUEST))
		vsock_send_rst(c->host_port, c->guest_port);
	conn_destroy(c);
}

/* The guest side is finished: write what is buffered, then close. */
static void conn_close_host(struct conn *c)
{
	if (c->buf_len == 0 || c->fd < 0) {
		log_v("%s closed", conn_name(c));
		conn_destroy(c);
		return;
	}
	log_v("%s closed by the guest; writing %zu buffered bytes", conn_name(c), c->buf_len);
	sq_remove(c);
	conn_unhash(c);
	c->ctrl = 0;
	c->want_read = false;
	c->state = S_LINGER;
	c->deadline = now_ms() + LINGER_TIMEOUT_MS;
	conn_update_events(c);
}

/* ---- host to guest ---- */

/* Whether the host peer closed both ways (a Unix socket whose peer
 * closed shows POLLHUP; a half close shows only end of file). */
static bool peer_gone(int fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

static void host_eof(struct conn *c)
{
	c->host_eof = true;
	c->want_read = false;
	c->shut_flags = VSOCK_SHUT_SEND;
	if (peer_gone(c->fd)) {
		/* 5.10.6.6: a full SHUTDOWN, then the guest answers RST;
		 * we give up waiting after a while. */
		c->shut_flags = VSOCK_SHUT_BOTH;
		c->state = S_CLOSING;
		c->deadline = now_ms() + CLOSING_TIMEOUT_MS;
	}
	c->ctrl |= CTRL_SHUTDOWN;
	log_v("%s: end of file from the host; SHUTDOWN(%s) to the guest", conn_name(c),
	      c->shut_flags == VSOCK_SHUT_BOTH ? "rcv+send" : "send");
}

/* Reads from the host socket straight into the rx chain after the header.
 * Returns the bytes used in the chain (0: nothing sent). */
static uint32_t read_host(struct conn *c, struct chain *ch)
{
	uint32_t credit = conn_peer_free(c);
	size_t room = ch->len - VSOCK_HDR_SIZE;
	if (room > MAX_PKT)
		room = MAX_PKT;
	if (credit == 0) {
		char b;
		c->want_read = false;
		/* Ask for credit only if the host has data waiting. */
		if (!c->credit_requested && recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 1) {
			c->ctrl |= CTRL_CREDIT_REQUEST;
			c->credit_requested = true;
		}
		return 0;
	}
	if (room == 0) {                 /* a header-only buffer: use it for credit */
		c->ctrl |= CTRL_CREDIT_UPDATE;
		return 0;
	}
	size_t want = room < credit ? room : credit;
	struct iovec iov[CHAIN_MAX_IOV];
	int n = chain_slice(ch, VSOCK_HDR_SIZE, want, iov, CHAIN_MAX_IOV);
	ssize_t r = readv(c->fd, iov, n);
	if (r > 0) {
		put_hdr(ch, c->host_port, c->guest_port, VSOCK_OP_RW, 0, r, c);
		c->tx_cnt += r;
		return VSOCK_HDR_SIZE + r;
	}
	if (r == 0) {
		host_eof(c);
	} else if (errno == EAGAIN || errno == EINTR) {
		c->want_read = false;
	} else {
		log_v("%s: read from the host: %m", conn_name(c));
		conn_reset(c);
	}
	return 0;
}

/* Puts the connection's next packet in the rx chain; the bytes used
 * (0: it had nothing to send). */
static uint32_t conn_send_one(struct conn *c, struct chain *ch)
{
	static const struct { unsigned bit; uint16_t op; } ctrls[] = {
		{ CTRL_REQUEST, VSOCK_OP_REQUEST }, { CTRL_RESPONSE, VSOCK_OP_RESPONSE },
		{ CTRL_CREDIT_UPDATE, VSOCK_OP_CREDIT_UPDATE }, { CTRL_CREDIT_REQUEST, VSOCK_OP_CREDIT_REQUEST },
		{ CTRL_SHUTDOWN, VSOCK_OP_SHUTDOWN },
	};
	/* REQUEST/RESPONSE go before data; SHUTDOWN is only set once the
	 * data before the end of file has gone. */
	if (!(c->ctrl & (CTRL_REQUEST | CTRL_RESPONSE)) && c->want_read) {
		uint32_t used = read_host(c, ch);
		if (used || c->dead)
			return used;
	}
	for (unsigned i = 0; i < sizeof ctrls / sizeof ctrls[0]; i++) {
		if (!(c->ctrl & ctrls[i].bit))
			continue;
		c->ctrl &= ~ctrls[i].bit;
		uint32_t flags = ctrls[i].op == VSOCK_OP_SHUTDOWN ? c->shut_flags : 0;
		put_hdr(ch, c->host_port, c->guest_port, ctrls[i].op, flags, 0, c);
		if (ctrls[i].op == VSOCK_OP_REQUEST && now_ms() + REQUEST_TIMEOUT_MS > c->wait_until)
			c->deadline = now_ms() + REQUEST_TIMEOUT_MS;
		return VSOCK_HDR_SIZE;
	}
	return 0;
}

/* Fills rx buffers while there is something to send: RSTs first, then
 * connections round robin, one packet each. */
static void rx_service(void)
{
	struct vring *vr = &vrings[RXQ];
	while (vr->enabled && (cq_len || sq_first())) {
		if (!vring_peek(vr, &rxc, true))
			return;
		if (rxc.len < VSOCK_HDR_SIZE) {
			log_err("rx buffer of %zu bytes is smaller than a packet header; returned unused", rxc.len);
			vring_commit(vr, &rxc, 0);
			continue;
		}
		if (cq_len) {
			struct ctrl_pkt *p = &ctrlq[cq_head];
			put_hdr(&rxc, p->host_port, p->guest_port, VSOCK_OP_RST, 0, 0, NULL);
			cq_head = (cq_head + 1) % cq_cap;
			cq_len--;
			vring_commit(vr, &rxc, VSOCK_HDR_SIZE);
			continue;
		}
		struct conn *c = sq_first();
		uint32_t used = conn_send_one(c, &rxc);
		if (used)
			vring_commit(vr, &rxc, used);
		if (c->dead)
			continue;
		sq_remove(c);
		if (c->ctrl || c->want_read)
			sq_add(c);       /* to the tail: the others' turn */
		conn_update_events(c);
	}
}

/* ---- guest to host ---- */

/* Sends CREDIT_UPDATE when the guest may soon stall: the credit it knows
 * of is below half our buffer and we have forwarded more since. */
static void credit_check(struct conn *c)
{
	uint32_t known_free = BUF_ALLOC - (c->rx_cnt - c->fwd_cnt_sent);
	if (c->state == S_ESTABLISHED && c->fwd_cnt != c->fwd_cnt_sent && known_free < BUF_ALLOC / 2) {
		c->ctrl |= CTRL_CREDIT_UPDATE;
		sq_add(c);
	}
}

/* Once the guest will send no more and everything is written, the host
 * peer sees end of file. */
static void maybe_shut_host_write(struct conn *c)
{
	if ((c->guest_shut & VSOCK_SHUT_SEND) && c->buf_len == 0 && !c->host_wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->host_wr_shut = true;
	}
}

static void on_rw(struct conn *c, const struct vsock_hdr *h, const struct chain *ch)
{
	if (c->state != S_ESTABLISHED && c->state != S_CLOSING) {
		log_err("%s: data before the connection is established; reset", conn_name(c));
		conn_reset(c);
		return;
	}
	if (h->len > BUF_ALLOC - c->buf_len) {
		log_err("%s: the guest sent %u bytes with %zu of credit left; reset", conn_name(c),
			h->len, BUF_ALLOC - c->buf_len);
		conn_reset(c);
		return;
	}
	if (c->guest_shut & VSOCK_SHUT_SEND) {
		log_err("%s: data after the guest's SHUTDOWN(send); dropped", conn_name(c));
		return;
	}
	struct iovec iov[CHAIN_MAX_IOV];
	int n = chain_slice(ch, VSOCK_HDR_SIZE, h->len, iov, CHAIN_MAX_IOV);
	size_t done = 0;
	c->rx_cnt += h->len;
	if (c->buf_len == 0 && h->len > 0) {
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = n };
		ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			log_v("%s: write to the host: %m", conn_name(c));
			conn_reset(c);
			return;
		}
		done = w > 0 ? (size_t)w : 0;
		c->fwd_cnt += done;
	}
	if (done < h->len && conn_buf_append(c, iov, n, done) < 0) {
		conn_reset(c);
		return;
	}
	credit_check(c);
}

/* The host socket can take more (EPOLLOUT). */
static void conn_flush(struct conn *c)
{
	ssize_t w = conn_buf_flush(c);
	if (w < 0) {
		log_v("%s: write to the host: %m", conn_name(c));
		if (c->state == S_LINGER)
			conn_destroy(c);
		else
			conn_reset(c);
		return;
	}
	c->fwd_cnt += w;
	if (c->state == S_LINGER) {
		if (c->buf_len == 0)
			conn_close_host(c);
		return;
	}
	maybe_shut_host_write(c);
	credit_check(c);
}

static void on_response(struct conn *c)
{
	if (c->state != S_REQUEST) {
		log_err("%s: unexpected RESPONSE; reset", conn_name(c));
		conn_reset(c);
		return;
	}
	c->state = S_ESTABLISHED;
	c->deadline = 0;
	log_v("%s established", conn_name(c));
	if (c->kind == K_UDS_IN) {
		/* Nothing was written to this socket yet: the line fits. */
		char ok[32];
		int n = snprintf(ok, sizeof ok, "OK %u\n", c->host_port);
		if (send(c->fd, ok, n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
			log_v("%s: the host client is gone", conn_name(c));
			conn_reset(c);
		}
	}
}

static void on_shutdown(struct conn *c, uint32_t flags)
{
	if (c->state == S_REQUEST || c->state == S_HOST_CONNECT) {
		log_err("%s: SHUTDOWN before the connection is established; reset", conn_name(c));
		conn_reset(c);
		return;
	}
	c->guest_shut |= flags & VSOCK_SHUT_BOTH;
	log_v("%s: SHUTDOWN(%u) from the guest", conn_name(c), flags);
	if (c->state == S_CLOSING || c->guest_shut == VSOCK_SHUT_BOTH) {
		/* 5.10.6.6: the peer of a full shutdown answers with RST. */
		vsock_send_rst(c->host_port, c->guest_port);
		conn_close_host(c);
		return;
	}
	if (c->guest_shut & VSOCK_SHUT_RCV) {
		c->want_read = false;
		shutdown(c->fd, SHUT_RD);
	}
	maybe_shut_host_write(c);
}

/* The guest refused a host client's REQUEST (RST: nothing listens on the
 * port yet, typically because the program has not reached listen()).
 * Ask again in 5, 10, 20 ... 100 ms until wait_until; the deadline then
 * resets the connection. */
static void request_later(struct conn *c)
{
	c->retry_ms = c->retry_ms ? (c->retry_ms * 2 > 100 ? 100 : c->retry_ms * 2) : 5;
	c->retry_at = now_ms() + c->retry_ms;
	c->deadline = c->wait_until;
}

/* A packet for an existing connection. */
static void conn_packet(struct conn *c, const struct vsock_hdr *h, const struct chain *ch)
{
	/* Every packet carries the guest's credit (5.10.6.3). */
	c->peer_buf_alloc = h->buf_alloc;
	c->peer_fwd_cnt = h->fwd_cnt;
	c->credit_requested = false;
	switch (h->op) {
	case VSOCK_OP_RESPONSE:
		on_response(c);
		break;
	case VSOCK_OP_RST:
		log_v("%s: RST from the guest", conn_name(c));
		if (c->state == S_REQUEST && now_ms() < c->wait_until)
			request_later(c);        /* no listener yet: ask again */
		else if (c->state == S_REQUEST)
			conn_destroy(c);         /* nobody listens: close without OK */
		else
			conn_close_host(c);
		break;
	case VSOCK_OP_SHUTDOWN:
		on_shutdown(c, h->flags);
		break;
	case VSOCK_OP_RW:
		on_rw(c, h, ch);
		break;
	case VSOCK_OP_CREDIT_UPDATE:
		break;
	case VSOCK_OP_CREDIT_REQUEST:
		c->ctrl |= CTRL_CREDIT_UPDATE;
		sq_add(c);
		break;
	default:
		log_err("%s: %s op %u; reset", conn_name(c), h->op == VSOCK_OP_REQUEST ? "duplicate" : "unknown", h->op);
		conn_reset(c);
		break;
	}
	if (!c->dead)
		conn_update_events(c);   /* new credit may let us read again */
}

static void guest_packet(const struct vsock_hdr *h, const struct chain *ch)
{
	if (h->src_cid != opt.guest_cid || h->dst_cid != HOST_CID) {
		log_err("packet from cid %llu to cid %llu dropped (the guest is %llu, the host %d)",
			(unsigned long long)h->src_cid, (unsigned long long)h->dst_cid,
			(unsigned long long)opt.guest_cid, HOST_CID);
		return;
	}
	struct conn *c = conn_lookup(h->dst_port, h->src_port);
	if (h->type != VSOCK_TYPE_STREAM) {
		log_v("packet of type %u to port %u: only streams; RST", h->type, h->dst_port);
		if (c)
			conn_reset(c);
		else if (h->op != VSOCK_OP_RST)
			vsock_send_rst(h->dst_port, h->src_port);
		return;
	}
	if (c) {
		conn_packet(c, h, ch);
	} else if (h->op == VSOCK_OP_REQUEST) {
		host_guest_connect(h);
	} else if (h->op != VSOCK_OP_RST) {
		log_v("op %u for unknown connection host %u <-> guest %u; RST", h->op, h->dst_port, h->src_port);
		vsock_send_rst(h->dst_port, h->src_port);
	}
}

/* Reads packets the guest sent. Each adds at most one RST to the control
 * queue; with the guest not taking them (no rx buffers), we stop here.
 * A disabled ring is left as it is: QEMU sends SET_VRING_KICK and
 * SET_VRING_ENABLE without waiting and lets the guest run, so the guest's
 * first packet (a connect's REQUEST) can be in the ring when we start it,
 * before we have read the ENABLE. Dropping it (the vhost-user "Ring
 * states" example for a network TX ring) lost the connect, which timed
 * out in the guest; SET_VRING_ENABLE reads the ring. */
static void tx_service(void)
{
	struct vring *vr = &vrings[TXQ];
	if (!vr->enabled)
		return;
	while (cq_len < CTRLQ_TX_LIMIT) {
		if (!vring_peek(vr, &txc, false))
			return;
		struct vsock_hdr h;
		if (txc.len < VSOCK_HDR_SIZE) {
			log_err("tx packet of %zu bytes is shorter than a header; dropped", txc.len);
		} else {
			chain_read(&txc, 0, &h, VSOCK_HDR_SIZE);
			hdr_from_le(&h);
			if (h.len > txc.len - VSOCK_HDR_SIZE)
				log_err("tx packet: header says %u payload bytes, the buffers hold %zu; dropped",
					h.len, txc.len - VSOCK_HDR_SIZE);
			else
				guest_packet(&h, &txc);
		}
		vring_commit(vr, &txc, 0);
	}
	tx_blocked = true;
}

/* ---- entry points from the loop ---- */

void vsock_kicked(int queue)
{
	if (queue == TXQ)
		tx_service();
	/* rx: new buffers, used by vsock_flush; event queue: unused */
}

/* After every batch of events: send what can be sent, read the tx queue
 * again if it waited for the control queue, then interrupt the guest. */
void vsock_flush(void)
{
	for (int round = 0; round < 16; round++) {
		rx_service();
		if (!tx_blocked || cq_len >= CTRLQ_TX_LIMIT)
			break;
		tx_blocked = false;
		tx_service();
	}
	vring_notify(&vrings[RXQ]);
	vring_notify(&vrings[TXQ]);
}

void conn_start_request(struct conn *c, uint32_t guest_port)
{
	conn_set_ports(c, conn_alloc_port(guest_port), guest_port);
	c->state = S_REQUEST;
	c->ctrl |= CTRL_REQUEST;
	c->wait_until = opt.listen_wait_ms ? now_ms() + opt.listen_wait_ms : 0;
	c->deadline = c->wait_until; /* and once the REQUEST is out */
	sq_add(c);
	conn_update_events(c);
	log_v("%s: REQUEST to the guest", conn_name(c));
}

void conn_accept_guest(struct conn *c)
{
	c->state = S_ESTABLISHED;
	c->deadline = 0;
	c->retry_at = 0;
	c->ctrl |= CTRL_RESPONSE;
	sq_add(c);
	conn_update_events(c);
	log_v("%s established", conn_name(c));
}

/* epoll on a host connection. */
void conn_event(struct watch *w, uint32_t events)
{
	struct conn *c = container_of(w, struct conn, w);
	if (c->dead)
		return;
	if (c->state == S_HANDSHAKE) {
		host_handshake(c);
		return;
	}
	if (c->state == S_HOST_CONNECT) {
		host_connect_done(c);
		return;
	}
	if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->buf_len)
		conn_flush(c);
	if (c->dead)
		return;
	if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && conn_can_read(c)) {
		c->want_read = true;
		sq_add(c);
	}
	conn_update_events(c);
}

void vsock_timers(uint64_t now)
{
	struct conn *next;
	for (struct conn *c = conn_first(); c; c = next) {
		next = c->next;
		if (c->retry_at && now >= c->retry_at && c->state == S_REQUEST) {
			c->retry_at = 0;
			c->ctrl |= CTRL_REQUEST;
			sq_add(c);
		} else if (c->retry_at && now >= c->retry_at) {
			host_retry_connect(c);
		}
		if (c->dead || !c->deadline || now < c->deadline)
			continue;
		switch (c->state) {
		case S_HANDSHAKE:
			log_err("unix client sent no CONNECT line in time; closed");
			conn_destroy(c);
			break;
		case S_LINGER:
			log_v("%s: %zu bytes not taken by the host; closed", conn_name(c), c->buf_len);
			conn_destroy(c);
			break;
		default:
			log_v("%s: timed out (state %d)", conn_name(c), c->state);
			conn_reset(c);
		}
	}
}

/* The guest's device went away (rings stopped, owner reset, new memory):
 * its sockets are gone, so every host connection closes, without RSTs. */
void vsock_reset_all(const char *why)
{
	if (nconns)
		log_v("%s: closing the host connections not waiting for a listener", why);
	struct conn *next;
	for (struct conn *c = conn_first(); c; c = next) {
		next = c->next;
		if (c->state == S_REQUEST && now_ms() < c->wait_until) {
			c->ctrl = CTRL_REQUEST;  /* the new device hears it again */
			c->deadline = c->wait_until;
			c->retry_at = 0;
			sq_add(c);
		} else {
			conn_destroy(c);
		}
	}
	cq_head = cq_len = 0;
	tx_blocked = false;
}
