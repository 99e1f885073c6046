/* SPDX-License-Identifier: MIT */
/*
 * The machine: internal interface between the launcher, the board builder, KVM setup, the
 * vCPU threads and the interrupt controller. Only vmm/ includes this header; devices see
 * the machine through vmm/core/ services (gmem, bus, irq, dma, vmctl).
 */
#ifndef NESTVM_MACHINE_H
#define NESTVM_MACHINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/core/bus.h"
#include "vmm/core/dma.h"
#include "vmm/core/gmem.h"
#include "vmm/core/irq.h"
#include "vmm/core/memslot.h"
#include "vmm/core/vmctl.h"

#define MACHINE_MAX_VCPUS 288
#define MACHINE_MAX_DEVICES 16
#define MACHINE_MAX_INITRDS 8
#define MACHINE_MAX_READ_MIRRORS 4 /* bus read mirrors mapped read-only (vmm/kvm.c) */

/* Fixed layout (docs/board.md). */
#define BOARD_LOW_RAM_LIMIT 0x80000000ULL
#define BOARD_ECAM_BASE 0xb0000000ULL
/*
 * ECAM for bus 0 only, the one bus the board has. Its MCFG entry ends at bus 0, so Linux's x86
 * peer-bridge probe (buses 1..MCFG end, 32 CF8/CFC reads each) does not run: with buses 0-255
 * it cost 8,160 config reads, 16,320 exits, 1.0-1.7 s of a nested Linux boot.
 */
#define BOARD_PCI_LAST_BUS 0
#define BOARD_ECAM_SIZE ((BOARD_PCI_LAST_BUS + 1ULL) << 20)
#define BOARD_MMIO_BASE 0xc0000000ULL
#define BOARD_MMIO_SIZE 0x3ec00000ULL
#define BOARD_IOAPIC_BASE 0xfec00000ULL
#define BOARD_VTD_BASE 0xfed90000ULL
#define BOARD_LAPIC_BASE 0xfee00000ULL
#define BOARD_IO_WIN_BASE 0xc000
#define BOARD_IO_WIN_SIZE 0x4000
#define BOARD_DEBUG_EXIT_PORT 0xf4
#define BOARD_COM1_PORT 0x3f8
#define BOARD_COM1_GSI 4
#define BOARD_FWCFG_PORT 0x510
#define BOARD_PM_PORT 0x600
#define BOARD_SCI_GSI 9
#define BOARD_RTC_PORT 0x70
#define BOARD_RTC_GSI 8
#define BOARD_ACPI_BASE 0xe0000ULL
#define BOARD_ACPI_LIMIT 0x100000ULL
#define BOARD_KVM_TSS 0xfeffd000ULL
#define BOARD_KVM_IDMAP 0xfeffc000ULL
#define BOARD_FIRST_AUTO_SLOT 3

/* One -device argument. */
struct device_spec {
	char model[32]; /* "edu", "vtd" */
	char opts[256]; /* what followed the model name, without the leading comma */
	int slot;       /* PCI slot, -1 = automatic */
};

struct machine_config {
	const char *kernel_path;
	const char *initrd_paths[MACHINE_MAX_INITRDS];
	unsigned int nr_initrds;
	const char *cmdline;
	uint64_t ram_size;
	unsigned int nr_cpus;
	bool hugepages;
	struct device_spec devices[MACHINE_MAX_DEVICES];
	unsigned int nr_devices;
	const char *dump_dtb_path;
	bool print_timing;
	bool print_kvm_stats; /* --kvm-stats: KVM's exit counters at the end (vmm/kvm-stats.h) */
};

struct ioapic;
struct vcpu;
struct viommu;
struct pci_host;
struct board_host;
struct acpi_pm;
struct vmm_signals;

/* One irqfd MSI route: KVM injects the MSI when efd is signalled (vmm/irq.c). */
#define IRQ_MAX_IRQFDS 64
struct irq_msi_route {
	int efd;                /* < 0: no irqfd (masked, disabled): the device's own path */
	uint64_t addr;
	uint32_t data;
	uint16_t sid;           /* requester, for interrupt remapping */
};
struct irq_irqfd {
	struct irq_msi_route want;
	bool renew;             /* the eventfd may be new even if its number is not */
	bool routed;            /* the installed route is valid (not blocked by remapping) */
	int assigned_efd;       /* -1: no irqfd assigned */
};

/* What the board description needs to know of the vIOMMU (filled from its options). */
struct board_vtd {
	bool present;
	const char *mode; /* "legacy" / "scalable" */
	unsigned int haw;
	bool intr_remap;  /* ECAP.IR: the DMAR table's INTR_REMAP flag */
};

struct machine {
	const struct machine_config *cfg;
	struct board_vtd vtd;
	int kvm_fd, vm_fd;
	int vcpu_mmap_size;
	struct gmem gmem;
	struct memslot_table memslots; /* device memory (passthrough BARs) in the PCI MMIO window */
	/* Bus regions whose read mirror is mapped read-only (kvm_map_read_mirrors): their bases. */
	uint64_t read_mirror_base[MACHINE_MAX_READ_MIRRORS];
	unsigned int nr_read_mirrors;
	struct bus bus;
	struct irq_chip irq;    /* what devices use: IOAPIC pins and MSIs */
	struct irq_chip irq_direct; /* the vIOMMU's own event MSIs: not remapped */
	struct vmctl ctl;       /* what devices use: shutdown / reset */
	struct ioapic *ioapic;
	/* The IOAPIC pins' KVM routes last installed (vmm/irq.c; 24 = IOAPIC_NR_PINS). */
	uint64_t ioapic_route_addr[24];
	uint32_t ioapic_route_data[24];
	bool ioapic_routes_set;
	/* irqfd MSI routes (vmm/irq.c): slot k is GSI 24 + k; under the IOAPIC lock. */
	struct irq_irqfd irqfds[IRQ_MAX_IRQFDS];
	unsigned int nr_irqfds;  /* slots reserved */
	uint64_t irqfd_route_addr[IRQ_MAX_IRQFDS];
	uint32_t irqfd_route_data[IRQ_MAX_IRQFDS];
	/* Deferred level re-delivery after an EOI (vmm/irq.c). */
	pthread_t eoi_tid;
	pthread_mutex_t eoi_lock;
	pthread_cond_t eoi_cond;
	bool eoi_started, eoi_stop;
	struct vcpu *vcpus;
	unsigned int nr_vcpus;
	void *fdt;              /* the board description */
	struct pci_host *pci;
	struct viommu *viommu;
	void *vtd_cfg;          /* struct viommu_config when -device vtd was given */
	bool vtd_host_chosen;   /* a host-backed device chose the vIOMMU's mode (vtd_cfg has it) */
	bool usage_error;       /* device creation failed on a typed option: exit 2 */
	struct dma_as dma_bus;  /* what PCI DMA masters use: identity or the vIOMMU */
	struct board_host *host; /* simulated passthrough (pasid-dma,backend=hostsim), or NULL */
	struct evloop *events;  /* fds polled for devices (host fault queues) and host signals */
	struct acpi_pm *acpi_pm; /* the PM block, whose power button SIGTERM presses (or NULL) */
	struct vmm_signals *signals; /* SIGTERM/SIGINT/SIGHUP (vmm/signals.c), or NULL */
	void *devices[MACHINE_MAX_DEVICES]; /* device models, destroyed in reverse */
	void (*device_destroy[MACHINE_MAX_DEVICES])(void *dev);
	unsigned int nr_device_objs;
	/* Stop request: set once by the first shutdown/reset/error, read by every vCPU thread. */
	pthread_mutex_t stop_lock;
	bool stopping;
	int exit_status;
	uint64_t t_start_ns;    /* process start, for the boot-time figures */
};

/* kvm.c */
int kvm_init_vm(struct machine *m);
/* Installs the RAM slots, then sets up m->memslots on the hypervisor slots above them. */
int kvm_map_ram(struct machine *m);
void kvm_close_vm(struct machine *m);
int kvm_set_msi_routes(struct machine *m, const uint64_t *addr, const uint32_t *data, unsigned int n);
int kvm_signal_msi(struct machine *m, uint64_t addr, uint32_t data);
int kvm_irqfd(struct machine *m, int efd, unsigned int gsi, bool assign);
/*
 * After the devices are created: maps the read mirrors bus regions offer as read-only slots.
 * Never fails: a region whose mirror cannot be mapped keeps exiting on reads.
 */
void kvm_map_read_mirrors(struct machine *m);
bool kvm_read_mirror_mapped(const struct machine *m, uint64_t base);
/* An MMIO write of len bytes at gpa signals efd inside KVM (no exit); 0 or -errno. */
int kvm_ioeventfd(struct machine *m, uint64_t gpa, unsigned int len, int efd, bool assign);

/* vcpu.c */
struct boot_entry;
int vcpus_create(struct machine *m);
int vcpu_setup_boot(struct machine *m, const struct boot_entry *e);
int vcpus_run(struct machine *m);  /* runs until the VM stops; returns 0 or -errno */
struct kvm_stats;
/* Adds KVM's statistics of every created vCPU to *s (vmm/kvm-stats.h); after vcpus_run. */
int vcpus_read_kvm_stats(struct machine *m, struct kvm_stats *s);
void vcpus_destroy(struct machine *m);
void machine_request_stop(struct machine *m, int exit_status);

/* irq.c (IOAPIC + MSI) */
/* How long a level interrupt's handler has to quiet its device before re-delivery. */
#define IRQ_EOI_GRACE_NS 1000000ULL
int irq_init(struct machine *m);
void irq_fini(struct machine *m);
void irq_ioapic_eoi(struct machine *m, uint8_t vector);
/* After m->viommu is created: its IEC/IRE changes rebuild the IOAPIC routes. */
void irq_attach_viommu(struct machine *m);
/* Called by each vCPU after it handled an exit: deferred level re-deliveries. */
void irq_after_exit(struct machine *m);
/* Reserves n irqfd slots: 0 and the first, or -ENOSPC. */
int irq_irqfd_reserve(struct machine *m, unsigned int n, unsigned int *ret_first);
/*
 * Sets slots [first, first + n) to r (remapped through the vIOMMU when it remaps), installs
 * the routes and assigns / deassigns the irqfds. renew: the eventfds were re-created.
 */
int irq_irqfd_set(struct machine *m, unsigned int first, unsigned int n,
		  const struct irq_msi_route *r, bool renew);
/* irqfds currently assigned (for the exit summary). */
unsigned int irq_irqfd_count(struct machine *m);

/* board.c */
int board_build_fdt(struct machine *m, char *err, size_t errlen);
int board_configure_viommu(struct machine *m, char *err, size_t errlen);
int board_create_devices(struct machine *m, char *err, size_t errlen);
int board_configure_host(struct machine *m, char *err, size_t errlen);
/* After the RAM slots: the write watch for the host-backed devices, if any (board-host.c). */
int board_host_watch(struct machine *m);
/* After the run: the vIOMMU's register accesses by exit, then the host backends' summaries. */
void board_print_host_summary(struct machine *m);
void board_destroy_devices(struct machine *m);

/* time helper */
uint64_t machine_now_ns(void);

#endif
