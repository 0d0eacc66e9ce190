/* VirtIOBus: core-to-core messages through split virtqueues in guest
 * memory, one per ordered pair of cores, made on first use. */
#pragma once
#include "../kernel/types.h"

#define BUS_BUFS 16
#define BUS_BUF_SIZE (16 * 1024)

void *bus_get_buf(int dst);
void bus_post(int dst, void *buf, uint32_t len);
void *bus_peek(int src, uint32_t *len);
void bus_release(int src, void *buf);
bool bus_pending(void);
