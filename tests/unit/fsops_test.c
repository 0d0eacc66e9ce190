/* Host unit test of virtio/fsops.c (make unit-fuse): the POSIX calls of
 * virtio-fs against a fake fuse_call that logs every request's bytes as
 * the device would read them (header from fuse_msg.c, then the
 * arguments) and answers as a tiny file server would: "/" (node 1) holds
 * "dir" (2), which holds "f" (3, 64 bytes) and "sub" (4), which holds
 * "g" (5, 64 bytes). Each request is read back at
 * the byte offsets of Linux include/uapi/linux/fuse.h.
 * Built freestanding against the kernel headers, as fsops.c is; the few
 * C library calls it needs are declared here.
 * Prints "ok NAME" or "FAIL NAME: why" per case; exits 1 on a failure. */
#include "../../kernel/defs.h"
#include "../../kernel/file.h"
#include "../../kernel/errno.h"
#include "fuse_msg.h"

int printf(const char *fmt, ...);
void *malloc(size_t n);
void *calloc(size_t n, size_t size);
void free(void *p);

static int failed, passed;
static const char *current;

#define CHECK(cond)                                                                \
	do {                                                                       \
		if (!(cond)) {                                                     \
			printf("FAIL %s: line %d: %s\n", current, __LINE__, #cond); \
			failed++;                                                  \
			return;                                                    \
		}                                                                  \
	} while (0)

/* --- what fsops.c links against --- */
const struct fs_ops *root_fs;
struct fs_params fs_params = {.max_io = 4096};
void *kmalloc(size_t n) { return malloc(n); }
void *kzalloc(size_t n) { return calloc(1, n); }
void kfree(void *p) { free(p); }

struct file *file_alloc(const struct file_ops *ops, void *priv, int flags)
{
	struct file *f = kzalloc(sizeof *f);
	if (f)
		*f = (struct file){.ops = ops, .priv = priv, .refs = 1, .flags = flags};
	return f;
}

/* The log: request k's bytes at req[k], req_len[k] of them. */
#define MAX_REQS 32
static uint8_t req[MAX_REQS][8192];
static uint32_t req_len[MAX_REQS];
static int nreq;
static uint64_t unique;
static int forgets[8];     /* FORGETs per node */
static int lookups[8];     /* LOOKUPs answered per node */
static uint8_t content[64];

static uint32_t u32(const uint8_t *b, size_t off) { uint32_t v; memcpy(&v, b + off, 4); return v; }
static uint64_t u64(const uint8_t *b, size_t off) { uint64_t v; memcpy(&v, b + off, 8); return v; }

/* As fs.c's: the root is never forgotten. */
void fuse_forget(uint64_t nodeid, uint64_t nlookup)
{
	if (nodeid != FUSE_ROOT_ID && nodeid < 8)
		forgets[nodeid] += (int)nlookup;
}

static void scatter(const struct fuse_seg *out, int nout, const void *src, size_t n)
{
	for (int i = 0; i < nout && n; i++) {
		size_t k = MIN(n, out[i].len);
		memcpy((void *)out[i].p, src, k);
		src = (const char *)src + k, n -= k;
	}
}

static long entry(uint64_t node, const struct fuse_seg *out, int nout)
{
	struct fuse_entry_out e = {.nodeid = node};
	e.attr = (struct fuse_attr){.ino = node, .size = node & 1 ? 64 : 0, .nlink = 1, .blksize = 4096,
				    .mode = node & 1 ? S_IFREG | 0644 : S_IFDIR | 0755};
	lookups[node]++;
	scatter(out, nout, &e, sizeof e);
	return sizeof e;
}

/* The file server, on what was logged as request nreq - 1. */
static long serve(const uint8_t *m, const struct fuse_seg *out, int nout)
{
	uint32_t op = u32(m, 4);
	uint64_t node = u64(m, 16);
	const char *arg = (const char *)m + 40;
	if (op == FUSE_LOOKUP && node == 1 && strcmp(arg, "dir") == 0)
		return entry(2, out, nout);
	if (op == FUSE_LOOKUP && node == 2 && strcmp(arg, "f") == 0)
		return entry(3, out, nout);
	if (op == FUSE_LOOKUP && node == 2 && strcmp(arg, "sub") == 0)
		return entry(4, out, nout);
	if (op == FUSE_LOOKUP && node == 4 && strcmp(arg, "g") == 0)
		return entry(5, out, nout);
	if (op == FUSE_LOOKUP)
		return -ENOENT;
	if (op == FUSE_OPEN) {
		struct fuse_open_out o = {.fh = 77};
		scatter(out, nout, &o, sizeof o);
		return sizeof o;
	}
	if (op == FUSE_READ) {
		uint64_t off = u64(m, 48);
		uint32_t n = off >= 64 ? 0 : MIN(u32(m, 56), 64 - (uint32_t)off);
		scatter(out, nout, content + off, n);
		return n;
	}
	if (op == FUSE_WRITE) {
		struct fuse_write_out w = {.size = u32(m, 56)};
		scatter(out, nout, &w, sizeof w);
		return sizeof w;
	}
	if (op == FUSE_GETATTR) {
		struct fuse_attr_out a = {.attr = {.ino = node, .size = 64, .mode = S_IFREG | 0644, .nlink = 1}};
		scatter(out, nout, &a, sizeof a);
		return sizeof a;
	}
	return 0; /* FLUSH, RELEASE */
}

long fuse_call(uint32_t opcode, uint64_t nodeid, const struct fuse_seg *in, int nin,
	       const struct fuse_seg *out, int nout)
{
	if (nreq == MAX_REQS)
		return -EIO;
	struct fuse_in_header ih;
	fuse_msg_header(&ih, opcode, nodeid, ++unique, in, nin, 0, 0, 1);
	uint8_t *m = req[nreq];
	uint32_t n = sizeof ih;
	memcpy(m, &ih, sizeof ih);
	for (int i = 0; i < nin; i++) {
		if (in[i].len && n + in[i].len <= sizeof req[0])
			memcpy(m + n, in[i].p, in[i].len);
		n += in[i].len;
	}
	req_len[nreq++] = n;
	return serve(m, out, nout);
}

/* --- the cases --- */

/* Request k: its header says len (= what was sent), opcode and nodeid. */
static bool is_req(int k, uint32_t len, uint32_t opcode, uint64_t nodeid)
{
	const uint8_t *m = req[k];
	return k < nreq && req_len[k] == len && u32(m, 0) == len && u32(m, 4) == opcode &&
	       u64(m, 8) == (uint64_t)k + 1 && u64(m, 16) == nodeid;
}

static void reset(void)
{
	nreq = 0, unique = 0;
	memset(forgets, 0, sizeof forgets);
	memset(lookups, 0, sizeof lookups);
	for (int i = 0; i < 64; i++)
		content[i] = (uint8_t)(i * 7 + 1);
}

static void test_open_read_write_close(void)
{
	reset();
	struct file *f = NULL;
	CHECK(root_fs->open("/dir/f", O_RDWR, 0, &f) == 0 && f);
	CHECK(nreq == 3);
	CHECK(is_req(0, 40 + 4, FUSE_LOOKUP, 1) && memcmp(req[0] + 40, "dir", 4) == 0);
	CHECK(is_req(1, 40 + 2, FUSE_LOOKUP, 2) && memcmp(req[1] + 40, "f", 2) == 0);
	CHECK(is_req(2, 40 + 8, FUSE_OPEN, 3) && u32(req[2], 40) == O_RDWR && u32(req[2], 44) == 0);

	char buf[16];
	CHECK(f->ops->read(f, buf, 10, 5) == 10);
	CHECK(is_req(3, 80, FUSE_READ, 3));
	CHECK(u64(req[3], 40) == 77 && u64(req[3], 48) == 5 && u32(req[3], 56) == 10 && u32(req[3], 60) == 0 &&
	      u64(req[3], 64) == 0 && u32(req[3], 72) == 0);
	CHECK(memcmp(buf, content + 5, 10) == 0);
	CHECK(f->ops->read(f, buf, 16, 60) == 4);     /* the end of the file */

	fs_params.max_io = 8;                          /* 20 bytes: 8, 8 and 4 */
	const char data[] = "abcdefghijklmnopqrst";
	long w = f->ops->write(f, data, 20, 3);
	fs_params.max_io = 4096;
	CHECK(w == 20 && nreq == 8);
	for (int k = 0; k < 3; k++) {
		uint32_t size = k < 2 ? 8 : 4;
		CHECK(is_req(5 + k, 80 + size, FUSE_WRITE, 3));
		CHECK(u64(req[5 + k], 40) == 77 && u64(req[5 + k], 48) == 3 + 8u * k && u32(req[5 + k], 56) == size);
		CHECK(memcmp(req[5 + k] + 80, data + 8 * k, size) == 0);
	}

	struct linux_stat st;
	CHECK(f->ops->stat(f, &st) == 0 && st.size == 64 && st.ino == 3);
	CHECK(is_req(8, 56, FUSE_GETATTR, 3) && u32(req[8], 40) == FUSE_GETATTR_FH && u64(req[8], 48) == 77);

	f->ops->close(f);
	CHECK(nreq == 11);
	CHECK(is_req(9, 64, FUSE_FLUSH, 3) && u64(req[9], 40) == 77);
	CHECK(is_req(10, 64, FUSE_RELEASE, 3) && u64(req[10], 40) == 77 && u32(req[10], 48) == O_RDWR &&
	      u32(req[10], 52) == 0);
	CHECK(forgets[2] == lookups[2] && forgets[3] == lookups[3]);  /* every lookup given back */
	printf("ok %s\n", current), passed++;
}

static void test_missing(void)
{
	reset();
	struct file *f = NULL;
	CHECK(root_fs->open("/dir/nothing", O_RDONLY, 0, &f) == -ENOENT && !f);
	CHECK(nreq == 2 && is_req(1, 40 + 8, FUSE_LOOKUP, 2) && memcmp(req[1] + 40, "nothing", 8) == 0);
	CHECK(forgets[2] == lookups[2] && lookups[2] == 1);
	struct linux_stat st;
	CHECK(root_fs->stat("/dir/f", &st) == 0 && st.size == 64 && (st.mode & S_IFMT) == S_IFREG);
	CHECK(forgets[2] == lookups[2] && forgets[3] == lookups[3]);
	printf("ok %s\n", current), passed++;
}

/* Pieces of at most max_io, each at its own offset. */
static void test_chunked_read(void)
{
	reset();
	struct file *f = NULL;
	CHECK(root_fs->open("/dir/f", O_RDONLY, 0, &f) == 0 && f);
	char buf[20];
	fs_params.max_io = 8;
	long r = f->ops->read(f, buf, 20, 2);
	fs_params.max_io = 4096;
	CHECK(r == 20 && nreq == 6);
	for (int k = 0; k < 3; k++)
		CHECK(is_req(3 + k, 80, FUSE_READ, 3) && u64(req[3 + k], 48) == 2 + 8u * k &&
		      u32(req[3 + k], 56) == (k < 2 ? 8u : 4u));
	CHECK(memcmp(buf, content + 2, 20) == 0);
	f->ops->close(f);
	printf("ok %s\n", current), passed++;
}

/* Every directory on the way is given back once past it. */
static void test_deep_path(void)
{
	reset();
	struct file *f = NULL;
	CHECK(root_fs->open("//dir/sub//g", O_WRONLY | O_APPEND, 0, &f) == 0 && f);
	CHECK(nreq == 4 && is_req(1, 40 + 4, FUSE_LOOKUP, 2) && memcmp(req[1] + 40, "sub", 4) == 0);
	CHECK(is_req(2, 42, FUSE_LOOKUP, 4) && is_req(3, 48, FUSE_OPEN, 5));
	CHECK(u32(req[3], 40) == (O_WRONLY | O_APPEND));
	CHECK(forgets[2] == 1 && forgets[4] == 1 && forgets[5] == 0);
	f->ops->close(f);
	CHECK(forgets[5] == 1 && lookups[5] == 1);
	printf("ok %s\n", current), passed++;
}

#define RUN(name, call) (current = name, call)

int main(void)
{
	fs_mount();
	RUN("open_read_write_close", test_open_read_write_close());
	RUN("missing", test_missing());
	RUN("chunked_read", test_chunked_read());
	RUN("deep_path", test_deep_path());
	printf("fsops_test: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
