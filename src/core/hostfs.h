/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The write side of struct root, for host preparation: every path is an
 * absolute host path resolved inside the root (as root_openat() does), so a
 * fixture tree given with --root is the only thing a test ever writes.
 */

#include <stdbool.h>
#include <sys/stat.h>

#include "root.h"

/* mkdir -p of the host path @path inside the root. */
int root_mkdir_p(const struct root *r, const char *path, mode_t mode);

/*
 * Writes @data to the host path @path atomically (temporary file, fsync, rename,
 * fsync of the directory). An existing file keeps its owner and mode; a new one
 * gets @mode. @force, when given, sets mode, uid and gid instead (restoring a
 * backup); a chown refused for lack of privilege is not an error.
 */
int root_write_file_atomic(const struct root *r, const char *path, const void *data, size_t len,
                           mode_t mode, const struct stat *force, char **reterr);

int root_unlink(const struct root *r, const char *path);

/*
 * Writes @value to an existing attribute file (sysfs: driver_override, unbind,
 * bind, drivers_probe), as `echo VALUE > FILE` would: never creates the file.
 */
int root_write_attr(const struct root *r, const char *path, const char *value, char **reterr);
