/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * macOS versions as comparable numbers: major * 100 + minor, so 10.14 is 1014
 * and 26 is 2600. Patch levels are kept apart where they matter.
 */

#include <stdbool.h>
#include <stddef.h>

/* Parses "10.14", "10.14.6", "14", "14.3", "26". Returns 0 or -EINVAL. */
int macos_version_parse(const char *s, unsigned *ret);
/* Formats 1014 as "10.14" and 1400 as "14" into @out. */
char *macos_version_format(unsigned v, char *out, size_t n);
