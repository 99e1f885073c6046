/* SPDX-License-Identifier: MIT */
/* A small AML encoder (ACPI 6.x §20 grammar, §6.4 resource descriptors) over a fixed buffer. */
#include <errno.h>
#include <string.h>

#include "acpi-internal.h"
#include "common/bits.h"

/* AML opcodes used here (ACPI 6.x §20.3). */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0a
#define AML_WORD_PREFIX 0x0b
#define AML_DWORD_PREFIX 0x0c
#define AML_STRING_PREFIX 0x0d
#define AML_QWORD_PREFIX 0x0e
#define AML_SCOPE_OP 0x10
#define AML_BUFFER_OP 0x11
#define AML_PACKAGE_OP 0x12
#define AML_METHOD_OP 0x14
#define AML_DUAL_NAME_PREFIX 0x2e
#define AML_MULTI_NAME_PREFIX 0x2f
#define AML_EXT_OP_PREFIX 0x5b
#define AML_ROOT_CHAR 0x5c
#define AML_PARENT_PREFIX 0x5e
#define AML_RETURN_OP 0xa4
#define AML_ONES_OP 0xff
#define AML_EXT_DEVICE_OP 0x82

/* Resource descriptor tags (§6.4.2 small, §6.4.3 large). */
#define RES_IRQ_NOFLAGS 0x22
#define RES_IO 0x47
#define RES_END_TAG 0x79
#define RES_MEM32_FIXED 0x86
#define RES_DWORD_ADDR 0x87
#define RES_WORD_ADDR 0x88
#define RES_EXT_IRQ 0x89
#define RES_QWORD_ADDR 0x8a

/* Address space descriptor fields (§6.4.3.5). */
#define RES_TYPE_MEM 0
#define RES_TYPE_IO 1
#define RES_TYPE_BUS 2
#define RES_GFLAG_MIN_FIXED 0x04 /* bit 2 _MIF */
#define RES_GFLAG_MAX_FIXED 0x08 /* bit 3 _MAF; bit 0 = 0: producer, bit 1 = 0: positive decode */
#define RES_IO_ENTIRE_RANGE 0x03 /* I/O type-specific bits 1:0 _RNG */
#define RES_MEM_RW 0x01          /* memory type-specific bit 0 _RW */
#define RES_MEM_PREFETCH 0x06    /* memory type-specific bits 2:1 _MEM = 3 */

void aml_init(struct aml *a, void *buf, size_t cap)
{
	memset(a, 0, sizeof(*a));
	a->buf = buf;
	a->cap = cap;
}

int aml_finish(struct aml *a, size_t *ret_len)
{
	if (!a->err && (a->depth || a->in_res))
		a->err = -EINVAL;
	if (a->err)
		return a->err;
	*ret_len = a->len;
	return 0;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (a->err)
		return;
	if (n > a->cap - a->len) {
		a->err = -ENOSPC;
		return;
	}
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, uint8_t b)
{
	aml_bytes(a, &b, 1);
}

static void put_le(struct aml *a, uint64_t v, unsigned int n)
{
	uint8_t b[8];

	for (unsigned int i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	aml_bytes(a, b, n);
}

/* Inserts n bytes at offset pos, shifting what follows (used for PkgLength / BufferSize). */
static void insert(struct aml *a, size_t pos, const uint8_t *p, size_t n)
{
	if (a->err)
		return;
	if (pos > a->len || n > a->cap - a->len) {
		a->err = pos > a->len ? -EINVAL : -ENOSPC;
		return;
	}
	memmove(a->buf + pos + n, a->buf + pos, a->len - pos);
	memcpy(a->buf + pos, p, n);
	a->len += n;
}

/* §20.2.4 PkgLength: the count includes its own 1-4 bytes. Returns bytes used, 0 if too big. */
static size_t encode_pkglen(size_t body, uint8_t out[4])
{
	size_t total;

	if (body + 1 <= 0x3f) {
		out[0] = (uint8_t)(body + 1);
		return 1;
	}
	for (size_t n = 2; n <= 4; n++) {
		total = body + n;
		if (total < (1ULL << (4 + 8 * (n - 1)))) {
			out[0] = (uint8_t)(((n - 1) << 6) | (total & 0xf));
			for (size_t i = 1; i < n; i++)
				out[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
			return n;
		}
	}
	return 0;
}

static size_t encode_integer(uint64_t v, uint8_t out[9])
{
	size_t n;

	if (v == 0 || v == 1 || v == ~0ULL) {
		out[0] = v == 0 ? AML_ZERO_OP : v == 1 ? AML_ONE_OP : AML_ONES_OP;
		return 1;
	}
	if (v <= 0xff) {
		out[0] = AML_BYTE_PREFIX;
		n = 1;
	} else if (v <= 0xffff) {
		out[0] = AML_WORD_PREFIX;
		n = 2;
	} else if (v <= 0xffffffffULL) {
		out[0] = AML_DWORD_PREFIX;
		n = 4;
	} else {
		out[0] = AML_QWORD_PREFIX;
		n = 8;
	}
	for (size_t i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(v >> (8 * i));
	return n + 1;
}

void aml_integer(struct aml *a, uint64_t v)
{
	uint8_t b[9];

	aml_bytes(a, b, encode_integer(v, b));
}

void aml_string(struct aml *a, const char *s)
{
	size_t n = strnlen(s, 256);

	/* AsciiCharList is 0x01-0x7f; bound the length so a bad caller cannot run away. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] > 0x7f)
			a->err = a->err ? a->err : -EINVAL;
	if (n == 256)
		a->err = a->err ? a->err : -EINVAL;
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, n + 1);
}

static bool name_char_ok(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || c == '_' || (!first && c >= '0' && c <= '9');
}

void aml_name_string(struct aml *a, const char *path)
{
	uint8_t segs[4 * 32];
	size_t nsegs = 0, i = 0;
	const char *p = path;

	if (*p == '\\') {
		aml_byte(a, AML_ROOT_CHAR);
		p++;
	}
	/* Bounded by the 32-segment limit below and the path's own length. */
	while (*p == '^' && i++ < 32) {
		aml_byte(a, AML_PARENT_PREFIX);
		p++;
	}
	while (*p) {
		size_t n = 0;

		if (nsegs == 32)
			goto bad;
		while (p[n] && p[n] != '.' && n < 5)
			n++;
		if (n == 0 || n > 4)
			goto bad;
		for (size_t k = 0; k < 4; k++) {
			char c = k < n ? p[k] : '_';

			if (!name_char_ok(c, k == 0))
				goto bad;
			segs[nsegs * 4 + k] = (uint8_t)c;
		}
		nsegs++;
		p += n;
		if (*p == '.' && *++p == '\0')
			goto bad;
	}
	if (nsegs == 0) {
		aml_byte(a, AML_ZERO_OP); /* NullName */
		return;
	}
	if (nsegs == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (nsegs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (uint8_t)nsegs);
	}
	aml_bytes(a, segs, nsegs * 4);
	return;
bad:
	if (!a->err)
		a->err = -EINVAL;
}

uint32_t aml_eisaid_value(const char *id, int *ret_err)
{
	uint8_t b[4];
	unsigned int hex[4];

	if (strnlen(id, 8) != 7)
		goto bad;
	for (int i = 0; i < 3; i++)
		if (id[i] < 'A' || id[i] > 'Z')
			goto bad;
	for (int i = 0; i < 4; i++) {
		char c = id[3 + i];

		if (c >= '0' && c <= '9')
			hex[i] = (unsigned int)(c - '0');
		else if (c >= 'A' && c <= 'F')
			hex[i] = (unsigned int)(c - 'A' + 10);
		else
			goto bad;
	}
	/* Three 5-bit letters ('A' = 1) then four nibbles, stored big-endian. */
	b[0] = (uint8_t)(((id[0] - 0x40) << 2) | ((id[1] - 0x40) >> 3));
	b[1] = (uint8_t)((((id[1] - 0x40) & 7) << 5) | (id[2] - 0x40));
	b[2] = (uint8_t)((hex[0] << 4) | hex[1]);
	b[3] = (uint8_t)((hex[2] << 4) | hex[3]);
	*ret_err = 0;
	return le32_load(b);
bad:
	*ret_err = -EINVAL;
	return 0;
}

void aml_eisaid(struct aml *a, const char *id)
{
	int err;
	uint32_t v = aml_eisaid_value(id, &err);

	if (err && !a->err)
		a->err = err;
	/* Always a DWord so the disassembler recognises it as EisaId(). */
	aml_byte(a, AML_DWORD_PREFIX);
	put_le(a, v, 4);
}

void aml_name(struct aml *a, const char *path)
{
	aml_byte(a, AML_NAME_OP);
	aml_name_string(a, path);
}

void aml_name_integer(struct aml *a, const char *path, uint64_t v)
{
	aml_name(a, path);
	aml_integer(a, v);
}

void aml_name_string_obj(struct aml *a, const char *path, const char *s)
{
	aml_name(a, path);
	aml_string(a, s);
}

void aml_name_eisaid(struct aml *a, const char *path, const char *id)
{
	aml_name(a, path);
	aml_eisaid(a, id);
}

static void open_pkg(struct aml *a)
{
	if (a->err)
		return;
	if (a->depth == AML_MAX_DEPTH) {
		a->err = -EINVAL;
		return;
	}
	a->open[a->depth++] = a->len;
}

void aml_end(struct aml *a)
{
	uint8_t enc[4];
	size_t pos, n;

	if (a->err)
		return;
	if (a->depth == 0) {
		a->err = -EINVAL;
		return;
	}
	if (a->in_res) {
		a->err = -EINVAL; /* nothing opens inside a resource template */
		return;
	}
	pos = a->open[--a->depth];
	n = encode_pkglen(a->len - pos, enc);
	if (n == 0) {
		a->err = -ENOSPC;
		return;
	}
	insert(a, pos, enc, n);
}

void aml_scope_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_SCOPE_OP);
	open_pkg(a);
	aml_name_string(a, path);
}

void aml_device_begin(struct aml *a, const char *path)
{
	aml_byte(a, AML_EXT_OP_PREFIX);
	aml_byte(a, AML_EXT_DEVICE_OP);
	open_pkg(a);
	aml_name_string(a, path);
}

void aml_package_begin(struct aml *a, uint8_t nr_elements)
{
	aml_byte(a, AML_PACKAGE_OP);
	open_pkg(a);
	aml_byte(a, nr_elements);
}

void aml_method_begin(struct aml *a, const char *path, unsigned int nr_args, bool serialized)
{
	if (nr_args > 7 && !a->err)
		a->err = -EINVAL;
	aml_byte(a, AML_METHOD_OP);
	open_pkg(a);
	aml_name_string(a, path);
	aml_byte(a, (uint8_t)((nr_args & 7) | (serialized ? 0x08 : 0)));
}

void aml_return_integer(struct aml *a, uint64_t v)
{
	aml_byte(a, AML_RETURN_OP);
	aml_integer(a, v);
}

void aml_resource_begin(struct aml *a)
{
	if (a->in_res && !a->err)
		a->err = -EINVAL;
	aml_byte(a, AML_BUFFER_OP);
	open_pkg(a);
	if (a->err)
		return;
	a->in_res = true;
	a->res_start = a->len;
}

void aml_resource_end(struct aml *a)
{
	uint8_t enc[9];

	if (!a->in_res && !a->err)
		a->err = -EINVAL;
	/* End Tag (§6.4.2.9); checksum 0 means "treat as correct". */
	aml_byte(a, RES_END_TAG);
	aml_byte(a, 0);
	if (a->err)
		return;
	insert(a, a->res_start, enc, encode_integer(a->len - a->res_start, enc));
	a->in_res = false;
	aml_end(a);
}

static bool res_ok(struct aml *a)
{
	if (!a->in_res && !a->err)
		a->err = -EINVAL;
	return !a->err;
}

/* Word/DWord/QWord Address Space Descriptors (§6.4.3.5.1-3) share one layout with n-byte fields. */
static void res_addr(struct aml *a, uint8_t tag, unsigned int n, uint8_t type, uint8_t tflags,
		     uint64_t min, uint64_t max, uint64_t tra)
{
	if (!res_ok(a))
		return;
	if (max < min) {
		a->err = -EINVAL;
		return;
	}
	aml_byte(a, tag);
	put_le(a, 3 + 5 * n, 2); /* length after the 3-byte header */
	aml_byte(a, type);
	aml_byte(a, RES_GFLAG_MIN_FIXED | RES_GFLAG_MAX_FIXED);
	aml_byte(a, tflags);
	put_le(a, 0, n); /* granularity: fixed-size window */
	put_le(a, min, n);
	put_le(a, max, n);
	put_le(a, tra, n);
	put_le(a, max - min + 1, n);
}

void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max)
{
	res_addr(a, RES_WORD_ADDR, 2, RES_TYPE_BUS, 0, min, max, 0);
}

void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max, uint16_t tra)
{
	res_addr(a, RES_WORD_ADDR, 2, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, min, max, tra);
}

void aml_res_dword_io(struct aml *a, uint32_t min, uint32_t max, uint32_t tra)
{
	res_addr(a, RES_DWORD_ADDR, 4, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, min, max, tra);
}

void aml_res_dword_mem(struct aml *a, bool prefetch, uint32_t min, uint32_t max, uint32_t tra)
{
	res_addr(a, RES_DWORD_ADDR, 4, RES_TYPE_MEM, RES_MEM_RW | (prefetch ? RES_MEM_PREFETCH : 0),
		 min, max, tra);
}

void aml_res_qword_mem(struct aml *a, bool prefetch, uint64_t min, uint64_t max, uint64_t tra)
{
	res_addr(a, RES_QWORD_ADDR, 8, RES_TYPE_MEM, RES_MEM_RW | (prefetch ? RES_MEM_PREFETCH : 0),
		 min, max, tra);
}

void aml_res_mem32_fixed(struct aml *a, bool rw, uint32_t base, uint32_t len)
{
	if (!res_ok(a))
		return;
	aml_byte(a, RES_MEM32_FIXED);
	put_le(a, 9, 2);
	aml_byte(a, rw ? 1 : 0);
	put_le(a, base, 4);
	put_le(a, len, 4);
}

void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len)
{
	if (!res_ok(a))
		return;
	aml_byte(a, RES_IO);
	aml_byte(a, 1); /* 16-bit decode */
	put_le(a, min, 2);
	put_le(a, max, 2);
	aml_byte(a, align);
	aml_byte(a, len);
}

void aml_res_irq_noflags(struct aml *a, uint16_t mask)
{
	if (!res_ok(a))
		return;
	aml_byte(a, RES_IRQ_NOFLAGS);
	put_le(a, mask, 2);
}

void aml_res_interrupt(struct aml *a, bool level, bool active_low, bool shared, uint32_t gsi)
{
	if (!res_ok(a))
		return;
	aml_byte(a, RES_EXT_IRQ);
	put_le(a, 6, 2);
	/* bit 0 consumer, bit 1 edge, bit 2 active-low, bit 3 shared (§6.4.3.6) */
	aml_byte(a, (uint8_t)(1 | (level ? 0 : 2) | (active_low ? 4 : 0) | (shared ? 8 : 0)));
	aml_byte(a, 1);
	put_le(a, gsi, 4);
}
