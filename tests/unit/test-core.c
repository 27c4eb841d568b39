/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "alloc.h"
#include "compat.h"
#include "doctor.h"
#include "host.h"
#include "iommu.h"
#include "macos.h"
#include "strv.h"

static struct compat *compat;

static int setup(void **state)
{
        (void) state;
        const char *dir = getenv("DARWINKVM_DATA_DIR");
        char *err = NULL;
        if (!dir || compat_load(dir, &compat, &err) < 0) {
                fprintf(stderr, "cannot load data: %s\n", err ? err : "DARWINKVM_DATA_DIR unset");
                free(err);
                return -1;
        }
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        compat_free(compat);
        return 0;
}

static void test_cpuinfo(void **state)
{
        (void) state;
        const char *text = "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n"
                           "model\t\t: 158\nmodel name\t: Intel(R) Core(TM) i7-9700K CPU @ "
                           "3.60GHz\nphysical id\t: 0\ncore id\t\t: 0\ncpu cores\t: 2\n"
                           "flags\t\t: fpu vmx sse4_1 sse4_2 avx2 pni\n\n"
                           "processor\t: 1\nvendor_id\t: GenuineIntel\nphysical id\t: 0\n"
                           "core id\t\t: 1\ncpu cores\t: 2\nflags\t\t: fpu\n\n"
                           "processor\t: 2\nvendor_id\t: GenuineIntel\nphysical id\t: 0\n"
                           "core id\t\t: 0\ncpu cores\t: 2\n\n";
        struct host_cpu c = { 0 };
        host_cpu_parse(text, strlen(text), &c);
        assert_null(c.error);
        assert_int_equal(c.vendor, CPU_VENDOR_INTEL);
        assert_int_equal(c.logical, 3);
        assert_int_equal(c.cores, 2);
        assert_int_equal(c.sockets, 1);
        assert_int_equal(c.model, 158);
        assert_true(host_cpu_has(&c, "avx2"));
        assert_false(host_cpu_has(&c, "svm"));
        host_cpu_release(&c);

        struct host_cpu bad = { 0 };
        const char garbage[] = "\x01\x02\0\xff processor";
        host_cpu_parse(garbage, sizeof(garbage) - 1, &bad);
        assert_non_null(bad.error);
        host_cpu_release(&bad);

        struct host_cpu novendor = { 0 };
        host_cpu_parse("processor : 0\n", 14, &novendor);
        assert_string_equal(novendor.error, "no 'vendor_id' in /proc/cpuinfo");
        host_cpu_release(&novendor);
}

static void test_meminfo(void **state)
{
        (void) state;
        struct host_memory m = { 0 };
        host_memory_parse("MemTotal:       32768000 kB\nMemAvailable:   1000 kB\n"
                          "HugePages_Total:       4\nHugepagesize:       2048 kB\n",
                          &m);
        assert_null(m.error);
        assert_int_equal(m.total_kib, 32768000);
        assert_int_equal(m.hugepages_total, 4);
        struct host_memory bad = { 0 };
        host_memory_parse("MemTotal: 12x kB\n", &bad);
        assert_non_null(bad.error);
        free(bad.error);
}

static void test_guest_ram(void **state)
{
        (void) state;
        /* host RAM as the kernel reports it (a little under the nominal size) */
        assert_int_equal(doctor_default_guest_ram_mib(32617000), 8192);
        assert_int_equal(doctor_default_guest_ram_mib(65700000), 16384);
        assert_int_equal(doctor_default_guest_ram_mib(16300000), 4096);
        assert_int_equal(doctor_default_guest_ram_mib(8000000), 4096);
        assert_int_equal(doctor_default_guest_ram_mib(4000000), 1024);
        assert_int_equal(doctor_default_guest_ram_mib(263000000), 65536);
}

static void test_macos_versions(void **state)
{
        (void) state;
        unsigned v;
        char s[16];
        assert_int_equal(macos_version_parse("10.14.6", &v), 0);
        assert_int_equal(v, 1014);
        assert_int_equal(macos_version_parse("26", &v), 0);
        assert_string_equal(macos_version_format(v, s, sizeof(s)), "26");
        assert_int_equal(macos_version_parse("14.3", &v), 0);
        assert_string_equal(macos_version_format(v, s, sizeof(s)), "14.3");
        assert_int_equal(macos_version_parse("10.5", &v), 0);
        assert_string_equal(macos_version_format(v, s, sizeof(s)), "10.5");
        static const char *const bad[] = { "", "9", "10.16", "17", "14.", "x", "10.14.x", "1014" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(macos_version_parse(bad[i], &v), -EINVAL);
}

static void test_releases(void **state)
{
        (void) state;
        const struct macos_release *m = compat_macos_find(compat, "ventura", NULL);
        assert_non_null(m);
        assert_int_equal(m->version, 1300);
        assert_string_equal(m->mac_model, "MacPro7,1");
        m = compat_macos_find(compat, "Big Sur", NULL);
        assert_non_null(m);
        assert_string_equal(m->version_str, "11");
        m = compat_macos_find(compat, "10.14", NULL);
        assert_string_equal(m->firmware, "dudk");
        assert_string_equal(m->mac_model, "MacPro5,1");
        m = compat_macos_find(compat, "10.4", NULL);
        assert_string_equal(m->arch, "i386");
        m = compat_macos_find(compat, "10.4", "ppc");
        assert_string_equal(m->mac_model, "PowerMac3,1");
        assert_null(compat_macos_find(compat, "10.99", NULL));
        assert_null(compat_macos_find(compat, "windows", NULL));

        struct host_cpu c = { .flags = strv_split("pni sse4_1 sse4_2", " ") };
        m = compat_macos_newest_for_cpu(compat, &c);
        assert_string_equal(m->version_str, "12");
        strv_free(c.flags);
        c.flags = strv_split("pni sse4a", " ");
        m = compat_macos_newest_for_cpu(compat, &c);
        assert_string_equal(m->version_str, "10.13");
        strv_free(c.flags);
        c.flags = strv_split("pni avx2 sse4_1", " ");
        assert_string_equal(compat_macos_newest_for_cpu(compat, &c)->version_str, "26");
        strv_free(c.flags);
        c.flags = strv_split("fpu", " ");
        assert_null(compat_macos_newest_for_cpu(compat, &c));
        strv_free(c.flags);
        assert_string_equal(compat_macos_at_most(compat, 1013)->name, "High Sierra");
}

static void test_gpu_verdicts(void **state)
{
        (void) state;
        struct gpu_verdict v;
        compat_gpu_verdict(compat, 0x1002, 0x73bf, "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]",
                           &v);
        assert_int_equal(v.support, GPU_SUPPORT_SUPPORTED);
        assert_string_equal(v.family, "Navi 21");
        assert_false(v.reset_bug);
        assert_int_equal(v.last_version, 2600);
        gpu_verdict_release(&v);

        compat_gpu_verdict(compat, 0x1002, 0x731f, NULL, &v);
        assert_int_equal(v.support, GPU_SUPPORT_SUPPORTED);
        assert_string_equal(v.family, "Navi 10");
        assert_true(v.reset_bug);
        assert_true(strv_contains(v.boot_args, "agdpmod=pikera"));
        assert_true(strv_contains(v.kexts, "WhateverGreen"));
        gpu_verdict_release(&v);

        compat_gpu_verdict(compat, 0x1002, 0x67df, NULL, &v);
        assert_int_equal(v.support, GPU_SUPPORT_SUPPORTED);
        assert_true(v.reset_bug);
        assert_int_equal(strv_length(v.boot_args), 0);
        gpu_verdict_release(&v);

        compat_gpu_verdict(compat, 0x10de, 0x1b81, NULL, &v);
        assert_int_equal(v.support, GPU_SUPPORT_SUPPORTED);
        assert_string_equal(v.family, "Pascal");
        assert_int_equal(v.last_version, 1013);
        assert_false(v.reset_bug);
        gpu_verdict_release(&v);

        /* An ID the table lacks still gets the chart's page-level rule by its codename. */
        compat_gpu_verdict(compat, 0x10de, 0xffff, "AD102 [GeForce RTX 4090]", &v);
        assert_int_equal(v.support, GPU_SUPPORT_UNSUPPORTED);
        gpu_verdict_release(&v);
        compat_gpu_verdict(compat, 0x1002, 0xfffe, "Navi 31 [Radeon RX 7900 XT]", &v);
        assert_int_equal(v.support, GPU_SUPPORT_UNSUPPORTED);
        gpu_verdict_release(&v);
        compat_gpu_verdict(compat, 0x8086, 0x3e92, "CoffeeLake-S GT2 [UHD Graphics 630]", &v);
        assert_int_equal(v.support, GPU_SUPPORT_UNSUPPORTED);
        gpu_verdict_release(&v);
        compat_gpu_verdict(compat, 0x1234, 0x1111, NULL, &v);
        assert_int_equal(v.support, GPU_SUPPORT_UNKNOWN);
        gpu_verdict_release(&v);
}

/* A host with three groups built in memory. */
static void test_iommu_judge(void **state)
{
        (void) state;
        struct host_pci_device devs[] = {
                { .bdf = (char *) "0000:00:01.0",
                  .class_code = 0x060400,
                  .has_ids = true,
                  .iommu_group = 1 },
                { .bdf = (char *) "0000:01:00.0",
                  .class_code = 0x030000,
                  .has_ids = true,
                  .iommu_group = 1 },
                { .bdf = (char *) "0000:01:00.1",
                  .class_code = 0x040300,
                  .has_ids = true,
                  .iommu_group = 1 },
                { .bdf = (char *) "0000:02:00.0",
                  .class_code = 0x030000,
                  .has_ids = true,
                  .iommu_group = 2 },
                { .bdf = (char *) "0000:03:00.0",
                  .class_code = 0x0c0330,
                  .has_ids = true,
                  .iommu_group = 2 },
                { .bdf = (char *) "0000:04:00.0",
                  .class_code = 0x030000,
                  .has_ids = true,
                  .iommu_group = 3 },
                { .bdf = (char *) "0000:05:00.0",
                  .class_code = 0x020000,
                  .has_ids = true,
                  .iommu_group = 3 },
                { .bdf = (char *) "0000:06:00.0",
                  .class_code = 0x030000,
                  .has_ids = true,
                  .iommu_group = -1 },
        };
        size_t g1[] = { 0, 1, 2 }, g2[] = { 3, 4 }, g3[] = { 5, 6 };
        struct host_iommu_group groups[] = {
                { .id = 1, .devices = g1, .n_devices = 3 },
                { .id = 2, .devices = g2, .n_devices = 2 },
                { .id = 3, .devices = g3, .n_devices = 2 },
        };
        struct host h = { .pci = { .devices = devs,
                                   .n_devices = ELEMENTSOF(devs),
                                   .groups = groups,
                                   .n_groups = ELEMENTSOF(groups) } };
        char **others = NULL;
        assert_int_equal(iommu_judge(&h, &devs[1], &others), IOMMU_VIABLE_CLEAN);
        assert_int_equal(strv_length(others), 0);
        others = strv_free(others);
        assert_int_equal(iommu_judge(&h, &devs[0], &others), IOMMU_VIABLE_BRIDGE);
        others = strv_free(others);
        assert_int_equal(iommu_judge(&h, &devs[3], &others), IOMMU_VIABLE_WHOLE_GROUP);
        assert_string_equal(others[0], "0000:03:00.0");
        others = strv_free(others);
        assert_int_equal(iommu_judge(&h, &devs[5], &others), IOMMU_VIABLE_ACS_OVERRIDE);
        others = strv_free(others);
        assert_int_equal(iommu_judge(&h, &devs[7], &others), IOMMU_VIABLE_NO_GROUP);
        others = strv_free(others);
        assert_true(pci_same_slot("0000:01:00.0", "0000:01:00.7"));
        assert_true(pci_bdf_is_valid("0000:01:00.0"));
        assert_true(pci_bdf_is_valid("10000:e1:00.7"));
        assert_false(pci_bdf_is_valid("0000:01:00.8"));
        assert_false(pci_bdf_is_valid("0000:01:20.0"));
        assert_false(pci_bdf_is_valid("0000:01:00"));
        assert_false(pci_bdf_is_valid("0000:0G:00.0"));
        assert_false(pci_bdf_is_valid("000:01:00.0"));

        /* A chipset's audio cannot leave its LPC bridge; a boot GPU's audio goes with the GPU. */
        struct host_pci_device chip[] = {
                { .bdf = (char *) "0000:00:1f.0",
                  .class_code = 0x060100,
                  .has_ids = true,
                  .iommu_group = 4 },
                { .bdf = (char *) "0000:00:1f.3",
                  .class_code = 0x040300,
                  .has_ids = true,
                  .iommu_group = 4 },
                { .bdf = (char *) "0000:01:00.0",
                  .class_code = 0x030000,
                  .has_ids = true,
                  .iommu_group = 5,
                  .boot_vga = 1 },
                { .bdf = (char *) "0000:01:00.1",
                  .class_code = 0x040300,
                  .has_ids = true,
                  .iommu_group = 5 },
                { .bdf = (char *) "0000:02:00.0",
                  .class_code = 0xffffff,
                  .has_ids = false,
                  .iommu_group = 5 },
        };
        size_t c4[] = { 0, 1 }, c5[] = { 2, 3 };
        struct host_iommu_group cg[] = { { .id = 4, .devices = c4, .n_devices = 2 },
                                         { .id = 5, .devices = c5, .n_devices = 2 } };
        struct host hc = { .pci = {
                                   .devices = chip, .n_devices = 4, .groups = cg, .n_groups = 2 } };
        assert_int_equal(iommu_judge(&hc, &chip[1], &others), IOMMU_VIABLE_ACS_OVERRIDE);
        assert_string_equal(others[0], "0000:00:1f.0");
        others = strv_free(others);
        assert_int_equal(iommu_judge(&hc, &chip[3], &others), IOMMU_VIABLE_CLEAN);
        others = strv_free(others);
        assert_int_equal(iommu_judge(&hc, &chip[2], &others), IOMMU_VIABLE_CLEAN);
        others = strv_free(others);
        /* An unreadable device in the group may be one the host needs. */
        c5[1] = 4;
        assert_int_equal(iommu_judge(&hc, &chip[2], &others), IOMMU_VIABLE_ACS_OVERRIDE);
        others = strv_free(others);
        assert_int_equal(iommu_judge(&hc, &chip[4], &others), IOMMU_VIABLE_UNKNOWN);
        others = strv_free(others);
        assert_false(pci_same_slot("0000:01:00.0", "0000:01:01.0"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cpuinfo),     cmocka_unit_test(test_meminfo),
                cmocka_unit_test(test_guest_ram),   cmocka_unit_test(test_macos_versions),
                cmocka_unit_test(test_releases),    cmocka_unit_test(test_gpu_verdicts),
                cmocka_unit_test(test_iommu_judge),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
