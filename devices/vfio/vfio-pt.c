/* SPDX-License-Identifier: MIT */
/*
 * A passthrough device for the board: iommufd backend + VFIO cdev + the vfio-pci model, or,
 * on a host without /dev/iommu (or a device without a VFIO cdev), the type1 backend + the
 * device's VFIO group.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/vfio/vfio-pci.h"
#include "devices/vfio/type1.h"
#include "devices/vfio/vfio-pt.h"
#include "devices/vfio/vfio.h"

struct vfio_pt {
	struct iommufd_backend *be;
	struct type1_backend *t1; /* instead of be: the legacy container/group API */
	struct vfio_pci *d;
	uint32_t dev;             /* the device's handle in its backend */
};

/* The guest's PRI enable, as the model reports it, goes to the iommufd backend. */
static void pri_changed(void *opaque, bool enabled)
{
	struct vfio_pt *p = opaque;

	if (p->be)
		iommufd_backend_set_guest_pri(p->be, p->dev, enabled);
}

/* The type1 backend for host: container, group, device fd. Returns the fd or -errno. */
static int open_type1(struct vfio_pt *p, const char *host, struct vfio_pt_info *info, char *err,
		      size_t errlen)
{
	char group[64], bdf[64];
	int r;

	r = type1_resolve_host(host, group, sizeof(group), bdf, sizeof(bdf), err, errlen);
	if (r)
		return r;
	snprintf(info->cdev, sizeof(info->cdev), "%s (%s)", bdf, group);
	r = type1_backend_open(NULL, NULL, &p->t1, err, errlen);
	if (!r)
		r = type1_backend_add_device(p->t1, group, bdf, &info->dev, err, errlen);
	if (r)
		return r;
	type1_backend_iommu(p->t1, &info->hi);
	return type1_backend_device_fd(p->t1, info->dev);
}

int vfio_pt_create(const char *opts, struct pci_host *h, unsigned int slot, struct vfio_pt **ret,
		   struct vfio_pt_info *info, char *err, size_t errlen)
{
	struct vfio_pci_config cfg = { .irq_thread = true };
	struct vfio_pt *p;
	char host[256], why[200];
	int r, fd;

	r = vfio_pci_parse_options(opts, host, sizeof(host), err, errlen);
	if (r)
		return r;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	/* iommufd where the host has it and the device has a cdev, else the type1 container. */
	if (!access("/dev/iommu", F_OK) &&
	    !vfio_pci_resolve_host(host, info->cdev, sizeof(info->cdev), why, sizeof(why))) {
		r = iommufd_backend_open(NULL, NULL, &p->be, why, sizeof(why));
		if (!r)
			r = iommufd_backend_add_device(p->be, info->cdev, &info->dev, why, sizeof(why));
		if (r) {
			snprintf(err, errlen, "%s: %s", info->cdev, why);
			goto fail;
		}
		iommufd_backend_iommu(p->be, &info->hi);
		fd = iommufd_backend_device_fd(p->be, info->dev);
	} else {
		fd = open_type1(p, host, info, why, sizeof(why));
		if (fd < 0) {
			r = fd;
			snprintf(err, errlen, "%s: %s", host, why);
			goto fail;
		}
	}
	r = info->hi.ops->get_caps(info->hi.be, info->dev, &info->caps);
	if (r) {
		snprintf(err, errlen, "%s: no host IOMMU capabilities: %s", info->cdev, strerror(-r));
		goto fail;
	}
	cfg.pasid_bits = info->caps.pasid_attach ? info->caps.max_pasid_log2 : 0;
	/*
	 * ATS / PRI reach the guest only where a nested stage-1 can back them: ATS with nesting,
	 * PRI also with a fault queue (page requests come back through it).
	 */
	cfg.ats = p->be && info->caps.nesting;
	cfg.pri = cfg.ats && iommufd_backend_fault_fd(p->be) >= 0;
	cfg.pri_changed = pri_changed;
	cfg.opaque = p;
	p->dev = info->dev;
	p->d = vfio_pci_create(NULL, fd, h, slot, &cfg, why, sizeof(why));
	if (!p->d) {
		snprintf(err, errlen, "%s: %s", info->cdev, why);
		r = -EIO;
		goto fail;
	}
	if (p->be) {
		/* Only a function with ATS + PRI may get a fault queue (else every attach fails). */
		iommufd_backend_set_host_pri(p->be, info->dev, vfio_pci_host_pri(p->d));
		r = info->hi.ops->get_caps(info->hi.be, info->dev, &info->caps);
		if (r) {
			snprintf(err, errlen, "%s: no host IOMMU capabilities: %s", info->cdev, strerror(-r));
			goto fail;
		}
	}
	*ret = p;
	return 0;
fail:
	vfio_pci_destroy(p->d);
	iommufd_backend_close(p->be);
	type1_backend_close(p->t1);
	free(p);
	return r;
}

struct pci_dev *vfio_pt_pci_dev(struct vfio_pt *p)
{
	return vfio_pci_dev(p->d);
}

struct vfio_pci *vfio_pt_model(struct vfio_pt *p)
{
	return p->d;
}

int vfio_pt_fault_fd(struct vfio_pt *p)
{
	return p->be ? iommufd_backend_fault_fd(p->be) : -1;
}

int vfio_pt_process_faults(struct vfio_pt *p)
{
	struct host_iommu hi;

	if (!p->be)
		return 0;
	iommufd_backend_iommu(p->be, &hi);
	return hi.ops->process_faults(hi.be);
}

void vfio_pt_destroy(struct vfio_pt *p)
{
	if (!p)
		return;
	vfio_pci_destroy(p->d);
	iommufd_backend_close(p->be);
	type1_backend_close(p->t1);
	free(p);
}

int vfio_pt_format_summary(struct vfio_pt *p, char *buf, size_t len)
{
	if (!p->t1)
		return snprintf(buf, len, "%s", "");
	return type1_backend_format_summary(p->t1, buf, len);
}
