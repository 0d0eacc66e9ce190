/* VirtIOBus. The ring from core s to core d is a split virtqueue in which
 * d is the driver: it posts empty buffers in the available ring; s is the
 * device: it takes one, fills it and returns it in the used ring. Each
 * index has one writer, so no locks are needed after a ring exists. The
 * receiver is woken by an IPI only when it is halted (sched_kick); while
 * it polls, nothing is sent. The buffers of a ring come from the
 * receiver's memory pool. */
#include "bus.h"
#include "virtqueue.h"
#include "../kernel/defs.h"
#include "../kernel/cpu.h"
#include "../kernel/sched.h"
#include "../kernel/spinlock.h"
#include "../kernel/proc.h"

struct bus_ring {
	struct virtq vq;
	uint8_t *bufs;
	uint16_t taken;   /* sender: the descriptor handed out by bus_get_buf */
	volatile int sender_waits; /* the sender found the ring full and wants a kick */
};

static struct bus_ring *rings[MAX_CPUS][MAX_CPUS]; /* [sender][receiver] */
static struct spinlock create_lock;

static int self(void) { return this_cpu()->rank; } /* a rank's threads run on its cores */

static struct bus_ring *ring_create(int src, int dst)
{
	struct bus_ring *r = kzalloc(sizeof *r);
	if (!r || virtq_init(&r->vq, BUS_BUFS, dst) < 0)
		panic("out of memory for the VirtIOBus ring from rank %d to rank %d (give toro-run more --mem)", src, dst);
	r->bufs = page_alloc_any(dst, BUS_BUFS * BUS_BUF_SIZE / PAGE_SIZE);
	if (!r->bufs)
		panic("out of memory for the VirtIOBus buffers from rank %d to rank %d (give toro-run more --mem)", src, dst);
	for (int i = 0; i < BUS_BUFS; i++) {
		uint64_t addr = (uint64_t)(r->bufs + i * BUS_BUF_SIZE);
		uint32_t len = BUS_BUF_SIZE;
		virtq_add(&r->vq, &addr, &len, 0, 1);
	}
	return r;
}

static struct bus_ring *ring(int src, int dst, bool create)
{
	struct bus_ring *r = __atomic_load_n(&rings[src][dst], __ATOMIC_ACQUIRE);
	if (r || !create)
		return r;
	spin_lock(&create_lock);
	r = rings[src][dst];
	if (!r) {
		r = ring_create(src, dst);
		__atomic_store_n(&rings[src][dst], r, __ATOMIC_RELEASE);
	}
	spin_unlock(&create_lock);
	return r;
}

/* A free buffer of the ring to dst, or NULL while dst holds them all.
 * The caller posts it before asking for the next one. */
void *bus_get_buf(int dst)
{
	if (dst < 0 || dst >= nprocs)
		return NULL;
	struct bus_ring *r = ring(self(), dst, true);
	uint16_t head;
	if (!virtq_get_avail(&r->vq, &head)) {
		/* Ask for a kick, then look again: the receiver publishes a
		 * buffer before it reads the flag (bus_release), so one of the
		 * two sees the other. */
		r->sender_waits = 1;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (!virtq_get_avail(&r->vq, &head))
			return NULL;
		r->sender_waits = 0;
	}
	r->taken = head;
	return (void *)r->vq.desc[head].addr;
}

void bus_post(int dst, void *buf, uint32_t len)
{
	(void)buf;
	struct bus_ring *r = ring(self(), dst, false);
	virtq_put_used(&r->vq, r->taken, len);
	rank_kick(dst);
}

/* The oldest buffer src posted to this core and not yet released. */
void *bus_peek(int src, uint32_t *len)
{
	if (src < 0 || src >= nprocs)
		return NULL;
	struct bus_ring *r = ring(src, self(), false);
	if (!r || !virtq_used_pending(&r->vq))
		return NULL;
	struct virtq_used_elem *e = &r->vq.used->ring[r->vq.last_used % r->vq.num];
	*len = e->len;
	return (void *)r->vq.desc[e->id].addr;
}

/* Gives the peeked buffer back: it goes into the available ring again. */
void bus_release(int src, void *buf)
{
	struct bus_ring *r = ring(src, self(), false);
	uint16_t head;
	uint32_t len;
	if (!virtq_get_used(&r->vq, &head, &len))
		return;
	virtq_recycle(&r->vq, head);
	uint64_t addr = (uint64_t)buf;
	uint32_t size = BUS_BUF_SIZE;
	virtq_add(&r->vq, &addr, &size, 0, 1);
	/* Only a sender that found the ring full waits for this: an IPI
	 * costs microseconds under TCG, too much for every message. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (r->sender_waits) {
		r->sender_waits = 0;
		rank_kick(src);
	}
}

bool bus_pending(void)
{
	int me = self();
	for (int src = 0; src < nprocs; src++) {
		struct bus_ring *r = __atomic_load_n(&rings[src][me], __ATOMIC_ACQUIRE);
		if (r && virtq_used_pending(&r->vq))
			return true;
	}
	return false;
}
