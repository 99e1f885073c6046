/* SPDX-License-Identifier: MIT */
/* VT-d unit life cycle, the DMA translate entry point for emulated masters, and accessors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "devices/viommu/viommu-internal.h"
#include "devices/viommu/xlate/vtd-tables.h"
#include "vmm/core/bus.h"

static const struct bus_ops viommu_bus_ops = {
	.read = viommu_mmio_read,
	.write = viommu_mmio_write,
};

static int translate(void *iommu, const struct dma_req *req, uint64_t iova, struct dma_xlate *ret)
{
	struct viommu *v = iommu;
	struct vtd_fault f = { 0 };
	int r;

	if (!__atomic_load_n(&v->te, __ATOMIC_ACQUIRE)) {
		/* Remapping off: untranslated, to the end of the 4 KiB page. */
		ret->gpa = iova;
		ret->len = 4096 - (iova & 4095);
		return 0;
	}
	if (__atomic_load_n(&v->root_invalid, __ATOMIC_ACQUIRE)) {
		f = (struct vtd_fault){
			.reason = VTD_FR_SM_RTADDR_INV, .sid = req->sid,
			.pasid_valid = req->has_pasid, .pasid = req->pasid,
			.addr = iova & ~4095ULL, .write = !!(req->access & DMA_ACC_WRITE),
			.exec = !!(req->access & DMA_ACC_EXEC), .priv = !!(req->access & DMA_ACC_PRIV),
		};
		r = -EACCES;
	} else {
		r = vtd_xlate_translate(v->xlate, req, iova, ret, &f);
		if (r == 0)
			return 0;
	}
	if (r == -EACCES) {
		pthread_mutex_lock(&v->lock);
		vtd_fault_record(v, &f);
		pthread_mutex_unlock(&v->lock);
		viommu_flush_msis(v);
	}
	return r < 0 ? r : -EACCES;
}

static const struct dma_iommu_ops viommu_dma_ops = {
	.translate = translate,
	.ats_translate = vtd_ats_translate,
	.page_request = vtd_page_request,
	.ats_register = vtd_ats_register,
};

struct viommu *viommu_create(const struct viommu_config *cfg, struct bus *bus, uint64_t base,
			     const struct gmem *gm, const struct irq_chip *irq)
{
	struct vtd_caps caps;
	struct viommu *v;

	if (!cfg || !gm || !irq || (cfg->aw != 39 && cfg->aw != 48 && cfg->aw != 57) ||
	    (cfg->scalable && (cfg->pasid_bits < 1 || cfg->pasid_bits > 20)))
		return NULL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->cfg = *cfg;
	v->gm = gm;
	v->irq = irq;
	v->base = base;
	pthread_mutex_init(&v->lock, NULL);
	viommu_compute_caps(cfg, &v->cap, &v->ecap, &caps);
	/* The features register their hooks before the register table is built. */
	if (vtd_prq_init(v) || vtd_ir_create(v))
		goto err_free;
	v->xlate = vtd_xlate_create(gm, &caps, NULL);
	if (!v->xlate)
		goto err_free;
	v->mirror = aligned_alloc(BUS_MIRROR_PAGE, VIOMMU_WINDOW_SIZE);
	if (!v->mirror)
		goto err_free;
	viommu_regs_init(v);
	if (bus && bus_add_region(bus, BUS_MMIO, base, VIOMMU_WINDOW_SIZE, &viommu_bus_ops, v,
				  "vtd") < 0)
		goto err_free;
	/* With the mirror, --trace vtd-reg sees writes only (docs/viommu.md). */
	if (bus && cfg->regs_mirror)
		v->mirror_offered = bus_set_read_mirror(bus, base, v->mirror) == 0;
	log_debug("vtd", "unit at 0x%llx mode=%s aw=%u cap=0x%llx ecap=0x%llx",
		  (unsigned long long)base, viommu_mode_name(v), cfg->aw,
		  (unsigned long long)v->cap, (unsigned long long)v->ecap);
	return v;
err_free:
	viommu_destroy(v);
	return NULL;
}

int viommu_set_config(struct viommu *v, const struct viommu_config *cfg)
{
	struct vtd_caps caps;
	struct vtd_xlate *x;
	uint64_t cap, ecap;

	if (cfg->scalable != v->cfg.scalable || cfg->aw != v->cfg.aw || cfg->ir != v->cfg.ir ||
	    (cfg->scalable && (cfg->pasid_bits < 1 || cfg->pasid_bits > 20)))
		return -EINVAL;
	viommu_compute_caps(cfg, &cap, &ecap, &caps);
	x = vtd_xlate_create(v->gm, &caps, NULL);
	if (!x)
		return -ENOMEM;
	pthread_mutex_lock(&v->lock);
	vtd_xlate_destroy(v->xlate);
	v->xlate = x;
	v->cfg = *cfg;
	v->cap = cap;
	v->ecap = ecap;
	/* The register table follows the new CAP/ECAP (the guest has not run yet). */
	v->nr_regs = 0;
	memset(v->slot, 0, sizeof(v->slot));
	viommu_regs_init(v);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

void viommu_destroy(struct viommu *v)
{
	if (!v)
		return;
	vtd_feat_destroy(v); /* host forwarding, interrupt remapping, page requests */
	if (v->xlate)
		vtd_xlate_destroy(v->xlate);
	pthread_mutex_destroy(&v->lock);
	free(v->mirror);
	free(v);
}

void viommu_dma_as(struct viommu *v, struct dma_as *ret)
{
	*ret = (struct dma_as){ .gmem = v->gm, .ops = &viommu_dma_ops, .iommu = v };
}

const char *viommu_mode_name(const struct viommu *v)
{
	return v->cfg.scalable ? "scalable" : "legacy";
}

unsigned int viommu_haw(const struct viommu *v)
{
	return v->cfg.aw;
}

uint64_t viommu_cap(const struct viommu *v)
{
	return v->cap;
}

uint64_t viommu_ecap(const struct viommu *v)
{
	return v->ecap;
}

void viommu_get_stats(struct viommu *v, struct viommu_stats *ret)
{
	pthread_mutex_lock(&v->lock);
	*ret = v->stats;
	pthread_mutex_unlock(&v->lock);
	/* Counted without the lock. */
	ret->reg_reads = __atomic_load_n(&v->stats.reg_reads, __ATOMIC_RELAXED);
	ret->reg_writes = __atomic_load_n(&v->stats.reg_writes, __ATOMIC_RELAXED);
}

void viommu_format_queues(struct viommu *v, char *buf, size_t len)
{
	int n;

	pthread_mutex_lock(&v->lock);
	n = snprintf(buf, len, "IQH=0x%llx IQT=0x%llx ICS=0x%llx FSTS=0x%llx",
		     (unsigned long long)vtd_reg_get(v, VTD_IQH_REG),
		     (unsigned long long)vtd_reg_get(v, VTD_IQT_REG),
		     (unsigned long long)vtd_reg_get(v, VTD_ICS_REG),
		     (unsigned long long)vtd_reg_get(v, VTD_FSTS_REG));
	if (v->cfg.prs && n > 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, " PQH=0x%llx PQT=0x%llx PRS=0x%llx",
			 (unsigned long long)vtd_reg_get(v, VTD_PQH_REG),
			 (unsigned long long)vtd_reg_get(v, VTD_PQT_REG),
			 (unsigned long long)vtd_reg_get(v, VTD_PRS_REG));
	pthread_mutex_unlock(&v->lock);
}

const void *viommu_read_mirror(const struct viommu *v)
{
	return v->mirror_offered ? v->mirror : NULL;
}

void viommu_set_devtlb_hook(struct viommu *v, viommu_devtlb_fn fn, void *opaque)
{
	pthread_mutex_lock(&v->lock);
	v->devtlb_fn = fn;
	v->devtlb_opaque = opaque;
	pthread_mutex_unlock(&v->lock);
}
