/* SPDX-License-Identifier: MIT */
/* fw_cfg legacy I/O interface: selector 0x510, data 0x511, file directory at key 0x19. */
#include "guest.h"

#define FWCFG_SEL 0x510
#define FWCFG_DATA 0x511
#define FWCFG_SIGNATURE 0x0000
#define FWCFG_FILE_DIR 0x0019
/* Bound on directory entries we look at; real directories hold a few dozen. */
#define FWCFG_MAX_FILES 4096

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void fwcfg_read(uint16_t key, void *buf, uint32_t len)
{
	uint8_t *p = buf;

	outw(FWCFG_SEL, key);
	for (uint32_t i = 0; i < len; i++)
		p[i] = inb(FWCFG_DATA);
}

bool fwcfg_present(void)
{
	char sig[4];

	fwcfg_read(FWCFG_SIGNATURE, sig, 4);
	return memcmp(sig, "QEMU", 4) == 0;
}

int fwcfg_find_file(const char *name, uint16_t *ret_key, uint32_t *ret_size)
{
	uint8_t hdr[4], ent[64];
	uint32_t n;

	if (!fwcfg_present())
		return -2;
	outw(FWCFG_SEL, FWCFG_FILE_DIR);
	for (int i = 0; i < 4; i++)
		hdr[i] = inb(FWCFG_DATA);
	n = be32(hdr);
	if (n > FWCFG_MAX_FILES)
		n = FWCFG_MAX_FILES;
	/* The directory is read sequentially after the count, one 64-byte entry at a time. */
	for (uint32_t i = 0; i < n; i++) {
		for (int j = 0; j < 64; j++)
			ent[j] = inb(FWCFG_DATA);
		ent[63] = 0;
		if (strcmp((const char *)ent + 8, name) == 0) {
			*ret_size = be32(ent);
			*ret_key = (uint16_t)(ent[4] << 8 | ent[5]);
			return 0;
		}
	}
	return -2;
}
