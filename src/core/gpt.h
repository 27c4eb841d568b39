/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * GUID partition tables (UEFI 2.x, chapter 5) for disk images: the
 * protective MBR, the primary header and entry array at LBA 1-33 and their
 * backup copies at the end of the disk, with their CRC32s. Only 512-byte
 * sectors; one partition is all the OpenCore disk needs. The reader finds the
 * EFI System Partition (or the one FAT partition) of an existing image.
 */

#include <stddef.h>
#include <stdint.h>

#include "uuid.h"

#define GPT_SECTOR     512u
#define GPT_ENTRIES    128u
#define GPT_ENTRY_SIZE 128u
/* LBA 1 (header) + 32 sectors of entries. */
#define GPT_ARRAY_SECTORS (GPT_ENTRIES * GPT_ENTRY_SIZE / GPT_SECTOR)

/* The EFI System Partition type, C12A7328-F81F-11D2-BA4B-00A0C93EC93B. */
extern const struct uuid gpt_type_esp;

/* CRC-32 (IEEE 802.3, reflected, as GPT and zlib use it); @crc 0 to start. */
uint32_t gpt_crc32(uint32_t crc, const void *data, size_t len);

struct gpt_partition {
        struct uuid type;
        struct uuid guid;
        uint64_t first_lba, last_lba; /* inclusive */
        const char *name;             /* ASCII */
};

/*
 * Builds the disk's table for one partition on a disk of @disk_sectors:
 * @head gets LBA 0-33 (MBR, header, entries: 34 sectors), @tail the last 33
 * (entries, backup header).
 */
void gpt_build(uint64_t disk_sectors, const struct uuid *disk_guid, const struct gpt_partition *p,
               uint8_t head[34 * GPT_SECTOR], uint8_t tail[33 * GPT_SECTOR]);

/* Where a file system lives in an image. */
struct gpt_location {
        uint64_t offset, size; /* bytes */
        const char *scheme;    /* "gpt", "mbr", "none" (whole disk) */
};

/*
 * Finds the EFI System Partition in @head (the first 34 sectors of an image of
 * @disk_size bytes, or fewer when the image is smaller: @len): a GPT one
 * (headers and entry CRCs checked), an MBR one (types 0x0b, 0x0c, 0xef), or the
 * whole disk when sector 0 is a FAT boot sector. Refuses anything else.
 */
int gpt_locate(const uint8_t *head, size_t len, uint64_t disk_size, struct gpt_location *ret,
               char **reterr);
