/* SPDX-License-Identifier: MIT */
/*
 * virtio devices on the modern virtio-pci transport: virtio-blk over a raw image file,
 * virtio-net on a tap device and virtio-console on nestvm's stdin/stdout.
 *
 * Callers: the CLI (option check, so a bad option is a usage error before the VM is built)
 * and the board builder (create / destroy). Guests see a PCI function 1af4:1042 whose DMA goes
 * through the struct dma_as given at creation (the vIOMMU's when there is one: the device
 * then insists on VIRTIO_F_ACCESS_PLATFORM). Requests run on the device's own I/O thread, or
 * for virtio-blk with io=vcpu on the vCPU thread whose notify exited.
 */
#ifndef NESTVM_VIRTIO_H
#define NESTVM_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/pci/pci.h"
#include "vmm/core/dma.h"

enum virtio_blk_cache { VIRTIO_BLK_CACHE_WRITEBACK, VIRTIO_BLK_CACHE_NONE };

/*
 * VIRTIO_F_INDIRECT_DESC. auto: offered unless the device's DMA goes through a vIOMMU. There an
 * indirect table is one more buffer the driver maps and unmaps per request (Linux puts every
 * multi-buffer request in one), and under strict flushing every unmap is a queued
 * invalidation; without it a request's 2-3 buffers sit in the ring itself.
 */
enum virtio_indirect { VIRTIO_INDIRECT_AUTO, VIRTIO_INDIRECT_ON, VIRTIO_INDIRECT_OFF };

/*
 * Where virtio-blk serves its requests. thread: its I/O thread, woken by a KVM doorbell.
 * vcpu: the vCPU thread whose notify exited, before it re-enters the guest (no hand-off, no
 * halt and wake-up per request; a request waiting on the disk holds that vCPU). auto: vcpu when
 * nestvm may run on one host CPU only (the thread could not run beside the vCPU anyway),
 * thread otherwise.
 */
enum virtio_io { VIRTIO_IO_AUTO, VIRTIO_IO_THREAD, VIRTIO_IO_VCPU };

struct virtio_blk_options {
	char file[256];
	bool readonly;
	enum virtio_blk_cache cache;
	enum virtio_io io; /* io=auto|thread|vcpu; ioeventfd=on makes auto thread */
	bool no_ioeventfd; /* ioeventfd=off: every notify exits (the machine registers no doorbell) */
	enum virtio_indirect indirect; /* indirect=on|off; default auto */
	bool packed;       /* packed=on: VIRTIO_F_RING_PACKED offered (default off, as in QEMU) */
};

/*
 * Parses "file=IMG[,readonly=on|off][,cache=none|writeback][,io=auto|thread|vcpu]
 * [,ioeventfd=on|off][,indirect=on|off][,packed=on|off]" (io=vcpu with ioeventfd=on is refused:
 * doorbells wake the thread).
 * 0, or -EINVAL with one line (no trailing newline) in err.
 */
int virtio_blk_parse_options(const char *opts, struct virtio_blk_options *ret, char *err,
			     size_t errlen);
/* True when io (after parsing) serves on the vCPU, nestvm being allowed host_cpus CPUs. */
bool virtio_blk_io_on_vcpu(enum virtio_io io, unsigned int host_cpus);

struct virtio_blk;

/*
 * Opens the image and plugs the device into slot. NULL with one line in err on failure
 * (image missing or not a multiple of 512 bytes, cache=none unsupported by its file system,
 * slot taken, no thread).
 */
struct virtio_blk *virtio_blk_create(struct pci_host *h, unsigned int slot,
				     const struct dma_as *as, const struct virtio_blk_options *o,
				     char *err, size_t errlen);
/* Stops its I/O thread, unplugs, closes the image. Accepts NULL. */
void virtio_blk_destroy(struct virtio_blk *b);
struct pci_dev *virtio_blk_pci_dev(struct virtio_blk *b);

/*
 * Queue doorbells as eventfds (KVM_IOEVENTFD): fn assigns (assign true) or removes efd for a
 * len-byte write at gpa and returns 0 or -errno. The transport calls it whenever BAR0 moves or
 * memory decode changes, so a driver's notify wakes the device's I/O thread inside KVM instead of
 * exiting to the vCPU thread. Without it (or when an assignment fails) every notify is an MMIO
 * exit, served the same way. A virtio-blk that serves on the vCPU (io=vcpu, or auto on one host
 * CPU) keeps the hook but assigns no doorbell: its notifies must exit. dev must be a virtio
 * device's (virtio_blk/net_pci_dev); -EINVAL otherwise.
 */
typedef int (*virtio_ioeventfd_fn)(void *ctx, uint64_t gpa, unsigned int len, int efd, bool assign);
int virtio_set_ioeventfd(struct pci_dev *dev, virtio_ioeventfd_fn fn, void *ctx);

/*
 * What a virtio device served: notifies that exited, doorbells KVM rang, requests (of them,
 * vcpu_requests on the vCPU that notified), interrupts.
 */
struct virtio_counts {
	uint64_t notify_exits, doorbells, requests, vcpu_requests, interrupts;
};
int virtio_get_counts(struct pci_dev *dev, struct virtio_counts *ret);

struct virtio_net_options {
	char tap[16];    /* tap interface name, or "" with fd */
	int fd;          /* a packet fd (one frame per read/write) when tap is "" */
	uint8_t mac[6];
	bool packed;     /* packed=on: VIRTIO_F_RING_PACKED offered */
};

/*
 * Parses "tap=NAME|fd=N[,mac=XX:XX:XX:XX:XX:XX][,packed=on|off]" (default MAC 52:54:00:12:34:56). 0, or
 * -EINVAL with one line in err. fd must be open.
 */
int virtio_net_parse_options(const char *opts, struct virtio_net_options *ret, char *err,
			     size_t errlen);

struct virtio_net;

/* Attaches to the tap (or takes fd) and plugs the device into slot. NULL with one line in err. */
struct virtio_net *virtio_net_create(struct pci_host *h, unsigned int slot, const struct dma_as *as,
				     const struct virtio_net_options *o, char *err, size_t errlen);
/* Stops its threads, unplugs, closes the tap (a given fd stays the caller's). Accepts NULL. */
void virtio_net_destroy(struct virtio_net *n);
struct pci_dev *virtio_net_pci_dev(struct virtio_net *n);

/*
 * virtio-console: one port whose output goes to out_fd and whose input comes from in_fd (-1 or
 * a closed fd: no input). The options string must be empty: 0, or -EINVAL with one line in err.
 */
int virtio_console_parse_options(const char *opts, char *err, size_t errlen);

struct virtio_console;

/* Plugs the device into slot; with input, starts its receive thread. NULL with one line in err. */
struct virtio_console *virtio_console_create(struct pci_host *h, unsigned int slot,
					     const struct dma_as *as, int in_fd, int out_fd,
					     char *err, size_t errlen);
/* Stops its threads and unplugs; the fds stay the caller's. Accepts NULL. */
void virtio_console_destroy(struct virtio_console *c);
struct pci_dev *virtio_console_pci_dev(struct virtio_console *c);

#endif
