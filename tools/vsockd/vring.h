/* Guest memory (from VHOST_USER_SET_MEM_TABLE) and split virtqueues
 * (virtio 1.2 section 2.7), seen from the device side. */
#ifndef VRING_H
#define VRING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vsockd.h"
#include "../../virtio/wire.h"

#define MEM_MAX_REGIONS 8
#define VRING_MAX_NUM 32768
#define NUM_QUEUES 3             /* 0 rx (host to guest), 1 tx, 2 event */
#define CHAIN_MAX_IOV 1024

/* One region as VHOST_USER_SET_MEM_TABLE describes it. */
struct mem_region_msg {
	uint64_t gpa;            /* guest physical address */
	uint64_t size;
	uint64_t uva;            /* QEMU's virtual address of the region */
	uint64_t mmap_offset;    /* where the region starts in the fd */
};

int mem_set_table(const struct mem_region_msg *r, int n, const int *fds);
void mem_clear(void);
bool mem_ready(void);

/* A descriptor chain, translated into host iovecs. */
struct chain {
	uint16_t head;
	int niov;
	size_t len;              /* total bytes */
	struct iovec iov[CHAIN_MAX_IOV];
};

struct vring {
	int index;
	unsigned num;            /* 0 until SET_VRING_NUM */
	bool have_addr;
	uint64_t desc_uva, avail_uva, used_uva;
	uint16_t base;           /* from SET_VRING_BASE */
	int kick_fd, call_fd, err_fd;
	bool started;            /* kick fd received, not stopped since */
	bool enabled;            /* SET_VRING_ENABLE */
	bool broken;             /* the guest corrupted the ring: ignore it */
	bool need_call;          /* used entries added since the last call */
	/* valid while started */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t last_avail, used_idx;
	struct watch kick_watch;
};

extern struct vring vrings[NUM_QUEUES];

void vring_init_all(void);
void vring_reset(struct vring *vr);
int vring_start(struct vring *vr);
void vring_stop(struct vring *vr);
int vring_remap(struct vring *vr);
bool vring_usable(const struct vring *vr);

/* Takes the next available chain without consuming it: 1 = *c filled,
 * 0 = none available (or the ring is broken). Malformed chains are logged,
 * returned to the guest with length 0, and skipped. device_writes: the
 * chain must be device-writable (rx) rather than device-readable (tx). */
int vring_peek(struct vring *vr, struct chain *c, bool device_writes);
/* Consumes the chain last peeked, putting it in the used ring. */
void vring_commit(struct vring *vr, const struct chain *c, uint32_t len);
/* Signals the call eventfd if used entries were added (and the driver
 * did not ask for no interrupts). */
void vring_notify(struct vring *vr);

/* Copies between a chain and a flat buffer, from byte offset off. */
size_t chain_read(const struct chain *c, size_t off, void *dst, size_t len);
size_t chain_write(const struct chain *c, size_t off, const void *src, size_t len);
/* Fills iov with the chain's bytes [off, off+len); returns the count. */
int chain_slice(const struct chain *c, size_t off, size_t len, struct iovec *iov, int max);

#endif
