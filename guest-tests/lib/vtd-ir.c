/* SPDX-License-Identifier: MIT */
/* Guest-side VT-d interrupt remapping helpers (IRT set-up, IEC invalidation, IR faults, edu MSI). */
#include "vtd-ir.h"

#define E_NOMEM 12
#define E_NODEV 19
#define PCI_COMMAND 0x04
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_CAP_MSI 0x05
#define MSI_CTRL_ENABLE (1u << 0)
#define MSI_CTRL_64BIT (1u << 7)

int irt_enable(struct vtd *u, struct irt *t, bool eime, unsigned s)
{
	unsigned pages = (unsigned)((16UL << (s + 1)) + PAGE_SIZE - 1) / PAGE_SIZE;
	uint64_t d[1][4] = { { 0 } };
	int ret;

	if (!(u->ecap & VTD_ECAP_IR) || (eime && !(u->ecap & VTD_ECAP_EIM)))
		return -E_NODEV;
	if (!t->e) {
		t->e = alloc_pages(pages);
		if (!t->e)
			return -E_NOMEM;
	}
	memset(t->e, 0, pages * PAGE_SIZE);
	t->nr = 2u << s;
	t->eime = eime;
	vtd_write64(u, VTD_IRTA, (uintptr_t)t->e | (eime ? VTD_IRTA_EIME : 0) | s);
	ret = vtd_gcmd(u, VTD_GCMD_SIRTP, true);
	if (!ret && !(vtd_read32(u, VTD_GSTS) & VTD_GCMD_QIE))
		ret = vtd_qi_init(u, 0, false);
	/* Software invalidates the IEC globally after SIRTP (spec GCMD.SIRTP). */
	if (!ret) {
		d[0][0] = VTD_DESC_IEC;
		ret = vtd_qi_sync(u, (const uint64_t(*)[4])d, 1);
	}
	if (!ret)
		ret = vtd_gcmd(u, VTD_GCMD_IRE, true);
	return ret;
}

void irt_set(struct irt *t, unsigned idx, uint64_t lo, uint64_t hi)
{
	volatile uint64_t *e = &t->e[2 * idx];

	/* Clear P first so the unit never sees half an entry (Linux does the same dance). */
	e[0] = 0;
	e[1] = hi;
	e[0] = lo;
}

int irt_iec(struct vtd *u, int index, unsigned im)
{
	uint64_t d[1][4] = { { VTD_DESC_IEC, 0, 0, 0 } };

	if (index >= 0)
		d[0][0] |= (1ULL << 4) | ((uint64_t)im << 27) | ((uint64_t)(unsigned)index << 32);
	return vtd_qi_sync(u, (const uint64_t(*)[4])d, 1);
}

bool ir_fault_take(struct vtd *u, uint8_t *ret_fr, uint16_t *ret_sid, uint16_t *ret_index)
{
	for (unsigned i = 0; i < u->nfr; i++) {
		uint64_t lo = vtd_read64(u, u->fro + 16 * i), hi = vtd_read64(u, u->fro + 16 * i + 8);

		if (!(hi >> 63))
			continue;
		*ret_fr = (uint8_t)(hi >> 32);
		*ret_sid = (uint16_t)hi;
		*ret_index = (uint16_t)(lo >> 48);
		vtd_frcd_clear(u, i);
		return true;
	}
	return false;
}

void edu_msi_enable(const struct edu_dev *e, uint64_t addr, uint16_t data)
{
	uint8_t cap = pci_find_cap(e->bdf, PCI_CAP_MSI);
	uint16_t ctrl;

	if (!cap)
		return;
	ctrl = pci_read16(e->bdf, cap + 2);
	pci_write16(e->bdf, cap + 2, ctrl & ~MSI_CTRL_ENABLE);
	pci_write32(e->bdf, cap + 4, (uint32_t)addr);
	if (ctrl & MSI_CTRL_64BIT) {
		pci_write32(e->bdf, cap + 8, (uint32_t)(addr >> 32));
		pci_write16(e->bdf, cap + 12, data);
	} else {
		pci_write16(e->bdf, cap + 8, data);
	}
	pci_write16(e->bdf, PCI_COMMAND, pci_read16(e->bdf, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
	pci_write16(e->bdf, cap + 2, (uint16_t)((ctrl & ~(7u << 4)) | MSI_CTRL_ENABLE));
}

void edu_msi_disable(const struct edu_dev *e)
{
	uint8_t cap = pci_find_cap(e->bdf, PCI_CAP_MSI);

	if (cap)
		pci_write16(e->bdf, cap + 2, pci_read16(e->bdf, cap + 2) & ~MSI_CTRL_ENABLE);
}

void edu_irq_ack(const struct edu_dev *e)
{
	uint32_t st = mmio_read32(e->bar + EDU_IRQ_STATUS);

	if (st)
		mmio_write32(e->bar + EDU_IRQ_ACK, st);
	(void)mmio_read32(e->bar + EDU_IRQ_STATUS); /* flush the posted write */
}
