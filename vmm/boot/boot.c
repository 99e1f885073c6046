/* SPDX-License-Identifier: MIT */
/* Loader front end (format probing, error text) and the helpers both loaders share. */
#include <errno.h>
#include <string.h>

#include "bits.h"
#include "vmm/boot/boot-internal.h"
#include "vmm/core/gmem.h"

int boot_map_init(const struct boot_config *cfg, struct boot_map *ret_map)
{
	const struct gmem *gm = cfg->gmem;
	struct boot_map map = { .n = 0 };

	if (cfg->nr_map > BOOT_MAX_E820 || (cfg->nr_map && !cfg->map))
		return -EINVAL;
	if (cfg->nr_map == 0) {
		/* No board map: every gmem region is RAM (tests, simple boards). */
		for (unsigned int i = 0; i < gm->nr_regions && i < GMEM_MAX_REGIONS; i++)
			map.e[map.n++] = (struct boot_e820){ .addr = gm->regions[i].gpa,
							     .len = gm->regions[i].size,
							     .type = BOOT_E820_RAM };
	} else {
		for (unsigned int i = 0; i < cfg->nr_map; i++) {
			const struct boot_e820 *e = &cfg->map[i];

			if (range_overflows(e->addr, e->len))
				return -EINVAL;
			map.e[map.n++] = *e;
		}
	}
	*ret_map = map;
	return 0;
}

bool boot_map_is_ram(const struct boot_map *map, const struct gmem *gm, uint64_t addr,
		     uint64_t len)
{
	if (len == 0 || range_overflows(addr, len) || !gmem_is_ram(gm, addr, len))
		return false;
	for (unsigned int i = 0; i < map->n; i++) {
		const struct boot_e820 *e = &map->e[i];

		if (e->type == BOOT_E820_RAM && e->len && addr >= e->addr &&
		    addr - e->addr < e->len && len <= e->len - (addr - e->addr))
			return true;
	}
	return false;
}

int boot_map_find_low(const struct boot_map *map, const struct gmem *gm, uint64_t from,
		      uint64_t len, uint64_t align, uint64_t limit, uint64_t *ret_addr)
{
	uint64_t best = UINT64_MAX;
	bool found = false;

	if (len == 0 || align == 0 || (align & (align - 1)))
		return -ENOMEM;
	for (unsigned int i = 0; i < map->n; i++) {
		const struct boot_e820 *e = &map->e[i];
		uint64_t start = e->addr > from ? e->addr : from;
		uint64_t end = e->addr + e->len; /* no overflow: checked in boot_map_init */

		if (e->type != BOOT_E820_RAM || e->len == 0)
			continue;
		if (start > UINT64_MAX - (align - 1))
			continue;
		start = ALIGN_UP(start, align);
		if (end > limit)
			end = limit;
		if (start >= end || len > end - start)
			continue;
		if (!gmem_is_ram(gm, start, len))
			continue;
		if (!found || start < best) {
			best = start;
			found = true;
		}
	}
	if (!found)
		return -ENOMEM;
	*ret_addr = best;
	return 0;
}

int boot_copy(const struct gmem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *p;

	if (len == 0)
		return 0;
	p = gmem_ptr(gm, gpa, len);
	if (!p)
		return -EFAULT;
	memcpy(p, src, len);
	return 0;
}

int boot_zero(const struct gmem *gm, uint64_t gpa, uint64_t len)
{
	void *p;

	if (len == 0)
		return 0;
	p = gmem_ptr(gm, gpa, len);
	if (!p)
		return -EFAULT;
	memset(p, 0, len);
	return 0;
}

int boot_write_gdt(const struct gmem *gm, const uint64_t *desc, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		if (gmem_write_u64(gm, BOOT_GDT_ADDR + 8ULL * i, desc[i]))
			return -ENOMEM;
	return 0;
}

/* Page-table entry bits (SDM vol. 3, 4.5): present, writable, page size. */
#define PTE_P BIT_ULL(0)
#define PTE_RW BIT_ULL(1)
#define PTE_PS BIT_ULL(7)

int boot_build_identity_map(const struct gmem *gm)
{
	const uint64_t pdpt = BOOT_PML4_ADDR + BOOT_PAGE_SIZE;
	const uint64_t pd = pdpt + BOOT_PAGE_SIZE;

	if (boot_zero(gm, BOOT_PML4_ADDR, BOOT_PT_END - BOOT_PML4_ADDR))
		return -ENOMEM;
	if (gmem_write_u64(gm, BOOT_PML4_ADDR, pdpt | PTE_P | PTE_RW))
		return -ENOMEM;
	/* Four PDPT entries, each a page directory of 512 2 MiB pages: 4 GiB in all. */
	for (uint64_t i = 0; i < 4; i++) {
		if (gmem_write_u64(gm, pdpt + 8 * i, (pd + i * BOOT_PAGE_SIZE) | PTE_P | PTE_RW))
			return -ENOMEM;
		for (uint64_t j = 0; j < 512; j++) {
			uint64_t pa = (i * 512 + j) * 2 * MiB;

			if (gmem_write_u64(gm, pd + i * BOOT_PAGE_SIZE + 8 * j,
					   pa | PTE_P | PTE_RW | PTE_PS))
				return -ENOMEM;
		}
	}
	return 0;
}

int boot_load(const struct boot_config *cfg, struct boot_entry *ret, const char **ret_fmt)
{
	int err;

	err = boot_load_multiboot(cfg, ret);
	if (err == 0) {
		*ret_fmt = "multiboot";
		return 0;
	}
	if (err != -ENOEXEC)
		return err;
	err = boot_load_bzimage(cfg, ret);
	if (err == 0) {
		*ret_fmt = "bzImage";
		return 0;
	}
	if (err != -ENOEXEC)
		return err;
	err = boot_load_vmlinux(cfg, ret);
	if (err == 0)
		*ret_fmt = "vmlinux";
	return err;
}

const char *boot_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case -ENOEXEC:
		return "not a multiboot, bzImage or x86-64 vmlinux (64-bit boot protocol) kernel";
	case -EINVAL:
		return "malformed or unsupported kernel image";
	case -EFAULT:
		return "kernel image loads outside guest RAM";
	case -ENOMEM:
		return "kernel, modules, initrd or boot data do not fit in guest RAM";
	default:
		return "kernel load failed";
	}
}
