/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alloc.h"
#include "bootcheck.h"
#include "buf.h"
#include "macro.h"

static char *run_script(const char *script, uint64_t timeout_ms, struct boot_report *rep)
{
        char dir[] = "/tmp/dkvm-boot-XXXXXX";
        assert_non_null(mkdtemp(dir));
        char *log = xasprintf("%s/serial.log", dir);
        /* The script names the log file as LOG. */
        _cleanup_buf_ struct buf body = {};
        for (const char *p = script; *p; p++) {
                if (startswith(p, "LOG")) {
                        buf_puts(&body, log);
                        p += 2;
                } else
                        buf_putc(&body, *p);
        }
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) buf_str(&body), NULL };
        char *err = NULL;
        assert_int_equal(bootcheck_run_qemu(argv, log, NULL, boot_stages_opencore,
                                            boot_stages_opencore_n, timeout_ms, NULL, rep, &err),
                         0);
        return log;
}

static void cleanup(char *log)
{
        unlink(log);
        *strrchr(log, '/') = 0;
        rmdir(log);
        free(log);
}

static void test_all_stages(void **state)
{
        (void) state;
        struct boot_report rep;
        char *log = run_script("printf '\\033[2J\\033[01;01HBdsDxe: loading Boot0001\\r\\n' >> LOG;"
                               "sleep 0.1; echo 'OC: Starting OpenCore...' >> LOG;"
                               "echo 'OCB: Showing menu... ' >> LOG; sleep 30",
                               20000, &rep);
        assert_true(rep.reached[0] && rep.reached[1] && rep.reached[2]);
        assert_false(rep.guest_exited);
        assert_true(rep.at_ms[0] <= rep.at_ms[1]);
        /* The guest was stopped at once, not after its 30 s. */
        assert_true(rep.elapsed_ms < 10000);
        assert_string_equal(rep.tail, "BdsDxe: loading Boot0001\nOC: Starting OpenCore...\n"
                                      "OCB: Showing menu... ");
        boot_report_release(&rep);
        cleanup(log);
}

static void test_stops_short(void **state)
{
        (void) state;
        struct boot_report rep;
        /* The picker line before OpenCore's start does not count: stages come in order. */
        char *log = run_script("echo 'OCB: Showing menu' >> LOG; echo 'BdsDxe: starting Boot0002' "
                               ">> LOG; exit 3",
                               20000, &rep);
        assert_true(rep.reached[0]);
        assert_false(rep.reached[1]);
        assert_false(rep.reached[2]);
        assert_true(rep.guest_exited);
        assert_int_equal(rep.exit_status, 3);
        boot_report_release(&rep);
        cleanup(log);
}

static void test_timeout(void **state)
{
        (void) state;
        struct boot_report rep;
        char *log = run_script("echo 'nothing useful' >> LOG; sleep 30", 300, &rep);
        assert_false(rep.reached[0]);
        assert_false(rep.guest_exited);
        assert_true(rep.elapsed_ms >= 300 && rep.elapsed_ms < 5000);
        assert_string_equal(rep.tail, "nothing useful");
        boot_report_release(&rep);
        cleanup(log);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_all_stages),
                cmocka_unit_test(test_stops_short),
                cmocka_unit_test(test_timeout),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
