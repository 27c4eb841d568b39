/* SPDX-License-Identifier: MIT */
#include "hostfs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "fileio.h"
#include "macro.h"

/* The parent directory of @path (an O_PATH fd inside the root) and the last component. */
static int open_parent(const struct root *r, const char *path, char **ret_base)
{
        const char *slash = strrchr(path, '/');
        if (!slash || !slash[1])
                return -EINVAL;
        _cleanup_free_ char *dir =
                slash == path ? xstrdup("/") : xstrndup(path, (size_t) (slash - path));
        int fd = root_openat(r, dir, O_PATH | O_DIRECTORY, 0);
        if (fd < 0)
                return fd;
        *ret_base = xstrdup(slash + 1);
        return fd;
}

int root_mkdir_p(const struct root *r, const char *path, mode_t mode)
{
        _cleanup_free_ char *p = xstrdup(path);
        size_t n = strlen(p);
        for (size_t i = 1; i <= n; i++) {
                if (p[i] != '/' && p[i] != 0)
                        continue;
                char saved = p[i];
                p[i] = 0;
                if (!root_is_dir(r, p)) {
                        _cleanup_free_ char *base = NULL;
                        _cleanup_close_ int dfd = open_parent(r, p, &base);
                        if (dfd < 0)
                                return dfd;
                        if (mkdirat(dfd, base, mode) < 0 && errno != EEXIST)
                                return -errno;
                }
                p[i] = saved;
        }
        return 0;
}

int root_write_file_atomic(const struct root *r, const char *path, const void *data, size_t len,
                           mode_t mode, const struct stat *force, char **reterr)
{
        _cleanup_free_ char *base = NULL;
        _cleanup_close_ int dfd = open_parent(r, path, &base);
        if (dfd < 0) {
                *reterr = xasprintf("%s: cannot open its directory: %s", path, strerror(-dfd));
                return dfd;
        }
        _cleanup_atomic_file_ struct atomic_file f = { .dir_fd = -1, .fd = -1 };
        _cleanup_free_ char *err = NULL;
        int k = atomic_file_open(dfd, base, mode, /* keep_owner= */ true, &f, &err);
        if (k < 0) {
                *reterr = xasprintf("%s: %s", path, err);
                return k;
        }
        if (force) {
                if (fchmod(f.fd, force->st_mode & 07777) < 0) {
                        k = -errno;
                        *reterr = xasprintf("%s: chmod: %s", path, strerror(errno));
                        return k;
                }
                if (fchown(f.fd, force->st_uid, force->st_gid) < 0 && errno != EPERM) {
                        k = -errno;
                        *reterr = xasprintf("%s: chown: %s", path, strerror(errno));
                        return k;
                }
        }
        k = atomic_file_write(&f, data, len, &err);
        if (k >= 0)
                k = atomic_file_commit(&f, &err);
        if (k < 0)
                *reterr = xasprintf("%s: %s", path, err);
        return k;
}

int root_unlink(const struct root *r, const char *path)
{
        _cleanup_free_ char *base = NULL;
        _cleanup_close_ int dfd = open_parent(r, path, &base);
        if (dfd < 0)
                return dfd;
        if (unlinkat(dfd, base, 0) < 0)
                return -errno;
        (void) fsync(dfd);
        return 0;
}

int root_write_attr(const struct root *r, const char *path, const char *value, char **reterr)
{
        _cleanup_close_ int fd = root_openat(r, path, O_WRONLY | O_TRUNC | O_NOCTTY, 0);
        if (fd < 0) {
                *reterr = xasprintf("%s: %s", path, strerror(-fd));
                return fd;
        }
        int k = write_all(fd, value, strlen(value));
        if (k < 0) {
                *reterr = xasprintf("%s: writing '%s': %s", path, value, strerror(-k));
                return k;
        }
        return 0;
}
