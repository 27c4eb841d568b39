/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A growable byte string. Invariants: after BUF_INIT or buf_reset(), b->s is
 * either NULL (len 0) or NUL-terminated; buf_str() never returns NULL.
 * buf_detach() hands the storage to the caller, who free()s it.
 */

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

struct buf {
        char *s;
        size_t len;
        size_t cap;
};

#define BUF_INIT \
 {               \
  NULL, 0, 0     \
 }

void buf_grow(struct buf *b, size_t extra);
void buf_putc(struct buf *b, char c);
void buf_put(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap) _printf_(2, 0);
/* Appends @n spaces. */
void buf_pad(struct buf *b, size_t n);
/* Appends @s as a JSON string literal, quotes included. */
void buf_put_json_string(struct buf *b, const char *s);
/* Appends @s quoted for a POSIX shell only where needed. */
void buf_put_shell_quoted(struct buf *b, const char *s);
const char *buf_str(const struct buf *b);
char *buf_detach(struct buf *b);
void buf_reset(struct buf *b);
void buf_release(struct buf *b);

static inline void buf_releasep(struct buf *b)
{
        buf_release(b);
}

#define _cleanup_buf_ _cleanup_(buf_releasep)
