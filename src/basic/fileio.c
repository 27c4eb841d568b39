/* SPDX-License-Identifier: MIT */
#include "fileio.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include "alloc.h"
#include "macro.h"

int write_all(int fd, const void *data, size_t len)
{
        const uint8_t *p = data;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

ssize_t read_full(int fd, void *data, size_t len)
{
        uint8_t *p = data;
        size_t done = 0;
        while (done < len) {
                ssize_t n = read(fd, p + done, len - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t) n;
        }
        return (ssize_t) done;
}

int pwrite_all(int fd, const void *data, size_t len, off_t offset)
{
        const uint8_t *p = data;
        while (len > 0) {
                ssize_t n = pwrite(fd, p, len, offset);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
                offset += n;
        }
        return 0;
}

ssize_t pread_full(int fd, void *data, size_t len, off_t offset)
{
        uint8_t *p = data;
        size_t done = 0;
        while (done < len) {
                ssize_t n = pread(fd, p + done, len - done, offset + (off_t) done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                done += (size_t) n;
        }
        return (ssize_t) done;
}

static void split_path(const char *path, char **ret_dir, char **ret_base)
{
        const char *slash = strrchr(path, '/');
        if (!slash) {
                *ret_dir = xstrdup(".");
                *ret_base = xstrdup(path);
        } else if (slash == path) {
                *ret_dir = xstrdup("/");
                *ret_base = xstrdup(slash + 1);
        } else {
                *ret_dir = xstrndup(path, (size_t) (slash - path));
                *ret_base = xstrdup(slash + 1);
        }
}

int atomic_file_open(int at_fd, const char *path, mode_t mode, bool keep_owner,
                     struct atomic_file *ret, char **reterr)
{
        *ret = (struct atomic_file){ .dir_fd = -1, .fd = -1 };
        _cleanup_free_ char *dir = NULL, *base = NULL;
        split_path(path, &dir, &base);
        if (!*base) {
                *reterr = xasprintf("%s: not a file name", path);
                return -EINVAL;
        }
        _cleanup_close_ int dfd = openat(at_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", dir, strerror(errno));
                return r;
        }
        struct stat st;
        bool have_old = fstatat(dfd, base, &st, 0) == 0;
        if (have_old && !S_ISREG(st.st_mode)) {
                *reterr = xasprintf("%s: exists and is not a regular file", path);
                return -EEXIST;
        }
        _cleanup_free_ char *tmp = NULL;
        int fd = -1;
        for (unsigned attempt = 0; attempt < 100; attempt++) {
                free(tmp);
                tmp = xasprintf(".%s.%u.%u.tmp", base, (unsigned) getpid(), attempt);
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 07777);
                if (fd >= 0 || errno != EEXIST)
                        break;
        }
        if (fd < 0) {
                int r = -errno;
                *reterr = xasprintf("%s/%s: %s", dir, tmp, strerror(errno));
                return r;
        }
        /* The umask narrowed the mode at creation; the caller's mode is meant. */
        mode_t want = have_old && keep_owner ? st.st_mode & 07777 : mode & 07777;
        if (fchmod(fd, want) < 0) {
                int r = -errno;
                *reterr = xasprintf("%s/%s: chmod: %s", dir, tmp, strerror(errno));
                close(fd);
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        if (have_old && keep_owner && fchown(fd, st.st_uid, st.st_gid) < 0 && errno != EPERM) {
                int r = -errno;
                *reterr = xasprintf("%s/%s: chown: %s", dir, tmp, strerror(errno));
                close(fd);
                (void) unlinkat(dfd, tmp, 0);
                return r;
        }
        ret->dir_fd = TAKE_FD(dfd);
        ret->fd = fd;
        ret->name = TAKE_PTR(base);
        ret->tmp_name = TAKE_PTR(tmp);
        return 0;
}

int atomic_file_write(struct atomic_file *f, const void *data, size_t len, char **reterr)
{
        int r = write_all(f->fd, data, len);
        if (r < 0)
                *reterr = xasprintf("%s: write: %s", f->name, strerror(-r));
        return r;
}

int atomic_file_commit(struct atomic_file *f, char **reterr)
{
        if (fsync(f->fd) < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: fsync: %s", f->name, strerror(errno));
                return r;
        }
        if (close(f->fd) < 0) {
                f->fd = -1;
                int r = -errno;
                *reterr = xasprintf("%s: close: %s", f->name, strerror(errno));
                return r;
        }
        f->fd = -1;
        if (renameat(f->dir_fd, f->tmp_name, f->dir_fd, f->name) < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: rename: %s", f->name, strerror(errno));
                return r;
        }
        free(f->tmp_name);
        f->tmp_name = NULL;
        /* The rename is durable only once the directory is. */
        (void) fsync(f->dir_fd);
        atomic_file_abort(f);
        return 0;
}

void atomic_file_abort(struct atomic_file *f)
{
        if (f->fd >= 0) {
                close(f->fd);
                f->fd = -1;
        }
        if (f->tmp_name && f->dir_fd >= 0)
                (void) unlinkat(f->dir_fd, f->tmp_name, 0);
        free(f->tmp_name);
        f->tmp_name = NULL;
        free(f->name);
        f->name = NULL;
        if (f->dir_fd >= 0) {
                close(f->dir_fd);
                f->dir_fd = -1;
        }
}

int write_file_atomic(int at_fd, const char *path, const void *data, size_t len, mode_t mode,
                      char **reterr)
{
        _cleanup_atomic_file_ struct atomic_file f = { .dir_fd = -1, .fd = -1 };
        int r = atomic_file_open(at_fd, path, mode, false, &f, reterr);
        if (r < 0)
                return r;
        r = atomic_file_write(&f, data, len, reterr);
        if (r < 0)
                return r;
        return atomic_file_commit(&f, reterr);
}

int read_file_at(int at_fd, const char *path, size_t max, char **ret, size_t *ret_len,
                 char **reterr)
{
        _cleanup_close_ int fd = openat(at_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", path, strerror(errno));
                return r;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", path, strerror(errno));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                *reterr = xasprintf("%s: not a regular file", path);
                return -EINVAL;
        }
        if ((uint64_t) st.st_size > max) {
                *reterr = xasprintf("%s: larger than %zu bytes", path, max);
                return -EFBIG;
        }
        size_t cap = (size_t) st.st_size + 1, len = 0;
        _cleanup_free_ char *data = xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap) {
                        /* Room for one byte beyond @max, to see that the file grew past it. */
                        size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
                        if (ncap <= cap) {
                                *reterr = xasprintf("%s: larger than %zu bytes", path, max);
                                return -EFBIG;
                        }
                        cap = ncap;
                        data = xrealloc(data, cap);
                }
                ssize_t n = read(fd, data + len, cap - 1 - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        *reterr = xasprintf("%s: %s", path, strerror(errno));
                        return r;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max) {
                        *reterr = xasprintf("%s: larger than %zu bytes", path, max);
                        return -EFBIG;
                }
        }
        data[len] = 0;
        *ret = TAKE_PTR(data);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return -errno;
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int rm_rf_at(int dfd, const char *name)
{
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!S_ISDIR(st.st_mode))
                return unlinkat(dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                close(fd);
                return r;
        }
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int k = rm_rf_at(dirfd(d), de->d_name);
                if (k < 0 && r == 0)
                        r = k;
        }
        closedir(d);
        if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
                r = -errno;
        return r;
}

int rm_rf(const char *path)
{
        return rm_rf_at(AT_FDCWD, path);
}

#define COPY_BUFFER_BYTES (1u << 20)

int copy_sparse(int src, int dst, uint64_t size, char **reterr)
{
        if (ioctl(dst, FICLONE, src) == 0)
                return 0;
        if (ftruncate(dst, (off_t) size) < 0) {
                *reterr = xasprintf("cannot size the copy: %m");
                return -errno;
        }
        off_t pos = 0;
        while ((uint64_t) pos < size) {
                off_t data = lseek(src, pos, SEEK_DATA);
                if (data < 0)
                        break; /* ENXIO: only a hole is left */
                off_t hole = lseek(src, data, SEEK_HOLE);
                if (hole < 0)
                        hole = (off_t) size;
                off_t in = data, outp = data;
                while (in < hole) {
                        ssize_t n = copy_file_range(src, &in, dst, &outp, (size_t) (hole - in), 0);
                        if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
                                /* No in-kernel copy here: plain reads and writes. */
                                _cleanup_free_ uint8_t *buf = xmalloc(COPY_BUFFER_BYTES);
                                while (in < hole) {
                                        size_t want =
                                                (size_t) (hole - in < (off_t) COPY_BUFFER_BYTES
                                                                  ? hole - in
                                                                  : (off_t) COPY_BUFFER_BYTES);
                                        ssize_t got = pread_full(src, buf, want, in);
                                        if (got <= 0)
                                                break;
                                        if (pwrite_all(dst, buf, (size_t) got, in) < 0)
                                                break;
                                        in += got;
                                }
                                outp = in;
                                break;
                        }
                        if (n <= 0) {
                                *reterr = xasprintf("cannot copy: %s",
                                                    n < 0 ? strerror(errno) : "short copy");
                                return n < 0 ? -errno : -EIO;
                        }
                }
                if (in < hole) {
                        *reterr = xasprintf("cannot copy: %m");
                        return -EIO;
                }
                pos = hole;
        }
        return 0;
}
