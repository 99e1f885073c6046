/* SPDX-License-Identifier: MIT */
/*
 * PCI for nestvm: a type-0 config space with write/W1C masks and BAR sizing, a capability
 * builder (MSI, MSI-X, PCIe, extended caps incl. PASID/ATS/PRI), INTx and MSI delivery,
 * and the bus-0 host bridge (CF8/CFC, ECAM, MMIO and I/O windows).
 *
 * Callers: device models embed a struct pci_dev, call pci_dev_init, describe BARs and
 * capabilities, then pci_host_add_device; the board builder creates the host and queries
 * BDF/GSI/IDs for the device tree. Guest config accesses go through the host; device
 * models see only their bar_read/bar_write ops (offset inside the BAR, size in {1,2,4,8},
 * bounds already checked) and an optional config_write hook.
 *
 * Locking: each pci_dev has a config lock (config bytes, MSI-X table, INTx level) taken by
 * these helpers only; it is never held while calling into a device op, so device models
 * may call pci_msi_notify / pci_set_irq while holding their own lock.
 */
#ifndef NESTVM_PCI_H
#define NESTVM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/core/bus.h"
#include "vmm/core/irq.h"
#include "vmm/core/vmctl.h"

/* Type-0 header registers (PCI Local Bus 3.0 §6.1). */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0a
#define PCI_CACHE_LINE_SIZE 0x0c
#define PCI_LATENCY_TIMER 0x0d
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID 0x2e
#define PCI_ROM_ADDRESS 0x30
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_INTERRUPT_PIN 0x3d

#define PCI_COMMAND_IO 0x0001
#define PCI_COMMAND_MEMORY 0x0002
#define PCI_COMMAND_MASTER 0x0004
#define PCI_COMMAND_PARITY 0x0040
#define PCI_COMMAND_SERR 0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST 0x0010
/* The RW1C error bits of the status register (§6.2.3). */
#define PCI_STATUS_W1C 0xf900

#define PCI_BAR_IO_SPACE 0x1u
#define PCI_BAR_MEM_64 0x4u
#define PCI_BAR_MEM_PREFETCH 0x8u

#define PCI_CONFIG_SIZE 4096
#define PCI_NUM_BARS 6
#define PCI_NUM_SLOTS 32

/* Capability IDs (PCI 3.0 App. H, PCIe 4.0 §7.9). */
#define PCI_CAP_ID_MSI 0x05
#define PCI_CAP_ID_EXP 0x10
#define PCI_CAP_ID_MSIX 0x11
#define PCI_EXT_CAP_ID_ATS 0x000f
#define PCI_EXT_CAP_ID_PRI 0x0013
#define PCI_EXT_CAP_ID_PASID 0x001b

/* MSI capability (§6.8.1): control bits and register offsets from the capability. */
#define PCI_MSI_FLAGS 0x02
#define PCI_MSI_FLAGS_ENABLE 0x0001
#define PCI_MSI_FLAGS_QMASK 0x000e /* multiple message capable (log2) */
#define PCI_MSI_FLAGS_QSIZE 0x0070 /* multiple message enable (log2) */
#define PCI_MSI_FLAGS_64BIT 0x0080
#define PCI_MSI_FLAGS_MASKBIT 0x0100
#define PCI_MSI_ADDRESS_LO 0x04
#define PCI_MSI_ADDRESS_HI 0x08 /* 64-bit only */
#define PCI_MSI_DATA_32 0x08
#define PCI_MSI_DATA_64 0x0c
#define PCI_MSI_MASK_32 0x0c
#define PCI_MSI_MASK_64 0x10

/* MSI-X capability (§6.8.2). */
#define PCI_MSIX_FLAGS 0x02
#define PCI_MSIX_FLAGS_QSIZE 0x07ff
#define PCI_MSIX_FLAGS_MASKALL 0x4000
#define PCI_MSIX_FLAGS_ENABLE 0x8000
#define PCI_MSIX_TABLE 0x04
#define PCI_MSIX_PBA 0x08
#define PCI_MSIX_ENTRY_SIZE 16
#define PCI_MSIX_ENTRY_CTRL_MASKBIT 0x1
#define PCI_MSIX_MAX_VECTORS 2048

/* PCI Express capability (PCIe 4.0 §7.5.3), offsets from the capability. */
#define PCI_EXP_FLAGS 0x02
#define PCI_EXP_FLAGS_TYPE 0x00f0   /* 7:4 device/port type */
#define PCI_EXP_TYPE_RC_END 0x9     /* root-complex integrated endpoint */
#define PCI_EXP_DEVCAP 0x04
#define PCI_EXP_DEVCTL 0x08
#define PCI_EXP_DEVSTA 0x0a
#define PCI_EXP_LNKCAP 0x0c
#define PCI_EXP_LNKCTL 0x10
#define PCI_EXP_LNKSTA 0x12
#define PCI_EXP_DEVCAP2 0x24
#define PCI_EXP_DEVCAP2_EE_PREFIX (1u << 21) /* End-End TLP prefix supported */
#define PCI_EXP_DEVCTL2 0x28
#define PCI_EXP_LNKCAP2 0x2c
#define PCI_EXP_LNKCTL2 0x30
#define PCI_EXP_SIZEOF 0x3c

/* Extended capabilities (vtd-facts.md §11). */
#define PCI_EXT_CAP_START 0x100
#define PCI_PASID_CAP 0x04
#define PCI_PASID_CAP_EXEC 0x0002
#define PCI_PASID_CAP_PRIV 0x0004
#define PCI_PASID_CAP_WIDTH 0x1f00
#define PCI_PASID_CTRL 0x06
#define PCI_PASID_CTRL_ENABLE 0x0001
#define PCI_PASID_CTRL_EXEC 0x0002
#define PCI_PASID_CTRL_PRIV 0x0004
#define PCI_ATS_CAP 0x04
#define PCI_ATS_CAP_QDEP 0x001f
#define PCI_ATS_CAP_PAGE_ALIGNED 0x0020
#define PCI_ATS_CTRL 0x06
#define PCI_ATS_CTRL_STU 0x001f
#define PCI_ATS_CTRL_ENABLE 0x8000
#define PCI_PRI_CTRL 0x04
#define PCI_PRI_CTRL_ENABLE 0x0001
#define PCI_PRI_CTRL_RESET 0x0002
#define PCI_PRI_STATUS 0x06
#define PCI_PRI_STATUS_RF 0x0001
#define PCI_PRI_STATUS_UPRGI 0x0002
#define PCI_PRI_STATUS_STOPPED 0x0100
#define PCI_PRI_STATUS_PASID 0x8000
#define PCI_PRI_MAX_REQ 0x08
#define PCI_PRI_ALLOC_REQ 0x0c

struct pci_dev;
struct pci_host;

/*
 * Told (without the config lock) after the guest may have changed what an MSI / MSI-X
 * vector sends: a config write to the command register or an MSI / MSI-X capability (after
 * the device's config_write hook), or an MSI-X table write. For the machine's irqfd routes.
 */
typedef void (*pci_msi_observer_fn)(struct pci_dev *dev, void *opaque);

/* Device-model hooks; any may be NULL. */
struct pci_dev_ops {
	/* BAR access: off + size <= BAR size, size in {1,2,4,8}; decode is enabled. */
	uint64_t (*bar_read)(struct pci_dev *dev, unsigned int bar, uint64_t off, unsigned int size);
	void (*bar_write)(struct pci_dev *dev, unsigned int bar, uint64_t off, uint64_t val,
			  unsigned int size);
	/* Called after the masked store of a guest config write (val as written). */
	void (*config_write)(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int size);
	/* Machine reset: config space is already back to its post-firmware state. */
	void (*reset)(struct pci_dev *dev);
};

enum pci_bar_type { PCI_BAR_NONE, PCI_BAR_MEM32, PCI_BAR_MEM64, PCI_BAR_IO };

struct pci_bar {
	enum pci_bar_type type;
	uint64_t size; /* power of two; >= 16 (mem) or 4 (I/O) */
	bool prefetch;
};

struct pci_msix_state {
	unsigned int nr;       /* vectors (0: no MSI-X) */
	unsigned int bar;      /* BAR holding the table and PBA */
	uint32_t table_off, pba_off;
	uint8_t *table;        /* nr * 16 bytes */
	uint8_t *pba;          /* (nr + 63) / 64 * 8 bytes */
};

/* Embed in the device model; initialise with pci_dev_init. Fields are private to devices/pci. */
struct pci_dev {
	uint8_t config[PCI_CONFIG_SIZE];
	uint8_t wmask[PCI_CONFIG_SIZE];
	uint8_t w1cmask[PCI_CONFIG_SIZE];
	uint8_t reset_config[PCI_CONFIG_SIZE]; /* snapshot taken when added to the host */
	struct pci_bar bars[PCI_NUM_BARS];
	const struct pci_dev_ops *ops;
	void *opaque;             /* for the device model */
	pthread_mutex_t lock;     /* config bytes, MSI-X table, INTx state */
	struct pci_host *host;    /* NULL until added */
	uint8_t devfn;
	unsigned int gsi;         /* INTx route; valid if the pin register is non-zero */
	unsigned int cap_next;    /* next free standard-capability offset */
	unsigned int cap_last;    /* offset of the last standard capability (0: none) */
	unsigned int ext_next;    /* next free extended-capability offset */
	unsigned int ext_last;    /* offset of the last extended capability (0: none) */
	unsigned int msi_off;     /* 0: no MSI capability */
	unsigned int msix_off;    /* 0: no MSI-X capability */
	struct pci_msix_state msix;
	bool intx_level;          /* level the device drives */
	bool intx_out;            /* level actually presented to the GSI (host-owned) */
	pci_msi_observer_fn msi_observer; /* NULL: none */
	void *msi_observer_opaque;
};

/*
 * Sets up a type-0 header: IDs, revision, 24-bit class code (base << 16 | sub << 8 | prog),
 * default write masks (command, status W1C, cache line, latency, interrupt line). The
 * device has no BARs, no pin and no capabilities yet. Never fails.
 */
void pci_dev_init(struct pci_dev *dev, uint16_t vendor, uint16_t device, uint8_t revision,
		  uint32_t class_code, const struct pci_dev_ops *ops, void *opaque);
/* Frees what the capability builders allocated (MSI-X table). Accepts a zeroed dev. */
void pci_dev_cleanup(struct pci_dev *dev);
/* Declares BAR n (a 64-bit BAR also takes n+1). 0, -EINVAL (bad index/size/type) or -EBUSY. */
int pci_dev_set_bar(struct pci_dev *dev, unsigned int bar, enum pci_bar_type type, uint64_t size,
		    bool prefetch);
/* Interrupt pin register: 0 none, 1..4 = INTA..INTD. */
void pci_dev_set_irq_pin(struct pci_dev *dev, unsigned int pin);
void pci_dev_set_subsystem(struct pci_dev *dev, uint16_t subsys_vendor, uint16_t subsys_id);

/* Capability builders: 0 and *ret_off (may be NULL), or -ENOSPC / -EINVAL / -EEXIST. */
int pci_cap_add(struct pci_dev *dev, uint8_t id, unsigned int len, unsigned int *ret_off);
int pci_cap_add_msi(struct pci_dev *dev, unsigned int nr_vectors, bool is64, bool per_vector_mask,
		    unsigned int *ret_off);
/* MSI-X with table and PBA in a (declared, memory) BAR; the host serves those ranges. */
int pci_cap_add_msix(struct pci_dev *dev, unsigned int nr_vectors, unsigned int bar,
		     uint32_t table_off, uint32_t pba_off, unsigned int *ret_off);
/* PCI Express v2 endpoint capability, x1 2.5 GT/s link. */
int pci_cap_add_pcie(struct pci_dev *dev, unsigned int *ret_off);
int pci_ext_cap_add(struct pci_dev *dev, uint16_t id, uint8_t version, unsigned int len,
		    unsigned int *ret_off);
/* PASID with 2^width PASIDs (width 1..20), optional execute / privileged support. */
int pci_ext_cap_add_pasid(struct pci_dev *dev, unsigned int width, bool exec, bool priv,
			  unsigned int *ret_off);
/* ATS: invalidate queue depth (0 = 32), page-aligned-request bit. */
int pci_ext_cap_add_ats(struct pci_dev *dev, unsigned int inv_qdepth, bool page_aligned,
			unsigned int *ret_off);
/* PRI: outstanding page request capacity; pasid_required = PRG response needs PASID. */
int pci_ext_cap_add_pri(struct pci_dev *dev, uint32_t capacity, bool pasid_required,
			unsigned int *ret_off);
/* Walks the chains (bounded); returns the capability offset or 0. */
unsigned int pci_find_cap(struct pci_dev *dev, uint8_t id);
unsigned int pci_find_ext_cap(struct pci_dev *dev, uint16_t id);

/*
 * Guest config-space access (what the host does for CF8/CFC and ECAM). Reads of a bad
 * offset/size return all-ones; writes apply the write mask and W1C mask byte by byte,
 * then run the library's side effects and the device's config_write hook.
 */
uint32_t pci_config_read(struct pci_dev *dev, unsigned int off, unsigned int size);
void pci_config_write(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int size);
/* Device-side accessors (no masks, no hooks), e.g. to set RO status bits. */
uint32_t pci_config_get(struct pci_dev *dev, unsigned int off, unsigned int size);
void pci_config_set(struct pci_dev *dev, unsigned int off, uint32_t val, unsigned int size);
/* Current BAR address as programmed by the guest (low type bits stripped). */
uint64_t pci_bar_addr(struct pci_dev *dev, unsigned int bar);

/* True if MSI or MSI-X is enabled. */
bool pci_msi_enabled(struct pci_dev *dev);
/*
 * Signals MSI/MSI-X vector through irq_send_msi with sid = bus << 8 | devfn. A masked
 * vector is left pending and sent on unmask. No message when bus mastering is off.
 * Returns 0, -ENODEV (MSI/MSI-X disabled or device not on a host), -EINVAL (bad vector).
 */
int pci_msi_notify(struct pci_dev *dev, unsigned int vector);
/*
 * What vector would send now: its message, and *ret_masked when it would be held pending
 * instead (function or vector mask, or bus mastering off). 0, -ENODEV (MSI/MSI-X disabled)
 * or -EINVAL (bad vector).
 */
int pci_msi_vector(struct pci_dev *dev, unsigned int vector, uint64_t *ret_addr,
		   uint32_t *ret_data, bool *ret_masked);
/* Sets (fn NULL: clears) the device's MSI observer; one per device. */
void pci_dev_set_msi_observer(struct pci_dev *dev, pci_msi_observer_fn fn, void *opaque);
/* Drives INTx: sets the status interrupt bit; the pin follows unless INTx is disabled. */
void pci_set_irq(struct pci_dev *dev, bool level);
/* True if bus mastering (DMA) is enabled in the command register. */
bool pci_bus_master_enabled(struct pci_dev *dev);

/* Query API for the board builder. */
uint16_t pci_dev_vendor_id(struct pci_dev *dev);
uint16_t pci_dev_device_id(struct pci_dev *dev);
unsigned int pci_dev_irq_pin(struct pci_dev *dev);
/* GSI of the INTx route (16 + ((slot + pin - 1) mod 8)); 0 if the device has no pin. */
unsigned int pci_dev_gsi(const struct pci_dev *dev);
/* Requester/source id bus << 8 | devfn (bus is always 0). */
uint16_t pci_dev_bdf(const struct pci_dev *dev);

/* The INTx routing formula of docs/board.md; pin 1 = INTA. */
static inline unsigned int pci_intx_gsi(unsigned int slot, unsigned int pin)
{
	return 16 + ((slot + pin - 1) % 8);
}

/*
 * Creates the bus-0 host bridge (00:00.0, 8086:29c0) and registers its regions on bus:
 * PIO 0xcf8 (8 bytes), ECAM, the MMIO window and the I/O window. NULL on failure (the
 * bus regions cannot be unregistered, so the bus must be discarded too).
 */
struct pci_host *pci_host_create(struct bus *bus, const struct irq_chip *irq,
				 const struct vmctl *ctl, uint64_t ecam_base, uint64_t ecam_size,
				 uint64_t mmio_base, uint64_t mmio_size, uint16_t io_base,
				 uint16_t io_size);
/*
 * Plugs dev in as slot:0 and does the firmware work: BARs assigned sequentially (aligned)
 * in the windows, command left 0, interrupt line = GSI. 0, -EINVAL (slot 0 or > 31),
 * -EEXIST (slot taken) or -ENOSPC (window full). Before any vCPU runs.
 */
int pci_host_add_device(struct pci_host *h, struct pci_dev *dev, unsigned int slot);
/* Unplugs dev (device teardown, after the vCPUs stopped). Accepts a dev never added. */
void pci_host_remove_device(struct pci_dev *dev);
/* Device at bus 0 slot, function 0, or NULL. */
struct pci_dev *pci_host_get_device(struct pci_host *h, unsigned int slot);
/* Machine reset: restores every device's post-firmware config and calls its reset op. */
void pci_host_reset(struct pci_host *h);
/* Frees the host (devices are destroyed by their owners first). Accepts NULL. */
void pci_host_destroy(struct pci_host *h);

#endif
