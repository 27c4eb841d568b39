/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Apple chunklists (.chunklist, .integrityDataV1): a header, one SHA-256 per
 * chunk of the protected file, and a trailer that is either an RSA-2048
 * signature over everything before it (method 1) or a bare SHA-256 of it
 * (method 2, no authenticity). The parser checks the layout and the trailer
 * against the trusted keys it is given; the streaming verifier then checks the
 * protected file chunk by chunk as its bytes arrive.
 */

#include <stdbool.h>
#include <stdint.h>

#include "crypto.h"

#define CHUNKLIST_HEADER_SIZE 0x24
#define CHUNKLIST_ENTRY_SIZE  36
#define CHUNKLIST_SIG_SIZE    256
/* 1 Mi chunks of 10 MiB is 10 TiB: far above any real image. */
#define CHUNKLIST_MAX_CHUNKS (1u << 20)

enum chunklist_signature {
        CHUNKLIST_SIGNED_RSA = 1,
        CHUNKLIST_DIGEST_ONLY = 2,
};

struct chunklist_entry {
        uint32_t size;
        uint8_t sha256[SHA256_LEN];
};

struct chunklist {
        enum chunklist_signature method;
        uint64_t n_chunks;
        struct chunklist_entry *chunks;
        uint64_t total_size;  /* the protected file's exact size */
        const char *key_name; /* the key that verified the signature, or NULL */
};

/* Apple's two chunklist keys (formats.md 2.5): what a release trusts. */
extern const struct rsa_public_key chunklist_apple_keys[];
extern const size_t chunklist_n_apple_keys;

enum {
        /* Accept method 2 (digest only) lists. */
        CHUNKLIST_ALLOW_UNSIGNED = 1 << 0,
        /* Accept a method 1 list whose signature matches none of the keys. */
        CHUNKLIST_ALLOW_BAD_SIGNATURE = 1 << 1,
};

/*
 * Parses and checks @data. Errors: -EBADMSG malformed (the message names the
 * field), -ENOKEY an unsigned list without CHUNKLIST_ALLOW_UNSIGNED,
 * -EKEYREJECTED a signature no key in @keys verifies. With the ALLOW flags
 * these are accepted and *ret_warning (if given) says what was let through.
 */
int chunklist_parse(const uint8_t *data, size_t len, const struct rsa_public_key *keys,
                    size_t n_keys, unsigned flags, struct chunklist **ret, char **ret_warning,
                    char **reterr);
struct chunklist *chunklist_free(struct chunklist *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct chunklist *, chunklist_free)

/* Checks a protected file as a stream: feed its bytes in order. */
struct chunk_verifier {
        const struct chunklist *list;
        struct sha256 *hash;
        uint64_t chunk;    /* index of the chunk being filled */
        uint32_t in_chunk; /* bytes of it seen */
        uint64_t offset;   /* bytes seen in total */
};

/* Starts at chunk @first_chunk (resuming after chunks already checked). */
void chunk_verifier_init(struct chunk_verifier *v, const struct chunklist *list,
                         uint64_t first_chunk);
void chunk_verifier_release(struct chunk_verifier *v);
/* -EBADMSG naming the chunk when a chunk's digest differs or data runs past the end. */
int chunk_verifier_feed(struct chunk_verifier *v, const void *data, size_t len, char **reterr);
/* -EBADMSG when the stream ended before the last chunk. */
int chunk_verifier_finish(const struct chunk_verifier *v, char **reterr);
/* The file offset where chunk @i starts. */
uint64_t chunklist_chunk_offset(const struct chunklist *c, uint64_t i);
