/* SPDX-License-Identifier: MIT */
/* Unit tests of the vfio-pci model's BAR memory slots against a fake memslot service. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "common/bits.h"
#include "vmm/core/memslot.h"
#include "vpci-fake.h"

#define WIN_SIZE 0x3ec00000ULL
#define MAX_SLOTS 16

/* The fake machine side: its slots, a window like the board's, an injectable refusal. */
struct fms {
	struct { bool used; uint64_t gpa, size; void *hva; } s[MAX_SLOTS];
	unsigned int adds, removes, live;
	int fail_next;            /* next add returns this */
	struct env *e;
	bool level_at_remove;     /* the INTx line was already up when a slot went */
};

static int fms_add(void *ctx, uint64_t gpa, uint64_t size, void *hva, unsigned int *ret_id)
{
	struct fms *m = ctx;

	ck_assert(IS_ALIGNED(gpa, MEMSLOT_PAGE) && IS_ALIGNED(size, MEMSLOT_PAGE) && size);
	if (m->fail_next) {
		int r = m->fail_next;

		m->fail_next = 0;
		return r;
	}
	if (gpa < MMIO || gpa - MMIO >= WIN_SIZE || size > WIN_SIZE - (gpa - MMIO))
		return -EINVAL;
	for (unsigned int i = 0; i < MAX_SLOTS; i++)
		ck_assert(!m->s[i].used || gpa + size <= m->s[i].gpa || m->s[i].gpa + m->s[i].size <= gpa);
	for (unsigned int i = 0; i < MAX_SLOTS; i++) {
		if (m->s[i].used)
			continue;
		m->s[i].used = true;
		m->s[i].gpa = gpa;
		m->s[i].size = size;
		m->s[i].hva = hva;
		m->adds++;
		m->live++;
		*ret_id = i;
		return 0;
	}
	return -ENOSPC;
}

static void fms_remove(void *ctx, unsigned int id)
{
	struct fms *m = ctx;

	ck_assert_uint_lt(id, MAX_SLOTS);
	ck_assert(m->s[id].used);
	if (m->e && m->e->level[pci_dev_gsi(pd(m->e))])
		m->level_at_remove = true;
	m->s[id].used = false;
	m->removes++;
	m->live--;
}

static const struct memslot_ops fms_ops = { .add = fms_add, .remove = fms_remove };

/* The slot at gpa, or NULL. */
static const void *slot_at(struct fms *m, uint64_t gpa, uint64_t *ret_size)
{
	for (unsigned int i = 0; i < MAX_SLOTS; i++) {
		if (m->s[i].used && m->s[i].gpa == gpa) {
			*ret_size = m->s[i].size;
			return m->s[i].hva;
		}
	}
	return NULL;
}

static void attach(struct env *e, struct fms *m)
{
	struct memslots ms = { .ops = &fms_ops, .ctx = m };

	memset(m, 0, sizeof(*m));
	m->e = e;
	vfio_pci_set_memslots(e->d, &ms);
}

static void decode(struct env *e, bool on)
{
	cfg_wr(e, PCI_COMMAND, on ? PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_IO : 0, 2);
}

START_TEST(test_mapped_while_decoded)
{
	struct env *e = env_new();
	struct vfio_pci_stats st;
	struct fms m;
	uint64_t bar0 = pci_bar_addr(pd(e), 0), size = 0;

	attach(e, &m);
	ck_assert_uint_eq(m.live, 0); /* decode is off after reset */
	decode(e, true);
	/* BAR0 (16 KiB, mmap-able) is a slot at its address backed by the mmap. */
	ck_assert_ptr_eq(slot_at(&m, bar0, &size), e->f.bar0);
	ck_assert_uint_eq(size, sizeof(e->f.bar0));
	/* BAR2 is only the MSI-X table's and PBA's pages; BAR4 is I/O without mmap. */
	ck_assert_uint_eq(m.live, 1);
	/* Writing the command register again changes nothing. */
	decode(e, true);
	ck_assert_uint_eq(m.adds, 1);
	ck_assert_uint_eq(m.removes, 0);
	/* Decode off: the slot goes, accesses trap (and with decode off, hit nothing). */
	decode(e, false);
	ck_assert_uint_eq(m.live, 0);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, bar0 + 0x10, 4), 0); /* unclaimed: 0 */
	decode(e, true);
	ck_assert_uint_eq(m.live, 1);
	/* A trapped access still works (the part of a BAR a slot does not cover). */
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, bar0 + 0x10, 4), 0x42);
	vfio_pci_get_stats(e->d, &st);
	ck_assert_uint_eq(st.slots[0].maps, 2);
	ck_assert_uint_eq(st.slots[0].unmaps, 1);
	ck_assert_uint_eq(st.slots[0].gpa, bar0);
	ck_assert_uint_eq(st.slots[0].bytes, sizeof(e->f.bar0));
	ck_assert_uint_eq(st.slots[2].maps, 0);
	ck_assert_uint_eq(st.slots[4].maps, 0);
	env_free(e); /* destroy removes the slot before the mmap goes */
	ck_assert_uint_eq(m.live, 0);
}
END_TEST

START_TEST(test_moved_with_the_bar)
{
	struct env *e = env_new();
	struct vfio_pci_stats st;
	struct fms m;
	uint64_t size, to = MMIO + 0x100000;

	attach(e, &m);
	decode(e, true);
	/* The guest moves BAR0 (64-bit: low dword, then high dword) with decode on. */
	cfg_wr(e, PCI_BAR0, (uint32_t)to, 4);
	cfg_wr(e, PCI_BAR0 + 4, 0, 4);
	ck_assert_uint_eq(m.live, 1);
	ck_assert_ptr_eq(slot_at(&m, to, &size), e->f.bar0);
	/* Above the window: refused by the machine, the BAR stays trapped. */
	cfg_wr(e, PCI_BAR0 + 4, 1, 4);
	ck_assert_uint_eq(pci_bar_addr(pd(e), 0), to | 1ULL << 32);
	ck_assert_uint_eq(m.live, 0);
	vfio_pci_get_stats(e->d, &st);
	ck_assert_uint_ge(st.slots[0].refused, 1);
	/* Back in the window. */
	cfg_wr(e, PCI_BAR0 + 4, 0, 4);
	ck_assert_ptr_eq(slot_at(&m, to, &size), e->f.bar0);
	/* BAR sizing (all-ones) with decode on moves it out of the window: no slot. */
	cfg_wr(e, PCI_BAR0, 0xffffffff, 4);
	ck_assert_uint_eq(m.live, 0);
	cfg_wr(e, PCI_BAR0, (uint32_t)MMIO, 4);
	ck_assert_ptr_eq(slot_at(&m, MMIO, &size), e->f.bar0);
	ck_assert_uint_eq(m.live, 1);
	env_free(e);
	ck_assert_uint_eq(m.live, 0);
}
END_TEST

/* A device whose 32 KiB BAR2 holds the MSI-X table at tbl and the PBA at pba. */
static struct env *env_msix_layout(uint32_t tbl, uint32_t pba)
{
	struct env *e = env_new_cfg(0, false);
	struct vfio_pci_config cfg = { 0 };

	e->f.reg[2].size = sizeof(e->f.bar2);
	le32_store(e->f.cfg + 0x64, tbl | 2);
	le32_store(e->f.cfg + 0x68, pba | 2);
	e->d = vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &cfg, e->err, sizeof(e->err));
	ck_assert_msg(e->d != NULL, "%s", e->err);
	return e;
}

START_TEST(test_msix_pages_stay_trapped)
{
	struct env *e = env_msix_layout(0x2000, 0x3800);
	unsigned int msix = pci_find_cap(pd(e), PCI_CAP_ID_MSIX);
	struct fms m;
	uint64_t bar2, size;

	attach(e, &m);
	decode(e, true);
	bar2 = pci_bar_addr(pd(e), 2);
	/* Table page 0x2000 and PBA page 0x3000 excluded: [0, 0x2000) and [0x4000, 0x8000). */
	ck_assert_uint_eq(m.live, 3); /* with BAR0 */
	ck_assert_ptr_eq(slot_at(&m, bar2, &size), e->f.bar2);
	ck_assert_uint_eq(size, 0x2000);
	ck_assert_ptr_eq(slot_at(&m, bar2 + 0x4000, &size), e->f.bar2 + 0x4000);
	ck_assert_uint_eq(size, 0x4000);
	for (unsigned int i = 0; i < MAX_SLOTS; i++)
		ck_assert(!m.s[i].used || m.s[i].gpa + m.s[i].size <= bar2 + 0x2000 ||
			  m.s[i].gpa >= bar2 + 0x4000);
	/* The table stays the PCI layer's: a write there never reaches the device's memory. */
	cfg_wr(e, msix + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	bus_write(&e->bus, BUS_MMIO, bar2 + 0x2000 + 8, 0x4321, 4);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, bar2 + 0x2000 + 8, 4), 0x4321);
	ck_assert_uint_eq(le32_load(e->f.bar2 + 0x2000 + 8), 0);
	/* Enabling MSI-X re-synced without churn. */
	ck_assert_uint_eq(m.adds, 3);
	env_free(e);
	ck_assert_uint_eq(m.live, 0);

	/* Table and PBA apart: three pieces, [0, 0x2000), [0x3000, 0x6000), [0x7000, 0x8000). */
	e = env_msix_layout(0x2000, 0x6000);
	attach(e, &m);
	decode(e, true);
	bar2 = pci_bar_addr(pd(e), 2);
	ck_assert_uint_eq(m.live, 4);
	ck_assert_ptr_eq(slot_at(&m, bar2, &size), e->f.bar2);
	ck_assert_uint_eq(size, 0x2000);
	ck_assert_ptr_eq(slot_at(&m, bar2 + 0x3000, &size), e->f.bar2 + 0x3000);
	ck_assert_uint_eq(size, 0x3000);
	ck_assert_ptr_eq(slot_at(&m, bar2 + 0x7000, &size), e->f.bar2 + 0x7000);
	ck_assert_uint_eq(size, 0x1000);
	env_free(e);

	/* Table at the end, PBA right after it in the same page: one piece [0, 0x7000). */
	e = env_msix_layout(0x7000, 0x7800);
	attach(e, &m);
	decode(e, true);
	bar2 = pci_bar_addr(pd(e), 2);
	ck_assert_ptr_eq(slot_at(&m, bar2, &size), e->f.bar2);
	ck_assert_uint_eq(size, 0x7000);
	ck_assert_uint_eq(m.live, 2);
	env_free(e);
}
END_TEST

START_TEST(test_not_mmapable_never_mapped)
{
	struct env *e = env_new_cfg(0, false);
	struct vfio_pci_config cfg = { 0 };
	struct vfio_pci_stats st;
	struct fms m;

	/* BAR0 without VFIO's mmap flag: trapped by pread/pwrite, never a slot. */
	e->f.reg[0].flags &= ~VFD_REGION_MMAP;
	e->d = vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &cfg, e->err, sizeof(e->err));
	ck_assert_ptr_nonnull(e->d);
	attach(e, &m);
	decode(e, true);
	ck_assert_uint_eq(m.adds, 0);
	ck_assert_uint_eq(bus_read(&e->bus, BUS_MMIO, pci_bar_addr(pd(e), 0) + 0x10, 4), 0x42);
	vfio_pci_get_stats(e->d, &st);
	ck_assert_uint_eq(st.bar_trap, 1);
	env_free(e);

	/* mmap-able, but not a page multiple: never mmapped, so never a slot. */
	e = env_new_cfg(0, false);
	e->f.reg[0].size = sizeof(e->f.bar0) - 0x800;
	e->d = vfio_pci_create(&e->sys, DEV_FD, e->host, SLOT, &cfg, e->err, sizeof(e->err));
	ck_assert_ptr_nonnull(e->d);
	attach(e, &m);
	decode(e, true);
	ck_assert_uint_eq(m.adds, 0);
	env_free(e);

	/* No service (or taken away): everything traps, slots removed. */
	e = env_new();
	attach(e, &m);
	decode(e, true);
	ck_assert_uint_eq(m.live, 1);
	vfio_pci_set_memslots(e->d, NULL);
	ck_assert_uint_eq(m.live, 0);
	decode(e, false);
	decode(e, true);
	ck_assert_uint_eq(m.adds, 1);
	env_free(e);
}
END_TEST

START_TEST(test_intx_traps_until_eoi)
{
	struct env *e = env_new();
	unsigned int gsi = pci_dev_gsi(pd(e));
	struct fms m;

	attach(e, &m);
	decode(e, true);
	ck_assert_int_eq(vfio_pci_irq_mode(e->d, NULL), VFIO_PCI_IRQ_INTX);
	ck_assert_uint_eq(m.live, 1);
	/* The interrupt: the slot goes before the line rises, so the handler's read traps. */
	fire(&e->f, 0, 0);
	ck_assert_int_eq(vfio_pci_service(e->d), 1);
	ck_assert(e->level[gsi]);
	ck_assert_uint_eq(m.live, 0);
	ck_assert(!m.level_at_remove);
	/* That read is the EOI: line down, VFIO unmasked, slot back. */
	bus_read(&e->bus, BUS_MMIO, pci_bar_addr(pd(e), 0), 4);
	ck_assert(!e->level[gsi]);
	ck_assert_uint_eq(e->f.unmasks, 1);
	ck_assert_uint_eq(m.live, 1);
	/* With MSI-X armed, INTx plays no part. */
	cfg_wr(e, pci_find_cap(pd(e), PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	ck_assert_uint_eq(m.live, 1);
	env_free(e);
}
END_TEST

START_TEST(test_reset_and_refusal)
{
	struct env *e = env_new();
	struct vfio_pci_stats st;
	struct fms m;
	uint64_t size;

	attach(e, &m);
	/* The machine refuses once (say another slot is there): trapped, retried next time. */
	m.fail_next = -EEXIST;
	decode(e, true);
	ck_assert_uint_eq(m.live, 0);
	cfg_wr(e, PCI_BAR0, (uint32_t)pci_bar_addr(pd(e), 0), 4);
	ck_assert_uint_eq(m.live, 1);
	vfio_pci_get_stats(e->d, &st);
	ck_assert_uint_eq(st.slots[0].refused, 1);
	ck_assert_uint_eq(st.slots[0].maps, 1);
	/* A machine reset puts config back (decode off): the slot goes. */
	pci_host_reset(e->host);
	ck_assert_uint_eq(m.live, 0);
	decode(e, true);
	ck_assert_ptr_eq(slot_at(&m, pci_bar_addr(pd(e), 0), &size), e->f.bar0);
	env_free(e);
	ck_assert_uint_eq(m.live, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vfio-pci-bar");
	TCase *tc = tcase_create("slots");

	tcase_add_test(tc, test_mapped_while_decoded);
	tcase_add_test(tc, test_moved_with_the_bar);
	tcase_add_test(tc, test_msix_pages_stay_trapped);
	tcase_add_test(tc, test_not_mmapable_never_mapped);
	tcase_add_test(tc, test_intx_traps_until_eoi);
	tcase_add_test(tc, test_reset_and_refusal);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
