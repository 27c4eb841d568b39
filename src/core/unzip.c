/* SPDX-License-Identifier: MIT */
#include "unzip.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "alloc.h"
#include "dlib.h"
#include "fileio.h"
#include "strv.h"

/*
 * libarchive is loaded when a zip is first opened: linked, it costs every run
 * of darwinkvm 4 ms at start-up.
 */
#define LIBARCHIVE_SYMBOLS(X, T)  \
 X(T, archive_entry_filetype)     \
 X(T, archive_entry_hardlink)     \
 X(T, archive_entry_pathname)     \
 X(T, archive_entry_size)         \
 X(T, archive_entry_size_is_set)  \
 X(T, archive_error_string)       \
 X(T, archive_read_data_block)    \
 X(T, archive_read_free)          \
 X(T, archive_read_new)           \
 X(T, archive_read_next_header)   \
 X(T, archive_read_open_filename) \
 X(T, archive_read_open_memory)   \
 X(T, archive_read_support_format_zip)

struct libarchive_syms {
        LIBARCHIVE_SYMBOLS(DLIB_MEMBER, _)
};
static struct libarchive_syms la;
static struct dlib libarchive_lib = DLIB_INIT("libarchive", "libarchive.so.13", &la,
                                              struct libarchive_syms, LIBARCHIVE_SYMBOLS);

#define READ_BLOCK (256u * 1024)

static void archive_read_freep(struct archive **a)
{
        if (*a)
                la.archive_read_free(*a);
}

bool unzip_name_is_safe(const char *name)
{
        if (!name || !*name || name[0] == '/' || strchr(name, '\\'))
                return false;
        const char *p = name;
        while (*p) {
                const char *slash = strchr(p, '/');
                size_t len = slash ? (size_t) (slash - p) : strlen(p);
                if (len == 0 || (len == 1 && p[0] == '.') ||
                    (len == 2 && p[0] == '.' && p[1] == '.'))
                        return false;
                p += len;
                if (*p == '/')
                        p++;
        }
        return true;
}

static void limits_defaults(const struct unzip_limits *in, struct unzip_limits *out)
{
        *out = in ? *in : (struct unzip_limits){ 0 };
        if (!out->max_member)
                out->max_member = 512ull << 20;
        if (!out->max_total)
                out->max_total = 2ull << 30;
        if (!out->max_ratio)
                out->max_ratio = 100;
        if (!out->max_entries)
                out->max_entries = 100000;
}

static struct archive *open_zip(const char *path, const void *mem, size_t len, char **reterr)
{
        if (dlib_load(&libarchive_lib, reterr) < 0)
                return NULL;
        struct archive *a = la.archive_read_new();
        if (!a)
                abort();
        la.archive_read_support_format_zip(a);
        int r = path ? la.archive_read_open_filename(a, path, READ_BLOCK)
                     : la.archive_read_open_memory(a, mem, len);
        if (r != ARCHIVE_OK) {
                *reterr = xasprintf("%s: not a readable zip: %s", path ? path : "zip",
                                    la.archive_error_string(a) ?: "unknown error");
                la.archive_read_free(a);
                return NULL;
        }
        return a;
}

struct pass {
        const char *label;
        struct unzip_limits lim;
        uint64_t zip_size;
        unzip_map_fn map;
        void *userdata;
        const char *stage; /* NULL: check only */
        struct unzip_stats stats;
};

/* Reads the data of the current entry; writes it to @fd when >= 0. */
static int copy_data(struct archive *a, struct pass *ps, const char *name, int fd, char **reterr)
{
        uint64_t member = 0;
        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t off;
                int r = la.archive_read_data_block(a, &buf, &len, &off);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r != ARCHIVE_OK) {
                        *reterr = xasprintf("%s: member %s: %s", ps->label, name,
                                            la.archive_error_string(a) ?: "corrupt data");
                        return -EBADMSG;
                }
                member += len;
                ps->stats.bytes += len;
                if (member > ps->lim.max_member) {
                        *reterr = xasprintf("%s: member %s is larger than %" PRIu64
                                            " bytes: refusing a zip bomb",
                                            ps->label, name, ps->lim.max_member);
                        return -E2BIG;
                }
                if (ps->stats.bytes > ps->lim.max_total ||
                    ps->stats.bytes > ps->zip_size * ps->lim.max_ratio + (1u << 20)) {
                        *reterr = xasprintf("%s: member %s expands the archive past %" PRIu64
                                            " bytes (%" PRIu64 " compressed): refusing a zip bomb",
                                            ps->label, name, ps->stats.bytes, ps->zip_size);
                        return -E2BIG;
                }
                if (fd >= 0) {
                        /* Zip data is sequential; holes (off beyond) are written as data. */
                        (void) off;
                        int w = write_all(fd, buf, len);
                        if (w < 0) {
                                *reterr = xasprintf("writing member %s: %s", name, strerror(-w));
                                return w;
                        }
                }
        }
}

static int run_pass(struct archive *a, struct pass *ps, char **reterr)
{
        struct archive_entry *e;
        for (;;) {
                int r = la.archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        return 0;
                if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
                        *reterr = xasprintf("%s: %s", ps->label,
                                            la.archive_error_string(a) ?: "corrupt archive");
                        return -EBADMSG;
                }
                if (++ps->stats.n_entries > ps->lim.max_entries) {
                        *reterr = xasprintf("%s: more than %zu members", ps->label,
                                            ps->lim.max_entries);
                        return -E2BIG;
                }
                const char *name = la.archive_entry_pathname(e);
                if (!unzip_name_is_safe(name)) {
                        _cleanup_free_ char *shown = xstrdup(name ? name : "(no name)");
                        *reterr = xasprintf("%s: member \"%s\" has an unsafe path (absolute, "
                                            "\"..\" or empty component)",
                                            ps->label, shown);
                        return -EBADMSG;
                }
                _cleanup_free_ char *dest = ps->map ? ps->map(ps->userdata, name) : NULL;
                if (!dest)
                        continue;
                mode_t type = la.archive_entry_filetype(e);
                if (la.archive_entry_hardlink(e) || (type != AE_IFREG && type != AE_IFDIR)) {
                        *reterr = xasprintf("%s: member %s is a %s: refused", ps->label, name,
                                            type == AE_IFLNK               ? "symbolic link"
                                            : la.archive_entry_hardlink(e) ? "hard link"
                                                                           : "special file");
                        return -EBADMSG;
                }
                if (!unzip_name_is_safe(dest)) {
                        *reterr =
                                xasprintf("%s: member %s maps to an unsafe path", ps->label, name);
                        return -EBADMSG;
                }
                if (la.archive_entry_size_is_set(e) &&
                    (uint64_t) la.archive_entry_size(e) > ps->lim.max_member) {
                        *reterr = xasprintf("%s: member %s says %" PRId64
                                            " bytes, above the limit: refusing a zip bomb",
                                            ps->label, name, (int64_t) la.archive_entry_size(e));
                        return -E2BIG;
                }
                _cleanup_free_ char *path = ps->stage ? xasprintf("%s/%s", ps->stage, dest) : NULL;
                if (type == AE_IFDIR) {
                        if (path && (r = mkdir_p(path, 0755)) < 0) {
                                *reterr = xasprintf("%s: %s", path, strerror(-r));
                                return r;
                        }
                        continue;
                }
                _cleanup_close_ int fd = -1;
                if (path) {
                        char *slash = strrchr(path, '/');
                        *slash = 0;
                        r = mkdir_p(path, 0755);
                        *slash = '/';
                        if (r < 0) {
                                *reterr = xasprintf("%s: %s", path, strerror(-r));
                                return r;
                        }
                        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                        if (fd < 0) {
                                r = -errno;
                                *reterr = xasprintf("%s: member %s: %s", ps->label, name,
                                                    r == -EEXIST ? "appears twice" : strerror(-r));
                                return r == -EEXIST ? -EBADMSG : r;
                        }
                }
                r = copy_data(a, ps, name, fd, reterr);
                if (r < 0)
                        return r;
                ps->stats.n_extracted++;
        }
}

/* Moves the staged tree @src into @dst, merging with directories already there. */
static int move_tree(const char *src, const char *dst, char **reterr)
{
        struct stat st;
        if (lstat(src, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode)) {
                if (rename(src, dst) < 0) {
                        int r = -errno;
                        *reterr = xasprintf("%s: %s", dst, strerror(-r));
                        return r;
                }
                return 0;
        }
        struct stat dt;
        if (lstat(dst, &dt) < 0 && errno == ENOENT) {
                if (rename(src, dst) < 0) {
                        int r = -errno;
                        *reterr = xasprintf("%s: %s", dst, strerror(-r));
                        return r;
                }
                return 0;
        }
        _cleanup_closedir_ DIR *d = opendir(src);
        if (!d)
                return -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                _cleanup_free_ char *s = xasprintf("%s/%s", src, de->d_name);
                _cleanup_free_ char *t = xasprintf("%s/%s", dst, de->d_name);
                int r = move_tree(s, t, reterr);
                if (r < 0)
                        return r;
        }
        (void) rmdir(src);
        return 0;
}

static void remove_tree(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                return;
        if (S_ISDIR(st.st_mode)) {
                DIR *d = opendir(path);
                if (d) {
                        struct dirent *de;
                        while ((de = readdir(d))) {
                                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                        continue;
                                _cleanup_free_ char *s = xasprintf("%s/%s", path, de->d_name);
                                remove_tree(s);
                        }
                        closedir(d);
                }
                (void) rmdir(path);
        } else
                (void) unlink(path);
}

int unzip_extract(const char *zip_path, const char *dest_dir, unzip_map_fn map, void *userdata,
                  const struct unzip_limits *limits, struct unzip_stats *ret, char **reterr)
{
        struct stat st;
        if (stat(zip_path, &st) < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", zip_path, strerror(-r));
                return r;
        }
        struct pass ps = { .label = zip_path,
                           .zip_size = (uint64_t) st.st_size,
                           .map = map,
                           .userdata = userdata };
        limits_defaults(limits, &ps.lim);

        /* Pass 1: check everything, write nothing. */
        {
                _cleanup_(archive_read_freep) struct archive *a =
                        open_zip(zip_path, NULL, 0, reterr);
                if (!a)
                        return -EBADMSG;
                int r = run_pass(a, &ps, reterr);
                if (r < 0)
                        return r;
        }

        int r = mkdir_p(dest_dir, 0755);
        if (r < 0) {
                *reterr = xasprintf("%s: %s", dest_dir, strerror(-r));
                return r;
        }
        _cleanup_free_ char *stage = xasprintf("%s/.darwinkvm-unzip.XXXXXX", dest_dir);
        if (!mkdtemp(stage)) {
                r = -errno;
                *reterr = xasprintf("%s: %s", dest_dir, strerror(-r));
                return r;
        }
        ps.stage = stage;
        ps.stats = (struct unzip_stats){ 0 };
        {
                _cleanup_(archive_read_freep) struct archive *a =
                        open_zip(zip_path, NULL, 0, reterr);
                r = a ? run_pass(a, &ps, reterr) : -EBADMSG;
        }
        if (r >= 0) {
                _cleanup_closedir_ DIR *d = opendir(stage);
                struct dirent *de;
                while (r >= 0 && d && (de = readdir(d))) {
                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                continue;
                        _cleanup_free_ char *s = xasprintf("%s/%s", stage, de->d_name);
                        _cleanup_free_ char *t = xasprintf("%s/%s", dest_dir, de->d_name);
                        r = move_tree(s, t, reterr);
                }
        }
        remove_tree(stage);
        if (r >= 0 && ret)
                *ret = ps.stats;
        return r;
}

static char *map_none(void *userdata, const char *name)
{
        char ***names = userdata;
        *names = strv_push(*names, name);
        return NULL;
}

int unzip_list(const char *zip_path, char ***ret, char **reterr)
{
        struct pass ps = { .label = zip_path, .map = map_none };
        char **names = xcalloc(1, sizeof(char *));
        ps.userdata = &names;
        limits_defaults(NULL, &ps.lim);
        _cleanup_(archive_read_freep) struct archive *a = open_zip(zip_path, NULL, 0, reterr);
        int r = a ? run_pass(a, &ps, reterr) : -EBADMSG;
        if (r < 0) {
                strv_free(names);
                return r;
        }
        *ret = names;
        return 0;
}

static char *map_all(void *userdata, const char *name)
{
        return xstrdup(name);
}

int unzip_check_memory(const void *data, size_t len, const struct unzip_limits *limits,
                       char **reterr)
{
        struct pass ps = { .label = "zip", .zip_size = len, .map = map_all };
        limits_defaults(limits, &ps.lim);
        _cleanup_(archive_read_freep) struct archive *a = open_zip(NULL, data, len, reterr);
        return a ? run_pass(a, &ps, reterr) : -EBADMSG;
}
