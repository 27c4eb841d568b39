/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The only user of libcrypto: SHA-256 (OpenSSL's, which uses the SHA
 * instructions where the CPU has them) and RSA PKCS#1 v1.5 signature checks
 * against a public key given as modulus and exponent.
 */

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define SHA256_LEN     32
#define SHA256_HEX_LEN 64

struct sha256;

struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *data, size_t len);
/* Writes the digest and resets @h for a new message. */
void sha256_final(struct sha256 *h, uint8_t out[SHA256_LEN]);
void sha256_reset(struct sha256 *h);
struct sha256 *sha256_free(struct sha256 *h);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct sha256 *, sha256_free)

/* One-shot digest. */
void sha256_digest(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* Lower-case hex of @len bytes into @out (2 * len + 1 bytes). */
void hex_encode(const uint8_t *data, size_t len, char *out);
/* Parses exactly 2 * @len hex digits (either case). */
int hex_decode(const char *s, uint8_t *out, size_t len);

/* An RSA public key: big-endian modulus and the public exponent. */
struct rsa_public_key {
        const char *name;
        const uint8_t *modulus;
        size_t modulus_len;
        uint32_t exponent;
};

/*
 * Checks the RSA PKCS#1 v1.5 signature @sig (big-endian, modulus length) over
 * the SHA-256 digest @digest. Returns 0 when it verifies, -EKEYREJECTED when it
 * does not, -EINVAL for an unusable key.
 */
int rsa_verify_sha256(const struct rsa_public_key *key, const uint8_t digest[SHA256_LEN],
                      const uint8_t *sig, size_t sig_len);

/*
 * Reads the modulus and exponent of an RSA key in PEM ("PUBLIC KEY", as
 * `openssl rsa -pubout` writes it, or a private key, of which only the public
 * half is kept). *ret_modulus is allocated.
 */
int rsa_public_key_load_pem(const char *path, uint8_t **ret_modulus, size_t *ret_len,
                            uint32_t *ret_exponent, char **reterr);
