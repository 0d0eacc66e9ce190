/* A rank: one private copy of the application (text, data, bss) with its
 * stack, memory regions and file descriptors. Ranks are processes in all
 * but the address space, which they share with the kernel. */
#pragma once
#include "types.h"
#include "spinlock.h"

#define MAX_FDS 1024
#define STACK_GUARD (64 * 1024)

struct file;

/* A run of pages a rank obtained with mmap; munmap and mremap check them. */
struct region {
	uint64_t start, end;
	bool guarded;               /* some pages made absent by PROT_NONE */
	struct region *next;
};

struct proc {
	int rank, nranks;
	uint8_t *image;             /* the loaded copy of the program */
	size_t image_pages;
	uint64_t base;              /* load bias: runtime address - ELF vaddr */
	uint64_t entry;
	uint64_t initial_sp;
	uint8_t *stack;             /* lowest usable byte; STACK_GUARD below is unmapped */
	size_t stack_size;
	uint64_t brk;
	struct region *regions;
	struct file *fds[MAX_FDS];
	char *cwd;                  /* working directory (kmalloc'd), NULL for "/" */
	struct thread *thread;
	uint64_t start_ns;
	void *services;             /* the MPI service table, or NULL */
	/* Threads (thread_sys.c): the rank owns cores first_core ..
	 * first_core + threads_per_rank - 1. */
	int first_core;
	struct spinlock tlock;      /* guards threads and nthreads */
	struct thread *threads;     /* live user threads, through tnext */
	volatile int nthreads;
	volatile int exiting;       /* exit_group or a fatal signal ended the rank */
	volatile int mlock;         /* memory and files while threads > 1 (proc_lock) */
};

extern struct proc *procs[MAX_CPUS];
/* Set by the boot sequence when the MPI services are linked in: the
 * table a rank finds under AT_TORO in its auxiliary vector. */
extern void *(*service_table_for)(int rank);
extern int nprocs;

struct proc *current_proc(void);
void proc_exit(struct proc *p, int status) __attribute__((noreturn));
void proc_kill(struct proc *p, int sig) __attribute__((noreturn));

/* thread_sys.c (its system calls are in syscalls.h) */
void proc_add_main_thread(struct proc *p, struct thread *t);
void proc_lock(struct proc *p);
void proc_unlock(struct proc *p);
void rank_kick(int rank);

/* futex.c */
int futex_wake(uint64_t uaddr, int n, uint32_t bitset);
long do_futex(uint64_t uaddr, int op, uint32_t val, uint64_t timeout, uint64_t uaddr2, uint32_t val3);

/* console_file.c */
void files_init(struct proc *p);
void files_flush_console(struct proc *p);

/* syscall.c (the handlers are in syscalls.h) */
void syscall_init_cpu(void);
bool user_ok(const void *p, size_t len);
