/* Threads and the per-core cooperative scheduler. */
#pragma once
#include "types.h"

enum thread_state { T_RUNNABLE, T_RUNNING, T_BLOCKED, T_SLEEPING, T_DEAD };

struct thread {
	uint64_t rsp;                /* saved by swtch() */
	struct cpu *cpu;             /* the core it runs on, for its whole life */
	volatile int state;
	volatile int wake_pending;   /* a wake that raced with blocking */
	struct thread *next;         /* run queue or sleeper list */
	uint64_t wake_at;            /* ns, while sleeping */
	void (*fn)(void *);
	void *arg;
	uint8_t *stack;              /* lowest usable byte; the guard page is below */
	size_t stack_size;
	uint64_t fs_base;
	void *fpu;                   /* xsave/fxsave area, 64-byte aligned */
	void *fpu_mem;               /* the allocation holding it */
	volatile int exit_status;
	int detached;                /* freed by the scheduler when it ends */
	int id;
	int rank;                    /* -1 for kernel threads */
	uint8_t *user_stack;         /* rank stack: lowest usable byte, guard below */
	size_t user_stack_size;
	char name[24];
	bool started;
	/* user threads of a rank (kernel/thread_sys.c) */
	struct thread *snext;        /* sleeper list (a thread may be on it and a run queue) */
	struct thread *tnext;        /* the rank's thread list */
	int tid;
	uint64_t clear_tid;          /* CLONE_CHILD_CLEARTID / set_tid_address */
	uint64_t robust_list;
	uint64_t affinity;           /* allowed cores, a bit each */
	volatile int move_to;        /* core + 1 to migrate to at the next yield */
};

struct thread *thread_new(int cpu, const char *name, void (*fn)(void *), void *arg, size_t stack_size);
void thread_start(struct thread *t);
bool thread_block_until(uint64_t deadline_ns);
struct thread *thread_create(int cpu, const char *name, void (*fn)(void *), void *arg, size_t stack_size);
int thread_join(struct thread *t);
void thread_exit(int status) __attribute__((noreturn));
void thread_yield(void);
void thread_sleep_ns(uint64_t ns);
void thread_block(void);
void thread_wake(struct thread *t);
void sched_wait_until(bool (*cond)(void *), void *arg);
void sched_kick(struct cpu *c);
void sched_init_cpu(void);
void sched_run_idle(void) __attribute__((noreturn));
struct thread *current_thread(void);

#define KSTACK_SIZE (32 * 1024)
