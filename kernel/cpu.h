/* Per-CPU data, reached through %gs (the application owns %fs). */
#pragma once
#include "types.h"
#include "spinlock.h"

struct thread;

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

/* The first fields are read by assembly at fixed offsets (syscall.S). */
struct cpu {
	struct cpu *self;          /* %gs:0 */
	uint64_t scratch;          /* %gs:8: user %rsp during syscall entry */
	uint64_t kstack_top;       /* %gs:16: kernel stack of the current thread */
	struct thread *current;    /* %gs:24 */
	int id;                    /* index: 0 is the boot CPU, rank = id */
	uint32_t apic_id;
	volatile int online;
	volatile int halted;       /* set while in hlt waiting for an IPI */
	struct thread *idle;
	struct thread *dying;      /* exited, still on its stack until the switch */
	struct thread *migrating;  /* leaving for another core, on its stack until the switch */
	struct thread *fpu_owner;  /* whose state the FPU registers hold */
	struct spinlock rq_lock;   /* guards runq and the states of its threads */
	struct thread *runq_head, *runq_tail;
	struct thread *sleepers;   /* sorted by wake time; only this CPU touches it */
	uint64_t fs_base;          /* value loaded in MSR_FS_BASE */
	uint64_t halts, wake_ipis; /* statistics, read by the self-tests */
	uint64_t timer_armed_ns;
	int in_fault;
	int rank;                  /* the rank that owns this core: id / threads per rank */
	volatile int load;         /* user threads placed on this core */
	struct tss tss __attribute__((aligned(16)));
	uint64_t gdt[8] __attribute__((aligned(16)));
};

extern struct cpu *cpus[MAX_CPUS];
extern int ncpus;
extern int threads_per_rank; /* cores per rank (toro.tpr) */

static inline struct cpu *this_cpu(void)
{
	struct cpu *c;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}
