/* SPDX-License-Identifier: MIT */
/*
 * Shadow mode end to end: the VT-d unit (legacy mode, caching mode on) with a host-backed
 * device on the iommufd backend over the kernel double, the host without nesting. Guest
 * second-stage maps and unmaps, flushed through the invalidation queue, must become the
 * right IOAS_MAP / IOAS_UNMAP calls: adjacent pages batched, a removed page unmapped.
 */
#include <errno.h>

#include "common/check-run.h"
#include "devices/vfio/tests/host-harness.h"
#include "devices/vfio/tests/kdouble.h"
#include "devices/vfio/vfio.h"

#define ROOT 0x100000ULL
#define CTX 0x101000ULL
#define SL 0x110000ULL  /* 4-level second stage: 0x110000..0x113fff, leaves in 0x113000 */
#define QBASE 0x10000ULL
#define STATUS 0x20000ULL
#define SID 0x0008
#define DID 3

static struct harness *h;
static struct kdouble kd;
static struct iommufd_backend *be;
static struct host_iommu hi;
static unsigned int tail;

static unsigned int nmap(void)
{
	return kd.calls[IFD_IOAS_MAP & 0xff];
}

static unsigned int nunmap(void)
{
	return kd.calls[IFD_IOAS_UNMAP & 0xff];
}

/* The double's mapping at iova, or NULL. */
static const struct kd_map *map_at(uint64_t iova)
{
	for (int i = 0; i < KD_MAX_MAPS; i++)
		if (kd.maps[i].len && kd.maps[i].iova == iova)
			return &kd.maps[i];
	return NULL;
}

static unsigned int nr_maps(void)
{
	unsigned int n = 0;

	for (int i = 0; i < KD_MAX_MAPS; i++)
		n += kd.maps[i].len != 0;
	return n;
}

/* 128-bit descriptors, then a wait, then IQT. */
static void drain(const uint64_t (*d)[2], unsigned int n)
{
	for (unsigned int i = 0; i <= n; i++) {
		h_put64(h, QBASE + tail, i < n ? d[i][0] : 0x5 | (1 << 5) | (0x77ULL << 32));
		h_put64(h, QBASE + tail + 8, i < n ? d[i][1] : STATUS);
		tail = (tail + 16) % 4096;
	}
	w64(h, VTD_IQT_REG, tail);
	ck_assert_uint_eq(r32(h, VTD_FSTS_REG) & VTD_FSTS_IQE, 0);
	ck_assert_uint_eq(le32_load(h->ram + STATUS), 0x77);
	le32_store(h->ram + STATUS, 0);
}

static const uint64_t page_inv = 0x2 | (3 << 4) | ((uint64_t)DID << 16);
static const uint64_t dom_inv = 0x2 | (2 << 4) | ((uint64_t)DID << 16);

static void set_pte(uint64_t iova, uint64_t gpa, unsigned int perm)
{
	h_put64(h, SL + 0x3000 + 8 * (iova >> 12), perm ? gpa | perm : 0);
}

static void setup(void)
{
	struct iommufd_sys sys;
	struct viommu_config cfg, nc;
	struct host_iommu_caps caps;
	char err[200];
	uint32_t dev;

	kd_init(&kd, 615);
	kd.nest = false; /* a host IOMMU without nesting */
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &be, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(be, "/dev/vfio/devices/vfio0", &dev, err,
						    sizeof(err)), 0);
	iommufd_backend_iommu(be, &hi);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert(!caps.nesting);
	/* The launcher derives the guest's configuration: caching mode on. */
	ck_assert_int_eq(viommu_parse_options("mode=legacy", &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &caps, &nc, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(strstr(err, "shadow"));
	ck_assert(nc.cm);
	h = h_new_cfg(&nc);
	h_page_aligned_ram(h);
	ck_assert_uint_ne(r64(h, VTD_CAP_REG) & VTD_CAP_CM, 0);
	ck_assert_int_eq(viommu_attach_host_device(h->v, SID, &hi, dev), 0);
	/* Translation off: guest RAM identity-mapped, in one call. */
	ck_assert_uint_eq(nmap(), 1);
	ck_assert_ptr_nonnull(map_at(0));
	ck_assert_uint_eq(map_at(0)->len, H_RAM_SIZE);

	h_put64(h, ROOT, CTX | 1);
	h_put64(h, CTX + 16 * 8, SL | 1);                       /* devfn 8: P, TT=0 */
	h_put64(h, CTX + 16 * 8 + 8, 2 | ((uint64_t)DID << 8)); /* AW=2: 4-level */
	h_put64(h, SL, (SL + 0x1000) | 3);
	h_put64(h, SL + 0x1000, (SL + 0x2000) | 3);
	h_put64(h, SL + 0x2000, (SL + 0x3000) | 3);
	w64(h, VTD_RTADDR_REG, ROOT);
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	w64(h, VTD_IQT_REG, 0);
	w64(h, VTD_IQA_REG, QBASE);
	tail = 0;
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	/* Translation on, nothing mapped by the guest: the identity map is gone. */
	ck_assert_uint_eq(nunmap(), 1);
	ck_assert_uint_eq(nr_maps(), 0);
}

static void teardown(void)
{
	h_free(h);
	iommufd_backend_close(be);
	ck_assert_uint_eq(kd_live_objects(&kd), 0);
	ck_assert_int_eq(kd.open_fds, 0);
}

START_TEST(test_batched_maps_and_unmap_on_remove)
{
	const uint64_t four[4][2] = { { page_inv, 0x0000 }, { page_inv, 0x1000 },
				      { page_inv, 0x2000 }, { page_inv, 0x3000 } };
	const uint64_t one[1][2] = { { page_inv, 0x1000 } };
	unsigned int m, u;

	setup();
	/* Four contiguous pages, flushed page by page in one drain: one IOAS_MAP. */
	for (int i = 0; i < 4; i++)
		set_pte(0x1000 * i, 0x200000 + 0x1000 * i, 3);
	m = nmap();
	drain(four, 4);
	ck_assert_uint_eq(nmap(), m + 1);
	ck_assert_ptr_nonnull(map_at(0));
	ck_assert_uint_eq(map_at(0)->len, 0x4000);
	ck_assert(map_at(0)->write);
	/* A flush that changes nothing costs no host call. */
	u = nunmap();
	m = nmap();
	drain(one, 1);
	ck_assert_uint_eq(nmap(), m);
	ck_assert_uint_eq(nunmap(), u);
	/* Page 1 removed: the mapping is unmapped whole and the rest re-made (2 maps). */
	set_pte(0x1000, 0, 0);
	drain(one, 1);
	ck_assert_uint_eq(nunmap(), u + 1);
	ck_assert_uint_eq(nmap(), m + 2);
	ck_assert_ptr_nonnull(map_at(0));
	ck_assert_uint_eq(map_at(0)->len, 0x1000);
	ck_assert_ptr_null(map_at(0x1000));
	ck_assert_ptr_nonnull(map_at(0x2000));
	ck_assert_uint_eq(map_at(0x2000)->len, 0x2000);
	teardown();
}
END_TEST

START_TEST(test_permissions_domain_and_global)
{
	const uint64_t ro[1][2] = { { page_inv, 0x6000 } };
	const uint64_t dom[1][2] = { { dom_inv, 0 } };
	const uint64_t other[1][2] = { { 0x2 | (2 << 4) | ((uint64_t)(DID + 1) << 16), 0 } };
	const uint64_t glob[1][2] = { { 0x2 | (1 << 4), 0 } };
	unsigned int m, u;

	setup();
	/* Read-only page: mapped without write. */
	set_pte(0x6000, 0x206000, 1);
	drain(ro, 1);
	ck_assert_ptr_nonnull(map_at(0x6000));
	ck_assert(!map_at(0x6000)->write);
	/* Two pages mapped behind the unit's back, then a domain-wide flush picks both up. */
	set_pte(0x8000, 0x300000, 3);
	set_pte(0x9000, 0x301000, 3);
	m = nmap();
	drain(other, 1); /* another domain: nothing */
	ck_assert_uint_eq(nmap(), m);
	drain(dom, 1);
	ck_assert_uint_eq(nmap(), m + 1);
	ck_assert_uint_eq(map_at(0x8000)->len, 0x2000);
	/* Everything removed, one global flush: unmaps, adjacent mappings in one call. */
	set_pte(0x6000, 0, 0);
	set_pte(0x8000, 0, 0);
	set_pte(0x9000, 0, 0);
	u = nunmap();
	drain(glob, 1);
	ck_assert_uint_eq(nr_maps(), 0);
	ck_assert_uint_eq(nunmap(), u + 2);
	/* Translation off again: identity. */
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, false);
	ck_assert_ptr_nonnull(map_at(0));
	ck_assert_uint_eq(map_at(0)->len, H_RAM_SIZE);
	teardown();
}
END_TEST

/* Pages 0, 2, 4, ... mapped to gpas two pages apart: nothing merges, one mapping each. */
static void map_apart(unsigned int from, unsigned int to)
{
	for (unsigned int i = from; i < to; i++)
		set_pte(0x2000ULL * i, 0x200000 + 0x2000ULL * i, 3);
}

static void check_apart(unsigned int n)
{
	ck_assert_uint_eq(nr_maps(), n);
	for (unsigned int i = 0; i < n; i++) {
		const struct kd_map *m = map_at(0x2000ULL * i);

		ck_assert_msg(m && m->len == 0x1000 && m->write, "mapping %u of %u", i, n);
	}
}

/*
 * The shadow's lists start small and grow: more separate mappings than their first capacity
 * (32), once from one walk and once from page flushes that add to what is shadowed already.
 */
START_TEST(test_many_mappings)
{
	const uint64_t glob[1][2] = { { 0x2 | (1 << 4), 0 } };
	uint64_t pages[16][2];
	unsigned int m, u;

	setup();
	map_apart(0, 48);
	drain(glob, 1); /* one walk finds 48 */
	check_apart(48);
	for (unsigned int i = 0; i < 48; i++)
		set_pte(0x2000ULL * i, 0, 0);
	drain(glob, 1);
	ck_assert_uint_eq(nr_maps(), 0);
	teardown();

	setup();
	map_apart(0, 32);
	drain(glob, 1);
	check_apart(32);
	map_apart(32, 48);
	for (unsigned int i = 0; i < 16; i++) {
		pages[i][0] = page_inv;
		pages[i][1] = 0x2000ULL * (32 + i);
	}
	drain(pages, 16); /* 16 page flushes, each adds one to the 32 */
	check_apart(48);
	m = nmap();
	u = nunmap();
	drain(glob, 1); /* a re-walk finds the same: no host call */
	check_apart(48);
	ck_assert_uint_eq(nmap(), m);
	ck_assert_uint_eq(nunmap(), u);
	teardown();
}
END_TEST

START_TEST(test_needs_caching_mode)
{
	struct iommufd_sys sys;
	struct viommu_config cfg;
	char err[200];
	uint32_t dev;

	kd_init(&kd, 615);
	kd.nest = false;
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &be, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(be, "/dev/vfio/devices/vfio0", &dev, err,
						    sizeof(err)), 0);
	iommufd_backend_iommu(be, &hi);
	ck_assert_int_eq(viommu_parse_options("mode=legacy", &cfg, err, sizeof(err)), 0);
	h = h_new_cfg(&cfg); /* cm off: the guest would not flush after maps */
	h_page_aligned_ram(h);
	ck_assert_int_eq(viommu_attach_host_device(h->v, SID, &hi, dev), -EOPNOTSUPP);
	teardown();
}
END_TEST

/* ---- host-side fault injection ---- */

static const uint64_t glob_inv[1][2] = { { 0x2 | (1 << 4), 0 } };

/* After the step during which the injected call failed, one more flush must repair the host. */
static void recover(bool *seen)
{
	if (kd.injected && !*seen) {
		*seen = true;
		drain(glob_inv, 1);
	}
}

/*
 * Attach, translation on, a 4-page map, a page removed, translation off, with the host call
 * n after the backend's setup failing (0: none). Returns how many host calls that made.
 */
static unsigned int fault_run(unsigned int n)
{
	const uint64_t four[4][2] = { { page_inv, 0x0000 }, { page_inv, 0x1000 },
				      { page_inv, 0x2000 }, { page_inv, 0x3000 } };
	const uint64_t one[1][2] = { { page_inv, 0x1000 } };
	struct viommu_config cfg, nc;
	struct host_iommu_caps caps;
	struct iommufd_sys sys;
	unsigned int base;
	bool seen = false;
	char err[200];
	uint32_t dev;
	int r;

	kd_init(&kd, 615);
	kd.nest = false;
	kd_sys(&kd, &sys);
	ck_assert_int_eq(iommufd_backend_open(&sys, NULL, &be, err, sizeof(err)), 0);
	ck_assert_int_eq(iommufd_backend_add_device(be, "/dev/vfio/devices/vfio0", &dev, err,
						    sizeof(err)), 0);
	iommufd_backend_iommu(be, &hi);
	ck_assert_int_eq(hi.ops->get_caps(hi.be, dev, &caps), 0);
	ck_assert_int_eq(viommu_parse_options("mode=legacy", &cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(viommu_host_mode(&cfg, &caps, &nc, err, sizeof(err)), 0);
	base = kd.nr_sys;
	kd.fail_call = n ? base + n : 0;
	h = h_new_cfg(&nc);
	h_page_aligned_ram(h);
	r = viommu_attach_host_device(h->v, SID, &hi, dev);
	if (r) {
		/* The initial identity map failed: the device is refused (nestvm exits). */
		ck_assert_msg(kd.injected && r == -ENOMEM, "N=%u: attach %d", n, r);
		teardown();
		return kd.nr_sys - base;
	}
	ck_assert_msg(!kd.injected, "N=%u: attach hid a failed host call", n);
	ck_assert_uint_eq(nr_maps(), 1);
	ck_assert_uint_eq(map_at(0)->len, H_RAM_SIZE);

	h_put64(h, ROOT, CTX | 1);
	h_put64(h, CTX + 16 * 8, SL | 1);
	h_put64(h, CTX + 16 * 8 + 8, 2 | ((uint64_t)DID << 8));
	h_put64(h, SL, (SL + 0x1000) | 3);
	h_put64(h, SL + 0x1000, (SL + 0x2000) | 3);
	h_put64(h, SL + 0x2000, (SL + 0x3000) | 3);
	w64(h, VTD_RTADDR_REG, ROOT);
	h_gcmd(h, (uint32_t)VTD_GCMD_SRTP, true);
	w64(h, VTD_IQT_REG, 0);
	w64(h, VTD_IQA_REG, QBASE);
	tail = 0;
	h_gcmd(h, (uint32_t)VTD_GCMD_QIE, true);
	h_gcmd(h, (uint32_t)VTD_GCMD_TE, true);
	recover(&seen);
	ck_assert_msg(nr_maps() == 0, "N=%u: %u stale mappings after TE on", n, nr_maps());

	for (int i = 0; i < 4; i++)
		set_pte(0x1000 * i, 0x200000 + 0x1000 * i, 3);
	drain(four, 4);
	recover(&seen);
	ck_assert_msg(nr_maps() == 1 && map_at(0) && map_at(0)->len == 0x4000, "N=%u: map", n);

	set_pte(0x1000, 0, 0);
	drain(one, 1);
	recover(&seen);
	ck_assert_msg(nr_maps() == 2, "N=%u: %u mappings after the unmap", n, nr_maps());
	ck_assert(map_at(0) && map_at(0)->len == 0x1000 && !map_at(0x1000));
	ck_assert(map_at(0x2000) && map_at(0x2000)->len == 0x2000);

	h_gcmd(h, (uint32_t)VTD_GCMD_TE, false);
	recover(&seen);
	ck_assert_msg(nr_maps() == 1 && map_at(0)->len == H_RAM_SIZE, "N=%u: identity", n);
	teardown();
	return kd.nr_sys - base;
}

START_TEST(test_each_host_call_fails)
{
	unsigned int k = fault_run(0);

	ck_assert_uint_ge(k, 6);
	for (unsigned int n = 1; n <= k; n++) {
		fault_run(n);
		ck_assert_msg(kd.injected, "N=%u: never reached", n);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("shadow");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_batched_maps_and_unmap_on_remove);
	tcase_add_test(tc, test_permissions_domain_and_global);
	tcase_add_test(tc, test_many_mappings);
	tcase_add_test(tc, test_needs_caching_mode);
	tcase_add_test(tc, test_each_host_call_fails);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
