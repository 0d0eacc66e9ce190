/* Open files. A descriptor points at a struct file whose ops table the
 * file's owner fills (the console in console_file.c, virtio-fs files in
 * virtio/fsops.c, sockets through socket.c), as xv6's devsw does, so the
 * syscall layer never names a driver. The file layer: file.c (the
 * descriptor table and the calls on a descriptor), path.c (path-based
 * calls, the working directory), poll.c (poll, select), console_file.c. */
#pragma once
#include "types.h"

/* open(2) flags and file types of x86-64 Linux. */
#define O_ACCMODE 3
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_DSYNC 010000
#define O_DIRECTORY 0200000
#define O_SYNC 04010000
#define S_IFMT 0170000
#define S_IFDIR 0040000
#define S_IFREG 0100000
#define S_IFLNK 0120000
#define S_IFIFO 0010000
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)

struct file;
struct sock_ops;
struct iovec64 {
	void *base;
	size_t len;
};

/* struct stat of x86-64 Linux (144 bytes). */
struct linux_stat {
	uint64_t dev, ino, nlink;
	uint32_t mode, uid, gid, pad0;
	uint64_t rdev;
	int64_t size, blksize, blocks;
	int64_t atime, atime_nsec, mtime, mtime_nsec, ctime, ctime_nsec;
	int64_t unused[3];
};

struct file_ops {
	long (*read)(struct file *f, void *buf, size_t n, int64_t off);    /* off -1: at f->offset */
	long (*write)(struct file *f, const void *buf, size_t n, int64_t off);
	long (*writev)(struct file *f, const struct iovec64 *iov, int n); /* optional: atomic vector */
	int (*poll)(struct file *f, int events);
	long (*stat)(struct file *f, struct linux_stat *st);
	long (*lseek)(struct file *f, int64_t off, int whence);
	long (*getdents)(struct file *f, void *buf, size_t n);
	long (*fsync)(struct file *f);
	long (*truncate)(struct file *f, uint64_t len);
	void (*close)(struct file *f);
	const struct sock_ops *sock;  /* a socket's calls (socket.h), or NULL */
};

struct file {
	const struct file_ops *ops;
	void *priv;
	int refs;
	int flags;      /* O_ACCMODE, O_APPEND, O_NONBLOCK */
	uint64_t offset;
	char *path;     /* the absolute path it was opened by (kmalloc'd), or NULL */
};

/* What a mounted file system provides to the path-based calls. Paths are
 * absolute and normalised ("/", "/a/b"); a path that ends in "/" (as
 * "/a/b/") names a directory or nothing. Every call returns 0 or -errno. */
struct fs_ops {
	long (*open)(const char *path, int flags, int mode, struct file **out);
	long (*stat)(const char *path, struct linux_stat *st);
	long (*mkdir)(const char *path, int mode);
	long (*rmdir)(const char *path);
	long (*unlink)(const char *path);
	long (*rename)(const char *from, const char *to);
	long (*access)(const char *path, int mode);     /* R_OK 4, W_OK 2, X_OK 1 */
	long (*statfs)(const char *path, void *buf);    /* struct statfs, 120 bytes */
	long (*lstat)(const char *path, struct linux_stat *st);  /* a symbolic link itself */
	long (*readlink)(const char *path, char *buf, size_t size); /* bytes, no NUL */
};

extern const struct fs_ops *root_fs;
struct file *file_alloc(const struct file_ops *ops, void *priv, int flags);
/* The calling rank's descriptors: fd_install takes the lowest free one
 * from `from` on (or -EMFILE); file_put drops a reference. */
struct file *fd_get(int fd);
struct pollfd {
	int fd;
	short events, revents;
};
#define POLLIN 1
#define POLLPRI 2
#define POLLOUT 4
#define POLLERR 8
#define POLLHUP 0x10
#define POLLNVAL 0x20
/* poll(2) on kernel-checked memory; timeout_ns < 0 waits for ever. */
long do_poll(struct pollfd *fds, unsigned n, int64_t timeout_ns);
int fd_install(struct file *f, int from);
void file_put(struct file *f);
long do_fstat(int fd, void *st);   /* fstat(2), for path.c's AT_EMPTY_PATH */
void fill_stat(struct linux_stat *st, uint32_t mode, uint64_t size, uint64_t ino);
