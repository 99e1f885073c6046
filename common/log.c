/* SPDX-License-Identifier: MIT */
/* Logging to stderr with level and component prefix; tracepoint name parsing. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum log_level log_max_level = LOG_WARN;
uint32_t trace_mask;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

static const struct {
	const char *name;
	uint32_t bit;
} trace_table[] = {
	{ "bus", TRACE_BUS },         { "vtd-reg", TRACE_VTD_REG }, { "vtd-desc", TRACE_VTD_DESC },
	{ "vtd-fault", TRACE_VTD_FAULT }, { "host", TRACE_HOST },   { "pci", TRACE_PCI },
	{ "irq", TRACE_IRQ },         { "vcpu", TRACE_VCPU },     { "vtd-walk", TRACE_VTD_WALK },
};

void log_msg(enum log_level lvl, const char *comp, const char *fmt, ...)
{
	va_list ap;

	if (lvl > log_max_level)
		return;
	va_start(ap, fmt);
	flockfile(stderr);
	fprintf(stderr, "nestvm: %s: %s: ", level_names[lvl], comp);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

void trace_msg(const char *comp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	flockfile(stderr);
	fprintf(stderr, "trace: %s: ", comp);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

int trace_parse(const char *list, uint32_t *ret_mask)
{
	uint32_t mask = 0;
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");
		size_t i;

		if (n == 3 && !strncmp(p, "all", 3)) {
			mask = ~0u;
		} else {
			for (i = 0; i < sizeof(trace_table) / sizeof(trace_table[0]); i++) {
				if (strlen(trace_table[i].name) == n && !strncmp(p, trace_table[i].name, n))
					break;
			}
			if (i == sizeof(trace_table) / sizeof(trace_table[0]))
				return -EINVAL;
			mask |= trace_table[i].bit;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	*ret_mask = mask;
	return 0;
}

const char *trace_names(void)
{
	return "all, bus, vtd-reg, vtd-desc, vtd-fault, host, pci, irq, vcpu, vtd-walk";
}
