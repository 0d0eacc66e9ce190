/* libFuzzer target (make fuzz): the bytes are what a device writes into a
 * ring virtio/virtqueue.c drives as the driver -- used entries, the used
 * index, the descriptor table, the available ring seen by a device role --
 * interleaved with the driver's own adds and completions. Whatever the
 * bytes, nothing may crash (ASan, UBSan) and what comes back must be a
 * chain in flight with no more bytes than it can hold; once broken, the
 * queue hands nothing back and takes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "virtqueue.h"
#include "kshim.h"

struct track {
	int live;
	uint32_t writable;
};

struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct input *in, int bytes)
{
	uint32_t v = 0;
	for (int i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint32_t)*in->p << (8 * i);
	return v;
}

static void add(struct virtq *vq, struct track *t, struct input *in)
{
	static uint8_t buf[64];
	uint32_t b = take(in, 1);
	int k = 1 + (int)(b % 4), nin = (int)(b / 4 % (unsigned)(k + 1));
	uint64_t addr[4];
	uint32_t len[4], writable = 0;
	for (int i = 0; i < k; i++) {
		addr[i] = (uintptr_t)buf;
		len[i] = take(in, 1) % 65;
		if (i >= k - nin)
			writable += len[i];
	}
	bool was_broken = vq->broken;
	uint16_t next = vq->free_head < vq->num ? vq->free_head : 0; /* the head it will take */
	int h = virtq_add_data(vq, addr, len, k - nin, nin, &t[next]);
	if (h < 0)
		return;
	if (was_broken || h != next || t[h].live)
		abort();
	t[h] = (struct track){1, writable};
}

static void get(struct virtq *vq, struct track *t)
{
	void *data;
	uint32_t len;
	bool was_broken = vq->broken;
	if (!virtq_get_buf(vq, &data, &len))
		return;
	struct track *x = data;
	if (was_broken || x < t || x >= t + vq->num || !x->live || len > x->writable)
		abort();
	x->live = 0;
}

static void device_writes(struct virtq *vq, struct input *in, uint32_t what)
{
	uint16_t idx = vq->used->idx;
	switch (what) {
	case 0: /* a used entry, published */
		vq->used->ring[idx % vq->num] = (struct virtq_used_elem){take(in, 4), take(in, 4)};
		vq->used->idx = idx + 1;
		break;
	case 1: /* the used index alone */
		vq->used->idx = (uint16_t)take(in, 2);
		break;
	case 2: { /* any byte of the descriptor table */
		uint32_t off = take(in, 2) % (16u * vq->num);
		((uint8_t *)vq->desc)[off] = (uint8_t)take(in, 1);
		break;
	}
	default: /* a used entry without its index */
		vq->used->ring[take(in, 1) % vq->num] = (struct virtq_used_elem){take(in, 4), take(in, 4)};
	}
}

/* The device role reads an available ring the fuzzer wrote. */
static void device_role(struct virtq *vq, struct input *in)
{
	struct virtq dev = {.num = vq->num, .desc = vq->desc, .avail = vq->avail, .used = vq->used, .name = "dev"};
	dev.avail->ring[take(in, 1) % vq->num] = (uint16_t)take(in, 2);
	dev.last_avail = (uint16_t)take(in, 2);
	uint16_t head;
	for (int i = 0; i < 4 && virtq_get_avail(&dev, &head); i++)
		if (head >= vq->num)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	struct virtq vq;
	uint16_t num = (uint16_t)(1u << (take(&in, 1) % 5)); /* 1 to 16 */
	if (virtq_init(&vq, num, 0) < 0)
		abort();
	vq.name = "fuzz";
	struct track t[16] = {{0}};
	while (in.n) {
		uint32_t op = take(&in, 1);
		switch (op % 8) {
		case 0: case 1: add(&vq, t, &in); break;
		case 2: case 3: get(&vq, t); break;
		case 4: case 5: device_writes(&vq, &in, op / 8 % 4); break;
		case 6: device_role(&vq, &in); break;
		default: virtq_publish(&vq); break;
		}
		if (vq.num_free > vq.num)
			abort();
	}
	if (vq.broken) { /* broken for good */
		void *d;
		uint32_t len;
		uint64_t a = 0;
		uint32_t l = 1;
		if (virtq_get_buf(&vq, &d, &len) || virtq_add(&vq, &a, &l, 1, 0) >= 0 || virtq_used_pending(&vq))
			abort();
	}
	kshim_console_clear();
	free(vq.mem);
	return 0;
}
