/* SPDX-License-Identifier: MIT */
/*
 * The board's host-backed part: the host IOMMU simulator behind pasid-dma,backend=hostsim,
 * vfio-pci passthrough (mode choice, irqfds, fault queue, BAR memslots), the vIOMMU's host
 * configuration before the device tree is built, and the exit summary of what was forwarded.
 * board-devices.c creates everything else and calls in through board-internal.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "board.h"
#include "board-internal.h"
#include "devices/pasid-dma/pasid-dma.h"
#include "devices/pci/pci.h"
#include "devices/vfio/vfio-pci.h"
#include "devices/vfio/vfio-pt.h"
#include "devices/vfio/vfio.h"
#include "devices/viommu/viommu.h"
#include "kvm-dirty.h"
#include "log.h"
#include "machine.h"
#include "vmm/core/evloop.h"
#include "vmm/core/gmem-watch.h"

/*
 * Simulated passthrough (-device pasid-dma,backend=hostsim): one host IOMMU simulator per
 * machine. Recorded before every device, so it is destroyed after the devices whose DMA
 * address spaces live here and after the vIOMMU that forwards to it.
 */
struct board_host {
	struct hostsim *hs;
	struct kvm_dirty kd; /* the write watch's CPU log, when KVM has one (board_host_watch) */
	struct host_iommu hi;
	struct dma_as as[MACHINE_MAX_DEVICES]; /* the devices' DMA address spaces */
	unsigned int nr_as;
};

static void destroy_board_host(void *p)
{
	struct board_host *bh = p;

	hostsim_destroy(bh->hs);
	kvm_dirty_fini(&bh->kd);
	free(bh);
}

/* The HOST_* test registers of a simulated passthrough pasid-dma. */
static void host_counters(void *opaque, struct pasid_dma_host_counters *ret)
{
	struct board_host *bh = opaque;
	struct hostsim_stats st;

	hostsim_get_stats(bh->hs, &st);
	*ret = (struct pasid_dma_host_counters){
		.binds = st.attach, .replaces = st.replace, .detaches = st.detach,
		.inv_calls = st.inv_calls, .inv_ranges = st.inv_ranges, .faults = st.faults,
		.page_reqs = st.page_reqs, .page_resps = st.page_resps,
		.iotlb_hits = st.iotlb_hits, .iotlb_misses = st.iotlb_misses,
	};
}

/*
 * pasid-dma behind the host IOMMU simulator: its DMA goes through hostsim (never the vIOMMU's
 * emulated path) and the vIOMMU forwards the guest's binds and invalidations for its SID.
 */
struct pasid_dma *board_host_pasid_dma(struct machine *m, unsigned int slot,
				       const struct pasid_dma_config *pc)
{
	struct board_host *bh = m->host;
	struct pasid_dma *d;
	uint32_t dev;
	int r;

	if (!bh || !m->viommu || bh->nr_as >= ARRAY_SIZE(bh->as))
		return NULL;
	r = hostsim_add_device(bh->hs, pc->host_prq, &dev);
	if (!r)
		r = hostsim_dma_as(bh->hs, dev, &bh->as[bh->nr_as]);
	if (r) {
		log_err("board", "pasid-dma: cannot add it to hostsim: %s", strerror(-r));
		return NULL;
	}
	d = pasid_dma_create(m->pci, slot, &bh->as[bh->nr_as++], pc);
	if (!d)
		return NULL;
	r = viommu_attach_host_device(m->viommu, pci_dev_bdf(pasid_dma_pci_dev(d)), &bh->hi, dev);
	if (r) {
		log_err("board", "pasid-dma: cannot attach it to the host IOMMU: %s", strerror(-r));
		pasid_dma_destroy(d);
		return NULL;
	}
	pasid_dma_set_host_counters(d, host_counters, bh);
	return d;
}

/*
 * The write watch (vmm/core/gmem-watch.h) on KVM's dirty log, for the vIOMMU's host-backed
 * devices: a global PASID-cache flush then skips the PASID tables nobody wrote. Only with the
 * host IOMMU simulator: a passthrough device's own DMA is invisible to nestvm, and with one
 * the watch would be blind from the start (board_add_vfio_pci). Without KVM's manual dirty
 * log the machine has no watch and the flush compares every table.
 */
int board_host_watch(struct machine *m)
{
	struct board_host *bh = m->host;
	int r;

	if (!bh || board_has_model(m->cfg, "vfio-pci"))
		return 0;
	r = kvm_dirty_init(&bh->kd, m->vm_fd, &m->gmem);
	if (!r)
		r = gmem_watch_enable(&m->gmem, &kvm_dirty_log_ops, &bh->kd);
	if (r)
		log_debug("board", "no write watch (KVM's manual dirty log: %s): global PASID-cache "
			  "flushes compare every table", strerror(-r));
	return 0;
}

/*
 * MSI / MSI-X of a passthrough device through irqfd: each unmasked vector's VFIO eventfd is
 * bound to a KVM MSI route (vmm/irq.c), refreshed by the PCI layer's MSI observer whenever
 * the guest changes a message, a mask, the enables or bus mastering. Masked or blocked
 * vectors fall back to the model's own path (pending bits, fault records).
 */
#define VFIO_IRQFD_SLOTS 32

struct vfio_irqfds {
	struct machine *m;
	struct vfio_pt *p;
	unsigned int first;
	enum vfio_pci_irq_mode mode; /* what was armed at the last refresh */
	unsigned int count;
	unsigned int most;           /* most irqfds assigned at once */
};

static void vfio_msi_changed(struct pci_dev *pd, void *opaque)
{
	struct vfio_irqfds *q = opaque;
	struct vfio_pci *d = vfio_pt_model(q->p);
	struct irq_msi_route r[VFIO_IRQFD_SLOTS];
	unsigned int count, n;
	enum vfio_pci_irq_mode mode = vfio_pci_irq_mode(d, &count);
	bool renew = mode != q->mode || count != q->count;

	for (unsigned int v = 0; v < VFIO_IRQFD_SLOTS; v++) {
		bool masked = true;

		r[v] = (struct irq_msi_route){ .efd = -1, .sid = pci_dev_bdf(pd) };
		if ((mode == VFIO_PCI_IRQ_MSI || mode == VFIO_PCI_IRQ_MSIX) && v < count &&
		    !pci_msi_vector(pd, v, &r[v].addr, &r[v].data, &masked) && !masked)
			r[v].efd = vfio_pci_irq_eventfd(d, v);
	}
	q->mode = mode;
	q->count = count;
	irq_irqfd_set(q->m, q->first, VFIO_IRQFD_SLOTS, r, renew);
	n = irq_irqfd_count(q->m);
	q->most = n > q->most ? n : q->most;
}

/* Unhooks and deassigns (before the model closes its eventfds), and says what went where. */
static void destroy_vfio_irqfds(void *opaque)
{
	struct vfio_irqfds *q = opaque;
	struct irq_msi_route r[VFIO_IRQFD_SLOTS];
	struct vfio_pci_stats st;

	pci_dev_set_msi_observer(vfio_pt_pci_dev(q->p), NULL, NULL);
	for (unsigned int v = 0; v < VFIO_IRQFD_SLOTS; v++)
		r[v] = (struct irq_msi_route){ .efd = -1 };
	irq_irqfd_set(q->m, q->first, VFIO_IRQFD_SLOTS, r, true);
	vfio_pci_get_stats(vfio_pt_model(q->p), &st);
	fprintf(stderr, "nestvm: vfio-pci: irqfd: %u vectors routed, %llu interrupts through "
		"userspace\n", q->most, (unsigned long long)st.irqs);
	fprintf(stderr, "nestvm: vfio-pci: BAR accesses that exited: %llu served from the mmap, "
		"%llu by pread/pwrite\n", (unsigned long long)st.bar_mmap,
		(unsigned long long)st.bar_trap);
	for (unsigned int b = 0; b < ARRAY_SIZE(st.slots); b++) {
		const struct vfio_pci_bar_stats *bs = &st.slots[b];

		if (bs->maps || bs->refused)
			fprintf(stderr, "nestvm: vfio-pci: BAR%u mapped into the guest %llu times "
				"(last: %llu KiB at 0x%llx), unmapped %llu times, %llu slots refused\n",
				b, (unsigned long long)bs->maps, (unsigned long long)bs->bytes >> 10,
				(unsigned long long)bs->gpa, (unsigned long long)bs->unmaps,
				(unsigned long long)bs->refused);
	}
	free(q);
}

static int add_vfio_irqfds(struct machine *m, struct vfio_pt *p)
{
	struct vfio_irqfds *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	*q = (struct vfio_irqfds){ .m = m, .p = p };
	r = irq_irqfd_reserve(m, VFIO_IRQFD_SLOTS, &q->first);
	if (r) {
		free(q);
		return r;
	}
	pci_dev_set_msi_observer(vfio_pt_pci_dev(p), vfio_msi_changed, q);
	return board_record(m, q, destroy_vfio_irqfds);
}

/*
 * Page requests of a passthrough device behind the vIOMMU: the machine's event loop watches
 * its backend's fault queue fd and reads it (host_iommu process_faults) into the vIOMMU's page
 * request queue. Recorded after the device, so it stops before the backend closes the fd.
 */
struct vfio_faults {
	struct machine *m;
	struct vfio_pt *p;
	unsigned int id;
};

static int vfio_faults_ready(void *opaque)
{
	struct vfio_faults *q = opaque;
	int r = vfio_pt_process_faults(q->p);

	if (r > 0)
		return 0;
	/* Readable yet nothing read: the kernel keeps a group we cannot take, forever. */
	if (!r)
		r = -ENOSPC;
	log_warn("board", "vfio-pci: reading the host fault queue failed: %s; its page requests "
		 "no longer reach the guest", strerror(-r));
	return r;
}

static void destroy_vfio_faults(void *opaque)
{
	struct vfio_faults *q = opaque;

	evloop_remove(q->m->events, q->id);
	free(q);
}

static int add_vfio_faults(struct machine *m, struct vfio_pt *p)
{
	struct vfio_faults *q;
	int fd = vfio_pt_fault_fd(p), r;

	if (fd < 0 || !m->viommu)
		return 0; /* no queue, or nothing to deliver page requests to */
	if (!m->events)
		m->events = evloop_create();
	q = calloc(1, sizeof(*q));
	if (!m->events || !q) {
		free(q);
		return -ENOMEM;
	}
	*q = (struct vfio_faults){ .m = m, .p = p };
	r = evloop_add(m->events, fd, vfio_faults_ready, q, &q->id);
	if (r) {
		free(q);
		return r;
	}
	return board_record(m, q, destroy_vfio_faults);
}

/* Prints the backend's counters (type1: MAP_DMA / shadow map counts) as the device goes. */
static void destroy_vfio_pt(void *d)
{
	char buf[256];

	if (d && vfio_pt_format_summary(d, buf, sizeof(buf)) > 0)
		fprintf(stderr, "nestvm: vfio-pci: %s\n", buf);
	vfio_pt_destroy(d);
}

/*
 * Behind the vIOMMU, the host's capabilities choose the mode and every option the user left
 * out (viommu_host_mode); the vIOMMU's CAP/ECAP follow before the guest runs. A second
 * host-backed device must agree with the first. 0, or -EINVAL with the one line in msg.
 */
static int vfio_choose_mode(struct machine *m, struct viommu_config *vc,
			    const struct vfio_pt_info *info, char *msg, size_t len)
{
	struct viommu_config nc;
	char why[200];
	int r = viommu_host_mode(vc, &info->caps, &nc, msg, len);

	if (r)
		return r;
	if (!m->vtd_host_chosen) {
		r = viommu_set_config(m->viommu, &nc);
		if (r) {
			snprintf(msg, len, "cannot apply the chosen vIOMMU mode: %s", strerror(-r));
			return r;
		}
		m->vtd_host_chosen = true;
		*vc = nc;
		return 0;
	}
	if (nc.cm != vc->cm || nc.flts != vc->flts || nc.slts != vc->slts ||
	    nc.pasid_bits != vc->pasid_bits || nc.prs != vc->prs) {
		snprintf(why, sizeof(why), "%.120s", msg);
		snprintf(msg, len, "its host IOMMU needs %.120s, unlike the first host-backed device's "
			 "(force one mode with -device vtd,host-mode=...)", why);
		return -EINVAL;
	}
	return 0;
}

/*
 * vfio-pci: a host PCI function through iommufd. Behind the vIOMMU, the host's capabilities
 * choose the mode (nested, or shadow with caching mode), reported here at start; a vIOMMU
 * configured beyond what the host can back is refused.
 */
static struct vfio_pt *create_vfio_pci(struct machine *m, unsigned int slot,
				       const struct device_spec *d)
{
	struct viommu_config *vc = m->vtd_cfg;
	struct vfio_pt_info info;
	struct vfio_pt *p = NULL;
	char err[320], msg[320];
	int r = vfio_pt_create(d->opts, m->pci, slot, &p, &info, err, sizeof(err));

	if (r) {
		log_err("board", "vfio-pci: %s", err);
		return NULL;
	}
	if (!m->viommu) {
		/* No vIOMMU: the device's DMA addresses are guest-physical. */
		for (unsigned int i = 0; i < m->gmem.nr_regions && !r; i++)
			r = info.hi.ops->map_ram(info.hi.be, m->gmem.regions[i].gpa,
						 m->gmem.regions[i].size, m->gmem.regions[i].hva, true);
		if (r) {
			log_err("board", "vfio-pci %s: cannot map guest RAM: %s", info.cdev, strerror(-r));
			vfio_pt_destroy(p);
			return NULL;
		}
		fprintf(stderr, "nestvm: vfio-pci %s: host IOMMU %s, no vIOMMU: guest-physical DMA\n",
			info.cdev, info.hi.name);
		return p;
	}
	r = vfio_choose_mode(m, vc, &info, msg, sizeof(msg));
	if (r) {
		/* An option the user typed cannot work on this host: one line naming what would. */
		fprintf(stderr, "nestvm: error: vfio-pci %s: %s\n", info.cdev, msg);
		m->usage_error = true;
		vfio_pt_destroy(p);
		return NULL;
	}
	r = viommu_attach_host_device(m->viommu, pci_dev_bdf(vfio_pt_pci_dev(p)), &info.hi, info.dev);
	if (r) {
		log_err("board", "vfio-pci %s: cannot attach the device to the vIOMMU's host forwarding: %s",
			info.cdev, strerror(-r));
		vfio_pt_destroy(p);
		return NULL;
	}
	fprintf(stderr, "nestvm: host IOMMU %s (%s): %s\n", info.hi.name, info.cdev, msg);
	return p;
}

/* vfio-pci: the device, its interrupts through irqfd, its faults, its BARs as memslots. */
int board_add_vfio_pci(struct machine *m, unsigned int slot, const struct device_spec *d)
{
	struct vfio_pt *p = create_vfio_pci(m, slot, d);
	struct memslots ms;
	int ret;

	if (!p)
		return -ENODEV; /* create_vfio_pci printed the one error line */
	gmem_watch_blind(&m->gmem); /* its DMA writes guest RAM unseen */
	ret = board_record(m, p, destroy_vfio_pt);
	if (!ret)
		ret = add_vfio_irqfds(m, p);
	if (!ret)
		ret = add_vfio_faults(m, p);
	/* Its mmap-able BARs go into the guest while decoded (no exits there). */
	memslot_table_service(&m->memslots, &ms);
	if (!ret)
		vfio_pci_set_memslots(vfio_pt_model(p), &ms);
	return ret;
}

/*
 * Checks the pasid-dma specs (bad options are usage errors) and, when one asks for
 * backend=hostsim, creates the host IOMMU simulator and derives the vIOMMU's nested mode from
 * its capabilities. Runs after board_configure_viommu, before the device tree is built.
 */
int board_configure_host(struct machine *m, char *err, size_t errlen)
{
	const struct machine_config *cfg = m->cfg;
	struct viommu_config *vc = m->vtd_cfg, nc;
	struct host_iommu_caps caps;
	struct pasid_dma_config pc;
	struct board_host *bh;
	bool want = false, host_prq = false;
	unsigned int dev_bits = 20;
	char msg[240];
	int r;

	for (unsigned int i = 0; i < cfg->nr_devices; i++) {
		if (strcmp(cfg->devices[i].model, "pasid-dma"))
			continue;
		if (pasid_dma_parse_options(cfg->devices[i].opts, &pc, err, errlen))
			return -EINVAL;
		if (pc.backend != PDMA_BACKEND_HOSTSIM)
			continue;
		want = true;
		host_prq = host_prq || pc.host_prq;
		/* The devices' PASID width bounds what the guest is offered (at least the RID's). */
		if (pc.pasid_bits < dev_bits)
			dev_bits = pc.pasid_bits ? pc.pasid_bits : 1;
	}
	if (!want)
		return 0;
	if (!vc || !vc->scalable) {
		snprintf(err, errlen, "pasid-dma,backend=hostsim needs -device vtd,mode=scalable (the "
			 "host is given the guest's scalable-mode first-stage tables)");
		return -EINVAL;
	}
	bh = calloc(1, sizeof(*bh));
	if (bh)
		bh->hs = hostsim_create(&m->gmem, NULL);
	if (!bh || !bh->hs) {
		free(bh);
		snprintf(err, errlen, "cannot create the host IOMMU simulator");
		return -ENOMEM;
	}
	r = board_record(m, bh, destroy_board_host);
	if (r) {
		snprintf(err, errlen, "cannot record the host IOMMU simulator: %s", strerror(-r));
		return r;
	}
	m->host = bh;
	hostsim_iommu(bh->hs, &bh->hi);
	/* hostsim's capabilities are the host's, the same for every device (handle 0 unused). */
	r = bh->hi.ops->get_caps(bh->hi.be, 0, &caps);
	if (r) {
		snprintf(err, errlen, "host IOMMU %s: %s", bh->hi.name, strerror(-r));
		return r;
	}
	r = viommu_host_mode(vc, &caps, &nc, msg, sizeof(msg));
	if (!r && !nc.flts) {
		/* hostsim models a nesting host only: it has no I/O address space to shadow into. */
		snprintf(msg, sizeof(msg), "vtd: pasid-dma,backend=hostsim is nested only (it has no "
			 "host I/O address space to shadow into): leave host-mode, flts, slts, nest and "
			 "mode out");
		r = -EINVAL;
	}
	if (r) {
		snprintf(err, errlen, "%s", msg);
		return r;
	}
	/* Options left out also follow the devices: PASID width, page requests (need dt). */
	if (!(vc->given & VIOMMU_GIVEN_PASID_BITS) && nc.pasid_bits > dev_bits) {
		nc.pasid_bits = dev_bits;
		r = viommu_host_mode(&nc, &caps, &nc, msg, sizeof(msg)); /* the line says it */
	}
	if (!r && host_prq && caps.fault_queue && !(vc->given & VIOMMU_GIVEN_PRS) &&
	    (nc.dt || !(vc->given & VIOMMU_GIVEN_DT))) {
		nc.prs = nc.dt = true;
		r = viommu_host_mode(&nc, &caps, &nc, msg, sizeof(msg));
	}
	if (r) {
		snprintf(err, errlen, "%s", msg);
		return r;
	}
	*vc = nc;
	m->vtd_host_chosen = true;
	m->vtd.haw = nc.aw;
	fprintf(stderr, "nestvm: host IOMMU %s: %s\n", bh->hi.name, msg);
	return 0;
}

/*
 * What the vIOMMU forwarded to a real host IOMMU (vfio-pci devices in nested mode), in the
 * words of hostsim's line, so that a test can compare it with what the guest did.
 */
static void print_vfio_forwards(struct machine *m)
{
	struct viommu_host_stats st;

	if (!m->viommu)
		return;
	viommu_get_host_stats(m->viommu, &st);
	if (!st.binds && !st.unbinds && !st.inv_batches && !st.errors && !st.page_reqs)
		return;
	fprintf(stderr, "nestvm: vfio-pci: host forwards: %llu binds (%llu replaced, %llu detached), "
		"%llu invalidation batches (%llu ranges), %llu faults, %llu page requests "
		"(%llu answered), %llu failed host calls\n", (unsigned long long)st.binds,
		(unsigned long long)st.replaces, (unsigned long long)st.unbinds,
		(unsigned long long)st.inv_batches, (unsigned long long)st.inv_ranges,
		(unsigned long long)st.faults, (unsigned long long)st.page_reqs,
		(unsigned long long)st.page_resps, (unsigned long long)st.errors);
}

/* How the guest's vIOMMU register accesses arrived: reads by exit are 0 with the mirror mapped. */
static void print_vtd_summary(struct machine *m)
{
	struct viommu_stats st;
	const char *mirror = "off";
	char buf[160];
	int status;

	if (!m->viommu)
		return;
	viommu_get_stats(m->viommu, &st);
	if (viommu_read_mirror(m->viommu))
		mirror = kvm_read_mirror_mapped(m, BOARD_VTD_BASE) ? "mapped" : "not mapped";
	fprintf(stderr, "nestvm: vtd: register accesses by exit: %llu reads, %llu writes; "
		"read mirror %s\n", (unsigned long long)st.reg_reads,
		(unsigned long long)st.reg_writes, mirror);
	/* Stopped by a signal: the guest may have been waiting on a queue. */
	pthread_mutex_lock(&m->stop_lock);
	status = m->exit_status;
	pthread_mutex_unlock(&m->stop_lock);
	if (status > 128 && status < 128 + 65) {
		viommu_format_queues(m->viommu, buf, sizeof(buf));
		fprintf(stderr, "nestvm: vtd: queues at the stop: %s\n", buf);
	}
}

/* What global PASID-cache flushes read, and what the write watch let them skip. */
static void print_watch_summary(struct machine *m)
{
	struct viommu_host_stats st;

	if (!m->viommu)
		return;
	viommu_get_host_stats(m->viommu, &st);
	fprintf(stderr, "nestvm: vtd: global flushes: %llu PASID tables compared, %llu skipped "
		"unread (write watch %s)\n", (unsigned long long)st.tables_compared,
		(unsigned long long)st.tables_trusted,
		gmem_watch_on(&m->gmem) ? "on" : m->gmem.watch ? "blind" : "off");
}

/* The exit summary: the vIOMMU's register accesses, then what was forwarded to the host. */
void board_print_host_summary(struct machine *m)
{
	char buf[256];

	print_vtd_summary(m);
	if (!m->host) {
		print_vfio_forwards(m);
		return;
	}
	hostsim_format_summary(m->host->hs, buf, sizeof(buf));
	fprintf(stderr, "nestvm: %s\n", buf);
	print_watch_summary(m);
}
