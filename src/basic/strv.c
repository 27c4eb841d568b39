/* SPDX-License-Identifier: MIT */
#include "strv.h"

#include "alloc.h"
#include "buf.h"

char **strv_free(char **l)
{
        if (!l)
                return NULL;
        for (char **p = l; *p; p++)
                free(*p);
        free(l);
        return NULL;
}

size_t strv_length(char *const *l)
{
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

char **strv_consume(char **l, char *s)
{
        size_t n = strv_length(l);
        l = xreallocarray(l, n + 2, sizeof(char *));
        l[n] = s;
        l[n + 1] = NULL;
        return l;
}

char **strv_push(char **l, const char *s)
{
        return strv_consume(l, xstrdup(s));
}

bool strv_contains(char *const *l, const char *s)
{
        for (size_t i = 0; l && l[i]; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

char **strv_split(const char *s, const char *sep)
{
        char **l = xcalloc(1, sizeof(char *));
        while (*s) {
                s += strspn(s, sep);
                size_t n = strcspn(s, sep);
                if (n == 0)
                        break;
                l = strv_consume(l, xstrndup(s, n));
                s += n;
        }
        return l;
}

static int cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

void strv_sort(char **l)
{
        size_t n = strv_length(l);
        if (n > 1)
                qsort(l, n, sizeof(char *), cmp);
}

char *strv_join(char *const *l, const char *sep)
{
        struct buf b = BUF_INIT;
        for (size_t i = 0; l && l[i]; i++) {
                if (i)
                        buf_puts(&b, sep);
                buf_puts(&b, l[i]);
        }
        return buf_detach(&b);
}
