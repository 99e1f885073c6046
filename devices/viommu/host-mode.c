/* SPDX-License-Identifier: MIT */
/*
 * viommu_host_mode: the vIOMMU configuration (nested or shadow) a host-backed device gets,
 * chosen from the host IOMMU's capabilities and checked against the options given.
 */
#include <errno.h>
#include <stdio.h>

#include "devices/vfio/host-iommu.h"
#include "devices/viommu/viommu-internal.h"

#define HM_ERR(...)                                                                                \
	do {                                                                                       \
		snprintf(msg, len, __VA_ARGS__);                                                   \
		return -EINVAL;                                                                    \
	} while (0)

int viommu_host_mode(const struct viommu_config *cfg, const struct host_iommu_caps *hc,
		     struct viommu_config *ret, char *msg, size_t len)
{
	struct viommu_config c = *cfg;
	uint32_t g = cfg->given;
	unsigned int host_bits = hc->pasid_attach ? hc->max_pasid_log2 : 0;
	bool nested;

	/* Caching mode is needed either way: nestvm must see every entry made present. */
	if ((g & VIOMMU_GIVEN_CM) && !cfg->cm)
		HM_ERR("vtd: cm=off cannot work with a host-backed device (the guest must flush after "
		       "making entries present): leave cm out");
	if (cfg->host_mode == VIOMMU_HOST_NESTED) {
		if (!hc->nesting)
			HM_ERR("vtd: host-mode=nested: the host IOMMU cannot nest (needs iommufd nesting, "
			       "Linux 6.8+): use host-mode=shadow or leave host-mode out");
		nested = true;
	} else if (cfg->host_mode == VIOMMU_HOST_SHADOW) {
		nested = false;
	} else {
		/* auto: nested unless the host cannot, or typed options ask for second-stage tables. */
		nested = hc->nesting && !((g & VIOMMU_GIVEN_MODE) && !cfg->scalable) &&
			 !((g & VIOMMU_GIVEN_FLTS) && !cfg->flts) && !((g & VIOMMU_GIVEN_SLTS) && cfg->slts) &&
			 !((g & VIOMMU_GIVEN_NEST) && cfg->nest);
	}
	c.cm = true;
	if (!nested) {
		/*
		 * Shadow: caching mode makes the guest flush after every map; its second-stage (or
		 * legacy) tables are re-walked and mirrored into the host address space. No first
		 * stage, nesting or page requests are advertised: the host could not back them.
		 */
		const char *why = hc->nesting ? "leave it out or use host-mode=nested"
					      : "the host IOMMU cannot nest; leave it out";

		if ((g & VIOMMU_GIVEN_FLTS) && cfg->flts)
			HM_ERR("vtd: flts=on cannot be shadowed (%s)", why);
		if ((g & VIOMMU_GIVEN_NEST) && cfg->nest)
			HM_ERR("vtd: nest=on cannot be shadowed (%s)", why);
		if ((g & VIOMMU_GIVEN_PRS) && cfg->prs)
			HM_ERR("vtd: prs=on cannot be shadowed (%s)", why);
		if ((g & VIOMMU_GIVEN_SLTS) && !cfg->slts && cfg->scalable)
			HM_ERR("vtd: slts=off: shadow mode mirrors second-stage tables (leave slts out)");
		c.flts = false;
		c.nest = false;
		c.prs = false;
		c.slts = c.scalable;
		*ret = c;
		snprintf(msg, len, "shadow (%s): caching mode, guest %s tables mirrored into the host "
			 "I/O address space (aw %u)",
			 cfg->host_mode == VIOMMU_HOST_SHADOW ? "host-mode=shadow" : hc->nesting
			 ? "typed options need second-stage tables" : "host has no nesting",
			 c.scalable ? "second-stage" : "legacy", c.aw);
		return 0;
	}
	/*
	 * Nested: the guest sees only what nestvm forwards (facts §13): first stage, PT (the
	 * stage-2 parent), no second stage or nesting, and never more than the host backs (facts
	 * §4: FS5LP, PASID width, fault queue).
	 */
	if ((g & VIOMMU_GIVEN_MODE) && !cfg->scalable)
		HM_ERR("vtd: mode=legacy cannot be nested (leave mode out, or use host-mode=shadow)");
	if ((g & VIOMMU_GIVEN_FLTS) && !cfg->flts)
		HM_ERR("vtd: flts=off: nested mode forwards first-stage tables only (leave flts out, or "
		       "use host-mode=shadow)");
	if ((g & VIOMMU_GIVEN_SLTS) && cfg->slts)
		HM_ERR("vtd: slts=on: nested mode cannot forward second-stage tables (leave slts out, or "
		       "use host-mode=shadow)");
	if ((g & VIOMMU_GIVEN_NEST) && cfg->nest)
		HM_ERR("vtd: nest=on: nested mode cannot forward nested PASID entries (leave nest out)");
	if ((g & VIOMMU_GIVEN_AW) && cfg->aw == 57 && !(hc->vtd_cap & VTD_CAP_FS5LP))
		HM_ERR("vtd: aw=57: the host IOMMU has no 5-level first stage (use aw=48 or leave aw out)");
	if ((g & VIOMMU_GIVEN_PASID_BITS) && cfg->pasid_bits > (host_bits ? host_bits : 1))
		HM_ERR("vtd: pasid-bits=%u: the host backs %u PASID bits (use pasid-bits=%u or leave it "
		       "out)", cfg->pasid_bits, host_bits, host_bits ? host_bits : 1);
	if ((g & VIOMMU_GIVEN_PRS) && cfg->prs && !hc->fault_queue)
		HM_ERR("vtd: prs=on: the host has no fault queue for page requests (needs Linux 6.11+; "
		       "leave prs out)");
	if (c.aw == 57 && !(hc->vtd_cap & VTD_CAP_FS5LP))
		c.aw = 48;
	if (c.pasid_bits > host_bits)
		c.pasid_bits = host_bits ? host_bits : 1;
	if (!hc->fault_queue)
		c.prs = false;
	c.scalable = true;
	c.flts = true;
	c.slts = false;
	c.nest = false;
	/* First-stage features the host's stage-1 walker lacks are not offered either. */
	c.no_srs = hc->vtd && !(hc->vtd_ecap & VTD_ECAP_SRS);
	c.no_fs1gp = hc->vtd && !(hc->vtd_cap & VTD_CAP_FS1GP);
	*ret = c;
	snprintf(msg, len, "nested: guest first stage over host stage 2, caching mode (aw %u, %u PASID "
		 "bits%s%s%s)", c.aw, c.pasid_bits, c.pt ? ", pass-through" : "",
		 c.prs ? ", page requests" : "", host_bits ? "" : ", RID only");
	return 0;
}
