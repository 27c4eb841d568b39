/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "buf.h"
#include "macos.h"
#include "opencore.h"
#include "strutil.h"
#include "strv.h"
#include "uuid.h"

struct vctx {
        const struct oc_schema *s;
        const struct pl_node *config;
        const struct oc_validate_options *o;
        struct oc_findings *f;
};

void oc_findings_release(struct oc_findings *f)
{
        for (size_t i = 0; i < f->n; i++) {
                free(f->items[i].path);
                free(f->items[i].found);
                free(f->items[i].expected);
        }
        free(f->items);
        *f = (struct oc_findings){ 0 };
}

static void add(struct vctx *c, const char *path, const char *expected, const char *found_fmt, ...)
        _printf_(4, 5);

static void add(struct vctx *c, const char *path, const char *expected, const char *found_fmt, ...)
{
        va_list ap;
        va_start(ap, found_fmt);
        char *found = xvasprintf(found_fmt, ap);
        va_end(ap);
        GROW(c->f->items, c->f->cap, c->f->n + 1);
        c->f->items[c->f->n++] = (struct oc_finding){ .path = xstrdup(*path ? path : "(root)"),
                                                      .found = found,
                                                      .expected = xstrdup(expected) };
}

static const char *article_type(const struct pl_node *n)
{
        switch (pl_type(n)) {
        case PL_STRING:
                return "a string";
        case PL_INTEGER:
                return "an integer";
        case PL_BOOL:
                return "a boolean";
        case PL_DATA:
                return "data";
        case PL_DATE:
                return "a date (OpenCore cannot read dates)";
        case PL_REAL:
                return "a real (OpenCore cannot read reals)";
        case PL_DICT:
                return "a dict";
        case PL_ARRAY:
                return "an array";
        default:
                return "a value";
        }
}

static const char *expected_type(const struct oc_key *k)
{
        switch (k->kind) {
        case OC_KIND_DICT:
        case OC_KIND_MAP:
                return "a dict";
        case OC_KIND_ARRAY_DICT:
                return "an array of dicts";
        case OC_KIND_ARRAY_STRING:
                return "an array of strings";
        default:
                break;
        }
        switch (k->type) {
        case PL_BOOL:
                return "a boolean";
        case PL_INTEGER:
                return "an integer";
        case PL_STRING:
                return "a string";
        default:
                return k->multidata ? "data (or a string)" : "data";
        }
}

/* Printable 7-bit ASCII, as OpenCore reads strings. */
static bool printable_ascii(const char *s)
{
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s > 0x7e)
                        return false;
        return true;
}

static void check_value(struct vctx *c, const struct oc_key *k, const struct pl_node *v,
                        const char *path);

static void check_dict(struct vctx *c, const struct oc_key *k, const struct pl_node *d,
                       const char *path)
{
        for (size_t i = 0; i < k->n_children; i++) {
                const struct oc_key *ck = k->children[i];
                _cleanup_free_ char *p = pl_path_join_key(path, ck->name);
                const struct pl_node *v = pl_dict_get(d, ck->name);
                if (!v) {
                        if (!ck->optional) {
                                _cleanup_free_ char *e =
                                        xasprintf("%s (OpenCore %s schema)", expected_type(ck),
                                                  c->s->version);
                                add(c, p, e, "nothing (missing key)");
                        }
                        continue;
                }
                check_value(c, ck, v, p);
        }
        for (size_t i = 0; i < pl_count(d); i++) {
                const char *key = pl_dict_key_at(d, i);
                if (key[0] == '#')
                        continue; /* comments, skipped by OpenCore */
                if (!oc_key_child(k, key)) {
                        _cleanup_free_ char *p = pl_path_join_key(path, key);
                        _cleanup_free_ char *e =
                                xasprintf("only keys of the OpenCore %s schema", c->s->version);
                        add(c, p, e, "an unknown key");
                }
        }
}

static void check_value(struct vctx *c, const struct oc_key *k, const struct pl_node *v,
                        const char *path)
{
        switch (k->kind) {
        case OC_KIND_DICT:
                if (!pl_is(v, PL_DICT))
                        add(c, path, "a dict", "%s", article_type(v));
                else
                        check_dict(c, k, v, path);
                return;
        case OC_KIND_MAP:
                if (!pl_is(v, PL_DICT)) {
                        add(c, path, "a dict", "%s", article_type(v));
                        return;
                }
                for (size_t i = 0; i < pl_count(v); i++) {
                        const struct pl_node *e = pl_dict_value_at(v, i);
                        const char *key = pl_dict_key_at(v, i);
                        if (key[0] == '#')
                                continue;
                        _cleanup_free_ char *p = pl_path_join_key(path, key);
                        if (k->map_of_arrays) {
                                if (!pl_is(e, PL_ARRAY))
                                        add(c, p, "an array of strings", "%s", article_type(e));
                                else
                                        for (size_t j = 0; j < pl_count(e); j++)
                                                if (!pl_is(pl_array_get(e, j), PL_STRING)) {
                                                        _cleanup_free_ char *q =
                                                                pl_path_join_index(p, j);
                                                        add(c, q, "a string", "%s",
                                                            article_type(pl_array_get(e, j)));
                                                }
                        } else if (!pl_is(e, PL_DICT))
                                add(c, p, "a dict", "%s", article_type(e));
                        else
                                for (size_t j = 0; j < pl_count(e); j++) {
                                        const struct pl_node *x = pl_dict_value_at(e, j);
                                        if (!pl_is(x, PL_DATA) && !pl_is(x, PL_STRING) &&
                                            !pl_is(x, PL_INTEGER) && !pl_is(x, PL_BOOL)) {
                                                _cleanup_free_ char *q =
                                                        pl_path_join_key(p, pl_dict_key_at(e, j));
                                                add(c, q, "data, a string, an integer or a boolean",
                                                    "%s", article_type(x));
                                        }
                                }
                }
                return;
        case OC_KIND_ARRAY_DICT:
        case OC_KIND_ARRAY_STRING:
                if (!pl_is(v, PL_ARRAY)) {
                        add(c, path, expected_type(k), "%s", article_type(v));
                        return;
                }
                for (size_t i = 0; i < pl_count(v); i++) {
                        const struct pl_node *e = pl_array_get(v, i);
                        _cleanup_free_ char *p = pl_path_join_index(path, i);
                        if (k->kind == OC_KIND_ARRAY_STRING) {
                                if (!pl_is(e, PL_STRING))
                                        add(c, p, "a string", "%s", article_type(e));
                        } else if (!pl_is(e, PL_DICT))
                                add(c, p, "a dict", "%s", article_type(e));
                        else
                                check_dict(c, k, e, p);
                }
                return;
        case OC_KIND_SCALAR:
                break;
        }
        bool type_ok = pl_is(v, k->type) ||
                       (k->multidata && (pl_is(v, PL_STRING) || pl_is(v, PL_INTEGER)));
        if (!type_ok) {
                add(c, path, expected_type(k), "%s", article_type(v));
                return;
        }
        if (k->type == PL_DATA && k->fixed_len && pl_is(v, PL_DATA)) {
                size_t len;
                pl_data(v, &len);
                /* Empty data means "all zero" for the fixed-size fields OpenCore reads. */
                if (len != 0 && len != k->fixed_len) {
                        _cleanup_free_ char *e = xasprintf("%zu bytes", k->fixed_len);
                        add(c, path, e, "%zu bytes", len);
                }
        }
        int64_t iv;
        if (k->type == PL_INTEGER && k->int_bits && k->int_bits < 64 && pl_get_integer(v, &iv)) {
                int64_t lo = -((int64_t) 1 << (k->int_bits - 1));
                int64_t hi = ((int64_t) 1 << k->int_bits) - 1;
                if (iv < lo || iv > hi) {
                        _cleanup_free_ char *e = xasprintf("a %u-bit integer", k->int_bits);
                        add(c, path, e, "%" PRId64, iv);
                }
        }
        const char *s = pl_string(v);
        if (s && !printable_ascii(s))
                add(c, path, "printable 7-bit ASCII", "non-ASCII or control characters");
}

/* ---- helpers for the semantic rules ---- */

static const struct pl_node *at(const struct vctx *c, const char *path)
{
        struct pl_node *n = NULL;
        _cleanup_free_ char *err = NULL;
        if (pl_path_get(c->config, path, &n, &err) < 0)
                return NULL;
        return n;
}

static const char *str_at(const struct vctx *c, const char *path)
{
        return pl_string(at(c, path));
}

static bool bool_at(const struct vctx *c, const char *path)
{
        bool b = false;
        pl_get_bool(at(c, path), &b);
        return b;
}

static int64_t int_at(const struct vctx *c, const char *path)
{
        int64_t v = 0;
        pl_get_integer(at(c, path), &v);
        return v;
}

static void check_enum(struct vctx *c, const char *path, const char *const *allowed)
{
        const char *s = str_at(c, path);
        if (!s)
                return;
        for (size_t i = 0; allowed[i]; i++)
                if (streq(s, allowed[i]))
                        return;
        _cleanup_free_ char *list = strv_join((char **) allowed, ", ");
        _cleanup_free_ char *e = xasprintf("one of %s (case-sensitive)", list);
        add(c, path, e, "\"%s\"", s);
}

static bool arch_ok(const char *a)
{
        return a && (streq(a, "Any") || streq(a, "i386") || streq(a, "x86_64"));
}

/* Paths OpenCore opens: 0-9 A-Z a-z _ - . / \ only, and short enough. */
static void check_file_path(struct vctx *c, const char *path, const char *value, bool backslash)
{
        if (!value)
                return;
        size_t max = oc_version_compare(c->s->version, "1.0.6") >= 0 ? 192 : 128;
        for (const char *p = value; *p; p++) {
                char ch = *p;
                bool ok = (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') ||
                          (ch >= 'a' && ch <= 'z') || ch == '_' || ch == '-' || ch == '.' ||
                          ch == '/' || (backslash && ch == '\\');
                if (!ok) {
                        add(c, path, "only 0-9 A-Z a-z _ - . / in paths (no spaces)",
                            "\"%s\" with '%c'", value, ch);
                        return;
                }
        }
        if (strlen(value) + 1 > max) {
                _cleanup_free_ char *e =
                        xasprintf("at most %zu bytes (OpenCore %s)", max - 1, c->s->version);
                add(c, path, e, "%zu bytes", strlen(value));
        }
}

static void check_exists(struct vctx *c, const char *path, const char *sub, const char *a,
                         const char *b)
{
        if (!c->o || !c->o->efi_dir || !a || !*a)
                return;
        _cleanup_free_ char *file = b && *b ? xasprintf("%s/%s/%s/%s", c->o->efi_dir, sub, a, b)
                                            : xasprintf("%s/%s/%s", c->o->efi_dir, sub, a);
        struct stat st;
        if (stat(file, &st) < 0) {
                _cleanup_free_ char *e = xasprintf("%s/%s%s%s in the EFI tree", sub, a,
                                                   b && *b ? "/" : "", b && *b ? b : "");
                add(c, path, e, "no such file (%s)", file);
        }
}

/* Lilu plugins and VirtualSMC plugins: they must load after their parent. */
static const char *kext_parent(const char *bundle)
{
        static const char *const lilu_plugins[] = {
                "VMHide.kext",           "WhateverGreen.kext",  "AppleALC.kext",
                "NootRX.kext",           "NootedRed.kext",      "VirtualSMC.kext",
                "RestrictEvents.kext",   "CPUFriend.kext",      "CryptexFixup.kext",
                "NVMeFix.kext",          "FeatureUnlock.kext",  "HibernationFixup.kext",
                "DebugEnhancer.kext",    "RTCMemoryFixup.kext", "BrightnessKeys.kext",
                "AirportBrcmFixup.kext", "BrcmPatchRAM3.kext",  NULL
        };
        const char *slash = strrchr(bundle, '/');
        const char *base = slash ? slash + 1 : bundle;
        if (strv_contains((char **) lilu_plugins, base))
                return "Lilu.kext";
        if (startswith(base, "SMC") && endswith(base, ".kext"))
                return "VirtualSMC.kext";
        return NULL;
}

/* The bundle identifier of a kext in the EFI tree (from its Info.plist), NULL when unknown. */
static char *kext_id(const struct vctx *c, const char *bundle, const char *plist,
                     struct pl_node **ret_info)
{
        if (!c->o || !c->o->efi_dir || !bundle || !plist)
                return NULL;
        _cleanup_free_ char *path = xasprintf("%s/Kexts/%s/%s", c->o->efi_dir, bundle, plist);
        _cleanup_free_ char *err = NULL;
        struct pl_node *info = NULL;
        if (pl_load_file(AT_FDCWD, path, 1u << 20, &info, NULL, &err) < 0)
                return NULL;
        const char *id = pl_dict_get_string(info, "CFBundleIdentifier");
        char *r = id ? xstrdup(id) : NULL;
        if (ret_info)
                *ret_info = info;
        else
                pl_free(info);
        return r;
}

/* Identifiers of the kexts in Kernel.Add whose Info.plist the EFI tree holds. */
static char **kext_ids(const struct vctx *c, const struct pl_node *add_arr)
{
        char **ids = NULL;
        for (size_t i = 0; i < pl_count(add_arr); i++) {
                const struct pl_node *e = pl_array_get(add_arr, i);
                char *id = kext_id(c, pl_dict_get_string(e, "BundlePath"),
                                   pl_dict_get_string(e, "PlistPath"), NULL);
                if (id)
                        ids = strv_consume(ids, id);
        }
        return ids;
}

/* Every OSBundleLibraries entry that the config provides must load before this kext. */
static void check_kext_deps(struct vctx *c, const char *path, const char *bundle, const char *plist,
                            char ***seen_ids, char **all_ids)
{
        _cleanup_pl_ struct pl_node *info = NULL;
        _cleanup_free_ char *id = kext_id(c, bundle, plist, &info);
        if (!id)
                return;
        const struct pl_node *libs = pl_dict_get_dict(info, "OSBundleLibraries");
        for (size_t i = 0; i < pl_count(libs); i++) {
                const char *dep = pl_dict_key_at(libs, i);
                if (startswith(dep, "com.apple.") || strv_contains(*seen_ids, dep))
                        continue;
                _cleanup_free_ char *e = xasprintf("%s after the kext providing %s", bundle, dep);
                if (strv_contains(all_ids, dep))
                        add(c, path, e, "it loads before %s", dep);
                else
                        add(c, path, e, "no enabled kext in Kernel.Add provides %s", dep);
        }
        *seen_ids = strv_push(*seen_ids, id);
}

static void check_kernel(struct vctx *c, bool *have_lilu, bool *have_weg, bool *have_nootrx,
                         bool *have_vmhide, bool *have_mce, bool *have_vsmc)
{
        const struct pl_node *add_arr = at(c, "Kernel.Add");
        _cleanup_strv_free_ char **seen = NULL;
        _cleanup_strv_free_ char **seen_ids = NULL;
        _cleanup_strv_free_ char **all_ids = kext_ids(c, add_arr);
        for (size_t i = 0; i < pl_count(add_arr); i++) {
                const struct pl_node *e = pl_array_get(add_arr, i);
                if (!pl_is(e, PL_DICT))
                        continue;
                _cleanup_free_ char *base = pl_path_join_index("Kernel.Add", i);
                _cleanup_free_ char *p_bundle = pl_path_join_key(base, "BundlePath");
                _cleanup_free_ char *p_exec = pl_path_join_key(base, "ExecutablePath");
                _cleanup_free_ char *p_plist = pl_path_join_key(base, "PlistPath");
                _cleanup_free_ char *p_arch = pl_path_join_key(base, "Arch");
                _cleanup_free_ char *p_min = pl_path_join_key(base, "MinKernel");
                _cleanup_free_ char *p_max = pl_path_join_key(base, "MaxKernel");
                const char *bundle = pl_dict_get_string(e, "BundlePath");
                const char *exec = pl_dict_get_string(e, "ExecutablePath");
                const char *plist = pl_dict_get_string(e, "PlistPath");
                const char *arch = pl_dict_get_string(e, "Arch");
                bool enabled = false;
                pl_dict_get_bool(e, "Enabled", &enabled);
                if (arch && !arch_ok(arch))
                        add(c, p_arch, "Any, i386 or x86_64", "\"%s\"", arch);
                if (bundle && !endswith(bundle, ".kext"))
                        add(c, p_bundle, "a path ending in .kext", "\"%s\"", bundle);
                if (plist && !endswith(plist, ".plist"))
                        add(c, p_plist, "a path ending in .plist", "\"%s\"", plist);
                check_file_path(c, p_bundle, bundle, false);
                check_file_path(c, p_exec, exec, false);
                check_file_path(c, p_plist, plist, false);
                const char *min = pl_dict_get_string(e, "MinKernel");
                const char *max = pl_dict_get_string(e, "MaxKernel");
                long lmin = min ? oc_kernel_version_parse(min) : 0;
                long lmax = max ? oc_kernel_version_parse(max) : 0;
                if (lmin < 0)
                        add(c, p_min, "a Darwin version like 20.0.0 or empty", "\"%s\"", min);
                else if (lmin > 0 && lmin < 80000)
                        add(c, p_min, "8.0.0 or later (Darwin 8 is 10.4)", "\"%s\"", min);
                if (lmax < 0)
                        add(c, p_max, "a Darwin version like 24.99.99 or empty", "\"%s\"", max);
                if (lmin > 0 && lmax > 0 && lmin > lmax)
                        add(c, p_min, "at most MaxKernel", "\"%s\" > \"%s\"", min, max);
                if (!bundle)
                        continue;
                const char *slash = strrchr(bundle, '/');
                const char *name = slash ? slash + 1 : bundle;
                /* Known kexts: their binary is Contents/MacOS/<name>. */
                static const char *const known[] = { "Lilu.kext",
                                                     "VirtualSMC.kext",
                                                     "WhateverGreen.kext",
                                                     "AppleALC.kext",
                                                     "VMHide.kext",
                                                     "NootRX.kext",
                                                     "RestrictEvents.kext",
                                                     "NVMeFix.kext",
                                                     "CPUFriend.kext",
                                                     "CryptexFixup.kext",
                                                     NULL };
                if (strv_contains((char **) known, name) && exec) {
                        _cleanup_free_ char *want =
                                xasprintf("Contents/MacOS/%.*s", (int) (strlen(name) - 5), name);
                        if (!streq(exec, want)) {
                                _cleanup_free_ char *e2 = xasprintf("\"%s\" for %s", want, name);
                                add(c, p_exec, e2, "\"%s\"", exec);
                        }
                }
                if (streq(name, "AppleMCEReporterDisabler.kext") && exec && *exec)
                        add(c, p_exec, "\"\" (a plist-only kext)", "\"%s\"", exec);
                if (plist && !streq(plist, "Contents/Info.plist"))
                        add(c, p_plist, "\"Contents/Info.plist\"", "\"%s\"", plist);
                if (strv_contains(seen, bundle))
                        add(c, p_bundle, "each kext once", "a duplicate of \"%s\"", bundle);
                if (enabled) {
                        *have_lilu |= streq(name, "Lilu.kext");
                        *have_weg |= streq(name, "WhateverGreen.kext");
                        *have_nootrx |= streq(name, "NootRX.kext");
                        *have_vmhide |= streq(name, "VMHide.kext");
                        *have_mce |= streq(name, "AppleMCEReporterDisabler.kext");
                        *have_vsmc |= streq(name, "VirtualSMC.kext") || streq(name, "FakeSMC.kext");
                        /* Dependencies first: the parent kext and, for PlugIns, the bundle. */
                        const char *parent = kext_parent(bundle);
                        if (parent && !strv_contains(seen, parent)) {
                                _cleanup_free_ char *e2 = xasprintf("%s after %s", name, parent);
                                add(c, p_bundle, e2, "%s before it (or %s missing)", name, parent);
                        }
                        const char *plug = strstr(bundle, "/Contents/PlugIns/");
                        if (plug) {
                                _cleanup_free_ char *outer =
                                        xstrndup(bundle, (size_t) (plug - bundle));
                                if (!strv_contains(seen, outer)) {
                                        _cleanup_free_ char *e2 = xasprintf("after %s", outer);
                                        add(c, p_bundle, e2, "a plug-in before its kext");
                                }
                        }
                        check_exists(c, p_bundle, "Kexts", bundle, NULL);
                        check_exists(c, p_exec, "Kexts", bundle, exec);
                        check_exists(c, p_plist, "Kexts", bundle, plist);
                }
                if (enabled)
                        check_kext_deps(c, p_bundle, bundle, plist, &seen_ids, all_ids);
                seen = strv_push(seen, bundle);
        }
        if (*have_lilu && !bool_at(c, "Kernel.Quirks.DisableLinkeditJettison"))
                add(c, "Kernel.Quirks.DisableLinkeditJettison", "true (Lilu is enabled)", "false");

        const struct pl_node *patches = at(c, "Kernel.Patch");
        for (size_t i = 0; i < pl_count(patches); i++) {
                const struct pl_node *e = pl_array_get(patches, i);
                _cleanup_free_ char *base = pl_path_join_index("Kernel.Patch", i);
                size_t lf, lr, lm, lrm;
                const uint8_t *f = pl_data(pl_dict_get(e, "Find"), &lf);
                const uint8_t *r = pl_data(pl_dict_get(e, "Replace"), &lr);
                const uint8_t *m = pl_data(pl_dict_get(e, "Mask"), &lm);
                const uint8_t *rm = pl_data(pl_dict_get(e, "ReplaceMask"), &lrm);
                _cleanup_free_ char *p_find = pl_path_join_key(base, "Find");
                _cleanup_free_ char *p_repl = pl_path_join_key(base, "Replace");
                _cleanup_free_ char *p_mask = pl_path_join_key(base, "Mask");
                _cleanup_free_ char *p_rmask = pl_path_join_key(base, "ReplaceMask");
                _cleanup_free_ char *p_arch = pl_path_join_key(base, "Arch");
                _cleanup_free_ char *p_min = pl_path_join_key(base, "MinKernel");
                _cleanup_free_ char *want = xasprintf("%zu bytes (as Find)", lf);
                if (f && r && lf != lr && !(lf == 0 && pl_dict_get_string(e, "Base")))
                        add(c, p_repl, want, "%zu bytes", lr);
                if (m && lm && lm != lf)
                        add(c, p_mask, want, "%zu bytes", lm);
                if (rm && lrm && lrm != lr)
                        add(c, p_rmask, "as many bytes as Replace", "%zu bytes", lrm);
                if (f && m && lm == lf)
                        for (size_t j = 0; j < lf; j++)
                                if (f[j] & ~m[j]) {
                                        add(c, p_find, "only bits that Mask enables",
                                            "bits outside Mask at byte %zu", j);
                                        break;
                                }
                if (r && rm && lrm == lr)
                        for (size_t j = 0; j < lr; j++)
                                if (r[j] & ~rm[j]) {
                                        add(c, p_repl, "only bits that ReplaceMask enables",
                                            "bits outside ReplaceMask at byte %zu", j);
                                        break;
                                }
                const char *arch = pl_dict_get_string(e, "Arch");
                if (arch && !arch_ok(arch))
                        add(c, p_arch, "Any, i386 or x86_64", "\"%s\"", arch);
                const char *min = pl_dict_get_string(e, "MinKernel");
                const char *max = pl_dict_get_string(e, "MaxKernel");
                long lmin = min ? oc_kernel_version_parse(min) : 0;
                long lmax = max ? oc_kernel_version_parse(max) : 0;
                if (lmin < 0 || lmax < 0)
                        add(c, p_min, "Darwin versions like 22.0.0 in MinKernel/MaxKernel",
                            "\"%s\" / \"%s\"", strempty(min), strempty(max));
                else if (lmin > 0 && lmax > 0 && lmin > lmax)
                        add(c, p_min, "at most MaxKernel", "\"%s\" > \"%s\"", min, max);
        }
        static const char *const arches[] = { "Auto", "i386", "i386-user32", "x86_64", NULL };
        static const char *const caches[] = { "Auto", "Cacheless", "Mkext", "Prelinked", NULL };
        check_enum(c, "Kernel.Scheme.KernelArch", arches);
        check_enum(c, "Kernel.Scheme.KernelCache", caches);
        if (bool_at(c, "Kernel.Quirks.CustomSMBIOSGuid") &&
            !streq_ptr(str_at(c, "PlatformInfo.UpdateSMBIOSMode"), "Custom"))
                add(c, "Kernel.Quirks.CustomSMBIOSGuid",
                    "false unless PlatformInfo.UpdateSMBIOSMode is Custom", "true");
}

static bool driver_enabled(const struct vctx *c, const char *name, size_t *count)
{
        const struct pl_node *d = at(c, "UEFI.Drivers");
        bool found = false;
        for (size_t i = 0; i < pl_count(d); i++) {
                const struct pl_node *e = pl_array_get(d, i);
                bool en = false;
                pl_dict_get_bool(e, "Enabled", &en);
                const char *path = pl_dict_get_string(e, "Path");
                if (en && path && streq(path, name)) {
                        found = true;
                        if (count)
                                (*count)++;
                }
        }
        return found;
}

static void check_uefi(struct vctx *c)
{
        const struct pl_node *d = at(c, "UEFI.Drivers");
        _cleanup_strv_free_ char **seen = NULL;
        size_t hfs = 0;
        for (size_t i = 0; i < pl_count(d); i++) {
                const struct pl_node *e = pl_array_get(d, i);
                _cleanup_free_ char *base = pl_path_join_index("UEFI.Drivers", i);
                _cleanup_free_ char *p_path = pl_path_join_key(base, "Path");
                const char *path = pl_dict_get_string(e, "Path");
                bool en = false, early = false;
                pl_dict_get_bool(e, "Enabled", &en);
                pl_dict_get_bool(e, "LoadEarly", &early);
                if (!path)
                        continue;
                check_file_path(c, p_path, path, false);
                if (!endswith(path, ".efi"))
                        add(c, p_path, "a driver file ending in .efi", "\"%s\"", path);
                if (strv_contains(seen, path))
                        add(c, p_path, "each driver once", "a duplicate of \"%s\"", path);
                seen = strv_push(seen, path);
                if (early && !streq(path, "OpenVariableRuntimeDxe.efi") &&
                    !streq(path, "OpenRuntime.efi")) {
                        _cleanup_free_ char *p_le = pl_path_join_key(base, "LoadEarly");
                        add(c, p_le, "false (only OpenVariableRuntimeDxe and OpenRuntime)", "true");
                }
                if (en) {
                        if (streq(path, "HfsPlus.efi") || streq(path, "HfsPlusLegacy.efi") ||
                            streq(path, "OpenHfsPlus.efi") || streq(path, "HfsPlus32.efi"))
                                hfs++;
                        check_exists(c, p_path, "Drivers", path, NULL);
                }
        }
        if (hfs > 1)
                add(c, "UEFI.Drivers", "exactly one HFS+ driver", "%zu HFS+ drivers", hfs);
        if (hfs > 0 && !bool_at(c, "UEFI.ConnectDrivers"))
                add(c, "UEFI.ConnectDrivers", "true (an HFS+ driver is loaded)", "false");
        if (bool_at(c, "UEFI.Quirks.RequestBootVarRouting") &&
            !driver_enabled(c, "OpenRuntime.efi", NULL))
                add(c, "UEFI.Quirks.RequestBootVarRouting", "OpenRuntime.efi in UEFI.Drivers",
                    "true without OpenRuntime.efi");
        static const char *const gop[] = { "Enabled", "Disabled", "Apple", NULL };
        static const char *const renderers[] = { "BuiltinGraphics", "BuiltinText",
                                                 "SystemGraphics",  "SystemText",
                                                 "SystemGeneric",   NULL };
        static const char *const initial[] = { "Auto", "Text", "Graphics", NULL };
        static const char *const ksm[] = { "Auto", "V1", "V2", "AMI", NULL };
        static const char *const events[] = { "Auto", "Builtin", "OEM", NULL };
        static const char *const chime[] = { "Auto", "Enabled", "Disabled", NULL };
        check_enum(c, "UEFI.Output.GopPassThrough", gop);
        check_enum(c, "UEFI.Output.TextRenderer", renderers);
        check_enum(c, "UEFI.Output.InitialMode", initial);
        check_enum(c, "UEFI.Input.KeySupportMode", ksm);
        check_enum(c, "UEFI.AppleInput.AppleEvent", events);
        check_enum(c, "UEFI.Audio.PlayChime", chime);
        const char *res = str_at(c, "UEFI.Output.Resolution");
        unsigned w = 0, h = 0, bpp;
        char tail;
        if (res && *res && !streq(res, "Max")) {
                int n = sscanf(res, "%ux%u@%u%c", &w, &h, &bpp, &tail);
                if (!(n == 3 || (sscanf(res, "%ux%u%c", &w, &h, &tail) == 2)) || !w || !h)
                        add(c, "UEFI.Output.Resolution", "WIDTHxHEIGHT[@BPP], Max or empty",
                            "\"%s\"", res);
        }
        int64_t ui = int_at(c, "UEFI.Output.UIScale");
        if (ui < -1 || ui > 2)
                add(c, "UEFI.Output.UIScale", "-1, 0, 1 or 2", "%" PRId64, ui);
        int64_t bars = int_at(c, "UEFI.Quirks.ResizeGpuBars");
        if (bars < -1 || bars > 19)
                add(c, "UEFI.Quirks.ResizeGpuBars", "-1..19", "%" PRId64, bars);
        const struct pl_node *rm = at(c, "UEFI.ReservedMemory");
        for (size_t i = 0; i < pl_count(rm); i++) {
                const struct pl_node *e = pl_array_get(rm, i);
                int64_t a = 0, s = 0;
                pl_dict_get_integer(e, "Address", &a);
                pl_dict_get_integer(e, "Size", &s);
                if (a % 4096 != 0 || s % 4096 != 0 || s == 0) {
                        _cleanup_free_ char *p = pl_path_join_index("UEFI.ReservedMemory", i);
                        add(c, p, "a page-aligned Address and a non-zero page-aligned Size",
                            "Address %" PRId64 ", Size %" PRId64, a, s);
                }
        }
        /* ...and the tables and tools the config names. */
        const struct pl_node *acpi = at(c, "ACPI.Add");
        _cleanup_strv_free_ char **acpi_seen = NULL;
        for (size_t i = 0; i < pl_count(acpi); i++) {
                const struct pl_node *e = pl_array_get(acpi, i);
                _cleanup_free_ char *base = pl_path_join_index("ACPI.Add", i);
                _cleanup_free_ char *p_path = pl_path_join_key(base, "Path");
                const char *path = pl_dict_get_string(e, "Path");
                bool en = false;
                pl_dict_get_bool(e, "Enabled", &en);
                if (!path)
                        continue;
                if (!endswith(path, ".aml") && !endswith(path, ".bin"))
                        add(c, p_path, "a path ending in .aml or .bin", "\"%s\"", path);
                check_file_path(c, p_path, path, false);
                if (strv_contains(acpi_seen, path))
                        add(c, p_path, "each table once", "a duplicate of \"%s\"", path);
                acpi_seen = strv_push(acpi_seen, path);
                if (en)
                        check_exists(c, p_path, "ACPI", path, NULL);
        }
        const struct pl_node *tools = at(c, "Misc.Tools");
        _cleanup_strv_free_ char **tool_seen = NULL;
        for (size_t i = 0; i < pl_count(tools); i++) {
                const struct pl_node *e = pl_array_get(tools, i);
                _cleanup_free_ char *base = pl_path_join_index("Misc.Tools", i);
                _cleanup_free_ char *p_path = pl_path_join_key(base, "Path");
                const char *path = pl_dict_get_string(e, "Path");
                bool en = false;
                pl_dict_get_bool(e, "Enabled", &en);
                if (!path)
                        continue;
                check_file_path(c, p_path, path, false);
                if (strv_contains(tool_seen, path))
                        add(c, p_path, "each tool once", "a duplicate of \"%s\"", path);
                tool_seen = strv_push(tool_seen, path);
                if (en)
                        check_exists(c, p_path, "Tools", path, NULL);
        }
}

static void check_booter_misc(struct vctx *c)
{
        bool custom_slide = bool_at(c, "Booter.Quirks.ProvideCustomSlide");
        static const char *const need_slide[] = { "Booter.Quirks.AllowRelocationBlock",
                                                  "Booter.Quirks.EnableSafeModeSlide", NULL };
        for (size_t i = 0; need_slide[i]; i++)
                if (bool_at(c, need_slide[i]) && !custom_slide)
                        add(c, need_slide[i], "false, or Booter.Quirks.ProvideCustomSlide true",
                            "true with ProvideCustomSlide false");
        if (int_at(c, "Booter.Quirks.ProvideMaxSlide") > 0 && !custom_slide)
                add(c, "Booter.Quirks.ProvideMaxSlide", "0, or ProvideCustomSlide true", "%" PRId64,
                    int_at(c, "Booter.Quirks.ProvideMaxSlide"));
        int64_t bars = int_at(c, "Booter.Quirks.ResizeAppleGpuBars");
        if (bars != 0 && bars != -1)
                add(c, "Booter.Quirks.ResizeAppleGpuBars", "0 or -1", "%" PRId64, bars);
        bool runtime = driver_enabled(c, "OpenRuntime.efi", NULL);
        static const char *const need_runtime[] = { "Booter.Quirks.DisableVariableWrite",
                                                    "Booter.Quirks.EnableWriteUnprotector",
                                                    "Booter.Quirks.ProvideCustomSlide",
                                                    "Booter.Quirks.ClearTaskSwitchBit", NULL };
        for (size_t i = 0; need_runtime[i]; i++)
                if (bool_at(c, need_runtime[i]) && !runtime)
                        add(c, need_runtime[i], "OpenRuntime.efi in UEFI.Drivers",
                            "true without OpenRuntime.efi");
        const struct pl_node *bp = at(c, "Booter.Patch");
        for (size_t i = 0; i < pl_count(bp); i++) {
                const char *arch = pl_dict_get_string(pl_array_get(bp, i), "Arch");
                if (arch && !arch_ok(arch)) {
                        _cleanup_free_ char *p = pl_path_join_index("Booter.Patch", i);
                        _cleanup_free_ char *q = pl_path_join_key(p, "Arch");
                        add(c, q, "Any, i386 or x86_64", "\"%s\"", arch);
                }
        }

        static const char *const hib[] = { "None", "Auto", "RTC", "NVRAM", NULL };
        static const char *const picker[] = { "Builtin", "External", "Apple", NULL };
        static const char *const launcher[] = { "Disabled", "Full", "Short", "System", NULL };
        static const char *const dmg[] = { "Disabled", "Signed", "Any", NULL };
        static const char *const vault[] = { "Optional", "Basic", "Secure", NULL };
        static const char *const sbm[] = { "Default", "Disabled", "j137",  "j680",      "j132",
                                           "j174",    "j140k",    "j780",  "j213",      "j140a",
                                           "j152f",   "j160",     "j230k", "j214k",     "j223",
                                           "j215",    "j185",     "j185f", "x86legacy", NULL };
        check_enum(c, "Misc.Boot.HibernateMode", hib);
        check_enum(c, "Misc.Boot.PickerMode", picker);
        check_enum(c, "Misc.Boot.LauncherOption", launcher);
        check_enum(c, "Misc.Security.DmgLoading", dmg);
        check_enum(c, "Misc.Security.Vault", vault);
        check_enum(c, "Misc.Security.SecureBootModel", sbm);
        if (streq_ptr(str_at(c, "Misc.Security.DmgLoading"), "Any") &&
            !streq_ptr(str_at(c, "Misc.Security.SecureBootModel"), "Disabled"))
                add(c, "Misc.Security.DmgLoading", "Signed or Disabled (SecureBootModel is on)",
                    "\"Any\"");
        const char *lp = str_at(c, "Misc.Boot.LauncherPath");
        if (lp && !*lp)
                add(c, "Misc.Boot.LauncherPath", "a path or Default", "an empty string");
        const char *pv = str_at(c, "Misc.Boot.PickerVariant");
        if (pv && !*pv)
                add(c, "Misc.Boot.PickerVariant", "a variant or Auto", "an empty string");
        const char *ii = str_at(c, "Misc.Boot.InstanceIdentifier");
        if (ii && strchr(ii, ','))
                add(c, "Misc.Boot.InstanceIdentifier", "no commas", "\"%s\"", ii);
        if (bool_at(c, "Misc.Boot.PickerAudioAssist") && !bool_at(c, "UEFI.Audio.AudioSupport"))
                add(c, "Misc.Boot.PickerAudioAssist", "false, or UEFI.Audio.AudioSupport true",
                    "true");
        if (driver_enabled(c, "OpenCanopy.efi", NULL) &&
            !streq_ptr(str_at(c, "Misc.Boot.PickerMode"), "External"))
                add(c, "Misc.Boot.PickerMode", "External (OpenCanopy.efi is loaded)", "\"%s\"",
                    strempty(str_at(c, "Misc.Boot.PickerMode")));
        int64_t scan = int_at(c, "Misc.Security.ScanPolicy");
        if (scan != 0) {
                /* Bits 0/1 lock file systems/devices; 8..23 are file-system and device types. */
                const int64_t known = 0x3 | 0xFF00 | 0xFF0000 | 0x1000000;
                if (scan & ~known)
                        add(c, "Misc.Security.ScanPolicy", "only known bits", "0x%" PRIx64,
                            (uint64_t) scan);
                if ((scan & 0xFF00) && !(scan & 0x1))
                        add(c, "Misc.Security.ScanPolicy",
                            "bit 0 (OC_SCAN_FILE_SYSTEM_LOCK) with file-system bits", "0x%" PRIx64,
                            (uint64_t) scan);
                if ((scan & 0xFF0000) && !(scan & 0x2))
                        add(c, "Misc.Security.ScanPolicy",
                            "bit 1 (OC_SCAN_DEVICE_LOCK) with device bits", "0x%" PRIx64,
                            (uint64_t) scan);
        }
        if (bool_at(c, "Misc.Security.AuthRestart"))
                add(c, "Misc.Security.AuthRestart",
                    "false (it needs VirtualSMC, which a VM must "
                    "not load)",
                    "true");
}

static bool guid_ok(const char *s)
{
        struct uuid u;
        return uuid_parse(s, &u) == 0;
}

static void check_nvram_platform(struct vctx *c)
{
        static const char *const maps[] = { "NVRAM.Add", "NVRAM.Delete", "NVRAM.LegacySchema",
                                            NULL };
        for (size_t m = 0; maps[m]; m++) {
                const struct pl_node *d = at(c, maps[m]);
                for (size_t i = 0; i < pl_count(d); i++) {
                        const char *g = pl_dict_key_at(d, i);
                        if (g[0] != '#' && !guid_ok(g)) {
                                _cleanup_free_ char *p = pl_path_join_key(maps[m], g);
                                add(c, p, "a GUID (8-4-4-4-12 hex)", "\"%s\"", g);
                        }
                }
        }
        const struct pl_node *boot =
                pl_dict_get(at(c, "NVRAM.Add"), "7C436110-AB2A-4BBB-A880-FE41995C9F82");
        const struct pl_node *csr = pl_dict_get(boot, "csr-active-config");
        size_t len;
        if (csr && (!pl_data(csr, &len) || len != 4))
                add(c, "NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.csr-active-config",
                    "4 bytes of data", "%s", pl_is(csr, PL_DATA) ? "another length" : "not data");
        if (pl_dict_get(boot, "csr-active-status"))
                add(c, "NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.csr-active-status",
                    "csr-active-config (4 bytes)", "csr-active-status, a name macOS ignores");
        const struct pl_node *ba = pl_dict_get(boot, "boot-args");
        if (ba && !pl_is(ba, PL_STRING))
                add(c, "NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.boot-args", "a string", "%s",
                    article_type(ba));
        const struct pl_node *ui = pl_dict_get(
                pl_dict_get(at(c, "NVRAM.Add"), "4D1EDE05-38C7-4A6A-9CC6-4BCCA8B38C14"), "UIScale");
        const uint8_t *uid = ui ? pl_data(ui, &len) : NULL;
        if (ui && (!uid || len != 1 || (uid[0] != 1 && uid[0] != 2)))
                add(c, "NVRAM.Add.4D1EDE05-38C7-4A6A-9CC6-4BCCA8B38C14.UIScale", "1 byte, 01 or 02",
                    "another value");

        static const char *const modes[] = { "TryOverwrite", "Create", "Overwrite", "Custom",
                                             NULL };
        check_enum(c, "PlatformInfo.UpdateSMBIOSMode", modes);
        if (bool_at(c, "PlatformInfo.Automatic")) {
                static const char *const mem[] = { "Auto", "Upgradable", "Soldered", NULL };
                check_enum(c, "PlatformInfo.Generic.SystemMemoryStatus", mem);
                const char *model = str_at(c, "PlatformInfo.Generic.SystemProductName");
                if (model && c->o && c->o->models && !smbios_db_find(c->o->models, model))
                        add(c, "PlatformInfo.Generic.SystemProductName",
                            "a Mac model OpenCore "
                            "knows",
                            "\"%s\"", model);
                const char *uuid = str_at(c, "PlatformInfo.Generic.SystemUUID");
                if (uuid && *uuid && !streq(uuid, "OEM") && !guid_ok(uuid))
                        add(c, "PlatformInfo.Generic.SystemUUID", "empty, OEM or a GUID", "\"%s\"",
                            uuid);
        }
        /* Formats ocvalidate leaves alone: Apple's services reject malformed or shared ones. */
        const char *serial = str_at(c, "PlatformInfo.Generic.SystemSerialNumber");
        if (serial && *serial && c->o && c->o->models) {
                struct smbios_serial_info si;
                _cleanup_free_ char *err = NULL;
                if (smbios_decode_serial(c->o->models, serial, &si, &err) < 0)
                        add(c, "PlatformInfo.Generic.SystemSerialNumber",
                            "an 11- or 12-character Apple serial", "\"%s\"", serial);
                else if (!si.valid)
                        add(c, "PlatformInfo.Generic.SystemSerialNumber", "a valid serial",
                            "\"%s\" (%s)", serial, si.problem);
        }
        const char *mlb = str_at(c, "PlatformInfo.Generic.MLB");
        if (mlb && *mlb && !smbios_mlb_checksum_ok(mlb))
                add(c, "PlatformInfo.Generic.MLB", "a board serial with a valid checksum", "\"%s\"",
                    mlb);
        static const char *const ids[] = { "PlatformInfo.Generic.SystemSerialNumber",
                                           "PlatformInfo.Generic.MLB",
                                           "PlatformInfo.Generic.SystemUUID", NULL };
        for (size_t i = 0; ids[i]; i++) {
                const char *v = str_at(c, ids[i]);
                const char *why = v ? smbios_denied(v) : NULL;
                if (why)
                        add(c, ids[i], "an identity of this VM's own (darwinkvm smbios apply)",
                            "\"%s\", %s", v, why);
        }
        if (bool_at(c, "PlatformInfo.CustomMemory") &&
            !pl_is(at(c, "PlatformInfo.Memory"), PL_DICT))
                add(c, "PlatformInfo.Memory", "a Memory dict (CustomMemory is true)", "none");
}

/* ---- the VM lint: what no upstream checker knows about QEMU/KVM guests ---- */

static bool boot_args_have(const struct vctx *c, const char *arg)
{
        const char *ba = pl_string(
                pl_dict_get(pl_dict_get(at(c, "NVRAM.Add"), "7C436110-AB2A-4BBB-A880-FE41995C9F82"),
                            "boot-args"));
        if (!ba)
                return false;
        _cleanup_strv_free_ char **words = strv_split(ba, " ");
        for (size_t i = 0; words && words[i]; i++)
                if (streq(words[i], arg) || (endswith(arg, "=") && startswith(words[i], arg)))
                        return true;
        return false;
}

static void check_vm(struct vctx *c, bool have_weg, bool have_nootrx, bool have_vmhide,
                     bool have_mce, bool have_vsmc)
{
        const char *model = str_at(c, "PlatformInfo.Generic.SystemProductName");
        unsigned v = 0;
        bool known_v = c->o && c->o->macos && macos_version_parse(c->o->macos, &v) == 0;
        if (have_vsmc)
                add(c, "Kernel.Add", "no VirtualSMC/FakeSMC (QEMU's isa-applesmc is the SMC)",
                    "an SMC emulator kext");
        if (have_weg && have_nootrx)
                add(c, "Kernel.Add", "NootRX or WhateverGreen, never both", "both");
        if (boot_args_have(c, "agdpmod=") && !have_weg)
                add(c, "NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.boot-args",
                    "agdpmod only with WhateverGreen.kext", "agdpmod without WhateverGreen");
        if (model && !startswith(model, "MacPro"))
                add(c, "PlatformInfo.Generic.SystemProductName",
                    "a Mac Pro model (MacPro7,1 or MacPro5,1 and older)", "\"%s\"", model);
        bool modern = streq_ptr(model, "MacPro7,1");
        if (modern && !have_vmhide && (!known_v || v >= 1400))
                add(c, "Kernel.Add", "VMHide.kext (Sonoma Bluetooth, Sequoia Apple ID)",
                    "no VMHide.kext");
        if (modern && !have_mce && (!known_v || v >= 1203))
                add(c, "Kernel.Add", "AppleMCEReporterDisabler.kext (Monterey 12.3+ on KVM)",
                    "none");
        if ((streq_ptr(model, "MacPro5,1") || streq_ptr(model, "MacPro4,1")) &&
            !boot_args_have(c, "-nehalem_error_disable"))
                add(c, "NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.boot-args",
                    "-nehalem_error_disable (Q35 memory has no ECC)", "without it");
        size_t hfs_new = 0, hfs_legacy = 0;
        driver_enabled(c, "HfsPlus.efi", &hfs_new);
        driver_enabled(c, "OpenHfsPlus.efi", &hfs_new);
        driver_enabled(c, "HfsPlusLegacy.efi", &hfs_legacy);
        if (model && startswith(model, "MacPro") && !modern && hfs_new)
                add(c, "UEFI.Drivers", "HfsPlusLegacy.efi on the legacy profile",
                    "HfsPlus.efi or OpenHfsPlus.efi");
        if (modern && hfs_legacy)
                add(c, "UEFI.Drivers", "HfsPlus.efi or OpenHfsPlus.efi on MacPro7,1",
                    "HfsPlusLegacy.efi");
        const char *sbm = str_at(c, "Misc.Security.SecureBootModel");
        if (sbm && model && startswith(model, "MacPro") && !modern && !streq(sbm, "Disabled"))
                add(c, "Misc.Security.SecureBootModel", "Disabled on the legacy profile", "\"%s\"",
                    sbm);
        const char *res = str_at(c, "UEFI.Output.Resolution");
        unsigned w = 0, h = 0;
        if (res && sscanf(res, "%ux%u", &w, &h) == 2 && (w > 2560 || h > 1600))
                add(c, "UEFI.Output.Resolution",
                    "at most 2560x1600 (the largest OVMF GOP mode), "
                    "or Max",
                    "\"%s\"", res);
        if (!known_v)
                return;
        char ver[16];
        macos_version_format(v, ver, sizeof(ver));
        if (model && modern && v < 1015)
                add(c, "PlatformInfo.Generic.SystemProductName",
                    "MacPro5,1 or older for macOS before Catalina", "MacPro7,1 for %s", ver);
        if (model && startswith(model, "MacPro") && !modern && v >= 1015)
                add(c, "PlatformInfo.Generic.SystemProductName", "MacPro7,1 for Catalina and later",
                    "%s for %s", model, ver);
        if (sbm && !streq(sbm, "Disabled") && v < 1100 &&
            (streq(sbm, "Default") || streq(sbm, "x86legacy")))
                add(c, "Misc.Security.SecureBootModel", "Disabled (or a j-model) before Big Sur",
                    "\"%s\" for %s", sbm, ver);
        if (v >= 1300 && c->o->host_avx2 == 0)
                add(c, "(host).cpu.avx2", "AVX2 for macOS 13 and later",
                    "a CPU without AVX2 (CryptexFixup can boot it, without AMD GPU acceleration)");
        if (v < 1006 && streq_ptr(str_at(c, "Kernel.Scheme.KernelArch"), "x86_64"))
                add(c, "Kernel.Scheme.KernelArch", "i386 for Tiger and Leopard", "\"x86_64\"");
}

void oc_validate(const struct oc_schema *s, const struct pl_node *config,
                 const struct oc_validate_options *o, struct oc_findings *ret)
{
        struct vctx c = { .s = s, .config = config, .o = o, .f = ret };
        if (!pl_is(config, PL_DICT)) {
                add(&c, "", "a dict", "%s", article_type(config));
                return;
        }
        check_dict(&c, &s->root, config, "");
        bool lilu = false, weg = false, nootrx = false, vmhide = false, mce = false, vsmc = false;
        check_kernel(&c, &lilu, &weg, &nootrx, &vmhide, &mce, &vsmc);
        check_uefi(&c);
        check_booter_misc(&c);
        check_nvram_platform(&c);
        check_vm(&c, weg, nootrx, vmhide, mce, vsmc);
}
