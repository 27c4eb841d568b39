/* SPDX-License-Identifier: MIT */
#include "table.h"

#include <stdarg.h>

#include "alloc.h"

struct table *table_new(const char *const *header)
{
        struct table *t = xcalloc(1, sizeof(*t));
        while (header[t->n_cols])
                t->n_cols++;
        for (size_t i = 0; i < t->n_cols; i++)
                table_add(t, header[i]);
        t->header = true;
        return t;
}

struct table *table_free(struct table *t)
{
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t);
        return NULL;
}

void table_add(struct table *t, const char *cell)
{
        GROW(t->cells, t->cap, t->n_cells + 1);
        t->cells[t->n_cells++] = xstrdup(cell ? cell : "-");
}

void table_addf(struct table *t, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = xvasprintf(fmt, ap);
        va_end(ap);
        GROW(t->cells, t->cap, t->n_cells + 1);
        t->cells[t->n_cells++] = s;
}

size_t utf8_width(const char *s)
{
        size_t w = 0;
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                w += (*p & 0xc0) != 0x80;
        return w;
}

void table_render(const struct table *t, struct buf *out, size_t indent)
{
        if (t->n_cols == 0)
                return;
        size_t *width = xcalloc(t->n_cols, sizeof(size_t));
        for (size_t i = 0; i < t->n_cells; i++)
                width[i % t->n_cols] = MAX(width[i % t->n_cols], utf8_width(t->cells[i]));
        size_t rows = (t->n_cells + t->n_cols - 1) / t->n_cols;
        for (size_t r = 0; r < rows; r++) {
                buf_pad(out, indent);
                /* The last column is not padded, so lines carry no trailing blanks. */
                size_t last = t->n_cols;
                while (last > 0 && (r * t->n_cols + last - 1 >= t->n_cells ||
                                    !*t->cells[r * t->n_cols + last - 1]))
                        last--;
                for (size_t c = 0; c < last; c++) {
                        const char *cell = t->cells[r * t->n_cols + c];
                        buf_puts(out, cell);
                        if (c + 1 < last)
                                buf_pad(out, width[c] - utf8_width(cell) + 2);
                }
                buf_putc(out, '\n');
        }
        free(width);
}
