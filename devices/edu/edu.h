/* SPDX-License-Identifier: MIT */
/*
 * A DMA test device compatible with QEMU's "edu" (PCI 1234:11e8): identification,
 * liveness, factorial, interrupt raise/ack (INTx pin A or MSI) and a 4 KiB DMA engine.
 *
 * Callers: the board builder (edu_create / edu_destroy); guests through BAR0 (1 MiB MMIO).
 * Differences from QEMU, all invisible to a guest that polls as the spec asks: the
 * factorial and DMA run synchronously on the register write (the busy bits read 0
 * afterwards); the RAM-side DMA address is not clamped to 28 bits; a DMA whose device-side
 * range leaves 0x40000..0x40fff, or with bus mastering off, moves nothing but still
 * completes (and raises 0x100 if asked). DMA goes through the struct dma_as given at
 * creation with the device's requester id, so a vIOMMU may translate or block it.
 */
#ifndef NESTVM_EDU_H
#define NESTVM_EDU_H

#include "devices/pci/pci.h"
#include "vmm/core/dma.h"

#define EDU_VENDOR_ID 0x1234
#define EDU_DEVICE_ID 0x11e8
#define EDU_REVISION 0x10
#define EDU_CLASS 0x00ff00 /* class 0x00ff: unclassified device */
#define EDU_BAR_SIZE (1024 * 1024)

/* BAR0 registers. */
#define EDU_REG_ID 0x00      /* RO 0x010000ed */
#define EDU_REG_LIVE 0x04    /* reads ~(last value written) */
#define EDU_REG_FACT 0x08    /* write n, read n! (mod 2^32) */
#define EDU_REG_STATUS 0x20  /* 0x01 computing (RO), 0x80 interrupt on factorial */
#define EDU_REG_IRQ_STATUS 0x24
#define EDU_REG_IRQ_RAISE 0x60
#define EDU_REG_IRQ_ACK 0x64
#define EDU_REG_DMA_SRC 0x80
#define EDU_REG_DMA_DST 0x88
#define EDU_REG_DMA_CNT 0x90
#define EDU_REG_DMA_CMD 0x98

#define EDU_ID_VALUE 0x010000edu
#define EDU_STATUS_COMPUTING 0x01u
#define EDU_STATUS_IRQFACT 0x80u
#define EDU_IRQ_FACT 0x00000001u
#define EDU_IRQ_DMA 0x00000100u
#define EDU_DMA_RUN 0x1u
#define EDU_DMA_TO_RAM 0x2u /* direction: 0 RAM -> device buffer, 1 device buffer -> RAM */
#define EDU_DMA_IRQ 0x4u
#define EDU_DMA_BUF_ADDR 0x40000u
#define EDU_DMA_BUF_SIZE 4096u

struct edu;

/*
 * Creates an edu in bus 0 slot (function 0) of h, DMA through as (kept by reference).
 * NULL on failure (bad or taken slot, window full, no memory).
 */
struct edu *edu_create(struct pci_host *h, unsigned int slot, const struct dma_as *as);
/* Unplugs and frees. Accepts NULL. */
void edu_destroy(struct edu *edu);
/* The embedded PCI function (for the board builder's queries). */
struct pci_dev *edu_pci_dev(struct edu *edu);

#endif
