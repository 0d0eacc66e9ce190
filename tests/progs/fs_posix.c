/* The POSIX file calls on a virtio-fs share, one check a line ("ok NAME"
 * or "FAIL NAME: ..."), against what Linux does. Run in an empty folder:
 *   fs_posix calls        the calls and their errors
 *   fs_posix dir DIR N    DIR (made by the host) holds exactly e0000..e<N-1>
 *   fs_posix rofs         on a :ro share: reading works, every change is EROFS
 *   fs_posix links        symbolic links made by the host (see tests/test_fs.py)
 * Builds the same with gcc on Linux. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

static int fails;

static void check(const char *name, int ok, const char *detail)
{
	if (ok)
		printf("ok %s\n", name);
	else
		printf("FAIL %s: %s (errno %d %s)\n", name, detail, errno, strerror(errno));
	fails += !ok;
}

/* The call failed with the wanted errno. */
static int err_is(long r, int e)
{
	return r == -1 && errno == e;
}

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
		printf("FAIL setup %s: %s\n", path, strerror(errno)), fails++;
}

static int file_is(const char *path, const char *text)
{
	char buf[256] = {0};
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) && memcmp(buf, text, n) == 0;
}

static void errors(void)
{
	char longname[300];
	check("ENOENT open", err_is(open("/no/such", O_RDONLY), ENOENT) && err_is(open("missing", O_RDONLY), ENOENT), "");
	check("ENOENT stat", err_is(stat("missing", &(struct stat){0}), ENOENT), "");
	check("ENOENT creat in missing dir", err_is(open("nodir/x", O_WRONLY | O_CREAT, 0644), ENOENT), "");
	check("ENOENT unlink", err_is(unlink("missing"), ENOENT), "");
	put("file", "data");
	check("EEXIST O_EXCL", err_is(open("file", O_WRONLY | O_CREAT | O_EXCL, 0644), EEXIST), "");
	int fd = open("excl", O_WRONLY | O_CREAT | O_EXCL, 0600);
	check("O_EXCL creates", fd >= 0 && close(fd) == 0, "");
	check("ENOTDIR open", err_is(open("file/x", O_RDONLY), ENOTDIR), "");
	check("ENOTDIR stat slash", err_is(stat("file/", &(struct stat){0}), ENOTDIR), "");
	check("ENOTDIR O_DIRECTORY", err_is(open("file", O_RDONLY | O_DIRECTORY), ENOTDIR), "");
	check("ENOTDIR rmdir", err_is(rmdir("file"), ENOTDIR), "");
	check("mkdir", mkdir("d", 0755) == 0, "");
	check("EEXIST mkdir", err_is(mkdir("d", 0755), EEXIST) && err_is(mkdir("file", 0755), EEXIST), "");
	check("EISDIR open for writing", err_is(open("d", O_WRONLY), EISDIR) && err_is(open("d", O_RDWR), EISDIR), "");
	check("EISDIR creat", err_is(open("d", O_WRONLY | O_CREAT, 0644), EISDIR), "");
	check("EISDIR unlink", err_is(unlink("d"), EISDIR), "");
	fd = open("d", O_RDONLY);
	char c;
	check("EISDIR read", fd >= 0 && err_is(read(fd, &c, 1), EISDIR), "");
	close(fd);
	memset(longname, 'n', 256);
	longname[256] = 0;
	check("ENAMETOOLONG open", err_is(open(longname, O_WRONLY | O_CREAT, 0644), ENAMETOOLONG), "");
	check("ENAMETOOLONG stat", err_is(stat(longname, &(struct stat){0}), ENAMETOOLONG), "");
	check("ENAMETOOLONG mkdir", err_is(mkdir(longname, 0755), ENAMETOOLONG), "");
	longname[255] = 0;
	fd = open(longname, O_WRONLY | O_CREAT, 0644);
	check("255-byte name", fd >= 0 && close(fd) == 0 && unlink(longname) == 0, "");
	put("d/inner", "x");
	check("ENOTEMPTY rmdir", err_is(rmdir("d"), ENOTEMPTY) || err_is(rmdir("d"), EEXIST), "");
	check("EBADF", err_is(read(55, &c, 1), EBADF) && err_is(close(55), EBADF), "");
	fd = open("file", O_RDONLY);
	check("EBADF write to read-only fd", err_is(write(fd, "x", 1), EBADF), "");
	check("EINVAL lseek before 0", err_is(lseek(fd, -5, SEEK_SET), EINVAL), "");
	check("EINVAL ftruncate read-only fd", err_is(ftruncate(fd, 0), EINVAL) || err_is(ftruncate(fd, 0), EBADF), "");
	close(fd);
}

static void rw_calls(void)
{
	int fd = open("rw", O_RDWR | O_CREAT | O_TRUNC, 0644);
	char buf[64] = {0};
	check("write", write(fd, "hello world", 11) == 11, "");
	check("lseek SEEK_CUR", lseek(fd, 0, SEEK_CUR) == 11, "");
	check("pread", pread(fd, buf, 5, 6) == 5 && memcmp(buf, "world", 5) == 0 && lseek(fd, 0, SEEK_CUR) == 11, "");
	check("pwrite", pwrite(fd, "W", 1, 6) == 1 && lseek(fd, 0, SEEK_CUR) == 11, "");
	check("lseek SEEK_SET + read", lseek(fd, 0, SEEK_SET) == 0 && read(fd, buf, 64) == 11 &&
	      memcmp(buf, "hello World", 11) == 0, "");
	check("read at end", read(fd, buf, 64) == 0, "");
	check("lseek SEEK_END", lseek(fd, -5, SEEK_END) == 6, "");
	check("lseek past end + write makes a hole", lseek(fd, 20, SEEK_SET) == 20 && write(fd, "!", 1) == 1 &&
	      pread(fd, buf, 64, 0) == 21 && buf[15] == 0 && buf[20] == '!', "");
	struct iovec iov[3] = {{"ab", 2}, {"", 0}, {"cde", 3}};
	check("writev", lseek(fd, 0, SEEK_SET) == 0 && writev(fd, iov, 3) == 5, "");
	char x[2], y[3];
	struct iovec riov[2] = {{x, 2}, {y, 3}};
	check("readv", lseek(fd, 0, SEEK_SET) == 0 && readv(fd, riov, 2) == 5 && memcmp(x, "ab", 2) == 0 &&
	      memcmp(y, "cde", 3) == 0, "");
	struct stat st;
	check("fstat", fstat(fd, &st) == 0 && st.st_size == 21 && S_ISREG(st.st_mode), "");
	check("ftruncate shrink", ftruncate(fd, 4) == 0 && fstat(fd, &st) == 0 && st.st_size == 4, "");
	check("ftruncate grow", ftruncate(fd, 10000) == 0 && stat("rw", &st) == 0 && st.st_size == 10000, "");
	check("fsync fdatasync", fsync(fd) == 0 && fdatasync(fd) == 0, "");
	check("close", close(fd) == 0, "");
	check("truncate", truncate("rw", 3) == 0 && file_is("rw", "abc"), "");

	put("app", "one\n");
	fd = open("app", O_WRONLY | O_APPEND);
	check("O_APPEND", fd >= 0 && lseek(fd, 0, SEEK_SET) == 0 && write(fd, "two\n", 4) == 4 &&
	      lseek(fd, 0, SEEK_CUR) == 8 && close(fd) == 0 && file_is("app", "one\ntwo\n"), "");
	fd = open("app", O_WRONLY | O_TRUNC);
	check("O_TRUNC", fd >= 0 && close(fd) == 0 && stat("app", &st) == 0 && st.st_size == 0, "");
	fd = open("app", O_RDWR);
	int fd2 = dup(fd);
	check("dup shares the offset", write(fd, "xy", 2) == 2 && lseek(fd2, 0, SEEK_CUR) == 2, "");
	close(fd);
	close(fd2);
}

static void path_calls(void)
{
	struct stat st;
	put("old", "o");
	put("other", "t");
	check("rename", rename("old", "new") == 0 && err_is(stat("old", &st), ENOENT) && file_is("new", "o"), "");
	check("rename over a file", rename("new", "other") == 0 && file_is("other", "o"), "");
	check("mkdir nested", mkdir("p", 0755) == 0 && mkdir("p/q", 0700) == 0 && stat("p/q", &st) == 0 &&
	      S_ISDIR(st.st_mode), "");
	check("rename into a directory", rename("other", "p/q/moved") == 0 && file_is("p/q/moved", "o"), "");
	check("access", access("p/q/moved", R_OK | W_OK) == 0 && err_is(access("p/none", F_OK), ENOENT), "");
	char cwd[512], top[256], want[512], path[512];
	/* the share's root is "/" in Toro; on Linux, wherever the test runs */
	check("getcwd at start", getcwd(top, sizeof top) != NULL, "");
	const char *t = strcmp(top, "/") == 0 ? "" : top;
	snprintf(want, sizeof want, "%s/p/q", t);
	check("chdir", chdir("p/q") == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, want) == 0, cwd);
	check("relative paths after chdir", file_is("moved", "o") && file_is("../../file", "data"), "");
	snprintf(want, sizeof want, "%s/p", t);
	check("chdir ..", chdir("..") == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, want) == 0, cwd);
	snprintf(path, sizeof path, "%s/file", t);
	check("ENOTDIR chdir", err_is(chdir(path), ENOTDIR), "");
	check("ERANGE getcwd", getcwd(cwd, 2) == NULL && errno == ERANGE, "");
	check("chdir back", chdir(top) == 0, "");
	int dfd = open("p", O_RDONLY | O_DIRECTORY);
	int fd = openat(dfd, "q/moved", O_RDONLY);
	check("openat dirfd", dfd >= 0 && fd >= 0, "");
	close(fd);
	check("fstatat dirfd", fstatat(dfd, "q", &st, 0) == 0 && S_ISDIR(st.st_mode), "");
	check("mkdirat unlinkat", mkdirat(dfd, "r", 0755) == 0 && unlinkat(dfd, "r", AT_REMOVEDIR) == 0 &&
	      unlinkat(dfd, "q/moved", 0) == 0, "");
	check("fchdir", fchdir(dfd) == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, want) == 0 && chdir(top) == 0, cwd);
	close(dfd);
	check("rmdir", rmdir("p/q") == 0 && rmdir("p") == 0 && err_is(stat("p", &st), ENOENT), "");
	check("unlink", unlink("file") == 0 && err_is(stat("file", &st), ENOENT), "");
	check("stat root", stat("/", &st) == 0 && S_ISDIR(st.st_mode) && stat(".", &st) == 0, "");
	check("dot and dotdot", stat("./d/../d/.", &st) == 0 && S_ISDIR(st.st_mode), "");
	struct statfs sfs;
	fd = open(".", O_RDONLY | O_DIRECTORY);
	check("statfs fstatfs", statfs(".", &sfs) == 0 && sfs.f_bsize > 0 && sfs.f_blocks > 0 &&
	      fstatfs(fd, &sfs) == 0 && sfs.f_blocks > 0, "");
	close(fd);
#ifdef SYS_statx
	struct { unsigned mask, blksize; unsigned long long attr; unsigned nlink, uid, gid; unsigned short mode, pad;
		 unsigned long long ino, size, blocks, amask; char rest[256 - 64]; } sx;
	put("sx", "12345");
	check("statx", syscall(SYS_statx, AT_FDCWD, "sx", 0, 0x7ff, &sx) == 0 && sx.size == 5 &&
	      S_ISREG(sx.mode), "");
#endif
}

/* DIR holds e0000 .. e<N-1> and nothing else, read through readdir. */
static void list_dir(const char *dir, int n)
{
	char *seen = calloc(n, 1);
	DIR *d = opendir(dir);
	struct dirent *e;
	int count = 0, dots = 0, bad = 0;
	while (d && (e = readdir(d))) {
		int i;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			dots++;
		else if (sscanf(e->d_name, "e%d", &i) == 1 && i >= 0 && i < n && !seen[i] && e->d_type == DT_REG)
			seen[i] = 1, count++;
		else
			bad++;
	}
	check("opendir", d != NULL, dir);
	printf("listed %d entries (%d dot entries, %d unexpected)\n", count, dots, bad);
	check("directory listed completely", count == n && bad == 0, "");
	if (d) {
		rewinddir(d);
		int again = 0;
		while ((e = readdir(d)))
			again++;
		check("rewinddir", again == count + dots, "");
		closedir(d);
	}
}

static void rofs(void)
{
	struct stat st;
	check("read on a read-only share", file_is("ro.txt", "read only\n"), "");
	check("stat on a read-only share", stat("ro.txt", &st) == 0 && st.st_size == 10, "");
	check("EROFS open for writing", err_is(open("ro.txt", O_WRONLY), EROFS) && err_is(open("ro.txt", O_RDWR), EROFS), "");
	check("EROFS O_TRUNC", err_is(open("ro.txt", O_RDONLY | O_TRUNC), EROFS), "");
	check("EROFS creat", err_is(open("new.txt", O_WRONLY | O_CREAT, 0644), EROFS), "");
	check("EROFS mkdir", err_is(mkdir("newdir", 0755), EROFS), "");
	check("EROFS unlink", err_is(unlink("ro.txt"), EROFS), "");
	check("EROFS rmdir", err_is(rmdir("sub"), EROFS), "");
	check("EROFS rename", err_is(rename("ro.txt", "moved"), EROFS), "");
	check("EROFS truncate", err_is(truncate("ro.txt", 0), EROFS), "");
	check("EROFS access W_OK", err_is(access("ro.txt", W_OK), EROFS) && access("ro.txt", R_OK) == 0, "");
	check("ENOENT still ENOENT", err_is(unlink("missing"), ENOENT), "");
	check("the file is intact", file_is("ro.txt", "read only\n"), "");
}

/* The host made: sub/inner.txt ("inner\n"), dlink -> sub, flink ->
 * sub/inner.txt, abs -> /sub/inner.txt, chain -> dlink/inner.txt,
 * loop -> loop, dangling -> nowhere. */
static void links(void)
{
	struct stat st;
	check("open through a link to a file", file_is("flink", "inner\n"), "");
	check("a link to a directory on the way", file_is("dlink/inner.txt", "inner\n"), "");
	check("a relative link to a link", file_is("chain", "inner\n"), "");
	check("an absolute link, from the share's root", file_is("abs", "inner\n"), "");
	check("stat follows", stat("flink", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 6, "");
	check("lstat does not follow", lstat("flink", &st) == 0 && S_ISLNK(st.st_mode), "");
	char t[64] = {0};
	check("readlink", readlink("dlink", t, sizeof t) == 3 && memcmp(t, "sub", 3) == 0 &&
	      err_is(readlink("sub", t, sizeof t), EINVAL), "");
	check("ELOOP", err_is(open("loop", O_RDONLY), ELOOP), "");
	check("ENOENT dangling", err_is(open("dangling", O_RDONLY), ENOENT), "");
	int fd = open("dlink", O_RDONLY | O_DIRECTORY);
	check("opendir through a link", fd >= 0, "");
	close(fd);
	put("dlink/new.txt", "n");
	check("create through a link to a directory", file_is("sub/new.txt", "n"), "");
	check("unlink removes the link", unlink("flink") == 0 && err_is(stat("flink", &st), ENOENT) &&
	      file_is("sub/inner.txt", "inner\n"), "");
	DIR *d = opendir(".");
	struct dirent *e;
	int lnk = 0;
	while (d && (e = readdir(d)))
		lnk += strcmp(e->d_name, "dlink") == 0 && e->d_type == DT_LNK;
	if (d)
		closedir(d);
	check("readdir says DT_LNK", lnk == 1, "");
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "calls") == 0) {
		errors();
		rw_calls();
		path_calls();
	} else if (argc == 4 && strcmp(argv[1], "dir") == 0) {
		list_dir(argv[2], atoi(argv[3]));
	} else if (argc == 2 && strcmp(argv[1], "rofs") == 0) {
		rofs();
	} else if (argc == 2 && strcmp(argv[1], "links") == 0) {
		links();
	} else {
		fprintf(stderr, "usage: fs_posix calls | dir DIR N | rofs | links\n");
		return 2;
	}
	printf("%d failed\n", fails);
	return fails != 0;
}
