/* Kernel heap: power-of-two size classes from 32 to 2048 bytes carved out
 * of pages, with a free list per core (only that core touches it, and
 * interrupt handlers never allocate, so no lock); larger blocks and
 * stacks take whole pages from the core's pool. */
#include "defs.h"
#include "cpu.h"

#define KMAGIC 0x6b616c6cu
#define NCLASSES 7          /* 32 .. 2048 */
#define HDR 16

struct header {
	uint32_t magic;
	uint32_t cls;           /* size class, or NCLASSES for page blocks */
	uint64_t npages;
};

struct free_obj {
	struct free_obj *next;
};

static struct free_obj *free_lists[MAX_CPUS][NCLASSES];

static int cpu_index(void)
{
	struct cpu *c = this_cpu();
	return c ? c->id : 0;
}

static int size_class(size_t total)
{
	for (int c = 0; c < NCLASSES; c++)
		if (total <= (32ul << c))
			return c;
	return -1;
}

static bool refill(int cpu, int cls)
{
	char *page = page_alloc_any(cpu, 1);
	if (!page)
		return false;
	size_t sz = 32ul << cls;
	for (size_t off = 0; off + sz <= PAGE_SIZE; off += sz) {
		struct free_obj *o = (void *)(page + off);
		o->next = free_lists[cpu][cls];
		free_lists[cpu][cls] = o;
	}
	return true;
}

void *kmalloc(size_t n)
{
	int cpu = cpu_index();
	int cls = size_class(n + HDR);
	struct header *h;
	if (cls >= 0) {
		if (!free_lists[cpu][cls] && !refill(cpu, cls))
			return NULL;
		h = (void *)free_lists[cpu][cls];
		free_lists[cpu][cls] = ((struct free_obj *)h)->next;
		h->npages = 0;
	} else {
		size_t np = ALIGN_UP(n + HDR, PAGE_SIZE) / PAGE_SIZE;
		h = page_alloc_any(cpu, np);
		if (!h)
			return NULL;
		cls = NCLASSES;
		h->npages = np;
	}
	h->magic = KMAGIC;
	h->cls = cls;
	return (char *)h + HDR;
}

void *kzalloc(size_t n)
{
	void *p = kmalloc(n);
	if (p)
		memset(p, 0, n);
	return p;
}

void kfree(void *p)
{
	if (!p)
		return;
	struct header *h = (void *)((char *)p - HDR);
	if (h->magic != KMAGIC)
		panic("kfree: %p was not allocated by kmalloc (or freed twice)", p);
	h->magic = 0;
	if (h->cls == NCLASSES) {
		page_free(h, h->npages);
		return;
	}
	int cpu = cpu_index();
	struct free_obj *o = (void *)h;
	o->next = free_lists[cpu][h->cls];
	free_lists[cpu][h->cls] = o;
}

/* A stack of `size` bytes with an unmapped guard page below it. Returns
 * the lowest usable address. */
void *stack_alloc(int pool, size_t size)
{
	size_t np = ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE + 1;
	char *p = page_alloc(pool, np);
	if (!p)
		return NULL;
	if (mmu_set_guard((uint64_t)p, true) < 0) {
		page_free(p, np);
		return NULL;
	}
	return p + PAGE_SIZE;
}

void stack_free(void *base, size_t size)
{
	char *p = (char *)base - PAGE_SIZE;
	mmu_set_guard((uint64_t)p, false);
	page_free(p, ALIGN_UP(size, PAGE_SIZE) / PAGE_SIZE + 1);
}
