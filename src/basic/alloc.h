/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Allocation that never fails: on out-of-memory the process aborts, as git and
 * libvirt do. Every error path left in the code is then a real one.
 */

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Returns a newly allocated string; free() it. */
char *xasprintf(const char *fmt, ...) _printf_(1, 2);
char *xvasprintf(const char *fmt, va_list ap) _printf_(1, 0);

/* Grow *array (of *cap elements of @size) so that it can hold @need elements. */
void *xgrow(void *array, size_t *cap, size_t need, size_t size);

#define GROW(array, cap, need) ((array) = xgrow((array), &(cap), (need), sizeof(*(array))))

/* Replaces *dst with a copy of @src (NULL allowed), freeing the old value. */
void free_and_strdup(char **dst, const char *src);
