/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for virtio-blk's requests (virtio-blk-fixture.h): reads, writes and flushes
 * reaching the image, data in place or bounced through the vIOMMU, what the write watch learns,
 * a read-only disk, a hostile ring, MSI-X, a kill after a completed flush; each on the I/O
 * thread and again on the notifying thread (io=vcpu). The device's PCI face, its options and
 * the doorbell: test-virtio-blk-dev.c.
 */
#include "devices/virtio/tests/virtio-blk-fixture.h"

START_TEST(test_read_write_flush)
{
	struct env *e = env_new(true, "");
	uint8_t buf[4096], exp[4096];
	unsigned int gsi = pci_dev_gsi(virtio_blk_pci_dev(e->blk));

	bring_up(e);
	/* Read sectors 8..15 (4 KiB): the image's pattern. */
	ck_assert_uint_eq(request(e, 0, 8, 4096, true), 0);
	file_read(e, 8 * 512, exp, 4096);
	ck_assert_mem_eq(e->ram + DATA, exp, 4096);
	ck_assert_uint_eq(get(e, USED + 2, 2), 1);
	ck_assert_uint_eq(get(e, USED + 8, 4), 4097);
	/* INTx with ISR bit 0 (MSI-X is off); reading the ISR lowers it. */
	ck_assert(e->irq.level[gsi]);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_ISR, 1), 1);
	ck_assert(!e->irq.level[gsi]);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_ISR, 1), 0);
	/* Write sector 100, flush, read it back from the file and through the device. */
	for (unsigned int i = 0; i < 512; i++)
		e->ram[DATA + i] = (uint8_t)(0xa5 ^ i);
	memcpy(exp, e->ram + DATA, 512);
	ck_assert_uint_eq(request(e, 1, 100, 512, false), 0);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 0);
	file_read(e, 100 * 512, buf, 512);
	ck_assert_mem_eq(buf, exp, 512);
	memset(e->ram + DATA, 0, 512);
	ck_assert_uint_eq(request(e, 0, 100, 512, true), 0);
	ck_assert_mem_eq(e->ram + DATA, exp, 512);
	/* Past the end, a partial sector, an unknown type. */
	ck_assert_uint_eq(request(e, 0, IMG_SIZE / 512, 512, true), 1);
	ck_assert_uint_eq(request(e, 0, IMG_SIZE / 512 - 1, 1024, true), 1);
	ck_assert_uint_eq(request(e, 0, ~0ULL / 256, 512, true), 1);
	ck_assert_uint_eq(request(e, 1, 0, 100, false), 1);
	ck_assert_uint_eq(request(e, 77, 0, 0, false), 2);
	/* Get-id: the image's file name, 20 bytes at most. */
	memset(e->ram + DATA, 0, 64);
	ck_assert_uint_eq(request(e, 8, 0, 20, true), 0);
	ck_assert_mem_eq(e->ram + DATA, strrchr(e->path, '/') + 1, 20);
	/* Discard 8 sectors at 16: zeros afterwards (or data kept where holes are unsupported). */
	put(e, DATA, 16, 8);
	put(e, DATA + 8, 8, 4);
	put(e, DATA + 12, 0, 4);
	ck_assert_uint_eq(request(e, 11, 0, 16, false), 0);
	put(e, DATA + 8, 1u << 30, 4);
	ck_assert_uint_eq(request(e, 11, 0, 16, false), 1);
	put(e, DATA + 8, 8, 4);
	put(e, DATA + 12, 2, 4);
	ck_assert_uint_eq(request(e, 11, 0, 16, false), 2);
	/* The data buffer blocked by the IOMMU: an I/O error, the fault recorded there. */
	e->iommu.blocked = DATA;
	ck_assert_uint_eq(request(e, 0, 0, 512, true), 1);
	ck_assert_uint_ne(e->iommu.faults, 0);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET, 0);
	env_free(e);
}
END_TEST

/*
 * Data moves in place (one preadv / pwritev on the mapped guest pieces) when the request maps
 * into at most 256 pieces, and through the bounce buffer when it does not; both follow the
 * IOMMU. The fake IOMMU swaps neighbouring 512-byte pieces of the data window, so every piece
 * is its own iovec: 128 KiB is 256 pieces (mapped), 256 KiB is 512 (bounce: the mapping stops
 * at the 257th translation, then the copy translates all 512 again).
 */
START_TEST(test_data_in_place_or_bounced)
{
	static const uint32_t sizes[] = { 128 * 1024, 256 * 1024 };
	const uint64_t status = 0x150000, sector = 24;
	struct env *e = env_new(true, "");
	uint8_t *exp = malloc(256 * 1024), *buf = malloc(256 * 1024);

	bring_up(e);
	e->iommu.swap_lo = DATA;
	e->iommu.swap_hi = DATA + 256 * 1024;
	for (unsigned int t = 0; t < ARRAY_SIZE(sizes); t++) {
		uint32_t len = sizes[t];
		unsigned int calls;

		/* Read: chunk k of the data lands at piece k ^ 1 of the buffer. */
		memset(e->ram + DATA, 0, len);
		e->iommu.calls = 0;
		ck_assert_uint_eq(request_at(e, 0, sector, len, true, status), 0);
		calls = e->iommu.calls;
		file_read(e, sector * 512, exp, len);
		for (uint32_t k = 0; k < len / 512; k++)
			ck_assert_mem_eq(e->ram + DATA + 512 * (k ^ 1), exp + 512 * k, 512);
		/* 256 pieces + the ring, header and status; 257 + 512 + those when bounced. */
		if (len / 512 <= 256)
			ck_assert_uint_lt(calls, len / 512 + 32);
		else
			ck_assert_uint_ge(calls, 257 + len / 512);
		/* Write: the image gets piece k ^ 1 of the buffer as its chunk k. */
		for (uint32_t i = 0; i < len; i++)
			e->ram[DATA + i] = (uint8_t)(i * 7 + t);
		ck_assert_uint_eq(request_at(e, 1, sector, len, false, status), 0);
		file_read(e, sector * 512, buf, len);
		for (uint32_t k = 0; k < len / 512; k++)
			ck_assert_mem_eq(buf + 512 * k, e->ram + DATA + 512 * (k ^ 1), 512);
	}
	free(exp);
	free(buf);
	env_free(e);
}
END_TEST

/*
 * The write watch (vmm/core/gmem-watch.h) learns of the pages a read fills: in place (preadv
 * into dma_map's pointers, then dma_written) as well as the status byte (dma_write). A write
 * request only reads guest memory: its data pages are not stamped.
 */
START_TEST(test_reads_tell_the_watch)
{
	struct gmem_wpage *data, *st;
	struct env *e;
	uint64_t e0;

	env_watch = true;
	e = env_new(false, "");
	env_watch = false;
	bring_up(e);
	data = gmem_watch_add(&e->gm, DATA + 4096);
	st = gmem_watch_add(&e->gm, STATUS);
	ck_assert_ptr_nonnull(data);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(gmem_watch_sync(&e->gm, &e0), 0);
	ck_assert_uint_eq(request(e, 1, 16, 8192, false), 0);
	ck_assert(gmem_watch_unchanged(data, e0));
	ck_assert(!gmem_watch_unchanged(st, e0));
	ck_assert_int_eq(gmem_watch_sync(&e->gm, &e0), 0);
	ck_assert_uint_eq(request(e, 0, 16, 8192, true), 0);
	ck_assert(!gmem_watch_unchanged(data, e0));
	gmem_watch_del(&e->gm, data);
	gmem_watch_del(&e->gm, st);
	env_free(e);
}
END_TEST

/* FLUSH is one fdatasync of the image, completed only after it, with its outcome. */
START_TEST(test_flush_reaches_disk)
{
	struct env *e = env_new(false, "");
	int before;

	bring_up(e);
	memset(e->ram + DATA, 0x5a, 512);
	ck_assert_uint_eq(request(e, 1, 3, 512, false), 0);
	before = __atomic_load_n(&syncs, __ATOMIC_SEQ_CST);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 0);
	ck_assert_int_eq(__atomic_load_n(&syncs, __ATOMIC_SEQ_CST), before + 1);
	ck_assert(same_file(__atomic_load_n(&sync_fd, __ATOMIC_SEQ_CST), e->path));
	/* Served by the thread that wrote the notify (a vCPU's) only with io=vcpu. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	ck_assert_int_eq(!!pthread_equal(sync_thread, pthread_self()), !strcmp(io_opt, ",io=vcpu"));
	/* A write alone syncs nothing (cache=writeback: the guest's flushes decide). */
	ck_assert_uint_eq(request(e, 1, 4, 512, false), 0);
	ck_assert_int_eq(__atomic_load_n(&syncs, __ATOMIC_SEQ_CST), before + 1);
	/* A sync the host refuses is the guest's I/O error, not a success. */
	__atomic_store_n(&sync_fail, 1, __ATOMIC_SEQ_CST);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 1);
	__atomic_store_n(&sync_fail, 0, __ATOMIC_SEQ_CST);
	ck_assert_int_eq(__atomic_load_n(&syncs, __ATOMIC_SEQ_CST), before + 2);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 0);
	env_free(e);
	/* A read-only disk has nothing to sync: FLUSH succeeds without one. */
	e = env_new(false, ",readonly=on");
	bring_up(e);
	before = __atomic_load_n(&syncs, __ATOMIC_SEQ_CST);
	ck_assert_uint_eq(request(e, 4, 0, 0, false), 0);
	ck_assert_int_eq(__atomic_load_n(&syncs, __ATOMIC_SEQ_CST), before);
	env_free(e);
}
END_TEST

START_TEST(test_readonly)
{
	struct env *e = env_new(false, ",readonly=on");
	uint8_t before[512], after[512];

	wr(e, VIRTIO_COMMON_DFSELECT, 0, 4);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_DF, 4) & (BIT_ULL(5) | BIT_ULL(13)), BIT_ULL(5));
	bring_up(e);
	file_read(e, 0, before, 512);
	memset(e->ram + DATA, 0x77, 512);
	ck_assert_uint_eq(request(e, 1, 0, 512, false), 1);
	file_read(e, 0, after, 512);
	ck_assert_mem_eq(before, after, 512);
	ck_assert_uint_eq(request(e, 0, 0, 512, true), 0);
	ck_assert_mem_eq(e->ram + DATA, before, 512);
	env_free(e);
}
END_TEST

/* A looping chain: NEEDS_RESET and a config interrupt, later kicks ignored, reset recovers. */
START_TEST(test_hostile_ring)
{
	struct env *e = env_new(false, "");
	struct virtio_pci_stats st;

	bring_up(e);
	desc(e, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
	desc(e, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
	put(e, AVAIL + 4, 0, 2);
	put(e, AVAIL + 2, 1, 2);
	wr(e, VIRTIO_BAR_NOTIFY, 0, 2);
	virtio_pci_drain(virtio_blk_transport(e->blk));
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET,
			  VIRTIO_STATUS_NEEDS_RESET);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_ISR, 1), 2);
	ck_assert_uint_eq(get(e, USED + 2, 2), 0);
	/* No header at all (a lone writable byte): also a device error, not a crash. */
	bring_up(e);
	desc(e, 0, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
	put(e, AVAIL + 2, 1, 2);
	wr(e, VIRTIO_BAR_NOTIFY, 0, 2);
	virtio_pci_drain(virtio_blk_transport(e->blk));
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_STATUS, 1) & VIRTIO_STATUS_NEEDS_RESET,
			  VIRTIO_STATUS_NEEDS_RESET);
	/* After a reset and a new bring-up, requests work again. */
	bring_up(e);
	ck_assert_uint_eq(request(e, 0, 0, 512, true), 0);
	virtio_pci_get_stats(virtio_blk_transport(e->blk), &st);
	ck_assert_uint_eq(st.device_errors, 2);
	/* Kicks for queues the device does not have are ignored. */
	wr(e, VIRTIO_BAR_NOTIFY + 4 * 5, 0, 2);
	env_free(e);
}
END_TEST

/* MSI-X: queue vector 1 gets the completion. */
START_TEST(test_msix)
{
	struct env *e = env_new(false, "");
	struct pci_dev *pd = virtio_blk_pci_dev(e->blk);
	unsigned int cap = pci_find_cap(pd, PCI_CAP_ID_MSIX);
	uint64_t tbl = pci_bar_addr(pd, 1);

	bus_write(&e->bus, BUS_MMIO, tbl + 16, 0xfee00000, 4);
	bus_write(&e->bus, BUS_MMIO, tbl + 24, 0x41, 4);
	bus_write(&e->bus, BUS_MMIO, tbl + 28, 0, 4);
	bus_write(&e->bus, BUS_MMIO, DEV_ECAM + cap + PCI_MSIX_FLAGS, PCI_MSIX_FLAGS_ENABLE, 2);
	bring_up(e);
	wr(e, VIRTIO_COMMON_Q_MSIX, 1, 2);
	ck_assert_uint_eq(rd(e, VIRTIO_COMMON_Q_MSIX, 2), 1);
	ck_assert_uint_eq(request(e, 0, 0, 512, true), 0);
	ck_assert_uint_eq(e->irq.msis, 1);
	ck_assert_uint_eq(rd(e, VIRTIO_BAR_ISR, 1), 0);
	env_free(e);
}
END_TEST

/* A completed write + flush is in the image even when the VMM dies right after. */
START_TEST(test_survives_kill)
{
	struct env img = { 0 }, *e;
	uint8_t buf[512];
	pid_t pid;
	int ws;

	/*
	 * The VMM is the child (its own device and I/O thread), killed right after the flush.
	 * The parent makes only the image before fork(): a device of its own would have an I/O
	 * thread, which may hold an allocator lock at the fork and hang the child (seen under
	 * ASan on a loaded machine).
	 */
	make_image(&img);
	pid = fork();
	if (pid == 0) {
		given_image = img.path;
		e = env_new(false, "");
		bring_up(e);
		memset(e->ram + DATA, 0x3c, 512);
		if (request(e, 1, 7, 512, false) || request(e, 4, 0, 0, false))
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
	ck_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
	file_read(&img, 7 * 512, buf, 512);
	for (unsigned int i = 0; i < 512; i++)
		ck_assert_uint_eq(buf[i], 0x3c);
	unlink(img.path);
}
END_TEST

static Suite *blk_suite(void)
{
	Suite *s = suite_create("virtio-blk");
	TCase *tc = tcase_create("thread");
	TCase *vc = tcase_create("vcpu");

	/* The request tests run on the I/O thread and again on the notifying thread (io=vcpu). */
	for (unsigned int i = 0; i < 2; i++) {
		TCase *t = i ? vc : tc;

		tcase_set_timeout(t, 30);
		tcase_add_checked_fixture(t, i ? use_vcpu : use_thread, NULL);
		tcase_add_test(t, test_read_write_flush);
		tcase_add_test(t, test_data_in_place_or_bounced);
		tcase_add_test(t, test_reads_tell_the_watch);
		tcase_add_test(t, test_flush_reaches_disk);
		tcase_add_test(t, test_readonly);
		tcase_add_test(t, test_hostile_ring);
		tcase_add_test(t, test_msix);
		tcase_add_test(t, test_survives_kill);
		suite_add_tcase(s, t);
	}
	return s;
}

int main(void)
{
	return check_run_suite(blk_suite());
}
