/* SPDX-License-Identifier: MIT */
/* Unit tests for the board device tree: schema of docs/board.md, slot policy, dtc acceptance. */
#include <check.h>
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check-run.h"
#include "vmm/board.h"
#include "vmm/machine.h"

static void make_machine(struct machine *m, struct machine_config *cfg, uint64_t ram)
{
	memset(m, 0, sizeof(*m));
	m->cfg = cfg;
	ck_assert_int_eq(gmem_init_ram(&m->gmem, ram, BOARD_LOW_RAM_LIMIT, false), 0);
}

static void add_dev(struct machine_config *cfg, const char *model, int slot)
{
	struct device_spec *d = &cfg->devices[cfg->nr_devices++];

	snprintf(d->model, sizeof(d->model), "%s", model);
	d->slot = slot;
}

static uint32_t prop_u32(const void *fdt, const char *path, const char *name, int idx)
{
	int node = fdt_path_offset(fdt, path), len;
	const fdt32_t *p;

	ck_assert_msg(node >= 0, "node %s missing", path);
	p = fdt_getprop(fdt, node, name, &len);
	ck_assert_msg(p && len >= 4 * (idx + 1), "%s:%s missing", path, name);
	return fdt32_to_cpu(p[idx]);
}

START_TEST(test_fdt_schema)
{
	struct machine_config cfg = { .nr_cpus = 4, .cmdline = "console=ttyS0" };
	struct machine m;
	char err[128];
	int node, n = 0;

	add_dev(&cfg, "edu", -1);
	add_dev(&cfg, "edu", 7);
	add_dev(&cfg, "edu", -1);
	make_machine(&m, &cfg, 3ULL << 30);
	ck_assert_int_eq(board_assign_slots(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.devices[0].slot, 3);
	ck_assert_int_eq(cfg.devices[1].slot, 7);
	ck_assert_int_eq(cfg.devices[2].slot, 4);
	ck_assert_int_eq(board_build_fdt(&m, err, sizeof(err)), 0);
	ck_assert_int_eq(fdt_check_header(m.fdt), 0);

	ck_assert_str_eq(fdt_getprop(m.fdt, 0, "compatible", NULL), "nestvm,pc");
	ck_assert_str_eq(fdt_getprop(m.fdt, fdt_path_offset(m.fdt, "/chosen"), "bootargs", NULL),
			 "console=ttyS0");
	/* Two RAM regions: 2 GiB low, 1 GiB at 4 GiB. */
	ck_assert_uint_eq(prop_u32(m.fdt, "/memory@0", "reg", 3), 0x80000000u);
	ck_assert_uint_eq(prop_u32(m.fdt, "/memory@0", "reg", 4), 1);
	ck_assert_uint_eq(prop_u32(m.fdt, "/memory@0", "reg", 7), 0x40000000u);
	fdt_for_each_subnode(node, m.fdt, fdt_path_offset(m.fdt, "/cpus")) n++;
	ck_assert_int_eq(n, 4);
	ck_assert_uint_eq(prop_u32(m.fdt, "/cpus/cpu@3", "reg", 0), 3);
	ck_assert_uint_eq(prop_u32(m.fdt, "/interrupt-controller@fec00000", "nestvm,nr-pins", 0), 24);
	ck_assert_uint_eq(prop_u32(m.fdt, "/pci@b0000000", "reg", 1), 0xb0000000u);
	/* INTx routing: slot 3 INTA -> 16 + (3 + 0) % 8 = 19; slot 7 -> 23; slot 4 -> 20. */
	ck_assert_uint_eq(prop_u32(m.fdt, "/pci@b0000000/edu@3,0", "nestvm,gsi", 0), 19);
	ck_assert_uint_eq(prop_u32(m.fdt, "/pci@b0000000/edu@7,0", "nestvm,gsi", 0), 23);
	ck_assert_uint_eq(prop_u32(m.fdt, "/pci@b0000000/edu@4,0", "reg", 0), 4u << 11);
	ck_assert_str_eq(fdt_getprop(m.fdt, fdt_path_offset(m.fdt, "/pci@b0000000/edu@4,0"),
				     "compatible", NULL), "pci1234,11e8");
	ck_assert_uint_eq(prop_u32(m.fdt, "/isa/serial@3f8", "interrupts", 0), 4);
	ck_assert_uint_eq(prop_u32(m.fdt, "/isa/debug-exit@f4", "reg", 0), 0xf4);
	/* The CMOS RTC: Linux reads the wall clock from it and the FADT says it is there. */
	ck_assert_uint_eq(prop_u32(m.fdt, "/isa/rtc@70", "reg", 0), 0x70);
	ck_assert_uint_eq(prop_u32(m.fdt, "/isa/rtc@70", "interrupts", 0), 8);
	ck_assert_int_eq(fdt_node_check_compatible(m.fdt, fdt_path_offset(m.fdt, "/isa/rtc@70"),
						   "motorola,mc146818"), 0);
	ck_assert_int_lt(fdt_path_offset(m.fdt, "/iommu@fed90000"), 0);
	free(m.fdt);
	gmem_destroy(&m.gmem);
}
END_TEST

START_TEST(test_viommu_node)
{
	struct machine_config cfg = { .nr_cpus = 1 };
	struct machine m;
	char err[128];
	int node;

	make_machine(&m, &cfg, 64ULL << 20);
	m.vtd = (struct board_vtd){ .present = true, .mode = "scalable", .haw = 48 };
	ck_assert_int_eq(board_build_fdt(&m, err, sizeof(err)), 0);
	node = fdt_path_offset(m.fdt, "/iommu@fed90000");
	ck_assert_int_ge(node, 0);
	ck_assert_str_eq(fdt_getprop(m.fdt, node, "nestvm,mode", NULL), "scalable");
	ck_assert_uint_eq(prop_u32(m.fdt, "/iommu@fed90000", "nestvm,haw", 0), 48);
	ck_assert_ptr_nonnull(fdt_getprop(m.fdt, node, "nestvm,include-pci-all", NULL));
	free(m.fdt);
	gmem_destroy(&m.gmem);
}
END_TEST

START_TEST(test_slot_errors)
{
	struct machine_config cfg = { .nr_cpus = 1 };
	char err[128];

	add_dev(&cfg, "edu", 5);
	add_dev(&cfg, "edu", 5);
	ck_assert_int_eq(board_assign_slots(&cfg, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "slot 5"));
	cfg.nr_devices = 0;
	add_dev(&cfg, "edu", 31); /* reserved: the IOAPIC's source-id */
	ck_assert_int_eq(board_assign_slots(&cfg, err, sizeof(err)), -EINVAL);
	cfg.nr_devices = 0;
	for (int i = 0; i < 16; i++)
		add_dev(&cfg, "edu", -1);
	ck_assert_int_eq(board_assign_slots(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.devices[15].slot, 18);
}
END_TEST

START_TEST(test_testdevs)
{
	struct machine_config cfg = { .nr_cpus = 1 };
	struct machine m;
	char err[128];
	int node;

	/* Off unless asked for. */
	make_machine(&m, &cfg, 64ULL << 20);
	ck_assert_int_eq(board_build_fdt(&m, err, sizeof(err)), 0);
	ck_assert_int_lt(fdt_path_offset(m.fdt, "/isa/testdev@e0"), 0);
	free(m.fdt);
	add_dev(&cfg, "pc-testdev", -1);
	add_dev(&cfg, "pci-testdev", -1);
	ck_assert_int_eq(board_assign_slots(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.devices[1].slot, 3);
	ck_assert_int_eq(board_build_fdt(&m, err, sizeof(err)), 0);
	node = fdt_path_offset(m.fdt, "/isa/testdev@e0");
	ck_assert_int_ge(node, 0);
	ck_assert_int_eq(fdt_node_check_compatible(m.fdt, node, "qemu,pc-testdev"), 0);
	ck_assert_uint_eq(prop_u32(m.fdt, "/isa/testdev@e0", "reg", 1), 12);
	ck_assert_str_eq(fdt_getprop(m.fdt, fdt_path_offset(m.fdt, "/pci@b0000000/pci-testdev@3,0"),
				     "compatible", NULL), "pci1b36,0005");
	ck_assert_ptr_null(fdt_getprop(m.fdt, fdt_path_offset(m.fdt, "/pci@b0000000/pci-testdev@3,0"),
				       "nestvm,gsi", NULL));
	free(m.fdt);
	gmem_destroy(&m.gmem);
	/* Usage errors: options (checked by the command line through the model), a second pc-testdev. */
	ck_assert_int_eq(board_find_model("pc-testdev")->check("foo=1", err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "takes no options"));
	ck_assert_int_eq(board_find_model("pci-testdev")->check("", err, sizeof(err)), 0);
	add_dev(&cfg, "pc-testdev", -1);
	ck_assert_int_eq(board_assign_slots(&cfg, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "only one"));
}
END_TEST

/* A virtio-console is a PCI function (1af4:1043); a second one would share stdin and stdout. */
START_TEST(test_virtio_console)
{
	struct machine_config cfg = { .nr_cpus = 1 };
	char err[128];

	add_dev(&cfg, "virtio-console", -1);
	ck_assert_int_eq(board_assign_slots(&cfg, err, sizeof(err)), 0);
	ck_assert_int_eq(cfg.devices[0].slot, 3);
	ck_assert(board_has_model(&cfg, "virtio-console"));
	ck_assert_uint_eq(board_find_model("virtio-console")->device, 0x1043);
	add_dev(&cfg, "virtio-console", -1);
	ck_assert_int_eq(board_assign_slots(&cfg, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "only one -device virtio-console"));
}
END_TEST

/* The DTB must be accepted by dtc, which a user would use to inspect --dump-dtb output. */
START_TEST(test_dtc_accepts)
{
	struct machine_config cfg = { .nr_cpus = 2 };
	struct machine m;
	char err[128], path[] = "/tmp/nestvm-test-XXXXXX", cmd[512];
	const char *dtc = getenv("DTC");
	int fd;

	ck_assert_msg(dtc && *dtc, "dtc not found (install device-tree-compiler)");
	add_dev(&cfg, "edu", -1);
	make_machine(&m, &cfg, 128ULL << 20);
	ck_assert_int_eq(board_assign_slots(&cfg, err, sizeof(err)), 0);
	m.vtd = (struct board_vtd){ .present = true, .mode = "legacy", .haw = 39 };
	ck_assert_int_eq(board_build_fdt(&m, err, sizeof(err)), 0);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, m.fdt, fdt_totalsize(m.fdt)), (ssize_t)fdt_totalsize(m.fdt));
	close(fd);
	snprintf(cmd, sizeof(cmd), "%s -q -I dtb -O dts -o /dev/null %s", dtc, path);
	ck_assert_int_eq(system(cmd), 0);
	unlink(path);
	free(m.fdt);
	gmem_destroy(&m.gmem);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("board");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fdt_schema);
	tcase_add_test(tc, test_viommu_node);
	tcase_add_test(tc, test_slot_errors);
	tcase_add_test(tc, test_virtio_console);
	tcase_add_test(tc, test_testdevs);
	tcase_add_test(tc, test_dtc_accepts);
	suite_add_tcase(s, tc);
	return check_run_suite(s);
}
