/* SPDX-License-Identifier: MIT */
#include "crypto.h"

#include <errno.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "alloc.h"
#include "strutil.h"

struct sha256 {
        EVP_MD_CTX *ctx;
};

static const EVP_MD *sha256_md(void)
{
        /* Fetched once: EVP_sha256() goes through the provider lookup on every init. */
        static EVP_MD *md;
        if (!md)
                md = EVP_MD_fetch(NULL, "SHA256", NULL);
        if (!md)
                abort();
        return md;
}

struct sha256 *sha256_new(void)
{
        struct sha256 *h = xcalloc(1, sizeof(*h));
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex(h->ctx, sha256_md(), NULL) != 1)
                abort();
        return h;
}

void sha256_update(struct sha256 *h, const void *data, size_t len)
{
        if (len && EVP_DigestUpdate(h->ctx, data, len) != 1)
                abort();
}

void sha256_reset(struct sha256 *h)
{
        if (EVP_DigestInit_ex(h->ctx, sha256_md(), NULL) != 1)
                abort();
}

void sha256_final(struct sha256 *h, uint8_t out[SHA256_LEN])
{
        unsigned n = 0;
        if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != SHA256_LEN)
                abort();
        sha256_reset(h);
}

struct sha256 *sha256_free(struct sha256 *h)
{
        if (h) {
                EVP_MD_CTX_free(h->ctx);
                free(h);
        }
        return NULL;
}

void sha256_digest(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
        unsigned n = 0;
        if (EVP_Digest(data, len, out, &n, sha256_md(), NULL) != 1 || n != SHA256_LEN)
                abort();
}

void hex_encode(const uint8_t *data, size_t len, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[data[i] >> 4];
                out[2 * i + 1] = digits[data[i] & 15];
        }
        out[2 * len] = 0;
}

int hex_decode(const char *s, uint8_t *out, size_t len)
{
        if (strlen(s) != 2 * len)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                int hi = unhexchar(s[2 * i]), lo = unhexchar(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

static EVP_PKEY *rsa_key_from_parts(const struct rsa_public_key *key)
{
        BIGNUM *n = BN_bin2bn(key->modulus, (int) key->modulus_len, NULL);
        BIGNUM *e = BN_new();
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        EVP_PKEY_CTX *ctx = NULL;
        EVP_PKEY *pkey = NULL;

        if (n && e && bld && BN_set_word(e, key->exponent) &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) &&
            (params = OSSL_PARAM_BLD_to_param(bld)) &&
            (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) &&
            EVP_PKEY_fromdata_init(ctx) == 1)
                if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
                        pkey = NULL;
        EVP_PKEY_CTX_free(ctx);
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        BN_free(n);
        BN_free(e);
        return pkey;
}

int rsa_verify_sha256(const struct rsa_public_key *key, const uint8_t digest[SHA256_LEN],
                      const uint8_t *sig, size_t sig_len)
{
        EVP_PKEY *pkey = rsa_key_from_parts(key);
        if (!pkey)
                return -EINVAL;
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pkey, NULL);
        int r = -EINVAL;
        if (ctx && EVP_PKEY_verify_init(ctx) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
            EVP_PKEY_CTX_set_signature_md(ctx, sha256_md()) == 1)
                r = EVP_PKEY_verify(ctx, sig, sig_len, digest, SHA256_LEN) == 1 ? 0 : -EKEYREJECTED;
        EVP_PKEY_CTX_free(ctx);
        EVP_PKEY_free(pkey);
        return r;
}

int rsa_public_key_load_pem(const char *path, uint8_t **ret_modulus, size_t *ret_len,
                            uint32_t *ret_exponent, char **reterr)
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f) {
                int r = -errno;
                *reterr = xasprintf("%s: %s", path, strerror(-r));
                return r;
        }
        EVP_PKEY *pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        if (!pkey) {
                rewind(f);
                pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        }
        if (!pkey) {
                *reterr = xasprintf("%s: not a PEM RSA public or private key", path);
                return -EINVAL;
        }
        BIGNUM *n = NULL, *e = NULL;
        int r = 0;
        if (EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
            EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_RSA_E, &e) != 1 || BN_num_bits(e) > 32) {
                *reterr = xasprintf("%s: not an RSA key", path);
                r = -EINVAL;
        } else {
                size_t len = (size_t) BN_num_bytes(n);
                uint8_t *mod = xmalloc(len);
                BN_bn2bin(n, mod);
                *ret_modulus = mod;
                *ret_len = len;
                *ret_exponent = (uint32_t) BN_get_word(e);
        }
        BN_free(n);
        BN_free(e);
        EVP_PKEY_free(pkey);
        return r;
}
