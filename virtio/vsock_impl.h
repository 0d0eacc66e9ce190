/* Between the two halves of the virtio-vsock driver: vsock_dev.c (the
 * device: its queues, the packet buffers, the pump, waking waiters) and
 * vsock.c (the connections and the socket calls). Private to them. */
#pragma once
#include "vsock.h"
#include "../kernel/spinlock.h"

#define TX_SLOT_SIZE (32 * 1024)         /* one transmitted packet, header included */
#define TX_PAYLOAD_MAX (TX_SLOT_SIZE - sizeof(struct vsock_hdr))

/* One lock guards the queues and every connection. */
extern struct spinlock vsock_lock;
extern bool vsock_up;                    /* a device runs (and is not broken) */
extern uint64_t vsock_cid;               /* the guest's CID (config space) */

/* vsock_dev.c; the lock held unless said otherwise. */
/* Queues one packet; false when every transmit slot is in use. */
bool vsock_tx_packet(const struct vsock_hdr *h, const struct iovec64 *iov, int niov);
/* A packet without payload: sent, or kept until a slot is free. */
void vsock_tx_control(const struct vsock_hdr *h);
bool vsock_tx_room(void);
/* Takes everything the device has done (and hands it to vsock.c). */
void vsock_pump_locked(void);
void vsock_pump(void);                   /* lock not held: takes it if free */
/* Waits in the scheduler until cond(arg); the device's interrupt and the
 * pump wake the core. Lock not held. */
void vsock_wait_for(bool (*cond)(void *), void *arg);
void vsock_note_waiter(void);            /* this core waits (now or soon) */

/* vsock.c: what the device hands to the connections. */
void vsock_receive(const struct vsock_hdr *h, const uint8_t *data);
void vsock_expire(void);                 /* connect attempts and orphans past their time */
void vsock_reset_conns(void);            /* TRANSPORT_RESET: live connections fail */
void vsock_fail_all(void);               /* the device is gone: every non-listener fails */
