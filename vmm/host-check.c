/* SPDX-License-Identifier: MIT */
/*
 * `nestvm host-check [--bind-only] [DEVICE]`: what nestvm can do on this host. Without a guest it
 * reads what the kernel offers (/dev/kvm, /dev/iommu, VFIO cdevs, the IOMMU units' VT-d CAP and
 * ECAP in sysfs) and, given a VFIO device, binds it through the same iommufd backend the board
 * uses and runs a short live self-test: stage-2 parent map, stage-1 attach on the RID (and on
 * PASID 1 when the host attaches PASIDs), one invalidation, a 64-range one, detach, teardown.
 * Exit status: 0 nested mode is usable (with DEVICE: the self-test passed), 1 it is not, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "devices/vfio/host-iommu.h"
#include "devices/vfio/vfio-pci.h"
#include "devices/vfio/vfio.h"
#include "devices/viommu/viommu.h"
#include "host-check.h"

/* VT-d register bits read from sysfs (VT-d spec 11.4.2, 11.4.3). */
#define HC_ECAP_NEST (1ULL << 26)
#define HC_ECAP_PRS (1ULL << 29)
#define HC_ECAP_EAFS (1ULL << 34)
#define HC_ECAP_PASID (1ULL << 40)
#define HC_ECAP_SMTS (1ULL << 43)
#define HC_ECAP_FLTS (1ULL << 47)
#define HC_CAP_FS5LP (1ULL << 60)
#define HC_ECAP_PSS(e) ((unsigned int)(((e) >> 35) & 0x1f))

#define HC_RAM_SIZE (2ULL << 20) /* the self-test's "guest RAM": the stage-2 parent */
#define HC_S1_ROOT 0x1000ULL      /* an empty (all-zero) first-stage root table in it */
#define HC_BATCH 64

static FILE *hc_out;

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Linux major.minor of the running kernel as major*1000+minor (0 if unreadable). */
static unsigned int kernel_version(char *rel, size_t len)
{
	struct utsname u;
	unsigned int maj = 0, min = 0;

	if (uname(&u)) {
		snprintf(rel, len, "?");
		return 0;
	}
	snprintf(rel, len, "%s", u.release);
	if (sscanf(u.release, "%u.%u", &maj, &min) != 2)
		return 0;
	return maj * 1000 + min;
}

static int read_hex(const char *path, uint64_t *ret)
{
	char buf[64];
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	*ret = strtoull(buf, NULL, 16);
	return 0;
}

static void feature(bool present, const char *what, const char *adds)
{
	fprintf(hc_out, "  %-8s %s%s%s%s\n", present ? "present" : "MISSING", what,
		present ? "" : " (", present ? "" : adds, present ? "" : ")");
}

/* The host's IOMMU units in sysfs; true if a VT-d unit can nest first stages. */
static bool list_units(unsigned int *units)
{
	DIR *d = opendir("/sys/class/iommu");
	struct dirent *e;
	bool nest = false;

	*units = 0;
	if (!d) {
		fprintf(hc_out, "  MISSING  IOMMU units (/sys/class/iommu: no IOMMU, or it is off: "
				"intel_iommu=on, CONFIG_INTEL_IOMMU)\n");
		return false;
	}
	while ((e = readdir(d))) {
		char p[512];
		uint64_t cap, ecap;

		if (e->d_name[0] == '.')
			continue;
		(*units)++;
		snprintf(p, sizeof(p), "/sys/class/iommu/%s/intel-iommu/cap", e->d_name);
		if (read_hex(p, &cap)) {
			fprintf(hc_out, "  unit %s: not VT-d (nestvm nests only on VT-d)\n", e->d_name);
			continue;
		}
		snprintf(p, sizeof(p), "/sys/class/iommu/%s/intel-iommu/ecap", e->d_name);
		if (read_hex(p, &ecap))
			continue;
		fprintf(hc_out,
			"  unit %s: VT-d cap 0x%016llx ecap 0x%016llx: scalable %s, first stage %s, "
			"nesting %s, PASID %s (%u bits), PRI/page requests %s, 5-level first stage %s\n",
			e->d_name, (unsigned long long)cap, (unsigned long long)ecap,
			ecap & HC_ECAP_SMTS ? "yes" : "no", ecap & HC_ECAP_FLTS ? "yes" : "no",
			ecap & HC_ECAP_NEST ? "yes" : "no", ecap & HC_ECAP_PASID ? "yes" : "no",
			ecap & HC_ECAP_PASID ? HC_ECAP_PSS(ecap) + 1 : 0, ecap & HC_ECAP_PRS ? "yes" : "no",
			cap & HC_CAP_FS5LP ? "yes" : "no");
		if ((ecap & HC_ECAP_NEST) && (ecap & HC_ECAP_SMTS) && (ecap & HC_ECAP_FLTS))
			nest = true;
	}
	closedir(d);
	if (!*units)
		fprintf(hc_out, "  MISSING  IOMMU units (none registered: intel_iommu=on, "
				"CONFIG_INTEL_IOMMU)\n");
	return nest;
}

/* One self-test step: prints it with its time; returns r. */
static int step(int r, uint64_t t0, const char *what)
{
	uint64_t us = (now_ns() - t0) / 1000;

	fprintf(hc_out, "  %-4s %s (%llu us)%s%s\n", r ? "FAIL" : "ok", what, (unsigned long long)us,
		r ? ": " : "", r ? strerror(-r) : "");
	return r;
}

/* The live self-test on an opened backend; 0 when every step passed. */
static int self_test(struct host_iommu *hi, uint32_t dev, const struct host_iommu_caps *c)
{
	const struct host_iommu_ops *o = hi->ops;
	struct host_s1_config s1 = { .pgtbl_gpa = HC_S1_ROOT, .addr_width = 48 };
	struct host_inv_range one = { .addr = 0, .npages = 1, .leaf = true };
	struct host_inv_range many[HC_BATCH];
	uint32_t h0 = 0, h1 = 0;
	unsigned int done = 0;
	uint64_t t;
	void *ram;
	int r, fail = 0;

	ram = mmap(NULL, HC_RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ram == MAP_FAILED)
		return -errno;
	memset(ram, 0, HC_RAM_SIZE);
	for (unsigned int i = 0; i < HC_BATCH; i++)
		many[i] = (struct host_inv_range){ .addr = (uint64_t)i << 12, .npages = 1, .leaf = true };
	fprintf(hc_out, "self-test (%s backend, no guest):\n", hi->name);
	t = now_ns();
	r = step(o->map_ram(hi->be, 0, HC_RAM_SIZE, ram, true), t,
		 "stage-2 parent: 2 MiB of \"guest RAM\" mapped");
	if (r)
		goto out;
	t = now_ns();
	r = step(o->attach_s1(hi->be, dev, HOST_PASID_NONE, &s1, &h0), t,
		 "stage-1 attached to the RID (bind: HWPT alloc + attach)");
	fail |= r;
	if (!r) {
		t = now_ns();
		fail |= step(o->invalidate(hi->be, h0, &one, 1, &done), t, "1-range invalidation");
		t = now_ns();
		r = o->invalidate(hi->be, h0, many, HC_BATCH, &done);
		fail |= step(r ? r : (done == HC_BATCH ? 0 : -EIO), t, "64-range invalidation (one call)");
		s1.pgtbl_gpa = HC_S1_ROOT + 0x1000;
		t = now_ns();
		fail |= step(o->attach_s1(hi->be, dev, HOST_PASID_NONE, &s1, &h0), t,
			     "stage-1 replaced on the RID");
		if (c->vtd && !(c->vtd_ecap & HC_ECAP_EAFS)) {
			/* A replace the host must refuse; the current stage-1 stays attached. */
			struct host_s1_config bad = s1;
			uint32_t h2;

			bad.eafe = true;
			t = now_ns();
			r = o->attach_s1(hi->be, dev, HOST_PASID_NONE, &bad, &h2);
			fprintf(hc_out, "  %-4s replace with EAFE (no ECAP.EAFS) refused by the host: %s "
					"(%llu us)\n", r ? "ok" : "FAIL", r ? strerror(-r) : "accepted",
				(unsigned long long)(now_ns() - t) / 1000);
			fail |= r ? 0 : -EIO;
		}
	}
	if (c->pasid_attach && c->max_pasid_log2) {
		t = now_ns();
		r = step(o->attach_s1(hi->be, dev, 1, &s1, &h1), t, "stage-1 attached to PASID 1");
		fail |= r;
		if (!r) {
			t = now_ns();
			fail |= step(o->detach(hi->be, dev, 1), t, "PASID 1 detached");
		}
	}
	t = now_ns();
	fail |= step(o->detach(hi->be, dev, HOST_PASID_NONE), t, "RID detached");
	t = now_ns();
	fail |= step(o->unmap_ram(hi->be, 0, HC_RAM_SIZE), t, "stage-2 parent unmapped");
	r = fail ? -EIO : 0;
out:
	munmap(ram, HC_RAM_SIZE);
	return r;
}

/*
 * Whether the function behind VFIO cdev path has ATS and PRI, from its config space in sysfs
 * (/sys/class/vfio-dev/vfioN/device/config; extended capabilities from 0x100, bounded walk).
 */
static bool function_has_pri(const char *cdev)
{
	const char *base = strrchr(cdev, '/');
	uint8_t cfg[4096];
	unsigned int off = 0x100, found = 0;
	char path[320];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/vfio-dev/%s/device/config", base ? base + 1 : cdev);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, cfg, sizeof(cfg), 0);
	close(fd);
	for (unsigned int i = 0; i < 64 && off >= 0x100 && off + 4 <= (size_t)(n > 0 ? n : 0); i++) {
		uint32_t h = cfg[off] | cfg[off + 1] << 8 | (uint32_t)cfg[off + 2] << 16 |
			     (uint32_t)cfg[off + 3] << 24;

		if (!h)
			break;
		found |= (h & 0xffff) == 0x0f ? 1 : (h & 0xffff) == 0x13 ? 2 : 0;
		off = (h >> 20) & 0xffc;
	}
	return found == 3;
}

/* The device part: bind, capabilities, the mode -device vtd would pick, the self-test. */
static int check_device(const char *host, bool bind_only)
{
	struct iommufd_backend *b = NULL;
	struct host_iommu_caps c = { 0 };
	struct viommu_config vc, nc;
	struct host_iommu hi;
	char cdev[256], why[320], msg[200];
	uint32_t dev = 0;
	uint64_t t;
	bool pri;
	int r;

	if (vfio_pci_resolve_host(host, cdev, sizeof(cdev), why, sizeof(why))) {
		fprintf(hc_out, "device %s: %s\n", host, why);
		return -ENODEV;
	}
	t = now_ns();
	r = iommufd_backend_open(NULL, NULL, &b, why, sizeof(why));
	if (!r)
		r = iommufd_backend_add_device(b, cdev, &dev, why, sizeof(why));
	if (r) {
		fprintf(hc_out, "device %s: cannot bind it to an iommufd: %s\n", cdev, why);
		iommufd_backend_close(b);
		return r;
	}
	fprintf(hc_out, "device %s: bound to a new iommufd (%llu us)\n", cdev,
		(unsigned long long)(now_ns() - t) / 1000);
	if (bind_only) {
		iommufd_backend_close(b);
		return 0;
	}
	iommufd_backend_iommu(b, &hi);
	/* As the vfio-pci model does: page requests only for a function with ATS and PRI. */
	pri = function_has_pri(cdev);
	iommufd_backend_set_host_pri(b, dev, pri);
	r = hi.ops->get_caps(hi.be, dev, &c);
	if (r) {
		fprintf(hc_out, "device %s: no capabilities: %s\n", cdev, strerror(-r));
		iommufd_backend_close(b);
		return r;
	}
	fprintf(hc_out,
		"  host IOMMU: %s, nesting %s, fault queue (page requests) %s%s, PASID attach %s, "
		"device PASID width %u bits, errata (read-only stage-2 refused) %s\n",
		c.vtd ? "VT-d" : "not VT-d", c.nesting ? "yes" : "no", c.fault_queue ? "yes" : "no",
		pri ? "" : " (the function has no ATS + PRI)",
		c.pasid_attach ? "yes" : "no", c.max_pasid_log2, c.ro_parent_refused ? "yes" : "no");
	if (c.vtd)
		fprintf(hc_out, "  host VT-d cap 0x%016llx ecap 0x%016llx\n",
			(unsigned long long)c.vtd_cap, (unsigned long long)c.vtd_ecap);
	if (*iommufd_backend_missing(b))
		fprintf(hc_out, "  missing: %s\n", iommufd_backend_missing(b));
	if (!viommu_parse_options("", &vc, why, sizeof(why)) &&
	    !viommu_host_mode(&vc, &c, &nc, msg, sizeof(msg)))
		fprintf(hc_out, "  -device vtd would run: %s\n", msg);
	if (!c.nesting) {
		fprintf(hc_out, "nested mode: not usable on this device (see above)\n");
		iommufd_backend_close(b);
		return -EOPNOTSUPP;
	}
	r = self_test(&hi, dev, &c);
	iommufd_backend_close(b);
	return r;
}

int host_check_main(int argc, char **argv, FILE *out)
{
	const char *dev = NULL;
	bool bind_only = false, nest_units, base_ok;
	unsigned int ver, units;
	char rel[128];
	int r;

	hc_out = out;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--bind-only")) {
			bind_only = true;
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			fprintf(out, "Usage: nestvm host-check [--bind-only] [DEVICE]\n"
				     "Says what nestvm can do on this host; DEVICE (a VFIO cdev, sysfs "
				     "PCI directory or PCI address bound to vfio-pci) adds a live "
				     "self-test. Exit 0: nested mode usable; 1: not; 2: bad usage.\n");
			return 0;
		} else if (argv[i][0] == '-' || dev) {
			fprintf(stderr, "nestvm: error: host-check: unexpected argument '%s' (try "
					"'nestvm host-check --help')\n", argv[i]);
			return 2;
		} else {
			dev = argv[i];
		}
	}
	if (bind_only) {
		if (!dev) {
			fprintf(stderr, "nestvm: error: host-check --bind-only needs a DEVICE\n");
			return 2;
		}
		return check_device(dev, true) ? 1 : 0;
	}
	ver = kernel_version(rel, sizeof(rel));
	fprintf(out, "nestvm host-check: Linux %s\n", rel);
	feature(exists("/dev/kvm"), "/dev/kvm", "CONFIG_KVM with kvm-intel or kvm-amd");
	feature(exists("/dev/iommu"), "/dev/iommu: iommufd", "CONFIG_IOMMUFD, Linux 6.6+");
	feature(exists("/sys/class/vfio-dev") || exists("/dev/vfio/devices"),
		"VFIO device cdevs (/dev/vfio/devices)", "CONFIG_VFIO_DEVICE_CDEV, Linux 6.6+");
	feature(exists("/dev/vfio/vfio"), "VFIO container (type1: shadow mode only)",
		"CONFIG_VFIO_GROUP, CONFIG_VFIO_IOMMU_TYPE1");
	feature(ver >= 6007, "nest-parent HWPTs", "Linux 6.7+");
	feature(ver >= 6008, "nested stage-1 invalidation (IOMMU_HWPT_INVALIDATE)", "Linux 6.8+");
	feature(ver >= 6011, "fault queue: page requests (IOMMU_FAULT_QUEUE_ALLOC)", "Linux 6.11+");
	feature(ver >= 6015, "stage-1 attach to PASIDs (IOMMU_HWPT_ALLOC_PASID)", "Linux 6.15+");
	nest_units = list_units(&units);
	base_ok = exists("/dev/kvm") && exists("/dev/iommu") && ver >= 6008 &&
		  (exists("/sys/class/vfio-dev") || exists("/dev/vfio/devices"));
	if (!dev) {
		bool ok = base_ok && nest_units;

		fprintf(out, "nested mode: %s\n",
			ok ? "usable (give a VFIO device for a live self-test)"
			   : "not usable here (see MISSING above; without nesting -device vtd runs in "
			     "shadow mode with cm=on where VFIO works)");
		return ok ? 0 : 1;
	}
	r = check_device(dev, false);
	fprintf(out, "nested mode: %s\n", !r && base_ok ? "usable (self-test passed)" : "not usable");
	return !r && base_ok ? 0 : 1;
}
