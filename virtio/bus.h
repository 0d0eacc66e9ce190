/* VirtIOBus: rank-to-rank messages through packed virtqueues in guest
 * memory, one per ordered pair of ranks, made on first use. */
#pragma once
#include "../kernel/types.h"

#define BUS_SLOT 256          /* bytes of one buffer slot (mpi/svc.h TORO_BUS_SLOT) */

uint32_t bus_max_len(void);   /* the longest message one post can carry */
void *bus_get_buf(int dst, uint32_t len);
void bus_post(int dst, void *buf, uint32_t len);
void *bus_peek(int src, uint32_t *len);
void bus_release(int src, void *buf);
bool bus_pending(void);
uint64_t bus_take_pending(void);
