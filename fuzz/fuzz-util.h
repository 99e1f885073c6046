/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the fuzz targets: a bounds-safe reader over the fuzzer's input, a fake
 * guest RAM behind a gmem, and recording fakes of the irq chip and machine control.
 *
 * Every target is one LLVMFuzzerTestOneInput over fresh device state built from these helpers,
 * so an input reproduces on its own. Reads past the end of the input return zeros, which lets
 * the targets decode "op streams" without length checks at every step. Header-only: each
 * target is one translation unit plus this file.
 */
#ifndef NESTVM_FUZZ_UTIL_H
#define NESTVM_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "vmm/core/gmem.h"
#include "vmm/core/irq.h"
#include "vmm/core/vmctl.h"

/* Every target's entry point; defined once per target, called by libFuzzer or replay-main.c. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A consumer of the input bytes. */
struct fz {
	const uint8_t *p;
	size_t n;
};

static inline bool fz_more(const struct fz *f)
{
	return f->n > 0;
}

static inline uint8_t fz_u8(struct fz *f)
{
	if (!f->n)
		return 0;
	f->n--;
	return *f->p++;
}

static inline uint64_t fz_uint(struct fz *f, unsigned int bytes)
{
	uint64_t v = 0;

	for (unsigned int i = 0; i < bytes; i++)
		v |= (uint64_t)fz_u8(f) << (8 * i);
	return v;
}

static inline uint16_t fz_u16(struct fz *f)
{
	return (uint16_t)fz_uint(f, 2);
}

static inline uint32_t fz_u32(struct fz *f)
{
	return (uint32_t)fz_uint(f, 4);
}

static inline uint64_t fz_u64(struct fz *f)
{
	return fz_uint(f, 8);
}

/* An access size in {1, 2, 4, 8} from two bits. */
static inline unsigned int fz_size(struct fz *f)
{
	return 1u << (fz_u8(f) & 3);
}

/* Copies up to len bytes into dst (the rest of dst is left alone); returns how many. */
static inline size_t fz_bytes(struct fz *f, void *dst, size_t len)
{
	size_t n = len < f->n ? len : f->n;

	memcpy(dst, f->p, n);
	f->p += n;
	f->n -= n;
	return n;
}

/*
 * Fake guest RAM: one region at gpa 0, allocated on first use and zeroed for each input by
 * the target (fz_ram_reset). Everything outside it is "not RAM" for gmem.
 */
struct fz_ram {
	struct gmem gm;
	uint8_t *mem;
	uint64_t size;
};

static inline void fz_ram_reset(struct fz_ram *r, uint64_t size)
{
	if (!r->mem) {
		r->mem = aligned_alloc(4096, size);
		if (!r->mem)
			abort();
		r->size = size;
	}
	memset(r->mem, 0, r->size);
	gmem_init_empty(&r->gm);
	if (gmem_add_region(&r->gm, 0, r->size, r->mem))
		abort();
}

/*
 * A target's own checking code (its oracle and models) is marked NO_COVERAGE (common/compiler.h):
 * its loops cost no callbacks per comparison and add no edges of their own to the corpus'
 * feedback. The sanitizers still check it.
 */

/*
 * fz_ram_reset for a target in which nothing writes guest RAM at or above dirty (its own stores
 * and the device's are all below): the first call zeroes all of it, later ones [0, dirty).
 */
static inline void fz_ram_reset_below(struct fz_ram *r, uint64_t size, uint64_t dirty)
{
	if (!r->mem) {
		fz_ram_reset(r, size);
		return;
	}
	memset(r->mem, 0, dirty);
	gmem_init_empty(&r->gm);
	if (gmem_add_region(&r->gm, 0, r->size, r->mem))
		abort();
}

/* A recording irq chip: counts, never delivers. */
struct fz_irq {
	struct irq_chip chip;
	uint64_t msis, levels;
};

static inline void fz_irq_set_level(void *ctx, unsigned int gsi, bool level)
{
	struct fz_irq *i = ctx;

	if (gsi > 23)
		__builtin_trap(); /* a device drove a pin the IOAPIC does not have */
	i->levels += level;
}

static inline void fz_irq_send_msi(void *ctx, uint64_t addr, uint32_t data, uint16_t sid)
{
	struct fz_irq *i = ctx;

	i->msis++;
}

static const struct irq_chip_ops fz_irq_ops = { .set_level = fz_irq_set_level,
						 .send_msi = fz_irq_send_msi };

static inline void fz_irq_init(struct fz_irq *i)
{
	memset(i, 0, sizeof(*i));
	i->chip = (struct irq_chip){ &fz_irq_ops, i };
}

/* Machine control that only records requests. */
struct fz_vmctl {
	struct vmctl ctl;
	unsigned int shutdowns, resets;
};

static inline void fz_vmctl_shutdown(void *ctx, int status)
{
	((struct fz_vmctl *)ctx)->shutdowns++;
}

static inline void fz_vmctl_reset(void *ctx)
{
	((struct fz_vmctl *)ctx)->resets++;
}

static const struct vmctl_ops fz_vmctl_ops = { .shutdown = fz_vmctl_shutdown,
					       .reset = fz_vmctl_reset };

static inline void fz_vmctl_init(struct fz_vmctl *c)
{
	memset(c, 0, sizeof(*c));
	c->ctl = (struct vmctl){ &fz_vmctl_ops, c };
}

/* The oracle's verdict: a broken invariant is a crash the fuzzer reports. */
#define FZ_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#endif
