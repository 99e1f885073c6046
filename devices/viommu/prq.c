/* SPDX-License-Identifier: MIT */
/*
 * ATS and PRI for devices behind the unit: translation requests, the page request queue
 * (PQH/PQT/PQA, PRS, PECTL; facts §1 and §9), page group responses (descriptor 0x9) routed
 * back to the requester, and device-TLB invalidations (0x3 / 0x8) delivered to it.
 *
 * Locking: requests arrive from device threads without the unit lock; descriptors are
 * processed with it held. Device-TLB invalidations are delivered synchronously (under the
 * lock: a later wait descriptor must find them done); page group responses are queued and
 * delivered by the thread that wrote IQT once the lock is dropped, so a device may resume
 * its DMA from the callback. The number of queued responses is bounded by the outstanding
 * group table: only a tracked group can be answered, and answering untracks it.
 */
#include <errno.h>
#include <string.h>

#include "common/log.h"
#include "devices/viommu/viommu-internal.h"
#include "devices/viommu/xlate/vtd-tables.h"
#include "vmm/core/gmem.h"

/* Page request descriptor (facts §9), 32 bytes. */
#define PRQ_REC_SIZE 32u
#define PRQ_TYPE_PAGE_REQ 0x1ULL /* QW0 7:0 (QEMU's page request descriptor uses 1) */
#define PRQ0_PP BIT_ULL(8)
#define PRQ0_RID GENMASK_ULL(31, 16)
#define PRQ0_PASID GENMASK_ULL(51, 32)
#define PRQ0_ER BIT_ULL(52)
#define PRQ0_PMR BIT_ULL(53)
#define PRQ1_RDR BIT_ULL(0)
#define PRQ1_WRR BIT_ULL(1)
#define PRQ1_LPIG BIT_ULL(2)
#define PRQ1_PRGI GENMASK_ULL(11, 3)
#define PRQ1_ADDR GENMASK_ULL(63, 12)

/* Page group response descriptor (facts §9), fields of QW0 / QW1. */
#define PGRP0_PP BIT_ULL(4)
#define PGRP0_CODE GENMASK_ULL(15, 12)
#define PGRP0_RID GENMASK_ULL(31, 16)
#define PGRP0_PASID GENMASK_ULL(51, 32)
#define PGRP1_PRGI GENMASK_ULL(11, 3)

#define PQ_OFF GENMASK_ULL(18, 5)
#define PQA_ADDR GENMASK_ULL(63, 12)
#define PQA_PQS GENMASK_ULL(2, 0)
#define PRS_PPR BIT_ULL(0)
#define PRS_PRO BIT_ULL(1)

/* ---- events ---- */

static void send_pe_msi(struct viommu *v)
{
	viommu_queue_msi(v, vtd_reg_get(v, VTD_PEADDR_REG) | (vtd_reg_get(v, VTD_PEUADDR_REG) << 32),
			 (uint32_t)vtd_reg_get(v, VTD_PEDATA_REG));
}

/*
 * A record was written (bit = PPR) or the queue overflowed (bit = PRO): the bit is set, and
 * the page request event is raised only if neither PPR nor PRO was set before (IP while
 * masked).
 */
static void page_request_event(struct viommu *v, uint64_t bit)
{
	uint64_t prs = vtd_reg_get(v, VTD_PRS_REG);
	uint64_t pectl = vtd_reg_get(v, VTD_PECTL_REG);

	vtd_reg_set(v, VTD_PRS_REG, prs | bit);
	if (prs & (PRS_PPR | PRS_PRO))
		return;
	if (pectl & VTD_ECTL_IM) {
		vtd_reg_set(v, VTD_PECTL_REG, pectl | VTD_ECTL_IP);
		return;
	}
	vtd_reg_set(v, VTD_PECTL_REG, pectl & ~VTD_ECTL_IP);
	send_pe_msi(v);
}

/* PRS write (RW1C applied): once PPR and PRO are clear no event is pending any more. */
static void prs_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	if (!(vtd_reg_get(v, VTD_PRS_REG) & (PRS_PPR | PRS_PRO)))
		vtd_reg_set(v, VTD_PECTL_REG, vtd_reg_get(v, VTD_PECTL_REG) & ~VTD_ECTL_IP);
}

/* PECTL write: unmasking with IP set sends the event now (same shape as FECTL). */
static void pectl_hook(struct viommu *v, uint64_t old, uint64_t val, uint64_t am)
{
	uint64_t pectl = vtd_reg_get(v, VTD_PECTL_REG);

	if (!(pectl & VTD_ECTL_IM) && (pectl & VTD_ECTL_IP)) {
		vtd_reg_set(v, VTD_PECTL_REG, pectl & ~VTD_ECTL_IP);
		send_pe_msi(v);
	}
}

/* ---- ATS client table ---- */

static struct vtd_ats_slot *find_client(struct viommu *v, uint16_t sid)
{
	for (unsigned int i = 0; i < VTD_ATS_CLIENTS; i++) {
		if (v->prq.ats[i].used && v->prq.ats[i].sid == sid)
			return &v->prq.ats[i];
	}
	return NULL;
}

int vtd_ats_register(void *iommu, uint16_t sid, const struct dma_ats_client *client, void *opaque)
{
	struct viommu *v = iommu;
	struct vtd_ats_slot *s;
	int ret = 0;

	pthread_mutex_lock(&v->lock);
	s = find_client(v, sid);
	if (!client) {
		if (s)
			memset(s, 0, sizeof(*s));
		goto out;
	}
	for (unsigned int i = 0; !s && i < VTD_ATS_CLIENTS; i++) {
		if (!v->prq.ats[i].used)
			s = &v->prq.ats[i];
	}
	if (!s) {
		ret = -ENOSPC;
		goto out;
	}
	*s = (struct vtd_ats_slot){ .used = true, .sid = sid, .client = client, .opaque = opaque };
out:
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/*
 * Device-TLB invalidation (facts §6): S=0 is one 4 KiB page; S=1 takes the size from the
 * lowest clear address bit at or above bit 12 (bit 12 clear: 8 KiB, ...). All ones from
 * bit 12 up means the whole address space.
 */
static void devtlb(struct viommu *v, uint16_t sid, bool has_pasid, uint32_t pasid, uint64_t addr,
		   bool size_bit, bool global)
{
	struct vtd_ats_slot *s = find_client(v, sid);
	uint64_t size = 4096;

	if (!s || !s->client->devtlb_invalidate)
		return;
	if (size_bit) {
		uint64_t pfn = addr >> 12;
		unsigned int n = pfn == (~0ULL >> 12) ? 52 : (unsigned int)__builtin_ctzll(~pfn);

		/* n = index of the lowest clear bit above bit 12: the range is 2^(n+1) pages. */
		size = n + 13 >= 64 ? (1ULL << 63) : 1ULL << (n + 13);
	}
	addr &= ~(size - 1);
	s->client->devtlb_invalidate(s->opaque, has_pasid, pasid, global, addr, size);
}

/* ---- page group responses ---- */

static enum vtd_iqei response(struct viommu *v, const uint64_t *d)
{
	bool pp = !!(d[0] & PGRP0_PP);
	uint16_t rid = (uint16_t)FIELD_GET(PGRP0_RID, d[0]);
	uint32_t pasid = (uint32_t)FIELD_GET(PGRP0_PASID, d[0]);
	uint16_t grpid = (uint16_t)FIELD_GET(PGRP1_PRGI, d[1]);

	for (unsigned int i = 0; i < VTD_PRQ_GROUPS; i++) {
		struct vtd_prq_group *g = &v->prq.groups[i];

		if (!g->used || g->sid != rid || g->grpid != grpid || g->pp != pp ||
		    (pp && g->pasid != pasid))
			continue;
		g->used = false;
		/* resp[] cannot overflow: each entry came out of groups[] of the same size. */
		if (v->prq.nr_resp < VTD_PRQ_GROUPS) {
			v->prq.resp[v->prq.nr_resp] = *g;
			v->prq.resp[v->prq.nr_resp++].code = (uint8_t)FIELD_GET(PGRP0_CODE, d[0]);
		}
		v->stats.prg_responses++;
		return VTD_IQEI_NONE;
	}
	/* A response for no outstanding group (never requested, or answered already). */
	trace(TRACE_VTD_DESC, "vtd", "page group response for unknown group rid=%04x grp=%u", rid,
	      grpid);
	v->stats.prg_unknown++;
	return VTD_IQEI_NONE;
}

/* After a register write (lock not held): the page group responses the write produced. */
static void deliver(struct viommu *v)
{
	struct {
		struct vtd_prq_group g;
		const struct dma_ats_client *c;
		void *opaque;
	} q[VTD_PRQ_GROUPS];
	unsigned int n = 0;

	pthread_mutex_lock(&v->lock);
	for (unsigned int i = 0; i < v->prq.nr_resp; i++) {
		struct vtd_ats_slot *s = find_client(v, v->prq.resp[i].sid);

		if (!s || !s->client->page_response)
			continue; /* the device went away: nothing to answer */
		q[n].g = v->prq.resp[i];
		q[n].c = s->client;
		q[n++].opaque = s->opaque;
	}
	v->prq.nr_resp = 0;
	pthread_mutex_unlock(&v->lock);
	for (unsigned int i = 0; i < n; i++)
		q[i].c->page_response(q[i].opaque, q[i].g.pp, q[i].g.pasid, q[i].g.grpid, q[i].g.code);
}

/* ---- the feature: registers and descriptors ---- */

/* The page request queue's registers (facts §1, §9), with ECAP.PRS: 32-byte records, offsets
 * in bits 18:5. Without it the offsets are unlisted (read 0, writes dropped). */
static void prq_regs(struct viommu *v)
{
	if (!v->cfg.prs)
		return;
	vtd_reg_add(v, VTD_PQH_REG, 8, false, 0, PQ_OFF, 0, NULL, "PQH");
	vtd_reg_add(v, VTD_PQT_REG, 8, false, 0, PQ_OFF, 0, NULL, "PQT");
	vtd_reg_add(v, VTD_PQA_REG, 8, false, 0, PQA_ADDR | PQA_PQS, 0, NULL, "PQA");
	vtd_reg_add(v, VTD_PRS_REG, 4, false, 0, 0, PRS_PPR | PRS_PRO, prs_hook, "PRS");
	vtd_reg_add(v, VTD_PECTL_REG, 4, false, VTD_ECTL_IM, VTD_ECTL_IM, 0, pectl_hook, "PECTL");
	vtd_reg_add(v, VTD_PEDATA_REG, 4, false, 0, 0xffff, 0, NULL, "PEDATA");
	vtd_reg_add(v, VTD_PEADDR_REG, 4, false, 0, 0xfffffffc, 0, NULL, "PEADDR");
	vtd_reg_add(v, VTD_PEUADDR_REG, 4, false, 0, 0, 0, NULL, "PEUADDR");
}

/*
 * Device-TLB (0x3) and PASID device-TLB (0x8) invalidations: counted, shown to the test hook
 * (viommu_set_devtlb_hook), then sent to the SID's ATS client. Page group responses (0x9; the
 * core refuses them without ECAP.PRS) answer the outstanding group.
 */
static enum vtd_iqei prq_desc(struct viommu *v, unsigned int type, const uint64_t *d)
{
	bool p = type == QI_PDEVTLB;
	uint16_t sid = (uint16_t)(p ? FIELD_GET(QI_PDEV_SID, d[0]) : FIELD_GET(QI_DEV_SID, d[0]));
	uint32_t pasid = p ? (uint32_t)FIELD_GET(QI_PASID, d[0]) : 0;
	bool size_bit = !!(d[1] & (p ? QI_PDEV_S : QI_DEV_S)), global = p && (d[1] & QI_PDEV_G);

	if (type == QI_PGRP)
		return response(v, d);
	v->stats.devtlb_invs++;
	if (v->devtlb_fn)
		v->devtlb_fn(v->devtlb_opaque, sid, p, pasid, d[1] & QI_ADDR, size_bit, global);
	devtlb(v, sid, p, pasid, d[1] & QI_ADDR, size_bit, global);
	return VTD_IQEI_NONE;
}

static const struct vtd_feature prq_feature = {
	.name = "page requests and ATS",
	.regs = prq_regs,
	.desc_types = 1u << QI_DEVTLB | 1u << QI_PDEVTLB | 1u << QI_PGRP,
	.desc = prq_desc,
	.after_write = deliver,
};

int vtd_prq_init(struct viommu *v)
{
	return vtd_feature_add(v, &prq_feature);
}

/* ---- page requests ---- */

/* Starts tracking pr's group; NULL when the table is full. */
static struct vtd_prq_group *track_group(struct viommu *v, const struct dma_page_req *pr)
{
	for (unsigned int i = 0; i < VTD_PRQ_GROUPS; i++) {
		struct vtd_prq_group *g = &v->prq.groups[i];

		if (g->used)
			continue;
		*g = (struct vtd_prq_group){ .used = true, .pp = pr->has_pasid, .sid = pr->sid,
					     .grpid = pr->grpid & 0x1ff,
					     .pasid = pr->has_pasid ? pr->pasid : 0 };
		return g;
	}
	return NULL;
}

static bool group_tracked(const struct viommu *v, const struct dma_page_req *pr)
{
	for (unsigned int i = 0; i < VTD_PRQ_GROUPS; i++) {
		const struct vtd_prq_group *g = &v->prq.groups[i];

		if (g->used && g->sid == pr->sid && g->grpid == (pr->grpid & 0x1ff) &&
		    g->pp == pr->has_pasid && (!g->pp || g->pasid == pr->pasid))
			return true;
	}
	return false;
}

/*
 * Writes one page request record at PQT. The queue is full when advancing PQT would make
 * it equal PQH; then (or if the group table is full, or the record cannot be stored) PRO
 * is set and the request is dropped. While PRO stays set every request is dropped, with no
 * event, even when the queue has room again (Linux clears PRO only once it has drained
 * the queue; QEMU drops the same way). -ENOSPC tells the device that a dropped
 * last-in-group request was answered Success at once, so it retries (that answer is from
 * recollection of the spec: QEMU only returns the error to the device). Records already
 * in the queue are never touched.
 */
static int queue_request(struct viommu *v, const struct dma_page_req *pr)
{
	uint64_t pqa = vtd_reg_get(v, VTD_PQA_REG);
	uint64_t qsize = 4096ULL << FIELD_GET(PQA_PQS, pqa);
	uint64_t head = vtd_reg_get(v, VTD_PQH_REG) & PQ_OFF;
	uint64_t tail = vtd_reg_get(v, VTD_PQT_REG) & PQ_OFF;
	uint8_t rec[PRQ_REC_SIZE] = { 0 };
	struct vtd_prq_group *added = NULL;
	uint64_t q0, q1;

	q0 = PRQ_TYPE_PAGE_REQ | FIELD_PREP(PRQ0_RID, pr->sid);
	if (pr->has_pasid) {
		q0 |= PRQ0_PP | FIELD_PREP(PRQ0_PASID, pr->pasid);
		if (pr->access & DMA_ACC_EXEC)
			q0 |= PRQ0_ER;
		if (pr->access & DMA_ACC_PRIV)
			q0 |= PRQ0_PMR;
	}
	q1 = (pr->addr & PRQ1_ADDR) | FIELD_PREP(PRQ1_PRGI, pr->grpid & 0x1ff) |
	     ((pr->access & DMA_ACC_READ) ? PRQ1_RDR : 0) |
	     ((pr->access & DMA_ACC_WRITE) ? PRQ1_WRR : 0) | (pr->last ? PRQ1_LPIG : 0);
	le64_store(rec, q0);
	le64_store(rec + 8, q1);

	if (vtd_reg_get(v, VTD_PRS_REG) & PRS_PRO) {
		v->stats.prq_overflows++;
		return -ENOSPC;
	}
	if (head >= qsize || tail >= qsize || (tail + PRQ_REC_SIZE) % qsize == head)
		goto overflow;
	if (pr->last && !group_tracked(v, pr)) {
		added = track_group(v, pr);
		if (!added)
			goto overflow;
	}
	if (gmem_write(v->gm, (pqa & PQA_ADDR) + tail, rec, sizeof(rec)))
		goto overflow;
	vtd_reg_set(v, VTD_PQT_REG, (tail + PRQ_REC_SIZE) % qsize);
	v->stats.page_reqs++;
	trace(TRACE_VTD_DESC, "vtd", "page request %016llx %016llx at PQT=0x%llx",
	      (unsigned long long)q0, (unsigned long long)q1, (unsigned long long)tail);
	page_request_event(v, PRS_PPR);
	return 0;

overflow:
	if (added)
		added->used = false;
	page_request_event(v, PRS_PRO);
	v->stats.prq_overflows++;
	trace(TRACE_VTD_DESC, "vtd", "page request dropped (overflow) rid=%04x addr=0x%llx", pr->sid,
	      (unsigned long long)pr->addr);
	return -ENOSPC;
}

/*
 * The requester may send page requests: a scalable-mode root (else fault 0x32), a usable
 * context entry (else its fault) with PRE=1 (else fault 0x47). A refused request is
 * recorded (unless FPD) and gets -EACCES: the device sees an error answer for the group.
 */
static int page_request_allowed(struct viommu *v, const struct dma_page_req *pr)
{
	struct vtd_ctx_flags cf;
	struct vtd_fault f = { 0 };

	if (vtd_xlate_context_flags(v->xlate, pr->sid, &cf, &f) == 0) {
		if (cf.sm && cf.pre)
			return 0;
		f.reason = cf.sm ? VTD_FR_SM_CTX_PRE : VTD_FR_SM_TTM_PRQ;
		f.fpd = cf.fpd;
	}
	f.sid = pr->sid;
	f.pasid_valid = pr->has_pasid;
	f.pasid = pr->has_pasid ? pr->pasid : 0;
	f.addr = pr->addr & ~4095ULL;
	f.write = !!(pr->access & DMA_ACC_WRITE);
	f.exec = pr->has_pasid && (pr->access & DMA_ACC_EXEC);
	f.priv = pr->has_pasid && (pr->access & DMA_ACC_PRIV);
	vtd_fault_record(v, &f);
	return -EACCES;
}

int vtd_page_request(void *iommu, const struct dma_page_req *pr)
{
	struct viommu *v = iommu;
	int ret;

	if (!v->cfg.prs)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&v->lock);
	/* Page requests need remapping on and a valid root. */
	if (!__atomic_load_n(&v->te, __ATOMIC_ACQUIRE) || v->root_invalid)
		ret = -EACCES;
	else if (!(ret = page_request_allowed(v, pr)))
		ret = queue_request(v, pr);
	pthread_mutex_unlock(&v->lock);
	viommu_flush_msis(v);
	return ret;
}

/* ---- ATS translation requests ---- */

/* Faults a page request can resolve: the translation answer is R = W = 0, nothing recorded. */
static bool recoverable(uint8_t reason)
{
	switch (reason) {
	case VTD_FR_WRITE:
	case VTD_FR_READ:
	case VTD_FR_FS_NOT_PRESENT:
	case VTD_FR_SS_PERM:
	case VTD_FR_FS_USER:
	case VTD_FR_FS_EXEC:
	case VTD_FR_SM_WRITE:
	case VTD_FR_SM_READ:
		return true;
	default:
		return false;
	}
}

/*
 * Translation requests need the context's device-TLB enable: SM DTE=1 (else fault 0x44),
 * legacy TT=01 (else 0x0D). 0 or -EACCES with *f filled.
 */
static int ats_allowed(struct viommu *v, const struct dma_req *req, uint64_t iova,
		       struct vtd_fault *f)
{
	struct vtd_ctx_flags cf;

	if (vtd_xlate_context_flags(v->xlate, req->sid, &cf, f) == 0) {
		if (cf.dte)
			return 0;
		*f = (struct vtd_fault){ .reason = cf.sm ? VTD_FR_SM_CTX_DTE : VTD_FR_TT_BLOCKED,
					 .fpd = cf.fpd };
	}
	f->sid = req->sid;
	f->pasid_valid = req->has_pasid;
	f->pasid = req->has_pasid ? req->pasid : 0;
	f->addr = iova & ~4095ULL;
	f->write = !!(req->access & DMA_ACC_WRITE);
	f->exec = req->has_pasid && (req->access & DMA_ACC_EXEC);
	f->priv = req->has_pasid && (req->access & DMA_ACC_PRIV);
	return -EACCES;
}

/*
 * Answers a translation request for the 4 KiB page holding iova (STU = 4 KiB: larger
 * pages are reported page by page). The walk fills the IOTLB and sets A/D as an ordinary
 * request would. Unrecoverable faults (bad context, PASID entry, ...) are recorded.
 */
int vtd_ats_translate(void *iommu, const struct dma_req *req, uint64_t iova,
		      struct dma_ats_xlate *ret)
{
	struct viommu *v = iommu;
	struct vtd_fault f = { 0 };
	struct dma_xlate x;
	int r;

	if (!v->cfg.dt)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&v->lock);
	v->stats.ats_xlates++;
	pthread_mutex_unlock(&v->lock);
	if (!__atomic_load_n(&v->te, __ATOMIC_ACQUIRE)) {
		*ret = (struct dma_ats_xlate){ .gpa = iova & ~4095ULL, .size = 4096,
					       .perm = req->access };
		return 0;
	}
	if (__atomic_load_n(&v->root_invalid, __ATOMIC_ACQUIRE)) {
		f = (struct vtd_fault){ .reason = VTD_FR_SM_RTADDR_INV, .sid = req->sid,
					.pasid_valid = req->has_pasid, .pasid = req->pasid,
					.addr = iova & ~4095ULL };
		r = -EACCES;
	} else {
		r = ats_allowed(v, req, iova, &f);
		if (r == 0)
			r = vtd_xlate_translate(v->xlate, req, iova & ~4095ULL, &x, &f);
		if (r == 0) {
			*ret = (struct dma_ats_xlate){ .gpa = x.gpa & ~4095ULL, .size = 4096,
						       .perm = req->access };
			return 0;
		}
		if (r == -EACCES && recoverable(f.reason)) {
			*ret = (struct dma_ats_xlate){ 0 };
			return 0;
		}
	}
	pthread_mutex_lock(&v->lock);
	vtd_fault_record(v, &f);
	pthread_mutex_unlock(&v->lock);
	viommu_flush_msis(v);
	return -EACCES;
}
