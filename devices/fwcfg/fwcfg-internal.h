/* SPDX-License-Identifier: MIT */
/* fw_cfg item keys and layout constants shared by fwcfg.c and its unit tests. */
#ifndef NESTVM_FWCFG_INTERNAL_H
#define NESTVM_FWCFG_INTERNAL_H

#include "bits.h"
#include "fwcfg.h"

/* Port offsets. */
#define FWCFG_SELECTOR 0
#define FWCFG_DATA 1

/* Item keys (QEMU docs/specs/fw_cfg.rst). */
#define FWCFG_KEY_SIGNATURE 0x0000
#define FWCFG_KEY_ID 0x0001
#define FWCFG_KEY_RAM_SIZE 0x0003
#define FWCFG_KEY_NB_CPUS 0x0005
#define FWCFG_KEY_MAX_CPUS 0x000f /* QEMU: the -smp maxcpus; nestvm has no CPU hotplug */
#define FWCFG_KEY_FILE_DIR 0x0019
#define FWCFG_KEY_FILE_FIRST 0x0020
#define FWCFG_KEY_WRITE_CHANNEL BIT_ULL(14)
#define FWCFG_KEY_ARCH_LOCAL BIT_ULL(15)

#define FWCFG_ID_TRADITIONAL BIT_ULL(0)

/* Directory: a 4-byte count, then one 64-byte entry per file. */
#define FWCFG_DIR_HDR 4
#define FWCFG_DIR_ENTRY 64
#define FWCFG_DIR_NAME_OFF 8
#define FWCFG_DIR_NAME_LEN 56

#endif
