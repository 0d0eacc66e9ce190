/* The virtio drivers by device type (virtio 1.1 section 5): virtio_probe
 * (mmio.c) offers each device it finds to them, in this order. */
#include "mmio.h"
#include "vsock.h"

bool virtio_fs_probe(const struct vmmio *d); /* fs.c */

const struct virtio_driver virtio_drivers[] = {
	{VIRTIO_ID_FS, virtio_fs_probe},
	{VIRTIO_ID_VSOCK, virtio_vsock_probe},
	{0, NULL},
};
