/* SPDX-License-Identifier: MIT */
/*
 * The -device pasid-dma option parser (a library of its own: the launcher checks the options
 * when it reads the command line, before anything is created).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/pasid-dma/pasid-dma.h"

static int parse_bool(const char *v, bool *ret)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1"))
		*ret = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

int pasid_dma_parse_options(const char *opts, struct pasid_dma_config *ret, char *errbuf,
			    size_t errlen)
{
	struct pasid_dma_config c = { .pasid_bits = 20, .exec = true, .priv = true, .ats = true,
				      .pri = true };
	char buf[256], *save = NULL, *tok;
	bool pri_given = false, ats_given = false;

	if (!opts)
		opts = "";
	if (strlen(opts) >= sizeof(buf)) {
		snprintf(errbuf, errlen, "pasid-dma: option string too long");
		return -EINVAL;
	}
	strcpy(buf, opts);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '='), *end;
		bool b = false;
		int r = 0;

		if (!eq) {
			snprintf(errbuf, errlen, "pasid-dma: option '%s' needs a value", tok);
			return -EINVAL;
		}
		*eq++ = '\0';
		if (!strcmp(tok, "pasid-bits")) {
			unsigned long n = strtoul(eq, &end, 10);

			if (*eq < '0' || *eq > '9' || *end || n > 20) {
				snprintf(errbuf, errlen, "pasid-dma: pasid-bits must be 0..20, not '%s'", eq);
				return -EINVAL;
			}
			c.pasid_bits = (unsigned int)n;
			continue;
		}
		if (!strcmp(tok, "backend")) {
			if (!strcmp(eq, "hostsim")) {
				c.backend = PDMA_BACKEND_HOSTSIM;
			} else if (!strcmp(eq, "emulated")) {
				c.backend = PDMA_BACKEND_EMULATED;
			} else {
				snprintf(errbuf, errlen,
					 "pasid-dma: backend must be emulated or hostsim, not '%s'", eq);
				return -EINVAL;
			}
			continue;
		}
		r = parse_bool(eq, &b);
		if (!strcmp(tok, "ats") && !r) {
			c.ats = b;
			ats_given = true;
		} else if (!strcmp(tok, "pri") && !r) {
			c.pri = b;
			pri_given = true;
		} else if (!strcmp(tok, "exec") && !r) {
			c.exec = b;
		} else if (!strcmp(tok, "priv") && !r) {
			c.priv = b;
		} else {
			snprintf(errbuf, errlen, "pasid-dma: bad option '%s=%s'", tok, eq);
			return -EINVAL;
		}
	}
	if (c.backend == PDMA_BACKEND_HOSTSIM) {
		/*
		 * Simulated passthrough: translation happens in the host IOMMU, which answers no
		 * ATS translation requests; page requests (pri=on) are raised by the host.
		 */
		if (ats_given && c.ats) {
			snprintf(errbuf, errlen, "pasid-dma: backend=hostsim has no ATS path "
				 "(the host IOMMU simulator answers no translation requests): use ats=off");
			return -EINVAL;
		}
		c.host_prq = pri_given && c.pri;
		/*
		 * A PRI device has ATS: with pri=on the device offers both capabilities (Linux
		 * enables SVA only on a device with ATS, PRI and PASID enabled). Their enable bits
		 * work as on any device, but it sends no translation request (the host answers
		 * none: every access is untranslated) and no page request of its own (the host
		 * raises them for its misses).
		 */
		c.ats = c.pri = c.host_prq;
	}
	if (!c.ats && c.pri) {
		if (pri_given) {
			snprintf(errbuf, errlen, "pasid-dma: pri=on needs ats=on");
			return -EINVAL;
		}
		c.pri = false; /* the default follows ats */
	}
	*ret = c;
	return 0;
}
