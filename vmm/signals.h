/* SPDX-License-Identifier: MIT */
/*
 * The host signals that end a VM: SIGTERM, SIGINT (Ctrl-C) and SIGHUP.
 *
 * They are blocked in every thread and read from a signalfd on the machine's event loop, so
 * nothing runs in signal context. The first one presses the guest's ACPI power button when the
 * guest listens for it (the OS set PWRBTN_EN): the guest shuts down and powers off (exit 0).
 * When it does not (a test kernel without ACPI, an OS before its button driver loaded), or on
 * any later signal, the VM is stopped in order with exit status 128 + the signal number.
 * Each signal prints one line on the given stream.
 *
 * Callers: machine_run (vmm/machine.c) and the unit tests. vmm_signals_open must run before
 * the process starts any thread: the threads inherit the blocked mask, so no thread but the
 * loop's reader ever sees these signals.
 */
#ifndef NESTVM_SIGNALS_H
#define NESTVM_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct evloop;
struct vmm_signals;

struct vmm_signal_ops {
	/* Presses the guest's power button: true when the guest listens for it (event raised). */
	bool (*power_button)(void *ctx);
	/* Stops the VM in order with this exit status (asynchronous, must not block). */
	void (*stop)(void *ctx, int exit_status);
};

struct vmm_signals_stats {
	uint64_t received; /* signals read */
	uint64_t presses;  /* of which pressed the power button */
	int last_signo;    /* 0: none yet */
};

/* Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and opens a signalfd. NULL + errno. */
struct vmm_signals *vmm_signals_open(void);
/*
 * Reads the signalfd on loop l; each signal runs the policy above with ops / ctx and prints
 * its line on out. 0, or -errno (evloop_add's). Signals already pending are handled at once.
 */
int vmm_signals_attach(struct vmm_signals *s, struct evloop *l, const struct vmm_signal_ops *ops,
		       void *ctx, FILE *out);
/* Stops reading: on return no handler runs or will run. Later signals stay pending. */
void vmm_signals_detach(struct vmm_signals *s);
/*
 * Closes the fd (detaching first if needed). The signals stay blocked: one that arrives from
 * now on is dropped when the process exits, so the exit status is the machine's. Accepts NULL.
 */
void vmm_signals_close(struct vmm_signals *s);
void vmm_signals_get_stats(struct vmm_signals *s, struct vmm_signals_stats *ret);

#endif
