/* SPDX-License-Identifier: MIT */
/*
 * Between the board's device creation (board-devices.c) and its host-backed part
 * (board-host.c). Nothing else includes this.
 */
#ifndef NESTVM_BOARD_INTERNAL_H
#define NESTVM_BOARD_INTERNAL_H

struct device_spec;
struct machine;
struct pasid_dma;
struct pasid_dma_config;

/* Keeps dev with its destroy function (teardown runs in reverse); dev NULL: -ENOMEM. */
int board_record(struct machine *m, void *dev, void (*destroy)(void *));
/* pasid-dma,backend=hostsim: the device behind the machine's host IOMMU simulator; NULL on error. */
struct pasid_dma *board_host_pasid_dma(struct machine *m, unsigned int slot,
				       const struct pasid_dma_config *pc);
/* vfio-pci in slot from its -device spec, recorded; -ENODEV after printing the one error line. */
int board_add_vfio_pci(struct machine *m, unsigned int slot, const struct device_spec *d);

#endif
