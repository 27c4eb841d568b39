/* SPDX-License-Identifier: MIT */
#include "assets.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <strings.h>
#include <sys/stat.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"
#include "strutil.h"
#include "strv.h"
#include "tsv.h"
#include "unzip.h"

static const char *const asset_columns[] = { "name", "version", "kind", "url",
                                             "size", "sha256",  NULL };

struct asset_table *asset_table_free(struct asset_table *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n; i++) {
                free(t->items[i].name);
                free(t->items[i].version);
                free(t->items[i].kind);
                free(t->items[i].url);
        }
        free(t->items);
        free(t->path);
        free(t);
        return NULL;
}

int asset_table_load(const char *path, struct asset_table **ret, char **reterr)
{
        _cleanup_(tsv_freep) struct tsv *tsv = NULL;
        int r = tsv_load(path, 1 << 20, &tsv, reterr);
        if (r < 0)
                return r;
        r = tsv_require_columns(tsv, asset_columns, reterr);
        if (r < 0)
                return r;
        int c[6];
        for (int i = 0; i < 6; i++)
                c[i] = tsv_column(tsv, asset_columns[i]);
        _cleanup_(asset_table_freep) struct asset_table *t = xcalloc(1, sizeof(*t));
        t->path = xstrdup(path);
        t->items = xcalloc(tsv->n_rows ? tsv->n_rows : 1, sizeof(*t->items));
        for (size_t i = 0; i < tsv->n_rows; i++) {
                struct asset *a = &t->items[t->n++];
                a->name = xstrdup(tsv_field(tsv, i, c[0]));
                a->version = xstrdup(tsv_field(tsv, i, c[1]));
                a->kind = xstrdup(tsv_field(tsv, i, c[2]));
                a->url = xstrdup(tsv_field(tsv, i, c[3]));
                const char *size = tsv_field(tsv, i, c[4]), *sha = tsv_field(tsv, i, c[5]);
                if (!startswith(a->url, "https://") && !startswith(a->url, "http://")) {
                        *reterr = xasprintf("%s:%u: url \"%s\" is not http(s)", path, tsv->lines[i],
                                            a->url);
                        return -EINVAL;
                }
                if (!streq(size, "-") && (parse_u64(size, &a->size) < 0 || a->size == 0)) {
                        *reterr = xasprintf("%s:%u: size \"%s\" is not a byte count or \"-\"", path,
                                            tsv->lines[i], size);
                        return -EINVAL;
                }
                if (!streq(sha, "-")) {
                        if (hex_decode(sha, a->sha256, SHA256_LEN) < 0) {
                                *reterr = xasprintf("%s:%u: sha256 \"%s\" is not 64 hex digits "
                                                    "or \"-\"",
                                                    path, tsv->lines[i], sha);
                                return -EINVAL;
                        }
                        a->pinned = true;
                }
        }
        *ret = TAKE_PTR(t);
        return 0;
}

struct asset *asset_find(const struct asset_table *t, const char *name)
{
        for (size_t i = 0; i < t->n; i++)
                if (strcasecmp(t->items[i].name, name) == 0)
                        return &t->items[i];
        return NULL;
}

static void format_row(struct buf *b, const struct asset *a)
{
        char hex[SHA256_HEX_LEN + 1] = "-";
        if (a->pinned)
                hex_encode(a->sha256, SHA256_LEN, hex);
        buf_printf(b, "%s\t%s\t%s\t%s\t", a->name, a->version, a->kind, a->url);
        if (a->size)
                buf_printf(b, "%" PRIu64, a->size);
        else
                buf_puts(b, "-");
        buf_printf(b, "\t%s\n", hex);
}

int asset_table_save(const struct asset_table *t, const char *path, char **reterr)
{
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = read_file_at(AT_FDCWD, path, 1 << 20, &text, &len, reterr);
        if (r < 0)
                return r;
        _cleanup_buf_ struct buf out = BUF_INIT;
        bool seen_header = false;
        _cleanup_free_ bool *done = xcalloc(t->n + 1, sizeof(bool));
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                bool comment = line[0] == '#' || line[0] == 0;
                if (comment || !seen_header) {
                        /* Comments stay; the first other line is the header row. */
                        seen_header = seen_header || !comment;
                        buf_printf(&out, "%s\n", line);
                        continue;
                }
                size_t nlen = strcspn(line, "\t");
                bool replaced = false;
                for (size_t i = 0; i < t->n && !replaced; i++)
                        if (strlen(t->items[i].name) == nlen &&
                            strncmp(t->items[i].name, line, nlen) == 0) {
                                format_row(&out, &t->items[i]);
                                done[i] = replaced = true;
                        }
                if (!replaced)
                        buf_printf(&out, "%s\n", line);
        }
        for (size_t i = 0; i < t->n; i++)
                if (!done[i])
                        format_row(&out, &t->items[i]);
        return write_file_atomic(AT_FDCWD, path, buf_str(&out), out.len, 0644, reterr);
}

char *asset_file_name(const struct asset *a)
{
        const char *s = strrchr(a->url, '/');
        s = s ? s + 1 : a->url;
        return xstrndup(s, strcspn(s, "?#"));
}

char *asset_url(const struct asset *a, const char *server)
{
        if (!server || !*server)
                return xstrdup(a->url);
        _cleanup_free_ char *file = asset_file_name(a);
        size_t l = strlen(server);
        return xasprintf("%.*s/%s", (int) (l && server[l - 1] == '/' ? l - 1 : l), server, file);
}

int file_sha256(const char *path, uint8_t out[SHA256_LEN], uint64_t *ret_size, char **reterr)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", path, strerror(-r));
                return r;
        }
        _cleanup_(sha256_freep) struct sha256 *h = sha256_new();
        _cleanup_free_ uint8_t *buf = xmalloc(1 << 20);
        uint64_t size = 0;
        for (;;) {
                ssize_t n = read_full(fd, buf, 1 << 20);
                if (n < 0) {
                        *reterr = xasprintf("%s: %s", path, strerror((int) -n));
                        return (int) n;
                }
                if (n == 0)
                        break;
                sha256_update(h, buf, (size_t) n);
                size += (uint64_t) n;
        }
        sha256_final(h, out);
        if (ret_size)
                *ret_size = size;
        return 0;
}

static char *asset_dir(const struct asset *a, const char *cache_dir)
{
        return xasprintf("%s/assets/%s-%s", cache_dir, a->name, a->version);
}

int asset_fetch(const struct asset *a, const struct asset_fetch_options *o, char **ret_path,
                char **ret_warning, char **reterr)
{
        if (!a->pinned && !o->allow_unpinned) {
                *reterr = xasprintf("%s %s is not pinned (sha256 \"-\" in the pin table): its "
                                    "content cannot be checked; a person can record the pin "
                                    "with 'darwinkvm fetch pins --update %s', or pass "
                                    "--allow-unpinned to take it unchecked",
                                    a->name, a->version, a->name);
                return -EPERM;
        }
        _cleanup_free_ char *dir = asset_dir(a, o->cache_dir);
        _cleanup_free_ char *file = asset_file_name(a);
        _cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
        int r = mkdir_p(dir, 0755);
        if (r < 0) {
                *reterr = xasprintf("%s: %s", dir, strerror(-r));
                return r;
        }
        struct download_verify v = { .has_sha256 = a->pinned, .size = a->size };
        memcpy(v.sha256, a->sha256, SHA256_LEN);

        /* A cached copy is used only when it still matches the pin. */
        if (access(path, F_OK) == 0) {
                uint8_t d[SHA256_LEN];
                uint64_t size;
                _cleanup_free_ char *err = NULL;
                if (a->pinned && file_sha256(path, d, &size, &err) == 0 &&
                    memcmp(d, a->sha256, SHA256_LEN) == 0 && (!a->size || size == a->size)) {
                        *ret_path = TAKE_PTR(path);
                        return 0;
                }
                (void) unlink(path);
        }

        _cleanup_free_ char *url = asset_url(a, o->server);
        _cleanup_strv_free_ char **urls = strv_push(xcalloc(1, sizeof(char *)), url);
        STRV_FOREACH(m, o->mirrors) {
                _cleanup_free_ char *u = asset_url(a, *m);
                urls = strv_push(urls, u);
        }
        struct download_options dl = o->download;
        if (!dl.label)
                dl.label = file;
        r = download_file(urls, path, &v, &dl, reterr);
        if (r < 0)
                return r;
        if (!a->pinned && ret_warning)
                *ret_warning = xasprintf("%s %s is NOT pinned: downloaded from %s without any "
                                         "check of its content",
                                         a->name, a->version, url);
        *ret_path = TAKE_PTR(path);
        return 0;
}

int asset_pin_update(struct asset *a, const struct asset_fetch_options *o, bool *ret_changed,
                     char **reterr)
{
        _cleanup_free_ char *dir = asset_dir(a, o->cache_dir);
        _cleanup_free_ char *file = asset_file_name(a);
        _cleanup_free_ char *path = xasprintf("%s/%s.pin", dir, file);
        int r = mkdir_p(dir, 0755);
        if (r < 0) {
                *reterr = xasprintf("%s: %s", dir, strerror(-r));
                return r;
        }
        (void) unlink(path);
        _cleanup_free_ char *url = asset_url(a, o->server);
        char *urls[] = { url, NULL };
        struct download_verify v = { 0 };
        struct download_options dl = o->download;
        if (!dl.label)
                dl.label = file;
        r = download_file(urls, path, &v, &dl, reterr);
        if (r < 0)
                return r;
        uint8_t d[SHA256_LEN];
        uint64_t size;
        r = file_sha256(path, d, &size, reterr);
        (void) unlink(path);
        if (r < 0)
                return r;
        *ret_changed = !a->pinned || memcmp(d, a->sha256, SHA256_LEN) != 0 || a->size != size;
        memcpy(a->sha256, d, SHA256_LEN);
        a->size = size;
        a->pinned = true;
        return 0;
}

/* ---- EFI trees ---- */

const char *const efi_default_drivers[] = { "OpenRuntime", "ResetNvramEntry", "OpenHfsPlus", NULL };

struct oc_map {
        const char *const *drivers;
        bool *found; /* [0] BOOTx64, [1] OpenCore, [2..] drivers */
};

static char *map_opencore(void *userdata, const char *name)
{
        struct oc_map *m = userdata;
        const char *rest = startswith(name, "X64/");
        if (!rest)
                return NULL;
        static const char *const plain[] = {
                "EFI/BOOT/BOOTx64.efi",     "EFI/OC/OpenCore.efi",
                "EFI/BOOT/.contentFlavour", "EFI/BOOT/.contentVisibility",
                "EFI/OC/.contentFlavour",   "EFI/OC/.contentVisibility",
        };
        for (size_t i = 0; i < ELEMENTSOF(plain); i++)
                if (streq(rest, plain[i])) {
                        if (i < 2)
                                m->found[i] = true;
                        return xstrdup(rest);
                }
        const char *drv = startswith(rest, "EFI/OC/Drivers/");
        if (drv)
                for (size_t i = 0; m->drivers[i]; i++) {
                        _cleanup_free_ char *want = xasprintf("%s.efi", m->drivers[i]);
                        if (streq(drv, want)) {
                                m->found[2 + i] = true;
                                return xstrdup(rest);
                        }
                }
        return NULL;
}

static int make_dirs(const char *esp_dir, const char *const *dirs, char **reterr)
{
        for (size_t i = 0; dirs[i]; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", esp_dir, dirs[i]);
                int r = mkdir_p(p, 0755);
                if (r < 0) {
                        *reterr = xasprintf("%s: %s", p, strerror(-r));
                        return r;
                }
        }
        return 0;
}

int efi_install_opencore(const char *zip, const char *esp_dir, const char *const *drivers,
                         char **reterr)
{
        if (!drivers)
                drivers = efi_default_drivers;
        size_t n = 0;
        while (drivers[n])
                n++;
        _cleanup_free_ bool *found = xcalloc(n + 2, sizeof(bool));
        struct oc_map m = { drivers, found };
        /* A dry listing first: a zip without what we need leaves the tree untouched. */
        _cleanup_strv_free_ char **names = NULL;
        int r = unzip_list(zip, &names, reterr);
        if (r < 0)
                return r;
        STRV_FOREACH(s, names)
                free(map_opencore(&m, *s));
        for (size_t i = 0; i < n + 2; i++)
                if (!found[i]) {
                        *reterr = xasprintf("%s: no member X64/EFI/%s%s%s: not an OpenCore "
                                            "release zip, or a build without it",
                                            zip,
                                            i == 0   ? "BOOT/BOOTx64.efi"
                                            : i == 1 ? "OC/OpenCore.efi"
                                                     : "OC/Drivers/",
                                            i >= 2 ? drivers[i - 2] : "", i >= 2 ? ".efi" : "");
                        return -ENOENT;
                }
        r = unzip_extract(zip, esp_dir, map_opencore, &m, NULL, NULL, reterr);
        if (r < 0)
                return r;
        static const char *const dirs[] = {
                "EFI/OC/ACPI",  "EFI/OC/Drivers",   "EFI/OC/Kexts",
                "EFI/OC/Tools", "EFI/OC/Resources", NULL,
        };
        return make_dirs(esp_dir, dirs, reterr);
}

struct kext_map {
        const char *const *only;
        char **kexts;
};

static char *map_kext(void *userdata, const char *name)
{
        struct kext_map *m = userdata;
        size_t top = strcspn(name, "/");
        if (name[top] != '/' || top < 6 || strncmp(name + top - 5, ".kext", 5) != 0)
                return NULL;
        _cleanup_free_ char *bundle = xstrndup(name, top);
        if (m->only) {
                bool ok = false;
                for (size_t i = 0; m->only[i] && !ok; i++) {
                        _cleanup_free_ char *w = xasprintf("%s.kext", m->only[i]);
                        ok = streq(w, bundle) || streq(m->only[i], bundle);
                }
                if (!ok)
                        return NULL;
        }
        if (!strv_contains(m->kexts, bundle))
                m->kexts = strv_push(m->kexts, bundle);
        return xasprintf("EFI/OC/Kexts/%s", name);
}

int efi_install_kext(const char *zip, const char *esp_dir, const char *const *only,
                     char ***ret_kexts, char **reterr)
{
        struct kext_map m = { only, xcalloc(1, sizeof(char *)) };
        _cleanup_strv_free_ char **names = NULL;
        int r = unzip_list(zip, &names, reterr);
        if (r < 0) {
                strv_free(m.kexts);
                return r;
        }
        STRV_FOREACH(s, names)
                free(map_kext(&m, *s));
        /* Each bundle needs its Info.plist: anything else is not a kext zip. */
        STRV_FOREACH(k, m.kexts) {
                _cleanup_free_ char *plist = xasprintf("%s/Contents/Info.plist", *k);
                if (!strv_contains(names, plist)) {
                        *reterr = xasprintf("%s: %s has no Contents/Info.plist", zip, *k);
                        strv_free(m.kexts);
                        return -ENOENT;
                }
        }
        if (!m.kexts[0]) {
                *reterr = xasprintf("%s: no .kext bundle%s", zip,
                                    only ? " of the ones asked for" : "");
                strv_free(m.kexts);
                return -ENOENT;
        }
        strv_free(m.kexts);
        m.kexts = xcalloc(1, sizeof(char *));
        r = unzip_extract(zip, esp_dir, map_kext, &m, NULL, NULL, reterr);
        if (r < 0) {
                strv_free(m.kexts);
                return r;
        }
        if (ret_kexts)
                *ret_kexts = m.kexts;
        else
                strv_free(m.kexts);
        return 0;
}

int efi_install_driver(const char *efi_file, const char *esp_dir, char **reterr)
{
        _cleanup_free_ char *data = NULL;
        size_t len;
        int r = read_file_at(AT_FDCWD, efi_file, 64 << 20, &data, &len, reterr);
        if (r < 0)
                return r;
        if (len < 2 || data[0] != 'M' || data[1] != 'Z') {
                *reterr = xasprintf("%s: not an EFI executable (no MZ header)", efi_file);
                return -EBADMSG;
        }
        const char *base = strrchr(efi_file, '/') ? strrchr(efi_file, '/') + 1 : efi_file;
        _cleanup_free_ char *dir = xasprintf("%s/EFI/OC/Drivers", esp_dir);
        r = mkdir_p(dir, 0755);
        if (r < 0) {
                *reterr = xasprintf("%s: %s", dir, strerror(-r));
                return r;
        }
        _cleanup_free_ char *dest = xasprintf("%s/%s", dir, base);
        return write_file_atomic(AT_FDCWD, dest, data, len, 0644, reterr);
}
