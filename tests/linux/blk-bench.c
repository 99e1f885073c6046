/* SPDX-License-Identifier: MIT */
/*
 * Runs in L2 (static binary): block throughput of a raw disk with O_DIRECT (no page cache), so
 * every request reaches the virtio-blk device and, behind a vIOMMU, maps and unmaps its DMA.
 * Sequential write then read (128 KiB requests), then 4 KiB random read and write (one request
 * at a time, fixed pseudo-random offsets), each for a fixed amount of data. Prints one
 * "BLK-BENCH name=... MiB/s=... IOPS=..." line per pattern; the data read back is checked
 * against what was written (exit 1 on a mismatch). Figures only: nothing here asserts speed.
 * The rates use L2's clock, which drifts under nested emulation: compare runs of one L1 boot.
 *
 *   blk-bench /dev/vda SIZE_MIB
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BS (128u * 1024)
#define RND_BS 4096u
#define RND_OPS 1024u

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fill(uint8_t *p, size_t n, uint64_t off)
{
	for (size_t i = 0; i < n; i += 8) {
		uint64_t v = (off + i) * 0x9e3779b97f4a7c15ULL;

		memcpy(p + i, &v, 8);
	}
}

/*
 * Brackets the measured work for L1's exit histograms (tests/linux/l1-init.sh, kvmstat=1):
 * CPUID always exits, and L1's kvm_cpuid trace event sees the leaf. Out of range, it changes
 * nothing in L2.
 */
static void mark(uint32_t leaf)
{
	uint32_t a = leaf, b, c = 0, d;

	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
}

static void report(const char *name, double secs, uint64_t bytes, unsigned int ops)
{
	printf("BLK-BENCH name=%s MiB/s=%.2f IOPS=%.0f bytes=%llu secs=%.3f\n", name,
	       (double)bytes / (1 << 20) / secs, ops / secs, (unsigned long long)bytes, secs);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	uint64_t size, blocks, x = 88172645463325252ULL;
	uint8_t *buf, *exp;
	unsigned int ops;
	double t;
	int fd;

	if (argc != 3)
		return 2;
	size = strtoull(argv[2], NULL, 0) << 20;
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0 || posix_memalign((void **)&buf, 4096, SEQ_BS) ||
	    posix_memalign((void **)&exp, 4096, SEQ_BS)) {
		perror("blk-bench");
		return 1;
	}
	mark(0x4e564201);
	t = now();
	for (ops = 0; (uint64_t)ops * SEQ_BS < size; ops++) {
		fill(buf, SEQ_BS, (uint64_t)ops * SEQ_BS);
		if (pwrite(fd, buf, SEQ_BS, (off_t)ops * SEQ_BS) != SEQ_BS)
			return perror("pwrite"), 1;
	}
	if (fdatasync(fd))
		return perror("fdatasync"), 1;
	report("seq-write", now() - t, size, ops);
	t = now();
	for (ops = 0; (uint64_t)ops * SEQ_BS < size; ops++) {
		if (pread(fd, buf, SEQ_BS, (off_t)ops * SEQ_BS) != SEQ_BS)
			return perror("pread"), 1;
		fill(exp, SEQ_BS, (uint64_t)ops * SEQ_BS);
		if (memcmp(buf, exp, SEQ_BS)) {
			printf("BLK-BENCH FAIL data mismatch at %llu\n", (unsigned long long)ops * SEQ_BS);
			return 1;
		}
	}
	report("seq-read", now() - t, size, ops);
	blocks = size / RND_BS;
	t = now();
	for (ops = 0; ops < RND_OPS; ops++) {
		uint64_t b;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		b = x % blocks;
		if (pread(fd, buf, RND_BS, (off_t)(b * RND_BS)) != RND_BS)
			return perror("pread"), 1;
		fill(exp, RND_BS, b * RND_BS);
		if (memcmp(buf, exp, RND_BS)) {
			printf("BLK-BENCH FAIL data mismatch at block %llu\n", (unsigned long long)b);
			return 1;
		}
	}
	report("rand-read-4k", now() - t, (uint64_t)RND_OPS * RND_BS, RND_OPS);
	t = now();
	for (ops = 0; ops < RND_OPS; ops++) {
		uint64_t b;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		b = x % blocks;
		fill(buf, RND_BS, b * RND_BS);
		if (pwrite(fd, buf, RND_BS, (off_t)(b * RND_BS)) != RND_BS)
			return perror("pwrite"), 1;
	}
	if (fdatasync(fd))
		return perror("fdatasync"), 1;
	report("rand-write-4k", now() - t, (uint64_t)RND_OPS * RND_BS, RND_OPS);
	mark(0x4e564202);
	printf("BLK-BENCH done\n");
	return 0;
}
