/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for vmm/signals.c: real signals sent to this process (kill), read on a real event
 * loop; the machine is a fake that records what the policy asked of it.
 */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <unistd.h>

#include "check-run.h"
#include "vmm/core/evloop.h"
#include "vmm/signals.h"

struct fake_vm {
	bool listens;           /* the guest enabled its power button */
	atomic_uint presses, stops;
	atomic_int status;
};

static bool fake_button(void *ctx)
{
	struct fake_vm *f = ctx;

	if (f->listens)
		f->presses++;
	return f->listens;
}

static void fake_stop(void *ctx, int status)
{
	struct fake_vm *f = ctx;

	f->status = status;
	f->stops++;
}

static const struct vmm_signal_ops ops = { .power_button = fake_button, .stop = fake_stop };

static struct fake_vm vm;
static struct vmm_signals *sigs;
static struct evloop *loop;
static FILE *out;
static char *out_buf;
static size_t out_len;

static void setup(void)
{
	memset(&vm, 0, sizeof(vm));
	vm.status = -1;
	sigs = vmm_signals_open();
	ck_assert_ptr_nonnull(sigs);
	loop = evloop_create();
	ck_assert_ptr_nonnull(loop);
	out = open_memstream(&out_buf, &out_len);
	ck_assert_ptr_nonnull(out);
}

static void teardown(void)
{
	vmm_signals_close(sigs);
	evloop_destroy(loop);
	fclose(out);
	free(out_buf);
}

/* Waits (bounded: 5 s) until *v reaches want. */
static void wait_for(atomic_uint *v, unsigned int want)
{
	for (int i = 0; i < 5000 && *v < want; i++)
		usleep(1000);
	ck_assert_uint_eq(*v, want);
}

static const char *output(void)
{
	fflush(out);
	return out_buf ? out_buf : "";
}

START_TEST(test_no_button_stops_at_once)
{
	struct vmm_signals_stats st;

	ck_assert_int_eq(vmm_signals_attach(sigs, loop, &ops, &vm, out), 0);
	ck_assert_int_eq(kill(getpid(), SIGTERM), 0); /* blocked: pending, not fatal */
	wait_for(&vm.stops, 1);
	ck_assert_int_eq(vm.status, 128 + SIGTERM);
	ck_assert_uint_eq(vm.presses, 0);
	vmm_signals_get_stats(sigs, &st);
	ck_assert_uint_eq(st.received, 1);
	ck_assert_uint_eq(st.presses, 0);
	ck_assert_int_eq(st.last_signo, SIGTERM);
	ck_assert_ptr_nonnull(strstr(output(), "nestvm: SIGTERM: the guest does not listen for the "
					       "power button: stopping (exit status 143)\n"));
}
END_TEST

START_TEST(test_button_then_second_signal)
{
	struct vmm_signals_stats st;

	vm.listens = true;
	ck_assert_int_eq(vmm_signals_attach(sigs, loop, &ops, &vm, out), 0);
	ck_assert_int_eq(kill(getpid(), SIGINT), 0);
	wait_for(&vm.presses, 1);
	usleep(50000);
	ck_assert_uint_eq(vm.stops, 0); /* the guest gets its chance */
	ck_assert_ptr_nonnull(strstr(output(), "nestvm: SIGINT: power button pressed; send again to "
					       "stop now\n"));
	ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
	wait_for(&vm.stops, 1);
	ck_assert_int_eq(vm.status, 128 + SIGTERM);
	ck_assert_uint_eq(vm.presses, 1); /* the second signal does not press again */
	ck_assert_ptr_nonnull(strstr(output(), "nestvm: SIGTERM again: stopping (exit status 143)\n"));
	vmm_signals_get_stats(sigs, &st);
	ck_assert_uint_eq(st.received, 2);
	ck_assert_uint_eq(st.presses, 1);
}
END_TEST

/* A signal sent before the reader is attached (machine set-up) is handled once it is. */
START_TEST(test_pending_before_attach)
{
	ck_assert_int_eq(kill(getpid(), SIGHUP), 0);
	usleep(20000);
	ck_assert_uint_eq(vm.stops, 0);
	ck_assert_int_eq(vmm_signals_attach(sigs, loop, &ops, &vm, out), 0);
	wait_for(&vm.stops, 1);
	ck_assert_int_eq(vm.status, 128 + SIGHUP);
}
END_TEST

static void *worker(void *arg)
{
	sigset_t cur;

	(void)arg;
	/* Threads created after open inherit the mask: SIGTERM can never interrupt them. */
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	return (void *)(intptr_t)sigismember(&cur, SIGTERM);
}

START_TEST(test_threads_inherit_mask)
{
	pthread_t t;
	void *blocked;

	ck_assert_int_eq(pthread_create(&t, NULL, worker, NULL), 0);
	ck_assert_int_eq(pthread_join(t, &blocked), 0);
	ck_assert_int_eq((int)(intptr_t)blocked, 1);
}
END_TEST

/* After detach nothing runs; the signal stays pending (and is consumed by a re-attach). */
START_TEST(test_detach_stops_reading)
{
	ck_assert_int_eq(vmm_signals_attach(sigs, loop, &ops, &vm, out), 0);
	ck_assert_int_eq(vmm_signals_attach(sigs, loop, &ops, &vm, out), -EINVAL);
	vmm_signals_detach(sigs);
	ck_assert_int_eq(kill(getpid(), SIGTERM), 0);
	usleep(50000);
	ck_assert_uint_eq(vm.stops, 0);
	ck_assert_int_eq(vmm_signals_attach(sigs, loop, &ops, &vm, out), 0);
	wait_for(&vm.stops, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("signals");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_no_button_stops_at_once);
	tcase_add_test(tc, test_button_then_second_signal);
	tcase_add_test(tc, test_pending_before_attach);
	tcase_add_test(tc, test_threads_inherit_mask);
	tcase_add_test(tc, test_detach_stops_reading);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
