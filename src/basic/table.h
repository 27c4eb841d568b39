/* SPDX-License-Identifier: MIT */
#pragma once

/* A text table: cells are added row by row and rendered with aligned columns. */

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

struct table {
        size_t n_cols;
        char **cells; /* n_rows * n_cols, owned */
        size_t n_cells, cap;
        bool header;
};

/* The NULL-terminated header names start the table. */
struct table *table_new(const char *const *header);
struct table *table_free(struct table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct table *, table_free)
/* Adds one cell; rows fill left to right. NULL is shown as "-". */
void table_add(struct table *t, const char *cell);
void table_addf(struct table *t, const char *fmt, ...) _printf_(2, 3);
/* Renders into @out, each line prefixed by @indent spaces. */
void table_render(const struct table *t, struct buf *out, size_t indent);
/* Display width of a UTF-8 string (code points; no wide characters in our output). */
size_t utf8_width(const char *s);
