/* File descriptors and the file system calls (Linux numbers). Path-based
 * calls go to root_fs when a file system is mounted; without one they
 * fail with ENOENT as on Linux when the file is absent. Descriptors 0, 1
 * and 2 are the console: a write is one atomic console write, so lines of
 * different ranks never mix. */
#include "defs.h"
#include "sched.h"
#include "proc.h"
#include "file.h"
#include "errno.h"

#define O_ACCMODE 3
#define O_WRONLY 1
#define O_NONBLOCK 04000
#define O_APPEND 02000
#define O_DIRECTORY 0200000
#define AT_FDCWD (-100)
#define AT_EMPTY_PATH 0x1000
#define PATH_MAX 4096
#define S_IFIFO 0010000
#define POLLIN 1
#define POLLOUT 4
#define POLLNVAL 0x20

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

/* struct stat of x86-64 Linux: 144 bytes. */
void fill_stat(void *st, uint32_t mode, uint64_t size, uint64_t ino)
{
	uint64_t *w = st;
	memset(st, 0, 144);
	w[1] = ino;
	w[2] = 1;                   /* st_nlink */
	*(uint32_t *)&w[3] = mode;  /* st_mode */
	w[6] = size;                /* st_size */
	w[7] = 4096;                /* st_blksize */
	w[8] = (size + 511) / 512;  /* st_blocks */
}

/* --- the console ---
 * Output reaches the console a whole line at a time: what a write leaves
 * after its last newline waits in the descriptor's line buffer until the
 * rest of the line comes (or the buffer fills, or the rank exits), so a
 * fully buffered stdio stream that flushes mid-line does not mix its
 * line with another rank's. */
#define LINE_MAX_HELD 1024

struct con_line {
	size_t len;
	char buf[LINE_MAX_HELD];
};

static long con_read(struct file *f, void *buf, size_t n, int64_t off)
{
	(void)f, (void)buf, (void)n, (void)off;
	return 0; /* no input: end of file, as with </dev/null */
}

static void con_flush_locked(struct con_line *l)
{
	console_write_owned(l, l->buf, l->len);
	l->len = 0;
}

/* Called with the console lock held. */
static void con_put(struct con_line *l, const char *s, size_t n)
{
	size_t cut = n;
	while (cut && s[cut - 1] != '\n')
		cut--;
	if (cut) {
		con_flush_locked(l);
		console_write_owned(l, s, cut);
	}
	size_t rest = n - cut;
	if (l->len + rest > LINE_MAX_HELD) {
		con_flush_locked(l);
		if (rest > LINE_MAX_HELD) {
			console_write_owned(l, s + cut, rest);
			return;
		}
	}
	memcpy(l->buf + l->len, s + cut, rest);
	l->len += rest;
}

static long con_write(struct file *f, const void *buf, size_t n, int64_t off)
{
	if (off >= 0)
		return -ESPIPE;
	console_lock();
	con_put(f->priv, buf, n);
	console_unlock();
	return n;
}

static long con_writev(struct file *f, const struct iovec64 *iov, int n)
{
	long total = 0;
	console_lock();
	for (int i = 0; i < n; i++) {
		con_put(f->priv, iov[i].base, iov[i].len);
		total += iov[i].len;
	}
	console_unlock();
	return total;
}

/* Writes out what the rank's console descriptors still hold. */
void files_flush_console(struct proc *p)
{
	console_lock();
	for (int fd = 0; fd < MAX_FDS; fd++) {
		struct file *f = p->fds[fd];
		if (f && f->ops->writev == con_writev && f->priv)
			con_flush_locked(f->priv);
	}
	console_unlock();
}

static int con_poll(struct file *f, int events)
{
	return events & ((f->flags & O_ACCMODE) == O_WRONLY ? POLLOUT : POLLIN);
}

static long con_stat(struct file *f, void *st)
{
	(void)f;
	fill_stat(st, S_IFIFO | 0600, 0, 1);
	return 0;
}

static void con_close(struct file *f)
{
	if (f->priv) {
		console_lock();
		con_flush_locked(f->priv);
		console_unlock();
	}
	kfree(f->priv);
	kfree(f);
}

static const struct file_ops console_ops = {
	.read = con_read, .write = con_write, .writev = con_writev,
	.poll = con_poll, .stat = con_stat, .close = con_close,
};

void files_init(struct proc *p)
{
	for (int fd = 0; fd < 3; fd++) {
		p->fds[fd] = file_alloc(&console_ops, NULL, fd == 0 ? 0 : O_WRONLY);
		if (p->fds[fd] && fd > 0)
			p->fds[fd]->priv = kzalloc(sizeof(struct con_line));
		if (!p->fds[fd] || (fd > 0 && !p->fds[fd]->priv))
			panic("out of memory for the descriptors of rank %d", p->rank);
	}
}

/* --- descriptors --- */
static struct file *fd_get(int fd)
{
	struct proc *p = current_proc();
	if (!p || fd < 0 || fd >= MAX_FDS)
		return NULL;
	return p->fds[fd];
}

static int fd_install(struct file *f, int from)
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

static void file_put(struct file *f)
{
	if (--f->refs == 0 && f->ops->close)
		f->ops->close(f);
}

static long sys_close(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	current_proc()->fds[fd] = NULL;
	file_put(f);
	return 0;
}

static long sys_dup(int fd, int to, bool exact)
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

struct pollfd {
	int fd;
	short events, revents;
};

static long sys_poll(struct pollfd *fds, unsigned n, int64_t timeout_ns)
{
	if (n > MAX_FDS * 4)
		return -EINVAL;
	if (n && !user_ok(fds, n * sizeof *fds))
		return -EFAULT;
	uint64_t deadline = timeout_ns < 0 ? ~0ull : time_ns() + timeout_ns;
	for (;;) {
		int ready = 0;
		for (unsigned i = 0; i < n; i++) {
			struct file *f = fds[i].fd < 0 ? NULL : fd_get(fds[i].fd);
			fds[i].revents = fds[i].fd < 0 ? 0 : !f ? POLLNVAL : f->ops->poll ? f->ops->poll(f, fds[i].events) : 0;
			ready += fds[i].revents != 0;
		}
		if (ready || time_ns() >= deadline)
			return ready;
		thread_sleep_ns(MIN(1000000ull, deadline - time_ns()));
	}
}

/* Copies a path from the rank; relative paths are taken from "/" (the
 * only working directory there is). */
static long get_path(const char *user, char *out)
{
	if (!user)
		return -EFAULT;
	size_t i = 0;
	for (;; i++) {
		if (((uint64_t)(user + i) & (PAGE_SIZE - 1)) == 0 || i == 0)
			if (!user_ok(user + i, 1))
				return -EFAULT;
		if (i + 2 >= PATH_MAX)
			return -ENAMETOOLONG;
		out[i + 1] = user[i];
		if (!user[i])
			break;
	}
	if (out[1] == '/')
		memmove(out, out + 1, i + 1);
	else
		out[0] = '/';
	return 0;
}

static long path_call(const char *user_path, int op, uint64_t a, uint64_t b)
{
	char path[PATH_MAX];
	long r = get_path(user_path, path);
	if (r < 0)
		return r;
	if (op == 0 && (strcmp(path, "/") == 0 || strcmp(path, "/.") == 0) && !root_fs)
		return 0; /* chdir("/") */
	if (!root_fs)
		return -ENOENT;
	switch (op) {
	case 1: {
		struct file *f;
		r = root_fs->open(path, a, b, &f);
		if (r < 0)
			return r;
		r = fd_install(f, 0);
		if (r < 0)
			file_put(f);
		return r;
	}
	case 2: return user_ok((void *)a, 144) ? root_fs->stat(path, (void *)a) : -EFAULT;
	case 3: return root_fs->mkdir(path, a);
	case 4: return root_fs->rmdir(path);
	case 5: return root_fs->unlink(path);
	case 6: {
		char to[PATH_MAX];
		r = get_path((const char *)a, to);
		return r < 0 ? r : root_fs->rename(path, to);
	}
	case 7: return root_fs->stat(path, NULL) < 0 ? -ENOENT : 0; /* access */
	default: return -ENOENT;
	}
}

static long sys_fstat(int fd, void *st)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (!user_ok(st, 144))
		return -EFAULT;
	return f->ops->stat ? f->ops->stat(f, st) : -EINVAL;
}

static long sys_newfstatat(int dirfd, const char *path, void *st, int flags)
{
	if ((flags & AT_EMPTY_PATH) && path && user_ok(path, 1) && !*path)
		return sys_fstat(dirfd, st);
	return path_call(path, 2, (uint64_t)st, 0);
}

static long sys_fcntl(int fd, int cmd, uint64_t arg)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	switch (cmd) {
	case 0: case 1030: return sys_dup(fd, arg, false); /* F_DUPFD, F_DUPFD_CLOEXEC */
	case 1: return 0;                                  /* F_GETFD */
	case 2: return 0;                                  /* F_SETFD: nothing is ever exec'd */
	case 3: return f->flags;                           /* F_GETFL */
	case 4:                                            /* F_SETFL */
		f->flags = (f->flags & ~(O_APPEND | O_NONBLOCK)) | (arg & (O_APPEND | O_NONBLOCK));
		return 0;
	default: return -EINVAL;
	}
}

static long sys_lseek(int fd, int64_t off, int whence)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	return f->ops->lseek ? f->ops->lseek(f, off, whence) : -ESPIPE;
}

static long sys_getcwd(char *buf, size_t size)
{
	if (size < 2)
		return -ERANGE;
	if (!user_ok(buf, 2))
		return -EFAULT;
	buf[0] = '/';
	buf[1] = 0;
	return 2;
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

long file_syscall(long nr, uint64_t a[6], bool *handled)
{
	*handled = true;
	switch (nr) {
	case 0: return do_rw(a[0], (void *)a[1], a[2], -1, false);
	case 1: return do_rw(a[0], (void *)a[1], a[2], -1, true);
	case 2: return path_call((void *)a[0], 1, a[1], a[2]);
	case 3: return sys_close(a[0]);
	case 4: case 6: return path_call((void *)a[0], 2, a[1], 0);
	case 5: return sys_fstat(a[0], (void *)a[1]);
	case 7: return sys_poll((void *)a[0], a[1], (int)a[2] < 0 ? -1 : (int64_t)(int)a[2] * 1000000);
	case 8: return sys_lseek(a[0], a[1], a[2]);
	case 16: return fd_op(a[0], 0, a[1], a[2]);
	case 17: return (int64_t)a[3] < 0 ? -EINVAL : do_rw(a[0], (void *)a[1], a[2], a[3], false);
	case 18: return (int64_t)a[3] < 0 ? -EINVAL : do_rw(a[0], (void *)a[1], a[2], a[3], true);
	case 19: return do_rwv(a[0], (void *)a[1], a[2], false);
	case 20: return do_rwv(a[0], (void *)a[1], a[2], true);
	case 21: return path_call((void *)a[0], 7, 0, 0);
	case 32: return sys_dup(a[0], 0, false);
	case 33: return sys_dup(a[0], a[1], true);
	case 72: return sys_fcntl(a[0], a[1], a[2]);
	case 74: case 75: return fd_op(a[0], 1, 0, 0);
	case 77: return fd_op(a[0], 2, a[1], 0);
	case 79: return sys_getcwd((void *)a[0], a[1]);
	case 80: return path_call((void *)a[0], 0, 0, 0);
	case 82: return path_call((void *)a[0], 6, a[1], 0);
	case 83: return path_call((void *)a[0], 3, a[1], 0);
	case 84: return path_call((void *)a[0], 4, 0, 0);
	case 87: return path_call((void *)a[0], 5, 0, 0);
	case 89: return -EINVAL; /* readlink: there are no symbolic links */
	case 217: return fd_op(a[0], 3, a[1], a[2]);
	case 257: return path_call((void *)a[1], 1, a[2], a[3]);
	case 258: return path_call((void *)a[1], 3, a[2], 0);
	case 262: return sys_newfstatat(a[0], (void *)a[1], (void *)a[2], a[3]);
	case 263: return path_call((void *)a[1], a[2] & 0x200 ? 4 : 5, 0, 0); /* AT_REMOVEDIR */
	case 264: case 316: return path_call((void *)a[1], 6, a[3], 0);
	case 269: case 439: return path_call((void *)a[1], 7, 0, 0);
	case 271: { /* ppoll */
		int64_t *ts = (void *)a[2];
		if (ts && !user_ok(ts, 16))
			return -EFAULT;
		return sys_poll((void *)a[0], a[1], ts ? ts[0] * 1000000000 + ts[1] : -1);
	}
	case 292: return a[0] == a[1] ? -EINVAL : sys_dup(a[0], a[1], true);
	default:
		*handled = false;
		return 0;
	}
}
