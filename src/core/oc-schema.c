/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "opencore.h"
#include "strutil.h"
#include "strv.h"
#include "tsv.h"

int oc_version_compare(const char *a, const char *b)
{
        for (;;) {
                char *ea, *eb;
                unsigned long x = strtoul(a, &ea, 10), y = strtoul(b, &eb, 10);
                if (x != y)
                        return x < y ? -1 : 1;
                bool more_a = *ea == '.', more_b = *eb == '.';
                if (!more_a && !more_b)
                        return 0;
                a = more_a ? ea + 1 : ea;
                b = more_b ? eb + 1 : eb;
        }
}

long oc_kernel_version_parse(const char *s)
{
        if (!*s)
                return 0;
        long parts[3] = { 0, 0, 0 };
        int n = 0;
        const char *p = s;
        while (n < 3) {
                if (*p < '0' || *p > '9')
                        return -1;
                long v = 0;
                while (*p >= '0' && *p <= '9') {
                        v = v * 10 + (*p++ - '0');
                        if (v > 99)
                                return -1;
                }
                parts[n++] = v;
                if (!*p)
                        break;
                if (*p != '.')
                        return -1;
                p++;
        }
        if (*p)
                return -1;
        return parts[0] * 10000 + parts[1] * 100 + parts[2];
}

int oc_pinned_version(const char *data_dir, char **ret, char **reterr)
{
        _cleanup_free_ char *path = xasprintf("%s/assets.tsv", data_dir);
        _cleanup_(tsv_freep) struct tsv *t = NULL;
        int r = tsv_load(path, 1u << 20, &t, reterr);
        if (r < 0)
                return r;
        int name = tsv_column(t, "name"), version = tsv_column(t, "version");
        for (size_t i = 0; i < t->n_rows && name >= 0 && version >= 0; i++)
                if (streq(tsv_field(t, i, name), "OpenCorePkg")) {
                        *ret = xstrdup(tsv_field(t, i, version));
                        return 0;
                }
        *reterr = xasprintf("%s: no row OpenCorePkg with a version column", path);
        return -ENOENT;
}

/* ---- schema ---- */

static void key_free(struct oc_key *k)
{
        for (size_t i = 0; i < k->n_children; i++) {
                key_free(k->children[i]);
                free(k->children[i]);
        }
        free(k->children);
        free(k->name);
}

struct oc_schema *oc_schema_free(struct oc_schema *s)
{
        if (!s)
                return NULL;
        key_free(&s->root);
        free(s->version);
        tsv_free(s->tsv);
        free(s);
        return NULL;
}

const struct oc_key *oc_key_child(const struct oc_key *k, const char *name)
{
        if (!k)
                return NULL;
        for (size_t i = 0; i < k->n_children; i++)
                if (streq(k->children[i]->name, name))
                        return k->children[i];
        return NULL;
}

static struct oc_key *key_add(struct oc_key *parent, const char *name)
{
        parent->children =
                xreallocarray(parent->children, parent->n_children + 1, sizeof(struct oc_key *));
        struct oc_key *k = xcalloc(1, sizeof(*k));
        k->name = xstrdup(name);
        parent->children[parent->n_children++] = k;
        return k;
}

/* "ACPI > Add[]" -> the ACPI.Add key (whose children are the entry fields). */
static struct oc_key *section_find(struct oc_key *root, const char *section)
{
        if (streq(section, "(root)"))
                return root;
        _cleanup_strv_free_ char **parts = strv_split(section, " > ");
        struct oc_key *cur = root;
        for (size_t i = 0; parts && parts[i]; i++) {
                char *p = parts[i];
                size_t l = strlen(p);
                if (l > 2 && streq(p + l - 2, "[]"))
                        p[l - 2] = 0;
                cur = (struct oc_key *) oc_key_child(cur, p);
                if (!cur)
                        return NULL;
        }
        return cur;
}

static unsigned parse_bits(const char *doc_type)
{
        const char *b = strstr(doc_type, "bit");
        if (!b)
                return 0;
        const char *p = b;
        while (p > doc_type && (p[-1] == ' ' || p[-1] == '-'))
                p--;
        while (p > doc_type && p[-1] >= '0' && p[-1] <= '9')
                p--;
        return (unsigned) atoi(p);
}

static size_t parse_fixed_len(const char *doc_type)
{
        const char *b = strstr(doc_type, "byte");
        if (!b)
                return 0;
        const char *p = b;
        while (p > doc_type && p[-1] == ' ')
                p--;
        while (p > doc_type && p[-1] >= '0' && p[-1] <= '9')
                p--;
        return (size_t) atoi(p);
}

int oc_schema_load(const char *data_dir, const char *version, struct oc_schema **ret, char **reterr)
{
        _cleanup_free_ char *path = xasprintf("%s/oc-config-keys.tsv", data_dir);
        _cleanup_(tsv_freep) struct tsv *t = NULL;
        int r = tsv_load(path, 4u << 20, &t, reterr);
        if (r < 0)
                return r;
        static const char *const cols[] = { "section_path",
                                            "key",
                                            "schema_type",
                                            "doc_type",
                                            "sample_value(Sample.plist)",
                                            "code_default(OcConfigurationLib.h)",
                                            "optional",
                                            "note",
                                            NULL };
        r = tsv_require_columns(t, cols, reterr);
        if (r < 0)
                return r;
        int c[8];
        for (size_t i = 0; i < 8; i++)
                c[i] = tsv_column(t, cols[i]);
        _cleanup_(oc_schema_freep) struct oc_schema *s = xcalloc(1, sizeof(*s));
        s->version = xstrdup(version);
        s->root.name = xstrdup("(root)");
        s->root.kind = OC_KIND_DICT;
        for (size_t i = 0; i < t->n_rows; i++) {
                const char *section = tsv_field(t, i, c[0]), *name = tsv_field(t, i, c[1]);
                const char *type = tsv_field(t, i, c[2]), *doc = tsv_field(t, i, c[3]);
                const char *note = tsv_field(t, i, c[7]);
                const char *added = strstr(note, "new in ");
                if (added) {
                        _cleanup_free_ char *v = xstrdup(added + 7);
                        v[strcspn(v, " ;,)")] = 0;
                        if (oc_version_compare(version, v) < 0)
                                continue; /* not in the pinned release */
                }
                struct oc_key *parent = section_find(&s->root, section);
                if (!parent) {
                        *reterr = xasprintf("%s: line %u: section \"%s\" is not defined above",
                                            path, t->lines[i], section);
                        return -EBADMSG;
                }
                struct oc_key *k = key_add(parent, name);
                k->sample = tsv_field(t, i, c[4]);
                k->deflt = tsv_field(t, i, c[5]);
                k->optional = streq(tsv_field(t, i, c[6]), "yes");
                if (startswith(type, "dict(map)")) {
                        k->kind = OC_KIND_MAP;
                        k->map_of_arrays = strstr(type, "-> array of string") != NULL;
                } else if (startswith(type, "dict"))
                        k->kind = OC_KIND_DICT;
                else if (streq(type, "array of dict"))
                        k->kind = OC_KIND_ARRAY_DICT;
                else if (streq(type, "array of string"))
                        k->kind = OC_KIND_ARRAY_STRING;
                else {
                        k->kind = OC_KIND_SCALAR;
                        if (streq(type, "boolean"))
                                k->type = PL_BOOL;
                        else if (streq(type, "integer")) {
                                k->type = PL_INTEGER;
                                k->int_bits = parse_bits(doc);
                        } else if (streq(type, "string"))
                                k->type = PL_STRING;
                        else if (streq(type, "data") || streq(type, "data(fixed)") ||
                                 streq(type, "multidata(fixed)")) {
                                k->type = PL_DATA;
                                k->multidata = startswith(type, "multi");
                                if (strstr(type, "(fixed)"))
                                        k->fixed_len = parse_fixed_len(doc);
                        } else {
                                *reterr = xasprintf("%s: line %u: unknown schema type \"%s\"", path,
                                                    t->lines[i], type);
                                return -EBADMSG;
                        }
                }
        }
        s->tsv = TAKE_PTR(t);
        *ret = TAKE_PTR(s);
        return 0;
}

/* Sample.plist / code default text to a value of the key's type. */
static struct pl_node *value_from_schema_text(const struct oc_key *k, const char *text)
{
        if (startswith(text, "e.g. "))
                text += 5;
        switch (k->type) {
        case PL_BOOL:
                return pl_new_bool(streq(text, "true"));
        case PL_INTEGER: {
                if (strstr(text, "-1"))
                        return pl_new_integer(-1);
                char *end;
                long long v = strtoll(text, &end, 0);
                if (end == text)
                        v = 0;
                return pl_new_integer(v);
        }
        case PL_STRING: {
                size_t l = strlen(text);
                if (l >= 2 && text[0] == '"' && text[l - 1] == '"')
                        return pl_new_string_n(text + 1, l - 2);
                return pl_new_string("");
        }
        case PL_DATA: {
                size_t l = strlen(text);
                if (startswith(text, "all zero") || startswith(text, "0 (")) {
                        uint8_t zero[64] = { 0 };
                        return pl_new_data(zero, MIN(k->fixed_len, sizeof(zero)));
                }
                if (l >= 2 && text[0] == '<' && text[l - 1] == '>' && !strchr(text, ' ')) {
                        _cleanup_free_ char *hex = xstrndup(text + 1, l - 2);
                        struct pl_node *n = NULL;
                        char *err = NULL;
                        if (pl_value_from_text(PL_DATA, *hex ? hex : "hex:", &n, &err) == 0)
                                return n;
                        free(err);
                }
                return pl_new_data(NULL, 0);
        }
        default:
                return pl_new_string("");
        }
}

struct pl_node *oc_key_default(const struct oc_key *k, bool entry)
{
        switch (k->kind) {
        case OC_KIND_DICT: {
                struct pl_node *d = pl_new_dict();
                for (size_t i = 0; i < k->n_children; i++)
                        if (!k->children[i]->optional)
                                pl_dict_set(d, k->children[i]->name,
                                            oc_key_default(k->children[i], entry));
                return d;
        }
        case OC_KIND_MAP:
                return pl_new_dict();
        case OC_KIND_ARRAY_DICT:
        case OC_KIND_ARRAY_STRING:
                return pl_new_array();
        default: {
                const char *text = entry || startswith(k->sample, "(absent") || !*k->sample
                                           ? k->deflt
                                           : k->sample;
                return value_from_schema_text(k, text);
        }
        }
}

struct pl_node *oc_entry_new(const struct oc_schema *s, const char *array_path)
{
        const struct oc_key *k = section_find((struct oc_key *) &s->root, array_path);
        struct pl_node *d = pl_new_dict();
        for (size_t i = 0; k && i < k->n_children; i++)
                pl_dict_set(d, k->children[i]->name, oc_key_default(k->children[i], true));
        return d;
}

int oc_schema_load_pinned(const char *data_dir, struct oc_schema **ret, char **reterr)
{
        _cleanup_free_ char *version = NULL;
        int r = oc_pinned_version(data_dir, &version, reterr);
        return r < 0 ? r : oc_schema_load(data_dir, version, ret, reterr);
}
