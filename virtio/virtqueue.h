/* Split virtqueues (virtio 1.1 section 2.6): the descriptor table, the
 * available ring (driver to device) and the used ring (device to driver).
 * One implementation serves the devices (the driver role, the host being
 * the device) and VirtIOBus (where a guest core plays each role).
 *
 * The rings are shared with the other side, so nothing read back from
 * them is trusted: a used id out of range or not in flight, a used length
 * beyond what the chain can hold, or an available head out of range marks
 * the queue broken (one console line naming it), as Linux's virtio_ring.c
 * does, and from then on it hands nothing back. The free list and each
 * chain's length and driver data are private (state), never read from
 * the shared descriptor table. */
#pragma once
#include "../kernel/types.h"
#include "wire.h"

struct virtq_state {          /* per head descriptor, driver role */
	void *data;               /* the driver's token for the chain */
	uint32_t writable;        /* bytes the device may write into it */
	uint16_t ndesc;           /* descriptors in the chain; 0: not in flight */
};

struct virtq {
	uint16_t num;                 /* a power of 2 */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t free_head, num_free; /* driver: the chain of unused descriptors */
	uint16_t last_used;           /* driver: next used entry to read */
	uint16_t last_avail;          /* device: next available entry to read */
	bool broken, reported;
	const char *why;              /* what broke it, and the value read */
	uint32_t why_value;
	const char *name;             /* for the console line */
	uint16_t *next;               /* private copy of the free list links */
	struct virtq_state *state;
	void *mem;
};

int virtq_init(struct virtq *vq, uint16_t num, int pool);

/* Driver role. add returns the head descriptor, or -1 when the table is
 * full or the queue broken; data comes back with the chain (virtq_get_buf).
 * The buffer becomes visible to the device at virtq_publish. */
int virtq_add(struct virtq *vq, const uint64_t *addr, const uint32_t *len, int nout, int nin);
int virtq_add_data(struct virtq *vq, const uint64_t *addr, const uint32_t *len, int nout, int nin, void *data);
void virtq_publish(struct virtq *vq);
bool virtq_used_pending(const struct virtq *vq);
/* The next used chain, checked: its data and the length the device
 * wrote; the chain is free again. false when there is none (or broken). */
bool virtq_get_buf(struct virtq *vq, void **data, uint32_t *len);
/* The same in two steps (VirtIOBus): the head, checked; then recycle. */
bool virtq_get_used(struct virtq *vq, uint16_t *head, uint32_t *len);
void virtq_recycle(struct virtq *vq, uint16_t head);

/* Device role. */
bool virtq_get_avail(struct virtq *vq, uint16_t *head);
/* True once broken; names the queue on the console the first time this
 * (or any call above) runs with interrupts on: an interrupt handler may
 * find the fault while its core holds the console lock. */
bool virtq_broken(struct virtq *vq);
void virtq_put_used(struct virtq *vq, uint16_t head, uint32_t len);
