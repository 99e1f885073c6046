/* SPDX-License-Identifier: MIT */
/* The launcher's entry into the machine (vmm/ internal). */
#ifndef NESTVM_VMM_RUN_H
#define NESTVM_VMM_RUN_H

#include <stdint.h>

struct machine_config;

#define VMM_EXIT_HOST_ERROR 125
#define VMM_EXIT_USAGE 2

/* Builds and runs the machine; returns the process exit status. */
int machine_run(const struct machine_config *cfg, uint64_t t_start_ns);

#endif
