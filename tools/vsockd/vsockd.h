/* toro-vsockd: a vhost-user backend for QEMU's vhost-user-vsock-device.
 *
 * Shared declarations: options, logging, the epoll loop's watches.
 * The modules:
 *   main.c        options, start-up, the event loop, timers, exit
 *   util.c        logging, clock, epoll helpers
 *   vhost_user.c  the vhost-user protocol on QEMU's socket
 *   vring.c       guest memory (memory table) and split virtqueues
 *   vsock.c       virtio-vsock packets, connections, credit
 *   host.c        host endpoints: Unix and TCP listeners, outgoing connects
 */
#ifndef VSOCKD_H
#define VSOCKD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HOST_CID 2

/* --forward HOSTPORT:P */
struct forward {
	uint16_t host_port;
	uint32_t guest_port;
};

/* --connect P:HOST:PORT */
struct connect_map {
	uint32_t guest_port;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char text[300];          /* "HOST:PORT" for messages */
};

struct options {
	const char *socket_path;
	const char *uds_path;
	uint64_t guest_cid;
	bool verbose;
	uint64_t listen_wait_ms;  /* --listen-wait: how long a host client waits for a guest listener */
	struct forward *forwards;
	int nforwards;
	struct connect_map *connects;
	int nconnects;
};

extern struct options opt;

/* util.c: logging. log_err always prints, log_v only with --verbose. */
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_v(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t now_ms(void);
int set_nonblock(int fd);

/* The event loop: every registered fd carries a watch; its function is
 * called with the epoll events. Structures holding a watch are freed only
 * between loop iterations (see conn_reap), so a late event is harmless. */
struct watch {
	void (*fn)(struct watch *w, uint32_t events);
};

extern int g_epfd;
int ep_add(int fd, uint32_t events, struct watch *w);
int ep_mod(int fd, uint32_t events, struct watch *w);
void ep_del(int fd);
bool fd_readable(int fd);

#define container_of(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

#endif
