/* SPDX-License-Identifier: MIT */
/* Unit tests of the machine's event loop with real eventfds. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "common/check-run.h"
#include "vmm/core/evloop.h"

struct src {
	int fd;
	volatile int calls;
	volatile int started, done;
	int ret;               /* what the handler returns */
	unsigned int sleep_ms; /* how long it takes */
	struct evloop *l;
	unsigned int id;
	bool remove_self;
};

static int handler(void *opaque)
{
	struct src *s = opaque;
	uint64_t v;

	s->started = 1;
	if (s->sleep_ms)
		usleep(s->sleep_ms * 1000);
	if (read(s->fd, &v, sizeof(v)) != sizeof(v))
		v = 0;
	__atomic_fetch_add(&s->calls, 1, __ATOMIC_SEQ_CST);
	if (s->remove_self)
		evloop_remove(s->l, s->id);
	s->done = 1;
	return s->ret;
}

static void signal_fd(int fd)
{
	uint64_t one = 1;

	ck_assert_int_eq(write(fd, &one, sizeof(one)), sizeof(one));
}

/* Waits up to 2 s for *p to reach want. */
static bool wait_for(volatile int *p, int want)
{
	for (int i = 0; i < 2000 && *p < want; i++)
		usleep(1000);
	return *p >= want;
}

static struct src *src_new(struct evloop *l)
{
	static struct src pool[EVLOOP_MAX_FDS + 1];
	static unsigned int used;
	struct src *s = &pool[used++ % (EVLOOP_MAX_FDS + 1)];

	*s = (struct src){ .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), .l = l };
	ck_assert_int_ge(s->fd, 0);
	return s;
}

START_TEST(test_calls_while_readable)
{
	struct evloop *l = evloop_create();
	struct src *a, *b;
	struct evloop_stats st;

	ck_assert_ptr_nonnull(l);
	a = src_new(l);
	b = src_new(l);
	ck_assert_int_eq(evloop_add(l, a->fd, handler, a, &a->id), 0);
	ck_assert_int_eq(evloop_add(l, b->fd, handler, b, &b->id), 0);
	signal_fd(a->fd);
	ck_assert(wait_for(&a->calls, 1));
	usleep(20000);
	ck_assert_int_eq(a->calls, 1); /* drained: not called again */
	ck_assert_int_eq(b->calls, 0);
	signal_fd(b->fd);
	signal_fd(a->fd);
	ck_assert(wait_for(&b->calls, 1));
	ck_assert(wait_for(&a->calls, 2));
	evloop_remove(l, a->id);
	evloop_remove(l, b->id);
	signal_fd(a->fd);
	usleep(20000);
	ck_assert_int_eq(a->calls, 2);
	evloop_get_stats(l, &st);
	ck_assert_uint_eq(st.calls, 3);
	evloop_destroy(l);
	close(a->fd);
	close(b->fd);
}
END_TEST

/* A handler that fails stops being called: a broken source cannot spin the loop. */
START_TEST(test_failing_handler_stops)
{
	struct evloop *l = evloop_create();
	struct src *a = src_new(l);
	struct evloop_stats st;

	a->ret = -EIO;
	ck_assert_int_eq(evloop_add(l, a->fd, handler, a, &a->id), 0);
	signal_fd(a->fd);
	ck_assert(wait_for(&a->calls, 1));
	signal_fd(a->fd);
	usleep(20000);
	ck_assert_int_eq(a->calls, 1);
	evloop_get_stats(l, &st);
	ck_assert_uint_eq(st.stopped, 1);
	evloop_remove(l, a->id); /* removing a stopped entry is harmless */
	evloop_destroy(l);
	close(a->fd);
}
END_TEST

/* remove() returns only once a running handler has returned; from the handler, at once. */
START_TEST(test_remove_waits_for_handler)
{
	struct evloop *l = evloop_create();
	struct src *a = src_new(l), *b = src_new(l);

	a->sleep_ms = 100;
	ck_assert_int_eq(evloop_add(l, a->fd, handler, a, &a->id), 0);
	signal_fd(a->fd);
	ck_assert(wait_for(&a->started, 1));
	evloop_remove(l, a->id);
	ck_assert_int_eq(a->done, 1);
	b->remove_self = true;
	ck_assert_int_eq(evloop_add(l, b->fd, handler, b, &b->id), 0);
	signal_fd(b->fd);
	ck_assert(wait_for(&b->done, 1));
	signal_fd(b->fd);
	usleep(20000);
	ck_assert_int_eq(b->calls, 1);
	evloop_destroy(l);
	close(a->fd);
	close(b->fd);
}
END_TEST

START_TEST(test_limits)
{
	struct evloop *l = evloop_create();
	unsigned int id;
	int fd = eventfd(0, EFD_CLOEXEC);

	ck_assert_int_eq(evloop_add(l, -1, handler, NULL, &id), -EINVAL);
	ck_assert_int_eq(evloop_add(l, fd, NULL, NULL, &id), -EINVAL);
	for (int i = 0; i < EVLOOP_MAX_FDS; i++)
		ck_assert_int_eq(evloop_add(l, fd, handler, NULL, &id), 0);
	ck_assert_int_eq(evloop_add(l, fd, handler, NULL, &id), -ENOSPC);
	for (unsigned int i = 0; i < EVLOOP_MAX_FDS; i++)
		evloop_remove(l, i);
	evloop_remove(l, EVLOOP_MAX_FDS); /* out of range: ignored */
	evloop_destroy(l);
	evloop_destroy(NULL);
	close(fd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("evloop");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_calls_while_readable);
	tcase_add_test(tc, test_failing_handler_stops);
	tcase_add_test(tc, test_remove_waits_for_handler);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
