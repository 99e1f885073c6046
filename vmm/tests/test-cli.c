/* SPDX-License-Identifier: MIT */
/* Unit tests for the launcher's command-line parser: good input, and one clear error per mistake. */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "vmm/cli.h"
#include "vmm/machine.h"

static struct machine_config cfg;
static char errbuf[4096];
/* Writable copies of the arguments (cli_parse may split -initrd lists in place). */
static char argbuf[64][256];

/* Parses a NULL-terminated argument list; returns cli_parse's result, stderr text in errbuf. */
static int parse(enum cli_action *act, ...)
{
	char *argv[64];
	int argc = 0;
	va_list ap;
	FILE *err = fmemopen(errbuf, sizeof(errbuf), "w");
	FILE *out = fopen("/dev/null", "w");
	int ret;

	memset(errbuf, 0, sizeof(errbuf));
	argv[argc++] = "nestvm";
	va_start(ap, act);
	for (char *a = va_arg(ap, char *); a && argc < 63; a = va_arg(ap, char *)) {
		snprintf(argbuf[argc], sizeof(argbuf[argc]), "%s", a);
		argv[argc] = argbuf[argc];
		argc++;
	}
	va_end(ap);
	argv[argc] = NULL;
	ret = cli_parse(argc, argv, &cfg, act, out, err);
	fclose(err);
	fclose(out);
	return ret;
}

START_TEST(test_defaults_and_values)
{
	enum cli_action act;

	ck_assert_int_eq(parse(&act, "run", "-kernel", "k.elf", NULL), 0);
	ck_assert_int_eq(act, CLI_RUN);
	ck_assert_str_eq(cfg.kernel_path, "k.elf");
	ck_assert_uint_eq(cfg.ram_size, 256ULL << 20);
	ck_assert_uint_eq(cfg.nr_cpus, 1);
	ck_assert(!cfg.print_timing && !cfg.print_kvm_stats);
	ck_assert_int_eq(parse(&act, "run", "--kvm-stats", "-kernel", "k.elf", "--timing", NULL), 0);
	ck_assert(cfg.print_timing && cfg.print_kvm_stats);

	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-m", "1G", "-smp", "8", "-append", "a b",
			       "-initrd", "x,y", "-initrd", "z", "-device", "edu,addr=5", "-device",
			       "vtd,mode=legacy", "--dump-dtb", "/tmp/x.dtb", NULL), 0);
	ck_assert_uint_eq(cfg.ram_size, 1ULL << 30);
	ck_assert_uint_eq(cfg.nr_cpus, 8);
	ck_assert_str_eq(cfg.cmdline, "a b");
	ck_assert_uint_eq(cfg.nr_initrds, 3);
	ck_assert_str_eq(cfg.initrd_paths[2], "z");
	ck_assert_uint_eq(cfg.nr_devices, 2);
	ck_assert_str_eq(cfg.devices[0].model, "edu");
	ck_assert_int_eq(cfg.devices[0].slot, 5);
	ck_assert_str_eq(cfg.devices[1].model, "vtd");
	ck_assert_str_eq(cfg.devices[1].opts, "mode=legacy");
	ck_assert_int_eq(cfg.devices[1].slot, -1);
	ck_assert_str_eq(cfg.dump_dtb_path, "/tmp/x.dtb");
}
END_TEST

START_TEST(test_sizes)
{
	uint64_t v;

	ck_assert_int_eq(cli_parse_size("256", &v), 0);
	ck_assert_uint_eq(v, 256ULL << 20);
	ck_assert_int_eq(cli_parse_size("4096K", &v), 0);
	ck_assert_uint_eq(v, 4ULL << 20);
	ck_assert_int_eq(cli_parse_size("2GiB", &v), 0);
	ck_assert_uint_eq(v, 2ULL << 30);
	ck_assert_int_eq(cli_parse_size("2GB", &v), 0);
	ck_assert_int_eq(cli_parse_size("", &v), -EINVAL);
	ck_assert_int_eq(cli_parse_size("-1", &v), -EINVAL);
	ck_assert_int_eq(cli_parse_size("12Q", &v), -EINVAL);
	ck_assert_int_eq(cli_parse_size("99999999999999999999", &v), -EINVAL);
	ck_assert_int_eq(cli_parse_size("99999999999T", &v), -EINVAL);
}
END_TEST

START_TEST(test_help)
{
	enum cli_action act;

	ck_assert_int_eq(parse(&act, "--help", NULL), 0);
	ck_assert_int_eq(act, CLI_EXIT_OK);
	ck_assert_int_eq(parse(&act, "run", "--help", NULL), 0);
	ck_assert_int_eq(act, CLI_EXIT_OK);
}
END_TEST

/* Each bad input fails with exactly one error line that names the problem. */
static void expect_error(const char *needle, ...)
{
	ck_assert_msg(strstr(errbuf, needle) != NULL, "error text '%s' lacks '%s'", errbuf, needle);
	ck_assert_msg(strstr(errbuf, "nestvm: error: ") != NULL, "no error prefix in '%s'", errbuf);
}

START_TEST(test_errors)
{
	enum cli_action act;

	ck_assert_int_eq(parse(&act, NULL), -EINVAL);
	ck_assert_int_eq(parse(&act, "bogus", NULL), -EINVAL);
	expect_error("unknown command");
	ck_assert_int_eq(parse(&act, "run", NULL), -EINVAL);
	expect_error("no kernel");
	ck_assert_int_eq(parse(&act, "run", "-kernel", NULL), -EINVAL);
	expect_error("needs a value");
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "--frobnicate", NULL), -EINVAL);
	expect_error("unknown option");
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-m", "1M", NULL), -EINVAL);
	expect_error("memory size");
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-m", "1000G", NULL), -EINVAL);
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-m", "lots", NULL), -EINVAL);
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-smp", "0", NULL), -EINVAL);
	expect_error("CPU count");
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-smp", "100000", NULL), -EINVAL);
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-smp", "2x", NULL), -EINVAL);
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-device", "floppy", NULL), -EINVAL);
	expect_error("unknown device model 'floppy'");
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-device", "edu,addr=0", NULL), -EINVAL);
	expect_error("PCI slot");
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-device", "edu,addr=32", NULL), -EINVAL);
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-device", "vtd,addr=3", NULL), -EINVAL);
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "-device", "", NULL), -EINVAL);
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "--trace", "nope", NULL), -EINVAL);
	expect_error("known tracepoints");
	ck_assert_int_eq(parse(&act, "run", "-kernel", "k", "--hugepages", "-m", "3M", NULL), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults_and_values);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_help);
	tcase_add_test(tc, test_errors);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
