/* SPDX-License-Identifier: MIT */
#include "strutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"

int parse_u64(const char *s, uint64_t *ret)
{
        if (!s)
                return -EINVAL;
        while (isspace((unsigned char) *s))
                s++;
        if (!isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        while (isspace((unsigned char) *end))
                end++;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_u32(const char *s, uint32_t *ret)
{
        uint64_t v;
        int r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > UINT32_MAX)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int parse_int(const char *s, int *ret)
{
        if (!s)
                return -EINVAL;
        while (isspace((unsigned char) *s))
                s++;
        const char *d = *s == '-' ? s + 1 : s;
        if (!isdigit((unsigned char) *d))
                return -EINVAL;
        errno = 0;
        char *end;
        long v = strtol(s, &end, 10);
        if (errno == ERANGE || v > INT32_MAX || v < INT32_MIN)
                return -ERANGE;
        while (isspace((unsigned char) *end))
                end++;
        if (*end)
                return -EINVAL;
        *ret = (int) v;
        return 0;
}

int parse_hex_u32(const char *s, uint32_t *ret)
{
        if (!s)
                return -EINVAL;
        while (isspace((unsigned char) *s))
                s++;
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                s += 2;
        if (!isxdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 16);
        if (errno == ERANGE || v > UINT32_MAX)
                return -ERANGE;
        while (isspace((unsigned char) *end))
                end++;
        if (*end)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

int parse_size(const char *s, uint64_t *ret)
{
        if (!s || !isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        unsigned shift = 0;
        switch (*end) {
        case 0:
                break;
        case 'K':
        case 'k':
                shift = 10;
                break;
        case 'M':
        case 'm':
                shift = 20;
                break;
        case 'G':
        case 'g':
                shift = 30;
                break;
        case 'T':
        case 't':
                shift = 40;
                break;
        default:
                return -EINVAL;
        }
        if (*end) {
                end++;
                if (*end == 'i' && end[1] == 'B')
                        end += 2;
                else if (*end == 'B')
                        end++;
        }
        if (*end)
                return -EINVAL;
        if (shift && v > (UINT64_MAX >> shift))
                return -ERANGE;
        *ret = (uint64_t) v << shift;
        return 0;
}

char *strstrip(char *s)
{
        char *p = s;
        while (isspace((unsigned char) *p))
                p++;
        size_t n = strlen(p);
        while (n > 0 && isspace((unsigned char) p[n - 1]))
                n--;
        memmove(s, p, n);
        s[n] = 0;
        return s;
}

char *str_squeeze_blanks(char *s)
{
        char *w = s;
        for (const char *r = s; *r; r++)
                if (!(isblank((unsigned char) *r) && w > s && w[-1] == ' '))
                        *w++ = isblank((unsigned char) *r) ? ' ' : *r;
        *w = 0;
        return s;
}

char *ascii_strlower(char *s)
{
        for (char *p = s; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return s;
}

const char *ascii_strcasestr(const char *haystack, const char *needle)
{
        size_t n = strlen(needle);
        if (n == 0)
                return haystack;
        for (const char *p = haystack; *p; p++)
                if (strncasecmp(p, needle, n) == 0)
                        return p;
        return NULL;
}

/* Length of the valid UTF-8 sequence at @p (at most @n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
        if (p[0] < 0x80)
                return 1;
        size_t len;
        unsigned cp;
        if ((p[0] & 0xe0) == 0xc0) {
                len = 2;
                cp = p[0] & 0x1f;
        } else if ((p[0] & 0xf0) == 0xe0) {
                len = 3;
                cp = p[0] & 0x0f;
        } else if ((p[0] & 0xf8) == 0xf0) {
                len = 4;
                cp = p[0] & 0x07;
        } else
                return 0;
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates and values past U+10FFFF are invalid. */
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
                return 0;
        return len;
}

bool utf8_is_valid(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *) s;
        while (n > 0) {
                size_t l = utf8_seq(p, n);
                if (l == 0)
                        return false;
                p += l;
                n -= l;
        }
        return true;
}

char *str_printable(const char *s, size_t max)
{
        struct buf b = BUF_INIT;
        const unsigned char *p = (const unsigned char *) s;
        size_t n = strlen(s);
        while (n > 0) {
                if (b.len >= max) {
                        buf_puts(&b, "...");
                        break;
                }
                size_t l = utf8_seq(p, n);
                if (l == 0 || (l == 1 && (*p < 0x20 || *p == 0x7f))) {
                        buf_putc(&b, '?');
                        l = 1;
                } else
                        buf_put(&b, p, l);
                p += l;
                n -= l;
        }
        return buf_detach(&b);
}

unsigned edit_distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return 1000;
        unsigned row[65];
        for (size_t j = 0; j <= lb; j++)
                row[j] = (unsigned) j;
        for (size_t i = 1; i <= la; i++) {
                unsigned prev = row[0];
                row[0] = (unsigned) i;
                for (size_t j = 1; j <= lb; j++) {
                        unsigned cur = row[j];
                        unsigned sub = prev + (a[i - 1] != b[j - 1]);
                        unsigned del = row[j] + 1, ins = row[j - 1] + 1;
                        row[j] = MIN(sub, MIN(del, ins));
                        prev = cur;
                }
        }
        return row[lb];
}

char *format_bytes(uint64_t bytes, char *out, size_t n)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        double v = (double) bytes;
        size_t u = 0;
        while (v >= 1024.0 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024.0;
                u++;
        }
        if (u == 0)
                snprintf(out, n, "%llu B", (unsigned long long) bytes);
        else
                snprintf(out, n, "%.1f %s", v, units[u]);
        return out;
}

int unhexchar(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}
