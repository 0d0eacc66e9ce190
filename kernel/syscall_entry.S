/* Entry for the `syscall` instruction, which rank code executes in ring 0.
 * SYSCALL leaves %rsp alone, so switch at once to the thread's kernel
 * stack (%gs:16): nothing is pushed into the application's red zone.
 * Return without sysret (it would drop to ring 3): restore RFLAGS, load
 * the application's %rsp and jump to the saved %rip. As on Linux, %rcx
 * and %r11 are clobbered and every other register is preserved. */
	.text
	.globl syscall_entry
syscall_entry:
	mov %rsp, %gs:8
	mov %gs:16, %rsp
	pushq %gs:8          /* application %rsp */
	push %r11            /* application RFLAGS */
	push %rcx            /* application %rip */
	push %rax            /* syscall number */
	push %rdi
	push %rsi
	push %rdx
	push %r10
	push %r8
	push %r9
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	xor %ebp, %ebp
	sti
	mov %rsp, %rdi
	call syscall_dispatch
syscall_exit:
	cli
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	pop %r9
	pop %r8
	pop %r10
	pop %rdx
	pop %rsi
	pop %rdi
	add $8, %rsp
	pop %rcx
	mov (%rsp), %r11
	popfq
	pop %rsp
	jmp *%rcx

/* syscall_return_zero(frame): a new thread leaves its first "system
 * call" through the same exit path, with %rax = 0. */
	.globl syscall_return_zero
syscall_return_zero:
	mov %rdi, %rsp
	xor %eax, %eax
	jmp syscall_exit

/* enter_user(entry, sp): start the program as the ELF ABI says: %rsp at
 * argc, %rdx = 0 (no function for atexit), the other registers zero. */
	.globl enter_user
enter_user:
	mov %rsi, %rsp
	mov %rdi, %rcx
	xor %eax, %eax
	xor %ebx, %ebx
	xor %edx, %edx
	xor %esi, %esi
	xor %edi, %edi
	xor %ebp, %ebp
	xor %r8d, %r8d
	xor %r9d, %r9d
	xor %r10d, %r10d
	xor %r11d, %r11d
	xor %r12d, %r12d
	xor %r13d, %r13d
	xor %r14d, %r14d
	xor %r15d, %r15d
	jmp *%rcx
