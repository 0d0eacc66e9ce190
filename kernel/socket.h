/* Sockets. kernel/socket.c owns the Linux socket calls: descriptors,
 * msghdr, flags, copying addresses in and out. A socket family registers
 * how to make its sockets (sock_register), as a mounted file system sets
 * root_fs; each socket's file then carries the family's operations in
 * file_ops.sock. Addresses reach a family already copied into the kernel.
 * Every call returns 0 (or a count) or -errno. */
#pragma once
#include "types.h"
#include "file.h"

#define SOCK_STREAM 1
#define SOCK_NONBLOCK 04000
#define SOCK_CLOEXEC 02000000
#define MSG_PEEK 2
#define MSG_DONTWAIT 0x40   /* also set by the socket layer for an O_NONBLOCK socket */
#define MSG_WAITALL 0x100
#define MSG_NOSIGNAL 0x4000
#define SOL_SOCKET 1
#define S_IFSOCK 0140000
#define SOCKADDR_MAX 128    /* struct sockaddr_storage */

struct sock_ops {
	long (*bind)(struct file *f, const void *addr, uint32_t len);
	long (*connect)(struct file *f, const void *addr, uint32_t len);  /* O_NONBLOCK in f->flags */
	long (*listen)(struct file *f, int backlog);
	long (*accept)(struct file *f, struct file **out);
	long (*send)(struct file *f, const struct iovec64 *iov, int n, int msg_flags);
	long (*recv)(struct file *f, const struct iovec64 *iov, int n, int msg_flags);
	/* Writes the local (peer false) or remote address (SOCKADDR_MAX bytes
	 * at most) to addr; returns its length. */
	long (*name)(struct file *f, bool peer, void *addr);
	long (*shutdown)(struct file *f, int how);  /* SHUT_RD 0, SHUT_WR 1, SHUT_RDWR 2 */
	long (*setsockopt)(struct file *f, int level, int name, const void *val, uint32_t len);
	long (*getsockopt)(struct file *f, int level, int name, int *val);
};

struct sock_family {
	int family;     /* AF_ */
	/* type without SOCK_NONBLOCK and SOCK_CLOEXEC */
	long (*create)(int type, int protocol, struct file **out);
};

void sock_register(const struct sock_family *fam);
