/* SPDX-License-Identifier: MIT */
#include "uuid.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "strutil.h"

static void format(const struct uuid *u, char out[UUID_STRING_MAX], const char *digits)
{
        char *p = out;
        for (size_t i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        *p++ = '-';
                *p++ = digits[u->b[i] >> 4];
                *p++ = digits[u->b[i] & 15];
        }
        *p = 0;
}

void uuid_format(const struct uuid *u, char out[UUID_STRING_MAX])
{
        format(u, out, "0123456789ABCDEF");
}

void uuid_format_lower(const struct uuid *u, char out[UUID_STRING_MAX])
{
        format(u, out, "0123456789abcdef");
}

int uuid_parse(const char *s, struct uuid *ret)
{
        struct uuid u;
        size_t bi = 0;
        for (size_t i = 0; i < 36; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return -EINVAL;
                        continue;
                }
                int hi = unhexchar(s[i]);
                if (hi < 0)
                        return -EINVAL;
                int lo = unhexchar(s[++i]);
                if (lo < 0)
                        return -EINVAL;
                u.b[bi++] = (uint8_t) (hi << 4 | lo);
        }
        if (s[36] != 0)
                return -EINVAL;
        *ret = u;
        return 0;
}

void uuid_random(struct rng *r, struct uuid *ret)
{
        rng_bytes(r, ret->b, 16);
        ret->b[6] = (uint8_t) ((ret->b[6] & 0x0f) | 0x40);
        ret->b[8] = (uint8_t) ((ret->b[8] & 0x3f) | 0x80);
}

bool uuid_is_null(const struct uuid *u)
{
        for (size_t i = 0; i < 16; i++)
                if (u->b[i])
                        return false;
        return true;
}

static void swap_fields(const uint8_t in[16], uint8_t out[16])
{
        out[0] = in[3];
        out[1] = in[2];
        out[2] = in[1];
        out[3] = in[0];
        out[4] = in[5];
        out[5] = in[4];
        out[6] = in[7];
        out[7] = in[6];
        memcpy(out + 8, in + 8, 8);
}

void uuid_to_guid_bytes(const struct uuid *u, uint8_t out[16])
{
        swap_fields(u->b, out);
}

void uuid_from_guid_bytes(const uint8_t in[16], struct uuid *ret)
{
        swap_fields(in, ret->b);
}
