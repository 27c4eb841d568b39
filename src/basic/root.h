/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Every read of the host (/sys, /proc, /etc, /dev, bootloader files) goes
 * through a struct root: paths are written as absolute host paths and resolved
 * inside the root directory given with --root, symlinks included (openat2's
 * RESOLVE_IN_ROOT), so a fixture tree can never make us read the real host.
 */

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "macro.h"

struct root {
        int fd;
        char *path;   /* as given, for messages */
        bool is_host; /* the root is "/" */
};

/* Tests: resolve paths by hand, as on kernels without openat2(), when @enabled is false. */
void root_use_openat2(bool enabled);

/* Opens the root directory @path. On failure fills *reterr (free() it). */
int root_open(const char *path, struct root **ret, char **reterr);
struct root *root_free(struct root *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct root *, root_free)

/* openat() of the absolute host path @path inside the root. Returns an fd or -errno. */
int root_openat(const struct root *r, const char *path, int flags, mode_t mode);

/*
 * Reads the whole file into a NUL-terminated buffer (which may hold other NULs:
 * *ret_size tells the length). Files larger than @max give -EFBIG.
 */
int root_read_file(const struct root *r, const char *path, size_t max, char **ret,
                   size_t *ret_size);
/* Reads the first line, without its newline and surrounding white space; -ENODATA when empty. */
int root_read_line(const struct root *r, const char *path, char **ret);
/* The names in a directory, sorted, without "." entries and dot-files. */
int root_list_dir(const struct root *r, const char *path, char ***ret);
/* The target of a symlink. */
int root_readlink(const struct root *r, const char *path, char **ret);
/* The last component of a symlink's target (sysfs "driver", "iommu_group"). */
int root_link_basename(const struct root *r, const char *path, char **ret);
int root_stat(const struct root *r, const char *path, struct stat *ret, bool follow);
bool root_exists(const struct root *r, const char *path);
bool root_is_dir(const struct root *r, const char *path);

/*
 * Reading files relative to an already opened directory (a sysfs device
 * directory), refusing symlinks: faster than resolving the whole path for each
 * of a device's ten attributes, and just as confined.
 */
int root_open_dir(const struct root *r, const char *path);
int dir_read_file(int dirfd, const char *name, size_t max, char **ret, size_t *ret_size);
int dir_read_line(int dirfd, const char *name, char **ret);
int dir_link_basename(int dirfd, const char *name, char **ret);
