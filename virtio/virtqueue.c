/* Split virtqueues, both roles. Each index (avail->idx, used->idx) has one
 * writer, which fills the ring entry first and then publishes the index
 * with a release store; the reader loads the index with acquire before
 * reading the entry (virtio 1.1 section 2.6.13 on the barriers). Indexes
 * run freely and wrap at 2^16; entries are taken modulo num. */
#include "virtqueue.h"
#include "../kernel/defs.h"

static size_t avail_bytes(uint16_t num) { return 4 + 2 * num + 2; }
static size_t used_bytes(uint16_t num) { return 4 + 8 * num + 2; }

int virtq_init(struct virtq *vq, uint16_t num, int pool)
{
	memset(vq, 0, sizeof *vq);
	size_t desc = 16 * num, avail = ALIGN_UP(avail_bytes(num), 4);
	size_t total = ALIGN_UP(desc + avail, 4) + used_bytes(num);
	vq->mem_pages = ALIGN_UP(total, PAGE_SIZE) / PAGE_SIZE;
	vq->mem = page_alloc_any(pool, vq->mem_pages);
	if (!vq->mem)
		return -1;
	memset(vq->mem, 0, vq->mem_pages * PAGE_SIZE);
	vq->num = num;
	vq->desc = vq->mem;
	vq->avail = (void *)((char *)vq->mem + desc);
	vq->used = (void *)((char *)vq->mem + ALIGN_UP(desc + avail, 4));
	for (uint16_t i = 0; i < num; i++)
		vq->desc[i].next = i + 1;
	vq->num_free = num;
	return 0;
}

/* A chain of nout device-readable then nin device-writable buffers. */
int virtq_add(struct virtq *vq, const uint64_t *addr, const uint32_t *len, int nout, int nin)
{
	int n = nout + nin;
	if (n == 0 || n > vq->num_free)
		return -1;
	uint16_t head = vq->free_head, d = head, last = head;
	for (int i = 0; i < n; i++) {
		struct virtq_desc *e = &vq->desc[d];
		e->addr = addr[i];
		e->len = len[i];
		e->flags = (i >= nout ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
		last = d;
		d = e->next;
	}
	vq->free_head = vq->desc[last].next;
	vq->num_free -= n;
	uint16_t idx = vq->avail->idx;
	vq->avail->ring[idx % vq->num] = head;
	__atomic_store_n(&vq->avail->idx, idx + 1, __ATOMIC_RELEASE);
	return head;
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
	return __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE) != vq->last_used;
}

bool virtq_get_used(struct virtq *vq, uint16_t *head, uint32_t *len)
{
	if (!virtq_used_pending(vq))
		return false;
	struct virtq_used_elem *e = &vq->used->ring[vq->last_used % vq->num];
	*head = e->id;
	*len = e->len;
	vq->last_used++;
	return true;
}

/* Returns a used chain to the free list. */
void virtq_recycle(struct virtq *vq, uint16_t head)
{
	uint16_t d = head, n = 1;
	while (vq->desc[d].flags & VIRTQ_DESC_F_NEXT) {
		d = vq->desc[d].next;
		n++;
	}
	vq->desc[d].next = vq->free_head;
	vq->free_head = head;
	vq->num_free += n;
}

bool virtq_get_avail(struct virtq *vq, uint16_t *head)
{
	if (__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) == vq->last_avail)
		return false;
	*head = vq->avail->ring[vq->last_avail % vq->num];
	vq->last_avail++;
	return true;
}

void virtq_put_used(struct virtq *vq, uint16_t head, uint32_t len)
{
	uint16_t idx = vq->used->idx;
	vq->used->ring[idx % vq->num] = (struct virtq_used_elem){head, len};
	__atomic_store_n(&vq->used->idx, idx + 1, __ATOMIC_RELEASE);
}
