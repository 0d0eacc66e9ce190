/* The host shim under mpi/lib/match.c (match_shim.c). */
#pragma once
#include "p2p.h"

#define SHIM_RANKS 4
#define SHIM_MSG 512          /* the longest bus message */
#define FIFO_MAX 512

struct fifo {
	unsigned head, n;
	uint32_t len[FIFO_MAX];
	unsigned char buf[FIFO_MAX][SHIM_MSG];
};

extern struct fifo fifos[SHIM_RANKS], sent[SHIM_RANKS];
extern uint64_t shim_pending;
extern int shim_notified[SHIM_RANKS];
extern int shim_room, shim_released;

/* A message from rank src (its header m, then n bytes of eager data) in
 * this rank's ring from src, with src's pending bit. */
void shim_deliver(int src, const struct msg *m, const void *data, size_t n);
void shim_reset(void);
