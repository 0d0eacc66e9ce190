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
};

extern struct proc *procs[MAX_CPUS];
/* Set by the boot sequence when the MPI services are linked in: the
 * table a rank finds under AT_TORO in its auxiliary vector. */
extern void *(*service_table_for)(int rank);
extern int nprocs;

struct proc *current_proc(void);
void proc_exit(struct proc *p, int status) __attribute__((noreturn));
void proc_kill(struct proc *p, int sig) __attribute__((noreturn));

/* file.c */
void files_init(struct proc *p);
void files_flush_console(struct proc *p);

/* syscall.c (the handlers are in syscalls.h) */
void syscall_init_cpu(void);
bool user_ok(const void *p, size_t len);
