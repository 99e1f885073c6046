/* SPDX-License-Identifier: MIT */
/* Unit tests for fw_cfg: fixed items, the directory read the way a guest parses it, files, errors. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "devices/fwcfg/fwcfg-internal.h"

#define PORT 0x510
#define RAM (5ULL * GiB + 0x123000)

static struct bus bus;
static struct fwcfg *fw;

static void setup(void)
{
	bus_init(&bus);
	fw = fwcfg_create(&bus, PORT, 3, RAM);
	ck_assert_ptr_nonnull(fw);
}

static void teardown(void)
{
	fwcfg_destroy(fw);
}

/* Guest-side helpers: outw(key, 0x510); insb(0x511). */
static void sel(uint16_t key)
{
	bus_write(&bus, BUS_PIO, PORT, key, 2);
}

static void rd(void *buf, size_t n)
{
	uint8_t *b = buf;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)bus_read(&bus, BUS_PIO, PORT + 1, 1);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

struct guest_file {
	uint32_t size;
	uint16_t key, reserved;
	char name[57];
};

/* Reads the directory like firmware does; returns the count. */
static uint32_t read_dir(struct guest_file *out, uint32_t max)
{
	uint8_t hdr[4], e[64];
	uint32_t n;

	sel(FWCFG_KEY_FILE_DIR);
	rd(hdr, 4);
	n = be32(hdr);
	ck_assert_uint_le(n, max);
	for (uint32_t i = 0; i < n; i++) {
		rd(e, sizeof(e));
		out[i].size = be32(e);
		out[i].key = be16(e + 4);
		out[i].reserved = be16(e + 6);
		memcpy(out[i].name, e + 8, 56);
		out[i].name[56] = 0;
		/* The field is NUL-padded: no byte after the first NUL is set. */
		for (size_t j = strlen(out[i].name); j < 56; j++)
			ck_assert_uint_eq((uint8_t)out[i].name[j], 0);
	}
	/* Past the end: zeros. */
	rd(e, 4);
	ck_assert_uint_eq(e[0] | e[1] | e[2] | e[3], 0);
	return n;
}

START_TEST(test_fixed_items)
{
	char sig[6] = { 0 };
	uint8_t b[8];

	sel(FWCFG_KEY_SIGNATURE);
	rd(sig, 5);
	ck_assert_str_eq(sig, "QEMU"); /* the fifth byte read 0 */
	sel(FWCFG_KEY_ID);
	rd(b, 4);
	ck_assert_uint_eq(le32_load(b), 1);
	sel(FWCFG_KEY_RAM_SIZE);
	rd(b, 8);
	ck_assert_uint_eq(le64_load(b), RAM);
	sel(FWCFG_KEY_NB_CPUS);
	rd(b, 3);
	ck_assert_uint_eq(le16_load(b), 3);
	ck_assert_uint_eq(b[2], 0);
	/* MAX_CPUS (QEMU's maxcpus): the same count, there is no hotplug. */
	sel(FWCFG_KEY_MAX_CPUS);
	rd(b, 3);
	ck_assert_uint_eq(le16_load(b), 3);
	ck_assert_uint_eq(b[2], 0);
	/* Unknown, arch-local and empty-slot keys read 0. */
	static const uint16_t unknown[] = { 0x0002, 0x0004, 0x0020, 0x3fff, 0x8000, 0x8003, 0xffff };
	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
		sel(unknown[i]);
		rd(b, 8);
		ck_assert_uint_eq(le64_load(b), 0);
	}
	/* Bit 14 (old write channel) selects the same item. */
	sel(0x4000);
	memset(sig, 0, sizeof(sig));
	rd(sig, 4);
	ck_assert_str_eq(sig, "QEMU");
}
END_TEST

START_TEST(test_selector_resets_offset)
{
	char sig[5] = { 0 };

	sel(FWCFG_KEY_SIGNATURE);
	rd(sig, 3);
	ck_assert_str_eq(sig, "QEM");
	sel(FWCFG_KEY_SIGNATURE);
	memset(sig, 0, sizeof(sig));
	rd(sig, 4);
	ck_assert_str_eq(sig, "QEMU");
	/* Reselecting after running past the end starts over too. */
	sel(FWCFG_KEY_SIGNATURE);
	memset(sig, 0, sizeof(sig));
	rd(sig, 4);
	ck_assert_str_eq(sig, "QEMU");
}
END_TEST

START_TEST(test_odd_accesses)
{
	uint8_t c;

	sel(FWCFG_KEY_SIGNATURE);
	/* Wider reads at the data port leave the region: all-ones, offset untouched. */
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, PORT + 1, 2), 0xffff);
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, PORT + 1, 4), 0xffffffff);
	/* The selector is write-only, and a 16-bit read of both ports is not a data read. */
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, PORT, 1), 0xff);
	ck_assert_uint_eq(bus_read(&bus, BUS_PIO, PORT, 2), 0xffff);
	rd(&c, 1);
	ck_assert_uint_eq(c, 'Q');
	/* A byte write to the selector and data port writes are dropped. */
	bus_write(&bus, BUS_PIO, PORT, FWCFG_KEY_ID, 1);
	bus_write(&bus, BUS_PIO, PORT + 1, 0x55, 1);
	rd(&c, 1);
	ck_assert_uint_eq(c, 'E');
	/* 32-bit write at the selector straddles the region: dropped. */
	bus_write(&bus, BUS_PIO, PORT, FWCFG_KEY_ID, 4);
	rd(&c, 1);
	ck_assert_uint_eq(c, 'M');
}
END_TEST

START_TEST(test_directory_and_files)
{
	struct guest_file d[FWCFG_MAX_FILES];
	uint8_t dtb[300], buf[301];
	char hello[] = "hello";
	char name55[56];

	for (size_t i = 0; i < sizeof(dtb); i++)
		dtb[i] = (uint8_t)(i ^ 0xa5);
	memset(name55, 'n', 55);
	name55[55] = 0;

	ck_assert_uint_eq(read_dir(d, FWCFG_MAX_FILES), 0);
	ck_assert_int_eq(fwcfg_add_file(fw, "etc/board.dtb", dtb, sizeof(dtb)), 0);
	ck_assert_int_eq(fwcfg_add_file(fw, "opt/zzz", hello, 5), 0);
	ck_assert_int_eq(fwcfg_add_file(fw, "a/first", NULL, 0), 0);
	ck_assert_int_eq(fwcfg_add_file(fw, name55, "x", 1), 0);
	hello[0] = 'J'; /* the device keeps its own copy */

	ck_assert_uint_eq(read_dir(d, FWCFG_MAX_FILES), 4);
	ck_assert_str_eq(d[0].name, "a/first");
	ck_assert_str_eq(d[1].name, "etc/board.dtb");
	ck_assert_str_eq(d[2].name, name55);
	ck_assert_str_eq(d[3].name, "opt/zzz");
	ck_assert_uint_eq(d[0].size, 0);
	ck_assert_uint_eq(d[1].size, sizeof(dtb));
	ck_assert_uint_eq(d[2].size, 1);
	ck_assert_uint_eq(d[3].size, 5);
	for (unsigned int i = 0; i < 4; i++) {
		ck_assert_uint_eq(d[i].key, FWCFG_KEY_FILE_FIRST + i);
		ck_assert_uint_eq(d[i].reserved, 0);
	}

	/* Contents by the keys the directory gave, plus one zero byte past the end. */
	sel(d[1].key);
	rd(buf, sizeof(buf));
	ck_assert_mem_eq(buf, dtb, sizeof(dtb));
	ck_assert_uint_eq(buf[300], 0);
	sel(d[3].key);
	memset(buf, 0xee, sizeof(buf));
	rd(buf, 6);
	ck_assert_mem_eq(buf, "hello\0", 6);
	sel(d[0].key);
	rd(buf, 1);
	ck_assert_uint_eq(buf[0], 0);
	sel(d[2].key);
	rd(buf, 2);
	ck_assert_uint_eq(buf[0], 'x');
	ck_assert_uint_eq(buf[1], 0);
	/* Beyond the last file: nothing. */
	sel(FWCFG_KEY_FILE_FIRST + 4);
	rd(buf, 1);
	ck_assert_uint_eq(buf[0], 0);
}
END_TEST

START_TEST(test_add_file_errors)
{
	char name56[57], name[16];

	memset(name56, 'n', 56);
	name56[56] = 0;
	ck_assert_int_eq(fwcfg_add_file(fw, "", "x", 1), -EINVAL);
	ck_assert_int_eq(fwcfg_add_file(fw, NULL, "x", 1), -EINVAL);
	ck_assert_int_eq(fwcfg_add_file(fw, name56, "x", 1), -EINVAL);
	ck_assert_int_eq(fwcfg_add_file(fw, "f", NULL, 1), -EINVAL);
	ck_assert_int_eq(fwcfg_add_file(fw, "f", "x", 1), 0);
	ck_assert_int_eq(fwcfg_add_file(fw, "f", "y", 1), -EEXIST);
	for (int i = 1; i < FWCFG_MAX_FILES; i++) {
		snprintf(name, sizeof(name), "file%02d", i);
		ck_assert_int_eq(fwcfg_add_file(fw, name, name, strlen(name)), 0);
	}
	ck_assert_int_eq(fwcfg_add_file(fw, "one-too-many", "x", 1), -ENOSPC);
	/* A full table still reports duplicates as such. */
	ck_assert_int_eq(fwcfg_add_file(fw, "file05", "x", 1), -EEXIST);

	struct guest_file d[FWCFG_MAX_FILES];
	ck_assert_uint_eq(read_dir(d, FWCFG_MAX_FILES), FWCFG_MAX_FILES);
	ck_assert_str_eq(d[0].name, "f");
	ck_assert_str_eq(d[FWCFG_MAX_FILES - 1].name, "file31");
	for (unsigned int i = 1; i < FWCFG_MAX_FILES; i++)
		ck_assert_int_lt(strcmp(d[i - 1].name, d[i].name), 0);
	/* The first file's content survived all the insertions. */
	sel(d[0].key);
	rd(name, 1);
	ck_assert_uint_eq((uint8_t)name[0], 'x');
	/* Second device at the same ports is refused. */
	ck_assert_ptr_null(fwcfg_create(&bus, PORT + 1, 1, 0));
	ck_assert_int_eq(errno, EEXIST);
	fwcfg_destroy(NULL);
}
END_TEST

static Suite *fwcfg_suite(void)
{
	Suite *s = suite_create("fwcfg");
	TCase *tc = tcase_create("fwcfg");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fixed_items);
	tcase_add_test(tc, test_selector_resets_offset);
	tcase_add_test(tc, test_odd_accesses);
	tcase_add_test(tc, test_directory_and_files);
	tcase_add_test(tc, test_add_file_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(fwcfg_suite());
}
