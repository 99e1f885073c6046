/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for vmm/image.c: boot images mapped from real files in a temporary directory, and
 * the SIGBUS guard against a file truncated under its mapping.
 */
#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check-run.h"
#include "vmm/image.h"

static char dir[] = "/tmp/nv-image-XXXXXX";
static char path[64];

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/img", dir);
}

static void teardown(void)
{
	unlink(path);
	rmdir(dir);
	strcpy(dir, "/tmp/nv-image-XXXXXX");
}

static void write_pages(unsigned int pages)
{
	long psz = sysconf(_SC_PAGESIZE);
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	for (long i = 0; i < pages * psz; i++)
		ck_assert_int_ne(fputc((int)(i * 7 % 251), f), EOF);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_map_matches_file)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct image img;
	const unsigned char *p;

	write_pages(3);
	ck_assert_int_eq(image_map(path, &img), 0);
	ck_assert_uint_eq(img.len, 3 * (size_t)psz);
	p = img.data;
	for (long i = 0; i < 3 * psz; i++)
		ck_assert_uint_eq(p[i], (unsigned int)(i * 7 % 251));
	image_unmap(&img);
	ck_assert_ptr_null(img.data);
	image_unmap(&img); /* twice is harmless */
}
END_TEST

START_TEST(test_empty_and_bad_paths)
{
	struct image img = { 0 };
	FILE *f = fopen(path, "wb");

	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(image_map(path, &img), 0);
	ck_assert_ptr_nonnull(img.data);
	ck_assert_uint_eq(img.len, 0);
	image_unmap(&img);
	ck_assert_int_eq(image_map(dir, &img), -EISDIR);
	ck_assert_int_eq(image_map("/nonexistent/nestvm-image", &img), -ENOENT);
	/* Not regular: a device, and a FIFO without a writer (refused, not waited on). */
	ck_assert_int_eq(image_map("/dev/null", &img), -EINVAL);
	{
		char fifo[300];

		snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
		ck_assert_int_eq(mkfifo(fifo, 0600), 0);
		ck_assert_int_eq(image_map(fifo, &img), -EINVAL);
		unlink(fifo);
	}
}
END_TEST

struct reader {
	const struct image *img;
	size_t off;
	int seen;
};

static int read_at(void *arg)
{
	struct reader *r = arg;

	r->seen = ((const volatile unsigned char *)r->img->data)[r->off];
	return 42;
}

START_TEST(test_guard_passes_result)
{
	struct image img;
	struct reader r = { &img, 5, -1 };

	write_pages(1);
	ck_assert_int_eq(image_map(path, &img), 0);
	ck_assert_int_eq(image_guard_run(&img, 1, read_at, &r), 42);
	ck_assert_int_eq(r.seen, 5 * 7 % 251);
	image_unmap(&img);
}
END_TEST

START_TEST(test_guard_catches_truncation)
{
	long psz = sysconf(_SC_PAGESIZE);
	struct image img;
	struct reader r = { &img, 0, -1 };
	struct sigaction before, now;

	ck_assert_int_eq(sigaction(SIGBUS, NULL, &before), 0);
	write_pages(3);
	ck_assert_int_eq(image_map(path, &img), 0);
	ck_assert_int_eq(truncate(path, psz), 0);
	/* Still backed: the first page. */
	ck_assert_int_eq(image_guard_run(&img, 1, read_at, &r), 42);
	/* Past the new end: SIGBUS, turned into -EIO. */
	r.off = 2 * (size_t)psz + 1;
	r.seen = -1;
	ck_assert_int_eq(image_guard_run(&img, 1, read_at, &r), -EIO);
	ck_assert_int_eq(r.seen, -1);
	/* Once more: the guard re-arms for every call. */
	ck_assert_int_eq(image_guard_run(&img, 1, read_at, &r), -EIO);
	/* And leaves the previous SIGBUS disposition behind. */
	ck_assert_int_eq(sigaction(SIGBUS, NULL, &now), 0);
	ck_assert_ptr_eq(now.sa_handler, before.sa_handler);
	ck_assert_uint_eq(now.sa_flags & SA_SIGINFO, before.sa_flags & SA_SIGINFO);
	image_unmap(&img);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("image");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_map_matches_file);
	tcase_add_test(tc, test_empty_and_bad_paths);
	tcase_add_test(tc, test_guard_passes_result);
	tcase_add_test(tc, test_guard_catches_truncation);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
