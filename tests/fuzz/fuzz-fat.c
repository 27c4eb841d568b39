/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the image readers: the GPT/MBR locator and the FAT32
 * volume checker, lister, reader and editor. The first byte picks the target.
 *
 * FAT32 needs 65525 clusters (33 MiB), far beyond an input's 64 KiB, so the
 * input is laid out like a sparse image: the first 32 KiB at offset 0 (boot
 * sector, reserved sectors, the start of FAT 1), copied to FAT 2 as well so
 * that the FATs agree, and the rest at the data area the boot sector names.
 * A volume the checker accepts is then edited (a file put and removed) and
 * must still pass the checker: the editor never writes what the reader refuses.
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "alloc.h"
#include "fat.h"
#include "fileio.h"
#include "gpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HEAD       (32u * 1024)
#define MAX_VOLUME (40u << 20)

static uint32_t le16(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
        return le16(p) | le16(p + 2) << 16;
}

static void walk(struct fat_volume *v, const char *path, int depth, int devnull)
{
        struct fat_entry *e;
        size_t n;
        char *err = NULL;
        if (depth > 8 || fat_list(v, path, &e, &n, &err) < 0) {
                free(err);
                return;
        }
        for (size_t i = 0; i < n; i++) {
                char *sub = xasprintf("%s/%s", path, e[i].name);
                if (e[i].dir)
                        walk(v, sub, depth + 1, devnull);
                else if (fat_read_file(v, sub, devnull, &err) < 0) {
                        free(err);
                        err = NULL;
                }
                free(sub);
        }
        fat_entries_free(e, n);
}

static void fuzz_volume(const uint8_t *data, size_t size)
{
        if (size < 512)
                return;
        uint32_t bps = le16(data + 11), reserved = le16(data + 14), fat = le32(data + 36);
        uint64_t total = (uint64_t) le32(data + 32) * (bps ? bps : 512);
        uint64_t vol = total >= size && total <= MAX_VOLUME ? total : size;
        int fd = memfd_create("fuzz-fat", MFD_CLOEXEC);
        if (fd < 0 || ftruncate(fd, (off_t) vol) < 0)
                abort();
        size_t head = size < HEAD ? size : HEAD;
        if (pwrite_all(fd, data, head, 0) < 0)
                abort();
        uint64_t fat1 = (uint64_t) reserved * bps, fat_bytes = (uint64_t) fat * bps;
        if (bps >= 512 && fat1 < head && fat1 + fat_bytes * 2 < vol) {
                size_t in_head = (size_t) (head - fat1 < fat_bytes ? head - fat1 : fat_bytes);
                if (pwrite_all(fd, data + fat1, in_head, (off_t) (fat1 + fat_bytes)) < 0)
                        abort();
                uint64_t data_off = fat1 + 2 * fat_bytes;
                if (size > head && data_off + (size - head) <= vol &&
                    pwrite_all(fd, data + head, size - head, (off_t) data_off) < 0)
                        abort();
        }
        struct fat_volume *v = NULL;
        char *err = NULL;
        struct fat_open_options o = { .writable = true, .fail_at_write = 0 };
        if (fat_open(fd, 0, vol, &o, &v, &err) < 0) {
                free(err);
                close(fd);
                return;
        }
        int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
        walk(v, "", 0, devnull);
        int src = memfd_create("fuzz-src", MFD_CLOEXEC);
        if (src < 0 || pwrite_all(src, data, size < 3000 ? size : 3000, 0) < 0)
                abort();
        bool changed = fat_put_file(v, "Fuzz Dir/New File.txt", src, size < 3000 ? size : 3000,
                                    1700000000, &err) == 0;
        free(err);
        err = NULL;
        if (changed && fat_remove(v, "Fuzz Dir/New File.txt", &err) < 0)
                abort(); /* what we just wrote must be removable */
        free(err);
        err = NULL;
        fat_close(v);
        v = NULL;
        if (changed) {
                /* The edited volume must pass the same checks as before. */
                if (fat_open(fd, 0, vol, &o, &v, &err) < 0) {
                        fprintf(stderr, "edited volume refused: %s\n", err);
                        abort();
                }
                fat_close(v);
        }
        close(src);
        close(devnull);
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        if (data[0] % 2 == 0) {
                struct gpt_location loc;
                char *err = NULL;
                (void) gpt_locate(data + 1, size - 1, (uint64_t) (size - 1) * 64, &loc, &err);
                free(err);
        } else
                fuzz_volume(data + 1, size - 1);
        return 0;
}
