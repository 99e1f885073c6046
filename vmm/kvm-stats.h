/* SPDX-License-Identifier: MIT */
/*
 * --kvm-stats: KVM's own exit counters for this VM, read from each vCPU's binary statistics
 * file (KVM_GET_STATS_FD, Linux 5.14+) once the vCPUs have stopped, summed and printed as one
 * line. They count every exit KVM took, including the ones it handled without returning to
 * nestvm (HLT, MSRs, in-kernel devices), which nestvm's own counters cannot see.
 *
 * Callers: machine_run (vmm/machine.c) reads and prints; kvm_stats_add and kvm_stats_format
 * take no KVM and are unit-tested on files built by the test. Not thread-safe: one caller.
 */
#ifndef NESTVM_KVM_STATS_H
#define NESTVM_KVM_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The counters printed, by KVM's x86 names (a kernel may lack some). */
enum kvm_stat_id {
	KVM_STAT_EXITS,
	KVM_STAT_IO,
	KVM_STAT_MMIO,
	KVM_STAT_HALT,
	KVM_STAT_IRQ_WINDOW,
	KVM_STAT_HOST_IRQ,
	KVM_STAT_SIGNAL,
	KVM_STAT_EMULATED,
	KVM_STAT_INJECTED,
	KVM_STAT_COUNT
};

struct kvm_stats {
	uint64_t v[KVM_STAT_COUNT];
	bool have[KVM_STAT_COUNT]; /* the kernel reported this counter */
	unsigned int files;        /* statistics files added */
};

/*
 * Adds the cumulative counters of one statistics file (fd, read with pread only) to *s. 0, or
 * -EINVAL for a header or descriptor that breaks the format's rules (name size 0 or above 1024,
 * more than 65536 descriptors), -EIO for a file shorter than its header says, -errno from pread.
 * On an error *s is unchanged.
 */
int kvm_stats_add(int fd, struct kvm_stats *s);

/* "N exits: io I, mmio M, ..." for the counters present; the length snprintf would write. */
int kvm_stats_format(const struct kvm_stats *s, char *buf, size_t len);

/*
 * Reads every vCPU's statistics (vcpu_fds[0..n)) into *s and returns 0, or -errno of the first
 * one that failed (-ENOTTY: the kernel has no KVM_GET_STATS_FD).
 */
int kvm_stats_read_vcpus(const int *vcpu_fds, unsigned int n, struct kvm_stats *s);

#endif
