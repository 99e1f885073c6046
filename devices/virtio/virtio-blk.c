/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.x §5.2) over a raw image: read, write, flush (fdatasync), discard
 * (hole punching) and get-id, served on the transport's I/O thread or, with io=vcpu, on the
 * vCPU thread whose notify exited.
 *
 * Data moves between the image and guest memory in one preadv / pwritev on the request's
 * guest pages (virtq_elem_map, through the vIOMMU when there is one), so a request's bytes are
 * copied once, by the host kernel. A request whose buffers are not all in guest RAM, or in more
 * than BLK_MAX_IOV pieces, goes through a bounce buffer instead, in BLK_BOUNCE chunks.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "virtio-internal.h"
#include "virtio.h"

#define VIRTIO_ID_BLOCK 2
#define BLK_CLASS 0x018000 /* mass storage, other */
#define BLK_QUEUE_SIZE 128
#define BLK_SECTOR 512u

/* §5.2.3 feature bits. */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_DISCARD 13

/* §5.2.4 config layout (offsets) and its size up to write_zeroes_may_unmap + padding. */
#define BLK_CFG_CAPACITY 0
#define BLK_CFG_SEG_MAX 12
#define BLK_CFG_BLK_SIZE 20
#define BLK_CFG_MAX_DISCARD_SECTORS 36
#define BLK_CFG_MAX_DISCARD_SEG 40
#define BLK_CFG_DISCARD_ALIGN 44
#define BLK_CFG_SIZE 60
_Static_assert(BLK_CFG_SIZE <= VIRTIO_MAX_CONFIG, "blk config fits the transport's");

/* §5.2.6 request header (type le32, reserved le32, sector le64), types and status. */
#define BLK_HDR_SIZE 16u
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_T_DISCARD 11
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define BLK_ID_BYTES 20u
/* Discard segment: sector le64, num_sectors le32, flags le32 (bit 0 unmap). */
#define BLK_DISCARD_SEG_SIZE 16u
#define BLK_MAX_DISCARD_SEG 32u
#define BLK_MAX_DISCARD_SECTORS (1u << 22)

#define BLK_BOUNCE (64u * 1024)
#define BLK_MAX_IOV 256 /* pieces of one request's data mapped at once (4 KiB of iovecs) */
#define DIRECT_ALIGN 4096u

struct virtio_blk {
	struct virtio_pci vp;
	int fd;        /* buffered */
	int dfd;       /* O_DIRECT (cache=none), else -1 */
	bool readonly;
	uint64_t size; /* bytes, a multiple of 512 */
	char id[BLK_ID_BYTES];
	uint8_t *bounce;
};

static uint64_t get_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = n; i--;)
		v = v << 8 | p[i];
	return v;
}

static void put_le(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* True if [sector * 512, + len) lies inside the image (overflow-safe). */
static bool in_disk(const struct virtio_blk *b, uint64_t sector, uint64_t len)
{
	return sector <= b->size / BLK_SECTOR && len <= b->size - sector * BLK_SECTOR;
}

/*
 * O_DIRECT when the file range and every memory piece iov[0..cnt) are 4 KiB-aligned, else the
 * buffered descriptor. The bounce buffer is aligned: its copies pass no pieces.
 */
static int pick_fd(const struct virtio_blk *b, uint64_t off, uint64_t n, const struct iovec *iov,
		   int cnt)
{
	if (b->dfd < 0 || off % DIRECT_ALIGN || n % DIRECT_ALIGN)
		return b->fd;
	for (int i = 0; i < cnt; i++)
		if ((uintptr_t)iov[i].iov_base % DIRECT_ALIGN || iov[i].iov_len % DIRECT_ALIGN)
			return b->fd;
	return b->dfd;
}

/*
 * len bytes between the image at off and the mapped pieces iov[0..cnt). Short transfers (a
 * signal) continue where they stopped; 0 or -1. Bounded: each pass moves at least one byte.
 */
static int xfer_iov(int fd, bool write, struct iovec *iov, int cnt, uint64_t off, uint64_t len)
{
	while (len) {
		ssize_t got = write ? pwritev(fd, iov, cnt, (off_t)off) : preadv(fd, iov, cnt, (off_t)off);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0 || (uint64_t)got > len)
			return -1;
		off += (uint64_t)got;
		len -= (uint64_t)got;
		while (cnt && (size_t)got >= iov->iov_len) {
			got -= (ssize_t)iov->iov_len;
			iov++;
			cnt--;
		}
		if (cnt) {
			iov->iov_base = (uint8_t *)iov->iov_base + got;
			iov->iov_len -= (size_t)got;
		}
	}
	return 0;
}

/*
 * The request's data in place (-EACCES: a translation fault, already recorded: IOERR), else
 * 1: not mappable, copy it.
 */
static int map_data(struct virtio_blk *b, struct virtq *q, const struct virtq_elem *e, bool write,
		    uint64_t skip, uint64_t off, uint64_t len)
{
	struct iovec iov[BLK_MAX_IOV], mapped[BLK_MAX_IOV];
	int n = virtq_elem_map(q, e, write, skip, len, iov, BLK_MAX_IOV), r;

	if (n == -EFAULT || n == -E2BIG)
		return 1;
	if (n < 0)
		return n;
	memcpy(mapped, iov, (size_t)n * sizeof(*iov)); /* xfer_iov advances iov */
	/* write: the device writes guest memory, i.e. reads the image (preadv). */
	r = xfer_iov(pick_fd(b, off, len, iov, n), !write, iov, n, off, len);
	if (write)
		virtq_elem_written(q, mapped, (unsigned int)n); /* a failed read may have written some */
	return r ? -EIO : 0;
}

static uint8_t do_read(struct virtio_blk *b, struct virtq *q, const struct virtq_elem *e,
		       uint64_t sector, uint64_t len)
{
	uint64_t off = sector * BLK_SECTOR;
	int m = map_data(b, q, e, true, 0, off, len);

	if (m <= 0)
		return m ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;

	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < BLK_BOUNCE ? len - done : BLK_BOUNCE;
		ssize_t got = pread(pick_fd(b, off + done, n, NULL, 0), b->bounce, n, (off_t)(off + done));

		if (got != (ssize_t)n || virtq_elem_write(q, e, done, b->bounce, n))
			return VIRTIO_BLK_S_IOERR;
		done += n;
	}
	return VIRTIO_BLK_S_OK;
}

static uint8_t do_write(struct virtio_blk *b, struct virtq *q, const struct virtq_elem *e,
			uint64_t sector, uint64_t len)
{
	uint64_t off = sector * BLK_SECTOR;
	int m = map_data(b, q, e, false, BLK_HDR_SIZE, off, len);

	if (m <= 0)
		return m ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;

	for (uint64_t done = 0; done < len;) {
		uint64_t n = len - done < BLK_BOUNCE ? len - done : BLK_BOUNCE;

		if (virtq_elem_read(q, e, BLK_HDR_SIZE + done, b->bounce, n) ||
		    pwrite(pick_fd(b, off + done, n, NULL, 0), b->bounce, n, (off_t)(off + done)) != (ssize_t)n)
			return VIRTIO_BLK_S_IOERR;
		done += n;
	}
	return VIRTIO_BLK_S_OK;
}

/* Discard (§5.2.6.2): whole segments are checked before any hole is punched. */
static uint8_t do_discard(struct virtio_blk *b, struct virtq *q, const struct virtq_elem *e,
			  uint64_t len)
{
	uint8_t seg[BLK_MAX_DISCARD_SEG][BLK_DISCARD_SEG_SIZE];
	unsigned int n = (unsigned int)(len / BLK_DISCARD_SEG_SIZE);

	if (len % BLK_DISCARD_SEG_SIZE || n == 0 || n > BLK_MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_UNSUPP;
	if (virtq_elem_read(q, e, BLK_HDR_SIZE, seg, len))
		return VIRTIO_BLK_S_IOERR;
	for (unsigned int i = 0; i < n; i++) {
		uint64_t s = get_le(seg[i], 8), cnt = get_le(seg[i] + 8, 4);

		if (get_le(seg[i] + 12, 4) & ~1ULL)
			return VIRTIO_BLK_S_UNSUPP;
		if (cnt > BLK_MAX_DISCARD_SECTORS || !in_disk(b, s, cnt * BLK_SECTOR))
			return VIRTIO_BLK_S_IOERR;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t s = get_le(seg[i], 8), cnt = get_le(seg[i] + 8, 4);
		int r;

		/* A file system without hole punching keeps the data: discard is only a hint. */
		do
			r = cnt ? fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
					    (off_t)(s * BLK_SECTOR), (off_t)(cnt * BLK_SECTOR)) : 0;
		while (r && errno == EINTR);
		if (r && errno != EOPNOTSUPP)
			return VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * fdatasync, again when a signal cut it short (io=vcpu serves on a vCPU thread, which nestvm
 * signals to leave KVM_RUN; discard's fallocate and xfer_iov retry the same way).
 */
static int sync_image(int fd)
{
	int r;

	do
		r = fdatasync(fd);
	while (r < 0 && errno == EINTR);
	return r;
}

static int blk_handle(void *opaque, unsigned int queue, struct virtq *q, const struct virtq_elem *e,
		      uint32_t *ret_len)
{
	struct virtio_blk *b = opaque;
	uint8_t hdr[BLK_HDR_SIZE], status;
	uint64_t sector, data_in, data_out;
	uint32_t type, written = 0;
	int r;

	(void)queue;
	/* Without a header or a status byte there is nothing to answer: a device error. */
	if (e->out_bytes < BLK_HDR_SIZE || e->in_bytes < 1)
		return -EIO;
	r = virtq_elem_read(q, e, 0, hdr, sizeof(hdr));
	if (r)
		return r;
	type = (uint32_t)get_le(hdr, 4);
	sector = get_le(hdr + 8, 8);
	data_in = e->in_bytes - 1;
	data_out = e->out_bytes - BLK_HDR_SIZE;
	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (data_in % BLK_SECTOR || !in_disk(b, sector, data_in)) {
			status = VIRTIO_BLK_S_IOERR;
			break;
		}
		status = do_read(b, q, e, sector, data_in);
		if (status == VIRTIO_BLK_S_OK)
			written = (uint32_t)data_in;
		break;
	case VIRTIO_BLK_T_OUT:
		if (b->readonly || data_out % BLK_SECTOR || !in_disk(b, sector, data_out))
			status = VIRTIO_BLK_S_IOERR;
		else
			status = do_write(b, q, e, sector, data_out);
		break;
	case VIRTIO_BLK_T_FLUSH:
		/* Completed only once the data is on the disk (survives a VMM kill or crash). */
		status = b->readonly || !sync_image(b->fd) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID: {
		uint64_t n = data_in < BLK_ID_BYTES ? data_in : BLK_ID_BYTES;

		status = virtq_elem_write(q, e, 0, b->id, n) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
		written = status == VIRTIO_BLK_S_OK ? (uint32_t)n : 0;
		break;
	}
	case VIRTIO_BLK_T_DISCARD:
		status = b->readonly ? VIRTIO_BLK_S_IOERR : do_discard(b, q, e, data_out);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	r = virtq_elem_write(q, e, e->in_bytes - 1, &status, 1);
	if (r)
		return r;
	*ret_len = written + 1;
	return 0;
}

static const struct virtio_dev_ops blk_ops = { .handle = blk_handle };

/* The CPUs nestvm may run on (its affinity mask; 0 when unknown). */
static unsigned int host_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	return (unsigned int)CPU_COUNT(&set);
}

static int open_image(struct virtio_blk *b, const struct virtio_blk_options *o, char *err,
		      size_t errlen)
{
	int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;

	b->fd = open(o->file, flags);
	if (b->fd < 0 || fstat(b->fd, &st)) {
		snprintf(err, errlen, "virtio-blk: cannot open %.200s: %s", o->file, strerror(errno));
		return -errno;
	}
	if (!S_ISREG(st.st_mode) || !st.st_size || st.st_size % BLK_SECTOR) {
		snprintf(err, errlen, "virtio-blk: %.200s is not a raw image file of a non-zero "
			 "multiple of 512 bytes", o->file);
		return -EINVAL;
	}
	b->size = (uint64_t)st.st_size;
	if (o->cache == VIRTIO_BLK_CACHE_NONE) {
		b->dfd = open(o->file, flags | O_DIRECT);
		if (b->dfd < 0) {
			snprintf(err, errlen, "virtio-blk: cache=none: cannot open %.200s with O_DIRECT "
				 "(%s); use cache=writeback", o->file, strerror(errno));
			return -EINVAL;
		}
	}
	return 0;
}

struct virtio_blk *virtio_blk_create(struct pci_host *h, unsigned int slot,
				     const struct dma_as *as, const struct virtio_blk_options *o,
				     char *err, size_t errlen)
{
	struct virtio_blk *b = calloc(1, sizeof(*b));
	uint8_t cfg[BLK_CFG_SIZE] = { 0 };
	uint64_t features = BIT_ULL(VIRTIO_BLK_F_SEG_MAX) | BIT_ULL(VIRTIO_BLK_F_BLK_SIZE) |
			    BIT_ULL(VIRTIO_BLK_F_FLUSH);
	const char *base;
	int r;

	if (!b) {
		snprintf(err, errlen, "virtio-blk: out of memory");
		return NULL;
	}
	b->fd = b->dfd = -1;
	b->readonly = o->readonly;
	if (open_image(b, o, err, errlen))
		goto err_close;
	if (posix_memalign((void **)&b->bounce, DIRECT_ALIGN, BLK_BOUNCE)) {
		snprintf(err, errlen, "virtio-blk: out of memory");
		goto err_close;
	}
	/* The id is the image's file name, cut at 20 bytes, zero-padded (not terminated). */
	base = strrchr(o->file, '/');
	base = base ? base + 1 : o->file;
	memcpy(b->id, base, strnlen(base, sizeof(b->id)));
	features |= o->readonly ? BIT_ULL(VIRTIO_BLK_F_RO) : BIT_ULL(VIRTIO_BLK_F_DISCARD);
	put_le(cfg + BLK_CFG_CAPACITY, b->size / BLK_SECTOR, 8);
	put_le(cfg + BLK_CFG_SEG_MAX, BLK_QUEUE_SIZE - 2, 4);
	put_le(cfg + BLK_CFG_BLK_SIZE, BLK_SECTOR, 4);
	put_le(cfg + BLK_CFG_MAX_DISCARD_SECTORS, BLK_MAX_DISCARD_SECTORS, 4);
	put_le(cfg + BLK_CFG_MAX_DISCARD_SEG, BLK_MAX_DISCARD_SEG, 4);
	put_le(cfg + BLK_CFG_DISCARD_ALIGN, DIRECT_ALIGN / BLK_SECTOR, 4);
	r = virtio_pci_init(&b->vp, h, slot, as, VIRTIO_ID_BLOCK, BLK_CLASS, 1, BLK_QUEUE_SIZE,
			    features, cfg, sizeof(cfg), &blk_ops, b);
	b->vp.indirect = o->indirect;
	b->vp.packed = o->packed;
	b->vp.serve_on_vcpu = virtio_blk_io_on_vcpu(o->io, host_cpus());
	if (r) {
		snprintf(err, errlen, "virtio-blk: cannot plug the device into slot %u: %s", slot,
			 strerror(-r));
		goto err_close;
	}
	return b;

err_close:
	if (b->dfd >= 0)
		close(b->dfd);
	if (b->fd >= 0)
		close(b->fd);
	free(b->bounce);
	free(b);
	return NULL;
}

void virtio_blk_destroy(struct virtio_blk *b)
{
	if (!b)
		return;
	virtio_pci_cleanup(&b->vp);
	if (b->dfd >= 0)
		close(b->dfd);
	close(b->fd);
	free(b->bounce);
	free(b);
}

struct pci_dev *virtio_blk_pci_dev(struct virtio_blk *b)
{
	return &b->vp.pci;
}

struct virtio_pci *virtio_blk_transport(struct virtio_blk *b)
{
	return &b->vp;
}
