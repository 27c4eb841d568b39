/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for what the downloads read from the network: chunklists
 * (parsed with every check, then used to verify the rest of the input as a
 * stream), software-update catalogs and dists, zip archives (both passes of
 * the extractor, without writing) and the recovery server's reply. The first
 * byte picks the reader.
 */
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "catalog.h"
#include "chunklist.h"
#include "recovery.h"
#include "unzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        uint8_t which = data[0] % 4;
        data++;
        size--;
        char *err = NULL;
        switch (which) {
        case 0: {
                /* A 2-byte length, the chunklist, then the "file" it protects. */
                if (size < 2)
                        break;
                size_t l = MIN((size_t) (data[0] | data[1] << 8), size - 2);
                struct chunklist *c = NULL;
                if (chunklist_parse(data + 2, l, chunklist_apple_keys, chunklist_n_apple_keys,
                                    CHUNKLIST_ALLOW_UNSIGNED | CHUNKLIST_ALLOW_BAD_SIGNATURE, &c,
                                    NULL, &err) == 0) {
                        struct chunk_verifier v;
                        chunk_verifier_init(&v, c, 0);
                        const uint8_t *p = data + 2 + l;
                        size_t left = size - 2 - l;
                        while (left > 0) {
                                size_t n = MIN(left, (size_t) 7);
                                if (chunk_verifier_feed(&v, p, n, &err) < 0)
                                        break;
                                p += n;
                                left -= n;
                        }
                        free(err);
                        err = NULL;
                        (void) chunk_verifier_finish(&v, &err);
                        chunk_verifier_release(&v);
                        chunklist_free(c);
                }
                break;
        }
        case 1: {
                struct catalog *c = NULL;
                if (catalog_parse(data, size, &c, &err) == 0)
                        catalog_free(c);
                char *s = xstrndup((const char *) data, size);
                struct catalog_product p = { 0 };
                catalog_product_set_dist(&p, s);
                free(p.version);
                free(p.build);
                free(p.title);
                free(s);
                break;
        }
        case 2: {
                struct unzip_limits lim = { .max_member = 1 << 20, .max_total = 4 << 20 };
                (void) unzip_check_memory(data, size, &lim, &err);
                break;
        }
        case 3: {
                char *s = xstrndup((const char *) data, size);
                struct recovery_info info;
                if (recovery_parse_reply(s, &info, &err) == 0)
                        recovery_info_release(&info);
                char *sc[] = { s, NULL };
                free(recovery_session_cookie(sc));
                free(s);
                break;
        }
        }
        free(err);
        return 0;
}
