/* SPDX-License-Identifier: MIT */
/* TAP-style reporting: plan line, one "ok N"/"not ok N" per assertion, summary, exit. */
#include "guest.h"

static struct spinlock tap_lock;
static int planned = -1;
static int count;
static int failed;

void tap_plan(int n)
{
	planned = n;
	printf("1..%d\n", n);
}

bool tap_ok(bool cond, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	spin_lock(&tap_lock);
	n = ++count;
	if (!cond)
		failed++;
	spin_unlock(&tap_lock);
	printf("%sok %d - %s\n", cond ? "" : "not ", n, msg);
	return cond;
}

void tap_diag(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("# %s\n", msg);
}

void tap_done(void)
{
	bool pass = failed == 0 && planned >= 0 && count == planned;

	if (planned < 0)
		printf("# no plan was printed\n");
	else if (count != planned)
		printf("# planned %d assertions but ran %d\n", planned, count);
	printf("# summary: %d run, %d passed, %d failed: %s\n", count, count - failed, failed,
	       pass ? "PASS" : "FAIL");
	guest_exit(pass ? GUEST_EXIT_PASS : GUEST_EXIT_FAIL);
}

void tap_bail(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printf("Bail out! %s\n", msg);
	printf("# summary: %d run, %d failed before bail-out: FAIL\n", count, failed);
	guest_exit(GUEST_EXIT_FAIL);
}
