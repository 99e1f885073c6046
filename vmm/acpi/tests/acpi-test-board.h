/* SPDX-License-Identifier: MIT */
/* Test helper: builds docs/board.md device trees with libfdt and indexes a built ACPI image. */
#ifndef NESTVM_ACPI_TEST_BOARD_H
#define NESTVM_ACPI_TEST_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/acpi/acpi.h"

#define FDT_SIZE (256 * 1024)
#define IMG_SIZE (ACPI_LIMIT_GPA - ACPI_RSDP_GPA)

struct board_opts {
	unsigned int nr_cpus;
	const uint32_t *apic_ids; /* NULL: 0..nr_cpus-1 */
	bool iommu, include_all, intr_remap, x2apic_opt_out;
	const uint32_t *scopes;
	unsigned int nr_scopes;
	uint32_t haw;
	uint32_t bus_start, bus_end;
	bool omit_cpus, omit_ioapic, omit_pci, omit_pm, omit_serial, omit_ranges, short_ioapic_reg;
	bool iommu_no_form;
};

#define MAX_TABLES 16

struct table {
	char sig[5];
	const uint8_t *data;
	size_t len;
	uint64_t gpa;
};

struct image {
	uint8_t *buf;
	size_t used;
	unsigned int n;
	struct table t[MAX_TABLES];
};

/* The board tree with knobs to leave parts out; a heap blob (free it). */
void *make_fdt(const struct board_opts *o);
/* nr_cpus CPUs with APIC IDs 0..n-1, buses 0-255, no IOMMU. */
struct board_opts default_opts(unsigned int nr_cpus);
/* acpi_table_fn that appends to a struct image. */
int collect(const char *sig, const void *data, size_t len, uint64_t gpa, void *opaque);
const struct table *find(const struct image *img, const char *sig);
uint8_t sum(const uint8_t *p, size_t n);
/* Builds the image at ACPI_RSDP_GPA into img->buf (free it) and indexes it; asserts success. */
void build(const struct board_opts *o, struct image *img);
/* acpi_build_to_buffer's result for the board. */
int try_build(const struct board_opts *o);

#endif
