// SPDX-License-Identifier: GPL-2.0-only OR MIT
/*
 * pdma-sva: a Linux driver for nestvm's pasid-dma test device (docs/pasid-dma.md) that uses
 * the kernel's SVA API. Probe enables the IOPF and SVA features; every open() binds the
 * caller's mm to a PASID; PDMA_SVA_IOC_RUN puts one descriptor carrying the caller's virtual
 * addresses, tagged with that PASID, on the device's ring and polls for its completion;
 * release() unbinds. Written for Linux 6.1 (iommu_sva_bind_device with drvdata).
 *
 * One descriptor at a time (a mutex): the device runs a doorbell synchronously unless it waits
 * for a page group response, so polling COMPLETED with short sleeps is enough.
 */
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/ktime.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "pdma-sva-uapi.h"

#define PDMA_VENDOR 0x1234
#define PDMA_DEVICE 0x5a5d

/* BAR0 registers */
#define R_ID 0x00
#define R_CTRL 0x08
#define R_STATUS 0x0c
#define R_RING_LO 0x10
#define R_RING_HI 0x14
#define R_RING_SIZE 0x18
#define R_HEAD 0x1c
#define R_TAIL 0x20
#define R_COMPLETED 0x24
#define R_DTLB_HITS 0x28
#define R_HOST_BACKEND 0x40
#define R_HOST_BINDS 0x44
#define CTRL_ENABLE 0x1u
#define CTRL_RESET 0x80000000u
#define ID_VALUE 0x5a5d0001u

#define D0_PASID_EN (1ULL << 8)
#define DESC_WORDS 8
#define RING_N 16
#define MAX_LEN (1024u * 1024u)
#define CR_SIZE 32
#define ST_FAULT 0x10
#define POLL_TIMEOUT_MS 20000
#define RETRY_SLEEP_US 500 /* before a resubmission: 0.5-1 ms */

struct pdma {
	struct pci_dev *pdev;
	void __iomem *regs;
	u64 *ring;
	dma_addr_t ring_dma;
	unsigned int tail;
	bool sva;
	struct mutex lock; /* the ring */
	struct miscdevice misc;
};

struct pdma_file {
	struct pdma *p;
	struct iommu_sva *handle;
	bool direct; /* bound with bind_direct */
	u32 pasid;
};

static struct pdma *the_dev;
static DEFINE_MUTEX(the_dev_lock);

/*
 * Debian's 6.1 stable kernels refuse iommu_sva_bind_device() on x86 with -EOPNOTSUPP (a
 * stable backport that turns SVA off until freed kernel page tables are flushed from IOMMU
 * caches). With direct_bind=1 the driver asks the IOMMU driver's own SVA operations instead,
 * for a test VM whose only SVA device is this one. Off by default: opening then fails as the
 * kernel decides. Can be changed at run time (/sys/module/pdma_sva/parameters/direct_bind).
 */
static bool direct_bind;
module_param(direct_bind, bool, 0644);
MODULE_PARM_DESC(direct_bind, "bind through the IOMMU driver's sva_bind (test VMs; see source)");

static int count_dev(struct device *dev, void *data)
{
	(*(int *)data)++;
	return 0;
}

/* The IOMMU driver's bind for dev, alone in its group as the core would insist. */
static struct iommu_sva *bind_direct(struct device *dev, struct mm_struct *mm)
{
	const struct iommu_ops *ops;
	struct iommu_group *group;
	int n = 0;

	if (!dev->iommu || !dev->iommu->iommu_dev)
		return ERR_PTR(-ENODEV);
	ops = dev_iommu_ops(dev);
	if (!ops->sva_bind || !ops->sva_unbind || !ops->sva_get_pasid)
		return ERR_PTR(-ENODEV);
	group = iommu_group_get(dev);
	if (!group)
		return ERR_PTR(-ENODEV);
	iommu_group_for_each_dev(group, &n, count_dev);
	iommu_group_put(group);
	if (n != 1)
		return ERR_PTR(-EINVAL);
	return ops->sva_bind(dev, mm, NULL);
}

static void ring_start(struct pdma *p)
{
	writel(CTRL_RESET, p->regs + R_CTRL);
	writel(lower_32_bits(p->ring_dma), p->regs + R_RING_LO);
	writel(upper_32_bits(p->ring_dma), p->regs + R_RING_HI);
	writel(RING_N, p->regs + R_RING_SIZE);
	p->tail = 0;
	writel(CTRL_ENABLE, p->regs + R_CTRL);
}

static void unbind(struct pdma_file *pf)
{
	if (pf->direct)
		dev_iommu_ops(&pf->p->pdev->dev)->sva_unbind(pf->handle);
	else
		iommu_sva_unbind_device(pf->handle);
}

static int pdma_open(struct inode *inode, struct file *f)
{
	struct pdma_file *pf;
	struct pdma *p;
	int ret = 0;

	mutex_lock(&the_dev_lock);
	p = the_dev;
	if (!p || !p->sva)
		ret = -ENODEV;
	mutex_unlock(&the_dev_lock);
	if (ret)
		return ret;
	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	pf->p = p;
	pf->direct = READ_ONCE(direct_bind);
	if (pf->direct)
		pf->handle = bind_direct(&p->pdev->dev, current->mm);
	else
		pf->handle = iommu_sva_bind_device(&p->pdev->dev, current->mm, NULL);
	if (IS_ERR_OR_NULL(pf->handle)) {
		ret = pf->handle ? PTR_ERR(pf->handle) : -ENODEV;
		dev_err(&p->pdev->dev, "pdma-sva: binding pid %d failed%s: %d\n", current->pid,
			pf->direct ? " (direct)" : "", ret);
		kfree(pf);
		return ret;
	}
	pf->pasid = pf->direct ? dev_iommu_ops(&p->pdev->dev)->sva_get_pasid(pf->handle)
			       : iommu_sva_get_pasid(pf->handle);
	if (pf->pasid == IOMMU_PASID_INVALID) {
		unbind(pf);
		kfree(pf);
		return -ENODEV;
	}
	dev_info(&p->pdev->dev, "pdma-sva: pid %d bound%s, pasid %u\n", current->pid,
		 pf->direct ? " (direct)" : "", pf->pasid);
	f->private_data = pf;
	return 0;
}

static int pdma_release(struct inode *inode, struct file *f)
{
	struct pdma_file *pf = f->private_data;

	dev_info(&pf->p->pdev->dev, "pdma-sva: pasid %u unbound\n", pf->pasid);
	unbind(pf);
	kfree(pf);
	return 0;
}

/* Submits one descriptor and waits for COMPLETED to move: 0 or -ETIMEDOUT. Lock held. */
static int submit_wait(struct pdma *p, const u64 *desc)
{
	u64 *slot = &p->ring[(size_t)p->tail * DESC_WORDS];
	unsigned long deadline = jiffies + msecs_to_jiffies(POLL_TIMEOUT_MS);
	u32 done, spins = 0;
	unsigned int i;

	for (i = 0; i < DESC_WORDS; i++)
		slot[i] = cpu_to_le64(desc[i]);
	done = readl(p->regs + R_COMPLETED);
	p->tail = (p->tail + 1) % RING_N;
	wmb();
	writel(p->tail, p->regs + R_TAIL);
	while (readl(p->regs + R_COMPLETED) == done) {
		if (time_after(jiffies, deadline)) {
			dev_err(&p->pdev->dev, "pdma-sva: descriptor timed out (status 0x%x head %u)\n",
				readl(p->regs + R_STATUS), readl(p->regs + R_HEAD));
			ring_start(p);
			return -ETIMEDOUT;
		}
		if (++spins < 16)
			cpu_relax();
		else
			usleep_range(100, 500);
	}
	return 0;
}

static long do_run(struct pdma_file *pf, struct pdma_sva_run __user *uarg)
{
	struct pdma *p = pf->p;
	struct pdma_sva_run r;
	u8 rec[CR_SIZE];
	u64 desc[DESC_WORDS];
	ktime_t t0;
	int ret = 0;

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	if (r.op < PDMA_SVA_OP_COPY || r.op > PDMA_SVA_OP_CHECKSUM || r.len > MAX_LEN || !r.cr ||
	    (r.cr & 7) || (r.flags & ~PDMA_SVA_F_RAW_PASID) || r.retries > 1000)
		return -EINVAL;
	if ((r.flags & PDMA_SVA_F_RAW_PASID) && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!(r.flags & PDMA_SVA_F_RAW_PASID))
		r.pasid = pf->pasid;
	if (r.pasid >= (1u << 20))
		return -EINVAL;
	memset(desc, 0, sizeof(desc));
	desc[0] = r.op | D0_PASID_EN | ((u64)r.pasid << 32);
	desc[1] = r.src;
	desc[2] = r.dst;
	desc[3] = r.len;
	desc[4] = r.pattern;
	desc[5] = r.cr;
	r.attempts = 0;
	mutex_lock(&p->lock);
	t0 = ktime_get();
	for (;;) {
		/* The record is the caller's memory: clear its status as the device's contract asks. */
		if (put_user((u8)0, (u8 __user *)(uintptr_t)r.cr)) {
			ret = -EFAULT;
			break;
		}
		r.attempts++;
		ret = submit_wait(p, desc);
		if (ret)
			break;
		if (copy_from_user(rec, (void __user *)(uintptr_t)r.cr, sizeof(rec))) {
			ret = -EFAULT;
			break;
		}
		r.status = rec[0];
		/*
		 * A translation fault after the IOMMU raised a page request on the device's
		 * behalf (host-reported page requests): resubmit once the kernel had time to answer.
		 */
		if (r.status != ST_FAULT || r.attempts > r.retries)
			break;
		usleep_range(RETRY_SLEEP_US, 2 * RETRY_SLEEP_US);
	}
	r.ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
	mutex_unlock(&p->lock);
	if (ret)
		return ret;
	memcpy(&r.result, rec + 8, 8);
	memcpy(&r.info, rec + 16, 8);
	return copy_to_user(uarg, &r, sizeof(r)) ? -EFAULT : 0;
}

static long do_info(struct pdma_file *pf, struct pdma_sva_info __user *uarg)
{
	struct pdma *p = pf->p;
	struct pdma_sva_info in;
	u32 *host = &in.host_binds;
	unsigned int i;

	memset(&in, 0, sizeof(in));
	in.pasid = pf->pasid;
	in.host_backend = readl(p->regs + R_HOST_BACKEND);
	in.completed = readl(p->regs + R_COMPLETED);
	in.dtlb_hits = readl(p->regs + R_DTLB_HITS);
	in.dtlb_misses = readl(p->regs + R_DTLB_HITS + 4);
	in.page_reqs = readl(p->regs + R_DTLB_HITS + 8);
	in.dtlb_invs = readl(p->regs + R_DTLB_HITS + 12);
	for (i = 0; i < 10; i++)
		host[i] = readl(p->regs + R_HOST_BINDS + 4 * i);
	return copy_to_user(uarg, &in, sizeof(in)) ? -EFAULT : 0;
}

static long pdma_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct pdma_file *pf = f->private_data;

	switch (cmd) {
	case PDMA_SVA_IOC_RUN:
		return do_run(pf, (struct pdma_sva_run __user *)arg);
	case PDMA_SVA_IOC_INFO:
		return do_info(pf, (struct pdma_sva_info __user *)arg);
	}
	return -ENOTTY;
}

static const struct file_operations pdma_fops = {
	.owner = THIS_MODULE,
	.open = pdma_open,
	.release = pdma_release,
	.unlocked_ioctl = pdma_ioctl,
};

static int pdma_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct pdma *p;
	int ret;

	p = devm_kzalloc(&pdev->dev, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	p->pdev = pdev;
	mutex_init(&p->lock);
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), "pdma-sva");
	if (ret)
		return ret;
	p->regs = pcim_iomap_table(pdev)[0];
	if (readl(p->regs + R_ID) != ID_VALUE) {
		dev_err(&pdev->dev, "pdma-sva: unexpected ID 0x%x\n", readl(p->regs + R_ID));
		return -ENODEV;
	}
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	pci_set_master(pdev);
	p->ring = dmam_alloc_coherent(&pdev->dev, RING_N * DESC_WORDS * 8, &p->ring_dma, GFP_KERNEL);
	if (!p->ring)
		return -ENOMEM;
	ret = iommu_dev_enable_feature(&pdev->dev, IOMMU_DEV_FEAT_IOPF);
	if (ret) {
		dev_err(&pdev->dev, "pdma-sva: enabling IOPF failed: %d\n", ret);
	} else {
		ret = iommu_dev_enable_feature(&pdev->dev, IOMMU_DEV_FEAT_SVA);
		if (ret) {
			dev_err(&pdev->dev, "pdma-sva: enabling SVA failed: %d\n", ret);
			iommu_dev_disable_feature(&pdev->dev, IOMMU_DEV_FEAT_IOPF);
		}
	}
	p->sva = !ret;
	ring_start(p);
	p->misc.minor = MISC_DYNAMIC_MINOR;
	p->misc.name = "pdma-sva";
	p->misc.fops = &pdma_fops;
	p->misc.mode = 0666;
	mutex_lock(&the_dev_lock);
	if (the_dev) {
		mutex_unlock(&the_dev_lock);
		ret = -EBUSY;
		goto err_feat;
	}
	ret = misc_register(&p->misc);
	if (!ret)
		the_dev = p;
	mutex_unlock(&the_dev_lock);
	if (ret)
		goto err_feat;
	pci_set_drvdata(pdev, p);
	dev_info(&pdev->dev, "pdma-sva: ready, SVA %s, ring at iova 0x%llx\n",
		 p->sva ? "enabled" : "unavailable", (unsigned long long)p->ring_dma);
	return 0;

err_feat:
	if (p->sva) {
		iommu_dev_disable_feature(&pdev->dev, IOMMU_DEV_FEAT_SVA);
		iommu_dev_disable_feature(&pdev->dev, IOMMU_DEV_FEAT_IOPF);
	}
	writel(CTRL_RESET, p->regs + R_CTRL);
	return ret;
}

static void pdma_remove(struct pci_dev *pdev)
{
	struct pdma *p = pci_get_drvdata(pdev);

	mutex_lock(&the_dev_lock);
	misc_deregister(&p->misc);
	the_dev = NULL;
	mutex_unlock(&the_dev_lock);
	writel(CTRL_RESET, p->regs + R_CTRL);
	if (p->sva) {
		iommu_dev_disable_feature(&pdev->dev, IOMMU_DEV_FEAT_SVA);
		iommu_dev_disable_feature(&pdev->dev, IOMMU_DEV_FEAT_IOPF);
	}
}

static const struct pci_device_id pdma_ids[] = {
	{ PCI_DEVICE(PDMA_VENDOR, PDMA_DEVICE) },
	{ 0 }
};
MODULE_DEVICE_TABLE(pci, pdma_ids);

static struct pci_driver pdma_driver = {
	.name = "pdma-sva",
	.id_table = pdma_ids,
	.probe = pdma_probe,
	.remove = pdma_remove,
};
module_pci_driver(pdma_driver);

MODULE_DESCRIPTION("SVA driver for nestvm's pasid-dma test device");
MODULE_LICENSE("Dual MIT/GPL");
