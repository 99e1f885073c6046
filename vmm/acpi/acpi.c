/* SPDX-License-Identifier: MIT */
/* Lays out the ACPI image (RSDP, RSDT/XSDT and every table), copies it to guest memory, walks it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "acpi-internal.h"
#include "common/bits.h"

/* RSDP (ACPI 6.x §5.2.5.3). */
#define RSDP_LEN 36
#define RSDP_V1_LEN 20
#define RSDP_CHECKSUM 8
#define RSDP_OEM_ID 9
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_EXT_CHECKSUM 32

/* FADT pointers the walker follows (see tables.c for the full layout). */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140

#define MAX_XSDT_ENTRIES 8
/* acpi_build never stages more than this; the whole image is a few KiB. */
#define ACPI_MAX_IMAGE (1u << 20)

struct layout {
	uint8_t *buf;
	size_t cap, used;
	int err;
};

/* Reserves size bytes at the next align-aligned offset, zeroing the gap; returns the offset. */
static size_t place(struct layout *l, size_t size, size_t align)
{
	size_t off = ALIGN_UP(l->used, align);

	if (l->err)
		return 0;
	if (off > l->cap || size > l->cap - off) {
		l->err = -ENOSPC;
		return 0;
	}
	memset(l->buf + l->used, 0, off + size - l->used);
	l->used = off + size;
	return off;
}

static void build_rsdp(uint8_t *p, uint64_t rsdt, uint64_t xsdt)
{
	memset(p, 0, RSDP_LEN);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + RSDP_OEM_ID, ACPI_OEM_ID, 6);
	p[RSDP_REVISION] = 2;
	le32_store(p + RSDP_RSDT, (uint32_t)rsdt);
	le32_store(p + RSDP_LENGTH, RSDP_LEN);
	le64_store(p + RSDP_XSDT, xsdt);
	acpi_checksum(p, RSDP_V1_LEN, RSDP_CHECKSUM);
	acpi_checksum(p, RSDP_LEN, RSDP_EXT_CHECKSUM);
}

/* RSDT (32-bit entries, for old OSes) or XSDT (64-bit) listing the given tables. */
static void build_sdt(uint8_t *p, const char *sig, unsigned int width, const uint64_t *gpas,
		      unsigned int n)
{
	uint32_t len = ACPI_HDR_LEN + width * n;

	acpi_header(p, sig, len, 1);
	for (unsigned int i = 0; i < n; i++) {
		if (width == 8)
			le64_store(p + ACPI_HDR_LEN + 8 * i, gpas[i]);
		else
			le32_store(p + ACPI_HDR_LEN + 4 * i, (uint32_t)gpas[i]);
	}
	acpi_checksum(p, len, 9);
}

static int layout_tables(const struct acpi_board *b, struct layout *l, uint64_t base)
{
	uint64_t gpas[MAX_XSDT_ENTRIES];
	unsigned int n = b->has_iommu ? 4 : 3;
	size_t xsdt, rsdt, fadt, facs, madt, mcfg, dsdt, dmar = 0, dsdt_len = 0;
	int ret;

	/* The RSDP at offset 0; tables start at ACPI_TABLES_OFFSET (docs/board.md). */
	place(l, ACPI_TABLES_OFFSET, 16);
	xsdt = place(l, ACPI_HDR_LEN + 8 * n, 16);
	rsdt = place(l, ACPI_HDR_LEN + 4 * n, 16);
	fadt = place(l, ACPI_FADT_LEN, 16);
	facs = place(l, ACPI_FACS_LEN, 64);
	madt = place(l, acpi_madt_size(b), 16);
	mcfg = place(l, acpi_mcfg_size(b), 16);
	dsdt = place(l, 0, 16);
	if (l->err)
		return l->err;
	ret = acpi_build_dsdt(b, l->buf + dsdt, l->cap - dsdt, &dsdt_len);
	if (ret)
		return ret;
	l->used = dsdt + dsdt_len;
	if (b->has_iommu)
		dmar = place(l, acpi_dmar_size(b), 16);
	if (l->err)
		return l->err;
	/* 32-bit pointers (RSDT, FADT) must reach every table. */
	if (base + l->used > 0xffffffffULL)
		return -EINVAL;

	acpi_build_fadt(b, l->buf + fadt, base + facs, base + dsdt);
	acpi_build_facs(l->buf + facs);
	acpi_build_madt(b, l->buf + madt);
	acpi_build_mcfg(b, l->buf + mcfg);
	gpas[0] = base + fadt;
	gpas[1] = base + madt;
	gpas[2] = base + mcfg;
	if (b->has_iommu) {
		acpi_build_dmar(b, l->buf + dmar);
		gpas[3] = base + dmar;
	}
	build_sdt(l->buf + xsdt, "XSDT", 8, gpas, n);
	build_sdt(l->buf + rsdt, "RSDT", 4, gpas, n);
	build_rsdp(l->buf, base + rsdt, base + xsdt);
	return 0;
}

int acpi_build_to_buffer(const void *fdt, void *buf, size_t buf_len, uint64_t base_gpa,
			 size_t *ret_used)
{
	struct layout l = { .buf = buf, .cap = buf_len };
	struct acpi_board *b;
	int ret;

	if (!buf || !IS_ALIGNED(base_gpa, 16) || range_overflows(base_gpa, buf_len))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	ret = acpi_parse_fdt(fdt, b);
	if (!ret)
		ret = layout_tables(b, &l, base_gpa);
	free(b);
	if (ret)
		return ret;
	*ret_used = l.used;
	return 0;
}

int acpi_build(const void *fdt, const struct gmem *gm, uint64_t rsdp_gpa, uint64_t limit_gpa)
{
	size_t len, used;
	uint8_t *buf;
	int ret;

	if (limit_gpa <= rsdp_gpa)
		return -EINVAL;
	len = limit_gpa - rsdp_gpa > ACPI_MAX_IMAGE ? ACPI_MAX_IMAGE : limit_gpa - rsdp_gpa;
	buf = calloc(1, len);
	if (!buf)
		return -ENOMEM;
	ret = acpi_build_to_buffer(fdt, buf, len, rsdp_gpa, &used);
	if (!ret)
		ret = gmem_write(gm, rsdp_gpa, buf, used);
	free(buf);
	return ret;
}

/* The table at gpa if its header and whole length lie inside the image; else NULL. */
static const uint8_t *table_at(const uint8_t *buf, size_t buf_len, uint64_t base, uint64_t gpa,
			       size_t *ret_len)
{
	uint64_t off = gpa - base;
	uint32_t len;

	if (gpa < base || off > buf_len || buf_len - off < ACPI_HDR_LEN)
		return NULL;
	len = le32_load(buf + off + 4);
	if (len < ACPI_HDR_LEN || len > buf_len - off)
		return NULL;
	*ret_len = len;
	return buf + off;
}

static int visit(const uint8_t *buf, size_t buf_len, uint64_t base, uint64_t gpa,
		 acpi_table_fn fn, void *opaque)
{
	const uint8_t *t;
	size_t len;
	char sig[5] = { 0 };

	t = table_at(buf, buf_len, base, gpa, &len);
	if (!t)
		return -EINVAL;
	memcpy(sig, t, 4);
	return fn(sig, t, len, gpa, opaque);
}

static int visit_fadt_children(const uint8_t *buf, size_t buf_len, uint64_t base,
			       const uint8_t *fadt, size_t len, acpi_table_fn fn, void *opaque)
{
	uint64_t facs = 0, dsdt = 0;
	int ret;

	if (len >= FADT_X_DSDT + 8) {
		facs = le64_load(fadt + FADT_X_FIRMWARE_CTRL);
		dsdt = le64_load(fadt + FADT_X_DSDT);
	}
	if (!facs && len >= FADT_DSDT + 4)
		facs = le32_load(fadt + FADT_FIRMWARE_CTRL);
	if (!dsdt && len >= FADT_DSDT + 4)
		dsdt = le32_load(fadt + FADT_DSDT);
	ret = facs ? visit(buf, buf_len, base, facs, fn, opaque) : 0;
	if (!ret && dsdt)
		ret = visit(buf, buf_len, base, dsdt, fn, opaque);
	return ret;
}

int acpi_for_each_table(const void *buf, size_t buf_len, uint64_t base_gpa, acpi_table_fn fn,
			void *opaque)
{
	const uint8_t *b = buf, *xsdt;
	uint64_t rsdt_gpa, xsdt_gpa;
	size_t xlen, n;
	int ret;

	if (!buf || buf_len < RSDP_LEN || memcmp(b, "RSD PTR ", 8) != 0 || b[RSDP_REVISION] < 2)
		return -EINVAL;
	ret = fn("RSDP", b, RSDP_LEN, base_gpa, opaque);
	if (ret)
		return ret;
	xsdt_gpa = le64_load(b + RSDP_XSDT);
	rsdt_gpa = le32_load(b + RSDP_RSDT);
	xsdt = table_at(b, buf_len, base_gpa, xsdt_gpa, &xlen);
	if (!xsdt)
		return -EINVAL;
	ret = visit(b, buf_len, base_gpa, xsdt_gpa, fn, opaque);
	if (!ret && rsdt_gpa)
		ret = visit(b, buf_len, base_gpa, rsdt_gpa, fn, opaque);
	/* Bounded by the XSDT length, itself bounded by buf_len. */
	n = (xlen - ACPI_HDR_LEN) / 8;
	for (size_t i = 0; i < n && !ret; i++) {
		uint64_t gpa = le64_load(xsdt + ACPI_HDR_LEN + 8 * i);
		const uint8_t *t;
		size_t len;

		ret = visit(b, buf_len, base_gpa, gpa, fn, opaque);
		t = table_at(b, buf_len, base_gpa, gpa, &len);
		if (!ret && t && memcmp(t, "FACP", 4) == 0)
			ret = visit_fadt_children(b, buf_len, base_gpa, t, len, fn, opaque);
	}
	return ret;
}
