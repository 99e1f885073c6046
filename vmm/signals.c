/* SPDX-License-Identifier: MIT */
/* SIGTERM / SIGINT / SIGHUP: read from a signalfd on the event loop, never in signal context. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "vmm/core/evloop.h"
#include "vmm/signals.h"

struct vmm_signals {
	int fd;
	struct evloop *loop;   /* non-NULL while attached */
	unsigned int id;
	const struct vmm_signal_ops *ops;
	void *ctx;
	FILE *out;
	pthread_mutex_t lock;  /* st */
	struct vmm_signals_stats st;
};

static const char *sig_name(int signo)
{
	switch (signo) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGHUP: return "SIGHUP";
	default: return "signal";
	}
}

static void fill_set(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

/* One signal: the first presses the button if the guest listens, anything else stops. */
static void act(struct vmm_signals *s, int signo)
{
	bool first, pressed = false;

	pthread_mutex_lock(&s->lock);
	first = s->st.received++ == 0;
	s->st.last_signo = signo;
	pthread_mutex_unlock(&s->lock);
	if (first && s->ops->power_button)
		pressed = s->ops->power_button(s->ctx);
	if (pressed) {
		pthread_mutex_lock(&s->lock);
		s->st.presses++;
		pthread_mutex_unlock(&s->lock);
		fprintf(s->out, "nestvm: %s: power button pressed; send again to stop now\n",
			sig_name(signo));
		return;
	}
	if (first)
		fprintf(s->out, "nestvm: %s: the guest does not listen for the power button: "
			"stopping (exit status %d)\n", sig_name(signo), 128 + signo);
	else
		fprintf(s->out, "nestvm: %s again: stopping (exit status %d)\n", sig_name(signo),
			128 + signo);
	s->ops->stop(s->ctx, 128 + signo);
}

static int readable(void *opaque)
{
	struct vmm_signals *s = opaque;
	struct signalfd_siginfo si;
	ssize_t n;

	/* A bounded batch per wake-up; the loop calls again while more are pending. */
	for (int i = 0; i < 8; i++) {
		n = read(s->fd, &si, sizeof(si));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n != (ssize_t)sizeof(si))
			return n < 0 ? -errno : -EIO;
		act(s, (int)si.ssi_signo);
	}
	return 0;
}

struct vmm_signals *vmm_signals_open(void)
{
	struct vmm_signals *s = calloc(1, sizeof(*s));
	sigset_t set;
	int r;

	if (!s)
		return NULL;
	fill_set(&set);
	r = pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (r) {
		free(s);
		errno = r;
		return NULL;
	}
	s->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (s->fd < 0) {
		r = errno;
		free(s);
		errno = r;
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

int vmm_signals_attach(struct vmm_signals *s, struct evloop *l, const struct vmm_signal_ops *ops,
		       void *ctx, FILE *out)
{
	int r;

	if (!s || !l || !ops || !ops->stop || s->loop)
		return -EINVAL;
	s->ops = ops;
	s->ctx = ctx;
	s->out = out ? out : stderr;
	r = evloop_add(l, s->fd, readable, s, &s->id);
	if (!r)
		s->loop = l;
	return r;
}

void vmm_signals_detach(struct vmm_signals *s)
{
	if (!s || !s->loop)
		return;
	evloop_remove(s->loop, s->id);
	s->loop = NULL;
}

void vmm_signals_close(struct vmm_signals *s)
{
	if (!s)
		return;
	vmm_signals_detach(s);
	close(s->fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void vmm_signals_get_stats(struct vmm_signals *s, struct vmm_signals_stats *ret)
{
	pthread_mutex_lock(&s->lock);
	*ret = s->st;
	pthread_mutex_unlock(&s->lock);
}
