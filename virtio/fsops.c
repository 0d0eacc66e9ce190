/* POSIX files on virtio-fs: the fs_ops that the path-based system calls
 * reach (kernel/path.c) and the file_ops of an open file or directory,
 * each turned into FUSE requests (fs.c). There is no cache in the guest:
 * every path is looked up from the root, one LOOKUP a component, and the
 * references a lookup takes are given back with FORGET once the call is
 * done (a node stays referenced while a file is open on it). Symbolic
 * links on the way are followed (READLINK), the last one too except for
 * unlink, rmdir and rename, which act on the link. Reads and
 * writes go straight between the rank's buffer and the host file, in
 * pieces of at most max_write bytes. */
#include "fs.h"
#include "fuse.h"
#include "../kernel/defs.h"
#include "../kernel/file.h"
#include "../kernel/errno.h"

#define NAME_MAX 255
#define PATH_MAX 4096
#define MAX_LINKS 40         /* then ELOOP, as Linux */
#define UMASK 022            /* what umask() reports (kernel/syscall.c) */
#define W_OK 2
#define X_OK 1
#define FUSE_SUPER_MAGIC 0x65735546
#define ST_RDONLY 1

/* The flags an OPEN or CREATE passes on to the host's open(2). */
#define HOST_OPEN_FLAGS (O_ACCMODE | O_APPEND | O_TRUNC | O_SYNC | O_DSYNC)

struct fsfile {
	uint64_t nodeid;
	uint64_t fh;
	bool dir;
};

static const struct file_ops fsfile_ops;

/* --- nodes and paths --- */

static void put_node(uint64_t nodeid)
{
	fuse_forget(nodeid, 1); /* the root is never forgotten */
}

/* A path such as "/a/b/" must name a directory. */
static bool must_dir(const char *path)
{
	size_t n = strlen(path);
	return n > 1 && path[n - 1] == '/';
}

/* Copies a name into buf with its NUL, as FUSE wants it. */
static long name_seg(const char *name, size_t len, char *buf, struct fuse_seg *seg)
{
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, name, len);
	buf[len] = 0;
	*seg = (struct fuse_seg){buf, len + 1};
	return 0;
}

static long lookup(uint64_t dir, const char *name, size_t len, struct fuse_entry_out *e)
{
	char buf[NAME_MAX + 1];
	struct fuse_seg in, out = {e, sizeof *e};
	long r = name_seg(name, len, buf, &in);
	if (r < 0)
		return r;
	memset(e, 0, sizeof *e);
	r = fuse_call(FUSE_LOOKUP, dir, &in, 1, &out, 1);
	if (r < 0)
		return r;
	return e->nodeid ? 0 : -ENOENT; /* nodeid 0: a negative entry */
}

static long getattr(uint64_t nodeid, const uint64_t *fh, struct fuse_attr *a)
{
	struct fuse_getattr_in in = {.getattr_flags = fh ? FUSE_GETATTR_FH : 0, .fh = fh ? *fh : 0};
	struct fuse_attr_out out;
	struct fuse_seg i = {&in, sizeof in}, o = {&out, sizeof out};
	long r = fuse_call(FUSE_GETATTR, nodeid, &i, 1, &o, 1);
	if (r < 0)
		return r;
	if (r < (long)sizeof out)
		return -EIO;  /* a short answer would leave attributes unset */
	*a = out.attr;
	return 0;
}

/* A walk down a path: the directory reached (referenced), the last
 * component, and the rest of the path after a symbolic link. */
struct walk {
	uint64_t dir;
	const char *name;
	size_t len;          /* 0: the path is "/" */
	char *buf;           /* kmalloc'd: a link's target and what follows it */
	int links;
};

static void walk_init(struct walk *w)
{
	memset(w, 0, sizeof *w);
	w->dir = FUSE_ROOT_ID;
}

static void walk_done(struct walk *w)
{
	put_node(w->dir);
	kfree(w->buf);
}

/* What is left to walk becomes the target of the link, then rest. A
 * target that starts with '/' starts again at the root of the share (as
 * on a Linux guest that mounts the share at "/"); a relative one goes on
 * from the link's directory. */
static long follow_link(struct walk *w, uint64_t link, const char *rest, const char **p)
{
	if (++w->links > MAX_LINKS)
		return -ELOOP;
	char *nb = kmalloc(PATH_MAX);
	if (!nb)
		return -ENOMEM;
	struct fuse_seg o = {nb, PATH_MAX - 1};
	long r = fuse_call(FUSE_READLINK, link, NULL, 0, &o, 1);
	size_t rl = strlen(rest);
	if (r == 0)
		r = -ENOENT;
	else if (r > 0 && (size_t)r + rl + 2 > PATH_MAX)
		r = -ENAMETOOLONG;
	if (r < 0) {
		kfree(nb);
		return r;
	}
	nb[r] = '/';
	memcpy(nb + r + 1, rest, rl + 1); /* rest may lie in w->buf: copy, then free */
	if (nb[0] == '/') {
		put_node(w->dir);
		w->dir = FUSE_ROOT_ID;
	}
	kfree(w->buf);
	w->buf = nb;
	*p = nb;
	return 0;
}

/* Walks path from w->dir to the directory that holds its last component,
 * following symbolic links on the way. */
static long walk_parent(struct walk *w, const char *path)
{
	const char *p = path;
	for (;;) {
		while (*p == '/')
			p++;
		const char *end = p;
		while (*end && *end != '/')
			end++;
		const char *next = end;
		while (*next == '/')
			next++;
		if (!*next) {
			w->name = p, w->len = end - p;
			return 0;
		}
		struct fuse_entry_out e;
		long r = lookup(w->dir, p, end - p, &e);
		if (r < 0)
			return r;
		if ((e.attr.mode & S_IFMT) == S_IFLNK) {
			r = follow_link(w, e.nodeid, next, &p);
			put_node(e.nodeid);
			if (r < 0)
				return r;
			continue;
		}
		if (!S_ISDIR(e.attr.mode)) {
			put_node(e.nodeid);
			return -ENOTDIR;
		}
		put_node(w->dir);
		w->dir = e.nodeid;
		p = next;
	}
}

/* The node the walk ends at, referenced, following a link there too. */
static long walk_last(struct walk *w, struct fuse_entry_out *e)
{
	for (;;) {
		if (w->len == 0) { /* "/": the root, which is never forgotten */
			memset(e, 0, sizeof *e);
			e->nodeid = FUSE_ROOT_ID;
			return getattr(FUSE_ROOT_ID, NULL, &e->attr);
		}
		long r = lookup(w->dir, w->name, w->len, e);
		if (r < 0 || (e->attr.mode & S_IFMT) != S_IFLNK)
			return r;
		const char *p;
		r = follow_link(w, e->nodeid, "", &p);
		put_node(e->nodeid);
		if (r == 0)
			r = walk_parent(w, p);
		if (r < 0)
			return r;
	}
}

/* The node path names, referenced, with its attributes. */
static long resolve(const char *path, struct fuse_entry_out *e)
{
	struct walk w;
	walk_init(&w);
	long r = walk_parent(&w, path);
	if (r == 0)
		r = walk_last(&w, e);
	walk_done(&w);
	if (r == 0 && must_dir(path) && !S_ISDIR(e->attr.mode)) {
		put_node(e->nodeid);
		return -ENOTDIR;
	}
	return r;
}

static void attr_to_stat(const struct fuse_attr *a, struct linux_stat *st)
{
	memset(st, 0, sizeof *st);
	st->dev = 0x2a;
	st->ino = a->ino;
	st->nlink = a->nlink;
	st->mode = a->mode;
	st->uid = a->uid;
	st->gid = a->gid;
	st->rdev = a->rdev;
	st->size = a->size;
	st->blksize = a->blksize ? a->blksize : 4096;
	st->blocks = a->blocks;
	st->atime = a->atime, st->atime_nsec = a->atimensec;
	st->mtime = a->mtime, st->mtime_nsec = a->mtimensec;
	st->ctime = a->ctime, st->ctime_nsec = a->ctimensec;
}

/* On a read-only share a change fails with EROFS, but a missing name
 * still gives ENOENT, as on a read-only Linux mount. */
static long ro_refusal(uint64_t dir, const char *name, size_t len)
{
	struct fuse_entry_out e;
	long r = lookup(dir, name, len, &e);
	if (r < 0)
		return r;
	put_node(e.nodeid);
	return -EROFS;
}

/* --- opening --- */

static long open_node(const struct fuse_entry_out *e, int flags, bool dir_only, struct fsfile *ff)
{
	int acc = flags & O_ACCMODE;
	bool dir = S_ISDIR(e->attr.mode);
	if (dir && (acc != O_RDONLY || (flags & O_CREAT)))
		return -EISDIR;
	if (!dir && dir_only)
		return -ENOTDIR;
	if (!dir && fs_params.ro && (acc != O_RDONLY || (flags & O_TRUNC)))
		return -EROFS;
	struct fuse_open_in in = {.flags = dir ? 0 : flags & HOST_OPEN_FLAGS};
	struct fuse_open_out out = {0};
	struct fuse_seg i = {&in, sizeof in}, o = {&out, sizeof out};
	long r = fuse_call(dir ? FUSE_OPENDIR : FUSE_OPEN, e->nodeid, &i, 1, &o, 1);
	if (r < 0)
		return r;
	ff->nodeid = e->nodeid;
	ff->fh = out.fh;
	ff->dir = dir;
	return 0;
}

/* FUSE_CREATE makes (or, without O_EXCL, opens) the file and opens it in
 * one request; the host's open(2) gives EEXIST and EISDIR. */
static long create(uint64_t dir, const char *name, size_t len, int flags, int mode, struct fsfile *ff)
{
	char buf[NAME_MAX + 1];
	struct fuse_seg in[2];
	long r = name_seg(name, len, buf, &in[1]);
	if (r < 0)
		return r;
	struct fuse_create_in c = {
		.flags = flags & (HOST_OPEN_FLAGS | O_EXCL),
		.mode = S_IFREG | (mode & 07777 & ~UMASK), .umask = UMASK,
	};
	in[0] = (struct fuse_seg){&c, sizeof c};
	struct fuse_entry_out e = {0};
	struct fuse_open_out o = {0};
	struct fuse_seg out[2] = {{&e, sizeof e}, {&o, sizeof o}};
	r = fuse_call(FUSE_CREATE, dir, in, 2, out, 2);
	if (r < 0)
		return r;
	ff->nodeid = e.nodeid;
	ff->fh = o.fh;
	return 0;
}

static long open_in(struct walk *w, const char *path, int flags, int mode, struct fsfile *ff)
{
	bool dir_only = must_dir(path) || (flags & O_DIRECTORY);
	if ((flags & O_CREAT) && must_dir(path))
		return -EISDIR;
	if ((flags & O_CREAT) && !fs_params.ro)
		return create(w->dir, w->name, w->len, flags, mode, ff);
	struct fuse_entry_out e;
	long r = walk_last(w, &e);
	if (r == -ENOENT && (flags & O_CREAT))
		return -EROFS;
	if (r < 0)
		return r;
	if ((flags & O_CREAT) && (flags & O_EXCL))
		r = -EEXIST;
	else
		r = open_node(&e, flags, dir_only, ff);
	if (r < 0)
		put_node(e.nodeid);
	return r;
}

static void release(struct fsfile *ff, int flags)
{
	struct fuse_release_in in = {.fh = ff->fh, .flags = flags & HOST_OPEN_FLAGS};
	struct fuse_seg i = {&in, sizeof in};
	fuse_call(ff->dir ? FUSE_RELEASEDIR : FUSE_RELEASE, ff->nodeid, &i, 1, NULL, 0);
	put_node(ff->nodeid);
}

static long fs_open(const char *path, int flags, int mode, struct file **out)
{
	struct fsfile *ff = kzalloc(sizeof *ff);
	if (!ff)
		return -ENOMEM;
	struct walk w;
	walk_init(&w);
	long r = walk_parent(&w, path);
	if (r == 0 && w.len == 0 && (flags & O_CREAT))
		r = -EISDIR; /* "/" */
	else if (r == 0)
		r = open_in(&w, path, flags, mode, ff);
	walk_done(&w);
	if (r < 0) {
		kfree(ff);
		return r;
	}
	*out = file_alloc(&fsfile_ops, ff, flags & (O_ACCMODE | O_APPEND | O_NONBLOCK));
	if (!*out) {
		release(ff, flags);
		kfree(ff);
		return -ENOMEM;
	}
	return 0;
}

/* --- open files --- */

static long fsf_read(struct file *f, void *buf, size_t n, int64_t off)
{
	struct fsfile *ff = f->priv;
	if (ff->dir)
		return -EISDIR;
	uint64_t pos = off < 0 ? f->offset : (uint64_t)off;
	size_t done = 0;
	while (done < n) {
		uint32_t chunk = MIN(n - done, fs_params.max_io);
		struct fuse_read_in in = {.fh = ff->fh, .offset = pos + done, .size = chunk};
		struct fuse_seg i = {&in, sizeof in}, o = {(char *)buf + done, chunk};
		long r = fuse_call(FUSE_READ, ff->nodeid, &i, 1, &o, 1);
		if (r < 0) {
			if (done)
				break;
			return r;
		}
		done += r;
		if ((uint32_t)r < chunk)
			break; /* end of file */
	}
	if (off < 0)
		f->offset = pos + done;
	return done;
}

static long fsf_write(struct file *f, const void *buf, size_t n, int64_t off)
{
	struct fsfile *ff = f->priv;
	if (ff->dir)
		return -EISDIR;
	uint64_t pos = off < 0 ? f->offset : (uint64_t)off;
	if (off < 0 && (f->flags & O_APPEND)) {
		struct fuse_attr a;
		long r = getattr(ff->nodeid, &ff->fh, &a);
		if (r < 0)
			return r;
		pos = a.size; /* the host file is open with O_APPEND too */
	}
	size_t done = 0;
	while (done < n) {
		uint32_t chunk = MIN(n - done, fs_params.max_io);
		struct fuse_write_in in = {.fh = ff->fh, .offset = pos + done, .size = chunk};
		struct fuse_write_out out = {0};
		struct fuse_seg i[2] = {{&in, sizeof in}, {(const char *)buf + done, chunk}};
		struct fuse_seg o = {&out, sizeof out};
		long r = fuse_call(FUSE_WRITE, ff->nodeid, i, 2, &o, 1);
		if (r < 0) {
			if (done)
				break;
			return r;
		}
		done += MIN(out.size, chunk);
		if (out.size < chunk)
			break;
	}
	if (off < 0)
		f->offset = pos + done;
	return done;
}

static int fsf_poll(struct file *f, int events)
{
	(void)f;
	return events & (POLLIN | POLLOUT);
}

static long fsf_stat(struct file *f, struct linux_stat *st)
{
	struct fsfile *ff = f->priv;
	struct fuse_attr a;
	long r = getattr(ff->nodeid, ff->dir ? NULL : &ff->fh, &a);
	if (r == 0)
		attr_to_stat(&a, st);
	return r;
}

/* SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA and SEEK_HOLE (the whole file
 * is data). In a directory the offset is READDIR's cookie. */
static long fsf_lseek(struct file *f, int64_t off, int whence)
{
	struct fsfile *ff = f->priv;
	int64_t base = 0, size = 0;
	if (whence < 0 || whence > 4 || (ff->dir && whence > 1))
		return -EINVAL;
	if (whence >= 2) {
		struct fuse_attr a;
		long r = getattr(ff->nodeid, &ff->fh, &a);
		if (r < 0)
			return r;
		size = a.size;
	}
	if (whence == 1)
		base = f->offset;
	else if (whence == 2)
		base = size;
	if ((whence == 3 || whence == 4) && off >= size)
		return -ENXIO;
	int64_t pos = whence == 4 ? size : base + off;
	if (pos < 0)
		return -EINVAL;
	f->offset = pos;
	return pos;
}

/* READDIR into the rank's buffer, then each fuse_dirent rewritten in
 * place as a linux_dirent64 (d_ino, d_off, d_reclen, d_type, d_name): a
 * record is never longer than the one it comes from (8-byte aligned
 * 19 + namelen + 1 against 24 + namelen), so the output never overtakes
 * what is still to be read. */
static long fsf_getdents(struct file *f, void *buf, size_t n)
{
	struct fsfile *ff = f->priv;
	if (!ff->dir)
		return -ENOTDIR;
	n = MIN(n, fs_params.max_io);
	struct fuse_read_in in = {.fh = ff->fh, .offset = f->offset, .size = n};
	struct fuse_seg i = {&in, sizeof in}, o = {buf, n};
	long got = fuse_call(FUSE_READDIR, ff->nodeid, &i, 1, &o, 1);
	if (got < 0)
		return got;
	char *p = buf;
	size_t in_pos = 0, out_pos = 0;
	while (in_pos + FUSE_NAME_OFFSET <= (size_t)got) {
		struct fuse_dirent d;
		memcpy(&d, p + in_pos, FUSE_NAME_OFFSET);
		size_t flen = FUSE_DIRENT_ALIGN(FUSE_NAME_OFFSET + d.namelen);
		if (d.namelen > NAME_MAX || in_pos + flen > (size_t)got)
			break;
		size_t lrec = ALIGN_UP(19 + d.namelen + 1, 8);
		char *out = p + out_pos;
		memmove(out + 19, p + in_pos + FUSE_NAME_OFFSET, d.namelen);
		memset(out + 19 + d.namelen, 0, lrec - 19 - d.namelen);
		uint16_t reclen = lrec;
		uint8_t type = d.type;
		memcpy(out, &d.ino, 8);
		memcpy(out + 8, &d.off, 8);
		memcpy(out + 16, &reclen, 2);
		memcpy(out + 18, &type, 1);
		out_pos += lrec;
		in_pos += flen;
		f->offset = d.off;
	}
	return got > 0 && out_pos == 0 ? -EINVAL : (long)out_pos;
}

static long fsf_fsync(struct file *f)
{
	struct fsfile *ff = f->priv;
	struct fuse_fsync_in in = {.fh = ff->fh};
	struct fuse_seg i = {&in, sizeof in};
	long r = fuse_call(ff->dir ? FUSE_FSYNCDIR : FUSE_FSYNC, ff->nodeid, &i, 1, NULL, 0);
	return r == -ENOSYS ? 0 : r < 0 ? r : 0;
}

static long fsf_truncate(struct file *f, uint64_t len)
{
	struct fsfile *ff = f->priv;
	if (ff->dir)
		return -EISDIR;
	if ((f->flags & O_ACCMODE) == O_RDONLY)
		return -EINVAL;
	if ((int64_t)len < 0)
		return -EINVAL;
	struct fuse_setattr_in in = {.valid = FATTR_SIZE | FATTR_FH, .fh = ff->fh, .size = len};
	struct fuse_attr_out out;
	struct fuse_seg i = {&in, sizeof in}, o = {&out, sizeof out};
	long r = fuse_call(FUSE_SETATTR, ff->nodeid, &i, 1, &o, 1);
	return r < 0 ? r : 0;
}

static void fsf_close(struct file *f)
{
	struct fsfile *ff = f->priv;
	if (!ff->dir) {
		struct fuse_flush_in in = {.fh = ff->fh};
		struct fuse_seg i = {&in, sizeof in};
		fuse_call(FUSE_FLUSH, ff->nodeid, &i, 1, NULL, 0);
	}
	release(ff, f->flags);
	kfree(ff);
	kfree(f);
}

static const struct file_ops fsfile_ops = {
	.read = fsf_read, .write = fsf_write, .poll = fsf_poll, .stat = fsf_stat,
	.lseek = fsf_lseek, .getdents = fsf_getdents, .fsync = fsf_fsync,
	.truncate = fsf_truncate, .close = fsf_close,
};

/* --- path calls --- */

static long fs_stat(const char *path, struct linux_stat *st)
{
	struct fuse_entry_out e;
	long r = resolve(path, &e);
	if (r < 0)
		return r;
	put_node(e.nodeid);
	if (st)
		attr_to_stat(&e.attr, st);
	return 0;
}

/* The link itself, not what it points to. */
static long fs_lstat(const char *path, struct linux_stat *st)
{
	struct walk w;
	struct fuse_entry_out e;
	walk_init(&w);
	long r = walk_parent(&w, path);
	if (r == 0 && w.len == 0)
		r = walk_last(&w, &e);
	else if (r == 0)
		r = lookup(w.dir, w.name, w.len, &e);
	walk_done(&w);
	if (r < 0)
		return r;
	put_node(e.nodeid);
	if (must_dir(path) && !S_ISDIR(e.attr.mode))
		return -ENOTDIR;
	attr_to_stat(&e.attr, st);
	return 0;
}

/* READLINK straight into the rank's buffer: no NUL, at most size bytes. */
static long fs_readlink(const char *path, char *buf, size_t size)
{
	struct walk w;
	struct fuse_entry_out e;
	walk_init(&w);
	long r = walk_parent(&w, path);
	if (r == 0)
		r = w.len == 0 ? -EINVAL : lookup(w.dir, w.name, w.len, &e);
	walk_done(&w);
	if (r < 0)
		return r;
	if ((e.attr.mode & S_IFMT) != S_IFLNK) {
		put_node(e.nodeid);
		return -EINVAL;
	}
	char *t = kmalloc(PATH_MAX);
	struct fuse_seg o = {t, PATH_MAX};
	r = t ? fuse_call(FUSE_READLINK, e.nodeid, NULL, 0, &o, 1) : -ENOMEM;
	put_node(e.nodeid);
	if (r > 0) {
		r = MIN((size_t)r, size);
		memcpy(buf, t, r);
	}
	kfree(t);
	return r;
}

static long fs_access(const char *path, int mode)
{
	struct fuse_entry_out e;
	long r = resolve(path, &e);
	if (r < 0)
		return r;
	put_node(e.nodeid);
	if ((mode & W_OK) && fs_params.ro)
		return -EROFS;
	if ((mode & X_OK) && !S_ISDIR(e.attr.mode) && !(e.attr.mode & 0111))
		return -EACCES;
	return 0;
}

/* Runs op on the directory and name that end path (a link there is the
 * name itself, not followed). */
static long in_parent(const char *path, long (*op)(uint64_t dir, const char *name, size_t len, uint64_t arg),
		      uint64_t arg, long if_root)
{
	struct walk w;
	walk_init(&w);
	long r = walk_parent(&w, path);
	if (r == 0)
		r = w.len == 0 ? if_root : fs_params.ro ? ro_refusal(w.dir, w.name, w.len) : op(w.dir, w.name, w.len, arg);
	walk_done(&w);
	return r;
}

static long do_mkdir(uint64_t dir, const char *name, size_t len, uint64_t mode)
{
	char buf[NAME_MAX + 1];
	struct fuse_seg in[2];
	long r = name_seg(name, len, buf, &in[1]);
	if (r < 0)
		return r;
	struct fuse_mkdir_in m = {.mode = mode & 07777 & ~UMASK, .umask = UMASK};
	in[0] = (struct fuse_seg){&m, sizeof m};
	struct fuse_entry_out e = {0};
	struct fuse_seg out = {&e, sizeof e};
	r = fuse_call(FUSE_MKDIR, dir, in, 2, &out, 1);
	if (r < 0)
		return r;
	put_node(e.nodeid);
	return 0;
}

/* virtiofsd only removes or renames a name it has handed out a node for
 * (its lookup_name() gives EIO otherwise), as the Linux client always
 * has: so look the name up first and hold the node until it is done. */
static long do_remove(uint64_t dir, const char *name, size_t len, uint64_t opcode)
{
	char buf[NAME_MAX + 1];
	struct fuse_seg in;
	struct fuse_entry_out e;
	long r = lookup(dir, name, len, &e);
	if (r < 0)
		return r;
	name_seg(name, len, buf, &in);
	r = fuse_call(opcode, dir, &in, 1, NULL, 0);
	put_node(e.nodeid);
	return r < 0 ? r : 0;
}

static long fs_mkdir(const char *path, int mode)
{
	if (fs_params.ro) { /* an existing name is EEXIST first, as on Linux */
		struct linux_stat st;
		long r = fs_stat(path, &st);
		return r == 0 ? -EEXIST : r == -ENOENT ? -EROFS : r;
	}
	return in_parent(path, do_mkdir, mode, -EEXIST);
}

static long fs_rmdir(const char *path)
{
	return in_parent(path, do_remove, FUSE_RMDIR, -EBUSY);
}

static long fs_unlink(const char *path)
{
	if (must_dir(path)) { /* "name/": a directory (EISDIR) or not a directory at all */
		struct linux_stat st;
		long r = fs_stat(path, &st);
		return r < 0 ? r : -EISDIR;
	}
	return in_parent(path, do_remove, FUSE_UNLINK, -EISDIR);
}

/* Both names are looked up first (see do_remove); the new one may be
 * missing. */
static long rename_in(uint64_t odir, const char *oname, size_t olen, uint64_t ndir, const char *nname, size_t nlen)
{
	struct fuse_entry_out old, new;
	long r = lookup(odir, oname, olen, &old);
	if (r < 0)
		return r;
	bool replacing = lookup(ndir, nname, nlen, &new) == 0;
	char names[2 * (NAME_MAX + 1)];
	memcpy(names, oname, olen);
	names[olen] = 0;
	memcpy(names + olen + 1, nname, nlen);
	names[olen + 1 + nlen] = 0;
	struct fuse_rename_in in = {.newdir = ndir};
	struct fuse_seg i[2] = {{&in, sizeof in}, {names, olen + nlen + 2}};
	r = fuse_call(FUSE_RENAME, odir, i, 2, NULL, 0);
	put_node(old.nodeid);
	if (replacing)
		put_node(new.nodeid);
	return r < 0 ? r : 0;
}

static long fs_rename(const char *from, const char *to)
{
	struct walk o, n;
	walk_init(&o);
	walk_init(&n);
	long r = walk_parent(&o, from);
	if (r == 0)
		r = walk_parent(&n, to);
	if (r < 0)
		;
	else if (o.len == 0 || n.len == 0)
		r = -EBUSY;
	else if (o.len > NAME_MAX || n.len > NAME_MAX)
		r = -ENAMETOOLONG;
	else if (fs_params.ro)
		r = ro_refusal(o.dir, o.name, o.len);
	else
		r = rename_in(o.dir, o.name, o.len, n.dir, n.name, n.len);
	walk_done(&o);
	walk_done(&n);
	return r;
}

/* struct statfs of x86-64 Linux (120 bytes). */
struct linux_statfs {
	int64_t type, bsize;
	uint64_t blocks, bfree, bavail, files, ffree;
	int32_t fsid[2];
	int64_t namelen, frsize, flags;
	int64_t spare[4];
};

static long fs_statfs(const char *path, void *buf)
{
	struct fuse_entry_out e;
	long r = resolve(path, &e);
	if (r < 0)
		return r;
	put_node(e.nodeid);
	struct fuse_kstatfs k = {0};
	struct fuse_seg o = {&k, sizeof k};
	r = fuse_call(FUSE_STATFS, FUSE_ROOT_ID, NULL, 0, &o, 1);
	if (r < 0)
		return r;
	struct linux_statfs *s = buf;
	memset(s, 0, sizeof *s);
	s->type = FUSE_SUPER_MAGIC;
	s->bsize = k.bsize;
	s->blocks = k.blocks, s->bfree = k.bfree, s->bavail = k.bavail;
	s->files = k.files, s->ffree = k.ffree;
	s->namelen = k.namelen;
	s->frsize = k.frsize ? k.frsize : k.bsize;
	s->flags = fs_params.ro ? ST_RDONLY : 0;
	return 0;
}

static const struct fs_ops virtiofs_ops = {
	.open = fs_open, .stat = fs_stat, .mkdir = fs_mkdir, .rmdir = fs_rmdir,
	.unlink = fs_unlink, .rename = fs_rename, .access = fs_access, .statfs = fs_statfs,
	.lstat = fs_lstat, .readlink = fs_readlink,
};

void fs_mount(void)
{
	root_fs = &virtiofs_ops;
}
