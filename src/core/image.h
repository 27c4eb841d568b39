/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The OpenCore disk image: a GPT disk (or a bare FAT32 "superfloppy", the
 * layout of the guide's DiskProvision) holding one FAT32 EFI System Partition
 * with a directory tree, written in one pass by an unprivileged process; and
 * changes to files inside an existing image without mounting it.
 */

#include <stdbool.h>
#include <stdint.h>

#include "fat.h"
#include "gpt.h"
#include "progress.h"

enum image_layout {
        IMAGE_LAYOUT_GPT,
        IMAGE_LAYOUT_WHOLE_DISK,
};

enum image_format {
        IMAGE_FORMAT_RAW,
        IMAGE_FORMAT_QCOW2,
};

struct image_build_options {
        const char *from; /* the directory whose contents become the volume's root */
        uint64_t size;    /* of the disk; 0: the smallest that fits */
        enum image_layout layout;
        enum image_format format;
        const char *label; /* volume label, at most 11 characters; NULL: "OPENCORE" */
        const char *seed;  /* GUIDs and volume ID from this seed; NULL: random */
        int64_t timestamp; /* every time stamp (> 0); 0: each file's mtime */
        bool force;        /* replace an existing output */
        unsigned long long fail_at_write; /* tests: write N (1, 2...) fails; 0: none */
};

struct image_build_result {
        uint64_t disk_bytes, volume_bytes, min_disk_bytes;
        uint32_t cluster_bytes;
        uint64_t files, dirs, data_bytes;
        char disk_guid[UUID_STRING_MAX], partition_guid[UUID_STRING_MAX];
        uint32_t volume_id;
};

/*
 * Writes the image @out from @o->from. Refuses before writing anything when
 * the tree holds names FAT cannot store or does not fit @o->size (saying the
 * size it needs). Nothing is left at @out on failure.
 */
int image_build(const char *out, const struct image_build_options *o,
                const struct progress_sink *progress, struct image_build_result *ret,
                char **reterr);

/* The smallest disk for @layout that holds FAT32 and nothing else. */
uint64_t image_min_disk_bytes(enum image_layout layout);

const char *image_layout_to_string(enum image_layout l);
int image_layout_from_string(const char *s, enum image_layout *ret);
const char *image_format_to_string(enum image_format f);
int image_format_from_string(const char *s, enum image_format *ret);

/* An existing image opened for reading or for one change. */
struct image;

/*
 * Opens @path (a raw image: GPT, MBR or whole-disk FAT32) and checks its FAT
 * volume. @writable: the change goes to a copy of the image (a reflink where
 * the file system can) that image_commit() renames over it, so that a failure
 * at any point leaves the old image.
 */
int image_open(const char *path, bool writable, unsigned long long fail_at_write,
               struct image **ret, char **reterr);
struct fat_volume *image_volume(struct image *im);
const struct gpt_location *image_location(const struct image *im);
/*
 * Copies the directory @local to @path inside the image (created when
 * missing; files replaced, directories merged), in sorted order.
 */
int image_put_tree(struct image *im, const char *path, const char *local, int64_t timestamp,
                   uint64_t *ret_files, char **reterr);
int image_commit(struct image *im, char **reterr);
void image_close(struct image *im);

static inline void image_closep(struct image **im)
{
        if (*im)
                image_close(*im);
}
