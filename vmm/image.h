/* SPDX-License-Identifier: MIT */
/*
 * Boot images (kernel, initrds) mapped read-only from their files instead of read into a buffer.
 *
 * Under this project's nested, emulated hosts, reading a 66 MiB vmlinux into an anonymous buffer
 * cost 300-400 ms of start-up; mapping the page cache costs about 10 ms, and the loader's one
 * copy into guest RAM is the only pass over the bytes.
 *
 * A mapping of a file that another process truncates raises SIGBUS on the next access to a page
 * past the new end. image_guard_run() turns that into -EIO for the function it runs, so a file
 * that shrinks while nestvm loads it is an error message, not a crash.
 *
 * Callers: machine_run (vmm/machine.c) and the unit test. image_guard_run installs a
 * process-wide SIGBUS handler for its duration: call it from one thread at a time, before the
 * vCPUs run (a SIGBUS elsewhere in that window keeps its default action).
 */
#ifndef NESTVM_IMAGE_H
#define NESTVM_IMAGE_H

#include <stddef.h>

struct image {
	const void *data; /* never NULL once mapped; not dereferenceable when len == 0 */
	size_t len;
};

/* Largest image accepted: 1 GiB. */
#define IMAGE_MAX_SIZE (1ULL << 30)

/*
 * Maps a regular file read-only. 0, -errno from open/fstat/mmap, -EISDIR (a directory), -EINVAL
 * (another file that is not regular: a device, a FIFO, a socket), or -EFBIG.
 */
int image_map(const char *path, struct image *ret_img);
/* Unmaps; safe on a zeroed or already unmapped image. */
void image_unmap(struct image *img);
/*
 * Runs fn(arg) and returns its result, or -EIO if fn touched a page of one of the n images that
 * its file no longer backs (the file shrank after image_map).
 */
int image_guard_run(const struct image *imgs, unsigned int n, int (*fn)(void *arg), void *arg);

#endif
