/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A unified diff of two texts ("diff -u" format), for showing a change to a
 * configuration file before it is made. Longest common subsequence on lines
 * after trimming the common head and tail: configuration files are small, and
 * an edit touches a few lines of them.
 */

#include <stdbool.h>
#include <stddef.h>

/*
 * The diff from @a to @b with @context lines around each change, under the
 * headers "--- @label_a" and "+++ @label_b". Returns a newly allocated string,
 * empty when the texts are equal. A missing final newline is marked the way
 * diff(1) marks it.
 */
char *diff_unified(const char *a, size_t a_len, const char *b, size_t b_len, const char *label_a,
                   const char *label_b, unsigned context);
