/* Split virtqueues, both roles. Each index (avail->idx, used->idx) has one
 * writer, which fills the ring entry first and then publishes the index
 * with a release store; the reader loads the index with acquire before
 * reading the entry (virtio 1.1 section 2.6.13 on the barriers). Indexes
 * run freely and wrap at 2^16; entries are taken modulo num. What the
 * other side wrote is checked before use (virtqueue.h). */
#include "virtqueue.h"
#include "../kernel/defs.h"

static size_t avail_bytes(uint16_t num) { return 4 + 2 * num + 2; }
static size_t used_bytes(uint16_t num) { return 4 + 8 * num + 2; }

/* The rings, then the private state, in one run of pages. */
int virtq_init(struct virtq *vq, uint16_t num, int pool)
{
	memset(vq, 0, sizeof *vq);
	size_t desc = 16 * num, avail = ALIGN_UP(avail_bytes(num), 4);
	size_t used = ALIGN_UP(desc + avail, 4), priv = ALIGN_UP(used + used_bytes(num), 16);
	size_t total = priv + num * (sizeof *vq->state + sizeof *vq->next);
	size_t pages = ALIGN_UP(total, PAGE_SIZE) / PAGE_SIZE;
	char *mem = page_alloc_any(pool, pages);
	if (!mem)
		return -1;
	memset(mem, 0, pages * PAGE_SIZE);
	vq->mem = mem;
	vq->num = num;
	vq->desc = (void *)mem;
	vq->avail = (void *)(mem + desc);
	vq->used = (void *)(mem + used);
	vq->state = (void *)(mem + priv);
	vq->next = (void *)(vq->state + num);
	for (uint16_t i = 0; i < num; i++)
		vq->next[i] = i + 1;
	vq->num_free = num;
	return 0;
}

static bool interrupts_on(void)
{
	uint64_t fl;
	__asm__ volatile("pushfq; pop %0" : "=r"(fl));
	return fl & 0x200;
}

bool virtq_broken(struct virtq *vq)
{
	if (vq->broken && !vq->reported && interrupts_on()) {
		vq->reported = true;
		kprintf("toro: virtqueue %s: %s (%u); the queue is broken\n", vq->name ? vq->name : "?", vq->why, vq->why_value);
	}
	return vq->broken;
}

static bool mark_broken(struct virtq *vq, const char *why, uint32_t value)
{
	if (!vq->broken) {
		vq->why = why;
		vq->why_value = value;
		vq->broken = true;
	}
	virtq_broken(vq);
	return false;
}

/* A chain of nout device-readable then nin device-writable buffers. */
int virtq_add_data(struct virtq *vq, const uint64_t *addr, const uint32_t *len, int nout, int nin, void *data)
{
	int n = nout + nin;
	if (virtq_broken(vq) || n == 0 || n > vq->num_free)
		return -1;
	uint16_t head = vq->free_head, d = head, last = head;
	uint32_t writable = 0;
	for (int i = 0; i < n; i++) {
		struct virtq_desc *e = &vq->desc[d];
		e->addr = addr[i];
		e->len = len[i];
		e->flags = (i >= nout ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		e->next = vq->next[d];
		if (i >= nout)
			writable += len[i];
		last = d;
		d = vq->next[d];
	}
	vq->free_head = vq->next[last];
	vq->num_free -= n;
	vq->state[head] = (struct virtq_state){data, writable, n};
	uint16_t idx = vq->avail->idx;
	vq->avail->ring[idx % vq->num] = head;
	__atomic_store_n(&vq->avail->idx, idx + 1, __ATOMIC_RELEASE);
	return head;
}

int virtq_add(struct virtq *vq, const uint64_t *addr, const uint32_t *len, int nout, int nin)
{
	return virtq_add_data(vq, addr, len, nout, nin, NULL);
}

/* Descriptors are published one by one in virtq_add; this is the fence a
 * caller wants before notifying the device. */
void virtq_publish(struct virtq *vq)
{
	(void)vq;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

bool virtq_used_pending(const struct virtq *vq)
{
	return !vq->broken && __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != vq->last_used;
}

bool virtq_get_used(struct virtq *vq, uint16_t *head, uint32_t *len)
{
	if (!virtq_used_pending(vq))
		return false;
	uint16_t ahead = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) - vq->last_used;
	if (ahead > vq->num - vq->num_free)
		return mark_broken(vq, "used index ahead of the chains in flight by", ahead);
	struct virtq_used_elem e = vq->used->ring[vq->last_used % vq->num];
	if (e.id >= vq->num)
		return mark_broken(vq, "used id out of range", e.id);
	if (vq->state[e.id].ndesc == 0)
		return mark_broken(vq, "used id not in flight", e.id);
	if (e.len > vq->state[e.id].writable)
		return mark_broken(vq, "used length beyond the buffer", e.len);
	*head = e.id;
	*len = e.len;
	vq->last_used++;
	return true;
}

/* Returns a used chain to the free list, by the private links. */
void virtq_recycle(struct virtq *vq, uint16_t head)
{
	uint16_t n = vq->state[head].ndesc, last = head;
	for (uint16_t i = 1; i < n; i++)
		last = vq->next[last];
	vq->next[last] = vq->free_head;
	vq->free_head = head;
	vq->num_free += n;
	vq->state[head] = (struct virtq_state){0};
}

bool virtq_get_buf(struct virtq *vq, void **data, uint32_t *len)
{
	uint16_t head;
	if (!virtq_get_used(vq, &head, len))
		return false;
	*data = vq->state[head].data;
	virtq_recycle(vq, head);
	return true;
}

bool virtq_get_avail(struct virtq *vq, uint16_t *head)
{
	if (vq->broken || __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) == vq->last_avail)
		return false;
	uint16_t h = vq->avail->ring[vq->last_avail % vq->num];
	if (h >= vq->num)
		return mark_broken(vq, "available head out of range", h);
	*head = h;
	vq->last_avail++;
	return true;
}

void virtq_put_used(struct virtq *vq, uint16_t head, uint32_t len)
{
	uint16_t idx = vq->used->idx;
	vq->used->ring[idx % vq->num] = (struct virtq_used_elem){head, len};
	__atomic_store_n(&vq->used->idx, idx + 1, __ATOMIC_RELEASE);
}
