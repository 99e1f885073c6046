/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for virtio-blk on the virtio-pci transport, driven through the PCI host like a
 * guest driver would: capabilities, feature negotiation, requests, a hostile ring, the vIOMMU.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-run.h"
#include "common/bits.h"
#include "devices/virtio/virtio-internal.h"
#include "devices/virtio/virtio.h"
#include "vmm/core/gmem.h"
#include "vmm/core/gmem-watch.h"

#define ECAM 0xb0000000ULL
#define MMIO 0xc0000000ULL
#define RAM_SIZE (2 * MiB)
#define SLOT 3
#define DEV_ECAM (ECAM + (SLOT << 15))
#define IMG_SIZE (1 * MiB)
#define QSZ 8
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define HDR 0x10000
#define DATA 0x20000
#define STATUS 0x30000

struct fake_irq {
	bool level[24];
	unsigned int msis;
};

static void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	((struct fake_irq *)ctx)->level[gsi] = level;
}

static void fake_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	(void)addr, (void)data, (void)sid;
	((struct fake_irq *)ctx)->msis++;
}

static const struct irq_chip_ops fake_irq_ops = { fake_set_level, fake_send_msi };

struct fake_iommu {
	uint64_t blocked;
	uint64_t swap_lo, swap_hi; /* in [lo, hi): 512-byte pieces, neighbours swapped */
	unsigned int calls, faults;
};

static int fake_translate(void *iommu, const struct dma_req *req, uint64_t iova,
			  struct dma_xlate *ret)
{
	struct fake_iommu *f = iommu;

	(void)req;
	f->calls++;
	if ((iova & ~0xfffULL) == f->blocked) {
		f->faults++;
		return -EACCES;
	}
	if (iova >= f->swap_lo && iova < f->swap_hi) {
		ret->gpa = iova ^ 512;
		ret->len = 512 - (iova & 511);
		return 0;
	}
	ret->gpa = iova;
	ret->len = 0x1000 - (iova & 0xfff);
	return 0;
}

static const struct dma_iommu_ops fake_iommu_ops = { .translate = fake_translate };

/*
 * The test's own fdatasync: the device's object file links to it (an executable's definition
 * wins over libc's). It counts the calls, keeps the last fd, can fail, and then does the real
 * sync, so a FLUSH is seen to reach the image itself and its status to follow the sync's.
 */
static int syncs, sync_fd = -1, sync_fail;
static pthread_t sync_thread; /* who called it last (lock-free: read after the request) */

int fdatasync(int fd)
{
	__atomic_add_fetch(&syncs, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sync_fd, fd, __ATOMIC_SEQ_CST);
	sync_thread = pthread_self();
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&sync_fail, __ATOMIC_SEQ_CST)) {
		errno = EIO;
		return -1;
	}
	return (int)syscall(SYS_fdatasync, fd);
}

/* True when fd (in this process) is the file at path. */
static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fd >= 0 && !fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

struct env {
	struct bus bus;
	struct fake_irq irq;
	struct irq_chip chip;
	struct gmem gm;
	uint8_t *ram;
	struct dma_as as;
	struct fake_iommu iommu;
	struct pci_host *host;
	struct virtio_blk *blk;
	char path[64];
	uint64_t bar;
	uint16_t next_avail;
};

static void make_image(struct env *e)
{
	uint8_t *img = malloc(IMG_SIZE);
	FILE *f;
	int fd;

	strcpy(e->path, "/tmp/test-virtio-blk-XXXXXX");
	fd = mkstemp(e->path);
	ck_assert_int_ge(fd, 0);
	close(fd);
	for (unsigned int i = 0; i < IMG_SIZE; i++)
		img[i] = (uint8_t)(i / 512 + i);
	f = fopen(e->path, "wb");
	ck_assert_uint_eq(fwrite(img, 1, IMG_SIZE, f), IMG_SIZE);
	fclose(f);
	free(img);
}

/* When set, env_new uses this image instead of making one. */
static const char *given_image;
/*
 * Where requests are served, added to every env_new's options: the "thread" and "vcpu" test
 * cases run the request tests once each way (their fixtures set it).
 */
static const char *io_opt = ",io=thread";

static void use_thread(void) { io_opt = ",io=thread"; }
static void use_vcpu(void) { io_opt = ",io=vcpu"; }

/*
 * A CPU log that reports nothing: with it only nestvm's own writers (the device) can make a
 * watched page read as written. env_new gives the next env's RAM a watch on it when set.
 */
static int deaf_protect(void *o, uint64_t gpa)
{
	return 0;
}

static int deaf_collect(void *o, const uint64_t *gpas, unsigned int n, bool *ret)
{
	memset(ret, 0, n * sizeof(*ret));
	return 0;
}

static const struct gmem_cpu_log deaf_log = { .protect = deaf_protect, .collect = deaf_collect };
static bool env_watch;

static struct env *env_new(bool with_iommu, const char *extra)
{
	struct env *e = calloc(1, sizeof(*e));
	struct virtio_blk_options o;
	char opts[200], err[200];

	bus_init(&e->bus);
	e->chip = (struct irq_chip){ &fake_irq_ops, &e->irq };
	e->ram = calloc(1, RAM_SIZE);
	gmem_init_empty(&e->gm);
	ck_assert_int_eq(gmem_add_region(&e->gm, 0, RAM_SIZE, e->ram), 0);
	if (env_watch)
		ck_assert_int_eq(gmem_watch_enable(&e->gm, &deaf_log, NULL), 0);
	e->as.gmem = &e->gm;
	e->iommu.blocked = ~0ULL;
	if (with_iommu) {
		e->as.ops = &fake_iommu_ops;
		e->as.iommu = &e->iommu;
	}
	e->host = pci_host_create(&e->bus, &e->chip, NULL, ECAM, 256 * MiB, MMIO, 0x3ec00000, 0xc000,
				  0x4000);
	ck_assert_ptr_nonnull(e->host);
	if (given_image)
		snprintf(e->path, sizeof(e->path), "%s", given_image);
	else
		make_image(e);
	snprintf(opts, sizeof(opts), "file=%s%s%s", e->path, io_opt, extra);
	ck_assert_int_eq(virtio_blk_parse_options(opts, &o, err, sizeof(err)), 0);
	e->blk = virtio_blk_create(e->host, SLOT, &e->as, &o, err, sizeof(err));
	ck_assert_msg(e->blk != NULL, "%s", err);
	e->bar = pci_bar_addr(virtio_blk_pci_dev(e->blk), 0);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	return e;
}

static void env_free(struct env *e)
{
	virtio_blk_destroy(e->blk);
	pci_host_destroy(e->host);
	gmem_watch_free(&e->gm);
	unlink(e->path);
	free(e->ram);
	free(e);
}

static uint32_t cfg_read(struct env *e, unsigned int reg, unsigned int size)
{
	return (uint32_t)bus_read(&e->bus, BUS_MMIO, DEV_ECAM + reg, size);
}

static uint64_t rd(struct env *e, uint64_t off, unsigned int size)
{
	return bus_read(&e->bus, BUS_MMIO, e->bar + off, size);
}

static void wr(struct env *e, uint64_t off, uint64_t val, unsigned int size)
{
	bus_write(&e->bus, BUS_MMIO, e->bar + off, val, size);
}

static void put(struct env *e, uint64_t a, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		e->ram[a + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(struct env *e, uint64_t a, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = n; i--;)
		v = v << 8 | e->ram[a + i];
	return v;
}

/* The driver's bring-up (§3.1.1). Returns the status read back after FEATURES_OK. */
static uint8_t negotiate(struct env *e, uint64_t feat)
{
	wr(e, VIRTIO_COMMON_STATUS, 0, 1);
	wr(e, VIRTIO_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER, 1);
	wr(e, VIRTIO_COMMON_GFSELECT, 0, 4);
	wr(e, VIRTIO_COMMON_GF, (uint32_t)feat, 4);
	wr(e, VIRTIO_COMMON_GFSELECT, 1, 4);
	wr(e, VIRTIO_COMMON_GF, feat >> 32, 4);
	wr(e, VIRTIO_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK, 1);
	return (uint8_t)rd(e, VIRTIO_COMMON_STATUS, 1);
}

static void bring_up(struct env *e)
{
	uint8_t st = negotiate(e, BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM));

	ck_assert_uint_eq(st & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	memset(e->ram + DESC, 0, 0x3000);
	e->next_avail = 0;
	wr(e, VIRTIO_COMMON_Q_SELECT, 0, 2);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_Q_SIZE, 2), 128);
	wr(e, VIRTIO_COMMON_Q_SIZE, QSZ, 2);
	wr(e, VIRTIO_COMMON_Q_DESC, DESC, 4);
	wr(e, VIRTIO_COMMON_Q_DESC + 4, 0, 4);
	wr(e, VIRTIO_COMMON_Q_AVAIL, AVAIL, 8);
	wr(e, VIRTIO_COMMON_Q_USED, USED, 8);
	wr(e, VIRTIO_COMMON_Q_ENABLE, 1, 2);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_Q_ENABLE, 2), 1);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_Q_DESC, 8), DESC);
	wr(e, VIRTIO_COMMON_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
	   VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK, 1);
}

static void desc(struct env *e, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
		 uint16_t next)
{
	put(e, DESC + 16 * i, addr, 8);
	put(e, DESC + 16 * i + 8, len, 4);
	put(e, DESC + 16 * i + 12, flags, 2);
	put(e, DESC + 16 * i + 14, next, 2);
}

/*
 * One request: header, optional data at DATA (direction by type), status byte at status; kicked
 * and waited for. Returns the status the device wrote.
 */
static uint8_t request_at(struct env *e, uint32_t type, uint64_t sector, uint32_t len,
			  bool dev_writes, uint64_t status)
{
	put(e, HDR, type, 4);
	put(e, HDR + 4, 0, 4);
	put(e, HDR + 8, sector, 8);
	e->ram[status] = 0xee;
	desc(e, 0, HDR, 16, VIRTQ_DESC_F_NEXT, len ? 1 : 2);
	desc(e, 1, DATA, len, VIRTQ_DESC_F_NEXT | (dev_writes ? VIRTQ_DESC_F_WRITE : 0), 2);
	desc(e, 2, status, 1, VIRTQ_DESC_F_WRITE, 0);
	put(e, AVAIL + 4 + 2 * (e->next_avail % QSZ), 0, 2);
	put(e, AVAIL + 2, ++e->next_avail, 2);
	wr(e, VIRTIO_BAR_NOTIFY, 0, 2);
	virtio_pci_drain(virtio_blk_transport(e->blk));
	return e->ram[status];
}

static uint8_t request(struct env *e, uint32_t type, uint64_t sector, uint32_t len, bool dev_writes)
{
	return request_at(e, type, sector, len, dev_writes, STATUS);
}

static void file_read(struct env *e, uint64_t off, void *buf, size_t len)
{
	FILE *f = fopen(e->path, "rb");

	ck_assert_int_eq(fseek(f, (long)off, SEEK_SET), 0);
	ck_assert_uint_eq(fread(buf, 1, len, f), len);
	fclose(f);
}

START_TEST(test_identity_caps)
{
	struct env *e = env_new(false, "");
	unsigned int types = 0, guard = 0;

	ck_assert_uint_eq(cfg_read(e, 0, 4), 0x10421af4);
	ck_assert_uint_eq(cfg_read(e, PCI_REVISION_ID, 1), 1);
	ck_assert_uint_eq(cfg_read(e, PCI_CLASS_DEVICE, 2), 0x0180);
	for (unsigned int c = cfg_read(e, PCI_CAPABILITY_LIST, 1); c && guard < 16; guard++) {
		if (cfg_read(e, c, 1) == 0x09) {
			unsigned int type = cfg_read(e, c + 3, 1);

			types |= 1u << type;
			ck_assert_uint_eq(cfg_read(e, c + 4, 1), 0);
			if (type == VIRTIO_PCI_CAP_NOTIFY) {
				ck_assert_uint_eq(cfg_read(e, c + 8, 4), VIRTIO_BAR_NOTIFY);
				ck_assert_uint_eq(cfg_read(e, c + 16, 4), VIRTIO_NOTIFY_MULT);
			}
			if (type == VIRTIO_PCI_CAP_COMMON)
				ck_assert_uint_ge(cfg_read(e, c + 12, 4), VIRTIO_COMMON_SIZE);
		}
		c = cfg_read(e, c + 1, 1);
	}
	ck_assert_uint_eq(types, 0x1e); /* common, notify, ISR, device */
	ck_assert(pci_find_cap(virtio_blk_pci_dev(e->blk), PCI_CAP_ID_MSIX));
	/* Device config: capacity in sectors, seg_max, blk_size. */
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_DEVICE, 8), IMG_SIZE / 512);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_DEVICE + 4, 4), IMG_SIZE / 512 >> 32);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_DEVICE + 20, 4), 512);
	/* Offered: VERSION_1, ACCESS_PLATFORM (high word), EVENT_IDX, INDIRECT, FLUSH, DISCARD. */
	wr(e, VIRTIO_COMMON_DFSELECT, 1, 4);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_DF, 4) & 3, 3);
	wr(e, VIRTIO_COMMON_DFSELECT, 0, 4);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_DF, 4) & (BIT_ULL(28) | BIT_ULL(29) | BIT_ULL(9) | BIT_ULL(13) | BIT_ULL(5)),
			  BIT_ULL(28) | BIT_ULL(29) | BIT_ULL(9) | BIT_ULL(13));
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_NUMQ, 2), 1);
	env_free(e);
}
END_TEST

START_TEST(test_features)
{
	struct env *e = env_new(true, "");

	/* No VERSION_1, unknown bits, or (behind an IOMMU) no ACCESS_PLATFORM: refused. */
	ck_assert_uint_eq(negotiate(e, BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)) &
			  VIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_uint_eq(negotiate(e, BIT_ULL(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_uint_eq(negotiate(e, BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
				    BIT_ULL(40)) & VIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_uint_eq(negotiate(e, BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)) &
			  VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	/* Features freeze after FEATURES_OK. */
	wr(e, VIRTIO_COMMON_GFSELECT, 0, 4);
	wr(e, VIRTIO_COMMON_GF, 0xffffffff, 4);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_GF, 4), 0);
	/* A queue with a size that is not a power of two: device error. */
	wr(e, VIRTIO_COMMON_Q_SIZE, 6, 2);
	wr(e, VIRTIO_COMMON_Q_ENABLE, 1, 2);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET,
			  VIRTIO_STATUS_NEEDS_RESET);
	/* MSI-X vectors beyond the table read back as NO_VECTOR. */
	wr(e, VIRTIO_COMMON_MSIX, 1, 2);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_MSIX, 2), 1);
	wr(e, VIRTIO_COMMON_MSIX, 2, 2);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(e, VIRTIO_COMMON_STATUS, 0, 1);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1), 0);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	env_free(e);
}
END_TEST

START_TEST(test_read_write_flush)
{
	struct env *e = env_new(true, "");
	uint8_t buf[4096], exp[4096];
	unsigned int gsi = pci_dev_gsi(virtio_blk_pci_dev(e->blk));

	bring_up(e);
	/* Read sectors 8..15 (4 KiB): the image's pattern. */
	ck_assert_uint_eq(request(e, 0, 8, 4096, true), 0);
	file_read(e, 8 * 512, exp, 4096);
	ck_assert_mem_eq(e->ram + DATA, exp, 4096);
	ck_assert_uint_eq(get(e, USED + 2, 2), 1);
	ck_assert_uint_eq(get(e, USED + 8, 4), 4097);
	/* INTx with ISR bit 0 (MSI-X is off); reading the ISR lowers it. */
	ck_assert(e->irq.level[gsi]);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_ISR, 1), 1);
	ck_assert(!e->irq.level[gsi]);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_ISR, 1), 0);
	/* Write sector 100, flush, read it back from the file and through the device. */
	for (unsigned int i = 0; i < 512; i++)
		e->ram[DATA + i] = (uint8_t)(0xa5 ^ i);
	memcpy(exp, e->ram + DATA, 512);
	ck_assert_uint_eq(request(e, 1, 100, 512, false), 0);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 0);
	file_read(e, 100 * 512, buf, 512);
	ck_assert_mem_eq(buf, exp, 512);
	memset(e->ram + DATA, 0, 512);
	ck_assert_uint_eq(request(e, 0, 100, 512, true), 0);
	ck_assert_mem_eq(e->ram + DATA, exp, 512);
	/* Past the end, a partial sector, an unknown type. */
	ck_assert_uint_eq(request(e, 0, IMG_SIZE / 512, 512, true), 1);
	ck_assert_uint_eq(request(e, 0, IMG_SIZE / 512 - 1, 1024, true), 1);
	ck_assert_uint_eq(request(e, 0, ~0ULL / 256, 512, true), 1);
	ck_assert_uint_eq(request(e, 1, 0, 100, false), 1);
	ck_assert_uint_eq(request(e, 77, 0, 0, false), 2);
	/* Get-id: the image's file name, 20 bytes at most. */
	memset(e->ram + DATA, 0, 64);
	ck_assert_uint_eq(request(e, 8, 0, 20, true), 0);
	ck_assert_mem_eq(e->ram + DATA, strrchr(e->path, '/') + 1, 20);
	/* Discard 8 sectors at 16: zeros afterwards (or data kept where holes are unsupported). */
	put(e, DATA, 16, 8);
	put(e, DATA + 8, 8, 4);
	put(e, DATA + 12, 0, 4);
	ck_assert_uint_eq(request(e, 11, 0, 16, false), 0);
	put(e, DATA + 8, 1u << 30, 4);
	ck_assert_uint_eq(request(e, 11, 0, 16, false), 1);
	put(e, DATA + 8, 8, 4);
	put(e, DATA + 12, 2, 4);
	ck_assert_uint_eq(request(e, 11, 0, 16, false), 2);
	/* The data buffer blocked by the IOMMU: an I/O error, the fault recorded there. */
	e->iommu.blocked = DATA;
	ck_assert_uint_eq(request(e, 0, 0, 512, true), 1);
	ck_assert_uint_ne(e->iommu.faults, 0);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	env_free(e);
}
END_TEST

/*
 * Data moves in place (one preadv / pwritev on the mapped guest pieces) when the request maps
 * into at most 256 pieces, and through the bounce buffer when it does not; both follow the
 * IOMMU. The fake IOMMU swaps neighbouring 512-byte pieces of the data window, so every piece
 * is its own iovec: 128 KiB is 256 pieces (mapped), 256 KiB is 512 (bounce: the mapping stops
 * at the 257th translation, then the copy translates all 512 again).
 */
START_TEST(test_data_in_place_or_bounced)
{
	static const uint32_t sizes[] = { 128 * 1024, 256 * 1024 };
	const uint64_t status = 0x150000, sector = 24;
	struct env *e = env_new(true, "");
	uint8_t *exp = malloc(256 * 1024), *buf = malloc(256 * 1024);

	bring_up(e);
	e->iommu.swap_lo = DATA;
	e->iommu.swap_hi = DATA + 256 * 1024;
	for (unsigned int t = 0; t < ARRAY_SIZE(sizes); t++) {
		uint32_t len = sizes[t];
		unsigned int calls;

		/* Read: chunk k of the data lands at piece k ^ 1 of the buffer. */
		memset(e->ram + DATA, 0, len);
		e->iommu.calls = 0;
		ck_assert_uint_eq(request_at(e, 0, sector, len, true, status), 0);
		calls = e->iommu.calls;
		file_read(e, sector * 512, exp, len);
		for (uint32_t k = 0; k < len / 512; k++)
			ck_assert_mem_eq(e->ram + DATA + 512 * (k ^ 1), exp + 512 * k, 512);
		/* 256 pieces + the ring, header and status; 257 + 512 + those when bounced. */
		if (len / 512 <= 256)
			ck_assert_uint_lt(calls, len / 512 + 32);
		else
			ck_assert_uint_ge(calls, 257 + len / 512);
		/* Write: the image gets piece k ^ 1 of the buffer as its chunk k. */
		for (uint32_t i = 0; i < len; i++)
			e->ram[DATA + i] = (uint8_t)(i * 7 + t);
		ck_assert_uint_eq(request_at(e, 1, sector, len, false, status), 0);
		file_read(e, sector * 512, buf, len);
		for (uint32_t k = 0; k < len / 512; k++)
			ck_assert_mem_eq(buf + 512 * k, e->ram + DATA + 512 * (k ^ 1), 512);
	}
	free(exp);
	free(buf);
	env_free(e);
}
END_TEST

/*
 * The write watch (vmm/core/gmem-watch.h) learns of the pages a read fills: in place (preadv
 * into dma_map's pointers, then dma_written) as well as the status byte (dma_write). A write
 * request only reads guest memory: its data pages are not stamped.
 */
START_TEST(test_reads_tell_the_watch)
{
	struct gmem_wpage *data, *st;
	struct env *e;
	uint64_t e0;

	env_watch = true;
	e = env_new(false, "");
	env_watch = false;
	bring_up(e);
	data = gmem_watch_add(&e->gm, DATA + 4096);
	st = gmem_watch_add(&e->gm, STATUS);
	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(gmem_watch_sync(&e->gm, &e0), 0);
	ck_assert_uint_eq(request(e, 1, 16, 8192, false), 0);
	ck_assert(gmem_watch_unchanged(data, e0));
	ck_assert(!gmem_watch_unchanged(st, e0));
	ck_assert_int_eq(gmem_watch_sync(&e->gm, &e0), 0);
	ck_assert_uint_eq(request(e, 0, 16, 8192, true), 0);
	ck_assert(!gmem_watch_unchanged(data, e0));
	gmem_watch_del(&e->gm, data);
	gmem_watch_del(&e->gm, st);
	env_free(e);
}
END_TEST

/* FLUSH is one fdatasync of the image, completed only after it, with its outcome. */
START_TEST(test_flush_reaches_disk)
{
	struct env *e = env_new(false, "");
	int before;

	bring_up(e);
	memset(e->ram + DATA, 0x5a, 512);
	ck_assert_uint_eq(request(e, 1, 3, 512, false), 0);
	before = __atomic_load_n(&syncs, __ATOMIC_SEQ_CST);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 0);
	ck_assert_int_eq(__atomic_load_n(&syncs, __ATOMIC_SEQ_CST), before + 1);
	ck_assert(same_file(__atomic_load_n(&sync_fd, __ATOMIC_SEQ_CST), e->path));
	/* Served by the thread that wrote the notify (a vCPU's) only with io=vcpu. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ck_assert_int_eq(!!pthread_equal(sync_thread, pthread_self()), !strcmp(io_opt, ",io=vcpu"));
	/* A write alone syncs nothing (cache=writeback: the guest's flushes decide). */
	ck_assert_uint_eq(request(e, 1, 4, 512, false), 0);
	ck_assert_int_eq(__atomic_load_n(&syncs, __ATOMIC_SEQ_CST), before + 1);
	/* A sync the host refuses is the guest's I/O error, not a success. */
	__atomic_store_n(&sync_fail, 1, __ATOMIC_SEQ_CST);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 1);
	__atomic_store_n(&sync_fail, 0, __ATOMIC_SEQ_CST);
	ck_assert_int_eq(__atomic_load_n(&syncs, __ATOMIC_SEQ_CST), before + 2);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 0);
	env_free(e);
	/* A read-only disk has nothing to sync: FLUSH succeeds without one. */
	e = env_new(false, ",readonly=on");
	bring_up(e);
	before = __atomic_load_n(&syncs, __ATOMIC_SEQ_CST);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 0);
	ck_assert_int_eq(__atomic_load_n(&syncs, __ATOMIC_SEQ_CST), before);
	env_free(e);
}
END_TEST

START_TEST(test_readonly)
{
	struct env *e = env_new(false, ",readonly=on");
	uint8_t before[512], after[512];

	wr(e, VIRTIO_COMMON_DFSELECT, 0, 4);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_DF, 4) & (BIT_ULL(5) | BIT_ULL(13)), BIT_ULL(5));
	bring_up(e);
	file_read(e, 0, before, 512);
	memset(e->ram + DATA, 0x77, 512);
	ck_assert_uint_eq(request(e, 1, 0, 512, false), 1);
	file_read(e, 0, after, 512);
	ck_assert_mem_eq(before, after, 512);
	ck_assert_uint_eq(request(e, 0, 0, 512, true), 0);
	ck_assert_mem_eq(e->ram + DATA, before, 512);
	env_free(e);
}
END_TEST

/* A looping chain: NEEDS_RESET and a config interrupt, later kicks ignored, reset recovers. */
START_TEST(test_hostile_ring)
{
	struct env *e = env_new(false, "");
	struct virtio_pci_stats st;

	bring_up(e);
	desc(e, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(e, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	put(e, AVAIL + 4, 0, 2);
	put(e, AVAIL + 2, 1, 2);
	wr(e, VIRTIO_BAR_NOTIFY, 0, 2);
	virtio_pci_drain(virtio_blk_transport(e->blk));
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET,
			  VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_ISR, 1), 2);
	ck_assert_uint_eq(get(e, USED + 2, 2), 0);
	/* No header at all (a lone writable byte): also a device error, not a crash. */
	bring_up(e);
	desc(e, 0, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	put(e, AVAIL + 2, 1, 2);
	wr(e, VIRTIO_BAR_NOTIFY, 0, 2);
	virtio_pci_drain(virtio_blk_transport(e->blk));
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET,
			  VIRTIO_STATUS_NEEDS_RESET);
	/* After a reset and a new bring-up, requests work again. */
	bring_up(e);
	ck_assert_uint_eq(request(e, 0, 0, 512, true), 0);
	virtio_pci_get_stats(virtio_blk_transport(e->blk), &st);
	ck_assert_uint_eq(st.device_errors, 2);
	/* Kicks for queues the device does not have are ignored. */
	wr(e, VIRTIO_BAR_NOTIFY + 4 * 5, 0, 2);
	env_free(e);
}
END_TEST

/* MSI-X: queue vector 1 gets the completion. */
START_TEST(test_msix)
{
	struct env *e = env_new(false, "");
	struct pci_dev *pd = virtio_blk_pci_dev(e->blk);
	unsigned int cap = pci_find_cap(pd, PCI_CAP_ID_MSIX);
	uint64_t tbl = pci_bar_addr(pd, 1);

	bus_write(&e->bus, BUS_MMIO, tbl + 16, 0xfee00000, 4);
	bus_write(&e->bus, BUS_MMIO, tbl + 24, 0x41, 4);
	bus_write(&e->bus, BUS_MMIO, tbl + 28, 0, 4);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	bring_up(e);
	wr(e, VIRTIO_COMMON_Q_MSIX, 1, 2);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_Q_MSIX, 2), 1);
	ck_assert_uint_eq(request(e, 0, 0, 512, true), 0);
	ck_assert_uint_eq(e->irq.msis, 1);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_ISR, 1), 0);
	env_free(e);
}
END_TEST

/* A completed write + flush is in the image even when the VMM dies right after. */
START_TEST(test_survives_kill)
{
	struct env img = { 0 }, *e;
	uint8_t buf[512];
	pid_t pid;
	int ws;

	/*
	 * The VMM is the child (its own device and I/O thread), killed right after the flush.
	 * The parent makes only the image before fork(): a device of its own would have an I/O
	 * thread, which may hold an allocator lock at the fork and hang the child (seen under
	 * ASan on a loaded machine).
	 */
	make_image(&img);
	pid = fork();
	if (pid == 0) {
		given_image = img.path;
		e = env_new(false, "");
		bring_up(e);
		memset(e->ram + DATA, 0x3c, 512);
		if (request(e, 1, 7, 512, false) || request(e, 4, 0, 0, false))
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	ck_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	file_read(&img, 7 * 512, buf, 512);
	for (unsigned int i = 0; i < 512; i++)
		ck_assert_uint_eq(buf[i], 0x3c);
	unlink(img.path);
}
END_TEST

/* A KVM_IOEVENTFD stand-in: what is assigned where, and a switch to refuse. */
struct fake_doorbells {
	uint64_t gpa;
	unsigned int len, assigns, deassigns;
	int efd;
	bool assigned;
	int fail;
};

static int fake_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, int efd, bool assign)
{
	struct fake_doorbells *f = ctx;

	if (assign && f->fail)
		return f->fail;
	if (assign) {
		ck_assert(!f->assigned);
		f->gpa = gpa;
		f->len = len;
		f->efd = efd;
		f->assigns++;
	} else {
		ck_assert(f->assigned);
		ck_assert_uint_eq(gpa, f->gpa);
		ck_assert_int_eq(efd, f->efd);
		f->deassigns++;
	}
	f->assigned = assign;
	return 0;
}

/* Queue 0 carries one 512-byte read of sector 3; nothing is notified yet. */
static void post_read(struct env *e)
{
	put(e, HDR, 0, 4); /* IN */
	put(e, HDR + 4, 0, 4);
	put(e, HDR + 8, 3, 8);
	e->ram[STATUS] = 0xee;
	memset(e->ram + DATA, 0, 512);
	desc(e, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(e, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(e, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	put(e, AVAIL + 4 + 2 * (e->next_avail % QSZ), 0, 2);
	put(e, AVAIL + 2, ++e->next_avail, 2);
}

/*
 * Doorbells: assigned at BAR0 + notify while decode is on, moved with the BAR, removed with
 * decode; ringing one (what KVM does on the guest's write) serves the queue with no exit; a
 * refused assignment leaves the MMIO path.
 */
START_TEST(test_doorbell)
{
	struct env *e = env_new(false, "");
	struct pci_dev *dev = virtio_blk_pci_dev(e->blk);
	struct fake_doorbells f = { .efd = -1 };
	struct virtio_counts c;
	struct pci_dev other = { 0 };
	uint8_t want[512];
	uint64_t one = 1, moved;

	ck_assert_int_eq(virtio_set_ioeventfd(&other, fake_ioeventfd, &f), -EINVAL);
	ck_assert_int_eq(virtio_set_ioeventfd(dev, fake_ioeventfd, &f), 0);
	ck_assert(f.assigned);
	ck_assert_uint_eq(f.gpa, e->bar + VIRTIO_BAR_NOTIFY);
	ck_assert_uint_eq(f.len, 2);
	bring_up(e);
	post_read(e);
	ck_assert_int_eq(write(f.efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	for (unsigned int i = 0; i < 5000 && e->ram[STATUS] == 0xee; i++)
		usleep(1000);
	ck_assert_uint_eq(e->ram[STATUS], 0); /* OK */
	file_read(e, 3 * 512, want, sizeof(want));
	ck_assert_mem_eq(e->ram + DATA, want, sizeof(want));
	virtio_pci_drain(virtio_blk_transport(e->blk));
	ck_assert_int_eq(virtio_get_counts(dev, &c), 0);
	ck_assert_uint_eq(c.doorbells, 1);
	ck_assert_uint_eq(c.notify_exits, 0);
	ck_assert_uint_eq(c.requests, 1);

	/* Decode off: gone; a new BAR address, decode on: back at the new place. */
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	ck_assert(!f.assigned);
	moved = e->bar + 0x100000;
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_BAR0, moved, 4);
	ck_assert(!f.assigned);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert(f.assigned);
	ck_assert_uint_eq(f.gpa, moved + VIRTIO_BAR_NOTIFY);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_BAR0, e->bar, 4);

	/* KVM refuses: no doorbell, the notify exits and is served all the same. */
	f.fail = -ENOSPC;
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert(!f.assigned);
	ck_assert_uint_eq(request(e, 0, 3, 512, true), 0);
	ck_assert_int_eq(virtio_get_counts(dev, &c), 0);
	ck_assert_uint_eq(c.notify_exits, 1);
	ck_assert_uint_eq(c.requests, 2);
	f.fail = 0;
	env_free(e);
	ck_assert(!f.assigned);
	ck_assert_uint_eq(f.assigns, f.deassigns);
}
END_TEST

/*
 * io=vcpu: no doorbell is assigned even with the hook and decode on; a notify is served before
 * the write returns, on the writer's thread (no drain), and counted as such.
 */
START_TEST(test_serve_on_vcpu)
{
	struct env *e = env_new(false, "");
	struct pci_dev *dev = virtio_blk_pci_dev(e->blk);
	struct fake_doorbells f = { .efd = -1 };
	struct virtio_counts c;
	uint8_t want[512];

	ck_assert_int_eq(virtio_set_ioeventfd(dev, fake_ioeventfd, &f), 0);
	ck_assert(!f.assigned);
	ck_assert_uint_eq(f.assigns, 0);
	bring_up(e);
	post_read(e);
	wr(e, VIRTIO_BAR_NOTIFY, 0, 2);
	ck_assert_uint_eq(e->ram[STATUS], 0); /* done when the exit returns */
	file_read(e, 3 * 512, want, sizeof(want));
	ck_assert_mem_eq(e->ram + DATA, want, sizeof(want));
	ck_assert_uint_eq(get(e, USED + 2, 2), 1);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 0);
	ck_assert(pthread_equal(sync_thread, pthread_self()));
	ck_assert_int_eq(virtio_get_counts(dev, &c), 0);
	ck_assert_uint_eq(c.requests, 2);
	ck_assert_uint_eq(c.vcpu_requests, 2);
	ck_assert_uint_eq(c.notify_exits, 2);
	ck_assert_uint_eq(c.doorbells, 0);
	env_free(e);
}
END_TEST

/* Indirect descriptors: offered unless a vIOMMU translates the device (auto), or as told. */
static bool indirect_offered(struct env *e)
{
	wr(e, VIRTIO_COMMON_DFSELECT, 0, 4);
	return rd(e, VIRTIO_COMMON_DF, 4) & BIT_ULL(VIRTIO_F_INDIRECT_DESC);
}

START_TEST(test_indirect)
{
	const uint64_t base = BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM);
	const uint64_t ind = BIT_ULL(VIRTIO_F_INDIRECT_DESC);
	struct env *e = env_new(true, "");

	/* Behind the IOMMU by default: not offered, and a driver that sets it is refused. */
	ck_assert(!indirect_offered(e));
	ck_assert_uint_eq(negotiate(e, base | ind) & VIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_uint_eq(negotiate(e, base) & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	env_free(e);
	/* indirect=on behind the IOMMU: offered and accepted. */
	e = env_new(true, ",indirect=on");
	ck_assert(indirect_offered(e));
	ck_assert_uint_eq(negotiate(e, base | ind) & VIRTIO_STATUS_FEATURES_OK,
			  VIRTIO_STATUS_FEATURES_OK);
	env_free(e);
	/* No IOMMU: offered by default, not with indirect=off. */
	e = env_new(false, "");
	ck_assert(indirect_offered(e));
	env_free(e);
	e = env_new(false, ",indirect=off");
	ck_assert(!indirect_offered(e));
	ck_assert_uint_eq(negotiate(e, BIT_ULL(VIRTIO_F_VERSION_1) | ind) & VIRTIO_STATUS_FEATURES_OK, 0);
	env_free(e);
}
END_TEST

START_TEST(test_options)
{
	struct virtio_blk_options o;
	char err[200];

	ck_assert_int_eq(virtio_blk_parse_options("file=/x,readonly=on,cache=none", &o, err,
						  sizeof(err)), 0);
	ck_assert_str_eq(o.file, "/x");
	ck_assert(o.readonly);
	ck_assert_int_eq(o.cache, VIRTIO_BLK_CACHE_NONE);
	ck_assert(!o.no_ioeventfd);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,ioeventfd=off", &o, err, sizeof(err)), 0);
	ck_assert(o.no_ioeventfd);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,ioeventfd=on", &o, err, sizeof(err)), 0);
	ck_assert(!o.no_ioeventfd);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,ioeventfd=1", &o, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(o.indirect, VIRTIO_INDIRECT_AUTO);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,indirect=on", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.indirect, VIRTIO_INDIRECT_ON);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,indirect=off", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.indirect, VIRTIO_INDIRECT_OFF);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,indirect=auto", &o, err, sizeof(err)),
			 -EINVAL);
	/* io: auto by default; doorbells asked for make auto a thread and refuse vcpu. */
	ck_assert_int_eq(o.io, VIRTIO_IO_AUTO);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,io=vcpu", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.io, VIRTIO_IO_VCPU);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,io=thread", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.io, VIRTIO_IO_THREAD);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,ioeventfd=on", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.io, VIRTIO_IO_THREAD);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,io=vcpu,ioeventfd=off", &o, err,
						  sizeof(err)), 0);
	ck_assert_int_eq(o.io, VIRTIO_IO_VCPU);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,ioeventfd=off", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.io, VIRTIO_IO_AUTO);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,io=vcpu,ioeventfd=on", &o, err,
						  sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "io=thread"));
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,io=inline", &o, err, sizeof(err)),
			 -EINVAL);
	ck_assert(virtio_blk_io_on_vcpu(VIRTIO_IO_AUTO, 1));
	ck_assert(!virtio_blk_io_on_vcpu(VIRTIO_IO_AUTO, 2));
	ck_assert(!virtio_blk_io_on_vcpu(VIRTIO_IO_AUTO, 0));
	ck_assert(!virtio_blk_io_on_vcpu(VIRTIO_IO_THREAD, 1));
	ck_assert(virtio_blk_io_on_vcpu(VIRTIO_IO_VCPU, 8));
	ck_assert_int_eq(virtio_blk_parse_options("", &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "file=IMG"));
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,cache=bogus", &o, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,readonly", &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,foo=1", &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

static Suite *blk_suite(void)
{
	Suite *s = suite_create("virtio-blk");
	TCase *tc = tcase_create("thread");
	TCase *vc = tcase_create("vcpu");

	/* The request tests run on the I/O thread and again on the notifying thread (io=vcpu). */
	for (unsigned int i = 0; i < 2; i++) {
		TCase *t = i ? vc : tc;

		tcase_set_timeout(t, 30);
		tcase_add_checked_fixture(t, i ? use_vcpu : use_thread, NULL);
		tcase_add_test(t, test_read_write_flush);
		tcase_add_test(t, test_data_in_place_or_bounced);
		tcase_add_test(t, test_reads_tell_the_watch);
		tcase_add_test(t, test_flush_reaches_disk);
		tcase_add_test(t, test_readonly);
		tcase_add_test(t, test_hostile_ring);
		tcase_add_test(t, test_msix);
		tcase_add_test(t, test_survives_kill);
		suite_add_tcase(s, t);
	}
	tcase_add_test(tc, test_identity_caps);
	tcase_add_test(tc, test_features);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_indirect);
	tcase_add_test(tc, test_doorbell);
	tcase_add_test(vc, test_serve_on_vcpu);
	return s;
}

int main(void)
{
	return check_run_suite(blk_suite());
}
