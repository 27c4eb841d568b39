/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "opencore.h"
#include "strutil.h"
#include "strv.h"

void oc_snapshot_report_release(struct oc_snapshot_report *r)
{
        strv_free(r->added);
        strv_free(r->removed);
        strv_free(r->problems);
        *r = (struct oc_snapshot_report){ 0 };
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Names in @dir ending in one of @suffixes (NULL-terminated), sorted bytewise. */
static char **list_dir(const char *dir, const char *const *suffixes, bool want_dirs)
{
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return NULL;
        char **l = NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                bool match = false;
                for (size_t i = 0; suffixes[i]; i++)
                        match |= endswith(de->d_name, suffixes[i]) &&
                                 strlen(de->d_name) > strlen(suffixes[i]);
                if (!match)
                        continue;
                _cleanup_free_ char *full = xasprintf("%s/%s", dir, de->d_name);
                struct stat st;
                if (stat(full, &st) < 0 || S_ISDIR(st.st_mode) != want_dirs)
                        continue;
                l = strv_push(l, de->d_name);
        }
        if (l)
                qsort(l, strv_length(l), sizeof(char *), cmp_str);
        return l;
}

static bool file_exists(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

struct kext {
        char *bundle; /* "Lilu.kext" or "A.kext/Contents/PlugIns/B.kext" */
        char *id;
        char *executable; /* relative to the bundle, "" for plist-only */
        char **deps;      /* OSBundleLibraries identifiers */
        size_t rank;      /* base order: existing entries first, then by name */
        bool placed;
};

static void kexts_free(struct kext *k, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(k[i].bundle);
                free(k[i].id);
                free(k[i].executable);
                strv_free(k[i].deps);
        }
        free(k);
}

static void scan_kexts(const char *root, const char *rel, struct kext **list, size_t *n,
                       size_t *cap, struct oc_snapshot_report *rep, unsigned depth)
{
        _cleanup_free_ char *dir =
                rel ? xasprintf("%s/%s/Contents/PlugIns", root, rel) : xstrdup(root);
        static const char *const sfx[] = { ".kext", NULL };
        _cleanup_strv_free_ char **names = list_dir(dir, sfx, true);
        for (size_t i = 0; names && names[i]; i++) {
                _cleanup_free_ char *bundle =
                        rel ? xasprintf("%s/Contents/PlugIns/%s", rel, names[i])
                            : xstrdup(names[i]);
                _cleanup_free_ char *info = xasprintf("%s/%s/Contents/Info.plist", root, bundle);
                _cleanup_pl_ struct pl_node *pl = NULL;
                _cleanup_free_ char *err = NULL;
                if (pl_load_dict_file(AT_FDCWD, info, &pl, NULL, &err) < 0) {
                        rep->problems = strv_consume(rep->problems,
                                                     xasprintf("%s: skipped: %s", bundle, err));
                        continue;
                }
                GROW(*list, *cap, *n + 1);
                struct kext *k = &(*list)[(*n)++];
                *k = (struct kext){ .bundle = xstrdup(bundle) };
                k->id = xstrdup(strempty(pl_dict_get_string(pl, "CFBundleIdentifier")));
                const char *exe = pl_dict_get_string(pl, "CFBundleExecutable");
                k->executable = xstrdup("");
                if (exe && *exe) {
                        _cleanup_free_ char *rel_exe = xasprintf("Contents/MacOS/%s", exe);
                        _cleanup_free_ char *full = xasprintf("%s/%s/%s", root, bundle, rel_exe);
                        if (file_exists(full))
                                free_and_strdup(&k->executable, rel_exe);
                        else
                                rep->problems = strv_consume(
                                        rep->problems,
                                        xasprintf("%s: executable %s is missing", bundle, rel_exe));
                }
                const struct pl_node *libs = pl_dict_get_dict(pl, "OSBundleLibraries");
                for (size_t j = 0; j < pl_count(libs); j++)
                        k->deps = strv_push(k->deps, pl_dict_key_at(libs, j));
                if (depth < 4)
                        scan_kexts(root, bundle, list, n, cap, rep, depth + 1);
        }
}

static ssize_t find_entry(const struct pl_node *arr, const char *key, const char *value)
{
        for (size_t i = 0; i < pl_count(arr); i++)
                if (streq_ptr(pl_dict_get_string(pl_array_get(arr, i), key), value))
                        return (ssize_t) i;
        return -1;
}

static const struct kext *kext_by_id(const struct kext *k, size_t n, const char *id)
{
        for (size_t i = 0; i < n; i++)
                if (*k[i].id && streq(k[i].id, id))
                        return &k[i];
        return NULL;
}

static bool depends_on(const struct kext *a, const struct kext *b, const struct kext *all, size_t n)
{
        /* A plug-in needs its enclosing bundle loaded first. */
        size_t lb = strlen(b->bundle);
        if (strncmp(a->bundle, b->bundle, lb) == 0 && startswith(a->bundle + lb, "/Contents/"))
                return true;
        for (size_t i = 0; a->deps && a->deps[i]; i++) {
                const struct kext *d = kext_by_id(all, n, a->deps[i]);
                if (d == b)
                        return true;
        }
        return false;
}

/* Rebuilds one simple array (ACPI, Drivers, Tools) from the files, keeping existing entries. */
static void snapshot_simple(const struct oc_schema *s, struct pl_node *arr, const char *schema_path,
                            const char *label, char **files, bool clean, bool tools,
                            struct oc_snapshot_report *rep)
{
        _cleanup_pl_ struct pl_node *old = pl_copy(arr);
        while (pl_count(arr) > 0)
                pl_array_remove(arr, pl_count(arr) - 1);
        /* Existing entries in their order, then new files by name. */
        for (size_t i = 0; !clean && i < pl_count(old); i++) {
                const struct pl_node *e = pl_array_get(old, i);
                const char *path = pl_dict_get_string(e, "Path");
                if (path && strv_contains(files, path))
                        pl_array_append(arr, pl_copy(e));
                else
                        rep->removed = strv_consume(
                                rep->removed, xasprintf("%s: %s (file gone)", label, strna(path)));
        }
        for (size_t i = 0; files && files[i]; i++) {
                if (find_entry(arr, "Path", files[i]) >= 0)
                        continue;
                struct pl_node *e = oc_entry_new(s, schema_path);
                pl_dict_set(e, "Enabled", pl_new_bool(true));
                pl_dict_set(e, "Path", pl_new_string(files[i]));
                if (tools) {
                        _cleanup_free_ char *name = xstrndup(files[i], strlen(files[i]) - 4);
                        pl_dict_set(e, "Name", pl_new_string(name));
                }
                pl_array_append(arr, e);
                rep->added = strv_consume(rep->added, xasprintf("%s: %s", label, files[i]));
        }
}

int oc_snapshot(const struct oc_schema *s, struct pl_node *config, const char *oc_dir, bool clean,
                struct oc_snapshot_report *rep, char **reterr)
{
        struct stat st;
        if (stat(oc_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                *reterr = xasprintf("%s: not a directory (expected the EFI/OC folder)", oc_dir);
                return -ENOTDIR;
        }

        struct {
                const char *sub, *path, *schema_path, *label;
                const char *const *suffixes;
                bool tools;
        } simple[] = {
                { "ACPI", "ACPI.Add", "ACPI > Add[]", "ACPI.Add",
                  (const char *const[]){ ".aml", ".bin", NULL }, false },
                { "Drivers", "UEFI.Drivers", "UEFI > Drivers[]", "UEFI.Drivers",
                  (const char *const[]){ ".efi", NULL }, false },
                { "Tools", "Misc.Tools", "Misc > Tools[]", "Misc.Tools",
                  (const char *const[]){ ".efi", NULL }, true },
        };

        for (size_t i = 0; i < ELEMENTSOF(simple); i++) {
                struct pl_node *arr = NULL;
                _cleanup_free_ char *err = NULL;
                if (pl_path_get(config, simple[i].path, &arr, &err) < 0 || !pl_is(arr, PL_ARRAY)) {
                        *reterr = xasprintf("config: %s: %s", simple[i].path,
                                            err ? err : "not an array");
                        return -EINVAL;
                }
                _cleanup_free_ char *dir = xasprintf("%s/%s", oc_dir, simple[i].sub);
                _cleanup_strv_free_ char **files = list_dir(dir, simple[i].suffixes, false);
                snapshot_simple(s, arr, simple[i].schema_path, simple[i].label, files, clean,
                                simple[i].tools, rep);
        }

        /* Kexts: scan, keep settings of existing entries, order dependencies first. */
        struct pl_node *kadd = NULL;
        _cleanup_free_ char *err = NULL;
        if (pl_path_get(config, "Kernel.Add", &kadd, &err) < 0 || !pl_is(kadd, PL_ARRAY)) {
                *reterr = xasprintf("config: Kernel.Add: %s", err ? err : "not an array");
                return -EINVAL;
        }
        _cleanup_free_ char *kdir = xasprintf("%s/Kexts", oc_dir);
        struct kext *ks = NULL;
        size_t n = 0, cap = 0;
        scan_kexts(kdir, NULL, &ks, &n, &cap, rep, 0);
        _cleanup_pl_ struct pl_node *old = pl_copy(kadd);
        for (size_t i = 0; i < n; i++) {
                ssize_t at = clean ? -1 : find_entry(old, "BundlePath", ks[i].bundle);
                ks[i].rank = at >= 0 ? (size_t) at : pl_count(old) + i;
        }
        for (size_t i = 0; !clean && i < pl_count(old); i++) {
                const char *b = pl_dict_get_string(pl_array_get(old, i), "BundlePath");
                bool present = false;
                for (size_t j = 0; j < n; j++)
                        present |= streq_ptr(b, ks[j].bundle);
                if (!present)
                        rep->removed = strv_consume(
                                rep->removed, xasprintf("Kernel.Add: %s (bundle gone)", strna(b)));
        }
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; ks[i].deps && ks[i].deps[j]; j++) {
                        const char *d = ks[i].deps[j];
                        if (!startswith(d, "com.apple.") && !kext_by_id(ks, n, d))
                                rep->problems = strv_consume(
                                        rep->problems,
                                        xasprintf("%s needs %s, which no kext in Kexts/ provides",
                                                  ks[i].bundle, d));
                }
        while (pl_count(kadd) > 0)
                pl_array_remove(kadd, pl_count(kadd) - 1);
        /* Kahn's algorithm, lowest rank first among the ready ones. */
        bool cycle_reported = false;
        for (size_t placed = 0; placed < n;) {
                ssize_t best = -1;
                for (size_t i = 0; i < n; i++) {
                        if (ks[i].placed)
                                continue;
                        bool ready = true;
                        for (size_t j = 0; j < n && ready; j++)
                                if (j != i && !ks[j].placed && depends_on(&ks[i], &ks[j], ks, n))
                                        ready = false;
                        if (ready && (best < 0 || ks[i].rank < ks[best].rank))
                                best = (ssize_t) i;
                }
                if (best < 0) {
                        /* A cycle: report it and place the rest in base order. */
                        _cleanup_strv_free_ char **left = NULL;
                        for (size_t i = 0; i < n; i++)
                                if (!ks[i].placed)
                                        left = strv_push(left, ks[i].bundle);
                        _cleanup_free_ char *joined = strv_join(left, ", ");
                        if (!cycle_reported)
                                rep->problems = strv_consume(
                                        rep->problems,
                                        xasprintf("dependency cycle among %s: kept in name order",
                                                  joined));
                        cycle_reported = true;
                        for (size_t i = 0; i < n; i++)
                                if (!ks[i].placed && (best < 0 || ks[i].rank < ks[best].rank))
                                        best = (ssize_t) i;
                }
                struct kext *k = &ks[best];
                k->placed = true;
                placed++;
                ssize_t at = clean ? -1 : find_entry(old, "BundlePath", k->bundle);
                struct pl_node *e;
                if (at >= 0)
                        e = pl_copy(pl_array_get(old, (size_t) at));
                else {
                        e = oc_entry_new(s, "Kernel > Add[]");
                        pl_dict_set(e, "Enabled", pl_new_bool(true));
                        pl_dict_set(e, "BundlePath", pl_new_string(k->bundle));
                        rep->added =
                                strv_consume(rep->added, xasprintf("Kernel.Add: %s", k->bundle));
                }
                pl_dict_set(e, "ExecutablePath", pl_new_string(k->executable));
                pl_dict_set(e, "PlistPath", pl_new_string("Contents/Info.plist"));
                pl_array_append(kadd, e);
        }
        kexts_free(ks, n);
        return 0;
}
