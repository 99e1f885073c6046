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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfio-type1.h"

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

static struct vt1 vf;

static int fail(const char *what)
{
	printf("EDU-DMA FAIL %s: %s\n", what, strerror(errno));
	return 1;
}

static uint64_t bar_rd(uint64_t reg, unsigned int size)
{
	uint64_t v = 0;

	if (pread(vf.dev, &v, size, (off_t)(vf.bar0_off + reg)) != (ssize_t)size)
		return ~0ULL;
	return v;
}

static void bar_wr(uint64_t reg, uint64_t v, unsigned int size)
{
	if (pwrite(vf.dev, &v, size, (off_t)(vf.bar0_off + reg)) != (ssize_t)size)
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
	const char *what;
	uint8_t *buf;

	if (argc < 2)
		return 2;
	if (vt1_open(&vf, argv[1], &what))
		return fail(what);
	buf = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED)
		return fail("mmap");
	for (unsigned int i = 0; i < PAGE; i++) {
		buf[i] = (uint8_t)(i * 7 + 3);
		buf[PAGE + i] = 0;
	}
	if (vt1_map(&vf, buf, IOVA, 2 * PAGE))
		return fail("VFIO_IOMMU_MAP_DMA");
	if (vt1_device(&vf, argv[1], &what))
		return fail(what);
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
	if (vt1_unmap(&vf, IOVA, 2 * PAGE))
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
