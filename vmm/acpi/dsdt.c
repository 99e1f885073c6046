/* SPDX-License-Identifier: MIT */
/* The DSDT: PCI host bridge with its windows and _PRT, UARTs, processors, motherboard resources, _S5. */
#include <errno.h>

#include "acpi-internal.h"
#include "common/bits.h"

#define PCI_CF8_PORT 0xcf8
#define PCI_CF8_LEN 8
#define PCI_SLOTS 32
#define PCI_PINS 4

static void pci_windows(struct aml *a, const struct acpi_board *b)
{
	for (unsigned int i = 0; i < b->nr_windows; i++) {
		const struct acpi_window *w = &b->windows[i];
		uint64_t min = w->pci_addr, max = w->pci_addr + w->size - 1;
		uint64_t tra = w->cpu_addr - w->pci_addr; /* _TRA: CPU = bus + _TRA (mod 2^n) */
		bool cpu16 = w->cpu_addr + w->size - 1 <= 0xffff;
		bool cpu32 = w->cpu_addr + w->size - 1 <= 0xffffffffULL;

		if (w->kind == ACPI_WIN_IO && max <= 0xffff && cpu16)
			aml_res_word_io(a, (uint16_t)min, (uint16_t)max, (uint16_t)tra);
		else if (w->kind == ACPI_WIN_IO)
			aml_res_dword_io(a, (uint32_t)min, (uint32_t)max, (uint32_t)tra);
		else if (max <= 0xffffffffULL && cpu32)
			aml_res_dword_mem(a, w->prefetch, (uint32_t)min, (uint32_t)max, (uint32_t)tra);
		else
			aml_res_qword_mem(a, w->prefetch, min, max, tra);
	}
}

/* _PRT (§6.2.13): {0xSSSSFFFF, pin 0..3, Zero (GSI form), GSI} for every slot and pin. */
static void pci_prt(struct aml *a)
{
	aml_name(a, "_PRT");
	aml_package_begin(a, PCI_SLOTS * PCI_PINS);
	for (unsigned int slot = 0; slot < PCI_SLOTS; slot++) {
		for (unsigned int pin = 0; pin < PCI_PINS; pin++) {
			aml_package_begin(a, 4);
			aml_integer(a, ((uint64_t)slot << 16) | 0xffff);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, acpi_intx_gsi(slot, pin));
			aml_end(a);
		}
	}
	aml_end(a);
}

static void pci_host(struct aml *a, const struct acpi_board *b)
{
	aml_device_begin(a, "PCI0");
	aml_name_eisaid(a, "_HID", "PNP0A08"); /* PCI Express root bridge */
	aml_name_eisaid(a, "_CID", "PNP0A03"); /* PCI root bridge */
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_BBN", b->bus_start);
	aml_name_integer(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_begin(a);
	aml_res_word_bus(a, b->bus_start, b->bus_end);
	aml_res_io(a, PCI_CF8_PORT, PCI_CF8_PORT, 1, PCI_CF8_LEN);
	pci_windows(a, b);
	aml_resource_end(a);
	pci_prt(a);
	aml_end(a);
}

/* PNP0C02 claiming the ECAM window so an OS accepts MCFG (it checks motherboard resources). */
static void motherboard_resources(struct aml *a, const struct acpi_board *b)
{
	uint64_t base = b->ecam_base + ((uint64_t)b->bus_start << 20);
	uint64_t len = (uint64_t)(b->bus_end - b->bus_start + 1) << 20;

	if (base + len - 1 > 0xffffffffULL)
		return;
	aml_device_begin(a, "MRES");
	aml_name_eisaid(a, "_HID", "PNP0C02");
	aml_name_integer(a, "_UID", 0);
	aml_name(a, "_CRS");
	aml_resource_begin(a);
	aml_res_mem32_fixed(a, true, (uint32_t)base, (uint32_t)len);
	aml_resource_end(a);
	aml_end(a);
}

static void serials(struct aml *a, const struct acpi_board *b)
{
	for (unsigned int i = 0; i < b->nr_serials; i++) {
		const struct acpi_serial *s = &b->serials[i];
		char name[5] = { 'C', 'O', 'M', (char)('1' + i), '\0' }; /* i < ACPI_MAX_SERIALS */

		aml_device_begin(a, name);
		aml_name_eisaid(a, "_HID", "PNP0501"); /* 16550A-compatible UART */
		aml_name_integer(a, "_UID", i + 1);
		aml_name(a, "_CRS");
		aml_resource_begin(a);
		aml_res_io(a, s->port, s->port, 1, (uint8_t)s->len);
		if (s->gsi < 16)
			aml_res_irq_noflags(a, (uint16_t)(1u << s->gsi));
		else
			aml_res_interrupt(a, false, false, false, s->gsi);
		aml_resource_end(a);
		aml_end(a);
	}
}

/* One processor device per MADT entry; _UID matches the MADT processor UID (= FDT index). */
static void processors(struct aml *a, const struct acpi_board *b)
{
	for (uint32_t i = 0; i < b->nr_cpus; i++) {
		static const char hex[] = "0123456789ABCDEF";
		char name[5] = { 'C', hex[(i >> 8) & 0xf], hex[(i >> 4) & 0xf], hex[i & 0xf], '\0' };

		aml_device_begin(a, name);
		aml_name_string_obj(a, "_HID", "ACPI0007");
		aml_name_integer(a, "_UID", i);
		aml_end(a);
	}
}

int acpi_build_dsdt(const struct acpi_board *b, void *buf, size_t cap, size_t *ret_len)
{
	struct aml a;
	size_t len;
	int ret;

	if (cap < ACPI_HDR_LEN || b->nr_cpus > 0x1000)
		return cap < ACPI_HDR_LEN ? -ENOSPC : -EINVAL;
	aml_init(&a, (uint8_t *)buf + ACPI_HDR_LEN, cap - ACPI_HDR_LEN);
	aml_scope_begin(&a, "\\_SB");
	pci_host(&a, b);
	motherboard_resources(&a, b);
	serials(&a, b);
	processors(&a, b);
	aml_end(&a);
	/* S5: SLP_TYP 0 in PM1a/PM1b; the board's PM device powers off on SLP_EN with type 0. */
	aml_name(&a, "\\_S5");
	aml_package_begin(&a, 2);
	aml_integer(&a, 0);
	aml_integer(&a, 0);
	aml_end(&a);
	ret = aml_finish(&a, &len);
	if (ret)
		return ret;
	len += ACPI_HDR_LEN;
	if (len > 0xffffffffULL)
		return -ENOSPC;
	/* Revision 2: integers are 64 bits wide. */
	acpi_header(buf, "DSDT", (uint32_t)len, 2);
	acpi_checksum(buf, len, 9);
	*ret_len = len;
	return 0;
}
