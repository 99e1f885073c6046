/* SPDX-License-Identifier: MIT */
/* Builds the machine from its configuration, runs it, and tears it down in reverse order. */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bits.h"
#include "board.h"
#include "devices/platform/platform.h"
#include "log.h"
#include "machine.h"
#include "vmm/core/evloop.h"
#include "vmm/acpi/acpi.h"
#include "vmm/boot/boot.h"
#include "vmm-run.h"
#include "vmm/signals.h"
#include "image.h"
#include "vmm/kvm-stats.h"

/* boot_load under image_guard_run: the images are file mappings (vmm/image.h). */
struct guarded_load {
	struct boot_config *bc;
	struct boot_entry *entry;
	const char **fmt;
};

static int guarded_load(void *arg)
{
	struct guarded_load *g = arg;

	return boot_load(g->bc, g->entry, g->fmt);
}

static void ctl_shutdown(void *ctx, int exit_status)
{
	machine_request_stop(ctx, exit_status);
}

static void ctl_reset(void *ctx)
{
	/* Like Firecracker and kvmtool, a guest reset ends the VM (status 0). */
	log_info("machine", "guest requested a reset: stopping");
	machine_request_stop(ctx, 0);
}

static const struct vmctl_ops ctl_ops = { .shutdown = ctl_shutdown, .reset = ctl_reset };

/* SIGTERM & co. (vmm/signals.c): the board's fixed-feature power button, then a stop. */
static bool sig_power_button(void *ctx)
{
	struct machine *m = ctx;

	return m->acpi_pm && acpi_pm_press_power_button(m->acpi_pm);
}

static void sig_stop(void *ctx, int exit_status)
{
	machine_request_stop(ctx, exit_status);
}

static const struct vmm_signal_ops sig_ops = { .power_button = sig_power_button, .stop = sig_stop };

/* Once the vCPUs exist (a stop request reaches them): signals are read on the event loop. */
static int watch_signals(struct machine *m)
{
	if (!m->events)
		m->events = evloop_create();
	if (!m->events)
		return -ENOMEM;
	return vmm_signals_attach(m->signals, m->events, &sig_ops, m, stderr);
}

/* The memory map given to the guest: RAM minus the BIOS area, plus reserved windows. */
static unsigned int build_e820(const struct machine *m, struct boot_e820 *map, unsigned int max)
{
	unsigned int n = 0;
	uint64_t low = m->gmem.regions[0].size;

	map[n++] = (struct boot_e820){ 0, 0x9fc00, 1 };
	map[n++] = (struct boot_e820){ 0x9fc00, 0x100000 - 0x9fc00, 2 };
	if (low > 0x100000)
		map[n++] = (struct boot_e820){ 0x100000, low - 0x100000, 1 };
	map[n++] = (struct boot_e820){ BOARD_ECAM_BASE, BOARD_ECAM_SIZE, 2 };
	map[n++] = (struct boot_e820){ BOARD_KVM_IDMAP, 0x4000, 2 };
	for (unsigned int i = 1; i < m->gmem.nr_regions && n < max; i++)
		map[n++] = (struct boot_e820){ m->gmem.regions[i].gpa, m->gmem.regions[i].size, 1 };
	return n;
}

static int dump_dtb(const struct machine *m, const char *path)
{
	FILE *f = fopen(path, "wb");
	size_t sz = fdt_totalsize(m->fdt);
	int ret = 0;

	if (!f)
		return -errno;
	if (fwrite(m->fdt, 1, sz, f) != sz)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

/*
 * In order: the vCPU threads have been joined (vcpus_run) or never started; the signal reader
 * stops before the devices it presses go; devices go in reverse (I/O threads joined, fault
 * queues unwatched before their backend closes, each host backend's close releasing its
 * objects and fds, the vIOMMU last).
 */
static void machine_teardown(struct machine *m, struct image *files, unsigned int nfiles)
{
	vmm_signals_detach(m->signals);
	board_destroy_devices(m);
	vcpus_destroy(m);
	irq_fini(m);
	kvm_close_vm(m);
	gmem_destroy(&m->gmem);
	free(m->fdt);
	free(m->vtd_cfg);
	for (unsigned int i = 0; i < nfiles; i++)
		image_unmap(&files[i]);
	vmm_signals_close(m->signals);
	pthread_mutex_destroy(&m->stop_lock);
}

/* --kvm-stats: KVM's counters summed over the vCPUs, which have stopped. */
static void print_kvm_stats(struct machine *m)
{
	struct kvm_stats st = { 0 };
	char line[512];
	int r = vcpus_read_kvm_stats(m, &st);

	if (r) {
		fprintf(stderr, "nestvm: kvm: no exit counters: %s\n",
			r == -ENOTTY ? "this kernel has no KVM_GET_STATS_FD (Linux 5.14+)" : strerror(-r));
		return;
	}
	kvm_stats_format(&st, line, sizeof(line));
	fprintf(stderr, "nestvm: kvm: %s (%u vCPU%s)\n", line, st.files, st.files == 1 ? "" : "s");
}

/*
 * --timing: how long main() came after the process was created (its fork, the exec and the
 * dynamic loader), from /proc/self/stat's start time in clock ticks since boot against
 * CLOCK_BOOTTIME; a tick's resolution (10 ms here). Nothing is printed if either is unknown.
 */
static void timing_exec(const struct machine *m)
{
	char buf[1024], *p;
	unsigned long long start = 0;
	long hz = sysconf(_SC_CLK_TCK);
	struct timespec now;
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = 0;
	/* Field 22; the command name (field 2) may hold spaces, so count from its ')'. */
	p = strrchr(buf, ')');
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	if (!p || sscanf(p + 1, "%llu", &start) != 1 || hz <= 0 ||
	    clock_gettime(CLOCK_BOOTTIME, &now))
		return;
	fprintf(stderr, "nestvm: timing: main() began %.0f ms after the process was created (+- %.0f ms)\n",
		((double)now.tv_sec * 1e3 + (double)now.tv_nsec / 1e6) - (double)start * 1e3 / (double)hz -
			(double)(machine_now_ns() - m->t_start_ns) / 1e6,
		1e3 / (double)hz);
}

/* --timing: how long the start-up took up to a stage (ms since main() started). */
static void timing(const struct machine *m, const char *stage)
{
	if (m->cfg->print_timing)
		fprintf(stderr, "nestvm: timing: %s after %.3f ms\n", stage,
			(double)(machine_now_ns() - m->t_start_ns) / 1e6);
}

int machine_run(const struct machine_config *cfg, uint64_t t_start_ns)
{
	struct machine mach = { .cfg = cfg, .kvm_fd = -1, .vm_fd = -1, .t_start_ns = t_start_ns };
	struct machine *m = &mach;
	struct image files[1 + MACHINE_MAX_INITRDS] = { 0 };
	struct boot_module mods[MACHINE_MAX_INITRDS];
	struct boot_e820 map[16];
	struct boot_entry entry;
	struct boot_config bc;
	const char *fmt = "?";
	char err[256] = "";
	unsigned int nfiles = 0;
	int ret, status = VMM_EXIT_HOST_ERROR;

	pthread_mutex_init(&m->stop_lock, NULL);
	gmem_init_empty(&m->gmem);
	bus_init(&m->bus);
	m->ctl = (struct vmctl){ .ops = &ctl_ops, .ctx = m };
	/* Before any thread starts: every thread inherits the blocked SIGTERM/SIGINT/SIGHUP. */
	m->signals = vmm_signals_open();
	if (!m->signals) {
		fprintf(stderr, "nestvm: error: cannot watch SIGTERM/SIGINT/SIGHUP: %s\n",
			strerror(errno));
		goto out;
	}

	/* Input files first: a bad path is the user's mistake, reported before any setup. */
	for (unsigned int i = 0; i <= cfg->nr_initrds; i++) {
		const char *path = i == 0 ? cfg->kernel_path : cfg->initrd_paths[i - 1];

		ret = image_map(path, &files[i]);
		if (ret) {
			fprintf(stderr, "nestvm: error: cannot read %s '%s': %s\n",
				i == 0 ? "kernel" : "initrd", path,
				ret == -EINVAL ? "not a regular file" : strerror(-ret));
			status = VMM_EXIT_USAGE;
			goto out;
		}
		nfiles = i + 1;
	}
	if (cfg->print_timing)
		timing_exec(m);
	timing(m, "images read");
	ret = board_configure_viommu(m, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "nestvm: error: -device %s\n", err); /* err: "vtd: ..." */
		status = ret == -EINVAL ? VMM_EXIT_USAGE : VMM_EXIT_HOST_ERROR;
		goto out;
	}
	ret = board_configure_host(m, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "nestvm: error: %s\n", err);
		status = ret == -EINVAL ? VMM_EXIT_USAGE : VMM_EXIT_HOST_ERROR;
		goto out;
	}
	/*
	 * Anonymous RAM gets the host's transparent huge pages (a shared memfd does not under
	 * Debian's shmem_enabled=never): every 4 KiB page touched was a nested-paging fault and a
	 * shmem allocation. pc-testdev's page flush drops the mapping and needs the memfd.
	 */
	ret = gmem_init_ram_backed(&m->gmem, cfg->ram_size, BOARD_LOW_RAM_LIMIT,
				   cfg->hugepages ? GMEM_RAM_HUGETLB :
				   board_has_model(cfg, "pc-testdev") ? GMEM_RAM_SHARED : GMEM_RAM_ANON);
	if (ret) {
		fprintf(stderr, "nestvm: error: cannot allocate %llu MiB of guest RAM%s: %s\n",
			(unsigned long long)(cfg->ram_size >> 20),
			cfg->hugepages ? " on huge pages (are enough reserved in /proc/sys/vm/nr_hugepages?)" : "",
			strerror(-ret));
		goto out;
	}
	timing(m, "guest RAM allocated");
	ret = kvm_init_vm(m);
	if (!ret)
		ret = kvm_map_ram(m);
	if (!ret)
		ret = board_host_watch(m);
	if (!ret)
		ret = irq_init(m);
	if (ret) {
		fprintf(stderr, "nestvm: error: cannot set up the KVM machine: %s\n", strerror(-ret));
		goto out;
	}
	timing(m, "KVM VM, RAM slots and irqchip");
	ret = board_build_fdt(m, err, sizeof(err));
	if (!ret && cfg->dump_dtb_path) {
		ret = dump_dtb(m, cfg->dump_dtb_path);
		if (ret)
			snprintf(err, sizeof(err), "cannot write '%s': %s", cfg->dump_dtb_path,
				 strerror(-ret));
	}
	if (!ret)
		ret = board_create_devices(m, err, sizeof(err));
	if (!ret)
		timing(m, "devices created");
	if (!ret)
		kvm_map_read_mirrors(m);
	if (!ret) {
		ret = acpi_build(m->fdt, &m->gmem, BOARD_ACPI_BASE, BOARD_ACPI_LIMIT);
		if (ret)
			snprintf(err, sizeof(err), "cannot build the ACPI tables: %s", strerror(-ret));
	}
	if (ret) {
		if (err[0])
			fprintf(stderr, "nestvm: error: %s\n", err);
		if (m->usage_error)
			status = VMM_EXIT_USAGE; /* a typed option the host cannot back */
		goto out;
	}
	timing(m, "VM, devices and ACPI tables built");
	for (unsigned int i = 0; i < cfg->nr_initrds; i++)
		mods[i] = (struct boot_module){ files[i + 1].data, files[i + 1].len, cfg->initrd_paths[i] };
	bc = (struct boot_config){
		.gmem = &m->gmem, .kernel = files[0].data, .kernel_len = files[0].len,
		.cmdline = cfg->cmdline, .kernel_name = cfg->kernel_path,
		.modules = mods, .nr_modules = cfg->nr_initrds,
		.map = map, .nr_map = build_e820(m, map, ARRAY_SIZE(map)),
	};
	ret = image_guard_run(files, nfiles, guarded_load,
			      &(struct guarded_load){ &bc, &entry, &fmt });
	if (ret == -EIO) {
		fprintf(stderr, "nestvm: error: cannot boot '%s': an image file shrank while it was loaded\n",
			cfg->kernel_path);
		goto out;
	}
	if (ret) {
		fprintf(stderr, "nestvm: error: cannot boot '%s': %s\n", cfg->kernel_path,
			boot_strerror(ret));
		status = (ret == -ENOEXEC || ret == -EINVAL) ? VMM_EXIT_USAGE : VMM_EXIT_HOST_ERROR;
		goto out;
	}
	/* The images are in guest RAM now: their mappings would stay for the whole run. */
	for (unsigned int i = 0; i < nfiles; i++)
		image_unmap(&files[i]);
	nfiles = 0;
	if (m->cfg->print_timing) {
		char stage[64];

		snprintf(stage, sizeof(stage), "%s kernel and initrd loaded", fmt);
		timing(m, stage);
	}
	log_info("machine", "booting %s kernel '%s' with %u vCPU(s), %llu MiB", fmt, cfg->kernel_path,
		 cfg->nr_cpus, (unsigned long long)(cfg->ram_size >> 20));
	ret = vcpus_create(m);
	if (!ret)
		ret = vcpu_setup_boot(m, &entry);
	if (ret) {
		fprintf(stderr, "nestvm: error: cannot set up the vCPUs: %s\n", strerror(-ret));
		goto out;
	}
	ret = watch_signals(m);
	if (ret) {
		fprintf(stderr, "nestvm: error: cannot watch host signals: %s\n", strerror(-ret));
		goto out;
	}
	ret = vcpus_run(m);
	vmm_signals_detach(m->signals);
	status = m->exit_status;
	board_print_host_summary(m);
	if (cfg->print_kvm_stats)
		print_kvm_stats(m);
	if (cfg->print_timing)
		fprintf(stderr, "nestvm: timing: guest exit after %.3f ms\n",
			(double)(machine_now_ns() - t_start_ns) / 1e6);
out:
	machine_teardown(m, files, nfiles);
	return status;
}
