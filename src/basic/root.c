/* SPDX-License-Identifier: MIT */
#include "root.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "alloc.h"
#include "strv.h"

static bool have_openat2 = true;

void root_use_openat2(bool enabled)
{
        have_openat2 = enabled;
}

/* Reads @fd to its end (at most @max bytes) into a NUL-terminated buffer. */
static int read_fd(int fd, size_t max, size_t cap, bool short_read_is_eof, char **ret,
                   size_t *ret_size)
{
        _cleanup_free_ char *data = xmalloc(cap + 1);
        size_t len = 0;
        for (;;) {
                if (len == cap) {
                        if (cap > max)
                                return -EFBIG;
                        cap *= 2;
                        data = xrealloc(data, cap + 1);
                }
                ssize_t n = read(fd, data + len, cap - len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                len += (size_t) n;
                if (len > max)
                        return -EFBIG;
                if (short_read_is_eof && len < cap)
                        break;
        }
        data[len] = 0;
        if (ret_size)
                *ret_size = len;
        *ret = TAKE_PTR(data);
        return 0;
}

/* The first line of @s without surrounding blanks; -ENODATA when it is empty. */
static int first_line(char *s, char **ret)
{
        s[strcspn(s, "\n")] = 0;
        char *b = s;
        while (*b == ' ' || *b == '\t')
                b++;
        size_t n = strlen(b);
        while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t' || b[n - 1] == '\r'))
                n--;
        if (n == 0)
                return -ENODATA;
        *ret = xstrndup(b, n);
        return 0;
}

int root_open(const char *path, struct root **ret, char **reterr)
{
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                *reterr = xasprintf("cannot open root directory '%s': %s", path, strerror(errno));
                return r;
        }
        struct root *root = xcalloc(1, sizeof(*root));
        root->fd = fd;
        root->path = xstrdup(path);
        struct stat st, st_host;
        root->is_host = fstat(fd, &st) == 0 && stat("/", &st_host) == 0 &&
                        st.st_dev == st_host.st_dev && st.st_ino == st_host.st_ino;
        *ret = root;
        return 0;
}

struct root *root_free(struct root *r)
{
        if (!r)
                return NULL;
        if (r->fd >= 0)
                close(r->fd);
        free(r->path);
        free(r);
        return NULL;
}

#define MAX_LINKS 40
#define MAX_DEPTH 256

/*
 * What RESOLVE_IN_ROOT does, for kernels without openat2() (before 5.6, and
 * valgrind): walk the path one component at a time from the root, following
 * symlinks by hand, with absolute targets and ".." clamped at the root.
 */
static int open_in_root_walk(int rootfd, const char *path, int flags, mode_t mode)
{
        int stack[MAX_DEPTH];
        size_t depth = 0;
        int links = 0, r = 0;
        stack[0] = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
        if (stack[0] < 0)
                return -errno;
        _cleanup_free_ char *queue = xstrdup(path);
        while (r == 0) {
                char *p = queue;
                while (*p == '/')
                        p++;
                if (!*p) {
                        /* The path named the root (or a directory reached by a link) itself. */
                        r = openat(stack[depth], ".", flags, mode);
                        r = r < 0 ? -errno : r;
                        break;
                }
                size_t n = strcspn(p, "/");
                _cleanup_free_ char *name = xstrndup(p, n);
                char *rest = p + n;
                while (*rest == '/')
                        rest++;
                bool last = !*rest;
                char *tail = xstrdup(rest);
                free(queue);
                queue = tail;
                if (streq(name, "."))
                        continue;
                if (streq(name, "..")) {
                        if (depth > 0)
                                close(stack[depth--]);
                        continue;
                }
                struct stat st;
                if (fstatat(stack[depth], name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (!(last && errno == ENOENT && (flags & O_CREAT)))
                                r = -errno;
                        else {
                                r = openat(stack[depth], name, flags | O_NOFOLLOW, mode);
                                r = r < 0 ? -errno : r;
                                break;
                        }
                        continue;
                }
                if (S_ISLNK(st.st_mode) && !(last && (flags & O_NOFOLLOW))) {
                        char target[4096];
                        ssize_t k = readlinkat(stack[depth], name, target, sizeof(target) - 1);
                        if (++links > MAX_LINKS)
                                r = -ELOOP;
                        else if (k < 0)
                                r = -errno;
                        else {
                                target[k] = 0;
                                if (target[0] == '/')
                                        while (depth > 0)
                                                close(stack[depth--]);
                                char *q = xasprintf("%s/%s", target, queue);
                                free(queue);
                                queue = q;
                        }
                        continue;
                }
                if (last) {
                        r = openat(stack[depth], name, flags | O_NOFOLLOW, mode);
                        r = r < 0 ? -errno : r;
                        break;
                }
                if (!S_ISDIR(st.st_mode))
                        r = -ENOTDIR;
                else if (depth + 1 >= MAX_DEPTH)
                        r = -ENAMETOOLONG;
                else {
                        int fd = openat(stack[depth], name,
                                        O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (fd < 0)
                                r = -errno;
                        else
                                stack[++depth] = fd;
                }
        }
        while (true) {
                close(stack[depth]);
                if (depth == 0)
                        break;
                depth--;
        }
        return r;
}

/*
 * openat2() with RESOLVE_IN_ROOT or RESOLVE_BENEATH fails with EAGAIN when any
 * rename on the system races the lookup (the kernel cannot prove the path
 * stayed inside): busy hosts and parallel tests see it. Try again a few times.
 */
static long openat2_retry(int dirfd, const char *path, struct open_how *how)
{
        long fd = -1;
        for (unsigned i = 0; i < 64; i++) {
                fd = syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
                if (fd >= 0 || errno != EAGAIN)
                        break;
        }
        return fd;
}

int root_openat(const struct root *r, const char *path, int flags, mode_t mode)
{
        flags |= O_CLOEXEC;
        if (have_openat2) {
                struct open_how how = {
                        .flags = (unsigned long long) flags,
                        .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
                        .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
                };
                long fd = openat2_retry(r->fd, path, &how);
                if (fd >= 0)
                        return (int) fd;
                if (errno != ENOSYS && errno != EAGAIN)
                        return -errno;
                /* ENOSYS: an old kernel; EAGAIN: renames kept racing the lookup. */
                if (errno == ENOSYS)
                        have_openat2 = false;
        }
        return open_in_root_walk(r->fd, path, flags, mode);
}

int root_read_file(const struct root *r, const char *path, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = root_openat(r, path, O_RDONLY | O_NOCTTY, 0);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
                return -EBADFD;
        if (S_ISREG(st.st_mode) && st.st_size > 0 && (uint64_t) st.st_size > max)
                return -EFBIG;
        size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t) st.st_size + 1 : 4096;
        /* procfs hands out seq_file records: a short read is not the end there. */
        return read_fd(fd, max, cap, /* short_read_is_eof= */ false, ret, ret_size);
}

int root_read_line(const struct root *r, const char *path, char **ret)
{
        _cleanup_free_ char *s = NULL;
        int k = root_read_file(r, path, 64 * 1024, &s, NULL);
        return k < 0 ? k : first_line(s, ret);
}

int root_list_dir(const struct root *r, const char *path, char ***ret)
{
        int fd = root_openat(r, path, O_RDONLY | O_DIRECTORY, 0);
        if (fd < 0)
                return fd;
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                int k = -errno;
                close(fd);
                return k;
        }
        _cleanup_strv_free_ char **l = xcalloc(1, sizeof(char *));
        struct dirent *de;
        errno = 0;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                l = strv_push(l, de->d_name);
        }
        if (errno)
                return -errno;
        strv_sort(l);
        *ret = TAKE_PTR(l);
        return 0;
}

int root_readlink(const struct root *r, const char *path, char **ret)
{
        _cleanup_close_ int fd = root_openat(r, path, O_PATH | O_NOFOLLOW, 0);
        if (fd < 0)
                return fd;
        char target[4096];
        ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
        if (n < 0)
                return errno == ENOENT ? -EINVAL : -errno;
        target[n] = 0;
        *ret = xstrdup(target);
        return 0;
}

int root_link_basename(const struct root *r, const char *path, char **ret)
{
        _cleanup_free_ char *t = NULL;
        int k = root_readlink(r, path, &t);
        if (k < 0)
                return k;
        size_t n = strlen(t);
        while (n > 1 && t[n - 1] == '/')
                t[--n] = 0;
        const char *slash = strrchr(t, '/');
        const char *base = slash ? slash + 1 : t;
        if (!*base || streq(base, ".") || streq(base, ".."))
                return -EINVAL;
        *ret = xstrdup(base);
        return 0;
}

int root_stat(const struct root *r, const char *path, struct stat *ret, bool follow)
{
        _cleanup_close_ int fd = root_openat(r, path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
        if (fd < 0)
                return fd;
        if (fstat(fd, ret) < 0)
                return -errno;
        return 0;
}

bool root_exists(const struct root *r, const char *path)
{
        struct stat st;
        return root_stat(r, path, &st, true) == 0;
}

bool root_is_dir(const struct root *r, const char *path)
{
        struct stat st;
        return root_stat(r, path, &st, true) == 0 && S_ISDIR(st.st_mode);
}

int root_open_dir(const struct root *r, const char *path)
{
        return root_openat(r, path, O_RDONLY | O_DIRECTORY, 0);
}

static int open_beneath(int dirfd, const char *name, int flags)
{
        flags |= O_CLOEXEC | O_NOFOLLOW;
        if (have_openat2) {
                struct open_how how = {
                        .flags = (unsigned long long) flags,
                        .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
                };
                long fd = openat2_retry(dirfd, name, &how);
                if (fd >= 0)
                        return (int) fd;
                if (errno != ENOSYS)
                        return -errno;
                have_openat2 = false;
        }
        /* Without openat2 only single names are taken, which cannot climb out. */
        if (strchr(name, '/'))
                return -EXDEV;
        int fd = openat(dirfd, name, flags);
        return fd < 0 ? -errno : fd;
}

int dir_read_file(int dirfd, const char *name, size_t max, char **ret, size_t *ret_size)
{
        _cleanup_close_ int fd = open_beneath(dirfd, name, O_RDONLY | O_NOCTTY);
        if (fd < 0)
                return fd;
        /*
         * sysfs attributes come in one piece: a read that returns less than asked is the
         * end already, which saves a second read per attribute.
         */
        return read_fd(fd, max, 256, /* short_read_is_eof= */ true, ret, ret_size);
}

int dir_read_line(int dirfd, const char *name, char **ret)
{
        _cleanup_free_ char *s = NULL;
        int k = dir_read_file(dirfd, name, 64 * 1024, &s, NULL);
        return k < 0 ? k : first_line(s, ret);
}

int dir_link_basename(int dirfd, const char *name, char **ret)
{
        char target[4096];
        ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
        if (n < 0)
                return -errno;
        target[n] = 0;
        while (n > 1 && target[n - 1] == '/')
                target[--n] = 0;
        const char *slash = strrchr(target, '/');
        const char *base = slash ? slash + 1 : target;
        if (!*base || streq(base, ".") || streq(base, ".."))
                return -EINVAL;
        *ret = xstrdup(base);
        return 0;
}
