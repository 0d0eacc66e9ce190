/* The smallest PVH kernel: it writes status 0 to isa-debug-exit at once.
 * Booting it measures what QEMU itself costs (the floor for boot times). */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4, 4, 18          /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.balign 4
	.long _start
	.balign 4
	.text
	.code32
	.globl _start
_start:
	xor %eax, %eax
	out %eax, $0xf4
1:	hlt
	jmp 1b
