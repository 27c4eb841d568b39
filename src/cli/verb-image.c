/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include "alloc.h"
#include "cli-progress.h"
#include "cli.h"
#include "disk.h"
#include "image.h"
#include "output.h"
#include "strutil.h"

/* Bad input (names, sizes, a corrupt image) is a usage error; the rest is the environment. */
static int exit_for(int r)
{
        switch (-r) {
        case EACCES:
        case EPERM:
        case EROFS:
        case EIO:
        case EDQUOT:
                return EXIT_ENV;
        case ENOSPC:
                return EXIT_PROBLEM;
        default:
                return EXIT_USAGE;
        }
}

static int fail(const struct cli_context *ctx, int r, char *msg)
{
        int code = exit_for(r);
        cli_error(code, "%s: %s", ctx->verb->name, msg ? msg : strerror(-r));
        free(msg);
        return code;
}

/* DARWINKVM_FAIL_AFTER_WRITES=N: the tests' fault injection (the writer refuses write N+1). */
static unsigned long long fail_at_write(void)
{
        const char *s = getenv("DARWINKVM_FAIL_AFTER_WRITES");
        uint64_t n;
        if (!s || !*s || parse_u64(s, &n) < 0 || n == UINT64_MAX)
                return 0;
        return n + 1;
}

/* SOURCE_DATE_EPOCH (reproducible builds), or 0. FAT's clock starts in 1980, so an epoch
 * of 0 (some build systems set it) means the same as 1: the earliest FAT time. */
static int64_t source_date_epoch(void)
{
        const char *s = getenv("SOURCE_DATE_EPOCH");
        uint64_t t;
        if (!s || !*s || parse_u64(s, &t) < 0 || t > INT64_MAX)
                return 0;
        return t == 0 ? 1 : (int64_t) t;
}

static int image_build_verb(struct cli_context *ctx, const struct cli_args *args)
{
        const char *out = args->positional[1];
        struct image_build_options o = {
                .from = cli_arg(args, "from"),
                .label = cli_arg(args, "label"),
                .seed = cli_arg(args, "seed"),
                .force = cli_flag(args, "force"),
                .timestamp = source_date_epoch(),
                .fail_at_write = fail_at_write(),
        };
        if (!out)
                return cli_usage_error(ctx, "image build needs OUT");
        if (args->positional[2])
                return cli_usage_error(ctx, "image build takes one OUT, and the tree with --from");
        if (!o.from)
                return cli_usage_error(ctx, "image build needs --from DIR");
        const char *v;
        if ((v = cli_arg(args, "size")) && (parse_size(v, &o.size) < 0 || o.size == 0))
                return cli_usage_error(ctx, "--size: '%s' is not a size such as 256M or 2G", v);
        if ((v = cli_arg(args, "layout")) && image_layout_from_string(v, &o.layout) < 0)
                return cli_usage_error(ctx, "--layout: '%s' is not gpt or whole-disk", v);
        if ((v = cli_arg(args, "format")) && image_format_from_string(v, &o.format) < 0)
                return cli_usage_error(ctx, "--format: '%s' is not raw or qcow2", v);
        struct cli_progress p;
        cli_progress_init(&p, ctx);
        struct image_build_result res;
        char *err = NULL;
        int r = image_build(out, &o, &p.sink, &res, &err);
        if (r < 0)
                return fail(ctx, r, err);
        char disk[32], vol[32], data[32];
        format_bytes(res.disk_bytes, disk, sizeof(disk));
        format_bytes(res.volume_bytes, vol, sizeof(vol));
        format_bytes(res.data_bytes, data, sizeof(data));
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "image", out);
                json_kv_string(&w, "format", image_format_to_string(o.format));
                json_kv_string(&w, "layout", image_layout_to_string(o.layout));
                json_kv_uint(&w, "disk_bytes", res.disk_bytes);
                json_kv_uint(&w, "volume_bytes", res.volume_bytes);
                json_kv_uint(&w, "min_disk_bytes", res.min_disk_bytes);
                json_kv_uint(&w, "cluster_bytes", res.cluster_bytes);
                json_kv_uint(&w, "files", res.files);
                json_kv_uint(&w, "directories", res.dirs);
                json_kv_uint(&w, "data_bytes", res.data_bytes);
                if (o.layout == IMAGE_LAYOUT_GPT) {
                        json_kv_string(&w, "disk_guid", res.disk_guid);
                        json_kv_string(&w, "partition_guid", res.partition_guid);
                }
                char id[16];
                snprintf(id, sizeof(id), "%04X-%04X", res.volume_id >> 16, res.volume_id & 0xffff);
                json_kv_string(&w, "volume_id", id);
                json_end_object(&w);
                return out_json_end(&w);
        }
        if (ctx->verbosity < 0)
                return EXIT_OK;
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_printf(&b, "%s: %s %s image, %s %s FAT32 %s (%u-byte clusters)\n", out, disk,
                   image_format_to_string(o.format),
                   o.layout == IMAGE_LAYOUT_GPT ? "GPT disk with a" : "whole-disk", vol,
                   o.layout == IMAGE_LAYOUT_GPT ? "EFI System Partition" : "volume",
                   res.cluster_bytes);
        buf_printf(&b, "%llu files in %llu directories, %s of data\n",
                   (unsigned long long) res.files, (unsigned long long) res.dirs, data);
        if (ctx->verbosity > 0 && o.layout == IMAGE_LAYOUT_GPT)
                buf_printf(&b, "disk GUID %s, partition GUID %s\n", res.disk_guid,
                           res.partition_guid);
        return cli_write(buf_str(&b));
}

static void time_text(int64_t t, char out[24])
{
        struct tm tm;
        time_t tt = (time_t) t;
        gmtime_r(&tt, &tm);
        strftime(out, 24, "%Y-%m-%d %H:%M:%S", &tm);
}

struct lister {
        struct cli_context *ctx;
        struct fat_volume *vol;
        struct buf *b;
        struct json_writer *w;
        bool recursive;
};

static int list_dir(struct lister *l, const char *path, const char *prefix, char **err)
{
        struct fat_entry *e;
        size_t n;
        int r = fat_list(l->vol, path, &e, &n, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *shown =
                        xasprintf("%s%s%s", prefix, e[i].name, e[i].dir ? "/" : "");
                if (l->w) {
                        json_begin_object(l->w);
                        json_kv_string(l->w, "path", shown);
                        json_kv_string(l->w, "short_name", e[i].short_name);
                        json_kv_string(l->w, "type", e[i].dir ? "directory" : "file");
                        json_kv_uint(l->w, "size", e[i].size);
                        json_kv_uint(l->w, "mtime", (uint64_t) e[i].mtime);
                        json_end_object(l->w);
                } else {
                        char t[24];
                        time_text(e[i].mtime, t);
                        buf_printf(l->b, "%c %10u  %s  %s\n", e[i].dir ? 'd' : '-', e[i].size, t,
                                   shown);
                }
                if (l->recursive && e[i].dir) {
                        _cleanup_free_ char *sub = xasprintf("%s/%s", path, e[i].name);
                        r = list_dir(l, sub, shown, err);
                }
        }
        fat_entries_free(e, n);
        return r;
}

static int image_ls_verb(struct cli_context *ctx, const struct cli_args *args)
{
        const char *path = args->positional[2] ? args->positional[2] : "/";
        if (args->positional[2] && args->positional[3])
                return cli_usage_error(ctx, "image ls takes IMAGE [PATH]");
        _cleanup_(image_closep) struct image *im = NULL;
        char *err = NULL;
        int r = image_open(args->positional[1], false, 0, &im, &err);
        if (r < 0)
                return fail(ctx, r, err);
        struct fat_entry st;
        r = fat_stat(image_volume(im), path, &st, &err);
        if (r < 0)
                return fail(ctx, r, err);
        bool dir = st.dir;
        free(st.name);
        _cleanup_buf_ struct buf b = BUF_INIT;
        struct json_writer w;
        struct lister l = { ctx, image_volume(im), &b, ctx->json ? &w : NULL,
                            cli_flag(args, "recursive") };
        if (ctx->json) {
                struct fat_info info;
                fat_get_info(image_volume(im), &info);
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "image", args->positional[1]);
                json_kv_string(&w, "partitioning", image_location(im)->scheme);
                json_kv_uint(&w, "volume_offset", image_location(im)->offset);
                json_kv_uint(&w, "volume_bytes", info.volume_bytes);
                json_kv_string(&w, "label", info.label);
                json_kv_uint(&w, "cluster_bytes", info.cluster_bytes);
                json_kv_uint(&w, "free_bytes", (uint64_t) info.free_clusters * info.cluster_bytes);
                json_key(&w, "entries");
                json_begin_array(&w);
        }
        if (dir) {
                /* Paths relative to PATH. */
                r = list_dir(&l, path, "", &err);
        } else {
                struct fat_entry *e;
                size_t n;
                r = fat_list(image_volume(im), path, &e, &n, &err);
                if (r >= 0) {
                        char t[24];
                        time_text(e[0].mtime, t);
                        if (ctx->json) {
                                json_begin_object(&w);
                                json_kv_string(&w, "path", e[0].name);
                                json_kv_string(&w, "short_name", e[0].short_name);
                                json_kv_string(&w, "type", "file");
                                json_kv_uint(&w, "size", e[0].size);
                                json_kv_uint(&w, "mtime", (uint64_t) e[0].mtime);
                                json_end_object(&w);
                        } else
                                buf_printf(&b, "- %10u  %s  %s\n", e[0].size, t, e[0].name);
                        fat_entries_free(e, n);
                }
        }
        if (r < 0) {
                if (ctx->json)
                        buf_release(&w.out);
                return fail(ctx, r, err);
        }
        if (ctx->json) {
                json_end_array(&w);
                json_end_object(&w);
                return out_json_end(&w);
        }
        return cli_write(buf_str(&b));
}

static int image_cat_verb(struct cli_context *ctx, const struct cli_args *args)
{
        if (!args->positional[2] || args->positional[3])
                return cli_usage_error(ctx, "image cat takes IMAGE PATH");
        _cleanup_(image_closep) struct image *im = NULL;
        char *err = NULL;
        int r = image_open(args->positional[1], false, 0, &im, &err);
        if (r >= 0) {
                fflush(stdout);
                r = fat_read_file(image_volume(im), args->positional[2], STDOUT_FILENO, &err);
        }
        if (r < 0)
                return fail(ctx, r, err);
        return EXIT_OK;
}

static int image_put_verb(struct cli_context *ctx, const struct cli_args *args)
{
        const char *image = args->positional[1], *path = args->positional[2],
                   *file = path ? args->positional[3] : NULL;
        if (!file)
                return cli_usage_error(ctx, "image put takes IMAGE PATH FILE");
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return cli_error(EXIT_USAGE, "%s: %s", file, strerror(errno));
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
                return cli_error(EXIT_USAGE, "%s: not a regular file or directory", file);
        int64_t t = source_date_epoch();
        _cleanup_(image_closep) struct image *im = NULL;
        char *err = NULL;
        int r = image_open(image, true, fail_at_write(), &im, &err);
        if (r >= 0 && S_ISDIR(st.st_mode))
                r = image_put_tree(im, path, file, t, NULL, &err);
        else if (r >= 0)
                r = fat_put_file(image_volume(im), path, fd, (uint64_t) st.st_size,
                                 t > 0 ? t : (int64_t) st.st_mtime, &err);
        if (r >= 0)
                r = image_commit(im, &err);
        if (r < 0)
                return fail(ctx, r, err);
        return EXIT_OK;
}

static int image_rm_verb(struct cli_context *ctx, const struct cli_args *args)
{
        if (!args->positional[2] || args->positional[3])
                return cli_usage_error(ctx, "image rm takes IMAGE PATH");
        _cleanup_(image_closep) struct image *im = NULL;
        char *err = NULL;
        int r = image_open(args->positional[1], true, fail_at_write(), &im, &err);
        if (r >= 0)
                r = fat_remove(image_volume(im), args->positional[2], &err);
        if (r >= 0)
                r = image_commit(im, &err);
        if (r < 0)
                return fail(ctx, r, err);
        return EXIT_OK;
}

int verb_image(struct cli_context *ctx, const struct cli_args *args)
{
        const char *sub = args->positional[0];
        if (streq(sub, "build"))
                return image_build_verb(ctx, args);
        if (!args->positional[1])
                return cli_usage_error(ctx, "image %s needs IMAGE", sub);
        if (streq(sub, "ls"))
                return image_ls_verb(ctx, args);
        if (streq(sub, "cat"))
                return image_cat_verb(ctx, args);
        if (streq(sub, "put"))
                return image_put_verb(ctx, args);
        if (streq(sub, "rm"))
                return image_rm_verb(ctx, args);
        return cli_usage_error(ctx, "unknown image command '%s' (build, ls, cat, put, rm)", sub);
}

int verb_disk(struct cli_context *ctx, const struct cli_args *args)
{
        if (!streq(args->positional[0], "create"))
                return cli_usage_error(ctx, "unknown disk command '%s' (create)",
                                       args->positional[0]);
        const char *out = args->positional[1];
        if (!out || args->positional[2])
                return cli_usage_error(ctx, "disk create takes OUT");
        struct disk_create_options o = { .force = cli_flag(args, "force") };
        const char *v = cli_arg(args, "size");
        if (!v)
                return cli_usage_error(ctx, "disk create needs --size (e.g. 128G)");
        if (parse_size(v, &o.size) < 0)
                return cli_usage_error(ctx, "--size: '%s' is not a size such as 128G", v);
        if ((v = cli_arg(args, "format")) && disk_format_from_string(v, &o.format) < 0)
                return cli_usage_error(ctx, "--format: '%s' is not qcow2 or raw", v);
        if ((v = cli_arg(args, "preallocation")) && disk_prealloc_from_string(v, &o.prealloc) < 0)
                return cli_usage_error(ctx, "--preallocation: '%s' is not off, metadata or falloc",
                                       v);
        struct disk_create_result res;
        char *err = NULL;
        int r = disk_create(out, &o, &res, &err);
        if (r < 0)
                return fail(ctx, r, err);
        char size[32];
        format_bytes(o.size, size, sizeof(size));
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "disk", out);
                json_kv_string(&w, "format", disk_format_to_string(o.format));
                json_kv_uint(&w, "size", o.size);
                json_kv_string(&w, "preallocation", disk_prealloc_to_string(o.prealloc));
                json_kv_bool(&w, "nocow", res.nocow);
                json_end_object(&w);
                return out_json_end(&w);
        }
        if (ctx->verbosity < 0)
                return EXIT_OK;
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_printf(&b, "%s: %s %s disk (preallocation %s%s%s)\n", out, size,
                   disk_format_to_string(o.format), disk_prealloc_to_string(o.prealloc),
                   o.format == DISK_FORMAT_QCOW2     ? ", lazy refcounts"
                   : o.prealloc == DISK_PREALLOC_OFF ? ", sparse"
                                                     : "",
                   res.nocow ? ", copy-on-write off (btrfs)" : "");
        return cli_write(buf_str(&b));
}
