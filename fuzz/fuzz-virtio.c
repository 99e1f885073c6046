/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the split- and packed-virtqueue parsers and the virtio-blk request parser,
 * through the whole device (virtio-pci transport, I/O thread) on a small image in a memfd. The
 * input writes the guest's rings, descriptors, request headers and the common config, then
 * kicks the queue.
 *
 * One device serves every input: the first input creates it (and its I/O thread) and later
 * ones reuse it. Each input begins with a virtio reset (status 0), after which the device must
 * read back exactly as it did when created (common config, device config, ISR), with its
 * queue's device state as created, no queue broken and no kick pending; each input ends with
 * the I/O thread idle. The image keeps what earlier inputs wrote (as it always did: it is
 * data the device moves, never parses).
 *
 * Input: a setup byte (bit 0 EVENT_IDX, 1 INDIRECT_DESC, 2 DMA through a fake IOMMU that
 * blocks IOVAs with bit 15 set, 3 bus master off, 4 RING_PACKED, 5 served on the notifying
 * thread as with io=vcpu, instead of the I/O thread), a queue-size byte (split:
 * 1 << (b % 8); packed: 1 + b % 128), then up to FZ_MAX_OPS operations:
 *   0 RAM     offset u16, value u64 (anywhere in the 64 KiB of RAM)
 *   1 desc    index u8, addr u32, len u32, flags u8, next u16 (split layout: flags at 12, next
 *             at 14; a packed ring reads them as id and flags)
 *   2 offer   head u16. Split: next avail slot, avail idx + 1. Packed: the descriptor at the
 *             driver's next position gets id = head and its NEXT/WRITE/INDIRECT bits with the
 *             AVAIL/USED bits of the driver's lap, written last. Then kick, wait for the I/O
 *             thread
 *   3 idx     u16. Split: avail idx as given. Packed: the driver's event suppression, off_wrap
 *             = the u16, flags = its low 2 bits. Kick, wait
 *   4 common  offset u8 (in the 56-byte common config), size-selector, value u32
 *   5 header  addr u16, type selector u8, sector u64 (a virtio-blk request header in RAM)
 *   6 reset   status 0, then the driver's bring-up again; skipped right after a bring-up
 *             (a run of 6s is one bring-up: the mutator makes long runs of them, each cost
 *             a thread hand-off; a repeat is still expressible with any op in between)
 * A bring-up waits for the I/O thread (DRIVER_OK kicks the queue).
 * Oracle: no sanitizer report, no hang (every kick drains); once the device has set
 * DEVICE_NEEDS_RESET, kicks serve no further request until the driver resets it; after a
 * reset the device is as created (above).
 */
#include <errno.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/virtio/virtio-internal.h"
#include "devices/virtio/virtio.h"
#include "fuzz-util.h"
#include "fuzz-virtio-util.h"
#include "vmm/core/bus.h"

#define FZ_RAM_SIZE (64 * 1024ULL)
#define FZ_MAX_OPS 256
#define FZ_ECAM 0xb0000000ULL
#define FZ_MMIO 0xc0000000ULL
#define FZ_SLOT 3
#define FZ_DESC 0x1000
#define FZ_AVAIL 0x2000
#define FZ_USED 0x3000
#define FZ_IMG_SIZE (64 * 1024)

static const uint32_t types[] = { 0, 1, 4, 8, 11, 13, 0x80000000u, 2 };

struct fz_virtio {
	struct bus bus;
	struct fz_irq irq;
	struct pci_host *host;
	struct virtio_blk *blk;
	struct dma_as as;
	uint64_t bar;
	uint16_t qsize, offered;
	bool packed;
};

static void wr(struct fz_virtio *v, uint64_t off, uint64_t val, unsigned int size)
{
	fz_virtio_wr(&v->bus, v->bar, off, val, size);
}

static void bring_up(struct fz_virtio *v, uint8_t setup)
{
	uint64_t feat = BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
			(setup & 1 ? BIT_ULL(VIRTIO_F_EVENT_IDX) : 0) |
			(setup & 2 ? BIT_ULL(VIRTIO_F_INDIRECT_DESC) : 0) |
			(setup & 16 ? BIT_ULL(VIRTIO_F_RING_PACKED) : 0);

	fz_virtio_negotiate(&v->bus, v->bar, feat);
	fz_virtio_queue(&v->bus, v->bar, 0, v->qsize, FZ_DESC, FZ_AVAIL, FZ_USED);
	wr(v, VIRTIO_COMMON_STATUS, 0xf, 1);
	virtio_pci_drain(virtio_blk_transport(v->blk));
	v->offered = 0;
}

/* Kicks the queue and waits for the I/O thread; a broken device serves nothing more. */
static void kick_and_check(struct fz_virtio *v)
{
	struct virtio_pci *vp = virtio_blk_transport(v->blk);
	struct virtio_pci_stats before, after;
	bool broken = bus_read(&v->bus, BUS_MMIO, v->bar + VIRTIO_COMMON_STATUS, 1) &
		      VIRTIO_STATUS_NEEDS_RESET;

	virtio_pci_get_stats(vp, &before);
	wr(v, VIRTIO_BAR_NOTIFY, 0, 2);
	virtio_pci_drain(vp);
	virtio_pci_get_stats(vp, &after);
	FZ_CHECK(!broken || after.requests == before.requests);
}

/* The DMA path of this input: identity, or the fake IOMMU (the I/O thread is idle). */
static void set_dma(struct fz_virtio *v, struct fz_ram *ram, bool iommu)
{
	struct virtio_pci *vp = virtio_blk_transport(v->blk);

	pthread_mutex_lock(&vp->lock);
	v->as = (struct dma_as){ .gmem = &ram->gm };
	if (iommu)
		v->as = (struct dma_as){ .gmem = &ram->gm, .ops = &fz_virtio_block_ops, .iommu = v };
	pthread_mutex_unlock(&vp->lock);
}

/* Creates the device for the first input; resets it for every input (the reset oracle). */
static void begin(struct fz_virtio *v, struct fz_ram *ram, uint8_t setup)
{
	static struct fz_virtio_state initial;

	fz_ram_reset(ram, FZ_RAM_SIZE);
	if (!v->blk) {
		/* indirect=on: the setup byte, not the DMA path, decides whether tables are used. */
		struct virtio_blk_options o = { .cache = VIRTIO_BLK_CACHE_WRITEBACK,
						.io = VIRTIO_IO_THREAD,
						.indirect = VIRTIO_INDIRECT_ON, .packed = true };
		int fd = memfd_create("fuzz-virtio-img", 0);
		char err[200];

		FZ_CHECK(fd >= 0 && ftruncate(fd, FZ_IMG_SIZE) == 0);
		snprintf(o.file, sizeof(o.file), "/proc/self/fd/%d", fd);
		bus_init(&v->bus);
		fz_irq_init(&v->irq);
		v->host = pci_host_create(&v->bus, &v->irq.chip, NULL, FZ_ECAM, 256ULL << 20,
					  FZ_MMIO, 16ULL << 20, 0xc000, 0x4000);
		FZ_CHECK(v->host != NULL);
		v->as = (struct dma_as){ .gmem = &ram->gm };
		v->blk = virtio_blk_create(v->host, FZ_SLOT, &v->as, &o, err, sizeof(err));
		FZ_CHECK(v->blk != NULL);
		v->bar = pci_bar_addr(virtio_blk_pci_dev(v->blk), 0);
		bus_write(&v->bus, BUS_MMIO, FZ_ECAM + (FZ_SLOT << 15) + PCI_COMMAND,
			  PCI_COMMAND_MEMORY, 2);
		fz_virtio_snapshot(&v->bus, v->bar, virtio_blk_transport(v->blk), &initial);
	}
	set_dma(v, ram, setup & 4);
	/* Between inputs the device is idle, so where it serves may change (bit 5). */
	virtio_blk_transport(v->blk)->serve_on_vcpu = setup & 32;
	bus_write(&v->bus, BUS_MMIO, FZ_ECAM + (FZ_SLOT << 15) + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | (setup & 8 ? 0 : PCI_COMMAND_MASTER), 2);
	fz_virtio_reset_check(&v->bus, v->bar, virtio_blk_transport(v->blk), &initial);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fz_ram ram;
	static struct fz_virtio v;
	struct fz f = { data, size };
	bool up = true; /* the last step was a bring-up */
	uint8_t setup;

	setup = fz_u8(&f);
	begin(&v, &ram, setup);
	v.packed = setup & 16;
	v.qsize = v.packed ? (uint16_t)(1 + fz_u8(&f) % 128) : (uint16_t)(1u << (fz_u8(&f) % 8));
	bring_up(&v, setup);

	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		unsigned int op = fz_u8(&f) % 7;

		if (op == 6 && up)
			continue; /* it would repeat the bring-up just done, step for step */
		up = op == 6;
		switch (op) {
		case 0: {
			uint16_t off = fz_u16(&f);

			fz_virtio_put(&ram, off, fz_u64(&f), 8);
			break;
		}
		case 1: {
			uint64_t d = FZ_DESC + 16ULL * (fz_u8(&f) % v.qsize);

			fz_virtio_put(&ram, d, fz_u32(&f), 8);
			fz_virtio_put(&ram, d + 8, fz_u32(&f), 4);
			fz_virtio_put(&ram, d + 12, fz_u8(&f), 2);
			fz_virtio_put(&ram, d + 14, fz_u16(&f), 2);
			break;
		}
		case 2:
			if (v.packed) {
				uint64_t d = FZ_DESC + 16ULL * (v.offered % v.qsize);
				bool lap1 = (v.offered / v.qsize) % 2 == 0;
				uint16_t fl = (uint16_t)((fz_virtio_get(&ram, d + 14, 2) & 7) |
							 (lap1 ? VIRTQ_DESC_F_AVAIL : VIRTQ_DESC_F_USED));

				fz_virtio_put(&ram, d + 12, fz_u16(&f), 2);
				fz_virtio_put(&ram, d + 14, fl, 2);
				v.offered = (uint16_t)((v.offered + 1) % (2u * v.qsize));
			} else {
				fz_virtio_put(&ram, FZ_AVAIL + 4 + 2ULL * (v.offered % v.qsize),
					      fz_u16(&f), 2);
				fz_virtio_put(&ram, FZ_AVAIL + 2, ++v.offered, 2);
			}
			kick_and_check(&v);
			break;
		case 3:
			if (v.packed) {
				uint16_t ev = fz_u16(&f);

				fz_virtio_put(&ram, FZ_AVAIL, ev, 2);
				fz_virtio_put(&ram, FZ_AVAIL + 2, ev & 3, 2);
			} else {
				v.offered = fz_u16(&f);
				fz_virtio_put(&ram, FZ_AVAIL + 2, v.offered, 2);
			}
			kick_and_check(&v);
			break;
		case 4: {
			unsigned int off = fz_u8(&f) % VIRTIO_COMMON_SIZE, sz = fz_size(&f);

			wr(&v, off, fz_u32(&f), sz);
			/* A status write with DRIVER_OK kicks the queue: let it finish first. */
			virtio_pci_drain(virtio_blk_transport(v.blk));
			break;
		}
		case 5: {
			uint16_t a = fz_u16(&f);

			fz_virtio_put(&ram, a, types[fz_u8(&f) % 8], 4);
			fz_virtio_put(&ram, (uint64_t)a + 8, fz_u64(&f), 8);
			break;
		}
		default:
			bring_up(&v, setup);
			break;
		}
	}
	virtio_pci_drain(virtio_blk_transport(v.blk));
	return 0;
}
