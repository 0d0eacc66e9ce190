/* File descriptors and the calls on them (Linux numbers): the rank's
 * descriptor table, read/write and their vector and positioned forms,
 * dup, fcntl, lseek, fstat, ioctl, sendfile. The console is in
 * console_file.c, poll and select in poll.c, the path-based calls in
 * path.c. */
#include "defs.h"
#include "sched.h"
#include "proc.h"
#include "file.h"
#include "errno.h"
#include "syscalls.h"

const struct fs_ops *root_fs;

struct file *file_alloc(const struct file_ops *ops, void *priv, int flags)
{
	struct file *f = kzalloc(sizeof *f);
	if (f) {
		f->ops = ops;
		f->priv = priv;
		f->refs = 1;
		f->flags = flags;
	}
	return f;
}

void fill_stat(struct linux_stat *st, uint32_t mode, uint64_t size, uint64_t ino)
{
	memset(st, 0, sizeof *st);
	st->ino = ino;
	st->nlink = 1;
	st->mode = mode;
	st->size = size;
	st->blksize = 4096;
	st->blocks = (size + 511) / 512;
}

/* --- descriptors --- */
struct file *fd_get(int fd)
{
	struct proc *p = current_proc();
	if (!p || fd < 0 || fd >= MAX_FDS)
		return NULL;
	return p->fds[fd];
}

int fd_install(struct file *f, int from)
{
	struct proc *p = current_proc();
	for (int fd = MAX(from, 0); fd < MAX_FDS; fd++) {
		if (!p->fds[fd]) {
			p->fds[fd] = f;
			return fd;
		}
	}
	return -EMFILE;
}

void file_put(struct file *f)
{
	if (--f->refs)
		return;
	kfree(f->path);
	f->path = NULL;
	if (f->ops->close)
		f->ops->close(f);
}

static long do_close(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	current_proc()->fds[fd] = NULL;
	file_put(f);
	return 0;
}

static long do_dup(int fd, int to, bool exact)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (!exact) {
		long r = fd_install(f, to);
		if (r >= 0)
			f->refs++;
		return r;
	}
	if (to < 0 || to >= MAX_FDS)
		return -EBADF;
	if (to == fd)
		return to;
	struct proc *p = current_proc();
	f->refs++;
	if (p->fds[to])
		file_put(p->fds[to]);
	p->fds[to] = f;
	return to;
}

static long do_rw(int fd, void *buf, size_t n, int64_t off, bool write)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (n && !user_ok(buf, n))
		return -EFAULT;
	int acc = f->flags & O_ACCMODE;
	if (write ? acc == 0 : acc == O_WRONLY)
		return -EBADF;
	if (write)
		return f->ops->write ? f->ops->write(f, buf, n, off) : -EINVAL;
	return f->ops->read ? f->ops->read(f, buf, n, off) : -EINVAL;
}

static long do_rwv(int fd, const struct iovec64 *iov, int n, bool write)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (n < 0 || n > 1024)
		return -EINVAL;
	if (!user_ok(iov, n * sizeof *iov))
		return -EFAULT;
	for (int i = 0; i < n; i++)
		if (iov[i].len && !user_ok(iov[i].base, iov[i].len))
			return -EFAULT;
	if (write && f->ops->writev && (f->flags & O_ACCMODE))
		return f->ops->writev(f, iov, n);
	long total = 0;
	for (int i = 0; i < n; i++) {
		long r = do_rw(fd, iov[i].base, iov[i].len, -1, write);
		if (r < 0)
			return total ? total : r;
		total += r;
		if ((size_t)r < iov[i].len)
			break;
	}
	return total;
}

/* sendfile(2): from a readable file at *off (or its offset) to any
 * writable descriptor, a block at a time through a kernel buffer. */
static long do_sendfile(int out_fd, int in_fd, int64_t *offp, size_t count)
{
	struct file *in = fd_get(in_fd), *out = fd_get(out_fd);
	if (!in || !out)
		return -EBADF;
	if ((in->flags & O_ACCMODE) == O_WRONLY || !(out->flags & O_ACCMODE) || !in->ops->read || !out->ops->write)
		return -EBADF;
	if (offp && !user_ok(offp, 8))
		return -EFAULT;
	if (offp && *offp < 0)
		return -EINVAL;
	if (!in->ops->lseek)
		return -EINVAL; /* Linux wants an mmap-able input; a socket or the console is not */
	size_t block = MIN(count, (size_t)65536);
	char *buf = kmalloc(block + 1);
	if (!buf)
		return -ENOMEM;
	int64_t off = offp ? *offp : (int64_t)in->offset;
	long done = 0, err = 0;
	while ((size_t)done < count) {
		long n = in->ops->read(in, buf, MIN(block, count - done), off);
		if (n <= 0) {
			err = n;
			break;
		}
		long w = out->ops->write(out, buf, n, -1);
		if (w <= 0) {
			err = w;
			break;
		}
		done += w, off += w;
		if (w < n)
			break;
	}
	kfree(buf);
	if (offp)
		*offp = off;
	else
		in->offset = off;
	return done ? done : err;
}


long do_fstat(int fd, void *st)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (!user_ok(st, sizeof(struct linux_stat)))
		return -EFAULT;
	return f->ops->stat ? f->ops->stat(f, st) : -EINVAL;
}

static long do_fstatfs(int fd, void *buf)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (!user_ok(buf, 120))
		return -EFAULT;
	if (f->path && root_fs)
		return root_fs->statfs(f->path, buf);
	memset(buf, 0, 120);
	*(int64_t *)buf = 0x50495045; /* PIPEFS_MAGIC: the console */
	((int64_t *)buf)[1] = 4096;
	return 0;
}

static long do_fcntl(int fd, int cmd, uint64_t arg)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	switch (cmd) {
	case 0: case 1030: return do_dup(fd, arg, false); /* F_DUPFD, F_DUPFD_CLOEXEC */
	case 1: return 0;                                  /* F_GETFD */
	case 2: return 0;                                  /* F_SETFD: nothing is ever exec'd */
	case 3: return f->flags;                           /* F_GETFL */
	case 4:                                            /* F_SETFL */
		f->flags = (f->flags & ~(O_APPEND | O_NONBLOCK)) | (arg & (O_APPEND | O_NONBLOCK));
		return 0;
	default: return -EINVAL;
	}
}

static long do_lseek(int fd, int64_t off, int whence)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	return f->ops->lseek ? f->ops->lseek(f, off, whence) : -ESPIPE;
}

static long fd_op(int fd, int op, uint64_t a, uint64_t b)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	switch (op) {
	case 0: /* ioctl */
		if (a == 0x5421 && user_ok((void *)b, 4)) { /* FIONBIO */
			f->flags = *(int *)b ? f->flags | O_NONBLOCK : f->flags & ~O_NONBLOCK;
			return 0;
		}
		return -ENOTTY;
	case 1: return f->ops->fsync ? f->ops->fsync(f) : -EINVAL;
	case 2: return f->ops->truncate ? f->ops->truncate(f, a) : -EINVAL;
	case 3:
		if (!user_ok((void *)a, b))
			return -EFAULT;
		return f->ops->getdents ? f->ops->getdents(f, (void *)a, b) : -ENOTDIR;
	default: return -EINVAL;
	}
}

/* --- the handlers of systab.c --- */
#define UPTR(x) ((void *)(x))

long sys_read(const uint64_t *a) { return do_rw(a[0], UPTR(a[1]), a[2], -1, false); }
long sys_write(const uint64_t *a) { return do_rw(a[0], UPTR(a[1]), a[2], -1, true); }
long sys_pread64(const uint64_t *a) { return (int64_t)a[3] < 0 ? -EINVAL : do_rw(a[0], UPTR(a[1]), a[2], a[3], false); }
long sys_pwrite64(const uint64_t *a) { return (int64_t)a[3] < 0 ? -EINVAL : do_rw(a[0], UPTR(a[1]), a[2], a[3], true); }
long sys_readv(const uint64_t *a) { return do_rwv(a[0], UPTR(a[1]), a[2], false); }
long sys_writev(const uint64_t *a) { return do_rwv(a[0], UPTR(a[1]), a[2], true); }
long sys_close(const uint64_t *a) { return do_close(a[0]); }
long sys_fstat(const uint64_t *a) { return do_fstat(a[0], UPTR(a[1])); }
long sys_lseek(const uint64_t *a) { return do_lseek(a[0], a[1], a[2]); }
long sys_ioctl(const uint64_t *a) { return fd_op(a[0], 0, a[1], a[2]); }
long sys_fsync(const uint64_t *a) { return fd_op(a[0], 1, 0, 0); }
long sys_ftruncate(const uint64_t *a) { return fd_op(a[0], 2, a[1], 0); }
long sys_getdents64(const uint64_t *a) { return fd_op(a[0], 3, a[1], a[2]); }
long sys_dup(const uint64_t *a) { return do_dup(a[0], 0, false); }
long sys_dup2(const uint64_t *a) { return do_dup(a[0], a[1], true); }
long sys_dup3(const uint64_t *a) { return a[0] == a[1] ? -EINVAL : do_dup(a[0], a[1], true); }
long sys_fcntl(const uint64_t *a) { return do_fcntl(a[0], a[1], a[2]); }
long sys_fstatfs(const uint64_t *a) { return do_fstatfs(a[0], UPTR(a[1])); }
long sys_sendfile(const uint64_t *a) { return do_sendfile(a[0], a[1], UPTR(a[2]), a[3]); }
