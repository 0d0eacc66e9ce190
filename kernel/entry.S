/* PVH entry: 32-bit protected mode, paging off, %ebx = hvm_start_info.
 * Zero .bss, map the first GiB with 2 MiB pages, enter long mode and call
 * kmain(start_info). The real page tables are built later by mmu.c. */

#define XEN_ELFNOTE_PHYS32_ENTRY 18

	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 4, XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.long pvh_start
	.balign 4

/* Marks the ELF as a Toro image for toro-run. */
	.section .note.toro, "a", @note
	.balign 4
	.long 5, 8, 1
	.asciz "Toro"
	.balign 4
	.ascii "toro-1.0"
	.balign 4

	.section .text.boot, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cli
	cld
	mov %ebx, %esi
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl
	mov %esi, boot_info_pa

	/* pml4[0] -> pdpt, pdpt[0] -> pd, pd[i] = i * 2 MiB, present|write|large */
	mov $boot_pdpt, %eax
	or $3, %eax
	mov %eax, boot_pml4
	mov $boot_pd, %eax
	or $3, %eax
	mov %eax, boot_pdpt
	xor %ecx, %ecx
1:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax
	mov %eax, boot_pd(,%ecx,8)
	inc %ecx
	cmp $512, %ecx
	jne 1b

	mov %cr4, %eax
	or $0x20, %eax          /* PAE */
	mov %eax, %cr4
	mov $boot_pml4, %eax
	mov %eax, %cr3
	mov $0xc0000080, %ecx   /* EFER: long mode enable, NX enable */
	rdmsr
	or $0x900, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80010001, %eax    /* PG, WP, PE */
	mov %eax, %cr0
	lgdt boot_gdtr
	ljmp $0x08, $long_entry

	.code64
long_entry:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	xor %ax, %ax
	mov %ax, %fs
	mov %ax, %gs
	mov $boot_stack_top, %rsp
	xor %ebp, %ebp
	mov boot_info_pa, %edi
	call kmain
2:	hlt
	jmp 2b

	.section .rodata
	.balign 16
boot_gdt:
	.quad 0
	.quad 0x00af9a000000ffff   /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff   /* 0x10: data */
boot_gdtr:
	.word boot_gdtr - boot_gdt - 1
	.long boot_gdt

	.section .bss
	.balign 4096
	.globl boot_pml4
boot_pml4: .skip 4096
boot_pdpt: .skip 4096
boot_pd:   .skip 4096
	.globl boot_stack_bottom
boot_stack_bottom:
	.skip 16384
boot_stack_top:
	.balign 4
	.globl boot_info_pa
boot_info_pa: .skip 4
