/* SPDX-License-Identifier: MIT */
/* Unit tests for the edu device through the bus: registers, interrupts, DMA with/without IOMMU. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "common/bits.h"
#include "devices/edu/edu.h"
#include "vmm/core/gmem.h"

#define ECAM 0xb0000000ULL
#define MMIO 0xc0000000ULL
#define RAM_SIZE (2 * MiB)
#define SLOT 3
#define EDU_ECAM (ECAM + (SLOT << 15))

struct fake_irq {
	bool level[24];
	unsigned int msis;
	uint64_t addr;
	uint32_t data;
	uint16_t sid;
};

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	((struct fake_irq *)ctx)->level[gsi] = level;
}

static void fake_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	struct fake_irq *f = ctx;

	f->msis++;
	f->addr = addr;
	f->data = data;
	f->sid = sid;
}

static const struct irq_chip_ops fake_irq_ops = { fake_set_level, fake_send_msi };

/* Fake IOMMU: iova page 0x100000 maps to gpa 0x5000, page 'blocked' faults, rest identity. */
struct fake_iommu {
	uint64_t blocked;
	unsigned int calls, faults;
	uint16_t last_sid;
	unsigned int last_access;
};

static int fake_translate(void *iommu, const struct dma_req *req, uint64_t iova,
			  struct dma_xlate *ret)
{
	struct fake_iommu *f = iommu;
	uint64_t page = iova & ~0xfffULL;

	f->calls++;
	f->last_sid = req->sid;
	f->last_access = req->access;
	if (page == f->blocked) {
		f->faults++;
		return -EACCES;
	}
	ret->gpa = page == 0x100000 ? 0x5000 + (iova & 0xfff) : iova;
	ret->len = 0x1000 - (iova & 0xfff);
	return 0;
}

static const struct dma_iommu_ops fake_iommu_ops = { .translate = fake_translate };

struct env {
	struct bus bus;
	struct fake_irq irq;
	struct irq_chip chip;
	struct gmem gm;
	uint8_t *ram;
	struct dma_as as;
	struct fake_iommu iommu;
	struct pci_host *host;
	struct edu *edu;
};

static struct env *env_new(bool with_iommu)
{
	struct env *e = calloc(1, sizeof(*e));

	ck_assert_ptr_nonnull(e);
	bus_init(&e->bus);
	e->chip = (struct irq_chip){ &fake_irq_ops, &e->irq };
	e->ram = calloc(1, RAM_SIZE);
	ck_assert_ptr_nonnull(e->ram);
	gmem_init_empty(&e->gm);
	ck_assert_int_eq(gmem_add_region(&e->gm, 0, RAM_SIZE, e->ram), 0);
	e->as.gmem = &e->gm;
	e->iommu.blocked = ~0ULL;
	if (with_iommu) {
		e->as.ops = &fake_iommu_ops;
		e->as.iommu = &e->iommu;
	}
	e->host = pci_host_create(&e->bus, &e->chip, NULL, ECAM, 256 * MiB, MMIO, 0x3ec00000, 0xc000,
				  0x4000);
	ck_assert_ptr_nonnull(e->host);
	e->edu = edu_create(e->host, SLOT, &e->as);
	ck_assert_ptr_nonnull(e->edu);
	return e;
}

static void env_free(struct env *e)
{
	edu_destroy(e->edu);
	pci_host_destroy(e->host);
	free(e->ram);
	free(e);
}

static void cfg_write(struct env *e, unsigned int reg, uint32_t val, unsigned int size)
{
	bus_write(&e->bus, BUS_MMIO, EDU_ECAM + reg, val, size);
}

static uint32_t cfg_read(struct env *e, unsigned int reg, unsigned int size)
{
	return (uint32_t)bus_read(&e->bus, BUS_MMIO, EDU_ECAM + reg, size);
}

static uint64_t rd(struct env *e, uint64_t reg, unsigned int size)
{
	return bus_read(&e->bus, BUS_MMIO, MMIO + reg, size);
}

static void wr(struct env *e, uint64_t reg, uint64_t val, unsigned int size)
{
	bus_write(&e->bus, BUS_MMIO, MMIO + reg, val, size);
}

static void enable(struct env *e, uint16_t cmd)
{
	cfg_write(e, PCI_COMMAND, cmd, 2);
}

static void dma(struct env *e, uint64_t src, uint64_t dst, uint64_t cnt, uint32_t cmd)
{
	wr(e, EDU_REG_DMA_SRC, src, 8);
	wr(e, EDU_REG_DMA_DST, dst, 8);
	wr(e, EDU_REG_DMA_CNT, cnt, 8);
	wr(e, EDU_REG_DMA_CMD, cmd, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_DMA_CMD, 4) & EDU_DMA_RUN, 0);
}

START_TEST(test_identity)
{
	struct env *e = env_new(false);
	struct pci_dev *pd = edu_pci_dev(e->edu);

	ck_assert_uint_eq(cfg_read(e, 0, 4), 0x11e81234);
	ck_assert_uint_eq(cfg_read(e, PCI_REVISION_ID, 4), 0x00ff0010);
	ck_assert_uint_eq(cfg_read(e, PCI_INTERRUPT_LINE, 2), 0x0113);
	ck_assert_uint_eq(pci_dev_gsi(pd), 19);
	ck_assert_uint_eq(pci_dev_bdf(pd), 0x18);
	/* BAR0: first device in the window; 1 MiB sizing mask. */
	ck_assert_uint_eq(cfg_read(e, PCI_BAR0, 4), (uint32_t)MMIO);
	ck_assert_uint_eq(pci_bar_addr(pd, 0), MMIO);
	cfg_write(e, PCI_BAR0, 0xffffffff, 4);
	ck_assert_uint_eq(cfg_read(e, PCI_BAR0, 4), 0xfff00000);
	cfg_write(e, PCI_BAR0, (uint32_t)MMIO, 4);
	/* Capabilities: MSI at 0x40, 64-bit, one vector, no masking, end of chain. */
	ck_assert_uint_eq(cfg_read(e, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, PCI_STATUS_CAP_LIST);
	ck_assert_uint_eq(cfg_read(e, PCI_CAPABILITY_LIST, 1), 0x40);
	ck_assert_uint_eq(cfg_read(e, 0x40, 4), 0x00800005);

	ck_assert_uint_eq(rd(e, EDU_REG_ID, 4), 0); /* decode off: unclaimed memory reads 0 */
	enable(e, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(rd(e, EDU_REG_ID, 4), EDU_ID_VALUE);
	ck_assert_uint_eq(rd(e, EDU_REG_ID, 2), 0xffff);
	ck_assert_uint_eq(rd(e, EDU_REG_ID, 8), ~0ULL);
	ck_assert_uint_eq(rd(e, 0x10, 4), 0xffffffff);
	ck_assert_uint_eq(rd(e, 0xffffc, 4), 0xffffffff);
	env_free(e);
}
END_TEST

START_TEST(test_liveness_factorial)
{
	struct env *e = env_new(false);

	enable(e, PCI_COMMAND_MEMORY);
	wr(e, EDU_REG_LIVE, 0x12345678, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_LIVE, 4), 0xedcba987);
	wr(e, EDU_REG_LIVE, 0x1, 2); /* wrong size: ignored */
	ck_assert_uint_eq(rd(e, EDU_REG_LIVE, 4), 0xedcba987);

	wr(e, EDU_REG_FACT, 5, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_STATUS, 4) & EDU_STATUS_COMPUTING, 0);
	ck_assert_uint_eq(rd(e, EDU_REG_FACT, 4), 120);
	wr(e, EDU_REG_FACT, 12, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_FACT, 4), 479001600);
	wr(e, EDU_REG_FACT, 13, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_FACT, 4), (uint32_t)6227020800ULL);
	wr(e, EDU_REG_FACT, 33, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_FACT, 4), 0x80000000);
	wr(e, EDU_REG_FACT, 0xffffffff, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_FACT, 4), 0);
	wr(e, EDU_REG_FACT, 0, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_FACT, 4), 1);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), 0);

	/* Status 0x80: factorial completion raises 0x1 (INTx, GSI 19). */
	wr(e, EDU_REG_STATUS, 0xff, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_STATUS, 4), EDU_STATUS_IRQFACT);
	wr(e, EDU_REG_FACT, 4, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_FACT, 4), 24);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), EDU_IRQ_FACT);
	ck_assert(e->irq.level[19]);
	wr(e, EDU_REG_IRQ_ACK, EDU_IRQ_FACT, 4);
	ck_assert(!e->irq.level[19]);
	env_free(e);
}
END_TEST

START_TEST(test_intx)
{
	struct env *e = env_new(false);

	enable(e, PCI_COMMAND_MEMORY);
	wr(e, EDU_REG_IRQ_RAISE, 0x5, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), 0x5);
	ck_assert(e->irq.level[19]);
	ck_assert_uint_eq(cfg_read(e, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, PCI_STATUS_INTERRUPT);
	wr(e, EDU_REG_IRQ_ACK, 0x1, 4);
	ck_assert(e->irq.level[19]);
	/* INTx disable in the command register takes the pin down. */
	enable(e, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	ck_assert(!e->irq.level[19]);
	enable(e, PCI_COMMAND_MEMORY);
	ck_assert(e->irq.level[19]);
	wr(e, EDU_REG_IRQ_ACK, 0x4, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), 0);
	ck_assert(!e->irq.level[19]);
	ck_assert_uint_eq(e->irq.msis, 0);
	env_free(e);
}
END_TEST

START_TEST(test_msi)
{
	struct env *e = env_new(false);

	enable(e, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	cfg_write(e, 0x40 + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
	cfg_write(e, 0x40 + PCI_MSI_ADDRESS_HI, 0, 4);
	cfg_write(e, 0x40 + PCI_MSI_DATA_64, 0x0031, 2);
	cfg_write(e, 0x40 + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, 2);
	wr(e, EDU_REG_IRQ_RAISE, 0x10, 4);
	ck_assert_uint_eq(e->irq.msis, 1);
	ck_assert_uint_eq(e->irq.addr, 0xfee00000);
	ck_assert_uint_eq(e->irq.data, 0x31);
	ck_assert_uint_eq(e->irq.sid, (SLOT << 3));
	ck_assert(!e->irq.level[19]);
	wr(e, EDU_REG_IRQ_ACK, 0x10, 4);
	ck_assert_uint_eq(e->irq.msis, 1);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), 0);
	/* Raising 0 with nothing pending sends nothing. */
	wr(e, EDU_REG_IRQ_RAISE, 0, 4);
	ck_assert_uint_eq(e->irq.msis, 1);
	/* DMA completion interrupt via MSI. */
	memset(e->ram + 0x1000, 0x77, 16);
	dma(e, 0x1000, EDU_DMA_BUF_ADDR, 16, EDU_DMA_RUN | EDU_DMA_IRQ);
	ck_assert_uint_eq(e->irq.msis, 2);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), EDU_IRQ_DMA);
	env_free(e);
}
END_TEST

START_TEST(test_dma_roundtrip)
{
	struct env *e = env_new(false);

	enable(e, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	for (int i = 0; i < 100; i++)
		e->ram[0x1000 + i] = (uint8_t)(i * 7 + 1);
	dma(e, 0x1000, EDU_DMA_BUF_ADDR, 100, EDU_DMA_RUN);
	ck_assert_uint_eq(rd(e, EDU_REG_DMA_CMD, 8), 0);
	dma(e, EDU_DMA_BUF_ADDR, 0x1000 + 100, 100, EDU_DMA_RUN | EDU_DMA_TO_RAM | EDU_DMA_IRQ);
	ck_assert_uint_eq(rd(e, EDU_REG_DMA_CMD, 4), EDU_DMA_TO_RAM | EDU_DMA_IRQ);
	ck_assert_mem_eq(e->ram + 0x1000, e->ram + 0x1000 + 100, 100);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), EDU_IRQ_DMA);
	ck_assert(e->irq.level[19]);
	/* Whole buffer, at its far end; the registers read back. */
	memset(e->ram + 0x10000, 0xab, 4096);
	dma(e, 0x10000, EDU_DMA_BUF_ADDR, 4096, EDU_DMA_RUN);
	dma(e, EDU_DMA_BUF_ADDR + 4095, 0x20000, 1, EDU_DMA_RUN | EDU_DMA_TO_RAM);
	ck_assert_uint_eq(e->ram[0x20000], 0xab);
	ck_assert_uint_eq(rd(e, EDU_REG_DMA_SRC, 8), EDU_DMA_BUF_ADDR + 4095);
	ck_assert_uint_eq(rd(e, EDU_REG_DMA_DST, 4), 0x20000);
	ck_assert_uint_eq(rd(e, EDU_REG_DMA_CNT, 8), 1);
	/* 32-bit halves of the 64-bit registers. */
	wr(e, EDU_REG_DMA_SRC, 0x89abcdef, 4);
	wr(e, EDU_REG_DMA_SRC + 4, 0x01234567, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_DMA_SRC, 8), 0x0123456789abcdefULL);
	ck_assert_uint_eq(rd(e, EDU_REG_DMA_SRC + 4, 4), 0x01234567);
	wr(e, EDU_REG_DMA_SRC, 0x10, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_DMA_SRC, 8), 0x10);
	/* Command without the start bit is ignored. */
	wr(e, EDU_REG_DMA_CMD, EDU_DMA_IRQ, 4);
	ck_assert_uint_eq(rd(e, EDU_REG_DMA_CMD, 4), EDU_DMA_TO_RAM);
	env_free(e);
}
END_TEST

START_TEST(test_dma_rejected)
{
	struct env *e = env_new(false);
	uint8_t zero[256] = { 0 };

	enable(e, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	memset(e->ram + 0x1000, 0x5a, 256);
	/* Device-side range outside 0x40000..0x40fff: nothing moves, the command completes. */
	dma(e, 0x1000, EDU_DMA_BUF_ADDR + 4096 - 50, 100, EDU_DMA_RUN | EDU_DMA_IRQ);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), EDU_IRQ_DMA);
	dma(e, 0x1000, EDU_DMA_BUF_ADDR - 1, 16, EDU_DMA_RUN);
	dma(e, 0x1000, ~0ULL - 8, 16, EDU_DMA_RUN);
	dma(e, 0x1000, EDU_DMA_BUF_ADDR, 4097, EDU_DMA_RUN);
	dma(e, 0x1000, EDU_DMA_BUF_ADDR, ~0ULL, EDU_DMA_RUN);
	dma(e, EDU_DMA_BUF_ADDR, 0x3000, 256, EDU_DMA_RUN | EDU_DMA_TO_RAM);
	ck_assert_mem_eq(e->ram + 0x3000, zero, 256);
	dma(e, EDU_DMA_BUF_ADDR + 1, 0x3000, ~0ULL, EDU_DMA_RUN | EDU_DMA_TO_RAM);
	ck_assert_mem_eq(e->ram + 0x3000, zero, 256);
	/* RAM side not RAM: fails cleanly, buffer unchanged. */
	dma(e, RAM_SIZE - 8, EDU_DMA_BUF_ADDR, 16, EDU_DMA_RUN);
	dma(e, EDU_DMA_BUF_ADDR, RAM_SIZE - 8, 16, EDU_DMA_RUN | EDU_DMA_TO_RAM);
	ck_assert_mem_eq(e->ram + RAM_SIZE - 8, zero, 8);
	/* Bus mastering off: no transfer. */
	enable(e, PCI_COMMAND_MEMORY);
	dma(e, 0x1000, EDU_DMA_BUF_ADDR, 256, EDU_DMA_RUN);
	enable(e, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	dma(e, EDU_DMA_BUF_ADDR, 0x3000, 256, EDU_DMA_RUN | EDU_DMA_TO_RAM);
	ck_assert_mem_eq(e->ram + 0x3000, zero, 256);
	env_free(e);
}
END_TEST

START_TEST(test_dma_iommu)
{
	struct env *e = env_new(true);
	uint8_t zero[64] = { 0 };

	enable(e, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	memset(e->ram + 0x5000, 0x3c, 64);
	/* Translated read: iova 0x100000 -> gpa 0x5000, tagged with the edu's requester id. */
	dma(e, 0x100000, EDU_DMA_BUF_ADDR, 64, EDU_DMA_RUN);
	ck_assert_uint_eq(e->iommu.last_sid, SLOT << 3);
	ck_assert_uint_eq(e->iommu.last_access & DMA_ACC_READ, DMA_ACC_READ);
	dma(e, EDU_DMA_BUF_ADDR, 0x6000, 64, EDU_DMA_RUN | EDU_DMA_TO_RAM);
	ck_assert_uint_eq(e->iommu.last_access & DMA_ACC_WRITE, DMA_ACC_WRITE);
	ck_assert_mem_eq(e->ram + 0x6000, e->ram + 0x5000, 64);
	/* Blocked page: write faults, nothing written, command completes with its interrupt. */
	e->iommu.blocked = 0x7000;
	dma(e, EDU_DMA_BUF_ADDR, 0x7000, 64, EDU_DMA_RUN | EDU_DMA_TO_RAM | EDU_DMA_IRQ);
	ck_assert_uint_eq(e->iommu.faults, 1);
	ck_assert_mem_eq(e->ram + 0x7000, zero, 64);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), EDU_IRQ_DMA);
	/* Blocked read in the middle of a transfer: the device buffer is left untouched. */
	memset(e->ram + 0x6000, 0x11, 0x1000);
	dma(e, 0x6f00, EDU_DMA_BUF_ADDR, 0x200, EDU_DMA_RUN);
	ck_assert_uint_eq(e->iommu.faults, 2);
	dma(e, EDU_DMA_BUF_ADDR, 0x8000, 64, EDU_DMA_RUN | EDU_DMA_TO_RAM);
	ck_assert_uint_eq(e->ram[0x8000], 0x3c);
	ck_assert_uint_eq(e->ram[0x803f], 0x3c);
	env_free(e);
}
END_TEST

START_TEST(test_reset)
{
	struct env *e = env_new(false);

	enable(e, PCI_COMMAND_MEMORY);
	wr(e, EDU_REG_LIVE, 0, 4);
	wr(e, EDU_REG_IRQ_RAISE, 1, 4);
	ck_assert(e->irq.level[19]);
	pci_host_reset(e->host);
	ck_assert(!e->irq.level[19]);
	ck_assert_uint_eq(cfg_read(e, PCI_COMMAND, 2), 0);
	enable(e, PCI_COMMAND_MEMORY);
	ck_assert_uint_eq(rd(e, EDU_REG_LIVE, 4), 0);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), 0);
	/* Slot policy errors. */
	ck_assert_ptr_null(edu_create(e->host, SLOT, &e->as));
	ck_assert_ptr_null(edu_create(e->host, 0, &e->as));
	edu_destroy(NULL);
	env_free(e);
}
END_TEST

static void *irq_hammer(void *arg)
{
	struct env *e = arg;

	for (int i = 0; i < 5000; i++) {
		wr(e, EDU_REG_IRQ_RAISE, 0x2, 4);
		wr(e, EDU_REG_IRQ_ACK, 0x2, 4);
	}
	return NULL;
}

static void *cfg_hammer(void *arg)
{
	struct env *e = arg;

	for (int i = 0; i < 5000; i++) {
		cfg_write(e, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
				  ((i & 1) ? PCI_COMMAND_INTX_DISABLE : 0), 2);
		cfg_write(e, 0x40 + PCI_MSI_FLAGS, (i & 2) ? PCI_MSI_FLAGS_ENABLE : 0, 2);
	}
	return NULL;
}

/* Two vCPUs: one raising/acking, one flipping INTx disable and MSI enable. No deadlock. */
START_TEST(test_concurrent)
{
	struct env *e = env_new(false);
	pthread_t a, b;

	enable(e, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ck_assert_int_eq(pthread_create(&a, NULL, irq_hammer, e), 0);
	ck_assert_int_eq(pthread_create(&b, NULL, cfg_hammer, e), 0);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	ck_assert_uint_eq(rd(e, EDU_REG_IRQ_STATUS, 4), 0);
	cfg_write(e, 0x40 + PCI_MSI_FLAGS, 0, 2);
	enable(e, PCI_COMMAND_MEMORY);
	ck_assert(!e->irq.level[19]);
	wr(e, EDU_REG_IRQ_RAISE, 0x2, 4);
	ck_assert(e->irq.level[19]);
	env_free(e);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("edu");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_liveness_factorial);
	tcase_add_test(tc, test_intx);
	tcase_add_test(tc, test_msi);
	tcase_add_test(tc, test_dma_roundtrip);
	tcase_add_test(tc, test_dma_rejected);
	tcase_add_test(tc, test_dma_iommu);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_concurrent);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(suite());
}
