/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alloc.h"
#include "bootcheck.h"
#include "ppc.h"
#include "process.h"
#include "strv.h"

static struct ppc_table *load(void)
{
        struct ppc_table *t = NULL;
        char *err = NULL;
        const char *dir = getenv("DARWINKVM_DATA_DIR");
        assert_non_null(dir);
        int r = ppc_table_load(dir, &t, &err);
        if (r < 0)
                fail_msg("%s", err);
        return t;
}

static void test_find(void **state)
{
        (void) state;
        _cleanup_(ppc_table_freep) struct ppc_table *t = load();
        assert_int_equal(t->n, 7);
        assert_string_equal(ppc_find(t, "10.4")->name, "Tiger");
        assert_string_equal(ppc_find(t, "10.4.8")->name, "Tiger");
        assert_string_equal(ppc_find(t, "snowleopard")->version, "10.6");
        assert_string_equal(ppc_find(t, "Snow Leopard")->version, "10.6");
        assert_null(ppc_find(t, "10.40"));
        assert_null(ppc_find(t, "10.7"));
        assert_null(ppc_find(t, "sonoma"));
        assert_int_equal(strv_length(ppc_find(t, "panther")->media_urls), 3);
        assert_int_equal(strv_length(ppc_find(t, "10.6")->media_urls), 0);
        assert_true(ppc_find(t, "leopard")->usb_input);
        assert_true(ppc_find(t, "tiger")->pci_testdev);
}

static void test_argv(void **state)
{
        (void) state;
        _cleanup_(ppc_table_freep) struct ppc_table *t = load();
        char *media[] = { (char *) "/m/disc1.iso", (char *) "/m/disc2.iso", NULL };
        struct ppc_guest g = {
                .name = "jaguar",
                .release = ppc_find(t, "10.2"),
                .disk = "/vm/Macintosh.img",
                .media = media,
                .uuid = "0D3C1E5A-7B2E-4F7A-9C1D-2B3A4C5D6E7F",
                .mac = "52:54:00:12:34:56",
        };
        _cleanup_strv_free_ char **argv = ppc_qemu_argv(&g);
        _cleanup_free_ char *s = strv_join(argv, " ");
        assert_string_equal(
                s, "qemu-system-ppc -name guest=jaguar -machine mac99,usb=off -accel tcg -m 2048 "
                   "-smp 1,sockets=1,cores=1,threads=1 -uuid 0D3C1E5A-7B2E-4F7A-9C1D-2B3A4C5D6E7F "
                   "-no-user-config -nodefaults -rtc base=utc -device "
                   "ide-hd,bus=ide.0,drive=Macintosh -drive "
                   "if=none,format=raw,media=disk,id=Macintosh,file=/vm/Macintosh.img,"
                   "discard=unmap,detect-zeroes=unmap -device ide-cd,bus=ide.0,drive=Installer0 "
                   "-drive if=none,format=raw,media=cdrom,readonly=on,id=Installer0,file=/m/"
                   "disc1.iso -device ide-cd,bus=ide.1,drive=Installer1 -drive "
                   "if=none,format=raw,media=cdrom,readonly=on,id=Installer1,file=/m/disc2.iso "
                   "-device sungem,mac=52:54:00:12:34:56,netdev=net0 -netdev user,id=net0 -device "
                   "VGA,edid=on -device pci-testdev -prom-env boot-args=-v -prom-env "
                   "vga-ndrv?=true -prom-env auto-boot?=true -g 1280x720x32 -boot "
                   "order=d,menu=on,strict=on");
}

/* The argv really starts a PowerPC machine: OpenBIOS prints its banner on the serial port. */
static void test_openbios_banner(void **state)
{
        (void) state;
        if (!process_find_program("qemu-system-ppc", NULL))
                skip();
        _cleanup_(ppc_table_freep) struct ppc_table *t = load();
        char dir[] = "/tmp/dkvm-ppc-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *disk = xasprintf("%s/Macintosh.img", dir);
        _cleanup_free_ char *log = xasprintf("%s/serial.log", dir);
        FILE *f = fopen(disk, "w");
        assert_non_null(f);
        assert_int_equal(ftruncate(fileno(f), 16 << 20), 0);
        fclose(f);
        struct ppc_guest g = {
                .name = "tiger",
                .release = ppc_find(t, "10.4"),
                .disk = disk,
                .uuid = "0D3C1E5A-7B2E-4F7A-9C1D-2B3A4C5D6E7F",
                .mac = "52:54:00:12:34:56",
                .serial_log = log,
                .headless = true,
        };
        _cleanup_strv_free_ char **argv = ppc_qemu_argv(&g);
        static const struct boot_stage stages[] = {
                { "openbios", "OpenBIOS started", "OpenBIOS" },
                { "memory", "OpenBIOS saw the guest's memory", "Memory: 2048M" },
        };
        struct boot_report rep;
        char *err = NULL;
        assert_int_equal(bootcheck_run_qemu(argv, log, NULL, stages, 2, 60000, NULL, &rep, &err),
                         0);
        if (!rep.reached[1])
                fail_msg("no OpenBIOS banner; serial: %s", rep.tail);
        boot_report_release(&rep);
        unlink(disk);
        unlink(log);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_find),
                cmocka_unit_test(test_argv),
                cmocka_unit_test(test_openbios_banner),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
