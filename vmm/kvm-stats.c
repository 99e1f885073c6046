/* SPDX-License-Identifier: MIT */
/*
 * KVM's binary statistics files (Documentation/virt/kvm/api.rst, KVM_GET_STATS_FD): a header
 * (flags, name size, descriptor count, id / descriptor / data offsets), num_desc descriptors
 * of sizeof(struct kvm_stats_desc) + name_size bytes each, and the data: `size` u64 values per
 * descriptor at data_offset + its offset. Only size-1 cumulative counters are read here.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vmm/kvm-stats.h"

#define NAME_MAX_SIZE 1024u
#define DESC_MAX 65536u

static const struct {
	const char *kvm; /* KVM's name */
	const char *out; /* printed as */
} names[KVM_STAT_COUNT] = {
	[KVM_STAT_EXITS] = { "exits", "exits" },
	[KVM_STAT_IO] = { "io_exits", "io" },
	[KVM_STAT_MMIO] = { "mmio_exits", "mmio" },
	[KVM_STAT_HALT] = { "halt_exits", "halt" },
	[KVM_STAT_IRQ_WINDOW] = { "irq_window_exits", "interrupt window" },
	[KVM_STAT_HOST_IRQ] = { "irq_exits", "host interrupt" },
	[KVM_STAT_SIGNAL] = { "signal_exits", "signal" },
	[KVM_STAT_EMULATED] = { "insn_emulation", "instructions emulated" },
	[KVM_STAT_INJECTED] = { "irq_injections", "interrupts injected" },
};

/* pread of exactly len bytes: 0, -EIO when the file ends first, -errno. */
static int read_at(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO;
		done += (size_t)r;
	}
	return 0;
}

int kvm_stats_add(int fd, struct kvm_stats *s)
{
	struct kvm_stats_header h;
	struct kvm_stats add = { 0 };
	size_t dsz;
	char *d;
	int r;

	r = read_at(fd, &h, sizeof(h), 0);
	if (r)
		return r;
	if (!h.name_size || h.name_size > NAME_MAX_SIZE || h.num_desc > DESC_MAX)
		return -EINVAL;
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	d = malloc(dsz);
	if (!d)
		return -ENOMEM;
	for (uint32_t i = 0; i < h.num_desc; i++) {
		const struct kvm_stats_desc *desc = (const void *)d;
		uint64_t val;

		r = read_at(fd, d, dsz, (uint64_t)h.desc_offset + (uint64_t)i * dsz);
		if (r)
			break;
		if ((desc->flags & KVM_STATS_TYPE_MASK) != KVM_STATS_TYPE_CUMULATIVE ||
		    desc->size != 1)
			continue;
		for (unsigned int k = 0; k < KVM_STAT_COUNT; k++) {
			/* KVM's names are NUL-terminated within name_size; compare within it too. */
			if (strncmp(desc->name, names[k].kvm, h.name_size) || add.have[k])
				continue;
			r = read_at(fd, &val, sizeof(val), (uint64_t)h.data_offset + desc->offset);
			if (r)
				break;
			add.v[k] = val;
			add.have[k] = true;
		}
		if (r)
			break;
	}
	free(d);
	if (r)
		return r;
	for (unsigned int k = 0; k < KVM_STAT_COUNT; k++) {
		s->v[k] += add.v[k];
		s->have[k] = s->have[k] || add.have[k];
	}
	s->files++;
	return 0;
}

/* Appends to buf like snprintf; *n counts what would have been written. */
static void put(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(buf + (*n < len ? *n : len), *n < len ? len - *n : 0, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n += (size_t)w;
}

int kvm_stats_format(const struct kvm_stats *s, char *buf, size_t len)
{
	const char *sep = ":";
	size_t n = 0;

	if (len)
		buf[0] = 0;
	if (s->have[KVM_STAT_EXITS])
		put(buf, len, &n, "%llu exits", (unsigned long long)s->v[KVM_STAT_EXITS]);
	else
		put(buf, len, &n, "exits");
	for (unsigned int k = KVM_STAT_IO; k <= KVM_STAT_SIGNAL; k++) {
		if (!s->have[k])
			continue;
		put(buf, len, &n, "%s %s %llu", sep, names[k].out, (unsigned long long)s->v[k]);
		sep = ",";
	}
	for (unsigned int k = KVM_STAT_EMULATED; k < KVM_STAT_COUNT; k++)
		if (s->have[k])
			put(buf, len, &n, "; %llu %s", (unsigned long long)s->v[k], names[k].out);
	return (int)n;
}

int kvm_stats_read_vcpus(const int *vcpu_fds, unsigned int n, struct kvm_stats *s)
{
	for (unsigned int i = 0; i < n; i++) {
		int fd = ioctl(vcpu_fds[i], KVM_GET_STATS_FD, NULL);
		int r;

		if (fd < 0)
			return -errno;
		r = kvm_stats_add(fd, s);
		close(fd);
		if (r)
			return r;
	}
	return 0;
}
