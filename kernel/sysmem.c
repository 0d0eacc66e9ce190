/* A rank's memory: anonymous mmap, munmap and mremap, all from the rank's
 * own pool, so ranks share memory fairly and running out gives ENOMEM.
 * Each rank keeps the list of page runs it mapped; munmap and mremap act
 * only on those. brk does not grow (the program image sits where it
 * landed in the pool): it reports failure, which musl's malloc and most
 * programs answer by using mmap, as they do on Linux when brk is blocked.
 * PROT_NONE pages (mmap or mprotect, as musl's thread stacks have a
 * guard page) are made absent, so touching one faults; other protections
 * are not enforced. The rank's threads share the map (proc_lock). */
#include "defs.h"
#include "proc.h"
#include "errno.h"
#include "syscalls.h"

#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2
#define PROT_NONE 0
/* Larger PROT_NONE runs (address-space reservations) stay mapped: making
 * them absent would split the identity map into 4 KiB pages. */
#define GUARD_MAX (16ull << 20)

static struct region *region_covering(struct proc *p, uint64_t start, uint64_t end)
{
	for (struct region *r = p->regions; r; r = r->next)
		if (r->start <= start && end <= r->end)
			return r;
	return NULL;
}

static struct region *region_add(struct proc *p, uint64_t start, uint64_t end)
{
	struct region *r = kmalloc(sizeof *r);
	if (!r)
		return false;
	r->start = start;
	r->end = end;
	r->next = p->regions;
	r->guarded = false;
	p->regions = r;
	return r;
}

/* Makes [start, end) absent (guard) or present again. */
static void set_guard(uint64_t start, uint64_t end, bool guard)
{
	for (uint64_t a = start; a < end; a += PAGE_SIZE)
		if (mmu_is_mapped(a) == guard)
			mmu_set_guard(a, guard);
}

static uint64_t do_mmap(struct proc *p, uint64_t addr, uint64_t len, int prot, int flags, int fd)
{
	if (!(flags & MAP_ANONYMOUS))
		return fd < 0 ? -EBADF : -ENODEV;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		struct region *r = region_covering(p, addr, addr + len);
		if ((flags & MAP_FIXED_NOREPLACE) || !r)
			return -ENOMEM; /* no memory can be placed at a chosen address */
		if (r->guarded)
			set_guard(addr, addr + len, false);
		memset((void *)addr, 0, len);
		if (prot == PROT_NONE && len <= GUARD_MAX)
			set_guard(addr, addr + len, r->guarded = true);
		return addr;
	}
	void *m = page_alloc(p->rank, len / PAGE_SIZE);
	if (!m)
		return -ENOMEM;
	struct region *r = region_add(p, (uint64_t)m, (uint64_t)m + len);
	if (!r) {
		page_free(m, len / PAGE_SIZE);
		return -ENOMEM;
	}
	memset(m, 0, len);
	if (prot == PROT_NONE && len <= GUARD_MAX)
		set_guard((uint64_t)m, (uint64_t)m + len, r->guarded = true);
	return (uint64_t)m;
}

static uint64_t mmap_call(uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
	(void)off;
	struct proc *p = current_proc();
	if (!p || len == 0 || len > (1ull << 46))
		return -EINVAL;
	proc_lock(p);
	uint64_t r = do_mmap(p, addr, len, prot, flags, fd);
	proc_unlock(p);
	return r;
}

/* Only PROT_NONE changes anything: absent pages, so an access faults. */
static long mprotect_call(uint64_t addr, uint64_t len, int prot)
{
	struct proc *p = current_proc();
	if (!p || (addr & (PAGE_SIZE - 1)) || addr + len < addr)
		return -EINVAL;
	uint64_t end = addr + ALIGN_UP(len, PAGE_SIZE);
	if (len == 0)
		return 0;
	proc_lock(p);
	struct region *r = region_covering(p, addr, end);
	long rc = 0;
	if (!r)
		rc = addr < PAGE_SIZE ? -ENOMEM : 0; /* the program image and stacks: nothing to change */
	else if (prot == PROT_NONE && end - addr <= GUARD_MAX)
		set_guard(addr, end, r->guarded = true);
	else if (r->guarded)
		set_guard(addr, end, false);
	proc_unlock(p);
	return rc;
}

/* Frees [start, end) wherever it overlaps the rank's regions, splitting a
 * region that keeps pages on both sides. */
static long unmap_range(struct proc *p, uint64_t start, uint64_t end)
{
	for (struct region **rp = &p->regions; *rp;) {
		struct region *r = *rp;
		uint64_t lo = MAX(r->start, start), hi = MIN(r->end, end);
		if (lo >= hi) {
			rp = &r->next;
			continue;
		}
		if (r->guarded)
			set_guard(lo, hi, false); /* pages go back to the pool present */
		if (r->start < lo && hi < r->end) {
			struct region *rest = region_add(p, hi, r->end);
			if (!rest)
				return -ENOMEM;
			rest->guarded = r->guarded;
			r->end = lo;
		} else if (r->start < lo) {
			r->end = lo;
		} else if (hi < r->end) {
			r->start = hi;
		} else {
			*rp = r->next;
			kfree(r);
		}
		page_free((void *)lo, (hi - lo) / PAGE_SIZE);
		if (*rp == r)
			rp = &r->next;
	}
	return 0;
}

static long munmap_call(uint64_t addr, uint64_t len)
{
	struct proc *p = current_proc();
	if (!p || (addr & (PAGE_SIZE - 1)) || len == 0 || addr + len < addr)
		return -EINVAL;
	proc_lock(p);
	long rc = unmap_range(p, addr, addr + ALIGN_UP(len, PAGE_SIZE));
	proc_unlock(p);
	return rc;
}

static uint64_t do_mremap(struct proc *p, uint64_t old, uint64_t old_len, uint64_t new_len, int flags)
{
	old_len = ALIGN_UP(old_len, PAGE_SIZE);
	new_len = ALIGN_UP(new_len, PAGE_SIZE);
	struct region *o = region_covering(p, old, old + old_len);
	if (!o)
		return -EFAULT;
	if (o->guarded && new_len > old_len)
		return -EFAULT; /* may hold absent (PROT_NONE) pages: not copied */
	if (new_len <= old_len) {
		if (new_len < old_len)
			unmap_range(p, old + new_len, old + old_len);
		return old;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	void *m = page_alloc(p->rank, new_len / PAGE_SIZE);
	if (!m)
		return -ENOMEM;
	if (!region_add(p, (uint64_t)m, (uint64_t)m + new_len)) {
		page_free(m, new_len / PAGE_SIZE);
		return -ENOMEM;
	}
	memcpy(m, (void *)old, old_len);
	memset((char *)m + old_len, 0, new_len - old_len);
	unmap_range(p, old, old + old_len);
	return (uint64_t)m;
}

static uint64_t mremap_call(uint64_t old, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr)
{
	(void)new_addr;
	struct proc *p = current_proc();
	if (!p || (old & (PAGE_SIZE - 1)) || new_len == 0 || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)))
		return -EINVAL;
	if (flags & MREMAP_FIXED)
		return -EINVAL;
	proc_lock(p);
	uint64_t r = do_mremap(p, old, old_len, new_len, flags);
	proc_unlock(p);
	return r;
}

static uint64_t brk_call(uint64_t addr)
{
	(void)addr;
	struct proc *p = current_proc();
	return p ? p->brk : 0;
}

long sys_mmap(const uint64_t *a) { return mmap_call(a[0], a[1], a[2], a[3], a[4], a[5]); }
long sys_mprotect(const uint64_t *a) { return mprotect_call(a[0], a[1], a[2]); }
long sys_munmap(const uint64_t *a) { return munmap_call(a[0], a[1]); }
long sys_mremap(const uint64_t *a) { return mremap_call(a[0], a[1], a[2], a[3], a[4]); }
long sys_brk(const uint64_t *a) { return brk_call(a[0]); }
