/* SPDX-License-Identifier: MIT */
/* Builds board FDTs like vmm/board.c does, generates ACPI from them and checks every field. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "acpi-test-board.h"
#include "common/bits.h"
#include "vmm/core/gmem.h"

static void check_common(const struct image *img, bool want_dmar)
{
	static const char *const always[] = { "RSDP", "XSDT", "RSDT", "FACP", "FACS", "DSDT", "APIC",
					      "MCFG" };
	const struct table *rsdp = find(img, "RSDP"), *xsdt = find(img, "XSDT");
	const struct table *rsdt = find(img, "RSDT");
	unsigned int nx, listed = 0;

	for (size_t i = 0; i < ARRAY_SIZE(always); i++)
		ck_assert_msg(find(img, always[i]), "%s missing", always[i]);
	ck_assert_uint_eq(img->n, 8 + want_dmar);
	ck_assert(!find(img, "DMAR") == !want_dmar);

	/* RSDP: 16-byte aligned in the BIOS area, both checksums, revision 2. */
	ck_assert_uint_eq(rsdp->gpa % 16, 0);
	ck_assert(rsdp->gpa >= 0xe0000 && rsdp->gpa + 36 <= 0x100000);
	ck_assert_mem_eq(rsdp->data, "RSD PTR ", 8);
	ck_assert_uint_eq(sum(rsdp->data, 20), 0);
	ck_assert_uint_eq(sum(rsdp->data, 36), 0);
	ck_assert_uint_eq(rsdp->data[15], 2);
	ck_assert_mem_eq(rsdp->data + 9, "NESTVM", 6);
	ck_assert_uint_eq(le64_load(rsdp->data + 24), xsdt->gpa);
	ck_assert_uint_eq(le32_load(rsdp->data + 16), rsdt->gpa);

	for (unsigned int i = 0; i < img->n; i++) {
		const struct table *t = &img->t[i];

		ck_assert(t->gpa >= ACPI_RSDP_GPA && t->gpa + t->len <= ACPI_LIMIT_GPA);
		if (!strcmp(t->sig, "RSDP") || !strcmp(t->sig, "FACS"))
			continue;
		ck_assert_msg(sum(t->data, t->len) == 0, "%s checksum", t->sig);
		ck_assert_uint_eq(t->gpa % 16, 0);
		ck_assert_mem_eq(t->data + 10, "NESTVM", 6);
		ck_assert_mem_eq(t->data + 16, "NESTVMPC", 8);
		ck_assert_mem_eq(t->data + 28, "NVMM", 4);
	}
	ck_assert_uint_eq(find(img, "FACS")->gpa % 64, 0);
	ck_assert_uint_eq(find(img, "FACS")->len, 64);

	/* XSDT and RSDT list every table except the FADT's FACS and DSDT, in the same order. */
	nx = (unsigned int)(xsdt->len - 36) / 8;
	ck_assert_uint_eq(nx, 3 + want_dmar);
	ck_assert_uint_eq((rsdt->len - 36) / 4, nx);
	for (unsigned int i = 0; i < nx; i++) {
		uint64_t gpa = le64_load(xsdt->data + 36 + 8 * i);

		ck_assert_uint_eq(le32_load(rsdt->data + 36 + 4 * i), gpa);
		for (unsigned int k = 0; k < img->n; k++)
			if (img->t[k].gpa == gpa && strcmp(img->t[k].sig, "RSDP") &&
			    strcmp(img->t[k].sig, "XSDT") && strcmp(img->t[k].sig, "RSDT") &&
			    strcmp(img->t[k].sig, "FACS") && strcmp(img->t[k].sig, "DSDT"))
				listed++;
	}
	ck_assert_uint_eq(listed, nx);
}

struct madt_info {
	unsigned int nr_lapic, nr_x2apic, nr_ioapic, nr_iso, nr_nmi, nr_x2nmi;
	uint32_t ids[2048], uids[2048];
	unsigned int nr_ids;
	uint8_t iso_src[4];
	uint32_t iso_gsi[4];
	uint16_t iso_flags[4];
};

static void parse_madt(const struct table *t, struct madt_info *m)
{
	size_t off = 44;

	memset(m, 0, sizeof(*m));
	ck_assert_uint_eq(le32_load(t->data + 36), 0xfee00000u);
	ck_assert_uint_eq(le32_load(t->data + 40), 1); /* PCAT_COMPAT */
	while (off < t->len) {
		const uint8_t *e = t->data + off;

		ck_assert_uint_ge(e[1], 2);
		ck_assert_uint_le(off + e[1], t->len);
		switch (e[0]) {
		case 0:
			ck_assert_uint_eq(e[1], 8);
			ck_assert_uint_eq(le32_load(e + 4), 1);
			m->uids[m->nr_ids] = e[2];
			m->ids[m->nr_ids++] = e[3];
			m->nr_lapic++;
			break;
		case 9:
			ck_assert_uint_eq(e[1], 16);
			ck_assert_uint_eq(le32_load(e + 8), 1);
			m->uids[m->nr_ids] = le32_load(e + 12);
			m->ids[m->nr_ids++] = le32_load(e + 4);
			m->nr_x2apic++;
			break;
		case 1:
			ck_assert_uint_eq(e[1], 12);
			ck_assert_uint_eq(e[2], 0);
			ck_assert_uint_eq(le32_load(e + 4), 0xfec00000u);
			ck_assert_uint_eq(le32_load(e + 8), 0);
			m->nr_ioapic++;
			break;
		case 2:
			ck_assert_uint_eq(e[1], 10);
			ck_assert_uint_lt(m->nr_iso, 4);
			m->iso_src[m->nr_iso] = e[3];
			m->iso_gsi[m->nr_iso] = le32_load(e + 4);
			m->iso_flags[m->nr_iso++] = le16_load(e + 8);
			break;
		case 4:
			ck_assert_uint_eq(e[1], 6);
			ck_assert_uint_eq(e[2], 0xff);
			ck_assert_uint_eq(e[5], 1); /* LINT1 */
			m->nr_nmi++;
			break;
		case 10:
			ck_assert_uint_eq(e[1], 12);
			ck_assert_uint_eq(le32_load(e + 4), 0xffffffffu);
			ck_assert_uint_eq(e[8], 1);
			m->nr_x2nmi++;
			break;
		default:
			ck_abort_msg("unexpected MADT entry type %u", e[0]);
		}
		off += e[1];
	}
	ck_assert_uint_eq(off, t->len);
}

static void check_madt(const struct image *img, const struct board_opts *o)
{
	struct madt_info m;

	parse_madt(find(img, "APIC"), &m);
	ck_assert_uint_eq(m.nr_ids, o->nr_cpus);
	for (unsigned int i = 0; i < o->nr_cpus; i++) {
		ck_assert_uint_eq(m.ids[i], o->apic_ids ? o->apic_ids[i] : i);
		ck_assert_uint_eq(m.uids[i], i);
	}
	ck_assert_uint_eq(m.nr_ioapic, 1);
	ck_assert_uint_eq(m.nr_nmi, 1);
	ck_assert_uint_eq(m.nr_iso, 2);
	ck_assert_uint_eq(m.iso_src[0], 0);
	ck_assert_uint_eq(m.iso_gsi[0], 2);
	ck_assert_uint_eq(m.iso_src[1], 9);
	ck_assert_uint_eq(m.iso_gsi[1], 9);
	ck_assert_uint_eq(m.iso_flags[1], 0xd); /* level, active high */
	ck_assert_uint_eq(m.nr_x2nmi, m.nr_x2apic ? 1 : 0);
}

static void check_gas(const uint8_t *g, uint8_t space, uint8_t bits, uint64_t addr)
{
	ck_assert_uint_eq(g[0], space);
	ck_assert_uint_eq(g[1], bits);
	ck_assert_uint_eq(g[2], 0);
	ck_assert_uint_eq(le64_load(g + 4), addr);
}

static void check_fadt(const struct image *img)
{
	const struct table *t = find(img, "FACP");
	const uint8_t *f = t->data;
	uint32_t flags = le32_load(f + 112);
	uint16_t boot = le16_load(f + 109);

	ck_assert_uint_eq(t->len, 276);
	ck_assert_uint_eq(f[8], 6);
	ck_assert_uint_eq(le32_load(f + 36), find(img, "FACS")->gpa);
	ck_assert_uint_eq(le32_load(f + 40), find(img, "DSDT")->gpa);
	ck_assert_uint_eq(le64_load(f + 132), find(img, "FACS")->gpa);
	ck_assert_uint_eq(le64_load(f + 140), find(img, "DSDT")->gpa);
	ck_assert_uint_eq(le16_load(f + 46), 9);  /* SCI_INT */
	ck_assert_uint_eq(le32_load(f + 48), 0);  /* SMI_CMD: always ACPI mode */
	ck_assert_uint_eq(le32_load(f + 56), 0x600);
	ck_assert_uint_eq(le32_load(f + 64), 0x604);
	ck_assert_uint_eq(le32_load(f + 76), 0x608);
	ck_assert_uint_eq(le32_load(f + 80), 0); /* no GPE0 */
	ck_assert_uint_eq(f[88], 4);
	ck_assert_uint_eq(f[89], 2);
	ck_assert_uint_eq(f[91], 4);
	check_gas(f + 148, 1, 32, 0x600);
	check_gas(f + 172, 1, 16, 0x604);
	check_gas(f + 208, 1, 32, 0x608);
	check_gas(f + 116, 1, 8, 0xcf9);
	ck_assert_uint_eq(f[128], 0x06);
	ck_assert(flags & (1u << 10));           /* RESET_REG_SUP */
	ck_assert(flags & (1u << 0));            /* WBINVD */
	ck_assert(flags & (1u << 2));            /* PROC_C1 */
	ck_assert(!(flags & (1u << 4)));         /* PWR_BUTTON clear: fixed-feature button */
	{
		/* ... and no control-method button contradicts it: no EISAID PNP0C0C in the DSDT. */
		static const uint8_t pnp0c0c[] = { 0x41, 0xd0, 0x0c, 0x0c };
		static const uint8_t pnp0a08[] = { 0x41, 0xd0, 0x0a, 0x08 }; /* the encoding is right */
		const struct table *d = find(img, "DSDT");

		ck_assert_ptr_nonnull(memmem(d->data, d->len, pnp0a08, sizeof(pnp0a08)));
		ck_assert_ptr_null(memmem(d->data, d->len, pnp0c0c, sizeof(pnp0c0c)));
	}
	ck_assert(flags & (1u << 5));            /* SLP_BUTTON: none */
	ck_assert(!(flags & (1u << 8)));         /* TMR_VAL_EXT: 24-bit */
	ck_assert(!(flags & (1u << 20)));        /* not HW_REDUCED */
	ck_assert(!(boot & (1u << 1)));          /* no 8042 */
	ck_assert(boot & (1u << 2));             /* no VGA */
	ck_assert(!(boot & (1u << 3)));          /* MSI supported */
	ck_assert(boot & (1u << 0));             /* legacy devices (COM1) */
}

static void check_mcfg(const struct image *img, uint64_t base, uint8_t start, uint8_t end)
{
	const struct table *t = find(img, "MCFG");

	ck_assert_uint_eq(t->len, 60);
	ck_assert_uint_eq(le64_load(t->data + 44), base);
	ck_assert_uint_eq(le16_load(t->data + 52), 0);
	ck_assert_uint_eq(t->data[54], start);
	ck_assert_uint_eq(t->data[55], end);
}

/* DMAR: width, flags, one DRHD whose scopes are the endpoints then the IOAPIC at 00:1f.0. */
static void check_dmar(const struct image *img, const struct board_opts *o)
{
	const struct table *t = find(img, "DMAR");
	const uint8_t *d = t->data + 48, *s;
	uint8_t want_flags = (o->intr_remap ? 1 : 0) | (o->x2apic_opt_out ? 2 : 0);

	ck_assert_uint_eq(t->data[8], 1);
	ck_assert_uint_eq(t->data[36], (o->haw ? o->haw : 48) - 1);
	ck_assert_uint_eq(t->data[37], want_flags);
	ck_assert_uint_eq(le16_load(d), 0);
	ck_assert_uint_eq(le16_load(d + 2), t->len - 48);
	ck_assert_uint_eq(d[4], o->include_all ? 1 : 0);
	ck_assert_uint_eq(d[5], 0);
	ck_assert_uint_eq(le16_load(d + 6), 0);
	ck_assert_uint_eq(le64_load(d + 8), 0xfed90000u);
	ck_assert_uint_eq(le16_load(d + 2), 16 + 8 * ((o->include_all ? 0 : o->nr_scopes) + 1));
	s = d + 16;
	for (unsigned int i = 0; !o->include_all && i < o->nr_scopes; i++, s += 8) {
		ck_assert_uint_eq(s[0], 1);
		ck_assert_uint_eq(s[1], 8);
		ck_assert_uint_eq(s[5], o->scopes[i] >> 8);
		ck_assert_uint_eq(s[6], (o->scopes[i] >> 3) & 0x1f);
		ck_assert_uint_eq(s[7], o->scopes[i] & 7);
	}
	ck_assert_uint_eq(s[0], 3);
	ck_assert_uint_eq(s[1], 8);
	ck_assert_uint_eq(s[4], 0); /* IOAPIC id */
	ck_assert_uint_eq(s[5], 0);
	ck_assert_uint_eq(s[6], 0x1f);
	ck_assert_uint_eq(s[7], 0);
}

static void full_check(const struct board_opts *o)
{
	struct image img;

	build(o, &img);
	check_common(&img, o->iommu);
	check_madt(&img, o);
	check_fadt(&img);
	check_mcfg(&img, 0xb0000000, (uint8_t)o->bus_start, (uint8_t)o->bus_end);
	if (o->iommu)
		check_dmar(&img, o);
	free(img.buf);
}

static const unsigned int cpu_counts[] = { 1, 2, 8 };

START_TEST(test_cpus)
{
	struct board_opts o = default_opts(cpu_counts[_i]);

	full_check(&o);
}
END_TEST

START_TEST(test_x2apic)
{
	static const uint32_t ids[] = { 0, 1, 300, 2 };
	struct board_opts o = default_opts(4);
	struct image img;
	struct madt_info m;

	o.apic_ids = ids;
	full_check(&o);
	build(&o, &img);
	parse_madt(find(&img, "APIC"), &m);
	ck_assert_uint_eq(m.nr_lapic, 3);
	ck_assert_uint_eq(m.nr_x2apic, 1);
	ck_assert_uint_eq(m.ids[2], 300);
	ck_assert_uint_eq(m.uids[2], 2);
	ck_assert_uint_eq(m.nr_x2nmi, 1);
	free(img.buf);
}
END_TEST

START_TEST(test_iommu_include_all)
{
	struct board_opts o = default_opts(2);

	o.iommu = true;
	o.include_all = true;
	o.intr_remap = true;
	o.haw = 39;
	full_check(&o);
	o.x2apic_opt_out = true;
	o.haw = 57;
	o.intr_remap = false;
	full_check(&o);
}
END_TEST

START_TEST(test_iommu_scope)
{
	static const uint32_t scopes[] = { 3 << 3, (4 << 3) | 1, (1 << 8) | (2 << 3) };
	struct board_opts o = default_opts(8);

	o.iommu = true;
	o.scopes = scopes;
	o.nr_scopes = 3;
	o.intr_remap = true;
	o.x2apic_opt_out = true;
	full_check(&o);
}
END_TEST

START_TEST(test_bus_range)
{
	struct board_opts o = default_opts(1);
	struct image img;

	/* reg covers buses 0x10-0x1f; MCFG's base is still that of bus 0. */
	o.bus_start = 0x10;
	o.bus_end = 0x1f;
	build(&o, &img);
	check_mcfg(&img, 0xb0000000, 0x10, 0x1f);
	check_common(&img, false);
	free(img.buf);
}
END_TEST
START_TEST(test_missing_nodes)
{
	struct board_opts o;

	o = default_opts(1);
	o.omit_cpus = true;
	ck_assert_int_eq(try_build(&o), -EINVAL);
	o = default_opts(0); /* /cpus without cpu nodes */
	ck_assert_int_eq(try_build(&o), -EINVAL);
	o = default_opts(1);
	o.omit_ioapic = true;
	ck_assert_int_eq(try_build(&o), -EINVAL);
	o = default_opts(1);
	o.omit_pci = true;
	ck_assert_int_eq(try_build(&o), -EINVAL);
	o = default_opts(1);
	o.omit_ranges = true;
	ck_assert_int_eq(try_build(&o), -EINVAL);
	o = default_opts(1);
	o.omit_pm = true;
	ck_assert_int_eq(try_build(&o), -EINVAL);
	o = default_opts(1);
	o.short_ioapic_reg = true;
	ck_assert_int_eq(try_build(&o), -EINVAL);
	o = default_opts(1);
	o.iommu = true;
	o.iommu_no_form = true;
	ck_assert_int_eq(try_build(&o), -EINVAL);
	o = default_opts(1);
	o.iommu = true;
	o.include_all = true;
	o.haw = 12;
	ck_assert_int_eq(try_build(&o), -EINVAL);
	/* A UART is optional: without it there is no COM1 and no LEGACY_DEVICES flag. */
	o = default_opts(1);
	o.omit_serial = true;
	ck_assert_int_eq(try_build(&o), 0);
}
END_TEST

START_TEST(test_bad_blobs)
{
	struct board_opts o = default_opts(2);
	uint8_t *fdt = make_fdt(&o), *buf = calloc(1, IMG_SIZE);
	uint8_t junk[256];
	size_t used;
	uint32_t size = fdt_totalsize(fdt);

	ck_assert_int_eq(acpi_build_to_buffer(NULL, buf, IMG_SIZE, ACPI_RSDP_GPA, &used), -EINVAL);
	memset(junk, 0x5a, sizeof(junk));
	ck_assert_int_eq(acpi_build_to_buffer(junk, buf, IMG_SIZE, ACPI_RSDP_GPA, &used), -EINVAL);
	/* Misaligned base. */
	ck_assert_int_eq(acpi_build_to_buffer(fdt, buf, IMG_SIZE, ACPI_RSDP_GPA + 4, &used),
			 -EINVAL);
	/* Flip every byte of the structure block in turn: never a crash, 0 or -errno. */
	for (uint32_t off = fdt_off_dt_struct(fdt); off < size; off += 7) {
		uint8_t save = fdt[off];
		int ret;

		fdt[off] ^= 0xff;
		ret = acpi_build_to_buffer(fdt, buf, IMG_SIZE, ACPI_RSDP_GPA, &used);
		ck_assert(ret == 0 || ret == -EINVAL || ret == -ENOSPC);
		fdt[off] = save;
	}
	free(buf);
	free(fdt);
}
END_TEST

START_TEST(test_enospc)
{
	struct board_opts o = default_opts(8);
	uint8_t *fdt, *buf = malloc(IMG_SIZE);
	size_t used = 0, full;

	o.iommu = true;
	o.include_all = true;
	fdt = make_fdt(&o);
	ck_assert_int_eq(acpi_build_to_buffer(fdt, buf, IMG_SIZE, ACPI_RSDP_GPA, &full), 0);
	for (size_t len = 0; len < full; len += (len < 0x200 ? 1 : 13)) {
		used = 7;
		ck_assert_int_eq(acpi_build_to_buffer(fdt, buf, len, ACPI_RSDP_GPA, &used), -ENOSPC);
		ck_assert_uint_eq(used, 7);
	}
	ck_assert_int_eq(acpi_build_to_buffer(fdt, buf, full, ACPI_RSDP_GPA, &used), 0);
	ck_assert_uint_eq(used, full);
	free(buf);
	free(fdt);
}
END_TEST

START_TEST(test_many_cpus)
{
	struct board_opts o = default_opts(1024);
	struct image img;
	struct madt_info *m = malloc(sizeof(*m));

	build(&o, &img);
	check_common(&img, false);
	parse_madt(find(&img, "APIC"), m);
	/* UIDs above 254 do not fit the 8-bit Local APIC entry. */
	ck_assert_uint_eq(m->nr_lapic, 255);
	ck_assert_uint_eq(m->nr_x2apic, 1024 - 255);
	ck_assert_uint_eq(m->ids[1023], 1023);
	ck_assert_uint_eq(m->uids[1023], 1023);
	free(img.buf);
	free(m);
	o = default_opts(1025);
	ck_assert_int_eq(try_build(&o), -ENOSPC);
}
END_TEST

START_TEST(test_build_into_gmem)
{
	struct board_opts o = default_opts(2);
	void *fdt = make_fdt(&o);
	uint8_t *ram = calloc(1, 1 * MiB), *buf = calloc(1, IMG_SIZE);
	struct gmem gm;
	size_t used;

	gmem_init_empty(&gm);
	ck_assert_int_eq(acpi_build(fdt, &gm, ACPI_RSDP_GPA, ACPI_LIMIT_GPA), -EFAULT);
	ck_assert_int_eq(gmem_add_region(&gm, 0, 1 * MiB, ram), 0);
	ck_assert_int_eq(acpi_build(fdt, &gm, ACPI_RSDP_GPA, ACPI_RSDP_GPA), -EINVAL);
	ck_assert_int_eq(acpi_build(fdt, &gm, ACPI_RSDP_GPA, ACPI_RSDP_GPA + 0x200), -ENOSPC);
	ck_assert_int_eq(acpi_build(fdt, &gm, ACPI_RSDP_GPA, ACPI_LIMIT_GPA), 0);
	ck_assert_int_eq(acpi_build_to_buffer(fdt, buf, IMG_SIZE, ACPI_RSDP_GPA, &used), 0);
	ck_assert_mem_eq(ram + ACPI_RSDP_GPA, buf, used);
	ck_assert_mem_eq(ram + ACPI_RSDP_GPA, "RSD PTR ", 8);
	free(ram);
	free(buf);
	free(fdt);
}
END_TEST

START_TEST(test_no_uart)
{
	struct board_opts o = default_opts(1);
	struct image img;
	const struct table *dsdt;

	o.omit_serial = true;
	build(&o, &img);
	check_common(&img, false);
	ck_assert_uint_eq(le16_load(find(&img, "FACP")->data + 109) & 1, 0); /* no legacy devices */
	dsdt = find(&img, "DSDT");
	ck_assert_ptr_null(memmem(dsdt->data, dsdt->len, "COM1", 4));
	ck_assert_ptr_nonnull(memmem(dsdt->data, dsdt->len, "PCI0", 4));
	free(img.buf);
}
END_TEST

static int stop_at_fadt(const char *sig, const void *data, size_t len, uint64_t gpa, void *opaque)
{
	(*(unsigned int *)opaque)++;
	return strcmp(sig, "FACP") == 0 ? 42 : 0;
}

START_TEST(test_walk)
{
	struct board_opts o = default_opts(1);
	struct image img;
	unsigned int calls = 0;

	build(&o, &img);
	ck_assert_int_eq(acpi_for_each_table(img.buf, img.used, ACPI_RSDP_GPA, stop_at_fadt, &calls),
			 42);
	ck_assert_uint_eq(calls, 4); /* RSDP, XSDT, RSDT, FACP */
	/* A truncated image is refused, not over-read. */
	for (size_t len = 0; len < img.used; len += 61) {
		struct image tmp = { 0 };
		int ret = acpi_for_each_table(img.buf, len, ACPI_RSDP_GPA, collect, &tmp);

		ck_assert(ret == -EINVAL);
	}
	free(img.buf);
}
END_TEST

static Suite *acpi_suite(void)
{
	Suite *s = suite_create("acpi");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 50);
	tcase_add_loop_test(tc, test_cpus, 0, ARRAY_SIZE(cpu_counts));
	tcase_add_test(tc, test_x2apic);
	tcase_add_test(tc, test_iommu_include_all);
	tcase_add_test(tc, test_iommu_scope);
	tcase_add_test(tc, test_bus_range);
	tcase_add_test(tc, test_missing_nodes);
	tcase_add_test(tc, test_bad_blobs);
	tcase_add_test(tc, test_enospc);
	tcase_add_test(tc, test_many_cpus);
	tcase_add_test(tc, test_build_into_gmem);
	tcase_add_test(tc, test_walk);
	tcase_add_test(tc, test_no_uart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(acpi_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
