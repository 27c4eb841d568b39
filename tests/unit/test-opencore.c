/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "opencore.h"
#include "smbios.h"

static struct smbios_db *db;
static struct oc_schema *schema;

static int setup(void **state)
{
        (void) state;
        const char *dir = getenv("DARWINKVM_DATA_DIR");
        char *err = NULL, *version = NULL;
        if (!dir || smbios_db_load(dir, &db, &err) < 0 ||
            oc_pinned_version(dir, &version, &err) < 0 ||
            oc_schema_load(dir, version, &schema, &err) < 0) {
                fprintf(stderr, "cannot load data: %s\n", err ? err : "DARWINKVM_DATA_DIR unset");
                free(err);
                free(version);
                return -1;
        }
        free(version);
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        smbios_db_free(db);
        oc_schema_free(schema);
        return 0;
}

static void test_serial_decode_known(void **state)
{
        (void) state;

        /* formats.md 4.7: what macserial -i prints. */
        static const struct {
                const char *serial, *model;
                unsigned year, week, line, copy;
        } cases[] = {
                { "C02VV5RFHX87", "iMacPro1,1", 2017, 50, 1205, 5 },
                { "F5KZN00HP7QM", "MacPro7,1", 2019, 45, 17, 1 },
                { "C02D201H046M", "iMac20,2", 2020, 28, 51, 1 },
                { "W8712AKSWGP", "MacBook2,1", 2007, 12, 1352, 8 },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct smbios_serial_info info;
                char *err = NULL;
                assert_int_equal(smbios_decode_serial(db, cases[i].serial, &info, &err), 0);
                assert_true(info.valid);
                assert_non_null(info.model);
                assert_string_equal(info.model->name, cases[i].model);
                assert_int_equal(info.year, cases[i].year);
                assert_int_equal(info.week, cases[i].week);
                assert_int_equal(info.line, cases[i].line);
                assert_int_equal(info.copy, cases[i].copy);
        }
        /* Invalid: I/O, an unknown code, a year outside the model's. */
        struct smbios_serial_info info;
        char *err = NULL;
        assert_int_equal(smbios_decode_serial(db, "F5KZN00HPIQM", &info, &err), 0);
        assert_false(info.valid);
        assert_int_equal(smbios_decode_serial(db, "F5KZN00HZZZZ", &info, &err), 0);
        assert_false(info.valid);
        assert_int_equal(smbios_decode_serial(db, "F5KCN00HP7QM", &info, &err), 0);
        assert_int_equal(info.year, 2020);
        assert_true(info.valid);
        assert_int_equal(smbios_decode_serial(db, "F5KTN00HP7QM", &info, &err), 0); /* 2017 */
        assert_false(info.valid);
        assert_int_equal(smbios_decode_serial(db, "SHORT", &info, &err), -EINVAL);
        free(err);
}

static void test_serial_encode_known(void **state)
{
        (void) state;
        char out[16];
        char *err = NULL;
        /* formats.md 4.8: macserial -m MacPro7,1 -y 2020 -w 10 -e 1500. */
        assert_int_equal(
                smbios_make_serial(smbios_db_find(db, "MacPro7,1"), 2020, 10, 1500, 1, out, &err),
                0);
        assert_string_equal(out, "F5KCC6Y4P7QM");
        assert_true(smbios_make_serial(smbios_db_find(db, "MacPro7,1"), 2031, 10, 1500, 1, out,
                                       &err) < 0);
        free(err);
}

static void test_mlb(void **state)
{
        (void) state;
        assert_true(smbios_mlb_checksum_ok("F5K105303J9K3F71M"));
        assert_true(smbios_mlb_checksum_ok("F5K009130GUK3F7JC"));
        assert_true(smbios_mlb_checksum_ok("W871104L0WESV"));
        assert_false(smbios_mlb_checksum_ok("F5K00000000K3F700"));
        assert_false(smbios_mlb_checksum_ok("F5K10530IJ9K3F71M"));
        struct smbios_mlb_info info;
        smbios_decode_mlb(db, "F5K009130GUK3F7JC", &info);
        assert_true(info.checksum_ok);
        assert_non_null(info.model);
        assert_string_equal(info.model->name, "MacPro7,1");
        assert_int_equal(info.week, 9);
        /* formats.md 4.10: the MLB of F5KCC6Y4P7QM starts F5K009; week 1 of 2020 gives F5K953. */
        struct rng r;
        rng_init_seed(&r, "t", "mlb");
        char mlb[20];
        char *err = NULL;
        assert_int_equal(smbios_make_mlb(db, "F5KCC6Y4P7QM", &r, mlb, &err), 0);
        assert_memory_equal(mlb, "F5K009", 6);
        assert_memory_equal(mlb + 11, "K3F7", 4);
        char serial[16];
        assert_int_equal(
                smbios_make_serial(smbios_db_find(db, "MacPro7,1"), 2020, 1, 0, 1, serial, &err),
                0);
        assert_int_equal(smbios_make_mlb(db, serial, &r, mlb, &err), 0);
        assert_memory_equal(mlb, "F5K953", 6);
}

static void test_roundtrip_every_model(void **state)
{
        (void) state;
        struct rng r;
        rng_init_seed(&r, "roundtrip", "smbios");
        for (size_t i = 0; i < db->n_models; i++) {
                const struct smbios_model *m = &db->models[i];
                for (int k = 0; k < 5; k++) {
                        struct smbios_identity id;
                        char *err = NULL;
                        int rr = smbios_generate(db, m, &r, 0, 0, &id, &err);
                        if (rr < 0)
                                fail_msg("%s: %s", m->name, err);
                        struct smbios_serial_info info;
                        assert_int_equal(smbios_decode_serial(db, id.serial, &info, &err), 0);
                        if (!info.valid || info.model != m)
                                fail_msg("%s: %s decodes as %s (%s)", m->name, id.serial,
                                         info.model ? info.model->name : "?", info.problem);
                        assert_true(smbios_mlb_checksum_ok(id.mlb));
                        assert_int_equal(strlen(id.mlb), m->serial_len == 12 ? 17 : 13);
                        assert_null(smbios_denied(id.serial));
                }
        }
}

static void test_deterministic_and_denied(void **state)
{
        (void) state;
        struct rng a, b;
        rng_init_seed(&a, "same", "smbios");
        rng_init_seed(&b, "same", "smbios");
        struct smbios_identity x, y;
        char *err = NULL;
        const struct smbios_model *m = smbios_db_find(db, "MacPro7,1");
        assert_int_equal(smbios_generate(db, m, &a, 0, 0, &x, &err), 0);
        assert_int_equal(smbios_generate(db, m, &b, 0, 0, &y, &err), 0);
        assert_memory_equal(&x, &y, sizeof(x));
        assert_non_null(smbios_denied("C02FPBZPHX87"));
        assert_non_null(smbios_denied("c07w10d9jyvx"));
        assert_null(smbios_denied(x.serial));
        struct pl_node *config = pl_new_dict();
        snprintf(x.serial, sizeof(x.serial), "C02FPBZPHX87");
        assert_int_equal(smbios_apply(config, &x, false, &err), -EPERM);
        free(err);
        err = NULL;
        assert_int_equal(smbios_apply(config, &x, true, &err), 0);
        struct pl_node *n = NULL;
        assert_int_equal(pl_path_get(config, "PlatformInfo.Generic.SystemSerialNumber", &n, &err),
                         0);
        assert_string_equal(pl_string(n), "C02FPBZPHX87");
        pl_free(config);
}

static void test_versions(void **state)
{
        (void) state;
        assert_true(oc_version_compare("1.0.7", "1.0.8") < 0);
        assert_true(oc_version_compare("1.0.10", "1.0.8") > 0);
        assert_int_equal(oc_version_compare("1.0.7", "1.0.7"), 0);
        assert_int_equal(oc_kernel_version_parse("22.0.0"), 220000);
        assert_int_equal(oc_kernel_version_parse("29.99.99"), 299999);
        assert_int_equal(oc_kernel_version_parse(""), 0);
        assert_int_equal(oc_kernel_version_parse("22"), 220000);
        assert_true(oc_kernel_version_parse("22.x") < 0);
        assert_true(oc_kernel_version_parse("222.0.0") < 0);
        /* 1.0.8's HideVerbose is not in the 1.0.7 schema. */
        const struct oc_key *drv = oc_key_child(oc_key_child(&schema->root, "UEFI"), "Drivers");
        assert_non_null(drv);
        assert_null(oc_key_child(drv, "HideVerbose"));
        assert_non_null(oc_key_child(drv, "LoadEarly"));
        /* ...and is in the 1.0.8 one. */
        struct oc_schema *next = NULL;
        char *err = NULL;
        assert_int_equal(oc_schema_load(getenv("DARWINKVM_DATA_DIR"), "1.0.8", &next, &err), 0);
        const struct oc_key *drv8 = oc_key_child(oc_key_child(&next->root, "UEFI"), "Drivers");
        assert_non_null(oc_key_child(drv8, "HideVerbose"));
        oc_schema_free(next);
}

static void test_profiles_validate_clean(void **state)
{
        (void) state;
        static const char *const versions[] = { "26",    "15",    "14",    "13",   "12.3", "11",
                                                "10.15", "10.14", "10.13", "10.6", "10.5", "10.4" };
        struct rng r;
        rng_init_seed(&r, "profiles", "smbios");
        for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
                struct oc_profile p = { .macos = versions[i], .timeout = 5, .verbose = true };
                struct pl_node *c = NULL;
                char *err = NULL;
                if (oc_config_build(schema, &p, &c, &err) < 0)
                        fail_msg("%s: %s", versions[i], err);
                struct oc_validate_options o = { .macos = versions[i],
                                                 .host_avx2 = 1,
                                                 .models = db };
                struct oc_findings f = { 0 };
                oc_validate(schema, c, &o, &f);
                for (size_t j = 0; j < f.n; j++)
                        fprintf(stderr, "%s: %s: found %s; expected %s\n", versions[i],
                                f.items[j].path, f.items[j].found, f.items[j].expected);
                assert_int_equal(f.n, 0);
                oc_findings_release(&f);
                pl_free(c);
        }
        /* Refusals: a model that cannot run the version, an unknown GPU, a GPU too new. */
        struct oc_profile bad[] = {
                { .macos = "10.14", .model = "MacPro7,1" }, { .macos = "14", .model = "MacPro5,1" },
                { .macos = "14", .gpu = "voodoo" },         { .macos = "14", .gpu = "kepler" },
                { .macos = "14", .model = "iMac19,1" },     { .macos = "14", .resolution = "big" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct pl_node *c = NULL;
                char *err = NULL;
                assert_int_equal(oc_config_build(schema, &bad[i], &c, &err), -EINVAL);
                assert_null(c);
                assert_non_null(err);
                free(err);
        }
}

static void test_memory(void **state)
{
        (void) state;
        struct pl_node *m = NULL;
        char *err = NULL;
        struct oc_memory_options o = { .slots = 4, .size_gb = 32 };
        assert_int_equal(oc_memory_build(&o, &m, &err), 0);
        const struct pl_node *devs = pl_dict_get_array(m, "Devices");
        assert_int_equal(pl_count(devs), 12);
        int64_t size = 0, td = 0;
        /* Four 8 GB sticks (the write-up's "4 Sticks of 16GB" for 32 GB is wrong). */
        assert_true(pl_dict_get_integer(pl_array_get(devs, 0), "Size", &size));
        assert_int_equal(size, 8192);
        assert_true(pl_dict_get_integer(pl_array_get(devs, 1), "Size", &size));
        assert_int_equal(size, 0);
        assert_true(pl_dict_get_integer(pl_array_get(devs, 6), "Size", &size));
        assert_int_equal(size, 8192);
        assert_true(pl_dict_get_integer(m, "TypeDetail", &td));
        assert_int_equal(td, 128);
        pl_free(m);
        struct oc_memory_options bad[] = {
                { .slots = 3, .size_gb = 24 },
                { .slots = 4, .size_gb = 30 },
                { .slots = 4, .size_gb = 24 },
                { .slots = 14, .size_gb = 56 },
                { .slots = 4, .size_gb = 16, .type = "SDR9" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                m = NULL;
                assert_int_equal(oc_memory_build(&bad[i], &m, &err), -EINVAL);
                assert_null(m);
                free(err);
                err = NULL;
        }
}

static void test_acpi_tables(void **state)
{
        (void) state;
        assert_int_equal(oc_n_acpi_tables, 3);
        static const char *const names[] = { "SSDT-EC-USBX.aml", "SSDT-EC.aml", "SSDT-PLUG.aml" };
        for (size_t i = 0; i < 3; i++) {
                const struct oc_acpi_table *t = oc_acpi_table_find(names[i]);
                assert_non_null(t);
                assert_true(t->len > 36);
                assert_memory_equal(t->data, "SSDT", 4);
                uint32_t len = (uint32_t) t->data[4] | (uint32_t) t->data[5] << 8 |
                               (uint32_t) t->data[6] << 16 | (uint32_t) t->data[7] << 24;
                assert_int_equal(len, t->len);
                uint8_t sum = 0;
                for (size_t j = 0; j < t->len; j++)
                        sum = (uint8_t) (sum + t->data[j]);
                assert_int_equal(sum, 0);
                assert_memory_equal(t->data + 10, "DRWKVM", 6);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_serial_decode_known),
                cmocka_unit_test(test_serial_encode_known),
                cmocka_unit_test(test_mlb),
                cmocka_unit_test(test_roundtrip_every_model),
                cmocka_unit_test(test_deterministic_and_denied),
                cmocka_unit_test(test_versions),
                cmocka_unit_test(test_profiles_validate_clean),
                cmocka_unit_test(test_memory),
                cmocka_unit_test(test_acpi_tables),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
