/* A rank's memory: anonymous mmap, munmap and mremap, all from the rank's
 * own pool, so ranks share memory fairly and running out gives ENOMEM.
 * Each rank keeps the list of page runs it mapped; munmap and mremap act
 * only on those. brk does not grow (the program image sits where it
 * landed in the pool): it reports failure, which musl's malloc and most
 * programs answer by using mmap, as they do on Linux when brk is blocked. */
#include "defs.h"
#include "proc.h"
#include "errno.h"
#include "syscalls.h"

#define MAP_FIXED 0x10
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000
#define MREMAP_MAYMOVE 1
#define MREMAP_FIXED 2

static struct region *region_covering(struct proc *p, uint64_t start, uint64_t end)
{
	for (struct region *r = p->regions; r; r = r->next)
		if (r->start <= start && end <= r->end)
			return r;
	return NULL;
}

static bool region_add(struct proc *p, uint64_t start, uint64_t end)
{
	struct region *r = kmalloc(sizeof *r);
	if (!r)
		return false;
	r->start = start;
	r->end = end;
	r->next = p->regions;
	p->regions = r;
	return true;
}

static uint64_t do_mmap(uint64_t addr, uint64_t len, int prot, int flags, int fd, uint64_t off)
{
	(void)prot;
	(void)off;
	struct proc *p = current_proc();
	if (!p || len == 0 || len > (1ull << 46))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS))
		return fd < 0 ? -EBADF : -ENODEV;
	len = ALIGN_UP(len, PAGE_SIZE);
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if ((flags & MAP_FIXED_NOREPLACE) || !region_covering(p, addr, addr + len))
			return -ENOMEM; /* no memory can be placed at a chosen address */
		memset((void *)addr, 0, len);
		return addr;
	}
	void *m = page_alloc(p->rank, len / PAGE_SIZE);
	if (!m)
		return -ENOMEM;
	if (!region_add(p, (uint64_t)m, (uint64_t)m + len)) {
		page_free(m, len / PAGE_SIZE);
		return -ENOMEM;
	}
	memset(m, 0, len);
	return (uint64_t)m;
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
		if (r->start < lo && hi < r->end) {
			if (!region_add(p, hi, r->end))
				return -ENOMEM;
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

static long do_munmap(uint64_t addr, uint64_t len)
{
	struct proc *p = current_proc();
	if (!p || (addr & (PAGE_SIZE - 1)) || len == 0 || addr + len < addr)
		return -EINVAL;
	return unmap_range(p, addr, addr + ALIGN_UP(len, PAGE_SIZE));
}

static uint64_t do_mremap(uint64_t old, uint64_t old_len, uint64_t new_len, int flags, uint64_t new_addr)
{
	(void)new_addr;
	struct proc *p = current_proc();
	if (!p || (old & (PAGE_SIZE - 1)) || new_len == 0 || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED)))
		return -EINVAL;
	if (flags & MREMAP_FIXED)
		return -EINVAL;
	old_len = ALIGN_UP(old_len, PAGE_SIZE);
	new_len = ALIGN_UP(new_len, PAGE_SIZE);
	if (!region_covering(p, old, old + old_len))
		return -EFAULT;
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

static uint64_t do_brk(uint64_t addr)
{
	(void)addr;
	struct proc *p = current_proc();
	return p ? p->brk : 0;
}

long sys_mmap(const uint64_t *a) { return do_mmap(a[0], a[1], a[2], a[3], a[4], a[5]); }
long sys_munmap(const uint64_t *a) { return do_munmap(a[0], a[1]); }
long sys_mremap(const uint64_t *a) { return do_mremap(a[0], a[1], a[2], a[3], a[4]); }
long sys_brk(const uint64_t *a) { return do_brk(a[0]); }
