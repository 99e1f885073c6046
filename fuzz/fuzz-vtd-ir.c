/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: interrupt remapping (devices/viommu/ir.c) with ir=on. The guest controls the
 * interrupt remapping table (raw and well-formed IRTEs), IRTA/SIRTP/IRE/CFI, IEC invalidations
 * through the queue, MSIs of any address/data/source-id, and a real IOAPIC model (vmm/ioapic.c)
 * whose redirection entries it programs and whose pins it raises: every delivery goes through
 * viommu_remap_msi with the IOAPIC's source-id, as vmm/irq.c does, and every route change
 * through viommu_lookup_msi.
 *
 * Input: a configuration byte (bit 0 mode=scalable, bit 1 eim=on, bit 2 a 256-bit queue),
 * then up to FZ_MAX_OPS operations:
 *   0 raw IRTE     index u8, qw0 u64, qw1 u64
 *   1 IRTE         index u8, vector u8, dest u32, flags u8 (P, FPD, DM, TM, DLM, IM), sid u16,
 *                  sq/svt u8
 *   2 IRTA + SIRTP value u64 (base bits folded onto the table area or kept raw), S, EIME
 *   3 GCMD         u8: bit 0 IRE, bit 1 CFI, bit 2 the value
 *   4 IEC          qw0 u64 (type forced to 0x4 unless bit 63 of the input value), then IQT
 *   5 MSI          addr lo u32, data u32, sid u16, u8 (bit 0: high address dword, bit 1:
 *                  remappable format built from a handle)
 *   6 IOAPIC       register u8, value u32 (IOREGSEL/IOWIN), then pin u8 raised and lowered
 *   7 faults       FSTS write u8, FRCD[i] high dword write (F clear), FECTL u8
 * Oracle: no sanitizer report; viommu_lookup_msi and viommu_remap_msi give the same answer
 * for the same request (the lookup never counts); each remap adds exactly one to one of the
 * remapped / compatibility / blocked counters, and none while IRE is off (pass-through); a
 * remapped interrupt is an MSI to 0xfeexxxxx whose high address bits are zero unless EIME
 * was latched.
 */
#include "fuzz-vtd.h"
#include "vmm/ioapic.h"

#define FZ_RAM_SIZE (128 * 1024ULL)
#define FZ_QBASE 0x8000ULL
#define FZ_IRT 0x10000ULL /* the well-formed table: 64 KiB, 4096 entries */
#define FZ_MAX_OPS 256
#define FZ_IOAPIC_SID 0x00f8 /* vmm/irq.c's IRQ_IOAPIC_SID */

static struct fz_ram ram;

struct ir_env {
	struct fz_vtd t;
	struct ioapic io;
	bool eime;        /* EIME of the last SIRTP */
	uint64_t irta;
};

static void ir_stats(struct ir_env *e, uint64_t *remapped, uint64_t *compat, uint64_t *blocked)
{
	struct viommu_stats st;

	viommu_get_stats(e->t.v, &st);
	*remapped = st.ir_remapped;
	*compat = st.ir_compat;
	*blocked = st.ir_blocked;
}

/* One interrupt request through the unit, with the oracle. */
static void request(struct ir_env *e, uint64_t addr, uint32_t data, uint16_t sid)
{
	uint64_t la = 0, ra = 0, r0, c0, b0, r1, c1, b1;
	uint32_t ld = 0, rd = 0;
	bool on = viommu_ir_enabled(e->t.v);
	int lr, rr;

	ir_stats(e, &r0, &c0, &b0);
	lr = viommu_lookup_msi(e->t.v, addr, data, sid, &la, &ld);
	ir_stats(e, &r1, &c1, &b1);
	FZ_CHECK(r1 == r0 && c1 == c0 && b1 == b0);
	rr = viommu_remap_msi(e->t.v, addr, data, sid, &ra, &rd);
	ir_stats(e, &r1, &c1, &b1);
	FZ_CHECK(lr == rr && (lr == 0 || lr == -EACCES));
	if (!rr)
		FZ_CHECK(la == ra && ld == rd);
	if (!on) {
		FZ_CHECK(rr == 0 && ra == addr && rd == data);
		FZ_CHECK(r1 == r0 && c1 == c0 && b1 == b0);
		return;
	}
	FZ_CHECK((r1 - r0) + (c1 - c0) + (b1 - b0) == 1);
	FZ_CHECK((b1 != b0) == (rr != 0));
	if (r1 != r0) {
		FZ_CHECK(((ra >> 20) & 0xfff) == 0xfee);
		FZ_CHECK(e->eime || (ra >> 32) == 0);
	}
	if (c1 != c0)
		FZ_CHECK(ra == addr && rd == data);
}

static void ioapic_deliver(void *ctx, uint64_t addr, uint32_t data)
{
	request(ctx, addr, data, FZ_IOAPIC_SID);
}

/* vmm/irq.c rebuilds KVM's routes from lookups: same answer as a remap would give. */
static void ioapic_routes(void *ctx)
{
	struct ir_env *e = ctx;

	for (unsigned int pin = 0; pin < IOAPIC_NR_PINS; pin++) {
		uint64_t a, ra = 0;
		uint32_t d, rd = 0;

		ioapic_rte_msi(&e->io, pin, &a, &d);
		(void)viommu_lookup_msi(e->t.v, a, d, FZ_IOAPIC_SID, &ra, &rd);
	}
}

static const struct ioapic_ops fz_ioapic_ops = { .deliver = ioapic_deliver,
						 .routes_changed = ioapic_routes };

static void irte(struct fz *f)
{
	uint64_t idx = fz_u8(f), vec = fz_u8(f), dst = fz_u32(f), fl = fz_u8(f);
	uint64_t sid = fz_u16(f), sq = fz_u8(f);
	uint64_t lo = (fl & 1) | (fl & 2) | (fl & 4) | (fl & 0x10) | ((fl >> 5) << 5) |
		      ((fl & 8) ? 1ULL << 15 : 0) | (vec << 16) | (dst << 32);
	uint64_t hi = sid | ((sq & 3) << 16) | (((sq >> 2) & 3) << 18);

	le64_store(ram.mem + FZ_IRT + 16 * idx, lo);
	le64_store(ram.mem + FZ_IRT + 16 * idx + 8, hi);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct viommu_config cfg;
	struct ir_env *e = calloc(1, sizeof(*e));
	struct fz_q q;
	uint8_t c;
	char opts[96];

	FZ_CHECK(e != NULL);
	fz_ram_reset(&ram, FZ_RAM_SIZE);
	c = fz_u8(&f);
	snprintf(opts, sizeof(opts), "mode=%s,ir=on,eim=%s", (c & 1) ? "scalable" : "legacy",
		 (c & 2) ? "on" : "off");
	FZ_CHECK(viommu_parse_options(opts, &cfg, NULL, 0) == 0);
	fz_vtd_create(&e->t, &cfg, &ram.gm);
	ioapic_init(&e->io, 0, &fz_ioapic_ops, e);
	fz_q_enable(&e->t, &q, ram.mem, FZ_QBASE, (c & 4) && cfg.scalable);
	/* A driver's start: table latched (256 entries, EIME as configured), IRE on. */
	e->irta = FZ_IRT | 7 | (cfg.eim ? VTD_IRTA_EIME : 0);
	fz_vtd_write(&e->t, VTD_IRTA_REG, e->irta, 8);
	fz_vtd_gcmd(&e->t, (uint32_t)VTD_GCMD_SIRTP, true);
	e->eime = cfg.eim;
	fz_vtd_gcmd(&e->t, (uint32_t)VTD_GCMD_IRE, true);

	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		switch (fz_u8(&f) % 8) {
		case 0: {
			uint64_t idx = fz_u8(&f), lo = fz_u64(&f);

			le64_store(ram.mem + FZ_IRT + 16 * idx, lo);
			le64_store(ram.mem + FZ_IRT + 16 * idx + 8, fz_u64(&f));
			break;
		}
		case 1:
			irte(&f);
			break;
		case 2: {
			uint64_t v = fz_u64(&f);

			/* Mostly the table area (any size, EIME either way); sometimes anywhere. */
			if (!(v & (1ULL << 63)))
				v = FZ_IRT | (v & (VTD_IRTA_S | VTD_IRTA_EIME)) |
				    ((v >> 12) & 1 ? 0x1000 : 0);
			fz_vtd_write(&e->t, VTD_IRTA_REG, v, 8);
			e->irta = fz_vtd_read(&e->t, VTD_IRTA_REG, 8);
			fz_vtd_gcmd(&e->t, (uint32_t)VTD_GCMD_SIRTP, true);
			e->eime = !!(e->irta & VTD_IRTA_EIME);
			break;
		}
		case 3: {
			uint8_t b = fz_u8(&f);

			fz_vtd_gcmd(&e->t, (uint32_t)((b & 1) ? VTD_GCMD_IRE : VTD_GCMD_CFI), b & 4);
			break;
		}
		case 4: {
			uint64_t d0 = fz_u64(&f);

			if (!(d0 >> 63))
				d0 = (d0 & ~0xfULL) | 0x4;
			fz_q_put(&q, d0, fz_u64(&f));
			fz_q_put(&q, 0x5 | (1ULL << 5) | (1ULL << 32), 0x7000); /* wait, status */
			fz_q_run(&e->t, &q);
			break;
		}
		case 5: {
			uint64_t addr = fz_u32(&f);
			uint32_t d = fz_u32(&f);
			uint16_t sid = fz_u16(&f);
			uint8_t b = fz_u8(&f);

			if (b & 2) /* remappable: handle from the low address bits, SHV from bit 3 */
				addr = 0xfee00000ULL | (1 << 4) | (addr & 0x000fffefULL);
			if (b & 1)
				addr |= (uint64_t)fz_u32(&f) << 32;
			request(e, addr, d, sid);
			break;
		}
		case 6: {
			uint8_t reg = fz_u8(&f);
			uint32_t val = fz_u32(&f);
			uint8_t pin = fz_u8(&f) % IOAPIC_NR_PINS;

			ioapic_mmio_write(&e->io, 0x00, reg, 4);
			ioapic_mmio_write(&e->io, 0x10, val, 4);
			(void)ioapic_mmio_read(&e->io, 0x10, 4);
			ioapic_set_level(&e->io, pin, true);
			ioapic_eoi(&e->io, (uint8_t)val, 0);
			ioapic_set_level(&e->io, pin, false);
			break;
		}
		default: {
			uint8_t b = fz_u8(&f);

			fz_vtd_write(&e->t, VTD_FSTS_REG, b, 4);
			fz_vtd_write(&e->t, VTD_FRCD_REG(b % VTD_NR_FRCD) + 12, 0x80000000u, 4);
			fz_vtd_write(&e->t, VTD_FECTL_REG, (b & 0x80) ? VTD_ECTL_IM : 0, 4);
			break;
		}
		}
	}
	ioapic_fini(&e->io);
	viommu_destroy(e->t.v);
	free(e);
	return 0;
}
