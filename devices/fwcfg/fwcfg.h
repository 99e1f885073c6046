/* SPDX-License-Identifier: MIT */
/*
 * QEMU-compatible fw_cfg device, legacy I/O interface only (no DMA), on the PIO bus.
 *
 * Guest view (QEMU docs/specs/fw_cfg.rst): port+0 is the 16-bit write-only selector (a 2-byte
 * write selects an item and resets the data offset to 0); port+1 is the byte-wide data port:
 * each 1-byte read returns the next byte of the item and advances the offset; past the end (and
 * for unknown keys) reads return 0. Data port writes are ignored, as in QEMU since v2.4. Bit 14
 * of the key (the old write channel) is ignored; keys with bit 15 (arch-local) select nothing.
 * Items: 0x0000 "QEMU", 0x0001 ID (u32 LE 1: traditional interface, no DMA), 0x0003 RAM size
 * (u64 LE), 0x0005 CPU count (u16 LE), 0x0019 file directory (u32 BE count, then 64-byte entries
 * {u32 BE size, u16 BE key, u16 0, char name[56]} sorted by name with strcmp), files from 0x0020.
 * Like QEMU, file keys follow name order (the file at directory index i has key 0x20 + i), so
 * add every file before the guest runs.
 * Every other access is dropped / reads all-ones: a 1-byte selector write, selector reads, and
 * 16/32-bit reads of the data port (port+1 is the last port of the region, so the bus rejects
 * them before they reach the device and the data offset does not move).
 *
 * Callers: the board builder (create, add files, destroy after the vCPUs stopped); guest
 * accesses from any vCPU thread. Thread-safe (one mutex).
 */
#ifndef NESTVM_FWCFG_H
#define NESTVM_FWCFG_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/core/bus.h"

#define FWCFG_NR_PORTS 2
#define FWCFG_MAX_FILES 32
#define FWCFG_NAME_MAX 55 /* characters; the directory field is 56 bytes with the NUL */

struct fwcfg;

/* Registers [port, port+2). Returns NULL with errno set (bus_add_region's error or ENOMEM). */
struct fwcfg *fwcfg_create(struct bus *bus, uint16_t port, uint16_t nr_cpus, uint64_t ram_size);
/*
 * Publishes a copy of data[0..len) as file name. Returns 0, -EINVAL (name empty or longer than
 * FWCFG_NAME_MAX, or data NULL with len > 0), -EFBIG (len > UINT32_MAX), -EEXIST (name already
 * present), -ENOSPC (FWCFG_MAX_FILES reached) or -ENOMEM.
 */
int fwcfg_add_file(struct fwcfg *fw, const char *name, const void *data, size_t len);
/* Frees the device and its file copies. Accepts NULL. */
void fwcfg_destroy(struct fwcfg *fw);

#endif
