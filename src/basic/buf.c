/* SPDX-License-Identifier: MIT */
#include "buf.h"

#include <stdio.h>

#include "alloc.h"

void buf_grow(struct buf *b, size_t extra)
{
        size_t need = b->len + extra + 1;
        if (need <= b->cap)
                return;
        size_t n = b->cap ? b->cap : 64;
        while (n < need)
                n *= 2;
        b->s = xrealloc(b->s, n);
        b->cap = n;
}

void buf_put(struct buf *b, const void *p, size_t n)
{
        buf_grow(b, n);
        memcpy(b->s + b->len, p, n);
        b->len += n;
        b->s[b->len] = 0;
}

void buf_putc(struct buf *b, char c)
{
        buf_grow(b, 1);
        b->s[b->len++] = c;
        b->s[b->len] = 0;
}

void buf_puts(struct buf *b, const char *s)
{
        buf_put(b, s, strlen(s));
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
        va_list aq;
        va_copy(aq, ap);
        char probe[1];
        /* gcc 12 with -fsanitize warns of a NULL format without this. */
        if (!fmt)
                abort();
        int n = vsnprintf(probe, sizeof(probe), fmt, aq);
        va_end(aq);
        if (n < 0)
                return;
        buf_grow(b, (size_t) n);
        vsnprintf(b->s + b->len, (size_t) n + 1, fmt, ap);
        b->len += (size_t) n;
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        buf_vprintf(b, fmt, ap);
        va_end(ap);
}

void buf_pad(struct buf *b, size_t n)
{
        buf_grow(b, n);
        memset(b->s + b->len, ' ', n);
        b->len += n;
        b->s[b->len] = 0;
}

void buf_put_json_string(struct buf *b, const char *s)
{
        static const char hex[] = "0123456789abcdef";
        buf_putc(b, '"');
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"':
                        buf_puts(b, "\\\"");
                        break;
                case '\\':
                        buf_puts(b, "\\\\");
                        break;
                case '\n':
                        buf_puts(b, "\\n");
                        break;
                case '\t':
                        buf_puts(b, "\\t");
                        break;
                case '\r':
                        buf_puts(b, "\\r");
                        break;
                default:
                        if (*p < 0x20 || *p == 0x7f) {
                                char e[7] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15], 0 };
                                buf_puts(b, e);
                        } else
                                buf_putc(b, (char) *p);
                }
        }
        buf_putc(b, '"');
}

void buf_put_shell_quoted(struct buf *b, const char *s)
{
        bool plain = *s != 0;
        for (const char *p = s; *p && plain; p++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                            "_-./:=,+@%",
                            *p))
                        plain = false;
        if (plain) {
                buf_puts(b, s);
                return;
        }
        buf_putc(b, '\'');
        for (const char *p = s; *p; p++) {
                if (*p == '\'')
                        buf_puts(b, "'\\''");
                else
                        buf_putc(b, *p);
        }
        buf_putc(b, '\'');
}

const char *buf_str(const struct buf *b)
{
        return b->s ? b->s : "";
}

char *buf_detach(struct buf *b)
{
        char *s = b->s ? b->s : xstrdup("");
        b->s = NULL;
        b->len = b->cap = 0;
        return s;
}

void buf_reset(struct buf *b)
{
        b->len = 0;
        if (b->s)
                b->s[0] = 0;
}

void buf_release(struct buf *b)
{
        free(b->s);
        b->s = NULL;
        b->len = b->cap = 0;
}
