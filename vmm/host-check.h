/* SPDX-License-Identifier: MIT */
/* `nestvm host-check`: what nestvm can do on this host (vmm/host-check.c). */
#ifndef NESTVM_HOST_CHECK_H
#define NESTVM_HOST_CHECK_H

#include <stdio.h>

/* argv[0] is "host-check". Returns the exit status: 0 nested usable, 1 not, 2 usage. */
int host_check_main(int argc, char **argv, FILE *out);

#endif
