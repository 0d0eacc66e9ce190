/* Split virtqueues (virtio 1.1 section 2.6): the descriptor table, the
 * available ring (driver to device) and the used ring (device to driver).
 * One implementation serves the devices (the driver role, the host being
 * the device) and VirtIOBus (where a guest core plays each role). */
#pragma once
#include "../kernel/types.h"
#include "wire.h"

struct virtq {
	uint16_t num;                 /* a power of 2 */
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	struct virtq_used *used;
	uint16_t free_head, num_free; /* driver: the chain of unused descriptors */
	uint16_t last_used;           /* driver: next used entry to read */
	uint16_t last_avail;          /* device: next available entry to read */
	void *mem;
	size_t mem_pages;
};

int virtq_init(struct virtq *vq, uint16_t num, int pool);

/* Driver role. add returns the head descriptor, or -1 when the table is
 * full; the buffer becomes visible to the device at virtq_kick_prepare. */
int virtq_add(struct virtq *vq, const uint64_t *addr, const uint32_t *len, int nout, int nin);
void virtq_publish(struct virtq *vq);
bool virtq_used_pending(const struct virtq *vq);
bool virtq_get_used(struct virtq *vq, uint16_t *head, uint32_t *len);
void virtq_recycle(struct virtq *vq, uint16_t head);

/* Device role. */
bool virtq_get_avail(struct virtq *vq, uint16_t *head);
void virtq_put_used(struct virtq *vq, uint16_t head, uint32_t len);
