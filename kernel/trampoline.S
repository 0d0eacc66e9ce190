/* Application processor start-up code. smp.c copies it to TRAMPOLINE_PA
 * (a page below 1 MiB), fills in the parameters at its end, and sends
 * INIT-SIPI-SIPI; the AP starts here in real mode at TRAMPOLINE_PA:0000. */

#define TRAMPOLINE_PA 0x8000
#define ABS(x) ((x) - trampoline_start + TRAMPOLINE_PA)

	.section .rodata
	.balign 16
	.code16
	.globl trampoline_start
trampoline_start:
	cli
	cld
	xor %ax, %ax
	mov %ax, %ds
	lgdtl ABS(tramp_gdtr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $ABS(tramp32)

	.code32
tramp32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %cr4, %eax
	or $0x20, %eax
	mov %eax, %cr4
	mov ABS(tramp_cr3), %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx
	rdmsr
	or $0x900, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80010001, %eax
	mov %eax, %cr0
	ljmp $0x18, $ABS(tramp64)

	.code64
tramp64:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov tramp_stack(%rip), %rsp
	mov tramp_cpu(%rip), %rdi
	xor %ebp, %ebp
	movabs $ap_entry, %rax
	call *%rax
1:	hlt
	jmp 1b

	.balign 16
tramp_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff   /* 0x08: 32-bit code */
	.quad 0x00cf92000000ffff   /* 0x10: data */
	.quad 0x00af9a000000ffff   /* 0x18: 64-bit code */
tramp_gdtr:
	.word 31
	.long ABS(tramp_gdt)
	.balign 8
	.globl trampoline_params
trampoline_params:
tramp_cr3:   .quad 0
tramp_stack: .quad 0
tramp_cpu:   .quad 0
	.globl trampoline_end
trampoline_end:
