/* SPDX-License-Identifier: MIT */
#include "qcow2.h"

#include <endian.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "fileio.h"

#define CLUSTER_BITS 16
#define CLUSTER      (1u << CLUSTER_BITS)
#define L2_ENTRIES   (CLUSTER / 8)
#define COPIED       (1ull << 63) /* refcount exactly 1: may be written in place */

struct qcow2 {
        int fd;
        uint64_t size;
        uint64_t n_guest; /* guest clusters */
        uint64_t *map;    /* guest cluster -> host cluster number, 0: unallocated */
        uint64_t l1_entries, l1_clusters;
        uint64_t next_host; /* the next free host cluster */
};

struct qcow2 *qcow2_new(int fd, uint64_t virtual_size)
{
        struct qcow2 *q = xcalloc(1, sizeof(*q));
        q->fd = fd;
        q->size = virtual_size;
        q->n_guest = (virtual_size + CLUSTER - 1) / CLUSTER;
        q->map = xcalloc(q->n_guest ? q->n_guest : 1, sizeof(uint64_t));
        q->l1_entries = (q->n_guest + L2_ENTRIES - 1) / L2_ENTRIES;
        q->l1_clusters = (q->l1_entries * 8 + CLUSTER - 1) / CLUSTER;
        if (q->l1_clusters == 0)
                q->l1_clusters = 1;
        /* Cluster 0: the header; then the L1 table; data after. */
        q->next_host = 1 + q->l1_clusters;
        return q;
}

void qcow2_free(struct qcow2 *q)
{
        if (!q)
                return;
        free(q->map);
        free(q);
}

int qcow2_pwrite(struct qcow2 *q, const void *data, size_t len, uint64_t off)
{
        const uint8_t *p = data;
        if (off + len > q->size)
                return -EINVAL;
        while (len > 0) {
                uint64_t g = off / CLUSTER;
                if (!q->map[g])
                        q->map[g] = q->next_host++;
                /* As far as the following guest clusters sit right behind on the host too. */
                uint64_t in = off % CLUSTER;
                size_t run = (size_t) MIN((uint64_t) len, CLUSTER - in);
                while (run < len) {
                        uint64_t ng = g + (in + run) / CLUSTER;
                        if (!q->map[ng] && q->next_host == q->map[ng - 1] + 1)
                                q->map[ng] = q->next_host++;
                        if (q->map[ng] != q->map[ng - 1] + 1)
                                break;
                        run += (size_t) MIN((uint64_t) (len - run), (uint64_t) CLUSTER);
                }
                int r = pwrite_all(q->fd, p, run, (off_t) (q->map[g] * CLUSTER + in));
                if (r < 0)
                        return r;
                p += run;
                off += run;
                len -= run;
        }
        return 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
        v = htobe32(v);
        memcpy(p, &v, 4);
}

static void put_be64(uint8_t *p, uint64_t v)
{
        v = htobe64(v);
        memcpy(p, &v, 8);
}

int qcow2_finish(struct qcow2 *q)
{
        /* L2 tables for every L1 entry that maps something, right after the data. */
        _cleanup_free_ uint64_t *l1 = xcalloc(q->l1_clusters * L2_ENTRIES, 8);
        uint64_t n_l2 = 0;
        for (uint64_t i = 0; i < q->l1_entries; i++)
                for (uint64_t k = i * L2_ENTRIES; k < MIN(q->n_guest, (i + 1) * L2_ENTRIES); k++)
                        if (q->map[k]) {
                                l1[i] = q->next_host + n_l2++;
                                break;
                        }
        uint64_t l2_first = q->next_host;
        uint64_t used = q->next_host + n_l2;
        /* Refcount blocks (16-bit counts: 32768 clusters per block) and the table that lists
         * them, sized so that they count themselves too. */
        uint64_t rb = 0, rt = 0;
        for (;;) {
                uint64_t total = used + rb + rt;
                uint64_t nrb = (total + CLUSTER / 2 - 1) / (CLUSTER / 2);
                uint64_t nrt = (nrb * 8 + CLUSTER - 1) / CLUSTER;
                if (nrb == rb && nrt == rt)
                        break;
                rb = nrb;
                rt = nrt;
        }
        uint64_t rb_first = used, rt_first = used + rb, total = used + rb + rt;

        _cleanup_free_ uint8_t *buf = xcalloc(1, CLUSTER);
        for (uint64_t i = 0; i < q->l1_entries; i++) {
                if (!l1[i])
                        continue;
                memset(buf, 0, CLUSTER);
                for (uint64_t k = 0; k < L2_ENTRIES && i * L2_ENTRIES + k < q->n_guest; k++) {
                        uint64_t h = q->map[i * L2_ENTRIES + k];
                        if (h)
                                put_be64(buf + 8 * k, (h * CLUSTER) | COPIED);
                }
                int r = pwrite_all(q->fd, buf, CLUSTER, (off_t) (l1[i] * CLUSTER));
                if (r < 0)
                        return r;
        }
        (void) l2_first;
        /* Every host cluster up to the end is in use exactly once. */
        _cleanup_free_ uint8_t *refs = xcalloc(rb, CLUSTER);
        for (uint64_t c = 0; c < total; c++) {
                refs[2 * c] = 0;
                refs[2 * c + 1] = 1;
        }
        int r = pwrite_all(q->fd, refs, rb * CLUSTER, (off_t) (rb_first * CLUSTER));
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *table = xcalloc(rt, CLUSTER);
        for (uint64_t i = 0; i < rb; i++)
                put_be64(table + 8 * i, (rb_first + i) * CLUSTER);
        r = pwrite_all(q->fd, table, rt * CLUSTER, (off_t) (rt_first * CLUSTER));
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *l1_be = xcalloc(q->l1_clusters, CLUSTER);
        for (uint64_t i = 0; i < q->l1_entries; i++)
                if (l1[i])
                        put_be64(l1_be + 8 * i, (l1[i] * CLUSTER) | COPIED);
        r = pwrite_all(q->fd, l1_be, q->l1_clusters * CLUSTER, CLUSTER);
        if (r < 0)
                return r;
        memset(buf, 0, CLUSTER);
        memcpy(buf, "QFI\xfb", 4);
        put_be32(buf + 4, 3); /* version */
        put_be32(buf + 20, CLUSTER_BITS);
        put_be64(buf + 24, q->size);
        put_be32(buf + 36, (uint32_t) q->l1_entries);
        put_be64(buf + 40, CLUSTER);            /* L1 table offset */
        put_be64(buf + 48, rt_first * CLUSTER); /* refcount table */
        put_be32(buf + 56, (uint32_t) rt);
        put_be32(buf + 96, 4);    /* refcount order: 16 bits */
        put_be32(buf + 100, 104); /* header length */
        r = pwrite_all(q->fd, buf, CLUSTER, 0);
        if (r < 0)
                return r;
        if (ftruncate(q->fd, (off_t) (total * CLUSTER)) < 0)
                return -errno;
        return 0;
}
