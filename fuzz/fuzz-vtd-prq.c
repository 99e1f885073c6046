/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the page request queue and ATS (devices/viommu/prq.c) with prs=on. Four
 * ATS/PRI devices registered through the unit's dma_as issue page requests and translation
 * requests of any PASID, address, access and group; the guest moves PQH, resizes and moves
 * the queue (PQA), clears PRS, masks PECTL, answers with page group responses (0x9) built from
 * the records it reads or made up, sends device-TLB invalidations (0x3 / 0x8), edits context
 * entries (PRE, P, PASIDE) and toggles TE.
 *
 * Input: a configuration byte (bit 0 256-bit queue, bits 1-2 PQS), then up to FZ_MAX_OPS:
 *   0 page request   device u8, pasid u32 (bit 31: with PASID), addr u64, access u8,
 *                    u16 (bits 0-8 group, bit 9 last)
 *   1 consume        u8: bit 0 PQH = PQT (all read), else PQH = u16 * 32 raw
 *   2 PRS / PECTL    u8 (RW1C PRS), u8 (bit 7: PECTL.IM)
 *   3 response       u8 record index (0xff: made-up fields rid u16, pasid u32, grp u16), code u8
 *   4 PQA            u64 (base folded onto the RAM unless bit 63), then PQH = PQT = 0
 *   5 device-TLB     qw0 u64, qw1 u64 (type forced to 0x3 / 0x8 by qw0 bit 4)
 *   6 ATS translate  device u8, pasid u32, iova u64, access u8
 *   7 context edit   device u8, flags u8 (P, PASIDE, PRE, FPD); u8 bit 0 toggles TE
 * Oracle: no sanitizer report; every page response a device gets answers a group that device
 * had outstanding (a last-in-group request the unit accepted) and answers it once; PQT stays
 * in the queue on a record boundary; ATS answers are page-aligned power-of-two sizes with
 * known permissions.
 */
#include "fuzz-vtd.h"

#define FZ_RAM_SIZE (256 * 1024ULL)
#define FZ_QBASE 0x8000ULL
#define FZ_ROOT 0x1000ULL
#define FZ_CTX 0x2000ULL
#define FZ_PDIR 0x3000ULL
#define FZ_PTBL 0x4000ULL
#define FZ_PRQ 0x10000ULL /* up to 128 KiB of page request queue from here */
#define FZ_MAX_OPS 256
#define FZ_DEVS 4
#define FZ_GROUPS 64

static struct fz_ram ram;
static const uint16_t dev_sid[FZ_DEVS] = { 0x0008, 0x0010, 0x0018, 0x0020 };

struct fz_dev {
	uint16_t sid;
	/* Groups the unit accepted a last-in-group request for, not yet answered. */
	struct {
		bool used, pp;
		uint32_t pasid;
		uint16_t grp;
	} out[FZ_GROUPS];
	uint64_t devtlb, responses;
};

static struct fz_dev devs[FZ_DEVS];

static void devtlb_inv(void *opaque, bool has_pasid, uint32_t pasid, bool all_pasids,
		       uint64_t addr, uint64_t size)
{
	struct fz_dev *d = opaque;

	FZ_CHECK(size >= 4096 && (size & (size - 1)) == 0 && (addr & (size - 1)) == 0);
	FZ_CHECK(pasid < (1u << 20));
	d->devtlb++;
}

static void page_resp(void *opaque, bool has_pasid, uint32_t pasid, uint16_t grpid,
		      unsigned int code)
{
	struct fz_dev *d = opaque;
	bool found = false;

	for (unsigned int i = 0; i < FZ_GROUPS && !found; i++) {
		if (d->out[i].used && d->out[i].pp == has_pasid && d->out[i].grp == grpid &&
		    (!has_pasid || d->out[i].pasid == pasid)) {
			d->out[i].used = false;
			found = true;
		}
	}
	FZ_CHECK(found);
	FZ_CHECK(code < 16);
	d->responses++;
}

static const struct dma_ats_client fz_client = { .devtlb_invalidate = devtlb_inv,
						 .page_response = page_resp };

static void track(struct fz_dev *d, const struct dma_page_req *pr)
{
	for (unsigned int i = 0; i < FZ_GROUPS; i++)
		if (d->out[i].used && d->out[i].pp == pr->has_pasid && d->out[i].grp == pr->grpid &&
		    (!pr->has_pasid || d->out[i].pasid == pr->pasid))
			return; /* the unit tracks a group once, too */
	for (unsigned int i = 0; i < FZ_GROUPS; i++) {
		if (!d->out[i].used) {
			d->out[i].used = true;
			d->out[i].pp = pr->has_pasid;
			d->out[i].pasid = pr->has_pasid ? pr->pasid : 0;
			d->out[i].grp = pr->grpid;
			return;
		}
	}
}

/* PQT (written only by the unit) stays inside the queue, on a record boundary. */
static void check_queue(struct fz_vtd *t)
{
	uint64_t qsize = 4096ULL << (fz_vtd_read(t, VTD_PQA_REG, 8) & 7);
	uint64_t tail = fz_vtd_read(t, VTD_PQT_REG, 8);

	FZ_CHECK(tail % 32 == 0 && tail < qsize);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz f = { data, size };
	struct viommu_config cfg;
	struct fz_vtd t;
	struct dma_as as;
	struct fz_q q;
	uint8_t c;
	uint64_t pqa;

	fz_ram_reset(&ram, FZ_RAM_SIZE);
	memset(devs, 0, sizeof(devs));
	FZ_CHECK(viommu_parse_options("mode=scalable,dt=on,prs=on", &cfg, NULL, 0) == 0);
	fz_vtd_create(&t, &cfg, &ram.gm);
	c = fz_u8(&f);
	viommu_dma_as(t.v, &as);
	FZ_CHECK(as.ops && as.ops->page_request && as.ops->ats_register);
	for (unsigned int i = 0; i < FZ_DEVS; i++) {
		devs[i].sid = dev_sid[i];
		FZ_CHECK(as.ops->ats_register(as.iommu, dev_sid[i], &fz_client, &devs[i]) == 0);
	}
	/* Scalable root -> context: devfn 8 P+PASIDE+PRE, 16 P+PRE, 24 P, 32 absent. */
	le64_store(ram.mem + FZ_ROOT, FZ_CTX | 1);
	le64_store(ram.mem + FZ_CTX + 32 * 8, FZ_PDIR | (1 << 4) | (1 << 3) | 1);
	le64_store(ram.mem + FZ_CTX + 32 * 16, FZ_PDIR | (1 << 4) | 1);
	le64_store(ram.mem + FZ_CTX + 32 * 24, FZ_PDIR | 1);
	le64_store(ram.mem + FZ_PDIR, FZ_PTBL | 1);
	le64_store(ram.mem + FZ_PTBL, 1 | (4ULL << 6)); /* PASID 0: pass-through */
	le64_store(ram.mem + FZ_PTBL + 8, 1);
	fz_vtd_write(&t, VTD_RTADDR_REG, FZ_ROOT | (1ULL << 10), 8);
	fz_vtd_gcmd(&t, (uint32_t)VTD_GCMD_SRTP, true);
	fz_q_enable(&t, &q, ram.mem, FZ_QBASE, c & 1);
	pqa = FZ_PRQ | ((c >> 1) & 3);
	fz_vtd_write(&t, VTD_PQA_REG, pqa, 8);
	fz_vtd_write(&t, VTD_PECTL_REG, 0, 4);
	fz_vtd_gcmd(&t, (uint32_t)VTD_GCMD_TE, true);

	for (unsigned int n = 0; n < FZ_MAX_OPS && fz_more(&f); n++) {
		switch (fz_u8(&f) % 8) {
		case 0: {
			struct fz_dev *d = &devs[fz_u8(&f) % FZ_DEVS];
			uint32_t p = fz_u32(&f);
			struct dma_page_req pr = { .sid = d->sid, .has_pasid = p >> 31,
						   .pasid = p & 0xfffff };
			uint16_t g;
			int r;

			pr.addr = fz_u64(&f) & ~4095ULL;
			pr.access = fz_u8(&f) & 0xf;
			g = fz_u16(&f);
			pr.grpid = g & 0x1ff;
			pr.last = g & 0x200;
			r = as.ops->page_request(as.iommu, &pr);
			FZ_CHECK(r == 0 || r == -ENOSPC || r == -EACCES);
			if (r == 0 && pr.last)
				track(d, &pr);
			break;
		}
		case 1: {
			uint8_t b = fz_u8(&f);

			if (b & 1)
				fz_vtd_write(&t, VTD_PQH_REG, fz_vtd_read(&t, VTD_PQT_REG, 8), 8);
			else
				fz_vtd_write(&t, VTD_PQH_REG, (uint64_t)fz_u16(&f) * 32, 8);
			break;
		}
		case 2:
			fz_vtd_write(&t, VTD_PRS_REG, fz_u8(&f), 4);
			fz_vtd_write(&t, VTD_PECTL_REG, (fz_u8(&f) & 0x80) ? VTD_ECTL_IM : 0, 4);
			break;
		case 3: {
			uint8_t idx = fz_u8(&f);
			uint64_t d0, d1, code;

			if (idx != 0xff) {
				/* Answer the record at that index of the queue, as a driver would. */
				uint64_t a = pqa & ~0xfffULL;

				a = a < FZ_RAM_SIZE - 32 * 256 ? a + 32ULL * idx : FZ_PRQ;
				d0 = le64_load(ram.mem + a);
				d1 = le64_load(ram.mem + a + 8);
				code = fz_u8(&f) & 0xf;
				d0 = 0x9 | ((d0 & (1ULL << 8)) ? 1ULL << 4 : 0) | (code << 12) |
				     (d0 & (0xffffULL << 16)) | (d0 & (0xfffffULL << 32));
				d1 &= 0x1ffULL << 3;
			} else {
				uint64_t rid = fz_u16(&f), pasid = fz_u32(&f), grp = fz_u16(&f);

				code = fz_u8(&f);
				d0 = 0x9 | ((code & 0x10) ? 1ULL << 4 : 0) | ((code & 0xf) << 12) |
				     (rid << 16) | ((pasid & 0xfffff) << 32);
				d1 = (uint64_t)(grp & 0x1ff) << 3;
			}
			fz_q_put(&q, d0, d1);
			fz_q_put(&q, 0x5 | (1ULL << 5) | (1ULL << 32), 0x7000);
			fz_q_run(&t, &q);
			break;
		}
		case 4: {
			uint64_t v = fz_u64(&f);

			if (!(v >> 63))
				v = (FZ_PRQ + (v & 0xf000)) | (v & 7);
			fz_vtd_write(&t, VTD_PQA_REG, v, 8);
			pqa = fz_vtd_read(&t, VTD_PQA_REG, 8);
			fz_vtd_write(&t, VTD_PQH_REG, 0, 8);
			fz_vtd_write(&t, VTD_PQT_REG, 0, 8);
			break;
		}
		case 5: {
			uint64_t d0 = fz_u64(&f), d1 = fz_u64(&f);

			d0 = (d0 & ~0xfULL) | ((d0 & 0x10) ? 0x8 : 0x3);
			fz_q_put(&q, d0, d1);
			fz_q_run(&t, &q);
			break;
		}
		case 6: {
			struct dma_ats_xlate x = { 0 };
			uint32_t p;
			struct dma_req req;
			uint64_t iova;
			int r;

			req.sid = devs[fz_u8(&f) % FZ_DEVS].sid;
			p = fz_u32(&f);
			req.has_pasid = p >> 31;
			req.pasid = p & 0xfffff;
			iova = fz_u64(&f);
			req.access = fz_u8(&f) & 0xf;
			r = as.ops->ats_translate(as.iommu, &req, iova, &x);
			FZ_CHECK(r == 0 || r == -EACCES);
			if (r == 0 && x.perm) {
				FZ_CHECK(x.size >= 4096 && (x.size & (x.size - 1)) == 0);
				FZ_CHECK((x.gpa & (x.size - 1)) == 0);
				FZ_CHECK((x.perm & ~0xfu) == 0);
			}
			break;
		}
		default: {
			unsigned int devfn = 8 * (1 + fz_u8(&f) % FZ_DEVS);
			uint8_t fl = fz_u8(&f);
			uint64_t e = FZ_PDIR | (fl & 1) | ((fl & 2) ? 1 << 3 : 0) |
				     ((fl & 4) ? 1 << 4 : 0) | ((fl & 8) ? 1 << 1 : 0);

			le64_store(ram.mem + FZ_CTX + 32 * devfn, e);
			if (fz_u8(&f) & 1)
				fz_vtd_gcmd(&t, (uint32_t)VTD_GCMD_TE,
					    !(fz_vtd_read(&t, VTD_GSTS_REG, 4) & VTD_GCMD_TE));
			/* Context-cache invalidation (global) so the edit takes effect. */
			fz_q_put(&q, 0x1 | (1ULL << 4), 0);
			fz_q_run(&t, &q);
			break;
		}
		}
		check_queue(&t);
	}
	viommu_destroy(t.v);
	return 0;
}
