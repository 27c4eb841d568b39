/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "alloc.h"
#include "host.h"
#include "strv.h"

/* Firmware selection through QEMU's descriptors, on trees made here. */

static char *dir;

static void put(const char *rel, const char *content)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        _cleanup_free_ char *cmd = xasprintf("mkdir -p \"$(dirname '%s')\"", p);
        assert_int_equal(system(cmd), 0);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void descriptor_fmt(const char *rel, const char *code, const char *vars,
                           const char *features, const char *format)
{
        _cleanup_free_ char *json = xasprintf(
                "{\"description\": \"test\", \"interface-types\": [\"uefi\"],\n"
                " \"mapping\": {\"device\": \"flash\", \"executable\": {\"filename\": \"%s\", "
                "\"format\": \"%s\"}, \"nvram-template\": {\"filename\": \"%s\", \"format\": "
                "\"%s\"}},\n"
                " \"targets\": [{\"architecture\": \"x86_64\", \"machines\": [\"pc-q35-*\"]}],\n"
                " \"features\": [%s], \"tags\": []}\n",
                code, format, vars, format, features);
        put(rel, json);
}

static void descriptor(const char *rel, const char *code, const char *vars, const char *features)
{
        descriptor_fmt(rel, code, vars, features, "raw");
}

static int setup(void **state)
{
        (void) state;
        char tmpl[] = "/tmp/dkvm-fw-XXXXXX";
        dir = xstrdup(mkdtemp(tmpl));
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
        int r = system(cmd);
        free(dir);
        return r == 0 ? 0 : -1;
}

static void load(struct host_firmware *fw)
{
        struct root *r = NULL;
        char *err = NULL;
        assert_int_equal(root_open(dir, &r, &err), 0);
        *fw = (struct host_firmware){ 0 };
        host_firmware_load(r, fw);
        root_free(r);
}

static void release(struct host_firmware *fw)
{
        free(fw->code);
        free(fw->vars);
        free(fw->descriptor);
        free(fw->format);
        strv_free(fw->notes);
}

static void test_descriptors(void **state)
{
        (void) state;
        put("usr/share/OVMF/OVMF_CODE.fd", "code2m");
        put("usr/share/OVMF/OVMF_VARS.fd", "vars2m");
        put("usr/share/OVMF/OVMF_CODE_4M.fd", "code4m");
        put("usr/share/OVMF/OVMF_VARS_4M.fd", "vars4m");
        put("usr/share/OVMF/OVMF_CODE_4M.ms.fd", "codems");
        put("usr/share/OVMF/OVMF_VARS_4M.ms.fd", "varsms");
        put("usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "codesb");
        descriptor("usr/share/qemu/firmware/40-enrolled.json", "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
                   "/usr/share/OVMF/OVMF_VARS_4M.ms.fd",
                   "\"enrolled-keys\", \"requires-smm\", \"secure-boot\"");
        descriptor("usr/share/qemu/firmware/50-secure.json",
                   "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd",
                   "\"requires-smm\", \"secure-boot\"");
        descriptor("usr/share/qemu/firmware/55-plain-2m.json", "/usr/share/OVMF/OVMF_CODE.fd",
                   "/usr/share/OVMF/OVMF_VARS.fd", "\"acpi-s3\"");
        descriptor("usr/share/qemu/firmware/60-plain-4m.json", "/usr/share/OVMF/OVMF_CODE_4M.fd",
                   "/usr/share/OVMF/OVMF_VARS_4M.fd", "\"acpi-s3\"");
        put("usr/share/qemu/firmware/70-broken.json", "{ not json");
        descriptor("usr/share/qemu/firmware/80-missing.json", "/usr/share/OVMF/NOPE.fd",
                   "/usr/share/OVMF/OVMF_VARS.fd", "");

        struct host_firmware fw;
        load(&fw);
        /* no Secure Boot and 4 MiB beats the earlier 2 MiB descriptor */
        assert_string_equal(fw.code, "/usr/share/OVMF/OVMF_CODE_4M.fd");
        assert_string_equal(fw.vars, "/usr/share/OVMF/OVMF_VARS_4M.fd");
        assert_string_equal(fw.descriptor, "/usr/share/qemu/firmware/60-plain-4m.json");
        assert_false(fw.secure_boot);
        _cleanup_free_ char *notes = strv_join(fw.notes, "\n");
        assert_non_null(strstr(notes, "40-enrolled.json: Secure Boot keys enrolled"));
        assert_non_null(strstr(notes, "70-broken.json: not valid JSON"));
        assert_non_null(strstr(notes, "80-missing.json: its executable is missing or empty"));
        release(&fw);

        /* raw beats qcow2 (plain QEMU's pflash needs raw); qcow2 alone is taken, and said */
        put("usr/share/OVMF/OVMF_CODE_4M.qcow2", "qcow");
        put("usr/share/OVMF/OVMF_VARS_4M.qcow2", "qcow");
        descriptor_fmt("usr/share/qemu/firmware/30-qcow2.json",
                       "/usr/share/OVMF/OVMF_CODE_4M.qcow2", "/usr/share/OVMF/OVMF_VARS_4M.qcow2",
                       "\"acpi-s3\"", "qcow2");
        descriptor_fmt("usr/share/qemu/firmware/31-weird.json", "/usr/share/OVMF/OVMF_CODE_4M.fd",
                       "/usr/share/OVMF/OVMF_VARS_4M.fd", "", "vmdk");
        load(&fw);
        assert_string_equal(fw.code, "/usr/share/OVMF/OVMF_CODE_4M.fd");
        assert_string_equal(fw.format, "raw");
        _cleanup_free_ char *notes2 = strv_join(fw.notes, "\n");
        assert_non_null(strstr(notes2, "31-weird.json: an image format"));
        release(&fw);

        /* /etc masks a descriptor with an empty file of the same name */
        put("etc/qemu/firmware/60-plain-4m.json", "");
        load(&fw);
        assert_string_equal(fw.code, "/usr/share/OVMF/OVMF_CODE.fd");
        release(&fw);

        /* ... and overrides it with its own content */
        descriptor("etc/qemu/firmware/55-plain-2m.json", "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
                   "/usr/share/OVMF/OVMF_VARS_4M.fd", "\"secure-boot\"");
        load(&fw);
        /* the plain qcow2 build now beats the Secure Boot raw one */
        assert_string_equal(fw.code, "/usr/share/OVMF/OVMF_CODE_4M.qcow2");
        assert_string_equal(fw.format, "qcow2");
        assert_false(fw.secure_boot);
        release(&fw);
        put("etc/qemu/firmware/30-qcow2.json", "");
        load(&fw);
        assert_string_equal(fw.code, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
        assert_true(fw.secure_boot);
        release(&fw);
}

static void test_path_list(void **state)
{
        (void) state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s/usr/share/qemu' '%s/etc'", dir, dir);
        assert_int_equal(system(cmd), 0);
        put("usr/share/edk2/x64/OVMF_CODE.4m.fd", "code");
        put("usr/share/edk2/x64/OVMF_VARS.4m.fd", "vars");
        struct host_firmware fw;
        load(&fw);
        /* 4M pairs first, from one directory */
        assert_string_equal(fw.code, "/usr/share/OVMF/OVMF_CODE_4M.fd");
        assert_null(fw.descriptor);
        release(&fw);
        _cleanup_free_ char *rm = xasprintf("rm -rf '%s/usr/share/OVMF'", dir);
        assert_int_equal(system(rm), 0);
        load(&fw);
        assert_string_equal(fw.code, "/usr/share/edk2/x64/OVMF_CODE.4m.fd");
        assert_string_equal(fw.vars, "/usr/share/edk2/x64/OVMF_VARS.4m.fd");
        release(&fw);
        /* an empty image is no firmware */
        put("usr/share/edk2/x64/OVMF_CODE.4m.fd", "");
        load(&fw);
        assert_null(fw.code);
        release(&fw);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_descriptors),
                cmocka_unit_test(test_path_list),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
