/* SPDX-License-Identifier: MIT */
/* Unit tests of the vfio-pci model against a fake VFIO device fd (config, BARs, IRQs, reset). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-run.h"
#include "common/bits.h"
#include "devices/pci/pci.h"
#include "devices/vfio/vfio-pci-abi.h"
#include "devices/vfio/vfio-pci.h"
#include "vpci-fake.h"

/* ---- tests ---- */

START_TEST(test_ids_and_bar_sizing)
{
	struct env *e = env_new();

	ck_assert_uint_eq(cfg_rd(e, PCI_VENDOR_ID, 2), 0x8086);
	ck_assert_uint_eq(cfg_rd(e, PCI_DEVICE_ID, 2), 0x1521);
	ck_assert_uint_eq(cfg_rd(e, PCI_REVISION_ID, 4), 0x02000003);
	ck_assert_uint_eq(cfg_rd(e, PCI_SUBSYSTEM_ID, 2), 0xabcd);
	ck_assert_uint_eq(cfg_rd(e, PCI_INTERRUPT_PIN, 1), 1);
	/* BAR0: 64-bit prefetchable 16 KiB; sizing is emulated, the device never sees it. */
	cfg_wr(e, PCI_BAR0, 0xffffffff, 4);
	ck_assert_uint_eq(cfg_rd(e, PCI_BAR0, 4), (uint32_t)~(0x4000u - 1) | 0xc);
	cfg_wr(e, PCI_BAR0 + 4, 0xffffffff, 4);
	ck_assert_uint_eq(cfg_rd(e, PCI_BAR0 + 4, 4), 0xffffffff);
	cfg_wr(e, PCI_BAR0 + 8, 0xffffffff, 4);
	ck_assert_uint_eq(cfg_rd(e, PCI_BAR0 + 8, 4), (uint32_t)~(0x2000u - 1));
	cfg_wr(e, PCI_BAR0 + 16, 0xffffffff, 4);
	ck_assert_uint_eq(cfg_rd(e, PCI_BAR0 + 16, 4) & 0xffff, (uint32_t)(~(0x20u - 1) | 1) & 0xffff);
	ck_assert_uint_eq(cfg_rd(e, PCI_BAR0 + 12, 4), 0); /* BAR3: none */
	ck_assert_uint_eq(le32_load(e->f.cfg + PCI_BAR0), 0xc); /* host BAR untouched */
	env_free(e);
}
END_TEST

START_TEST(test_capabilities)
{
	struct env *e = env_new();
	unsigned int msi = pci_find_cap(pd(e), PCI_CAP_ID_MSI);
	unsigned int msix = pci_find_cap(pd(e), PCI_CAP_ID_MSIX);
	unsigned int pasid = pci_find_ext_cap(pd(e), PCI_EXT_CAP_ID_PASID);

	ck_assert_uint_ne(pci_find_cap(pd(e), PCI_CAP_ID_EXP), 0);
	ck_assert_uint_ne(msi, 0);
	ck_assert_uint_ne(msix, 0);
	ck_assert_uint_eq(cfg_rd(e, msi + PCI_MSI_FLAGS, 2) & (PCI_MSI_FLAGS_QMASK | PCI_MSI_FLAGS_64BIT |
							       PCI_MSI_FLAGS_MASKBIT),
			  (2 << 1) | PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT);
	ck_assert_uint_eq(cfg_rd(e, msix + PCI_MSIX_FLAGS, 2) & PCI_MSIX_FLAGS_QSIZE, 7);
	ck_assert_uint_eq(cfg_rd(e, msix + PCI_MSIX_TABLE, 4), 2);
	ck_assert_uint_eq(cfg_rd(e, msix + PCI_MSIX_PBA, 4), 0x1002);
	/* PASID synthesised with the host-reported width and the device's execute bit. */
	ck_assert_uint_ne(pasid, 0);
	ck_assert_uint_eq(cfg_rd(e, pasid + PCI_PASID_CAP, 2) & PCI_PASID_CAP_WIDTH, 20 << 8);
	ck_assert_uint_ne(cfg_rd(e, pasid + PCI_PASID_CAP, 2) & PCI_PASID_CAP_EXEC, 0);
	ck_assert_uint_eq(cfg_rd(e, pasid + PCI_PASID_CAP, 2) & PCI_PASID_CAP_PRIV, 0);
	env_free(e);

	/* No PASID support reported by the host: no PASID capability. */
	e = env_new_cfg(0, true);
	ck_assert_uint_eq(pci_find_ext_cap(pd(e), PCI_EXT_CAP_ID_PASID), 0);
	env_free(e);
}
END_TEST

static unsigned int pri_calls;
static bool pri_last;

static void pri_cb(void *opaque, bool on)
{
	pri_calls++;
	pri_last = on;
	ck_assert_ptr_eq(opaque, &pri_calls);
}

/* Gives the fake function ATS (queue depth 5, page aligned) and, if pri, PRI after PASID. */
static void add_ats_pri(struct fake *f, bool pri)
{
	le32_store(f->cfg + 0x100, PCI_EXT_CAP_ID_PASID | (1u << 16) | (0x110u << 20));
	le32_store(f->cfg + 0x110, PCI_EXT_CAP_ID_ATS | (1u << 16) | ((pri ? 0x120u : 0) << 20));
	le16_store(f->cfg + 0x114, 5 | PCI_ATS_CAP_PAGE_ALIGNED);
	if (!pri)
		return;
	le32_store(f->cfg + 0x120, PCI_EXT_CAP_ID_PRI | (1u << 16));
	le16_store(f->cfg + 0x126, PCI_PRI_STATUS_STOPPED | PCI_PRI_STATUS_PASID);
	le32_store(f->cfg + 0x128, 0x40);
}

static struct vfio_pci *create_with(struct env *e, bool ats, bool pri)
{
	struct vfio_pci_config cfg = { .pasid_bits = 20, .ats = ats, .pri = pri,
				       .pri_changed = pri_cb, .opaque = &pri_calls };

	e->d = vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &cfg, e->err, sizeof(e->err));
	ck_assert_msg(e->d != NULL, "%s", e->err);
	return e->d;
}

/*
 * Issue 11 item 9: the host function's ATS and PRI reach the guest (they never did), with
 * their enables virtual: the guest's PRI enable is reported, never written to the device.
 */
START_TEST(test_ats_pri_exposed)
{
	struct env *e = env_new_cfg(20, false);
	unsigned int ats, pri;
	uint8_t host[0x20];

	add_ats_pri(&e->f, true);
	memcpy(host, e->f.cfg + 0x110, sizeof(host));
	create_with(e, true, true);
	ck_assert(vfio_pci_host_pri(e->d));
	ats = pci_find_ext_cap(pd(e), PCI_EXT_CAP_ID_ATS);
	pri = pci_find_ext_cap(pd(e), PCI_EXT_CAP_ID_PRI);
	ck_assert_uint_ne(ats, 0);
	ck_assert_uint_ne(pri, 0);
	ck_assert_uint_ne(pci_find_ext_cap(pd(e), PCI_EXT_CAP_ID_PASID), 0);
	ck_assert_uint_eq(cfg_rd(e, ats + PCI_ATS_CAP, 2), 5 | PCI_ATS_CAP_PAGE_ALIGNED);
	ck_assert_uint_eq(cfg_rd(e, pri + PCI_PRI_MAX_REQ, 4), 0x40);
	ck_assert_uint_eq(cfg_rd(e, pri + PCI_PRI_STATUS, 2), PCI_PRI_STATUS_STOPPED | PCI_PRI_STATUS_PASID);
	/* ATS enable + STU: stored for the guest, the device's own register untouched. */
	cfg_wr(e, ats + PCI_ATS_CTRL, PCI_ATS_CTRL_ENABLE | 2, 2);
	ck_assert_uint_eq(cfg_rd(e, ats + PCI_ATS_CTRL, 2), PCI_ATS_CTRL_ENABLE | 2);
	/* PRI: allocation and enable stored; the enable reported once per change. */
	pri_calls = 0;
	cfg_wr(e, pri + PCI_PRI_ALLOC_REQ, 0x20, 4);
	ck_assert_uint_eq(cfg_rd(e, pri + PCI_PRI_ALLOC_REQ, 4), 0x20);
	ck_assert_uint_eq(pri_calls, 0);
	cfg_wr(e, pri + PCI_PRI_CTRL, PCI_PRI_CTRL_ENABLE, 2);
	ck_assert_uint_eq(pri_calls, 1);
	ck_assert(pri_last);
	ck_assert_uint_eq(cfg_rd(e, pri + PCI_PRI_STATUS, 2) & PCI_PRI_STATUS_STOPPED, 0);
	cfg_wr(e, pri + PCI_PRI_CTRL, PCI_PRI_CTRL_ENABLE, 2);
	ck_assert_uint_eq(pri_calls, 1);
	ck_assert_int_eq(memcmp(host, e->f.cfg + 0x110, sizeof(host)), 0);
	cfg_wr(e, pri + PCI_PRI_CTRL, 0, 2);
	ck_assert_uint_eq(pri_calls, 2);
	ck_assert(!pri_last);
	ck_assert_uint_ne(cfg_rd(e, pri + PCI_PRI_STATUS, 2) & PCI_PRI_STATUS_STOPPED, 0);
	/* A machine reset turns the guest's PRI off (and says so). */
	cfg_wr(e, pri + PCI_PRI_CTRL, PCI_PRI_CTRL_ENABLE, 2);
	ck_assert(pri_last);
	pci_host_reset(e->host);
	ck_assert(!pri_last);
	ck_assert_uint_eq(cfg_rd(e, pri + PCI_PRI_CTRL, 2), 0);
	env_free(e);

	/* Not asked for (no IOMMU to back them): hidden, but the host's PRI is still known. */
	e = env_new_cfg(20, false);
	add_ats_pri(&e->f, true);
	create_with(e, false, false);
	ck_assert(vfio_pci_host_pri(e->d));
	ck_assert_uint_eq(pci_find_ext_cap(pd(e), PCI_EXT_CAP_ID_ATS), 0);
	ck_assert_uint_eq(pci_find_ext_cap(pd(e), PCI_EXT_CAP_ID_PRI), 0);
	env_free(e);

	/* ATS without PRI on the host: ATS shown, no PRI, no page requests. */
	e = env_new_cfg(20, false);
	add_ats_pri(&e->f, false);
	create_with(e, true, true);
	ck_assert(!vfio_pci_host_pri(e->d));
	ck_assert_uint_ne(pci_find_ext_cap(pd(e), PCI_EXT_CAP_ID_ATS), 0);
	ck_assert_uint_eq(pci_find_ext_cap(pd(e), PCI_EXT_CAP_ID_PRI), 0);
	env_free(e);
}
END_TEST

START_TEST(test_vendor_cap_passthrough)
{
	struct env *e = env_new();
	unsigned int v = pci_find_cap(pd(e), 0x09);
	struct vfio_pci_stats st;

	ck_assert_uint_ne(v, 0);
	ck_assert_uint_eq(cfg_rd(e, v + 2, 1), 8);
	ck_assert_uint_eq(cfg_rd(e, v + 3, 2), 0x115a);
	cfg_wr(e, v + 4, 0x77, 1);
	ck_assert_uint_eq(e->f.cfg[0x74], 0x77);
	ck_assert_uint_eq(cfg_rd(e, v + 4, 1), 0x77);
	/* The ID byte is ours: not forwarded. */
	cfg_wr(e, v, 0x33, 1);
	ck_assert_uint_eq(e->f.cfg[0x70], 0x09);
	vfio_pci_get_stats(e->d, &st);
	ck_assert_uint_eq(st.cfg_passthrough, 1);
	env_free(e);
}
END_TEST

START_TEST(test_command_forwarded)
{
	struct env *e = env_new();

	ck_assert_uint_eq(le16_load(e->f.cfg + PCI_COMMAND), 0);
	cfg_wr(e, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE, 2);
	ck_assert_uint_eq(le16_load(e->f.cfg + PCI_COMMAND), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	ck_assert_uint_eq(cfg_rd(e, PCI_COMMAND, 2),
			  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	cfg_wr(e, PCI_COMMAND, 0, 2);
	ck_assert_uint_eq(le16_load(e->f.cfg + PCI_COMMAND), 0);
	env_free(e);
}
END_TEST

START_TEST(test_intx)
{
	struct env *e = env_new();
	unsigned int gsi = pci_dev_gsi(pd(e)), n;

	ck_assert_int_eq(vfio_pci_irq_mode(e->d, &n), VFIO_PCI_IRQ_INTX);
	ck_assert_uint_eq(e->f.armed[0], 1);
	ck_assert_int_eq(vfio_pci_service(e->d), 0);
	fire(&e->f, 0, 0);
	ck_assert_int_eq(vfio_pci_service(e->d), 1);
	ck_assert(e->level[gsi]);
	ck_assert_uint_ne(cfg_rd(e, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
	vfio_pci_intx_eoi(e->d);
	ck_assert(!e->level[gsi]);
	ck_assert_uint_eq(e->f.unmasks, 1);
	/* A second EOI without an assertion does nothing. */
	vfio_pci_intx_eoi(e->d);
	ck_assert_uint_eq(e->f.unmasks, 1);
	ck_assert_int_eq(vfio_pci_irq_eventfd(e->d, 0), e->f.armed_fd[0][0]);
	env_free(e);
}
END_TEST

/* Enables memory decode + bus mastering and returns BAR2's guest address. */
static uint64_t enable_dev(struct env *e)
{
	cfg_wr(e, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_IO, 2);
	return pci_bar_addr(pd(e), 2);
}

START_TEST(test_msix)
{
	struct env *e = env_new();
	unsigned int msix = pci_find_cap(pd(e), PCI_CAP_ID_MSIX), n;
	uint64_t bar2 = enable_dev(e);

	fire(&e->f, 0, 0); /* an INTx edge that is never serviced before the switch */
	cfg_wr(e, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	ck_assert_int_eq(vfio_pci_irq_mode(e->d, &n), VFIO_PCI_IRQ_MSIX);
	ck_assert_uint_eq(n, 8);
	ck_assert_uint_eq(e->f.armed[0], 0);
	ck_assert_uint_eq(e->f.armed[2], 8);
	/* Vector 3: address/data programmed through the (trapped) table in BAR2. */
	bus_write(&e->bus, BUS_MMIO, bar2 + 3 * 16, 0xfee01000, 4);
	bus_write(&e->bus, BUS_MMIO, bar2 + 3 * 16 + 4, 0, 4);
	bus_write(&e->bus, BUS_MMIO, bar2 + 3 * 16 + 8, 0x4041, 4);
	bus_write(&e->bus, BUS_MMIO, bar2 + 3 * 16 + 12, 0, 4);
	ck_assert_uint_eq(le32_load(e->f.bar2 + 3 * 16 + 8), 0); /* never reached the device */
	fire(&e->f, 2, 3);
	ck_assert_int_eq(vfio_pci_service(e->d), 1);
	ck_assert_uint_eq(e->msis, 1);
	ck_assert_uint_eq(e->msi_addr, 0xfee01000);
	ck_assert_uint_eq(e->msi_data, 0x4041);
	ck_assert_uint_eq(e->msi_sid, SLOT << 3);
	/* Vector 5 stays masked (the reset state): pending until unmasked. */
	bus_write(&e->bus, BUS_MMIO, bar2 + 5 * 16, 0xfee02000, 4);
	bus_write(&e->bus, BUS_MMIO, bar2 + 5 * 16 + 8, 0x55, 4);
	fire(&e->f, 2, 5);
	ck_assert_int_eq(vfio_pci_service(e->d), 1);
	ck_assert_uint_eq(e->msis, 1);
	bus_write(&e->bus, BUS_MMIO, bar2 + 5 * 16 + 12, 0, 4);
	ck_assert_uint_eq(e->msis, 2);
	ck_assert_uint_eq(e->msi_data, 0x55);
	/* The eventfd the machine would give KVM_IRQFD. */
	ck_assert_int_eq(vfio_pci_irq_eventfd(e->d, 5), e->f.armed_fd[2][5]);
	ck_assert_int_eq(vfio_pci_irq_eventfd(e->d, 8), -1);
	/* Disable: MSI-X disarmed, INTx armed again. */
	cfg_wr(e, msix + PCI_MSIX_FLAGS, 0, 2);
	ck_assert_uint_eq(e->f.armed[2], 0);
	ck_assert_uint_eq(e->f.armed[0], 1);
	env_free(e);
}
END_TEST

START_TEST(test_msi)
{
	struct env *e = env_new();
	unsigned int msi = pci_find_cap(pd(e), PCI_CAP_ID_MSI), n;

	enable_dev(e);
	cfg_wr(e, msi + PCI_MSI_ADDRESS_LO, 0xfee00000, 4);
	cfg_wr(e, msi + PCI_MSI_DATA_64, 0x30, 2);
	/* Two vectors enabled (QSIZE = 1). */
	cfg_wr(e, msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (1 << 4), 2);
	ck_assert_int_eq(vfio_pci_irq_mode(e->d, &n), VFIO_PCI_IRQ_MSI);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(e->f.armed[1], 2);
	fire(&e->f, 1, 1);
	ck_assert_int_eq(vfio_pci_service(e->d), 1);
	ck_assert_uint_eq(e->msis, 1);
	ck_assert_uint_eq(e->msi_data, 0x31);
	/* Per-vector mask: masked vector 0 stays pending. */
	cfg_wr(e, msi + PCI_MSI_MASK_64, 1, 4);
	fire(&e->f, 1, 0);
	vfio_pci_service(e->d);
	ck_assert_uint_eq(e->msis, 1);
	cfg_wr(e, msi + PCI_MSI_MASK_64, 0, 4);
	ck_assert_uint_eq(e->msis, 2);
	ck_assert_uint_eq(e->msi_data, 0x30);
	/* Four vectors: re-armed with the new count. */
	cfg_wr(e, msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | (2 << 4), 2);
	ck_assert_uint_eq(e->f.armed[1], 4);
	cfg_wr(e, msi + PCI_MSI_FLAGS, 0, 2);
	ck_assert_uint_eq(e->f.armed[1], 0);
	ck_assert_uint_eq(e->f.armed[0], 1);
	env_free(e);
}
END_TEST

START_TEST(test_bar_access)
{
	struct env *e = env_new();
	struct vfio_pci_stats st;
	uint64_t bar0, bar4;
	void *map;
	uint64_t size;
	unsigned int preads;

	enable_dev(e);
	bar0 = pci_bar_addr(pd(e), 0);
	bar4 = pci_bar_addr(pd(e), 4);
	preads = e->f.preads;
	/* BAR0 is mmapped: accesses go to the mapping, not through pread. */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, bar0 + 0x10, 4), 0x42);
	bus_write(&e->bus, BUS_MMIO, bar0 + 0x20, 0xdeadbeef, 4);
	ck_assert_uint_eq(le32_load(e->f.bar0 + 0x20), 0xdeadbeef);
	ck_assert_uint_eq(e->f.preads, preads);
	/* BAR4 (I/O, no mmap): trapped to pread/pwrite. */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, bar4 + 4, 1), 0x99);
	bus_write(&e->bus, BUS_PIO, bar4 + 8, 0x1234, 2);
	ck_assert_uint_eq(le16_load(e->f.bar4 + 8), 0x1234);
	vfio_pci_get_stats(e->d, &st);
	ck_assert_uint_eq(st.bar_mmap, 2);
	ck_assert_uint_eq(st.bar_trap, 2);
	/* The machine may map BAR0 straight into the guest, never the MSI-X BAR. */
	ck_assert_int_eq(vfio_pci_bar_map(e->d, 0, &map, &size), 0);
	ck_assert_ptr_eq(map, e->f.bar0);
	ck_assert_uint_eq(size, sizeof(e->f.bar0));
	ck_assert_int_eq(vfio_pci_bar_map(e->d, 2, &map, &size), -ENOENT);
	ck_assert_int_eq(vfio_pci_bar_map(e->d, 4, &map, &size), -ENOENT);
	ck_assert_int_eq(vfio_pci_bar_map(e->d, 9, &map, &size), -ENOENT);
	env_free(e);
}
END_TEST

START_TEST(test_intx_eoi_on_bar_access)
{
	struct env *e = env_new();
	unsigned int gsi = pci_dev_gsi(pd(e));

	enable_dev(e);
	fire(&e->f, 0, 0);
	vfio_pci_service(e->d);
	ck_assert(e->level[gsi]);
	/* The driver reads its interrupt status: the line drops and VFIO unmasks. */
	bus_read(&e->bus, BUS_MMIO, pci_bar_addr(pd(e), 0), 4);
	ck_assert(!e->level[gsi]);
	ck_assert_uint_eq(e->f.unmasks, 1);
	env_free(e);
}
END_TEST

START_TEST(test_reset)
{
	struct env *e = env_new();
	unsigned int msix = pci_find_cap(pd(e), PCI_CAP_ID_MSIX);

	enable_dev(e);
	cfg_wr(e, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	ck_assert_uint_eq(e->f.armed[2], 8);
	pci_host_reset(e->host);
	ck_assert_uint_eq(e->f.resets, 1);
	ck_assert_uint_eq(e->f.armed[2], 0);
	ck_assert_uint_eq(e->f.armed[0], 1);
	ck_assert_uint_eq(le16_load(e->f.cfg + PCI_COMMAND), 0);
	ck_assert_uint_eq(cfg_rd(e, PCI_COMMAND, 2), 0);
	/* A device without VFIO reset support is not asked. */
	e->f.dev_flags &= ~VFD_DEVICE_FLAGS_RESET;
	env_free(e);
	e = env_new_cfg(20, false);
	e->f.dev_flags &= ~VFD_DEVICE_FLAGS_RESET;
	e->d = vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &(struct vfio_pci_config){ 0 }, e->err,
			       sizeof(e->err));
	ck_assert_ptr_nonnull(e->d);
	pci_host_reset(e->host);
	ck_assert_uint_eq(e->f.resets, 0);
	env_free(e);
}
END_TEST

START_TEST(test_create_errors)
{
	struct env *e = env_new_cfg(0, false);
	struct vfio_pci_config cfg = { 0 };

	e->f.dev_flags = 0; /* not PCI */
	ck_assert_ptr_null(vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &cfg, e->err, sizeof(e->err)));
	ck_assert_ptr_nonnull(strstr(e->err, "not a VFIO PCI device"));
	fake_init(&e->f);
	e->f.cfg[PCI_HEADER_TYPE] = 1; /* a bridge */
	ck_assert_ptr_null(vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &cfg, e->err, sizeof(e->err)));
	ck_assert_ptr_nonnull(strstr(e->err, "type-0"));
	fake_init(&e->f);
	ck_assert_ptr_null(vfio_pci_create(&e->sys, DEV_FD + 1, e->host, SLOT, &cfg, e->err,
					   sizeof(e->err)));
	fake_init(&e->f);
	/* Slot taken. */
	e->d = vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &cfg, e->err, sizeof(e->err));
	ck_assert_ptr_nonnull(e->d);
	ck_assert_ptr_null(vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &cfg, e->err, sizeof(e->err)));
	ck_assert_ptr_nonnull(strstr(e->err, "slot"));
	env_free(e);
}
END_TEST

START_TEST(test_options_and_host_paths)
{
	char host[256], cdev[256], err[256], dir[] = "/tmp/vfiopci-XXXXXX", p[512];

	ck_assert_int_eq(vfio_pci_parse_options("host=/dev/vfio/devices/vfio3", host, sizeof(host), err,
						sizeof(err)), 0);
	ck_assert_str_eq(host, "/dev/vfio/devices/vfio3");
	ck_assert_int_eq(vfio_pci_parse_options("", host, sizeof(host), err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "missing host="));
	ck_assert_int_eq(vfio_pci_parse_options("host=/x,speed=9", host, sizeof(host), err, sizeof(err)),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "speed=9"));

	ck_assert_int_eq(vfio_pci_resolve_host("/dev/vfio/devices/vfio-none-here", cdev, sizeof(cdev),
					       err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "does not exist"));
	ck_assert_int_eq(vfio_pci_resolve_host("ffff:ff:1f.7", cdev, sizeof(cdev), err, sizeof(err)),
			 -ENOENT);
	ck_assert_int_eq(vfio_pci_resolve_host("/dev/null", cdev, sizeof(cdev), err, sizeof(err)), 0);
	ck_assert_str_eq(cdev, "/dev/null");
	/* A sysfs device directory: its vfio-dev/vfioN names the cdev. */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(vfio_pci_resolve_host(dir, cdev, sizeof(cdev), err, sizeof(err)), -ENODEV);
	ck_assert_ptr_nonnull(strstr(err, "vfio-pci"));
	snprintf(p, sizeof(p), "%s/vfio-dev", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/vfio-dev/vfio7", dir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	ck_assert_int_eq(vfio_pci_resolve_host(dir, cdev, sizeof(cdev), err, sizeof(err)), 0);
	ck_assert_str_eq(cdev, "/dev/vfio/devices/vfio7");
	ck_assert_int_eq(vfio_pci_resolve_host(p, cdev, sizeof(cdev), err, sizeof(err)), 0);
	ck_assert_str_eq(cdev, "/dev/vfio/devices/vfio7");
	rmdir(p);
	snprintf(p, sizeof(p), "%s/vfio-dev", dir);
	rmdir(p);
	rmdir(dir);
}
END_TEST

/*
 * Host-side fault injection: create, config and BAR traffic, INTx, MSI-X on and off, reset
 * and destroy, with seam call n failing (0: none). Create fails with a message; at run time
 * the guest sees the failed access and the next access or IRQ reconfiguration works; nothing
 * (eventfd, mapping, armed IRQ index) leaks. Returns the number of seam calls.
 */
static unsigned int vpci_fault_run(unsigned int n)
{
	struct env *e = env_new_cfg(20, false);
	struct vfio_pci_config cfg = { .pasid_bits = 20 };
	unsigned int msix, mode_n, gsi, calls;
	uint64_t bar2, bar4;

	e->f.fail_call = n;
	e->d = vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &cfg, e->err, sizeof(e->err));
	if (!e->d) {
		ck_assert_msg(e->f.injected && e->err[0], "N=%u: create failed silently", n);
		calls = e->f.calls;
		env_free(e);
		return calls;
	}
	msix = pci_find_cap(pd(e), PCI_CAP_ID_MSIX);
	gsi = pci_dev_gsi(pd(e));
	bar2 = enable_dev(e);
	if (le16_load(e->f.cfg + PCI_COMMAND) != (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER |
						  PCI_COMMAND_IO))
		bar2 = enable_dev(e); /* the forwarded write failed: the guest writes it again */
	ck_assert_uint_eq(le16_load(e->f.cfg + PCI_COMMAND),
			  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_IO);
	bar4 = pci_bar_addr(pd(e), 4);
	if (bus_read(&e->bus, BUS_PIO, bar4 + 4, 1) != 0x99)
		ck_assert_uint_eq(bus_read(&e->bus, BUS_PIO, bar4 + 4, 1), 0x99);
	/* INTx: if arming failed at create, the next IRQ reconfiguration arms it. */
	if (!e->f.armed[0]) {
		ck_assert(e->f.injected);
		cfg_wr(e, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
		cfg_wr(e, msix + PCI_MSIX_FLAGS, 0, 2);
	}
	ck_assert_msg(e->f.armed[0] == 1, "N=%u: INTx not armed (mode %d)", n, (int)vfio_pci_irq_mode(e->d, &mode_n));
	fire(&e->f, 0, 0);
	if (vfio_pci_service(e->d) != 1)
		ck_assert_int_eq(vfio_pci_service(e->d), 1); /* the counter was not consumed */
	ck_assert(e->level[gsi]);
	vfio_pci_intx_eoi(e->d);
	ck_assert(!e->level[gsi]);
	/* MSI-X on: a failed switch leaves one consistent mode; writing it again completes it. */
	cfg_wr(e, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	if (vfio_pci_irq_mode(e->d, &mode_n) != VFIO_PCI_IRQ_MSIX || !e->f.armed[2]) {
		ck_assert_msg(e->f.injected, "N=%u: MSI-X not armed", n);
		cfg_wr(e, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	}
	ck_assert_int_eq(vfio_pci_irq_mode(e->d, &mode_n), VFIO_PCI_IRQ_MSIX);
	ck_assert_uint_eq(e->f.armed[2], 8);
	ck_assert_uint_eq(e->f.armed[0], 0);
	bus_write(&e->bus, BUS_MMIO, bar2 + 3 * 16, 0xfee01000, 4);
	bus_write(&e->bus, BUS_MMIO, bar2 + 3 * 16 + 8, 0x4041, 4);
	bus_write(&e->bus, BUS_MMIO, bar2 + 3 * 16 + 12, 0, 4);
	fire(&e->f, 2, 3);
	if (vfio_pci_service(e->d) != 1)
		ck_assert_int_eq(vfio_pci_service(e->d), 1);
	ck_assert_uint_eq(e->msis, 1);
	/* MSI-X off: INTx again. */
	cfg_wr(e, msix + PCI_MSIX_FLAGS, 0, 2);
	if (vfio_pci_irq_mode(e->d, &mode_n) != VFIO_PCI_IRQ_INTX || e->f.armed[2]) {
		ck_assert_msg(e->f.injected, "N=%u: INTx not re-armed", n);
		cfg_wr(e, msix + PCI_MSIX_FLAGS, 0, 2);
	}
	ck_assert_uint_eq(e->f.armed[2], 0);
	ck_assert_uint_eq(e->f.armed[0], 1);
	pci_host_reset(e->host);
	calls = e->f.calls;
	env_free(e); /* no eventfd left open, every mapping unmapped, no refused SET_IRQS */
	return calls;
}

START_TEST(test_each_seam_call_fails)
{
	unsigned int k = vpci_fault_run(0);

	ck_assert_uint_ge(k, 20);
	for (unsigned int n = 1; n <= k; n++)
		vpci_fault_run(n);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vfio-pci");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ids_and_bar_sizing);
	tcase_add_test(tc, test_capabilities);
	tcase_add_test(tc, test_ats_pri_exposed);
	tcase_add_test(tc, test_vendor_cap_passthrough);
	tcase_add_test(tc, test_command_forwarded);
	tcase_add_test(tc, test_intx);
	tcase_add_test(tc, test_msix);
	tcase_add_test(tc, test_msi);
	tcase_add_test(tc, test_bar_access);
	tcase_add_test(tc, test_intx_eoi_on_bar_access);
	tcase_add_test(tc, test_reset);
	tcase_add_test(tc, test_create_errors);
	tcase_add_test(tc, test_options_and_host_paths);
	tcase_add_test(tc, test_each_seam_call_fails);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
