/* SPDX-License-Identifier: MIT */
/* Robustness test: boot_load() on mutated and truncated images never crashes or misreports. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check-run.h"
#include "bits.h"
#include "images.h"

#define IMG_CAP (64 * 1024)
#define RAM_SIZE (32ULL << 20)
#define ITERATIONS 400

static uint64_t rng_state;

/* xorshift64*: deterministic, so a failure reproduces from the printed seed. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static const uint32_t interesting[] = {
	0, 1, 0x7f, 0x80, 0xff, 0x100, 0x1000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff,
	0x100000, 0x1000000, 0x10000, 0x1f000, 0xfffff000, 0x20c, 0x20b, 0x1badb002,
};

/* Mutations aimed at headers: bit flips, interesting words, truncation, header moves. */
static size_t mutate(uint8_t *buf, size_t len, size_t hot)
{
	unsigned int n = 1 + rnd() % 6;

	for (unsigned int i = 0; i < n && len >= 4; i++) {
		size_t span = (rnd() & 3) ? (hot < len ? hot : len) : len;
		size_t off = rnd() % (span - 3);

		switch (rnd() % 4) {
		case 0:
			buf[off] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			le32_store(buf + (off & ~3ULL), interesting[rnd() % ARRAY_SIZE(interesting)]);
			break;
		case 2:
			buf[off] = (uint8_t)rnd();
			break;
		default:
			le16_store(buf + off, (uint16_t)rnd());
			break;
		}
	}
	if (rnd() % 4 == 0)
		len = rnd() % (len + 1);
	return len;
}

/* Outcome counts per seed: [0] loaded, [1] ENOEXEC, [2] EINVAL, [3] EFAULT, [4] ENOMEM. */
static unsigned int outcomes[5];

static void check_one(const uint8_t *img, size_t len, const struct boot_module *mods,
		      unsigned int nr_mods, uint64_t seed)
{
	static uint8_t *ram;
	struct test_vm vm;
	struct boot_entry ent;
	const char *fmt = NULL;
	uint8_t *copy;
	int err;

	/* Exact-size heap copy so ASan sees any read past the end of the image. */
	copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, img, len);
	if (!ram) {
		ram = calloc(1, RAM_SIZE);
		ck_assert_ptr_nonnull(ram);
	}
	memset(&vm, 0, sizeof(vm));
	gmem_init_empty(&vm.gm);
	ck_assert_int_eq(gmem_add_region(&vm.gm, 0, RAM_SIZE, ram), 0);
	vm.map[0] = (struct boot_e820){ 0, 0xe0000, 1 };
	vm.map[1] = (struct boot_e820){ 0xe0000, 0x20000, 2 };
	vm.map[2] = (struct boot_e820){ 1 * MiB, RAM_SIZE - 1 * MiB, 1 };
	vm.cfg = (struct boot_config){ .gmem = &vm.gm, .kernel = copy, .kernel_len = len,
				       .cmdline = "console=ttyS0", .modules = mods,
				       .nr_modules = nr_mods, .map = vm.map, .nr_map = 3 };
	err = boot_load(&vm.cfg, &ent, &fmt);
	if (err != 0 && err != -ENOEXEC && err != -EINVAL && err != -EFAULT && err != -ENOMEM)
		ck_abort_msg("seed %llu: unexpected %d", (unsigned long long)seed, err);
	outcomes[err == 0 ? 0 : err == -ENOEXEC ? 1 : err == -EINVAL ? 2 : err == -EFAULT ? 3 : 4]++;
	if (err == 0) {
		ck_assert_ptr_nonnull(fmt);
		ck_assert_uint_lt(ent.rip, 4 * GiB + 0x200);
		ck_assert(ent.mode == BOOT_PROT32 || ent.mode == BOOT_LONG64);
		if (ent.mode == BOOT_PROT32)
			ck_assert_str_eq(fmt, "multiboot");
		else
			ck_assert(!strcmp(fmt, "bzImage") || !strcmp(fmt, "vmlinux"));
	}
	free(copy);
}

static void fuzz_seed(const uint8_t *seed_img, size_t seed_len, size_t hot, uint64_t seed)
{
	static uint8_t buf[IMG_CAP];
	static uint8_t mdata[5000];
	struct boot_module mods[2] = { { mdata, sizeof(mdata), "m0" }, { mdata, 17, NULL } };
	unsigned int ok = 0;

	rng_state = seed;
	/* The unmodified seed must load. */
	memset(outcomes, 0, sizeof(outcomes));
	check_one(seed_img, seed_len, mods, 2, seed);
	ck_assert_uint_eq(outcomes[0], 1);
	for (unsigned int i = 0; i < ITERATIONS; i++) {
		size_t len;

		memcpy(buf, seed_img, seed_len);
		len = mutate(buf, seed_len, hot);
		check_one(buf, len, mods, i % 3, seed + i);
		ok++;
	}
	/* Every truncation of the header area. */
	for (size_t len = 0; len < hot && len <= seed_len; len++)
		check_one(seed_img, len, mods, 1, seed);
	ck_assert_uint_eq(ok, ITERATIONS);
	printf("seed %llu: loaded %u, ENOEXEC %u, EINVAL %u, EFAULT %u, ENOMEM %u\n",
	       (unsigned long long)seed, outcomes[0], outcomes[1], outcomes[2], outcomes[3],
	       outcomes[4]);
	/* The mutations must both break and spare images, or they test nothing. */
	ck_assert_uint_gt(outcomes[0], 1);
	ck_assert_uint_gt(outcomes[1] + outcomes[2] + outcomes[3] + outcomes[4], 0);
}

START_TEST(test_fuzz_elf32)
{
	static uint8_t img[IMG_CAP];
	struct test_elf e = { .entry = 0x100010, .mb_flags = 3, .nr_segs = 2 };
	size_t len;

	e.segs[0] = (struct test_seg){ 1, 0x100000, 0xc0100000, 0x800, 0x2000, 0 };
	e.segs[1] = (struct test_seg){ 1, 0x200000, 0xc0200000, 0x400, 0x400, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	fuzz_seed(img, len, 0x220, 1);
}
END_TEST

START_TEST(test_fuzz_elf64)
{
	static uint8_t img[IMG_CAP];
	struct test_elf e = { .is64 = 1, .entry = 0x100010, .mb_flags = 3, .nr_segs = 2 };
	size_t len;

	e.segs[0] = (struct test_seg){ 1, 0x100000, 0x100000, 0x800, 0x2000, 0 };
	e.segs[1] = (struct test_seg){ 4, 0, 0, 0x10, 0x10, 0 };
	len = test_build_elf(img, IMG_CAP, &e);
	fuzz_seed(img, len, 0x220, 1000);
}
END_TEST

START_TEST(test_fuzz_aout)
{
	static uint8_t img[0x3000];

	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = test_pattern(i);
	test_put_mb_header(img, 0x20, (1u << 16) | 3);
	test_put_aout(img, 0x20, 0x100020, 0x100000, 0x102000, 0x104000, 0x100000);
	fuzz_seed(img, sizeof(img), 0x40, 2000);
}
END_TEST

START_TEST(test_fuzz_bzimage)
{
	static uint8_t img[IMG_CAP];
	struct test_bz b;
	size_t len;

	test_bz_defaults(&b);
	len = test_build_bz(img, IMG_CAP, &b);
	fuzz_seed(img, len, 0x270, 3000);
	b.setup_sects = 1;
	b.pref = 0;
	len = test_build_bz(img, IMG_CAP, &b);
	fuzz_seed(img, len, 0x270, 4000);
}
END_TEST

/* Random bytes with a valid magic dropped in at random places. */
START_TEST(test_random_blobs)
{
	static uint8_t buf[16384];

	rng_state = 77;
	for (unsigned int i = 0; i < 300; i++) {
		size_t len = rnd() % sizeof(buf);

		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)rnd();
		if (len > 0x300 && (i & 1))
			memcpy(buf + 0x202, "HdrS", 4);
		if (len > 64 && (i & 2))
			test_put_mb_header(buf, (rnd() % (len / 4 - 8)) * 4, (uint32_t)rnd());
		check_one(buf, len, NULL, 0, 77 + i);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("boot-fuzz");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 50);
	tcase_add_test(tc, test_fuzz_elf32);
	tcase_add_test(tc, test_fuzz_elf64);
	tcase_add_test(tc, test_fuzz_aout);
	tcase_add_test(tc, test_fuzz_bzimage);
	tcase_add_test(tc, test_random_blobs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run_suite(suite());
}
