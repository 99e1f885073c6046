/* SPDX-License-Identifier: MIT */
/* Bit and field helpers used for every hardware format in nestvm (style rule 10). */
#ifndef NESTVM_BITS_H
#define NESTVM_BITS_H

#include <stdint.h>

#define BIT_ULL(n) (1ULL << (n))
/* Mask with bits hi..lo (inclusive) set; hi >= lo, both < 64. */
#define GENMASK_ULL(hi, lo) ((~0ULL >> (63 - (hi))) & (~0ULL << (lo)))

/* Extract / place a field described by a contiguous mask. */
#define FIELD_GET(mask, val) (((uint64_t)(val) & (uint64_t)(mask)) >> __builtin_ctzll(mask))
#define FIELD_PREP(mask, val) (((uint64_t)(val) << __builtin_ctzll(mask)) & (uint64_t)(mask))

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a) (((x) + ((a) - 1)) & ~((uint64_t)(a) - 1))
#define IS_ALIGNED(x, a) (((x) & ((uint64_t)(a) - 1)) == 0)

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

/*
 * Little-endian loads/stores from byte buffers (guest formats are little-endian). On a
 * little-endian host a load is one unaligned memory access (memcpy): gcc makes that of the
 * byte-wise form too, but clang 14 with the sanitizers kept 4 or 8 checked byte loads behind an
 * out-of-line call, which was a fifth of the vtd-host fuzz target's time.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
static inline uint16_t le16_load(const void *p)
{
	uint16_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t le32_load(const void *p)
{
	uint32_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t le64_load(const void *p)
{
	uint64_t v;

	__builtin_memcpy(&v, p, sizeof(v));
	return v;
}
#else
static inline uint16_t le16_load(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | (b[1] << 8));
}

static inline uint32_t le32_load(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
}

static inline uint64_t le64_load(const void *p)
{
	const uint8_t *b = p;
	return (uint64_t)le32_load(b) | ((uint64_t)le32_load(b + 4) << 32);
}
#endif

static inline void le16_store(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

static inline void le32_store(void *p, uint32_t v)
{
	uint8_t *b = p;
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static inline void le64_store(void *p, uint64_t v)
{
	le32_store(p, (uint32_t)v);
	le32_store((uint8_t *)p + 4, (uint32_t)(v >> 32));
}

/* True if [base, base+len) overflows 64 bits. len == 0 never overflows. */
static inline int range_overflows(uint64_t base, uint64_t len)
{
	return len != 0 && base + len - 1 < base;
}

#endif
