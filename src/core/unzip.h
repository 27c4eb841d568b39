/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The only user of libarchive: extracts selected members of a zip, and only
 * when the whole archive is sane. A first pass checks every member name
 * (absolute paths, "..", empty components are refused anywhere in the zip),
 * the type of every selected member (symlinks, hard links and devices are
 * refused) and decompresses the selected members to count their real sizes
 * (a member or a total above the limits, or an absurd compression ratio, is a
 * bomb); nothing is written until that pass succeeded. The second pass
 * extracts into a staging directory beside the destination and then moves the
 * result into place.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct unzip_limits {
        uint64_t max_member; /* bytes of one member; 0: 512 MiB */
        uint64_t max_total;  /* bytes of all selected members; 0: 2 GiB */
        unsigned max_ratio;  /* uncompressed / zip size; 0: 100 */
        size_t max_entries;  /* 0: 100000 */
};

/*
 * Maps member @name (a checked relative path, directories end in '/') to the
 * destination path relative to the destination directory, or NULL to skip it.
 */
typedef char *(*unzip_map_fn)(void *userdata, const char *name);

struct unzip_stats {
        size_t n_entries;
        size_t n_extracted;
        uint64_t bytes;
};

/*
 * Extracts the members @map selects from @zip_path into @dest_dir (created if
 * missing). Errors: -EBADMSG an unsafe or corrupt archive (the message names
 * the member), -E2BIG a bomb, other -errno from the file system.
 */
int unzip_extract(const char *zip_path, const char *dest_dir, unzip_map_fn map, void *userdata,
                  const struct unzip_limits *limits, struct unzip_stats *ret, char **reterr);

/* Every member name of @zip_path (checked as above), for listing. */
int unzip_list(const char *zip_path, char ***ret, char **reterr);

/* Whether @name is a safe relative member path ("a/b", "a/b/"). */
bool unzip_name_is_safe(const char *name);

/* Checks a zip held in memory (the fuzz harness): both passes without writing. */
int unzip_check_memory(const void *data, size_t len, const struct unzip_limits *limits,
                       char **reterr);
