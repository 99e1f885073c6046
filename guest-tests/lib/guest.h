/* SPDX-License-Identifier: MIT */
/* Public interface of the freestanding guest-test library (console, TAP, APIC, PCI, board). */
#ifndef GUEST_H
#define GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_CPUS 64
#define PAGE_SIZE 4096UL

/*
 * Exit convention (I/O port 0xf4, status = (v << 1) | 1):
 *   v = 0 -> status 1: every assertion passed and the plan was complete,
 *   v = 1 -> status 3: a failure (failed assertion, incomplete plan, exception).
 * A runner must also check the TAP output; status 1 alone is not proof of a pass.
 */
#define GUEST_EXIT_PASS 0
#define GUEST_EXIT_FAIL 1

/* ---- port I/O and MMIO ---- */
static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t mmio_read32(uint64_t addr) { return *(volatile uint32_t *)(uintptr_t)addr; }
static inline void mmio_write32(uint64_t addr, uint32_t v) { *(volatile uint32_t *)(uintptr_t)addr = v; }
static inline uint16_t mmio_read16(uint64_t addr) { return *(volatile uint16_t *)(uintptr_t)addr; }
static inline void mmio_write16(uint64_t addr, uint16_t v) { *(volatile uint16_t *)(uintptr_t)addr = v; }
static inline uint8_t mmio_read8(uint64_t addr) { return *(volatile uint8_t *)(uintptr_t)addr; }
static inline void mmio_write8(uint64_t addr, uint8_t v) { *(volatile uint8_t *)(uintptr_t)addr = v; }
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" ::"c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}
static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

/* ---- the kernel's arguments (lib/main.c): argv[0] = kernel file name, then -append words ---- */
#define GUEST_MAX_ARGS 32
#define GUEST_ARGS_BUF 512
extern int guest_argc;
extern char *guest_argv[GUEST_MAX_ARGS + 1];

/* ---- libc subset (lib/libc.c) ---- */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
unsigned long strtoul(const char *s, char **end, int base);

/* ---- console, printf, exit (lib/console.c, lib/printf.c) ---- */
void console_init(void);
void console_putc(char c);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void guest_exit(int v) __attribute__((noreturn));

/* ---- TAP (lib/tap.c) ---- */
void tap_plan(int n);
/* Prints "ok N - msg" or "not ok N - msg"; returns cond. */
bool tap_ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints the summary and exits through debug-exit; pass only if all ran and passed. */
void tap_done(void) __attribute__((noreturn));
/* Prints "Bail out! msg" (TAP) and the summary, then exits with a failure. */
void tap_bail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* ---- spinlock ---- */
struct spinlock {
	volatile uint32_t v;
};
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);

/* ---- interrupts (lib/idt.c) ---- */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
typedef void (*irq_handler_t)(struct trap_frame *tf);
void idt_init(void);
void idt_load(void);
void irq_set_handler(unsigned vector, irq_handler_t fn);

/* ---- per-CPU area, FS base points here (the stack canary lives at %fs:0x28) ---- */
struct percpu {
	uint64_t self;
	uint32_t cpu_index;
	uint32_t apic_id;
	uint64_t pad[3];
	uint64_t stack_canary; /* offset 0x28 */
};
void percpu_init(unsigned cpu_index);

/* ---- timing (lib/timer.c): ACPI PM timer ---- */
void pmtimer_set_port(uint16_t port);
uint16_t pmtimer_port(void);
uint32_t pmtimer_read(void);
void udelay(uint32_t us);
/* Microseconds since the first call (wrap-safe as long as it is polled every < 4 s). */
uint64_t time_us(void);
/* Interrupts on until *c >= want (an interrupt handler counts) or us elapse; true when reached. */
bool irq_wait_count(volatile uint32_t *c, uint32_t want, uint32_t us);

/* ---- LAPIC / IOAPIC (lib/apic.c) ---- */
#define LAPIC_BASE 0xfee00000UL
void lapic_enable(void);
uint32_t lapic_id(void);
void lapic_eoi(void);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
int lapic_send_ipi(uint32_t apic_id, uint32_t icr_low);
int lapic_start_ap(uint32_t apic_id, uint8_t sipi_page);
void ioapic_write_redir(unsigned pin, uint64_t entry);
uint64_t ioapic_read_redir(unsigned pin);
uint32_t ioapic_read(uint32_t reg);
void pic_disable(void);

#define IOAPIC_REDIR_LEVEL (1ULL << 15)
#define IOAPIC_REDIR_ACTIVE_LOW (1ULL << 13)
#define IOAPIC_REDIR_MASKED (1ULL << 16)
#define IOAPIC_REDIR_REMOTE_IRR (1ULL << 14)
#define IOAPIC_REDIR_DEST(id) ((uint64_t)(id) << 56)

/* ---- PCI via ECAM (lib/pci.c) ---- */
#define PCI_BDF(b, d, f) (((b) << 8) | ((d) << 3) | (f))
uint32_t pci_read32(uint16_t bdf, uint16_t off);
uint16_t pci_read16(uint16_t bdf, uint16_t off);
uint8_t pci_read8(uint16_t bdf, uint16_t off);
void pci_write32(uint16_t bdf, uint16_t off, uint32_t v);
void pci_write16(uint16_t bdf, uint16_t off, uint16_t v);
void pci_write8(uint16_t bdf, uint16_t off, uint8_t v);
/* Calls fn for each present function on bus; returns the count. */
int pci_scan_bus(uint8_t bus, void (*fn)(uint16_t bdf, uint16_t vendor, uint16_t device, void *arg), void *arg);
/* Returns the BDF of the first function with this ID on bus 0, or -1. */
int pci_find_device(uint16_t vendor, uint16_t device);
/* Returns the config offset of capability id, or 0. */
uint8_t pci_find_cap(uint16_t bdf, uint8_t id);
/* Offset of extended capability id (PCIe, via ECAM), or 0; the walk is bounded. */
uint16_t pci_find_ext_cap(uint16_t bdf, uint16_t id);
/* Memory BAR address (32 or 64-bit BAR), 0 if not a memory BAR. */
uint64_t pci_bar_addr(uint16_t bdf, int bar);

/* ---- fw_cfg (lib/fwcfg.c) ---- */
bool fwcfg_present(void);
void fwcfg_read(uint16_t key, void *buf, uint32_t len);
/* Returns the file's key and size, or -ENOENT (-2). */
int fwcfg_find_file(const char *name, uint16_t *ret_key, uint32_t *ret_size);

/* ---- ACPI (lib/acpi.c) ---- */
const uint8_t *acpi_find_rsdp(void);
bool acpi_checksum_ok(const void *p, uint32_t len);
/* Finds a table through the XSDT (or the RSDT if there is no XSDT); NULL if absent. */
const uint8_t *acpi_find_table(const char sig[4]);
/* The root table used (XSDT or RSDT) and the size of its entries (8 or 4). */
const uint8_t *acpi_root(unsigned *ret_entry_size);
static inline uint32_t acpi_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static inline uint64_t acpi_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* ---- board description (lib/board.c) ---- */
struct mem_region {
	uint64_t base, size;
};
struct board {
	bool from_dtb;     /* etc/board.dtb found (nestvm); else ACPI + q35 constants (QEMU) */
	const void *fdt;   /* the DTB, NULL on the ACPI path */
	uint64_t ecam_base;
	uint8_t ecam_bus_end;
	uint64_t ioapic_base;
	unsigned ioapic_pins;
	unsigned nr_cpus;
	uint32_t cpu_apic_ids[MAX_CPUS];
	unsigned nr_mem;
	struct mem_region mem[8];
	uint16_t pm_timer_port;
	uint32_t fwcfg_nr_cpus; /* fw_cfg key 0x05, 0 if unknown */
	unsigned nr_cpus_total; /* every CPU listed, also those beyond MAX_CPUS */
	uint32_t max_apic_id;   /* the highest APIC ID listed */
	uint64_t vtd_base;      /* DTB: the first "intel,vtd" node's reg, else 0 */
};
extern struct board board;
void board_init(const uint32_t *mbi);
/* DTB only: the INTx GSI of the device at bdf (nestvm,gsi), or -1. */
int board_pci_gsi(uint16_t bdf);

/* ---- pages (lib/alloc.c) ---- */
void alloc_init(void);
void *alloc_pages(unsigned n);
void free_page(void *p);

/* ---- SMP (lib/smp.c) ---- */
typedef void (*ap_fn_t)(unsigned cpu_index, uint32_t apic_id);
/* Starts every CPU in board.cpu_apic_ids except the caller; each runs fn once. Returns started count. */
int smp_start_aps(ap_fn_t fn, uint32_t timeout_us);
/* The function APs started by other means (lib/x2apic.c) run after the common AP set-up. */
void smp_set_ap_fn(ap_fn_t fn);

/* ---- test entry, defined by each test ---- */
void test_main(void);

#endif
