/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One random source for every generator: the OS (getrandom) by default, or a
 * deterministic stream derived from a user's --seed so that the same inputs
 * give byte-identical files. The stream is xoshiro256** seeded through
 * splitmix64 from a hash of the seed and a purpose string, so that the serial
 * and the disk GUIDs made from one seed are independent of each other. It is
 * not a cryptographic generator and nothing secret is made from it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rng {
        uint64_t s[4];
        bool os; /* draw from getrandom() instead of the stream */
};

/* Deterministic: the same (@seed, @purpose) always gives the same stream. */
void rng_init_seed(struct rng *r, const char *seed, const char *purpose);
/* From the operating system. */
void rng_init_os(struct rng *r);
/* @seed NULL: the OS, else rng_init_seed(). */
void rng_init(struct rng *r, const char *seed, const char *purpose);

uint64_t rng_u64(struct rng *r);
/* Uniform in [0, n), without modulo bias; n > 0. */
uint32_t rng_uniform(struct rng *r, uint32_t n);
void rng_bytes(struct rng *r, void *p, size_t n);
