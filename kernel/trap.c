/* The IDT and the C side of interrupt dispatch. Exceptions go to the
 * fault reporter; the LAPIC timer and the wake-up IPI only acknowledge
 * (their job is to end a hlt); devices register handlers. */
#include "defs.h"
#include "x86.h"
#include "cpu.h"

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __attribute__((packed));

extern uint64_t trap_stubs[256];
static struct idt_gate idt[256] __attribute__((aligned(16)));
static irq_handler handlers[256];
static void *handler_args[256];

/* IST 1 for exceptions, 2 for NMI, double fault and machine check (so a
 * fault while reporting a fault still has a stack), 3 for interrupts. */
static int ist_for(int v)
{
	if (v == 2 || v == 8 || v == 18)
		return 2;
	return v < 32 ? 1 : 3;
}

void trap_init(void)
{
	for (int v = 0; v < 256; v++) {
		uint64_t a = trap_stubs[v];
		idt[v] = (struct idt_gate){
			.off_lo = a & 0xffff, .sel = 0x08, .ist = ist_for(v), .type = 0x8e,
			.off_mid = (a >> 16) & 0xffff, .off_hi = a >> 32, .zero = 0,
		};
	}
}

void trap_load(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = {sizeof idt - 1, (uint64_t)idt};
	__asm__ volatile("lidt %0" ::"m"(idtr));
}

void irq_register(int vector, irq_handler fn, void *arg)
{
	handler_args[vector] = arg;
	__atomic_store_n(&handlers[vector], fn, __ATOMIC_RELEASE);
}

void trap(struct trapframe *tf)
{
	int v = tf->vector;
	if (v < 32)
		fault_report(tf);
	if (v == VEC_SPURIOUS)
		return;
	if (v == VEC_WAKE)
		this_cpu()->wake_ipis++;
	if (handlers[v])
		handlers[v](v, handler_args[v]);
	lapic_eoi();
}
