/* The virtio socket device (virtio 1.2 section 5.10): its queues, the
 * packet buffers and the pump; the connections are vsock.c's. Queue 0
 * receives (the driver posts empty buffers), queue 1 transmits, queue 2
 * carries events (only TRANSPORT_RESET exists).
 *
 * Every packet is one descriptor: the 44-byte header then the payload.
 * Transmitted packets are copied into a slot of their own (slot i belongs
 * to descriptor i), so a write returns as soon as the packet is queued.
 *
 * Received packets are taken from the used ring by whichever thread waits
 * on a socket (the "pump"), never by the interrupt handler, which only
 * wakes the waiting cores: taking a packet may allocate (an incoming
 * connection) and kmalloc is not for interrupt handlers. */
#include "vsock_impl.h"
#include "mmio.h"
#include "../kernel/defs.h"
#include "../kernel/cpu.h"
#include "../kernel/sched.h"

#define QSIZE 64
#define RX_BUF_SIZE (16 * 1024)          /* header included */
#define EV_BUFS 4
#define CTL_MAX 256                      /* control packets waiting for a tx slot */

struct spinlock vsock_lock;
bool vsock_up;
uint64_t vsock_cid;

static struct {
	struct vmmio dev;
	struct virtq rxq, txq, evq;
	uint8_t *txbuf;              /* txq.num slots of TX_SLOT_SIZE */
	uint32_t events[EV_BUFS];
	volatile uint64_t waiters;   /* cores that have waited on a socket */
	struct vsock_hdr ctl[CTL_MAX];
	int nctl;
} vs;

/* --- transmit --- */

static void reclaim_tx(void)
{
	void *data;
	uint32_t len;
	while (virtq_get_buf(&vs.txq, &data, &len))
		;
}

static void notify(int queue, struct virtq *vq)
{
	virtq_publish(vq);
	if (!(__atomic_load_n(&vq->used->flags, __ATOMIC_ACQUIRE) & VIRTQ_USED_F_NO_NOTIFY))
		vmmio_notify(&vs.dev, queue);
}

/* Queues one packet; false when every slot is in use. */
bool vsock_tx_packet(const struct vsock_hdr *h, const struct iovec64 *iov, int niov)
{
	reclaim_tx();
	if (vs.txq.num_free < 1)
		return false;
	uint8_t *slot = vs.txbuf + (size_t)vs.txq.free_head * TX_SLOT_SIZE;
	memcpy(slot, h, sizeof *h);
	size_t off = sizeof *h;
	for (int i = 0; i < niov; i++) {
		memcpy(slot + off, iov[i].base, iov[i].len);
		off += iov[i].len;
	}
	uint64_t addr = (uint64_t)slot;
	uint32_t len = off;
	virtq_add(&vs.txq, &addr, &len, 1, 0);
	notify(1, &vs.txq);
	return true;
}

/* A packet without payload. It waits in vs.ctl while the ring is full
 * (the pump cannot wait for room); if even that is full, it is dropped
 * and the peer's timeouts take over. */
void vsock_tx_control(const struct vsock_hdr *h)
{
	if (vs.nctl == 0 && vsock_tx_packet(h, NULL, 0))
		return;
	if (vs.nctl < CTL_MAX)
		vs.ctl[vs.nctl++] = *h;
	else
		kdebug("vsock: control packet (op %u) dropped: transmit ring full\n", h->op);
}

static void flush_control(void)
{
	int sent = 0;
	while (sent < vs.nctl && vsock_tx_packet(&vs.ctl[sent], NULL, 0))
		sent++;
	memmove(vs.ctl, vs.ctl + sent, (vs.nctl - sent) * sizeof vs.ctl[0]);
	vs.nctl -= sent;
}

bool vsock_tx_room(void)
{
	return vs.txq.num_free > 0;
}

/* --- receive and events --- */

static uint64_t read_cid(void)
{
	uint32_t at = offsetof(struct vsock_config, guest_cid);
	return vmmio_config32(&vs.dev, at) | (uint64_t)vmmio_config32(&vs.dev, at + 4) << 32;
}

static void post_rx(uint8_t *buf)
{
	uint64_t addr = (uint64_t)buf;
	uint32_t len = RX_BUF_SIZE;
	virtq_add_data(&vs.rxq, &addr, &len, 0, 1, buf);
}

static void post_event(uint32_t *ev)
{
	uint64_t addr = (uint64_t)ev;
	uint32_t len = sizeof *ev;
	virtq_add_data(&vs.evq, &addr, &len, 0, 1, ev);
}

/* TRANSPORT_RESET (5.10.6.7): the peer forgot every connection; listeners
 * stay, and the guest CID may have changed. */
static void transport_reset(void)
{
	vsock_reset_conns();
	vsock_cid = read_cid();
	kdebug("vsock: transport reset; guest CID %lu\n", vsock_cid);
}

static bool take_events(void)
{
	void *ev;
	uint32_t len;
	bool any = false;
	while (virtq_get_buf(&vs.evq, &ev, &len)) {
		if (len >= 4 && *(uint32_t *)ev == VSOCK_EVENT_TRANSPORT_RESET)
			transport_reset();
		post_event(ev);
		any = true;
	}
	if (any)
		notify(2, &vs.evq);
	return any;
}

static bool take_packets(void)
{
	void *data;
	uint32_t len;
	bool any = false;
	while (virtq_get_buf(&vs.rxq, &data, &len)) { /* len <= RX_BUF_SIZE: the ring checked it */
		uint8_t *buf = data;
		struct vsock_hdr h;
		memcpy(&h, buf, sizeof h);
		if (len >= sizeof h && h.len <= len - sizeof h)
			vsock_receive(&h, buf + sizeof h);
		else
			kdebug("vsock: malformed packet of %u bytes dropped\n", len);
		post_rx(buf);
		any = true;
	}
	if (any)
		notify(0, &vs.rxq);
	return any;
}

static void kick_waiters(void)
{
	uint64_t w = __atomic_load_n(&vs.waiters, __ATOMIC_ACQUIRE);
	struct cpu *me = this_cpu();
	for (int i = 0; i < ncpus; i++)
		if ((w >> i & 1) && cpus[i] != me)
			sched_kick(cpus[i]);
}

/* A queue the device corrupted (virtqueue.c said which): the device is
 * reset, every connection fails with ECONNRESET and new sockets with
 * EAFNOSUPPORT. Called from thread context with the lock held. */
static bool device_broken(void)
{
	if (!virtq_broken(&vs.rxq) & !virtq_broken(&vs.txq) & !virtq_broken(&vs.evq))
		return false;
	kprintf("toro: virtio-vsock: the device is reset; connections fail with ECONNRESET\n");
	vmmio_reset(&vs.dev);
	vsock_up = false;
	vsock_fail_all();
	kick_waiters();
	return true;
}

/* Everything the device has done; called with the lock held. */
void vsock_pump_locked(void)
{
	bool any = take_packets() | take_events();
	reclaim_tx();
	if (device_broken())
		return;
	if (vs.nctl)
		flush_control();
	vsock_expire();
	if (any)
		kick_waiters();
}

void vsock_pump(void)
{
	if (vsock_up && spin_trylock(&vsock_lock)) {
		vsock_pump_locked();
		spin_unlock(&vsock_lock);
	}
}

static void vsock_irq(int vector, void *arg)
{
	(void)vector, (void)arg;
	vmmio_ack_interrupt(&vs.dev);
	kick_waiters();
}

/* This core waits on sockets (now or soon): the interrupt handler and
 * the pump kick it from now on. */
void vsock_note_waiter(void)
{
	__atomic_fetch_or(&vs.waiters, 1ull << this_cpu()->id, __ATOMIC_RELEASE);
}

void vsock_wait_for(bool (*cond)(void *), void *arg)
{
	vsock_note_waiter();
	sched_wait_until(cond, arg);
}

/* --- the device --- */

static int vsock_start(void)
{
	if (!vmmio_negotiate(&vs.dev, VIRTIO_F_VERSION_1)) {
		kprintf("toro: virtio-vsock: the device refused the features (virtio 1.0 required)\n");
		return -1;
	}
	if (vmmio_queue_setup(&vs.dev, 0, &vs.rxq, QSIZE, 0, "virtio-vsock rx") < 0 ||
	    vmmio_queue_setup(&vs.dev, 1, &vs.txq, QSIZE, 0, "virtio-vsock tx") < 0 ||
	    vmmio_queue_setup(&vs.dev, 2, &vs.evq, EV_BUFS, 0, "virtio-vsock event") < 0) {
		kprintf("toro: virtio-vsock: cannot set up the queues\n");
		vmmio_failed(&vs.dev);
		return -1;
	}
	uint8_t *rxbuf = page_alloc_any(0, (size_t)vs.rxq.num * RX_BUF_SIZE / PAGE_SIZE);
	vs.txbuf = page_alloc_any(0, (size_t)vs.txq.num * TX_SLOT_SIZE / PAGE_SIZE);
	if (!rxbuf || !vs.txbuf) {
		kprintf("toro: virtio-vsock: out of memory for the packet buffers\n");
		vmmio_failed(&vs.dev);
		return -1;
	}
	for (int i = 0; i < vs.rxq.num; i++)
		post_rx(rxbuf + (size_t)i * RX_BUF_SIZE);
	for (int i = 0; i < vs.evq.num && i < EV_BUFS; i++)
		post_event(&vs.events[i]);
	vsock_cid = read_cid();
	if (vmmio_irq(&vs.dev, vsock_irq, NULL) < 0)
		kdebug("virtio-vsock: no interrupt for GSI %d; polling\n", vs.dev.gsi);
	vmmio_driver_ok(&vs.dev);
	notify(0, &vs.rxq);
	notify(2, &vs.evq);
	kdebug("virtio-vsock: slot %d, guest CID %lu, %u rx buffers\n", vs.dev.slot, vsock_cid, vs.rxq.num);
	return 0;
}

/* Takes the first virtio-vsock device and registers AF_VSOCK. */
bool virtio_vsock_probe(const struct vmmio *d)
{
	if (vsock_up)
		return false;
	vs.dev = *d;
	if (vsock_start() < 0)
		return false;
	vsock_up = true;
	vsock_register_family();
	return true;
}
