/* virtio-vsock stream connections between guest ports and host sockets
 * (virtio 1.2 section 5.10). */
#ifndef VSOCK_H
#define VSOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vsockd.h"

#include "../../virtio/wire.h"

#define RXQ 0
#define TXQ 1

/* Our receive buffer per connection: the guest may have this many bytes
 * in flight towards a host socket that does not read them yet. */
#define BUF_ALLOC (256 * 1024)
/* Largest payload we put in one packet to the guest. */
#define MAX_PKT (64 * 1024)
#define MAX_CONNS 4096

enum conn_kind {
	K_UDS_IN,        /* a host client on --uds-path that sent CONNECT P */
	K_TCP_IN,        /* a TCP client on a --forward port */
	K_UDS_OUT,       /* the guest connected to PATH_P */
	K_TCP_OUT,       /* the guest connected to a --connect target */
};

enum conn_state {
	S_HANDSHAKE,     /* Unix client: reading "CONNECT P\n" */
	S_REQUEST,       /* REQUEST to the guest queued or sent; awaiting RESPONSE */
	S_HOST_CONNECT,  /* guest asked; our connect() to the host is under way */
	S_ESTABLISHED,
	S_CLOSING,       /* we sent SHUTDOWN with both flags; awaiting the guest */
	S_LINGER,        /* guest side gone; writing what is buffered, then close */
};

/* Control packets a connection still has to send (bits of conn.ctrl). */
#define CTRL_REQUEST 1
#define CTRL_RESPONSE 2
#define CTRL_SHUTDOWN 4
#define CTRL_CREDIT_UPDATE 8
#define CTRL_CREDIT_REQUEST 16

struct conn {
	struct watch w;
	int fd;
	enum conn_kind kind;
	enum conn_state state;
	uint32_t host_port;      /* our port on CID 2 */
	uint32_t guest_port;
	bool hashed, dead;
	uint32_t events;         /* epoll interest now registered (0: none) */
	uint64_t deadline;       /* state timeout (ms, 0: none) */
	uint64_t retry_at;       /* S_HOST_CONNECT to a Unix socket, or S_REQUEST
				    refused by the guest: retry time */
	uint64_t wait_until;     /* S_REQUEST from a host client: ask again after
				    an RST until then (--listen-wait) */
	uint64_t retry_ms;       /* the next S_REQUEST retry's delay */

	/* host -> guest (virtio 1.2 5.10.6.3: the guest's credit) */
	uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;
	bool credit_requested;
	bool want_read;          /* host socket readable; waiting for an rx buffer */
	bool host_eof;
	uint32_t shut_flags;     /* the SHUTDOWN we send the guest */

	/* guest -> host: our credit, and what the host socket has not taken */
	uint32_t rx_cnt, fwd_cnt, fwd_cnt_sent;
	uint8_t *buf;            /* circular, BUF_ALLOC bytes, allocated when needed */
	size_t buf_head, buf_len;
	uint32_t guest_shut;     /* SHUTDOWN flags the guest sent */
	bool host_wr_shut;

	unsigned ctrl;           /* CTRL_* */
	bool queued;             /* on the send queue */
	char hs[32];             /* the CONNECT line read so far */
	int hs_len;

	struct conn *hnext;              /* hash chain */
	struct conn *qprev, *qnext;      /* send queue */
	struct conn *prev, *next;        /* all connections */
};

extern int nconns;

/* conn.c: the table, lifetimes, buffers, epoll interest. */
struct conn *conn_new(enum conn_kind kind, int fd);
void conn_set_ports(struct conn *c, uint32_t host_port, uint32_t guest_port);
void conn_unhash(struct conn *c);
struct conn *conn_lookup(uint32_t host_port, uint32_t guest_port);
uint32_t conn_alloc_port(uint32_t guest_port);
void conn_destroy(struct conn *c);
void conn_reap(void);
struct conn *conn_first(void);
struct conn *sq_first(void);
void sq_add(struct conn *c);
void sq_remove(struct conn *c);
void conn_update_events(struct conn *c);
uint32_t conn_peer_free(const struct conn *c);
bool conn_can_read(const struct conn *c);
int conn_buf_append(struct conn *c, const struct iovec *iov, int n, size_t skip);
ssize_t conn_buf_flush(struct conn *c);
const char *conn_name(const struct conn *c);

/* vsock.c: the protocol. */
void vsock_kicked(int queue);
void vsock_flush(void);
void vsock_reset_all(const char *why);
void vsock_timers(uint64_t now);
void vsock_send_rst(uint32_t host_port, uint32_t guest_port);
void conn_reset(struct conn *c);
void conn_start_request(struct conn *c, uint32_t guest_port);
void conn_accept_guest(struct conn *c);
void conn_event(struct watch *w, uint32_t events);

/* host.c: host endpoints. */
int host_listen(void);
void host_cleanup(void);
void host_guest_connect(const struct vsock_hdr *h);
void host_handshake(struct conn *c);
void host_connect_done(struct conn *c);
void host_retry_connect(struct conn *c);

#endif
