/* SPDX-License-Identifier: MIT */
/* Guest VT-d driver for tests: discovery, GCMD, root/context/PASID tables, page tables, QI, faults. */
#include <libfdt.h>

#include "vtd.h"

#define E_IO 5
#define E_NOMEM 12
#define E_NODEV 19
#define E_INVAL 22
#define E_TIMEDOUT 110

#define ADDR_MASK 0x000ffffffffff000ULL
#define DMAR_MAX_BYTES 4096
#define MSI_ADDR_BASE 0xfee00000u
#define PDTS_DIR_ENTRIES 128 /* PDTS = 0: 2^7 directory entries */
#define EDU_DMA_POLL_US 1000000 /* QEMU's edu completes a DMA 100 ms after the command */

uint32_t vtd_read32(const struct vtd *u, unsigned off) { return mmio_read32(u->base + off); }
void vtd_write32(const struct vtd *u, unsigned off, uint32_t v) { mmio_write32(u->base + off, v); }
uint64_t vtd_read64(const struct vtd *u, unsigned off) { return *(volatile uint64_t *)(uintptr_t)(u->base + off); }
void vtd_write64(const struct vtd *u, unsigned off, uint64_t v) { *(volatile uint64_t *)(uintptr_t)(u->base + off) = v; }

static uint64_t dmar_drhd_base(void)
{
	const uint8_t *t = acpi_find_table("DMAR");
	uint32_t len, off = 48;

	if (!t)
		return 0;
	len = acpi_get32(t + 4);
	if (len > DMAR_MAX_BYTES)
		len = DMAR_MAX_BYTES;
	while (off + 16 <= len) {
		uint16_t type = (uint16_t)(t[off] | t[off + 1] << 8), slen = (uint16_t)(t[off + 2] | t[off + 3] << 8);

		if (type == 0)
			return acpi_get64(t + off + 8);
		if (slen < 4)
			break;
		off += slen;
	}
	return 0;
}

int vtd_find(struct vtd *u)
{
	memset(u, 0, sizeof(*u));
	if (board.vtd_base) {
		/* Found by the boot-time DTB scan: no second whole-tree search (288 CPU nodes). */
		u->base = board.vtd_base;
		u->from_dtb = true;
	} else if (board.fdt) {
		int node = fdt_node_offset_by_compatible(board.fdt, -1, "intel,vtd"), len;
		const fdt32_t *reg = node >= 0 ? fdt_getprop(board.fdt, node, "reg", &len) : NULL;

		if (reg && len >= 8)
			u->base = ((uint64_t)fdt32_to_cpu(reg[0]) << 32) | fdt32_to_cpu(reg[1]);
		u->from_dtb = true;
	} else {
		u->base = dmar_drhd_base();
	}
	if (!u->base)
		return -E_NODEV;
	u->cap = vtd_read64(u, VTD_CAP);
	u->ecap = vtd_read64(u, VTD_ECAP);
	u->fro = VTD_CAP_FRO(u->cap);
	u->nfr = VTD_CAP_NFR(u->cap);
	u->iro = VTD_ECAP_IRO(u->ecap);
	u->sagaw = VTD_CAP_SAGAW(u->cap);
	return 0;
}

unsigned vtd_ss_levels(const struct vtd *u, unsigned max_levels)
{
	if (max_levels >= 4 && (u->sagaw & 0x4))
		return 4;
	return 3;
}

int vtd_gcmd(struct vtd *u, uint32_t bit, bool on)
{
	uint32_t sts = vtd_read32(u, VTD_GSTS) & VTD_GSTS_ONESHOT_MASK;
	uint64_t t0 = time_us();

	vtd_write32(u, VTD_GCMD, on ? sts | bit : sts & ~bit);
	while (time_us() - t0 < VTD_POLL_US) {
		bool set = vtd_read32(u, VTD_GSTS) & bit;

		if (set == on)
			return 0;
		cpu_relax();
	}
	return -E_TIMEDOUT;
}

/* ---- tables ---- */

int vtd_tables_init(struct vtd *u, bool scalable)
{
	u->root = alloc_pages(1);
	if (!u->root)
		return -E_NOMEM;
	u->scalable = scalable;
	vtd_write64(u, VTD_RTADDR, (uintptr_t)u->root | (scalable ? 1ULL << 10 : 0));
	return vtd_gcmd(u, VTD_GCMD_SRTP, true);
}

/* The context entry slot for bdf (2 qwords legacy, 4 scalable), allocating its table. */
static uint64_t *ctx_slot(struct vtd *u, uint16_t bdf)
{
	uint64_t *re = &u->root[2 * (bdf >> 8)];
	unsigned devfn = bdf & 0xff, half = u->scalable && devfn >= 128;
	uint64_t *ct;

	if (!(re[half] & 1)) {
		ct = alloc_pages(1);
		if (!ct)
			return NULL;
		re[half] = (uintptr_t)ct | 1;
	}
	ct = (uint64_t *)(uintptr_t)(re[half] & ADDR_MASK);
	return u->scalable ? &ct[4 * (devfn & 0x7f)] : &ct[2 * devfn];
}

void vtd_ctx_set(struct vtd *u, uint16_t bdf, uint16_t did, unsigned tt, const struct vtd_pt *ss, bool fpd)
{
	uint64_t *c = ctx_slot(u, bdf);
	unsigned levels = ss ? ss->levels : vtd_ss_levels(u, 4);

	if (!c)
		return;
	c[1] = vtd_aw(levels) | (uint64_t)did << 8;
	c[0] = (ss ? (uintptr_t)ss->root : 0) | (uint64_t)(tt & 3) << 2 | (fpd ? 2 : 0) | 1;
}

void vtd_smctx_set(struct vtd *u, uint16_t bdf, uint32_t rid_pasid, bool fpd)
{
	uint64_t *c = ctx_slot(u, bdf);
	uint64_t dir;

	if (!c)
		return;
	dir = c[0] & ADDR_MASK;
	if (!dir) {
		void *p = alloc_pages(1);

		if (!p)
			return;
		dir = (uintptr_t)p;
	}
	c[3] = c[2] = 0;
	c[1] = rid_pasid & 0xfffff;
	c[0] = dir | (fpd ? 2 : 0) | 1; /* PDTS = 0, DTE = PASIDE = PRE = 0 */
}

void vtd_ctx_clear(struct vtd *u, uint16_t bdf)
{
	uint64_t *c = ctx_slot(u, bdf);

	if (c)
		c[0] &= ~1ULL;
}

uint64_t *vtd_pasid_entry(struct vtd *u, uint16_t bdf, uint32_t pasid)
{
	uint64_t *c = ctx_slot(u, bdf), *dir, *tbl;
	unsigned di = pasid >> 6;

	if (!c || !(c[0] & ADDR_MASK) || di >= PDTS_DIR_ENTRIES)
		return NULL;
	dir = (uint64_t *)(uintptr_t)(c[0] & ADDR_MASK);
	if (!(dir[di] & 1)) {
		tbl = alloc_pages(1);
		if (!tbl)
			return NULL;
		dir[di] = (uintptr_t)tbl | 1;
	}
	tbl = (uint64_t *)(uintptr_t)(dir[di] & ADDR_MASK);
	return &tbl[8 * (pasid & 0x3f)];
}

int vtd_pasid_set(struct vtd *u, uint16_t bdf, uint32_t pasid, uint16_t did, unsigned pgtt,
		  const struct vtd_pt *fs, const struct vtd_pt *ss, bool fpd)
{
	uint64_t *pe = vtd_pasid_entry(u, bdf, pasid);
	unsigned levels = ss ? ss->levels : vtd_ss_levels(u, 4);

	if (!pe)
		return -E_NOMEM;
	if ((pgtt == VTD_PGTT_SS || pgtt == VTD_PGTT_NESTED) && !ss)
		return -E_INVAL;
	if ((pgtt == VTD_PGTT_FS || pgtt == VTD_PGTT_NESTED) && !fs)
		return -E_INVAL;
	memset(pe, 0, 64);
	pe[1] = did;
	if (fs)
		pe[2] = ((uintptr_t)fs->root & ADDR_MASK) | (fs->levels == 5 ? 1ULL << 2 : 0);
	pe[0] = (ss ? (uintptr_t)ss->root : 0) | (uint64_t)(pgtt & 7) << 6 | (uint64_t)vtd_aw(levels) << 2 |
		(fpd ? 2 : 0) | 1;
	return 0;
}

void vtd_pasid_clear(struct vtd *u, uint16_t bdf, uint32_t pasid)
{
	uint64_t *pe = vtd_pasid_entry(u, bdf, pasid);

	if (pe)
		pe[0] &= ~1ULL;
}

/* ---- page tables ---- */

int vtd_pt_init(struct vtd_pt *pt, unsigned levels, bool first_stage)
{
	pt->levels = levels;
	pt->first_stage = first_stage;
	pt->root = alloc_pages(1);
	return pt->root ? 0 : -E_NOMEM;
}

static uint64_t table_bits(const struct vtd_pt *pt)
{
	/* FS: P, R/W, U/S, A.  SS: R, W. */
	return pt->first_stage ? 0x27 : VTD_PTE_R | VTD_PTE_W;
}

static uint64_t leaf_bits(const struct vtd_pt *pt, uint64_t perm, bool large)
{
	uint64_t v = large ? 1ULL << 7 : 0;

	if (pt->first_stage)
		return v | 0x65 | (perm & VTD_PTE_W ? 2 : 0); /* P, U/S, A, D (+ R/W) */
	return v | (perm & (VTD_PTE_R | VTD_PTE_W));
}

/* Walks to the table at level `stop` (1 = 4 KiB leaves) for iova; allocates when alloc. */
static uint64_t *walk(struct vtd_pt *pt, uint64_t iova, unsigned stop, bool alloc)
{
	uint64_t *t = pt->root;

	for (unsigned lvl = pt->levels; lvl > stop; lvl--) {
		uint64_t *e = &t[(iova >> (12 + 9 * (lvl - 1))) & 511];

		if (!(*e & 3) || (*e & (1ULL << 7))) {
			void *n;

			if (!alloc)
				return NULL;
			n = alloc_pages(1);
			if (!n)
				return NULL;
			*e = (uintptr_t)n | table_bits(pt);
		}
		t = (uint64_t *)(uintptr_t)(*e & ADDR_MASK);
	}
	return t;
}

int vtd_pt_map(struct vtd_pt *pt, uint64_t iova, uint64_t pa, uint64_t len, uint64_t perm)
{
	const uint64_t large = 2ULL << 20;
	uint64_t end = iova + len;

	while (iova < end) {
		bool big = !(iova & (large - 1)) && !(pa & (large - 1)) && end - iova >= large;
		uint64_t *t = walk(pt, iova, big ? 2 : 1, true);

		if (!t)
			return -E_NOMEM;
		t[(iova >> (big ? 21 : 12)) & 511] = pa | leaf_bits(pt, perm, big);
		iova += big ? large : PAGE_SIZE;
		pa += big ? large : PAGE_SIZE;
	}
	return 0;
}

uint64_t *vtd_pt_leaf(struct vtd_pt *pt, uint64_t iova)
{
	uint64_t *t = walk(pt, iova, 2, false), *e;

	if (!t)
		return NULL;
	e = &t[(iova >> 21) & 511];
	if (*e & (1ULL << 7))
		return e;
	if (!(*e & 3))
		return NULL;
	t = (uint64_t *)(uintptr_t)(*e & ADDR_MASK);
	return &t[(iova >> 12) & 511];
}

uint64_t *vtd_pt_entry(struct vtd_pt *pt, uint64_t iova, unsigned level)
{
	uint64_t *t;

	if (level < 1 || level > pt->levels)
		return NULL;
	t = walk(pt, iova, level, false);
	return t ? &t[(iova >> (12 + 9 * (level - 1))) & 511] : NULL;
}

/* ---- register-based invalidation ---- */

static int poll64_clear(struct vtd *u, unsigned off, uint64_t bit)
{
	uint64_t t0 = time_us();

	while (vtd_read64(u, off) & bit) {
		if (time_us() - t0 > VTD_POLL_US)
			return -E_TIMEDOUT;
		cpu_relax();
	}
	return 0;
}

int vtd_cc_inv_global(struct vtd *u)
{
	vtd_write64(u, VTD_CCMD, 1ULL << 63 | 1ULL << 61);
	return poll64_clear(u, VTD_CCMD, 1ULL << 63);
}

int vtd_iotlb_inv_global(struct vtd *u)
{
	vtd_write64(u, u->iro + 8, 1ULL << 63 | 1ULL << 60);
	return poll64_clear(u, u->iro + 8, 1ULL << 63);
}

int vtd_iotlb_inv_page(struct vtd *u, uint16_t did, uint64_t addr, unsigned am)
{
	vtd_write64(u, u->iro, (addr & ~0xfffULL) | (am & 0x3f));
	vtd_write64(u, u->iro + 8, 1ULL << 63 | 3ULL << 60 | (uint64_t)did << 32);
	return poll64_clear(u, u->iro + 8, 1ULL << 63);
}

/* ---- queued invalidation ---- */

int vtd_qi_init(struct vtd *u, unsigned qs, bool dw)
{
	if (!u->iq) {
		u->iq = alloc_pages(1u << qs);
		u->wait_status = alloc_pages(1);
		if (!u->iq || !u->wait_status)
			return -E_NOMEM;
	}
	u->iq_qs = qs;
	u->iq_dw = dw;
	u->iq_size = PAGE_SIZE << qs;
	u->iq_tail = 0;
	vtd_write64(u, VTD_IQT, 0);
	vtd_write64(u, VTD_IQA, (uintptr_t)u->iq | (dw ? 1ULL << 11 : 0) | qs);
	return vtd_gcmd(u, VTD_GCMD_QIE, true);
}

int vtd_qi_disable(struct vtd *u)
{
	return vtd_gcmd(u, VTD_GCMD_QIE, false);
}

static void desc(uint64_t *d, uint64_t q0, uint64_t q1)
{
	d[0] = q0;
	d[1] = q1;
	d[2] = d[3] = 0;
}

void vtd_desc_cc_global(uint64_t *d) { desc(d, VTD_DESC_CC | 1 << 4, 0); }
void vtd_desc_iotlb_global(uint64_t *d) { desc(d, VTD_DESC_IOTLB | 1 << 4, 0); }
void vtd_desc_iotlb_dom(uint64_t *d, uint16_t did) { desc(d, VTD_DESC_IOTLB | 2 << 4 | (uint64_t)did << 16, 0); }

void vtd_desc_iotlb_page(uint64_t *d, uint16_t did, uint64_t addr, unsigned am)
{
	desc(d, VTD_DESC_IOTLB | 3 << 4 | (uint64_t)did << 16, (addr & ~0xfffULL) | (am & 0x3f));
}

void vtd_desc_pc(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid)
{
	desc(d, VTD_DESC_PC | (g & 3) << 4 | (uint64_t)did << 16 | (uint64_t)(pasid & 0xfffff) << 32, 0);
}

void vtd_desc_piotlb(uint64_t *d, unsigned g, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am)
{
	desc(d, VTD_DESC_PIOTLB | (g & 3) << 4 | (uint64_t)did << 16 | (uint64_t)(pasid & 0xfffff) << 32,
	     g == 3 ? (addr & ~0xfffULL) | (am & 0x3f) : 0);
}

void vtd_desc_wait(uint64_t *d, uint64_t flags, uint64_t status_addr, uint32_t data)
{
	desc(d, VTD_DESC_WAIT | flags | (uint64_t)data << 32, status_addr & ~3ULL);
}

int vtd_qi_submit(struct vtd *u, const uint64_t (*descs)[4], unsigned n)
{
	unsigned words = u->iq_dw ? 4 : 2;

	if (!u->iq || n >= u->iq_size / (8 * words))
		return -E_INVAL;
	for (unsigned i = 0; i < n; i++) {
		memcpy((uint8_t *)u->iq + u->iq_tail, descs[i], 8 * words);
		u->iq_tail = (u->iq_tail + 8 * words) % u->iq_size;
	}
	__asm__ volatile("mfence" ::: "memory");
	vtd_write64(u, VTD_IQT, u->iq_tail);
	return 0;
}

int vtd_qi_wait(struct vtd *u)
{
	uint64_t d[1][4], t0;
	uint32_t seq = ++u->wait_seq;
	int ret;

	vtd_desc_wait(d[0], VTD_WAIT_SW, (uintptr_t)u->wait_status, seq);
	ret = vtd_qi_submit(u, (const uint64_t (*)[4])d, 1);
	if (ret)
		return ret;
	t0 = time_us();
	while (*u->wait_status != seq) {
		if (vtd_read32(u, VTD_FSTS) & VTD_FSTS_IQE)
			return -E_IO;
		if (time_us() - t0 > VTD_POLL_US)
			return -E_TIMEDOUT;
		cpu_relax();
	}
	return 0;
}

int vtd_qi_sync(struct vtd *u, const uint64_t (*descs)[4], unsigned n)
{
	int ret = vtd_qi_submit(u, descs, n);

	return ret ? ret : vtd_qi_wait(u);
}

int vtd_qi_flush_all(struct vtd *u)
{
	uint64_t d[3][4];
	unsigned n = 0;

	vtd_desc_cc_global(d[n++]);
	if (u->scalable)
		vtd_desc_pc(d[n++], 3, 0, 0);
	vtd_desc_iotlb_global(d[n++]);
	return vtd_qi_sync(u, (const uint64_t (*)[4])d, n);
}

/* ---- faults ---- */

void vtd_frcd_read(const struct vtd *u, unsigned i, struct vtd_frec *r)
{
	uint64_t lo = vtd_read64(u, u->fro + 16 * i), hi = vtd_read64(u, u->fro + 16 * i + 8);

	r->addr = lo & ~0xfffULL;
	r->sid = (uint16_t)hi;
	r->pp = hi >> 31 & 1;
	r->fr = (uint8_t)(hi >> 32);
	r->pasid = (uint32_t)(hi >> 40) & 0xfffff;
	r->read = hi >> 62 & 1;
	r->f = hi >> 63;
}

void vtd_frcd_clear(const struct vtd *u, unsigned i)
{
	vtd_write32(u, u->fro + 16 * i + 12, 0x80000000u);
}

void vtd_faults_clear(const struct vtd *u)
{
	for (unsigned i = 0; i < u->nfr; i++)
		vtd_frcd_clear(u, i);
	vtd_write32(u, VTD_FSTS, VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE);
}

int vtd_fault_find(const struct vtd *u, struct vtd_frec *r)
{
	for (unsigned i = 0; i < u->nfr; i++) {
		vtd_frcd_read(u, i, r);
		if (r->f)
			return (int)i;
	}
	memset(r, 0, sizeof(*r));
	return -1;
}

static void event_msi(const struct vtd *u, unsigned ctl, uint8_t vector)
{
	vtd_write32(u, ctl + 4, vector);
	vtd_write32(u, ctl + 8, MSI_ADDR_BASE | lapic_id() << 12);
	vtd_write32(u, ctl + 12, 0);
	vtd_write32(u, ctl, 0);
}

void vtd_fault_msi(const struct vtd *u, uint8_t vector) { event_msi(u, VTD_FECTL, vector); }
void vtd_inv_msi(const struct vtd *u, uint8_t vector) { event_msi(u, VTD_IECTL, vector); }

/* ---- edu ---- */

int edu_open(struct edu_dev *e)
{
	int bdf = pci_find_device(0x1234, 0x11e8);

	if (bdf < 0)
		return -E_NODEV;
	e->bdf = (uint16_t)bdf;
	e->bar = pci_bar_addr(e->bdf, 0);
	/* memory space + bus mastering */
	pci_write16(e->bdf, 0x04, pci_read16(e->bdf, 0x04) | 0x6);
	return e->bar ? 0 : -E_NODEV;
}

int edu_dma(const struct edu_dev *e, uint64_t ram, bool to_ram, uint32_t off, uint32_t len)
{
	volatile uint64_t *r = (volatile uint64_t *)(uintptr_t)(e->bar + 0x80);
	uint64_t t0;

	r[0] = to_ram ? EDU_DMA_BUF + off : ram; /* 0x80 source */
	r[1] = to_ram ? ram : EDU_DMA_BUF + off; /* 0x88 destination */
	r[2] = len;                             /* 0x90 count */
	r[3] = 1 | (to_ram ? 2 : 0);            /* 0x98 command: run */
	t0 = time_us();
	while (mmio_read32(e->bar + 0x98) & 1) {
		if (time_us() - t0 > EDU_DMA_POLL_US)
			return -E_TIMEDOUT;
		udelay(50);
	}
	return 0;
}

/* ---- test helpers ---- */

bool vtd_wait_count(volatile uint32_t *c, uint32_t want, uint32_t us)
{
	return irq_wait_count(c, want, us);
}

bool vtd_check_fault(const struct vtd *u, uint8_t fr, bool read, uint64_t addr, uint16_t sid, const char *what)
{
	struct vtd_frec r;
	int i = vtd_fault_find(u, &r);
	uint32_t fsts = vtd_read32(u, VTD_FSTS);
	bool ok = i >= 0 && r.fr == fr && r.read == read && r.addr == (addr & ~0xfffULL) && r.sid == sid &&
		  (fsts & VTD_FSTS_PPF) && VTD_FSTS_FRI(fsts) == (unsigned)i;

	tap_ok(ok, "%s: FRCD[%d] FR 0x%x (want 0x%x) %s (want %s) addr 0x%lx sid %x, FSTS 0x%x", what, i, r.fr,
	       fr, r.read ? "read" : "write", read ? "read" : "write", r.addr, r.sid, fsts);
	vtd_faults_clear(u);
	return ok;
}
