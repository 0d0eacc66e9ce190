/* The path-based file calls (Linux numbers) and each rank's working
 * directory. They go to root_fs when a file system is mounted; without
 * one they fail with ENOENT as on Linux when the file is absent. */
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

/* --- the handlers of systab.c --- */
#define CWD AT_FDCWD
#define UPTR(x) ((void *)(x))

long sys_open(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_OPEN, a[1], a[2]); }
long sys_openat(const uint64_t *a) { return path_call(a[0], UPTR(a[1]), P_OPEN, a[2], a[3]); }
long sys_creat(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_OPEN, O_CREAT | O_WRONLY | O_TRUNC, a[1]); }
long sys_stat(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_STAT, a[1], 0); }
long sys_lstat(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_LSTAT, a[1], 0); }
long sys_newfstatat(const uint64_t *a) { return do_newfstatat(a[0], UPTR(a[1]), UPTR(a[2]), a[3]); }
long sys_statx(const uint64_t *a) { return do_statx(a[0], UPTR(a[1]), a[2], UPTR(a[4])); }
long sys_truncate(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_TRUNCATE, a[1], 0); }
long sys_access(const uint64_t *a) { return path_call(CWD, UPTR(a[0]), P_ACCESS, a[1], 0); }
long sys_faccessat(const uint64_t *a) { return path_call(a[0], UPTR(a[1]), P_ACCESS, a[2], 0); }
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
