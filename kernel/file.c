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
#include "syscalls.h"

#define AT_FDCWD (-100)
#define AT_EMPTY_PATH 0x1000
#define AT_SYMLINK_NOFOLLOW 0x100
#define PATH_MAX 4096
#define POLLIN 1
#define POLLOUT 4
#define POLLPRI 2
#define POLLERR 8
#define POLLHUP 0x10
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

static long con_stat(struct file *f, struct linux_stat *st)
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
			panic("out of memory for the descriptors of rank %d (give toro-run more --mem)", p->rank);
	}
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

struct poll_wait {
	struct pollfd *fds;
	unsigned n;
	uint64_t deadline;
	int ready;
};

static int poll_scan(struct pollfd *fds, unsigned n)
{
	int ready = 0;
	for (unsigned i = 0; i < n; i++) {
		struct file *f = fds[i].fd < 0 ? NULL : fd_get(fds[i].fd);
		fds[i].revents = fds[i].fd < 0 ? 0 : !f ? POLLNVAL : f->ops->poll ? f->ops->poll(f, fds[i].events) : 0;
		ready += fds[i].revents != 0;
	}
	return ready;
}

static bool poll_over(void *arg)
{
	struct poll_wait *w = arg;
	w->ready = poll_scan(w->fds, w->n);
	return w->ready || time_ns() >= w->deadline;
}

/* Waits in the scheduler: a device that makes a descriptor ready wakes
 * the core (virtio/vsock.c), a timeout is seen at the next tick. */
long do_poll(struct pollfd *fds, unsigned n, int64_t timeout_ns)
{
	if (n > MAX_FDS)
		return -EINVAL;
	if (n && !user_ok(fds, n * sizeof *fds))
		return -EFAULT;
	struct poll_wait w = {fds, n, timeout_ns < 0 ? ~0ull : time_ns() + timeout_ns, 0};
	if (!poll_over(&w))
		sched_wait_until(poll_over, &w);
	return w.ready;
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

/* select(2) and pselect6 through poll: fd_set bits in, readiness out.
 * Bits of descriptors that are not open give EBADF, as on Linux. */
static long do_select(int n, uint64_t *rd, uint64_t *wr, uint64_t *ex, int64_t timeout_ns)
{
	if (n < 0 || n > MAX_FDS)
		return -EINVAL;
	size_t words = (n + 63) / 64;
	uint64_t *sets[3] = {rd, wr, ex};
	static const short wants[3] = {POLLIN, POLLOUT, POLLPRI};
	for (int k = 0; k < 3; k++)
		if (sets[k] && !user_ok(sets[k], words * 8))
			return -EFAULT;
	struct pollfd *fds = kmalloc(n * sizeof *fds + 1);
	if (!fds)
		return -ENOMEM;
	unsigned m = 0;
	for (int fd = 0; fd < n; fd++) {
		short ev = 0;
		for (int k = 0; k < 3; k++)
			if (sets[k] && (sets[k][fd / 64] >> (fd % 64) & 1))
				ev |= wants[k];
		if (!ev)
			continue;
		if (!fd_get(fd)) {
			kfree(fds);
			return -EBADF;
		}
		fds[m++] = (struct pollfd){fd, ev, 0};
	}
	long r = do_poll(fds, m, timeout_ns);
	for (int k = 0; k < 3; k++)
		if (sets[k])
			memset(sets[k], 0, words * 8);
	long count = 0;
	for (unsigned i = 0; r >= 0 && i < m; i++) {
		short re = fds[i].revents;
		bool ready[3] = {re & (POLLIN | POLLHUP | POLLERR), re & (POLLOUT | POLLERR), re & POLLPRI};
		for (int k = 0; k < 3; k++)
			if (sets[k] && ready[k] && (fds[i].events & wants[k])) {
				sets[k][fds[i].fd / 64] |= 1ull << (fds[i].fd % 64);
				count++;
			}
	}
	kfree(fds);
	return r < 0 ? r : count;
}

/* --- paths ---
 * A rank's path becomes absolute and normalised before the file system
 * sees it: a relative path starts at the working directory (or at the
 * directory a dirfd was opened as), "." and ".." are resolved by name
 * (before the file system follows any symbolic link), and a trailing '/'
 * is kept: it asks for a directory. */
enum path_op {
	P_CHDIR, P_OPEN, P_STAT, P_LSTAT, P_MKDIR, P_RMDIR, P_UNLINK, P_RENAME, P_ACCESS, P_STATFS, P_TRUNCATE,
	P_READLINK,
};

/* Copies a NUL-ended string from the rank, checking each page; returns
 * its length. */
static long copy_user_str(const char *user, char *out, size_t max)
{
	if (!user)
		return -EFAULT;
	for (size_t i = 0;; i++) {
		if ((i == 0 || ((uint64_t)(user + i) & (PAGE_SIZE - 1)) == 0) && !user_ok(user + i, 1))
			return -EFAULT;
		if (i + 1 >= max)
			return -ENAMETOOLONG;
		out[i] = user[i];
		if (!out[i])
			return i;
	}
}

static char *dup_str(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = kmalloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

/* "dir/", ".", "..", "a/." and "a/.." name directories. */
static bool names_dir(const char *p)
{
	size_t n = strlen(p);
	return (n >= 1 && p[n - 1] == '/') || strcmp(p, ".") == 0 || strcmp(p, "..") == 0 ||
	       (n >= 2 && strcmp(p + n - 2, "/.") == 0) || (n >= 3 && strcmp(p + n - 3, "/..") == 0);
}

/* out (PATH_MAX bytes) = the normalised absolute form of path, taken from
 * base when it is relative. */
static long normalise(const char *base, const char *path, char *out)
{
	size_t n = 1;
	out[0] = '/';
	const char *parts[2] = {path[0] == '/' ? "" : base, path};
	for (int k = 0; k < 2; k++) {
		for (const char *p = parts[k]; *p;) {
			if (*p == '/') {
				p++;
				continue;
			}
			const char *e = p;
			while (*e && *e != '/')
				e++;
			size_t len = e - p;
			if (len == 2 && p[0] == '.' && p[1] == '.') {
				if (n > 1)
					for (n--; out[n - 1] != '/'; n--)
						;
			} else if (!(len == 1 && p[0] == '.')) {
				if (n + len + 2 > PATH_MAX)
					return -ENAMETOOLONG;
				memcpy(out + n, p, len);
				n += len;
				out[n++] = '/';
			}
			p = e;
		}
	}
	if (n > 1 && !names_dir(path))
		n--;
	out[n] = 0;
	return 0;
}

static const char *cwd(void)
{
	struct proc *p = current_proc();
	return p && p->cwd ? p->cwd : "/";
}

static long get_path(int dirfd, const char *user, char *out)
{
	char raw[PATH_MAX];
	long r = copy_user_str(user, raw, sizeof raw);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENOENT;
	const char *base = cwd();
	if (raw[0] != '/' && dirfd != AT_FDCWD) {
		struct file *f = fd_get(dirfd);
		if (!f)
			return -EBADF;
		if (!f->path)
			return -ENOTDIR;
		base = f->path;
	}
	return normalise(base, raw, out);
}

static long open_path(const char *path, int flags, int mode)
{
	struct file *f;
	long r = root_fs->open(path, flags, mode, &f);
	if (r < 0)
		return r;
	f->path = dup_str(path);
	r = f->path ? fd_install(f, 0) : -ENOMEM;
	if (r < 0)
		file_put(f);
	return r;
}

static long set_cwd(const char *path)
{
	struct proc *p = current_proc();
	char *c = dup_str(path);
	if (!p || !c) {
		kfree(c);
		return -ENOMEM;
	}
	size_t n = strlen(c);
	if (n > 1 && c[n - 1] == '/')
		c[n - 1] = 0;
	kfree(p->cwd);
	p->cwd = c;
	return 0;
}

static long chdir_to(const char *path)
{
	struct linux_stat st;
	long r = root_fs ? root_fs->stat(path, &st) : strcmp(path, "/") == 0 ? 0 : -ENOENT;
	if (r < 0)
		return r;
	if (root_fs && !S_ISDIR(st.mode))
		return -ENOTDIR;
	return set_cwd(path);
}

static long truncate_path(const char *path, int64_t len)
{
	struct file *f;
	long r = root_fs->open(path, O_WRONLY, 0, &f);
	if (r < 0)
		return r;
	r = f->ops->truncate ? f->ops->truncate(f, len) : -EINVAL;
	file_put(f);
	return r;
}

static long path_call(int dirfd, const char *user_path, enum path_op op, uint64_t a, uint64_t b)
{
	char path[PATH_MAX];
	long r = get_path(dirfd, user_path, path);
	if (r < 0)
		return r;
	if (op == P_CHDIR)
		return chdir_to(path);
	if (!root_fs)
		return -ENOENT;
	switch (op) {
	case P_OPEN: return open_path(path, a, b);
	case P_STAT: return user_ok((void *)a, sizeof(struct linux_stat)) ? root_fs->stat(path, (void *)a) : -EFAULT;
	case P_LSTAT: return user_ok((void *)a, sizeof(struct linux_stat)) ? root_fs->lstat(path, (void *)a) : -EFAULT;
	case P_READLINK:
		if ((int64_t)b <= 0)
			return -EINVAL;
		return user_ok((void *)a, b) ? root_fs->readlink(path, (void *)a, b) : -EFAULT;
	case P_MKDIR: return root_fs->mkdir(path, a);
	case P_RMDIR: return root_fs->rmdir(path);
	case P_UNLINK: return root_fs->unlink(path);
	case P_RENAME: {
		char to[PATH_MAX];
		r = get_path(a, (const char *)b, to);
		return r < 0 ? r : root_fs->rename(path, to);
	}
	case P_ACCESS: return root_fs->access(path, a);
	case P_STATFS: return user_ok((void *)a, 120) ? root_fs->statfs(path, (void *)a) : -EFAULT;
	case P_TRUNCATE: return (int64_t)a < 0 ? -EINVAL : truncate_path(path, a);
	default: return -ENOENT;
	}
}

static long do_fstat(int fd, void *st)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	if (!user_ok(st, sizeof(struct linux_stat)))
		return -EFAULT;
	return f->ops->stat ? f->ops->stat(f, st) : -EINVAL;
}

static bool empty_path(const char *path)
{
	return path && user_ok(path, 1) && !*path;
}

static long do_newfstatat(int dirfd, const char *path, void *st, int flags)
{
	if ((flags & AT_EMPTY_PATH) && empty_path(path))
		return do_fstat(dirfd, st);
	return path_call(dirfd, path, flags & AT_SYMLINK_NOFOLLOW ? P_LSTAT : P_STAT, (uint64_t)st, 0);
}

/* struct statx (Linux 4.11): the basic fields, taken from struct stat. */
struct statx_ts {
	int64_t sec;
	uint32_t nsec;
	int32_t pad;
};

struct linux_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad1;
	uint64_t ino, size, blocks, attributes_mask;
	struct statx_ts atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};

static long do_statx(int dirfd, const char *path, int flags, struct linux_statx *sx)
{
	if (!user_ok(sx, sizeof *sx))
		return -EFAULT;
	struct linux_stat st;
	long r;
	if ((flags & AT_EMPTY_PATH) && empty_path(path)) {
		struct file *f = fd_get(dirfd);
		r = !f ? -EBADF : f->ops->stat ? f->ops->stat(f, &st) : -EINVAL;
	} else {
		char p[PATH_MAX];
		r = get_path(dirfd, path, p);
		if (r == 0 && !root_fs)
			r = -ENOENT;
		else if (r == 0)
			r = flags & AT_SYMLINK_NOFOLLOW ? root_fs->lstat(p, &st) : root_fs->stat(p, &st);
	}
	if (r < 0)
		return r;
	memset(sx, 0, sizeof *sx);
	sx->mask = 0x7ff; /* STATX_BASIC_STATS */
	sx->blksize = st.blksize;
	sx->nlink = st.nlink, sx->uid = st.uid, sx->gid = st.gid, sx->mode = st.mode;
	sx->ino = st.ino, sx->size = st.size, sx->blocks = st.blocks;
	sx->atime = (struct statx_ts){st.atime, st.atime_nsec, 0};
	sx->mtime = (struct statx_ts){st.mtime, st.mtime_nsec, 0};
	sx->ctime = (struct statx_ts){st.ctime, st.ctime_nsec, 0};
	sx->rdev_major = st.rdev >> 8, sx->rdev_minor = st.rdev & 0xff;
	sx->dev_major = st.dev >> 8, sx->dev_minor = st.dev & 0xff;
	return 0;
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

static long do_getcwd(char *buf, size_t size)
{
	const char *c = cwd();
	size_t n = strlen(c) + 1;
	if (size < n)
		return -ERANGE;
	if (!user_ok(buf, n))
		return -EFAULT;
	memcpy(buf, c, n);
	return n;
}

static long do_fchdir(int fd)
{
	struct file *f = fd_get(fd);
	if (!f)
		return -EBADF;
	return f->path ? chdir_to(f->path) : -ENOTDIR;
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
#define CWD AT_FDCWD
#define UPTR(x) ((void *)(x))

long sys_read(const uint64_t *a) { return do_rw(a[0], UPTR(a[1]), a[2], -1, false); }
long sys_write(const uint64_t *a) { return do_rw(a[0], UPTR(a[1]), a[2], -1, true); }
long sys_pread64(const uint64_t *a) { return (int64_t)a[3] < 0 ? -EINVAL : do_rw(a[0], UPTR(a[1]), a[2], a[3], false); }
long sys_pwrite64(const uint64_t *a) { return (int64_t)a[3] < 0 ? -EINVAL : do_rw(a[0], UPTR(a[1]), a[2], a[3], true); }
long sys_readv(const uint64_t *a) { return do_rwv(a[0], UPTR(a[1]), a[2], false); }
long sys_writev(const uint64_t *a) { return do_rwv(a[0], UPTR(a[1]), a[2], true); }
long sys_open(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_OPEN, a[1], a[2]); }
long sys_openat(const uint64_t *a) { return path_call(a[0], UPTR(a[1]), P_OPEN, a[2], a[3]); }
long sys_creat(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_OPEN, O_CREAT | O_WRONLY | O_TRUNC, a[1]); }
long sys_close(const uint64_t *a) { return do_close(a[0]); }
long sys_stat(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_STAT, a[1], 0); }
long sys_lstat(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_LSTAT, a[1], 0); }
long sys_fstat(const uint64_t *a) { return do_fstat(a[0], UPTR(a[1])); }
long sys_newfstatat(const uint64_t *a) { return do_newfstatat(a[0], UPTR(a[1]), UPTR(a[2]), a[3]); }
long sys_statx(const uint64_t *a) { return do_statx(a[0], UPTR(a[1]), a[2], UPTR(a[4])); }
long sys_lseek(const uint64_t *a) { return do_lseek(a[0], a[1], a[2]); }
long sys_ioctl(const uint64_t *a) { return fd_op(a[0], 0, a[1], a[2]); }
long sys_fsync(const uint64_t *a) { return fd_op(a[0], 1, 0, 0); }
long sys_ftruncate(const uint64_t *a) { return fd_op(a[0], 2, a[1], 0); }
long sys_getdents64(const uint64_t *a) { return fd_op(a[0], 3, a[1], a[2]); }
long sys_truncate(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_TRUNCATE, a[1], 0); }
long sys_access(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_ACCESS, a[1], 0); }
long sys_faccessat(const uint64_t *a) { return path_call(a[0], UPTR(a[1]), P_ACCESS, a[2], 0); }
long sys_dup(const uint64_t *a) { return do_dup(a[0], 0, false); }
long sys_dup2(const uint64_t *a) { return do_dup(a[0], a[1], true); }
long sys_dup3(const uint64_t *a) { return a[0] == a[1] ? -EINVAL : do_dup(a[0], a[1], true); }
long sys_fcntl(const uint64_t *a) { return do_fcntl(a[0], a[1], a[2]); }
long sys_getcwd(const uint64_t *a) { return do_getcwd(UPTR(a[0]), a[1]); }
long sys_chdir(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_CHDIR, 0, 0); }
long sys_fchdir(const uint64_t *a) { return do_fchdir(a[0]); }
long sys_rename(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_RENAME, CWD, a[1]); }
long sys_renameat(const uint64_t *a) { return path_call(a[0], UPTR(a[1]), P_RENAME, a[2], a[3]); }
/* renameat2: no RENAME_ flags */
long sys_renameat2(const uint64_t *a) { return a[4] ? -EINVAL : path_call(a[0], UPTR(a[1]), P_RENAME, a[2], a[3]); }
long sys_mkdir(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_MKDIR, a[1], 0); }
long sys_mkdirat(const uint64_t *a) { return path_call(a[0], UPTR(a[1]), P_MKDIR, a[2], 0); }
long sys_rmdir(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_RMDIR, 0, 0); }
long sys_unlink(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_UNLINK, 0, 0); }
/* unlinkat: AT_REMOVEDIR (0x200) makes it rmdir */
long sys_unlinkat(const uint64_t *a) { return path_call(a[0], UPTR(a[1]), a[2] & 0x200 ? P_RMDIR : P_UNLINK, 0, 0); }
long sys_readlink(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_READLINK, a[1], a[2]); }
long sys_readlinkat(const uint64_t *a) { return path_call(a[0], UPTR(a[1]), P_READLINK, a[2], a[3]); }
long sys_statfs(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_STATFS, a[1], 0); }
long sys_fstatfs(const uint64_t *a) { return do_fstatfs(a[0], UPTR(a[1])); }
long sys_sendfile(const uint64_t *a) { return do_sendfile(a[0], a[1], UPTR(a[2]), a[3]); }
long sys_poll(const uint64_t *a) { return do_poll(UPTR(a[0]), a[1], (int)a[2] < 0 ? -1 : (int64_t)(int)a[2] * 1000000); }

long sys_ppoll(const uint64_t *a)
{
	int64_t *ts = UPTR(a[2]);
	if (ts && !user_ok(ts, 16))
		return -EFAULT;
	return do_poll(UPTR(a[0]), a[1], ts ? ts[0] * 1000000000 + ts[1] : -1);
}

/* select: the timeval becomes what is left, as Linux does */
long sys_select(const uint64_t *a)
{
	int64_t *tv = UPTR(a[4]);
	if (tv && !user_ok(tv, 16))
		return -EFAULT;
	uint64_t start = time_ns();
	int64_t ns = tv ? tv[0] * 1000000000 + tv[1] * 1000 : -1;
	long r = do_select(a[0], UPTR(a[1]), UPTR(a[2]), UPTR(a[3]), ns);
	if (tv) {
		int64_t left = MAX(ns - (int64_t)(time_ns() - start), 0);
		tv[0] = left / 1000000000, tv[1] = left % 1000000000 / 1000;
	}
	return r;
}

/* pselect6: the signal mask is moot, no signal is delivered */
long sys_pselect6(const uint64_t *a)
{
	int64_t *ts = UPTR(a[4]);
	if (ts && !user_ok(ts, 16))
		return -EFAULT;
	return do_select(a[0], UPTR(a[1]), UPTR(a[2]), UPTR(a[3]), ts ? ts[0] * 1000000000 + ts[1] : -1);
}
