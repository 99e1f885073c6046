/* SPDX-License-Identifier: MIT */
/*
 * The -device virtio-blk, virtio-net and virtio-console options (a library of its own: the CLI
 * checks them before any setup).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "virtio.h"

int virtio_blk_parse_options(const char *opts, struct virtio_blk_options *ret, char *err,
			     size_t errlen)
{
	struct virtio_blk_options o = { .cache = VIRTIO_BLK_CACHE_WRITEBACK };
	char buf[512], *save = NULL;
	bool doorbells = false; /* ioeventfd=on given */

	if (strlen(opts) >= sizeof(buf)) {
		snprintf(err, errlen, "virtio-blk: options too long");
		return -EINVAL;
	}
	strcpy(buf, opts);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *v = strchr(t, '=');

		if (!v) {
			snprintf(err, errlen, "virtio-blk: option '%.40s' needs a value", t);
			return -EINVAL;
		}
		*v++ = 0;
		if (!strcmp(t, "file") && *v && strlen(v) < sizeof(o.file)) {
			strcpy(o.file, v);
		} else if (!strcmp(t, "readonly") && (!strcmp(v, "on") || !strcmp(v, "off"))) {
			o.readonly = !strcmp(v, "on");
		} else if (!strcmp(t, "cache") && !strcmp(v, "none")) {
			o.cache = VIRTIO_BLK_CACHE_NONE;
		} else if (!strcmp(t, "cache") && !strcmp(v, "writeback")) {
			o.cache = VIRTIO_BLK_CACHE_WRITEBACK;
		} else if (!strcmp(t, "io") && !strcmp(v, "auto")) {
			o.io = VIRTIO_IO_AUTO;
		} else if (!strcmp(t, "io") && !strcmp(v, "thread")) {
			o.io = VIRTIO_IO_THREAD;
		} else if (!strcmp(t, "io") && !strcmp(v, "vcpu")) {
			o.io = VIRTIO_IO_VCPU;
		} else if (!strcmp(t, "ioeventfd") && (!strcmp(v, "on") || !strcmp(v, "off"))) {
			o.no_ioeventfd = !strcmp(v, "off");
			doorbells = !o.no_ioeventfd;
		} else if (!strcmp(t, "indirect") && (!strcmp(v, "on") || !strcmp(v, "off"))) {
			o.indirect = !strcmp(v, "on") ? VIRTIO_INDIRECT_ON : VIRTIO_INDIRECT_OFF;
		} else if (!strcmp(t, "packed") && (!strcmp(v, "on") || !strcmp(v, "off"))) {
			o.packed = !strcmp(v, "on");
		} else {
			snprintf(err, errlen, "virtio-blk: bad option '%.40s=%.80s' (file=IMG, "
				 "readonly=on|off, cache=none|writeback, io=auto|thread|vcpu, "
				 "ioeventfd=on|off, indirect=on|off, packed=on|off)", t, v);
			return -EINVAL;
		}
	}
	if (!o.file[0]) {
		snprintf(err, errlen, "virtio-blk: file=IMG is required");
		return -EINVAL;
	}
	if (doorbells && o.io == VIRTIO_IO_VCPU) {
		snprintf(err, errlen, "virtio-blk: ioeventfd=on needs io=thread (doorbells wake the "
			 "I/O thread; io=vcpu serves each notify on its vCPU)");
		return -EINVAL;
	}
	if (doorbells)
		o.io = VIRTIO_IO_THREAD;
	*ret = o;
	return 0;
}

bool virtio_blk_io_on_vcpu(enum virtio_io io, unsigned int host_cpus)
{
	return io == VIRTIO_IO_VCPU || (io == VIRTIO_IO_AUTO && host_cpus == 1);
}

int virtio_net_parse_options(const char *opts, struct virtio_net_options *ret, char *err,
			     size_t errlen)
{
	struct virtio_net_options o = { .fd = -1, .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 } };
	char buf[512], *save = NULL;

	if (strlen(opts) >= sizeof(buf)) {
		snprintf(err, errlen, "virtio-net: options too long");
		return -EINVAL;
	}
	strcpy(buf, opts);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *v = strchr(t, '='), *end;
		unsigned int m[6];
		long fd;

		if (!v) {
			snprintf(err, errlen, "virtio-net: option '%.40s' needs a value", t);
			return -EINVAL;
		}
		*v++ = 0;
		if (!strcmp(t, "tap") && *v && strlen(v) < sizeof(o.tap)) {
			strcpy(o.tap, v);
		} else if (!strcmp(t, "fd") && *v) {
			fd = strtol(v, &end, 10);
			if (*end || fd < 0 || fd > 65535 || fcntl((int)fd, F_GETFD) < 0) {
				snprintf(err, errlen, "virtio-net: fd=%.20s is not an open file descriptor", v);
				return -EINVAL;
			}
			o.fd = (int)fd;
		} else if (!strcmp(t, "mac") && strlen(v) == 17 &&
			   sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4],
				  &m[5]) == 6) {
			for (int i = 0; i < 6; i++)
				o.mac[i] = (uint8_t)m[i];
			if (o.mac[0] & 1) {
				snprintf(err, errlen, "virtio-net: mac=%s is a multicast address", v);
				return -EINVAL;
			}
		} else if (!strcmp(t, "packed") && (!strcmp(v, "on") || !strcmp(v, "off"))) {
			o.packed = !strcmp(v, "on");
		} else {
			snprintf(err, errlen, "virtio-net: bad option '%.40s=%.80s' (tap=NAME or fd=N, "
				 "mac=XX:XX:XX:XX:XX:XX, packed=on|off)", t, v);
			return -EINVAL;
		}
	}
	if (!o.tap[0] == (o.fd < 0)) {
		snprintf(err, errlen, "virtio-net: give exactly one of tap=NAME and fd=N");
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

int virtio_console_parse_options(const char *opts, char *err, size_t errlen)
{
	if (opts && opts[0]) {
		snprintf(err, errlen, "virtio-console takes no options (got '%.100s')", opts);
		return -EINVAL;
	}
	return 0;
}
