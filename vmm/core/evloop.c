/* SPDX-License-Identifier: MIT */
/* The machine's event loop: a poll() thread over registered fds plus a wake-up eventfd. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vmm/core/evloop.h"

struct evloop_entry {
	bool used;      /* slot taken (removed entries are freed at once) */
	int fd;
	evloop_fn fn;
	void *opaque;
};

struct evloop {
	pthread_t thread;
	pthread_mutex_t lock;      /* everything below */
	pthread_cond_t idle;       /* signalled when a handler returns */
	int wake_fd;
	bool stop;
	int running;               /* slot whose handler runs now, -1 none */
	struct evloop_entry e[EVLOOP_MAX_FDS];
	struct evloop_stats st;
};

static void wake(struct evloop *l)
{
	uint64_t one = 1;

	if (write(l->wake_fd, &one, sizeof(one)) != sizeof(one))
		return; /* the counter is already non-zero: the loop will wake anyway */
}

static void *loop(void *arg)
{
	struct evloop *l = arg;
	struct pollfd pfd[EVLOOP_MAX_FDS + 1];
	int slot[EVLOOP_MAX_FDS];

	pthread_setname_np(pthread_self(), "nv-evloop");
	pthread_mutex_lock(&l->lock);
	while (!l->stop) {
		unsigned int n = 0;

		for (int i = 0; i < EVLOOP_MAX_FDS; i++) {
			if (!l->e[i].used)
				continue;
			pfd[n] = (struct pollfd){ .fd = l->e[i].fd, .events = POLLIN };
			slot[n++] = i;
		}
		pfd[n] = (struct pollfd){ .fd = l->wake_fd, .events = POLLIN };
		pthread_mutex_unlock(&l->lock);
		if (poll(pfd, n + 1, -1) < 0 && errno != EINTR) {
			pthread_mutex_lock(&l->lock);
			break;
		}
		if (pfd[n].revents & POLLIN) {
			uint64_t v;

			if (read(l->wake_fd, &v, sizeof(v)) != sizeof(v))
				v = 0;
		}
		pthread_mutex_lock(&l->lock);
		l->st.wakeups++;
		for (unsigned int k = 0; k < n && !l->stop; k++) {
			struct evloop_entry *e = &l->e[slot[k]];
			evloop_fn fn = e->fn;
			void *opaque = e->opaque;
			int r;

			/* Removed (or the slot reused) while we polled: its readiness is stale. */
			if (!(pfd[k].revents & (POLLIN | POLLERR | POLLHUP)) || !e->used ||
			    e->fd != pfd[k].fd)
				continue;
			l->running = slot[k];
			l->st.calls++;
			pthread_mutex_unlock(&l->lock);
			r = fn(opaque);
			pthread_mutex_lock(&l->lock);
			l->running = -1;
			pthread_cond_broadcast(&l->idle);
			/* Stop watching this registration only (not one that took the slot since). */
			if (r < 0 && e->used && e->fd == pfd[k].fd && e->fn == fn && e->opaque == opaque) {
				e->used = false;
				l->st.stopped++;
			}
		}
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

struct evloop *evloop_create(void)
{
	struct evloop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->running = -1;
	l->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (l->wake_fd < 0)
		goto err_free;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->idle, NULL);
	if (pthread_create(&l->thread, NULL, loop, l))
		goto err_close;
	return l;
err_close:
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->lock);
	close(l->wake_fd);
err_free:
	free(l);
	return NULL;
}

void evloop_destroy(struct evloop *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	pthread_mutex_unlock(&l->lock);
	wake(l);
	pthread_join(l->thread, NULL);
	pthread_cond_destroy(&l->idle);
	pthread_mutex_destroy(&l->lock);
	close(l->wake_fd);
	free(l);
}

int evloop_add(struct evloop *l, int fd, evloop_fn fn, void *opaque, unsigned int *ret_id)
{
	int r = -ENOSPC;

	if (fd < 0 || !fn)
		return -EINVAL;
	pthread_mutex_lock(&l->lock);
	for (unsigned int i = 0; i < EVLOOP_MAX_FDS; i++) {
		if (!l->e[i].used) {
			l->e[i] = (struct evloop_entry){ .used = true, .fd = fd, .fn = fn, .opaque = opaque };
			*ret_id = i;
			r = 0;
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	if (!r)
		wake(l);
	return r;
}

void evloop_remove(struct evloop *l, unsigned int id)
{
	if (id >= EVLOOP_MAX_FDS)
		return;
	pthread_mutex_lock(&l->lock);
	l->e[id].used = false;
	/* Wait for a running call to return, unless this is that call. */
	while (l->running == (int)id && !pthread_equal(pthread_self(), l->thread))
		pthread_cond_wait(&l->idle, &l->lock);
	pthread_mutex_unlock(&l->lock);
	wake(l); /* drop the fd from the poll set before the caller closes it */
}

void evloop_get_stats(struct evloop *l, struct evloop_stats *ret)
{
	pthread_mutex_lock(&l->lock);
	*ret = l->st;
	pthread_mutex_unlock(&l->lock);
}
