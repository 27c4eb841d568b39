/* SPDX-License-Identifier: MIT */
#include "fat.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"

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

static uint16_t get16(const uint8_t *p)
{
        return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static uint32_t cluster_size_for(uint64_t bytes)
{
        /* Microsoft's table for FAT32 (the one Windows' format uses). */
        if (bytes < 260ull << 20)
                return 512;
        if (bytes < 8ull << 30)
                return 4096;
        if (bytes < 16ull << 30)
                return 8192;
        if (bytes < 32ull << 30)
                return 16384;
        return 32768;
}

int fat_geometry_for(uint64_t bytes, struct fat_geometry *ret)
{
        uint64_t total = bytes / FAT_SECTOR;
        uint32_t spc = cluster_size_for(bytes) / FAT_SECTOR;
        uint32_t align = spc > 8 ? spc : 8;
        if (total < 64 || total > 0xffffffffull)
                return -ERANGE;
        /* An upper bound for the FAT, then the clusters that are left. */
        uint64_t fat = (((total - 32) / spc + 2) * 4 + FAT_SECTOR - 1) / FAT_SECTOR;
        uint32_t reserved = 32;
        reserved += (uint32_t) ((align - (reserved + 2 * fat) % align) % align);
        if (reserved + 2 * fat >= total)
                return -ERANGE;
        uint64_t clusters = (total - reserved - 2 * fat) / spc;
        if (clusters < FAT32_MIN_CLUSTERS || clusters > FAT32_MAX_CLUSTERS)
                return -ERANGE;
        *ret = (struct fat_geometry){ total, spc, reserved, (uint32_t) fat, (uint32_t) clusters };
        return 0;
}

static void label_field(uint8_t out[11], const char *label)
{
        memset(out, ' ', 11);
        for (size_t i = 0; label && label[i] && i < 11; i++) {
                char c = label[i];
                out[i] = (uint8_t) (c >= 'a' && c <= 'z' ? c - 32 : c);
        }
}

void fat_boot_sector(uint8_t out[FAT_SECTOR], const struct fat_geometry *g, uint32_t hidden,
                     uint32_t volume_id, const char *label)
{
        memset(out, 0, FAT_SECTOR);
        out[0] = 0xeb;
        out[1] = 0x58;
        out[2] = 0x90;
        memcpy(out + 3, "MSWIN4.1", 8);
        put16(out + 11, FAT_SECTOR);
        out[13] = (uint8_t) g->sectors_per_cluster;
        put16(out + 14, (uint16_t) g->reserved_sectors);
        out[16] = 2;
        out[21] = 0xf8;
        put16(out + 24, 32); /* sectors per track and heads: mkfs.fat's for images */
        put16(out + 26, 64);
        put32(out + 28, hidden);
        put32(out + 32, (uint32_t) g->sectors);
        put32(out + 36, g->fat_sectors);
        put32(out + 44, 2); /* root directory cluster */
        put16(out + 48, 1); /* FSInfo */
        put16(out + 50, 6); /* backup boot sector */
        out[64] = 0x80;
        out[66] = 0x29;
        put32(out + 67, volume_id);
        label_field(out + 71, label);
        memcpy(out + 82, "FAT32   ", 8);
        /* Not a BIOS boot disk: "int 18h" (boot failure) then halt. */
        out[90] = 0xcd;
        out[91] = 0x18;
        out[92] = 0xeb;
        out[93] = 0xfe;
        out[510] = 0x55;
        out[511] = 0xaa;
}

void fat_fsinfo(uint8_t out[FAT_SECTOR], uint32_t free_clusters, uint32_t next_free)
{
        memset(out, 0, FAT_SECTOR);
        put32(out, 0x41615252);
        put32(out + 484, 0x61417272);
        put32(out + 488, free_clusters);
        put32(out + 492, next_free);
        put32(out + 508, 0xaa550000);
}

/* --- names --- */

static bool short_char_ok(uint16_t c)
{
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
                return true;
        return c < 0x80 && c > 0x20 && strchr("!#$%&'()-@^_`{}~", (int) c) && c != 0;
}

static int utf8_decode(const char *s, size_t *i, uint32_t *ret)
{
        const uint8_t *p = (const uint8_t *) s + *i;
        uint32_t c;
        size_t n;
        if (p[0] < 0x80) {
                c = p[0];
                n = 1;
        } else if ((p[0] & 0xe0) == 0xc0) {
                c = p[0] & 0x1f;
                n = 2;
        } else if ((p[0] & 0xf0) == 0xe0) {
                c = p[0] & 0x0f;
                n = 3;
        } else if ((p[0] & 0xf8) == 0xf0) {
                c = p[0] & 0x07;
                n = 4;
        } else
                return -EINVAL;
        for (size_t k = 1; k < n; k++) {
                if ((p[k] & 0xc0) != 0x80)
                        return -EINVAL;
                c = c << 6 | (p[k] & 0x3f);
        }
        static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return -EINVAL;
        *i += n;
        *ret = c;
        return 0;
}

int fat_name_prepare(const char *name, struct fat_name *ret, char **reterr)
{
        size_t len = strlen(name);
        memset(ret, 0, sizeof(*ret));
        if (len == 0 || streq(name, ".") || streq(name, "..")) {
                *reterr = xasprintf("'%s' is not a file name", name);
                return -EINVAL;
        }
        if (name[len - 1] == '.' || name[len - 1] == ' ') {
                *reterr = xasprintf("'%s': FAT names cannot end with a dot or a space", name);
                return -EINVAL;
        }
        for (size_t i = 0; i < len;) {
                uint32_t c;
                if (utf8_decode(name, &i, &c) < 0) {
                        *reterr = xasprintf("'%s' is not valid UTF-8", name);
                        return -EINVAL;
                }
                if (c < 0x20 || c == 0x7f || (c < 0x80 && strchr("\"*/:<>?\\|", (int) c))) {
                        *reterr = xasprintf("'%s': FAT names cannot hold %s%c%s", name,
                                            c < 0x20 || c == 0x7f ? "control characters" : "'",
                                            c < 0x20 || c == 0x7f ? ' ' : (char) c,
                                            c < 0x20 || c == 0x7f ? "" : "'");
                        return -EINVAL;
                }
                size_t need = c >= 0x10000 ? 2 : 1;
                if (ret->n16 + need > FAT_NAME_MAX) {
                        *reterr = xasprintf("'%.40s...' is longer than FAT's 255 characters", name);
                        return -EINVAL;
                }
                if (c >= 0x10000) {
                        c -= 0x10000;
                        ret->u16[ret->n16++] = (uint16_t) (0xd800 | (c >> 10));
                        ret->u16[ret->n16++] = (uint16_t) (0xdc00 | (c & 0x3ff));
                } else
                        ret->u16[ret->n16++] = (uint16_t) c;
        }
        /* An upper-case 8.3 name needs no long name. */
        memset(ret->short_name, ' ', 11);
        const char *dot = strrchr(name, '.');
        size_t base = dot ? (size_t) (dot - name) : len;
        size_t ext = dot ? len - base - 1 : 0;
        bool fits =
                base >= 1 && base <= 8 && ext <= 3 && (!dot || ext > 0) && strchr(name, '.') == dot;
        for (size_t i = 0; fits && i < len; i++)
                if (name + i != dot && !short_char_ok((uint8_t) name[i]))
                        fits = false;
        if (fits) {
                memcpy(ret->short_name, name, base);
                if (ext)
                        memcpy(ret->short_name + 8, dot + 1, ext);
                if (ret->short_name[0] == 0xe5)
                        ret->short_name[0] = 0x05;
        }
        ret->lfn = !fits;
        return 0;
}

static uint16_t upper16(uint16_t c)
{
        return c >= 'a' && c <= 'z' ? (uint16_t) (c - 32) : c;
}

bool fat_name_equal(const uint16_t *a, size_t na, const uint16_t *b, size_t nb)
{
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (upper16(a[i]) != upper16(b[i]))
                        return false;
        return true;
}

void fat_short_alias(const struct fat_name *name, unsigned n, uint8_t out[11])
{
        memset(out, ' ', 11);
        /* The extension: after the last dot, up to three valid characters. */
        ssize_t last_dot = -1;
        for (size_t i = 0; i < name->n16; i++)
                if (name->u16[i] == '.')
                        last_dot = (ssize_t) i;
        size_t k = 0;
        if (last_dot > 0)
                for (size_t i = (size_t) last_dot + 1; i < name->n16 && k < 3; i++) {
                        uint16_t c = upper16(name->u16[i]);
                        if (c == ' ')
                                continue;
                        out[8 + k++] = short_char_ok(c) ? (uint8_t) c : '_';
                }
        char tail[12];
        int tl = snprintf(tail, sizeof(tail), "~%u", n);
        size_t end = last_dot > 0 ? (size_t) last_dot : name->n16;
        uint8_t basis[8];
        size_t b = 0;
        for (size_t i = 0; i < end && b < 8; i++) {
                uint16_t c = upper16(name->u16[i]);
                if (c == ' ' || c == '.')
                        continue;
                if (c >= 0xdc00 && c <= 0xdfff)
                        continue; /* second half of a surrogate pair: one '_' is enough */
                basis[b++] = short_char_ok(c) ? (uint8_t) c : '_';
        }
        if (b == 0)
                basis[b++] = '_';
        size_t keep = b;
        if (keep + (size_t) tl > 8)
                keep = 8 - (size_t) tl;
        memcpy(out, basis, keep);
        memcpy(out + keep, tail, (size_t) tl);
}

uint8_t fat_lfn_checksum(const uint8_t short_name[11])
{
        uint8_t sum = 0;
        for (int i = 0; i < 11; i++)
                sum = (uint8_t) (((sum & 1) << 7) + (sum >> 1) + short_name[i]);
        return sum;
}

size_t fat_name_slots(const struct fat_name *name)
{
        return 1 + (name->lfn ? (name->n16 + 12) / 13 : 0);
}

static void fat_time(int64_t t, uint16_t *date, uint16_t *time_)
{
        struct tm tm;
        time_t tt = (time_t) t;
        if (t < 315532800 || !gmtime_r(&tt, &tm)) { /* before 1980-01-01: FAT's epoch */
                *date = (0 << 9) | (1 << 5) | 1;
                *time_ = 0;
                return;
        }
        if (tm.tm_year - 80 > 127) {
                *date = (uint16_t) (127 << 9 | 12 << 5 | 31);
                *time_ = (uint16_t) (23 << 11 | 59 << 5 | 29);
                return;
        }
        *date = (uint16_t) ((tm.tm_year - 80) << 9 | (tm.tm_mon + 1) << 5 | tm.tm_mday);
        *time_ = (uint16_t) (tm.tm_hour << 11 | tm.tm_min << 5 | tm.tm_sec / 2);
}

static int64_t from_fat_time(uint16_t date, uint16_t time_)
{
        struct tm tm = {
                .tm_year = (date >> 9) + 80,
                .tm_mon = ((date >> 5) & 15) - 1,
                .tm_mday = date & 31,
                .tm_hour = time_ >> 11,
                .tm_min = (time_ >> 5) & 63,
                .tm_sec = (time_ & 31) * 2,
        };
        if (tm.tm_mon < 0)
                tm.tm_mon = 0;
        if (tm.tm_mday == 0)
                tm.tm_mday = 1;
        return (int64_t) timegm(&tm);
}

void fat_dirent_short(uint8_t out[32], const uint8_t short_name[11], uint8_t attr, uint32_t cluster,
                      uint32_t size, int64_t mtime)
{
        uint16_t d, t;
        fat_time(mtime, &d, &t);
        memset(out, 0, 32);
        memcpy(out, short_name, 11);
        out[11] = attr;
        put16(out + 14, t);
        put16(out + 16, d);
        put16(out + 18, d);
        put16(out + 20, (uint16_t) (cluster >> 16));
        put16(out + 22, t);
        put16(out + 24, d);
        put16(out + 26, (uint16_t) cluster);
        put32(out + 28, size);
}

size_t fat_dirent_encode(uint8_t *out, const struct fat_name *name, uint8_t attr, uint32_t cluster,
                         uint32_t size, int64_t mtime)
{
        size_t slots = fat_name_slots(name);
        uint8_t sum = fat_lfn_checksum(name->short_name);
        /* Long-name pieces come last piece first, right before the short entry. */
        for (size_t s = 0; s + 1 < slots; s++) {
                size_t piece = slots - 2 - s; /* 0-based piece number */
                uint8_t *e = out + 32 * s;
                memset(e, 0, 32);
                e[0] = (uint8_t) ((piece + 1) | (s == 0 ? 0x40 : 0));
                e[11] = FAT_ATTR_LFN;
                e[13] = sum;
                static const uint8_t pos[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
                for (size_t k = 0; k < 13; k++) {
                        size_t i = piece * 13 + k;
                        uint16_t c = i < name->n16 ? name->u16[i] : i == name->n16 ? 0 : 0xffff;
                        put16(e + pos[k], c);
                }
        }
        fat_dirent_short(out + 32 * (slots - 1), name->short_name, attr, cluster, size, mtime);
        return slots;
}

/* --- the reader/editor --- */

struct fat_volume {
        int fd;
        uint64_t base, size;
        bool writable;
        unsigned long long fail_at, writes;
        uint32_t bps, spc, cluster_bytes, reserved, fat_sectors, clusters, root, fsinfo;
        uint32_t *fat;  /* FAT 1, clusters + 2 entries */
        uint8_t *dirty; /* per FAT sector */
        uint32_t n_free, next_free;
        char label[12];
        uint32_t volume_id;
        uint32_t *owner; /* per cluster during the check */
        bool defer_sync; /* many changes in a row: the caller syncs once at the end */
};

void fat_defer_sync(struct fat_volume *v, bool defer)
{
        v->defer_sync = defer;
}

static uint64_t cluster_off(const struct fat_volume *v, uint32_t c)
{
        return v->base + ((uint64_t) v->reserved + 2ull * v->fat_sectors) * v->bps +
               (uint64_t) (c - 2) * v->cluster_bytes;
}

static int vol_read(struct fat_volume *v, void *p, size_t n, uint64_t off, char **reterr)
{
        ssize_t r = pread_full(v->fd, p, n, (off_t) off);
        if (r < 0) {
                *reterr = xasprintf("read at byte %llu: %s", (unsigned long long) off,
                                    strerror((int) -r));
                return (int) r;
        }
        if ((size_t) r != n) {
                *reterr = xasprintf("image truncated: %zu bytes at byte %llu are missing", n,
                                    (unsigned long long) off);
                return -EBADMSG;
        }
        return 0;
}

static int vol_write(struct fat_volume *v, const void *p, size_t n, uint64_t off, char **reterr)
{
        if (v->fail_at && v->writes + 1 >= v->fail_at) {
                *reterr = xasprintf("injected fault: write %llu refused", v->writes + 1);
                return -EIO;
        }
        v->writes++;
        int r = pwrite_all(v->fd, p, n, (off_t) off);
        if (r < 0)
                *reterr =
                        xasprintf("write at byte %llu: %s", (unsigned long long) off, strerror(-r));
        return r;
}

static int vol_sync(struct fat_volume *v, char **reterr)
{
        if (v->defer_sync)
                return 0;
        if (fsync(v->fd) < 0 && errno != EINVAL) {
                *reterr = xasprintf("fsync: %m");
                return -errno;
        }
        return 0;
}

void fat_close(struct fat_volume *v)
{
        if (!v)
                return;
        free(v->fat);
        free(v->dirty);
        free(v->owner);
        free(v);
}

static void fat_set(struct fat_volume *v, uint32_t c, uint32_t val)
{
        v->fat[c] = (v->fat[c] & 0xf0000000u) | (val & 0x0fffffffu);
        v->dirty[(uint64_t) c * 4 / v->bps] = 1;
}

static uint32_t fat_next(const struct fat_volume *v, uint32_t c)
{
        return v->fat[c] & 0x0fffffffu;
}

/* One directory read into memory with the clusters it occupies. */
struct dir {
        uint32_t first;
        uint32_t *clusters;
        size_t n_clusters;
        uint8_t *data;
        size_t len; /* bytes */
};

static void dir_release(struct dir *d)
{
        free(d->clusters);
        free(d->data);
        memset(d, 0, sizeof(*d));
}

/* Walks the chain from @first. With v->owner set (the check), marks it for @id. */
static int chain(struct fat_volume *v, uint32_t first, uint32_t id, const char *what,
                 uint32_t **ret, size_t *ret_n, char **reterr)
{
        _cleanup_free_ uint32_t *list = NULL;
        size_t n = 0, cap = 0;
        uint32_t c = first;
        for (;;) {
                if (c < 2 || c >= v->clusters + 2) {
                        *reterr =
                                xasprintf("%s: cluster chain reaches invalid cluster %u", what, c);
                        return -EBADMSG;
                }
                if (v->owner) {
                        if (v->owner[c] == id) {
                                *reterr = xasprintf("%s: cluster loop at cluster %u", what, c);
                                return -EBADMSG;
                        }
                        if (v->owner[c] != 0) {
                                *reterr = xasprintf("%s: cross-linked chain (cluster %u belongs "
                                                    "to another file too)",
                                                    what, c);
                                return -EBADMSG;
                        }
                        v->owner[c] = id;
                } else if (n > v->clusters) {
                        *reterr = xasprintf("%s: cluster loop", what);
                        return -EBADMSG;
                }
                if (ret) {
                        GROW(list, cap, n + 1);
                        list[n] = c;
                }
                n++;
                uint32_t next = fat_next(v, c);
                if (next >= FAT_EOC)
                        break;
                if (next == 0) {
                        *reterr = xasprintf("%s: cluster chain runs into free cluster %u", what, c);
                        return -EBADMSG;
                }
                if (next == 0x0ffffff7u) {
                        *reterr = xasprintf("%s: cluster chain holds a bad cluster", what);
                        return -EBADMSG;
                }
                c = next;
        }
        if (ret)
                *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

static int dir_load(struct fat_volume *v, uint32_t first, uint32_t id, const char *what,
                    struct dir *ret, char **reterr)
{
        struct dir d = { .first = first };
        int r = chain(v, first, id, what, &d.clusters, &d.n_clusters, reterr);
        if (r < 0)
                return r;
        if (d.n_clusters > (64u << 20) / v->cluster_bytes) {
                free(d.clusters);
                *reterr = xasprintf("%s: directory larger than 64 MiB", what);
                return -EBADMSG;
        }
        d.len = d.n_clusters * v->cluster_bytes;
        d.data = xmalloc(d.len);
        for (size_t i = 0; i < d.n_clusters; i++) {
                r = vol_read(v, d.data + i * v->cluster_bytes, v->cluster_bytes,
                             cluster_off(v, d.clusters[i]), reterr);
                if (r < 0) {
                        dir_release(&d);
                        return r;
                }
        }
        *ret = d;
        return 0;
}

/* A decoded directory entry with where its slots are. */
struct slot_entry {
        struct fat_entry e;
        uint16_t u16[FAT_NAME_MAX + 1];
        size_t n16;
        uint8_t raw_short[11];
        size_t first_slot, slot;
};

static void short_to_text(const uint8_t sn[11], uint8_t case_flags, char out[13])
{
        size_t k = 0;
        for (int i = 0; i < 8 && sn[i] != ' '; i++) {
                uint8_t c = (i == 0 && sn[0] == 0x05) ? 0xe5 : sn[i];
                out[k++] = (char) ((case_flags & 0x08) && c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        if (sn[8] != ' ') {
                out[k++] = '.';
                for (int i = 8; i < 11 && sn[i] != ' '; i++)
                        out[k++] = (char) ((case_flags & 0x10) && sn[i] >= 'A' && sn[i] <= 'Z'
                                                   ? sn[i] + 32
                                                   : sn[i]);
        }
        out[k] = 0;
}

static char *utf16_to_utf8(const uint16_t *u, size_t n)
{
        struct buf b = BUF_INIT;
        for (size_t i = 0; i < n; i++) {
                uint32_t c = u[i];
                if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && u[i + 1] >= 0xdc00 &&
                    u[i + 1] <= 0xdfff) {
                        c = 0x10000 + ((c - 0xd800) << 10) + (u[i + 1] - 0xdc00);
                        i++;
                } else if (c >= 0xd800 && c <= 0xdfff)
                        c = 0xfffd;
                if (c < 0x80)
                        buf_putc(&b, (char) c);
                else if (c < 0x800) {
                        buf_putc(&b, (char) (0xc0 | c >> 6));
                        buf_putc(&b, (char) (0x80 | (c & 0x3f)));
                } else if (c < 0x10000) {
                        buf_putc(&b, (char) (0xe0 | c >> 12));
                        buf_putc(&b, (char) (0x80 | ((c >> 6) & 0x3f)));
                        buf_putc(&b, (char) (0x80 | (c & 0x3f)));
                } else {
                        buf_putc(&b, (char) (0xf0 | c >> 18));
                        buf_putc(&b, (char) (0x80 | ((c >> 12) & 0x3f)));
                        buf_putc(&b, (char) (0x80 | ((c >> 6) & 0x3f)));
                        buf_putc(&b, (char) (0x80 | (c & 0x3f)));
                }
        }
        if (!b.s)
                return xstrdup("");
        return buf_detach(&b);
}

static void slot_entries_free(struct slot_entry *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(s[i].e.name);
        free(s);
}

/* Decodes @d into entries (without ".", "..", the volume label and deleted slots). */
static void dir_parse(const struct dir *d, struct slot_entry **ret, size_t *ret_n)
{
        struct slot_entry *list = NULL;
        size_t n = 0, cap = 0;
        uint16_t lfn[20 * 13 + 1];
        int lfn_count = 0, lfn_next = 0;
        uint8_t lfn_sum = 0;
        size_t lfn_first = 0;
        size_t slots = d->len / 32;
        for (size_t s = 0; s < slots; s++) {
                const uint8_t *e = d->data + 32 * s;
                if (e[0] == 0)
                        break;
                if (e[0] == 0xe5) {
                        lfn_count = 0;
                        continue;
                }
                if ((e[11] & 0x3f) == FAT_ATTR_LFN) {
                        int ord = e[0] & 0x1f;
                        if (e[0] & 0x40) {
                                if (ord == 0 || ord > 20) {
                                        lfn_count = 0;
                                        continue;
                                }
                                lfn_count = ord;
                                lfn_next = ord;
                                lfn_sum = e[13];
                                lfn_first = s;
                                for (int k = 0; k < 20 * 13 + 1; k++)
                                        lfn[k] = 0xffff;
                        } else if (lfn_count == 0 || ord != lfn_next || e[13] != lfn_sum) {
                                lfn_count = 0;
                                continue;
                        }
                        static const uint8_t pos[13] = { 1,  3,  5,  7,  9,  14, 16,
                                                         18, 20, 22, 24, 28, 30 };
                        for (int k = 0; k < 13; k++)
                                lfn[(ord - 1) * 13 + k] = get16(e + pos[k]);
                        lfn_next = ord - 1;
                        continue;
                }
                bool have_lfn = lfn_count > 0 && lfn_next == 0 && fat_lfn_checksum(e) == lfn_sum;
                int had = lfn_count;
                lfn_count = 0;
                if (e[11] & FAT_ATTR_VOLUME_ID)
                        continue;
                if (e[0] == '.' && (e[1] == ' ' || (e[1] == '.' && e[2] == ' ')))
                        continue;
                GROW(list, cap, n + 1);
                struct slot_entry *x = &list[n++];
                memset(x, 0, sizeof(*x));
                memcpy(x->raw_short, e, 11);
                short_to_text(e, e[12], x->e.short_name);
                x->slot = s;
                x->first_slot = s;
                if (have_lfn) {
                        size_t len = 0;
                        while (len < (size_t) had * 13 && lfn[len] != 0 && lfn[len] != 0xffff)
                                len++;
                        memcpy(x->u16, lfn, len * 2);
                        x->n16 = len;
                        x->first_slot = lfn_first;
                        x->e.name = utf16_to_utf8(lfn, len);
                } else {
                        x->e.name = xstrdup(x->e.short_name);
                        for (size_t k = 0; x->e.short_name[k]; k++)
                                x->u16[x->n16++] = (uint8_t) x->e.short_name[k];
                }
                x->e.dir = e[11] & FAT_ATTR_DIRECTORY;
                x->e.size = get32(e + 28);
                x->e.cluster = (uint32_t) get16(e + 20) << 16 | get16(e + 26);
                x->e.mtime = from_fat_time(get16(e + 24), get16(e + 22));
        }
        *ret = list;
        *ret_n = n;
}

static int check_tree(struct fat_volume *v, uint32_t dir_cluster, const char *path, int depth,
                      uint32_t *next_id, char **reterr)
{
        if (depth > 64) {
                *reterr = xasprintf("%s: directories nested deeper than 64", path);
                return -EBADMSG;
        }
        struct dir d;
        int r = dir_load(v, dir_cluster, (*next_id)++, *path ? path : "/", &d, reterr);
        if (r < 0)
                return r;
        struct slot_entry *list;
        size_t n;
        dir_parse(&d, &list, &n);
        dir_release(&d);
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", path, list[i].e.name);
                struct fat_entry *e = &list[i].e;
                if (e->dir) {
                        if (e->cluster == 0) {
                                *reterr = xasprintf("%s: directory without a cluster", p);
                                r = -EBADMSG;
                        } else
                                r = check_tree(v, e->cluster, p, depth + 1, next_id, reterr);
                        continue;
                }
                uint64_t want = ((uint64_t) e->size + v->cluster_bytes - 1) / v->cluster_bytes;
                if (e->cluster == 0) {
                        if (e->size != 0) {
                                *reterr = xasprintf("%s: %u bytes but no cluster", p, e->size);
                                r = -EBADMSG;
                        }
                        continue;
                }
                size_t got;
                r = chain(v, e->cluster, (*next_id)++, p, NULL, &got, reterr);
                if (r >= 0 && got != want) {
                        *reterr = xasprintf("%s: %u bytes but a chain of %zu clusters (expected "
                                            "%llu)",
                                            p, e->size, got, (unsigned long long) want);
                        r = -EBADMSG;
                }
        }
        slot_entries_free(list, n);
        return r;
}

int fat_open(int fd, uint64_t offset, uint64_t size, const struct fat_open_options *o,
             struct fat_volume **ret, char **reterr)
{
        uint8_t bs[FAT_SECTOR];
        _cleanup_(fat_closep) struct fat_volume *v = xcalloc(1, sizeof(*v));
        v->fd = fd;
        v->base = offset;
        v->size = size;
        v->writable = o && o->writable;
        v->fail_at = o ? o->fail_at_write : 0;
        int r = vol_read(v, bs, sizeof(bs), offset, reterr);
        if (r < 0)
                return r;
        if (bs[510] != 0x55 || bs[511] != 0xaa || (bs[0] != 0xeb && bs[0] != 0xe9)) {
                *reterr = xasprintf("no FAT boot sector signature at byte %llu",
                                    (unsigned long long) offset);
                return -EBADMSG;
        }
        if (memcmp(bs + 3, "EXFAT   ", 8) == 0) {
                *reterr = xasprintf("exFAT is not supported (FAT32 only)");
                return -EOPNOTSUPP;
        }
        v->bps = get16(bs + 11);
        v->spc = bs[13];
        v->reserved = get16(bs + 14);
        uint32_t n_fats = bs[16];
        uint16_t root_entries = get16(bs + 17);
        uint16_t fat16 = get16(bs + 22);
        uint32_t total = get16(bs + 19) ? get16(bs + 19) : get32(bs + 32);
        if (v->bps < 512 || v->bps > 4096 || (v->bps & (v->bps - 1)) || v->spc == 0 ||
            (v->spc & (v->spc - 1)) || v->reserved == 0 || total == 0) {
                *reterr = xasprintf("boot sector: bad geometry (%u bytes per sector, %u sectors "
                                    "per cluster, %u reserved)",
                                    v->bps, v->spc, v->reserved);
                return -EBADMSG;
        }
        if (fat16 != 0 || root_entries != 0) {
                *reterr = xasprintf("FAT12/FAT16 volume: only FAT32 is supported");
                return -EOPNOTSUPP;
        }
        if (n_fats != 2) {
                *reterr = xasprintf("%u FATs: only volumes with two FATs are supported", n_fats);
                return -EOPNOTSUPP;
        }
        if (get16(bs + 40) & 0x80) {
                *reterr = xasprintf("FAT mirroring is disabled: not supported");
                return -EOPNOTSUPP;
        }
        if (get16(bs + 42) != 0) {
                *reterr = xasprintf("FAT32 version %u.%u is not supported", bs[43], bs[42]);
                return -EOPNOTSUPP;
        }
        v->fat_sectors = get32(bs + 36);
        v->root = get32(bs + 44);
        v->fsinfo = get16(bs + 48);
        v->cluster_bytes = v->bps * v->spc;
        if ((uint64_t) total * v->bps > size) {
                *reterr = xasprintf("boot sector says %llu bytes, but the volume has only %llu "
                                    "(truncated image?)",
                                    (unsigned long long) total * v->bps, (unsigned long long) size);
                return -EBADMSG;
        }
        uint64_t meta = (uint64_t) v->reserved + 2ull * v->fat_sectors;
        if (v->fat_sectors == 0 || meta >= total) {
                *reterr = xasprintf("boot sector: FATs (%u sectors) do not fit the volume",
                                    v->fat_sectors);
                return -EBADMSG;
        }
        uint64_t clusters = (total - meta) / v->spc;
        if (clusters < FAT32_MIN_CLUSTERS) {
                *reterr = xasprintf("%llu clusters: too few for FAT32 (a FAT16 volume?)",
                                    (unsigned long long) clusters);
                return -EOPNOTSUPP;
        }
        if (clusters > FAT32_MAX_CLUSTERS ||
            (clusters + 2) * 4 > (uint64_t) v->fat_sectors * v->bps) {
                *reterr = xasprintf("boot sector: the FAT (%u sectors) is too small for %llu "
                                    "clusters",
                                    v->fat_sectors, (unsigned long long) clusters);
                return -EBADMSG;
        }
        v->clusters = (uint32_t) clusters;
        if (bs[65] & 1) {
                *reterr = xasprintf("the volume is dirty (not cleanly unmounted): run fsck.fat "
                                    "first");
                return -EBADMSG;
        }
        v->volume_id = get32(bs + 67);
        memcpy(v->label, bs + 71, 11);
        for (int i = 10; i >= 0 && v->label[i] == ' '; i--)
                v->label[i] = 0;

        size_t fat_bytes = (size_t) v->fat_sectors * v->bps;
        v->fat = xmalloc(fat_bytes);
        _cleanup_free_ uint32_t *fat2 = xmalloc(fat_bytes);
        r = vol_read(v, v->fat, fat_bytes, offset + (uint64_t) v->reserved * v->bps, reterr);
        if (r >= 0)
                r = vol_read(v, fat2, fat_bytes, offset + (meta - v->fat_sectors) * v->bps, reterr);
        if (r < 0)
                return r;
        size_t used = (clusters + 2) * 4;
        if (memcmp(v->fat, fat2, used) != 0) {
                *reterr = xasprintf("the two FATs differ: run fsck.fat first");
                return -EBADMSG;
        }
        for (size_t i = 0; i < clusters + 2; i++)
                v->fat[i] = le32toh(v->fat[i]);
        if ((v->fat[1] & 0x08000000u) == 0) {
                *reterr = xasprintf("the volume is dirty (clean bit off in FAT[1]): run fsck.fat "
                                    "first");
                return -EBADMSG;
        }
        if ((v->fat[1] & 0x04000000u) == 0) {
                *reterr = xasprintf("the volume has recorded I/O errors (FAT[1]): run fsck.fat "
                                    "first");
                return -EBADMSG;
        }
        v->dirty = xcalloc(v->fat_sectors, 1);
        for (uint32_t c = 2; c < v->clusters + 2; c++)
                if (fat_next(v, c) == 0)
                        v->n_free++;
        v->next_free = 2;

        /* The whole tree, once: every chain valid, no loop, no cluster used twice. */
        v->owner = xcalloc(clusters + 2, sizeof(uint32_t));
        uint32_t id = 1;
        r = check_tree(v, v->root, "", 0, &id, reterr);
        free(v->owner);
        v->owner = NULL;
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

void fat_get_info(const struct fat_volume *v, struct fat_info *ret)
{
        *ret = (struct fat_info){
                .cluster_bytes = v->cluster_bytes,
                .clusters = v->clusters,
                .free_clusters = v->n_free,
                .volume_bytes = v->size,
                .volume_id = v->volume_id,
        };
        memcpy(ret->label, v->label, sizeof(ret->label));
}

void fat_entries_free(struct fat_entry *e, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(e[i].name);
        free(e);
}

/* Splits @path into components; refuses "." and "..". */
static char **split_path(const char *path, char **reterr)
{
        char **parts = xcalloc(1, sizeof(char *));
        size_t n = 0;
        for (const char *p = path; *p;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                size_t l = strcspn(p, "/");
                char *c = xstrndup(p, l);
                if (streq(c, ".") || streq(c, "..")) {
                        *reterr = xasprintf("'%s': '.' and '..' are not allowed in image paths",
                                            path);
                        free(c);
                        for (size_t i = 0; i < n; i++)
                                free(parts[i]);
                        free(parts);
                        return NULL;
                }
                parts = xreallocarray(parts, n + 2, sizeof(char *));
                parts[n++] = c;
                parts[n] = NULL;
                p += l;
        }
        return parts;
}

static void parts_free(char **parts)
{
        for (size_t i = 0; parts && parts[i]; i++)
                free(parts[i]);
        free(parts);
}

static ssize_t find_in(const struct slot_entry *list, size_t n, const char *name)
{
        struct fat_name fn;
        _cleanup_free_ char *err = NULL;
        bool valid = fat_name_prepare(name, &fn, &err) >= 0;
        for (size_t i = 0; i < n; i++) {
                if (valid && fat_name_equal(list[i].u16, list[i].n16, fn.u16, fn.n16))
                        return (ssize_t) i;
                if (strcasecmp(list[i].e.short_name, name) == 0)
                        return (ssize_t) i;
        }
        return -1;
}

/* A directory looked up by path, with its entries. */
struct located {
        struct dir d;
        struct slot_entry *list;
        size_t n;
        uint32_t parent_cluster; /* of d, for ".." of new subdirectories */
};

static void located_release(struct located *l)
{
        dir_release(&l->d);
        slot_entries_free(l->list, l->n);
        l->list = NULL;
        l->n = 0;
}

static int open_dir(struct fat_volume *v, uint32_t cluster, const char *what, struct located *ret,
                    char **reterr)
{
        int r = dir_load(v, cluster, 0, what, &ret->d, reterr);
        if (r < 0)
                return r;
        ret->parent_cluster = cluster;
        dir_parse(&ret->d, &ret->list, &ret->n);
        return 0;
}

/* Walks @parts[0..n) as directories from the root; *ret holds the last one. */
static int walk(struct fat_volume *v, char **parts, size_t n, const char *path, struct located *ret,
                char **reterr)
{
        int r = open_dir(v, v->root, "/", ret, reterr);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                ssize_t k = find_in(ret->list, ret->n, parts[i]);
                if (k < 0) {
                        *reterr = xasprintf("%s: no such file or directory in the image", path);
                        r = -ENOENT;
                } else if (!ret->list[k].e.dir) {
                        *reterr = xasprintf("%s: '%s' is not a directory", path, parts[i]);
                        r = -ENOTDIR;
                } else {
                        uint32_t c = ret->list[k].e.cluster;
                        located_release(ret);
                        r = open_dir(v, c, path, ret, reterr);
                }
        }
        if (r < 0)
                located_release(ret);
        return r;
}

static size_t parts_len(char **parts)
{
        size_t n = 0;
        while (parts[n])
                n++;
        return n;
}

static void entry_copy(struct fat_entry *dst, const struct fat_entry *src)
{
        *dst = *src;
        dst->name = xstrdup(src->name);
}

int fat_stat(struct fat_volume *v, const char *path, struct fat_entry *ret, char **reterr)
{
        char **parts = split_path(path, reterr);
        if (!parts)
                return -EINVAL;
        size_t n = parts_len(parts);
        if (n == 0) {
                parts_free(parts);
                *ret = (struct fat_entry){ .name = xstrdup("/"), .dir = true, .cluster = v->root };
                return 0;
        }
        struct located l = { 0 };
        int r = walk(v, parts, n - 1, path, &l, reterr);
        if (r >= 0) {
                ssize_t k = find_in(l.list, l.n, parts[n - 1]);
                if (k < 0) {
                        *reterr = xasprintf("%s: no such file or directory in the image", path);
                        r = -ENOENT;
                } else
                        entry_copy(ret, &l.list[k].e);
                located_release(&l);
        }
        parts_free(parts);
        return r;
}

int fat_list(struct fat_volume *v, const char *path, struct fat_entry **ret, size_t *ret_n,
             char **reterr)
{
        struct fat_entry st;
        int r = fat_stat(v, path, &st, reterr);
        if (r < 0)
                return r;
        if (!st.dir) {
                *ret = xmalloc(sizeof(struct fat_entry));
                **ret = st;
                *ret_n = 1;
                return 0;
        }
        free(st.name);
        struct located l = { 0 };
        r = open_dir(v, st.cluster, path, &l, reterr);
        if (r < 0)
                return r;
        struct fat_entry *list = xcalloc(l.n ? l.n : 1, sizeof(*list));
        for (size_t i = 0; i < l.n; i++)
                entry_copy(&list[i], &l.list[i].e);
        *ret = list;
        *ret_n = l.n;
        located_release(&l);
        return 0;
}

int fat_read_file(struct fat_volume *v, const char *path, int out_fd, char **reterr)
{
        struct fat_entry st;
        int r = fat_stat(v, path, &st, reterr);
        if (r < 0)
                return r;
        free(st.name);
        if (st.dir) {
                *reterr = xasprintf("%s: is a directory", path);
                return -EISDIR;
        }
        if (st.size == 0)
                return 0;
        _cleanup_free_ uint32_t *list = NULL;
        size_t n;
        r = chain(v, st.cluster, 0, path, &list, &n, reterr);
        if (r < 0)
                return r;
        size_t max = 4u << 20;
        _cleanup_free_ uint8_t *buf = xmalloc(max);
        uint64_t left = st.size;
        /* Runs of consecutive clusters in one read each (up to 4 MiB). */
        for (size_t i = 0; i < n && left > 0;) {
                size_t j = i + 1;
                while (j < n && list[j] == list[j - 1] + 1 &&
                       (j - i + 1) * (size_t) v->cluster_bytes <= max)
                        j++;
                uint64_t len = MIN((uint64_t) (j - i) * v->cluster_bytes, left);
                r = vol_read(v, buf, len, cluster_off(v, list[i]), reterr);
                if (r < 0)
                        return r;
                r = write_all(out_fd, buf, len);
                if (r < 0) {
                        *reterr = xasprintf("write: %s", strerror(-r));
                        return r;
                }
                left -= len;
                i = j;
        }
        return 0;
}

/* --- changes --- */

static int alloc_clusters(struct fat_volume *v, size_t n, uint32_t **ret, char **reterr)
{
        if (n > v->n_free) {
                *reterr =
                        xasprintf("the image is full: %zu clusters needed, %u free", n, v->n_free);
                return -ENOSPC;
        }
        uint32_t *list = xcalloc(n ? n : 1, sizeof(uint32_t));
        size_t k = 0;
        for (uint32_t c = v->next_free; k < n && c < v->clusters + 2; c++)
                if (fat_next(v, c) == 0)
                        list[k++] = c;
        for (uint32_t c = 2; k < n && c < v->next_free; c++)
                if (fat_next(v, c) == 0)
                        list[k++] = c;
        /* Linked now (in memory only); written to disk with the FAT at the end. */
        for (size_t i = 0; i < n; i++)
                fat_set(v, list[i], i + 1 < n ? list[i + 1] : 0x0fffffffu);
        v->n_free -= (uint32_t) n;
        if (n)
                v->next_free = list[n - 1] + 1 < v->clusters + 2 ? list[n - 1] + 1 : 2;
        *ret = list;
        return 0;
}

static void free_chain(struct fat_volume *v, uint32_t first)
{
        for (uint32_t c = first; c >= 2 && c < v->clusters + 2;) {
                uint32_t next = fat_next(v, c);
                fat_set(v, c, 0);
                v->n_free++;
                if (next >= FAT_EOC || next == 0)
                        break;
                c = next;
        }
}

/* Writes @len bytes of @data to the clusters @list, consecutive runs in one write each. */
static int write_clusters(struct fat_volume *v, const uint32_t *list, size_t n, const uint8_t *data,
                          char **reterr)
{
        for (size_t i = 0; i < n;) {
                size_t j = i + 1;
                while (j < n && list[j] == list[j - 1] + 1)
                        j++;
                int r = vol_write(v, data + i * v->cluster_bytes,
                                  (j - i) * (size_t) v->cluster_bytes, cluster_off(v, list[i]),
                                  reterr);
                if (r < 0)
                        return r;
                i = j;
        }
        return 0;
}

/* Writes the changed FAT sectors to both FATs, then FSInfo. */
static int flush_fat(struct fat_volume *v, char **reterr)
{
        _cleanup_free_ uint8_t *sec = xmalloc(v->bps);
        for (int copy = 0; copy < 2; copy++) {
                uint64_t start =
                        v->base +
                        ((uint64_t) v->reserved + (uint64_t) copy * v->fat_sectors) * v->bps;
                for (uint32_t s = 0; s < v->fat_sectors; s++) {
                        if (!v->dirty[s])
                                continue;
                        uint32_t e = s;
                        while (e + 1 < v->fat_sectors && v->dirty[e + 1])
                                e++;
                        size_t len = (size_t) (e - s + 1) * v->bps;
                        _cleanup_free_ uint32_t *out = xmalloc(len);
                        size_t first = (size_t) s * v->bps / 4, count = len / 4;
                        for (size_t i = 0; i < count; i++)
                                out[i] = first + i < (size_t) v->clusters + 2
                                                 ? htole32(v->fat[first + i])
                                                 : 0;
                        int r = vol_write(v, out, len, start + (uint64_t) s * v->bps, reterr);
                        if (r < 0)
                                return r;
                        s = e;
                }
        }
        memset(v->dirty, 0, v->fat_sectors);
        if (v->fsinfo == 0 || v->fsinfo == 0xffff || v->fsinfo >= v->reserved)
                return 0;
        uint64_t off = v->base + (uint64_t) v->fsinfo * v->bps;
        int r = vol_read(v, sec, v->bps, off, reterr);
        if (r < 0)
                return r;
        if (get32(sec) != 0x41615252 || get32(sec + 484) != 0x61417272)
                return 0; /* no valid FSInfo: leave it */
        put32(sec + 488, v->n_free);
        put32(sec + 492, v->next_free);
        return vol_write(v, sec, v->bps, off, reterr);
}

/* Writes slots [@from, @to) of @d (whole sectors). */
static int write_slots(struct fat_volume *v, const struct dir *d, size_t from, size_t to,
                       char **reterr)
{
        size_t per_cluster = v->cluster_bytes / 32;
        size_t s = from;
        while (s < to) {
                size_t ci = s / per_cluster;
                size_t in = s % per_cluster;
                size_t end = MIN(to, (ci + 1) * per_cluster);
                size_t b0 = in * 32 / v->bps * v->bps;
                size_t b1 = ((end - ci * per_cluster) * 32 + v->bps - 1) / v->bps * v->bps;
                int r = vol_write(v, d->data + ci * v->cluster_bytes + b0, b1 - b0,
                                  cluster_off(v, d->clusters[ci]) + b0, reterr);
                if (r < 0)
                        return r;
                s = end;
        }
        return 0;
}

/*
 * Finds @need free slots in a row in @l (deleted ones, or the end), growing the
 * directory by a zeroed cluster when there is no room. The new cluster is
 * written at once (it is not yet linked on disk).
 */
static int find_slots(struct fat_volume *v, struct located *l, size_t need, size_t *ret,
                      char **reterr)
{
        size_t total = l->d.len / 32, run = 0;
        for (size_t s = 0; s < total; s++) {
                uint8_t b = l->d.data[32 * s];
                if (b == 0) {
                        /* The end marker: everything after is free. */
                        if (total - s + run >= need) {
                                *ret = s - run;
                                return 0;
                        }
                        run += total - s;
                        break;
                }
                run = b == 0xe5 ? run + 1 : 0;
                if (run == need) {
                        *ret = s + 1 - need;
                        return 0;
                }
        }
        size_t start = total - run;
        size_t add = (need - run) * 32;
        size_t n = (add + v->cluster_bytes - 1) / v->cluster_bytes;
        _cleanup_free_ uint32_t *list = NULL;
        int r = alloc_clusters(v, n, &list, reterr);
        if (r < 0)
                return r;
        l->d.data = xrealloc(l->d.data, l->d.len + n * v->cluster_bytes);
        memset(l->d.data + l->d.len, 0, n * v->cluster_bytes);
        r = write_clusters(v, list, n, l->d.data + l->d.len, reterr);
        if (r < 0)
                return r;
        fat_set(v, l->d.clusters[l->d.n_clusters - 1], list[0]);
        l->d.clusters = xreallocarray(l->d.clusters, l->d.n_clusters + n, sizeof(uint32_t));
        memcpy(l->d.clusters + l->d.n_clusters, list, n * sizeof(uint32_t));
        l->d.n_clusters += n;
        l->d.len += n * v->cluster_bytes;
        *ret = start;
        return 0;
}

/* Gives @name a short alias unique in @l. */
static void unique_alias(const struct located *l, struct fat_name *name)
{
        if (!name->lfn)
                return;
        for (unsigned k = 1;; k++) {
                fat_short_alias(name, k, name->short_name);
                bool clash = false;
                for (size_t i = 0; i < l->n && !clash; i++)
                        clash = memcmp(l->list[i].raw_short, name->short_name, 11) == 0;
                if (!clash)
                        return;
        }
}

/* Adds an entry to @l's directory (slots written). */
static int add_entry(struct fat_volume *v, struct located *l, struct fat_name *name, uint8_t attr,
                     uint32_t cluster, uint32_t size, int64_t mtime, char **reterr)
{
        unique_alias(l, name);
        size_t need = fat_name_slots(name), at;
        int r = find_slots(v, l, need, &at, reterr);
        if (r < 0)
                return r;
        /* Slots taken from past the end marker: whatever follows them must read as the end
         * again (mkfs leaves zeros there, but nothing promises it). */
        size_t total = l->d.len / 32, end = at + need;
        bool past_end = false;
        for (size_t s = 0; s < at && !past_end; s++)
                past_end = l->d.data[32 * s] == 0;
        for (size_t s = at; s < end && !past_end; s++)
                past_end = l->d.data[32 * s] == 0;
        if (past_end && end < total) {
                memset(l->d.data + 32 * end, 0, 32 * (total - end));
                end = total;
        }
        fat_dirent_encode(l->d.data + 32 * at, name, attr, cluster, size, mtime);
        return write_slots(v, &l->d, at, end, reterr);
}

static int make_dir(struct fat_volume *v, struct located *parent, const char *name_s, int64_t mtime,
                    uint32_t *ret, char **reterr)
{
        struct fat_name name;
        int r = fat_name_prepare(name_s, &name, reterr);
        if (r < 0)
                return r;
        _cleanup_free_ uint32_t *list = NULL;
        r = alloc_clusters(v, 1, &list, reterr);
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *data = xcalloc(1, v->cluster_bytes);
        static const uint8_t dot[11] = ".          ", dotdot[11] = "..         ";
        fat_dirent_short(data, dot, FAT_ATTR_DIRECTORY, list[0], 0, mtime);
        fat_dirent_short(data + 32, dotdot, FAT_ATTR_DIRECTORY,
                         parent->parent_cluster == v->root ? 0 : parent->parent_cluster, 0, mtime);
        r = write_clusters(v, list, 1, data, reterr);
        if (r < 0)
                return r;
        r = add_entry(v, parent, &name, FAT_ATTR_DIRECTORY, list[0], 0, mtime, reterr);
        if (r < 0)
                return r;
        *ret = list[0];
        return 0;
}

/* Opens the directory @parts[0..n) into @l, creating what is missing. */
static int descend(struct fat_volume *v, char **parts, size_t n, const char *path, int64_t mtime,
                   struct located *l, char **reterr)
{
        int r = open_dir(v, v->root, "/", l, reterr);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                ssize_t k = find_in(l->list, l->n, parts[i]);
                uint32_t c;
                if (k >= 0 && !l->list[k].e.dir) {
                        *reterr = xasprintf("%s: '%s' is a file, not a directory", path, parts[i]);
                        r = -ENOTDIR;
                        break;
                }
                if (k >= 0)
                        c = l->list[k].e.cluster;
                else
                        r = make_dir(v, l, parts[i], mtime, &c, reterr);
                if (r < 0)
                        break;
                located_release(l);
                r = open_dir(v, c, path, l, reterr);
        }
        return r;
}

int fat_mkdir(struct fat_volume *v, const char *path, int64_t mtime, char **reterr)
{
        if (!v->writable) {
                *reterr = xasprintf("the image was opened read-only");
                return -EROFS;
        }
        char **parts = split_path(path, reterr);
        if (!parts)
                return -EINVAL;
        struct located l = { 0 };
        int r = descend(v, parts, parts_len(parts), path, mtime, &l, reterr);
        if (r >= 0)
                r = flush_fat(v, reterr);
        if (r >= 0)
                r = vol_sync(v, reterr);
        located_release(&l);
        parts_free(parts);
        return r;
}

int fat_put_file(struct fat_volume *v, const char *path, int in_fd, uint64_t size, int64_t mtime,
                 char **reterr)
{
        if (!v->writable) {
                *reterr = xasprintf("the image was opened read-only");
                return -EROFS;
        }
        if (size > FAT_MAX_FILE) {
                *reterr = xasprintf("%s: %llu bytes, larger than FAT32's 4 GiB - 1", path,
                                    (unsigned long long) size);
                return -EFBIG;
        }
        char **parts = split_path(path, reterr);
        if (!parts)
                return -EINVAL;
        size_t np = parts_len(parts);
        if (np == 0) {
                parts_free(parts);
                *reterr = xasprintf("'%s' names the root directory, not a file", path);
                return -EISDIR;
        }
        struct fat_name name;
        int r = fat_name_prepare(parts[np - 1], &name, reterr);
        /* Every parent, created when missing. */
        struct located l = { 0 };
        if (r >= 0)
                r = descend(v, parts, np - 1, path, mtime, &l, reterr);
        ssize_t k = r >= 0 ? find_in(l.list, l.n, parts[np - 1]) : -1;
        if (r >= 0 && k >= 0 && l.list[k].e.dir) {
                *reterr = xasprintf("%s: is a directory in the image", path);
                r = -EISDIR;
        }
        /* The data into free clusters first. */
        size_t n = (size_t) ((size + v->cluster_bytes - 1) / v->cluster_bytes);
        _cleanup_free_ uint32_t *list = NULL;
        if (r >= 0)
                r = alloc_clusters(v, n, &list, reterr);
        size_t chunk = MAX((size_t) v->cluster_bytes, (size_t) 4 << 20) / v->cluster_bytes;
        _cleanup_free_ uint8_t *buf = r >= 0 ? xmalloc(chunk * v->cluster_bytes) : NULL;
        uint64_t left = size;
        for (size_t i = 0; r >= 0 && i < n; i += chunk) {
                size_t m = MIN(chunk, n - i);
                size_t want = (size_t) MIN(left, (uint64_t) m * v->cluster_bytes);
                ssize_t got = read_full(in_fd, buf, want);
                if (got < 0) {
                        *reterr = xasprintf("read: %s", strerror((int) -got));
                        r = (int) got;
                        break;
                }
                if ((size_t) got != want) {
                        *reterr = xasprintf("the input file shrank while it was read");
                        r = -EIO;
                        break;
                }
                memset(buf + want, 0, m * v->cluster_bytes - want);
                left -= want;
                r = write_clusters(v, list + i, m, buf, reterr);
        }
        if (r >= 0)
                r = vol_sync(v, reterr);
        /* Then the directory entry, both FATs and FSInfo. */
        uint32_t first = r >= 0 && n ? list[0] : 0;
        if (r >= 0 && k >= 0) {
                uint8_t *e = l.d.data + 32 * l.list[k].slot;
                uint32_t old = l.list[k].e.cluster;
                uint16_t d, t;
                fat_time(mtime, &d, &t);
                put16(e + 20, (uint16_t) (first >> 16));
                put16(e + 26, (uint16_t) first);
                put32(e + 28, (uint32_t) size);
                put16(e + 22, t);
                put16(e + 24, d);
                put16(e + 18, d);
                e[11] |= FAT_ATTR_ARCHIVE;
                r = write_slots(v, &l.d, l.list[k].slot, l.list[k].slot + 1, reterr);
                if (r >= 0 && old)
                        free_chain(v, old);
        } else if (r >= 0)
                r = add_entry(v, &l, &name, FAT_ATTR_ARCHIVE, first, (uint32_t) size, mtime,
                              reterr);
        if (r >= 0)
                r = flush_fat(v, reterr);
        if (r >= 0)
                r = vol_sync(v, reterr);
        located_release(&l);
        parts_free(parts);
        return r;
}

int fat_remove(struct fat_volume *v, const char *path, char **reterr)
{
        if (!v->writable) {
                *reterr = xasprintf("the image was opened read-only");
                return -EROFS;
        }
        char **parts = split_path(path, reterr);
        if (!parts)
                return -EINVAL;
        size_t np = parts_len(parts);
        if (np == 0) {
                parts_free(parts);
                *reterr = xasprintf("cannot remove the root directory");
                return -EBUSY;
        }
        struct located l = { 0 };
        int r = walk(v, parts, np - 1, path, &l, reterr);
        ssize_t k = -1;
        if (r >= 0) {
                k = find_in(l.list, l.n, parts[np - 1]);
                if (k < 0) {
                        *reterr = xasprintf("%s: no such file or directory in the image", path);
                        r = -ENOENT;
                }
        }
        if (r >= 0 && l.list[k].e.dir) {
                struct located sub = { 0 };
                r = open_dir(v, l.list[k].e.cluster, path, &sub, reterr);
                if (r >= 0 && sub.n > 0) {
                        *reterr = xasprintf("%s: directory not empty", path);
                        r = -ENOTEMPTY;
                }
                located_release(&sub);
        }
        if (r >= 0) {
                for (size_t s = l.list[k].first_slot; s <= l.list[k].slot; s++)
                        l.d.data[32 * s] = 0xe5;
                r = write_slots(v, &l.d, l.list[k].first_slot, l.list[k].slot + 1, reterr);
        }
        if (r >= 0 && l.list[k].e.cluster)
                free_chain(v, l.list[k].e.cluster);
        if (r >= 0)
                r = flush_fat(v, reterr);
        if (r >= 0)
                r = vol_sync(v, reterr);
        located_release(&l);
        parts_free(parts);
        return r;
}
