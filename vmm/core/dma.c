/* SPDX-License-Identifier: MIT */
/* Page-by-page DMA through an optional IOMMU into bounds-checked guest memory. */
#include "dma.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "gmem.h"

static int dma_xfer(const struct dma_as *as, const struct dma_req *req, uint64_t iova, void *buf,
		    size_t len, bool write)
{
	struct dma_req r = *req;
	uint8_t *p = buf;

	r.access = (req->access & ~(DMA_ACC_READ | DMA_ACC_WRITE)) |
		   (write ? DMA_ACC_WRITE : DMA_ACC_READ);
	/* Bounded: each step moves at least one byte. */
	while (len) {
		struct dma_xlate x = { .gpa = iova, .len = len };
		size_t chunk;
		int ret;

		if (as->ops) {
			ret = as->ops->translate(as->iommu, &r, iova, &x);
			if (ret)
				return ret;
			if (x.len == 0)
				return -EACCES;
		}
		chunk = x.len < len ? (size_t)x.len : len;
		ret = write ? gmem_write(as->gmem, x.gpa, p, chunk) : gmem_read(as->gmem, x.gpa, p, chunk);
		if (ret)
			return ret;
		p += chunk;
		iova += chunk;
		len -= chunk;
	}
	return 0;
}

int dma_read(const struct dma_as *as, const struct dma_req *req, uint64_t iova, void *buf,
	     size_t len)
{
	return dma_xfer(as, req, iova, buf, len, false);
}

int dma_write(const struct dma_as *as, const struct dma_req *req, uint64_t iova, const void *buf,
	      size_t len)
{
	return dma_xfer(as, req, iova, (void *)buf, len, true);
}

int dma_map(const struct dma_as *as, const struct dma_req *req, uint64_t iova, size_t len,
	    bool write, struct iovec *iov, unsigned int max)
{
	struct dma_req r = *req;
	unsigned int n = 0;

	r.access = (req->access & ~(DMA_ACC_READ | DMA_ACC_WRITE)) |
		   (write ? DMA_ACC_WRITE : DMA_ACC_READ);
	/* Bounded: each step maps at least one byte. */
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
		p = gmem_ptr(as->gmem, x.gpa, chunk);
		if (!p)
			return -EFAULT;
		if (n && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == p) {
			iov[n - 1].iov_len += chunk;
		} else {
			if (n == max)
				return -E2BIG;
			iov[n++] = (struct iovec){ .iov_base = p, .iov_len = chunk };
		}
		iova += chunk;
		len -= chunk;
	}
	return (int)n;
}
