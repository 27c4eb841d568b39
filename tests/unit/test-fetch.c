/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "alloc.h"
#include "assets.h"
#include "catalog.h"
#include "chunklist.h"
#include "crypto.h"
#include "recovery.h"
#include "strv.h"
#include "unzip.h"

static void put_le32(uint8_t *p, uint32_t v)
{
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

/* A method-2 (digest) chunklist for @data in chunks of @chunk bytes. */
static uint8_t *make_list(const uint8_t *data, size_t len, uint32_t chunk, size_t *ret_len)
{
        size_t n = (len + chunk - 1) / chunk;
        size_t total = 0x24 + 36 * n + 32;
        uint8_t *l = xcalloc(1, total);
        memcpy(l, "CNKL", 4);
        put_le32(l + 4, 0x24);
        l[8] = 1;
        l[9] = 1;
        l[10] = 2;
        put_le64(l + 0x0c, n);
        put_le64(l + 0x14, 0x24);
        put_le64(l + 0x1c, 0x24 + 36 * n);
        for (size_t i = 0; i < n; i++) {
                size_t sz = MIN(chunk, len - i * chunk);
                put_le32(l + 0x24 + 36 * i, (uint32_t) sz);
                sha256_digest(data + i * chunk, sz, l + 0x24 + 36 * i + 4);
        }
        sha256_digest(l, 0x24 + 36 * n, l + 0x24 + 36 * n);
        *ret_len = total;
        return l;
}

static void test_hex_and_sha(void **state)
{
        (void) state;
        uint8_t d[SHA256_LEN];
        char hex[SHA256_HEX_LEN + 1];
        sha256_digest("abc", 3, d);
        hex_encode(d, SHA256_LEN, hex);
        assert_string_equal(hex,
                            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        uint8_t back[SHA256_LEN];
        assert_int_equal(hex_decode(hex, back, SHA256_LEN), 0);
        assert_memory_equal(back, d, SHA256_LEN);
        assert_int_equal(hex_decode("zz", back, 1), -EINVAL);
        assert_int_equal(hex_decode("abc", back, 1), -EINVAL);
        /* Streaming equals one-shot, across resets. */
        struct sha256 *h = sha256_new();
        sha256_update(h, "junk", 4);
        sha256_reset(h);
        sha256_update(h, "a", 1);
        sha256_update(h, "bc", 2);
        uint8_t d2[SHA256_LEN];
        sha256_final(h, d2);
        assert_memory_equal(d, d2, SHA256_LEN);
        sha256_free(h);
}

static void test_rsa_verify(void **state)
{
        (void) state;
        EVP_PKEY *key = EVP_RSA_gen(1024);
        assert_non_null(key);
        BIGNUM *n = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
        uint8_t mod[128];
        assert_int_equal(BN_bn2binpad(n, mod, sizeof(mod)), 128);
        uint8_t digest[SHA256_LEN], sig[128];
        sha256_digest("message", 7, digest);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(key, NULL);
        size_t siglen = sizeof(sig);
        assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
        assert_int_equal(EVP_PKEY_CTX_set_rsa_padding(ctx, 1 /* RSA_PKCS1_PADDING */), 1);
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
        assert_int_equal(EVP_PKEY_sign(ctx, sig, &siglen, digest, SHA256_LEN), 1);
        struct rsa_public_key pub = { "test", mod, sizeof(mod), 65537 };
        assert_int_equal(rsa_verify_sha256(&pub, digest, sig, siglen), 0);
        sig[5] ^= 1;
        assert_int_equal(rsa_verify_sha256(&pub, digest, sig, siglen), -EKEYREJECTED);
        sig[5] ^= 1;
        digest[0] ^= 1;
        assert_int_equal(rsa_verify_sha256(&pub, digest, sig, siglen), -EKEYREJECTED);
        /* Apple's keys do not verify a test signature. */
        assert_int_equal(rsa_verify_sha256(&chunklist_apple_keys[0], digest, sig, siglen),
                         -EKEYREJECTED);
        EVP_PKEY_CTX_free(ctx);
        BN_free(n);
        EVP_PKEY_free(key);
}

static void test_chunklist(void **state)
{
        (void) state;
        uint8_t data[1000];
        for (size_t i = 0; i < sizeof(data); i++)
                data[i] = (uint8_t) (i * 7);
        size_t len;
        _cleanup_free_ uint8_t *l = make_list(data, sizeof(data), 300, &len);
        struct chunklist *c = NULL;
        char *err = NULL, *warn = NULL;

        /* Unsigned lists need the flag. */
        assert_int_equal(chunklist_parse(l, len, chunklist_apple_keys, 2, 0, &c, &warn, &err),
                         -ENOKEY);
        free(err);
        err = NULL;
        assert_int_equal(
                chunklist_parse(l, len, NULL, 0, CHUNKLIST_ALLOW_UNSIGNED, &c, &warn, &err), 0);
        assert_non_null(warn);
        free(warn);
        assert_int_equal(c->n_chunks, 4);
        assert_int_equal(c->total_size, 1000);
        assert_int_equal(chunklist_chunk_offset(c, 3), 900);

        /* The verifier, fed in odd pieces. */
        struct chunk_verifier v;
        chunk_verifier_init(&v, c, 0);
        for (size_t off = 0; off < sizeof(data); off += 77)
                assert_int_equal(
                        chunk_verifier_feed(&v, data + off, MIN(77, sizeof(data) - off), &err), 0);
        assert_int_equal(chunk_verifier_finish(&v, &err), 0);
        /* One byte too many. */
        assert_int_equal(chunk_verifier_feed(&v, "x", 1, &err), -EBADMSG);
        assert_non_null(strstr(err, "past the last chunk"));
        free(err);
        err = NULL;
        chunk_verifier_release(&v);

        /* A flipped byte names its chunk; a short stream names where it ends. */
        data[650] ^= 1;
        chunk_verifier_init(&v, c, 0);
        assert_int_equal(chunk_verifier_feed(&v, data, sizeof(data), &err), -EBADMSG);
        assert_non_null(strstr(err, "chunk 2 (bytes 600..899)"));
        free(err);
        err = NULL;
        chunk_verifier_release(&v);
        data[650] ^= 1;
        chunk_verifier_init(&v, c, 1); /* resuming at chunk 1 */
        assert_int_equal(chunk_verifier_feed(&v, data + 300, 500, &err), 0);
        assert_int_equal(chunk_verifier_finish(&v, &err), -EBADMSG);
        assert_non_null(strstr(err, "data ends at byte 800 inside chunk 2 of 4"));
        free(err);
        err = NULL;
        chunk_verifier_release(&v);
        chunklist_free(c);

        /* Header faults, each named. */
        struct {
                size_t off;
                uint8_t val;
                const char *msg;
        } faults[] = {
                { 0, 'X', "magic" },
                { 4, 0x25, "header_size" },
                { 8, 2, "file_version" },
                { 9, 2, "chunk_method" },
                { 10, 3, "signature_method" },
                { 0x0c, 5, "signature_offset" },
                { 0x14, 0x28, "chunk_offset" },
                { 0x1c, 0, "signature_offset" },
                { 0x13, 0x80, "above the limit" },
                { 0x24 + 36 * 4 + 5, 0xAA, "trailing digest" },
        };

        for (size_t i = 0; i < ELEMENTSOF(faults); i++) {
                _cleanup_free_ uint8_t *bad = xmalloc(len);
                memcpy(bad, l, len);
                bad[faults[i].off] = faults[i].val;
                assert_int_equal(chunklist_parse(bad, len, NULL, 0, CHUNKLIST_ALLOW_UNSIGNED, &c,
                                                 NULL, &err),
                                 -EBADMSG);
                if (!strstr(err, faults[i].msg))
                        fail_msg("fault %zu: '%s' lacks '%s'", i, err, faults[i].msg);
                free(err);
                err = NULL;
        }
        assert_int_equal(
                chunklist_parse(l, len - 1, NULL, 0, CHUNKLIST_ALLOW_UNSIGNED, &c, NULL, &err),
                -EBADMSG);
        free(err);
        err = NULL;
        assert_int_equal(chunklist_parse(l, 10, NULL, 0, CHUNKLIST_ALLOW_UNSIGNED, &c, NULL, &err),
                         -EBADMSG);
        free(err);
}

static void test_recovery_protocol(void **state)
{
        (void) state;
        struct rng rng;
        rng_init(&rng, "seed", "recovery");
        _cleanup_free_ char *body =
                recovery_post_body("Mac-827FAC58A8FDFA22", RECOVERY_ZERO_MLB, "default", &rng);
        _cleanup_strv_free_ char **lines = xcalloc(1, sizeof(char *));
        char *copy = xstrdup(body);
        for (char *s = strtok(copy, "\n"); s; s = strtok(NULL, "\n"))
                lines = strv_push(lines, s);
        free(copy);
        assert_int_equal(strv_length(lines), 6);
        assert_true(startswith(lines[0], "cid=") && strlen(lines[0]) == 4 + 16);
        assert_string_equal(lines[1], "sn=00000000000000000");
        assert_string_equal(lines[2], "bid=Mac-827FAC58A8FDFA22");
        assert_true(startswith(lines[3], "k=") && strlen(lines[3]) == 2 + 64);
        assert_true(startswith(lines[4], "fg=") && strlen(lines[4]) == 3 + 64);
        assert_string_equal(lines[5], "os=default");
        assert_false(endswith(body, "\n"));
        /* The same seed gives the same body. */
        struct rng rng2;
        rng_init(&rng2, "seed", "recovery");
        _cleanup_free_ char *body2 =
                recovery_post_body("Mac-827FAC58A8FDFA22", RECOVERY_ZERO_MLB, "default", &rng2);
        assert_string_equal(body, body2);

        struct recovery_info info;
        char *err = NULL;
        const char *reply =
                "AP: 091-63921\r\nAU: http://oscdn.apple.com/x/BaseSystem.dmg\nAH: F30A\n"
                "AT: expires=1~access=/x~md5=b9\nCU: http://oscdn.apple.com/x/BaseSystem.chunklist\n"
                "CH: 9B94\nCT: expires=2\nJUNK LINE\nA: b: c\n";
        assert_int_equal(recovery_parse_reply(reply, &info, &err), 0);
        assert_string_equal(info.product, "091-63921");
        assert_string_equal(info.image_token, "expires=1~access=/x~md5=b9");
        assert_string_equal(info.chunklist_url, "http://oscdn.apple.com/x/BaseSystem.chunklist");
        recovery_info_release(&info);
        assert_int_equal(recovery_parse_reply("AP: 1\nAU: http://x/a.dmg\n", &info, &err),
                         -EBADMSG);
        assert_non_null(strstr(err, "\"AH\""));
        free(err);
        err = NULL;
        assert_int_equal(
                recovery_parse_reply(
                        "AP: 1\nAU: file:///etc/a.dmg\nAH: 1\nAT: 1\nCU: http://x\nCH: 1\nCT: 1\n",
                        &info, &err),
                -EBADMSG);
        free(err);

        char *sc[] = { (char *) "other=1; Path=/", (char *) "a=b; session=123~ABC; HttpOnly",
                       NULL };
        _cleanup_free_ char *cookie = recovery_session_cookie(sc);
        assert_string_equal(cookie, "session=123~ABC");
        char *none[] = { (char *) "sessionx=1", (char *) "session=", NULL };
        assert_null(recovery_session_cookie(none));
}

static void test_targets(void **state)
{
        (void) state;
        const char *dir = getenv("DARWINKVM_DATA_DIR");
        assert_non_null(dir);
        struct recovery_target t;
        char *err = NULL;
        assert_int_equal(recovery_target_resolve(dir, "sonoma", &t, &err), 0);
        assert_string_equal(t.board_id, "Mac-827FAC58A8FDFA22");
        assert_string_equal(t.os, "default");
        recovery_target_release(&t);
        assert_int_equal(recovery_target_resolve(dir, "10.13.6", &t, &err), 0);
        assert_string_equal(t.mlb, "00000000000J80300");
        recovery_target_release(&t);
        assert_int_equal(recovery_target_resolve(dir, "26", &t, &err), 0);
        assert_string_equal(t.os, "latest");
        recovery_target_release(&t);
        assert_int_equal(recovery_target_resolve(dir, "1", &t, &err), -ENOENT);
        free(err);
}

static void test_unzip_names(void **state)
{
        (void) state;
        assert_true(unzip_name_is_safe("a"));
        assert_true(unzip_name_is_safe("X64/EFI/OC/"));
        assert_true(unzip_name_is_safe("a/..b/c"));
        assert_false(unzip_name_is_safe(""));
        assert_false(unzip_name_is_safe("/etc/passwd"));
        assert_false(unzip_name_is_safe("a/../b"));
        assert_false(unzip_name_is_safe(".."));
        assert_false(unzip_name_is_safe("a//b"));
        assert_false(unzip_name_is_safe("./a"));
        assert_false(unzip_name_is_safe("a\\..\\b"));
        char *err = NULL;
        assert_int_equal(unzip_check_memory("PK\3\4garbage", 11, NULL, &err), -EBADMSG);
        free(err);
}

static void test_catalog_dist(void **state)
{
        (void) state;
        struct catalog_product p = { 0 };
        catalog_product_set_dist(&p, "<installer-gui-script><title>SU_TITLE</title><auxinfo><dict>"
                                     "<key>BUILD</key><string>19H15</string><key>VERSION</key>"
                                     "<string>10.15.7</string></dict></auxinfo>");
        assert_string_equal(p.version, "10.15.7");
        assert_string_equal(p.build, "19H15");
        assert_string_equal(p.title, "SU_TITLE");
        catalog_product_set_dist(&p,
                                 "<auxinfo><key>macOSProductVersion</key>\n<string>26.2</string>"
                                 "<key>macOSProductBuildVersion</key><string>25C56</string>"
                                 "<key>VERSION</key><string>x</string></auxinfo>");
        assert_string_equal(p.version, "26.2");
        assert_string_equal(p.build, "25C56");
        free(p.version);
        free(p.build);
        free(p.title);
        const char *xml =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\"><dict>"
                "<key>Products</key><dict><key>001</key><dict><key>ExtendedMetaInfo</key>"
                "<dict><key>InstallAssistantPackageIdentifiers</key><dict><key>a</key>"
                "<string>b</string></dict></dict><key>Packages</key><array><dict>"
                "<key>URL</key><string>https://x/InstallAssistant.pkg</string>"
                "<key>Size</key><integer>5</integer></dict></array></dict>"
                "<key>002</key><dict/></dict></dict></plist>";
        struct catalog *c = NULL;
        char *err = NULL;
        assert_int_equal(catalog_parse(xml, strlen(xml), &c, &err), 0);
        assert_int_equal(c->n, 1);
        assert_string_equal(c->products[0].id, "001");
        assert_int_equal(c->products[0].pkg_size, 5);
        catalog_free(c);
        assert_int_equal(catalog_parse("<plist version=\"1.0\"><array/></plist>", 37, &c, &err),
                         -EBADMSG);
        free(err);
}

static void test_asset_url(void **state)
{
        (void) state;
        struct asset a = {
                .name = (char *) "Lilu",
                .version = (char *) "1.7.1",
                .url = (char *) "https://github.com/acidanthera/Lilu/releases/download/1.7.1/Lilu-1.7.1-RELEASE.zip"
        };
        _cleanup_free_ char *f = asset_file_name(&a);
        assert_string_equal(f, "Lilu-1.7.1-RELEASE.zip");
        _cleanup_free_ char *u = asset_url(&a, "http://127.0.0.1:8080/mirror/");
        assert_string_equal(u, "http://127.0.0.1:8080/mirror/Lilu-1.7.1-RELEASE.zip");
        _cleanup_free_ char *same = asset_url(&a, NULL);
        assert_string_equal(same, a.url);
        /* The shipped table loads and pins nothing it cannot check. */
        const char *dir = getenv("DARWINKVM_DATA_DIR");
        _cleanup_free_ char *path = xasprintf("%s/assets.tsv", dir);
        struct asset_table *t = NULL;
        char *err = NULL;
        assert_int_equal(asset_table_load(path, &t, &err), 0);
        assert_non_null(asset_find(t, "opencorepkg"));
        assert_non_null(asset_find(t, "VMHide"));
        asset_table_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hex_and_sha),  cmocka_unit_test(test_rsa_verify),
                cmocka_unit_test(test_chunklist),    cmocka_unit_test(test_recovery_protocol),
                cmocka_unit_test(test_targets),      cmocka_unit_test(test_unzip_names),
                cmocka_unit_test(test_catalog_dist), cmocka_unit_test(test_asset_url),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
