/* The virtio-mmio transport, version 2 (virtio 1.1 section 4.2). */
#pragma once
#include "../kernel/types.h"
#include "virtqueue.h"

#define VIRTIO_F_VERSION_1 (1ull << VIRTIO_F_VERSION_1_BIT)

struct vmmio {
	uint64_t base;
	int slot;
	uint32_t device_id;
	int gsi, vector;     /* vector -1: no interrupt, the driver polls */
};

/* Device initialisation up to FEATURES_OK (virtio 1.1 section 3.1.1):
 * wanted must include VIRTIO_F_VERSION_1. Returns the negotiated set,
 * or 0 (device marked FAILED) when the device refuses. */
uint64_t vmmio_negotiate(struct vmmio *d, uint64_t wanted);
/* name: the queue in console lines (a string that lives for ever). */
int vmmio_queue_setup(struct vmmio *d, int index, struct virtq *vq, uint16_t max_size, int pool, const char *name);
void vmmio_driver_ok(struct vmmio *d);
void vmmio_notify(struct vmmio *d, int index);
uint32_t vmmio_ack_interrupt(struct vmmio *d);
bool vmmio_needs_reset(struct vmmio *d);
void vmmio_reset(struct vmmio *d);
void vmmio_failed(struct vmmio *d);
uint32_t vmmio_config32(struct vmmio *d, uint32_t off);
uint8_t vmmio_config8(const struct vmmio *d, uint32_t off);
/* Routes the transport's interrupt to vector on CPU 0; -1 if impossible. */
int vmmio_irq(struct vmmio *d, void (*fn)(int, void *), void *arg);

/* A driver: virtio_probe offers it each device of its type (a copy of
 * the transport); probe returns true when it took the device. The table
 * is virtio/drivers.c. */
struct virtio_driver {
	uint32_t device_id;
	bool (*probe)(const struct vmmio *d);
};
extern const struct virtio_driver virtio_drivers[];
