/* SPDX-License-Identifier: MIT */
/* acpi: RSDP/XSDT/table checksums, MADT CPUs, MCFG = ECAM base, FADT PM timer advances. */
#include "guest.h"

#define MAX_TABLES 32
#define Q35_ECAM_BASE 0xb0000000ULL

static void check_madt(const uint8_t *madt)
{
	uint32_t len = acpi_get32(madt + 4), off = 44;
	unsigned lapics = 0, ioapics = 0, matched = 0;

	while (off + 2 <= len && madt[off + 1] >= 2 && off + madt[off + 1] <= len) {
		const uint8_t *e = madt + off;

		if (e[0] == 0 && (acpi_get32(e + 4) & 1)) {
			lapics++;
			for (unsigned i = 0; i < board.nr_cpus; i++)
				matched += board.cpu_apic_ids[i] == e[3];
		}
		if (e[0] == 1) {
			ioapics++;
			tap_diag("MADT IOAPIC id %u at 0x%x, GSI base %u", e[2], acpi_get32(e + 4), acpi_get32(e + 8));
		}
		off += e[1];
	}
	tap_ok(off == len, "MADT entries exactly fill the table (%u of %u bytes)", off, len);
	tap_ok(lapics == board.fwcfg_nr_cpus && matched == lapics,
	       "MADT: %u enabled LAPIC entries for %u CPUs (fw_cfg), %u match the %s APIC IDs", lapics,
	       board.fwcfg_nr_cpus, matched, board.from_dtb ? "DTB" : "MADT");
	tap_ok(ioapics >= 1 && acpi_get32(madt + 36) == LAPIC_BASE, "MADT: %u IOAPIC(s), LAPIC address 0x%x", ioapics,
	       acpi_get32(madt + 36));
}

static void check_pm_timer(const uint8_t *fadt)
{
	uint32_t port = acpi_get32(fadt + 76);
	uint32_t t0, t1;

	tap_ok(port != 0 && port < 0x10000 && fadt[91] == 4, "FADT PM_TMR_BLK port 0x%x, length %u", port, fadt[91]);
	if (port == 0 || port >= 0x10000) {
		tap_ok(false, "PM timer advances");
		return;
	}
	pmtimer_set_port((uint16_t)port);
	t0 = pmtimer_read();
	for (int i = 0; i < 1000 && pmtimer_read() == t0; i++)
		cpu_relax();
	udelay(1000);
	t1 = pmtimer_read();
	/* 1 ms is ~3580 ticks; accept anything from 1 ms to 1 s (nested guests are slow). */
	tap_ok(((t1 - t0) & 0xffffff) >= 3000 && ((t1 - t0) & 0xffffff) < 3579545,
	       "PM timer advances (%u -> %u over >= 1 ms)", t0, t1);
}

void test_main(void)
{
	const uint8_t *rsdp = acpi_find_rsdp();
	const uint8_t *root, *mcfg, *madt, *fadt;
	unsigned esz = 0, n, bad = 0;

	tap_plan(12);
	if (!tap_ok(rsdp != NULL, "RSDP found at %p by scanning 0xe0000-0xfffff", rsdp))
		tap_bail("no RSDP");
	if (rsdp[15] >= 2)
		tap_ok(acpi_checksum_ok(rsdp, acpi_get32(rsdp + 20)) && acpi_get32(rsdp + 20) >= 36,
		       "RSDP rev %u: checksum and extended checksum (length %u)", rsdp[15], acpi_get32(rsdp + 20));
	else
		tap_ok(acpi_checksum_ok(rsdp, 20), "RSDP rev %u checksum (ACPI 1.0: RSDT only)", rsdp[15]);

	root = acpi_root(&esz);
	if (esz == 4)
		tap_diag("RSDP has no XSDT (QEMU builds an RSDT): checking the RSDT instead");
	n = (acpi_get32(root + 4) - 36) / esz;
	tap_ok(memcmp(root, esz == 8 ? "XSDT" : "RSDT", 4) == 0 && acpi_checksum_ok(root, acpi_get32(root + 4)) &&
	       n > 0 && n <= MAX_TABLES, "%s checksum, %u tables", esz == 8 ? "XSDT" : "RSDT", n);
	for (unsigned i = 0; i < n && i < MAX_TABLES; i++) {
		uint64_t a = esz == 8 ? acpi_get64(root + 36 + 8 * i) : acpi_get32(root + 36 + 4 * i);
		const uint8_t *t = (const uint8_t *)(uintptr_t)a;
		bool ok = a && a < (1ULL << 32) && acpi_checksum_ok(t, acpi_get32(t + 4));

		tap_diag("table %.4s at 0x%lx, length %u, checksum %s", ok || a ? (const char *)t : "????", a,
			 a ? acpi_get32(t + 4) : 0, ok ? "ok" : "BAD");
		bad += !ok;
	}
	fadt = acpi_find_table("FACP");
	if (fadt && acpi_get32(fadt + 4) >= 44) {
		const uint8_t *dsdt = (const uint8_t *)(uintptr_t)acpi_get32(fadt + 40);

		if (acpi_get32(fadt + 4) >= 148 && acpi_get64(fadt + 140))
			dsdt = (const uint8_t *)(uintptr_t)acpi_get64(fadt + 140);
		bad += !(dsdt && memcmp(dsdt, "DSDT", 4) == 0 && acpi_checksum_ok(dsdt, acpi_get32(dsdt + 4)));
	}
	tap_ok(bad == 0, "every table's checksum is valid (incl. the DSDT via FADT), %u bad", bad);

	madt = acpi_find_table("APIC");
	if (tap_ok(madt != NULL, "MADT present")) {
		check_madt(madt);
	} else {
		tap_ok(false, "MADT entries");
		tap_ok(false, "MADT LAPICs");
		tap_ok(false, "MADT IOAPIC");
	}

	mcfg = acpi_find_table("MCFG");
	if (mcfg && acpi_get32(mcfg + 4) >= 60) {
		uint64_t base = acpi_get64(mcfg + 44);
		uint64_t want = board.from_dtb ? board.ecam_base : Q35_ECAM_BASE;

		tap_ok(base == want && mcfg[44 + 10] == 0,
		       "MCFG base 0x%lx (segment %u, buses %u-%u) equals the ECAM base 0x%lx from the %s", base,
		       mcfg[44 + 8] | mcfg[44 + 9] << 8, mcfg[44 + 10], mcfg[44 + 11], want,
		       board.from_dtb ? "DTB" : "q35 constant");
	} else {
		tap_ok(false, "MCFG present with one allocation");
	}

	if (tap_ok(fadt != NULL && acpi_get32(fadt + 4) >= 116, "FADT present (length %u)",
		   fadt ? acpi_get32(fadt + 4) : 0)) {
		check_pm_timer(fadt);
	} else {
		tap_ok(false, "FADT PM timer port");
		tap_ok(false, "PM timer advances");
	}
}
