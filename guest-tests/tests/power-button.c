/* SPDX-License-Identifier: MIT */
/*
 * power-button: the ACPI fixed-feature power button as an OS drives it (ACPI 6.x 4.8.2.2.1):
 * the FADT says it is there (PWR_BUTTON flag clear), PWRBTN_EN in PM1a_EN enables it, a press
 * sets PWRBTN_STS (write 1 to clear) and raises the SCI (FADT SCI_INT, an IOAPIC pin, level).
 *
 * Alone (guest suite): the tables and registers, and no press without the host. The host's
 * press comes from a signal to nestvm (guest-tests/power.sh), with -append:
 *   wait    enable, print "# armed", take the SCI, clear the status, power off via S5 (exit 0)
 *   ignore  enable, print "# armed", count each press ("# press N") and never power off
 *   deaf    print "# armed" without enabling the button and spin
 */
#include "guest.h"

#define SCI_VECTOR 0x48
#define PM1_STS 0
#define PM1_EN 2
#define PWRBTN (1u << 8)
#define SLP_EN (1u << 13)
#define FADT_F_PWR_BUTTON (1u << 4)

static uint16_t evt, cnt;
static volatile uint32_t presses, spurious;
static volatile uint16_t last_sts;

static void sci_handler(struct trap_frame *tf)
{
	uint16_t sts = inw(evt + PM1_STS);

	(void)tf;
	last_sts = sts;
	if (sts & PWRBTN) {
		outw(evt + PM1_STS, PWRBTN); /* W1C: drops the SCI before the EOI */
		presses++;
	} else {
		spurious++;
	}
	lapic_eoi();
}

static bool has_arg(const char *a)
{
	for (int i = 1; i < guest_argc; i++)
		if (strcmp(guest_argv[i], a) == 0)
			return true;
	return false;
}

void test_main(void)
{
	const uint8_t *fadt = acpi_find_table("FACP");
	unsigned int sci;
	bool wait = has_arg("wait"), ignore = has_arg("ignore"), deaf = has_arg("deaf");

	tap_plan(wait ? 6 : 5);
	if (!tap_ok(fadt && acpi_get32(fadt + 4) >= 116, "FADT present"))
		tap_bail("no FADT");
	evt = (uint16_t)acpi_get32(fadt + 56);
	cnt = (uint16_t)acpi_get32(fadt + 64);
	sci = fadt[46] | fadt[47] << 8;
	tap_ok(!(acpi_get32(fadt + 112) & FADT_F_PWR_BUTTON) && fadt[88] == 4 && evt && cnt,
	       "FADT: fixed-feature power button (flags 0x%x), PM1a_EVT 0x%x (len %u), PM1a_CNT 0x%x",
	       acpi_get32(fadt + 112), evt, fadt[88], cnt);
	if (!tap_ok(sci < board.ioapic_pins, "SCI on GSI %u (an IOAPIC pin of %u)", sci, board.ioapic_pins))
		tap_bail("SCI not routable");
	irq_set_handler(SCI_VECTOR, sci_handler);
	/* The MADT's override for the SCI says active high, level. */
	ioapic_write_redir(sci, SCI_VECTOR | IOAPIC_REDIR_LEVEL | IOAPIC_REDIR_DEST(lapic_id()));
	outw(evt + PM1_STS, PWRBTN);
	tap_ok(!(inw(evt + PM1_STS) & PWRBTN), "no PWRBTN_STS before any press (STS 0x%x)",
	       inw(evt + PM1_STS));
	if (deaf) {
		printf("# armed (button not enabled)\n");
		for (;;)
			cpu_relax();
	}
	outw(evt + PM1_EN, PWRBTN);
	tap_ok(inw(evt + PM1_EN) & PWRBTN, "PWRBTN_EN set (PM1_EN 0x%x)", inw(evt + PM1_EN));
	if (!wait && !ignore)
		return;
	printf("# armed\n");
	if (ignore) {
		uint32_t seen = 0;

		irq_enable();
		for (;;) {
			__asm__ volatile("hlt");
			if (presses != seen) {
				seen = presses;
				printf("# press %u (PM1_STS was 0x%x), ignored\n", seen, last_sts);
			}
		}
	}
	irq_enable();
	while (!presses)
		__asm__ volatile("hlt");
	irq_disable();
	tap_ok(presses == 1 && spurious == 0 && !(inw(evt + PM1_STS) & PWRBTN),
	       "SCI with PWRBTN_STS (PM1_STS was 0x%x), cleared by writing 1; %u spurious", last_sts,
	       spurious);
	printf("# powering off (S5)\n");
	outw(cnt, SLP_EN); /* SLP_TYP 0 = the DSDT's _S5 */
	tap_bail("still running after S5");
}
