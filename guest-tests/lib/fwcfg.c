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

/* Directory entries read per string-I/O burst (64 bytes each, on the stack). */
#define FWCFG_DIR_BATCH 16

/*
 * One string instruction: the hypervisor moves the whole buffer in a single exit (KVM splits
 * it at a page of data), instead of one exit per byte.
 */
static void fwcfg_data_in(void *buf, uint32_t len)
{
	__asm__ volatile("rep insb" : "+D"(buf), "+c"(len) : "d"(FWCFG_DATA) : "memory");
}

void fwcfg_read(uint16_t key, void *buf, uint32_t len)
{
	outw(FWCFG_SEL, key);
	fwcfg_data_in(buf, len);
}

bool fwcfg_present(void)
{
	char sig[4];

	fwcfg_read(FWCFG_SIGNATURE, sig, 4);
	return memcmp(sig, "QEMU", 4) == 0;
}

int fwcfg_find_file(const char *name, uint16_t *ret_key, uint32_t *ret_size)
{
	uint8_t hdr[4], ent[FWCFG_DIR_BATCH][64];
	uint32_t n;

	if (!fwcfg_present())
		return -2;
	fwcfg_read(FWCFG_FILE_DIR, hdr, 4);
	n = be32(hdr);
	if (n > FWCFG_MAX_FILES)
		n = FWCFG_MAX_FILES;
	/* The directory is read sequentially after the count, FWCFG_DIR_BATCH entries at a time. */
	for (uint32_t i = 0; i < n; i += FWCFG_DIR_BATCH) {
		uint32_t batch = n - i < FWCFG_DIR_BATCH ? n - i : FWCFG_DIR_BATCH;

		fwcfg_data_in(ent, batch * 64);
		for (uint32_t j = 0; j < batch; j++) {
			ent[j][63] = 0;
			if (strcmp((const char *)ent[j] + 8, name) == 0) {
				*ret_size = be32(ent[j]);
				*ret_key = (uint16_t)(ent[j][4] << 8 | ent[j][5]);
				return 0;
			}
		}
	}
	return -2;
}
