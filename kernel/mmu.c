/* Page tables: one address space for the kernel and every rank, with RAM
 * identity mapped (1 GiB pages where the CPU has them, else 2 MiB), the
 * MMIO window below 4 GiB uncached, page 0 absent, and 4 KiB guard pages
 * punched under stacks on demand. */
#include "defs.h"
#include "x86.h"
#include "spinlock.h"
#include "cpu.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_PS 0x80ull
#define PTE_ADDR 0x000ffffffffff000ull

#define GIB (1ull << 30)
#define MIB2 (1ull << 21)
#define MMIO_START 0xfe000000ull /* virtio-mmio, IOAPIC, HPET, LAPIC */
#define MMIO_END 0x100000000ull

extern char __kernel_end[];
static uint64_t boot_next;       /* bump allocator for page tables at boot */
static bool pools_ready;
static uint64_t *pml4;
static struct spinlock mmu_lock;

void *boot_alloc_page(void)
{
	if (!boot_next)
		boot_next = ALIGN_UP((uint64_t)__kernel_end, PAGE_SIZE);
	void *p = (void *)boot_next;
	boot_next += PAGE_SIZE;
	memset(p, 0, PAGE_SIZE);
	return p;
}

uint64_t mmu_boot_alloc_end(void)
{
	pools_ready = true;
	return boot_next;
}

static uint64_t *table_alloc(void)
{
	if (!pools_ready)
		return boot_alloc_page();
	uint64_t *t = page_alloc_any(this_cpu() ? this_cpu()->rank : 0, 1);
	if (t)
		memset(t, 0, PAGE_SIZE);
	return t;
}

static uint64_t ram_end(void)
{
	uint64_t end = 0;
	for (int i = 0; i < e820_count; i++)
		if (e820[i].type == 1)
			end = MAX(end, e820[i].addr + e820[i].size);
	return end;
}

static uint64_t *map_2m_range(uint64_t gib_base, uint64_t limit)
{
	uint64_t *pd = table_alloc();
	for (int j = 0; j < 512; j++) {
		uint64_t pa = gib_base + j * MIB2;
		if (pa >= MMIO_START && pa < MMIO_END)
			pd[j] = pa | PTE_P | PTE_W | PTE_PS | PTE_PCD | PTE_PWT;
		else if (pa < limit)
			pd[j] = pa | PTE_P | PTE_W | PTE_PS;
	}
	return pd;
}

void mmu_init(void)
{
	uint32_t r[4];
	cpuid(0x80000001, 0, r);
	bool gib_pages = r[3] & (1u << 26);
	uint64_t limit = ALIGN_UP(ram_end(), MIB2);
	if (limit > 512 * GIB)
		limit = 512 * GIB;
	uint64_t top = MAX(limit, MMIO_END);

	pml4 = table_alloc();
	uint64_t *pdpt = table_alloc();
	pml4[0] = (uint64_t)pdpt | PTE_P | PTE_W;
	for (uint64_t g = 0; g * GIB < top; g++) {
		uint64_t base = g * GIB;
		bool whole_ram = base + GIB <= limit && (base + GIB <= MMIO_START || base >= MMIO_END);
		if (gib_pages && whole_ram && g != 0)
			pdpt[g] = base | PTE_P | PTE_W | PTE_PS;
		else
			pdpt[g] = (uint64_t)map_2m_range(base, limit) | PTE_P | PTE_W;
	}
	/* The first 2 MiB in 4 KiB pages, without page 0: NULL faults. */
	uint64_t *pd0 = (uint64_t *)(pdpt[0] & PTE_ADDR);
	uint64_t *pt0 = table_alloc();
	for (int k = 1; k < 512; k++)
		pt0[k] = k * PAGE_SIZE | PTE_P | PTE_W;
	pd0[0] = (uint64_t)pt0 | PTE_P | PTE_W;
	write_cr3((uint64_t)pml4);
	kdebug("mmu: RAM to %lu MiB, %s pages\n", limit >> 20, gib_pages ? "1 GiB" : "2 MiB");
}

/* Replaces a large-page entry by a table of 512 smaller pages with the
 * same translation and attributes. */
static bool split(uint64_t *entry, uint64_t step)
{
	uint64_t *t = table_alloc();
	if (!t)
		return false;
	uint64_t base = *entry & PTE_ADDR & ~(step * 512 - 1);
	uint64_t flags = *entry & (PTE_P | PTE_W | PTE_PCD | PTE_PWT);
	uint64_t ps = step == PAGE_SIZE ? 0 : PTE_PS;
	for (int i = 0; i < 512; i++)
		t[i] = (base + i * step) | flags | ps;
	__atomic_store_n(entry, (uint64_t)t | PTE_P | PTE_W, __ATOMIC_RELEASE);
	return true;
}

static uint64_t *pte_for(uint64_t va, bool make)
{
	if (va >= 512 * GIB)
		return NULL;
	uint64_t *pdpt = (uint64_t *)(pml4[0] & PTE_ADDR);
	uint64_t *e = &pdpt[(va >> 30) & 511];
	if (!(*e & PTE_P))
		return NULL;
	if (*e & PTE_PS) {
		if (!make)
			return e;
		if (!split(e, MIB2))
			return NULL;
	}
	uint64_t *pd = (uint64_t *)(*e & PTE_ADDR);
	e = &pd[(va >> 21) & 511];
	if (!(*e & PTE_P))
		return NULL;
	if (*e & PTE_PS) {
		if (!make)
			return e;
		if (!split(e, PAGE_SIZE))
			return NULL;
	}
	uint64_t *pt = (uint64_t *)(*e & PTE_ADDR);
	return &pt[(va >> 12) & 511];
}

/* Makes the 4 KiB page at va absent (guarded) or present again. Only this
 * CPU's TLB is flushed: a stack's owner flushes its guard page itself
 * before it first runs (sched.c), and no other core runs on that stack. */
int mmu_set_guard(uint64_t va, bool guarded)
{
	spin_lock(&mmu_lock);
	uint64_t *pte = pte_for(va, true);
	if (pte) {
		if (guarded)
			*pte &= ~PTE_P;
		else
			*pte |= PTE_P;
		invlpg(va);
	}
	spin_unlock(&mmu_lock);
	return pte ? 0 : -1;
}

bool mmu_is_mapped(uint64_t va)
{
	uint64_t *pte = pte_for(va, false);
	return pte && (*pte & PTE_P);
}
