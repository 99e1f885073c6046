/* SPDX-License-Identifier: MIT */
/* Disassembles every generated table with iasl -d (acpica-tools) and recompiles the DSDT. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "acpi-test-board.h"
#include "common/bits.h"

static const char *iasl_path(void)
{
	const char *p = getenv("IASL");

	ck_assert_msg(p && *p, "IASL not set: meson did not find iasl (install acpica-tools)");
	ck_assert_msg(access(p, X_OK) == 0, "IASL=%s is not executable", p);
	return p;
}

/* Runs a shell command, returns its exit status; output (stdout+stderr) into out. */
static int run(const char *cmd, char *out, size_t out_len)
{
	FILE *f = popen(cmd, "r");
	size_t n = 0, got;
	int st;

	ck_assert_ptr_nonnull(f);
	while (n + 1 < out_len && (got = fread(out + n, 1, out_len - 1 - n, f)) > 0)
		n += got;
	out[n] = '\0';
	while (fgetc(f) != EOF)
		;
	st = pclose(f);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s;
	long n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	s = calloc(1, (size_t)n + 1);
	ck_assert_ptr_nonnull(s);
	ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return s;
}

struct dump_ctx {
	const char *dir, *iasl;
	unsigned int nr;
	char *dsdt_dsl;
};

static int disassemble(const char *sig, const void *data, size_t len, uint64_t gpa, void *opaque)
{
	struct dump_ctx *c = opaque;
	char path[512], cmd[1400], out[16384], *dsl;
	FILE *f;
	int st;

	/*
	 * iasl -d refuses a binary RSDP ("RSD " is no valid name segment, so it is "not a valid
	 * ACPI table"); check_common verifies the RSDP field by field instead.
	 */
	if (!strcmp(sig, "RSDP")) {
		c->nr++;
		return 0;
	}
	snprintf(path, sizeof(path), "%s/%s.dat", c->dir, sig);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' -d '%s.dat' 2>&1", c->dir, c->iasl, sig);
	st = run(cmd, out, sizeof(out));
	ck_assert_msg(st == 0, "iasl -d %s: status %d\n%.1500s", sig, st, out);
	ck_assert_msg(!strstr(out, "Error") && !strstr(out, "error"), "iasl -d %s:\n%.1500s", sig, out);
	snprintf(path, sizeof(path), "%s/%s.dsl", c->dir, sig);
	dsl = read_file(path);
	ck_assert_msg(!strstr(dsl, "Incorrect") && !strstr(dsl, "Error") && !strstr(dsl, "Invalid"),
		      "%s.dsl reports a problem:\n%.1500s", sig, dsl);
	if (!strcmp(sig, "DSDT"))
		c->dsdt_dsl = dsl;
	else
		free(dsl);
	c->nr++;
	return 0;
}

/* Scratch root made by main (the parent): failed forked tests cannot leave files behind. */
static char scratch_root[64];

static void iasl_check(const struct image *img)
{
	char tmpl[128], cmd[1200], out[16384];
	struct dump_ctx c = { .iasl = iasl_path() };
	static const char *const want[] = {
		"PNP0A08", "PNP0A03", "PNP0501", "PNP0C02", "ACPI0007", "_PRT", "_S5_", "_SEG",
		"_BBN", "WordBusNumber", "DWordMemory", "IRQNoFlags", "0x03F8", "0x0CF8",
		"0xC0000000", "0xFEBFFFFF", "WordIO", "0xC000", "Package (0x80)", "COM1",
	};
	int st;

	snprintf(tmpl, sizeof(tmpl), "%s/XXXXXX", scratch_root);
	c.dir = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(c.dir);
	ck_assert_int_eq(acpi_for_each_table(img->buf, img->used, ACPI_RSDP_GPA, disassemble, &c),
			 0);
	ck_assert_uint_eq(c.nr, img->n);
	ck_assert_ptr_nonnull(c.dsdt_dsl);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++)
		ck_assert_msg(strstr(c.dsdt_dsl, want[i]), "DSDT lacks %s:\n%.1500s", want[i], c.dsdt_dsl);
	/* The last _PRT entry: slot 31 pin D -> 16 + (31 + 3) % 8 = 18. */
	ck_assert_msg(strstr(c.dsdt_dsl, "0x001FFFFF"), "no slot 31 in _PRT");
	free(c.dsdt_dsl);

	/* Round trip: the disassembled DSDT must compile again without errors. */
	snprintf(cmd, sizeof(cmd), "cd '%s' && '%s' -p rebuilt DSDT.dsl 2>&1", c.dir, c.iasl);
	st = run(cmd, out, sizeof(out));
	ck_assert_msg(st == 0 && strstr(out, " 0 Errors"), "iasl compile of DSDT.dsl:\n%.1500s", out);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c.dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void check_board(const struct board_opts *o)
{
	struct image img;

	build(o, &img);
	iasl_check(&img);
	free(img.buf);
}

static const unsigned int cpu_counts[] = { 1, 2, 8 };

START_TEST(test_iasl_cpus)
{
	check_board(&(struct board_opts){ .nr_cpus = cpu_counts[_i], .bus_end = 255 });
}
END_TEST

START_TEST(test_iasl_x2apic)
{
	static const uint32_t ids[] = { 0, 1, 300, 2 };

	check_board(&(struct board_opts){ .nr_cpus = 4, .apic_ids = ids, .bus_end = 255 });
}
END_TEST

START_TEST(test_iasl_iommu)
{
	static const uint32_t scopes[] = { 3 << 3, (4 << 3) | 1, (1 << 8) | (2 << 3) };

	check_board(&(struct board_opts){ .nr_cpus = 2, .bus_end = 255, .iommu = true,
					  .include_all = true, .intr_remap = true, .haw = 39 });
	check_board(&(struct board_opts){ .nr_cpus = 8, .bus_end = 255, .iommu = true,
					  .scopes = scopes, .nr_scopes = 3, .intr_remap = true,
					  .x2apic_opt_out = true });
}
END_TEST

static Suite *iasl_suite(void)
{
	Suite *s = suite_create("acpi-iasl");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 50);
	tcase_add_loop_test(tc, test_iasl_cpus, 0, ARRAY_SIZE(cpu_counts));
	tcase_add_test(tc, test_iasl_x2apic);
	tcase_add_test(tc, test_iasl_iommu);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(iasl_suite());
	char tmpl[] = "/tmp/nestvm-acpi-XXXXXX", cmd[128];
	int failed;

	if (!mkdtemp(tmpl))
		return 1;
	snprintf(scratch_root, sizeof(scratch_root), "%s", tmpl);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", scratch_root);
	if (system(cmd) != 0)
		failed++;
	return failed ? 1 : 0;
}
