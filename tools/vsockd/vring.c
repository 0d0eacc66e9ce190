/* Guest memory and split virtqueues, device side (virtio 1.2 section 2.7).
 *
 * Everything the guest wrote is untrusted: each descriptor is checked
 * against the memory table (address and length, without overflow) before
 * it becomes an iovec, a chain may not be longer than the ring, indices
 * must be below the ring size, and the available index may not run more
 * than the ring size ahead of what we consumed. */
#include <errno.h>
#include <string.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vring.h"
#include "vsock.h"

struct region {
	uint64_t gpa, size, uva;
	uint8_t *host;           /* the region's first byte in our mapping */
	void *map;
	size_t map_len;
};

static struct region regions[MEM_MAX_REGIONS];
static int nregions;

struct vring vrings[NUM_QUEUES];

/* ---- guest memory ---- */

void mem_clear(void)
{
	for (int i = 0; i < nregions; i++)
		munmap(regions[i].map, regions[i].map_len);
	nregions = 0;
}

bool mem_ready(void)
{
	return nregions > 0;
}

static int map_region(struct region *g, const struct mem_region_msg *r, int fd)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t off = r->mmap_offset & ~(uint64_t)(page - 1);
	uint64_t skew = r->mmap_offset - off;

	if (r->size == 0 || r->size > UINT64_MAX - r->mmap_offset || r->gpa > UINT64_MAX - r->size ||
	    r->uva > UINT64_MAX - r->size) {
		log_err("memory table: region gpa 0x%llx size 0x%llx overflows",
			(unsigned long long)r->gpa, (unsigned long long)r->size);
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size < r->mmap_offset + r->size) {
		/* Pages past the end of the file would fault (SIGBUS) when touched. */
		log_err("memory table: region gpa 0x%llx ends at offset 0x%llx of a 0x%llx-byte file",
			(unsigned long long)r->gpa, (unsigned long long)(r->mmap_offset + r->size),
			(unsigned long long)st.st_size);
		return -1;
	}
	g->map_len = r->size + skew;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
	if (g->map == MAP_FAILED) {
		log_err("memory table: mmap of region gpa 0x%llx size 0x%llx: %m",
			(unsigned long long)r->gpa, (unsigned long long)r->size);
		return -1;
	}
	g->host = (uint8_t *)g->map + skew;
	g->gpa = r->gpa;
	g->size = r->size;
	g->uva = r->uva;
	return 0;
}

/* Replaces the memory table; the fds stay the caller's (mmap keeps its own
 * reference). On failure the table is empty. */
int mem_set_table(const struct mem_region_msg *r, int n, const int *fds)
{
	mem_clear();
	for (int i = 0; i < n; i++) {
		if (map_region(&regions[i], &r[i], fds[i]) < 0) {
			nregions = i;
			mem_clear();
			return -1;
		}
		nregions = i + 1;
		log_v("memory region %d: gpa 0x%llx size 0x%llx uva 0x%llx offset 0x%llx", i,
		      (unsigned long long)r[i].gpa, (unsigned long long)r[i].size,
		      (unsigned long long)r[i].uva, (unsigned long long)r[i].mmap_offset);
	}
	return 0;
}

/* [addr, addr+len) inside [start, start+size)? No overflow possible. */
static bool within(uint64_t addr, uint64_t len, uint64_t start, uint64_t size)
{
	return addr >= start && len <= size && addr - start <= size - len;
}

/* QEMU virtual address range to our pointer: one region must hold it all. */
static void *uva_to_host(uint64_t uva, uint64_t len)
{
	for (int i = 0; i < nregions; i++)
		if (within(uva, len, regions[i].uva, regions[i].size))
			return regions[i].host + (uva - regions[i].uva);
	return NULL;
}

/* Guest physical range to iovecs (it may span adjacent regions).
 * Returns the number of iovecs added, or -1 if some byte is outside
 * guest memory or more than max iovecs would be needed. */
static int gpa_to_iov(uint64_t gpa, uint64_t len, struct iovec *iov, int max)
{
	int n = 0;
	while (len > 0) {
		int i;
		for (i = 0; i < nregions; i++)
			if (within(gpa, 1, regions[i].gpa, regions[i].size))
				break;
		if (i == nregions || n == max)
			return -1;
		uint64_t room = regions[i].size - (gpa - regions[i].gpa);
		uint64_t take = len < room ? len : room;
		iov[n].iov_base = regions[i].host + (gpa - regions[i].gpa);
		iov[n].iov_len = take;
		n++;
		gpa += take;
		len -= take;
	}
	return n;
}

/* ---- virtqueues ---- */

static void kick_event(struct watch *w, uint32_t events);

void vring_init_all(void)
{
	for (int i = 0; i < NUM_QUEUES; i++) {
		struct vring *vr = &vrings[i];
		memset(vr, 0, sizeof *vr);
		vr->index = i;
		vr->kick_fd = vr->call_fd = vr->err_fd = -1;
		vr->kick_watch.fn = kick_event;
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Back to the state before any SET_VRING_* (RESET_OWNER). */
void vring_reset(struct vring *vr)
{
	vring_stop(vr);
	close_fd(&vr->call_fd);
	close_fd(&vr->err_fd);
	vr->num = 0;
	vr->have_addr = false;
	vr->base = 0;
	vr->enabled = false;
	vr->broken = false;
}

bool vring_usable(const struct vring *vr)
{
	return vr->started && !vr->broken && vr->used;
}

static void ring_broken(struct vring *vr, const char *why, unsigned a, unsigned b)
{
	char msg[200];
	snprintf(msg, sizeof msg, why, a, b);
	log_err("queue %d: %s; the queue is marked broken until it is set up again", vr->index, msg);
	vr->broken = true;
	if (vr->err_fd >= 0)
		eventfd_write(vr->err_fd, 1);
}

/* Translates the ring addresses (QEMU virtual addresses) through the
 * memory table; alignment and sizes as in virtio 1.2 2.7. */
int vring_remap(struct vring *vr)
{
	uint64_t n = vr->num;
	vr->desc = NULL;
	vr->avail = NULL;
	vr->used = NULL;
	if (vr->desc_uva % 16 || vr->avail_uva % 2 || vr->used_uva % 4) {
		log_err("queue %d: ring addresses are misaligned", vr->index);
		vr->broken = true;
		return -1;
	}
	vr->desc = uva_to_host(vr->desc_uva, 16 * n);
	vr->avail = uva_to_host(vr->avail_uva, 6 + 2 * n);
	vr->used = uva_to_host(vr->used_uva, 6 + 8 * n);
	if (!vr->desc || !vr->avail || !vr->used) {
		log_err("queue %d: ring (desc 0x%llx avail 0x%llx used 0x%llx, size %u) is not in guest memory",
			vr->index, (unsigned long long)vr->desc_uva, (unsigned long long)vr->avail_uva,
			(unsigned long long)vr->used_uva, vr->num);
		vr->desc = NULL;
		vr->avail = NULL;
		vr->used = NULL;
		vr->broken = true;
		return -1;
	}
	return 0;
}

/* Called once the kick fd is there. The used index continues from what
 * the used ring holds (0 on a fresh ring; the old value after a stop). */
int vring_start(struct vring *vr)
{
	if (vr->num == 0 || !vr->have_addr || !mem_ready()) {
		log_err("queue %d: kick fd before the ring size, addresses and memory table; not started",
			vr->index);
		return -1;
	}
	if (vring_remap(vr) < 0)
		return -1;
	vr->last_avail = vr->base;
	vr->used_idx = __atomic_load_n(&vr->used->idx, __ATOMIC_ACQUIRE);
	vr->broken = false;
	vr->need_call = false;
	if (ep_add(vr->kick_fd, EPOLLIN, &vr->kick_watch) < 0)
		return -1;
	vr->started = true;
	log_v("queue %d started: size %u, next available %u, used %u", vr->index, vr->num,
	      vr->last_avail, vr->used_idx);
	return 0;
}

void vring_stop(struct vring *vr)
{
	if (vr->started) {
		vring_notify(vr);
		vr->started = false;
		vr->base = vr->last_avail;
		log_v("queue %d stopped at %u", vr->index, vr->last_avail);
	}
	if (vr->kick_fd >= 0)
		ep_del(vr->kick_fd);
	close_fd(&vr->kick_fd);
}

static void kick_event(struct watch *w, uint32_t events)
{
	struct vring *vr = container_of(w, struct vring, kick_watch);
	eventfd_t v;
	(void)events;
	/* The fd may have been replaced since epoll reported it: never block. */
	if (vr->kick_fd < 0 || !fd_readable(vr->kick_fd))
		return;
	if (eventfd_read(vr->kick_fd, &v) < 0)
		return;
	vsock_kicked(vr->index);
}

static struct virtq_desc read_desc(const struct vring *vr, uint16_t i)
{
	volatile struct virtq_desc *p = &vr->desc[i];
	struct virtq_desc d = { .addr = p->addr, .len = p->len, .flags = p->flags, .next = p->next };
	return d;
}

/* Follows the chain from head into c. Returns 0, or -1 after logging why
 * the chain is unusable. */
static int walk_chain(const struct vring *vr, uint16_t head, struct chain *c, bool device_writes)
{
	uint16_t i = head;
	c->head = head;
	c->niov = 0;
	c->len = 0;
	for (unsigned count = 1;; count++) {
		struct virtq_desc d = read_desc(vr, i);
		if (count > vr->num) {
			log_err("queue %d: chain at head %u loops or is longer than the ring (%u); skipped",
				vr->index, head, vr->num);
			return -1;
		}
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			log_err("queue %d: indirect descriptor %u (not negotiated); chain skipped", vr->index, i);
			return -1;
		}
		if (!(d.flags & VIRTQ_DESC_F_WRITE) != !device_writes) {
			log_err("queue %d: descriptor %u is device-%s, expected device-%s; chain skipped",
				vr->index, i, device_writes ? "readable" : "writable",
				device_writes ? "writable" : "readable");
			return -1;
		}
		int n = gpa_to_iov(d.addr, d.len, c->iov + c->niov, CHAIN_MAX_IOV - c->niov);
		if (n < 0) {
			log_err("queue %d: descriptor %u (addr 0x%llx, len %u) is outside guest memory "
				"or the chain has over %d pieces; chain skipped",
				vr->index, i, (unsigned long long)d.addr, d.len, CHAIN_MAX_IOV);
			return -1;
		}
		c->niov += n;
		c->len += d.len;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= vr->num) {
			log_err("queue %d: descriptor %u: next index %u is not below the ring size %u; chain skipped",
				vr->index, i, d.next, vr->num);
			return -1;
		}
		i = d.next;
	}
}

int vring_peek(struct vring *vr, struct chain *c, bool device_writes)
{
	while (vring_usable(vr)) {
		uint16_t avail = __atomic_load_n(&vr->avail->idx, __ATOMIC_ACQUIRE);
		uint16_t pending = avail - vr->last_avail;
		if (pending == 0)
			return 0;
		if (pending > vr->num) {
			ring_broken(vr, "available index %u runs more than the ring size ahead (%u)",
				    avail, vr->num);
			return 0;
		}
		uint16_t head = __atomic_load_n(&vr->avail->ring[vr->last_avail % vr->num], __ATOMIC_RELAXED);
		if (head >= vr->num) {
			ring_broken(vr, "available ring entry %u is not below the ring size %u", head, vr->num);
			return 0;
		}
		if (walk_chain(vr, head, c, device_writes) == 0)
			return 1;
		c->head = head;
		vring_commit(vr, c, 0);
	}
	return 0;
}

void vring_commit(struct vring *vr, const struct chain *c, uint32_t len)
{
	struct virtq_used_elem *e = &vr->used->ring[vr->used_idx % vr->num];
	__atomic_store_n(&e->id, c->head, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	vr->used_idx++;
	vr->last_avail++;
	/* The entry must be visible before the index that publishes it. */
	__atomic_store_n(&vr->used->idx, vr->used_idx, __ATOMIC_RELEASE);
	vr->need_call = true;
}

/* virtio 1.2 2.7.7: without EVENT_IDX the driver's VIRTQ_AVAIL_F_NO_INTERRUPT
 * asks us not to interrupt. Read it only after the used index is out. */
void vring_notify(struct vring *vr)
{
	if (!vr->need_call || !vr->started || !vr->avail)
		return;
	vr->need_call = false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vr->avail->flags, __ATOMIC_RELAXED) & VIRTQ_AVAIL_F_NO_INTERRUPT)
		return;
	if (vr->call_fd >= 0)
		eventfd_write(vr->call_fd, 1);
}

/* ---- chains as byte streams ---- */

int chain_slice(const struct chain *c, size_t off, size_t len, struct iovec *iov, int max)
{
	int n = 0;
	for (int i = 0; i < c->niov && len > 0 && n < max; i++) {
		size_t l = c->iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t take = l - off < len ? l - off : len;
		iov[n].iov_base = (uint8_t *)c->iov[i].iov_base + off;
		iov[n].iov_len = take;
		n++;
		len -= take;
		off = 0;
	}
	return n;
}

/* Copies between the chain's bytes [off, off+len) and buf. */
static size_t chain_copy(const struct chain *c, size_t off, void *buf, size_t len, bool into_chain)
{
	size_t done = 0;
	for (int i = 0; i < c->niov && done < len; i++) {
		size_t l = c->iov[i].iov_len;
		if (off >= l) {
			off -= l;
			continue;
		}
		size_t take = l - off < len - done ? l - off : len - done;
		uint8_t *g = (uint8_t *)c->iov[i].iov_base + off;
		if (into_chain)
			memcpy(g, (const uint8_t *)buf + done, take);
		else
			memcpy((uint8_t *)buf + done, g, take);
		done += take;
		off = 0;
	}
	return done;
}

size_t chain_read(const struct chain *c, size_t off, void *dst, size_t len)
{
	return chain_copy(c, off, dst, len, false);
}

size_t chain_write(const struct chain *c, size_t off, const void *src, size_t len)
{
	return chain_copy(c, off, (void *)src, len, true);
}
