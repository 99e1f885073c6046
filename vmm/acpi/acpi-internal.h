/* SPDX-License-Identifier: MIT */
/* Shared by the vmm/acpi sources and unit tests: the parsed board, the AML writer, table helpers. */
#ifndef NESTVM_ACPI_INTERNAL_H
#define NESTVM_ACPI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on FDT-derived lists; they also bound every loop over FDT data. */
#define ACPI_MAX_CPUS 1024
#define ACPI_MAX_WINDOWS 8
#define ACPI_MAX_SERIALS 4
#define ACPI_MAX_SCOPES 64
#define ACPI_MAX_NODES 4096 /* subnodes visited under one parent */

/* Fixed BDF the DMAR IOAPIC device scope names (00:1f.0, as QEMU q35 does). */
#define ACPI_IOAPIC_BUS 0
#define ACPI_IOAPIC_DEV 0x1f
#define ACPI_IOAPIC_FN 0

#define ACPI_OEM_ID "NESTVM"
#define ACPI_OEM_TABLE_ID "NESTVMPC"
#define ACPI_CREATOR_ID "NVMM"
#define ACPI_HDR_LEN 36

enum acpi_win_kind { ACPI_WIN_IO, ACPI_WIN_MEM32, ACPI_WIN_MEM64 };

struct acpi_window {
	enum acpi_win_kind kind;
	bool prefetch;
	uint64_t pci_addr; /* bus-side address (descriptor Min) */
	uint64_t cpu_addr; /* CPU-side address (Min + _TRA) */
	uint64_t size;
};

struct acpi_serial {
	uint16_t port, len;
	uint32_t gsi;
};

/* Everything the tables need, read from the FDT once (acpi_parse_fdt). */
struct acpi_board {
	uint32_t nr_cpus;
	uint32_t apic_ids[ACPI_MAX_CPUS]; /* FDT order; index = ACPI processor UID */
	uint64_t lapic_addr;

	uint8_t ioapic_id;
	uint32_t ioapic_addr, ioapic_gsi_base, ioapic_pins;

	uint64_t ecam_base; /* address of bus 0's config space (MCFG convention) */
	uint8_t bus_start, bus_end;
	unsigned int nr_windows;
	struct acpi_window windows[ACPI_MAX_WINDOWS];

	uint16_t pm_base; /* PM1a_EVT = base, PM1a_CNT = base + 4, PM_TMR = base + 8 */
	uint8_t sci_irq;

	unsigned int nr_serials;
	struct acpi_serial serials[ACPI_MAX_SERIALS];
	bool has_8042, has_rtc;

	bool has_iommu;
	uint64_t iommu_base;
	uint8_t iommu_haw;
	bool iommu_include_all, iommu_intr_remap, iommu_x2apic_opt_out;
	unsigned int nr_scopes;
	uint16_t scopes[ACPI_MAX_SCOPES]; /* bus << 8 | dev << 3 | fn */
};

/*
 * fdt-parse.c: fills *b (undefined on failure); 0, -EINVAL (bad blob, missing node or
 * property, out-of-range value) or -ENOSPC (more CPUs than ACPI_MAX_CPUS).
 */
int acpi_parse_fdt(const void *fdt, struct acpi_board *b);

/* PCI INTx routing of docs/board.md: slot S, pin P (0 = INTA) -> GSI. */
static inline uint32_t acpi_intx_gsi(unsigned int slot, unsigned int pin0)
{
	return 16 + ((slot + pin0) % 8);
}

/*
 * AML writer over a fixed buffer. Errors are sticky: once err is set every call is a no-op,
 * and aml_finish reports it. Open constructs (package/device/...) nest up to AML_MAX_DEPTH;
 * their PkgLength is inserted when they are closed.
 */
#define AML_MAX_DEPTH 16

struct aml {
	uint8_t *buf;
	size_t cap, len;
	int err;
	unsigned int depth;
	size_t open[AML_MAX_DEPTH]; /* offset where each open construct's PkgLength goes */
	bool in_res;                /* inside aml_resource_begin/end (they do not nest) */
	size_t res_start;           /* where the resource Buffer's BufferSize goes */
};

void aml_init(struct aml *a, void *buf, size_t cap);
/* Returns 0 and *ret_len, or the first error (-ENOSPC, -EINVAL for unbalanced/bad input). */
int aml_finish(struct aml *a, size_t *ret_len);

void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_byte(struct aml *a, uint8_t b);
/* "\\_SB.PCI0", "_HID", "^FOO": segments padded with '_' to 4 characters. */
void aml_name_string(struct aml *a, const char *path);
/* Smallest encoding: Zero/One/Ones, Byte/Word/DWord/QWord prefix. */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);
/* Compressed EISA ID ("PNP0A08") as a DWord integer; -EINVAL if malformed. */
void aml_eisaid(struct aml *a, const char *id);
uint32_t aml_eisaid_value(const char *id, int *ret_err);
/* NameOp path, caller then emits exactly one data object. */
void aml_name(struct aml *a, const char *path);
void aml_name_integer(struct aml *a, const char *path, uint64_t v);
void aml_name_string_obj(struct aml *a, const char *path, const char *s);
void aml_name_eisaid(struct aml *a, const char *path, const char *id);

/* Constructs with a PkgLength; each *_begin needs one aml_end. */
void aml_scope_begin(struct aml *a, const char *path);
void aml_device_begin(struct aml *a, const char *path);
void aml_package_begin(struct aml *a, uint8_t nr_elements);
/* Method with argument count / serialized flag; body typically aml_return_integer. */
void aml_method_begin(struct aml *a, const char *path, unsigned int nr_args, bool serialized);
void aml_return_integer(struct aml *a, uint64_t v);
/* A Buffer holding a resource template; close with aml_resource_end (adds the EndTag). */
void aml_resource_begin(struct aml *a);
void aml_resource_end(struct aml *a);
void aml_end(struct aml *a);

/* Resource descriptors (ACPI 6.x §6.4), valid between aml_resource_begin/end. */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max, uint16_t tra);
void aml_res_dword_io(struct aml *a, uint32_t min, uint32_t max, uint32_t tra);
void aml_res_dword_mem(struct aml *a, bool prefetch, uint32_t min, uint32_t max, uint32_t tra);
void aml_res_qword_mem(struct aml *a, bool prefetch, uint64_t min, uint64_t max, uint64_t tra);
void aml_res_mem32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len);
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
void aml_res_irq_noflags(struct aml *a, uint16_t mask);
void aml_res_interrupt(struct aml *a, bool level, bool active_low, bool shared, uint32_t gsi);

/* dsdt.c: the whole DSDT (header included) into buf; 0 and *ret_len, or -errno. */
int acpi_build_dsdt(const struct acpi_board *b, void *buf, size_t cap, size_t *ret_len);

/* tables.c: fixed-format tables. Each writes a complete table with checksum into buf. */
void acpi_header(void *tbl, const char *sig, uint32_t len, uint8_t rev);
void acpi_checksum(void *tbl, size_t len, size_t csum_off);
uint8_t acpi_sum(const void *p, size_t len);
size_t acpi_madt_size(const struct acpi_board *b);
void acpi_build_madt(const struct acpi_board *b, void *buf);
size_t acpi_mcfg_size(const struct acpi_board *b);
void acpi_build_mcfg(const struct acpi_board *b, void *buf);
size_t acpi_dmar_size(const struct acpi_board *b);
void acpi_build_dmar(const struct acpi_board *b, void *buf);
#define ACPI_FADT_LEN 276
#define ACPI_FACS_LEN 64
void acpi_build_fadt(const struct acpi_board *b, void *buf, uint64_t facs, uint64_t dsdt);
void acpi_build_facs(void *buf);

#endif
