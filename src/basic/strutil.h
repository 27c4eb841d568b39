/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Parsers return 0 or -EINVAL / -ERANGE and write *ret only on success. */
int parse_u64(const char *s, uint64_t *ret);
int parse_u32(const char *s, uint32_t *ret);
int parse_int(const char *s, int *ret);
/* The value of one hexadecimal digit (either case), or -1. */
int unhexchar(char c);
/* Hexadecimal with an optional 0x prefix and surrounding white space, as sysfs writes it. */
int parse_hex_u32(const char *s, uint32_t *ret);
/* Sizes such as 256M, 8G, 4096 (bytes), 1.5T is refused. */
int parse_size(const char *s, uint64_t *ret);

/* Removes leading and trailing white space in place; returns @s. */
char *strstrip(char *s);
/* Turns every run of blanks into one space, in place; returns @s. */
char *str_squeeze_blanks(char *s);
/* Lower-cases ASCII in place; returns @s. */
char *ascii_strlower(char *s);
/* Case-insensitive substring search (ASCII). */
const char *ascii_strcasestr(const char *haystack, const char *needle);

/*
 * Returns a copy of @s that is safe to print: valid UTF-8 is kept, control
 * characters and invalid bytes become '?', and the result is cut at @max bytes
 * with "..." appended. Host files may hold anything.
 */
char *str_printable(const char *s, size_t max);
bool utf8_is_valid(const char *s, size_t n);

/* Damerau-free Levenshtein distance, for "did you mean". */
unsigned edit_distance(const char *a, const char *b);

/* Formats @bytes as "31.3 GiB"; returns @out. */
char *format_bytes(uint64_t bytes, char *out, size_t n);
