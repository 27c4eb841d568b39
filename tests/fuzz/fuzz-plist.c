/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer harness for the property-list paths: the XML reader and the binary
 * pre-scan + libplist, the canonical writer (whatever parses must serialise, and
 * serialising what we wrote must give the same bytes), paths taken from the input,
 * and the OpenCore checker on whatever parsed. The first byte picks the mode.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "config.h"
#include "opencore.h"
#include "plist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct oc_schema *schema;

static const struct oc_schema *get_schema(void)
{
        if (!schema) {
                const char *dir = getenv("DARWINKVM_DATA_DIR");
                char *err = NULL;
                if (oc_schema_load_pinned(dir ? dir : DKVM_SOURCE_DATADIR, &schema, &err) < 0)
                        abort();
        }
        return schema;
}

/* Writing what parsed never fails unless XML cannot carry it; re-reading gives it back. */
static void roundtrip(const struct pl_node *n, enum pl_format f)
{
        char *out = NULL, *err = NULL;
        size_t len;
        if (pl_serialize(n, f, &out, &len, &err) < 0) {
                free(err);
                return;
        }
        struct pl_node *back = NULL;
        if (pl_parse(out, len, "roundtrip", &back, NULL, &err) < 0)
                abort();
        if (!pl_equal(n, back))
                abort();
        char *again = NULL;
        size_t len2;
        if (pl_serialize(back, f, &again, &len2, &err) < 0 || len2 != len ||
            memcmp(out, again, len) != 0)
                abort();
        free(again);
        pl_free(back);
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        uint8_t mode = data[0] % 4;
        const char *text = (const char *) data + 1;
        size_t n = size - 1;
        struct pl_node *root = NULL;
        char *err = NULL;
        if (mode == 3) {
                /* "PATH\n" then a document: path operations on it. */
                const char *nl = memchr(text, '\n', n);
                if (!nl)
                        return 0;
                char *path = xstrndup(text, (size_t) (nl - text));
                if (pl_parse(nl + 1, n - (size_t) (nl + 1 - text), "fuzz", &root, NULL, &err) ==
                    0) {
                        struct pl_node *v = NULL;
                        if (pl_path_get(root, path, &v, &err) == 0) {
                                char *t = pl_value_to_text(v);
                                free(t);
                        }
                        free(err);
                        err = NULL;
                        (void) pl_path_set(root, path, pl_new_integer(1), &err);
                        free(err);
                        err = NULL;
                        (void) pl_path_add(root, path, pl_new_bool(true), &err);
                        free(err);
                        err = NULL;
                        (void) pl_path_delete(root, path, &err);
                        roundtrip(root, PL_FORMAT_XML);
                        pl_free(root);
                }
                free(err);
                free(path);
                return 0;
        }
        if (pl_parse(text, n, "fuzz", &root, NULL, &err) < 0) {
                if (!err || strchr(err, '\n'))
                        abort(); /* every failure is one line */
                free(err);
                return 0;
        }
        if (mode == 0)
                roundtrip(root, PL_FORMAT_XML);
        else if (mode == 1)
                roundtrip(root, PL_FORMAT_BINARY);
        else {
                struct oc_findings f = { 0 };
                struct oc_validate_options o = { .macos = "14", .host_avx2 = -1 };
                oc_validate(get_schema(), root, &o, &f);
                oc_findings_release(&f);
        }
        pl_free(root);
        return 0;
}
