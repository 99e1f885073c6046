/* SPDX-License-Identifier: MIT */
/* The fixed-format ACPI tables (FADT, FACS, MADT, MCFG, DMAR) and the common header/checksum. */
#include <string.h>

#include "acpi-internal.h"
#include "common/bits.h"

/* System description table header (ACPI 6.x §5.2.6). */
#define HDR_LENGTH 4
#define HDR_REVISION 8
#define HDR_CHECKSUM 9
#define HDR_OEM_ID 10
#define HDR_OEM_TABLE_ID 16
#define HDR_OEM_REVISION 24
#define HDR_CREATOR_ID 28
#define HDR_CREATOR_REVISION 32

uint8_t acpi_sum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + b[i]);
	return s;
}

void acpi_checksum(void *tbl, size_t len, size_t csum_off)
{
	uint8_t *b = tbl;

	b[csum_off] = 0;
	b[csum_off] = (uint8_t)-acpi_sum(b, len);
}

void acpi_header(void *tbl, const char *sig, uint32_t len, uint8_t rev)
{
	uint8_t *b = tbl;

	memcpy(b, sig, 4);
	le32_store(b + HDR_LENGTH, len);
	b[HDR_REVISION] = rev;
	memcpy(b + HDR_OEM_ID, ACPI_OEM_ID, 6);
	memcpy(b + HDR_OEM_TABLE_ID, ACPI_OEM_TABLE_ID, 8);
	le32_store(b + HDR_OEM_REVISION, 1);
	memcpy(b + HDR_CREATOR_ID, ACPI_CREATOR_ID, 4);
	le32_store(b + HDR_CREATOR_REVISION, 1);
}

/* Generic Address Structure (§5.2.3.2). */
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

static void gas(uint8_t *p, uint8_t space, uint8_t bits, uint8_t access, uint64_t addr)
{
	p[0] = space;
	p[1] = bits;
	p[2] = 0; /* bit offset */
	p[3] = access;
	le64_store(p + 4, addr);
}

/* FADT (§5.2.9, revision 6 layout: 276 bytes). */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_P_LVL2_LAT 96
#define FADT_P_LVL3_LAT 98
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_MINOR_VERSION 131
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM_TMR_BLK 208

/* IAPC_BOOT_ARCH (§5.2.9.3). */
#define BOOT_ARCH_LEGACY_DEVICES BIT_ULL(0)
#define BOOT_ARCH_8042 BIT_ULL(1)
#define BOOT_ARCH_VGA_NOT_PRESENT BIT_ULL(2)
#define BOOT_ARCH_CMOS_RTC_NOT_PRESENT BIT_ULL(5)

/* Fixed feature flags (§5.2.9, Table 5.10). */
#define FADT_F_WBINVD BIT_ULL(0)
#define FADT_F_PROC_C1 BIT_ULL(2)
#define FADT_F_PWR_BUTTON BIT_ULL(4) /* 1: no fixed-feature power button */
#define FADT_F_SLP_BUTTON BIT_ULL(5) /* 1: no fixed-feature sleep button */
#define FADT_F_FIX_RTC BIT_ULL(6)    /* 1: RTC wake status not in fixed registers */
#define FADT_F_RESET_REG_SUP BIT_ULL(10)

#define PM_RESET_PORT 0xcf9
#define PM_RESET_VALUE 0x06

void acpi_build_fadt(const struct acpi_board *b, void *buf, uint64_t facs, uint64_t dsdt)
{
	uint8_t *t = buf;
	uint16_t boot_arch = BOOT_ARCH_VGA_NOT_PRESENT;

	memset(t, 0, ACPI_FADT_LEN);
	acpi_header(t, "FACP", ACPI_FADT_LEN, 6);
	/* The tables sit below 1 MiB, so the 32-bit and X_ pointers agree. */
	le32_store(t + FADT_FIRMWARE_CTRL, (uint32_t)facs);
	le32_store(t + FADT_DSDT, (uint32_t)dsdt);
	le16_store(t + FADT_SCI_INT, b->sci_irq);
	/* SMI_CMD = 0: no SMM hand-off, the board is always in ACPI mode (SCI_EN reads 1). */
	le32_store(t + FADT_SMI_CMD, 0);
	le32_store(t + FADT_PM1A_EVT_BLK, b->pm_base);
	le32_store(t + FADT_PM1A_CNT_BLK, b->pm_base + 4u);
	le32_store(t + FADT_PM_TMR_BLK, b->pm_base + 8u);
	t[FADT_PM1_EVT_LEN] = 4;
	t[FADT_PM1_CNT_LEN] = 2;
	t[FADT_PM_TMR_LEN] = 4;
	/* Latencies above 100 / 1000 us say C2 / C3 are not supported. */
	le16_store(t + FADT_P_LVL2_LAT, 101);
	le16_store(t + FADT_P_LVL3_LAT, 1001);
	if (b->nr_serials || b->has_8042 || b->has_rtc)
		boot_arch |= BOOT_ARCH_LEGACY_DEVICES;
	if (b->has_8042)
		boot_arch |= BOOT_ARCH_8042;
	if (!b->has_rtc)
		boot_arch |= BOOT_ARCH_CMOS_RTC_NOT_PRESENT;
	le16_store(t + FADT_IAPC_BOOT_ARCH, boot_arch);
	/*
	 * PWR_BUTTON clear: a fixed-feature power button (PWRBTN_STS/EN in PM1a), which the host
	 * presses on SIGTERM (vmm/signals.c); the DSDT has no PNP0C0C control-method button.
	 */
	le32_store(t + FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_SLP_BUTTON |
					   FADT_F_FIX_RTC | FADT_F_RESET_REG_SUP);
	gas(t + FADT_RESET_REG, GAS_SYSTEM_IO, 8, GAS_ACCESS_BYTE, PM_RESET_PORT);
	t[FADT_RESET_VALUE] = PM_RESET_VALUE;
	t[FADT_MINOR_VERSION] = 0;
	le64_store(t + FADT_X_FIRMWARE_CTRL, facs);
	le64_store(t + FADT_X_DSDT, dsdt);
	gas(t + FADT_X_PM1A_EVT_BLK, GAS_SYSTEM_IO, 32, GAS_ACCESS_WORD, b->pm_base);
	gas(t + FADT_X_PM1A_CNT_BLK, GAS_SYSTEM_IO, 16, GAS_ACCESS_WORD, b->pm_base + 4u);
	gas(t + FADT_X_PM_TMR_BLK, GAS_SYSTEM_IO, 32, GAS_ACCESS_DWORD, b->pm_base + 8u);
	acpi_checksum(t, ACPI_FADT_LEN, HDR_CHECKSUM);
}

/* FACS (§5.2.10): no checksum; the OS owns the waking vector and global lock. */
void acpi_build_facs(void *buf)
{
	uint8_t *t = buf;

	memset(t, 0, ACPI_FACS_LEN);
	memcpy(t, "FACS", 4);
	le32_store(t + 4, ACPI_FACS_LEN);
	t[32] = 2; /* version */
}

/* MADT (§5.2.12) and its interrupt controller structures. */
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_PCAT_COMPAT BIT_ULL(0)
#define MADT_ENTRIES 44
#define MADT_T_LAPIC 0
#define MADT_T_IOAPIC 1
#define MADT_T_ISO 2
#define MADT_T_LAPIC_NMI 4
#define MADT_T_X2APIC 9
#define MADT_T_X2APIC_NMI 10
#define MADT_LAPIC_LEN 8
#define MADT_IOAPIC_LEN 12
#define MADT_ISO_LEN 10
#define MADT_LAPIC_NMI_LEN 6
#define MADT_X2APIC_LEN 16
#define MADT_X2APIC_NMI_LEN 12
#define MADT_ENABLED BIT_ULL(0)
/* MPS INTI flags: polarity bits 1:0 (1 = high), trigger bits 3:2 (1 = edge, 3 = level). */
#define MPS_HIGH_EDGE 0x5
#define MPS_HIGH_LEVEL 0xd

/* A CPU needs a Local x2APIC entry when its APIC ID or its UID does not fit the 8-bit one. */
static bool cpu_is_x2(const struct acpi_board *b, uint32_t i)
{
	return b->apic_ids[i] > 254 || i > 254;
}

static bool any_x2(const struct acpi_board *b)
{
	for (uint32_t i = 0; i < b->nr_cpus; i++)
		if (cpu_is_x2(b, i))
			return true;
	return false;
}

static bool sci_iso(const struct acpi_board *b)
{
	return b->sci_irq < 16 && b->sci_irq != 0;
}

size_t acpi_madt_size(const struct acpi_board *b)
{
	size_t n = MADT_ENTRIES + MADT_IOAPIC_LEN + MADT_ISO_LEN + MADT_LAPIC_NMI_LEN;

	for (uint32_t i = 0; i < b->nr_cpus; i++)
		n += cpu_is_x2(b, i) ? MADT_X2APIC_LEN : MADT_LAPIC_LEN;
	if (sci_iso(b))
		n += MADT_ISO_LEN;
	if (any_x2(b))
		n += MADT_X2APIC_NMI_LEN;
	return n;
}

static uint8_t *iso(uint8_t *p, uint8_t src, uint32_t gsi, uint16_t flags)
{
	p[0] = MADT_T_ISO;
	p[1] = MADT_ISO_LEN;
	p[2] = 0; /* bus: ISA */
	p[3] = src;
	le32_store(p + 4, gsi);
	le16_store(p + 8, flags);
	return p + MADT_ISO_LEN;
}

void acpi_build_madt(const struct acpi_board *b, void *buf)
{
	size_t len = acpi_madt_size(b);
	uint8_t *t = buf, *p = t + MADT_ENTRIES;

	memset(t, 0, len);
	acpi_header(t, "APIC", (uint32_t)len, 4);
	le32_store(t + MADT_LAPIC_ADDR, (uint32_t)b->lapic_addr);
	le32_store(t + MADT_FLAGS, MADT_PCAT_COMPAT);
	for (uint32_t i = 0; i < b->nr_cpus; i++) {
		if (cpu_is_x2(b, i)) {
			p[0] = MADT_T_X2APIC;
			p[1] = MADT_X2APIC_LEN;
			le32_store(p + 4, b->apic_ids[i]);
			le32_store(p + 8, MADT_ENABLED);
			le32_store(p + 12, i); /* ACPI processor UID */
			p += MADT_X2APIC_LEN;
		} else {
			p[0] = MADT_T_LAPIC;
			p[1] = MADT_LAPIC_LEN;
			p[2] = (uint8_t)i; /* ACPI processor UID */
			p[3] = (uint8_t)b->apic_ids[i];
			le32_store(p + 4, MADT_ENABLED);
			p += MADT_LAPIC_LEN;
		}
	}
	p[0] = MADT_T_IOAPIC;
	p[1] = MADT_IOAPIC_LEN;
	p[2] = b->ioapic_id;
	le32_store(p + 4, b->ioapic_addr);
	le32_store(p + 8, b->ioapic_gsi_base);
	p += MADT_IOAPIC_LEN;
	/* The PIT's IRQ 0 is wired to IOAPIC pin 2 on PC-compatible boards. */
	p = iso(p, 0, 2, 0);
	if (sci_iso(b))
		p = iso(p, b->sci_irq, b->sci_irq, MPS_HIGH_LEVEL);
	/* NMI arrives on LINT1 of every processor (UID 0xff / 0xffffffff = all). */
	p[0] = MADT_T_LAPIC_NMI;
	p[1] = MADT_LAPIC_NMI_LEN;
	p[2] = 0xff;
	le16_store(p + 3, MPS_HIGH_EDGE);
	p[5] = 1;
	p += MADT_LAPIC_NMI_LEN;
	if (any_x2(b)) {
		p[0] = MADT_T_X2APIC_NMI;
		p[1] = MADT_X2APIC_NMI_LEN;
		le16_store(p + 2, MPS_HIGH_EDGE);
		le32_store(p + 4, 0xffffffffu);
		p[8] = 1;
	}
	acpi_checksum(t, len, HDR_CHECKSUM);
}

/* MCFG (PCI Firmware spec 3.x §4.1.2): 8 reserved bytes, then 16-byte allocations. */
#define MCFG_ALLOC 44
#define MCFG_ALLOC_LEN 16

size_t acpi_mcfg_size(const struct acpi_board *b)
{
	return MCFG_ALLOC + MCFG_ALLOC_LEN;
}

void acpi_build_mcfg(const struct acpi_board *b, void *buf)
{
	uint8_t *t = buf, *p = t + MCFG_ALLOC;
	size_t len = acpi_mcfg_size(b);

	memset(t, 0, len);
	acpi_header(t, "MCFG", (uint32_t)len, 1);
	le64_store(p, b->ecam_base);
	le16_store(p + 8, 0); /* segment */
	p[10] = b->bus_start;
	p[11] = b->bus_end;
	acpi_checksum(t, len, HDR_CHECKSUM);
}

/* DMAR (VT-d spec §8.1; docs vtd-facts.md §10). */
#define DMAR_WIDTH 36
#define DMAR_FLAGS 37
#define DMAR_F_INTR_REMAP BIT_ULL(0)
#define DMAR_F_X2APIC_OPT_OUT BIT_ULL(1)
#define DMAR_STRUCTS 48
#define DRHD_TYPE 0
#define DRHD_HDR_LEN 16
#define DRHD_F_INCLUDE_PCI_ALL BIT_ULL(0)
#define SCOPE_PCI_ENDPOINT 1
#define SCOPE_IOAPIC 3
#define SCOPE_LEN 8 /* 6 + one {device, function} path hop */

size_t acpi_dmar_size(const struct acpi_board *b)
{
	return DMAR_STRUCTS + DRHD_HDR_LEN + SCOPE_LEN * (b->nr_scopes + 1);
}

static uint8_t *scope(uint8_t *p, uint8_t type, uint8_t enum_id, uint8_t bus, uint8_t dev,
		      uint8_t fn)
{
	p[0] = type;
	p[1] = SCOPE_LEN;
	p[2] = 0;
	p[3] = 0;
	p[4] = enum_id;
	p[5] = bus;
	p[6] = dev;
	p[7] = fn;
	return p + SCOPE_LEN;
}

void acpi_build_dmar(const struct acpi_board *b, void *buf)
{
	size_t len = acpi_dmar_size(b);
	uint8_t *t = buf, *d = t + DMAR_STRUCTS, *p = d + DRHD_HDR_LEN;
	uint8_t flags = 0;

	memset(t, 0, len);
	acpi_header(t, "DMAR", (uint32_t)len, 1);
	t[DMAR_WIDTH] = (uint8_t)(b->iommu_haw - 1);
	if (b->iommu_intr_remap)
		flags |= DMAR_F_INTR_REMAP;
	if (b->iommu_x2apic_opt_out)
		flags |= DMAR_F_X2APIC_OPT_OUT;
	t[DMAR_FLAGS] = flags;

	le16_store(d, DRHD_TYPE);
	le16_store(d + 2, (uint16_t)(len - DMAR_STRUCTS));
	d[4] = b->iommu_include_all ? DRHD_F_INCLUDE_PCI_ALL : 0;
	d[5] = 0; /* register set = 2^0 4 KiB pages */
	le16_store(d + 6, 0); /* segment */
	le64_store(d + 8, b->iommu_base);
	for (unsigned int i = 0; i < b->nr_scopes; i++) {
		uint16_t bdf = b->scopes[i];

		p = scope(p, SCOPE_PCI_ENDPOINT, 0, (uint8_t)(bdf >> 8), (bdf >> 3) & 0x1f, bdf & 7);
	}
	/* Interrupt remapping needs the IOAPIC's source-id: it requests as 00:1f.0. */
	scope(p, SCOPE_IOAPIC, b->ioapic_id, ACPI_IOAPIC_BUS, ACPI_IOAPIC_DEV, ACPI_IOAPIC_FN);
	acpi_checksum(t, len, HDR_CHECKSUM);
}
