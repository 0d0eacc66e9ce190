/* libFuzzer target (make fuzz): the bytes are what a guest puts in
 * toro-vsockd's queues -- descriptor chains on the tx queue and the vsock
 * packets in them -- parsed by tools/vsockd (vring.c's chain walk,
 * vsock.c's header checks and connection state machine), with one
 * established connection to a host socket pair and, when the bytes ask,
 * rx buffers for the replies. The program is vsockd without main.c and
 * vhost_user.c: guest memory is a memfd set as the memory table, as
 * QEMU's SET_MEM_TABLE would. Nothing may crash (ASan, UBSan). */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include "../../tools/vsockd/vring.h"
#include "../../tools/vsockd/vsock.h"

struct options opt = {.guest_cid = 3};

#define MEM_SIZE 0x60000
#define UVA 0x7f0000000000ull   /* QEMU's address of the region: any value */
#define QNUM 16
#define TX_RING 0x0000           /* desc, then avail at +0x1000, used at +0x2000 */
#define RX_RING 0x3000
#define TX_DATA 0x10000          /* packets */
#define TX_DATA_SIZE 0x20000
#define RX_BUFS 0x30000          /* QNUM buffers of 4 KiB */
#define HOST_PORT 1024
#define GUEST_PORT 5000

static uint8_t *guest;

struct input {
	const uint8_t *p;
	size_t n;
};

static uint32_t take(struct input *in, int bytes)
{
	uint32_t v = 0;
	for (int i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v |= (uint32_t)*in->p << (8 * i);
	return v;
}

static void ring_setup(int q, uint64_t at)
{
	struct vring *vr = &vrings[q];
	vr->num = QNUM;
	vr->desc_uva = UVA + at;
	vr->avail_uva = UVA + at + 0x1000;
	vr->used_uva = UVA + at + 0x2000;
	vr->have_addr = true;
	vr->kick_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	vr->enabled = true;
	if (vr->kick_fd < 0 || vring_start(vr) < 0)
		abort();
}

static void setup(void)
{
	g_epfd = epoll_create1(EPOLL_CLOEXEC);
	int fd = memfd_create("guest", MFD_CLOEXEC);
	if (g_epfd < 0 || fd < 0 || ftruncate(fd, MEM_SIZE) < 0)
		abort();
	guest = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	struct mem_region_msg r = {.gpa = 0, .size = MEM_SIZE, .uva = UVA, .mmap_offset = 0};
	if (guest == MAP_FAILED || mem_set_table(&r, 1, &fd) < 0)
		abort();
	vring_init_all();
	ring_setup(TXQ, TX_RING);
	ring_setup(RXQ, RX_RING);
}

static void ring_reset(int q, uint64_t at)
{
	memset(guest + at, 0, 0x3000);
	vrings[q].last_avail = vrings[q].used_idx = 0;
	vrings[q].broken = false;
}

static struct virtq_desc *desc(uint64_t ring) { return (struct virtq_desc *)(guest + ring); }
static struct virtq_avail *avail(uint64_t ring) { return (struct virtq_avail *)(guest + ring + 0x1000); }

static void post_rx(struct input *in)
{
	for (int i = 0; i < QNUM; i++) {
		uint32_t len = take(in, 1) & 1 ? 4096 : take(in, 2) % 4097;
		desc(RX_RING)[i] = (struct virtq_desc){RX_BUFS + 4096u * i, len, VIRTQ_DESC_F_WRITE, 0};
		avail(RX_RING)->ring[i] = i;
	}
	avail(RX_RING)->idx = QNUM;
}

/* One packet from the bytes, in up to three device-readable descriptors
 * from *d on; flags says which header fields to make plausible. */
static uint16_t put_packet(struct input *in, unsigned flags, uint32_t *data, uint16_t *d)
{
	uint32_t want = take(in, 2) % 2048, n = want < in->n ? want : (uint32_t)in->n;
	if (*data + n + 64 > TX_DATA + TX_DATA_SIZE)
		*data = TX_DATA;
	uint8_t *pkt = guest + *data;
	memcpy(pkt, in->p, n);
	in->p += n, in->n -= n;
	struct vsock_hdr h;
	if (n >= VSOCK_HDR_SIZE) {
		memcpy(&h, pkt, sizeof h);
		if (flags & 1)
			h.src_cid = opt.guest_cid, h.dst_cid = HOST_CID;
		if (flags & 2)
			h.src_port = GUEST_PORT, h.dst_port = HOST_PORT;
		if (flags & 4)
			h.type = VSOCK_TYPE_STREAM, h.op = 1 + h.op % 7;
		if (flags & 8)
			h.len = n - VSOCK_HDR_SIZE;
		memcpy(pkt, &h, sizeof h);
	}
	uint32_t cut1 = n ? take(in, 2) % (n + 1) : 0, cut2 = cut1 + (n - cut1 ? take(in, 2) % (n - cut1 + 1) : 0);
	uint32_t ends[3] = {cut1, cut2, n};
	uint16_t head = *d % QNUM, prev = head;
	uint32_t start = 0;
	for (int i = 0; i < 3; i++) {
		if (i && ends[i] == start)
			continue;
		uint16_t k = *d % QNUM;
		if (i)
			desc(TX_RING)[prev].flags |= VIRTQ_DESC_F_NEXT, desc(TX_RING)[prev].next = k;
		desc(TX_RING)[k] = (struct virtq_desc){*data + start, ends[i] - start, 0, 0};
		prev = k;
		start = ends[i];
		(*d)++;
	}
	*data += n;
	return head;
}

static void drain(int fd)
{
	char buf[4096];
	while (read(fd, buf, sizeof buf) > 0)
		;
}

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size)
{
	if (!guest)
		setup();
	ring_reset(TXQ, TX_RING);
	ring_reset(RXQ, RX_RING);
	struct input in = {bytes, size};
	unsigned flags = take(&in, 1);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	struct conn *c = conn_new(K_UDS_IN, sv[0]);
	conn_set_ports(c, HOST_PORT, GUEST_PORT);
	c->state = flags & 0x10 ? S_REQUEST : S_ESTABLISHED;
	c->peer_buf_alloc = 65536;
	conn_update_events(c);
	if (flags & 0x20)
		post_rx(&in);
	uint32_t data = TX_DATA;
	uint16_t d = 0, a = 0;
	while (in.n && a < 64) {
		if (flags & 0x40) { /* raw: any descriptor, any head */
			uint32_t k = take(&in, 1) % QNUM;
			for (int i = 0; i < 16; i++)
				((uint8_t *)&desc(TX_RING)[k])[i] = (uint8_t)take(&in, 1);
			avail(TX_RING)->ring[a % QNUM] = (uint16_t)take(&in, 2);
		} else {
			avail(TX_RING)->ring[a % QNUM] = put_packet(&in, flags, &data, &d);
		}
		a++;
		avail(TX_RING)->idx = flags & 0x80 ? (uint16_t)take(&in, 2) : a;
		vsock_kicked(TXQ);
		if (!c->dead && (flags & 0x30) == 0x20 && send(sv[1], "host bytes", 10, MSG_NOSIGNAL) > 0)
			conn_event(&c->w, EPOLLIN);
		vsock_flush();
		drain(sv[1]);
	}
	close(sv[1]);
	vsock_reset_all("fuzz");
	conn_reap();
	return 0;
}
