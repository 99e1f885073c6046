/* SPDX-License-Identifier: MIT */
/* A recording fake of the xlate engine API for the unit-model tests (see fake-xlate.h). */
#include <errno.h>
#include <stdlib.h>

#include "fake-xlate.h"

static struct vtd_xlate *last;

struct vtd_xlate *fake_xlate_last(void)
{
	return last;
}

struct vtd_xlate *vtd_xlate_create(const struct gmem *gm, const struct vtd_caps *caps,
				   const struct vtd_cache_sizes *sizes)
{
	struct vtd_xlate *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->caps = *caps;
	x->ctx_flags = (struct vtd_ctx_flags){ .sm = true, .dte = true, .pre = true };
	last = x;
	return x;
}

void vtd_xlate_destroy(struct vtd_xlate *x)
{
	if (last == x)
		last = NULL;
	free(x);
}

void vtd_xlate_set_root(struct vtd_xlate *x, uint64_t rtaddr)
{
	x->root = rtaddr;
	x->set_root_calls++;
}

/* The fake has no lock; holding it across a drain changes nothing it records. */
void vtd_xlate_hold(struct vtd_xlate *x)
{
}

void vtd_xlate_release(struct vtd_xlate *x)
{
}

void vtd_xlate_flush_all(struct vtd_xlate *x)
{
	x->flush_all_calls++;
}

int vtd_xlate_translate(struct vtd_xlate *x, const struct dma_req *req, uint64_t iova,
			struct dma_xlate *ret, struct vtd_fault *ret_fault)
{
	x->translate_calls++;
	if (x->fault) {
		*ret_fault = x->fault_desc;
		ret_fault->sid = req->sid;
		ret_fault->addr = iova & ~4095ULL;
		ret_fault->write = !!(req->access & DMA_ACC_WRITE);
		ret_fault->pasid_valid = req->has_pasid;
		ret_fault->pasid = req->pasid;
		return -EACCES;
	}
	ret->gpa = iova + x->offset;
	ret->len = 4096 - (iova & 4095);
	return 0;
}

int vtd_xlate_context_flags(struct vtd_xlate *x, uint16_t sid, struct vtd_ctx_flags *ret,
			    struct vtd_fault *ret_fault)
{
	if (x->ctx_fault) {
		*ret_fault = x->ctx_fault_desc;
		ret_fault->sid = sid;
		return -EACCES;
	}
	*ret = x->ctx_flags;
	return 0;
}

static void rec(struct vtd_xlate *x, struct fake_inv inv)
{
	if (x->nr_invs < FAKE_MAX_INVS)
		x->invs[x->nr_invs++] = inv;
}

void vtd_xlate_inv_context(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did, uint16_t sid,
			   uint8_t fm)
{
	rec(x, (struct fake_inv){ .kind = FAKE_INV_CTX, .g = g, .did = did, .sid = sid, .fm = fm });
}

void vtd_xlate_inv_iotlb(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
			 unsigned int am, bool ih)
{
	rec(x, (struct fake_inv){ .kind = FAKE_INV_IOTLB, .g = g, .did = did, .addr = addr,
				  .am = am, .ih = ih });
}

void vtd_xlate_inv_pasid_cache(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did,
			       uint32_t pasid)
{
	rec(x, (struct fake_inv){ .kind = FAKE_INV_PC, .g = g, .did = did, .pasid = pasid });
}

void vtd_xlate_inv_piotlb(struct vtd_xlate *x, enum vtd_inv_gran g, uint16_t did, uint32_t pasid,
			  uint64_t addr, unsigned int am, bool ih)
{
	rec(x, (struct fake_inv){ .kind = FAKE_INV_PIOTLB, .g = g, .did = did, .pasid = pasid,
				  .addr = addr, .am = am, .ih = ih });
}

void vtd_xlate_get_stats(struct vtd_xlate *x, struct vtd_xlate_stats *ret)
{
	*ret = (struct vtd_xlate_stats){ 0 };
}
