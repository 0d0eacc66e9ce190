/* Per-CPU set-up: GDT with a TSS whose IST stacks carry every interrupt,
 * %gs pointing at struct cpu, the local APIC (xAPIC, MMIO) and the FPU
 * (x87/SSE/AVX state saved per thread with xsave, or fxsave without it). */
#include "defs.h"
#include "x86.h"
#include "cpu.h"
#include "proc.h"

#define LAPIC_BASE 0xfee00000ull
#define LAPIC_ID 0x020
#define LAPIC_EOI 0x0b0
#define LAPIC_SVR 0x0f0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define IST_SIZE (16 * 1024)

struct cpu *cpus[MAX_CPUS];
int ncpus;
int threads_per_rank = 1;

static bool has_xsave;
static uint64_t xcr0;
static size_t fpu_size = 512;
static uint64_t lapic_ticks_per_ms;

static inline volatile uint32_t *lapic_reg(uint32_t off) { return (volatile uint32_t *)(LAPIC_BASE + off); }

/* Fills in c (or a new struct when c is NULL) for CPU id. */
struct cpu *cpu_alloc(struct cpu *c, int id, uint32_t apic_id)
{
	if (!c)
		c = kzalloc(sizeof *c);
	if (!c)
		panic("out of memory for CPU %d (give toro-run more --mem)", id);
	c->self = c;
	c->id = id;
	c->apic_id = apic_id;
	c->rank = id / threads_per_rank;
	for (int i = 0; i < 3; i++) {
		uint8_t *st = stack_alloc(c->rank < mem_npools() ? c->rank : 0, IST_SIZE);
		if (!st)
			panic("out of memory for the interrupt stacks of CPU %d (give toro-run more --mem)", id);
		c->tss.ist[i] = (uint64_t)st + IST_SIZE;
	}
	c->tss.iomap_base = sizeof c->tss;
	cpus[id] = c;
	return c;
}

static void gdt_load(struct cpu *c)
{
	uint64_t tss = (uint64_t)&c->tss;
	c->gdt[0] = 0;
	c->gdt[1] = 0x00af9a000000ffffull; /* 0x08 kernel code */
	c->gdt[2] = 0x00cf92000000ffffull; /* 0x10 kernel data */
	c->gdt[3] = 0x00cff2000000ffffull;
	c->gdt[4] = 0x00affa000000ffffull;
	/* 0x28: 64-bit TSS descriptor, two slots (SDM vol. 3 7.2.3) */
	c->gdt[5] = (sizeof c->tss - 1) | ((tss & 0xffffff) << 16) | (0x89ull << 40) | ((tss >> 24) & 0xff) << 56;
	c->gdt[6] = tss >> 32;
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) gdtr = {sizeof c->gdt - 1, (uint64_t)c->gdt};
	__asm__ volatile("lgdt %0\n"
			 "mov $0x10, %%ax\n"
			 "mov %%ax, %%ds\n"
			 "mov %%ax, %%es\n"
			 "mov %%ax, %%ss\n"
			 "pushq $0x08\n"
			 "lea 1f(%%rip), %%rax\n"
			 "pushq %%rax\n"
			 "lretq\n"
			 "1:\n"
			 "mov $0x28, %%ax\n"
			 "ltr %%ax\n" ::"m"(gdtr)
			 : "rax", "memory");
}

static void fpu_init(void)
{
	uint32_t r[4];
	write_cr0((read_cr0() & ~(1ull << 2 | 1ull << 3)) | 1ull << 1 | 1ull << 5); /* -EM -TS +MP +NE */
	uint64_t cr4 = read_cr4() | 1ull << 9 | 1ull << 10;                        /* OSFXSR, OSXMMEXCPT */
	cpuid(1, 0, r);
	has_xsave = r[2] & (1u << 26);
	if (has_xsave)
		cr4 |= 1ull << 18; /* OSXSAVE */
	write_cr4(cr4);
	if (has_xsave) {
		cpuid(0xd, 0, r);
		/* x87, SSE, AVX, AVX-512 state: the components user code may use */
		xcr0 = (((uint64_t)r[3] << 32) | r[0]) & 0xe7;
		__asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
		cpuid(0xd, 0, r);
		fpu_size = r[1];
	}
	uint32_t mxcsr = 0x1f80;
	__asm__ volatile("fninit; ldmxcsr %0" ::"m"(mxcsr));
}

size_t fpu_area_size(void) { return fpu_size; }

void fpu_save(void *area)
{
	if (has_xsave)
		__asm__ volatile("xsave64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ volatile("fxsave64 (%0)" ::"r"(area) : "memory");
}

void fpu_restore(void *area)
{
	if (has_xsave)
		__asm__ volatile("xrstor64 (%0)" ::"r"(area), "a"(~0u), "d"(~0u) : "memory");
	else
		__asm__ volatile("fxrstor64 (%0)" ::"r"(area) : "memory");
}

void cpu_init(struct cpu *c)
{
	gdt_load(c);
	trap_load();
	wrmsr(MSR_GS_BASE, (uint64_t)c);
	wrmsr(MSR_FS_BASE, 0);
	fpu_init();
	lapic_init();
	syscall_init_cpu();
}

void lapic_init(void)
{
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1 << 11)); /* global enable */
	*lapic_reg(LAPIC_SVR) = 0x100 | VEC_SPURIOUS;
	*lapic_reg(LAPIC_TIMER_DIV) = 0x3; /* divide by 16 */
	*lapic_reg(LAPIC_LVT_TIMER) = 1 << 16; /* masked until armed */
}

void lapic_eoi(void) { *lapic_reg(LAPIC_EOI) = 0; }

uint32_t lapic_id(void)
{
	uint32_t r[4];
	cpuid(1, 0, r);
	return r[1] >> 24;
}

static void icr_wait(void)
{
	for (int i = 0; i < 1000000 && (*lapic_reg(LAPIC_ICR_LO) & (1 << 12)); i++)
		cpu_relax();
}

/* The ICR is two registers: a device interrupt handler that sends an IPI
 * (sched_kick) between the two writes would redirect this one, so the
 * pair is written with interrupts off. */
void lapic_send_ipi(uint32_t apic_id, uint32_t vector)
{
	uint64_t flags = read_rflags();
	cli();
	icr_wait();
	*lapic_reg(LAPIC_ICR_HI) = apic_id << 24;
	*lapic_reg(LAPIC_ICR_LO) = vector | (1 << 14);
	if (flags & 0x200)
		sti();
}

/* INIT (sipi = 0) or STARTUP with the real-mode start page (SDM vol. 3 8.4.4). */
void lapic_send_init_sipi(uint32_t apic_id, int sipi, uint8_t page)
{
	icr_wait();
	*lapic_reg(LAPIC_ICR_HI) = apic_id << 24;
	*lapic_reg(LAPIC_ICR_LO) = sipi ? (0x4600 | page) : 0x4500;
	icr_wait();
}

void lapic_timer_calibrate(void)
{
	*lapic_reg(LAPIC_LVT_TIMER) = 1 << 16;
	*lapic_reg(LAPIC_TIMER_INIT) = 0xffffffff;
	delay_ns(10 * 1000 * 1000);
	uint32_t left = *lapic_reg(LAPIC_TIMER_CUR);
	*lapic_reg(LAPIC_TIMER_INIT) = 0;
	lapic_ticks_per_ms = (0xffffffffu - left) / 10;
	if (lapic_ticks_per_ms == 0)
		lapic_ticks_per_ms = 1;
	kdebug("lapic: timer %lu ticks/ms\n", lapic_ticks_per_ms);
}

/* One interrupt on VEC_TIMER after about ns; 0 disarms. */
void lapic_timer_oneshot_ns(uint64_t ns)
{
	uint64_t ticks = ns / 1000 * lapic_ticks_per_ms / 1000 + 1;
	if (ticks > 0xffffffffu)
		ticks = 0xffffffffu;
	*lapic_reg(LAPIC_LVT_TIMER) = VEC_TIMER;
	*lapic_reg(LAPIC_TIMER_INIT) = ns ? (uint32_t)ticks : 0;
}
