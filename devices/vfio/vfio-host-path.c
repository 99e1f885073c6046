/* SPDX-License-Identifier: MIT */
/*
 * The vfio-pci host= option: parsing, and resolving a cdev, sysfs directory or bare PCI
 * address to the VFIO cdev path. No device access: the launcher checks the path at parse time.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "devices/vfio/vfio-pci.h"

int vfio_pci_parse_options(const char *opts, char *host, size_t hostlen, char *err, size_t errlen)
{
	const char *p = opts ? opts : "";

	host[0] = 0;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n > 5 && !strncmp(p, "host=", 5) && n - 5 < hostlen) {
			memcpy(host, p + 5, n - 5);
			host[n - 5] = 0;
		} else if (n) {
			snprintf(err, errlen, "unknown or bad option '%.*s' (vfio-pci takes host=PATH)",
				 (int)n, p);
			return -EINVAL;
		}
		p += n + (end ? 1 : 0);
	}
	if (!host[0]) {
		snprintf(err, errlen, "missing host=/dev/vfio/devices/vfioN (or a sysfs PCI device path)");
		return -EINVAL;
	}
	return 0;
}

/* The first vfioN entry of dir/vfio-dev, as /dev/vfio/devices/vfioN. */
static int cdev_of_sysfs(const char *dir, char *cdev, size_t len)
{
	char sub[600];
	struct dirent *e;
	DIR *dh;
	int r = -ENODEV;

	snprintf(sub, sizeof(sub), "%s/vfio-dev", dir);
	dh = opendir(sub);
	if (!dh)
		return -ENODEV;
	while (r && (e = readdir(dh)))
		if (!strncmp(e->d_name, "vfio", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9')
			r = snprintf(cdev, len, "/dev/vfio/devices/%s", e->d_name) < (int)len ? 0 : -ENAMETOOLONG;
	closedir(dh);
	return r;
}

int vfio_pci_resolve_host(const char *host, char *cdev, size_t len, char *err, size_t errlen)
{
	char path[512];
	const char *base = strrchr(host, '/');
	struct stat st;

	if (!base)
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", host);
	else
		snprintf(path, sizeof(path), "%s", host);
	if (stat(path, &st)) {
		snprintf(err, errlen, "host device '%s' does not exist", host);
		return -ENOENT;
	}
	if (S_ISCHR(st.st_mode)) {
		snprintf(cdev, len, "%s", path);
		return 0;
	}
	if (S_ISDIR(st.st_mode) && base && !strncmp(base + 1, "vfio", 4) && strstr(path, "/vfio-dev/")) {
		snprintf(cdev, len, "/dev/vfio/devices/%s", base + 1);
		return 0;
	}
	if (S_ISDIR(st.st_mode) && !cdev_of_sysfs(path, cdev, len))
		return 0;
	snprintf(err, errlen, "'%s' is not a VFIO device: no cdev (bind it to vfio-pci; needs Linux 6.6+ "
		 "with CONFIG_VFIO_DEVICE_CDEV)", host);
	return -ENODEV;
}
