/* SPDX-License-Identifier: MIT */
#pragma once

/* NULL-terminated arrays of owned strings. */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

char **strv_free(char **l);
size_t strv_length(char *const *l);
/* Appends a copy of @s; returns the (possibly moved) array. */
char **strv_push(char **l, const char *s);
/* Appends @s, taking ownership of it. */
char **strv_consume(char **l, char *s);
bool strv_contains(char *const *l, const char *s);
/* Splits @s on any of the characters in @sep, dropping empty fields. */
char **strv_split(const char *s, const char *sep);
void strv_sort(char **l);
char *strv_join(char *const *l, const char *sep);

DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free)
#define _cleanup_strv_free_ _cleanup_(strv_freep)

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)
