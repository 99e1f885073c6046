/* SPDX-License-Identifier: MIT */
/* Test helper: builds docs/board.md device trees with libfdt and indexes a built ACPI image. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libfdt.h>

#include "acpi-test-board.h"
#include "common/bits.h"


static void prop_cells(void *fdt, const char *name, const uint32_t *v, unsigned int n)
{
	fdt32_t c[32];

	ck_assert_uint_le(n, 32);
	for (unsigned int i = 0; i < n; i++)
		c[i] = cpu_to_fdt32(v[i]);
	ck_assert_int_eq(fdt_property(fdt, name, c, (int)(n * 4)), 0);
}

static void prop_reg2(void *fdt, uint64_t addr, uint64_t size)
{
	uint32_t r[4] = { (uint32_t)(addr >> 32), (uint32_t)addr, (uint32_t)(size >> 32),
			  (uint32_t)size };

	prop_cells(fdt, "reg", r, 4);
}

static void isa_dev(void *fdt, const char *name, const char *compat, uint32_t port, uint32_t len,
		    int irq)
{
	uint32_t r[2] = { port, len };

	ck_assert_int_eq(fdt_begin_node(fdt, name), 0);
	fdt_property_string(fdt, "compatible", compat);
	prop_cells(fdt, "reg", r, 2);
	if (irq >= 0)
		fdt_property_u32(fdt, "interrupts", (uint32_t)irq);
	ck_assert_int_eq(fdt_end_node(fdt), 0);
}

/* The docs/board.md tree, with knobs to leave parts out. Returns a heap blob. */
void *make_fdt(const struct board_opts *o)
{
	void *fdt = calloc(1, FDT_SIZE);
	char name[32];

	ck_assert_ptr_nonnull(fdt);
	ck_assert_int_eq(fdt_create(fdt, FDT_SIZE), 0);
	ck_assert_int_eq(fdt_finish_reservemap(fdt), 0);
	ck_assert_int_eq(fdt_begin_node(fdt, ""), 0);
	fdt_property_u32(fdt, "#address-cells", 2);
	fdt_property_u32(fdt, "#size-cells", 2);
	fdt_property_string(fdt, "compatible", "nestvm,pc");
	fdt_property_string(fdt, "model", "nestvm");

	fdt_begin_node(fdt, "chosen");
	fdt_property_string(fdt, "bootargs", "console=ttyS0");
	fdt_end_node(fdt);
	fdt_begin_node(fdt, "memory@0");
	fdt_property_string(fdt, "device_type", "memory");
	prop_reg2(fdt, 0, 256 * MiB);
	fdt_end_node(fdt);

	if (!o->omit_cpus) {
		fdt_begin_node(fdt, "cpus");
		fdt_property_u32(fdt, "#address-cells", 1);
		fdt_property_u32(fdt, "#size-cells", 0);
		for (unsigned int i = 0; i < o->nr_cpus; i++) {
			uint32_t id = o->apic_ids ? o->apic_ids[i] : i;

			snprintf(name, sizeof(name), "cpu@%x", id);
			ck_assert_int_eq(fdt_begin_node(fdt, name), 0);
			fdt_property_string(fdt, "device_type", "cpu");
			fdt_property_u32(fdt, "reg", id);
			ck_assert_int_eq(fdt_end_node(fdt), 0);
		}
		fdt_end_node(fdt);
	}

	if (!o->omit_ioapic) {
		fdt_begin_node(fdt, "interrupt-controller@fec00000");
		fdt_property_string(fdt, "compatible", "intel,ioapic");
		if (o->short_ioapic_reg)
			fdt_property_u32(fdt, "reg", 0xfec00000);
		else
			prop_reg2(fdt, 0xfec00000, 0x1000);
		fdt_property(fdt, "interrupt-controller", NULL, 0);
		fdt_property_u32(fdt, "#interrupt-cells", 1);
		fdt_property_u32(fdt, "nestvm,ioapic-id", 0);
		fdt_property_u32(fdt, "nestvm,gsi-base", 0);
		fdt_property_u32(fdt, "nestvm,nr-pins", 24);
		fdt_end_node(fdt);
	}
	fdt_begin_node(fdt, "interrupt-controller@fee00000");
	fdt_property_string(fdt, "compatible", "intel,lapic");
	prop_reg2(fdt, 0xfee00000, 0x1000);
	fdt_end_node(fdt);

	if (!o->omit_pci) {
		uint32_t br[2] = { o->bus_start, o->bus_end };
		static const uint32_t ranges[] = {
			0x01000000, 0, 0xc000,     0, 0xc000,     0, 0x4000,
			0x02000000, 0, 0xc0000000, 0, 0xc0000000, 0, 0x3ec00000,
		};
		static const uint32_t edu_reg[5] = { 3 << 11, 0, 0, 0, 0 };
		uint64_t nbus = o->bus_end - o->bus_start + 1;

		fdt_begin_node(fdt, "pci@b0000000");
		fdt_property_string(fdt, "compatible", "pci-host-ecam-generic");
		fdt_property_string(fdt, "device_type", "pci");
		prop_reg2(fdt, 0xb0000000 + ((uint64_t)o->bus_start << 20), nbus << 20);
		prop_cells(fdt, "bus-range", br, 2);
		fdt_property_u32(fdt, "#address-cells", 3);
		fdt_property_u32(fdt, "#size-cells", 2);
		if (!o->omit_ranges)
			prop_cells(fdt, "ranges", ranges, 14);
		fdt_begin_node(fdt, "edu@3,0");
		prop_cells(fdt, "reg", edu_reg, 5);
		fdt_property_string(fdt, "compatible", "pci1234,11e8");
		fdt_property_u32(fdt, "nestvm,gsi", 19);
		fdt_property_string(fdt, "nestvm,model", "edu");
		fdt_end_node(fdt);
		fdt_end_node(fdt);
	}

	fdt_begin_node(fdt, "isa");
	fdt_property_string(fdt, "compatible", "nestvm,ioport-bus");
	fdt_property_u32(fdt, "#address-cells", 1);
	fdt_property_u32(fdt, "#size-cells", 1);
	if (!o->omit_serial)
		isa_dev(fdt, "serial@3f8", "ns16550a", 0x3f8, 8, 4);
	isa_dev(fdt, "fw-cfg@510", "qemu,fw-cfg-ioport", 0x510, 2, -1);
	isa_dev(fdt, "debug-exit@f4", "nestvm,debug-exit", 0xf4, 4, -1);
	if (!o->omit_pm)
		isa_dev(fdt, "acpi-pm@600", "nestvm,acpi-pm", 0x600, 16, 9);
	fdt_end_node(fdt);

	if (o->iommu) {
		fdt_begin_node(fdt, "iommu@fed90000");
		fdt_property_string(fdt, "compatible", "intel,vtd");
		prop_reg2(fdt, 0xfed90000, 0x1000);
		fdt_property_string(fdt, "nestvm,mode", "scalable");
		fdt_property_u32(fdt, "nestvm,haw", o->haw ? o->haw : 48);
		if (o->include_all && !o->iommu_no_form)
			fdt_property(fdt, "nestvm,include-pci-all", NULL, 0);
		else if (!o->iommu_no_form)
			prop_cells(fdt, "nestvm,scope", o->scopes, o->nr_scopes);
		if (o->intr_remap)
			fdt_property(fdt, "nestvm,intr-remap", NULL, 0);
		if (o->x2apic_opt_out)
			fdt_property(fdt, "nestvm,x2apic-opt-out", NULL, 0);
		fdt_end_node(fdt);
	}
	ck_assert_int_eq(fdt_end_node(fdt), 0);
	ck_assert_int_eq(fdt_finish(fdt), 0);
	return fdt;
}

struct board_opts default_opts(unsigned int nr_cpus)
{
	struct board_opts o = { .nr_cpus = nr_cpus, .bus_start = 0, .bus_end = 255 };

	return o;
}



int collect(const char *sig, const void *data, size_t len, uint64_t gpa, void *opaque)
{
	struct image *img = opaque;
	struct table *t;

	ck_assert_uint_lt(img->n, MAX_TABLES);
	t = &img->t[img->n++];
	memcpy(t->sig, sig, 5);
	t->data = data;
	t->len = len;
	t->gpa = gpa;
	return 0;
}

const struct table *find(const struct image *img, const char *sig)
{
	for (unsigned int i = 0; i < img->n; i++)
		if (strcmp(img->t[i].sig, sig) == 0)
			return &img->t[i];
	return NULL;
}

uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

void build(const struct board_opts *o, struct image *img)
{
	void *fdt = make_fdt(o);

	memset(img, 0, sizeof(*img));
	img->buf = malloc(IMG_SIZE);
	ck_assert_ptr_nonnull(img->buf);
	memset(img->buf, 0xa5, IMG_SIZE);
	ck_assert_int_eq(acpi_build_to_buffer(fdt, img->buf, IMG_SIZE, ACPI_RSDP_GPA, &img->used), 0);
	ck_assert_uint_le(img->used, IMG_SIZE);
	ck_assert_int_eq(acpi_for_each_table(img->buf, img->used, ACPI_RSDP_GPA, collect, img), 0);
	free(fdt);
}


int try_build(const struct board_opts *o)
{
	void *fdt = make_fdt(o);
	uint8_t *buf = calloc(1, IMG_SIZE);
	size_t used = 0;
	int ret;

	ck_assert_ptr_nonnull(buf);
	ret = acpi_build_to_buffer(fdt, buf, IMG_SIZE, ACPI_RSDP_GPA, &used);
	free(buf);
	free(fdt);
	return ret;
}
