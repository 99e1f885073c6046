/* SPDX-License-Identifier: MIT */
/*
 * Unit test of vmm/kvm-dirty.c on this machine's KVM: a real-mode vCPU stores to guest pages,
 * and the CPU log reports exactly the watched pages it wrote since they were protected or
 * last collected. Needs /dev/kvm (the guest tests need it too); without it the test fails.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check-run.h"
#include "vmm/core/gmem.h"
#include "vmm/kvm-dirty.h"

#define RAM (1024 * 1024)
#define CODE 0x1000

struct vm {
	int kvm, fd, vcpu;
	struct kvm_run *run;
	uint8_t *ram;
	struct gmem gm;
	struct kvm_dirty kd;
};

static void vm_open(struct vm *v)
{
	struct kvm_userspace_memory_region r = { .slot = 0, .memory_size = RAM };
	struct kvm_sregs sr;
	long sz;

	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	ck_assert_msg(v->kvm >= 0, "no /dev/kvm: %s", strerror(errno));
	v->fd = ioctl(v->kvm, KVM_CREATE_VM, 0);
	ck_assert_int_ge(v->fd, 0);
	v->ram = mmap(NULL, RAM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(v->ram, MAP_FAILED);
	gmem_init_empty(&v->gm);
	ck_assert_int_eq(gmem_add_region(&v->gm, 0, RAM, v->ram), 0);
	ck_assert_int_eq(kvm_dirty_init(&v->kd, v->fd, &v->gm), 0);
	r.userspace_addr = (uint64_t)(uintptr_t)v->ram;
	ck_assert_int_eq(ioctl(v->fd, KVM_SET_USER_MEMORY_REGION, &r), 0);
	v->vcpu = ioctl(v->fd, KVM_CREATE_VCPU, 0);
	ck_assert_int_ge(v->vcpu, 0);
	sz = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	v->run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	ck_assert_ptr_ne(v->run, MAP_FAILED);
	ck_assert_int_eq(ioctl(v->vcpu, KVM_GET_SREGS, &sr), 0);
	sr.cs.base = 0;
	sr.cs.selector = 0;
	sr.ds.base = 0;
	sr.ds.selector = 0;
	ck_assert_int_eq(ioctl(v->vcpu, KVM_SET_SREGS, &sr), 0);
}

static void vm_close(struct vm *v)
{
	kvm_dirty_fini(&v->kd);
	close(v->vcpu);
	close(v->fd);
	close(v->kvm);
	munmap(v->ram, RAM);
}

/* Runs real-mode code that stores byte val at each of addrs (16-bit), then HLT. */
static void store(struct vm *v, const uint16_t *addrs, unsigned int n, uint8_t val)
{
	struct kvm_regs regs = { .rip = CODE, .rflags = 2 };
	uint8_t *c = v->ram + CODE;

	for (unsigned int i = 0; i < n; i++) {
		/* mov byte [addr], val */
		*c++ = 0xc6;
		*c++ = 0x06;
		*c++ = (uint8_t)addrs[i];
		*c++ = (uint8_t)(addrs[i] >> 8);
		*c++ = val;
	}
	*c = 0xf4; /* hlt */
	ck_assert_int_eq(ioctl(v->vcpu, KVM_SET_REGS, &regs), 0);
	ck_assert_int_eq(ioctl(v->vcpu, KVM_RUN, 0), 0);
	ck_assert_uint_eq(v->run->exit_reason, KVM_EXIT_HLT);
	for (unsigned int i = 0; i < n; i++)
		ck_assert_uint_eq(v->ram[addrs[i]], val);
}

static void collect(struct vm *v, const uint64_t *gpas, unsigned int n, bool *ret)
{
	ck_assert_int_eq(kvm_dirty_log_ops.collect(&v->kd, gpas, n, ret), 0);
}

START_TEST(test_cpu_stores_reported)
{
	const uint64_t watched[3] = { 0x3000, 0x5000, 0x41000 };
	const uint16_t to3[1] = { 0x3010 }, to3and5[2] = { 0x3020, 0x5ff8 }, to4[1] = { 0x4000 };
	struct vm v;
	bool w[3];

	vm_open(&v);
	ck_assert_uint_eq(kvm_dirty_log_ops.collect_bytes(&v.kd), 0); /* no slot logs yet */
	for (unsigned int i = 0; i < 3; i++)
		ck_assert_int_eq(kvm_dirty_log_ops.protect(&v.kd, watched[i]), 0);
	/* Slot 0 logs now: a collect copies its bitmap, one bit per page (1 MiB: 32 bytes). */
	ck_assert_uint_eq(kvm_dirty_log_ops.collect_bytes(&v.kd), RAM / 4096 / 8);
	/* Nothing stored yet: nothing reported (every page started dirty; protect forgot it). */
	collect(&v, watched, 3, w);
	ck_assert(!w[0] && !w[1] && !w[2]);
	store(&v, to3, 1, 0x11);
	collect(&v, watched, 3, w);
	ck_assert(w[0] && !w[1] && !w[2]);
	/* Collected pages are logged afresh: nothing new, nothing reported. */
	collect(&v, watched, 3, w);
	ck_assert(!w[0] && !w[1] && !w[2]);
	store(&v, to3and5, 2, 0x22);
	collect(&v, watched, 3, w);
	ck_assert(w[0] && w[1] && !w[2]);
	/* A page nobody watches is never asked about, and its stores change nothing. */
	store(&v, to4, 1, 0x33);
	collect(&v, watched, 3, w);
	ck_assert(!w[0] && !w[1] && !w[2]);
	vm_close(&v);
}
END_TEST

START_TEST(test_outside_ram)
{
	const uint64_t bad[1] = { RAM };
	struct vm v;
	bool w[1];

	vm_open(&v);
	ck_assert_int_eq(kvm_dirty_log_ops.protect(&v.kd, RAM), -EFAULT);
	ck_assert_int_eq(kvm_dirty_log_ops.collect(&v.kd, bad, 1, w), -EFAULT);
	vm_close(&v);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("kvm-dirty");
	TCase *tc = tcase_create("kvm");

	tcase_add_test(tc, test_cpu_stores_reported);
	tcase_add_test(tc, test_outside_ram);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
