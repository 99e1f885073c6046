/* SPDX-License-Identifier: MIT */
/*
 * Creates the device models from the board's device tree, in tree order, each recorded with
 * its destroy function so teardown runs in reverse. The host-backed part (hostsim, vfio-pci,
 * the vIOMMU's host mode) is board-host.c's.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bits.h"
#include "board.h"
#include "board-internal.h"
#include "devices/edu/edu.h"
#include "devices/pasid-dma/pasid-dma.h"
#include "devices/fwcfg/fwcfg.h"
#include "devices/pci/pci.h"
#include "devices/platform/platform.h"
#include "devices/rtc/rtc.h"
#include "devices/testdev/testdev.h"
#include "devices/uart/uart.h"
#include "devices/viommu/viommu.h"
#include "devices/virtio/virtio.h"
#include "log.h"
#include "machine.h"
#include "vmm/core/evloop.h"

int board_record(struct machine *m, void *dev, void (*destroy)(void *))
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
static void destroy_pc_testdev(void *d) { pc_testdev_destroy(d); }
static void destroy_pci_testdev(void *d) { pci_testdev_destroy(d); }
/* Says how the driver's notifies arrived (doorbell: no exit) before the device goes. */
static void virtio_report(const char *what, struct pci_dev *dev)
{
	struct virtio_counts c;

	if (virtio_get_counts(dev, &c))
		return;
	fprintf(stderr, "nestvm: %s %02x: %llu requests (%llu served on the vCPU), notifies: %llu by "
		"exit, %llu by doorbell, %llu interrupts\n", what, pci_dev_bdf(dev),
		(unsigned long long)c.requests, (unsigned long long)c.vcpu_requests,
		(unsigned long long)c.notify_exits, (unsigned long long)c.doorbells,
		(unsigned long long)c.interrupts);
}

static void destroy_virtio_blk(void *d)
{
	virtio_report("virtio-blk", virtio_blk_pci_dev(d));
	virtio_blk_destroy(d);
}

static void destroy_virtio_net(void *d)
{
	virtio_report("virtio-net", virtio_net_pci_dev(d));
	virtio_net_destroy(d);
}

static void destroy_virtio_console(void *d)
{
	virtio_report("virtio-console", virtio_console_pci_dev(d));
	virtio_console_destroy(d);
}

/* A virtio device's queue doorbells, assigned in KVM (the transport falls back to exits). */
static int virtio_doorbell(void *ctx, uint64_t gpa, unsigned int len, int efd, bool assign)
{
	return kvm_ioeventfd(ctx, gpa, len, efd, assign);
}

/*
 * Each PCI model's creator makes the device in slot from its -device spec and records it.
 * -ENODEV: the creator printed the one error line itself.
 */

/* virtio-net: like virtio-blk, a tap that cannot be attached is one line and exit status 2. */
static int add_virtio_net(struct machine *m, unsigned int slot, const struct device_spec *d)
{
	struct virtio_net_options o;
	struct virtio_net *n = NULL;
	char err[320];

	if (!virtio_net_parse_options(d->opts, &o, err, sizeof(err)))
		n = virtio_net_create(m->pci, slot, &m->dma_bus, &o, err, sizeof(err));
	if (!n) {
		fprintf(stderr, "nestvm: error: %s\n", err);
		m->usage_error = true;
		return -ENODEV;
	}
	virtio_set_ioeventfd(virtio_net_pci_dev(n), virtio_doorbell, m);
	return board_record(m, n, destroy_virtio_net);
}

/*
 * virtio-blk: DMA through the machine's DMA space (the vIOMMU's when there is one). An image
 * that cannot be used is the user's mistake: one line, exit status 2.
 */
static int add_virtio_blk(struct machine *m, unsigned int slot, const struct device_spec *d)
{
	struct virtio_blk_options o;
	struct virtio_blk *b = NULL;
	char err[320];

	if (!virtio_blk_parse_options(d->opts, &o, err, sizeof(err)))
		b = virtio_blk_create(m->pci, slot, &m->dma_bus, &o, err, sizeof(err));
	if (!b) {
		fprintf(stderr, "nestvm: error: %s\n", err);
		m->usage_error = true;
		return -ENODEV;
	}
	if (!o.no_ioeventfd)
		virtio_set_ioeventfd(virtio_blk_pci_dev(b), virtio_doorbell, m);
	return board_record(m, b, destroy_virtio_blk);
}

/* virtio-console: on nestvm's stdin and stdout. */
static int add_virtio_console(struct machine *m, unsigned int slot, const struct device_spec *d)
{
	char err[200];
	struct virtio_console *c = virtio_console_create(m->pci, slot, &m->dma_bus, STDIN_FILENO,
							 STDOUT_FILENO, err, sizeof(err));

	(void)d; /* its options were checked on the command line (there are none) */
	if (!c) {
		fprintf(stderr, "nestvm: error: %s\n", err);
		return -ENODEV;
	}
	virtio_set_ioeventfd(virtio_console_pci_dev(c), virtio_doorbell, m);
	return board_record(m, c, destroy_virtio_console);
}

static int add_edu(struct machine *m, unsigned int slot, const struct device_spec *d)
{
	(void)d;
	return board_record(m, edu_create(m->pci, slot, &m->dma_bus), destroy_edu);
}

static int add_pci_testdev(struct machine *m, unsigned int slot, const struct device_spec *d)
{
	(void)d;
	return board_record(m, pci_testdev_create(m->pci, slot), destroy_pci_testdev);
}

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
			/* A virtio-console takes stdin: the UART then only prints. */
			int in = board_has_model(m->cfg, "virtio-console") ? -1 : STDIN_FILENO;

			ret = board_record(m, uart_create(&m->bus, port, &m->irq, node_u32(fdt, node, "interrupts", 4),
						    in, STDOUT_FILENO), destroy_uart);
		} else if (!fdt_node_check_compatible(fdt, node, "nestvm,debug-exit")) {
			ret = board_record(m, debug_exit_create(&m->bus, port, 4, &m->ctl), destroy_debug_exit);
		} else if (!fdt_node_check_compatible(fdt, node, "motorola,mc146818")) {
			ret = board_record(m, rtc_create(&m->bus, port), destroy_rtc);
		} else if (!fdt_node_check_compatible(fdt, node, "nestvm,acpi-pm")) {
			struct acpi_pm *pm = acpi_pm_create(&m->bus, port, &m->irq,
							    node_u32(fdt, node, "interrupts", 9),
							    &m->ctl);

			ret = board_record(m, pm, destroy_acpi_pm);
			if (!ret)
				m->acpi_pm = pm;
		} else if (!fdt_node_check_compatible(fdt, node, "qemu,fw-cfg-ioport")) {
			struct fwcfg *fw = fwcfg_create(&m->bus, port, (uint16_t)m->cfg->nr_cpus,
							m->gmem.ram_size);

			ret = board_record(m, fw, destroy_fwcfg);
			if (!ret)
				ret = fwcfg_add_file(fw, "etc/board.dtb", m->fdt, fdt_totalsize(m->fdt));
		} else if (!fdt_node_check_compatible(fdt, node, "qemu,pc-testdev")) {
			ret = board_record(m, pc_testdev_create(&m->bus, &m->irq, &m->gmem), destroy_pc_testdev);
		}
		if (ret)
			return ret;
	}
	return 0;
}

/* pasid-dma: emulated DMA through the machine's DMA space, or behind hostsim. */
static int add_pasid_dma(struct machine *m, unsigned int slot, const struct device_spec *d)
{
	struct pasid_dma_config pc;
	char err[160];

	if (pasid_dma_parse_options(d->opts, &pc, err, sizeof(err))) {
		log_err("board", "%s", err);
		return -EINVAL;
	}
	if (pc.backend == PDMA_BACKEND_HOSTSIM)
		return board_record(m, board_host_pasid_dma(m, slot, &pc), destroy_pasid_dma);
	return board_record(m, pasid_dma_create(m->pci, slot, &m->dma_bus, &pc), destroy_pasid_dma);
}

/* The PCI models nestvm can create; what each one is and accepts: vmm/models.c. */
struct pci_model {
	const char *model;
	int (*add)(struct machine *m, unsigned int slot, const struct device_spec *d);
};

static const struct pci_model pci_models[] = {
	{ "edu", add_edu },
	{ "pci-testdev", add_pci_testdev },
	{ "pasid-dma", add_pasid_dma },
	{ "virtio-blk", add_virtio_blk },
	{ "virtio-console", add_virtio_console },
	{ "virtio-net", add_virtio_net },
	{ "vfio-pci", board_add_vfio_pci },
};

static const struct pci_model *find_pci_model(const char *model)
{
	for (size_t i = 0; i < ARRAY_SIZE(pci_models); i++)
		if (!strcmp(pci_models[i].model, model))
			return &pci_models[i];
	return NULL;
}

/* The -device spec the board gave this slot (slots are unique on bus 0). */
static const struct device_spec *spec_in_slot(const struct machine_config *cfg, const char *model,
					      unsigned int slot)
{
	for (unsigned int i = 0; i < cfg->nr_devices; i++)
		if (!strcmp(cfg->devices[i].model, model) && cfg->devices[i].slot == (int)slot)
			return &cfg->devices[i];
	return NULL;
}

static int create_pci(struct machine *m, int pci)
{
	const void *fdt = m->fdt;
	int node, ret;

	m->pci = pci_host_create(&m->bus, &m->irq, &m->ctl, BOARD_ECAM_BASE, BOARD_ECAM_SIZE,
				 BOARD_MMIO_BASE, BOARD_MMIO_SIZE, BOARD_IO_WIN_BASE, BOARD_IO_WIN_SIZE);
	ret = board_record(m, m->pci, destroy_pci_host);
	if (ret)
		return ret;
	fdt_for_each_subnode(node, fdt, pci) {
		const char *model = fdt_getprop(fdt, node, "nestvm,model", NULL);
		unsigned int slot = (node_u32(fdt, node, "reg", 0) >> 11) & 0x1f;
		const struct device_spec *d;
		const struct pci_model *pm;

		if (!model)
			continue;
		d = spec_in_slot(m->cfg, model, slot);
		pm = find_pci_model(model);
		if (!pm || !d) {
			log_err("board", "no device model for '%s' in slot %u", model, slot);
			return -EINVAL;
		}
		ret = pm->add(m, slot, d);
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
		ret = board_record(m, m->viommu, destroy_viommu);
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
	if (ret == -ENODEV && errlen)
		err[0] = '\0'; /* the device printed its one line */
	else if (ret)
		snprintf(err, errlen, "cannot create the PCI devices: %s", strerror(-ret));
	return ret;
}

void board_destroy_devices(struct machine *m)
{
	while (m->nr_device_objs) {
		m->nr_device_objs--;
		m->device_destroy[m->nr_device_objs](m->devices[m->nr_device_objs]);
	}
	evloop_destroy(m->events);
	m->events = NULL;
	m->viommu = NULL;
	m->pci = NULL;
	m->host = NULL;
	m->acpi_pm = NULL;
}

/* Parses the -device vtd options into the machine's vIOMMU configuration. */
int board_configure_viommu(struct machine *m, char *err, size_t errlen)
{
	const struct machine_config *cfg = m->cfg;
	struct viommu_config *vc = NULL;

	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		if (strcmp(cfg->devices[i].model, "vtd"))
			continue;
		if (vc) { /* board_check_model_counts refused it already */
			snprintf(err, errlen, "vtd: only one -device vtd is supported");
			return -EINVAL;
		}
		vc = calloc(1, sizeof(*vc));
		if (!vc) {
			snprintf(err, errlen, "vtd: out of memory");
			return -ENOMEM;
		}
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

