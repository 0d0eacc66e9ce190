/* VirtIOBus. The ring from rank s to rank d is a packed virtqueue (virtio
 * 1.2 section 2.8) in which s is the driver and d the device: s writes a
 * message into the ring's buffer slots and makes a descriptor chain over
 * them available; d reads it in place and marks the chain used. The
 * queue runs with VIRTIO_F_IN_ORDER (2.8.9): buffers are used in the order
 * they were made available, so a chain starting at ring position p always
 * covers slots p, p+1, ... and neither side ever walks a descriptor table
 * to find a buffer. A message of up to BUS_SLOT bytes is one descriptor
 * and one slot: its header and payload share the slot's cache lines.
 *
 * Slots are contiguous after the last one for bus_max_len() more bytes,
 * so a chain that wraps around the ring still addresses one contiguous
 * buffer (its descriptors after the wrap point past the end).
 *
 * Finding work: instead of scanning every incoming ring, a receiver reads
 * one word, pending[d], in which each sender sets its bit after making a
 * message available. The receiver takes the word (bus_take_pending) and
 * drains the rings it names. Notifications (2.8.10) are replaced by that
 * word and an IPI to a halted receiver only.
 *
 * Each field has one writer: the driver writes `flags` of descriptors it
 * makes available, the device overwrites the first descriptor of a chain
 * when it marks the chain used; the sides' positions are private. */
#include "bus.h"
#include "../kernel/defs.h"
#include "../kernel/cpu.h"
#include "../kernel/sched.h"
#include "../kernel/spinlock.h"
#include "../kernel/proc.h"

/* 2.8.1: descriptor flags of the packed layout. */
#define DESC_F_NEXT  1
#define DESC_F_AVAIL (1 << 7)
#define DESC_F_USED  (1 << 15)

struct pdesc {                 /* 2.8.13 */
	uint64_t addr;
	uint32_t len;
	uint16_t id;
	volatile uint16_t flags;
};

struct bus_ring {
	struct pdesc *desc;
	uint8_t *slots;
	uint16_t num;

	/* The driver's (sender's) state, one cache line of its own. */
	struct {
		uint16_t next_avail, next_used, free;
		bool avail_wrap, used_wrap;  /* 2.8.1 wrap counters, start at 1 */
		uint8_t *chain_len;          /* descriptors of the chain at each position */
	} drv __attribute__((aligned(64)));

	/* The device's (receiver's) state. */
	struct {
		uint16_t next, peeked;       /* position; descriptors of the peeked chain */
		bool wrap;
	} dev __attribute__((aligned(64)));

	volatile int sender_waits __attribute__((aligned(64)));
};

static struct bus_ring *rings[MAX_CPUS][MAX_CPUS]; /* [sender][receiver] */
static struct spinlock create_lock;

static struct {
	uint64_t bits;                         /* senders with new messages */
} __attribute__((aligned(64))) pending[MAX_CPUS];

_Static_assert(MAX_CPUS <= 64, "pending[] has one bit per sender in a 64-bit word");

static int self(void) { return this_cpu()->rank; } /* a rank's threads run on its cores */

/* Slot bytes per ordered pair of ranks: 1 MiB shared by a receiver's
 * senders, at least 16 KiB and at most 64 KiB (README: VirtIOBus). */
static uint32_t ring_bytes(void)
{
	uint32_t b = (1u << 20) / (nprocs ? nprocs : 1);
	if (b < 16 * 1024)
		b = 16 * 1024;
	if (b > 64 * 1024)
		b = 64 * 1024;
	return b & ~(uint32_t)(BUS_SLOT - 1);
}

uint32_t bus_max_len(void) { return ring_bytes() / 4; }

static struct bus_ring *ring_create(int src, int dst)
{
	uint32_t bytes = ring_bytes(), num = bytes / BUS_SLOT;
	size_t desc_pages = (num * sizeof(struct pdesc) + PAGE_SIZE - 1) / PAGE_SIZE;
	size_t slot_pages = (bytes + bus_max_len()) / PAGE_SIZE;
	struct bus_ring *r = kzalloc(sizeof *r);
	uint8_t *chain = kzalloc(num);
	void *desc = page_alloc_any(dst, desc_pages), *slots = page_alloc_any(dst, slot_pages);
	if (!r || !chain || !desc || !slots)
		panic("out of memory for the VirtIOBus ring from rank %d to rank %d (give toro-run more --mem)", src, dst);
	memset(desc, 0, desc_pages * PAGE_SIZE);
	r->desc = desc;
	r->slots = slots;
	r->num = num;
	r->drv.free = num;
	r->drv.avail_wrap = r->drv.used_wrap = true;
	r->drv.chain_len = chain;
	r->dev.wrap = true;
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

/* 2.8.1: a descriptor is used when its AVAIL and USED bits both equal the
 * wrap counter of the side reading it; available when AVAIL equals it and
 * USED does not. */
static bool desc_used(uint16_t flags, bool wrap)
{
	return !!(flags & DESC_F_AVAIL) == wrap && !!(flags & DESC_F_USED) == wrap;
}

static bool desc_avail(uint16_t flags, bool wrap)
{
	return !!(flags & DESC_F_AVAIL) == wrap && !!(flags & DESC_F_USED) != wrap;
}

static void advance(uint16_t *pos, bool *wrap, uint16_t n, uint16_t num)
{
	*pos += n;
	if (*pos >= num) {
		*pos -= num;
		*wrap = !*wrap;
	}
}

/* The driver takes back the chains the device has used. */
static void reclaim(struct bus_ring *r)
{
	while (r->drv.free < r->num) {
		uint16_t p = r->drv.next_used;
		if (!desc_used(__atomic_load_n(&r->desc[p].flags, __ATOMIC_ACQUIRE), r->drv.used_wrap))
			return;
		uint16_t n = r->drv.chain_len[p];
		r->drv.free += n;
		advance(&r->drv.next_used, &r->drv.used_wrap, n, r->num);
	}
}

static uint16_t slots_for(uint32_t len) { return len ? (len + BUS_SLOT - 1) / BUS_SLOT : 1; }

/* Room for a message of len bytes in the ring to dst, or NULL while the
 * ring is too full (or len is over bus_max_len). The caller posts it
 * before asking for the next one. */
void *bus_get_buf(int dst, uint32_t len)
{
	if (dst < 0 || dst >= nprocs || len > bus_max_len())
		return NULL;
	struct bus_ring *r = ring(self(), dst, true);
	uint16_t need = slots_for(len);
	if (r->drv.free < need)
		reclaim(r);
	if (r->drv.free < need) {
		/* Ask for a kick, then look again: the receiver marks a chain
		 * used before it reads the flag (bus_release), so one of the
		 * two sees the other. */
		r->sender_waits = 1;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		reclaim(r);
		if (r->drv.free < need)
			return NULL;
		r->sender_waits = 0;
	}
	return r->slots + (size_t)r->drv.next_avail * BUS_SLOT;
}

/* Makes the message available: the chain's later descriptors first, the
 * head's flags last (2.8.6), then the receiver's pending bit, and an IPI
 * only if that bit was new and the receiver sleeps. */
void bus_post(int dst, void *buf, uint32_t len)
{
	int me = self();
	struct bus_ring *r = ring(me, dst, false);
	uint16_t n = slots_for(len), head = r->drv.next_avail, id = head;
	uint64_t addr = (uint64_t)buf;
	bool wrap = r->drv.avail_wrap;
	uint16_t head_flags = 0;
	for (uint16_t i = 0, p = head; i < n; i++) {
		uint32_t part = len > BUS_SLOT ? BUS_SLOT : len;
		uint16_t f = (wrap ? DESC_F_AVAIL : DESC_F_USED) | (i + 1 < n ? DESC_F_NEXT : 0);
		r->desc[p].addr = addr;
		r->desc[p].len = part;
		r->desc[p].id = id;
		if (i == 0)
			head_flags = f;
		else
			r->desc[p].flags = f;
		addr += BUS_SLOT;
		len -= part;
		if (++p == r->num) {
			p = 0;
			wrap = !wrap;
		}
	}
	r->drv.chain_len[head] = n;
	r->drv.free -= n;
	advance(&r->drv.next_avail, &r->drv.avail_wrap, n, r->num);
	__atomic_store_n(&r->desc[head].flags, head_flags, __ATOMIC_RELEASE);
	/* The fence keeps the read of the pending word after the publication
	 * (x86 lets a load pass an earlier store): else the receiver could
	 * take the word, find the ring empty and halt while we saw our bit
	 * still set and left. The locked OR is a full fence as well, for the
	 * read of `halted` (kernel/sched.c halt_until_event). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint64_t bit = 1ull << me, old = __atomic_load_n(&pending[dst].bits, __ATOMIC_RELAXED);
	if (old & bit)
		return;
	old = __atomic_fetch_or(&pending[dst].bits, bit, __ATOMIC_SEQ_CST);
	if (old)
		return;  /* whoever set the first bit woke the receiver */
	if (threads_per_rank == 1) {
		struct cpu *c = cpus[dst];
		if (c->halted && c != this_cpu())
			lapic_send_ipi(c->apic_id, VEC_WAKE);
	} else {
		rank_kick(dst);
	}
}

/* The oldest message src made available to this rank and not yet
 * released, read in place. */
void *bus_peek(int src, uint32_t *len)
{
	if (src < 0 || src >= nprocs)
		return NULL;
	struct bus_ring *r = ring(src, self(), false);
	if (!r)
		return NULL;
	uint16_t p = r->dev.next;
	struct pdesc *d = &r->desc[p];
	uint16_t flags = __atomic_load_n(&d->flags, __ATOMIC_ACQUIRE);
	if (!desc_avail(flags, r->dev.wrap))
		return NULL;
	uint32_t total = d->len;
	uint16_t n = 1;
	while (flags & DESC_F_NEXT) {
		if (++p == r->num)
			p = 0;
		flags = r->desc[p].flags;
		total += r->desc[p].len;
		n++;
	}
	r->dev.peeked = n;
	*len = total;
	return (void *)r->desc[r->dev.next].addr;
}

/* Marks the peeked message used (2.8.7: one used descriptor in the
 * chain's first position) and moves on to the next. */
void bus_release(int src, void *buf)
{
	(void)buf;
	struct bus_ring *r = ring(src, self(), false);
	if (!r || !r->dev.peeked)
		return;
	struct pdesc *d = &r->desc[r->dev.next];
	uint16_t used = r->dev.wrap ? DESC_F_AVAIL | DESC_F_USED : 0;
	d->len = 0;
	__atomic_store_n(&d->flags, used, __ATOMIC_RELEASE);
	advance(&r->dev.next, &r->dev.wrap, r->dev.peeked, r->num);
	r->dev.peeked = 0;
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
	return __atomic_load_n(&pending[self()].bits, __ATOMIC_ACQUIRE) != 0;
}

/* The senders that made messages available since the last call, one bit
 * each; the word is cleared. A message may be readable an instant before
 * its sender's bit appears (the bit follows the publication). */
uint64_t bus_take_pending(void)
{
	uint64_t *w = &pending[self()].bits;
	if (!__atomic_load_n(w, __ATOMIC_RELAXED))
		return 0;
	return __atomic_exchange_n(w, 0, __ATOMIC_ACQ_REL);
}
