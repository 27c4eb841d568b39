/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Files that are either the old or the new content, never half of each:
 * write a temporary file next to the target, fsync it, rename it over the
 * target, fsync the directory. Every writer of user or host files uses this.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct atomic_file {
        int dir_fd;     /* directory of the target (owned) */
        int fd;         /* the temporary file (owned), -1 after commit/abort */
        char *name;     /* the target's name inside dir_fd */
        char *tmp_name; /* the temporary file's name inside dir_fd */
};

/*
 * Creates a temporary file in the directory of @path (relative to @at_fd, or
 * AT_FDCWD) with @mode. When @keep_owner and the target exists, the temporary
 * file gets the target's owner and mode instead.
 */
int atomic_file_open(int at_fd, const char *path, mode_t mode, bool keep_owner,
                     struct atomic_file *ret, char **reterr);
/* Writes all of @data to the temporary file. */
int atomic_file_write(struct atomic_file *f, const void *data, size_t len, char **reterr);
/* fsync, rename over the target, fsync the directory. Closes the file. */
int atomic_file_commit(struct atomic_file *f, char **reterr);
/* Removes the temporary file (no-op after commit). Safe to call twice. */
void atomic_file_abort(struct atomic_file *f);

static inline void atomic_file_abortp(struct atomic_file *f)
{
        atomic_file_abort(f);
}

#define _cleanup_atomic_file_ __attribute__((cleanup(atomic_file_abortp)))

/* Whole-file convenience: the above in one call. */
int write_file_atomic(int at_fd, const char *path, const void *data, size_t len, mode_t mode,
                      char **reterr);

/*
 * Reads a whole regular file (at most @max bytes; larger is -EFBIG) into a
 * NUL-terminated buffer. *ret_len excludes the NUL.
 */
int read_file_at(int at_fd, const char *path, size_t max, char **ret, size_t *ret_len,
                 char **reterr);

/* Writes all of @len bytes, retrying on EINTR and short writes. */
int write_all(int fd, const void *data, size_t len);
/* Reads up to @len bytes, retrying on EINTR and short reads; returns bytes read or -errno. */
ssize_t read_full(int fd, void *data, size_t len);
/* pwrite/pread counterparts. */
int pwrite_all(int fd, const void *data, size_t len, off_t offset);
ssize_t pread_full(int fd, void *data, size_t len, off_t offset);

/* mkdir -p with @mode for the created components. */
int mkdir_p(const char *path, mode_t mode);

/* Removes @path and, for a directory, everything below it (no symlink is followed). */
int rm_rf(const char *path);
/* The same for @name inside the directory @dfd. */
int rm_rf_at(int dfd, const char *name);

/*
 * Copies @size bytes of @src into @dst keeping holes: a reflink where the file
 * system can, else copy_file_range (or reads and writes) of the data ranges only.
 */
int copy_sparse(int src, int dst, uint64_t size, char **reterr);
