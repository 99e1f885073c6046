/* SPDX-License-Identifier: MIT */
/*
 * The VFIO type1 set-up the L2 test programs (edu-dma, pdma-vfio) share: a container with the
 * device's group on the type1v2 IOMMU, DMA map/unmap, and the device fd with its BAR0 and config
 * region offsets and memory + bus mastering enabled. Each step that fails returns -1 with errno
 * as the failing call left it and *what naming the step, for the caller's FAIL line.
 */
#ifndef NESTVM_TESTS_LINUX_VFIO_TYPE1_H
#define NESTVM_TESTS_LINUX_VFIO_TYPE1_H

#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define VT1_PCI_COMMAND 0x04
#define VT1_PCI_COMMAND_MEMORY 0x2u
#define VT1_PCI_COMMAND_MASTER 0x4u

struct vt1 {
	int cont, grp, dev;
	uint64_t bar0_off, cfg_off;
};

/* Opens the container and bdf's group, checks the group is viable and sets type1v2. */
static inline int vt1_open(struct vt1 *v, const char *bdf, const char **what)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	char path[256], link[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0) {
		*what = "no iommu_group (is the device behind the IOMMU?)";
		return -1;
	}
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	v->cont = open("/dev/vfio/vfio", O_RDWR);
	v->grp = open(path, O_RDWR);
	if (v->cont < 0 || v->grp < 0) {
		*what = "open /dev/vfio";
		return -1;
	}
	if (ioctl(v->grp, VFIO_GROUP_GET_STATUS, &gs) || !(gs.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		*what = "group not viable";
		return -1;
	}
	if (ioctl(v->grp, VFIO_GROUP_SET_CONTAINER, &v->cont) ||
	    ioctl(v->cont, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU)) {
		*what = "container / type1";
		return -1;
	}
	return 0;
}

/* Maps size bytes at p to iova, readable and writable by the device. */
static inline int vt1_map(const struct vt1 *v, void *p, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .vaddr = (uintptr_t)p, .iova = iova, .size = size,
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
	};

	return ioctl(v->cont, VFIO_IOMMU_MAP_DMA, &m);
}

/* Unmaps [iova, iova + size); -1 also when the kernel unmapped a different amount. */
static inline int vt1_unmap(const struct vt1 *v, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = { .argsz = sizeof(u), .iova = iova, .size = size };

	if (ioctl(v->cont, VFIO_IOMMU_UNMAP_DMA, &u))
		return -1;
	return u.size == size ? 0 : -1;
}

/* Gets bdf's device fd and its BAR0 / config offsets, and enables memory and bus mastering. */
static inline int vt1_device(struct vt1 *v, const char *bdf, const char **what)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	uint16_t cmd;

	v->dev = ioctl(v->grp, VFIO_GROUP_GET_DEVICE_FD, bdf);
	if (v->dev < 0) {
		*what = "VFIO_GROUP_GET_DEVICE_FD";
		return -1;
	}
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(v->dev, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		*what = "BAR0 region info";
		return -1;
	}
	v->bar0_off = ri.offset;
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(v->dev, VFIO_DEVICE_GET_REGION_INFO, &ri)) {
		*what = "config region info";
		return -1;
	}
	v->cfg_off = ri.offset;
	if (pread(v->dev, &cmd, 2, (off_t)(v->cfg_off + VT1_PCI_COMMAND)) != 2) {
		*what = "config read";
		return -1;
	}
	cmd |= VT1_PCI_COMMAND_MEMORY | VT1_PCI_COMMAND_MASTER;
	if (pwrite(v->dev, &cmd, 2, (off_t)(v->cfg_off + VT1_PCI_COMMAND)) != 2) {
		*what = "config write";
		return -1;
	}
	return 0;
}

#endif
