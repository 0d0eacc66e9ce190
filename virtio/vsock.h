/* virtio-vsock stream sockets (virtio 1.2 section 5.10). virtio/vsock_dev.c
 * owns the device and its queues, virtio/vsock.c the connection state
 * (vsock_impl.h is between them); virtio/socket.c is the AF_VSOCK family
 * kernel/socket.c's calls reach. Every call returns 0 (or a count) or
 * -errno. */
#pragma once
#include "../kernel/types.h"
#include "../kernel/file.h"
#include "wire.h"

#define VMADDR_CID_ANY 0xffffffffu
#define VMADDR_PORT_ANY 0xffffffffu
#define VMADDR_CID_HOST 2

/* shutdown(2)'s how, as bits (wire.h's VSOCK_SHUT_): SHUT_RD 0 -> 1, SHUT_WR 1 -> 2, SHUT_RDWR -> 3 */

struct vsock;

struct vmmio;
bool virtio_vsock_probe(const struct vmmio *d);
void vsock_register_family(void);   /* virtio/socket.c */
long vsock_create(struct vsock **out);
long vsock_bind(struct vsock *s, uint32_t cid, uint32_t port);
long vsock_listen(struct vsock *s, int backlog);
long vsock_accept(struct vsock *s, bool nonblock, struct vsock **out);
long vsock_connect(struct vsock *s, uint32_t cid, uint32_t port, bool nonblock);
long vsock_send(struct vsock *s, const struct iovec64 *iov, int n, bool nonblock);
long vsock_recv(struct vsock *s, const struct iovec64 *iov, int n, bool nonblock, bool peek, bool waitall);
long vsock_shutdown(struct vsock *s, int how_bits);
int vsock_poll(struct vsock *s, int events);
void vsock_close(struct vsock *s);
/* The local (peer false) or remote address; -ENOTCONN for an unconnected peer. */
long vsock_name(struct vsock *s, bool peer, uint32_t *cid, uint32_t *port);
/* SO_ERROR: the pending error, cleared. */
int vsock_take_error(struct vsock *s);
uint32_t vsock_buf_size(struct vsock *s);
bool vsock_listening(struct vsock *s);
