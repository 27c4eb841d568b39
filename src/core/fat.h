/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * FAT32 (Microsoft's "FAT: General Overview of On-Disk Format" 1.03): the
 * geometry of a volume, its boot sector and FSInfo, directory entries with
 * long names (UTF-16, checksummed) and their 8.3 aliases, and a reader/editor
 * for an existing volume inside an image file: list, read, write and remove
 * files with both FATs and FSInfo kept in step. FAT12/16, exFAT and anything
 * inconsistent (cluster loops, cross-linked chains, a dirty volume) are
 * refused with the reason, never repaired.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define FAT_SECTOR         512u
#define FAT32_MIN_CLUSTERS 65525u
#define FAT32_MAX_CLUSTERS 0x0ffffff5u
#define FAT_EOC            0x0ffffff8u
#define FAT_MAX_FILE       0xffffffffull
#define FAT_NAME_MAX       255                   /* UTF-16 units of a long name */
#define FAT_MAX_VOLUME     (0xffffffffull * 512) /* 32-bit sector count */

enum {
        FAT_ATTR_READ_ONLY = 0x01,
        FAT_ATTR_HIDDEN = 0x02,
        FAT_ATTR_SYSTEM = 0x04,
        FAT_ATTR_VOLUME_ID = 0x08,
        FAT_ATTR_DIRECTORY = 0x10,
        FAT_ATTR_ARCHIVE = 0x20,
        FAT_ATTR_LFN = 0x0f,
};

/* How a FAT32 volume of a given size is laid out (512-byte sectors). */
struct fat_geometry {
        uint64_t sectors;
        uint32_t sectors_per_cluster;
        uint32_t reserved_sectors;
        uint32_t fat_sectors; /* of one FAT; there are two */
        uint32_t clusters;    /* data clusters: numbers 2 .. clusters + 1 */
};

/*
 * The layout for a volume of @bytes: cluster size from the volume size (512 B
 * below 260 MiB, then 4, 8, 16, 32 KiB), data area aligned to 4 KiB. -ERANGE
 * when the volume is too small for FAT32's 65525 clusters or too large.
 */
int fat_geometry_for(uint64_t bytes, struct fat_geometry *ret);

static inline uint32_t fat_cluster_bytes(const struct fat_geometry *g)
{
        return g->sectors_per_cluster * FAT_SECTOR;
}

/* Byte offset of cluster @c from the start of the volume. */
static inline uint64_t fat_cluster_offset(const struct fat_geometry *g, uint32_t c)
{
        return ((uint64_t) g->reserved_sectors + 2ull * g->fat_sectors +
                (uint64_t) (c - 2) * g->sectors_per_cluster) *
               FAT_SECTOR;
}

/* Boot sector (also written as the backup at sector 6) and FSInfo (sector 1 and 7). */
void fat_boot_sector(uint8_t out[FAT_SECTOR], const struct fat_geometry *g, uint32_t hidden,
                     uint32_t volume_id, const char *label);
void fat_fsinfo(uint8_t out[FAT_SECTOR], uint32_t free_clusters, uint32_t next_free);

/* A name as it goes into a directory. */
struct fat_name {
        uint16_t u16[FAT_NAME_MAX + 1];
        size_t n16;
        uint8_t short_name[11];
        bool lfn; /* needs long-name entries (else the 8.3 name says it all) */
};

/*
 * Checks a UTF-8 file name for FAT (no control characters, none of
 * "*:<>?\|/, no trailing dot or space, at most 255 UTF-16 units, valid UTF-8)
 * and fills @ret except the alias of a long name. Returns -EINVAL with why.
 */
int fat_name_prepare(const char *name, struct fat_name *ret, char **reterr);
/* Derives the 8.3 alias "BASIS~N.EXT" for a long name with tail number @n (1, 2...). */
void fat_short_alias(const struct fat_name *name, unsigned n, uint8_t out[11]);
uint8_t fat_lfn_checksum(const uint8_t short_name[11]);
/* Case-insensitive (ASCII) equality of two UTF-16 names. */
bool fat_name_equal(const uint16_t *a, size_t na, const uint16_t *b, size_t nb);
/* Number of 32-byte slots @name takes. */
size_t fat_name_slots(const struct fat_name *name);
/* Writes @name's long-name slots and short entry to @out; returns the slot count. */
size_t fat_dirent_encode(uint8_t *out, const struct fat_name *name, uint8_t attr, uint32_t cluster,
                         uint32_t size, int64_t mtime);
/* A short entry without long name (".", "..", the volume label). */
void fat_dirent_short(uint8_t out[32], const uint8_t short_name[11], uint8_t attr, uint32_t cluster,
                      uint32_t size, int64_t mtime);

/* --- reading and editing an existing volume --- */

struct fat_volume;

struct fat_open_options {
        bool writable;
        /* Fault injection for tests: write number N (1, 2...) fails; 0: none. */
        unsigned long long fail_at_write;
};

/*
 * Opens the FAT32 volume at @offset (@size bytes) in @fd and checks it
 * completely: boot sector, both FATs equal, the clean bit, and every chain of
 * the directory tree (valid clusters, no loops, no cross-links, lengths match
 * the sizes). @fd stays the caller's.
 */
int fat_open(int fd, uint64_t offset, uint64_t size, const struct fat_open_options *o,
             struct fat_volume **ret, char **reterr);
void fat_close(struct fat_volume *v);

static inline void fat_closep(struct fat_volume **v)
{
        if (*v)
                fat_close(*v);
}

struct fat_entry {
        char *name; /* UTF-8 */
        char short_name[13];
        bool dir;
        uint32_t size;
        int64_t mtime;
        uint32_t cluster;
};

void fat_entries_free(struct fat_entry *e, size_t n);

struct fat_info {
        uint32_t cluster_bytes, clusters, free_clusters;
        uint64_t volume_bytes;
        char label[12];
        uint32_t volume_id;
};

void fat_get_info(const struct fat_volume *v, struct fat_info *ret);
/* The entry at @path ("" or "/" is the root directory). -ENOENT, -ENOTDIR. */
int fat_stat(struct fat_volume *v, const char *path, struct fat_entry *ret, char **reterr);
/* The entries of the directory @path, without "." and "..". */
int fat_list(struct fat_volume *v, const char *path, struct fat_entry **ret, size_t *ret_n,
             char **reterr);
/* Copies the file at @path to @out_fd. */
int fat_read_file(struct fat_volume *v, const char *path, int out_fd, char **reterr);
/*
 * Creates or replaces the file @path with @size bytes read from @in_fd,
 * creating missing parent directories. Order: the new data into free
 * clusters, fsync, then the directory entry, both FATs and FSInfo, fsync.
 */
int fat_put_file(struct fat_volume *v, const char *path, int in_fd, uint64_t size, int64_t mtime,
                 char **reterr);
/* Creates the directory @path and its missing parents (like mkdir -p). */
int fat_mkdir(struct fat_volume *v, const char *path, int64_t mtime, char **reterr);
/*
 * With @defer, changes skip their fsyncs: for a series of changes to a copy
 * that replaces the image only when complete (image_commit() syncs it).
 */
void fat_defer_sync(struct fat_volume *v, bool defer);
/* Removes a file or an empty directory. */
int fat_remove(struct fat_volume *v, const char *path, char **reterr);
