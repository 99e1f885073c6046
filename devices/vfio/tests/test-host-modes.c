/* SPDX-License-Identifier: MIT */
/*
 * Mode and default selection against the kernel double, and the RID's identity / blocked
 * states on the iommufd backend: an old host (no nesting, no PASID) still starts with the
 * options left out (shadow); a nesting host whose device has no PASID starts nested, RID
 * only; with translation off the RID is on the nest parent, with translation on and nothing
 * forwarded it is detached (blocked), and it follows the guest's first stage once flushed.
 */
#include <errno.h>

#include "common/check-run.h"
#include "devices/vfio/tests/kdouble.h"
#include "devices/vfio/vfio.h"
#include "devices/viommu/tests/harness.h"

#define ROOT 0x100000ULL
#define CTX 0x101000ULL
#define PDIR 0x106000ULL
#define PTBL 0x107000ULL
#define FS 0x110000ULL
#define QBASE 0x10000ULL
#define STATUS 0x20000ULL
#define SID 0x0008

static struct harness *h;
static struct kdouble kd;
static struct iommufd_backend *be;
static struct host_iommu hi;
static unsigned int tail;
static uint32_t dev;

static void open_host(bool nest, unsigned int pasid_bits, struct host_iommu_caps *caps)
{
	struct iommufd_sys sys;
	char err[200];

	kd_init(&kd, 615);
	kd.nest = nest;
	kd.max_pasid_log2 = (uint8_t)pasid_bits;
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &be, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(be, "/dev/vfio/devices/vfio0", &dev, err,
						    sizeof(err)), 0);
	iommufd_backend_iommu(be, &hi);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, caps), 0);
}

/* The host page-aligns what it maps (as gmem's mmap is): re-home the harness RAM. */
static void page_aligned_ram(void)
{
	uint8_t *ram = aligned_alloc(4096, H_RAM_SIZE);

	ck_assert_ptr_nonnull(ram);
	memset(ram, 0, H_RAM_SIZE);
	free(h->ram);
	h->ram = ram;
	h->gm.regions[0].hva = ram;
}

static void close_all(void)
{
	h_free(h);
	iommufd_backend_close(be);
	ck_assert_uint_eq(kd.open_fds, 0);
}

/* What the double has the RID attached to: 0 nothing (blocked), else the object's type. */
static enum kd_obj_type rid_on(void)
{
	uint32_t id = kd.devs[0].rid_pt;

	return id ? kd.objs[id].type : KD_NONE;
}

START_TEST(test_old_host_defaults_start_shadowed)
{
	struct host_iommu_caps caps;
	struct viommu_config cfg, nc;
	char msg[320];

	open_host(false, 0, &caps);
	ck_assert(!caps.nesting && !caps.pasid_attach);
	/* "-device vtd -device vfio-pci,host=..." with nothing typed: shadow, caching mode. */
	ck_assert_int_eq(viommu_parse_options("", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &caps, &nc, msg, sizeof(msg)), 0);
	ck_assert_ptr_nonnull(strstr(msg, "shadow (host has no nesting)"));
	ck_assert(nc.cm && !nc.flts && nc.slts && !nc.prs && nc.scalable);
	h = h_new_cfg(&nc);
	page_aligned_ram();
	ck_assert_int_eq(viommu_attach_host_device(h->v, SID, &hi, dev), 0);
	/* Typed options the host cannot back are refused with what works. */
	ck_assert_int_eq(viommu_parse_options("flts=on,cm=on", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &caps, &nc, msg, sizeof(msg)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(msg, "flts=on"));
	close_all();
}
END_TEST

static void drain(const uint64_t (*d)[2], unsigned int n)
{
	for (unsigned int i = 0; i <= n; i++) {
		memset(h->ram + QBASE + tail, 0, 32);
		h_put64(h, QBASE + tail, i < n ? d[i][0] : 0x5 | (1 << 5) | (0x77ULL << 32));
		h_put64(h, QBASE + tail + 8, i < n ? d[i][1] : STATUS);
		tail = (tail + 32) % 8192;
	}
	w64(h, VTD_IQT_REG, tail);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE, 0);
	ck_assert_uint_eq(le32_load(h->ram + STATUS), 0x77);
	le32_store(h->ram + STATUS, 0);
}

START_TEST(test_no_pasid_host_nested_rid_identity_blocked)
{
	struct host_iommu_caps caps;
	struct viommu_config cfg, nc;
	char msg[320];
	const uint64_t pc_global[1][2] = { { 0x7 | (3 << 4), 0 } };

	open_host(true, 0, &caps);
	ck_assert(caps.nesting && !caps.pasid_attach);
	/* A device without PASID (or a kernel before 6.15): the defaults start, RID only. */
	ck_assert_int_eq(viommu_parse_options("", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &caps, &nc, msg, sizeof(msg)), 0);
	ck_assert_ptr_nonnull(strstr(msg, "nested"));
	ck_assert_uint_eq(nc.pasid_bits, 1);
	ck_assert(nc.cm && nc.flts && !nc.slts && !nc.nest);
	h = h_new_cfg(&nc);
	page_aligned_ram();
	ck_assert_int_eq(viommu_attach_host_device(h->v, SID, &hi, dev), 0);
	/* Translation off: the RID stays on the nest parent (identity). */
	ck_assert_int_eq(rid_on(), KD_HWPT_PAGING);
	w64(h, VTD_IQT_REG, 0);
	w64(h, VTD_IQA_REG, QBASE | VTD_IQA_DW | 1);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	/* Translation on with no root table: detached, i.e. blocked. */
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	ck_assert_int_eq(rid_on(), KD_NONE);
	/* Tables + RID_PASID first-stage entry + flush: a nested HWPT. */
	h_put64(h, ROOT, CTX | 1);
	h_put64(h, CTX + 8 * 32, PDIR | 1);
	h_put64(h, PDIR, PTBL | 1);
	h_put64(h, PTBL, (1 << 6) | 1);
	h_put64(h, PTBL + 8, 1);
	h_put64(h, PTBL + 16, FS);
	w64(h, VTD_RTADDR_REG, ROOT | (1 << 10));
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	drain(pc_global, 1);
	ck_assert_int_eq(rid_on(), KD_HWPT_NESTED);
	ck_assert_uint_eq(kd.objs[kd.devs[0].rid_pt].s1.pgtbl_addr, FS);
	/* A pass-through entry: back on the parent. */
	h_put64(h, PTBL, (4 << 6) | 1);
	drain(pc_global, 1);
	ck_assert_int_eq(rid_on(), KD_HWPT_PAGING);
	/* Translation off and on: parent, then the guest's tables again. */
	h_put64(h, PTBL, (1 << 6) | 1);
	drain(pc_global, 1);
	ck_assert_int_eq(rid_on(), KD_HWPT_NESTED);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, false);
	ck_assert_int_eq(rid_on(), KD_HWPT_PAGING);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	ck_assert_int_eq(rid_on(), KD_HWPT_NESTED);
	close_all();
}
END_TEST

/*
 * What the guest is offered is what the host holds: on a host with 20 PASID bits the defaults
 * offer 20, and a guest that makes 128 PASIDs present (beyond the 32 binds the backend used to
 * hold, and up to the highest PASID) has every one forwarded to its own stage-1 after one
 * global PASID-cache flush; clearing them detaches them all.
 */
#define BIG_DIR 0x200000ULL
#define BIG_TBL 0x240000ULL

START_TEST(test_full_pasid_width_forwarded)
{
	struct host_iommu_caps caps;
	struct viommu_config cfg, nc;
	char msg[320];
	const uint64_t pc_global[1][2] = { { 0x7 | (3 << 4), 0 } };
	/* Directory entries used: 0 and 1 (PASIDs 0-127) and the last one (0xfffc0-0xfffff). */
	const uint64_t dirs[3] = { 0, 1, 0x3fff };

	open_host(true, 20, &caps);
	ck_assert(caps.nesting && caps.pasid_attach);
	ck_assert_int_eq(viommu_parse_options("", &cfg, msg, sizeof(msg)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &caps, &nc, msg, sizeof(msg)), 0);
	ck_assert_uint_eq(nc.pasid_bits, 20);
	h = h_new_cfg(&nc);
	page_aligned_ram();
	ck_assert_int_eq(viommu_attach_host_device(h->v, SID, &hi, dev), 0);
	w64(h, VTD_IQT_REG, 0);
	w64(h, VTD_IQA_REG, QBASE | VTD_IQA_DW | 1);
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	h_put64(h, ROOT, CTX | 1);
	/* PDTS 7: a directory of 2^14 entries, the whole 20-bit PASID space; PASIDE. */
	h_put64(h, CTX + 8 * 32, BIG_DIR | (7 << 9) | (1 << 3) | 1);
	for (unsigned int t = 0; t < 3; t++) {
		uint64_t tbl = BIG_TBL + t * 0x1000;

		h_put64(h, BIG_DIR + dirs[t] * 8, tbl | 1);
		for (unsigned int e = 0; e < 64; e++) {
			if (t == 2 && e != 63)
				continue;
			h_put64(h, tbl + e * 64, (1 << 6) | 1);
			h_put64(h, tbl + e * 64 + 8, 1);
			h_put64(h, tbl + e * 64 + 16, FS);
		}
	}
	w64(h, VTD_RTADDR_REG, ROOT | (1 << 10));
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	drain(pc_global, 1);
	/* PASID 0 is the RID (RID_PASID 0); PASIDs 1-127 and 0xfffff are PASID attachments. */
	ck_assert_int_eq(rid_on(), KD_HWPT_NESTED);
	ck_assert_uint_eq(kd.devs[0].nr_pasids, 128);
	for (uint32_t p = 1; p < 128; p++)
		ck_assert_int_eq(kd.objs[kd_pasid_pt(&kd, 0, p)].type, KD_HWPT_NESTED);
	ck_assert_int_eq(kd.objs[kd_pasid_pt(&kd, 0, 0xfffff)].type, KD_HWPT_NESTED);
	ck_assert_uint_eq(kd.objs[kd_pasid_pt(&kd, 0, 0xfffff)].s1.pgtbl_addr, FS);
	/* Not present any more: each is detached (blocked) and its stage-1 destroyed. */
	for (unsigned int t = 0; t < 3; t++)
		for (unsigned int e = 0; e < 64; e++)
			if (t || e)
				h_put64(h, BIG_TBL + t * 0x1000 + e * 64, 0);
	drain(pc_global, 1);
	ck_assert_uint_eq(kd.devs[0].nr_pasids, 0);
	ck_assert_int_eq(rid_on(), KD_HWPT_NESTED);
	close_all();
	ck_assert_uint_eq(kd_live_objects(&kd), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("host-modes");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_old_host_defaults_start_shadowed);
	tcase_add_test(tc, test_no_pasid_host_nested_rid_identity_blocked);
	tcase_add_test(tc, test_full_pasid_width_forwarded);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
