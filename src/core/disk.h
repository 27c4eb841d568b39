/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The macOS system disk: qcow2 (lazy refcounts, the options qemu's own
 * performance notes and the better peers use) or raw sparse; copy-on-write
 * turned off on btrfs, where it fragments VM images badly.
 */

#include <stdbool.h>
#include <stdint.h>

enum disk_format {
        DISK_FORMAT_QCOW2,
        DISK_FORMAT_RAW,
};

enum disk_prealloc {
        DISK_PREALLOC_OFF,
        DISK_PREALLOC_METADATA,
        DISK_PREALLOC_FALLOC,
};

struct disk_create_options {
        uint64_t size;
        enum disk_format format;
        enum disk_prealloc prealloc;
        bool force;
};

struct disk_create_result {
        bool nocow;           /* the file system is btrfs and the file got +C */
        uint64_t needs_bytes; /* space the preallocation takes at once */
};

int disk_format_from_string(const char *s, enum disk_format *ret);
const char *disk_format_to_string(enum disk_format f);
int disk_prealloc_from_string(const char *s, enum disk_prealloc *ret);
const char *disk_prealloc_to_string(enum disk_prealloc p);

/*
 * Creates @out. Refuses an existing file without @o->force, and a file system
 * without room for the preallocation (saying how much is missing).
 */
int disk_create(const char *out, const struct disk_create_options *o,
                struct disk_create_result *ret, char **reterr);
