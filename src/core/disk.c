/* SPDX-License-Identifier: MIT */
#include "disk.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"
#include "process.h"
#include "strutil.h"

static const char *const format_names[] = { "qcow2", "raw" };
static const char *const prealloc_names[] = { "off", "metadata", "falloc" };

int disk_format_from_string(const char *s, enum disk_format *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(format_names); i++)
                if (streq(s, format_names[i])) {
                        *ret = (enum disk_format) i;
                        return 0;
                }
        return -EINVAL;
}

const char *disk_format_to_string(enum disk_format f)
{
        return format_names[f];
}

int disk_prealloc_from_string(const char *s, enum disk_prealloc *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(prealloc_names); i++)
                if (streq(s, prealloc_names[i])) {
                        *ret = (enum disk_prealloc) i;
                        return 0;
                }
        return -EINVAL;
}

const char *disk_prealloc_to_string(enum disk_prealloc p)
{
        return prealloc_names[p];
}

static char *dir_of(const char *path)
{
        const char *slash = strrchr(path, '/');
        if (!slash)
                return xstrdup(".");
        if (slash == path)
                return xstrdup("/");
        return xstrndup(path, (size_t) (slash - path));
}

/* What the preallocation takes at once: qcow2 metadata is about 8 bytes per 64 KiB cluster
 * (L2) plus refcounts (2 bytes per cluster), rounded up generously. */
static uint64_t needed_bytes(const struct disk_create_options *o)
{
        uint64_t clusters = (o->size + 65535) / 65536;
        uint64_t meta = clusters * 10 + (4u << 20);
        switch (o->prealloc) {
        case DISK_PREALLOC_FALLOC:
                return o->size + (o->format == DISK_FORMAT_QCOW2 ? meta : 0);
        case DISK_PREALLOC_METADATA:
                return meta;
        default:
                return 1u << 20;
        }
}

static void set_nocow(int fd)
{
        unsigned flags = 0;
        if (ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0)
                return;
        flags |= FS_NOCOW_FL;
        (void) ioctl(fd, FS_IOC_SETFLAGS, &flags);
}

int disk_create(const char *out, const struct disk_create_options *o,
                struct disk_create_result *ret, char **reterr)
{
        if (o->size < (1u << 20) || o->size % 512) {
                *reterr = xasprintf("--size must be at least 1M and a multiple of 512 bytes");
                return -EINVAL;
        }
        if (o->format == DISK_FORMAT_RAW && o->prealloc == DISK_PREALLOC_METADATA) {
                *reterr = xasprintf("--preallocation metadata is for qcow2; raw has no metadata "
                                    "(use off or falloc)");
                return -EINVAL;
        }
        struct stat st;
        if (lstat(out, &st) == 0 && !o->force) {
                *reterr = xasprintf("%s exists; --force replaces it", out);
                return -EEXIST;
        }
        _cleanup_free_ char *dir = dir_of(out);
        struct statvfs vfs;
        struct statfs fs;
        if (statvfs(dir, &vfs) < 0 || statfs(dir, &fs) < 0) {
                *reterr = xasprintf("%s: %m", dir);
                return -errno;
        }
        uint64_t avail = (uint64_t) vfs.f_bavail * vfs.f_frsize;
        uint64_t need = needed_bytes(o);
        if (need > avail) {
                char a[32], b[32], c[32];
                *reterr = xasprintf(
                        "%s has %s free, but --preallocation %s needs %s: %s missing", dir,
                        format_bytes(avail, a, sizeof(a)), disk_prealloc_to_string(o->prealloc),
                        format_bytes(need, b, sizeof(b)), format_bytes(need - avail, c, sizeof(c)));
                return -ENOSPC;
        }
        bool btrfs = (unsigned long) fs.f_type == BTRFS_SUPER_MAGIC;
        *ret = (struct disk_create_result){ .nocow = btrfs, .needs_bytes = need };

        _cleanup_free_ char *tmp = xasprintf("%s.dkvm-XXXXXX", out);
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                *reterr = xasprintf("cannot create a file in %s: %m", dir);
                return -errno;
        }
        /* +C only works on an empty file, before qemu-img writes into it. */
        if (btrfs)
                set_nocow(fd);
        int r = 0;
        if (fchmod(fd, 0644) < 0) {
                r = -errno;
                *reterr = xasprintf("%s: %m", tmp);
        }
        if (r >= 0 && o->format == DISK_FORMAT_RAW) {
                if (ftruncate(fd, (off_t) o->size) < 0) {
                        r = -errno;
                        *reterr = xasprintf("%s: %m", out);
                } else if (o->prealloc == DISK_PREALLOC_FALLOC &&
                           (r = -posix_fallocate(fd, 0, (off_t) o->size)) < 0)
                        *reterr = xasprintf("%s: preallocating: %s", out, strerror(-r));
        } else if (r >= 0) {
                _cleanup_free_ char *opts =
                        xasprintf("compat=1.1,lazy_refcounts=on,preallocation=%s%s",
                                  disk_prealloc_to_string(o->prealloc), btrfs ? ",nocow=on" : "");
                _cleanup_free_ char *size = xasprintf("%llu", (unsigned long long) o->size);
                char *argv[] = { (char *) "qemu-img",
                                 (char *) "create",
                                 (char *) "-q",
                                 (char *) "-f",
                                 (char *) "qcow2",
                                 (char *) "-o",
                                 opts,
                                 tmp,
                                 size,
                                 NULL };
                _cleanup_buf_ struct buf err = BUF_INIT;
                int status;
                r = process_run(argv, NULL, &err, &status, reterr);
                if (r >= 0 && status != 0) {
                        *reterr = xasprintf("qemu-img create failed (status %d): %s", status,
                                            err.s ? strstrip(err.s) : "");
                        r = -EIO;
                }
        }
        if (r >= 0 && fsync(fd) < 0) {
                r = -errno;
                *reterr = xasprintf("%s: fsync: %m", out);
        }
        if (r >= 0 && rename(tmp, out) < 0) {
                r = -errno;
                *reterr = xasprintf("%s: %m", out);
        }
        if (r < 0)
                unlink(tmp);
        return r;
}
