/* SPDX-License-Identifier: MIT */
/* KVM VM setup: the VM fd, split irqchip, RAM and device memslots, MSI routes and delivery. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "log.h"
#include "machine.h"

/* IOAPIC pins whose EOIs KVM reports to us (split irqchip). */
#define NR_IOAPIC_PINS 24

/*
 * KVM slot numbers: RAM regions 0 .. GMEM_MAX_REGIONS - 1, then KVM_MIRROR_SLOTS read-only
 * slots for bus read mirrors, then the device slots of m->memslots.
 */
#define KVM_MIRROR_SLOTS MACHINE_MAX_READ_MIRRORS
#define KVM_FIRST_MIRROR_SLOT GMEM_MAX_REGIONS
#define KVM_FIRST_DEVICE_SLOT (KVM_FIRST_MIRROR_SLOT + KVM_MIRROR_SLOTS)

int kvm_init_vm(struct machine *m)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_SPLIT_IRQCHIP, .args = { NR_IOAPIC_PINS } };
	int ret;

	m->vm_fd = -1;
	m->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (m->kvm_fd < 0) {
		ret = -errno;
		log_err("kvm", "cannot open /dev/kvm: %s", strerror(errno));
		return ret;
	}
	if (ioctl(m->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		log_err("kvm", "unsupported KVM API version");
		return -ENOTSUP;
	}
	m->vcpu_mmap_size = ioctl(m->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (m->vcpu_mmap_size <= 0) {
		log_err("kvm", "KVM_GET_VCPU_MMAP_SIZE failed");
		return -ENOTSUP;
	}
	m->vm_fd = ioctl(m->kvm_fd, KVM_CREATE_VM, 0);
	if (m->vm_fd < 0) {
		ret = -errno;
		log_err("kvm", "KVM_CREATE_VM: %s", strerror(errno));
		return ret;
	}
	/* These two only matter on Intel hosts; failure elsewhere is harmless. */
	(void)ioctl(m->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)BOARD_KVM_TSS);
	{
		uint64_t idmap = BOARD_KVM_IDMAP;
		(void)ioctl(m->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap);
	}
	if (ioctl(m->vm_fd, KVM_ENABLE_CAP, &cap) < 0) {
		ret = -errno;
		log_err("kvm", "split irqchip not available: %s", strerror(errno));
		return ret;
	}
	if (ioctl(m->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_X2APIC_API) > 0) {
		struct kvm_enable_cap x2 = { .cap = KVM_CAP_X2APIC_API,
					     .args = { KVM_X2APIC_API_USE_32BIT_IDS |
						       KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK } };
		if (ioctl(m->vm_fd, KVM_ENABLE_CAP, &x2) < 0)
			log_debug("kvm", "x2APIC API not enabled: %s", strerror(errno));
	}
	return 0;
}

/* The memslot_table hook: device slots are plain user memory slots, deleted with size 0. */
static int set_device_slot(void *ctx, unsigned int slot, uint64_t gpa, uint64_t size, void *hva)
{
	struct machine *m = ctx;
	struct kvm_userspace_memory_region r = {
		.slot = slot,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};

	if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
		int ret = -errno;

		log_debug("kvm", "device slot %u at 0x%llx (+0x%llx): %s", slot,
			  (unsigned long long)gpa, (unsigned long long)size, strerror(errno));
		return ret;
	}
	return 0;
}

int kvm_map_ram(struct machine *m)
{
	int nr_slots;

	for (unsigned int i = 0; i < m->gmem.nr_regions; i++) {
		const struct gmem_region *r = &m->gmem.regions[i];
		struct kvm_userspace_memory_region slot = {
			.slot = i,
			.guest_phys_addr = r->gpa,
			.memory_size = r->size,
			.userspace_addr = (uint64_t)(uintptr_t)r->hva,
		};

		if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0) {
			int ret = -errno;
			log_err("kvm", "KVM_SET_USER_MEMORY_REGION slot %u: %s", i, strerror(errno));
			return ret;
		}
	}
	/* Device slots: numbers above every RAM and mirror slot, as many as KVM allows. */
	nr_slots = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	if (nr_slots <= KVM_FIRST_DEVICE_SLOT)
		nr_slots = KVM_FIRST_DEVICE_SLOT;
	memslot_table_init(&m->memslots, &m->gmem, BOARD_MMIO_BASE, BOARD_MMIO_SIZE,
			   KVM_FIRST_DEVICE_SLOT, (unsigned int)nr_slots - KVM_FIRST_DEVICE_SLOT,
			   set_device_slot, m);
	return 0;
}

/*
 * Maps the read mirror each MMIO region offers (vmm/core/bus.h) as a read-only slot over the
 * region: the guest's reads there are served from that memory, its writes still exit
 * (KVM_EXIT_MMIO, as for any write to a read-only slot) and reach the bus. Without
 * KVM_CAP_READONLY_MEM, or when KVM refuses a slot, those regions simply keep exiting.
 * The slots go with the VM fd; no vCPU runs once devices (and their mirrors) are destroyed.
 */
void kvm_map_read_mirrors(struct machine *m)
{
	const struct bus_region *tab = m->bus.regions[BUS_MMIO];
	unsigned int slot = KVM_FIRST_MIRROR_SLOT;

	m->nr_read_mirrors = 0;
	for (unsigned int i = 0; i < m->bus.nr[BUS_MMIO]; i++) {
		struct kvm_userspace_memory_region r = {
			.flags = KVM_MEM_READONLY,
			.guest_phys_addr = tab[i].base,
			.memory_size = tab[i].len,
			.userspace_addr = (uint64_t)(uintptr_t)tab[i].read_mirror,
		};

		if (!tab[i].read_mirror)
			continue;
		if (ioctl(m->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_READONLY_MEM) <= 0) {
			log_debug("kvm", "no KVM_CAP_READONLY_MEM: register reads exit");
			return;
		}
		if (slot >= KVM_FIRST_DEVICE_SLOT) {
			log_debug("kvm", "read mirror of %s: no slot left, its reads exit", tab[i].name);
			continue;
		}
		r.slot = slot;
		if (ioctl(m->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			log_debug("kvm", "read mirror of %s at 0x%llx: %s; its reads exit", tab[i].name,
				  (unsigned long long)tab[i].base, strerror(errno));
			continue;
		}
		log_debug("kvm", "read mirror of %s at 0x%llx (+0x%llx): read-only slot %u",
			  tab[i].name, (unsigned long long)tab[i].base, (unsigned long long)tab[i].len,
			  slot);
		slot++;
		m->read_mirror_base[m->nr_read_mirrors++] = tab[i].base;
	}
}

bool kvm_read_mirror_mapped(const struct machine *m, uint64_t base)
{
	for (unsigned int i = 0; i < m->nr_read_mirrors; i++)
		if (m->read_mirror_base[i] == base)
			return true;
	return false;
}

void kvm_close_vm(struct machine *m)
{
	memslot_table_fini(&m->memslots);
	if (m->vm_fd >= 0)
		close(m->vm_fd);
	if (m->kvm_fd >= 0)
		close(m->kvm_fd);
	m->vm_fd = m->kvm_fd = -1;
}

/*
 * Installs MSI routes for GSIs 0..n-1 (the IOAPIC pins). KVM derives from these routes which
 * vectors are level-triggered, and reports their EOIs (KVM_EXIT_IOAPIC_EOI).
 */
int kvm_set_msi_routes(struct machine *m, const uint64_t *addr, const uint32_t *data, unsigned int n)
{
	struct kvm_irq_routing *r;
	int ret = 0;

	r = calloc(1, sizeof(*r) + n * sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	r->nr = n;
	for (unsigned int i = 0; i < n; i++) {
		r->entries[i].gsi = i;
		r->entries[i].type = KVM_IRQ_ROUTING_MSI;
		r->entries[i].u.msi.address_lo = (uint32_t)addr[i];
		r->entries[i].u.msi.address_hi = (uint32_t)(addr[i] >> 32);
		r->entries[i].u.msi.data = data[i];
	}
	if (ioctl(m->vm_fd, KVM_SET_GSI_ROUTING, r) < 0)
		ret = -errno;
	free(r);
	return ret;
}

int kvm_irqfd(struct machine *m, int efd, unsigned int gsi, bool assign)
{
	struct kvm_irqfd f = { .fd = (uint32_t)efd, .gsi = gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };

	return ioctl(m->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int kvm_ioeventfd(struct machine *m, uint64_t gpa, unsigned int len, int efd, bool assign)
{
	struct kvm_ioeventfd e = {
		.addr = gpa,
		.len = len,
		.fd = efd,
		.flags = assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN,
	};

	return ioctl(m->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}

int kvm_signal_msi(struct machine *m, uint64_t addr, uint32_t data)
{
	struct kvm_msi msi = {
		.address_lo = (uint32_t)addr,
		.address_hi = (uint32_t)(addr >> 32),
		.data = data,
	};

	/* Returns >0 delivered, 0 blocked by the guest's APIC state: both are fine. */
	return ioctl(m->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}
