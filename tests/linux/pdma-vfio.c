/* SPDX-License-Identifier: MIT */
/*
 * Runs in L2 (static binary): drives nestvm's pasid-dma device (backend=hostsim: a simulated
 * passthrough device whose DMA is translated only by the host IOMMU simulator, i.e. only through
 * what nestvm forwarded) through Linux's VFIO type1 driver. Linux's intel-iommu driver writes
 * the IOMMU tables; every request here is without PASID (the device's RID).
 *
 *   1. copy 2 pages src -> IOVA X (buffer A); check A byte for byte;
 *   2. unmap X, map buffer B at the same X, copy new data -> X; check B got it and A did not
 *      (a bind or invalidation nestvm did not forward shows up here as a fault or stale data);
 *   3. copy from an IOVA that was never mapped: the descriptor must complete with a
 *      translation fault at exactly that address and the destination stay untouched;
 *   4. print the host's counters (the device's HOST_* test registers) before and after.
 *
 * Prints PDMA lines; exit 0 = pass.   pdma-vfio 0000:00:04.0
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfio-type1.h"

/* BAR0 registers and descriptor layout of docs/pasid-dma.md (32-bit register accesses). */
#define R_ID 0x00
#define R_CTRL 0x08
#define R_STATUS 0x0c
#define R_RING_LO 0x10
#define R_RING_HI 0x14
#define R_RING_SIZE 0x18
#define R_TAIL 0x20
#define R_COMPLETED 0x24
#define R_HOST_BACKEND 0x40
#define R_HOST_FIRST 0x44 /* BINDS .. IOTLB_MISSES, 10 registers */
#define ID_VALUE 0x5a5d0001u
#define CTRL_ENABLE 0x1u
#define CTRL_RESET 0x80000000u
#define STS_RING_ERR 0x2u
#define OP_COPY 1u
#define ST_OK 0x01
#define ST_FAULT 0x10
#define RING_ENTRIES 16u
#define DESC 64u
#define CR_SIZE 32u

#define PAGE 4096u
#define LEN (2 * PAGE) /* every copy crosses a page boundary */
/*
 * IOVAs above L2's RAM (256 MiB at 0): if the device were left with guest-physical access
 * instead of Linux's tables, the ring fetch could not land in L2's memory by accident.
 */
#define IOVA_RING 0x40000000u
#define IOVA_CR 0x40001000u
#define IOVA_SRC 0x40002000u
#define IOVA_X 0x40010000u
#define IOVA_SCRATCH 0x40020000u
/* Never mapped; inside L2's RAM as a guest-physical address (so identity access would read). */
#define IOVA_UNMAPPED 0xdead000u

static const char *const host_names[10] = {
	"binds", "replaces", "detaches", "inv_calls", "inv_ranges",
	"faults", "page_reqs", "page_resps", "iotlb_hits", "iotlb_misses",
};

static struct vt1 vf;
static uint8_t *ring, *cr;
static uint32_t tail;

static int fail(const char *what)
{
	printf("PDMA FAIL %s: %s\n", what, strerror(errno));
	return 1;
}

static uint32_t rd(uint32_t reg)
{
	uint32_t v = 0;

	if (pread(vf.dev, &v, 4, (off_t)(vf.bar0_off + reg)) != 4)
		return ~0u;
	return v;
}

static void wr(uint32_t reg, uint32_t v)
{
	if (pwrite(vf.dev, &v, 4, (off_t)(vf.bar0_off + reg)) != 4)
		printf("PDMA write 0x%x failed: %s\n", reg, strerror(errno));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (unsigned int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static int map(void *p, uint64_t iova, uint64_t size)
{
	return vt1_map(&vf, p, iova, size);
}

static int unmap(uint64_t iova, uint64_t size)
{
	return vt1_unmap(&vf, iova, size);
}

static void host_counters(uint32_t *c)
{
	for (unsigned int i = 0; i < 10; i++)
		c[i] = rd(R_HOST_FIRST + 4 * i);
}

static void print_counters(const char *when, const uint32_t *c)
{
	printf("PDMA host %s:", when);
	for (unsigned int i = 0; i < 10; i++)
		printf(" %s=%u", host_names[i], c[i]);
	printf("\n");
}

/*
 * Runs one COPY descriptor (completion record at IOVA_CR) and returns its status byte, or -1 when
 * the device did not complete it (ring fetch failed or no record within about 2 s). The
 * faulting address of the record goes to *addr.
 */
static int copy(uint64_t src, uint64_t dst, uint64_t *addr)
{
	uint8_t *d = ring + (tail % RING_ENTRIES) * DESC;

	memset(d, 0, DESC);
	memset(cr, 0, CR_SIZE);
	put64(d, OP_COPY);
	put64(d + 8, src);
	put64(d + 16, dst);
	put64(d + 24, LEN);
	put64(d + 40, IOVA_CR);
	__sync_synchronize();
	tail++;
	wr(R_TAIL, tail % RING_ENTRIES);
	for (int i = 0; i < 2000; i++) {
		if (*(volatile uint8_t *)cr)
			break;
		if (rd(R_STATUS) & STS_RING_ERR) {
			printf("PDMA descriptor fetch from IOVA 0x%x failed (STATUS=0x%x, COMPLETED=%u)\n",
			       IOVA_RING, rd(R_STATUS), rd(R_COMPLETED));
			return -1;
		}
		usleep(1000);
	}
	__sync_synchronize();
	if (!cr[0]) {
		printf("PDMA no completion record (STATUS=0x%x)\n", rd(R_STATUS));
		return -1;
	}
	*addr = get64(cr + 16);
	return cr[0];
}

static void fill(uint8_t *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + seed * 17 + (i >> 12) * 7) ^ seed);
}

/* First differing offset of p against a copy of the pattern, or -1 when equal. */
static long differs(const uint8_t *p, const uint8_t *want, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != want[i])
			return (long)i;
	return -1;
}

int main(int argc, char **argv)
{
	uint8_t *src, *a, *b, *scratch, *want1, *want2;
	uint32_t h0[10], h1[10];
	const char *what;
	uint64_t addr = 0;
	long off;
	int st;

	if (argc < 2)
		return 2;
	if (vt1_open(&vf, argv[1], &what))
		return fail(what);

	/* ring | cr | src (2) | A (2) | B (2) | scratch (2) | expected data (2 + 2, never mapped) */
	ring = mmap(NULL, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
		    -1, 0);
	if (ring == MAP_FAILED)
		return fail("mmap");
	cr = ring + PAGE;
	src = ring + 2 * PAGE;
	a = src + LEN;
	b = a + LEN;
	scratch = b + LEN;
	want1 = scratch + LEN;
	want2 = want1 + LEN;
	memset(ring, 0, 16 * PAGE);
	memset(scratch, 0x5a, LEN);
	fill(want1, LEN, 1);
	fill(want2, LEN, 2);
	if (map(ring, IOVA_RING, PAGE) || map(cr, IOVA_CR, PAGE) || map(src, IOVA_SRC, LEN) ||
	    map(a, IOVA_X, LEN) || map(scratch, IOVA_SCRATCH, LEN))
		return fail("VFIO_IOMMU_MAP_DMA");

	if (vt1_device(&vf, argv[1], &what))
		return fail(what);
	printf("PDMA id=0x%08x host_backend=%u\n", rd(R_ID), rd(R_HOST_BACKEND));
	if (rd(R_ID) != ID_VALUE || rd(R_HOST_BACKEND) != 1) {
		printf("PDMA FAIL not a pasid-dma with backend=hostsim\n");
		return 1;
	}
	host_counters(h0);
	print_counters("before", h0);

	wr(R_CTRL, CTRL_RESET);
	wr(R_RING_LO, IOVA_RING);
	wr(R_RING_HI, 0);
	wr(R_RING_SIZE, RING_ENTRIES);
	wr(R_CTRL, CTRL_ENABLE);

	/* 1. src -> X (A). */
	memcpy(src, want1, LEN);
	st = copy(IOVA_SRC, IOVA_X, &addr);
	if (st != ST_OK) {
		printf("PDMA FAIL copy to IOVA 0x%x: status 0x%x (fault address 0x%llx)\n", IOVA_X, st,
		       (unsigned long long)addr);
		return 1;
	}
	off = differs(a, want1, LEN);
	if (off >= 0) {
		printf("PDMA FAIL buffer A differs at offset %ld: 0x%02x, want 0x%02x\n", off, a[off],
		       want1[off]);
		return 1;
	}
	printf("PDMA ok copied %u bytes to IOVA 0x%x (buffer A), checked byte for byte\n", LEN, IOVA_X);

	/* 2. remap X: A out, B in; the same copy must land in B only. */
	if (unmap(IOVA_X, LEN))
		return fail("VFIO_IOMMU_UNMAP_DMA of X");
	if (map(b, IOVA_X, LEN))
		return fail("VFIO_IOMMU_MAP_DMA of B at X");
	memcpy(src, want2, LEN);
	st = copy(IOVA_SRC, IOVA_X, &addr);
	if (st != ST_OK) {
		printf("PDMA FAIL copy to remapped IOVA 0x%x: status 0x%x (fault address 0x%llx)\n",
		       IOVA_X, st, (unsigned long long)addr);
		return 1;
	}
	off = differs(a, want1, LEN);
	if (off >= 0) {
		printf("PDMA FAIL stale translation: old buffer A changed at offset %ld after the remap "
		       "(0x%02x, was 0x%02x)\n", off, a[off], want1[off]);
		return 1;
	}
	off = differs(b, want2, LEN);
	if (off >= 0) {
		printf("PDMA FAIL buffer B differs at offset %ld: 0x%02x, want 0x%02x\n", off, b[off],
		       want2[off]);
		return 1;
	}
	printf("PDMA ok remap: IOVA 0x%x now buffer B got the new %u bytes, buffer A unchanged\n",
	       IOVA_X, LEN);

	/* 3. read from an IOVA never mapped: translation fault at exactly that address. */
	st = copy(IOVA_UNMAPPED, IOVA_SCRATCH, &addr);
	for (unsigned int i = 0; i < LEN; i++) {
		if (scratch[i] != 0x5a) {
			printf("PDMA FAIL the faulting copy wrote its destination (offset %u: 0x%02x)\n",
			       i, scratch[i]);
			return 1;
		}
	}
	if (st != ST_FAULT || addr != IOVA_UNMAPPED) {
		printf("PDMA FAIL copy from unmapped IOVA 0x%x: status 0x%x address 0x%llx, want 0x%x "
		       "at 0x%x\n", IOVA_UNMAPPED, st, (unsigned long long)addr, ST_FAULT, IOVA_UNMAPPED);
		return 1;
	}
	printf("PDMA ok unmapped IOVA 0x%x: status 0x%x at 0x%llx, destination untouched\n",
	       IOVA_UNMAPPED, st, (unsigned long long)addr);

	host_counters(h1);
	print_counters("after", h1);
	/* What the host saw during this program (the registers wrap at 32 bits). */
	printf("PDMA host delta: binds=%u inv_calls=%u iotlb_misses=%u iotlb_hits=%u faults=%u\n",
	       h1[0] - h0[0], h1[3] - h0[3], h1[9] - h0[9], h1[8] - h0[8], h1[5] - h0[5]);

	wr(R_CTRL, CTRL_RESET);
	if (unmap(IOVA_RING, PAGE) || unmap(IOVA_CR, PAGE) || unmap(IOVA_SRC, LEN) ||
	    unmap(IOVA_X, LEN) || unmap(IOVA_SCRATCH, LEN))
		return fail("VFIO_IOMMU_UNMAP_DMA at the end");
	printf("PDMA done\n");
	return 0;
}
