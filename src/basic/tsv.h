/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Tab-separated data files with a header row: the knowledge in data/. Fields
 * are raw text (no quoting); empty lines and lines starting with '#' are
 * skipped; every row must have exactly as many fields as the header.
 */

#include <stddef.h>

#include "macro.h"

struct tsv {
        char *path;
        char **header; /* strv */
        size_t n_cols;
        char ***rows;    /* rows[i][j], each a field */
        unsigned *lines; /* source line number of each row */
        size_t n_rows;
        char *data; /* backing storage of the fields */
};

/* Parses @text (which is taken over). On failure *reterr says file, line and what was expected. */
int tsv_parse(const char *path, char *text, struct tsv **ret, char **reterr);
/* Reads and parses a file; @max bounds its size. */
int tsv_load(const char *path, size_t max, struct tsv **ret, char **reterr);
struct tsv *tsv_free(struct tsv *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct tsv *, tsv_free)
/* Index of column @name, or -1. */
int tsv_column(const struct tsv *t, const char *name);
/* Field of row @row in column @col (an index from tsv_column, may be -1: gives ""). */
const char *tsv_field(const struct tsv *t, size_t row, int col);
/* Checks that every column of the NULL-terminated @names exists. */
int tsv_require_columns(const struct tsv *t, const char *const *names, char **reterr);
