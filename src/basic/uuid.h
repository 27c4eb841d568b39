/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * UUIDs in their RFC 4122 byte order (the text order). GPT stores the first
 * three fields little-endian: uuid_to_guid_bytes()/uuid_from_guid_bytes()
 * convert for the on-disk form.
 */

#include <stdbool.h>
#include <stdint.h>

#include "random.h"

struct uuid {
        uint8_t b[16];
};

#define UUID_STRING_MAX 37

/* Upper case, as OpenCore, libvirt's and Apple's files write them: 8-4-4-4-12. */
void uuid_format(const struct uuid *u, char out[UUID_STRING_MAX]);
void uuid_format_lower(const struct uuid *u, char out[UUID_STRING_MAX]);
/* Accepts either case; nothing but 8-4-4-4-12 hex. */
int uuid_parse(const char *s, struct uuid *ret);
/* Version 4, variant 1. */
void uuid_random(struct rng *r, struct uuid *ret);
bool uuid_is_null(const struct uuid *u);
void uuid_to_guid_bytes(const struct uuid *u, uint8_t out[16]);
void uuid_from_guid_bytes(const uint8_t in[16], struct uuid *ret);
