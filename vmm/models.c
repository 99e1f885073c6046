/* SPDX-License-Identifier: MIT */
/*
 * The -device models the launcher knows: what each one is (PCI IDs, help line), how many a
 * machine may have, and the options it accepts, checked when the command line is read so that
 * a mistake is one line and exit status 2 before anything is created. Creating the devices is
 * board-devices.c's job; this file stays free of device code (the launcher tests link it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bits.h"
#include "board.h"
#include "devices/pasid-dma/pasid-dma.h"
#include "devices/vfio/type1.h"
#include "devices/vfio/vfio-pci.h"
#include "devices/viommu/viommu.h"
#include "devices/virtio/virtio.h"
#include "machine.h"

static int no_options(const char *opts, char *why, size_t len)
{
	if (!opts[0])
		return 0;
	snprintf(why, len, "takes no options (got '%s')", opts);
	return -EINVAL;
}

/* The host device must exist now; one without a VFIO cdev is opened through its group. */
static int check_vfio_pci(const char *opts, char *why, size_t len)
{
	char host[256], cdev[256], bdf[64];

	if (vfio_pci_parse_options(opts, host, sizeof(host), why, len))
		return -EINVAL;
	if (vfio_pci_resolve_host(host, cdev, sizeof(cdev), why, len) &&
	    type1_resolve_host(host, cdev, sizeof(cdev), bdf, sizeof(bdf), why, len))
		return -EINVAL;
	return 0;
}

/* Option mistakes and an image that cannot be opened as asked. */
static int check_virtio_blk(const char *opts, char *why, size_t len)
{
	struct virtio_blk_options o;

	if (virtio_blk_parse_options(opts, &o, why, len))
		return -EINVAL;
	if (access(o.file, o.readonly ? R_OK : R_OK | W_OK)) {
		snprintf(why, len, "cannot open %s: %s", o.file, strerror(errno));
		return -EINVAL;
	}
	return 0;
}

static int check_virtio_net(const char *opts, char *why, size_t len)
{
	struct virtio_net_options o;

	return virtio_net_parse_options(opts, &o, why, len) ? -EINVAL : 0;
}

/* Option mistakes; what depends on the host (host-mode, derived defaults) is the board's. */
static int check_vtd(const char *opts, char *why, size_t len)
{
	struct viommu_config c;

	return viommu_parse_options(opts, &c, why, len) ? -EINVAL : 0;
}

static int check_pasid_dma(const char *opts, char *why, size_t len)
{
	struct pasid_dma_config c;

	return pasid_dma_parse_options(opts, &c, why, len) ? -EINVAL : 0;
}

static int check_virtio_console(const char *opts, char *why, size_t len)
{
	return virtio_console_parse_options(opts, why, len) ? -EINVAL : 0;
}

/* PCI models get a slot and a node under /pci; the others are placed by the board. */
static const struct board_model models[] = {
	{ "edu", true, 0x1234, 0x11e8, true, "edu: QEMU-compatible PCI DMA test device (1234:11e8)",
	  .check = no_options },
	{ "pasid-dma", true, 0x1234, 0x5a5d, false,
	  "pasid-dma: PASID/ATS/PRI DMA test device (1234:5a5d; options: docs/pasid-dma.md)",
	  .check = check_pasid_dma },
	{ "vfio-pci", true, 0, 0, true,
	  "vfio-pci: host PCI function passthrough (host=/dev/vfio/devices/vfioN or a sysfs path; "
	  "docs/host-forwarding.md)", .check = check_vfio_pci },
	{ "virtio-blk", true, 0x1af4, 0x1042, true,
	  "virtio-blk: virtio 1.x block device on a raw image; options:\n"
	  "       file=IMG (required), readonly=on|off, cache=writeback (default)|none (O_DIRECT),\n"
	  "       io=auto (default: vcpu on a one-CPU host, else thread)|thread (its I/O thread)|\n"
	  "       vcpu (on the vCPU whose notify exited, no hand-off),\n"
	  "       ioeventfd=on (default with io=thread: notifies ring a KVM doorbell)|off (exits),\n"
	  "       indirect=on|off (indirect descriptors; default: off behind a vIOMMU, else on),\n"
	  "       packed=on|off (packed virtqueues offered; default off)", .check = check_virtio_blk },
	{ "virtio-net", true, 0x1af4, 0x1041, true,
	  "virtio-net: virtio 1.x network device on a tap; options: tap=NAME (attached or created)\n"
	  "       or fd=N (an open tap / packet fd), mac=XX:XX:XX:XX:XX:XX (default 52:54:00:12:34:56),\n"
	  "       packed=on|off (packed virtqueues offered; default off)", .check = check_virtio_net },
	{ "virtio-console", true, 0x1af4, 0x1043, true,
	  "virtio-console: virtio 1.x console (hvc0 in Linux) on nestvm's stdout and stdin, whole\n"
	  "       buffers per write; takes stdin from the UART; no options; one at most",
	  .check = check_virtio_console, .one_only = "it owns stdin and stdout" },
	{ "vtd", false, 0, 0, false,
	  "vtd: VT-d vIOMMU at 0xfed90000, interrupt remapping on (options: docs/viommu.md; with\n"
	  "       host-backed devices host-mode=auto|nested|shadow, other options left out are\n"
	  "       chosen from the host; regs-mirror=on (default: register reads without exits)|off)",
	  .check = check_vtd,
	  .one_only = "one VT-d unit covers the whole bus" },
	{ "pc-testdev", false, 0, 0, false,
	  "pc-testdev: QEMU's x86 test device: ports 0xe0/0xe4/0xe8/0x2000, MMIO 0xff000000 "
	  "(docs/usage.md)", .check = no_options, .one_only = "fixed ports" },
	{ "pci-testdev", true, 0x1b36, 0x0005, false,
	  "pci-testdev: QEMU's PCI exit-test device (1b36:0005; docs/usage.md)", .check = no_options },
};

const struct board_model *board_find_model(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(models); i++) {
		if (!strcmp(models[i].name, name))
			return &models[i];
	}
	return NULL;
}

void board_list_models(FILE *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(models); i++)
		fprintf(out, "  %s\n", models[i].help);
}

bool board_has_model(const struct machine_config *cfg, const char *model)
{
	for (unsigned int i = 0; i < cfg->nr_devices; i++)
		if (!strcmp(cfg->devices[i].model, model))
			return true;
	return false;
}

int board_check_model_counts(const struct machine_config *cfg, char *err, size_t errlen)
{
	for (size_t k = 0; k < ARRAY_SIZE(models); k++) {
		unsigned int n = 0;

		if (!models[k].one_only)
			continue;
		for (unsigned int i = 0; i < cfg->nr_devices; i++)
			n += !strcmp(cfg->devices[i].model, models[k].name);
		if (n > 1) {
			snprintf(err, errlen, "only one -device %s is supported (%s)", models[k].name,
				 models[k].one_only);
			return -EINVAL;
		}
	}
	return 0;
}
