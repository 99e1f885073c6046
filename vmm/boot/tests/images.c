/* SPDX-License-Identifier: MIT */
/* Builders for synthetic ELF/a.out multiboot kernels and bzImages used by the boot tests. */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "images.h"

void test_vm_init(struct test_vm *vm, uint64_t ram_size)
{
	int err;

	memset(vm, 0, sizeof(*vm));
	vm->ram = calloc(1, ram_size);
	assert(vm->ram);
	vm->ram_size = ram_size;
	gmem_init_empty(&vm->gm);
	err = gmem_add_region(&vm->gm, 0, ram_size, vm->ram);
	assert(err == 0);
	(void)err;
	vm->map[0] = (struct boot_e820){ 0, 0xe0000, 1 };
	vm->map[1] = (struct boot_e820){ 0xe0000, 0x20000, 2 };
	vm->map[2] = (struct boot_e820){ 1 * MiB, ram_size - 1 * MiB, 1 };
	vm->cfg.gmem = &vm->gm;
	vm->cfg.map = vm->map;
	vm->cfg.nr_map = 3;
}

void test_vm_destroy(struct test_vm *vm)
{
	free(vm->ram);
	vm->ram = NULL;
}

uint8_t *test_gpa(struct test_vm *vm, uint64_t gpa)
{
	return vm->ram + gpa;
}

uint8_t test_pattern(uint64_t i)
{
	return (uint8_t)(i * 7 + 3 + (i >> 8));
}

void test_put_mb_header(uint8_t *buf, uint64_t off, uint32_t flags)
{
	le32_store(buf + off, 0x1badb002u);
	le32_store(buf + off + 4, flags);
	le32_store(buf + off + 8, (uint32_t)(0u - 0x1badb002u - flags));
}

void test_put_aout(uint8_t *buf, uint64_t off, uint32_t header_addr, uint32_t load_addr,
		   uint32_t load_end, uint32_t bss_end, uint32_t entry)
{
	le32_store(buf + off + 12, header_addr);
	le32_store(buf + off + 16, load_addr);
	le32_store(buf + off + 20, load_end);
	le32_store(buf + off + 24, bss_end);
	le32_store(buf + off + 28, entry);
}

size_t test_build_elf(uint8_t *buf, size_t cap, struct test_elf *e)
{
	const uint64_t phoff = 0x40;
	uint64_t data = 0x1000;
	size_t phsz = e->is64 ? 56 : 32;

	memset(buf, 0, cap);
	memcpy(buf, "\x7f" "ELF", 4);
	buf[4] = e->is64 ? 2 : 1;
	buf[5] = 1;
	buf[6] = 1;
	le16_store(buf + 16, 2); /* ET_EXEC */
	le16_store(buf + 18, e->machine ? e->machine : (e->is64 ? 62 : 3));
	le32_store(buf + 20, 1);
	if (e->is64) {
		le64_store(buf + 24, e->entry);
		le64_store(buf + 32, phoff);
		le16_store(buf + 52, 64);
		le16_store(buf + 54, 56);
		le16_store(buf + 56, (uint16_t)e->nr_segs);
	} else {
		le32_store(buf + 24, (uint32_t)e->entry);
		le32_store(buf + 28, (uint32_t)phoff);
		le16_store(buf + 40, 52);
		le16_store(buf + 42, 32);
		le16_store(buf + 44, (uint16_t)e->nr_segs);
	}
	for (unsigned int i = 0; i < e->nr_segs; i++) {
		struct test_seg *s = &e->segs[i];
		uint8_t *ph = buf + phoff + i * phsz;

		s->offset = data;
		assert(data + s->filesz <= cap);
		for (uint64_t j = 0; j < s->filesz; j++)
			buf[data + j] = test_pattern(data + j);
		if (e->is64) {
			le32_store(ph, s->type);
			le32_store(ph + 4, 7);
			le64_store(ph + 8, s->offset);
			le64_store(ph + 16, s->vaddr);
			le64_store(ph + 24, s->paddr);
			le64_store(ph + 32, s->filesz);
			le64_store(ph + 40, s->memsz);
			le64_store(ph + 48, 0x1000);
		} else {
			le32_store(ph, s->type);
			le32_store(ph + 4, (uint32_t)s->offset);
			le32_store(ph + 8, (uint32_t)s->vaddr);
			le32_store(ph + 12, (uint32_t)s->paddr);
			le32_store(ph + 16, (uint32_t)s->filesz);
			le32_store(ph + 20, (uint32_t)s->memsz);
			le32_store(ph + 24, 7);
			le32_store(ph + 28, 0x1000);
		}
		data = ALIGN_UP(data + s->filesz, 0x1000);
	}
	test_put_mb_header(buf, e->mb_off ? e->mb_off : 0x200, e->mb_flags);
	return data;
}

void test_bz_defaults(struct test_bz *b)
{
	*b = (struct test_bz){
		.version = 0x020f,
		.setup_sects = 0,
		.loadflags = 0x01,
		.xloadflags = 0x01,
		.relocatable = 1,
		.jump_off = 0x6a, /* header ends at 0x26c, like protocol 2.15 kernels */
		.align = 2 * MiB,
		.init_size = 4 * MiB,
		.initrd_max = 0x7fffffff,
		.cmdline_size = 2047,
		.pref = 16 * MiB,
		.pm_len = 0x3000,
	};
}

size_t test_build_bz(uint8_t *buf, size_t cap, const struct test_bz *b)
{
	uint64_t sects = b->setup_sects ? b->setup_sects : 4;
	uint64_t setup_len = (sects + 1) * 512;
	size_t len = setup_len + b->pm_len;

	assert(len <= cap);
	memset(buf, 0, len);
	buf[0x1f1] = b->setup_sects;
	le16_store(buf + 0x1fe, 0xaa55);
	buf[0x200] = 0xeb;
	buf[0x201] = b->jump_off;
	memcpy(buf + 0x202, "HdrS", 4);
	le16_store(buf + 0x206, b->version);
	buf[0x211] = b->loadflags;
	le32_store(buf + 0x214, 0x100000);
	le32_store(buf + 0x22c, b->initrd_max);
	le32_store(buf + 0x230, b->align);
	buf[0x234] = b->relocatable;
	buf[0x235] = 21;
	le16_store(buf + 0x236, b->xloadflags);
	le32_store(buf + 0x238, b->cmdline_size);
	le64_store(buf + 0x258, b->pref);
	le32_store(buf + 0x260, b->init_size);
	le64_store(buf + 0x250, 0xdeadbeefULL); /* setup_data: the loader must clear it */
	/* Something recognisable past the header end that must not reach the zero page. */
	memset(buf + 0x270, 0x5a, 0x40);
	for (uint64_t i = 0; i < b->pm_len; i++)
		buf[setup_len + i] = test_pattern(i);
	return len;
}
