/* The service table each rank's MPI library calls (../svc.h): VirtIOBus,
 * waiting and waking, the clock, ending the job. One table per rank; the
 * functions run on the calling rank's thread. */
#include "../svc.h"
#include "../../kernel/defs.h"
#include "../../kernel/cpu.h"
#include "../../kernel/sched.h"
#include "../../kernel/proc.h"
#include "../../virtio/bus.h"

#define SHARED_SIZE (64 * 1024)

_Static_assert(TORO_MAX_RANKS == MAX_CPUS, "mpi/svc.h and the kernel disagree on the most ranks");
_Static_assert(TORO_BUS_SLOT == BUS_SLOT, "mpi/svc.h and virtio/bus.h disagree on the slot size");

static struct toro_svc tables[MAX_CPUS];

static void notify_rank(int rank)
{
	if (rank >= 0 && rank < nprocs)
		rank_kick(rank);
}

static __attribute__((noreturn)) void abort_job(int status, const char *msg)
{
	struct proc *p = current_proc();
	if (p)
		files_flush_console(p);
	if (msg)
		kprintf("%s\n", msg);
	job_exit(status);
}

/* Fills in one table per rank; returns NULL if memory is short. */
void *services_for_rank(int rank)
{
	static void *shared;
	if (!shared) {
		shared = page_alloc_any(0, SHARED_SIZE / PAGE_SIZE);
		if (!shared)
			return NULL;
		memset(shared, 0, SHARED_SIZE);
	}
	struct toro_svc *t = &tables[rank];
	*t = (struct toro_svc){
		.version = TORO_SVC_VERSION,
		.rank = rank,
		.nranks = nprocs,
		.time_ns = time_ns,
		.bus_max_len = bus_max_len(),
		.bus_get_buf = bus_get_buf,
		.bus_post = bus_post,
		.bus_peek = bus_peek,
		.bus_release = bus_release,
		.bus_pending = bus_pending,
		.bus_take_pending = bus_take_pending,
		.wait_until = sched_wait_until,
		.notify = notify_rank,
		.yield = thread_yield,
		.abort_job = abort_job,
		.shared = shared,
		.shared_size = SHARED_SIZE,
	};
	return t;
}
