/* SPDX-License-Identifier: MIT */
/* vCPUs: creation, CPUID, boot register state, one thread each, and the exit dispatch loop. */
#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "machine.h"
#include "vmm/boot/boot.h"
#include "vmm/kvm-stats.h"

/* Exit status when the guest crashes (triple fault) or KVM fails: distinct from test results. */
#define EXIT_GUEST_CRASH 126

struct vcpu {
	struct machine *m;
	unsigned int index;
	uint32_t apic_id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
};

int vcpus_read_kvm_stats(struct machine *m, struct kvm_stats *s)
{
	int *fds = calloc(m->nr_vcpus ? m->nr_vcpus : 1, sizeof(*fds));
	unsigned int n = 0;
	int r;

	if (!fds)
		return -ENOMEM;
	for (unsigned int i = 0; m->vcpus && i < m->nr_vcpus; i++)
		if (m->vcpus[i].fd >= 0)
			fds[n++] = m->vcpus[i].fd;
	r = kvm_stats_read_vcpus(fds, n, s);
	free(fds);
	return r;
}

uint64_t machine_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	for (unsigned int n = 64; n <= 4096; n *= 2) {
		struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));

		if (!c)
			return NULL;
		c->nent = n;
		if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG)
			return NULL;
	}
	return NULL;
}

/*
 * CPUID.1:ECX.TSC-deadline (bit 24). KVM emulates the IA32_TSC_DEADLINE timer in its local
 * APIC (ours with the split irqchip) but never reports the bit in KVM_GET_SUPPORTED_CPUID; a
 * VMM offers it when KVM_CAP_TSC_DEADLINE_TIMER says so. Without it Linux calibrates the
 * local APIC timer against the PIT for 100 ms of ticks (calibrate_APIC_clock) and keeps the
 * PIT running as its global clock event.
 */
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

static void offer_tsc_deadline(int kvm_fd, struct kvm_cpuid2 *c)
{
	if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) <= 0)
		return;
	for (unsigned int i = 0; i < c->nent; i++)
		if (c->entries[i].function == 1)
			c->entries[i].ecx |= CPUID_1_ECX_TSC_DEADLINE;
}

/* Bits of APIC ID needed to number n CPUs (x2APIC topology shift). */
static uint32_t topo_shift(unsigned int n)
{
	uint32_t s = 0;

	while ((1u << s) < n && s < 31)
		s++;
	return s;
}

/* Per-vCPU CPUID: the supported set with this vCPU's APIC ID and the topology filled in. */
static int setup_cpuid(struct vcpu *v, const struct kvm_cpuid2 *base)
{
	size_t sz = sizeof(*base) + base->nent * sizeof(base->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	int ret = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, base, sz);
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			/* EBX 31:24 initial APIC ID, 23:16 logical processors; HTT when > 1. */
			e->ebx = (e->ebx & 0xffff) | ((v->apic_id & 0xff) << 24) |
				 ((v->m->nr_vcpus > 255 ? 255 : v->m->nr_vcpus) << 16);
			if (v->m->nr_vcpus > 1)
				e->edx |= 1u << 28;
			e->ecx |= 1u << 31; /* running under a hypervisor */
			break;
		case 0xb:
		case 0x1f:
			/*
			 * One thread per core, all cores in one package: level 0 (SMT) has shift 0
			 * and 1 CPU, level 1 (core) has a shift covering every APIC ID and nr_vcpus
			 * CPUs; further subleaves are invalid (type 0). EDX = x2APIC ID.
			 */
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = (1u << 8) | 0;
			} else if (e->index == 1) {
				e->eax = topo_shift(v->m->nr_vcpus);
				e->ebx = v->m->nr_vcpus;
				e->ecx = (2u << 8) | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index & 0xff;
			}
			e->edx = v->apic_id;
			break;
		default:
			break;
		}
	}
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0)
		ret = -errno;
	free(c);
	return ret;
}

int vcpus_create(struct machine *m)
{
	struct kvm_cpuid2 *cpuid;
	int ret = 0;

	m->vcpus = calloc(m->cfg->nr_cpus, sizeof(*m->vcpus));
	if (!m->vcpus)
		return -ENOMEM;
	{
		/* KVM_CAP_MAX_VCPUS: the largest VM this host accepts (1024 here). */
		int max = ioctl(m->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);

		if (max > 0 && m->cfg->nr_cpus > (unsigned int)max) {
			log_err("vcpu", "-smp %u: this KVM supports at most %d vCPUs", m->cfg->nr_cpus,
				max);
			return -EINVAL;
		}
	}
	cpuid = supported_cpuid(m->kvm_fd);
	if (!cpuid) {
		log_err("vcpu", "KVM_GET_SUPPORTED_CPUID failed");
		return -ENOTSUP;
	}
	offer_tsc_deadline(m->kvm_fd, cpuid);
	for (unsigned int i = 0; i < m->cfg->nr_cpus; i++) {
		struct vcpu *v = &m->vcpus[i];

		v->m = m;
		v->index = i;
		v->apic_id = i;
		v->fd = ioctl(m->vm_fd, KVM_CREATE_VCPU, (unsigned long)v->apic_id);
		if (v->fd < 0) {
			ret = -errno;
			log_err("vcpu", "KVM_CREATE_VCPU %u: %s", i, strerror(errno));
			break;
		}
		m->nr_vcpus = i + 1;
		v->run = mmap(NULL, (size_t)m->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			ret = -errno;
			break;
		}
	}
	m->nr_vcpus = 0;
	for (unsigned int i = 0; i < m->cfg->nr_cpus && m->vcpus[i].run; i++)
		m->nr_vcpus = i + 1;
	for (unsigned int i = 0; !ret && i < m->nr_vcpus; i++) {
		ret = setup_cpuid(&m->vcpus[i], cpuid);
		if (ret)
			log_err("vcpu", "KVM_SET_CPUID2: %s", strerror(-ret));
	}
	free(cpuid);
	return ret;
}

void vcpus_destroy(struct machine *m)
{
	if (!m->vcpus)
		return;
	for (unsigned int i = 0; i < m->cfg->nr_cpus; i++) {
		struct vcpu *v = &m->vcpus[i];

		if (v->run)
			munmap(v->run, (size_t)m->vcpu_mmap_size);
		if (v->fd > 0)
			close(v->fd);
	}
	free(m->vcpus);
	m->vcpus = NULL;
}

static void set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
	*s = (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type, .present = 1,
		.dpl = 0, .db = code64 ? 0 : 1, .s = 1, .l = code64 ? 1 : 0, .g = 1,
	};
}

/* The BSP's state for the loader's entry; APs keep KVM's wait-for-SIPI state. */
int vcpu_setup_boot(struct machine *m, const struct boot_entry *e)
{
	struct vcpu *v = &m->vcpus[0];
	struct kvm_sregs sregs;
	struct kvm_regs regs = { 0 };
	bool lm = e->mode == BOOT_LONG64;

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	set_seg(&sregs.cs, e->cs, 0xb, lm);
	set_seg(&sregs.ds, e->ds, 0x3, false);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = e->gdt_base;
	sregs.gdt.limit = e->gdt_limit;
	sregs.cr0 = 0x11; /* PE | ET */
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (lm) {
		sregs.cr0 |= 0x80000000u; /* PG */
		sregs.cr3 = e->cr3;
		sregs.cr4 = 0x20;         /* PAE */
		sregs.efer = 0x500;       /* LME | LMA */
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0)
		return -errno;
	regs.rflags = 2;
	regs.rip = e->rip;
	regs.rsp = e->rsp;
	regs.rax = e->rax;
	regs.rbx = e->rbx;
	regs.rsi = e->rsi;
	if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

void machine_request_stop(struct machine *m, int exit_status)
{
	pthread_mutex_lock(&m->stop_lock);
	if (!m->stopping) {
		m->stopping = true;
		m->exit_status = exit_status;
		for (unsigned int i = 0; i < m->nr_vcpus; i++) {
			struct vcpu *v = &m->vcpus[i];

			__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
			if (v->started && !pthread_equal(v->thread, pthread_self()))
				pthread_kill(v->thread, SIGUSR1);
		}
	}
	pthread_mutex_unlock(&m->stop_lock);
}

static bool stopping(struct machine *m)
{
	return __atomic_load_n(&m->stopping, __ATOMIC_ACQUIRE);
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	unsigned int size = run->io.size;

	/* String I/O: count items of size bytes, all inside the shared run page. */
	for (uint32_t i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == KVM_EXIT_IO_OUT) {
			uint64_t val = 0;
			memcpy(&val, data, size);
			bus_write(&v->m->bus, BUS_PIO, run->io.port, val, size);
		} else {
			uint64_t val = bus_read(&v->m->bus, BUS_PIO, run->io.port, size);
			memcpy(data, &val, size);
		}
	}
}

static void handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	unsigned int len = run->mmio.len;

	if (len > 8)
		return;
	if (run->mmio.is_write) {
		uint64_t val = 0;
		memcpy(&val, run->mmio.data, len);
		bus_write(&v->m->bus, BUS_MMIO, run->mmio.phys_addr, val, len);
	} else {
		uint64_t val = bus_read(&v->m->bus, BUS_MMIO, run->mmio.phys_addr, len);
		memcpy(run->mmio.data, &val, len);
	}
}

static void report_crash(struct vcpu *v, const char *what)
{
	struct kvm_regs regs;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) == 0)
		log_err("vcpu", "vCPU %u: %s at rip=%#llx", v->index, what, (unsigned long long)regs.rip);
	else
		log_err("vcpu", "vCPU %u: %s", v->index, what);
}

/*
 * A stop by a signal (exit status 128 + signo) ends a guest that may be stuck: where each vCPU
 * stood says whether it was spinning with interrupts off, halted, or running (stderr).
 */
static void report_stop_state(struct vcpu *v)
{
	struct kvm_regs regs;
	struct kvm_mp_state mp = { 0 };
	int status;

	pthread_mutex_lock(&v->m->stop_lock);
	status = v->m->exit_status;
	pthread_mutex_unlock(&v->m->stop_lock);
	if (status <= 128 || status >= 128 + 65 || ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
		return;
	if (ioctl(v->fd, KVM_GET_MP_STATE, &mp) < 0)
		mp.mp_state = UINT32_MAX;
	fprintf(stderr, "nestvm: vCPU %u at the stop: rip=0x%llx rflags=0x%llx (interrupts %s), %s\n",
		v->index, (unsigned long long)regs.rip, (unsigned long long)regs.rflags,
		regs.rflags & (1u << 9) ? "on" : "off",
		mp.mp_state == KVM_MP_STATE_HALTED ? "halted" :
		mp.mp_state == KVM_MP_STATE_RUNNABLE ? "runnable" : "other state");
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct machine *m = v->m;
	bool first = true;
	char name[16];

	snprintf(name, sizeof(name), "nv-vcpu%u", v->index);
	pthread_setname_np(pthread_self(), name);
	while (!stopping(m)) {
		if (first && v->index == 0 && m->cfg->print_timing) {
			fprintf(stderr, "nestvm: timing: first guest instruction after %.3f ms\n",
				(double)(machine_now_ns() - m->t_start_ns) / 1e6);
			first = false;
		}
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			log_err("vcpu", "vCPU %u: KVM_RUN: %s", v->index, strerror(errno));
			machine_request_stop(m, EXIT_GUEST_CRASH);
			break;
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_IO:
			handle_io(v);
			break;
		case KVM_EXIT_MMIO:
			handle_mmio(v);
			break;
		case KVM_EXIT_IOAPIC_EOI:
			irq_ioapic_eoi(m, v->run->eoi.vector);
			break;
		case KVM_EXIT_INTR:
			break;
		case KVM_EXIT_HLT:
			/* Only without an in-kernel LAPIC; we always have one. */
			break;
		case KVM_EXIT_SHUTDOWN:
			report_crash(v, "triple fault (guest shutdown)");
			machine_request_stop(m, EXIT_GUEST_CRASH);
			break;
		case KVM_EXIT_SYSTEM_EVENT:
			if (v->run->system_event.type == KVM_SYSTEM_EVENT_RESET)
				vmctl_reset(&m->ctl);
			else
				vmctl_shutdown(&m->ctl, 0);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			log_err("vcpu", "vCPU %u: entry failed, reason %#llx", v->index,
				(unsigned long long)v->run->fail_entry.hardware_entry_failure_reason);
			machine_request_stop(m, EXIT_GUEST_CRASH);
			break;
		case KVM_EXIT_INTERNAL_ERROR:
			report_crash(v, "KVM internal error");
			log_err("vcpu", "suberror %u", v->run->internal.suberror);
			machine_request_stop(m, EXIT_GUEST_CRASH);
			break;
		default:
			log_err("vcpu", "vCPU %u: unhandled exit %u", v->index, v->run->exit_reason);
			machine_request_stop(m, EXIT_GUEST_CRASH);
			break;
		}
		/*
		 * Level lines still high at an EOI are re-delivered only after the next exit has been
		 * handled: this host's KVM reports KVM_EXIT_IOAPIC_EOI at the first exit after
		 * delivery, before the handler quiets the device, and the guest's real EOI then
		 * causes no exit at all.
		 */
		if (v->run->exit_reason != KVM_EXIT_IOAPIC_EOI)
			irq_after_exit(m);
	}
	report_stop_state(v);
	return NULL;
}

static void sig_nop(int sig)
{
	(void)sig;
}

int vcpus_run(struct machine *m)
{
	struct sigaction sa = { .sa_handler = sig_nop };
	int ret = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL); /* no SA_RESTART: KVM_RUN must return EINTR */
	pthread_mutex_lock(&m->stop_lock);
	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		struct vcpu *v = &m->vcpus[i];
		int err = pthread_create(&v->thread, NULL, vcpu_thread, v);

		if (err) {
			log_err("vcpu", "cannot start vCPU thread %u: %s", i, strerror(err));
			ret = -err;
			break;
		}
		v->started = true;
	}
	pthread_mutex_unlock(&m->stop_lock);
	if (ret)
		machine_request_stop(m, EXIT_GUEST_CRASH);
	for (unsigned int i = 0; i < m->nr_vcpus; i++) {
		if (m->vcpus[i].started)
			pthread_join(m->vcpus[i].thread, NULL);
	}
	return ret;
}
