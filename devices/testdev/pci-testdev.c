/* SPDX-License-Identifier: MIT */
/* pci-testdev: QEMU's PCI exit-test device, one header per BAR whose matching writes are counted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bits.h"
#include "testdev.h"

/* Header layout (little endian), then the test's name. */
#define HDR_TEST 0
#define HDR_WIDTH 1
#define HDR_OFFSET 4
#define HDR_DATA 8
#define HDR_COUNT 12
#define HDR_NAME 16
#define HDR_BUF 48 /* header + the longest name ("portio-datamatch-eventfd") + NUL, rounded */

#define NR_BARS 2 /* BAR0 memory tests 0..2, BAR1 I/O tests 3..5 */
#define NR_TESTS (NR_BARS * PCI_TESTDEV_NR_TESTS)
#define MEM_TEST_BASE 2048u /* test offsets: half-way into each BAR, one byte per test */
#define IO_TEST_BASE 128u

struct pci_testdev_test {
	uint8_t hdr[HDR_BUF];
	unsigned int len;  /* header + name + NUL */
	uint32_t offset;
	uint8_t data;
	bool match_data;   /* count only 1-byte writes of data */
};

struct pci_testdev {
	struct pci_dev pci;
	pthread_mutex_t lock; /* current and the counts */
	int current;          /* selected test (0..5) or -1 */
	struct pci_testdev_test tests[NR_TESTS];
};

static const char *const kind_names[PCI_TESTDEV_NR_TESTS] = {
	"no-eventfd", "wildcard-eventfd", "datamatch-eventfd",
};

static void test_init(struct pci_testdev_test *t, unsigned int n)
{
	unsigned int kind = n % PCI_TESTDEV_NR_TESTS;
	bool mem = n < PCI_TESTDEV_NR_TESTS;
	size_t nlen;

	memset(t, 0, sizeof(*t));
	t->offset = (mem ? MEM_TEST_BASE : IO_TEST_BASE) + n;
	t->match_data = kind != 1;
	t->data = t->match_data ? PCI_TESTDEV_MATCH_DATA : PCI_TESTDEV_NOMATCH_DATA;
	t->hdr[HDR_TEST] = (uint8_t)n;
	t->hdr[HDR_WIDTH] = 1;
	le32_store(&t->hdr[HDR_OFFSET], t->offset);
	t->hdr[HDR_DATA] = t->data;
	nlen = (size_t)snprintf((char *)&t->hdr[HDR_NAME], HDR_BUF - HDR_NAME, "%s-%s",
				mem ? "mmio" : "portio", kind_names[kind]);
	t->len = HDR_NAME + (unsigned int)nlen + 1;
}

/* One byte read at off of BAR bar (lock held). */
static uint8_t read_byte(struct pci_testdev *d, uint64_t off)
{
	const struct pci_testdev_test *t;

	if (d->current < 0)
		return 0;
	t = &d->tests[d->current];
	/* The NUL and everything past it read 0. */
	return off + 1 < t->len ? t->hdr[off] : 0;
}

/* One byte written at off of the BAR of kind io (lock held). */
static void write_byte(struct pci_testdev *d, bool io, uint64_t off, uint8_t val)
{
	struct pci_testdev_test *t;
	uint32_t count;

	if (off == HDR_TEST) {
		d->current = -1;
		if (val >= PCI_TESTDEV_NR_TESTS)
			return;
		d->current = (io ? PCI_TESTDEV_NR_TESTS : 0) + val;
		le32_store(&d->tests[d->current].hdr[HDR_COUNT], 0);
		return;
	}
	if (d->current < 0)
		return;
	t = &d->tests[d->current];
	if (off != t->offset || (t->match_data && val != t->data))
		return;
	count = le32_load(&t->hdr[HDR_COUNT]);
	le32_store(&t->hdr[HDR_COUNT], count + 1);
}

/*
 * Wider accesses are served one byte at a time, as QEMU's memory core splits them for this
 * device: a write's low byte lands at off, the next at off + 1, and so on.
 */
static uint64_t testdev_bar_read(struct pci_dev *dev, unsigned int bar, uint64_t off,
				 unsigned int size)
{
	struct pci_testdev *d = dev->opaque;
	uint64_t v = 0;

	if (bar >= NR_BARS)
		return bus_ones(size);
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < size; i++)
		v |= (uint64_t)read_byte(d, off + i) << (8 * i);
	pthread_mutex_unlock(&d->lock);
	return v;
}

static void testdev_bar_write(struct pci_dev *dev, unsigned int bar, uint64_t off, uint64_t val,
			      unsigned int size)
{
	struct pci_testdev *d = dev->opaque;

	if (bar >= NR_BARS)
		return;
	pthread_mutex_lock(&d->lock);
	for (unsigned int i = 0; i < size; i++)
		write_byte(d, bar == 1, off + i, (uint8_t)(val >> (8 * i)));
	pthread_mutex_unlock(&d->lock);
}

static void testdev_reset(struct pci_dev *dev)
{
	struct pci_testdev *d = dev->opaque;

	pthread_mutex_lock(&d->lock);
	d->current = -1;
	pthread_mutex_unlock(&d->lock);
}

static const struct pci_dev_ops testdev_ops = {
	.bar_read = testdev_bar_read,
	.bar_write = testdev_bar_write,
	.reset = testdev_reset,
};

struct pci_testdev *pci_testdev_create(struct pci_host *h, unsigned int slot)
{
	struct pci_testdev *d;

	if (!h)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	pthread_mutex_init(&d->lock, NULL);
	d->current = -1;
	for (unsigned int n = 0; n < NR_TESTS; n++)
		test_init(&d->tests[n], n);
	pci_dev_init(&d->pci, PCI_TESTDEV_VENDOR, PCI_TESTDEV_DEVICE, 0, PCI_TESTDEV_CLASS,
		     &testdev_ops, d);
	if (pci_dev_set_bar(&d->pci, 0, PCI_BAR_MEM32, PCI_TESTDEV_MEM_SIZE, false) ||
	    pci_dev_set_bar(&d->pci, 1, PCI_BAR_IO, PCI_TESTDEV_IO_SIZE, false) ||
	    pci_host_add_device(h, &d->pci, slot)) {
		pci_dev_cleanup(&d->pci);
		pthread_mutex_destroy(&d->lock);
		free(d);
		return NULL;
	}
	return d;
}

void pci_testdev_destroy(struct pci_testdev *d)
{
	if (!d)
		return;
	pci_host_remove_device(&d->pci);
	pci_dev_cleanup(&d->pci);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

struct pci_dev *pci_testdev_pci_dev(struct pci_testdev *d)
{
	return &d->pci;
}
