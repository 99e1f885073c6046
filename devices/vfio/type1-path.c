/* SPDX-License-Identifier: MIT */
/*
 * The type1 backend's host= resolution: a PCI address or sysfs device directory to the
 * device's VFIO group node (from its iommu_group link). Filesystem only, no VFIO calls, so
 * the launcher can check the option at parse time.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "devices/vfio/type1.h"

int type1_resolve_host(const char *host, char *group, size_t glen, char *bdf, size_t blen,
		       char *err, size_t errlen)
{
	char dir[PATH_MAX], link[PATH_MAX + 16], target[PATH_MAX];
	const char *base, *gname;
	struct stat st;
	ssize_t n;

	if (strchr(host, '/'))
		snprintf(dir, sizeof(dir), "%s", host);
	else
		snprintf(dir, sizeof(dir), "/sys/bus/pci/devices/%s", host);
	if (stat(dir, &st) || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "host device '%s' does not exist", host);
		return -ENOENT;
	}
	/* The PCI address is the directory's own name once links are followed. */
	if (!realpath(dir, target)) {
		snprintf(err, errlen, "host device '%s': %s", host, strerror(errno));
		return -ENOENT;
	}
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= blen || strlen(base) < 7 || base[strlen(base) - 2] != '.') {
		snprintf(err, errlen, "'%s' is not a PCI device directory", host);
		return -ENOENT;
	}
	snprintf(bdf, blen, "%s", base);
	snprintf(link, sizeof(link), "%s/iommu_group", target);
	n = readlink(link, target, sizeof(target) - 1);
	if (n <= 0) {
		snprintf(err, errlen, "%s has no IOMMU group (is the host IOMMU on?)", bdf);
		return -ENODEV;
	}
	target[n] = 0;
	gname = strrchr(target, '/');
	gname = gname ? gname + 1 : target;
	if (snprintf(group, glen, "/dev/vfio/%s", gname) >= (int)glen) {
		snprintf(err, errlen, "IOMMU group name too long");
		return -ENAMETOOLONG;
	}
	return 0;
}
