/* SPDX-License-Identifier: MIT */
/*
 * Creates the device models from the board's device tree, in tree order, each recorded with
 * its destroy function so teardown runs in reverse.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bits.h"
#include "board.h"
#include "devices/edu/edu.h"
#include "devices/pasid-dma/pasid-dma.h"
#include "devices/fwcfg/fwcfg.h"
#include "devices/pci/pci.h"
#include "devices/platform/platform.h"
#include "devices/rtc/rtc.h"
#include "devices/uart/uart.h"
#include "devices/viommu/viommu.h"
#include "log.h"
#include "machine.h"

static int record(struct machine *m, void *dev, void (*destroy)(void *))
{
	if (!dev)
		return -ENOMEM;
	if (m->nr_device_objs >= ARRAY_SIZE(m->devices)) {
		destroy(dev);
		return -ENOSPC;
	}
	m->devices[m->nr_device_objs] = dev;
	m->device_destroy[m->nr_device_objs++] = destroy;
	return 0;
}

static void destroy_uart(void *d) { uart_destroy(d); }
static void destroy_debug_exit(void *d) { debug_exit_destroy(d); }
static void destroy_acpi_pm(void *d) { acpi_pm_destroy(d); }
static void destroy_fwcfg(void *d) { fwcfg_destroy(d); }
static void destroy_rtc(void *d) { rtc_destroy(d); }
static void destroy_pci_host(void *d) { pci_host_destroy(d); }
static void destroy_edu(void *d) { edu_destroy(d); }
static void destroy_pasid_dma(void *d) { pasid_dma_destroy(d); }
static void destroy_viommu(void *d) { viommu_destroy(d); }

/* First reg cell of an /isa child: its I/O port. */
static int node_port(const void *fdt, int node, uint16_t *ret_port)
{
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);

	if (!reg || len < 8 || fdt32_to_cpu(reg[0]) > 0xffff)
		return -EINVAL;
	*ret_port = (uint16_t)fdt32_to_cpu(reg[0]);
	return 0;
}

static uint32_t node_u32(const void *fdt, int node, const char *name, uint32_t dflt)
{
	int len;
	const fdt32_t *p = fdt_getprop(fdt, node, name, &len);

	return p && len >= 4 ? fdt32_to_cpu(p[0]) : dflt;
}

static int create_isa(struct machine *m, int isa)
{
	const void *fdt = m->fdt;
	int node, ret = 0;

	fdt_for_each_subnode(node, fdt, isa) {
		uint16_t port;

		if (node_port(fdt, node, &port))
			return -EINVAL;
		if (!fdt_node_check_compatible(fdt, node, "ns16550a")) {
			ret = record(m, uart_create(&m->bus, port, &m->irq, node_u32(fdt, node, "interrupts", 4),
						    STDIN_FILENO, STDOUT_FILENO), destroy_uart);
		} else if (!fdt_node_check_compatible(fdt, node, "nestvm,debug-exit")) {
			ret = record(m, debug_exit_create(&m->bus, port, 4, &m->ctl), destroy_debug_exit);
		} else if (!fdt_node_check_compatible(fdt, node, "motorola,mc146818")) {
			ret = record(m, rtc_create(&m->bus, port), destroy_rtc);
		} else if (!fdt_node_check_compatible(fdt, node, "nestvm,acpi-pm")) {
			ret = record(m, acpi_pm_create(&m->bus, port, &m->irq,
						       node_u32(fdt, node, "interrupts", 9), &m->ctl),
				     destroy_acpi_pm);
		} else if (!fdt_node_check_compatible(fdt, node, "qemu,fw-cfg-ioport")) {
			struct fwcfg *fw = fwcfg_create(&m->bus, port, (uint16_t)m->cfg->nr_cpus,
							m->gmem.ram_size);

			ret = record(m, fw, destroy_fwcfg);
			if (!ret)
				ret = fwcfg_add_file(fw, "etc/board.dtb", m->fdt, fdt_totalsize(m->fdt));
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* pasid-dma: the options of the -device spec that was given this slot. */
static struct pasid_dma *create_pasid_dma(struct machine *m, unsigned int slot)
{
	const struct machine_config *cfg = m->cfg;
	struct pasid_dma_config pc;
	char err[160];

	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		const struct device_spec *d = &cfg->devices[i];

		if (strcmp(d->model, "pasid-dma") || d->slot != (int)slot)
			continue;
		if (pasid_dma_parse_options(d->opts, &pc, err, sizeof(err))) {
			log_err("board", "%s", err);
			return NULL;
		}
		return pasid_dma_create(m->pci, slot, &m->dma_bus, &pc);
	}
	return NULL;
}

static int create_pci(struct machine *m, int pci)
{
	const void *fdt = m->fdt;
	int node, ret;

	m->pci = pci_host_create(&m->bus, &m->irq, &m->ctl, BOARD_ECAM_BASE, BOARD_ECAM_SIZE,
				 BOARD_MMIO_BASE, BOARD_MMIO_SIZE, BOARD_IO_WIN_BASE, BOARD_IO_WIN_SIZE);
	ret = record(m, m->pci, destroy_pci_host);
	if (ret)
		return ret;
	fdt_for_each_subnode(node, fdt, pci) {
		const char *model = fdt_getprop(fdt, node, "nestvm,model", NULL);
		unsigned int slot = (node_u32(fdt, node, "reg", 0) >> 11) & 0x1f;

		if (!model)
			continue;
		if (!strcmp(model, "edu")) {
			ret = record(m, edu_create(m->pci, slot, &m->dma_bus), destroy_edu);
		} else if (!strcmp(model, "pasid-dma")) {
			ret = record(m, create_pasid_dma(m, slot), destroy_pasid_dma);
		} else {
			log_err("board", "no device model for '%s'", model);
			ret = -EINVAL;
		}
		if (ret)
			return ret;
	}
	return 0;
}

int board_create_devices(struct machine *m, char *err, size_t errlen)
{
	const void *fdt = m->fdt;
	int node, ret;

	/* The vIOMMU first: the PCI devices' DMA goes through it. */
	m->dma_bus = (struct dma_as){ .gmem = &m->gmem };
	node = fdt_node_offset_by_compatible(fdt, -1, "intel,vtd");
	if (node >= 0) {
		m->viommu = viommu_create(m->vtd_cfg, &m->bus, BOARD_VTD_BASE, &m->gmem,
					  &m->irq_direct);
		ret = record(m, m->viommu, destroy_viommu);
		if (ret) {
			snprintf(err, errlen, "cannot create the vIOMMU: %s", strerror(-ret));
			return ret;
		}
		irq_attach_viommu(m);
		viommu_dma_as(m->viommu, &m->dma_bus);
	}
	node = fdt_path_offset(fdt, "/isa");
	ret = node < 0 ? -EINVAL : create_isa(m, node);
	if (ret) {
		snprintf(err, errlen, "cannot create the I/O-port devices: %s", strerror(-ret));
		return ret;
	}
	node = fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic");
	ret = node < 0 ? -EINVAL : create_pci(m, node);
	if (ret) {
		snprintf(err, errlen, "cannot create the PCI devices: %s", strerror(-ret));
		return ret;
	}
	return 0;
}

void board_destroy_devices(struct machine *m)
{
	while (m->nr_device_objs) {
		m->nr_device_objs--;
		m->device_destroy[m->nr_device_objs](m->devices[m->nr_device_objs]);
	}
	m->viommu = NULL;
	m->pci = NULL;
}

/* Parses the -device vtd options into the machine's vIOMMU configuration. */
int board_configure_viommu(struct machine *m, char *err, size_t errlen)
{
	const struct machine_config *cfg = m->cfg;
	struct viommu_config *vc = NULL;

	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		if (strcmp(cfg->devices[i].model, "vtd"))
			continue;
		if (vc) {
			snprintf(err, errlen, "only one -device vtd is supported");
			return -EINVAL;
		}
		vc = calloc(1, sizeof(*vc));
		if (!vc)
			return -ENOMEM;
		m->vtd_cfg = vc;
		if (viommu_parse_options(cfg->devices[i].opts, vc, err, errlen))
			return -EINVAL;
		m->vtd.present = true;
		m->vtd.mode = vc->scalable ? "scalable" : "legacy";
		m->vtd.haw = vc->aw;
		m->vtd.intr_remap = vc->ir;
	}
	return 0;
}
