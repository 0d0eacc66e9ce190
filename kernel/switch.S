/* swtch(&old->rsp, new->rsp): save the callee-saved registers on the
 * current stack, switch stacks, restore the new thread's. */
	.text
	.globl swtch
swtch:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, (%rdi)
	mov %rsi, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

/* First return of a new thread lands here with the thread in %rbx. */
	.globl thread_entry
thread_entry:
	mov %rbx, %rdi
	call thread_main
	ud2
