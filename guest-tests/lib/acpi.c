/* SPDX-License-Identifier: MIT */
/* ACPI table discovery: RSDP scan of 0xe0000-0xfffff, XSDT (or RSDT) walk, checksums. */
#include "guest.h"

#define RSDP_SCAN_START 0xe0000
#define RSDP_SCAN_END 0x100000
/* Bound on root-table entries we walk. */
#define ACPI_MAX_TABLES 64

bool acpi_checksum_ok(const void *p, uint32_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum += b[i];
	return sum == 0;
}

const uint8_t *acpi_find_rsdp(void)
{
	for (uintptr_t a = RSDP_SCAN_START; a < RSDP_SCAN_END; a += 16) {
		const uint8_t *p = (const uint8_t *)a;

		if (memcmp(p, "RSD PTR ", 8) == 0 && acpi_checksum_ok(p, 20))
			return p;
	}
	return NULL;
}

const uint8_t *acpi_root(unsigned *ret_entry_size)
{
	const uint8_t *rsdp = acpi_find_rsdp();
	uint64_t xsdt;

	if (!rsdp)
		return NULL;
	xsdt = rsdp[15] >= 2 ? acpi_get64(rsdp + 24) : 0;
	if (xsdt && xsdt < (1ULL << 32)) {
		*ret_entry_size = 8;
		return (const uint8_t *)(uintptr_t)xsdt;
	}
	*ret_entry_size = 4;
	return (const uint8_t *)(uintptr_t)acpi_get32(rsdp + 16);
}

const uint8_t *acpi_find_table(const char sig[4])
{
	unsigned esz;
	const uint8_t *root = acpi_root(&esz);
	uint32_t n;

	if (!root)
		return NULL;
	n = (acpi_get32(root + 4) - 36) / esz;
	if (n > ACPI_MAX_TABLES)
		n = ACPI_MAX_TABLES;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t a = esz == 8 ? acpi_get64(root + 36 + 8 * i) : acpi_get32(root + 36 + 4 * i);

		if (a && a < (1ULL << 32) && memcmp((const void *)(uintptr_t)a, sig, 4) == 0)
			return (const uint8_t *)(uintptr_t)a;
	}
	return NULL;
}
