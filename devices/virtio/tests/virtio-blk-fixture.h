/* SPDX-License-Identifier: MIT */
/*
 * The fixture of the virtio-blk unit tests (test-virtio-blk: requests; test-virtio-blk-dev:
 * the device's PCI face, options and where requests are served): a virtio-blk on the
 * virtio-pci transport behind a PCI host, driven like a guest driver would, over a fake IRQ
 * chip and a fake IOMMU, with an image file per env and the test's own fdatasync. Include it
 * once per test executable (it defines fdatasync).
 */
#ifndef NESTVM_VIRTIO_BLK_FIXTURE_H
#define NESTVM_VIRTIO_BLK_FIXTURE_H

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

static inline void fake_set_level(void *ctx, unsigned int gsi, bool level)
{
	((struct fake_irq *)ctx)->level[gsi] = level;
}

static inline void fake_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
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

static inline int fake_translate(void *iommu, const struct dma_req *req, uint64_t iova,
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
static inline bool same_file(int fd, const char *path)
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

static inline void make_image(struct env *e)
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

static inline void use_thread(void) { io_opt = ",io=thread"; }
static inline void use_vcpu(void) { io_opt = ",io=vcpu"; }

/*
 * A CPU log that reports nothing: with it only nestvm's own writers (the device) can make a
 * watched page read as written. env_new gives the next env's RAM a watch on it when set.
 */
static inline int deaf_protect(void *o, uint64_t gpa)
{
	return 0;
}

static inline int deaf_collect(void *o, const uint64_t *gpas, unsigned int n, bool *ret)
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

static inline void env_free(struct env *e)
{
	virtio_blk_destroy(e->blk);
	pci_host_destroy(e->host);
	gmem_watch_free(&e->gm);
	unlink(e->path);
	free(e->ram);
	free(e);
}

static inline uint32_t cfg_read(struct env *e, unsigned int reg, unsigned int size)
{
	return (uint32_t)bus_read(&e->bus, BUS_MMIO, DEV_ECAM + reg, size);
}

static inline uint64_t rd(struct env *e, uint64_t off, unsigned int size)
{
	return bus_read(&e->bus, BUS_MMIO, e->bar + off, size);
}

static inline void wr(struct env *e, uint64_t off, uint64_t val, unsigned int size)
{
	bus_write(&e->bus, BUS_MMIO, e->bar + off, val, size);
}

static inline void put(struct env *e, uint64_t a, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		e->ram[a + i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t get(struct env *e, uint64_t a, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = n; i--;)
		v = v << 8 | e->ram[a + i];
	return v;
}

/* The driver's bring-up (§3.1.1). Returns the status read back after FEATURES_OK. */
static inline uint8_t negotiate(struct env *e, uint64_t feat)
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

static inline void bring_up(struct env *e)
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

static inline void desc(struct env *e, unsigned int i, uint64_t addr, uint32_t len, uint16_t flags,
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
static inline uint8_t request_at(struct env *e, uint32_t type, uint64_t sector, uint32_t len,
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

static inline uint8_t request(struct env *e, uint32_t type, uint64_t sector, uint32_t len, bool dev_writes)
{
	return request_at(e, type, sector, len, dev_writes, STATUS);
}

static inline void file_read(struct env *e, uint64_t off, void *buf, size_t len)
{
	FILE *f = fopen(e->path, "rb");

	ck_assert_int_eq(fseek(f, (long)off, SEEK_SET), 0);
	ck_assert_uint_eq(fread(buf, 1, len, f), len);
	fclose(f);
}

#endif
