/* The virtio wire formats Toro's guest drivers (virtio/) and the host
 * backend (tools/vsockd/) both read and write: device ids and feature
 * bits, split virtqueues (virtio 1.2 section 2.7), the virtio-vsock
 * configuration and packet header (section 5.10). Packed rings are not
 * used by either side.
 * Fixed-width types only, so the same header serves the freestanding
 * kernel and host C. All fields are little endian (x86 on both sides). */
#pragma once
#include <stdint.h>

/* 5: device ids */
#define VIRTIO_ID_VSOCK 19
#define VIRTIO_ID_FS 26

/* 6: feature bit numbers */
#define VIRTIO_F_VERSION_1_BIT 32

/* 2.7.5: the descriptor table */
#define VIRTQ_DESC_F_NEXT 1       /* the chain goes on at .next */
#define VIRTQ_DESC_F_WRITE 2      /* device-writable (else device-readable) */
#define VIRTQ_DESC_F_INDIRECT 4   /* not offered by Toro; vsockd refuses it */

struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

/* 2.7.6: the available ring (driver to device) */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];          /* then used_event */
};

/* 2.7.8: the used ring (device to driver) */
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq_used_elem {
	uint32_t id;              /* the head of the chain */
	uint32_t len;             /* bytes the device wrote into it */
};

struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[]; /* then avail_event */
};

/* 5.10.4: struct virtio_vsock_config */
struct vsock_config {
	uint64_t guest_cid;
};

/* 5.10.6: struct virtio_vsock_hdr, packed */
struct vsock_hdr {
	uint64_t src_cid;
	uint64_t dst_cid;
	uint32_t src_port;
	uint32_t dst_port;
	uint32_t len;             /* payload bytes after the header */
	uint16_t type;
	uint16_t op;
	uint32_t flags;
	uint32_t buf_alloc;
	uint32_t fwd_cnt;
} __attribute__((packed));

#define VSOCK_HDR_SIZE 44
_Static_assert(sizeof(struct vsock_hdr) == VSOCK_HDR_SIZE, "virtio 1.2 section 5.10.6");

#define VSOCK_TYPE_STREAM 1

enum {
	VSOCK_OP_REQUEST = 1,
	VSOCK_OP_RESPONSE = 2,
	VSOCK_OP_RST = 3,
	VSOCK_OP_SHUTDOWN = 4,
	VSOCK_OP_RW = 5,
	VSOCK_OP_CREDIT_UPDATE = 6,
	VSOCK_OP_CREDIT_REQUEST = 7,
};

/* the flags of VSOCK_OP_SHUTDOWN */
#define VSOCK_SHUT_RCV 1
#define VSOCK_SHUT_SEND 2
#define VSOCK_SHUT_BOTH 3

/* 5.10.6.5: the event queue's struct virtio_vsock_event */
#define VSOCK_EVENT_TRANSPORT_RESET 0
