/* SPDX-License-Identifier: MIT */
/* nestvm: command-line entry point. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "board.h"
#include "cli.h"
#include "host-check.h"
#include "machine.h"
#include "vmm-run.h"

int main(int argc, char **argv)
{
	uint64_t t0 = machine_now_ns();
	struct machine_config *cfg = calloc(1, sizeof(*cfg));
	enum cli_action action;
	int status;

	if (!cfg)
		return VMM_EXIT_HOST_ERROR;
	/* A closed console pipe must end in a write error, not kill the VMM. */
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && !strcmp(argv[1], "host-check")) {
		free(cfg);
		return host_check_main(argc - 1, argv + 1, stdout);
	}
	if (cli_parse(argc, argv, cfg, &action, stdout, stderr)) {
		free(cfg);
		return VMM_EXIT_USAGE;
	}
	if (action == CLI_EXIT_OK) {
		free(cfg);
		return 0;
	}
	{
		char err[256];

		/* Board policy: every PCI device gets its slot before the board is described. */
		if (board_assign_slots(cfg, err, sizeof(err))) {
			fprintf(stderr, "nestvm: error: %s\n", err);
			free(cfg);
			return VMM_EXIT_USAGE;
		}
	}
	status = machine_run(cfg, t0);
	free(cfg);
	return status;
}
