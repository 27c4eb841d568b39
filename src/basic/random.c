/* SPDX-License-Identifier: MIT */
#include "random.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static uint64_t splitmix64(uint64_t *x)
{
        uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        return z ^ (z >> 31);
}

static uint64_t fnv1a64(uint64_t h, const char *s)
{
        for (; *s; s++) {
                h ^= (uint8_t) *s;
                h *= UINT64_C(0x100000001b3);
        }
        return h;
}

void rng_init_seed(struct rng *r, const char *seed, const char *purpose)
{
        uint64_t h = fnv1a64(UINT64_C(0xcbf29ce484222325), seed);
        h = fnv1a64(h ^ 0xff, purpose ? purpose : "");
        r->os = false;
        for (size_t i = 0; i < 4; i++)
                r->s[i] = splitmix64(&h);
}

void rng_init_os(struct rng *r)
{
        memset(r, 0, sizeof(*r));
        r->os = true;
}

void rng_init(struct rng *r, const char *seed, const char *purpose)
{
        if (seed)
                rng_init_seed(r, seed, purpose);
        else
                rng_init_os(r);
}

static inline uint64_t rotl(uint64_t x, int k)
{
        return (x << k) | (x >> (64 - k));
}

static void os_bytes(void *p, size_t n)
{
        uint8_t *b = p;
        while (n > 0) {
                ssize_t k = getrandom(b, n, 0);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        abort(); /* no entropy source at all: nothing sane to do */
                }
                b += k;
                n -= (size_t) k;
        }
}

uint64_t rng_u64(struct rng *r)
{
        if (r->os) {
                uint64_t v;
                os_bytes(&v, sizeof(v));
                return v;
        }
        uint64_t *s = r->s;
        uint64_t result = rotl(s[1] * 5, 7) * 9;
        uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
}

uint32_t rng_uniform(struct rng *r, uint32_t n)
{
        /* Reject the top partial range so every value is equally likely. */
        uint64_t limit = UINT64_MAX - (UINT64_MAX % n);
        for (;;) {
                uint64_t v = rng_u64(r);
                if (v < limit)
                        return (uint32_t) (v % n);
        }
}

void rng_bytes(struct rng *r, void *p, size_t n)
{
        if (r->os) {
                os_bytes(p, n);
                return;
        }
        uint8_t *b = p;
        while (n > 0) {
                uint64_t v = rng_u64(r);
                size_t k = n < 8 ? n : 8;
                memcpy(b, &v, k);
                b += k;
                n -= k;
        }
}
