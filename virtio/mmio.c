/* The virtio-mmio transport, version 2 (virtio 1.1 section 4.2.2, the
 * register layout; 4.2.3, the driver's side). QEMU's microvm machine puts
 * its transports at 0xfeb00000 + 512 * i and does not tell a PVH kernel
 * which ones hold devices, so every slot is probed by its magic value,
 * version and device id. Registers are read and written 32 bits at a
 * time, as 4.2.2.2 requires. */
#include "mmio.h"
#include "../kernel/defs.h"
#include "../kernel/cpu.h"
#include "../kernel/x86.h"

#define MMIO_BASE 0xfeb00000ull
#define MMIO_SLOT_SIZE 512
#define MMIO_SLOTS 24

#define REG_MAGIC 0x000          /* "virt" */
#define REG_VERSION 0x004        /* 2: the non-legacy interface */
#define REG_DEVICE_ID 0x008
#define REG_DEVICE_FEATURES 0x010
#define REG_DEVICE_FEATURES_SEL 0x014
#define REG_DRIVER_FEATURES 0x020
#define REG_DRIVER_FEATURES_SEL 0x024
#define REG_QUEUE_SEL 0x030
#define REG_QUEUE_NUM_MAX 0x034
#define REG_QUEUE_NUM 0x038
#define REG_QUEUE_READY 0x044
#define REG_QUEUE_NOTIFY 0x050
#define REG_INTERRUPT_STATUS 0x060
#define REG_INTERRUPT_ACK 0x064
#define REG_STATUS 0x070
#define REG_QUEUE_DESC 0x080     /* low, then high at +4 */
#define REG_QUEUE_DRIVER 0x090
#define REG_QUEUE_DEVICE 0x0a0
#define REG_CONFIG 0x100

#define MAGIC 0x74726976

/* Device status bits (virtio 1.1 section 2.1). */
#define S_ACKNOWLEDGE 1
#define S_DRIVER 2
#define S_DRIVER_OK 4
#define S_FEATURES_OK 8
#define S_NEEDS_RESET 64
#define S_FAILED 128

static uint32_t rd(const struct vmmio *d, uint32_t reg)
{
	return *(volatile uint32_t *)(d->base + reg);
}

static void wr(struct vmmio *d, uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(d->base + reg) = v;
}

static void wr64(struct vmmio *d, uint32_t reg, uint64_t v)
{
	wr(d, reg, (uint32_t)v);
	wr(d, reg + 4, v >> 32);
}

/* QEMU's hw/i386/microvm.c wires transport i to GSI 24 + i on a second
 * IOAPIC when ACPI is on (the default), to GSI 16 + i with ACPI but
 * ioapic2=off, and to GSI 5 + i without ACPI. */
static int slot_gsi(int slot)
{
	if (ioapic_has_gsi(24))
		return 24 + slot;
	return acpi_madt_found ? 16 + slot : 5 + slot;
}

/* The next transport from slot *slot on that holds a device; false when
 * there is none. */
static bool next_device(int *slot, struct vmmio *d)
{
	for (; *slot < MMIO_SLOTS; (*slot)++) {
		d->base = MMIO_BASE + (uint64_t)*slot * MMIO_SLOT_SIZE;
		if (rd(d, REG_MAGIC) != MAGIC || rd(d, REG_VERSION) != 2)
			continue;
		d->device_id = rd(d, REG_DEVICE_ID);
		if (d->device_id == 0)
			continue; /* an empty transport */
		d->slot = (*slot)++;
		d->gsi = slot_gsi(d->slot);
		d->vector = -1;
		return true;
	}
	return false;
}

/* Writing 0 resets the device; it reads back 0 once the reset is done. */
void vmmio_reset(struct vmmio *d)
{
	wr(d, REG_STATUS, 0);
	for (int i = 0; i < 1000000 && rd(d, REG_STATUS) != 0; i++)
		cpu_relax();
}

void vmmio_failed(struct vmmio *d)
{
	wr(d, REG_STATUS, rd(d, REG_STATUS) | S_FAILED);
}

/* Virtio 1.1 section 3.1.1, steps 1 to 6. */
uint64_t vmmio_negotiate(struct vmmio *d, uint64_t wanted)
{
	vmmio_reset(d);
	wr(d, REG_STATUS, S_ACKNOWLEDGE);
	wr(d, REG_STATUS, S_ACKNOWLEDGE | S_DRIVER);
	uint64_t offered = 0;
	for (int sel = 0; sel < 2; sel++) {
		wr(d, REG_DEVICE_FEATURES_SEL, sel);
		offered |= (uint64_t)rd(d, REG_DEVICE_FEATURES) << (32 * sel);
	}
	uint64_t use = offered & wanted;
	if (!(use & VIRTIO_F_VERSION_1)) {
		vmmio_failed(d);
		return 0;
	}
	for (int sel = 0; sel < 2; sel++) {
		wr(d, REG_DRIVER_FEATURES_SEL, sel);
		wr(d, REG_DRIVER_FEATURES, (uint32_t)(use >> (32 * sel)));
	}
	wr(d, REG_STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
	if (!(rd(d, REG_STATUS) & S_FEATURES_OK)) {
		vmmio_failed(d);
		return 0;
	}
	return use;
}

/* Section 4.2.3.2: select, check it is unused, size it, give the three
 * addresses, then mark it ready. Returns 0 or -1. */
int vmmio_queue_setup(struct vmmio *d, int index, struct virtq *vq, uint16_t max_size, int pool, const char *name)
{
	wr(d, REG_QUEUE_SEL, index);
	if (rd(d, REG_QUEUE_READY))
		return -1;
	uint32_t max = rd(d, REG_QUEUE_NUM_MAX);
	if (max == 0)
		return -1;
	uint16_t num = 1;
	while (num * 2 <= max && num * 2 <= max_size)
		num *= 2;
	if (virtq_init(vq, num, pool) < 0)
		return -1;
	vq->name = name;
	wr(d, REG_QUEUE_NUM, num);
	wr64(d, REG_QUEUE_DESC, (uint64_t)vq->desc);
	wr64(d, REG_QUEUE_DRIVER, (uint64_t)vq->avail);
	wr64(d, REG_QUEUE_DEVICE, (uint64_t)vq->used);
	wr(d, REG_QUEUE_READY, 1);
	return 0;
}

void vmmio_driver_ok(struct vmmio *d)
{
	wr(d, REG_STATUS, rd(d, REG_STATUS) | S_DRIVER_OK);
}

void vmmio_notify(struct vmmio *d, int index)
{
	wr(d, REG_QUEUE_NOTIFY, index);
}

/* Acknowledges what the device signalled (bit 0: used buffers, bit 1:
 * configuration change) so that its interrupt line drops. */
uint32_t vmmio_ack_interrupt(struct vmmio *d)
{
	uint32_t st = rd(d, REG_INTERRUPT_STATUS);
	if (st)
		wr(d, REG_INTERRUPT_ACK, st);
	return st;
}

bool vmmio_needs_reset(struct vmmio *d)
{
	return rd(d, REG_STATUS) & S_NEEDS_RESET;
}

uint32_t vmmio_config32(struct vmmio *d, uint32_t off)
{
	return rd(d, REG_CONFIG + off);
}

uint8_t vmmio_config8(const struct vmmio *d, uint32_t off)
{
	return *(volatile uint8_t *)(d->base + REG_CONFIG + off);
}

/* The line is level triggered, active high (QEMU raises it while the
 * interrupt status is not zero). It goes to CPU 0. */
int vmmio_irq(struct vmmio *d, void (*fn)(int, void *), void *arg)
{
	int v = irq_alloc_vector();
	if (v < 0)
		return -1;
	irq_register(v, fn, arg);
	if (ioapic_route(d->gsi, v, cpus[0]->apic_id, true) < 0)
		return -1;
	d->vector = v;
	return 0;
}

/* Called once by the boot sequence: each device found is offered to the
 * drivers registered for its type until one takes it. */
void virtio_probe(void)
{
	struct vmmio d;
	for (int slot = 0; next_device(&slot, &d);) {
		const struct virtio_driver *drv = virtio_drivers;
		while (drv->probe && !(drv->device_id == d.device_id && drv->probe(&d)))
			drv++;
		if (!drv->probe)
			kdebug("virtio: slot %d: no driver for device type %u\n", d.slot, d.device_id);
	}
}
