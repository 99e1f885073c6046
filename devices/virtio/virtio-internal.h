/* SPDX-License-Identifier: MIT */
/*
 * Inside devices/virtio: the split virtqueue (virtq.c), the modern virtio-pci transport with
 * its I/O thread (virtio-pci.c) and the interface between the transport and a device type
 * (virtio-blk.c). Also what the unit tests drive.
 *
 * Facts (virtio 1.1/1.2, "Virtual I/O Device" spec): §2.1 device status, §2.2 feature bits,
 * §2.6 split virtqueues, §4.1.4 virtio-pci capabilities, §5.2 block device, §6 reserved
 * feature bits. The definitions below are ours; the values are the spec's.
 */
#ifndef NESTVM_VIRTIO_INTERNAL_H
#define NESTVM_VIRTIO_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/bits.h"
#include "devices/pci/pci.h"
#include "vmm/core/dma.h"
#include "virtio.h"

/* §2.1 device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 0x01u
#define VIRTIO_STATUS_DRIVER 0x02u
#define VIRTIO_STATUS_DRIVER_OK 0x04u
#define VIRTIO_STATUS_FEATURES_OK 0x08u
#define VIRTIO_STATUS_NEEDS_RESET 0x40u
#define VIRTIO_STATUS_FAILED 0x80u

/* §6 reserved (transport / ring) feature bits. */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34

/* §2.6.5 split-ring descriptor: addr le64, len le32, flags le16, next le16. */
#define VIRTQ_DESC_SIZE 16u
#define VIRTQ_DESC_F_NEXT 0x1u
#define VIRTQ_DESC_F_WRITE 0x2u
#define VIRTQ_DESC_F_INDIRECT 0x4u
/* Packed rings (§2.7): a descriptor's availability and use, against the wrap counters. */
#define VIRTQ_DESC_F_AVAIL 0x80u
#define VIRTQ_DESC_F_USED 0x8000u
/* Packed event suppression (§2.7.14): {off_wrap, flags} in the driver and device areas. */
#define VIRTQ_EVENT_ENABLE 0u
#define VIRTQ_EVENT_DISABLE 1u
#define VIRTQ_EVENT_DESC 2u
/* §2.6.6 available ring: flags le16, idx le16, ring[size] le16, used_event le16. */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 0x1u
/* §2.6.8 used ring: flags le16, idx le16, ring[size] {id le32, len le32}, avail_event le16. */
#define VIRTQ_USED_F_NO_NOTIFY 0x1u
#define VIRTQ_USED_ELEM_SIZE 8u

/* §2.6: split queue sizes are powers of two up to 32768; ours are at most this. */
#define VIRTQ_MAX_SIZE 256u
/* A chain (indirect tables included) never has more descriptors than the queue size. */
#define VIRTQ_MAX_SEGS VIRTQ_MAX_SIZE

/* MSI-X "no vector" (§4.1.5.1.2). */
#define VIRTIO_MSI_NO_VECTOR 0xffffu

/* §4.1.4 virtio-pci vendor capability (cap id 0x09) and its cfg_type values. */
#define VIRTIO_PCI_CAP_COMMON 1
#define VIRTIO_PCI_CAP_NOTIFY 2
#define VIRTIO_PCI_CAP_ISR 3
#define VIRTIO_PCI_CAP_DEVICE 4
#define VIRTIO_PCI_CAP_LEN 16       /* vndr, next, len, type, bar, id, pad[2], offset, length */
#define VIRTIO_PCI_NOTIFY_CAP_LEN 20 /* + notify_off_multiplier */

/* §4.1.4.3 common configuration structure: field offsets and its size. */
#define VIRTIO_COMMON_DFSELECT 0x00
#define VIRTIO_COMMON_DF 0x04
#define VIRTIO_COMMON_GFSELECT 0x08
#define VIRTIO_COMMON_GF 0x0c
#define VIRTIO_COMMON_MSIX 0x10
#define VIRTIO_COMMON_NUMQ 0x12
#define VIRTIO_COMMON_STATUS 0x14
#define VIRTIO_COMMON_CFGGEN 0x15
#define VIRTIO_COMMON_Q_SELECT 0x16
#define VIRTIO_COMMON_Q_SIZE 0x18
#define VIRTIO_COMMON_Q_MSIX 0x1a
#define VIRTIO_COMMON_Q_ENABLE 0x1c
#define VIRTIO_COMMON_Q_NOFF 0x1e
#define VIRTIO_COMMON_Q_DESC 0x20
#define VIRTIO_COMMON_Q_AVAIL 0x28
#define VIRTIO_COMMON_Q_USED 0x30
#define VIRTIO_COMMON_SIZE 0x38

/* Our BAR0 layout (one 16 KiB memory BAR) and BAR1 for the MSI-X table and PBA. */
#define VIRTIO_BAR_SIZE 0x4000u
#define VIRTIO_BAR_COMMON 0x0000u
#define VIRTIO_BAR_ISR 0x1000u
#define VIRTIO_BAR_DEVICE 0x2000u
#define VIRTIO_BAR_NOTIFY 0x3000u
#define VIRTIO_NOTIFY_MULT 4u
#define VIRTIO_MSIX_BAR_SIZE 0x1000u
#define VIRTIO_MSIX_PBA 0x800u

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* modern device id = 0x1040 + virtio device id */
#define VIRTIO_MAX_QUEUES 8u
#define VIRTIO_MAX_CONFIG 64u

/* One descriptor of a popped chain, as the device will use it. */
struct virtq_seg {
	uint64_t addr;
	uint32_t len;
	bool write; /* device-writable */
};

/* A popped chain: readable segments first, then writable ones (§2.6.4.2). */
struct virtq_elem {
	uint16_t head;        /* split: head index; packed: the buffer id */
	uint16_t ndesc;       /* packed: ring descriptors the chain took (an indirect one: 1) */
	unsigned int nr;
	uint64_t out_bytes; /* readable (driver -> device) */
	uint64_t in_bytes;  /* writable (device -> driver) */
	struct virtq_seg seg[VIRTQ_MAX_SEGS];
};

/*
 * A split or packed virtqueue. Config fields come from the common config; the rest is device
 * state. Packed (§2.7): desc is the descriptor ring, avail the driver's event suppression, used
 * the device's; last_avail and used_idx are then positions counted modulo 2 * size, the ring
 * position plus size once the wrap counter is 0 (it starts at 1), so that "old" and "new" used
 * indexes compare as in a split ring.
 */
struct virtq {
	uint16_t size;        /* entries: split a power of two, packed any, <= VIRTQ_MAX_SIZE */
	uint16_t msix_vector;
	bool enabled;
	bool packed;          /* VIRTIO_F_RING_PACKED negotiated */
	uint64_t desc, avail, used; /* IOVAs */
	uint16_t last_avail;  /* next available entry to take */
	uint16_t used_idx;    /* next used entry to fill */
	bool event_idx;       /* VIRTIO_F_EVENT_IDX negotiated */
	bool indirect;        /* VIRTIO_F_INDIRECT_DESC negotiated */
	const struct dma_as *as;
	uint16_t sid;
};

/*
 * Takes the next available chain. 1: *ret filled; 0: nothing available; -EIO: the ring or
 * the chain breaks the spec (bad index, head or next out of range, loop or over-long chain,
 * readable after writable, bad indirect table); -EACCES / -EFAULT: DMA blocked or not RAM.
 * A negative return is a device error: the queue is not used again until reset.
 */
int virtq_pop(struct virtq *q, struct virtq_elem *ret);
/* Returns the chain e to the driver with len bytes written. 0 or a DMA error. */
int virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t len);
/* After pushes from used index old: should the driver be interrupted (§2.6.7, §2.6.10)? */
bool virtq_need_interrupt(struct virtq *q, uint16_t old_used);
/*
 * With event index: publishes avail_event = last_avail (§2.6.10) and says whether more
 * entries arrived meanwhile (1), none (0), or a DMA error (< 0).
 */
int virtq_arm(struct virtq *q);
/* Copies from the readable / into the writable bytes of e at byte offset off. 0, -ENOSPC, DMA error. */
int virtq_elem_read(const struct virtq *q, const struct virtq_elem *e, uint64_t off, void *buf,
		    uint64_t len);
int virtq_elem_write(const struct virtq *q, const struct virtq_elem *e, uint64_t off,
		     const void *buf, uint64_t len);
/*
 * The same bytes as host iovecs for the device's own readv / writev (dma_map): the readable
 * (write = false) or writable bytes of e from off, len of them, in at most max pieces.
 * Returns the number of pieces, -ENOSPC (e has fewer bytes), or dma_map's error (-EACCES:
 * fault recorded, fail the request; -EFAULT / -E2BIG: copy with virtq_elem_read / _write).
 */
struct iovec;
int virtq_elem_map(const struct virtq *q, const struct virtq_elem *e, bool write, uint64_t off,
		   uint64_t len, struct iovec *iov, unsigned int max);
/* After the device wrote through a write map's iov[0..n): tells the write watch (dma_written). */
void virtq_elem_written(const struct virtq *q, const struct iovec *iov, unsigned int n);

struct virtio_pci;

/* What a device type gives the transport. Called with the transport lock held. */
struct virtio_dev_ops {
	/*
	 * Serves one request chain on the I/O thread; *ret_len = bytes written into the chain.
	 * 0, or < 0 for a malformed request the device cannot answer (a device error).
	 */
	int (*handle)(void *opaque, unsigned int queue, struct virtq *q, const struct virtq_elem *e,
		      uint32_t *ret_len);
	/* Device config write (already bounds-checked against config_len); may be NULL. */
	void (*config_write)(void *opaque, unsigned int off, uint64_t val, unsigned int size);
	/* Device reset (driver wrote status 0 or machine reset); may be NULL. */
	void (*reset)(void *opaque);
	/*
	 * May be NULL. For a queue the device fills on its own (network receive): returns true
	 * when it took the kick (new buffers: its thread calls virtio_pci_fill), so the I/O
	 * thread does not serve that queue. Called without the transport lock.
	 */
	bool (*kick)(void *opaque, unsigned int queue);
};

struct virtio_pci_stats {
	uint64_t kicks;          /* notifies that exited to the MMIO handler */
	uint64_t doorbells;      /* notifies KVM signalled on a queue's eventfd (no exit) */
	uint64_t requests, interrupts, device_errors;
	uint64_t vcpu_requests;  /* of requests, served on the vCPU that notified (serve_on_vcpu) */
};

struct virtio_pci {
	struct pci_dev pci;
	pthread_mutex_t lock; /* all fields below except the kick state */
	const struct virtio_dev_ops *ops;
	void *opaque;
	const struct dma_as *as;
	uint64_t host_features, guest_features;
	uint32_t dfselect, gfselect;
	uint8_t status, isr, generation;
	uint16_t msix_config, queue_sel;
	unsigned int nr_queues;
	uint16_t max_queue_size;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	bool broken[VIRTIO_MAX_QUEUES];
	uint8_t config[VIRTIO_MAX_CONFIG];
	unsigned int config_len;
	struct virtio_pci_stats stats;
	/*
	 * The I/O thread and its kick state (kick_lock only). The thread sleeps in poll() on
	 * wake_efd (kicks from the MMIO handler, stop) and on each queue's doorbell eventfd.
	 */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t kick_lock;
	pthread_cond_t idle_cond;
	uint32_t kicked;   /* bit per queue */
	bool busy, stop;
	int wake_efd;
	int doorbell_efd[VIRTIO_MAX_QUEUES];
	/* Doorbells assigned through KVM_IOEVENTFD (doorbell_lock only). */
	pthread_mutex_t doorbell_lock;
	virtio_ioeventfd_fn ioeventfd;
	void *ioeventfd_ctx;
	uint64_t doorbell_gpa; /* where the doorbells are assigned; 0: nowhere */
	enum virtio_indirect indirect; /* set by the device after virtio_pci_init; see virtio.h */
	bool packed;          /* offer VIRTIO_F_RING_PACKED (packed=on); set like indirect */
	/*
	 * Set like indirect (io=vcpu): a notify is served by the vCPU thread that wrote it, and no
	 * doorbell is assigned. vcpu_elem (lock) is that path's chain, allocated on first use.
	 */
	bool serve_on_vcpu;
	struct virtq_elem *vcpu_elem;
};

/*
 * Sets up the function (1af4:1040+type, class, capabilities, MSI-X with nr_queues + 1
 * vectors, INTx pin A), starts its I/O thread and plugs it into slot. config is the initial
 * device config (config_len <= VIRTIO_MAX_CONFIG). 0 or -errno.
 */
int virtio_pci_init(struct virtio_pci *vp, struct pci_host *h, unsigned int slot,
		    const struct dma_as *as, unsigned int type, uint32_t class_code,
		    unsigned int nr_queues, uint16_t max_queue_size, uint64_t features,
		    const void *config, unsigned int config_len, const struct virtio_dev_ops *ops,
		    void *opaque);
/* Stops the I/O thread, unplugs and frees. Accepts a zeroed or half-built vp. */
void virtio_pci_cleanup(struct virtio_pci *vp);

/*
 * Between the transport's registers (virtio-pci.c) and where requests run (virtio-serve.c);
 * only those two call these.
 */
/* Queue i can be served: DRIVER_OK, no NEEDS_RESET, enabled, not broken (vp->lock held). */
bool vp_queue_usable(struct virtio_pci *vp, unsigned int i);
/* Interrupt for a queue (isr_bit 1) or a config change (2) (vp->lock held). */
void vp_raise(struct virtio_pci *vp, uint16_t vector, uint8_t isr_bit);
/* A device error (§2.1.2): queue i stops, the driver sees NEEDS_RESET (vp->lock held). */
void vp_device_error(struct virtio_pci *vp, unsigned int i, int why);
/* A notify of queue i that exited to nestvm: served on this thread or kicked to the I/O thread. */
void vp_notified(struct virtio_pci *vp, unsigned int i);
/* Assigns or removes the doorbells to match BAR0 and memory decode now (doorbell_lock). */
void vp_sync_doorbells(struct virtio_pci *vp);
/* Starts / stops (joins) the I/O thread. Start: 0 or -EAGAIN. */
int vp_start_thread(struct virtio_pci *vp);
void vp_stop_thread(struct virtio_pci *vp);
/* Queues work for the I/O thread, as a notify write does. */
void virtio_pci_kick(struct virtio_pci *vp, unsigned int queue);
/* Waits until the I/O thread has nothing pending (tests and teardown). */
void virtio_pci_drain(struct virtio_pci *vp);
void virtio_pci_get_stats(struct virtio_pci *vp, struct virtio_pci_stats *ret);
/*
 * Device-driven queues: copies hdr then data into the next available chain of queue i, returns
 * it to the driver and interrupts as the driver asked. 1 delivered, 0 no buffer (queue not
 * usable or empty: kick will tell), -ENOSPC the chain is too small (dropped, chain returned
 * with 0 bytes), < 0 otherwise (a device error was raised).
 */
int virtio_pci_fill(struct virtio_pci *vp, unsigned int i, const void *hdr, size_t hdr_len,
		    const void *data, size_t len);
/*
 * A byte stream's version (virtio-console): puts the first bytes of data (1 <= len <= INT_MAX)
 * into the next available chain, as many as it holds. Returns how many (> 0), 0 for no buffer,
 * -ENOSPC for a chain with no writable byte (returned empty), < 0 otherwise (device error).
 */
int virtio_pci_fill_some(struct virtio_pci *vp, unsigned int i, const void *data, size_t len);

struct virtio_blk;
/* The transport inside a virtio-blk (unit tests). */
struct virtio_pci *virtio_blk_transport(struct virtio_blk *b);
struct virtio_net;
struct virtio_pci *virtio_net_transport(struct virtio_net *n);
/*
 * virtio-net's frame counters (unit tests, fuzz target). rx_tries counts the receive
 * thread's attempts to place a frame (each ends delivered, dropped or pending); rx_pending:
 * it holds a frame and waits for a receive buffer (it reads no other frame meanwhile).
 */
struct virtio_net_stats {
	uint64_t tx_frames, rx_frames, rx_dropped, rx_tries;
	bool rx_pending;
};
void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *ret);
/* Sleeps until rx_tries differs from before (the receive thread made another attempt). */
void virtio_net_wait_tries(struct virtio_net *n, uint64_t before);

struct virtio_console;
struct virtio_pci *virtio_console_transport(struct virtio_console *c);
/*
 * Bytes the console wrote out, delivered to the driver, could not write (its output was gone),
 * and holds read from its input for want of a buffer; passes of its receive thread.
 */
struct virtio_console_stats {
	uint64_t tx_bytes, rx_bytes, tx_lost, rx_held, rx_tries;
};
void virtio_console_get_stats(struct virtio_console *c, struct virtio_console_stats *ret);
/* Sleeps until rx_tries differs from before (the receive thread made another pass). */
void virtio_console_wait_tries(struct virtio_console *c, uint64_t before);
/*
 * The input's accounting at one instant (the receive thread reads under the same lock):
 * returns bytes delivered + held, and the bytes still unread in fd (its input) in *ret_in_fd
 * (UINT64_MAX when FIONREAD fails). Unit tests and the fuzz target.
 */
uint64_t virtio_console_input_account(struct virtio_console *c, int fd, uint64_t *ret_in_fd);

#endif
