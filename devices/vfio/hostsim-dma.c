/* SPDX-License-Identifier: MIT */
/*
 * hostsim's simulated hardware: a device's DMA looks up what is attached for its (RID, PASID),
 * then its IOTLB, and on a miss walks the bound guest first-stage table through the stage-2
 * map. A fault goes to the registered handler, as a page request when the device has PRI.
 */
#include <errno.h>
#include <pthread.h>

#include "common/bits.h"
#include "common/log.h"
#include "devices/vfio/hostsim-internal.h"
#include "vmm/core/gmem.h"

/* VT-d fault reasons hostsim reports (facts §7.2, same values as VTD_FR_*). */
#define FR_SM_PE_NOT_PRESENT 0x59
#define FR_SM_SRE 0x5D
#define FR_FS_NOT_PRESENT 0x71
#define FR_FS_RSVD 0x72
#define FR_NESTED_FS_READ 0x76
#define FR_SS_PERM 0x79
#define FR_FS_NON_CANONICAL 0x80
#define FR_FS_USER 0x81
#define FR_SM_WRITE 0x85

/* First-stage PTE fields (facts §5). */
#define FS_P BIT_ULL(0)
#define FS_RW BIT_ULL(1)
#define FS_US BIT_ULL(2)
#define FS_PS BIT_ULL(7)
#define FS_ADDR GENMASK_ULL(51, 12)

/*
 * Walks the first stage of s1 for iova through the stage-2 map (facts §5). Bounded by the
 * level count (4 or 5). Returns 0 with *t filled, or a fault reason.
 */
static uint8_t walk(struct hostsim *hs, uint32_t s1, uint64_t iova, struct hs_tlb *t)
{
	const struct host_s1_config *c = &hs->s1[s1 - 1].cfg;
	unsigned int levels = c->addr_width == 57 ? 5 : 4;
	uint64_t table = c->pgtbl_gpa;
	int64_t sext = (int64_t)(iova << (64 - c->addr_width)) >> (64 - c->addr_width);
	bool rw = true, us = true;

	if ((uint64_t)sext != iova)
		return FR_FS_NON_CANONICAL;
	for (unsigned int lvl = levels; lvl >= 1; lvl--) {
		unsigned int shift = 12 + 9 * (lvl - 1);
		uint64_t pa = table + ((iova >> shift) & 511) * 8, pte;

		if (!hs_s2_allows(hs, pa, 8, false) || gmem_read_u64(hs->gm, pa, &pte))
			return FR_NESTED_FS_READ;
		if (!(pte & FS_P))
			return FR_FS_NOT_PRESENT;
		rw = rw && (pte & FS_RW);
		us = us && (pte & FS_US);
		if (lvl == 1 || ((lvl == 2 || lvl == 3) && (pte & FS_PS))) {
			uint64_t size = 1ULL << shift;

			if (lvl > 1 && (pte & FS_ADDR & (size - 1) & ~BIT_ULL(12)))
				return FR_FS_RSVD;
			*t = (struct hs_tlb){ .valid = true, .s1 = s1, .iova = iova & ~(size - 1),
					      .gpa = pte & FS_ADDR & ~(size - 1), .size = size,
					      .rw = rw, .us = us };
			return 0;
		}
		if (lvl == levels && (pte & FS_PS))
			return FR_FS_RSVD;
		table = pte & FS_ADDR;
	}
	return FR_FS_RSVD;
}

static uint8_t check_perm(const struct hostsim *hs, uint32_t s1, const struct hs_tlb *t,
			  unsigned int acc)
{
	const struct host_s1_config *c = &hs->s1[s1 - 1].cfg;
	bool priv = acc & DMA_ACC_PRIV, write = acc & DMA_ACC_WRITE;

	if (priv && !c->sre)
		return FR_SM_SRE;
	if (!priv && !t->us)
		return FR_FS_USER;
	if (write && !t->rw && (!priv || c->wpe))
		return FR_SM_WRITE;
	return 0;
}

static int hs_translate(void *iommu, const struct dma_req *req, uint64_t iova,
			struct dma_xlate *ret)
{
	struct hs_dev *d = iommu;
	struct hostsim *hs = d->hs;
	struct host_fault f = { .dev = d->id, .pasid_valid = req->has_pasid, .pasid = req->pasid,
				.addr = iova & ~4095ULL };
	struct hs_bind *b;
	struct hs_tlb t, *hit = NULL;
	host_fault_fn fn;
	void *fop;
	uint8_t reason;

	pthread_mutex_lock(&hs->lock);
	hs->st.dma++;
	b = hs_find_bind(d, req->has_pasid ? req->pasid : HOST_PASID_NONE);
	if (!b) {
		reason = FR_SM_PE_NOT_PRESENT; /* blocked: nothing attached */
		goto fault;
	}
	if (!b->s1) {
		/* The stage-2 parent: guest-physical addresses. */
		ret->gpa = iova;
		ret->len = 4096 - (iova & 4095);
		if (!hs_s2_allows(hs, iova & ~4095ULL, 4096, req->access & DMA_ACC_WRITE)) {
			reason = FR_SS_PERM;
			goto fault;
		}
		pthread_mutex_unlock(&hs->lock);
		return 0;
	}
	for (unsigned int i = 0; i < HS_IOTLB && !hit; i++) {
		struct hs_tlb *e = &hs->tlb[i];

		if (e->valid && e->s1 == b->s1 && iova - e->iova < e->size)
			hit = e;
	}
	if (hit) {
		hs->st.iotlb_hits++;
		t = *hit;
	} else {
		hs->st.iotlb_misses++;
		reason = walk(hs, b->s1, iova, &t);
		if (reason)
			goto fault;
	}
	reason = check_perm(hs, b->s1, &t, req->access);
	if (reason)
		goto fault;
	ret->gpa = t.gpa + (iova - t.iova);
	ret->len = 4096 - (ret->gpa & 4095);
	if (!hs_s2_allows(hs, ret->gpa & ~4095ULL, 4096, req->access & DMA_ACC_WRITE)) {
		reason = FR_SS_PERM;
		goto fault;
	}
	if (!hit) {
		hs->tlb[hs->tlb_next] = t;
		hs->tlb_next = (hs->tlb_next + 1) % HS_IOTLB;
	}
	pthread_mutex_unlock(&hs->lock);
	return 0;
fault:
	f.perm = (req->access & DMA_ACC_READ ? HOST_PERM_READ : 0) |
		 (req->access & DMA_ACC_WRITE ? HOST_PERM_WRITE : 0) |
		 (req->access & DMA_ACC_EXEC ? HOST_PERM_EXEC : 0) |
		 (req->access & DMA_ACC_PRIV ? HOST_PERM_PRIV : 0);
	f.reason = reason;
	if (d->pri && b && b->s1 && hs->caps.fault_queue) {
		unsigned int slot = HS_MAX_PENDING;

		for (unsigned int i = 0; i < HS_MAX_PENDING && slot == HS_MAX_PENDING; i++)
			if (!hs->pending[i])
				slot = i;
		if (slot < HS_MAX_PENDING) {
			f.recoverable = true;
			f.last = true;
			f.grpid = hs->next_grpid++ & 0x1ff;
			f.cookie = ++hs->next_cookie ? hs->next_cookie : ++hs->next_cookie;
			hs->pending[slot] = f.cookie;
		}
	}
	if (f.recoverable)
		hs->st.page_reqs++;
	else
		hs->st.faults++;
	trace(TRACE_HOST, "hostsim", "fault dev %u pasid 0x%x addr 0x%llx acc 0x%x reason 0x%x%s%s", d->id,
	      req->has_pasid ? req->pasid : 0, (unsigned long long)iova, req->access, reason,
	      hit ? " (IOTLB hit)" : "", f.recoverable ? " -> page request" : "");
	fn = hs->fault_fn;
	fop = hs->fault_opaque;
	pthread_mutex_unlock(&hs->lock);
	if (fn)
		fn(fop, &f);
	return -EACCES;
}

const struct dma_iommu_ops hs_dma_ops = { .translate = hs_translate };
