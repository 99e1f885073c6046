/* SPDX-License-Identifier: MIT */
/* Boot images mapped read-only from their files, and the SIGBUS guard for loading them. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "image.h"

/* The one guarded call in progress (image_guard_run is not reentrant; see image.h). */
static const struct image *guard_imgs;
static unsigned int guard_n;
static sigjmp_buf guard_env;
static volatile sig_atomic_t guard_armed;

int image_map(const char *path, struct image *ret_img)
{
	static const char empty[1];
	struct stat st;
	void *p;
	/* O_NONBLOCK: a FIFO given by mistake is refused below instead of waiting for a writer. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	int err;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	if ((uint64_t)st.st_size > IMAGE_MAX_SIZE) {
		close(fd);
		return -EFBIG;
	}
	if (st.st_size == 0) {
		close(fd);
		*ret_img = (struct image){ .data = empty, .len = 0 };
		return 0;
	}
	/* Private and read-only: the pages are the page cache's; no copy until the loader's. */
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	err = p == MAP_FAILED ? -errno : 0;
	close(fd);
	if (err)
		return err;
	*ret_img = (struct image){ .data = p, .len = (size_t)st.st_size };
	return 0;
}

void image_unmap(struct image *img)
{
	if (img->data && img->len)
		munmap((void *)img->data, img->len);
	*img = (struct image){ 0 };
}

static bool in_image(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;

	for (unsigned int i = 0; i < guard_n; i++) {
		uintptr_t base = (uintptr_t)guard_imgs[i].data;

		if (guard_imgs[i].len && a >= base && a - base < guard_imgs[i].len)
			return true;
	}
	return false;
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (guard_armed && in_image(si->si_addr))
		siglongjmp(guard_env, 1);
	/* Not ours: the default action, as if no handler had been installed. */
	signal(sig, SIG_DFL);
	raise(sig);
}

int image_guard_run(const struct image *imgs, unsigned int n, int (*fn)(void *arg), void *arg)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO }, old;
	volatile int ret = -EIO;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old) < 0)
		return -errno;
	guard_imgs = imgs;
	guard_n = n;
	if (sigsetjmp(guard_env, 1) == 0) {
		guard_armed = 1;
		ret = fn(arg);
	}
	guard_armed = 0;
	guard_imgs = NULL;
	guard_n = 0;
	sigaction(SIGBUS, &old, NULL);
	return ret;
}
