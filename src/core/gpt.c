/* SPDX-License-Identifier: MIT */
#include "gpt.h"

#include <errno.h>
#include <string.h>

#include "alloc.h"

/* C12A7328-F81F-11D2-BA4B-00A0C93EC93B in RFC 4122 (text) order. */
const struct uuid gpt_type_esp = { { 0xc1, 0x2a, 0x73, 0x28, 0xf8, 0x1f, 0x11, 0xd2, 0xba, 0x4b,
                                     0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b } };

static uint32_t crc_table[8][256];

static void crc_init(void)
{
        for (uint32_t i = 0; i < 256; i++) {
                uint32_t c = i;
                for (int k = 0; k < 8; k++)
                        c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
                crc_table[0][i] = c;
        }
        for (uint32_t i = 0; i < 256; i++)
                for (int t = 1; t < 8; t++)
                        crc_table[t][i] = (crc_table[t - 1][i] >> 8) ^
                                          crc_table[0][crc_table[t - 1][i] & 0xff];
}

uint32_t gpt_crc32(uint32_t crc, const void *data, size_t len)
{
        if (crc_table[0][1] == 0)
                crc_init();
        const uint8_t *p = data;
        crc = ~crc;
        /* Slicing by 8: the partition array is 16 KiB and read on every open. */
        while (len >= 8) {
                uint32_t lo = crc ^ ((uint32_t) p[0] | (uint32_t) p[1] << 8 |
                                     (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24);
                crc = crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
                      crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
                      crc_table[3][p[4]] ^ crc_table[2][p[5]] ^ crc_table[1][p[6]] ^
                      crc_table[0][p[7]];
                p += 8;
                len -= 8;
        }
        while (len--)
                crc = crc_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
        return ~crc;
}

static void put16(uint8_t *p, uint16_t v)
{
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
        put16(p, (uint16_t) v);
        put16(p + 2, (uint16_t) (v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
        put32(p, (uint32_t) v);
        put32(p + 4, (uint32_t) (v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
        return get32(p) | (uint64_t) get32(p + 4) << 32;
}

static void header(uint8_t *h, uint64_t my_lba, uint64_t alt_lba, uint64_t entries_lba,
                   uint64_t disk_sectors, const struct uuid *disk_guid, uint32_t array_crc)
{
        memset(h, 0, GPT_SECTOR);
        memcpy(h, "EFI PART", 8);
        put32(h + 8, 0x00010000);
        put32(h + 12, 92);
        put64(h + 24, my_lba);
        put64(h + 32, alt_lba);
        put64(h + 40, 2 + GPT_ARRAY_SECTORS);                /* first usable */
        put64(h + 48, disk_sectors - 2 - GPT_ARRAY_SECTORS); /* last usable */
        uuid_to_guid_bytes(disk_guid, h + 56);
        put64(h + 72, entries_lba);
        put32(h + 80, GPT_ENTRIES);
        put32(h + 84, GPT_ENTRY_SIZE);
        put32(h + 88, array_crc);
        put32(h + 16, gpt_crc32(0, h, 92));
}

void gpt_build(uint64_t disk_sectors, const struct uuid *disk_guid, const struct gpt_partition *p,
               uint8_t head[34 * GPT_SECTOR], uint8_t tail[33 * GPT_SECTOR])
{
        memset(head, 0, 34 * GPT_SECTOR);
        /* Protective MBR: one partition of type 0xee over the whole disk (or 2 TiB). */
        uint8_t *e = head + 446;
        e[1] = 0x00;
        e[2] = 0x02;
        e[3] = 0x00;
        e[4] = 0xee;
        e[5] = e[6] = e[7] = 0xff;
        put32(e + 8, 1);
        put32(e + 12, disk_sectors - 1 > 0xffffffffu ? 0xffffffffu : (uint32_t) (disk_sectors - 1));
        head[510] = 0x55;
        head[511] = 0xaa;

        uint8_t *array = head + 2 * GPT_SECTOR;
        uuid_to_guid_bytes(&p->type, array);
        uuid_to_guid_bytes(&p->guid, array + 16);
        put64(array + 32, p->first_lba);
        put64(array + 40, p->last_lba);
        for (size_t i = 0; p->name && p->name[i] && i < 36; i++)
                put16(array + 56 + 2 * i, (uint8_t) p->name[i]);
        uint32_t array_crc = gpt_crc32(0, array, GPT_ARRAY_SECTORS * GPT_SECTOR);

        uint64_t last = disk_sectors - 1;
        header(head + GPT_SECTOR, 1, last, 2, disk_sectors, disk_guid, array_crc);
        memcpy(tail, array, GPT_ARRAY_SECTORS * GPT_SECTOR);
        header(tail + GPT_ARRAY_SECTORS * GPT_SECTOR, last, 1, last - GPT_ARRAY_SECTORS,
               disk_sectors, disk_guid, array_crc);
}

static bool is_fat_boot_sector(const uint8_t *s)
{
        uint16_t bps = (uint16_t) (s[11] | s[12] << 8);
        return (s[0] == 0xeb || s[0] == 0xe9) && s[510] == 0x55 && s[511] == 0xaa && bps >= 512 &&
               bps <= 4096 && (bps & (bps - 1)) == 0;
}

static int locate_gpt(const uint8_t *head, size_t len, uint64_t disk_size, struct gpt_location *ret,
                      char **reterr)
{
        const uint8_t *h = head + GPT_SECTOR;
        uint32_t hsize = get32(h + 12);
        if (hsize < 92 || hsize > GPT_SECTOR) {
                *reterr = xasprintf("GPT header size %u is not 92..512", hsize);
                return -EBADMSG;
        }
        uint8_t copy[GPT_SECTOR];
        memcpy(copy, h, hsize);
        memset(copy + 16, 0, 4);
        if (gpt_crc32(0, copy, hsize) != get32(h + 16)) {
                *reterr = xasprintf("GPT header CRC32 mismatch");
                return -EBADMSG;
        }
        uint64_t entries_lba = get64(h + 72);
        uint32_t n = get32(h + 80), esize = get32(h + 84);
        if (entries_lba != 2 || esize < 128 || esize > 1024 || (esize & (esize - 1)) != 0 ||
            n == 0 || (uint64_t) n * esize > 32 * GPT_SECTOR) {
                *reterr = xasprintf("GPT entry array (LBA %llu, %u entries of %u bytes) is not "
                                    "the usual one at LBA 2 within 16 KiB",
                                    (unsigned long long) entries_lba, n, esize);
                return -EOPNOTSUPP;
        }
        if (len < 2 * GPT_SECTOR + (size_t) n * esize) {
                *reterr = xasprintf("image too small for its GPT entry array");
                return -EBADMSG;
        }
        const uint8_t *array = head + 2 * GPT_SECTOR;
        if (gpt_crc32(0, array, (size_t) n * esize) != get32(h + 88)) {
                *reterr = xasprintf("GPT partition array CRC32 mismatch");
                return -EBADMSG;
        }
        uint64_t sectors = disk_size / GPT_SECTOR;
        const uint8_t *found = NULL;
        size_t used = 0;
        const uint8_t *only = NULL;
        for (uint32_t i = 0; i < n; i++) {
                const uint8_t *e = array + (size_t) i * esize;
                static const uint8_t zero[16];
                if (memcmp(e, zero, 16) == 0)
                        continue;
                used++;
                only = e;
                struct uuid t;
                uuid_from_guid_bytes(e, &t);
                if (!found && memcmp(&t, &gpt_type_esp, sizeof(t)) == 0)
                        found = e;
        }
        if (!found && used == 1)
                found = only; /* a single partition of another type: try it as FAT */
        if (!found) {
                *reterr = xasprintf("the GPT has no EFI System Partition");
                return -ENOENT;
        }
        uint64_t first = get64(found + 32), last = get64(found + 40);
        if (first < 2 || last < first || last >= sectors) {
                *reterr = xasprintf("the EFI System Partition (LBA %llu-%llu) lies outside the "
                                    "%llu-sector image",
                                    (unsigned long long) first, (unsigned long long) last,
                                    (unsigned long long) sectors);
                return -EBADMSG;
        }
        *ret = (struct gpt_location){ first * GPT_SECTOR, (last - first + 1) * GPT_SECTOR, "gpt" };
        return 0;
}

int gpt_locate(const uint8_t *head, size_t len, uint64_t disk_size, struct gpt_location *ret,
               char **reterr)
{
        if (len < GPT_SECTOR || disk_size < GPT_SECTOR) {
                *reterr = xasprintf("image is %llu bytes, smaller than one sector",
                                    (unsigned long long) disk_size);
                return -EBADMSG;
        }
        if (memcmp(head, "QFI\xfb", 4) == 0) {
                *reterr = xasprintf("image is qcow2; convert it first: qemu-img convert -O raw "
                                    "IMAGE IMAGE.img");
                return -EOPNOTSUPP;
        }
        if (len >= 2 * GPT_SECTOR && memcmp(head + GPT_SECTOR, "EFI PART", 8) == 0)
                return locate_gpt(head, len, disk_size, ret, reterr);
        if (head[510] == 0x55 && head[511] == 0xaa && !is_fat_boot_sector(head)) {
                for (int i = 0; i < 4; i++) {
                        const uint8_t *e = head + 446 + 16 * i;
                        if (e[4] == 0xee) {
                                *reterr = xasprintf("protective MBR without a GPT header at LBA 1");
                                return -EBADMSG;
                        }
                        if (e[4] == 0x0b || e[4] == 0x0c || e[4] == 0xef) {
                                uint64_t first = get32(e + 8), count = get32(e + 12);
                                if (first == 0 || (first + count) * GPT_SECTOR > disk_size) {
                                        *reterr = xasprintf("MBR partition %d lies outside the "
                                                            "image",
                                                            i + 1);
                                        return -EBADMSG;
                                }
                                *ret = (struct gpt_location){ first * GPT_SECTOR,
                                                              count * GPT_SECTOR, "mbr" };
                                return 0;
                        }
                }
                *reterr = xasprintf("the MBR has no FAT or EFI partition");
                return -ENOENT;
        }
        if (is_fat_boot_sector(head)) {
                *ret = (struct gpt_location){ 0, disk_size, "none" };
                return 0;
        }
        *reterr = xasprintf("no GPT, MBR or FAT boot sector found (not a disk image?)");
        return -EBADMSG;
}
