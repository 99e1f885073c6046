/* SPDX-License-Identifier: MIT */
/* fw_cfg legacy I/O interface: selector/data ports, fixed items and a sorted file directory. */
#include "fwcfg-internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct fwcfg_file {
	char name[FWCFG_DIR_NAME_LEN];
	uint8_t *data;
	uint32_t len;
};

struct fwcfg {
	pthread_mutex_t lock;

	uint8_t signature[4];
	uint8_t id[4];
	uint8_t ram_size[8];
	uint8_t nr_cpus[2];

	struct fwcfg_file files[FWCFG_MAX_FILES]; /* sorted by name (strcmp) */
	unsigned int nr_files;
	uint8_t *dir; /* FWCFG_DIR_HDR + nr_files * FWCFG_DIR_ENTRY bytes, big-endian */
	uint32_t dir_len;

	uint16_t key; /* as written to the selector */
	uint32_t off; /* data offset in the selected item, at most its length */
};

static void be32_store(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void be16_store(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The bytes behind key; unknown keys are empty items (every read returns 0). */
static void lookup(const struct fwcfg *fw, uint16_t key, const uint8_t **ret_data,
		   uint32_t *ret_len)
{
	const uint8_t *data = NULL;
	uint32_t len = 0;

	key &= (uint16_t)~FWCFG_KEY_WRITE_CHANNEL;
	switch (key) {
	case FWCFG_KEY_SIGNATURE:
		data = fw->signature;
		len = sizeof(fw->signature);
		break;
	case FWCFG_KEY_ID:
		data = fw->id;
		len = sizeof(fw->id);
		break;
	case FWCFG_KEY_RAM_SIZE:
		data = fw->ram_size;
		len = sizeof(fw->ram_size);
		break;
	case FWCFG_KEY_NB_CPUS:
	case FWCFG_KEY_MAX_CPUS:
		data = fw->nr_cpus;
		len = sizeof(fw->nr_cpus);
		break;
	case FWCFG_KEY_FILE_DIR:
		data = fw->dir;
		len = fw->dir_len;
		break;
	default:
		if (key >= FWCFG_KEY_FILE_FIRST && key - FWCFG_KEY_FILE_FIRST < (int)fw->nr_files) {
			data = fw->files[key - FWCFG_KEY_FILE_FIRST].data;
			len = fw->files[key - FWCFG_KEY_FILE_FIRST].len;
		}
		break;
	}
	*ret_data = data;
	*ret_len = len;
}

static uint64_t fwcfg_read(void *opaque, uint64_t off, unsigned int size)
{
	struct fwcfg *fw = opaque;
	const uint8_t *data;
	uint32_t len;
	uint8_t v = 0;

	/* The selector is write-only; the data port is byte-wide. */
	if (off != FWCFG_DATA || size != 1)
		return bus_ones(size);
	pthread_mutex_lock(&fw->lock);
	lookup(fw, fw->key, &data, &len);
	if (fw->off < len)
		v = data[fw->off++];
	pthread_mutex_unlock(&fw->lock);
	return v;
}

static void fwcfg_write(void *opaque, uint64_t off, uint64_t val, unsigned int size)
{
	struct fwcfg *fw = opaque;

	/* Data port writes are ignored (no DMA, so no writable items). */
	if (off != FWCFG_SELECTOR || size != 2)
		return;
	pthread_mutex_lock(&fw->lock);
	fw->key = (uint16_t)val;
	fw->off = 0;
	pthread_mutex_unlock(&fw->lock);
}

static const struct bus_ops fwcfg_ops = { fwcfg_read, fwcfg_write };

/* Rebuilds the directory from the sorted file table. */
static int rebuild_dir(struct fwcfg *fw)
{
	uint32_t len = FWCFG_DIR_HDR + fw->nr_files * FWCFG_DIR_ENTRY;
	uint8_t *dir = calloc(1, len);

	if (!dir)
		return -ENOMEM;
	be32_store(dir, fw->nr_files);
	for (unsigned int i = 0; i < fw->nr_files; i++) {
		uint8_t *e = dir + FWCFG_DIR_HDR + i * FWCFG_DIR_ENTRY;

		be32_store(e, fw->files[i].len);
		be16_store(e + 4, (uint16_t)(FWCFG_KEY_FILE_FIRST + i));
		/* e + 6: reserved, 0 */
		memcpy(e + FWCFG_DIR_NAME_OFF, fw->files[i].name, FWCFG_DIR_NAME_LEN);
	}
	free(fw->dir);
	fw->dir = dir;
	fw->dir_len = len;
	return 0;
}

int fwcfg_add_file(struct fwcfg *fw, const char *name, const void *data, size_t len)
{
	size_t name_len = name ? strnlen(name, FWCFG_NAME_MAX + 1) : 0;
	struct fwcfg_file f = { .len = (uint32_t)len };
	unsigned int pos;
	int r = 0;

	if (name_len == 0 || name_len > FWCFG_NAME_MAX || (!data && len))
		return -EINVAL;
	if (len > UINT32_MAX)
		return -EFBIG;
	memcpy(f.name, name, name_len); /* rest of the field stays NUL */
	pthread_mutex_lock(&fw->lock);
	for (pos = 0; pos < fw->nr_files; pos++) {
		int c = strcmp(fw->files[pos].name, f.name);

		if (c == 0) {
			r = -EEXIST;
			goto out;
		}
		if (c > 0)
			break;
	}
	if (fw->nr_files >= FWCFG_MAX_FILES) {
		r = -ENOSPC;
		goto out;
	}
	f.data = malloc(len ? len : 1);
	if (!f.data) {
		r = -ENOMEM;
		goto out;
	}
	if (len)
		memcpy(f.data, data, len);
	memmove(&fw->files[pos + 1], &fw->files[pos], (fw->nr_files - pos) * sizeof(f));
	fw->files[pos] = f;
	fw->nr_files++;
	r = rebuild_dir(fw);
	if (r) {
		memmove(&fw->files[pos], &fw->files[pos + 1], (fw->nr_files - pos - 1) * sizeof(f));
		fw->nr_files--;
		free(f.data);
	}
out:
	pthread_mutex_unlock(&fw->lock);
	return r;
}

struct fwcfg *fwcfg_create(struct bus *bus, uint16_t port, uint16_t nr_cpus, uint64_t ram_size)
{
	struct fwcfg *fw = calloc(1, sizeof(*fw));
	int r;

	if (!fw)
		return NULL;
	pthread_mutex_init(&fw->lock, NULL);
	memcpy(fw->signature, "QEMU", 4);
	le32_store(fw->id, FWCFG_ID_TRADITIONAL);
	le64_store(fw->ram_size, ram_size);
	le16_store(fw->nr_cpus, nr_cpus);
	r = rebuild_dir(fw);
	if (!r)
		r = bus_add_region(bus, BUS_PIO, port, FWCFG_NR_PORTS, &fwcfg_ops, fw, "fw_cfg");
	if (r) {
		fwcfg_destroy(fw);
		errno = -r;
		return NULL;
	}
	return fw;
}

void fwcfg_destroy(struct fwcfg *fw)
{
	if (!fw)
		return;
	for (unsigned int i = 0; i < fw->nr_files; i++)
		free(fw->files[i].data);
	free(fw->dir);
	pthread_mutex_destroy(&fw->lock);
	free(fw);
}
