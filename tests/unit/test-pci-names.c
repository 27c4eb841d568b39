/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alloc.h"
#include "pci-names.h"

/* The filtered copy of pci.ids must give exactly the names of the whole file. */
static void test_filtered_equals_full(void **state)
{
        (void) state;
        struct root *r = NULL;
        char *err = NULL;
        assert_int_equal(root_open("/", &r, &err), 0);
        static const uint32_t ids[] = { 0x80861901, 0x10de1b81, 0x100273bf, 0x10221483,
                                        0x144da808, 0x1a032000, 0x12345678, 0x10de10f0 };
        struct pci_names *full = pci_names_new(r, NULL, 0);
        struct pci_names *some = pci_names_new(r, ids, ELEMENTSOF(ids));
        if (!pci_names_source(full)) {
                pci_names_free(full);
                pci_names_free(some);
                root_free(r);
                skip(); /* no pci.ids on this machine */
        }
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                uint32_t v = ids[i] >> 16, d = ids[i] & 0xffff;
                const char *a = pci_names_device(full, v, d);
                _cleanup_free_ char *fa = a ? xstrdup(a) : NULL;
                const char *b = pci_names_device(some, v, d);
                if (fa) {
                        assert_non_null(b);
                        assert_string_equal(fa, b);
                } else
                        assert_null(b);
                a = pci_names_vendor(full, v);
                _cleanup_free_ char *va = a ? xstrdup(a) : NULL;
                b = pci_names_vendor(some, v);
                if (va)
                        assert_string_equal(va, b);
        }
        assert_non_null(pci_names_device(some, 0x10de, 0x1b81));
        /* a device not asked for is not there */
        assert_null(pci_names_device(some, 0x10de, 0x1b06));
        static const uint32_t classes[] = { 0x030000, 0x040300, 0x0c0330, 0x010802, 0x060400 };
        for (size_t i = 0; i < ELEMENTSOF(classes); i++) {
                _cleanup_free_ char *a = xstrdup(pci_names_class(full, classes[i]));
                assert_string_equal(a, pci_names_class(some, classes[i]));
        }
        assert_string_equal(pci_names_class(some, 0x030000), "VGA compatible controller");
        pci_names_free(full);
        pci_names_free(some);
        root_free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_filtered_equals_full),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
