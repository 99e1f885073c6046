/* SPDX-License-Identifier: MIT */
/*
 * KVM's dirty log as the write watch's CPU log (vmm/core/gmem-watch.h).
 *
 * Callers: the machine builder (vmm/machine.c) once the RAM slots exist, and the growth
 * benchmark. RAM region i of the gmem is KVM memory slot i (vmm/kvm.c). Logging uses manual
 * protection with every page initially dirty: a slot's logging is switched on when its first
 * page is watched, and only watched pages are ever write-protected; every other page keeps
 * its writable (and huge) mapping until then. What KVM costs: one KVM_GET_DIRTY_LOG per slot
 * with watched pages at each collect (the slot's whole bitmap, 4 KiB per 128 MiB, reported by
 * collect_bytes so that a consumer can weigh it against reading its pages), and a
 * KVM_CLEAR_DIRTY_LOG per 64-page group holding a watched page that was written or added.
 * The ops run under the watch's lock; nothing here takes another.
 */
#ifndef NESTVM_KVM_DIRTY_H
#define NESTVM_KVM_DIRTY_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/core/gmem.h"
#include "vmm/core/gmem-watch.h"

struct kvm_dirty {
	int vm_fd;
	const struct gmem *gm;
	bool logging[GMEM_MAX_REGIONS];
	uint64_t *bitmap[GMEM_MAX_REGIONS];
};

/*
 * Turns on KVM's manual dirty-log protection for vm_fd (before any slot logs). 0, or -errno
 * when this KVM cannot (then the machine simply has no write watch).
 */
int kvm_dirty_init(struct kvm_dirty *kd, int vm_fd, const struct gmem *gm);
void kvm_dirty_fini(struct kvm_dirty *kd);

extern const struct gmem_cpu_log kvm_dirty_log_ops; /* opaque: the struct kvm_dirty */

#endif
