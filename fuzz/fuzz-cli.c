/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the launcher's command-line parser (cli_parse, cli_parse_size) and the vIOMMU
 * option parser each "-device vtd,..." hands on to the board builder.
 *
 * Input: the arguments after "nestvm", separated by NUL bytes (at most FZ_MAX_ARGS); each is
 * copied into its own exact-size heap string, as argv strings are.
 * Oracle: no sanitizer report; the result is 0 or -EINVAL; a parsed configuration stays within
 * the documented limits.
 */
#include <errno.h>
#include <stdio.h>

#include "common/log.h"
#include "devices/viommu/viommu.h"
#include "fuzz-util.h"
#include "vmm/cli.h"
#include "vmm/machine.h"

#define FZ_MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *null_out;
	char *argv[FZ_MAX_ARGS + 2];
	struct machine_config cfg;
	enum cli_action action;
	int argc = 1, r;
	size_t i = 0;

	if (!null_out) {
		null_out = fopen("/dev/null", "w");
		FZ_CHECK(null_out != NULL);
	}
	argv[0] = strdup("nestvm");
	while (i < size && argc <= FZ_MAX_ARGS) {
		const uint8_t *end = memchr(data + i, 0, size - i);
		size_t len = end ? (size_t)(end - (data + i)) : size - i;

		argv[argc] = malloc(len + 1);
		FZ_CHECK(argv[argc] != NULL);
		memcpy(argv[argc], data + i, len);
		argv[argc][len] = 0;
		argc++;
		i += len + 1;
	}
	argv[argc] = NULL;

	log_max_level = LOG_WARN;
	trace_mask = 0;
	r = cli_parse(argc, argv, &cfg, &action, null_out, null_out);
	FZ_CHECK(r == 0 || r == -EINVAL);
	if (r == 0 && action == CLI_RUN) {
		FZ_CHECK(cfg.kernel_path != NULL);
		FZ_CHECK(cfg.ram_size >= CLI_MIN_RAM && cfg.ram_size <= CLI_MAX_RAM);
		FZ_CHECK(cfg.nr_cpus >= 1 && cfg.nr_cpus <= CLI_MAX_CPUS);
		FZ_CHECK(cfg.nr_devices <= MACHINE_MAX_DEVICES);
		for (unsigned int d = 0; d < cfg.nr_devices; d++) {
			struct viommu_config vc;
			char err[128];

			FZ_CHECK(memchr(cfg.devices[d].model, 0, sizeof(cfg.devices[d].model)));
			FZ_CHECK(memchr(cfg.devices[d].opts, 0, sizeof(cfg.devices[d].opts)));
			if (!strcmp(cfg.devices[d].model, "vtd") &&
			    viommu_parse_options(cfg.devices[d].opts, &vc, err, sizeof(err)) == 0)
				FZ_CHECK(vc.aw == 39 || vc.aw == 48 || vc.aw == 57);
		}
	}
	for (int a = 1; a < argc; a++) {
		uint64_t bytes;

		(void)cli_parse_size(argv[a], &bytes);
	}
	log_max_level = LOG_WARN;
	for (int a = 0; a < argc; a++)
		free(argv[a]);
	return 0;
}
