/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "alloc.h"
#include "host.h"
#include "json.h"
#include "strutil.h"
#include "strv.h"

/*
 * OVMF is found the way libvirt and QEMU find it: through the firmware
 * descriptors of QEMU's docs/interop/firmware.json, in /etc/qemu/firmware
 * (which overrides or, with an empty file, masks a descriptor of the same name)
 * and /usr/share/qemu/firmware, taken in the order of their file names. We
 * want an x86_64 UEFI flash image for q35 without Secure Boot keys enrolled:
 * enrolled keys refuse unsigned OpenCore.
 */

static const char *const descriptor_dirs[] = {
        "/etc/qemu/firmware",
        "/usr/share/qemu/firmware",
};

/* A firmware image must be a non-empty regular file. */
static bool image_ok(const struct root *root, const char *path)
{
        struct stat st;
        return root_stat(root, path, &st, true) == 0 && S_ISREG(st.st_mode) && st.st_size > 0;
}

/* The 4 MiB flash build: by its name, or by its size (the 2 MiB build is 1.9 MiB). */
static bool is_4m(const struct root *root, const char *code)
{
        const char *base = strrchr(code, '/');
        base = base ? base + 1 : code;
        if (strstr(base, "4M") || strstr(base, "4m"))
                return true;
        struct stat st;
        return root_stat(root, code, &st, true) == 0 && st.st_size >= (3 << 20);
}

static bool array_has(const struct json_value *a, const char *s)
{
        if (!a || a->type != JSON_ARRAY)
                return false;
        for (size_t i = 0; i < a->n_items; i++)
                if (streq_ptr(json_str(a->items[i]), s))
                        return true;
        return false;
}

static bool targets_q35_x86_64(const struct json_value *targets)
{
        if (!targets || targets->type != JSON_ARRAY)
                return false;
        for (size_t i = 0; i < targets->n_items; i++) {
                const struct json_value *t = targets->items[i];
                if (!streq_ptr(json_str(json_get(t, "architecture")), "x86_64"))
                        continue;
                const struct json_value *m = json_get(t, "machines");
                for (size_t j = 0; m && m->type == JSON_ARRAY && j < m->n_items; j++) {
                        const char *pat = json_str(m->items[j]);
                        if (pat && (startswith(pat, "pc-q35") || streq(pat, "*")))
                                return true;
                }
        }
        return false;
}

enum verdict {
        REJECT,
        ACCEPT_SECURE_BOOT, /* Secure Boot capable, no keys enrolled: usable, second choice */
        ACCEPT,
};

static enum verdict judge(const struct root *root, const char *name, const char *text, size_t n,
                          char **ret_code, char **ret_vars, char **ret_format,
                          struct host_firmware *fw)
{
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        _cleanup_free_ char *err = NULL;
        if (json_parse(text, n, &v, &err) < 0) {
                fw->notes =
                        strv_consume(fw->notes, xasprintf("%s: not valid JSON (%s)", name, err));
                return REJECT;
        }
        const char *why = NULL;
        const struct json_value *mapping = json_get(v, "mapping");
        const struct json_value *features = json_get(v, "features");
        const char *code = json_str(json_get(json_get(mapping, "executable"), "filename"));
        const char *vars = json_str(json_get(json_get(mapping, "nvram-template"), "filename"));
        const char *format = json_str(json_get(json_get(mapping, "executable"), "format"));
        if (!format)
                format = "raw";
        if (!array_has(json_get(v, "interface-types"), "uefi"))
                why = "not UEFI";
        else if (!streq_ptr(json_str(json_get(mapping, "device")), "flash"))
                why = "not a flash image";
        else if (!targets_q35_x86_64(json_get(v, "targets")))
                why = "not for x86_64 q35";
        else if (array_has(features, "enrolled-keys"))
                why = "Secure Boot keys enrolled (refuses unsigned OpenCore)";
        else if (array_has(features, "amd-sev") && array_has(features, "amd-sev-es") &&
                 !array_has(features, "acpi-s3"))
                why = "confidential-computing build";
        else if (!code || !vars)
                why = "no executable or nvram-template file";
        else if (!streq(format, "raw") && !streq(format, "qcow2"))
                why = "an image format QEMU's pflash cannot use";
        else if (!image_ok(root, code))
                why = "its executable is missing or empty";
        else if (!image_ok(root, vars))
                why = "its nvram template is missing or empty";
        if (why) {
                fw->notes = strv_consume(fw->notes, xasprintf("%s: %s", name, why));
                return REJECT;
        }
        *ret_code = xstrdup(code);
        *ret_vars = xstrdup(vars);
        *ret_format = xstrdup(format);
        return array_has(features, "secure-boot") || array_has(features, "requires-smm")
                       ? ACCEPT_SECURE_BOOT
                       : ACCEPT;
}

static void lists_freep(char **(*lists)[ELEMENTSOF(descriptor_dirs)])
{
        for (size_t i = 0; i < ELEMENTSOF(descriptor_dirs); i++)
                strv_free((*lists)[i]);
}

static bool from_descriptors(const struct root *root, struct host_firmware *fw)
{
        /* Union of names; /etc wins for a name present in both. */
        _cleanup_strv_free_ char **names = xcalloc(1, sizeof(char *));
        _cleanup_(lists_freep) char **lists[ELEMENTSOF(descriptor_dirs)] = { 0 };
        for (size_t d = 0; d < ELEMENTSOF(descriptor_dirs); d++) {
                if (root_list_dir(root, descriptor_dirs[d], &lists[d]) < 0)
                        continue;
                STRV_FOREACH(n, lists[d])
                        if (endswith(*n, ".json") && !strv_contains(names, *n))
                                names = strv_push(names, *n);
        }
        strv_sort(names);
        /*
         * Best first: no Secure Boot over Secure Boot without keys, then the 4 MiB flash
         * layout over the old 2 MiB one (a bigger variable store); the descriptors' own
         * order (their file names are priorities) breaks ties.
         */
        _cleanup_free_ char *best_code = NULL, *best_vars = NULL, *best_desc = NULL,
                            *best_format = NULL;
        int best = -1;
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                size_t len = 0;
                for (size_t d = 0; d < ELEMENTSOF(descriptor_dirs) && !path; d++)
                        if (strv_contains(lists[d], *n))
                                path = xasprintf("%s/%s", descriptor_dirs[d], *n);
                int r = root_read_file(root, path, 1u << 20, &text, &len);
                if (r < 0) {
                        fw->notes = strv_consume(
                                fw->notes, xasprintf("%s: cannot read: %s", path, strerror(-r)));
                        continue;
                }
                if (len == 0)
                        continue; /* an empty file masks the descriptor */
                _cleanup_free_ char *code = NULL, *vars = NULL, *format = NULL;
                enum verdict v = judge(root, path, text, len, &code, &vars, &format, fw);
                if (v == REJECT)
                        continue;
                /* raw images work for plain QEMU's pflash too, not only for libvirt */
                int score = (v == ACCEPT) * 4 + streq(format, "raw") * 2 + is_4m(root, code);
                if (score > best) {
                        best = score;
                        free_and_strdup(&best_code, code);
                        free_and_strdup(&best_vars, vars);
                        free_and_strdup(&best_desc, path);
                        free_and_strdup(&best_format, format);
                }
        }
        if (best < 0)
                return false;
        fw->code = TAKE_PTR(best_code);
        fw->vars = TAKE_PTR(best_vars);
        fw->descriptor = TAKE_PTR(best_desc);
        fw->format = TAKE_PTR(best_format);
        fw->secure_boot = best < 4;
        return true;
}

/* The distributions' paths, for hosts whose QEMU ships no descriptors. 4M builds first. */
static void from_path_list(const struct root *root, struct host_firmware *fw)
{
        static const char *const dirs[] = {
                "/usr/share/OVMF",      "/usr/share/ovmf",     "/usr/share/edk2/ovmf",
                "/usr/share/edk2-ovmf", "/usr/share/edk2/x64", "/usr/share/qemu",
        };

        static const struct {
                const char *code, *vars;
        } pairs[] = {
                { "OVMF_CODE_4M.fd", "OVMF_VARS_4M.fd" },
                { "OVMF_CODE.4m.fd", "OVMF_VARS.4m.fd" },
                { "OVMF_CODE.fd", "OVMF_VARS.fd" },
                { "ovmf-x86_64-code.bin", "ovmf-x86_64-vars.bin" },
        };

        for (size_t p = 0; p < ELEMENTSOF(pairs); p++)
                for (size_t d = 0; d < ELEMENTSOF(dirs); d++) {
                        _cleanup_free_ char *code = xasprintf("%s/%s", dirs[d], pairs[p].code);
                        _cleanup_free_ char *vars = xasprintf("%s/%s", dirs[d], pairs[p].vars);
                        /* CODE and VARS from the same directory, never mixed. */
                        if (image_ok(root, code) && image_ok(root, vars)) {
                                fw->code = TAKE_PTR(code);
                                fw->vars = TAKE_PTR(vars);
                                fw->format = xstrdup("raw");
                                return;
                        }
                }
}

/* The DUDK-Firmware package: the docs and the example XML disagree on the directory. */
static void find_dudk(const struct root *root, struct host_firmware *fw)
{
        static const char *const dirs[] = { "/usr/share/DarwinUDK/x64", "/usr/share/DarwinUDK" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *code = xasprintf("%s/DUDK_CODE.fd", dirs[i]);
                _cleanup_free_ char *vars = xasprintf("%s/DUDK_VARS.fd", dirs[i]);
                if (image_ok(root, code) && image_ok(root, vars)) {
                        fw->dudk_code = TAKE_PTR(code);
                        fw->dudk_vars = TAKE_PTR(vars);
                        return;
                }
        }
}

void host_firmware_load(const struct root *root, struct host_firmware *fw)
{
        fw->notes = xcalloc(1, sizeof(char *));
        if (!from_descriptors(root, fw))
                from_path_list(root, fw);
        find_dudk(root, fw);
}
