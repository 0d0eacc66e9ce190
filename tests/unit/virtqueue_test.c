/* Host unit test of virtio/virtqueue.c (make unit-kernel): one ring driven
 * as both sides, the driver through virtq_add_data/virtq_get_buf and the
 * device through a second struct virtq on the same memory (as VirtIOBus
 * does), then rings the device corrupted: each must mark the queue
 * broken, with one console line, and hand nothing back.
 * Prints "ok NAME" or "FAIL NAME: why" per case; exits 1 on a failure. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "virtqueue.h"
#include "kshim.h"

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

struct ring {
	struct virtq drv, dev;
};

/* Every ring's memory, freed at the end (a failed case returns early). */
static void *rings[64];
static int nrings;

static void ring_init(struct ring *r, uint16_t num)
{
	if (virtq_init(&r->drv, num, 0) < 0) {
		fprintf(stderr, "virtq_init failed\n");
		exit(2);
	}
	if (nrings < 64)
		rings[nrings++] = r->drv.mem;
	r->drv.name = "test";
	memset(&r->dev, 0, sizeof r->dev);
	r->dev.num = num;
	r->dev.desc = r->drv.desc;
	r->dev.avail = r->drv.avail;
	r->dev.used = r->drv.used;
	r->dev.name = "test device";
	kshim_console_clear();
}


/* Device side: the chain at head, its readable and writable bytes; fills
 * the writable buffers with `fill` up to `write` bytes. */
static uint32_t dev_serve(struct ring *r, uint16_t head, uint8_t fill, uint32_t write, uint32_t *readable)
{
	uint32_t wrote = 0, rd = 0;
	for (uint16_t d = head;; d = r->dev.desc[d].next) {
		struct virtq_desc *e = &r->dev.desc[d];
		if (e->flags & VIRTQ_DESC_F_WRITE) {
			uint32_t n = write - wrote < e->len ? write - wrote : e->len;
			memset((void *)(uintptr_t)e->addr, fill, n);
			wrote += n;
		} else {
			rd += e->len;
		}
		if (!(e->flags & VIRTQ_DESC_F_NEXT))
			break;
	}
	if (readable)
		*readable = rd;
	return wrote;
}

/* A one-in one-out chain whose token is tok. */
static int add_pair(struct ring *r, void *out, uint32_t nout, void *in, uint32_t nin, void *tok)
{
	uint64_t addr[2] = {(uintptr_t)out, (uintptr_t)in};
	uint32_t len[2] = {nout, nin};
	return virtq_add_data(&r->drv, addr, len, 1, 1, tok);
}

static void test_roundtrip(void)
{
	struct ring r;
	ring_init(&r, 8);
	char out[16] = "request", in[32] = {0};
	int tok;
	int head = add_pair(&r, out, sizeof out, in, sizeof in, &tok);
	CHECK(head >= 0 && r.drv.num_free == 6);
	virtq_publish(&r.drv);
	uint16_t h;
	CHECK(virtq_get_avail(&r.dev, &h) && h == head);
	CHECK(!virtq_get_avail(&r.dev, &h));
	uint32_t readable;
	uint32_t wrote = dev_serve(&r, h, 'x', 20, &readable);
	CHECK(readable == sizeof out && wrote == 20);
	CHECK(strcmp((char *)(uintptr_t)r.dev.desc[h].addr, "request") == 0);
	virtq_put_used(&r.dev, h, wrote);
	CHECK(virtq_used_pending(&r.drv));
	void *data;
	uint32_t len;
	CHECK(virtq_get_buf(&r.drv, &data, &len) && data == &tok && len == 20);
	CHECK(in[0] == 'x' && in[19] == 'x' && in[20] == 0);
	CHECK(!virtq_get_buf(&r.drv, &data, &len) && !virtq_broken(&r.drv));
	CHECK(r.drv.num_free == 8 && kshim_console_lines() == 0);
	printf("ok %s\n", current);
	passed++;
}

/* Chains of 1..3 descriptors until the table is full, completed in a
 * shuffled order with random lengths; 20000 rounds take both 16-bit
 * indexes around several times. */
static void test_wrap_and_reorder(void)
{
	struct ring r;
	ring_init(&r, 8);
	static uint8_t bufs[8][64];
	int tokens[8];
	unsigned seed = 12345;
	unsigned long chains = 0;
	for (int round = 0; round < 20000; round++) {
		int heads[8], n = 0;
		uint32_t want[8];
		for (;;) {
			int k = 1 + (int)(rand_r(&seed) % 3), nin = k > 1 ? k - 1 : (int)(rand_r(&seed) % 2);
			uint64_t addr[3];
			uint32_t len[3];
			for (int i = 0; i < k; i++)
				addr[i] = (uintptr_t)bufs[(n + i) % 8], len[i] = 8;
			int h = virtq_add_data(&r.drv, addr, len, k - nin, nin, &tokens[n]);
			if (h < 0)
				break;
			CHECK(h < 8);
			heads[n] = h;
			want[n] = nin ? (uint32_t)(rand_r(&seed) % (8 * nin + 1)) : 0;
			n++;
		}
		CHECK(n > 0 && r.drv.num_free < 3);
		uint16_t seen[8];
		for (int i = 0; i < n; i++)
			CHECK(virtq_get_avail(&r.dev, &seen[i]) && seen[i] == heads[i]);
		for (int i = n - 1; i > 0; i--) { /* complete in a shuffled order */
			int j = (int)(rand_r(&seed) % (unsigned)(i + 1));
			int t = heads[i]; heads[i] = heads[j]; heads[j] = t;
			uint32_t w = want[i]; want[i] = want[j]; want[j] = w;
		}
		for (int i = 0; i < n; i++)
			virtq_put_used(&r.dev, heads[i], want[i]);
		for (int i = 0; i < n; i++) {
			void *data;
			uint32_t len;
			CHECK(virtq_get_buf(&r.drv, &data, &len) && len == want[i]);
			CHECK(data >= (void *)tokens && data < (void *)(tokens + n));
		}
		CHECK(r.drv.num_free == 8 && !virtq_broken(&r.drv));
		chains += n;
	}
	CHECK(chains > 65536 && r.drv.last_used == (uint16_t)chains);
	printf("ok %s\n", current);
	passed++;
}

static void test_full_table(void)
{
	struct ring r;
	ring_init(&r, 4);
	char b[4][8];
	uint64_t addr[5];
	uint32_t len[5];
	for (int i = 0; i < 5; i++)
		addr[i] = (uintptr_t)b[i % 4], len[i] = 8;
	CHECK(virtq_add(&r.drv, addr, len, 5, 0) == -1);  /* longer than the table */
	CHECK(virtq_add(&r.drv, addr, len, 0, 0) == -1);  /* empty */
	for (int i = 0; i < 4; i++)
		CHECK(virtq_add(&r.drv, addr, len, 1, 0) >= 0);
	CHECK(virtq_add(&r.drv, addr, len, 1, 0) == -1 && r.drv.num_free == 0);
	CHECK(!virtq_broken(&r.drv));
	printf("ok %s\n", current);
	passed++;
}

/* The corruption cases: an in-flight pair (head h), then `corrupt`
 * writes the used ring; the queue must break with the reason named. */
static void expect_broken(void (*corrupt)(struct ring *r, int head), const char *reason)
{
	struct ring r;
	ring_init(&r, 8);
	char out[8], in[16];
	int tok;
	int head = add_pair(&r, out, sizeof out, in, sizeof in, &tok);
	CHECK(head >= 0);
	uint16_t h;
	CHECK(virtq_get_avail(&r.dev, &h));
	corrupt(&r, head);
	void *data = NULL;
	uint32_t len = 0;
	int got = 0;
	for (int i = 0; i < 16 && virtq_get_buf(&r.drv, &data, &len); i++)
		got++;
	CHECK(virtq_broken(&r.drv));
	CHECK(strstr(kshim_console, reason) && strstr(kshim_console, "virtqueue test:"));
	CHECK(kshim_console_lines() == 1);
	/* broken for good: nothing more comes back, nothing can be added */
	virtq_put_used(&r.dev, head, 0);
	CHECK(!virtq_get_buf(&r.drv, &data, &len) && !virtq_used_pending(&r.drv));
	CHECK(add_pair(&r, out, sizeof out, in, sizeof in, &tok) == -1);
	CHECK(got <= 1 && kshim_console_lines() == 1);
	printf("ok %s\n", current);
	passed++;
}

static void used_put(struct ring *r, uint32_t id, uint32_t len)
{
	uint16_t idx = r->dev.used->idx;
	r->dev.used->ring[idx % r->dev.num] = (struct virtq_used_elem){id, len};
	r->dev.used->idx = idx + 1;
}

static void bad_id(struct ring *r, int head) { (void)head; used_put(r, r->dev.num, 4); }
static void huge_id(struct ring *r, int head) { (void)head; used_put(r, 0xfffffff0u, 4); }
static void not_head(struct ring *r, int head) { used_put(r, r->dev.desc[head].next, 4); }
/* with a second chain in flight, so the index alone does not give it away */
static void twice(struct ring *r, int head)
{
	static char out[8], in[8];
	add_pair(r, out, sizeof out, in, sizeof in, NULL);
	used_put(r, head, 4);
	used_put(r, head, 4);
}
static void once_more(struct ring *r, int head) { used_put(r, head, 4); used_put(r, head, 4); }
static void idle_id(struct ring *r, int head) { (void)head; used_put(r, 7, 0); }
static void too_long(struct ring *r, int head) { used_put(r, head, 17); }
static void huge_len(struct ring *r, int head) { used_put(r, head, 0xffffffffu); }
static void index_jump(struct ring *r, int head) { used_put(r, head, 4); r->dev.used->idx += 5; }
static void index_back(struct ring *r, int head) { (void)head; r->dev.used->idx -= 1; }

static void test_avail_head_out_of_range(void)
{
	struct ring r;
	ring_init(&r, 8);
	uint16_t idx = r.drv.avail->idx;
	r.drv.avail->ring[idx % 8] = 8; /* a driver that wrote garbage */
	r.drv.avail->idx = idx + 1;
	uint16_t h;
	CHECK(!virtq_get_avail(&r.dev, &h) && virtq_broken(&r.dev));
	CHECK(strstr(kshim_console, "available head out of range") && strstr(kshim_console, "test device"));
	CHECK(!virtq_get_avail(&r.dev, &h));
	printf("ok %s\n", current);
	passed++;
}

#define RUN(name, call) (current = name, call)

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN("roundtrip", test_roundtrip());
	RUN("wrap_and_reorder", test_wrap_and_reorder());
	RUN("full_table", test_full_table());
	RUN("bad_id", expect_broken(bad_id, "used id out of range"));
	RUN("huge_id", expect_broken(huge_id, "used id out of range"));
	RUN("not_a_head", expect_broken(not_head, "used id not in flight"));
	RUN("double_completion", expect_broken(twice, "used id not in flight"));
	RUN("completion_beyond_in_flight", expect_broken(once_more, "used index ahead"));
	RUN("idle_id", expect_broken(idle_id, "used id not in flight"));
	RUN("bad_length", expect_broken(too_long, "used length beyond the buffer"));
	RUN("huge_length", expect_broken(huge_len, "used length beyond the buffer"));
	RUN("index_jump", expect_broken(index_jump, "used index ahead"));
	RUN("index_back", expect_broken(index_back, "used index ahead"));
	RUN("avail_head_out_of_range", test_avail_head_out_of_range());
	for (int i = 0; i < nrings; i++)
		free(rings[i]);
	printf("virtqueue_test: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
