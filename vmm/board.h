/* SPDX-License-Identifier: MIT */
/* Board helpers shared by the launcher and the board builder (vmm/ internal). */
#ifndef NESTVM_BOARD_H
#define NESTVM_BOARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct machine_config;

/* A -device model (vmm/models.c); creating one is board-devices.c's job. */
struct board_model {
	const char *name;
	bool pci;
	uint16_t vendor, device;
	bool intx;
	const char *help;
	/*
	 * Called by the command-line parser with what followed the model name: 0 if the options
	 * are usable and whatever host object they name exists, else -EINVAL and one line in
	 * why. NULL: the options are checked when the device is created.
	 */
	int (*check)(const char *opts, char *why, size_t len);
	const char *one_only; /* non-NULL: at most one per machine, and why */
};

const struct board_model *board_find_model(const char *name);
void board_list_models(FILE *out);
/* 0 if no one-only model appears twice; else -EINVAL and one line in err. */
int board_check_model_counts(const struct machine_config *cfg, char *err, size_t errlen);
/* IOAPIC input for INTx pin (1 = INTA) of a bus-0 device in slot (docs/board.md). */
unsigned int board_intx_gsi(unsigned int slot, unsigned int pin);
/* Gives every PCI -device a slot (explicit addr= first, then the first free from 3). */
int board_assign_slots(struct machine_config *cfg, char *err, size_t errlen);
/* True if some -device names model. */
bool board_has_model(const struct machine_config *cfg, const char *model);

#endif
