/* SPDX-License-Identifier: MIT */
/* The "-device vtd,..." option parser and the CAP/ECAP values derived from a configuration. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devices/viommu/viommu-internal.h"

/* Which options the user gave explicitly (defaults may be adjusted, explicit ones are checked). */
struct given {
	bool mode, pasid_bits, eim, flts, slts, nest, prs;
};

static const struct {
	const char *key;
	uint32_t bit;
} given_bits[] = {
	{ "mode", VIOMMU_GIVEN_MODE }, { "aw", VIOMMU_GIVEN_AW },
	{ "pasid-bits", VIOMMU_GIVEN_PASID_BITS }, { "flts", VIOMMU_GIVEN_FLTS },
	{ "slts", VIOMMU_GIVEN_SLTS }, { "nest", VIOMMU_GIVEN_NEST }, { "pt", VIOMMU_GIVEN_PT },
	{ "cm", VIOMMU_GIVEN_CM }, { "dt", VIOMMU_GIVEN_DT }, { "ir", VIOMMU_GIVEN_IR },
	{ "eim", VIOMMU_GIVEN_EIM }, { "prs", VIOMMU_GIVEN_PRS },
	{ "host-mode", VIOMMU_GIVEN_HOST_MODE },
};

static int parse_bool(const char *v, bool *ret)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1")) {
		*ret = true;
		return 0;
	}
	if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0")) {
		*ret = false;
		return 0;
	}
	return -EINVAL;
}

static int parse_uint(const char *v, unsigned int *ret)
{
	char *end;
	unsigned long n;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n > 1000)
		return -EINVAL;
	*ret = (unsigned int)n;
	return 0;
}

#define ERR(...)                                                                                   \
	do {                                                                                           \
		if (errbuf && errlen)                                                                      \
			snprintf(errbuf, errlen, __VA_ARGS__);                                                 \
		return -EINVAL;                                                                            \
	} while (0)

static int parse_one(struct viommu_config *c, struct given *g, const char *key, const char *val,
		     char *errbuf, size_t errlen)
{
	bool b;

	if (!strcmp(key, "mode")) {
		if (!strcmp(val, "scalable"))
			c->scalable = true;
		else if (!strcmp(val, "legacy"))
			c->scalable = false;
		else
			ERR("vtd: mode must be legacy or scalable, not '%s'", val);
		g->mode = true;
		return 0;
	}
	if (!strcmp(key, "host-mode")) {
		if (!strcmp(val, "auto"))
			c->host_mode = VIOMMU_HOST_AUTO;
		else if (!strcmp(val, "nested"))
			c->host_mode = VIOMMU_HOST_NESTED;
		else if (!strcmp(val, "shadow"))
			c->host_mode = VIOMMU_HOST_SHADOW;
		else
			ERR("vtd: host-mode must be auto, nested or shadow, not '%s'", val);
		return 0;
	}
	if (!strcmp(key, "aw")) {
		if (parse_uint(val, &c->aw) || (c->aw != 39 && c->aw != 48 && c->aw != 57))
			ERR("vtd: aw must be 39, 48 or 57, not '%s'", val);
		return 0;
	}
	if (!strcmp(key, "pasid-bits")) {
		if (parse_uint(val, &c->pasid_bits) || c->pasid_bits < 1 || c->pasid_bits > 20)
			ERR("vtd: pasid-bits must be 1..20, not '%s'", val);
		g->pasid_bits = true;
		return 0;
	}
	if (parse_bool(val, &b)) {
		if (!strcmp(key, "ir") || !strcmp(key, "eim") ||
		    !strcmp(key, "flts") || !strcmp(key, "slts") || !strcmp(key, "nest") ||
		    !strcmp(key, "pt") || !strcmp(key, "cm") || !strcmp(key, "dt") ||
		    !strcmp(key, "prs") || !strcmp(key, "regs-mirror"))
			ERR("vtd: %s must be on or off, not '%s'", key, val);
		ERR("vtd: unknown option '%s'", key);
	}
	if (!strcmp(key, "flts")) {
		c->flts = b;
		g->flts = true;
	} else if (!strcmp(key, "slts")) {
		c->slts = b;
		g->slts = true;
	} else if (!strcmp(key, "nest")) {
		c->nest = b;
		g->nest = true;
	} else if (!strcmp(key, "pt")) {
		c->pt = b;
	} else if (!strcmp(key, "cm")) {
		c->cm = b;
	} else if (!strcmp(key, "dt")) {
		c->dt = b;
	} else if (!strcmp(key, "ir")) {
		c->ir = b;
	} else if (!strcmp(key, "eim")) {
		c->eim = b;
		g->eim = true;
	} else if (!strcmp(key, "prs")) {
		c->prs = b;
		g->prs = true;
	} else if (!strcmp(key, "regs-mirror")) {
		c->regs_mirror = b;
	} else {
		ERR("vtd: unknown option '%s'", key);
	}
	return 0;
}

static int check(struct viommu_config *c, const struct given *g, char *errbuf, size_t errlen)
{
	/* EIM (x2APIC IRTEs) is part of interrupt remapping; a defaulted eim follows ir. */
	if (c->eim && !c->ir) {
		if (g->eim)
			ERR("vtd: eim=on needs ir=on");
		c->eim = false;
	}
	if (!c->scalable) {
		/* Legacy mode: second-stage only; scalable-mode features off unless asked for. */
		if (g->flts && c->flts)
			ERR("vtd: flts=on needs mode=scalable");
		if (g->nest && c->nest)
			ERR("vtd: nest=on needs mode=scalable");
		if (g->pasid_bits)
			ERR("vtd: pasid-bits needs mode=scalable");
		if (g->prs && c->prs)
			ERR("vtd: prs=on needs mode=scalable");
		c->flts = c->nest = c->prs = false;
		c->slts = true;
		c->pasid_bits = 0;
		return 0;
	}
	if (!c->flts && !c->slts)
		ERR("vtd: scalable mode needs flts=on or slts=on");
	/* Page requests come only from ATS devices: PRS without DT would be inconsistent. */
	if (c->prs && !c->dt)
		ERR("vtd: prs=on needs dt=on");
	if (c->nest && (!c->flts || !c->slts)) {
		if (g->nest)
			ERR("vtd: nest=on needs flts=on and slts=on");
		c->nest = false; /* the default follows flts && slts */
	}
	return 0;
}

int viommu_parse_options(const char *opts, struct viommu_config *ret, char *errbuf, size_t errlen)
{
	struct viommu_config c = {
		.scalable = true, .aw = 48, .pasid_bits = 20,
		.flts = true, .slts = true, .nest = true, .pt = true, .cm = false, .dt = false,
		.ir = true, .eim = true, /* as QEMU's intel-iommu with a split irqchip */
		.regs_mirror = true,
	};
	struct given g = { 0 };
	char buf[512];
	char *save = NULL, *tok;
	int r;

	if (!opts)
		opts = "";
	if (strlen(opts) >= sizeof(buf))
		ERR("vtd: option string too long");
	strcpy(buf, opts);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq)
			ERR("vtd: option '%s' needs a value (key=value)", tok);
		*eq = '\0';
		r = parse_one(&c, &g, tok, eq + 1, errbuf, errlen);
		if (r)
			return r;
		for (size_t i = 0; i < sizeof(given_bits) / sizeof(given_bits[0]); i++)
			if (!strcmp(tok, given_bits[i].key))
				c.given |= given_bits[i].bit;
	}
	r = check(&c, &g, errbuf, errlen);
	if (r)
		return r;
	*ret = c;
	return 0;
}

void viommu_compute_caps(const struct viommu_config *cfg, uint64_t *ret_cap, uint64_t *ret_ecap,
			 struct vtd_caps *ret_caps)
{
	uint64_t cap = 0, ecap = 0;
	uint8_t sagaw = 0x2; /* 39-bit, 3-level always */
	bool sm = cfg->scalable;

	if (cfg->aw >= 48)
		sagaw |= 0x4;
	if (cfg->aw >= 57)
		sagaw |= 0x8;

	cap |= FIELD_PREP(VTD_CAP_ND, 6); /* 16-bit domain ids */
	if (cfg->cm)
		cap |= VTD_CAP_CM;
	cap |= FIELD_PREP(VTD_CAP_SAGAW, sagaw);
	cap |= FIELD_PREP(VTD_CAP_MGAW, cfg->aw - 1);
	cap |= FIELD_PREP(VTD_CAP_FRO, VTD_FRO);
	cap |= FIELD_PREP(VTD_CAP_SSLPS, 0x3); /* 2 MiB + 1 GiB */
	cap |= VTD_CAP_PSI;
	cap |= FIELD_PREP(VTD_CAP_NFR, VTD_NFR);
	cap |= FIELD_PREP(VTD_CAP_MAMV, VTD_MAMV);
	cap |= VTD_CAP_DWD | VTD_CAP_DRD;
	if (sm && cfg->flts) {
		if (!cfg->no_fs1gp)
			cap |= VTD_CAP_FS1GP;
		if (cfg->aw == 57)
			cap |= VTD_CAP_FS5LP;
	}

	ecap |= VTD_ECAP_C; /* walks read guest memory coherently */
	ecap |= VTD_ECAP_QI;
	if (cfg->dt)
		ecap |= VTD_ECAP_DT;
	if (cfg->prs && sm)
		ecap |= VTD_ECAP_PRS | VTD_ECAP_PDS;
	if (cfg->pt)
		ecap |= VTD_ECAP_PT;
	ecap |= FIELD_PREP(VTD_ECAP_IRO, VTD_IRO);
	if (cfg->ir) {
		/* IEC invalidation by index accepts any IM up to 15 (as QEMU). */
		ecap |= VTD_ECAP_IR | FIELD_PREP(VTD_ECAP_MHMV, 15);
		if (cfg->eim)
			ecap |= VTD_ECAP_EIM;
	}
	if (sm) {
		ecap |= VTD_ECAP_SMTS | VTD_ECAP_PASID;
		ecap |= FIELD_PREP(VTD_ECAP_PSS, cfg->pasid_bits - 1);
		if (cfg->flts)
			ecap |= VTD_ECAP_FLTS | (cfg->no_srs ? 0 : VTD_ECAP_SRS);
		if (cfg->slts)
			ecap |= VTD_ECAP_SLTS;
		if (cfg->nest)
			ecap |= VTD_ECAP_NEST;
	}

	*ret_cap = cap;
	*ret_ecap = ecap;
	*ret_caps = (struct vtd_caps){
		.scalable = sm,
		.mgaw = cfg->aw,
		/* Address fields end at bit 51: the engine takes haw <= 52 (the DT still says aw). */
		.haw = cfg->aw < 52 ? cfg->aw : 52,
		.sagaw = sagaw,
		.sslps_2m = true,
		.sslps_1g = true,
		.fs1gp = !!(cap & VTD_CAP_FS1GP),
		.fs5lp = !!(cap & VTD_CAP_FS5LP),
		.flts = sm && cfg->flts,
		.slts = !sm || cfg->slts,
		.nest = sm && cfg->nest,
		.pt = cfg->pt,
		.dt = cfg->dt,
		.sc = false,
		.srs = sm && cfg->flts && !cfg->no_srs,
		.ers = false,
		.eafs = false,
		.pasid = sm,
		.prs = sm && cfg->prs,
		.pasid_bits = sm ? cfg->pasid_bits : 0,
		.cm = cfg->cm,
	};
}
