/* Physical memory: the free RAM of the e820 map split into one pool per
 * core, so each rank allocates from memory of its own. A pool is an
 * address-ordered list of free extents kept inside the free pages
 * themselves; first fit, coalescing on free. Exhaustion returns NULL. */
#include "defs.h"
#include "spinlock.h"

struct extent {
	uint64_t npages;
	struct extent *next;
};

struct pool {
	struct spinlock lock;
	uint64_t lo, hi;          /* address span owned by the pool */
	uint64_t free_pages;
	struct extent *head;
};

static struct pool pools[MAX_CPUS];
static int npools;

extern char __kernel_start[];

static void pool_insert(struct pool *p, uint64_t addr, uint64_t npages)
{
	struct extent **pp = &p->head, *prev = NULL;
	while (*pp && (uint64_t)*pp < addr) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	struct extent *next = *pp;
	struct extent *e = (struct extent *)addr;
	e->npages = npages;
	e->next = next;
	*pp = e;
	if (next && addr + npages * PAGE_SIZE == (uint64_t)next) {
		e->npages += next->npages;
		e->next = next->next;
	}
	if (prev && (uint64_t)prev + prev->npages * PAGE_SIZE == addr) {
		prev->npages += e->npages;
		prev->next = e->next;
	}
	p->free_pages += npages;
}

/* Free RAM: usable e820 entries above 1 MiB, less the kernel image and the
 * page tables built at boot. Calls fn for each free run in address order. */
static void for_each_free_run(uint64_t reserved_end, void (*fn)(uint64_t, uint64_t, void *), void *arg)
{
	for (int i = 0; i < e820_count; i++) {
		if (e820[i].type != 1)
			continue;
		uint64_t lo = ALIGN_UP(MAX(e820[i].addr, 0x100000ull), PAGE_SIZE);
		uint64_t hi = ALIGN_DOWN(e820[i].addr + e820[i].size, PAGE_SIZE);
		uint64_t klo = (uint64_t)__kernel_start;
		if (lo < MIN(hi, klo))
			fn(lo, MIN(hi, klo), arg);
		lo = MAX(lo, reserved_end);
		if (lo < hi)
			fn(lo, hi, arg);
	}
}

static void count_run(uint64_t lo, uint64_t hi, void *arg)
{
	*(uint64_t *)arg += (hi - lo) / PAGE_SIZE;
}

struct splitter {
	uint64_t per_pool;
	int pool;
};

static void distribute_run(uint64_t lo, uint64_t hi, void *arg)
{
	struct splitter *s = arg;
	while (lo < hi) {
		struct pool *p = &pools[s->pool];
		uint64_t want = s->per_pool - p->free_pages;
		uint64_t take = MIN(want, (hi - lo) / PAGE_SIZE);
		if (s->pool == npools - 1)
			take = (hi - lo) / PAGE_SIZE;
		if (take) {
			if (!p->lo)
				p->lo = lo;
			pool_insert(p, lo, take);
			p->hi = lo + take * PAGE_SIZE;
			lo += take * PAGE_SIZE;
		}
		if (p->free_pages >= s->per_pool && s->pool < npools - 1)
			s->pool++;
	}
}

void mem_init(int n)
{
	uint64_t reserved_end = mmu_boot_alloc_end();
	uint64_t total = 0;
	for_each_free_run(reserved_end, count_run, &total);
	npools = n;
	struct splitter s = {total / n, 0};
	for_each_free_run(reserved_end, distribute_run, &s);
	kdebug("mem: %lu KiB free in %d pools of %lu KiB\n", total * 4, n, s.per_pool * 4);
}

void *page_alloc(int pool, size_t npages)
{
	if (pool < 0 || pool >= npools || npages == 0)
		return NULL;
	struct pool *p = &pools[pool];
	void *r = NULL;
	spin_lock(&p->lock);
	for (struct extent **pp = &p->head; *pp; pp = &(*pp)->next) {
		struct extent *e = *pp;
		if (e->npages < npages)
			continue;
		e->npages -= npages;
		r = (char *)e + e->npages * PAGE_SIZE;
		if (e->npages == 0)
			*pp = e->next;
		p->free_pages -= npages;
		break;
	}
	spin_unlock(&p->lock);
	return r;
}

/* For the kernel's own needs: the given pool first, then any other. */
void *page_alloc_any(int pool, size_t npages)
{
	void *r = page_alloc(pool, npages);
	for (int i = 0; !r && i < npools; i++)
		r = page_alloc(i, npages);
	return r;
}

void page_free(void *ptr, size_t npages)
{
	uint64_t a = (uint64_t)ptr;
	for (int i = 0; i < npools; i++) {
		struct pool *p = &pools[i];
		if (a >= p->lo && a < p->hi) {
			if (a + npages * PAGE_SIZE > p->hi)
				panic("page_free: %p + %lu pages crosses pool %d", ptr, npages, i);
			spin_lock(&p->lock);
			pool_insert(p, a, npages);
			spin_unlock(&p->lock);
			return;
		}
	}
	panic("page_free: %p is in no pool", ptr);
}

size_t mem_pool_free_pages(int pool) { return pools[pool].free_pages; }
int mem_npools(void) { return npools; }

void mem_pool_range(int pool, uint64_t *lo, uint64_t *hi)
{
	*lo = pools[pool].lo;
	*hi = pools[pool].hi;
}
