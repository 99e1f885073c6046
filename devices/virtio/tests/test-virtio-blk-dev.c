/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for virtio-blk's device face (virtio-blk-fixture.h): PCI identity and
 * capabilities, feature negotiation, its -device options, indirect descriptors, the KVM
 * doorbell and requests served on the notifying thread. The requests themselves:
 * test-virtio-blk.c.
 */
#include "devices/virtio/tests/virtio-blk-fixture.h"

START_TEST(test_identity_caps)
{
	struct env *e = env_new(false, "");
	unsigned int types = 0, guard = 0;

	ck_assert_uint_eq(cfg_read(e, 0, 4), 0x10421af4);
	ck_assert_uint_eq(cfg_read(e, PCI_REVISION_ID, 1), 1);
	ck_assert_uint_eq(cfg_read(e, PCI_CLASS_DEVICE, 2), 0x0180);
	for (unsigned int c = cfg_read(e, PCI_CAPABILITY_LIST, 1); c && guard < 16; guard++) {
		if (cfg_read(e, c, 1) == 0x09) {
			unsigned int type = cfg_read(e, c + 3, 1);

			types |= 1u << type;
			ck_assert_uint_eq(cfg_read(e, c + 4, 1), 0);
			if (type == VIRTIO_PCI_CAP_NOTIFY) {
				ck_assert_uint_eq(cfg_read(e, c + 8, 4), VIRTIO_BAR_NOTIFY);
				ck_assert_uint_eq(cfg_read(e, c + 16, 4), VIRTIO_NOTIFY_MULT);
			}
			if (type == VIRTIO_PCI_CAP_COMMON)
				ck_assert_uint_ge(cfg_read(e, c + 12, 4), VIRTIO_COMMON_SIZE);
		}
		c = cfg_read(e, c + 1, 1);
	}
	ck_assert_uint_eq(types, 0x1e); /* common, notify, ISR, device */
	ck_assert(pci_find_cap(virtio_blk_pci_dev(e->blk), PCI_CAP_ID_MSIX));
	/* Device config: capacity in sectors, seg_max, blk_size. */
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_DEVICE, 8), IMG_SIZE / 512);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_DEVICE + 4, 4), IMG_SIZE / 512 >> 32);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_DEVICE + 20, 4), 512);
	/* Offered: VERSION_1, ACCESS_PLATFORM (high word), EVENT_IDX, INDIRECT, FLUSH, DISCARD. */
	wr(e, VIRTIO_COMMON_DFSELECT, 1, 4);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_DF, 4) & 3, 3);
	wr(e, VIRTIO_COMMON_DFSELECT, 0, 4);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_DF, 4) & (BIT_ULL(28) | BIT_ULL(29) | BIT_ULL(9) | BIT_ULL(13) | BIT_ULL(5)),
			  BIT_ULL(28) | BIT_ULL(29) | BIT_ULL(9) | BIT_ULL(13));
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_NUMQ, 2), 1);
	env_free(e);
}
END_TEST

START_TEST(test_features)
{
	struct env *e = env_new(true, "");

	/* No VERSION_1, unknown bits, or (behind an IOMMU) no ACCESS_PLATFORM: refused. */
	ck_assert_uint_eq(negotiate(e, BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)) &
			  VIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_uint_eq(negotiate(e, BIT_ULL(VIRTIO_F_VERSION_1)) & VIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_uint_eq(negotiate(e, BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM) |
				    BIT_ULL(40)) & VIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_uint_eq(negotiate(e, BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM)) &
			  VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	/* Features freeze after FEATURES_OK. */
	wr(e, VIRTIO_COMMON_GFSELECT, 0, 4);
	wr(e, VIRTIO_COMMON_GF, 0xffffffff, 4);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_GF, 4), 0);
	/* A queue with a size that is not a power of two: device error. */
	wr(e, VIRTIO_COMMON_Q_SIZE, 6, 2);
	wr(e, VIRTIO_COMMON_Q_ENABLE, 1, 2);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_Q_ENABLE, 2), 0);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET,
			  VIRTIO_STATUS_NEEDS_RESET);
	/* MSI-X vectors beyond the table read back as NO_VECTOR. */
	wr(e, VIRTIO_COMMON_MSIX, 1, 2);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_MSIX, 2), 1);
	wr(e, VIRTIO_COMMON_MSIX, 2, 2);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	wr(e, VIRTIO_COMMON_STATUS, 0, 1);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1), 0);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	env_free(e);
}
END_TEST

/* A KVM_IOEVENTFD stand-in: what is assigned where, and a switch to refuse. */
struct fake_doorbells {
	uint64_t gpa;
	unsigned int len, assigns, deassigns;
	int efd;
	bool assigned;
	int fail;
};

static int fake_ioeventfd(void *ctx, uint64_t gpa, unsigned int len, int efd, bool assign)
{
	struct fake_doorbells *f = ctx;

	if (assign && f->fail)
		return f->fail;
	if (assign) {
		ck_assert(!f->assigned);
		f->gpa = gpa;
		f->len = len;
		f->efd = efd;
		f->assigns++;
	} else {
		ck_assert(f->assigned);
		ck_assert_uint_eq(gpa, f->gpa);
		ck_assert_int_eq(efd, f->efd);
		f->deassigns++;
	}
	f->assigned = assign;
	return 0;
}

/* Queue 0 carries one 512-byte read of sector 3; nothing is notified yet. */
static void post_read(struct env *e)
{
	put(e, HDR, 0, 4); /* IN */
	put(e, HDR + 4, 0, 4);
	put(e, HDR + 8, 3, 8);
	e->ram[STATUS] = 0xee;
	memset(e->ram + DATA, 0, 512);
	desc(e, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(e, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
	desc(e, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	put(e, AVAIL + 4 + 2 * (e->next_avail % QSZ), 0, 2);
	put(e, AVAIL + 2, ++e->next_avail, 2);
}

/*
 * Doorbells: assigned at BAR0 + notify while decode is on, moved with the BAR, removed with
 * decode; ringing one (what KVM does on the guest's write) serves the queue with no exit; a
 * refused assignment leaves the MMIO path.
 */
START_TEST(test_doorbell)
{
	struct env *e = env_new(false, "");
	struct pci_dev *dev = virtio_blk_pci_dev(e->blk);
	struct fake_doorbells f = { .efd = -1 };
	struct virtio_counts c;
	struct pci_dev other = { 0 };
	uint8_t want[512];
	uint64_t one = 1, moved;

	ck_assert_int_eq(virtio_set_ioeventfd(&other, fake_ioeventfd, &f), -EINVAL);
	ck_assert_int_eq(virtio_set_ioeventfd(dev, fake_ioeventfd, &f), 0);
	ck_assert(f.assigned);
	ck_assert_uint_eq(f.gpa, e->bar + VIRTIO_BAR_NOTIFY);
	ck_assert_uint_eq(f.len, 2);
	bring_up(e);
	post_read(e);
	ck_assert_int_eq(write(f.efd, &one, sizeof(one)), (ssize_t)sizeof(one));
	for (unsigned int i = 0; i < 5000 && e->ram[STATUS] == 0xee; i++)
		usleep(1000);
	ck_assert_uint_eq(e->ram[STATUS], 0); /* OK */
	file_read(e, 3 * 512, want, sizeof(want));
	ck_assert_mem_eq(e->ram + DATA, want, sizeof(want));
	virtio_pci_drain(virtio_blk_transport(e->blk));
	ck_assert_int_eq(virtio_get_counts(dev, &c), 0);
	ck_assert_uint_eq(c.doorbells, 1);
	ck_assert_uint_eq(c.notify_exits, 0);
	ck_assert_uint_eq(c.requests, 1);

	/* Decode off: gone; a new BAR address, decode on: back at the new place. */
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	ck_assert(!f.assigned);
	moved = e->bar + 0x100000;
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_BAR0, moved, 4);
	ck_assert(!f.assigned);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert(f.assigned);
	ck_assert_uint_eq(f.gpa, moved + VIRTIO_BAR_NOTIFY);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_BAR0, e->bar, 4);

	/* KVM refuses: no doorbell, the notify exits and is served all the same. */
	f.fail = -ENOSPC;
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + PCI_COMMAND,
		  PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
	ck_assert(!f.assigned);
	ck_assert_uint_eq(request(e, 0, 3, 512, true), 0);
	ck_assert_int_eq(virtio_get_counts(dev, &c), 0);
	ck_assert_uint_eq(c.notify_exits, 1);
	ck_assert_uint_eq(c.requests, 2);
	f.fail = 0;
	env_free(e);
	ck_assert(!f.assigned);
	ck_assert_uint_eq(f.assigns, f.deassigns);
}
END_TEST

/*
 * io=vcpu: no doorbell is assigned even with the hook and decode on; a notify is served before
 * the write returns, on the writer's thread (no drain), and counted as such.
 */
START_TEST(test_serve_on_vcpu)
{
	struct env *e = env_new(false, "");
	struct pci_dev *dev = virtio_blk_pci_dev(e->blk);
	struct fake_doorbells f = { .efd = -1 };
	struct virtio_counts c;
	uint8_t want[512];

	ck_assert_int_eq(virtio_set_ioeventfd(dev, fake_ioeventfd, &f), 0);
	ck_assert(!f.assigned);
	ck_assert_uint_eq(f.assigns, 0);
	bring_up(e);
	post_read(e);
	wr(e, VIRTIO_BAR_NOTIFY, 0, 2);
	ck_assert_uint_eq(e->ram[STATUS], 0); /* done when the exit returns */
	file_read(e, 3 * 512, want, sizeof(want));
	ck_assert_mem_eq(e->ram + DATA, want, sizeof(want));
	ck_assert_uint_eq(get(e, USED + 2, 2), 1);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 0);
	ck_assert(pthread_equal(sync_thread, pthread_self()));
	ck_assert_int_eq(virtio_get_counts(dev, &c), 0);
	ck_assert_uint_eq(c.requests, 2);
	ck_assert_uint_eq(c.vcpu_requests, 2);
	ck_assert_uint_eq(c.notify_exits, 2);
	ck_assert_uint_eq(c.doorbells, 0);
	env_free(e);
}
END_TEST

/* Indirect descriptors: offered unless a vIOMMU translates the device (auto), or as told. */
static bool indirect_offered(struct env *e)
{
	wr(e, VIRTIO_COMMON_DFSELECT, 0, 4);
	return rd(e, VIRTIO_COMMON_DF, 4) & BIT_ULL(VIRTIO_F_INDIRECT_DESC);
}

START_TEST(test_indirect)
{
	const uint64_t base = BIT_ULL(VIRTIO_F_VERSION_1) | BIT_ULL(VIRTIO_F_ACCESS_PLATFORM);
	const uint64_t ind = BIT_ULL(VIRTIO_F_INDIRECT_DESC);
	struct env *e = env_new(true, "");

	/* Behind the IOMMU by default: not offered, and a driver that sets it is refused. */
	ck_assert(!indirect_offered(e));
	ck_assert_uint_eq(negotiate(e, base | ind) & VIRTIO_STATUS_FEATURES_OK, 0);
	ck_assert_uint_eq(negotiate(e, base) & VIRTIO_STATUS_FEATURES_OK, VIRTIO_STATUS_FEATURES_OK);
	env_free(e);
	/* indirect=on behind the IOMMU: offered and accepted. */
	e = env_new(true, ",indirect=on");
	ck_assert(indirect_offered(e));
	ck_assert_uint_eq(negotiate(e, base | ind) & VIRTIO_STATUS_FEATURES_OK,
			  VIRTIO_STATUS_FEATURES_OK);
	env_free(e);
	/* No IOMMU: offered by default, not with indirect=off. */
	e = env_new(false, "");
	ck_assert(indirect_offered(e));
	env_free(e);
	e = env_new(false, ",indirect=off");
	ck_assert(!indirect_offered(e));
	ck_assert_uint_eq(negotiate(e, BIT_ULL(VIRTIO_F_VERSION_1) | ind) & VIRTIO_STATUS_FEATURES_OK, 0);
	env_free(e);
}
END_TEST

START_TEST(test_options)
{
	struct virtio_blk_options o;
	char err[200];

	ck_assert_int_eq(virtio_blk_parse_options("file=/x,readonly=on,cache=none", &o, err,
						  sizeof(err)), 0);
	ck_assert_str_eq(o.file, "/x");
	ck_assert(o.readonly);
	ck_assert_int_eq(o.cache, VIRTIO_BLK_CACHE_NONE);
	ck_assert(!o.no_ioeventfd);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,ioeventfd=off", &o, err, sizeof(err)), 0);
	ck_assert(o.no_ioeventfd);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,ioeventfd=on", &o, err, sizeof(err)), 0);
	ck_assert(!o.no_ioeventfd);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,ioeventfd=1", &o, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(o.indirect, VIRTIO_INDIRECT_AUTO);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,indirect=on", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.indirect, VIRTIO_INDIRECT_ON);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,indirect=off", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.indirect, VIRTIO_INDIRECT_OFF);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,indirect=auto", &o, err, sizeof(err)),
			 -EINVAL);
	/* io: auto by default; doorbells asked for make auto a thread and refuse vcpu. */
	ck_assert_int_eq(o.io, VIRTIO_IO_AUTO);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,io=vcpu", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.io, VIRTIO_IO_VCPU);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,io=thread", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.io, VIRTIO_IO_THREAD);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,ioeventfd=on", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.io, VIRTIO_IO_THREAD);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,io=vcpu,ioeventfd=off", &o, err,
						  sizeof(err)), 0);
	ck_assert_int_eq(o.io, VIRTIO_IO_VCPU);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,ioeventfd=off", &o, err, sizeof(err)), 0);
	ck_assert_int_eq(o.io, VIRTIO_IO_AUTO);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,io=vcpu,ioeventfd=on", &o, err,
						  sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "io=thread"));
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,io=inline", &o, err, sizeof(err)),
			 -EINVAL);
	ck_assert(virtio_blk_io_on_vcpu(VIRTIO_IO_AUTO, 1));
	ck_assert(!virtio_blk_io_on_vcpu(VIRTIO_IO_AUTO, 2));
	ck_assert(!virtio_blk_io_on_vcpu(VIRTIO_IO_AUTO, 0));
	ck_assert(!virtio_blk_io_on_vcpu(VIRTIO_IO_THREAD, 1));
	ck_assert(virtio_blk_io_on_vcpu(VIRTIO_IO_VCPU, 8));
	ck_assert_int_eq(virtio_blk_parse_options("", &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "file=IMG"));
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,cache=bogus", &o, err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,readonly", &o, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(virtio_blk_parse_options("file=/x,foo=1", &o, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_null(strchr(err, '\n'));
}
END_TEST

static Suite *dev_suite(void)
{
	Suite *s = suite_create("virtio-blk-dev");
	TCase *tc = tcase_create("thread");
	TCase *vc = tcase_create("vcpu");

	tcase_set_timeout(tc, 30);
	tcase_set_timeout(vc, 30);
	tcase_add_checked_fixture(tc, use_thread, NULL);
	tcase_add_checked_fixture(vc, use_vcpu, NULL);
	tcase_add_test(tc, test_identity_caps);
	tcase_add_test(tc, test_features);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_indirect);
	tcase_add_test(tc, test_doorbell);
	tcase_add_test(vc, test_serve_on_vcpu);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, vc);
	return s;
}

int main(void)
{
	return check_run_suite(dev_suite());
}
