/* The registers syscall_entry.S pushes on the thread's kernel stack, in
 * the order they lie in memory; it sits right under kstack_top. */
#pragma once
#include "types.h"

struct syscall_frame {
	uint64_t r15, r14, r13, r12, rbp, rbx;
	uint64_t r9, r8, r10, rdx, rsi, rdi;
	uint64_t nr, rip, rflags, rsp;
};

/* Returns from a system call that never ran on this thread: the frame's
 * registers, %rax = 0 (a clone child). */
void syscall_return_zero(struct syscall_frame *f) __attribute__((noreturn));
