/* SPDX-License-Identifier: MIT */
/*
 * qemu-board: what a guest sees where nobody answers, and the fw_cfg items test kernels written
 * for QEMU read, are the same on nestvm as on QEMU's q35: unclaimed I/O ports read all-ones,
 * unclaimed memory (outside RAM, in and out of the PCI window) reads 0 and ignores writes,
 * fw_cfg has the signature, RAM size, CPU count and the maximum CPU count.
 */
#include "guest.h"

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f

static const uint16_t free_ports[] = { 0x300, 0x2e0, 0x1010, 0x7000, 0xfff0 };
static const uint64_t free_mem[] = { 0x90000000ULL, 0xd0000000ULL, 0xfe000000ULL, 0xfef00000ULL };

static uint64_t fwcfg_u(uint16_t key, unsigned int bytes)
{
	uint64_t v = 0;

	outw(0x510, key);
	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)inb(0x511) << (8 * i);
	return v;
}

void test_main(void)
{
	unsigned int bad = 0;

	tap_plan(6);
	for (unsigned int i = 0; i < sizeof(free_ports) / sizeof(free_ports[0]); i++) {
		uint16_t p = free_ports[i];

		if (inb(p) != 0xff || inw(p) != 0xffff || inl(p) != 0xffffffff) {
			tap_diag("port 0x%x: 0x%x 0x%x 0x%x", p, inb(p), inw(p), inl(p));
			bad++;
		}
	}
	tap_ok(bad == 0, "unclaimed I/O ports read all-ones (8/16/32 bits)");

	bad = 0;
	for (unsigned int i = 0; i < sizeof(free_mem) / sizeof(free_mem[0]); i++) {
		uint64_t a = free_mem[i];

		mmio_write32(a, 0x12345678);
		if (mmio_read8(a) || mmio_read16(a) || mmio_read32(a) ||
		    *(volatile uint64_t *)(uintptr_t)a) {
			tap_diag("memory 0x%lx: 0x%x", (unsigned long)a, mmio_read32(a));
			bad++;
		}
	}
	tap_ok(bad == 0, "unclaimed memory reads 0 (8..64 bits) and drops writes");

	tap_ok(fwcfg_u(FW_CFG_SIGNATURE, 4) == 0x554d4551, "fw_cfg signature \"QEMU\"");
	tap_ok(fwcfg_u(FW_CFG_RAM_SIZE, 8) == 128ULL << 20, "fw_cfg RAM size: 128 MiB (0x%lx)",
	       (unsigned long)fwcfg_u(FW_CFG_RAM_SIZE, 8));
	tap_ok(fwcfg_u(FW_CFG_NB_CPUS, 2) == board.nr_cpus && board.nr_cpus == 2,
	       "fw_cfg NB_CPUS = %u, the board's CPU count", (unsigned int)fwcfg_u(FW_CFG_NB_CPUS, 2));
	tap_ok(fwcfg_u(FW_CFG_MAX_CPUS, 2) == 2, "fw_cfg MAX_CPUS = %u (no hotplug: -smp 2)",
	       (unsigned int)fwcfg_u(FW_CFG_MAX_CPUS, 2));
}
