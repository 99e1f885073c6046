/* SPDX-License-Identifier: MIT */
/* Command-line parsing for the nestvm launcher (vmm/ internal). */
#ifndef NESTVM_CLI_H
#define NESTVM_CLI_H

#include <stdint.h>
#include <stdio.h>

struct machine_config;

enum cli_action { CLI_RUN, CLI_EXIT_OK };

/*
 * Parses argv into cfg. Returns 0 with *ret_action, or -EINVAL after printing one
 * "nestvm: error: ..." line to err (the launcher then exits with status 2).
 */
int cli_parse(int argc, char **argv, struct machine_config *cfg, enum cli_action *ret_action,
	      FILE *out, FILE *err);
/* "256", "256M", "1G", "4096K" -> bytes (a bare number is MiB). 0 or -EINVAL. */
int cli_parse_size(const char *s, uint64_t *ret_bytes);
void cli_usage(FILE *out);

#define CLI_MIN_RAM (16ULL << 20)
#define CLI_MAX_RAM (256ULL << 30)
#define CLI_MAX_CPUS 288 /* APIC IDs above 255 need x2APIC in the guest (vIOMMU ir=on) */

#endif
