/* SPDX-License-Identifier: MIT */
/* Unit tests for config-space masks, W1C, BAR sizing and the capability builder and walks. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#include "check-run.h"
#include "common/bits.h"
#include "devices/pci/pci.h"

struct hook_rec {
	unsigned int calls, off, size;
	uint32_t val, cmd_seen;
};

static void rec_config_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int size)
{
	struct hook_rec *r = dev->opaque;

	if (!r)
		return;
	r->calls++;
	r->off = off;
	r->val = val;
	r->size = size;
	/* The hook runs after the masked store: it sees the new value. */
	r->cmd_seen = pci_config_get(dev, PCI_COMMAND, 2);
}

static const struct pci_dev_ops hook_ops = { .config_write = rec_config_write };

static struct pci_dev *new_dev(void *opaque)
{
	struct pci_dev *dev = malloc(sizeof(*dev));

	ck_assert_ptr_nonnull(dev);
	pci_dev_init(dev, 0x1234, 0x5678, 0x42, 0x0c0330, &hook_ops, opaque);
	return dev;
}

static void free_dev(struct pci_dev *dev)
{
	pci_dev_cleanup(dev);
	free(dev);
}

START_TEST(test_header_and_masks)
{
	struct hook_rec r = { 0 };
	struct pci_dev *dev = new_dev(&r);

	ck_assert_uint_eq(pci_config_read(dev, 0, 4), 0x56781234);
	ck_assert_uint_eq(pci_config_read(dev, PCI_CLASS_PROG - 1, 4), 0x0c033042);
	ck_assert_uint_eq(pci_config_read(dev, PCI_HEADER_TYPE, 1), 0);
	/* IDs and class are read-only. */
	pci_config_write(dev, 0, 0xffffffff, 4);
	pci_config_write(dev, PCI_REVISION_ID, 0xffffffff, 4);
	ck_assert_uint_eq(pci_config_read(dev, 0, 4), 0x56781234);
	ck_assert_uint_eq(pci_config_read(dev, PCI_REVISION_ID, 4), 0x0c033042);
	/* Command: only the defined bits stick; the hook sees the stored value. */
	pci_config_write(dev, PCI_COMMAND, 0xffff, 2);
	ck_assert_uint_eq(pci_config_read(dev, PCI_COMMAND, 2), 0x0547);
	ck_assert_uint_eq(r.calls, 3);
	ck_assert_uint_eq(r.off, PCI_COMMAND);
	ck_assert_uint_eq(r.val, 0xffff);
	ck_assert_uint_eq(r.cmd_seen, 0x0547);
	/* Byte write to the high command byte keeps the low byte. */
	pci_config_write(dev, PCI_COMMAND + 1, 0x00, 1);
	ck_assert_uint_eq(pci_config_read(dev, PCI_COMMAND, 2), 0x0047);
	/* Interrupt line RW, pin RO. */
	pci_dev_set_irq_pin(dev, 1);
	pci_config_write(dev, PCI_INTERRUPT_LINE, 0x0000ff0b, 2);
	ck_assert_uint_eq(pci_config_read(dev, PCI_INTERRUPT_LINE, 2), 0x010b);
	/* Out-of-range or odd-size accesses are bounded. */
	ck_assert_uint_eq(pci_config_read(dev, 4095, 2), 0xffff);
	ck_assert_uint_eq(pci_config_read(dev, 4096, 1), 0xff);
	ck_assert_uint_eq(pci_config_read(dev, 0, 3), 0xffffff);
	pci_config_write(dev, 4094, 0xffffffff, 4);
	ck_assert_uint_eq(pci_config_read(dev, 4094, 2), 0);
	free_dev(dev);
}
END_TEST

START_TEST(test_status_w1c)
{
	struct pci_dev *dev = new_dev(NULL);
	struct hook_rec r = { 0 };

	dev->opaque = &r;
	pci_config_set(dev, PCI_STATUS, 0xf900 | PCI_STATUS_CAP_LIST, 2);
	/* Writing zeros changes nothing; writing ones to RO bits changes nothing. */
	pci_config_write(dev, PCI_STATUS, 0, 2);
	ck_assert_uint_eq(pci_config_read(dev, PCI_STATUS, 2), 0xf910);
	pci_config_write(dev, PCI_STATUS, PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT, 2);
	ck_assert_uint_eq(pci_config_read(dev, PCI_STATUS, 2), 0xf910);
	/* Each W1C bit clears only itself. */
	pci_config_write(dev, PCI_STATUS, 0x2000, 2);
	ck_assert_uint_eq(pci_config_read(dev, PCI_STATUS, 2), 0xd910);
	/* A dword write to COMMAND/STATUS with status ones clears all error bits. */
	pci_config_write(dev, PCI_COMMAND, 0xffff0002, 4);
	ck_assert_uint_eq(pci_config_read(dev, PCI_COMMAND, 4), 0x00100002);
	free_dev(dev);
}
END_TEST

/* Guest-style BAR sizing: save, write all-ones, read the mask, restore. */
static uint64_t size_bar(struct pci_dev *dev, unsigned int bar, bool is64, uint32_t *ret_lo)
{
	unsigned int off = PCI_BAR0 + 4 * bar;
	uint32_t save_lo = pci_config_read(dev, off, 4), save_hi = 0, lo, hi = 0xffffffff;
	uint64_t mask;

	pci_config_write(dev, off, 0xffffffff, 4);
	lo = pci_config_read(dev, off, 4);
	if (is64) {
		save_hi = pci_config_read(dev, off + 4, 4);
		pci_config_write(dev, off + 4, 0xffffffff, 4);
		hi = pci_config_read(dev, off + 4, 4);
		pci_config_write(dev, off + 4, save_hi, 4);
	}
	pci_config_write(dev, off, save_lo, 4);
	*ret_lo = lo;
	mask = ((uint64_t)hi << 32) | (lo & ((lo & PCI_BAR_IO_SPACE) ? ~0x3u : ~0xfu));
	return ~mask + 1;
}

START_TEST(test_bar_sizing)
{
	struct pci_dev *dev = new_dev(NULL);
	uint32_t lo;

	ck_assert_int_eq(pci_dev_set_bar(dev, 0, PCI_BAR_MEM32, 1 * MiB, false), 0);
	ck_assert_int_eq(pci_dev_set_bar(dev, 1, PCI_BAR_IO, 32, false), 0);
	ck_assert_int_eq(pci_dev_set_bar(dev, 2, PCI_BAR_MEM64, 8 * GiB, true), 0);
	ck_assert_int_eq(pci_dev_set_bar(dev, 3, PCI_BAR_MEM32, 4096, false), -EBUSY);
	ck_assert_int_eq(pci_dev_set_bar(dev, 4, PCI_BAR_MEM32, 3000, false), -EINVAL);
	ck_assert_int_eq(pci_dev_set_bar(dev, 5, PCI_BAR_MEM64, 4096, false), -EINVAL);
	ck_assert_int_eq(pci_dev_set_bar(dev, 6, PCI_BAR_MEM32, 4096, false), -EINVAL);
	ck_assert_int_eq(pci_dev_set_bar(dev, 0, PCI_BAR_MEM32, 4096, false), -EBUSY);

	ck_assert_uint_eq(size_bar(dev, 0, false, &lo), 1 * MiB);
	ck_assert_uint_eq(lo, 0xfff00000);
	ck_assert_uint_eq(size_bar(dev, 1, false, &lo), 32);
	ck_assert_uint_eq(lo, 0xffffffe1);
	ck_assert_uint_eq(size_bar(dev, 2, true, &lo), 8 * GiB);
	ck_assert_uint_eq(lo, 0x0000000c);
	/* Type bits survive; unused BARs read 0 and stay 0. */
	ck_assert_uint_eq(pci_config_read(dev, PCI_BAR0 + 4 * 4, 4), 0);
	pci_config_write(dev, PCI_BAR0 + 4 * 4, 0xffffffff, 4);
	ck_assert_uint_eq(pci_config_read(dev, PCI_BAR0 + 4 * 4, 4), 0);
	/* Programming an address: low bits below the size are dropped. */
	pci_config_write(dev, PCI_BAR0, 0xc0012345, 4);
	ck_assert_uint_eq(pci_bar_addr(dev, 0), 0xc0000000);
	pci_config_write(dev, PCI_BAR0 + 8, 0x00000000, 4);
	pci_config_write(dev, PCI_BAR0 + 12, 0x4, 4);
	ck_assert_uint_eq(pci_bar_addr(dev, 2), 0x400000000ULL);
	ck_assert_uint_eq(pci_config_read(dev, PCI_BAR0 + 8, 4), 0xc);
	pci_config_write(dev, PCI_BAR0 + 4, 0xc0e3, 4);
	ck_assert_uint_eq(pci_bar_addr(dev, 1), 0xc0e0);
	/* Expansion ROM not implemented: reads 0, not writable. */
	pci_config_write(dev, PCI_ROM_ADDRESS, 0xffffffff, 4);
	ck_assert_uint_eq(pci_config_read(dev, PCI_ROM_ADDRESS, 4), 0);
	free_dev(dev);
}
END_TEST

/* Guest-style walk of the standard chain via config reads; bounded like a guest should be. */
static unsigned int guest_find_cap(struct pci_dev *dev, uint8_t id, unsigned int *ret_count)
{
	unsigned int p, n = 0, found = 0;

	if (!(pci_config_read(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return 0;
	p = pci_config_read(dev, PCI_CAPABILITY_LIST, 1) & 0xfc;
	for (int i = 0; i < 48 && p; i++) {
		n++;
		if (pci_config_read(dev, p, 1) == id && !found)
			found = p;
		p = pci_config_read(dev, p + 1, 1) & 0xfc;
	}
	*ret_count = n;
	return found;
}

static unsigned int guest_find_ext(struct pci_dev *dev, uint16_t id, unsigned int *ret_count)
{
	unsigned int p = 0x100, n = 0, found = 0;

	for (int i = 0; i < 960 && p >= 0x100; i++) {
		uint32_t hdr = pci_config_read(dev, p, 4);

		if (!hdr)
			break;
		n++;
		if ((hdr & 0xffff) == id && !found)
			found = p;
		p = hdr >> 20;
	}
	*ret_count = n;
	return found;
}

START_TEST(test_cap_chain)
{
	struct pci_dev *dev = new_dev(NULL);
	unsigned int msi, msix, exp, pasid, ats, pri, n;

	ck_assert_uint_eq(pci_config_read(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
	ck_assert_int_eq(pci_dev_set_bar(dev, 0, PCI_BAR_MEM32, 16 * KiB, false), 0);
	ck_assert_int_eq(pci_cap_add_pcie(dev, &exp), 0);
	ck_assert_int_eq(pci_cap_add_msi(dev, 4, true, true, &msi), 0);
	ck_assert_int_eq(pci_cap_add_msi(dev, 1, false, false, NULL), -EEXIST);
	ck_assert_int_eq(pci_cap_add_msi(dev, 3, false, false, NULL), -EINVAL);
	ck_assert_int_eq(pci_cap_add_msix(dev, 8, 0, 0x2000, 0x2000 + 64, NULL), -EINVAL);
	ck_assert_int_eq(pci_cap_add_msix(dev, 8, 1, 0, 0x1000, NULL), -EINVAL);
	ck_assert_int_eq(pci_cap_add_msix(dev, 8, 0, 0x2000, 0x3000, &msix), 0);
	ck_assert_uint_eq(exp, 0x40);
	ck_assert_uint_eq(msi, 0x40 + PCI_EXP_SIZEOF);
	ck_assert_uint_eq(pci_config_read(dev, PCI_CAPABILITY_LIST, 1), 0x40);

	ck_assert_uint_eq(guest_find_cap(dev, PCI_CAP_ID_MSIX, &n), msix);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(guest_find_cap(dev, PCI_CAP_ID_MSI, &n), msi);
	ck_assert_uint_eq(guest_find_cap(dev, PCI_CAP_ID_EXP, &n), exp);
	ck_assert_uint_eq(pci_find_cap(dev, PCI_CAP_ID_MSIX), msix);
	ck_assert_uint_eq(pci_find_cap(dev, 0x09), 0);

	/* PCIe: endpoint, version 2; DEVSTA W1C; devctl masks. */
	ck_assert_uint_eq(pci_config_read(dev, exp + PCI_EXP_FLAGS, 2), 0x0092);
	/* Integrated endpoint with End-End TLP prefixes: what Linux needs to enable PASID. */
	ck_assert_uint_eq((pci_config_read(dev, exp + PCI_EXP_FLAGS, 2) & PCI_EXP_FLAGS_TYPE) >> 4,
			  PCI_EXP_TYPE_RC_END);
	ck_assert(pci_config_read(dev, exp + PCI_EXP_DEVCAP2, 4) & PCI_EXP_DEVCAP2_EE_PREFIX);
	pci_config_write(dev, exp + PCI_EXP_DEVCTL, 0xffff, 2);
	ck_assert_uint_eq(pci_config_read(dev, exp + PCI_EXP_DEVCTL, 2), 0x79ff);
	pci_config_set(dev, exp + PCI_EXP_DEVSTA, 0x0005, 2);
	pci_config_write(dev, exp + PCI_EXP_DEVSTA, 0x0004, 2);
	ck_assert_uint_eq(pci_config_read(dev, exp + PCI_EXP_DEVSTA, 2), 0x0001);
	ck_assert_uint_eq(pci_config_read(dev, exp + PCI_EXP_LNKSTA, 2) & 0x3ff, 0x11);

	/* MSI: 64-bit, masking, 4 vectors capable (MMC=2). */
	ck_assert_uint_eq(pci_config_read(dev, msi + PCI_MSI_FLAGS, 2), 0x0184);
	pci_config_write(dev, msi + PCI_MSI_FLAGS, 0xffff, 2);
	ck_assert_uint_eq(pci_config_read(dev, msi + PCI_MSI_FLAGS, 2), 0x01f5);
	pci_config_write(dev, msi + PCI_MSI_ADDRESS_LO, 0xfee00003, 4);
	ck_assert_uint_eq(pci_config_read(dev, msi + PCI_MSI_ADDRESS_LO, 4), 0xfee00000);
	pci_config_write(dev, msi + PCI_MSI_MASK_64, 0xffffffff, 4);
	ck_assert_uint_eq(pci_config_read(dev, msi + PCI_MSI_MASK_64, 4), 0xf);
	pci_config_write(dev, msi + PCI_MSI_MASK_64 + 4, 0xffffffff, 4);
	ck_assert_uint_eq(pci_config_read(dev, msi + PCI_MSI_MASK_64 + 4, 4), 0);

	/* MSI-X: table size 8 (N-1), BIR 0, offsets; only enable and mask-all writable. */
	ck_assert_uint_eq(pci_config_read(dev, msix + PCI_MSIX_FLAGS, 2), 7);
	ck_assert_uint_eq(pci_config_read(dev, msix + PCI_MSIX_TABLE, 4), 0x2000);
	ck_assert_uint_eq(pci_config_read(dev, msix + PCI_MSIX_PBA, 4), 0x3000);
	pci_config_write(dev, msix + PCI_MSIX_FLAGS, 0xffff, 2);
	ck_assert_uint_eq(pci_config_read(dev, msix + PCI_MSIX_FLAGS, 2), 0xc007);

	/* Extended chain, as a guest walks it from 0x100. */
	ck_assert_int_eq(pci_ext_cap_add_pasid(dev, 20, true, false, &pasid), 0);
	ck_assert_int_eq(pci_ext_cap_add_ats(dev, 0, true, &ats), 0);
	ck_assert_int_eq(pci_ext_cap_add_pri(dev, 512, true, &pri), 0);
	ck_assert_int_eq(pci_ext_cap_add_pasid(dev, 21, false, false, NULL), -EINVAL);
	ck_assert_uint_eq(pasid, 0x100);
	ck_assert_uint_eq(guest_find_ext(dev, PCI_EXT_CAP_ID_PRI, &n), pri);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(guest_find_ext(dev, PCI_EXT_CAP_ID_ATS, &n), ats);
	ck_assert_uint_eq(pci_find_ext_cap(dev, PCI_EXT_CAP_ID_PASID), pasid);
	ck_assert_uint_eq(pci_find_ext_cap(dev, 0x0001), 0);
	ck_assert_uint_eq(pci_config_read(dev, pasid, 4), (ats << 20) | 0x1001b);

	/* PASID: width 20, exec supported; priv enable not writable. */
	ck_assert_uint_eq(pci_config_read(dev, pasid + PCI_PASID_CAP, 2), 0x1402);
	pci_config_write(dev, pasid + PCI_PASID_CTRL, 0xffff, 2);
	ck_assert_uint_eq(pci_config_read(dev, pasid + PCI_PASID_CTRL, 2), 0x0003);
	pci_config_write(dev, pasid + PCI_PASID_CAP, 0, 2);
	ck_assert_uint_eq(pci_config_read(dev, pasid + PCI_PASID_CAP, 2), 0x1402);
	/* ATS: enable + STU writable, capability RO. */
	ck_assert_uint_eq(pci_config_read(dev, ats + PCI_ATS_CAP, 2), 0x0020);
	pci_config_write(dev, ats + PCI_ATS_CTRL, 0xffff, 2);
	ck_assert_uint_eq(pci_config_read(dev, ats + PCI_ATS_CTRL, 2), 0x801f);
	/* PRI: enable RW, reset reads 0, status W1C bits, capacity RO, allocation RW. */
	pci_config_write(dev, pri + PCI_PRI_CTRL, 0xffff, 2);
	ck_assert_uint_eq(pci_config_read(dev, pri + PCI_PRI_CTRL, 2), 0x0001);
	ck_assert_uint_eq(pci_config_read(dev, pri + PCI_PRI_STATUS, 2), 0x8100);
	pci_config_set(dev, pri + PCI_PRI_STATUS, 0x8103, 2);
	pci_config_write(dev, pri + PCI_PRI_STATUS, 0xffff, 2);
	ck_assert_uint_eq(pci_config_read(dev, pri + PCI_PRI_STATUS, 2), 0x8100);
	pci_config_write(dev, pri + PCI_PRI_MAX_REQ, 0, 4);
	ck_assert_uint_eq(pci_config_read(dev, pri + PCI_PRI_MAX_REQ, 4), 512);
	pci_config_write(dev, pri + PCI_PRI_ALLOC_REQ, 77, 4);
	ck_assert_uint_eq(pci_config_read(dev, pri + PCI_PRI_ALLOC_REQ, 4), 77);
	free_dev(dev);
}
END_TEST

START_TEST(test_cap_space_exhaustion)
{
	struct pci_dev *dev = new_dev(NULL);
	int ret = 0, i;

	/* 0x40..0xff holds 48 dword capabilities, no more. */
	for (i = 0; i < 100 && ret == 0; i++)
		ret = pci_cap_add(dev, 0x09, 4, NULL);
	ck_assert_int_eq(ret, -ENOSPC);
	ck_assert_int_eq(i, 49);
	ret = 0;
	for (i = 0; i < 2000 && ret == 0; i++)
		ret = pci_ext_cap_add(dev, 0x000b, 1, 64, NULL);
	ck_assert_int_eq(ret, -ENOSPC);
	ck_assert_int_eq(i, 61);
	ck_assert_uint_eq(pci_find_ext_cap(dev, 0x000c), 0);
	free_dev(dev);
}
END_TEST

START_TEST(test_msi32_layout)
{
	struct pci_dev *dev = new_dev(NULL);
	unsigned int msi;

	ck_assert_int_eq(pci_cap_add_msi(dev, 1, false, false, &msi), 0);
	ck_assert_uint_eq(msi, 0x40);
	ck_assert_uint_eq(pci_config_read(dev, msi, 4), 0x00000005);
	pci_config_write(dev, msi + PCI_MSI_DATA_32, 0xffffffff, 4);
	ck_assert_uint_eq(pci_config_read(dev, msi + PCI_MSI_DATA_32, 4), 0xffff);
	/* Enabling more vectors than capable is stored but clamped on use. */
	pci_config_write(dev, msi + PCI_MSI_FLAGS, 0x0001, 2);
	ck_assert_uint_eq(pci_config_read(dev, msi + PCI_MSI_FLAGS, 2), 0x0001);
	/* Off the host, nothing can be sent. */
	ck_assert_int_eq(pci_msi_notify(dev, 0), -ENODEV);
	ck_assert(pci_msi_enabled(dev));
	free_dev(dev);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pci-config");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_header_and_masks);
	tcase_add_test(tc, test_status_w1c);
	tcase_add_test(tc, test_bar_sizing);
	tcase_add_test(tc, test_cap_chain);
	tcase_add_test(tc, test_cap_space_exhaustion);
	tcase_add_test(tc, test_msi32_layout);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(suite());
}
