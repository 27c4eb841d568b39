/* SPDX-License-Identifier: MIT */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "fat.h"
#include "gpt.h"
#include "image.h"
#include "qcow2.h"

static char tmpl[] = "/tmp/dkvm-image-XXXXXX";
static char *dir;

static char *at(const char *rel)
{
        return xasprintf("%s/%s", dir, rel);
}

static void put(const char *rel, const char *content, size_t len)
{
        _cleanup_free_ char *p = at(rel);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(content, 1, len, f), len);
        fclose(f);
}

static void mk(const char *rel)
{
        _cleanup_free_ char *p = at(rel);
        assert_int_equal(mkdir(p, 0755), 0);
}

static int setup(void **state)
{
        (void) state;
        dir = mkdtemp(tmpl);
        return dir ? 0 : -1;
}

static int teardown(void **state)
{
        (void) state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_crc32(void **state)
{
        (void) state;
        assert_int_equal(gpt_crc32(0, "123456789", 9), 0xcbf43926u);
        assert_int_equal(gpt_crc32(0, "", 0), 0);
        /* Incremental equals one pass (the slicing path and the byte path agree). */
        const char *s = "The quick brown fox jumps over the lazy dog";
        assert_int_equal(gpt_crc32(gpt_crc32(0, s, 10), s + 10, strlen(s) - 10),
                         gpt_crc32(0, s, strlen(s)));
        assert_int_equal(gpt_crc32(0, s, strlen(s)), 0x414fa339u);
}

static void test_gpt_roundtrip(void **state)
{
        (void) state;
        uint8_t *head = xmalloc(34 * 512), *tail = xmalloc(33 * 512);
        struct uuid disk = { { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } };
        struct gpt_partition p = { gpt_type_esp, disk, 2048, 4095, "EFI System Partition" };
        gpt_build(8192, &disk, &p, head, tail);
        assert_memory_equal(head + 512, "EFI PART", 8);
        assert_int_equal(head[510], 0x55);
        assert_int_equal(head[446 + 4], 0xee);
        /* The ESP type in GPT byte order: 28 73 2A C1 1F F8 D2 11 BA 4B ... */
        static const uint8_t esp[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                         0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
        assert_memory_equal(head + 1024, esp, 16);
        assert_memory_equal(tail, head + 1024, 32 * 512); /* backup array */
        struct gpt_location loc;
        char *err = NULL;
        assert_int_equal(gpt_locate(head, 34 * 512, 8192 * 512, &loc, &err), 0);
        assert_int_equal(loc.offset, 2048 * 512);
        assert_int_equal(loc.size, 2048 * 512);
        assert_string_equal(loc.scheme, "gpt");
        /* A flipped bit in the header or the array is caught. */
        head[512 + 40] ^= 1;
        assert_int_equal(gpt_locate(head, 34 * 512, 8192 * 512, &loc, &err), -EBADMSG);
        assert_non_null(strstr(err, "header CRC32"));
        free(err);
        err = NULL;
        head[512 + 40] ^= 1;
        head[1024 + 33] ^= 1;
        assert_int_equal(gpt_locate(head, 34 * 512, 8192 * 512, &loc, &err), -EBADMSG);
        assert_non_null(strstr(err, "array CRC32"));
        free(err);
        free(head);
        free(tail);
}

static void test_names(void **state)
{
        (void) state;
        struct fat_name n;
        char *err = NULL;
        assert_int_equal(fat_name_prepare("BOOTX64.EFI", &n, &err), 0);
        assert_false(n.lfn);
        assert_memory_equal(n.short_name, "BOOTX64 EFI", 11);
        assert_int_equal(fat_name_slots(&n), 1);
        assert_int_equal(fat_name_prepare("config.plist", &n, &err), 0);
        assert_true(n.lfn);
        fat_short_alias(&n, 1, n.short_name);
        assert_memory_equal(n.short_name, "CONFIG~1PLI", 11);
        assert_int_equal(fat_name_slots(&n), 2);
        fat_short_alias(&n, 12, n.short_name);
        assert_memory_equal(n.short_name, "CONFI~12PLI", 11);
        /* Lower case 8.3 keeps its case through a long name. */
        assert_int_equal(fat_name_prepare("boot", &n, &err), 0);
        assert_true(n.lfn);
        /* Unicode outside the BMP: a surrogate pair, two UTF-16 units. */
        assert_int_equal(fat_name_prepare("\xf0\x9f\x98\x80", &n, &err), 0);
        assert_int_equal(n.n16, 2);
        assert_int_equal(n.u16[0], 0xd83d);
        assert_int_equal(n.u16[1], 0xde00);
        static const char *bad[] = { "a:b",   "a*",      "q?", "trailing.", "trailing ",
                                     "\x01x", "bad\xff", ".",  "..",        "" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_int_equal(fat_name_prepare(bad[i], &n, &err), -EINVAL);
                free(err);
                err = NULL;
        }
        char longname[300];
        memset(longname, 'a', 256);
        longname[256] = 0;
        assert_int_equal(fat_name_prepare(longname, &n, &err), -EINVAL);
        free(err);
        longname[255] = 0;
        assert_int_equal(fat_name_prepare(longname, &n, &err), 0);
        assert_int_equal(fat_name_slots(&n), 1 + 20);
        /* The checksum of Microsoft's example alias. */
        assert_int_equal(fat_lfn_checksum((const uint8_t *) "CONFIG~1PLI"),
                         fat_lfn_checksum((const uint8_t *) "CONFIG~1PLI"));
        uint8_t sum = 0;
        const uint8_t *sn = (const uint8_t *) "FOO     BAR";
        for (int i = 0; i < 11; i++)
                sum = (uint8_t) (((sum & 1) << 7) + (sum >> 1) + sn[i]);
        assert_int_equal(fat_lfn_checksum(sn), sum);
        assert_true(fat_name_equal((const uint16_t[]){ 'a', 'B' }, 2,
                                   (const uint16_t[]){ 'A', 'b' }, 2));
}

static void test_geometry(void **state)
{
        (void) state;
        struct fat_geometry g;
        assert_int_equal(fat_geometry_for(32u << 20, &g), -ERANGE);
        assert_int_equal(fat_geometry_for(34u << 20, &g), 0);
        assert_true(g.clusters >= FAT32_MIN_CLUSTERS);
        assert_int_equal(fat_cluster_bytes(&g), 512);
        assert_int_equal((g.reserved_sectors + 2 * g.fat_sectors) % 8, 0);
        assert_true((uint64_t) g.fat_sectors * 512 >= ((uint64_t) g.clusters + 2) * 4);
        assert_true(g.reserved_sectors + 2ull * g.fat_sectors +
                            (uint64_t) g.clusters * g.sectors_per_cluster <=
                    g.sectors);
        assert_int_equal(fat_geometry_for(2048ull << 20, &g), 0);
        assert_int_equal(fat_cluster_bytes(&g), 4096);
        assert_int_equal(image_min_disk_bytes(IMAGE_LAYOUT_GPT), 35u << 20);
        assert_int_equal(image_min_disk_bytes(IMAGE_LAYOUT_WHOLE_DISK), 33u << 20);
}

static void build(const char *name, enum image_layout layout, unsigned long long fail_at, int want)
{
        _cleanup_free_ char *out = at(name), *src = at("src");
        struct image_build_options o = { .from = src,
                                         .layout = layout,
                                         .seed = "unit",
                                         .timestamp = 1700000000,
                                         .force = true,
                                         .fail_at_write = fail_at };
        struct image_build_result res;
        char *err = NULL;
        int r = image_build(out, &o, NULL, &res, &err);
        if (r != want)
                fail_msg("build %s: %d (%s)", name, r, err ? err : "");
        free(err);
}

static void test_build_and_edit(void **state)
{
        (void) state;
        mk("src");
        mk("src/EFI");
        mk("src/EFI/OC");
        put("src/EFI/OC/config.plist", "<plist/>\n", 9);
        char big[5000];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (char) (i * 7);
        put("src/EFI/OC/OpenCore.efi", big, sizeof(big));
        put("src/EFI/OC/empty", "", 0);
        build("a.img", IMAGE_LAYOUT_GPT, 0, 0);
        build("w.img", IMAGE_LAYOUT_WHOLE_DISK, 0, 0);
        /* Reproducible. */
        build("b.img", IMAGE_LAYOUT_GPT, 0, 0);
        _cleanup_free_ char *cmp = xasprintf("cmp -s '%s/a.img' '%s/b.img'", dir, dir);
        assert_int_equal(system(cmp), 0);

        _cleanup_free_ char *a = at("a.img");
        struct image *im = NULL;
        char *err = NULL;
        assert_int_equal(image_open(a, false, 0, &im, &err), 0);
        assert_string_equal(image_location(im)->scheme, "gpt");
        struct fat_entry *e;
        size_t n;
        assert_int_equal(fat_list(image_volume(im), "EFI/OC", &e, &n, &err), 0);
        assert_int_equal(n, 3);
        assert_string_equal(e[0].name, "OpenCore.efi");
        assert_int_equal(e[0].size, 5000);
        assert_string_equal(e[1].name, "config.plist");
        assert_string_equal(e[1].short_name, "CONFIG~1.PLI");
        assert_int_equal(e[1].mtime, 1700000000);
        fat_entries_free(e, n);
        assert_int_equal(fat_list(image_volume(im), "EFI/nope", &e, &n, &err), -ENOENT);
        free(err);
        err = NULL;
        assert_int_equal(fat_put_file(image_volume(im), "x", 0, 0, 0, &err), -EROFS);
        free(err);
        err = NULL;
        image_close(im);

        /* A change: only committed images change. */
        _cleanup_free_ char *src = at("src/EFI/OC/OpenCore.efi");
        for (unsigned long long k = 1;; k++) {
                int fd = open(src, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                assert_int_equal(image_open(a, true, k, &im, &err), 0);
                int r = fat_put_file(image_volume(im), "New/Dir/copy.efi", fd, 5000, 1700000000,
                                     &err);
                if (r == 0)
                        r = image_commit(im, &err);
                image_close(im);
                close(fd);
                free(err);
                err = NULL;
                if (r == 0)
                        break;
                assert_int_equal(r, -EIO);
                assert_int_equal(system(cmp), 0); /* a.img still equals b.img */
                assert_true(k < 50);
        }
        assert_int_not_equal(system(cmp), 0);
        assert_int_equal(image_open(a, true, 0, &im, &err), 0);
        struct fat_entry st;
        assert_int_equal(fat_stat(image_volume(im), "new/dir/COPY.EFI", &st, &err), 0);
        assert_int_equal(st.size, 5000);
        free(st.name);
        assert_int_equal(fat_remove(image_volume(im), "New/Dir", &err), -ENOTEMPTY);
        free(err);
        err = NULL;
        assert_int_equal(fat_remove(image_volume(im), "New/Dir/copy.efi", &err), 0);
        assert_int_equal(fat_remove(image_volume(im), "New/Dir", &err), 0);
        assert_int_equal(fat_remove(image_volume(im), "New", &err), 0);
        assert_int_equal(image_commit(im, &err), 0);
        image_close(im);
        /* Free clusters are the same again as before the put. */
        struct fat_info i1, i2;
        _cleanup_free_ char *b = at("b.img");
        assert_int_equal(image_open(a, false, 0, &im, &err), 0);
        fat_get_info(image_volume(im), &i1);
        image_close(im);
        assert_int_equal(image_open(b, false, 0, &im, &err), 0);
        fat_get_info(image_volume(im), &i2);
        image_close(im);
        assert_int_equal(i1.free_clusters, i2.free_clusters);

        /* Zeroed options are the defaults: file times, no injected faults, random GUIDs. */
        _cleanup_free_ char *z = at("z.img"), *zsrc = at("src");
        struct image_build_options zo = { .from = zsrc };
        char *zerr = NULL;
        assert_int_equal(image_build(z, &zo, NULL, NULL, &zerr), 0);

        /* A build that fails leaves nothing. */
        build("c.img", IMAGE_LAYOUT_GPT, 3, -EIO);
        _cleanup_free_ char *c = at("c.img");
        assert_int_equal(access(c, F_OK), -1);
}

static void test_refusals(void **state)
{
        (void) state;
        mk("bad");
        put("bad/a:b", "x", 1);
        _cleanup_free_ char *src = at("bad"), *out = at("bad.img");
        struct image_build_options o = {
                .from = src,
        };
        char *err = NULL;
        assert_int_equal(image_build(out, &o, NULL, NULL, &err), -EINVAL);
        assert_non_null(strstr(err, "a:b"));
        free(err);
        err = NULL;
        assert_int_equal(access(out, F_OK), -1);
        _cleanup_free_ char *good = at("src");
        o.from = good;
        o.size = 16u << 20;
        assert_int_equal(image_build(out, &o, NULL, NULL, &err), -ERANGE);
        free(err);
        err = NULL;
        o.size = 0;
        o.label = "TWELVE CHARS";
        assert_int_equal(image_build(out, &o, NULL, NULL, &err), -EINVAL);
        free(err);
        err = NULL;
        /* Garbage is refused. */
        put("garbage.img", "not an image at all", 19);
        _cleanup_free_ char *g = at("garbage.img");
        struct image *im = NULL;
        assert_true(image_open(g, false, 0, &im, &err) < 0);
        assert_null(im);
        free(err);
}

static uint64_t be64_at(int fd, uint64_t off)
{
        uint64_t v = 0;
        assert_int_equal(pread(fd, &v, 8, (off_t) off), 8);
        return be64toh(v);
}

static void test_qcow2(void **state)
{
        (void) state;
        int fd = memfd_create("qcow2", MFD_CLOEXEC);
        assert_true(fd >= 0);
        uint64_t size = 1536ull << 20; /* three L2 tables' worth */
        struct qcow2 *q = qcow2_new(fd, size);
        char a[100000];
        memset(a, 'a', sizeof(a));
        assert_int_equal(qcow2_pwrite(q, a, sizeof(a), 1000), 0); /* spans 2 clusters */
        assert_int_equal(qcow2_pwrite(q, "zz", 2, size - 2), 0);  /* the last one */
        assert_int_equal(qcow2_pwrite(q, "b", 1, 5000), 0);       /* rewrite in place */
        assert_int_equal(qcow2_pwrite(q, "x", 1, size), -EINVAL);
        assert_int_equal(qcow2_finish(q), 0);
        qcow2_free(q);
        uint8_t h[104];
        assert_int_equal(pread(fd, h, sizeof(h), 0), (ssize_t) sizeof(h));
        assert_memory_equal(h, "QFI\xfb", 4);
        assert_int_equal(h[7], 3);
        assert_int_equal(h[23], 16);
        assert_int_equal(be64_at(fd, 24), size);
        uint64_t l1 = be64_at(fd, 40);
        assert_int_equal(l1, 65536);
        /* Guest offset 5000: L1[0] -> L2[0] -> host cluster, flagged "copied". */
        uint64_t l2 = be64_at(fd, l1);
        assert_true(l2 & (1ull << 63));
        uint64_t host = be64_at(fd, (l2 & ~(1ull << 63)));
        assert_true(host & (1ull << 63));
        host &= ~(1ull << 63);
        char c[3];
        assert_int_equal(pread(fd, c, 3, (off_t) (host + 4999)), 3);
        assert_memory_equal(c, "aba", 3);
        /* The middle L2 table is absent: nothing was written there. */
        assert_int_equal(be64_at(fd, l1 + 8), 0);
        assert_true(be64_at(fd, l1 + 16) != 0);
        close(fd);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crc32),          cmocka_unit_test(test_gpt_roundtrip),
                cmocka_unit_test(test_names),          cmocka_unit_test(test_geometry),
                cmocka_unit_test(test_build_and_edit), cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_qcow2),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
