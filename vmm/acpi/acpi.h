/* SPDX-License-Identifier: MIT */
/*
 * ACPI table generation from the board device tree (docs/board.md is the schema).
 *
 * Callers: the board builder (vmm/board.c) after the FDT is final, and --dump-acpi. The FDT is
 * the single source of truth: nothing here knows the board layout except through it. Built
 * tables: RSDP, RSDT, XSDT, FADT, FACS, MADT, MCFG, DSDT and, when the FDT has an /iommu node
 * with compatible "intel,vtd", DMAR. The RSDP sits at the base address; the other tables
 * follow from base + ACPI_TABLES_OFFSET upwards (16-byte aligned, the FACS 64-byte aligned).
 */
#ifndef NESTVM_ACPI_H
#define NESTVM_ACPI_H

#include <stddef.h>
#include <stdint.h>

#include "vmm/core/gmem.h"

#define ACPI_RSDP_GPA 0xe0000ULL
#define ACPI_LIMIT_GPA 0x100000ULL
/* Offset of the first table after the RSDP (docs/board.md: tables from 0xe0100). */
#define ACPI_TABLES_OFFSET 0x100u

/*
 * Builds RSDP at rsdp_gpa (0xe0000) and RSDT, XSDT, FADT, FACS, MADT, MCFG, DSDT (+ DMAR when
 * the FDT has an /iommu@... node with compatible "intel,vtd") in guest memory from rsdp_gpa
 * upwards, all below limit_gpa (0x100000). rsdp_gpa must be 16-byte aligned. Returns 0 or
 * -errno (-EINVAL for an FDT missing a required node or property, -ENOSPC if it does not fit,
 * -EFAULT if the range is not guest RAM).
 */
int acpi_build(const void *fdt, const struct gmem *gm, uint64_t rsdp_gpa, uint64_t limit_gpa);

/*
 * Same, but into a host buffer (for tests and --dump-acpi): tables laid out as if buf were at
 * base_gpa (16-byte aligned). *ret_used = bytes of buf used (the RSDP is at buf[0]). The used
 * part of buf is fully written (padding zeroed).
 */
int acpi_build_to_buffer(const void *fdt, void *buf, size_t buf_len, uint64_t base_gpa,
			 size_t *ret_used);

/*
 * Called once per table found in a built image: sig is the 4-character signature as a C
 * string ("RSDP" for the RSDP, "FACS", "DSDT", ...), data/len the table bytes, gpa its
 * address. A non-zero return stops the walk and is returned by acpi_for_each_table.
 */
typedef int (*acpi_table_fn)(const char *sig, const void *data, size_t len, uint64_t gpa,
			     void *opaque);

/*
 * Walks an image made by acpi_build_to_buffer (buf at base_gpa): the RSDP, XSDT, RSDT, every
 * XSDT entry and, after the FADT, its FACS and DSDT. Every pointer and length is checked
 * against the buffer. Returns 0, the callback's non-zero value, or -EINVAL for a malformed
 * image.
 */
int acpi_for_each_table(const void *buf, size_t buf_len, uint64_t base_gpa, acpi_table_fn fn,
			void *opaque);

#endif
