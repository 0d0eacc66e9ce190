/* Open files. A descriptor points at a struct file whose ops table the
 * file's owner fills (the console here; virtio-fs and vsock later), as
 * xv6's devsw does, so the syscall layer never names a driver. */
#pragma once
#include "types.h"

struct file;
struct iovec64 {
	void *base;
	size_t len;
};

struct file_ops {
	long (*read)(struct file *f, void *buf, size_t n, int64_t off);    /* off -1: at f->offset */
	long (*write)(struct file *f, const void *buf, size_t n, int64_t off);
	long (*writev)(struct file *f, const struct iovec64 *iov, int n); /* optional: atomic vector */
	int (*poll)(struct file *f, int events);
	long (*stat)(struct file *f, void *st);
	long (*lseek)(struct file *f, int64_t off, int whence);
	long (*getdents)(struct file *f, void *buf, size_t n);
	long (*fsync)(struct file *f);
	long (*truncate)(struct file *f, uint64_t len);
	void (*close)(struct file *f);
};

struct file {
	const struct file_ops *ops;
	void *priv;
	int refs;
	int flags;      /* O_ACCMODE, O_APPEND, O_NONBLOCK */
	uint64_t offset;
};

/* What a mounted file system provides to the path-based calls. Paths are
 * absolute and normalised. Every call returns 0 or -errno. */
struct fs_ops {
	long (*open)(const char *path, int flags, int mode, struct file **out);
	long (*stat)(const char *path, void *st);
	long (*mkdir)(const char *path, int mode);
	long (*rmdir)(const char *path);
	long (*unlink)(const char *path);
	long (*rename)(const char *from, const char *to);
};

extern const struct fs_ops *root_fs;
struct file *file_alloc(const struct file_ops *ops, void *priv, int flags);
void fill_stat(void *st, uint32_t mode, uint64_t size, uint64_t ino);
