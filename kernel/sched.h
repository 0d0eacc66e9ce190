/* Threads and the per-core cooperative scheduler. */
#pragma once
#include "types.h"

enum thread_state { T_RUNNABLE, T_RUNNING, T_BLOCKED, T_SLEEPING, T_DEAD };

struct thread {
	uint64_t rsp;                /* saved by swtch() */
	struct cpu *cpu;             /* the core it runs on, for its whole life */
	volatile int state;
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
	int id;
	int rank;                    /* -1 for kernel threads */
	uint8_t *user_stack;         /* rank stack: lowest usable byte, guard below */
	size_t user_stack_size;
	char name[24];
	bool started;
};

struct thread *thread_create(int cpu, const char *name, void (*fn)(void *), void *arg, size_t stack_size);
int thread_join(struct thread *t);
void thread_exit(int status) __attribute__((noreturn));
void thread_yield(void);
void thread_sleep_ns(uint64_t ns);
void sched_wait_until(bool (*cond)(void *), void *arg);
void sched_kick(struct cpu *c);
void sched_init_cpu(void);
void sched_run_idle(void) __attribute__((noreturn));
struct thread *current_thread(void);

#define KSTACK_SIZE (32 * 1024)
