/* SPDX-License-Identifier: MIT */
/* The -device virtio-blk options (a library of its own: the CLI checks them before any setup). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "virtio.h"

int virtio_blk_parse_options(const char *opts, struct virtio_blk_options *ret, char *err,
			     size_t errlen)
{
	struct virtio_blk_options o = { .cache = VIRTIO_BLK_CACHE_WRITEBACK };
	char buf[512], *save = NULL;

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
		} else {
			snprintf(err, errlen, "virtio-blk: bad option '%.40s=%.80s' (file=IMG, "
				 "readonly=on|off, cache=none|writeback)", t, v);
			return -EINVAL;
		}
	}
	if (!o.file[0]) {
		snprintf(err, errlen, "virtio-blk: file=IMG is required");
		return -EINVAL;
	}
	*ret = o;
	return 0;
}
