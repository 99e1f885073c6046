/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for vmm/kvm-stats.c: statistics files in KVM's binary layout, built here in a
 * memfd (header, descriptors, data at the offsets the header gives), read, summed and printed;
 * malformed headers and short files are refused without touching the sums.
 */
#include <check.h>
#include <errno.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check-run.h"
#include "vmm/kvm-stats.h"

#define NAME_SIZE 48

struct stat_def {
	const char *name;
	uint32_t flags;
	uint16_t size;
	uint64_t value;
};

/*
 * A statistics file with the descriptors in defs. The data area comes before the descriptors
 * (the layout allows any order), and each value sits at a different offset.
 */
static int make_file(const struct stat_def *defs, unsigned int n, uint32_t name_size,
		     size_t truncate_to)
{
	size_t dsz = sizeof(struct kvm_stats_desc) + name_size;
	struct kvm_stats_header h = { .name_size = name_size, .num_desc = n,
				      .id_offset = sizeof(h), .data_offset = sizeof(h) + 16 };
	int fd = memfd_create("kvm-stats-test", 0);
	uint64_t data_len = 0;

	ck_assert_int_ge(fd, 0);
	for (unsigned int i = 0; i < n; i++)
		data_len += 8ULL * (defs[i].size ? defs[i].size : 1);
	h.desc_offset = (uint32_t)(h.data_offset + data_len);
	ck_assert_int_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	ck_assert_int_eq(pwrite(fd, "test-vm-id", 10, h.id_offset), 10);
	data_len = 0;
	for (unsigned int i = 0; i < n; i++) {
		char buf[sizeof(struct kvm_stats_desc) + 256] = { 0 };
		struct kvm_stats_desc *d = (void *)buf;

		d->flags = defs[i].flags;
		d->size = defs[i].size;
		d->offset = (uint32_t)data_len;
		strncpy(d->name, defs[i].name, name_size - 1);
		ck_assert_int_eq(pwrite(fd, buf, dsz, h.desc_offset + i * dsz), (ssize_t)dsz);
		ck_assert_int_eq(pwrite(fd, &defs[i].value, 8, h.data_offset + data_len), 8);
		data_len += 8ULL * (defs[i].size ? defs[i].size : 1);
	}
	if (truncate_to)
		ck_assert_int_eq(ftruncate(fd, (off_t)truncate_to), 0);
	return fd;
}

static const struct stat_def vcpu0[] = {
	{ "halt_successful_poll", KVM_STATS_TYPE_CUMULATIVE, 1, 5 },
	{ "exits", KVM_STATS_TYPE_CUMULATIVE, 1, 1000 },
	{ "io_exits", KVM_STATS_TYPE_CUMULATIVE, 1, 300 },
	{ "mmio_exits", KVM_STATS_TYPE_CUMULATIVE, 1, 200 },
	{ "halt_exits", KVM_STATS_TYPE_CUMULATIVE, 1, 7 },
	{ "insn_emulation", KVM_STATS_TYPE_CUMULATIVE, 1, 450 },
	{ "guest_mode", KVM_STATS_TYPE_INSTANT, 1, 1 },
};

START_TEST(test_reads_and_sums)
{
	static const struct stat_def vcpu1[] = {
		{ "mmio_exits", KVM_STATS_TYPE_CUMULATIVE, 1, 20 },
		{ "exits", KVM_STATS_TYPE_CUMULATIVE, 1, 100 },
		{ "irq_window_exits", KVM_STATS_TYPE_CUMULATIVE, 1, 3 },
	};
	struct kvm_stats s = { 0 };
	int a = make_file(vcpu0, 7, NAME_SIZE, 0), b = make_file(vcpu1, 3, NAME_SIZE, 0);

	ck_assert_int_eq(kvm_stats_add(a, &s), 0);
	ck_assert_int_eq(kvm_stats_add(b, &s), 0);
	ck_assert_uint_eq(s.files, 2);
	ck_assert(s.have[KVM_STAT_EXITS] && s.v[KVM_STAT_EXITS] == 1100);
	ck_assert(s.have[KVM_STAT_IO] && s.v[KVM_STAT_IO] == 300);
	ck_assert(s.have[KVM_STAT_MMIO] && s.v[KVM_STAT_MMIO] == 220);
	ck_assert(s.have[KVM_STAT_HALT] && s.v[KVM_STAT_HALT] == 7);
	ck_assert(s.have[KVM_STAT_IRQ_WINDOW] && s.v[KVM_STAT_IRQ_WINDOW] == 3);
	ck_assert(s.have[KVM_STAT_EMULATED] && s.v[KVM_STAT_EMULATED] == 450);
	/* Not in either file: absent, not zero. */
	ck_assert(!s.have[KVM_STAT_HOST_IRQ] && !s.have[KVM_STAT_SIGNAL]);
	ck_assert(!s.have[KVM_STAT_INJECTED]);
	close(a);
	close(b);
}
END_TEST

START_TEST(test_only_single_cumulative_counters)
{
	/* An instant "exits", a histogram "io_exits", a name that only starts like one. */
	static const struct stat_def defs[] = {
		{ "exits", KVM_STATS_TYPE_INSTANT, 1, 9 },
		{ "io_exits", KVM_STATS_TYPE_LINEAR_HIST, 4, 9 },
		{ "mmio_exits_extra", KVM_STATS_TYPE_CUMULATIVE, 1, 9 },
		{ "halt_exits", KVM_STATS_TYPE_CUMULATIVE, 1, 4 },
	};
	struct kvm_stats s = { 0 };
	int fd = make_file(defs, 4, NAME_SIZE, 0);

	ck_assert_int_eq(kvm_stats_add(fd, &s), 0);
	ck_assert(!s.have[KVM_STAT_EXITS] && !s.have[KVM_STAT_IO] && !s.have[KVM_STAT_MMIO]);
	ck_assert(s.have[KVM_STAT_HALT] && s.v[KVM_STAT_HALT] == 4);
	close(fd);
}
END_TEST

START_TEST(test_malformed_refused)
{
	struct kvm_stats s = { 0 };
	struct kvm_stats_header h = { .name_size = NAME_SIZE, .num_desc = 70000 };
	int fd;

	/* Name size 0 and above 1024. */
	fd = make_file(vcpu0, 7, NAME_SIZE, 0);
	h = (struct kvm_stats_header){ .name_size = 0, .num_desc = 1 };
	ck_assert_int_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	ck_assert_int_eq(kvm_stats_add(fd, &s), -EINVAL);
	h.name_size = 4096;
	ck_assert_int_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	ck_assert_int_eq(kvm_stats_add(fd, &s), -EINVAL);
	/* A descriptor count no kernel has. */
	h = (struct kvm_stats_header){ .name_size = NAME_SIZE, .num_desc = 70000 };
	ck_assert_int_eq(pwrite(fd, &h, sizeof(h), 0), (ssize_t)sizeof(h));
	ck_assert_int_eq(kvm_stats_add(fd, &s), -EINVAL);
	close(fd);
	/* Cut inside the descriptors: -EIO, and the sums keep nothing of the part read. */
	fd = make_file(vcpu0, 7, NAME_SIZE, 0);
	ck_assert_int_eq(kvm_stats_add(fd, &s), 0);
	close(fd);
	fd = make_file(vcpu0, 7, NAME_SIZE, sizeof(struct kvm_stats_header) + 16 + 7 * 8 +
					       3 * (sizeof(struct kvm_stats_desc) + NAME_SIZE) + 5);
	ck_assert_int_eq(kvm_stats_add(fd, &s), -EIO);
	ck_assert_uint_eq(s.files, 1);
	ck_assert_uint_eq(s.v[KVM_STAT_EXITS], 1000);
	close(fd);
	/* Shorter than a header; not a file at all. */
	fd = memfd_create("kvm-stats-empty", 0);
	ck_assert_int_eq(kvm_stats_add(fd, &s), -EIO);
	close(fd);
	ck_assert_int_eq(kvm_stats_add(-1, &s), -EBADF);
	ck_assert_uint_eq(s.files, 1);
}
END_TEST

START_TEST(test_format)
{
	struct kvm_stats s = { 0 };
	char buf[256], small[12];
	int fd = make_file(vcpu0, 7, NAME_SIZE, 0), n;

	ck_assert_int_eq(kvm_stats_add(fd, &s), 0);
	n = kvm_stats_format(&s, buf, sizeof(buf));
	ck_assert_str_eq(buf, "1000 exits: io 300, mmio 200, halt 7; 450 instructions emulated");
	ck_assert_int_eq(n, (int)strlen(buf));
	/* Truncated like snprintf: NUL-terminated, the full length returned. */
	ck_assert_int_eq(kvm_stats_format(&s, small, sizeof(small)), n);
	ck_assert_str_eq(small, "1000 exits:");
	/* Nothing reported: says so. */
	memset(&s, 0, sizeof(s));
	kvm_stats_format(&s, buf, sizeof(buf));
	ck_assert_str_eq(buf, "exits");
	close(fd);
}
END_TEST

START_TEST(test_read_vcpus_not_kvm)
{
	struct kvm_stats s = { 0 };
	int fd = memfd_create("not-a-vcpu", 0);

	/* A file that is not a vCPU: the ioctl's error, nothing added. */
	ck_assert_int_eq(kvm_stats_read_vcpus(&fd, 1, &s), -ENOTTY);
	ck_assert_uint_eq(s.files, 0);
	ck_assert_int_eq(kvm_stats_read_vcpus(NULL, 0, &s), 0);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kvm-stats");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_reads_and_sums);
	tcase_add_test(tc, test_only_single_cumulative_counters);
	tcase_add_test(tc, test_malformed_refused);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_read_vcpus_not_kvm);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
