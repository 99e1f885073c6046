/* SPDX-License-Identifier: MIT */
/*
 * The machine's event loop: one thread that polls file descriptors devices and backends hand
 * it (a host IOMMU's fault queue, ...) and calls their handler while the fd is readable.
 *
 * Callers: the board builder (vmm/board-devices.c) and the unit tests. Handlers run on the
 * loop's thread, one at a time, without any loop lock held; they must not block.
 */
#ifndef NESTVM_EVLOOP_H
#define NESTVM_EVLOOP_H

#include <stdint.h>

#define EVLOOP_MAX_FDS 16

struct evloop;

/*
 * Called while fd is readable (level-triggered). Returns >= 0 to keep watching; < 0 stops
 * watching this fd (the handler could not drain it: an error, or no progress), so a broken
 * source cannot spin the loop. The handler reports its own failure.
 */
typedef int (*evloop_fn)(void *opaque);

/* Starts the loop's thread. NULL if it cannot (out of memory, no thread, no eventfd). */
struct evloop *evloop_create(void);
/* Stops and joins the thread. Every fd must have been removed. Accepts NULL. */
void evloop_destroy(struct evloop *l);
/* Watches fd: 0 and *ret_id, or -EINVAL (fd < 0, fn NULL) / -ENOSPC. */
int evloop_add(struct evloop *l, int fd, evloop_fn fn, void *opaque, unsigned int *ret_id);
/*
 * Stops watching id. On return its handler is not running and will not run again (from the
 * handler itself: it returns at once). The fd stays the caller's to close afterwards.
 */
void evloop_remove(struct evloop *l, unsigned int id);

struct evloop_stats {
	uint64_t wakeups;   /* poll returns */
	uint64_t calls;     /* handler calls */
	uint64_t stopped;   /* fds whose handler asked to stop */
};
void evloop_get_stats(struct evloop *l, struct evloop_stats *ret);

#endif
