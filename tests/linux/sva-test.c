/* SPDX-License-Identifier: MIT */
/*
 * sva-test: static L2 program that drives pasid-dma through guest-drivers/linux (pdma-sva.ko)
 * with Linux's own SVA: the device reads and writes this process's virtual addresses under the
 * PASID the kernel bound to its mm. Every line it prints starts with "SVA " (l2-init.sh adds
 * the LNX-L2- prefix); a check that fails prints "SVA FAIL ..." and the exit status is 1.
 *
 *   sva-test copy|demand|invalidate|two|exit|bench|info|bind [retries]
 * retries: resubmissions after a translation fault (the hostsim backend reports page requests
 * for the device and completes the descriptor with a fault; the driver then resubmits).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../guest-drivers/linux/pdma-sva-uapi.h"

#define PAGE 4096ul
#define ST_OK 1
static unsigned int retries;
static int failures;

#define FAIL(...) do { printf("SVA FAIL " __VA_ARGS__); printf("\n"); failures++; } while (0)

static int dev_open(void)
{
	int fd = open("/dev/pdma-sva", O_RDWR);

	if (fd < 0) {
		printf("SVA FAIL open /dev/pdma-sva: %s\n", strerror(errno));
		exit(1);
	}
	return fd;
}

static struct pdma_sva_info info(int fd)
{
	struct pdma_sva_info in;

	memset(&in, 0, sizeof(in));
	if (ioctl(fd, PDMA_SVA_IOC_INFO, &in))
		FAIL("info ioctl: %s", strerror(errno));
	return in;
}

/* One descriptor; returns its completion status (0 when the ioctl itself failed). */
static unsigned int run(int fd, unsigned int op, void *src, void *dst, size_t len, uint64_t pat,
			struct pdma_sva_run *ret)
{
	static uint64_t cr[4] __attribute__((aligned(64)));
	struct pdma_sva_run r = {
		.op = op, .src = (uintptr_t)src, .dst = (uintptr_t)dst, .len = len, .pattern = pat,
		.cr = (uintptr_t)cr, .retries = retries,
	};

	if (ioctl(fd, PDMA_SVA_IOC_RUN, &r)) {
		printf("SVA run ioctl failed: %s\n", strerror(errno));
		r.status = 0;
	}
	if (ret)
		*ret = r;
	return r.status;
}

static int check_fill(const uint8_t *p, size_t len, uint64_t pat)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(pat >> (8 * (i % 8))))
			return (int)i;
	return -1;
}

/* 1. Copy and fill into malloc'd memory; byte for byte. */
static void t_copy(void)
{
	int fd = dev_open();
	size_t len = 64 * 1024;
	uint8_t *src = malloc(len), *dst = malloc(len);
	struct pdma_sva_run r;
	unsigned int st;
	int bad;

	for (size_t i = 0; i < len; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	memset(dst, 0, len);
	st = run(fd, PDMA_SVA_OP_COPY, src, dst, len, 0, &r);
	if (st != ST_OK || memcmp(src, dst, len))
		FAIL("copy status=0x%x data %s", st, memcmp(src, dst, len) ? "differs" : "equal");
	else
		printf("SVA copy ok pasid=%u bytes=%zu attempts=%u ns=%llu\n", r.pasid, len, r.attempts,
		       (unsigned long long)r.ns);
	st = run(fd, PDMA_SVA_OP_FILL, NULL, dst + 100, len - 200, 0x1122334455667788ull, &r);
	bad = check_fill(dst + 100, len - 200, 0x1122334455667788ull);
	if (st != ST_OK || bad >= 0 || dst[99] != src[99] || dst[len - 100] != src[len - 100])
		FAIL("fill status=0x%x first bad byte %d", st, bad);
	else
		printf("SVA fill ok bytes=%zu attempts=%u\n", len - 200, r.attempts);
	st = run(fd, PDMA_SVA_OP_CHECKSUM, src, NULL, len, 0, &r);
	printf("SVA checksum status=0x%x\n", st);
	close(fd);
}

/* 2. Demand paging: pages the process never touched. */
static void t_demand(void)
{
	int fd = dev_open();
	struct pdma_sva_info a = info(fd), b;
	size_t len = 4 * PAGE;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *src = malloc(len);
	struct pdma_sva_run r;
	unsigned int st;
	int bad;

	if (p == MAP_FAILED) {
		FAIL("mmap: %s", strerror(errno));
		return;
	}
	st = run(fd, PDMA_SVA_OP_FILL, NULL, p, len, 0xa5a5a5a55a5a5a5aull, &r);
	b = info(fd);
	bad = check_fill(p, len, 0xa5a5a5a55a5a5a5aull);
	if (st != ST_OK || bad >= 0)
		FAIL("demand fill status=0x%x first bad byte %d", st, bad);
	else
		printf("SVA demand ok pages=4 attempts=%u page_reqs=%u host_page_reqs=%u host_page_resps=%u ns=%llu\n",
		       r.attempts, b.page_reqs - a.page_reqs, b.host_page_reqs - a.host_page_reqs,
		       b.host_page_resps - a.host_page_resps, (unsigned long long)r.ns);
	if (b.page_reqs == a.page_reqs && b.host_page_reqs == a.host_page_reqs)
		FAIL("demand: no page request counted (device %u, host %u)", b.page_reqs, b.host_page_reqs);
	/* A read of never-touched memory: the zero page through a page request. */
	memset(src, 1, len);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	st = run(fd, PDMA_SVA_OP_COPY, p, src, len, 0, &r);
	bad = check_fill(src, len, 0);
	if (st != ST_OK || bad >= 0)
		FAIL("demand read status=0x%x first bad byte %d", st, bad);
	else
		printf("SVA demand-read ok attempts=%u\n", r.attempts);
	close(fd);
}

/* 3. munmap and mprotect: the kernel's invalidations reach the device. */
static void t_invalidate(void)
{
	int fd = dev_open();
	struct pdma_sva_info a, b;
	uint8_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int saved_retries = retries;
	uint8_t *q;
	struct pdma_sva_run r;
	unsigned int st;

	memset(p, 0x11, PAGE);
	st = run(fd, PDMA_SVA_OP_FILL, NULL, p, PAGE, 0x2222222222222222ull, &r);
	if (st != ST_OK || check_fill(p, PAGE, 0x2222222222222222ull) >= 0)
		FAIL("invalidate: first fill status=0x%x", st);
	/* mprotect read-only: a device write must not land any more. Fewer resubmissions for the
	 * two writes expected to fail (the host keeps faulting them; the outcome is the same). */
	retries = retries > 20 ? 20 : retries;
	a = info(fd);
	if (mprotect(p, PAGE, PROT_READ))
		FAIL("mprotect: %s", strerror(errno));
	b = info(fd);
	st = run(fd, PDMA_SVA_OP_FILL, NULL, p, PAGE, 0x3333333333333333ull, &r);
	if (st == ST_OK || check_fill(p, PAGE, 0x2222222222222222ull) >= 0)
		FAIL("mprotect: write to a read-only page status=0x%x, page %s", st,
		     check_fill(p, PAGE, 0x2222222222222222ull) >= 0 ? "changed" : "unchanged");
	else
		printf("SVA mprotect ok status=0x%x dtlb_invs=%u host_inv_calls=%u\n", st,
		       b.dtlb_invs - a.dtlb_invs, b.host_inv_calls - a.host_inv_calls);
	if (b.dtlb_invs == a.dtlb_invs && b.host_inv_calls == a.host_inv_calls)
		FAIL("mprotect: no device-TLB or host invalidation counted");
	/* munmap, then a fresh untouched mapping at the same address: the device must not reuse
	 * the old page; the write lands in the new one through a page request. */
	a = info(fd);
	munmap(p, PAGE);
	b = info(fd);
	if (b.dtlb_invs == a.dtlb_invs && b.host_inv_calls == a.host_inv_calls)
		FAIL("munmap: no device-TLB or host invalidation counted");
	st = run(fd, PDMA_SVA_OP_FILL, NULL, p, PAGE, 0x4444444444444444ull, &r);
	if (st == ST_OK)
		FAIL("munmap: DMA to an unmapped address completed");
	else
		printf("SVA munmap ok status=0x%x dtlb_invs=%u host_inv_calls=%u\n", st,
		       b.dtlb_invs - a.dtlb_invs, b.host_inv_calls - a.host_inv_calls);
	retries = saved_retries;
	q = mmap(p, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		 -1, 0);
	if (q != p) {
		FAIL("remap at %p: %s", (void *)p, strerror(errno));
	} else {
		a = info(fd);
		st = run(fd, PDMA_SVA_OP_FILL, NULL, q, PAGE, 0x5555555555555555ull, &r);
		b = info(fd);
		if (st != ST_OK || check_fill(q, PAGE, 0x5555555555555555ull) >= 0)
			FAIL("remap: fill status=0x%x", st);
		else if (b.page_reqs == a.page_reqs && b.host_page_reqs == a.host_page_reqs)
			FAIL("remap: no page request: the old translation was used");
		else
			printf("SVA remap ok page_reqs=%u host_page_reqs=%u\n", b.page_reqs - a.page_reqs,
			       b.host_page_reqs - a.host_page_reqs);
	}
	close(fd);
}

#define FIXED_VA ((void *)0x7e0000000000ul)

/* 4. Two processes at once, the same virtual address, different PASIDs. */
static void t_two(void)
{
	int go[2], rep[2];
	pid_t pid[2];
	unsigned int pasid[2] = { 0, 0 };

	if (pipe(go) || pipe(rep)) {
		FAIL("pipe");
		return;
	}
	for (int c = 0; c < 2; c++) {
		pid[c] = fork();
		if (pid[c] == 0) {
			int fd = dev_open(), ok = 1;
			uint8_t *p = mmap(FIXED_VA, 2 * PAGE, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
			struct pdma_sva_info in = info(fd);
			char ch;

			if (p != FIXED_VA)
				_exit(2);
			memset(p, 0xc0 + c, PAGE);
			memset(p + PAGE, 0, PAGE);
			if (write(rep[1], &in.pasid, 4) != 4 || read(go[0], &ch, 1) != 1)
				_exit(2);
			/* Both processes bound: copy page 0 -> 1 a few times, interleaved. */
			for (int i = 0; i < 8; i++) {
				memset(p + PAGE, 0, PAGE);
				if (run(fd, PDMA_SVA_OP_COPY, p, p + PAGE, PAGE, 0, NULL) != ST_OK ||
				    memcmp(p, p + PAGE, PAGE))
					ok = 0;
				usleep(1000);
			}
			printf("SVA two child=%d pasid=%u va=%p %s\n", c, in.pasid, (void *)p,
			       ok ? "data ok" : "FAIL data");
			fflush(stdout);
			_exit(ok ? 0 : 1);
		}
	}
	close(rep[1]); /* a child that dies early ends the reads below */
	close(go[0]);
	for (int c = 0; c < 2; c++)
		if (read(rep[0], &pasid[c], 4) != 4)
			FAIL("two: child did not report");
	if (write(go[1], "gg", 2) != 2)
		FAIL("two: go");
	for (int c = 0; c < 2; c++) {
		int stt = 0;

		waitpid(pid[c], &stt, 0);
		if (!WIFEXITED(stt) || WEXITSTATUS(stt))
			FAIL("two: child %d failed (status 0x%x)", c, stt);
	}
	if (pasid[0] == pasid[1] || !pasid[0] || !pasid[1])
		FAIL("two: PASIDs %u and %u", pasid[0], pasid[1]);
	else
		printf("SVA two ok pasids=%u,%u\n", pasid[0], pasid[1]);
}

/* 5. A process that exits without closing: its PASID is unbound. */
static void t_exit(void)
{
	int rep[2], fd, stt = 0;
	unsigned int dead = 0;
	struct pdma_sva_info a, b;
	struct pdma_sva_run r = { 0 };
	static uint64_t cr[4] __attribute__((aligned(64)));
	uint8_t *buf = malloc(PAGE);
	pid_t pid;

	fd = dev_open();
	a = info(fd);
	if (pipe(rep))
		return;
	pid = fork();
	if (pid == 0) {
		int cfd = dev_open();
		struct pdma_sva_info in = info(cfd);
		uint8_t *p = malloc(PAGE);

		if (run(cfd, PDMA_SVA_OP_FILL, NULL, p, PAGE, 1, NULL) != ST_OK)
			_exit(1);
		if (write(rep[1], &in.pasid, 4) != 4)
			_exit(1);
		_exit(0); /* no close(cfd) */
	}
	close(rep[1]);
	if (read(rep[0], &dead, 4) != 4)
		FAIL("exit: child did not report");
	waitpid(pid, &stt, 0);
	usleep(100000);
	b = info(fd);
	/* A descriptor with the dead process's PASID must not reach this buffer. */
	memset(buf, 0x77, PAGE);
	r = (struct pdma_sva_run){ .op = PDMA_SVA_OP_FILL, .flags = PDMA_SVA_F_RAW_PASID,
				   .dst = (uintptr_t)buf, .len = PAGE, .pattern = 0x6666666666666666ull,
				   .cr = (uintptr_t)cr, .pasid = dead };
	if (ioctl(fd, PDMA_SVA_IOC_RUN, &r))
		r.status = 0; /* the record is not reachable through the dead PASID either */
	if (!WIFEXITED(stt) || WEXITSTATUS(stt) || !dead || dead == a.pasid)
		FAIL("exit: child status 0x%x pasid %u (ours %u)", stt, dead, a.pasid);
	else if (r.status == ST_OK || check_fill(buf, PAGE, 0x7777777777777777ull) >= 0)
		FAIL("exit: DMA with the dead PASID %u status=0x%x", dead, r.status);
	else
		printf("SVA exit ok dead_pasid=%u status=0x%x host_detaches=%u\n", dead, r.status,
		       b.host_detaches - a.host_detaches);
	close(fd);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Page request round trip and a 1 MiB copy (figures, never asserted). */
static void t_bench(void)
{
	int fd = dev_open();
	size_t mb = 1 << 20;
	uint8_t *src = malloc(mb), *dst = malloc(mb);
	struct pdma_sva_run r;
	uint64_t present = 0, fault = 0, copy = 0, t;
	int n = 8, ok = 1;
	unsigned int st;

	/* Both buffers present (not zero: malloc + memset 0 may become calloc, pages untouched). */
	memset(src, 0x3c, mb);
	memset(dst, 0xc3, mb);
	for (int i = 0; i < n; i++) {
		uint8_t *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if ((st = run(fd, PDMA_SVA_OP_FILL, NULL, p, 64, 9, &r)) != ST_OK)
			printf("SVA bench fault fill %d: status 0x%x after %u attempts\n", i, st, r.attempts);
		ok &= st == ST_OK;
		fault += r.ns;
		if ((st = run(fd, PDMA_SVA_OP_FILL, NULL, p + 64, 64, 9, &r)) != ST_OK)
			printf("SVA bench present fill %d: status 0x%x\n", i, st);
		ok &= st == ST_OK;
		present += r.ns;
		munmap(p, PAGE);
	}
	t = now_ns();
	for (int i = 0; i < 4; i++) {
		if ((st = run(fd, PDMA_SVA_OP_COPY, src, dst, mb, 0, &r)) != ST_OK)
			printf("SVA bench copy %d: status 0x%x after %u attempts at 0x%llx (src %p dst %p)\n",
			       i, st, r.attempts, (unsigned long long)r.info, (void *)src, (void *)dst);
		ok &= st == ST_OK;
		copy += r.ns;
	}
	t = now_ns() - t;
	ok &= !memcmp(src, dst, mb);
	printf("SVA bench %s prq_roundtrip_us=%llu present_us=%llu copy_1mib_us=%llu copy_wall_us=%llu\n",
	       ok ? "ok" : "FAIL", (unsigned long long)(fault / n / 1000),
	       (unsigned long long)(present / n / 1000), (unsigned long long)(copy / 4 / 1000),
	       (unsigned long long)(t / 4 / 1000));
	if (!ok)
		failures++;
	close(fd);
}

int main(int argc, char **argv)
{
	const char *t = argc > 1 ? argv[1] : "copy";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2)
		retries = (unsigned int)strtoul(argv[2], NULL, 0);
	if (!strcmp(t, "copy"))
		t_copy();
	else if (!strcmp(t, "demand"))
		t_demand();
	else if (!strcmp(t, "invalidate"))
		t_invalidate();
	else if (!strcmp(t, "two"))
		t_two();
	else if (!strcmp(t, "exit"))
		t_exit();
	else if (!strcmp(t, "bench"))
		t_bench();
	else if (!strcmp(t, "bind")) {
		/* Only reports what the kernel answers to a bind (no check). */
		int fd = open("/dev/pdma-sva", O_RDWR);

		printf("SVA bind %s errno=%d\n", fd >= 0 ? "ok" : "refused", fd >= 0 ? 0 : errno);
		if (fd >= 0)
			close(fd);
	}
	else if (!strcmp(t, "info")) {
		int fd = dev_open();
		struct pdma_sva_info in = info(fd);

		printf("SVA info pasid=%u backend=%u completed=%u dtlb_hits=%u dtlb_misses=%u page_reqs=%u dtlb_invs=%u host_binds=%u host_detaches=%u host_inv_calls=%u host_inv_ranges=%u host_faults=%u host_page_reqs=%u host_page_resps=%u\n",
		       in.pasid, in.host_backend, in.completed, in.dtlb_hits, in.dtlb_misses,
		       in.page_reqs, in.dtlb_invs, in.host_binds, in.host_detaches, in.host_inv_calls,
		       in.host_inv_ranges, in.host_faults, in.host_page_reqs, in.host_page_resps);
		close(fd);
	} else {
		fprintf(stderr, "usage: sva-test copy|demand|invalidate|two|exit|bench|info|bind [retries]\n");
		return 2;
	}
	return failures ? 1 : 0;
}
