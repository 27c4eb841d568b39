/* SPDX-License-Identifier: MIT */
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"
#include "qcow2.h"
#include "random.h"
#include "strutil.h"

#define MIB          (1ull << 20)
#define STREAM_BYTES (4u << 20)

static const char *const layout_names[] = { "gpt", "whole-disk" };
static const char *const format_names[] = { "raw", "qcow2" };

const char *image_layout_to_string(enum image_layout l)
{
        return layout_names[l];
}

int image_layout_from_string(const char *s, enum image_layout *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(layout_names); i++)
                if (streq(s, layout_names[i])) {
                        *ret = (enum image_layout) i;
                        return 0;
                }
        return -EINVAL;
}

const char *image_format_to_string(enum image_format f)
{
        return format_names[f];
}

int image_format_from_string(const char *s, enum image_format *ret)
{
        for (size_t i = 0; i < ELEMENTSOF(format_names); i++)
                if (streq(s, format_names[i])) {
                        *ret = (enum image_format) i;
                        return 0;
                }
        return -EINVAL;
}

/* --- the source tree --- */

struct node {
        char *name;
        char *rel; /* path below the source directory */
        bool dir;
        uint64_t size;
        int64_t mtime;
        struct node *kids;
        size_t n_kids;
        struct fat_name fn;
        uint32_t cluster, n_clusters;
        size_t slots; /* directories: 32-byte entries inside */
};

static void node_release(struct node *n)
{
        for (size_t i = 0; i < n->n_kids; i++)
                node_release(&n->kids[i]);
        free(n->kids);
        free(n->name);
        free(n->rel);
}

static int strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int node_cmp(const void *a, const void *b)
{
        return strcmp(((const struct node *) a)->name, ((const struct node *) b)->name);
}

struct scan {
        int root_fd;
        int64_t timestamp;
        uint64_t files, dirs, bytes;
};

static int scan_dir(struct scan *s, struct node *dir, int depth, char **reterr)
{
        if (depth > 32) {
                *reterr = xasprintf("%s: directories nested deeper than 32", dir->rel);
                return -ELOOP;
        }
        int fd = openat(s->root_fd, *dir->rel ? dir->rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                *reterr = xasprintf("%s: %m", *dir->rel ? dir->rel : ".");
                return -errno;
        }
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                *reterr = xasprintf("%s: %m", dir->rel);
                return -errno;
        }
        size_t cap = 0;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                GROW(dir->kids, cap, dir->n_kids + 1);
                struct node *k = &dir->kids[dir->n_kids++];
                memset(k, 0, sizeof(*k));
                k->name = xstrdup(de->d_name);
                k->rel = *dir->rel ? xasprintf("%s/%s", dir->rel, de->d_name) : xstrdup(de->d_name);
                struct stat st;
                if (fstatat(dirfd(d), de->d_name, &st, 0) < 0) {
                        *reterr = xasprintf("%s: %m", k->rel);
                        return -errno;
                }
                k->mtime = s->timestamp > 0 ? s->timestamp : (int64_t) st.st_mtime;
                if (S_ISDIR(st.st_mode)) {
                        struct stat lst;
                        if (fstatat(dirfd(d), de->d_name, &lst, AT_SYMLINK_NOFOLLOW) == 0 &&
                            S_ISLNK(lst.st_mode)) {
                                *reterr = xasprintf("%s: a symbolic link to a directory; copy "
                                                    "the directory instead",
                                                    k->rel);
                                return -ELOOP;
                        }
                        k->dir = true;
                        s->dirs++;
                } else if (S_ISREG(st.st_mode)) {
                        if ((uint64_t) st.st_size > FAT_MAX_FILE) {
                                *reterr = xasprintf("%s: %llu bytes, larger than FAT32's 4 GiB - "
                                                    "1",
                                                    k->rel, (unsigned long long) st.st_size);
                                return -EFBIG;
                        }
                        k->size = (uint64_t) st.st_size;
                        s->files++;
                        s->bytes += k->size;
                } else {
                        *reterr = xasprintf("%s: not a regular file or directory", k->rel);
                        return -EINVAL;
                }
                int r = fat_name_prepare(k->name, &k->fn, reterr);
                if (r < 0) {
                        char *e = *reterr;
                        *reterr = xasprintf("%s: %s", dir->rel[0] ? dir->rel : ".", e);
                        free(e);
                        return r;
                }
        }
        if (errno) {
                *reterr = xasprintf("%s: %m", dir->rel);
                return -errno;
        }
        if (dir->n_kids > 1)
                qsort(dir->kids, dir->n_kids, sizeof(struct node), node_cmp);
        /* FAT is case-insensitive: two names that differ only in case cannot both live here. */
        for (size_t i = 0; i < dir->n_kids; i++)
                for (size_t j = i + 1; j < dir->n_kids; j++)
                        if (fat_name_equal(dir->kids[i].fn.u16, dir->kids[i].fn.n16,
                                           dir->kids[j].fn.u16, dir->kids[j].fn.n16)) {
                                *reterr = xasprintf("%s and %s: FAT names are case-insensitive, "
                                                    "so both cannot exist",
                                                    dir->kids[i].rel, dir->kids[j].rel);
                                return -EINVAL;
                        }
        /* 8.3 aliases: exact short names first, then "BASIS~N" unique among them. */
        for (size_t i = 0; i < dir->n_kids; i++) {
                struct fat_name *fn = &dir->kids[i].fn;
                if (!fn->lfn)
                        continue;
                for (unsigned t = 1;; t++) {
                        fat_short_alias(fn, t, fn->short_name);
                        bool clash = false;
                        for (size_t j = 0; j < dir->n_kids && !clash; j++)
                                clash = j != i && (!dir->kids[j].fn.lfn || j < i) &&
                                        memcmp(dir->kids[j].fn.short_name, fn->short_name, 11) == 0;
                        if (!clash)
                                break;
                }
        }
        dir->slots = depth == 0 ? 1 : 2; /* the volume label, or "." and ".." */
        for (size_t i = 0; i < dir->n_kids; i++) {
                dir->slots += fat_name_slots(&dir->kids[i].fn);
                if (dir->kids[i].dir) {
                        int r = scan_dir(s, &dir->kids[i], depth + 1, reterr);
                        if (r < 0)
                                return r;
                }
        }
        if (dir->slots > 65536) {
                *reterr = xasprintf("%s: too many entries for one FAT directory",
                                    dir->rel[0] ? dir->rel : ".");
                return -E2BIG;
        }
        return 0;
}

/* Clusters the tree takes with clusters of @cs bytes. */
static uint64_t tree_clusters(const struct node *n, uint32_t cs)
{
        if (!n->dir)
                return (n->size + cs - 1) / cs;
        uint64_t c = MAX(1, (n->slots * 32 + cs - 1) / cs);
        for (size_t i = 0; i < n->n_kids; i++)
                c += tree_clusters(&n->kids[i], cs);
        return c;
}

static const struct {
        uint32_t cs;
        uint64_t lo, hi;
} cluster_ranges[] = {
        { 512, 0, 260 * MIB },
        { 4096, 260 * MIB, 8ull << 30 },
        { 8192, 8ull << 30, 16ull << 30 },
        { 16384, 16ull << 30, 32ull << 30 },
        { 32768, 32ull << 30, 2048ull << 30 },
};

/* The smallest volume (a multiple of 1 MiB) that holds @root; 0 when none does. */
static uint64_t min_volume_bytes(const struct node *root)
{
        for (size_t i = 0; i < ELEMENTSOF(cluster_ranges); i++) {
                uint32_t cs = cluster_ranges[i].cs;
                uint64_t need = MAX(tree_clusters(root, cs), (uint64_t) FAT32_MIN_CLUSTERS);
                uint64_t fat = ((need + 2) * 4 + FAT_SECTOR - 1) / FAT_SECTOR;
                uint64_t est = (40 + 2 * fat) * FAT_SECTOR + need * cs;
                est = (est + MIB - 1) / MIB * MIB;
                for (uint64_t v = MAX(est, cluster_ranges[i].lo); v < cluster_ranges[i].hi;
                     v += MIB) {
                        struct fat_geometry g;
                        if (fat_geometry_for(v, &g) < 0)
                                continue;
                        if (fat_cluster_bytes(&g) != cs)
                                break;
                        if (g.clusters >= need)
                                return v;
                }
        }
        return 0;
}

static uint64_t layout_overhead(enum image_layout l)
{
        /* GPT: 1 MiB before the ESP (alignment), 1 MiB after (backup table, rounded). */
        return l == IMAGE_LAYOUT_GPT ? 2 * MIB : 0;
}

uint64_t image_min_disk_bytes(enum image_layout layout)
{
        struct node empty = { .dir = true, .slots = 1 };
        return min_volume_bytes(&empty) + layout_overhead(layout);
}

/* Assigns clusters: directories first (breadth first, root at 2), then files in the same order. */
static void assign(struct node *root, uint32_t cs, uint32_t *ret_dirs_end, uint32_t *ret_end)
{
        size_t qcap = 0, qn = 0;
        _cleanup_free_ struct node **queue = NULL;
        GROW(queue, qcap, 1);
        queue[qn++] = root;
        uint32_t next = 2;
        for (size_t i = 0; i < qn; i++) {
                struct node *d = queue[i];
                d->n_clusters = (uint32_t) MAX(1, (d->slots * 32 + cs - 1) / cs);
                d->cluster = next;
                next += d->n_clusters;
                for (size_t k = 0; k < d->n_kids; k++)
                        if (d->kids[k].dir) {
                                GROW(queue, qcap, qn + 1);
                                queue[qn++] = &d->kids[k];
                        }
        }
        *ret_dirs_end = next;
        for (size_t i = 0; i < qn; i++)
                for (size_t k = 0; k < queue[i]->n_kids; k++) {
                        struct node *f = &queue[i]->kids[k];
                        if (f->dir)
                                continue;
                        f->n_clusters = (uint32_t) ((f->size + cs - 1) / cs);
                        f->cluster = f->n_clusters ? next : 0;
                        next += f->n_clusters;
                }
        *ret_end = next;
}

static void fat_chains(const struct node *n, uint32_t *fat)
{
        for (uint32_t i = 0; i < n->n_clusters; i++)
                fat[n->cluster + i] = i + 1 < n->n_clusters ? n->cluster + i + 1 : 0x0fffffffu;
        if (n->dir)
                for (size_t k = 0; k < n->n_kids; k++)
                        fat_chains(&n->kids[k], fat);
}

/* Writes every directory's entries into @buf, which holds clusters 2 ... */
static void dir_contents(const struct node *d, uint32_t cs, uint32_t parent, const char *label,
                         uint8_t *buf, bool is_root)
{
        uint8_t *p = buf + (size_t) (d->cluster - 2) * cs;
        if (is_root) {
                uint8_t l[11];
                memset(l, ' ', 11);
                for (size_t i = 0; label[i] && i < 11; i++)
                        l[i] = (uint8_t) (label[i] >= 'a' && label[i] <= 'z' ? label[i] - 32
                                                                             : label[i]);
                fat_dirent_short(p, l, FAT_ATTR_VOLUME_ID, 0, 0, d->mtime);
                p += 32;
        } else {
                static const uint8_t dot[11] = ".          ", dotdot[11] = "..         ";
                fat_dirent_short(p, dot, FAT_ATTR_DIRECTORY, d->cluster, 0, d->mtime);
                fat_dirent_short(p + 32, dotdot, FAT_ATTR_DIRECTORY, parent, 0, d->mtime);
                p += 64;
        }
        for (size_t k = 0; k < d->n_kids; k++) {
                const struct node *c = &d->kids[k];
                p += 32 * fat_dirent_encode(p, &c->fn,
                                            c->dir ? FAT_ATTR_DIRECTORY : FAT_ATTR_ARCHIVE,
                                            c->cluster, c->dir ? 0 : (uint32_t) c->size, c->mtime);
        }
        for (size_t k = 0; k < d->n_kids; k++)
                if (d->kids[k].dir)
                        dir_contents(&d->kids[k], cs, is_root ? 0 : d->cluster, label, buf, false);
}

/* Counts writes for the fault-injection hook of the tests. */
struct writer {
        int fd;
        struct qcow2 *q; /* qcow2 output, else raw */
        unsigned long long fail_at, writes;
        uint8_t *buf;
        size_t len;
        uint64_t start; /* image offset of buf[0] */
        const struct progress_sink *progress;
        uint64_t done, total;
};

static int w_write(struct writer *w, const void *p, size_t n, uint64_t off, char **reterr)
{
        if (w->fail_at && w->writes + 1 >= w->fail_at) {
                *reterr = xasprintf("injected fault: write %llu refused", w->writes + 1);
                return -EIO;
        }
        w->writes++;
        int r = w->q ? qcow2_pwrite(w->q, p, n, off) : pwrite_all(w->fd, p, n, (off_t) off);
        if (r < 0)
                *reterr = xasprintf("write: %s", strerror(-r));
        return r;
}

static int w_flush(struct writer *w, char **reterr)
{
        if (w->len == 0)
                return 0;
        int r = w_write(w, w->buf, w->len, w->start, reterr);
        /* Start writing it back now, so that the final fsync finds little left to do: the
         * disk works while the next files are read. */
        if (r >= 0 && !w->q)
                (void) sync_file_range(w->fd, (off_t) w->start, (off_t) w->len,
                                       SYNC_FILE_RANGE_WRITE);
        w->start += w->len;
        w->len = 0;
        progress_update(w->progress, "image", w->done, w->total);
        return r;
}

/* Appends @f's bytes, padded to whole clusters, to the stream. */
static int stream_file(struct writer *w, int root_fd, const struct node *f, uint32_t cs,
                       char **reterr)
{
        if (f->size == 0)
                return 0;
        _cleanup_close_ int fd = openat(root_fd, f->rel, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                *reterr = xasprintf("%s: %m", f->rel);
                return -errno;
        }
        uint64_t left = f->size;
        while (left > 0) {
                size_t room = STREAM_BYTES - w->len;
                size_t want = (size_t) MIN((uint64_t) room, left);
                ssize_t got = read_full(fd, w->buf + w->len, want);
                if (got < 0) {
                        *reterr = xasprintf("%s: %s", f->rel, strerror((int) -got));
                        return (int) got;
                }
                if ((size_t) got != want) {
                        *reterr = xasprintf("%s: the file shrank while it was read", f->rel);
                        return -EIO;
                }
                w->len += want;
                w->done += want;
                left -= want;
                if (w->len == STREAM_BYTES) {
                        int r = w_flush(w, reterr);
                        if (r < 0)
                                return r;
                }
        }
        size_t pad = (size_t) ((uint64_t) f->n_clusters * cs - f->size);
        /* Within the buffer: files start on cluster boundaries and STREAM_BYTES is a multiple
         * of every cluster size. */
        memset(w->buf + w->len, 0, pad);
        w->len += pad;
        if (w->len == STREAM_BYTES)
                return w_flush(w, reterr);
        return 0;
}

static int stream_files(struct writer *w, int root_fd, const struct node *root, uint32_t cs,
                        char **reterr)
{
        /* The same breadth-first order as assign(). */
        size_t qcap = 0, qn = 0;
        _cleanup_free_ const struct node **queue = NULL;
        GROW(queue, qcap, 1);
        queue[qn++] = root;
        for (size_t i = 0; i < qn; i++)
                for (size_t k = 0; k < queue[i]->n_kids; k++)
                        if (queue[i]->kids[k].dir) {
                                GROW(queue, qcap, qn + 1);
                                queue[qn++] = &queue[i]->kids[k];
                        }
        for (size_t i = 0; i < qn; i++)
                for (size_t k = 0; k < queue[i]->n_kids; k++) {
                        const struct node *f = &queue[i]->kids[k];
                        if (f->dir)
                                continue;
                        int r = stream_file(w, root_fd, f, cs, reterr);
                        if (r < 0)
                                return r;
                }
        return w_flush(w, reterr);
}

static char *size_text(uint64_t b)
{
        char s[32];
        return xstrdup(format_bytes(b, s, sizeof(s)));
}

/* Writes the raw image into @fd (empty, to be sized here). */
static int write_raw(int fd, struct node *root, const struct scan *s,
                     const struct image_build_options *o, const struct progress_sink *progress,
                     struct image_build_result *res, char **reterr)
{
        uint64_t overhead = layout_overhead(o->layout);
        uint64_t min_volume = min_volume_bytes(root);
        if (min_volume == 0) {
                *reterr = xasprintf("%s: %llu bytes do not fit any FAT32 volume", o->from,
                                    (unsigned long long) s->bytes);
                return -EFBIG;
        }
        res->min_disk_bytes = min_volume + overhead;
        uint64_t disk = o->size ? (o->size + MIB - 1) / MIB * MIB : res->min_disk_bytes;
        uint64_t volume = disk > overhead ? disk - overhead : 0;
        struct fat_geometry g;
        if (volume > FAT_MAX_VOLUME) {
                _cleanup_free_ char *have = size_text(disk);
                *reterr = xasprintf("--size %s is above FAT32's maximum of 2 TiB of 512-byte "
                                    "sectors",
                                    have);
                return -ERANGE;
        }
        if (volume == 0 || fat_geometry_for(volume, &g) < 0) {
                _cleanup_free_ char *have = size_text(disk);
                _cleanup_free_ char *need = size_text(image_min_disk_bytes(o->layout));
                *reterr = xasprintf("--size %s is below FAT32's minimum: a %s image needs at least "
                                    "%s (%llu bytes)",
                                    have, image_layout_to_string(o->layout), need,
                                    (unsigned long long) image_min_disk_bytes(o->layout));
                return -ERANGE;
        }
        uint32_t cs = fat_cluster_bytes(&g);
        uint64_t need = tree_clusters(root, cs);
        if (need > g.clusters) {
                _cleanup_free_ char *have = size_text(disk);
                _cleanup_free_ char *want = size_text(res->min_disk_bytes);
                *reterr = xasprintf("%s does not fit a %s image: it needs %s (%llu bytes); use "
                                    "--size %lluM or more, or leave --size out",
                                    o->from, have, want, (unsigned long long) res->min_disk_bytes,
                                    (unsigned long long) (res->min_disk_bytes / MIB));
                return -ENOSPC;
        }
        uint32_t dirs_end, end;
        assign(root, cs, &dirs_end, &end);

        struct rng rng;
        struct uuid disk_guid, part_guid;
        rng_init(&rng, o->seed, "image-disk-guid");
        uuid_random(&rng, &disk_guid);
        rng_init(&rng, o->seed, "image-partition-guid");
        uuid_random(&rng, &part_guid);
        rng_init(&rng, o->seed, "image-volume-id");
        uint32_t volume_id = (uint32_t) rng_u64(&rng);
        uint64_t base = o->layout == IMAGE_LAYOUT_GPT ? MIB : 0;
        const char *label = o->label ? o->label : "OPENCORE";

        struct writer w = {
                .fd = fd, .fail_at = o->fail_at_write, .progress = progress, .total = s->bytes
        };
        _cleanup_(qcow2_freep) struct qcow2 *q = NULL;
        if (o->format == IMAGE_FORMAT_QCOW2)
                w.q = q = qcow2_new(fd, disk);
        else if (ftruncate(fd, (off_t) disk) < 0) {
                *reterr = xasprintf("cannot size the image to %llu bytes: %m",
                                    (unsigned long long) disk);
                return -errno;
        }
        int r = 0;
        if (o->layout == IMAGE_LAYOUT_GPT) {
                _cleanup_free_ uint8_t *head = xmalloc(34 * GPT_SECTOR);
                _cleanup_free_ uint8_t *tail = xmalloc(33 * GPT_SECTOR);
                struct gpt_partition p = {
                        .type = gpt_type_esp,
                        .guid = part_guid,
                        .first_lba = base / GPT_SECTOR,
                        .last_lba = (base + volume) / GPT_SECTOR - 1,
                        .name = "EFI System Partition",
                };
                gpt_build(disk / GPT_SECTOR, &disk_guid, &p, head, tail);
                r = w_write(&w, head, 34 * GPT_SECTOR, 0, reterr);
                if (r >= 0)
                        r = w_write(&w, tail, 33 * GPT_SECTOR, disk - 33 * GPT_SECTOR, reterr);
                if (r < 0)
                        return r;
        }
        /* Boot sector, FSInfo, their backups at 6 and 7. */
        uint8_t boot[8 * FAT_SECTOR];
        memset(boot, 0, sizeof(boot));
        fat_boot_sector(boot, &g, (uint32_t) (base / FAT_SECTOR), volume_id, label);
        fat_fsinfo(boot + FAT_SECTOR, g.clusters - (end - 2), end);
        memcpy(boot + 6 * FAT_SECTOR, boot, 2 * FAT_SECTOR);
        r = w_write(&w, boot, sizeof(boot), base, reterr);
        if (r < 0)
                return r;
        /* The used part of both FATs; the rest stays a hole (zeros: free). */
        size_t fat_len = ((size_t) end * 4 + FAT_SECTOR - 1) / FAT_SECTOR * FAT_SECTOR;
        _cleanup_free_ uint32_t *fat = xcalloc(1, fat_len);
        fat[0] = 0x0ffffff8u;
        fat[1] = 0x0fffffffu;
        fat_chains(root, fat);
        for (size_t i = 0; i < fat_len / 4; i++)
                fat[i] = htole32(fat[i]);
        for (int copy = 0; copy < 2 && r >= 0; copy++)
                r = w_write(
                        &w, fat, fat_len,
                        base + ((uint64_t) g.reserved_sectors + (uint64_t) copy * g.fat_sectors) *
                                        FAT_SECTOR,
                        reterr);
        if (r < 0)
                return r;
        /* All directories, one write. */
        size_t dirs_len = (size_t) (dirs_end - 2) * cs;
        _cleanup_free_ uint8_t *dirs = xcalloc(1, dirs_len);
        dir_contents(root, cs, 0, label, dirs, true);
        r = w_write(&w, dirs, dirs_len, base + fat_cluster_offset(&g, 2), reterr);
        if (r < 0)
                return r;
        /* File data: one stream of big sequential writes. */
        _cleanup_free_ uint8_t *buf = xmalloc(STREAM_BYTES);
        w.buf = buf;
        w.start = base + fat_cluster_offset(&g, dirs_end);
        r = stream_files(&w, s->root_fd, root, cs, reterr);
        if (r < 0)
                return r;
        if (q && (r = qcow2_finish(q)) < 0) {
                *reterr = xasprintf("write: %s", strerror(-r));
                return r;
        }
        progress_finish(progress, "image");

        res->disk_bytes = disk;
        res->volume_bytes = volume;
        res->cluster_bytes = cs;
        res->files = s->files;
        res->dirs = s->dirs;
        res->data_bytes = s->bytes;
        res->volume_id = volume_id;
        if (o->layout == IMAGE_LAYOUT_GPT) {
                uuid_format(&disk_guid, res->disk_guid);
                uuid_format(&part_guid, res->partition_guid);
        }
        return 0;
}

int image_build(const char *out, const struct image_build_options *o,
                const struct progress_sink *progress, struct image_build_result *ret, char **reterr)
{
        if (o->label && (strlen(o->label) == 0 || strlen(o->label) > 11)) {
                *reterr = xasprintf("label '%s': 1 to 11 characters", o->label);
                return -EINVAL;
        }
        for (const char *p = o->label; p && *p; p++)
                if ((unsigned char) *p < 0x20 || (unsigned char) *p >= 0x7f ||
                    strchr("\"*+,./:;<=>?[\\]|", *p)) {
                        *reterr = xasprintf("label '%s': only letters, digits, spaces and "
                                            "!#$%%&'()-@^_`{}~",
                                            o->label);
                        return -EINVAL;
                }
        struct stat st;
        if (!o->force && lstat(out, &st) == 0) {
                *reterr = xasprintf("%s exists; --force replaces it", out);
                return -EEXIST;
        }
        _cleanup_close_ int root_fd = open(o->from, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                *reterr = xasprintf("%s: %m", o->from);
                return -errno;
        }
        struct scan s = { .root_fd = root_fd, .timestamp = o->timestamp };
        struct node root = { .name = xstrdup(""), .rel = xstrdup(""), .dir = true };
        if (fstat(root_fd, &st) == 0)
                root.mtime = o->timestamp > 0 ? o->timestamp : (int64_t) st.st_mtime;
        int r = scan_dir(&s, &root, 0, reterr);
        if (r < 0) {
                node_release(&root);
                return r;
        }

        struct image_build_result res = { 0 };
        {
                _cleanup_atomic_file_ struct atomic_file f = { .dir_fd = -1, .fd = -1 };
                r = atomic_file_open(AT_FDCWD, out, 0644, false, &f, reterr);
                if (r >= 0)
                        r = write_raw(f.fd, &root, &s, o, progress, &res, reterr);
                if (r >= 0)
                        r = atomic_file_commit(&f, reterr);
        }

        node_release(&root);
        if (r < 0)
                return r;
        if (ret)
                *ret = res;
        return 0;
}

/* --- existing images --- */

struct image {
        int fd; /* the image, or the copy being changed (read-write) */
        struct atomic_file af;
        bool writable;
        struct gpt_location loc;
        struct fat_volume *vol;
};

struct fat_volume *image_volume(struct image *im)
{
        return im->vol;
}

const struct gpt_location *image_location(const struct image *im)
{
        return &im->loc;
}

void image_close(struct image *im)
{
        if (!im)
                return;
        fat_close(im->vol);
        if (im->writable)
                atomic_file_abort(&im->af);
        if (im->fd >= 0)
                close(im->fd);
        free(im);
}

static int open_volume(struct image *im, uint64_t size, unsigned long long fail_at, char **reterr)
{
        uint8_t head[34 * GPT_SECTOR];
        ssize_t n = pread_full(im->fd, head, sizeof(head), 0);
        if (n < 0) {
                *reterr = xasprintf("read: %s", strerror((int) -n));
                return (int) n;
        }
        int r = gpt_locate(head, (size_t) n, size, &im->loc, reterr);
        if (r < 0)
                return r;
        struct fat_open_options fo = { .writable = im->writable, .fail_at_write = fail_at };
        return fat_open(im->fd, im->loc.offset, im->loc.size, &fo, &im->vol, reterr);
}

int image_open(const char *path, bool writable, unsigned long long fail_at_write,
               struct image **ret, char **reterr)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                *reterr = xasprintf("%s: %m", path);
                return -errno;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                *reterr = xasprintf("%s: %m", path);
                return -errno;
        }
        if (!S_ISREG(st.st_mode)) {
                *reterr =
                        xasprintf("%s: not a regular file (only image files are supported)", path);
                return -EINVAL;
        }
        _cleanup_(image_closep) struct image *im = xcalloc(1, sizeof(*im));
        im->af.fd = im->af.dir_fd = -1;
        im->writable = writable;
        if (writable) {
                int r = atomic_file_open(AT_FDCWD, path, st.st_mode & 07777, true, &im->af, reterr);
                if (r < 0)
                        return r;
                /* The temporary file is write-only; the volume reads it too. */
                im->fd = openat(im->af.dir_fd, im->af.tmp_name, O_RDWR | O_CLOEXEC);
                if (im->fd < 0) {
                        *reterr = xasprintf("%s: %m", im->af.tmp_name);
                        return -errno;
                }
                r = copy_sparse(fd, im->fd, (uint64_t) st.st_size, reterr);
                if (r < 0)
                        return r;
        } else
                im->fd = TAKE_FD(fd);
        int r = open_volume(im, (uint64_t) st.st_size, fail_at_write, reterr);
        if (r < 0) {
                char *e = *reterr;
                *reterr = xasprintf("%s: %s", path, e);
                free(e);
                return r;
        }
        *ret = TAKE_PTR(im);
        return 0;
}

int image_commit(struct image *im, char **reterr)
{
        if (!im->writable)
                return 0;
        return atomic_file_commit(&im->af, reterr);
}

static int put_dir(struct fat_volume *v, int dir_fd, const char *local, const char *path,
                   int64_t timestamp, int depth, uint64_t *files, char **reterr)
{
        if (depth > 32) {
                *reterr = xasprintf("%s: directories nested deeper than 32", local);
                return -ELOOP;
        }
        struct stat st;
        if (fstat(dir_fd, &st) < 0) {
                *reterr = xasprintf("%s: %m", local);
                return -errno;
        }
        int r = fat_mkdir(v, path, timestamp > 0 ? timestamp : (int64_t) st.st_mtime, reterr);
        if (r < 0)
                return r;
        int fd = dup(dir_fd);
        _cleanup_closedir_ DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d) {
                if (fd >= 0)
                        close(fd);
                *reterr = xasprintf("%s: %m", local);
                return -errno;
        }
        /* Sorted, so that the same tree gives the same image. */
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        GROW(names, cap, n + 1);
                        names[n++] = xstrdup(de->d_name);
                }
        if (n > 1)
                qsort(names, n, sizeof(char *), strcmp_ptr);
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *sub_local = xasprintf("%s/%s", local, names[i]);
                _cleanup_free_ char *sub_path = xasprintf("%s/%s", path, names[i]);
                _cleanup_close_ int sfd = openat(dir_fd, names[i], O_RDONLY | O_CLOEXEC);
                if (sfd < 0 || fstat(sfd, &st) < 0) {
                        *reterr = xasprintf("%s: %m", sub_local);
                        r = -errno;
                } else if (S_ISDIR(st.st_mode))
                        r = put_dir(v, sfd, sub_local, sub_path, timestamp, depth + 1, files,
                                    reterr);
                else if (S_ISREG(st.st_mode)) {
                        r = fat_put_file(v, sub_path, sfd, (uint64_t) st.st_size,
                                         timestamp > 0 ? timestamp : (int64_t) st.st_mtime, reterr);
                        (*files)++;
                } else {
                        *reterr = xasprintf("%s: not a regular file or directory", sub_local);
                        r = -EINVAL;
                }
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        return r;
}

int image_put_tree(struct image *im, const char *path, const char *local, int64_t timestamp,
                   uint64_t *ret_files, char **reterr)
{
        _cleanup_close_ int fd = open(local, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                *reterr = xasprintf("%s: %m", local);
                return -errno;
        }
        uint64_t files = 0;
        /* One copy of the image takes every change; image_commit() syncs it once. */
        fat_defer_sync(im->vol, true);
        int r = put_dir(im->vol, fd, local, path, timestamp, 0, &files, reterr);
        fat_defer_sync(im->vol, false);
        if (ret_files)
                *ret_files = files;
        return r;
}
