/* The console as a file: descriptors 0, 1 and 2 of every rank. A write
 * is one atomic console write, so lines of different ranks never mix. */
#include "defs.h"
#include "proc.h"
#include "file.h"
#include "errno.h"

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
