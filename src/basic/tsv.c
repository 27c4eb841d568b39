/* SPDX-License-Identifier: MIT */
#include "tsv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "alloc.h"
#include "strutil.h"
#include "strv.h"

static char **split_tabs(char *line, size_t *ret_n)
{
        size_t n = 1;
        for (char *p = line; *p; p++)
                n += *p == '\t';
        char **f = xcalloc(n + 1, sizeof(char *));
        size_t i = 0;
        char *p = line;
        for (;;) {
                f[i++] = p;
                char *t = strchr(p, '\t');
                if (!t)
                        break;
                *t = 0;
                p = t + 1;
        }
        *ret_n = n;
        return f;
}

int tsv_parse(const char *path, char *text, struct tsv **ret, char **reterr)
{
        _cleanup_(tsv_freep) struct tsv *t = xcalloc(1, sizeof(*t));
        t->path = xstrdup(path);
        t->data = text;
        size_t cap = 0;
        unsigned lineno = 0;
        char *p = text;
        while (*p) {
                char *line = p;
                char *nl = strchr(p, '\n');
                if (nl) {
                        *nl = 0;
                        p = nl + 1;
                } else
                        p += strlen(p);
                lineno++;
                size_t len = strlen(line);
                if (len && line[len - 1] == '\r')
                        line[--len] = 0;
                if (!utf8_is_valid(line, len)) {
                        *reterr = xasprintf("%s:%u: invalid UTF-8", path, lineno);
                        return -EINVAL;
                }
                if (len == 0 || (t->header && line[0] == '#'))
                        continue;
                size_t n;
                char **fields = split_tabs(line, &n);
                if (!t->header) {
                        /* The header's fields point into text; keep copies in a strv. */
                        t->header = xcalloc(n + 1, sizeof(char *));
                        for (size_t i = 0; i < n; i++)
                                t->header[i] = xstrdup(fields[i]);
                        t->n_cols = n;
                        free(fields);
                        continue;
                }
                if (n != t->n_cols) {
                        free(fields);
                        *reterr = xasprintf("%s:%u: expected %zu tab-separated fields, found %zu",
                                            path, lineno, t->n_cols, n);
                        return -EINVAL;
                }
                size_t rcap = cap;
                GROW(t->rows, cap, t->n_rows + 1);
                GROW(t->lines, rcap, t->n_rows + 1);
                t->lines[t->n_rows] = lineno;
                t->rows[t->n_rows++] = fields;
        }
        if (!t->header) {
                *reterr = xasprintf("%s: empty file, expected a header row", path);
                return -EINVAL;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

int tsv_load(const char *path, size_t max, struct tsv **ret, char **reterr)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                int r = -errno;
                *reterr = xasprintf("cannot open '%s': %s", path, strerror(errno));
                return r;
        }
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                *reterr = xasprintf("'%s' is not a regular file", path);
                return -EINVAL;
        }
        if ((uint64_t) st.st_size > max) {
                *reterr = xasprintf("'%s' is too large (%lld bytes, at most %zu)", path,
                                    (long long) st.st_size, max);
                return -EFBIG;
        }
        char *text = xmalloc((size_t) st.st_size + 1);
        size_t len = 0;
        while (len < (size_t) st.st_size) {
                ssize_t n = read(fd, text + len, (size_t) st.st_size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int r = n < 0 ? -errno : -EIO;
                        free(text);
                        *reterr = xasprintf("cannot read '%s': %s", path, strerror(-r));
                        return r;
                }
                len += (size_t) n;
        }
        text[len] = 0;
        if (memchr(text, 0, len)) {
                free(text);
                *reterr = xasprintf("'%s' holds NUL bytes, expected text", path);
                return -EINVAL;
        }
        return tsv_parse(path, text, ret, reterr);
}

struct tsv *tsv_free(struct tsv *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_rows; i++)
                free(t->rows[i]);
        free(t->rows);
        free(t->lines);
        strv_free(t->header);
        free(t->data);
        free(t->path);
        free(t);
        return NULL;
}

int tsv_column(const struct tsv *t, const char *name)
{
        for (size_t i = 0; i < t->n_cols; i++)
                if (streq(t->header[i], name))
                        return (int) i;
        return -1;
}

const char *tsv_field(const struct tsv *t, size_t row, int col)
{
        if (col < 0 || (size_t) col >= t->n_cols || row >= t->n_rows)
                return "";
        return t->rows[row][col];
}

int tsv_require_columns(const struct tsv *t, const char *const *names, char **reterr)
{
        for (size_t i = 0; names[i]; i++)
                if (tsv_column(t, names[i]) < 0) {
                        *reterr = xasprintf("%s: missing column '%s' in the header", t->path,
                                            names[i]);
                        return -EINVAL;
                }
        return 0;
}
