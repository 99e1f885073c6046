/* SPDX-License-Identifier: MIT */
/*
 * Calls between the kernel double's files: kdouble.c (objects, devices, fds, the ioctl
 * dispatch) and the command families it dispatches to, kdouble-hwpt.c and kdouble-ioas.c.
 * Tests use kdouble.h only.
 */
#ifndef NESTVM_KDOUBLE_INTERNAL_H
#define NESTVM_KDOUBLE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/vfio/tests/kdouble.h"

/* kdouble.c */
/* A new object at the lowest free id; 0: out of memory. Moves kd->objs (pointers go stale). */
uint32_t kd_new_obj(struct kdouble *kd, enum kd_obj_type t);
/* The live object id, or NULL. */
struct kd_obj *kd_get(struct kdouble *kd, uint32_t id);
/* iommufd's argument size rule: >= min, bytes past known zero, at most 64 read. -errno. */
int kd_check_size(const void *arg, uint32_t size, uint32_t min, uint32_t known);
/* The open, bound device with iommufd device id id, or NULL. */
struct kd_dev *kd_dev_by_id(struct kdouble *kd, uint32_t id);

/* kdouble-hwpt.c: IOMMU_HWPT_ALLOC, IOMMU_HWPT_INVALIDATE, IOMMU_GET_HW_INFO. */
int kd_hwpt_alloc(struct kdouble *kd, struct ifd_hwpt_alloc *a);
int kd_hwpt_invalidate(struct kdouble *kd, struct ifd_hwpt_invalidate *c);
int kd_hw_info(struct kdouble *kd, struct ifd_hw_info *h);

/* kdouble-ioas.c: IOMMU_IOAS_IOVA_RANGES, _MAP, _UNMAP and the reserved regions. */
/* The IOAS behind an IOAS, paging or nested HWPT (0: none). */
uint32_t kd_ioas_of(struct kdouble *kd, uint32_t id);
/* Is a device attached (RID or PASID) to something whose IOAS is ioas? */
bool kd_ioas_has_device(struct kdouble *kd, uint32_t ioas);
/* Does [iova, last] overlap a reserved region? */
bool kd_hits_reserved(const struct kdouble *kd, uint64_t iova, uint64_t last);
int kd_ioas_iova_ranges(struct kdouble *kd, struct ifd_ioas_iova_ranges *c);
int kd_ioas_map(struct kdouble *kd, struct ifd_ioas_map *m);
int kd_ioas_unmap(struct kdouble *kd, struct ifd_ioas_unmap *u);

#endif
