/* SPDX-License-Identifier: MIT */
/*
 * QEMU's x86 test devices, for test kernels written against QEMU (docs/usage.md). Off unless
 * "-device pc-testdev" / "-device pci-testdev" is given.
 *
 * Callers: the board builder creates them before any vCPU runs and destroys them after the
 * vCPUs have stopped; register accesses come from any vCPU thread. What the irq_chip, gmem and
 * pci_host given at creation point to must outlive the device.
 */
#ifndef NESTVM_TESTDEV_H
#define NESTVM_TESTDEV_H

#include <stdint.h>

#include "devices/pci/pci.h"
#include "vmm/core/bus.h"
#include "vmm/core/gmem.h"
#include "vmm/core/irq.h"

/*
 * pc-testdev (QEMU hw/misc/pc-testdev.c facts):
 *   I/O 0xe0..0xe3  a 32-bit scratch register; an access of 1, 2 or 4 bytes at port 0xe0+n
 *                   reaches bytes n..n+size-1 of it (naturally aligned accesses only; others
 *                   read 0 and are dropped, as QEMU's memory core does)
 *   I/O 0xe4        32-bit write only: flush the guest page holding that physical address (its
 *                   host mapping is dropped, so KVM's translation is rebuilt; contents stay;
 *                   with --hugepages a 4 KiB page cannot be dropped and nothing happens)
 *   I/O 0xe8..0xeb  the same scratch register, served one byte at a time
 *   I/O 0x2000+n    1-byte write, n = 0..15: ISA IRQ line n (GSI n) to level (data != 0);
 *                   n = 16..23 are accepted and ignored (QEMU has no ISA IRQ there); reads 0
 *   MMIO 0xff000000 64 KiB of device memory read and written like RAM (1, 2, 4 or 8 bytes,
 *                   naturally aligned): instruction-emulation tests run their accesses here
 */
#define PC_TESTDEV_PORT 0xe0
#define PC_TESTDEV_FLUSH_PORT 0xe4
#define PC_TESTDEV_BYTE_PORT 0xe8
#define PC_TESTDEV_IRQ_PORT 0x2000
#define PC_TESTDEV_IRQ_LINES 24
#define PC_TESTDEV_ISA_IRQS 16
#define PC_TESTDEV_IOMEM_BASE 0xff000000ULL
#define PC_TESTDEV_IOMEM_SIZE 0x10000ULL

struct pc_testdev;
/* NULL with errno set (ENOMEM, or bus_add_region's error: a range is taken). */
struct pc_testdev *pc_testdev_create(struct bus *bus, const struct irq_chip *irq,
				     const struct gmem *gm);
void pc_testdev_destroy(struct pc_testdev *t); /* accepts NULL */
/* Pages flushed through port 0xe4 so far (what the guest asked for and was RAM). */
uint64_t pc_testdev_flushes(struct pc_testdev *t);

/*
 * pci-testdev (QEMU hw/misc/pci-testdev.c, docs/specs/pci-testdev.rst): PCI 1b36:0005,
 * class code 0x00ff00 (QEMU's PCI_CLASS_OTHERS 0xff in the 16-bit class field), revision 0,
 * no interrupt pin. BAR0: 4 KiB 32-bit memory, BAR1: 256 bytes of I/O (no BAR2: QEMU's
 * optional "membar" is not modelled). Each BAR starts with the header of the selected test:
 *   +0 test (u8, a write selects test n of this BAR: 0..2, anything else deselects),
 *   +1 width (u8, 1), +4 offset (u32, where to write), +8 data (u8, what to write, padded to
 *   u32), +12 count (u32, matching writes seen), +16 name (NUL-terminated).
 * Tests per BAR: 0 "no-eventfd" and 2 "datamatch-eventfd" count 1-byte writes of data (0xfa)
 * at offset; 1 "wildcard-eventfd" counts any write there (data reads 0xce). Offsets: memory
 * BAR 2048 + i, I/O BAR 128 + i, with i = 0..2 (memory) or 3..5 (I/O) the test's global
 * number. Selecting a test zeroes its count. With nothing selected, reads return 0.
 * The header is read one byte at a time (wider reads assemble bytes); bytes from the last
 * byte of the header + name on read 0.
 * Difference from QEMU: nestvm has no ioeventfd, so the two "eventfd" tests count their writes
 * in the device; under QEMU+KVM the kernel consumes those writes and count stays 0. Test
 * kernels written for QEMU accept both (count 0 or the number of writes).
 */
#define PCI_TESTDEV_VENDOR 0x1b36
#define PCI_TESTDEV_DEVICE 0x0005
#define PCI_TESTDEV_CLASS 0x00ff00 /* base class 0x00, subclass 0xff, as QEMU sets it */
#define PCI_TESTDEV_MEM_SIZE 4096u
#define PCI_TESTDEV_IO_SIZE 256u
#define PCI_TESTDEV_NR_TESTS 3 /* per BAR */
#define PCI_TESTDEV_MATCH_DATA 0xfa
#define PCI_TESTDEV_NOMATCH_DATA 0xce

struct pci_testdev;
/* Plugs one into slot of h. NULL on failure (bad or taken slot, window full, no memory). */
struct pci_testdev *pci_testdev_create(struct pci_host *h, unsigned int slot);
void pci_testdev_destroy(struct pci_testdev *t); /* accepts NULL */
struct pci_dev *pci_testdev_pci_dev(struct pci_testdev *t);

#endif
