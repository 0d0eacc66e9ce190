/* Toro's service table: what the kernel offers the MPI library linked into
 * each rank. The loader passes its address in the auxiliary vector under
 * AT_TORO. Ranks call these functions directly (same ring, same address
 * space); they run on the rank's thread. Shared by kernel and app builds,
 * so only fixed-width types. */
#pragma once
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

#define TORO_SVC_VERSION 2
#define AT_TORO 0x746f726f
#define TORO_MAX_RANKS 64           /* the kernel's MAX_CPUS */
#define TORO_BUS_SLOT 256           /* bytes of one VirtIOBus buffer slot */

struct toro_svc {
	uint32_t version;
	int rank, nranks;              /* rank = core index in MPI_COMM_WORLD */

	uint64_t (*time_ns)(void);     /* monotonic, same on every core */

	/* VirtIOBus: one ring per ordered pair of ranks. A sender asks for
	 * room for a message of len <= bus_max_len bytes in the ring to dst
	 * (NULL while the ring is too full), fills it and posts it; the
	 * receiver reads the oldest message from src in place (NULL if none)
	 * and releases it when done. Messages from one sender arrive in the
	 * order they were posted. A message of at most TORO_BUS_SLOT bytes
	 * is the cheapest: one slot, one descriptor.
	 * bus_take_pending returns (and clears) one bit per sender that has
	 * posted since the last call; bus_pending says whether any bit is set.
	 * A posted message can be visible an instant before its bit. */
	size_t bus_max_len;
	void *(*bus_get_buf)(int dst, uint32_t len);
	void (*bus_post)(int dst, void *buf, uint32_t len);
	void *(*bus_peek)(int src, uint32_t *len);
	void (*bus_release)(int src, void *buf);
	bool (*bus_pending)(void);
	uint64_t (*bus_take_pending)(void);

	/* Waiting: cond is polled (spinning briefly, then halting until
	 * notified or a 50 ms tick); notify wakes rank r if it is halted. */
	void (*wait_until)(bool (*cond)(void *), void *arg);
	void (*notify)(int rank);
	void (*yield)(void);

	/* Ends the whole job at once with status, after printing msg (a line). */
	void (*abort_job)(int status, const char *msg) __attribute__((noreturn));

	/* A zeroed area shared by all ranks of the job (for collectives that
	 * use the single address space directly). */
	void *shared;
	size_t shared_size;

	/* The rank's live threads (the kernel keeps the count). */
	const volatile int *nthreads;
};
