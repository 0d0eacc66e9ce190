/* Host unit test of virtio/fuse_msg.c (make unit-fuse): requests go
 * through a fake transport that does what fs.c's fuse_call does with the
 * device (the header and the arguments, back to back, as the device
 * reads them; the canned reply scattered over fuse_out_header and the
 * reply parts, as the device writes them), and every field is read back
 * at its byte offset in Linux include/uapi/linux/fuse.h, not through
 * fuse.h's structs. Then malformed replies: each must be refused.
 * Prints "ok NAME" or "FAIL NAME: why" per case; exits 1 on a failure. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fuse_msg.h"
#include "../../kernel/errno.h"

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
#define PASS() (printf("ok %s\n", current), passed++)

static uint32_t u32(const uint8_t *b, size_t off) { uint32_t v; memcpy(&v, b + off, 4); return v; }
static uint64_t u64(const uint8_t *b, size_t off) { uint64_t v; memcpy(&v, b + off, 8); return v; }
static void put32(uint8_t *b, size_t off, uint32_t v) { memcpy(b + off, &v, 4); }
static void put64(uint8_t *b, size_t off, uint64_t v) { memcpy(b + off, &v, 8); }

/* The fake transport: what the device read, and what it answers. */
static uint8_t sent[8192];
static size_t sent_len;
static uint8_t reply[8192];
static size_t reply_len;
static uint64_t next_unique = 41;
static int malformed_seen;
/* 0: the reply carries the request's unique; otherwise this one */
static uint64_t reply_unique;

/* Sets the canned reply: a fuse_out_header (len = 16 + n unless len_field
 * is set, error) and n body bytes. */
static void canned(int32_t error, const void *body, size_t n, uint32_t len_field)
{
	memset(reply, 0, sizeof reply);
	put32(reply, 0, len_field ? len_field : (uint32_t)(16 + n));
	memcpy(reply + 4, &error, 4);
	if (n)
		memcpy(reply + 16, body, n);
	reply_len = 16 + n;
}

static long call(uint32_t opcode, uint64_t nodeid, const struct fuse_seg *in, int nin,
		 const struct fuse_seg *out, int nout)
{
	struct fuse_in_header ih;
	struct fuse_out_header oh = {0};
	fuse_msg_header(&ih, opcode, nodeid, next_unique++, in, nin, 1000, 100, 7);
	memcpy(sent, &ih, sizeof ih);
	sent_len = sizeof ih;
	for (int i = 0; i < nin; i++) {
		if (in[i].len)
			memcpy(sent + sent_len, in[i].p, in[i].len);
		sent_len += in[i].len;
	}
	if (!reply_unique)
		put64(reply, 8, ih.unique);
	else
		put64(reply, 8, reply_unique);
	/* The device writes what fits in the chain: oh, then out[] in order. */
	size_t at = 0, n = reply_len;
	size_t take = n < sizeof oh ? n : sizeof oh;
	memcpy(&oh, reply, take);
	at = take;
	for (int i = 0; i < nout && at < n; i++) {
		size_t k = n - at < out[i].len ? n - at : out[i].len;
		memcpy((void *)out[i].p, reply + at, k);
		at += k;
	}
	if (fuse_msg_malformed(&ih, &oh, (uint32_t)at)) {
		malformed_seen++;
		return -EIO;
	}
	return fuse_msg_result(&oh, (uint32_t)at);
}

/* The in-header at the front of what was sent (fuse.h: fuse_in_header). */
static int header_is(uint32_t len, uint32_t opcode, uint64_t nodeid)
{
	return sent_len == len && u32(sent, 0) == len && u32(sent, 4) == opcode && u64(sent, 8) == next_unique - 1 &&
	       u64(sent, 16) == nodeid && u32(sent, 24) == 1000 && u32(sent, 28) == 100 && u32(sent, 32) == 7 &&
	       u32(sent, 36) == 0;
}

static void test_init(void)
{
	struct fuse_init_in in;
	struct fuse_init_out out = {0};
	fuse_msg_init_in(&in);
	uint8_t body[64] = {0};
	put32(body, 0, 7), put32(body, 4, 38), put32(body, 12, FUSE_MAX_PAGES | FUSE_BIG_WRITES);
	put32(body, 20, 1u << 20);              /* max_write */
	body[28] = 32;                          /* max_pages: 32 pages = 128 KiB */
	canned(0, body, 64, 0);
	struct fuse_seg i = {&in, sizeof in}, o = {&out, sizeof out};
	long r = call(FUSE_INIT, 0, &i, 1, &o, 1);
	CHECK(r == 64);
	CHECK(header_is(40 + 16, 26, 0));
	CHECK(u32(sent, 40) == 7 && u32(sent, 44) == 31 && u32(sent, 48) == 0);
	CHECK(u32(sent, 52) == ((1u << 3) | (1u << 5) | (1u << 22)));
	uint32_t max_io = 0;
	CHECK(fuse_msg_init_out(&out, r, &max_io) == 0 && max_io == 32 * 4096);
	out.flags = 0;                          /* max_pages ignored without the flag */
	CHECK(fuse_msg_init_out(&out, r, &max_io) == 0 && max_io == 1u << 20);
	out.max_write = 100;                    /* never below a page */
	CHECK(fuse_msg_init_out(&out, r, &max_io) == 0 && max_io == 4096);
	max_io = 5;
	CHECK(fuse_msg_init_out(&out, 23, &max_io) < 0 && max_io == 5);  /* before 7.23: too short */
	CHECK(fuse_msg_init_out(&out, -EIO, &max_io) < 0);
	out.major = 8;
	CHECK(fuse_msg_init_out(&out, r, &max_io) < 0);
	PASS();
}

static void test_lookup(void)
{
	struct fuse_entry_out e;
	memset(&e, 0xee, sizeof e);
	uint8_t body[128] = {0};
	put64(body, 0, 0x1234), put64(body, 8, 9);  /* nodeid, generation */
	put64(body, 40 + 8, 4242);                  /* attr.size */
	put32(body, 40 + 60, 0100644);              /* attr.mode */
	put32(body, 40 + 64, 3);                    /* attr.nlink */
	canned(0, body, 128, 0);
	const char name[] = "data.bin";
	struct fuse_seg i = {name, sizeof name}, o = {&e, sizeof e};
	CHECK(call(FUSE_LOOKUP, 1, &i, 1, &o, 1) == 128);
	CHECK(header_is(40 + 9, 1, 1));
	CHECK(memcmp(sent + 40, "data.bin", 9) == 0);  /* the name, NUL-ended */
	CHECK(e.nodeid == 0x1234 && e.generation == 9 && e.attr.size == 4242 && e.attr.mode == 0100644 &&
	      e.attr.nlink == 3);
	canned(-ENOENT, NULL, 0, 0);
	CHECK(call(FUSE_LOOKUP, 1, &i, 1, &o, 1) == -ENOENT);
	PASS();
}

static void test_open_release(void)
{
	struct fuse_open_in oi = {.flags = 02};
	struct fuse_open_out oo = {0};
	uint8_t body[16] = {0};
	put64(body, 0, 77), put32(body, 8, 1);
	canned(0, body, 16, 0);
	struct fuse_seg i = {&oi, sizeof oi}, o = {&oo, sizeof oo};
	CHECK(call(FUSE_OPEN, 0x1234, &i, 1, &o, 1) == 16);
	CHECK(header_is(48, 14, 0x1234) && u32(sent, 40) == 2 && u32(sent, 44) == 0);
	CHECK(oo.fh == 77 && oo.open_flags == 1);
	struct fuse_release_in ri = {.fh = 77, .flags = 02};
	struct fuse_seg r = {&ri, sizeof ri};
	canned(0, NULL, 0, 0);
	CHECK(call(FUSE_RELEASE, 0x1234, &r, 1, NULL, 0) == 0);
	CHECK(header_is(40 + 24, 18, 0x1234));
	CHECK(u64(sent, 40) == 77 && u32(sent, 48) == 2 && u32(sent, 52) == 0 && u64(sent, 56) == 0);
	PASS();
}

static void test_read_write(void)
{
	struct fuse_read_in ri = {.fh = 5, .offset = 1ull << 33, .size = 100};
	char buf[100];
	const char data[] = "0123456789abcdefghij";
	canned(0, data, 20, 0);                      /* a short read: 20 of 100 */
	struct fuse_seg i = {&ri, sizeof ri}, o = {buf, sizeof buf};
	CHECK(call(FUSE_READ, 9, &i, 1, &o, 1) == 20);
	CHECK(header_is(80, 15, 9));
	CHECK(u64(sent, 40) == 5 && u64(sent, 48) == 1ull << 33 && u32(sent, 56) == 100 && u32(sent, 60) == 0 &&
	      u64(sent, 64) == 0 && u32(sent, 72) == 0);
	CHECK(memcmp(buf, data, 20) == 0);

	struct fuse_write_in wi = {.fh = 5, .offset = 3, .size = 20};
	struct fuse_write_out wo = {0};
	uint8_t body[8] = {0};
	put32(body, 0, 20);
	canned(0, body, 8, 0);
	struct fuse_seg wseg[2] = {{&wi, sizeof wi}, {data, 20}}, wout = {&wo, sizeof wo};
	CHECK(call(FUSE_WRITE, 9, wseg, 2, &wout, 1) == 8);
	CHECK(header_is(40 + 40 + 20, 16, 9));
	CHECK(u64(sent, 40) == 5 && u64(sent, 48) == 3 && u32(sent, 56) == 20);
	CHECK(memcmp(sent + 80, data, 20) == 0);     /* the data right after fuse_write_in */
	CHECK(wo.size == 20);
	PASS();
}

static void test_getattr(void)
{
	struct fuse_getattr_in gi = {.getattr_flags = FUSE_GETATTR_FH, .fh = 5};
	struct fuse_attr_out ao = {0};
	uint8_t body[104] = {0};
	put64(body, 0, 1), put64(body, 16 + 0, 9), put64(body, 16 + 8, 1ull << 40);
	put64(body, 16 + 32, 1700000000), put32(body, 16 + 52, 999);  /* mtime, mtimensec */
	put32(body, 16 + 80, 4096);                                    /* blksize */
	canned(0, body, 104, 0);
	struct fuse_seg i = {&gi, sizeof gi}, o = {&ao, sizeof ao};
	CHECK(call(FUSE_GETATTR, 9, &i, 1, &o, 1) == 104);
	CHECK(header_is(56, 3, 9) && u32(sent, 40) == 1 && u32(sent, 44) == 0 && u64(sent, 48) == 5);
	CHECK(ao.attr_valid == 1 && ao.attr.ino == 9 && ao.attr.size == 1ull << 40 && ao.attr.mtime == 1700000000 &&
	      ao.attr.mtimensec == 999 && ao.attr.blksize == 4096);
	PASS();
}

static void test_errors(void)
{
	struct fuse_seg none = {NULL, 0};
	canned(-EACCES, NULL, 0, 0);
	CHECK(call(FUSE_GETATTR, 9, &none, 1, NULL, 0) == -EACCES);
	CHECK(header_is(40, 3, 9));                   /* an empty part adds nothing */
	canned(-5000, NULL, 0, 0);                    /* not an errno */
	CHECK(call(FUSE_GETATTR, 9, NULL, 0, NULL, 0) == -EIO);
	CHECK(malformed_seen == 0);
	PASS();
}

/* Each reply must be refused as malformed, not trusted. */
static void expect_malformed(void (*make)(void))
{
	struct fuse_attr_out ao;
	struct fuse_seg o = {&ao, sizeof ao};
	int before = malformed_seen;
	make();
	long r = call(FUSE_GETATTR, 9, NULL, 0, &o, 1);
	reply_unique = 0;
	CHECK(r == -EIO);
	CHECK(malformed_seen == before + 1);
	PASS();
}

/* 12 bytes, len 12, the low half of the unique: only the length tells */
static void short_reply(void) { canned(0, NULL, 0, 12), reply_len = 12; }
static void len_beyond(void) { uint8_t b[104] = {0}; canned(0, b, 104, 4096); }
static void len_short(void) { uint8_t b[104] = {0}; canned(0, b, 104, 16); }
static void positive_error(void) { canned(5, NULL, 0, 0); }
static void unknown_unique(void) { uint8_t b[104] = {0}; canned(0, b, 104, 0), reply_unique = 0xdead; }

#define RUN(name, call) (current = name, call)

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN("init", test_init());
	RUN("lookup", test_lookup());
	RUN("open_release", test_open_release());
	RUN("read_write", test_read_write());
	RUN("getattr", test_getattr());
	RUN("errors", test_errors());
	RUN("short_reply", expect_malformed(short_reply));
	RUN("len_beyond_buffer", expect_malformed(len_beyond));
	RUN("len_below_written", expect_malformed(len_short));
	RUN("positive_error", expect_malformed(positive_error));
	RUN("unknown_unique", expect_malformed(unknown_unique));
	printf("fuse_test: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
