/* SPDX-License-Identifier: MIT */
/*
 * Shadow mode (hosts without nesting): the guest runs with caching mode (CAP.CM=1), so it
 * invalidates the IOTLB after every map as well as after every unmap; each invalidated IOVA
 * range of a host-backed device is re-walked in the guest's second-stage (scalable-mode
 * RID_PASID entry with PGTT=second-stage or pass-through) or legacy tables, and the
 * difference is applied to the host I/O address space with host_iommu map_iova/unmap_iova,
 * adjacent pages merged into one call. With translation off (GSTS.TES=0) the host address
 * space is guest RAM, identity-mapped.
 *
 * Callers: devices/viommu/host.c (and regs.c for TE changes), with the unit lock held.
 */
#ifndef NESTVM_VTD_SHADOW_H
#define NESTVM_VTD_SHADOW_H

#include <stdint.h>

#include "devices/vfio/host-iommu.h"
#include "devices/viommu/xlate/xlate.h"

struct viommu;
struct vtd_shadow;

/* Creates the shadow of the device at sid and maps its initial address space. NULL: -ENOMEM. */
struct vtd_shadow *vtd_shadow_create(struct viommu *v, uint16_t sid, const struct host_iommu *hi);
void vtd_shadow_destroy(struct vtd_shadow *s);
/* An IOTLB invalidation (descriptor 0x2 granularity): queues the range for the next flush. */
void vtd_shadow_iotlb(struct vtd_shadow *s, enum vtd_inv_gran g, uint16_t did, uint64_t addr,
		      unsigned int am);
/* Everything changed (context / PASID cache, TE): queues a full re-walk. */
void vtd_shadow_queue_all(struct vtd_shadow *s);
/* Re-walks what is queued and maps / unmaps the difference. */
void vtd_shadow_flush(struct vtd_shadow *s);

struct vtd_shadow_stats {
	uint64_t walks, maps, unmaps, errors;
};
void vtd_shadow_get_stats(const struct vtd_shadow *s, struct vtd_shadow_stats *ret);

#endif
