/* SPDX-License-Identifier: MIT */
/* Page-by-page DMA through an optional IOMMU into bounds-checked guest memory. */
#include "dma.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "gmem.h"
#include "gmem-watch.h"

/*
 * [iova, iova + len) for req as a read or a write, translated piece by piece: each piece is
 * copied to / from buf (iov NULL), or added to iov[0..max) as a host pointer, merged with the
 * previous one when contiguous. Returns the pieces (0 when copying) or the error.
 */
static int dma_walk(const struct dma_as *as, const struct dma_req *req, uint64_t iova, uint8_t *buf,
		    size_t len, bool write, struct iovec *iov, unsigned int max)
{
	struct dma_req r = *req;
	unsigned int n = 0;

	r.access = (req->access & ~(DMA_ACC_READ | DMA_ACC_WRITE)) |
		   (write ? DMA_ACC_WRITE : DMA_ACC_READ);
	/* Bounded: each step moves or maps at least one byte. */
	while (len) {
		struct dma_xlate x = { .gpa = iova, .len = len };
		size_t chunk;
		uint8_t *p;
		int ret;

		if (as->ops) {
			ret = as->ops->translate(as->iommu, &r, iova, &x);
			if (ret)
				return ret;
			if (x.len == 0)
				return -EACCES;
		}
		chunk = x.len < len ? (size_t)x.len : len;
		if (!iov) {
			ret = write ? gmem_write(as->gmem, x.gpa, buf, chunk)
				    : gmem_read(as->gmem, x.gpa, buf, chunk);
			if (ret)
				return ret;
			buf += chunk;
		} else if (!(p = gmem_ptr(as->gmem, x.gpa, chunk))) {
			return -EFAULT;
		} else if (n && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == p) {
			iov[n - 1].iov_len += chunk;
		} else if (n == max) {
			return -E2BIG;
		} else {
			iov[n++] = (struct iovec){ .iov_base = p, .iov_len = chunk };
		}
		iova += chunk;
		len -= chunk;
	}
	return (int)n;
}

int dma_read(const struct dma_as *as, const struct dma_req *req, uint64_t iova, void *buf,
	     size_t len)
{
	return dma_walk(as, req, iova, buf, len, false, NULL, 0);
}

int dma_write(const struct dma_as *as, const struct dma_req *req, uint64_t iova, const void *buf,
	      size_t len)
{
	return dma_walk(as, req, iova, (uint8_t *)buf, len, true, NULL, 0);
}

int dma_map(const struct dma_as *as, const struct dma_req *req, uint64_t iova, size_t len,
	    bool write, struct iovec *iov, unsigned int max)
{
	return dma_walk(as, req, iova, NULL, len, write, iov, max);
}

void dma_written(const struct dma_as *as, const struct iovec *iov, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		gmem_watch_note_hva(as->gmem, iov[i].iov_base, iov[i].iov_len);
}
