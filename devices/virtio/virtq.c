/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.x §2.6) over a DMA address space: every ring and buffer access is
 * a bounds-checked dma_read/dma_write with the device's requester id, so a vIOMMU translates
 * or blocks it. A hostile ring gives -EIO, never a crash or an unbounded walk.
 */
#include <errno.h>
#include <string.h>

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

/* One descriptor, decoded from its 16 bytes (§2.6.5). */
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
	d->flags = (uint16_t)le(b + 12, 2);
	d->next = (uint16_t)le(b + 14, 2);
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

int virtq_pop(struct virtq *q, struct virtq_elem *ret)
{
	uint16_t avail_idx, head, i;
	int r;

	if (!q->enabled || !q->size)
		return 0;
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
		if (d.flags & VIRTQ_DESC_F_INDIRECT) {
			r = walk_indirect(q, &d, ret);
			if (r)
				return r;
			break;
		}
		r = add_seg(q, ret, &d);
		if (r)
			return r;
		if (!(d.flags & VIRTQ_DESC_F_NEXT))
			break;
		if (d.next >= q->size)
			return -EIO;
		i = d.next;
	}
	q->last_avail++;
	return 1;
}

int virtq_push(struct virtq *q, uint16_t head, uint32_t len)
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

bool virtq_need_interrupt(struct virtq *q, uint16_t old_used)
{
	uint16_t v;

	if (q->used_idx == old_used)
		return false;
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

int virtq_arm(struct virtq *q)
{
	uint16_t idx;
	int r;

	if (!q->event_idx)
		return 0;
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

/* Walks the readable (write = false) or writable segments of e from byte off. */
static int elem_copy(const struct virtq *q, const struct virtq_elem *e, bool write, uint64_t off,
		     uint8_t *buf, uint64_t len)
{
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
		r = write ? wr(q, g->addr + off, buf, (size_t)n) : rd(q, g->addr + off, buf, (size_t)n);
		if (r)
			return r;
		buf += n;
		len -= n;
		off = 0;
	}
	return len ? -ENOSPC : 0;
}

int virtq_elem_read(const struct virtq *q, const struct virtq_elem *e, uint64_t off, void *buf,
		    uint64_t len)
{
	return elem_copy(q, e, false, off, buf, len);
}

int virtq_elem_write(const struct virtq *q, const struct virtq_elem *e, uint64_t off,
		     const void *buf, uint64_t len)
{
	return elem_copy(q, e, true, off, (uint8_t *)buf, len);
}
