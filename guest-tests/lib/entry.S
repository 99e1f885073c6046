/* SPDX-License-Identifier: MIT */
/* Multiboot v1 header, 32-bit entry, switch to long mode, AP trampoline and trap stubs. */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003 /* bit 0: page-align modules, bit 1: memory information */

#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define SEL_CODE32 0x18

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

/*
 * From 32-bit protected mode with paging off: load our GDT, enable PAE + SSE, point CR3 at the
 * shared identity map, set EFER.LME, turn on paging and jump to 64-bit code at \target.
 * Clobbers eax, ecx, edx.
 */
.macro ENTER_LONG target
	lgdt gdt_ptr
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov %cr4, %eax
	or $((1 << 5) | (1 << 9) | (1 << 10)), %eax /* PAE, OSFXSR, OSXMMEXCPT */
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx /* IA32_EFER */
	rdmsr
	or $(1 << 8), %eax /* LME */
	wrmsr
	mov %cr0, %eax
	and $~(1 << 2), %eax /* EM off */
	or $((1 << 31) | (1 << 1) | 1), %eax /* PG, MP, PE */
	mov %eax, %cr0
	ljmp $SEL_CODE64, $\target
.endm

	.section .text.entry, "ax"
	.code32
	.globl _start
_start:
	cli
	cld
	mov %eax, %ebp /* multiboot magic */
	mov %ebx, %esi /* multiboot info */
	mov $boot_stack_top, %esp

	ENTER_LONG bsp_long64

	.code64
bsp_long64:
	mov $boot_stack_top, %rsp
	/*
	 * Zero .bss (the loader should, but do not rely on it) with 8-byte stores: every
	 * iteration of an emulated string instruction costs about the same. Buffers that are
	 * written before they are read (page tables, stack, DTB buffer) sit in .noinit instead.
	 */
	mov $__bss_start, %edi
	mov $__bss_end, %ecx
	sub %edi, %ecx
	shr $3, %ecx
	xor %eax, %eax
	rep stosq
	mov %esi, %edi /* arg 0: multiboot info pointer */
	mov %ebp, %esi /* arg 1: multiboot magic */
	call kmain_bsp
4:	cli
	hlt
	jmp 4b

/* APs arrive here from the real-mode trampoline, in 32-bit protected mode on SEL_CODE32. */
	.code32
	.globl ap_entry32
ap_entry32:
	ENTER_LONG ap_long64

	.code64
ap_long64:
	mov $SEL_DATA, %ax
	mov %ax, %ss
	mov ap_boot_stack(%rip), %rsp
	mov ap_boot_index(%rip), %edi
	call ap_main
5:	cli
	hlt
	jmp 5b

/*
 * Real-mode AP trampoline, copied to a page below 1 MiB; the SIPI vector selects CS = page >> 4,
 * IP = 0. Only position-independent 16-bit code here; the far jump lands in the kernel image.
 */
	.code16
	.globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	mov %cs, %ax
	mov %ax, %ds
	lgdtl (ap_tramp_gdtr - ap_tramp_start)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	/* Flat data segments before leaving the trampoline: ENTER_LONG addresses memory via DS. */
	mov $SEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	ljmpl $SEL_CODE32, $ap_entry32
	.align 4
ap_tramp_gdtr:
	.word gdt_end - gdt - 1
	.long gdt
ap_tramp_end:

/* Trap stubs: 256 entries, 16 bytes apart; each pushes (error code or 0) and the vector. */
	.code64
	.align 16
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 256
	.align 16
	.if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
	.else
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

trap_common:
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
	cld
	call trap_dispatch
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

	.section .rodata
	.align 16
	.globl gdt
gdt:
	.quad 0
	.quad 0x00af9a000000ffff /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff /* 0x10: flat data */
	.quad 0x00cf9a000000ffff /* 0x18: flat 32-bit code (AP trampoline) */
gdt_end:
	.align 4
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	/*
	 * The identity map of the low 4 GiB, built at assembly time and loaded with the image (guest
	 * instructions are expensive under nested or emulated virtualisation; a 2048-entry loop at
	 * boot is not): PML4[0] -> PDPT, PDPT[0..3] -> four page directories of 2 MiB pages
	 * (present, writable, PS); 2 GiB and up (the MMIO hole) uncached (PCD | PWT).
	 */
	.section .data
	.align 4096
	.globl pml4
pml4:	.quad pdpt + 3
	.fill 511, 8, 0
pdpt:	.quad pd + 3, pd + 0x1000 + 3, pd + 0x2000 + 3, pd + 0x3000 + 3
	.fill 508, 8, 0
pd:	.set pde, 0
	.rept 2048
	.quad (pde << 21) | 0x83 | ((pde >> 10) * 0x18)
	.set pde, pde + 1
	.endr

	.section .noinit, "aw", @nobits
	.align 16
boot_stack:
	.skip 16384
	.globl boot_stack_top
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
