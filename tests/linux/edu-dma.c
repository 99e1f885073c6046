/* SPDX-License-Identifier: MIT */
/*
 * Runs in L2 (static binary): drives nestvm's edu device through Linux's VFIO type1 driver, so
 * its DMA goes through the IOMMU page tables Linux's intel-iommu driver wrote for our vIOMMU.
 * Copies a page RAM -> device -> RAM and compares, unmaps, then (with "fault") sends one DMA to
 * an unmapped IOVA, which the vIOMMU must block and report. Prints EDU-DMA lines; exit 0 = pass.
 *
 *   edu-dma 0000:00:03.0 [fault]
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/vfio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define EDU_ID 0x00
#define EDU_DMA_SRC 0x80
#define EDU_DMA_DST 0x88
#define EDU_DMA_CNT 0x90
#define EDU_DMA_CMD 0x98
#define EDU_DMA_RUN 0x1u
#define EDU_DMA_TO_RAM 0x2u
#define EDU_BUF 0x40000u
#define PAGE 4096u
#define IOVA 0x100000u
#define IOVA_UNMAPPED 0xdead000u
#define PCI_COMMAND 0x04
#define PCI_COMMAND_MEMORY 0x2u
#define PCI_COMMAND_MASTER 0x4u

static int dev_fd;
static uint64_t bar0_off, cfg_off;

static int fail(const char *what)
{
	printf("EDU-DMA FAIL %s: %s\n", what, strerror(errno));
	return 1;
}

static uint64_t bar_rd(uint64_t reg, unsigned int size)
{
	uint64_t v = 0;

	if (pread(dev_fd, &v, size, (off_t)(bar0_off + reg)) != (ssize_t)size)
		return ~0ULL;
	return v;
}

static void bar_wr(uint64_t reg, uint64_t v, unsigned int size)
{
	if (pwrite(dev_fd, &v, size, (off_t)(bar0_off + reg)) != (ssize_t)size)
		printf("EDU-DMA write 0x%llx failed: %s\n", (unsigned long long)reg, strerror(errno));
}

/* Starts one transfer and waits (bounded: about 2 s) for the engine to finish. */
static int dma(uint64_t src, uint64_t dst, uint32_t cmd)
{
	bar_wr(EDU_DMA_SRC, src, 8);
	bar_wr(EDU_DMA_DST, dst, 8);
	bar_wr(EDU_DMA_CNT, PAGE, 8);
	bar_wr(EDU_DMA_CMD, cmd | EDU_DMA_RUN, 8);
	for (int i = 0; i < 2000; i++) {
		if (!(bar_rd(EDU_DMA_CMD, 8) & EDU_DMA_RUN))
			return 0;
		usleep(1000);
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct vfio_group_status gs = { .argsz = sizeof(gs) };
	struct vfio_region_info ri = { .argsz = sizeof(ri) };
	struct vfio_iommu_type1_dma_map map = { .argsz = sizeof(map) };
	struct vfio_iommu_type1_dma_unmap unmap = { .argsz = sizeof(unmap) };
	char path[256], link[256];
	uint16_t cmd;
	uint8_t *buf;
	ssize_t n;
	int cont, grp;

	if (argc < 2)
		return 2;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", argv[1]);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return fail("no iommu_group (is the device behind the IOMMU?)");
	link[n] = 0;
	snprintf(path, sizeof(path), "/dev/vfio/%s", strrchr(link, '/') + 1);
	cont = open("/dev/vfio/vfio", O_RDWR);
	grp = open(path, O_RDWR);
	if (cont < 0 || grp < 0)
		return fail("open /dev/vfio");
	if (ioctl(grp, VFIO_GROUP_GET_STATUS, &gs) || !(gs.flags & VFIO_GROUP_FLAGS_VIABLE))
		return fail("group not viable");
	if (ioctl(grp, VFIO_GROUP_SET_CONTAINER, &cont) || ioctl(cont, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return fail("container / type1");
	buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return fail("mmap");
	for (unsigned int i = 0; i < PAGE; i++) {
		buf[i] = (uint8_t)(i * 7 + 3);
		buf[PAGE + i] = 0;
	}
	map.vaddr = (uintptr_t)buf;
	map.iova = IOVA;
	map.size = 2 * PAGE;
	map.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
	if (ioctl(cont, VFIO_IOMMU_MAP_DMA, &map))
		return fail("VFIO_IOMMU_MAP_DMA");
	dev_fd = ioctl(grp, VFIO_GROUP_GET_DEVICE_FD, argv[1]);
	if (dev_fd < 0)
		return fail("VFIO_GROUP_GET_DEVICE_FD");
	ri.index = VFIO_PCI_BAR0_REGION_INDEX;
	if (ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return fail("BAR0 region info");
	bar0_off = ri.offset;
	ri.index = VFIO_PCI_CONFIG_REGION_INDEX;
	if (ioctl(dev_fd, VFIO_DEVICE_GET_REGION_INFO, &ri))
		return fail("config region info");
	cfg_off = ri.offset;
	if (pread(dev_fd, &cmd, 2, (off_t)(cfg_off + PCI_COMMAND)) != 2)
		return fail("config read");
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	if (pwrite(dev_fd, &cmd, 2, (off_t)(cfg_off + PCI_COMMAND)) != 2)
		return fail("config write");
	printf("EDU-DMA id=0x%08llx\n", (unsigned long long)bar_rd(EDU_ID, 4));

	if (dma(IOVA, EDU_BUF, 0) || dma(EDU_BUF, IOVA + PAGE, EDU_DMA_TO_RAM)) {
		printf("EDU-DMA FAIL engine did not finish\n");
		return 1;
	}
	if (memcmp(buf, buf + PAGE, PAGE)) {
		printf("EDU-DMA FAIL data mismatch: first bytes %02x %02x, want %02x %02x\n", buf[PAGE],
		       buf[PAGE + 1], buf[0], buf[1]);
		return 1;
	}
	printf("EDU-DMA ok copied %u bytes RAM->device->RAM through IOVA 0x%x\n", PAGE, IOVA);
	unmap.iova = IOVA;
	unmap.size = 2 * PAGE;
	if (ioctl(cont, VFIO_IOMMU_UNMAP_DMA, &unmap) || unmap.size != 2 * PAGE)
		return fail("VFIO_IOMMU_UNMAP_DMA");
	printf("EDU-DMA unmapped\n");
	if (argc > 2 && !strcmp(argv[2], "fault")) {
		/* Device -> unmapped IOVA: must be blocked (the engine still completes). */
		if (dma(EDU_BUF, IOVA_UNMAPPED, EDU_DMA_TO_RAM))
			printf("EDU-DMA blocked DMA did not complete\n");
		printf("EDU-DMA fault-test issued to IOVA 0x%x\n", IOVA_UNMAPPED);
	}
	printf("EDU-DMA done\n");
	return 0;
}
