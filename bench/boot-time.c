/* SPDX-License-Identifier: MIT */
/* Boot-time benchmark: runs a guest kernel N times under nestvm and QEMU, prints min/median. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 100
#define MAX_ARGS 48
/* Per-run wall-clock limit: a hung VMM must not hang the benchmark. */
#define RUN_TIMEOUT_MS 60000

struct sample {
	double first_insn; /* nestvm --timing: process start -> first KVM_RUN (ms), or -1 */
	double guest_exit; /* nestvm --timing: process start -> guest exit (ms), or -1 */
	double first_byte; /* fork -> first serial byte on stdout (ms) */
	double wall;       /* fork -> process exit (ms) */
	int status;
	char stderr_head[160]; /* first line of stderr, for failures */
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double parse_after(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtod(p + strlen(key), NULL) : -1;
}

/* Runs argv once; stdout is the guest serial console, stderr carries nestvm's --timing lines. */
static int run_once(char *const argv[], struct sample *s)
{
	int out[2], err[2];
	char errbuf[8192], sink[4096];
	size_t errlen = 0;
	double t0;
	pid_t pid;
	bool out_open = true, err_open = true;

	if (pipe(out) || pipe(err))
		return -errno;
	t0 = now_ms();
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		close(out[0]);
		close(err[0]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	s->first_byte = -1;
	while (out_open || err_open) {
		struct pollfd p[2] = { { out_open ? out[0] : -1, POLLIN, 0 }, { err_open ? err[0] : -1, POLLIN, 0 } };
		int left = (int)(t0 + RUN_TIMEOUT_MS - now_ms());

		if (left <= 0 || poll(p, 2, left) <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(out[0], sink, sizeof(sink));

			if (n > 0 && s->first_byte < 0)
				s->first_byte = now_ms() - t0;
			if (n <= 0)
				out_open = false;
		}
		if (p[1].revents) {
			ssize_t n = read(err[0], errbuf + errlen, sizeof(errbuf) - 1 - errlen);

			if (n > 0)
				errlen += (size_t)n;
			if (n <= 0 || errlen == sizeof(errbuf) - 1)
				err_open = false;
		}
	}
	waitpid(pid, &s->status, 0);
	s->wall = now_ms() - t0;
	close(out[0]);
	close(err[0]);
	errbuf[errlen] = 0;
	s->first_insn = parse_after(errbuf, "first guest instruction after ");
	s->guest_exit = parse_after(errbuf, "guest exit after ");
	snprintf(s->stderr_head, sizeof(s->stderr_head), "%.*s", (int)strcspn(errbuf, "\n"), errbuf);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *label, const struct sample *s, int n, size_t field)
{
	double v[MAX_RUNS];
	int k = 0;

	for (int i = 0; i < n; i++) {
		double x = *(const double *)((const char *)&s[i] + field);

		if (x >= 0)
			v[k++] = x;
	}
	if (!k) {
		printf("  %-44s n/a\n", label);
		return;
	}
	qsort(v, (size_t)k, sizeof(v[0]), cmp_double);
	printf("  %-44s min %9.2f ms   median %9.2f ms   (%d runs)\n", label, v[0], v[k / 2], k);
}

static int bench(const char *title, char *const argv[], int runs, bool nestvm)
{
	struct sample s[MAX_RUNS];
	int ok = 0;

	printf("%s\n  $", title);
	for (int i = 0; argv[i]; i++)
		printf(" %s", argv[i]);
	printf("\n");
	for (int i = 0; i < runs; i++) {
		if (run_once(argv, &s[i]))
			return -1;
		/* The guest library's pass is debug-exit value 0 -> exit status 1, on both VMMs. */
		if (WIFEXITED(s[i].status) && WEXITSTATUS(s[i].status) == 1)
			ok++;
	}
	if (nestvm) {
		report("start -> first guest instruction (--timing)", s, runs, offsetof(struct sample, first_insn));
		report("start -> guest exit (--timing)", s, runs, offsetof(struct sample, guest_exit));
	}
	report("fork -> first serial byte", s, runs, offsetof(struct sample, first_byte));
	report("fork -> process exit", s, runs, offsetof(struct sample, wall));
	printf("  runs that passed: %d/%d\n", ok, runs);
	if (ok < runs && s[runs - 1].stderr_head[0])
		printf("  last run's stderr: %s\n", s[runs - 1].stderr_head);
	return ok == runs ? 0 : 1;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s NESTVM KERNEL [RUNS [QEMU_RUNS]]\n"
		"  env BENCH_QEMU: QEMU binary (default qemu-system-x86_64; \"none\" to skip)\n", argv0);
}

int main(int argc, char **argv)
{
	const char *qemu = getenv("BENCH_QEMU") ? getenv("BENCH_QEMU") : "qemu-system-x86_64";
	int runs = argc > 3 ? atoi(argv[3]) : 20, qruns = argc > 4 ? atoi(argv[4]) : 3;
	bool kvm = access("/dev/kvm", R_OK | W_OK) == 0;
	char *nv[MAX_ARGS] = { argv[1], "run", "-kernel", argv[2], "--timing", NULL };
	char *qv[MAX_ARGS] = {
		/* Default CPU model: "-cpu host" fails on this nested host (MSR 0x10a). */
		(char *)qemu, "-accel", kvm ? "kvm" : "tcg", "-M", "q35",
		"-m", "128M", "-display", "none", "-vga", "none", "-nodefaults", "-no-reboot",
		"-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
		"-kernel", argv[2], NULL,
	};
	int ret;

	if (argc < 3 || runs < 1 || runs > MAX_RUNS || qruns < 0 || qruns > MAX_RUNS) {
		usage(argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("boot-time: %s\n", argv[2]);
	ret = bench("nestvm", nv, runs, true);
	if (qruns && strcmp(qemu, "none") != 0) {
		char title[128];

		snprintf(title, sizeof(title), "QEMU q35 with its firmware (%s)",
			 kvm ? "KVM" : "TCG: no usable /dev/kvm, not comparable");
		if (bench(title, qv, qruns, false) < 0)
			printf("  QEMU could not be started\n");
	}
	printf("target: nestvm start -> guest exit <= 20 ms (not asserted)\n");
	return ret < 0 ? 1 : 0;
}
