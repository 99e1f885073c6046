/* SPDX-License-Identifier: MIT */
/* Unit tests for the AML encoder: PkgLength, NameString, integers, EISA IDs, resource templates. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "common/bits.h"
#include "vmm/acpi/acpi-internal.h"

static uint8_t buf[70000];

static size_t finish(struct aml *a)
{
	size_t len = 0;

	ck_assert_int_eq(aml_finish(a, &len), 0);
	return len;
}

START_TEST(test_integers)
{
	static const struct {
		uint64_t v;
		size_t n;
		uint8_t b[9];
	} cases[] = {
		{ 0, 1, { 0x00 } },
		{ 1, 1, { 0x01 } },
		{ ~0ULL, 1, { 0xff } },
		{ 2, 2, { 0x0a, 0x02 } },
		{ 0xff, 2, { 0x0a, 0xff } },
		{ 0x100, 3, { 0x0b, 0x00, 0x01 } },
		{ 0xffff, 3, { 0x0b, 0xff, 0xff } },
		{ 0x10000, 5, { 0x0c, 0x00, 0x00, 0x01, 0x00 } },
		{ 0x100000000ULL, 9, { 0x0e, 0, 0, 0, 0, 1, 0, 0, 0 } },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aml a;

		aml_init(&a, buf, sizeof(buf));
		aml_integer(&a, cases[i].v);
		ck_assert_uint_eq(finish(&a), cases[i].n);
		ck_assert_mem_eq(buf, cases[i].b, cases[i].n);
	}
}
END_TEST

START_TEST(test_name_strings)
{
	struct aml a;

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "_HID");
	ck_assert_uint_eq(finish(&a), 4);
	ck_assert_mem_eq(buf, "_HID", 4);

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "\\_SB");
	ck_assert_uint_eq(finish(&a), 5);
	ck_assert_mem_eq(buf, "\\_SB_", 5);

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "\\_SB.PCI0");
	ck_assert_uint_eq(finish(&a), 10);
	ck_assert_mem_eq(buf, "\\\x2e_SB_PCI0", 10);

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "^^_SB.PCI0.COM");
	ck_assert_uint_eq(finish(&a), 2 + 2 + 12);
	ck_assert_mem_eq(buf, "^^\x2f\x03_SB_PCI0COM_", 16);

	aml_init(&a, buf, sizeof(buf));
	aml_name_string(&a, "");
	ck_assert_uint_eq(finish(&a), 1);
	ck_assert_uint_eq(buf[0], 0);

	/* Bad names: too long, leading digit, lower case, empty segment, trailing dot. */
	static const char *const bad[] = { "ABCDE", "1ABC", "abcd", "A..B", "A.", "\\.A" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len;

		aml_init(&a, buf, sizeof(buf));
		aml_name_string(&a, bad[i]);
		ck_assert_msg(aml_finish(&a, &len) == -EINVAL, "%s accepted", bad[i]);
	}
}
END_TEST

START_TEST(test_eisaid)
{
	int err;

	ck_assert_uint_eq(aml_eisaid_value("PNP0A08", &err), 0x080ad041u);
	ck_assert_int_eq(err, 0);
	ck_assert_uint_eq(aml_eisaid_value("PNP0A03", &err), 0x030ad041u);
	ck_assert_uint_eq(aml_eisaid_value("PNP0501", &err), 0x0105d041u);
	aml_eisaid_value("PNP0a03", &err);
	ck_assert_int_eq(err, -EINVAL);
	aml_eisaid_value("PNP0A0", &err);
	ck_assert_int_eq(err, -EINVAL);
	aml_eisaid_value("1NP0A03", &err);
	ck_assert_int_eq(err, -EINVAL);
}
END_TEST

/* A package of n Zero elements has a body of 1 + n bytes; check each PkgLength size class. */
static void check_pkg(size_t n_elems_bytes, size_t want_pkglen_bytes)
{
	struct aml a;
	size_t len, body = 1 + n_elems_bytes, total;

	aml_init(&a, buf, sizeof(buf));
	aml_package_begin(&a, 0xff);
	for (size_t i = 0; i < n_elems_bytes; i++)
		aml_byte(&a, 0);
	aml_end(&a);
	len = finish(&a);
	ck_assert_uint_eq(len, 1 + want_pkglen_bytes + body);
	ck_assert_uint_eq(buf[0], 0x12);
	total = body + want_pkglen_bytes;
	if (want_pkglen_bytes == 1) {
		ck_assert_uint_eq(buf[1], total);
	} else {
		size_t got = buf[1] & 0xf;

		ck_assert_uint_eq(buf[1] >> 6, want_pkglen_bytes - 1);
		ck_assert_uint_eq(buf[1] & 0x30, 0);
		for (size_t i = 1; i < want_pkglen_bytes; i++)
			got |= (size_t)buf[1 + i] << (4 + 8 * (i - 1));
		ck_assert_uint_eq(got, total);
	}
	ck_assert_uint_eq(buf[1 + want_pkglen_bytes], 0xff); /* NumElements follows */
}

START_TEST(test_pkglength)
{
	check_pkg(0, 1);
	check_pkg(61, 1);  /* body 62 + 1 = 63 */
	check_pkg(62, 2);  /* body 63 + 1 = 64 > 63 */
	check_pkg(4092, 2);
	check_pkg(4093, 3);
	check_pkg(65000, 3);
}
END_TEST

START_TEST(test_nested_and_unbalanced)
{
	struct aml a;
	size_t len;

	aml_init(&a, buf, sizeof(buf));
	aml_device_begin(&a, "DEV0");
	aml_name_integer(&a, "_UID", 5);
	aml_end(&a);
	len = finish(&a);
	/* 5B 82 PkgLength(1) "DEV0" 08 "_UID" 0A 05 */
	ck_assert_uint_eq(len, 2 + 1 + 4 + 1 + 4 + 2);
	ck_assert_uint_eq(buf[0], 0x5b);
	ck_assert_uint_eq(buf[1], 0x82);
	ck_assert_uint_eq(buf[2], len - 2);
	ck_assert_mem_eq(buf + 3, "DEV0\x08_UID\x0a\x05", 11);

	aml_init(&a, buf, sizeof(buf));
	aml_device_begin(&a, "DEV0");
	ck_assert_int_eq(aml_finish(&a, &len), -EINVAL);

	aml_init(&a, buf, sizeof(buf));
	aml_end(&a);
	ck_assert_int_eq(aml_finish(&a, &len), -EINVAL);

	aml_init(&a, buf, sizeof(buf));
	for (int i = 0; i < AML_MAX_DEPTH + 1; i++)
		aml_package_begin(&a, 1);
	ck_assert_int_eq(aml_finish(&a, &len), -EINVAL);

	/* Descriptors outside a resource template are refused. */
	aml_init(&a, buf, sizeof(buf));
	aml_res_io(&a, 0x3f8, 0x3f8, 1, 8);
	ck_assert_int_eq(aml_finish(&a, &len), -EINVAL);
}
END_TEST

static int emit_small(size_t cap, size_t *ret_len)
{
	struct aml a;

	aml_init(&a, buf, cap);
	aml_device_begin(&a, "\\_SB.DEV0");
	aml_name_eisaid(&a, "_HID", "PNP0A08");
	aml_name_string_obj(&a, "_STR", "hello");
	aml_end(&a);
	return aml_finish(&a, ret_len);
}

START_TEST(test_overflow_sticky)
{
	size_t full = 0;

	ck_assert_int_eq(emit_small(sizeof(buf), &full), 0);
	/* 5B 82 PkgLength, \ 2E _SB_DEV0, 08 _HID 0C dword, 08 _STR 0D "hello" 00 */
	ck_assert_uint_eq(full, 3 + 10 + 10 + 12);
	for (size_t cap = 0; cap <= full + 2; cap++) {
		size_t len = 12345;

		if (cap < full) {
			ck_assert_int_eq(emit_small(cap, &len), -ENOSPC);
			ck_assert_uint_eq(len, 12345);
		} else {
			ck_assert_int_eq(emit_small(cap, &len), 0);
			ck_assert_uint_eq(len, full);
		}
	}
}
END_TEST

START_TEST(test_resource_template)
{
	struct aml a;
	size_t len;
	static const uint8_t want[] = {
		0x11, 0x10, 0x0a, 0x0d,                         /* Buffer, PkgLength 16, BufferSize 13 */
		0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08, /* IO(Decode16, 0x3f8, 0x3f8, 1, 8) */
		0x22, 0x10, 0x00,                               /* IRQNoFlags() {4} */
		0x79, 0x00,                                     /* EndTag */
	};

	aml_init(&a, buf, sizeof(buf));
	aml_resource_begin(&a);
	aml_res_io(&a, 0x3f8, 0x3f8, 1, 8);
	aml_res_irq_noflags(&a, 1u << 4);
	aml_resource_end(&a);
	len = finish(&a);
	ck_assert_uint_eq(len, sizeof(want));
	ck_assert_mem_eq(buf, want, sizeof(want));
}
END_TEST

START_TEST(test_address_descriptors)
{
	struct aml a;
	size_t len;
	const uint8_t *d;

	aml_init(&a, buf, sizeof(buf));
	aml_resource_begin(&a);
	aml_res_word_bus(&a, 0, 0xff);
	aml_res_dword_mem(&a, false, 0xc0000000u, 0xfebfffffu, 0);
	aml_res_qword_mem(&a, true, 0x800000000ULL, 0xfffffffffULL, 0);
	aml_resource_end(&a);
	len = finish(&a);
	/* Buffer op, 1-byte PkgLength would be too small: 16 + 26 + 46 + 2 = 90 bytes of data. */
	ck_assert_uint_eq(buf[0], 0x11);
	ck_assert_uint_eq(buf[1] >> 6, 1);
	ck_assert_uint_eq(buf[3], 0x0a);
	ck_assert_uint_eq(buf[4], 90);
	d = buf + 5;
	ck_assert_uint_eq(d[0], 0x88);
	ck_assert_uint_eq(d[1], 13);
	ck_assert_uint_eq(d[3], 2);    /* bus */
	ck_assert_uint_eq(d[4], 0x0c); /* MinFixed MaxFixed producer */
	ck_assert_uint_eq(d[10] | d[11] << 8, 0xff);
	ck_assert_uint_eq(d[14] | d[15] << 8, 0x100);
	d += 16;
	ck_assert_uint_eq(d[0], 0x87);
	ck_assert_uint_eq(d[3], 0);
	ck_assert_uint_eq(d[5], 0x01); /* NonCacheable, ReadWrite */
	ck_assert_uint_eq(le32_load(d + 10), 0xc0000000u);
	ck_assert_uint_eq(le32_load(d + 22), 0x3ec00000u);
	d += 26;
	ck_assert_uint_eq(d[0], 0x8a);
	ck_assert_uint_eq(d[1], 43);
	ck_assert_uint_eq(d[5], 0x07); /* Prefetchable, ReadWrite */
	d += 46;
	ck_assert_uint_eq(d[0], 0x79);
	ck_assert_uint_eq((size_t)(d + 2 - buf), len);
}
END_TEST

static Suite *aml_suite(void)
{
	Suite *s = suite_create("aml");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_integers);
	tcase_add_test(tc, test_name_strings);
	tcase_add_test(tc, test_eisaid);
	tcase_add_test(tc, test_pkglength);
	tcase_add_test(tc, test_nested_and_unbalanced);
	tcase_add_test(tc, test_overflow_sticky);
	tcase_add_test(tc, test_resource_template);
	tcase_add_test(tc, test_address_descriptors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(aml_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
