/* The IOAPICs (82093AA datasheet): routes a device's global system
 * interrupt (GSI) to a vector on one CPU, and hands out the vectors that
 * devices use. acpi.c finds the IOAPICs and their GSI bases. */
#include "defs.h"
#include "spinlock.h"

#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_VER 0x01
#define REG_REDTBL 0x10    /* entry n: low dword at 0x10 + 2n, high at 0x11 + 2n */

#define RTE_LEVEL (1u << 15)
#define RTE_MASKED (1u << 16)

#define VEC_DEVICE_FIRST 0x30
#define VEC_DEVICE_LAST 0xef /* 0xf0 is the wake-up IPI */

static struct spinlock lock;   /* IOREGSEL and IOWIN are a pair */
static int next_vector = VEC_DEVICE_FIRST;

static uint32_t ioapic_read(uint64_t base, uint32_t reg)
{
	*(volatile uint32_t *)(base + IOREGSEL) = reg;
	return *(volatile uint32_t *)(base + IOWIN);
}

static void ioapic_write(uint64_t base, uint32_t reg, uint32_t v)
{
	*(volatile uint32_t *)(base + IOREGSEL) = reg;
	*(volatile uint32_t *)(base + IOWIN) = v;
}

static int pins(const struct ioapic_desc *io)
{
	return ((ioapic_read(io->addr, REG_VER) >> 16) & 0xff) + 1;
}

/* The IOAPIC that serves gsi, with the pin number in *pin. */
static const struct ioapic_desc *find(uint32_t gsi, int *pin)
{
	for (int i = 0; i < nioapics; i++) {
		const struct ioapic_desc *io = &ioapics[i];
		if (gsi >= io->gsi_base && gsi < io->gsi_base + (uint32_t)pins(io)) {
			*pin = gsi - io->gsi_base;
			return io;
		}
	}
	return NULL;
}

bool ioapic_has_gsi(uint32_t gsi)
{
	int pin;
	spin_lock(&lock);
	bool found = find(gsi, &pin) != NULL;
	spin_unlock(&lock);
	return found;
}

/* Fixed delivery, physical destination apic_id, active high; level or
 * edge triggered as the device says. Returns 0, or -1 without that GSI. */
int ioapic_route(uint32_t gsi, int vector, uint32_t apic_id, bool level)
{
	int pin;
	spin_lock(&lock);
	const struct ioapic_desc *io = find(gsi, &pin);
	if (io) {
		uint32_t low = (vector & 0xff) | (level ? RTE_LEVEL : 0);
		ioapic_write(io->addr, REG_REDTBL + 2 * pin, RTE_MASKED);
		ioapic_write(io->addr, REG_REDTBL + 2 * pin + 1, apic_id << 24);
		ioapic_write(io->addr, REG_REDTBL + 2 * pin, low);
	}
	spin_unlock(&lock);
	return io ? 0 : -1;
}

/* A vector no one else uses, or -1 when they are all taken. */
int irq_alloc_vector(void)
{
	int v = __atomic_fetch_add(&next_vector, 1, __ATOMIC_RELAXED);
	return v <= VEC_DEVICE_LAST ? v : -1;
}
