/* SPDX-License-Identifier: MIT */
/* The launcher's command line: options, sizes, -device specs, and one clear error per mistake. */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "log.h"
#include "machine.h"

void cli_usage(FILE *out)
{
	fprintf(out,
		"Usage: nestvm run -kernel FILE [options]\n"
		"       nestvm host-check [DEVICE]   what nestvm can do on this host (exit 0: nesting)\n"
		"       nestvm --help | --version\n"
		"\n"
		"Boot a multiboot v1 test kernel (or a Linux bzImage) in a KVM virtual machine with a\n"
		"q35-like board and an optional VT-d scalable-mode vIOMMU.\n"
		"\n"
		"Options of 'run':\n"
		"  -kernel FILE       kernel to boot: multiboot v1 (ELF32 or a.out kludge), bzImage or\n"
		"                     an uncompressed x86-64 vmlinux (ELF64)\n"
		"  -initrd FILE[,F2]  initrd (bzImage, vmlinux) or multiboot modules; may be repeated\n"
		"  -append STRING     kernel command line\n"
		"  -m SIZE            guest RAM: 256 (MiB), 256M, 2G; default 256M, 16M..256G\n"
		"  -smp N             number of vCPUs, 1..%d; default 1\n"
		"  -device SPEC       add a device: MODEL[,addr=SLOT][,option=value...]; models:\n",
		CLI_MAX_CPUS);
	board_list_models(out);
	fprintf(out,
		"  --hugepages        back guest RAM with 2 MiB huge pages (the host must have them)\n"
		"  --dump-dtb FILE    write the board's device tree blob to FILE (the VM still runs)\n"
		"  --trace LIST       enable tracepoints: %s\n"
		"  --timing           print boot timing figures to stderr\n"
		"  --kvm-stats        print KVM's exit counters for the run to stderr at the end\n"
		"  -v, --verbose      more log output (repeat for debug)\n"
		"\n"
		"Signals: the first SIGTERM, SIGINT (Ctrl-C) or SIGHUP presses the guest's ACPI power\n"
		"button if the guest listens for it (it then powers off: exit 0); otherwise, and on a\n"
		"second signal, the VM is stopped in order with exit status 128 + the signal number\n"
		"(SIGTERM 143, SIGINT 130, SIGHUP 129).\n"
		"\n"
		"Exit status: the guest's debug-exit value v gives (v << 1) | 1 (port 0xf4); ACPI\n"
		"power-off or reset gives 0; a guest crash (triple fault) gives 126; bad command-line\n"
		"input gives 2; a host error (e.g. no /dev/kvm) gives 125; a stop by signal N 128 + N.\n",
		trace_names());
}

int cli_parse_size(const char *s, uint64_t *ret_bytes)
{
	char *end;
	unsigned long long v;
	uint64_t mult = 1ULL << 20;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	if (*end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mult = 1ULL << 10; break;
		case 'M': mult = 1ULL << 20; break;
		case 'G': mult = 1ULL << 30; break;
		case 'T': mult = 1ULL << 40; break;
		default: return -EINVAL;
		}
		end++;
		if (*end == 'B' || *end == 'b' || (*end == 'i' && end[1] == 'B' && end++))
			end++;
		if (*end)
			return -EINVAL;
	}
	if (v > UINT64_MAX / mult)
		return -EINVAL;
	*ret_bytes = v * mult;
	return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "edu,addr=4,foo=bar" -> model "edu", slot 4, opts "foo=bar". */
static int parse_device(const char *spec, struct device_spec *d, FILE *err)
{
	const char *comma = strchr(spec, ',');
	const struct board_model *bm;
	size_t mlen = comma ? (size_t)(comma - spec) : strlen(spec);
	const char *p;
	char *o;

	memset(d, 0, sizeof(*d));
	d->slot = -1;
	if (mlen == 0 || mlen >= sizeof(d->model)) {
		fprintf(err, "nestvm: error: -device '%s': missing or too long model name\n", spec);
		return -EINVAL;
	}
	memcpy(d->model, spec, mlen);
	bm = board_find_model(d->model);
	if (!bm) {
		fprintf(err, "nestvm: error: -device '%s': unknown device model '%s' (see --help)\n",
			spec, d->model);
		return -EINVAL;
	}
	o = d->opts;
	for (p = comma; p && *p;) {
		const char *item = p + 1;
		const char *next = strchr(item, ',');
		size_t n = next ? (size_t)(next - item) : strlen(item);

		if (n > 5 && !strncmp(item, "addr=", 5)) {
			char num[16];
			unsigned long slot;

			if (n - 5 >= sizeof(num) || !bm->pci) {
				fprintf(err, "nestvm: error: -device '%s': bad addr= option\n", spec);
				return -EINVAL;
			}
			memcpy(num, item + 5, n - 5);
			num[n - 5] = 0;
			if (parse_uint(num, 30, &slot) || slot == 0) {
				fprintf(err, "nestvm: error: -device '%s': addr must be a PCI slot 1..30\n",
					spec);
				return -EINVAL;
			}
			d->slot = (int)slot;
		} else if (n) {
			size_t used = (size_t)(o - d->opts);
			if (used + n + 2 > sizeof(d->opts)) {
				fprintf(err, "nestvm: error: -device '%s': options too long\n", spec);
				return -EINVAL;
			}
			if (used)
				*o++ = ',';
			memcpy(o, item, n);
			o += n;
			*o = 0;
		}
		p = next;
	}
	if (bm->check) {
		char why[320];

		if (bm->check(d->opts, why, sizeof(why))) {
			fprintf(err, "nestvm: error: -device '%s': %s\n", spec, why);
			return -EINVAL;
		}
	}
	return 0;
}

static int add_initrds(struct machine_config *cfg, char *list, FILE *err)
{
	for (char *save = NULL, *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (cfg->nr_initrds >= MACHINE_MAX_INITRDS) {
			fprintf(err, "nestvm: error: at most %d -initrd files\n", MACHINE_MAX_INITRDS);
			return -EINVAL;
		}
		cfg->initrd_paths[cfg->nr_initrds++] = tok;
	}
	return 0;
}

int cli_parse(int argc, char **argv, struct machine_config *cfg, enum cli_action *ret_action,
	      FILE *out, FILE *err)
{
	int i = 1;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ram_size = 256ULL << 20;
	cfg->nr_cpus = 1;
	if (argc < 2) {
		cli_usage(err);
		fprintf(err, "nestvm: error: missing command (try 'nestvm run -kernel FILE')\n");
		return -EINVAL;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		cli_usage(out);
		*ret_action = CLI_EXIT_OK;
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		fprintf(out, "nestvm 0.1.0\n");
		*ret_action = CLI_EXIT_OK;
		return 0;
	}
	if (strcmp(argv[1], "run")) {
		fprintf(err, "nestvm: error: unknown command '%s' (try 'nestvm --help')\n", argv[1]);
		return -EINVAL;
	}
	for (i = 2; i < argc; i++) {
		const char *a = argv[i];
		const char *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool takes = true;

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			cli_usage(out);
			*ret_action = CLI_EXIT_OK;
			return 0;
		} else if (!strcmp(a, "--hugepages")) {
			cfg->hugepages = true;
			takes = false;
		} else if (!strcmp(a, "--timing")) {
			cfg->print_timing = true;
			takes = false;
		} else if (!strcmp(a, "--kvm-stats")) {
			cfg->print_kvm_stats = true;
			takes = false;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			if (log_max_level < LOG_DEBUG)
				log_max_level++;
			takes = false;
		}
		if (!takes)
			continue;
		if (!strcmp(a, "-kernel") || !strcmp(a, "-initrd") || !strcmp(a, "-append") ||
		    !strcmp(a, "-m") || !strcmp(a, "-smp") || !strcmp(a, "-device") ||
		    !strcmp(a, "--dump-dtb") || !strcmp(a, "--trace")) {
			if (!val) {
				fprintf(err, "nestvm: error: option %s needs a value\n", a);
				return -EINVAL;
			}
			i++;
		} else {
			fprintf(err, "nestvm: error: unknown option '%s' (try 'nestvm --help')\n", a);
			return -EINVAL;
		}
		if (!strcmp(a, "-kernel")) {
			cfg->kernel_path = val;
		} else if (!strcmp(a, "-initrd")) {
			if (add_initrds(cfg, argv[i], err))
				return -EINVAL;
		} else if (!strcmp(a, "-append")) {
			cfg->cmdline = val;
		} else if (!strcmp(a, "-m")) {
			if (cli_parse_size(val, &cfg->ram_size) || cfg->ram_size < CLI_MIN_RAM ||
			    cfg->ram_size > CLI_MAX_RAM || cfg->ram_size % 4096) {
				fprintf(err,
					"nestvm: error: -m '%s': memory size must be 16M..256G in 4 KiB units\n",
					val);
				return -EINVAL;
			}
		} else if (!strcmp(a, "-smp")) {
			unsigned long n;

			if (parse_uint(val, CLI_MAX_CPUS, &n) || n == 0) {
				fprintf(err, "nestvm: error: -smp '%s': CPU count must be 1..%d\n", val,
					CLI_MAX_CPUS);
				return -EINVAL;
			}
			cfg->nr_cpus = (unsigned int)n;
		} else if (!strcmp(a, "-device")) {
			if (cfg->nr_devices >= MACHINE_MAX_DEVICES) {
				fprintf(err, "nestvm: error: at most %d -device options\n", MACHINE_MAX_DEVICES);
				return -EINVAL;
			}
			if (parse_device(val, &cfg->devices[cfg->nr_devices], err))
				return -EINVAL;
			cfg->nr_devices++;
		} else if (!strcmp(a, "--dump-dtb")) {
			cfg->dump_dtb_path = val;
		} else if (!strcmp(a, "--trace")) {
			if (trace_parse(val, &trace_mask)) {
				fprintf(err, "nestvm: error: --trace '%s': known tracepoints: %s\n", val,
					trace_names());
				return -EINVAL;
			}
		}
	}
	if (!cfg->kernel_path) {
		fprintf(err, "nestvm: error: no kernel given (use -kernel FILE)\n");
		return -EINVAL;
	}
	if (cfg->hugepages && cfg->ram_size % (2ULL << 20)) {
		fprintf(err, "nestvm: error: --hugepages needs a memory size in 2 MiB units\n");
		return -EINVAL;
	}
	*ret_action = CLI_RUN;
	return 0;
}
