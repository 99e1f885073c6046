/* SPDX-License-Identifier: MIT */
/*
 * Split (virtio 1.x §2.6) and packed (§2.7) virtqueues over a DMA address space: every ring
 * and buffer access is a bounds-checked dma_read/dma_write with the device's requester id, so
 * a vIOMMU translates or blocks it. A hostile ring gives -EIO, never a crash or an unbounded
 * walk.
 */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "virtio-internal.h"

static int rd(const struct virtq *q, uint64_t iova, void *buf, size_t len)
{
	struct dma_req req = { .sid = q->sid, .access = DMA_ACC_READ };

	return dma_read(q->as, &req, iova, buf, len);
}

static int wr(const struct virtq *q, uint64_t iova, const void *buf, size_t len)
{
	struct dma_req req = { .sid = q->sid, .access = DMA_ACC_WRITE };

	return dma_write(q->as, &req, iova, buf, len);
}

static int rd16(const struct virtq *q, uint64_t iova, uint16_t *ret)
{
	uint8_t b[2];
	int r = rd(q, iova, b, 2);

	if (!r)
		*ret = (uint16_t)(b[0] | b[1] << 8);
	return r;
}

static int wr16(const struct virtq *q, uint64_t iova, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	return wr(q, iova, b, 2);
}

static uint64_t le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;

	for (unsigned int i = n; i--;)
		v = v << 8 | p[i];
	return v;
}

/* One descriptor, decoded from its 16 bytes (§2.6.5, §2.7.13). */
struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static int read_desc(const struct virtq *q, uint64_t table, uint16_t i, struct desc *d)
{
	uint8_t b[VIRTQ_DESC_SIZE];
	int r = rd(q, table + (uint64_t)i * VIRTQ_DESC_SIZE, b, sizeof(b));

	if (r)
		return r;
	d->addr = le(b, 8);
	d->len = (uint32_t)le(b + 8, 4);
	/* Split: flags then next; packed (§2.7.13): the buffer id, kept in next, then flags. */
	d->flags = (uint16_t)le(b + (q->packed ? 14 : 12), 2);
	d->next = (uint16_t)le(b + (q->packed ? 12 : 14), 2);
	return 0;
}

/* Appends one buffer descriptor to e; readable ones may not follow writable ones. */
static int add_seg(const struct virtq *q, struct virtq_elem *e, const struct desc *d)
{
	bool w = d->flags & VIRTQ_DESC_F_WRITE;

	if (e->nr >= q->size || e->nr >= VIRTQ_MAX_SEGS)
		return -EIO; /* longer than the queue: a loop or a broken driver */
	if (!w && e->in_bytes)
		return -EIO;
	e->seg[e->nr++] = (struct virtq_seg){ .addr = d->addr, .len = d->len, .write = w };
	if (w)
		e->in_bytes += d->len;
	else
		e->out_bytes += d->len;
	return 0;
}

/*
 * An indirect table (§2.6.5.3): len a non-zero multiple of 16 with at most size entries,
 * no nested indirect, next links inside the table. Bounded by its entry count.
 */
static int walk_indirect(const struct virtq *q, const struct desc *ind, struct virtq_elem *e)
{
	uint32_t n = ind->len / VIRTQ_DESC_SIZE;
	uint16_t i = 0;

	if (!q->indirect || ind->len == 0 || ind->len % VIRTQ_DESC_SIZE || n > q->size ||
	    (ind->flags & VIRTQ_DESC_F_NEXT))
		return -EIO;
	if (q->packed) {
		/* Packed (§2.7.10): the table's entries in order; only their WRITE flag counts. */
		for (i = 0; i < n; i++) {
			struct desc d;
			int r = read_desc(q, ind->addr, i, &d);

			if (r)
				return r;
			d.flags &= VIRTQ_DESC_F_WRITE;
			r = add_seg(q, e, &d);
			if (r)
				return r;
		}
		return 0;
	}
	for (uint32_t steps = 0;; steps++) {
		struct desc d;
		int r;

		if (steps >= n)
			return -EIO; /* a loop inside the table */
		r = read_desc(q, ind->addr, i, &d);
		if (r)
			return r;
		if (d.flags & VIRTQ_DESC_F_INDIRECT)
			return -EIO;
		r = add_seg(q, e, &d);
		if (r)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			return 0;
		if (d.next >= n)
			return -EIO;
		i = d.next;
	}
}

/*
 * One descriptor of a chain, either layout: an indirect one ends the chain with its table, a
 * buffer is appended. 1: NEXT, the chain goes on; 0: it ended; < 0: a device error.
 */
static int take_desc(const struct virtq *q, const struct desc *d, struct virtq_elem *e)
{
	int r;

	if (d->flags & VIRTQ_DESC_F_INDIRECT)
		return walk_indirect(q, d, e);
	r = add_seg(q, e, d);
	if (r)
		return r;
	return !!(d->flags & VIRTQ_DESC_F_NEXT);
}

static int split_pop(struct virtq *q, struct virtq_elem *ret)
{
	uint16_t avail_idx, head, i;
	int r;

	r = rd16(q, q->avail + 2, &avail_idx);
	if (r)
		return r;
	if ((uint16_t)(avail_idx - q->last_avail) > q->size)
		return -EIO; /* more entries than the ring holds */
	if (avail_idx == q->last_avail)
		return 0;
	/* Read the ring entry only after the index that published it. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	r = rd16(q, q->avail + 4 + 2 * (uint64_t)(q->last_avail & (q->size - 1)), &head);
	if (r)
		return r;
	if (head >= q->size)
		return -EIO;
	ret->head = head;
	ret->ndesc = 1;
	ret->nr = 0;
	ret->out_bytes = ret->in_bytes = 0;
	i = head;
	for (unsigned int steps = 0;; steps++) {
		struct desc d;

		if (steps >= q->size)
			return -EIO; /* the chain loops */
		r = read_desc(q, q->desc, i, &d);
		if (r)
			return r;
		r = take_desc(q, &d, ret);
		if (r <= 0) {
			if (r)
				return r;
			break;
		}
		if (d.next >= q->size)
			return -EIO;
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

static int split_push(struct virtq *q, uint16_t head, uint32_t len)
{
	uint8_t b[VIRTQ_USED_ELEM_SIZE];
	uint64_t slot = q->used + 4 + (uint64_t)(q->used_idx & (q->size - 1)) * VIRTQ_USED_ELEM_SIZE;
	int r;

	for (unsigned int k = 0; k < 4; k++) {
		b[k] = (uint8_t)((uint32_t)head >> (8 * k));
		b[4 + k] = (uint8_t)(len >> (8 * k));
	}
	r = wr(q, slot, b, sizeof(b));
	if (r)
		return r;
	/* The element must be visible before the index that publishes it. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	q->used_idx++;
	return wr16(q, q->used + 2, q->used_idx);
}

static bool split_need_interrupt(struct virtq *q, uint16_t old_used)
{
	uint16_t v;

	/* Our used index store must be visible before we read the driver's suppression. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->event_idx) {
		/* used_event after the avail ring; interrupt if it lies in [old, new). */
		if (rd16(q, q->avail + 4 + 2 * (uint64_t)q->size, &v))
			return true;
		return (uint16_t)(q->used_idx - v - 1) < (uint16_t)(q->used_idx - old_used);
	}
	if (rd16(q, q->avail, &v))
		return true;
	return !(v & VIRTQ_AVAIL_F_NO_INTERRUPT);
}

static int split_arm(struct virtq *q)
{
	uint16_t idx;
	int r;

	r = wr16(q, q->used + 4 + (uint64_t)q->size * VIRTQ_USED_ELEM_SIZE, q->last_avail);
	if (r)
		return r;
	/* Publish avail_event before looking again, or a kick could be lost. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	r = rd16(q, q->avail + 2, &idx);
	if (r)
		return r;
	return idx != q->last_avail;
}

/* ---- packed rings (§2.7) ---- */

/* Ring position and wrap counter of a position counted modulo 2 * size (struct virtq). */
static uint16_t ppos(const struct virtq *q, uint16_t at)
{
	return at < q->size ? at : (uint16_t)(at - q->size);
}

static bool pwrap(const struct virtq *q, uint16_t at)
{
	return at < q->size;
}

static uint16_t padvance(const struct virtq *q, uint16_t at, uint16_t n)
{
	return (uint16_t)(((uint32_t)at + n) % (2u * q->size));
}

/*
 * The chain at last_avail, if the driver made it available: its first descriptor's AVAIL flag
 * equals our wrap counter and its USED flag does not. The chain's other descriptors follow in
 * ring order (wrapping at the end); the buffer id is the last one's. Bounded by the ring size.
 */
static int packed_pop(struct virtq *q, struct virtq_elem *ret)
{
	uint16_t pos = ppos(q, q->last_avail), flags, n = 0;
	bool wrap = pwrap(q, q->last_avail);
	struct desc d;
	int r;

	d.next = 0;
	r = rd16(q, q->desc + (uint64_t)pos * VIRTQ_DESC_SIZE + 14, &flags);
	if (r)
		return r;
	if (!!(flags & VIRTQ_DESC_F_AVAIL) != wrap || !!(flags & VIRTQ_DESC_F_USED) == wrap)
		return 0;
	/* Read the descriptors only after the flags that published them. */
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	ret->nr = 0;
	ret->out_bytes = ret->in_bytes = 0;
	for (;;) {
		if (n >= q->size)
			return -EIO; /* NEXT on every descriptor of the ring */
		r = read_desc(q, q->desc, (uint16_t)((pos + n) % q->size), &d);
		if (r)
			return r;
		n++;
		/* An indirect descriptor is a chain of its own (§2.7.10). */
		if ((d.flags & VIRTQ_DESC_F_INDIRECT) && n > 1)
			return -EIO;
		r = take_desc(q, &d, ret);
		if (r < 0)
			return r;
		if (!r)
			break;
	}
	/* read_desc keeps the id where a split ring has next. */
	ret->head = d.next;
	ret->ndesc = n;
	q->last_avail = padvance(q, q->last_avail, n);
	return 1;
}

/* Writes the used descriptor (id, len, then flags) where the next one goes (§2.7.6). */
static int packed_push(struct virtq *q, const struct virtq_elem *e, uint32_t len)
{
	uint64_t slot = q->desc + (uint64_t)ppos(q, q->used_idx) * VIRTQ_DESC_SIZE;
	uint16_t flags = pwrap(q, q->used_idx) ? VIRTQ_DESC_F_AVAIL | VIRTQ_DESC_F_USED : 0;
	uint8_t b[6];
	int r;

	if (!e->ndesc || e->ndesc > q->size)
		return -EIO;
	for (unsigned int k = 0; k < 4; k++)
		b[k] = (uint8_t)(len >> (8 * k));
	b[4] = (uint8_t)e->head;
	b[5] = (uint8_t)(e->head >> 8);
	r = wr(q, slot + 8, b, sizeof(b));
	if (r)
		return r;
	/* id and len must be visible before the flags that hand the descriptor back. */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	r = wr16(q, slot + 14, flags);
	if (r)
		return r;
	q->used_idx = padvance(q, q->used_idx, e->ndesc);
	return 0;
}

/*
 * The driver's event suppression (§2.7.14): enable, disable, or (with event index) a
 * notification when the used descriptor at off_wrap is written, i.e. off_wrap in [old, new).
 */
static bool packed_need_interrupt(struct virtq *q, uint16_t old_used)
{
	uint16_t off_wrap, flags, ev, span = (uint16_t)(2u * q->size);

	/* Our used descriptors must be visible before we read the driver's suppression. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (rd16(q, q->avail + 2, &flags) || rd16(q, q->avail, &off_wrap))
		return true;
	if (flags == VIRTQ_EVENT_DISABLE)
		return false;
	if (flags != VIRTQ_EVENT_DESC || !q->event_idx || (off_wrap & 0x7fff) >= q->size)
		return true;
	ev = (uint16_t)((off_wrap & 0x7fff) + (off_wrap & 0x8000 ? 0 : q->size));
	return (uint16_t)((q->used_idx + span - ev - 1) % span) <
	       (uint16_t)((q->used_idx + span - old_used) % span);
}

/* ---- both layouts ---- */

int virtq_pop(struct virtq *q, struct virtq_elem *ret)
{
	if (!q->enabled || !q->size)
		return 0;
	return q->packed ? packed_pop(q, ret) : split_pop(q, ret);
}

int virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t len)
{
	return q->packed ? packed_push(q, e, len) : split_push(q, e->head, len);
}

bool virtq_need_interrupt(struct virtq *q, uint16_t old_used)
{
	if (q->used_idx == old_used)
		return false;
	return q->packed ? packed_need_interrupt(q, old_used) : split_need_interrupt(q, old_used);
}

/*
 * Packed rings: the device area stays zero (notifications enabled, §2.7.14), so the driver
 * notifies for every chain it adds and there is nothing to publish or race with.
 */
int virtq_arm(struct virtq *q)
{
	if (!q->event_idx || q->packed)
		return 0;
	return split_arm(q);
}

/*
 * The readable (write = false) or writable bytes of e from byte off, len of them, segment by
 * segment: copied to / from buf (iov NULL), or mapped into iov[0..max) with dma_map. Returns
 * the pieces mapped (0 when copying), -ENOSPC when e has fewer bytes, or the DMA error.
 */
static int elem_walk(const struct virtq *q, const struct virtq_elem *e, bool write, uint64_t off,
		     uint64_t len, uint8_t *buf, struct iovec *iov, unsigned int max)
{
	struct dma_req req = { .sid = q->sid };
	unsigned int pieces = 0;

	for (unsigned int s = 0; s < e->nr && len; s++) {
		const struct virtq_seg *g = &e->seg[s];
		uint64_t n;
		int r;

		if (g->write != write)
			continue;
		if (off >= g->len) {
			off -= g->len;
			continue;
		}
		n = g->len - off < len ? g->len - off : len;
		if (g->addr + off < g->addr)
			return -EFAULT;
		if (iov) {
			r = dma_map(q->as, &req, g->addr + off, (size_t)n, write, iov + pieces,
				    max - pieces);
			pieces += r > 0 ? (unsigned int)r : 0;
		} else {
			r = write ? wr(q, g->addr + off, buf, (size_t)n) : rd(q, g->addr + off, buf, (size_t)n);
			buf += n;
		}
		if (r < 0)
			return r;
		len -= n;
		off = 0;
	}
	return len ? -ENOSPC : (int)pieces;
}

int virtq_elem_read(const struct virtq *q, const struct virtq_elem *e, uint64_t off, void *buf,
		    uint64_t len)
{
	return elem_walk(q, e, false, off, len, buf, NULL, 0);
}

int virtq_elem_write(const struct virtq *q, const struct virtq_elem *e, uint64_t off,
		     const void *buf, uint64_t len)
{
	return elem_walk(q, e, true, off, len, (uint8_t *)buf, NULL, 0);
}

int virtq_elem_map(const struct virtq *q, const struct virtq_elem *e, bool write, uint64_t off,
		   uint64_t len, struct iovec *iov, unsigned int max)
{
	return elem_walk(q, e, write, off, len, NULL, iov, max);
}

void virtq_elem_written(const struct virtq *q, const struct iovec *iov, unsigned int n)
{
	dma_written(q->as, iov, n);
}
