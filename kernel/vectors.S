/* Interrupt and exception entry. Every vector has a stub that pushes a
 * dummy error code where the CPU pushes none, then the vector number.
 * All gates use IST stacks (cpu.c), so the interrupted code's red zone
 * and stack are never touched. */

	.text
	.macro stub n
	.balign 16
trap_stub_\n:
	.if (\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	.else
	pushq $0
	.endif
	pushq $\n
	jmp trap_common
	.endm

	.altmacro
	.set i, 0
	.rept 256
	stub %i
	.set i, i + 1
	.endr

trap_common:
	cld
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi
	call trap
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp
	iretq

	.macro stubaddr n
	.quad trap_stub_\n
	.endm

	.section .rodata
	.balign 8
	.globl trap_stubs
trap_stubs:
	.set i, 0
	.rept 256
	stubaddr %i
	.set i, i + 1
	.endr
