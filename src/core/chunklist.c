/* SPDX-License-Identifier: MIT */
#include "chunklist.h"

#include <errno.h>
#include <inttypes.h>

#include "alloc.h"

static const uint8_t apple_key1[256] = {
#include "chunklist-key1.inc"
};
static const uint8_t apple_key2[256] = {
#include "chunklist-key2.inc"
};

const struct rsa_public_key chunklist_apple_keys[] = {
        { "Apple EFI ROM key 1", apple_key1, sizeof(apple_key1), 65537 },
        { "Apple EFI ROM key 2", apple_key2, sizeof(apple_key2), 65537 },
};
const size_t chunklist_n_apple_keys = ELEMENTSOF(chunklist_apple_keys);

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
               (uint32_t) p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
        return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}

struct chunklist *chunklist_free(struct chunklist *c)
{
        if (c) {
                free(c->chunks);
                free(c);
        }
        return NULL;
}

static int bad(char **reterr, const char *what)
{
        *reterr = xasprintf("chunklist: %s", what);
        return -EBADMSG;
}

int chunklist_parse(const uint8_t *data, size_t len, const struct rsa_public_key *keys,
                    size_t n_keys, unsigned flags, struct chunklist **ret, char **ret_warning,
                    char **reterr)
{
        if (len < CHUNKLIST_HEADER_SIZE)
                return bad(reterr, "shorter than its 36-byte header");
        if (memcmp(data, "CNKL", 4) != 0)
                return bad(reterr, "magic is not \"CNKL\"");
        if (le32(data + 4) != CHUNKLIST_HEADER_SIZE)
                return bad(reterr, "header_size is not 0x24");
        if (data[8] != 1)
                return bad(reterr, "file_version is not 1");
        if (data[9] != 1)
                return bad(reterr, "chunk_method is not 1 (SHA-256)");
        uint8_t method = data[10];
        if (method != CHUNKLIST_SIGNED_RSA && method != CHUNKLIST_DIGEST_ONLY)
                return bad(reterr, "signature_method is neither 1 (RSA) nor 2 (digest)");
        uint64_t count = le64(data + 0x0C), chunk_off = le64(data + 0x14),
                 sig_off = le64(data + 0x1C);
        if (count == 0)
                return bad(reterr, "chunk_count is 0");
        if (count > CHUNKLIST_MAX_CHUNKS) {
                *reterr = xasprintf("chunklist: chunk_count %" PRIu64 " is above the limit %u",
                                    count, CHUNKLIST_MAX_CHUNKS);
                return -EBADMSG;
        }
        if (chunk_off != CHUNKLIST_HEADER_SIZE)
                return bad(reterr, "chunk_offset is not 0x24");
        /* count is capped above, so this cannot overflow. */
        uint64_t want_sig_off = chunk_off + CHUNKLIST_ENTRY_SIZE * count;
        if (sig_off != want_sig_off) {
                *reterr = xasprintf("chunklist: signature_offset is %" PRIu64 ", expected %" PRIu64
                                    " for %" PRIu64 " chunks",
                                    sig_off, want_sig_off, count);
                return -EBADMSG;
        }
        uint64_t trailer = method == CHUNKLIST_SIGNED_RSA ? CHUNKLIST_SIG_SIZE : SHA256_LEN;
        if ((uint64_t) len != sig_off + trailer) {
                *reterr = xasprintf("chunklist: file is %zu bytes, expected %" PRIu64 " (%" PRIu64
                                    " chunks and a %" PRIu64 "-byte trailer)",
                                    len, sig_off + trailer, count, trailer);
                return -EBADMSG;
        }

        uint8_t h[SHA256_LEN];
        sha256_digest(data, sig_off, h);
        const char *key_name = NULL;
        _cleanup_free_ char *warning = NULL;
        if (method == CHUNKLIST_DIGEST_ONLY) {
                if (memcmp(h, data + sig_off, SHA256_LEN) != 0)
                        return bad(reterr, "the trailing digest does not match the list");
                if (!(flags & CHUNKLIST_ALLOW_UNSIGNED)) {
                        *reterr = xstrdup("chunklist: not signed (method 2, a bare digest): "
                                          "its origin cannot be checked");
                        return -ENOKEY;
                }
                warning = xstrdup("the chunklist is NOT signed: only its integrity is checked, "
                                  "not where it came from");
        } else {
                /* The signature is stored as a little-endian integer. */
                uint8_t sig[CHUNKLIST_SIG_SIZE];
                for (size_t i = 0; i < CHUNKLIST_SIG_SIZE; i++)
                        sig[i] = data[sig_off + CHUNKLIST_SIG_SIZE - 1 - i];
                for (size_t i = 0; i < n_keys && !key_name; i++)
                        if (rsa_verify_sha256(&keys[i], h, sig, sizeof(sig)) == 0)
                                key_name = keys[i].name;
                if (!key_name) {
                        if (!(flags & CHUNKLIST_ALLOW_BAD_SIGNATURE)) {
                                *reterr = xasprintf("chunklist: the RSA signature matches none "
                                                    "of the %zu trusted key(s)",
                                                    n_keys);
                                return -EKEYREJECTED;
                        }
                        warning = xstrdup("the chunklist signature matches NO trusted key: "
                                          "the image may not come from Apple");
                }
        }

        struct chunklist *c = xcalloc(1, sizeof(*c));
        c->method = method;
        c->n_chunks = count;
        c->key_name = key_name;
        c->chunks = xcalloc(count, sizeof(*c->chunks));
        for (uint64_t i = 0; i < count; i++) {
                const uint8_t *e = data + chunk_off + CHUNKLIST_ENTRY_SIZE * i;
                c->chunks[i].size = le32(e);
                memcpy(c->chunks[i].sha256, e + 4, SHA256_LEN);
                if (c->chunks[i].size == 0) {
                        chunklist_free(c);
                        *reterr = xasprintf("chunklist: chunk %" PRIu64 " has size 0", i);
                        return -EBADMSG;
                }
                c->total_size += c->chunks[i].size;
        }
        *ret = c;
        if (ret_warning)
                *ret_warning = TAKE_PTR(warning);
        return 0;
}

uint64_t chunklist_chunk_offset(const struct chunklist *c, uint64_t i)
{
        uint64_t off = 0;
        for (uint64_t k = 0; k < i && k < c->n_chunks; k++)
                off += c->chunks[k].size;
        return off;
}

void chunk_verifier_init(struct chunk_verifier *v, const struct chunklist *list,
                         uint64_t first_chunk)
{
        *v = (struct chunk_verifier){
                .list = list,
                .hash = sha256_new(),
                .chunk = first_chunk,
                .offset = chunklist_chunk_offset(list, first_chunk),
        };
}

void chunk_verifier_release(struct chunk_verifier *v)
{
        v->hash = sha256_free(v->hash);
}

int chunk_verifier_feed(struct chunk_verifier *v, const void *data, size_t len, char **reterr)
{
        const uint8_t *p = data;
        while (len > 0) {
                if (v->chunk >= v->list->n_chunks) {
                        *reterr = xasprintf("data continues past the last chunk (%" PRIu64
                                            " chunks, %" PRIu64 " bytes)",
                                            v->list->n_chunks, v->list->total_size);
                        return -EBADMSG;
                }
                const struct chunklist_entry *e = &v->list->chunks[v->chunk];
                size_t n = MIN(len, (size_t) (e->size - v->in_chunk));
                sha256_update(v->hash, p, n);
                v->in_chunk += (uint32_t) n;
                v->offset += n;
                p += n;
                len -= n;
                if (v->in_chunk == e->size) {
                        uint8_t h[SHA256_LEN];
                        sha256_final(v->hash, h);
                        if (memcmp(h, e->sha256, SHA256_LEN) != 0) {
                                char got[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1];
                                hex_encode(h, SHA256_LEN, got);
                                hex_encode(e->sha256, SHA256_LEN, want);
                                *reterr = xasprintf("chunk %" PRIu64 " (bytes %" PRIu64 "..%" PRIu64
                                                    ") has SHA-256 %s, the "
                                                    "chunklist says %s",
                                                    v->chunk, v->offset - e->size, v->offset - 1,
                                                    got, want);
                                return -EBADMSG;
                        }
                        v->chunk++;
                        v->in_chunk = 0;
                }
        }
        return 0;
}

int chunk_verifier_finish(const struct chunk_verifier *v, char **reterr)
{
        if (v->chunk < v->list->n_chunks) {
                *reterr = xasprintf("data ends at byte %" PRIu64 " inside chunk %" PRIu64
                                    " of %" PRIu64 "; the chunklist covers %" PRIu64 " bytes",
                                    v->offset, v->chunk, v->list->n_chunks, v->list->total_size);
                return -EBADMSG;
        }
        return 0;
}
