/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A write-once qcow2 (version 3, 64 KiB clusters, no backing file) for the
 * image writer: guest writes land in host clusters allocated in the order
 * they are first touched, untouched clusters stay unallocated (read as
 * zeros), and qcow2_finish() appends the L2 tables and refcounts and writes
 * the header and L1 table. Layout and fields: qemu's docs/interop/qcow2.txt.
 */

#include <stddef.h>
#include <stdint.h>

struct qcow2;

/* @fd: an empty file. */
struct qcow2 *qcow2_new(int fd, uint64_t virtual_size);
void qcow2_free(struct qcow2 *q);

static inline void qcow2_freep(struct qcow2 **q)
{
        qcow2_free(*q);
}

/* Writes @len bytes at guest offset @off. */
int qcow2_pwrite(struct qcow2 *q, const void *data, size_t len, uint64_t off);
int qcow2_finish(struct qcow2 *q);
