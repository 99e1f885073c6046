/* SPDX-License-Identifier: MIT */
/*
 * Kernel loaders: put a Multiboot v1 or Linux bzImage kernel into guest RAM and describe the
 * register state the boot vCPU starts with.
 *
 * Callers: the launcher (vmm/), once, before any vCPU runs. Every write goes through gmem, every
 * offset or size read from the image is checked against the image length. Nothing here logs,
 * aborts or keeps state; a bad image yields -errno and boot_strerror() turns it into text.
 *
 * Guest-physical layout used by the loaders (all below 1 MiB; guest RAM below 0x10000 is left
 * untouched for the guest, e.g. for AP trampolines):
 *   Multiboot:  0x10000 GDT (null, 0x08 flat 32-bit code, 0x10 flat data)
 *               0x10100 multiboot info, then memory map, module list and strings (to 0x1efff)
 *               0x1f000-0x1ffff boot stack page, rsp = 0x20000
 *   bzImage:    0x10000 GDT (null, 0x08 flat 32-bit code, 0x10 64-bit code, 0x18 flat data)
 *               0x11000 zero page (struct boot_params, 4 KiB)
 *               0x12000 kernel command line (to 0x1efff)
 *               0x1f000-0x1ffff boot stack page, rsp = 0x20000
 *               0x20000 PML4, 0x21000 PDPT, 0x22000-0x25fff four page directories: identity map
 *               of 0-4 GiB with 2 MiB pages (P|RW|PS), cr3 = 0x20000
 *               kernel at pref_address (or the lowest fitting kernel_alignment multiple >= 1 MiB
 *               if relocatable), initrd (all modules concatenated, each padded to 4 bytes) page
 *               aligned as high as initrd_addr_max and low RAM allow.
 *   Multiboot modules are page aligned from the first page above the kernel's highest byte.
 * The GDT descriptors have the accessed bit set, so the CPU never writes to them.
 */
#ifndef NESTVM_BOOT_H
#define NESTVM_BOOT_H

#include <stddef.h>
#include <stdint.h>

struct gmem;

/* Fixed guest-physical addresses (documented in docs/board.md). */
#define BOOT_GDT_ADDR 0x10000ULL
#define BOOT_MB_INFO_ADDR 0x10100ULL   /* multiboot info structure */
#define BOOT_DATA_END 0x1f000ULL       /* boot data (info, strings, cmdline) ends here */
#define BOOT_STACK_TOP 0x20000ULL      /* initial rsp; stack page 0x1f000-0x1ffff */
#define BOOT_ZERO_PAGE_ADDR 0x11000ULL /* bzImage struct boot_params */
#define BOOT_CMDLINE_ADDR 0x12000ULL   /* bzImage command line */
#define BOOT_PML4_ADDR 0x20000ULL      /* bzImage identity page tables: 6 pages from here */
#define BOOT_PT_END 0x26000ULL

#define BOOT_MB_CS 0x08
#define BOOT_MB_DS 0x10
#define BOOT_LINUX_CS 0x10 /* __BOOT_CS */
#define BOOT_LINUX_DS 0x18 /* __BOOT_DS */

#define BOOT_MAX_E820 128 /* entries the zero page can carry; also our bound for the board map */

struct boot_e820 {
	uint64_t addr, len;
	uint32_t type; /* 1 = RAM, 2 = reserved, 3 = ACPI */
};

struct boot_module {
	const void *data;
	size_t len;
	const char *cmdline; /* may be NULL */
};

struct boot_config {
	const struct gmem *gmem;                    /* guest RAM, already allocated */
	const void *kernel;                         /* the whole kernel file, in host memory */
	size_t kernel_len;
	const char *cmdline;                        /* may be NULL */
	/* Multiboot: the kernel's file name, put before cmdline as QEMU and GRUB do; may be NULL. */
	const char *kernel_name;
	const struct boot_module *modules;          /* -initrd files */
	unsigned int nr_modules;
	const struct boot_e820 *map;                /* memory map the board gives; if nr_map == 0 */
	unsigned int nr_map;                        /* the gmem regions are used as all-RAM map */
};

enum boot_mode {
	BOOT_PROT32, /* CR0.PE, paging off, flat 4 GiB CS/DS from the GDT, IF = 0 */
	BOOT_LONG64, /* CR0.PE|PG, CR4.PAE, EFER.LME|LMA, CS.L from the GDT, cr3 as given, IF = 0 */
};

/* The BSP register state to start with; all other registers zero. */
struct boot_entry {
	enum boot_mode mode;
	uint64_t rip, rsp;
	uint64_t rax, rbx, rsi; /* multiboot: eax magic, ebx info; linux: rsi zero page */
	uint64_t cr3;           /* BOOT_LONG64: identity page tables built by the loader */
	uint64_t gdt_base;      /* a GDT the loader wrote into guest memory */
	uint16_t gdt_limit;
	uint16_t cs, ds;        /* selectors into that GDT (ds also for es, fs, gs, ss) */
};

/*
 * Each returns 0, or -ENOEXEC (not this format, guest memory untouched), -EINVAL (malformed or
 * unsupported image), -EFAULT (the image asks for a fixed address that is not guest RAM),
 * -ENOMEM (kernel, modules, initrd or boot data do not fit in guest RAM). *ret is set only on
 * success. Multiboot accepts ELF32 i386 images, a.out-kludge images (flags bit 16, preferred
 * when set) and, beyond what QEMU does, ELF64 x86-64 images whose segments and entry lie
 * below 4 GiB (entered in 32-bit protected mode all the same).
 */
int boot_load_multiboot(const struct boot_config *cfg, struct boot_entry *ret);
int boot_load_bzimage(const struct boot_config *cfg, struct boot_entry *ret);
int boot_load_vmlinux(const struct boot_config *cfg, struct boot_entry *ret);
/* Tries multiboot then bzImage; -ENOEXEC if neither. Sets *ret_fmt to "multiboot"/"bzImage". */
int boot_load(const struct boot_config *cfg, struct boot_entry *ret, const char **ret_fmt);
/* Short human text for a boot_load*() return code. */
const char *boot_strerror(int err);

#endif
