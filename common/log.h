/* SPDX-License-Identifier: MIT */
/* Levelled logging with a component prefix, and named tracepoints that are off by default. */
#ifndef NESTVM_LOG_H
#define NESTVM_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Tracepoint groups (style rule 18); enabled with --trace NAME[,NAME...]. */
enum trace_point {
	TRACE_BUS = 1u << 0,     /* unclaimed accesses */
	TRACE_VTD_REG = 1u << 1, /* every vIOMMU register access */
	TRACE_VTD_DESC = 1u << 2,/* every invalidation descriptor */
	TRACE_VTD_FAULT = 1u << 3,
	TRACE_HOST = 1u << 4,    /* every host forward */
	TRACE_PCI = 1u << 5,
	TRACE_IRQ = 1u << 6,
	TRACE_VCPU = 1u << 7,
	TRACE_VTD_WALK = 1u << 8, /* root/context/PASID entries the engine loads */
};

/* Process-wide settings, written once by the launcher before any vCPU runs. */
extern enum log_level log_max_level;
extern uint32_t trace_mask;

void log_msg(enum log_level lvl, const char *comp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void trace_msg(const char *comp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Parses "bus,vtd-reg,..." or "all" into a mask; returns 0 or -EINVAL (unknown name). */
int trace_parse(const char *list, uint32_t *ret_mask);
const char *trace_names(void);

#define log_err(comp, ...) log_msg(LOG_ERROR, comp, __VA_ARGS__)
#define log_warn(comp, ...) log_msg(LOG_WARN, comp, __VA_ARGS__)
#define log_info(comp, ...) log_msg(LOG_INFO, comp, __VA_ARGS__)
#define log_debug(comp, ...)                                                                       \
	do {                                                                                           \
		if (log_max_level >= LOG_DEBUG)                                                            \
			log_msg(LOG_DEBUG, comp, __VA_ARGS__);                                                 \
	} while (0)

static inline bool trace_on(uint32_t tp)
{
	return (trace_mask & tp) != 0;
}

#define trace(tp, comp, ...)                                                                       \
	do {                                                                                           \
		if (trace_on(tp))                                                                          \
			trace_msg(comp, __VA_ARGS__);                                                          \
	} while (0)

#endif
