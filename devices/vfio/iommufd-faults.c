/* SPDX-License-Identifier: MIT */
/* The iommufd backend's fault queue: reading page request groups, delivery, responses, PRI state. */
#include <errno.h>
#include <pthread.h>

#include "devices/vfio/iommufd-internal.h"

/* ---- the fault queue ---- */

void ifd_set_fault_handler(void *be, host_fault_fn fn, void *opaque)
{
	struct iommufd_backend *b = be;

	pthread_mutex_lock(&b->lock);
	b->fault_fn = fn;
	b->fault_opaque = opaque;
	pthread_mutex_unlock(&b->lock);
}

/*
 * Reads what the fault queue holds (whole groups, every record of a group carrying the
 * group's cookie) and hands it to the sink. Never blocks: an empty queue reads 0. Returns the
 * number of records read, or -errno.
 */
int ifd_process_faults(void *be)
{
	struct iommufd_backend *b = be;
	unsigned int nf = 0;
	host_fault_fn fn;
	void *fop;
	ssize_t n;

	if (!b->have_fault)
		return 0;
	pthread_mutex_lock(&b->fault_lock);
	n = b->sys.read(b->sys.ctx, b->fault_fd, b->frec, IFD_FAULT_BATCH * sizeof(*b->frec));
	if (n < 0) {
		pthread_mutex_unlock(&b->fault_lock);
		return n == -EAGAIN ? 0 : (int)n;
	}
	pthread_mutex_lock(&b->lock);
	for (size_t i = 0; i < (size_t)n / sizeof(b->frec[0]); i++) {
		const struct ifd_pgfault *rec = &b->frec[i];
		uint32_t dev = IFD_MAX_DEVS;

		for (uint32_t j = 0; j < IFD_MAX_DEVS; j++)
			if (b->devs[j].used && b->devs[j].dev_id == rec->dev_id)
				dev = j;
		b->st.faults_read++;
		if (dev == IFD_MAX_DEVS)
			continue;
		b->fconv[nf++] = (struct host_fault){
			.dev = dev, .pasid_valid = rec->flags & IFD_PGFAULT_PASID_VALID,
			.pasid = rec->pasid, .addr = rec->addr & ~4095ULL,
			.perm = rec->perm & (IFD_PERM_READ | IFD_PERM_WRITE | IFD_PERM_EXEC | IFD_PERM_PRIV),
			.recoverable = true, .grpid = rec->grpid,
			.last = rec->flags & IFD_PGFAULT_LAST_PAGE, .cookie = rec->cookie,
		};
	}
	fn = b->fault_fn;
	fop = b->fault_opaque;
	pthread_mutex_unlock(&b->lock);
	for (unsigned int i = 0; fn && i < nf; i++)
		fn(fop, &b->fconv[i]);
	pthread_mutex_unlock(&b->fault_lock);
	/* Records taken off the queue (those of unknown devices too: they are gone either way). */
	return (int)((size_t)n / sizeof(b->frec[0]));
}

/* Answers a group by its cookie; the kernel refuses a cookie it is not waiting for (EINVAL). */
int ifd_page_response(void *be, uint32_t dev, uint32_t cookie, int code)
{
	struct iommufd_backend *b = be;
	struct ifd_page_response pr = { .cookie = cookie,
					.code = code == HOST_RESP_SUCCESS ? IFD_RESP_SUCCESS : IFD_RESP_INVALID };
	ssize_t n;

	if (!b->have_fault)
		return -EOPNOTSUPP;
	pthread_mutex_lock(&b->lock);
	b->st.responses++;
	n = b->sys.write(b->sys.ctx, b->fault_fd, &pr, sizeof(pr));
	pthread_mutex_unlock(&b->lock);
	return n < 0 ? (int)n : n == sizeof(pr) ? 0 : -EIO;
}

int iommufd_backend_fault_fd(const struct iommufd_backend *b)
{
	return b->have_fault ? b->fault_fd : -1;
}

int iommufd_backend_set_host_pri(struct iommufd_backend *b, uint32_t dev, bool pri)
{
	struct ifd_dev *d;
	int r = 0;

	pthread_mutex_lock(&b->lock);
	d = ifd_get_dev(b, dev);
	if (d) {
		d->host_pri = pri;
		d->caps.fault_queue = b->have_fault && pri;
	} else {
		r = -ENOENT;
	}
	pthread_mutex_unlock(&b->lock);
	return r;
}

int iommufd_backend_set_guest_pri(struct iommufd_backend *b, uint32_t dev, bool enabled)
{
	struct ifd_dev *d;
	int r = 0;

	pthread_mutex_lock(&b->lock);
	d = ifd_get_dev(b, dev);
	if (d)
		d->guest_pri = enabled;
	else
		r = -ENOENT;
	pthread_mutex_unlock(&b->lock);
	return r;
}
