/* SPDX-License-Identifier: MIT */
#include "plist.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"
#include "strutil.h"

struct pl_node {
        enum pl_type type;
        bool str_inline; /* str points into this allocation (one malloc per string node) */

        union {
                char *str;
                int64_t integer;
                bool boolean;

                struct {
                        uint8_t *p;
                        size_t len;
                } data;

                int64_t date;
                double real;

                struct {
                        char **keys;
                        struct pl_node **values;
                        size_t n, cap;
                        uint32_t *slots; /* open addressing: index + 1, 0 = empty */
                        size_t n_slots;
                } dict;

                struct {
                        struct pl_node **items;
                        size_t n, cap;
                } array;
        };
};

/* Dictionaries get a hash index from this many keys on (the catalog has thousands). */
#define DICT_HASH_MIN 12

static const char *const type_names[_PL_TYPE_MAX] = {
        [PL_STRING] = "string", [PL_INTEGER] = "integer", [PL_BOOL] = "bool", [PL_DATA] = "data",
        [PL_DATE] = "date",     [PL_REAL] = "real",       [PL_DICT] = "dict", [PL_ARRAY] = "array",
};

const char *pl_type_to_string(enum pl_type t)
{
        return t >= 0 && t < _PL_TYPE_MAX ? type_names[t] : "unknown";
}

int pl_type_from_string(const char *s)
{
        for (int t = 0; t < _PL_TYPE_MAX; t++)
                if (streq(s, type_names[t]))
                        return t;
        if (streq(s, "boolean"))
                return PL_BOOL;
        if (streq(s, "int") || streq(s, "number"))
                return PL_INTEGER;
        return -1;
}

const char *pl_format_to_string(enum pl_format f)
{
        return f == PL_FORMAT_BINARY ? "binary" : "xml";
}

int pl_format_from_string(const char *s)
{
        if (streq(s, "xml"))
                return PL_FORMAT_XML;
        if (streq(s, "binary") || streq(s, "bin"))
                return PL_FORMAT_BINARY;
        return -1;
}

/* ---- nodes ---- */

static struct pl_node *node_new(enum pl_type t)
{
        struct pl_node *n = xcalloc(1, sizeof(*n));
        n->type = t;
        return n;
}

struct pl_node *pl_new_string_n(const char *s, size_t len)
{
        struct pl_node *n = xmalloc(sizeof(*n) + len + 1);
        memset(n, 0, sizeof(*n));
        n->type = PL_STRING;
        n->str_inline = true;
        n->str = (char *) (n + 1);
        memcpy(n->str, s, len);
        n->str[len] = 0;
        return n;
}

struct pl_node *pl_new_string(const char *s)
{
        return pl_new_string_n(s, strlen(s));
}

struct pl_node *pl_new_integer(int64_t v)
{
        struct pl_node *n = node_new(PL_INTEGER);
        n->integer = v;
        return n;
}

struct pl_node *pl_new_bool(bool v)
{
        struct pl_node *n = node_new(PL_BOOL);
        n->boolean = v;
        return n;
}

struct pl_node *pl_new_data(const void *p, size_t len)
{
        struct pl_node *n = node_new(PL_DATA);
        n->data.p = xmalloc(len + 1);
        if (len > 0)
                memcpy(n->data.p, p, len);
        n->data.p[len] = 0;
        n->data.len = len;
        return n;
}

struct pl_node *pl_new_date(int64_t unix_seconds)
{
        struct pl_node *n = node_new(PL_DATE);
        n->date = unix_seconds;
        return n;
}

struct pl_node *pl_new_real(double v)
{
        struct pl_node *n = node_new(PL_REAL);
        n->real = v;
        return n;
}

struct pl_node *pl_new_dict(void)
{
        return node_new(PL_DICT);
}

struct pl_node *pl_new_array(void)
{
        return node_new(PL_ARRAY);
}

static void node_clear(struct pl_node *n)
{
        switch (n->type) {
        case PL_STRING:
                if (!n->str_inline)
                        free(n->str);
                break;
        case PL_DATA:
                free(n->data.p);
                break;
        case PL_DICT:
                for (size_t i = 0; i < n->dict.n; i++) {
                        free(n->dict.keys[i]);
                        pl_free(n->dict.values[i]);
                }
                free(n->dict.keys);
                free(n->dict.values);
                free(n->dict.slots);
                break;
        case PL_ARRAY:
                for (size_t i = 0; i < n->array.n; i++)
                        pl_free(n->array.items[i]);
                free(n->array.items);
                break;
        default:
                break;
        }
        enum pl_type t = n->type;
        memset(n, 0, sizeof(*n));
        n->type = t;
}

struct pl_node *pl_free(struct pl_node *n)
{
        if (!n)
                return NULL;
        node_clear(n);
        free(n);
        return NULL;
}

struct pl_node *pl_copy(const struct pl_node *n)
{
        if (!n)
                return NULL;
        switch (n->type) {
        case PL_STRING:
                return pl_new_string(n->str);
        case PL_DATA:
                return pl_new_data(n->data.p, n->data.len);
        case PL_DICT: {
                struct pl_node *d = pl_new_dict();
                for (size_t i = 0; i < n->dict.n; i++)
                        pl_dict_set(d, n->dict.keys[i], pl_copy(n->dict.values[i]));
                return d;
        }
        case PL_ARRAY: {
                struct pl_node *a = pl_new_array();
                for (size_t i = 0; i < n->array.n; i++)
                        pl_array_append(a, pl_copy(n->array.items[i]));
                return a;
        }
        default: {
                struct pl_node *c = node_new(n->type);
                *c = *n;
                return c;
        }
        }
}

enum pl_type pl_type(const struct pl_node *n)
{
        return n->type;
}

bool pl_is(const struct pl_node *n, enum pl_type t)
{
        return n && n->type == t;
}

bool pl_equal(const struct pl_node *a, const struct pl_node *b)
{
        if (!a || !b)
                return a == b;
        if (a->type != b->type)
                return false;
        switch (a->type) {
        case PL_STRING:
                return streq(a->str, b->str);
        case PL_INTEGER:
                return a->integer == b->integer;
        case PL_BOOL:
                return a->boolean == b->boolean;
        case PL_DATA:
                return a->data.len == b->data.len &&
                       (a->data.len == 0 || memcmp(a->data.p, b->data.p, a->data.len) == 0);
        case PL_DATE:
                return a->date == b->date;
        case PL_REAL:
                return a->real == b->real || (isnan(a->real) && isnan(b->real));
        case PL_DICT:
                if (a->dict.n != b->dict.n)
                        return false;
                for (size_t i = 0; i < a->dict.n; i++)
                        if (!streq(a->dict.keys[i], b->dict.keys[i]) ||
                            !pl_equal(a->dict.values[i], b->dict.values[i]))
                                return false;
                return true;
        case PL_ARRAY:
                if (a->array.n != b->array.n)
                        return false;
                for (size_t i = 0; i < a->array.n; i++)
                        if (!pl_equal(a->array.items[i], b->array.items[i]))
                                return false;
                return true;
        default:
                return false;
        }
}

const char *pl_string(const struct pl_node *n)
{
        return pl_is(n, PL_STRING) ? n->str : NULL;
}

bool pl_get_integer(const struct pl_node *n, int64_t *ret)
{
        if (!pl_is(n, PL_INTEGER))
                return false;
        *ret = n->integer;
        return true;
}

bool pl_get_bool(const struct pl_node *n, bool *ret)
{
        if (!pl_is(n, PL_BOOL))
                return false;
        *ret = n->boolean;
        return true;
}

const uint8_t *pl_data(const struct pl_node *n, size_t *ret_len)
{
        if (!pl_is(n, PL_DATA)) {
                *ret_len = 0;
                return NULL;
        }
        *ret_len = n->data.len;
        return n->data.p;
}

bool pl_get_date(const struct pl_node *n, int64_t *ret)
{
        if (!pl_is(n, PL_DATE))
                return false;
        *ret = n->date;
        return true;
}

bool pl_get_real(const struct pl_node *n, double *ret)
{
        if (!pl_is(n, PL_REAL))
                return false;
        *ret = n->real;
        return true;
}

void pl_set_string(struct pl_node *n, const char *s)
{
        char *copy = xstrdup(s);
        node_clear(n);
        n->type = PL_STRING;
        n->str = copy;
}

void pl_set_integer(struct pl_node *n, int64_t v)
{
        node_clear(n);
        n->type = PL_INTEGER;
        n->integer = v;
}

void pl_set_bool(struct pl_node *n, bool v)
{
        node_clear(n);
        n->type = PL_BOOL;
        n->boolean = v;
}

void pl_set_data(struct pl_node *n, const void *p, size_t len)
{
        uint8_t *copy = xmalloc(len + 1);
        if (len > 0)
                memcpy(copy, p, len);
        copy[len] = 0;
        node_clear(n);
        n->type = PL_DATA;
        n->data.p = copy;
        n->data.len = len;
}

size_t pl_count(const struct pl_node *n)
{
        if (pl_is(n, PL_DICT))
                return n->dict.n;
        if (pl_is(n, PL_ARRAY))
                return n->array.n;
        return 0;
}

/* ---- dictionaries ---- */

static uint32_t key_hash(const char *s)
{
        uint32_t h = 2166136261u; /* FNV-1a */
        for (; *s; s++)
                h = (h ^ (uint8_t) *s) * 16777619u;
        return h;
}

static void dict_hash_put(struct pl_node *d, size_t index)
{
        size_t mask = d->dict.n_slots - 1;
        size_t i = key_hash(d->dict.keys[index]) & mask;
        while (d->dict.slots[i] != 0)
                i = (i + 1) & mask;
        d->dict.slots[i] = (uint32_t) index + 1;
}

static void dict_rehash(struct pl_node *d)
{
        free(d->dict.slots);
        d->dict.slots = NULL;
        d->dict.n_slots = 0;
        if (d->dict.n < DICT_HASH_MIN || d->dict.n >= UINT32_MAX / 4)
                return;
        size_t want = 32;
        while (want < d->dict.n * 2)
                want *= 2;
        d->dict.slots = xcalloc(want, sizeof(uint32_t));
        d->dict.n_slots = want;
        for (size_t i = 0; i < d->dict.n; i++)
                dict_hash_put(d, i);
}

ssize_t pl_dict_index(const struct pl_node *d, const char *key)
{
        if (!pl_is(d, PL_DICT))
                return -1;
        if (d->dict.slots) {
                size_t mask = d->dict.n_slots - 1;
                for (size_t i = key_hash(key) & mask; d->dict.slots[i] != 0; i = (i + 1) & mask) {
                        size_t idx = d->dict.slots[i] - 1;
                        if (streq(d->dict.keys[idx], key))
                                return (ssize_t) idx;
                }
                return -1;
        }
        for (size_t i = 0; i < d->dict.n; i++)
                if (streq(d->dict.keys[i], key))
                        return (ssize_t) i;
        return -1;
}

struct pl_node *pl_dict_get(const struct pl_node *d, const char *key)
{
        ssize_t i = pl_dict_index(d, key);
        return i < 0 ? NULL : d->dict.values[i];
}

const char *pl_dict_key_at(const struct pl_node *d, size_t i)
{
        return pl_is(d, PL_DICT) && i < d->dict.n ? d->dict.keys[i] : NULL;
}

struct pl_node *pl_dict_value_at(const struct pl_node *d, size_t i)
{
        return pl_is(d, PL_DICT) && i < d->dict.n ? d->dict.values[i] : NULL;
}

/* Inserts taking @key (allocated) as well: the parsers hand over the key they read. */
static struct pl_node *dict_insert_take(struct pl_node *d, size_t index, char *key,
                                        struct pl_node *value)
{
        size_t cap = d->dict.cap;
        if (d->dict.n + 1 > cap) {
                GROW(d->dict.keys, cap, d->dict.n + 1);
                cap = d->dict.cap;
                GROW(d->dict.values, cap, d->dict.n + 1);
                d->dict.cap = cap;
        }
        if (index >= d->dict.n) {
                index = d->dict.n;
        } else {
                memmove(d->dict.keys + index + 1, d->dict.keys + index,
                        (d->dict.n - index) * sizeof(char *));
                memmove(d->dict.values + index + 1, d->dict.values + index,
                        (d->dict.n - index) * sizeof(struct pl_node *));
        }
        d->dict.keys[index] = key;
        d->dict.values[index] = value;
        d->dict.n++;
        if (index == d->dict.n - 1 && d->dict.slots && d->dict.n * 2 <= d->dict.n_slots)
                dict_hash_put(d, index);
        else if (d->dict.slots || d->dict.n >= DICT_HASH_MIN)
                dict_rehash(d);
        return value;
}

struct pl_node *pl_dict_insert(struct pl_node *d, size_t index, const char *key,
                               struct pl_node *value)
{
        return dict_insert_take(d, index, xstrdup(key), value);
}

struct pl_node *pl_dict_set(struct pl_node *d, const char *key, struct pl_node *value)
{
        ssize_t i = pl_dict_index(d, key);
        if (i >= 0) {
                pl_free(d->dict.values[i]);
                d->dict.values[i] = value;
                return value;
        }
        return pl_dict_insert(d, SIZE_MAX, key, value);
}

struct pl_node *pl_dict_take(struct pl_node *d, const char *key)
{
        ssize_t i = pl_dict_index(d, key);
        if (i < 0)
                return NULL;
        struct pl_node *v = d->dict.values[i];
        free(d->dict.keys[i]);
        size_t rest = d->dict.n - (size_t) i - 1;
        memmove(d->dict.keys + i, d->dict.keys + i + 1, rest * sizeof(char *));
        memmove(d->dict.values + i, d->dict.values + i + 1, rest * sizeof(struct pl_node *));
        d->dict.n--;
        if (d->dict.slots)
                dict_rehash(d);
        return v;
}

bool pl_dict_remove(struct pl_node *d, const char *key)
{
        struct pl_node *v = pl_dict_take(d, key);
        if (!v)
                return false;
        pl_free(v);
        return true;
}

const char *pl_dict_get_string(const struct pl_node *d, const char *key)
{
        return pl_string(pl_dict_get(d, key));
}

bool pl_dict_get_integer(const struct pl_node *d, const char *key, int64_t *ret)
{
        return pl_get_integer(pl_dict_get(d, key), ret);
}

bool pl_dict_get_bool(const struct pl_node *d, const char *key, bool *ret)
{
        return pl_get_bool(pl_dict_get(d, key), ret);
}

struct pl_node *pl_dict_get_dict(const struct pl_node *d, const char *key)
{
        struct pl_node *v = pl_dict_get(d, key);
        return pl_is(v, PL_DICT) ? v : NULL;
}

struct pl_node *pl_dict_get_array(const struct pl_node *d, const char *key)
{
        struct pl_node *v = pl_dict_get(d, key);
        return pl_is(v, PL_ARRAY) ? v : NULL;
}

struct pl_node *pl_dict_ensure_dict(struct pl_node *d, const char *key)
{
        struct pl_node *v = pl_dict_get_dict(d, key);
        return v ? v : pl_dict_set(d, key, pl_new_dict());
}

struct pl_node *pl_dict_ensure_array(struct pl_node *d, const char *key)
{
        struct pl_node *v = pl_dict_get_array(d, key);
        return v ? v : pl_dict_set(d, key, pl_new_array());
}

/* ---- arrays ---- */

struct pl_node *pl_array_get(const struct pl_node *a, size_t i)
{
        return pl_is(a, PL_ARRAY) && i < a->array.n ? a->array.items[i] : NULL;
}

struct pl_node *pl_array_insert(struct pl_node *a, size_t index, struct pl_node *value)
{
        GROW(a->array.items, a->array.cap, a->array.n + 1);
        if (index > a->array.n)
                index = a->array.n;
        memmove(a->array.items + index + 1, a->array.items + index,
                (a->array.n - index) * sizeof(struct pl_node *));
        a->array.items[index] = value;
        a->array.n++;
        return value;
}

struct pl_node *pl_array_append(struct pl_node *a, struct pl_node *value)
{
        return pl_array_insert(a, SIZE_MAX, value);
}

struct pl_node *pl_array_take(struct pl_node *a, size_t index)
{
        if (!pl_is(a, PL_ARRAY) || index >= a->array.n)
                return NULL;
        struct pl_node *v = a->array.items[index];
        memmove(a->array.items + index, a->array.items + index + 1,
                (a->array.n - index - 1) * sizeof(struct pl_node *));
        a->array.n--;
        return v;
}

bool pl_array_remove(struct pl_node *a, size_t index)
{
        struct pl_node *v = pl_array_take(a, index);
        if (!v)
                return false;
        pl_free(v);
        return true;
}

/* Error messages quote input: keep them one printable line. */
static char *one_line(char *msg)
{
        for (char *p = msg; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        *p = '?';
        return msg;
}

/* ---- paths ---- */

struct path_part {
        char *key;    /* NULL: an index */
        size_t index; /* SIZE_MAX: "[]" (append) */
        size_t end;   /* offset in the path text just after this part */
};

static void path_parts_free(struct path_part *parts, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(parts[i].key);
        free(parts);
}

static int path_split(const char *path, struct path_part **ret, size_t *ret_n, char **reterr)
{
        struct path_part *parts = NULL;
        size_t n = 0, cap = 0;
        const char *p = path;
        bool need_key = false;
        while (*p || need_key) {
                GROW(parts, cap, n + 1);
                if (*p == '[') {
                        const char *q = p + 1;
                        size_t idx = 0;
                        if (*q == ']') {
                                idx = SIZE_MAX;
                        } else {
                                if (*q < '0' || *q > '9') {
                                        path_parts_free(parts, n);
                                        *reterr = xasprintf("path \"%s\": expected a number after "
                                                            "'[' at offset %zu",
                                                            path, (size_t) (q - path));
                                        return -EINVAL;
                                }
                                for (; *q >= '0' && *q <= '9'; q++) {
                                        if (idx > (SIZE_MAX / 10) - 10) {
                                                path_parts_free(parts, n);
                                                *reterr = xasprintf("path \"%s\": index too large",
                                                                    path);
                                                return -ERANGE;
                                        }
                                        idx = idx * 10 + (size_t) (*q - '0');
                                }
                                if (*q != ']') {
                                        path_parts_free(parts, n);
                                        *reterr = xasprintf("path \"%s\": expected ']' at "
                                                            "offset %zu",
                                                            path, (size_t) (q - path));
                                        return -EINVAL;
                                }
                        }
                        p = q + 1;
                        parts[n++] = (struct path_part){ .key = NULL, .index = idx };
                } else {
                        struct buf key = BUF_INIT;
                        while (*p && *p != '.' && *p != '[') {
                                if (*p == '\\' && p[1])
                                        p++;
                                buf_putc(&key, *p++);
                        }
                        if (key.len == 0) {
                                buf_release(&key);
                                path_parts_free(parts, n);
                                *reterr = xasprintf("path \"%s\": empty key at offset %zu", path,
                                                    (size_t) (p - path));
                                return -EINVAL;
                        }
                        parts[n++] = (struct path_part){ .key = buf_detach(&key) };
                }
                parts[n - 1].end = (size_t) (p - path);
                need_key = false;
                if (*p == '.') {
                        p++;
                        need_key = true;
                } else if (*p && *p != '[') {
                        path_parts_free(parts, n);
                        *reterr = xasprintf("path \"%s\": expected '.' or '[' at offset %zu", path,
                                            (size_t) (p - path));
                        return -EINVAL;
                }
        }
        *ret = parts;
        *ret_n = n;
        return 0;
}

static int path_fail(char **reterr, int r, const char *path, size_t upto, const char *fmt, ...)
        _printf_(5, 6);

static int path_fail(char **reterr, int r, const char *path, size_t upto, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *what = xvasprintf(fmt, ap);
        va_end(ap);
        *reterr = one_line(upto == 0 ? xasprintf("(root): %s", what)
                                     : xasprintf("%.*s: %s", (int) upto, path, what));
        return r;
}

/* Walks all parts but the last; *ret_parent is the container the last part addresses. */
static int path_walk(struct pl_node *root, const char *path, struct path_part *parts, size_t n,
                     size_t stop, struct pl_node **ret, char **reterr)
{
        struct pl_node *cur = root;
        size_t upto = 0;
        for (size_t i = 0; i < stop; i++) {
                struct path_part *part = &parts[i];
                struct pl_node *next;
                if (part->key) {
                        if (!pl_is(cur, PL_DICT))
                                return path_fail(reterr, -ENOTDIR, path, upto,
                                                 "is %s %s, not a dict (key \"%s\")",
                                                 cur->type == PL_ARRAY ? "an" : "a",
                                                 pl_type_to_string(cur->type), part->key);
                        next = pl_dict_get(cur, part->key);
                        if (!next)
                                return path_fail(reterr, -ENOENT, path, part->end, "no such key");
                } else {
                        if (!pl_is(cur, PL_ARRAY))
                                return path_fail(reterr, -ENOTDIR, path, upto,
                                                 "is a %s, not an array",
                                                 pl_type_to_string(cur->type));
                        if (part->index == SIZE_MAX || part->index >= cur->array.n)
                                return path_fail(reterr, -ENOENT, path, part->end,
                                                 "index out of range (%zu elements)", cur->array.n);
                        next = cur->array.items[part->index];
                }
                cur = next;
                upto = part->end;
        }
        (void) n;
        *ret = cur;
        return 0;
}

int pl_path_get(const struct pl_node *root, const char *path, struct pl_node **ret, char **reterr)
{
        struct path_part *parts = NULL;
        size_t n = 0;
        int r = path_split(path, &parts, &n, reterr);
        if (r < 0)
                return r;
        r = path_walk((struct pl_node *) root, path, parts, n, n, ret, reterr);
        path_parts_free(parts, n);
        return r;
}

enum path_op {
        PATH_SET,
        PATH_ADD,
        PATH_DELETE
};

static int path_modify(struct pl_node *root, const char *path, struct pl_node *value,
                       enum path_op op, char **reterr)
{
        _cleanup_pl_ struct pl_node *owned = value;
        struct path_part *parts = NULL;
        size_t n = 0;
        int r = path_split(path, &parts, &n, reterr);
        if (r < 0)
                return r;
        if (n == 0) {
                path_parts_free(parts, 0);
                *reterr = xasprintf("(root): cannot %s the root itself",
                                    op == PATH_DELETE ? "delete" : "replace");
                return -EINVAL;
        }
        struct pl_node *parent = NULL;
        r = path_walk(root, path, parts, n, n - 1, &parent, reterr);
        if (r < 0) {
                path_parts_free(parts, n);
                return r;
        }
        struct path_part *last = &parts[n - 1];
        size_t upto = n > 1 ? parts[n - 2].end : 0;
        if (last->key) {
                if (!pl_is(parent, PL_DICT))
                        r = path_fail(reterr, -ENOTDIR, path, upto, "is a %s, not a dict",
                                      pl_type_to_string(parent->type));
                else if (op == PATH_DELETE) {
                        if (!pl_dict_remove(parent, last->key))
                                r = path_fail(reterr, -ENOENT, path, last->end, "no such key");
                } else if (op == PATH_ADD && pl_dict_get(parent, last->key))
                        r = path_fail(reterr, -EEXIST, path, last->end,
                                      "exists already (use set to replace it)");
                else
                        pl_dict_set(parent, last->key, TAKE_PTR(owned));
        } else {
                size_t count = pl_count(parent);
                size_t idx = last->index == SIZE_MAX ? count : last->index;
                if (!pl_is(parent, PL_ARRAY))
                        r = path_fail(reterr, -ENOTDIR, path, upto, "is a %s, not an array",
                                      pl_type_to_string(parent->type));
                else if (op == PATH_DELETE || (op == PATH_SET && idx < count)) {
                        if (idx >= count)
                                r = path_fail(reterr, -ENOENT, path, last->end,
                                              "index out of range (%zu elements)", count);
                        else if (op == PATH_DELETE)
                                pl_array_remove(parent, idx);
                        else {
                                pl_free(parent->array.items[idx]);
                                parent->array.items[idx] = TAKE_PTR(owned);
                        }
                } else if (idx > count)
                        r = path_fail(reterr, -ENOENT, path, last->end,
                                      "index out of range (%zu elements; [%zu] or [] appends)",
                                      count, count);
                else
                        pl_array_insert(parent, idx, TAKE_PTR(owned));
        }
        path_parts_free(parts, n);
        return r;
}

int pl_path_set(struct pl_node *root, const char *path, struct pl_node *value, char **reterr)
{
        return path_modify(root, path, value, PATH_SET, reterr);
}

int pl_path_add(struct pl_node *root, const char *path, struct pl_node *value, char **reterr)
{
        return path_modify(root, path, value, PATH_ADD, reterr);
}

int pl_path_delete(struct pl_node *root, const char *path, char **reterr)
{
        return path_modify(root, path, NULL, PATH_DELETE, reterr);
}

char *pl_path_join_key(const char *parent, const char *key)
{
        struct buf b = BUF_INIT;
        if (parent && *parent) {
                buf_puts(&b, parent);
                buf_putc(&b, '.');
        }
        for (const char *p = key; *p; p++) {
                if (*p == '.' || *p == '[' || *p == ']' || *p == '\\')
                        buf_putc(&b, '\\');
                buf_putc(&b, *p);
        }
        return buf_detach(&b);
}

char *pl_path_join_index(const char *parent, size_t index)
{
        return xasprintf("%s[%zu]", strempty(parent), index);
}

/* ---- base64, hex, dates ---- */

static const char b64_alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64_put(struct buf *b, const uint8_t *p, size_t n)
{
        buf_grow(b, (n + 2) / 3 * 4 + 1);
        char *o = b->s + b->len;
        size_t i = 0;
        for (; i + 3 <= n; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16 | (uint32_t) p[i + 1] << 8 | p[i + 2];
                *o++ = b64_alphabet[v >> 18];
                *o++ = b64_alphabet[(v >> 12) & 63];
                *o++ = b64_alphabet[(v >> 6) & 63];
                *o++ = b64_alphabet[v & 63];
        }
        if (i < n) {
                uint32_t v = (uint32_t) p[i] << 16 | (i + 1 < n ? (uint32_t) p[i + 1] << 8 : 0);
                *o++ = b64_alphabet[v >> 18];
                *o++ = b64_alphabet[(v >> 12) & 63];
                *o++ = i + 1 < n ? b64_alphabet[(v >> 6) & 63] : '=';
                *o++ = '=';
        }
        b->len = (size_t) (o - b->s);
        b->s[b->len] = 0;
}

char *pl_base64_encode(const void *p, size_t n)
{
        struct buf b = BUF_INIT;
        base64_put(&b, p, n);
        return buf_detach(&b);
}

static int b64_value(char c)
{
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+' || c == '-')
                return 62;
        if (c == '/' || c == '_')
                return 63;
        return -1;
}

static bool is_blank_char(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int pl_base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len)
{
        uint8_t *out = xmalloc(len / 4 * 3 + 4);
        size_t o = 0;
        uint32_t acc = 0;
        int bits = 0;
        size_t pad = 0;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (is_blank_char(c))
                        continue;
                if (c == '=') {
                        pad++;
                        continue;
                }
                int v = b64_value(c);
                if (v < 0 || pad > 0) {
                        free(out);
                        return -EINVAL;
                }
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (uint8_t) (acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        /* 6 leftover bits never make a byte; padding beyond two is malformed. */
        if (bits >= 6 || pad > 2) {
                free(out);
                return -EINVAL;
        }
        out[o] = 0;
        *ret = out;
        *ret_len = o;
        return 0;
}

static int hex_decode(const char *s, uint8_t **ret, size_t *ret_len)
{
        if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
                s += 2;
        size_t len = strlen(s);
        uint8_t *out = xmalloc(len / 2 + 1);
        size_t o = 0;
        int hi = -1;
        for (; *s; s++) {
                if (is_blank_char(*s))
                        continue;
                int v = unhexchar(*s);
                if (v < 0) {
                        free(out);
                        return -EINVAL;
                }
                if (hi < 0)
                        hi = v;
                else {
                        out[o++] = (uint8_t) (hi << 4 | v);
                        hi = -1;
                }
        }
        if (hi >= 0) {
                free(out);
                return -EINVAL;
        }
        out[o] = 0;
        *ret = out;
        *ret_len = o;
        return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned) (y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t) doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *ry, unsigned *rm, unsigned *rd)
{
        z += 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        unsigned doe = (unsigned) (z - era * 146097);
        unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t y = (int64_t) yoe + era * 400;
        unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        unsigned mp = (5 * doy + 2) / 153;
        unsigned d = doy - (153 * mp + 2) / 5 + 1;
        unsigned m = mp < 10 ? mp + 3 : mp - 9;
        *ry = y + (m <= 2);
        *rm = m;
        *rd = d;
}

static bool parse_digits(const char *s, int n, unsigned *ret)
{
        unsigned v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        *ret = v;
        return true;
}

int pl_date_parse(const char *s, size_t len, int64_t *ret)
{
        unsigned y, mo, d, h, mi, se;
        if (len != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
            s[16] != ':' || s[19] != 'Z' || !parse_digits(s, 4, &y) ||
            !parse_digits(s + 5, 2, &mo) || !parse_digits(s + 8, 2, &d) ||
            !parse_digits(s + 11, 2, &h) || !parse_digits(s + 14, 2, &mi) ||
            !parse_digits(s + 17, 2, &se))
                return -EINVAL;
        static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 59)
                return -EINVAL;
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (mo == 2 && d == 29 && !leap)
                return -EINVAL;
        *ret = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
        return 0;
}

void pl_date_format(int64_t t, char out[static 64])
{
        int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
        int64_t secs = t - days * 86400;
        int64_t y;
        unsigned m, d;
        civil_from_days(days, &y, &m, &d);
        snprintf(out, 64, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02uZ", y, m, d,
                 (unsigned) (secs / 3600), (unsigned) (secs / 60 % 60), (unsigned) (secs % 60));
}

/* Shortest text that reads back as the same double. */
static void format_real(double v, char out[static 64])
{
        if (isnan(v)) {
                strcpy(out, "nan");
                return;
        }
        if (isinf(v)) {
                strcpy(out, v < 0 ? "-inf" : "inf");
                return;
        }
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(out, 64, "%.*g", prec, v);
                if (strtod(out, NULL) == v)
                        return;
        }
}

/* Integers: optional sign, decimal or 0x hex, within int64. */
static int parse_integer_text(const char *s, size_t len, int64_t *ret)
{
        while (len > 0 && is_blank_char(*s))
                s++, len--;
        while (len > 0 && is_blank_char(s[len - 1]))
                len--;
        bool neg = false;
        if (len > 0 && (*s == '-' || *s == '+')) {
                neg = *s == '-';
                s++, len--;
        }
        unsigned base = 10;
        if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
                base = 16;
                s += 2, len -= 2;
        }
        if (len == 0)
                return -EINVAL;
        uint64_t v = 0;
        for (size_t i = 0; i < len; i++) {
                int dv = unhexchar(s[i]);
                if (dv < 0 || (unsigned) dv >= base)
                        return -EINVAL;
                if (v > (UINT64_MAX - (unsigned) dv) / base)
                        return -ERANGE;
                v = v * base + (unsigned) dv;
        }
        if (neg) {
                if (v > (uint64_t) INT64_MAX + 1)
                        return -ERANGE;
                *ret = (int64_t) (0 - v);
        } else {
                if (v > (uint64_t) INT64_MAX)
                        return -ERANGE;
                *ret = (int64_t) v;
        }
        return 0;
}

static int parse_real_text(const char *s, size_t len, double *ret)
{
        _cleanup_free_ char *copy = xstrndup(s, len);
        char *p = strstrip(copy);
        if (!*p)
                return -EINVAL;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int pl_value_from_text(enum pl_type type, const char *text, struct pl_node **ret, char **reterr)
{
        switch (type) {
        case PL_STRING:
                if (!utf8_is_valid(text, strlen(text))) {
                        *reterr = xstrdup("string value is not valid UTF-8");
                        return -EINVAL;
                }
                *ret = pl_new_string(text);
                return 0;
        case PL_INTEGER: {
                int64_t v;
                int r = parse_integer_text(text, strlen(text), &v);
                if (r < 0) {
                        *reterr = xasprintf("integer value \"%s\": expected a decimal or 0x hex "
                                            "number within 64 bits",
                                            text);
                        return r;
                }
                *ret = pl_new_integer(v);
                return 0;
        }
        case PL_BOOL:
                if (streq(text, "true") || streq(text, "yes") || streq(text, "1"))
                        *ret = pl_new_bool(true);
                else if (streq(text, "false") || streq(text, "no") || streq(text, "0"))
                        *ret = pl_new_bool(false);
                else {
                        *reterr = xasprintf("bool value \"%s\": expected true or false", text);
                        return -EINVAL;
                }
                return 0;
        case PL_DATA: {
                uint8_t *p = NULL;
                size_t n = 0;
                const char *b64 = startswith(text, "base64:");
                const char *hex = startswith(text, "hex:");
                int r;
                if (b64)
                        r = pl_base64_decode(b64, strlen(b64), &p, &n);
                else if (hex)
                        r = hex_decode(hex, &p, &n);
                else {
                        r = hex_decode(text, &p, &n);
                        if (r < 0)
                                r = pl_base64_decode(text, strlen(text), &p, &n);
                }
                if (r < 0) {
                        *reterr = xasprintf("data value \"%s\": expected hex (00aa..) or base64",
                                            text);
                        return -EINVAL;
                }
                *ret = pl_new_data(p, n);
                free(p);
                return 0;
        }
        case PL_DATE: {
                int64_t t;
                if (pl_date_parse(text, strlen(text), &t) < 0) {
                        *reterr =
                                xasprintf("date value \"%s\": expected YYYY-MM-DDTHH:MM:SSZ", text);
                        return -EINVAL;
                }
                *ret = pl_new_date(t);
                return 0;
        }
        case PL_REAL: {
                double v;
                if (parse_real_text(text, strlen(text), &v) < 0) {
                        *reterr = xasprintf("real value \"%s\": expected a number", text);
                        return -EINVAL;
                }
                *ret = pl_new_real(v);
                return 0;
        }
        case PL_DICT:
        case PL_ARRAY:
                if (!streq(text, "") && !streq(text, type == PL_DICT ? "{}" : "[]")) {
                        *reterr = xasprintf("%s value \"%s\": only an empty %s can be given "
                                            "(\"\" or %s); add its elements one by one",
                                            pl_type_to_string(type), text, pl_type_to_string(type),
                                            type == PL_DICT ? "{}" : "[]");
                        return -EINVAL;
                }
                *ret = type == PL_DICT ? pl_new_dict() : pl_new_array();
                return 0;
        default:
                *reterr = xstrdup("unknown value type");
                return -EINVAL;
        }
}

/* ---- XML writer ---- */

static void put_tabs(struct buf *b, unsigned depth)
{
        buf_grow(b, depth);
        memset(b->s + b->len, '\t', depth);
        b->len += depth;
        b->s[b->len] = 0;
}

/* 7-bit ASCII out: markup characters and non-ASCII as references; refuses what XML 1.0 cannot
 * carry. */
static int put_escaped(struct buf *b, const char *s, char **reterr, const char *what)
{
        const unsigned char *p = (const unsigned char *) s;
        while (*p) {
                const unsigned char *run = p;
                while (*p >= 0x20 && *p < 0x80 && *p != '&' && *p != '<' && *p != '>')
                        p++;
                if (p > run)
                        buf_put(b, run, (size_t) (p - run));
                if (!*p)
                        break;
                unsigned char c = *p;
                if (c == '&')
                        buf_puts(b, "&amp;");
                else if (c == '<')
                        buf_puts(b, "&lt;");
                else if (c == '>')
                        buf_puts(b, "&gt;");
                else if (c == '\r')
                        buf_puts(b, "&#13;");
                else if (c < 0x20 && c != '\t' && c != '\n') {
                        *reterr = xasprintf("%s holds control character U+%04X, which XML 1.0 "
                                            "cannot carry",
                                            what, c);
                        return -EINVAL;
                } else if (c < 0x80)
                        buf_putc(b, (char) c);
                else {
                        uint32_t cp;
                        int extra;
                        if (c >= 0xf0)
                                cp = c & 0x07, extra = 3;
                        else if (c >= 0xe0)
                                cp = c & 0x0f, extra = 2;
                        else
                                cp = c & 0x1f, extra = 1;
                        p++;
                        for (int i = 0; i < extra && *p; i++, p++)
                                cp = cp << 6 | (*p & 0x3f);
                        buf_printf(b, "&#x%X;", cp);
                        continue;
                }
                p++;
        }
        return 0;
}

static int xml_put_node(struct buf *b, const struct pl_node *n, unsigned depth, char **reterr)
{
        char tmp[64];
        int r;
        put_tabs(b, depth);
        switch (n->type) {
        case PL_STRING:
                buf_puts(b, "<string>");
                r = put_escaped(b, n->str, reterr, "a string");
                if (r < 0)
                        return r;
                buf_puts(b, "</string>\n");
                return 0;
        case PL_INTEGER:
                buf_printf(b, "<integer>%" PRId64 "</integer>\n", n->integer);
                return 0;
        case PL_BOOL:
                buf_puts(b, n->boolean ? "<true/>\n" : "<false/>\n");
                return 0;
        case PL_DATA:
                buf_puts(b, "<data>");
                base64_put(b, n->data.p, n->data.len);
                buf_puts(b, "</data>\n");
                return 0;
        case PL_DATE:
                pl_date_format(n->date, tmp);
                buf_printf(b, "<date>%s</date>\n", tmp);
                return 0;
        case PL_REAL:
                format_real(n->real, tmp);
                buf_printf(b, "<real>%s</real>\n", tmp);
                return 0;
        case PL_DICT:
                if (n->dict.n == 0) {
                        buf_puts(b, "<dict/>\n");
                        return 0;
                }
                buf_puts(b, "<dict>\n");
                for (size_t i = 0; i < n->dict.n; i++) {
                        put_tabs(b, depth + 1);
                        buf_puts(b, "<key>");
                        r = put_escaped(b, n->dict.keys[i], reterr, "a key");
                        if (r < 0)
                                return r;
                        buf_puts(b, "</key>\n");
                        r = xml_put_node(b, n->dict.values[i], depth + 1, reterr);
                        if (r < 0)
                                return r;
                }
                put_tabs(b, depth);
                buf_puts(b, "</dict>\n");
                return 0;
        case PL_ARRAY:
                if (n->array.n == 0) {
                        buf_puts(b, "<array/>\n");
                        return 0;
                }
                buf_puts(b, "<array>\n");
                for (size_t i = 0; i < n->array.n; i++) {
                        r = xml_put_node(b, n->array.items[i], depth + 1, reterr);
                        if (r < 0)
                                return r;
                }
                put_tabs(b, depth);
                buf_puts(b, "</array>\n");
                return 0;
        default:
                *reterr = xstrdup("unknown node type");
                return -EINVAL;
        }
}

static int xml_serialize(const struct pl_node *root, struct buf *b, char **reterr)
{
        buf_puts(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
                    "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
                    "<plist version=\"1.0\">\n");
        int r = xml_put_node(b, root, 0, reterr);
        if (r < 0)
                return r;
        buf_puts(b, "</plist>\n");
        return 0;
}

/* ---- XML reader ---- */

struct xml_reader {
        const char *start, *p, *end;
        const char *name;
        char **reterr;
        struct buf text; /* scratch for element text */
};

static unsigned line_of(const struct xml_reader *x, const char *at)
{
        unsigned line = 1;
        for (const char *q = x->start; q < at && q < x->end; q++)
                if (*q == '\n')
                        line++;
        return line;
}

static int xml_fail(struct xml_reader *x, const char *at, const char *fmt, ...) _printf_(3, 4);

static int xml_fail(struct xml_reader *x, const char *at, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *what = xvasprintf(fmt, ap);
        va_end(ap);
        *x->reterr = one_line(xasprintf("%s: line %u: %s", x->name, line_of(x, at), what));
        return -EBADMSG;
}

static bool x_at(const struct xml_reader *x, const char *s)
{
        size_t l = strlen(s);
        return (size_t) (x->end - x->p) >= l && memcmp(x->p, s, l) == 0;
}

static void x_skip_blanks(struct xml_reader *x)
{
        while (x->p < x->end && is_blank_char(*x->p))
                x->p++;
}

static const char *x_find(const struct xml_reader *x, const char *from, const char *s)
{
        size_t l = strlen(s);
        for (const char *q = from; q + l <= x->end; q++) {
                q = memchr(q, s[0], (size_t) (x->end - q));
                if (!q || q + l > x->end)
                        return NULL;
                if (memcmp(q, s, l) == 0)
                        return q;
        }
        return NULL;
}

/* White space, comments, processing instructions and the DOCTYPE between elements. */
static int x_skip_misc(struct xml_reader *x, bool prolog)
{
        for (;;) {
                x_skip_blanks(x);
                if (x_at(x, "<!--")) {
                        const char *e = x_find(x, x->p + 4, "-->");
                        if (!e)
                                return xml_fail(x, x->p, "comment is not closed");
                        x->p = e + 3;
                } else if (prolog && x_at(x, "<?")) {
                        const char *e = x_find(x, x->p + 2, "?>");
                        if (!e)
                                return xml_fail(x, x->p, "processing instruction is not closed");
                        x->p = e + 2;
                } else if (prolog && x_at(x, "<!DOCTYPE")) {
                        const char *q = x->p + 9;
                        int brackets = 0;
                        while (q < x->end && (*q != '>' || brackets > 0)) {
                                if (*q == '[')
                                        brackets++;
                                else if (*q == ']')
                                        brackets--;
                                q++;
                        }
                        if (q >= x->end)
                                return xml_fail(x, x->p, "DOCTYPE is not closed");
                        x->p = q + 1;
                } else
                        return 0;
        }
}

struct x_tag {
        const char *at;
        char name[16];
        bool closing;
        bool empty; /* <name/> */
};

/* Reads "<name attrs>", "<name/>" or "</name>". */
static int x_read_tag(struct xml_reader *x, struct x_tag *t)
{
        t->at = x->p;
        if (x->p >= x->end)
                return xml_fail(x, x->p, "unexpected end of file");
        if (*x->p != '<')
                return xml_fail(x, x->p, "expected an element, found text");
        x->p++;
        t->closing = x->p < x->end && *x->p == '/';
        if (t->closing)
                x->p++;
        size_t l = 0;
        while (x->p < x->end &&
               ((*x->p >= 'a' && *x->p <= 'z') || (*x->p >= 'A' && *x->p <= 'Z'))) {
                if (l + 1 < sizeof(t->name))
                        t->name[l++] = *x->p;
                else
                        return xml_fail(x, t->at, "unknown element");
                x->p++;
        }
        t->name[l] = 0;
        if (l == 0)
                return xml_fail(x, t->at, "expected an element name after '<'");
        /* Attributes (only <plist version="1.0"> has one): skipped, quotes honoured. */
        char quote = 0;
        while (x->p < x->end && (quote || *x->p != '>')) {
                if (quote && *x->p == quote)
                        quote = 0;
                else if (!quote && (*x->p == '"' || *x->p == '\''))
                        quote = *x->p;
                else if (!quote && *x->p == '<')
                        return xml_fail(x, x->p, "'<' inside the <%s> tag", t->name);
                x->p++;
        }
        if (x->p >= x->end)
                return xml_fail(x, t->at, "<%s> tag is not closed", t->name);
        t->empty = x->p[-1] == '/' && !t->closing;
        x->p++;
        return 0;
}

static int x_put_utf8(struct buf *b, uint32_t cp)
{
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
                return -EINVAL;
        if (cp < 0x80)
                buf_putc(b, (char) cp);
        else if (cp < 0x800) {
                buf_putc(b, (char) (0xC0 | cp >> 6));
                buf_putc(b, (char) (0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
                buf_putc(b, (char) (0xE0 | cp >> 12));
                buf_putc(b, (char) (0x80 | ((cp >> 6) & 0x3F)));
                buf_putc(b, (char) (0x80 | (cp & 0x3F)));
        } else {
                buf_putc(b, (char) (0xF0 | cp >> 18));
                buf_putc(b, (char) (0x80 | ((cp >> 12) & 0x3F)));
                buf_putc(b, (char) (0x80 | ((cp >> 6) & 0x3F)));
                buf_putc(b, (char) (0x80 | (cp & 0x3F)));
        }
        return 0;
}

/* Text up to "</name>" into x->text: entities decoded, CDATA kept, line ends normalised. */
static int x_read_text(struct xml_reader *x, const char *name)
{
        buf_reset(&x->text);
        const char *open = x->p;
        for (;;) {
                const char *q = x->p;
                while (q < x->end && *q != '<' && *q != '&' && *q != '\r')
                        q++;
                buf_put(&x->text, x->p, (size_t) (q - x->p));
                x->p = q;
                if (q >= x->end)
                        return xml_fail(x, open, "<%s> is not closed", name);
                if (*q == '\r') {
                        buf_putc(&x->text, '\n');
                        x->p += q + 1 < x->end && q[1] == '\n' ? 2 : 1;
                } else if (*q == '&') {
                        const char *semi = memchr(q, ';', (size_t) MIN(x->end - q, 12));
                        if (!semi)
                                return xml_fail(x, q, "'&' must start an entity (&amp;)");
                        size_t l = (size_t) (semi - q - 1);
                        const char *e = q + 1;
                        int r = 0;
                        if (l == 2 && memcmp(e, "lt", 2) == 0)
                                buf_putc(&x->text, '<');
                        else if (l == 2 && memcmp(e, "gt", 2) == 0)
                                buf_putc(&x->text, '>');
                        else if (l == 3 && memcmp(e, "amp", 3) == 0)
                                buf_putc(&x->text, '&');
                        else if (l == 4 && memcmp(e, "quot", 4) == 0)
                                buf_putc(&x->text, '"');
                        else if (l == 4 && memcmp(e, "apos", 4) == 0)
                                buf_putc(&x->text, '\'');
                        else if (l >= 2 && e[0] == '#') {
                                uint32_t cp = 0;
                                bool hex = e[1] == 'x';
                                size_t i = hex ? 2 : 1;
                                if (i >= l)
                                        r = -EINVAL;
                                for (; i < l && r == 0; i++) {
                                        int v = unhexchar(e[i]);
                                        if (v < 0 || (!hex && v > 9) || cp > 0x10FFFF)
                                                r = -EINVAL;
                                        else
                                                cp = cp * (hex ? 16 : 10) + (uint32_t) v;
                                }
                                if (r == 0)
                                        r = x_put_utf8(&x->text, cp);
                        } else
                                r = -EINVAL;
                        if (r < 0)
                                return xml_fail(x, q, "unknown or invalid entity \"%.*s\"",
                                                (int) (semi - q + 1), q);
                        x->p = semi + 1;
                } else if (x_at(x, "<![CDATA[")) {
                        const char *e = x_find(x, x->p + 9, "]]>");
                        if (!e)
                                return xml_fail(x, q, "CDATA section is not closed");
                        buf_put(&x->text, x->p + 9, (size_t) (e - x->p - 9));
                        x->p = e + 3;
                } else if (x_at(x, "<!--")) {
                        const char *e = x_find(x, x->p + 4, "-->");
                        if (!e)
                                return xml_fail(x, q, "comment is not closed");
                        x->p = e + 3;
                } else {
                        struct x_tag t;
                        int r = x_read_tag(x, &t);
                        if (r < 0)
                                return r;
                        if (!t.closing || !streq(t.name, name))
                                return xml_fail(x, t.at, "expected </%s>, found <%s%s>", name,
                                                t.closing ? "/" : "", t.name);
                        return 0;
                }
        }
}

static int x_read_value(struct xml_reader *x, const struct x_tag *t, unsigned depth,
                        struct pl_node **ret);

static int x_read_dict(struct xml_reader *x, const struct x_tag *open, unsigned depth,
                       struct pl_node **ret)
{
        _cleanup_pl_ struct pl_node *d = pl_new_dict();
        if (open->empty) {
                *ret = TAKE_PTR(d);
                return 0;
        }
        for (;;) {
                int r = x_skip_misc(x, false);
                if (r < 0)
                        return r;
                struct x_tag t;
                r = x_read_tag(x, &t);
                if (r < 0)
                        return r;
                if (t.closing) {
                        if (!streq(t.name, "dict"))
                                return xml_fail(x, t.at, "expected </dict>, found </%s>", t.name);
                        *ret = TAKE_PTR(d);
                        return 0;
                }
                if (!streq(t.name, "key"))
                        return xml_fail(x, t.at, "expected <key> in <dict>, found <%s>", t.name);
                _cleanup_free_ char *key = NULL;
                if (t.empty)
                        key = xstrdup("");
                else {
                        r = x_read_text(x, "key");
                        if (r < 0)
                                return r;
                        if (memchr(x->text.s ? x->text.s : "", 0, x->text.len))
                                return xml_fail(x, t.at, "key holds a NUL character");
                        key = xstrdup(buf_str(&x->text));
                }
                if (pl_dict_index(d, key) >= 0)
                        return xml_fail(x, t.at, "duplicate key \"%s\" in one <dict>", key);
                r = x_skip_misc(x, false);
                if (r < 0)
                        return r;
                struct x_tag vt;
                r = x_read_tag(x, &vt);
                if (r < 0)
                        return r;
                if (vt.closing)
                        return xml_fail(x, vt.at, "key \"%s\" has no value", key);
                struct pl_node *v = NULL;
                r = x_read_value(x, &vt, depth + 1, &v);
                if (r < 0)
                        return r;
                dict_insert_take(d, SIZE_MAX, TAKE_PTR(key), v);
        }
}

static int x_read_array(struct xml_reader *x, const struct x_tag *open, unsigned depth,
                        struct pl_node **ret)
{
        _cleanup_pl_ struct pl_node *a = pl_new_array();
        if (open->empty) {
                *ret = TAKE_PTR(a);
                return 0;
        }
        for (;;) {
                int r = x_skip_misc(x, false);
                if (r < 0)
                        return r;
                struct x_tag t;
                r = x_read_tag(x, &t);
                if (r < 0)
                        return r;
                if (t.closing) {
                        if (!streq(t.name, "array"))
                                return xml_fail(x, t.at, "expected </array>, found </%s>", t.name);
                        *ret = TAKE_PTR(a);
                        return 0;
                }
                struct pl_node *v = NULL;
                r = x_read_value(x, &t, depth + 1, &v);
                if (r < 0)
                        return r;
                pl_array_append(a, v);
        }
}

static int x_read_value(struct xml_reader *x, const struct x_tag *t, unsigned depth,
                        struct pl_node **ret)
{
        if (depth > PL_MAX_DEPTH)
                return xml_fail(x, t->at, "nesting deeper than %d levels", PL_MAX_DEPTH);
        const char *n = t->name;
        if (streq(n, "dict"))
                return x_read_dict(x, t, depth, ret);
        if (streq(n, "array"))
                return x_read_array(x, t, depth, ret);
        if (streq(n, "true") || streq(n, "false")) {
                if (!t->empty) {
                        int r = x_read_text(x, n);
                        if (r < 0)
                                return r;
                        if (x->text.len > 0)
                                return xml_fail(x, t->at, "<%s> must be empty", n);
                }
                *ret = pl_new_bool(streq(n, "true"));
                return 0;
        }
        bool known = streq(n, "string") || streq(n, "integer") || streq(n, "real") ||
                     streq(n, "date") || streq(n, "data");
        if (!known)
                return xml_fail(x, t->at, "unknown element <%s>", n);
        buf_reset(&x->text);
        if (!t->empty) {
                int r = x_read_text(x, n);
                if (r < 0)
                        return r;
        }
        const char *s = buf_str(&x->text);
        size_t len = x->text.len;
        if (streq(n, "string")) {
                if (memchr(s, 0, len))
                        return xml_fail(x, t->at, "string holds a NUL character");
                *ret = pl_new_string_n(s, len);
        } else if (streq(n, "integer")) {
                int64_t v;
                if (parse_integer_text(s, len, &v) < 0)
                        return xml_fail(x, t->at, "<integer> \"%.40s\" is not a 64-bit integer", s);
                *ret = pl_new_integer(v);
        } else if (streq(n, "real")) {
                double v;
                if (parse_real_text(s, len, &v) < 0)
                        return xml_fail(x, t->at, "<real> \"%.40s\" is not a number", s);
                *ret = pl_new_real(v);
        } else if (streq(n, "date")) {
                int64_t v;
                _cleanup_free_ char *copy = xstrndup(s, len);
                char *c = strstrip(copy);
                if (pl_date_parse(c, strlen(c), &v) < 0)
                        return xml_fail(x, t->at, "<date> \"%.40s\": expected YYYY-MM-DDTHH:MM:SSZ",
                                        c);
                *ret = pl_new_date(v);
        } else {
                uint8_t *p = NULL;
                size_t plen = 0;
                if (pl_base64_decode(s, len, &p, &plen) < 0)
                        return xml_fail(x, t->at, "<data> is not valid base64");
                struct pl_node *d = node_new(PL_DATA);
                d->data.p = p;
                d->data.len = plen;
                *ret = d;
        }
        return 0;
}

static int xml_parse_document(struct xml_reader *xr, struct pl_node **ret);

static int xml_parse(const char *data, size_t len, const char *name, struct pl_node **ret,
                     char **reterr)
{
        struct xml_reader x = {
                .start = data, .p = data, .end = data + len, .name = name, .reterr = reterr
        };
        int r = xml_parse_document(&x, ret);
        buf_release(&x.text);
        return r;
}

static int xml_parse_document(struct xml_reader *xr, struct pl_node **ret)
{
        struct xml_reader x = *xr;
        const char *data = x.start;
        size_t len = (size_t) (x.end - x.start);
        if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0)
                x.p += 3;
        if (memchr(data, 0, len)) {
                const char *z = memchr(data, 0, len);
                return xml_fail(&x, z, "NUL byte: not an XML property list");
        }
        /* Plain ASCII needs no decoding check: skip it quickly, check from the first high byte. */
        const char *hi = x.p;
        while (hi < x.end && (unsigned char) *hi < 0x80)
                hi++;
        if (hi < x.end && !utf8_is_valid(hi, (size_t) (x.end - hi))) {
                /* Find the first bad byte for the line number. */
                const char *q = x.p;
                while (q < x.end && utf8_is_valid(q, 1) && (unsigned char) *q < 0x80)
                        q++;
                return xml_fail(&x, q, "invalid UTF-8");
        }
        int r = x_skip_misc(&x, true);
        if (r < 0)
                return r;
        if (x.p >= x.end)
                return xml_fail(&x, x.p, "empty: not a property list");
        if (*x.p != '<')
                return xml_fail(&x, x.p, "not a property list (expected '<')");
        struct x_tag t;
        r = x_read_tag(&x, &t);
        if (r < 0)
                return r;
        bool wrapped = streq(t.name, "plist") && !t.closing;
        _cleanup_pl_ struct pl_node *root = NULL;
        if (wrapped) {
                if (t.empty)
                        return xml_fail(&x, t.at, "<plist/> holds no value");
                r = x_skip_misc(&x, false);
                if (r < 0)
                        return r;
                r = x_read_tag(&x, &t);
                if (r < 0)
                        return r;
                if (t.closing)
                        return xml_fail(&x, t.at, "<plist> holds no value");
        }
        r = x_read_value(&x, &t, 1, &root);
        xr->text = x.text; /* the caller releases the scratch buffer */
        if (r < 0)
                return r;
        if (wrapped) {
                r = x_skip_misc(&x, false);
                if (r < 0)
                        return r;
                struct x_tag c;
                r = x_read_tag(&x, &c);
                if (r < 0)
                        return r;
                if (!c.closing || !streq(c.name, "plist"))
                        return xml_fail(&x, c.at,
                                        "expected </plist>, found <%s%s> (one value "
                                        "per property list)",
                                        c.closing ? "/" : "", c.name);
        }
        r = x_skip_misc(&x, false);
        if (r < 0)
                return r;
        if (x.p < x.end)
                return xml_fail(&x, x.p, "trailing content after the property list");
        *ret = TAKE_PTR(root);
        return 0;
}

/* ---- binary: a checked reader (every offset, length and reference before use) ---- */

struct bscan {
        const uint8_t *d;
        size_t len;
        const char *name;
        char **reterr;
        unsigned offset_size, ref_size;
        uint64_t n_objects, table_offset;
        uint8_t *state;   /* per object: 1 while on the walk's stack */
        uint64_t visited; /* objects expanded, shared ones counted each time */
        uint64_t max_visited;
};

static int bfail(struct bscan *b, const char *fmt, ...) _printf_(2, 3);

static int bfail(struct bscan *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *what = xvasprintf(fmt, ap);
        va_end(ap);
        *b->reterr = one_line(xasprintf("%s: binary property list: %s", b->name, what));
        return -EBADMSG;
}

static uint64_t be_uint(const uint8_t *p, unsigned n)
{
        uint64_t v = 0;
        for (unsigned i = 0; i < n; i++)
                v = v << 8 | p[i];
        return v;
}

/*
 * Shared objects are expanded into copies, so a small file can describe a huge
 * tree (an array of 100 references to an array of 100 references...). The tree
 * may hold 8 values per byte of file, at least a million: far more than real
 * files (the 1 MiB benchmark plist holds about 1 value per 10 bytes).
 */
#define BPLIST_EXPANSION_PER_BYTE 8u
#define BPLIST_MIN_EXPANDED       (1u << 20)

/* Seconds between 1970-01-01 and 2001-01-01, the epoch of binary dates. */
#define MAC_EPOCH_OFFSET INT64_C(978307200)

static double be_double(const uint8_t *p, unsigned n)
{
        uint64_t bits = be_uint(p, n);
        if (n == 4) {
                uint32_t b32 = (uint32_t) bits;
                float f;
                memcpy(&f, &b32, sizeof(f));
                return f;
        }
        double d;
        memcpy(&d, &bits, sizeof(d));
        return d;
}

/*
 * Checks object @ref (bounds, claimed lengths, cycles, depth, strings) and
 * builds its value in one pass: nothing past this reader sees unchecked bytes.
 */
static int bscan_object(struct bscan *b, uint64_t ref, unsigned depth, struct pl_node **out)
{
        if (ref >= b->n_objects)
                return bfail(b, "object reference %" PRIu64 " beyond the %" PRIu64 " objects", ref,
                             b->n_objects);
        if (depth > PL_MAX_DEPTH)
                return bfail(b, "nesting deeper than %d levels", PL_MAX_DEPTH);
        if (b->state[ref])
                return bfail(b, "object %" PRIu64 " contains itself", ref);
        if (++b->visited > b->max_visited)
                return bfail(b,
                             "more than %" PRIu64 " values once shared objects are expanded "
                             "(a reference bomb?)",
                             b->max_visited);
        uint64_t off = be_uint(b->d + b->table_offset + ref * b->offset_size, b->offset_size);
        if (off < 8 || off >= b->table_offset)
                return bfail(b, "object %" PRIu64 " at offset %" PRIu64 " outside the object area",
                             ref, off);
        const uint8_t *p = b->d + off;
        uint64_t room = b->table_offset - off; /* bytes available from the marker on */
        uint8_t marker = p[0];
        unsigned kind = marker >> 4, low = marker & 0xF;
        uint64_t count = low, head = 1;
        bool counted = kind == 0x4 || kind == 0x5 || kind == 0x6 || kind == 0xA || kind == 0xD;
        if (counted && low == 0xF) {
                if (room < 2 || (p[1] >> 4) != 0x1 || (p[1] & 0xF) > 3)
                        return bfail(b, "object %" PRIu64 ": malformed length", ref);
                unsigned ls = 1u << (p[1] & 0xF);
                if (room < 2 + (uint64_t) ls)
                        return bfail(b, "object %" PRIu64 ": truncated length", ref);
                count = be_uint(p + 2, ls);
                head = 2 + ls;
        }
        uint64_t body;
        switch (kind) {
        case 0x0:
                if (marker == 0x08 || marker == 0x09) {
                        *out = pl_new_bool(marker == 0x09);
                        return 0;
                }
                return bfail(b, "object %" PRIu64 ": null and fill objects are not supported", ref);
        case 0x1:
                if (low > 3)
                        return bfail(b,
                                     "object %" PRIu64 ": integers wider than 64 bits are not "
                                     "supported",
                                     ref);
                body = 1u << low;
                break;
        case 0x2:
                if (low != 2 && low != 3)
                        return bfail(b, "object %" PRIu64 ": real of %u bytes", ref, 1u << low);
                body = 1u << low;
                break;
        case 0x3:
                if (marker != 0x33)
                        return bfail(b, "object %" PRIu64 ": unknown marker 0x%02x", ref, marker);
                body = 8;
                break;
        case 0x4:
        case 0x5:
                body = count;
                break;
        case 0x6:
                if (count > UINT64_MAX / 2)
                        return bfail(b, "object %" PRIu64 ": claimed length too large", ref);
                body = count * 2;
                break;
        case 0xA:
        case 0xD: {
                uint64_t refs = kind == 0xD ? count * 2 : count;
                if (count > UINT64_MAX / 16)
                        return bfail(b, "object %" PRIu64 ": claimed length too large", ref);
                body = refs * b->ref_size;
                break;
        }
        default:
                return bfail(b,
                             "object %" PRIu64 ": unsupported marker 0x%02x (UID, set or "
                             "unknown)",
                             ref, marker);
        }
        if (body > room - head)
                return bfail(b, "object %" PRIu64 " claims %" PRIu64 " bytes, %" PRIu64 " are left",
                             ref, body, room - head);
        const uint8_t *c = p + head;
        switch (kind) {
        case 0x1: {
                uint64_t v = be_uint(c, 1u << low);
                *out = pl_new_integer((int64_t) v); /* 8 bytes: two's complement */
                return 0;
        }
        case 0x2:
                *out = pl_new_real(be_double(c, 1u << low));
                return 0;
        case 0x3: {
                double d = be_double(c, 8);
                if (!(d > -4e12 && d < 4e12))
                        return bfail(b, "object %" PRIu64 ": date out of range", ref);
                int64_t whole = (int64_t) d; /* floor, without libm */
                if ((double) whole > d)
                        whole--;
                *out = pl_new_date(whole + MAC_EPOCH_OFFSET);
                return 0;
        }
        case 0x4:
                *out = pl_new_data(c, (size_t) count);
                return 0;
        case 0x5:
                for (uint64_t i = 0; i < count; i++)
                        if (c[i] == 0 || c[i] >= 0x80)
                                return bfail(b,
                                             "object %" PRIu64 ": ASCII string holds byte 0x%02x",
                                             ref, c[i]);
                *out = pl_new_string_n((const char *) c, (size_t) count);
                return 0;
        case 0x6: {
                _cleanup_buf_ struct buf s = BUF_INIT;
                for (uint64_t i = 0; i < count; i++) {
                        uint32_t u = (uint32_t) be_uint(c + 2 * i, 2);
                        if (u == 0)
                                return bfail(b, "object %" PRIu64 ": string holds U+0000", ref);
                        if (u >= 0xD800 && u <= 0xDBFF) {
                                uint32_t lo =
                                        i + 1 < count ? (uint32_t) be_uint(c + 2 * i + 2, 2) : 0;
                                if (lo < 0xDC00 || lo > 0xDFFF)
                                        return bfail(b, "object %" PRIu64 ": invalid UTF-16", ref);
                                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                                i++;
                        } else if (u >= 0xDC00 && u <= 0xDFFF)
                                return bfail(b, "object %" PRIu64 ": invalid UTF-16", ref);
                        (void) x_put_utf8(&s, u);
                }
                *out = pl_new_string_n(buf_str(&s), s.len);
                return 0;
        }
        default:
                break;
        }
        /* Arrays and dictionaries. */
        b->state[ref] = 1;
        _cleanup_pl_ struct pl_node *container = kind == 0xD ? pl_new_dict() : pl_new_array();
        for (uint64_t i = 0; i < count; i++) {
                uint64_t child = be_uint(c + i * b->ref_size, b->ref_size);
                _cleanup_pl_ struct pl_node *key = NULL;
                if (kind == 0xD) {
                        int r = bscan_object(b, child, depth + 1, &key);
                        if (r < 0)
                                return r;
                        if (!pl_is(key, PL_STRING))
                                return bfail(b,
                                             "object %" PRIu64 ": dictionary key is not a string",
                                             ref);
                        if (pl_dict_index(container, key->str) >= 0)
                                return bfail(b, "duplicate key \"%s\" in one dictionary", key->str);
                        child = be_uint(c + (count + i) * b->ref_size, b->ref_size);
                }
                struct pl_node *v = NULL;
                int r = bscan_object(b, child, depth + 1, &v);
                if (r < 0)
                        return r;
                if (kind == 0xD)
                        pl_dict_insert(container, SIZE_MAX, key->str, v);
                else
                        pl_array_append(container, v);
        }
        b->state[ref] = 0;
        *out = TAKE_PTR(container);
        return 0;
}

static int bplist_read(const uint8_t *d, size_t len, const char *name, struct pl_node **ret,
                       char **reterr)
{
        struct bscan b = { .d = d, .len = len, .name = name, .reterr = reterr };
        if (len < 8 + 1 + 32)
                return bfail(&b, "truncated (%zu bytes)", len);
        if (len > UINT32_MAX)
                return bfail(&b, "larger than 4 GiB");
        const uint8_t *t = d + len - 32;
        b.offset_size = t[6];
        b.ref_size = t[7];
        b.n_objects = be_uint(t + 8, 8);
        uint64_t top = be_uint(t + 16, 8);
        b.table_offset = be_uint(t + 24, 8);
        if (b.offset_size < 1 || b.offset_size > 8 || b.ref_size < 1 || b.ref_size > 8)
                return bfail(&b, "trailer: offset size %u / reference size %u, expected 1..8",
                             b.offset_size, b.ref_size);
        if (b.n_objects == 0 || top >= b.n_objects)
                return bfail(&b, "trailer: top object %" PRIu64 " of %" PRIu64 " objects", top,
                             b.n_objects);
        if (b.table_offset < 9 || b.table_offset >= len - 32 ||
            b.n_objects > (len - 32 - b.table_offset) / b.offset_size)
                return bfail(&b,
                             "trailer: offset table at %" PRIu64 " for %" PRIu64
                             " objects does not fit the file (truncated?)",
                             b.table_offset, b.n_objects);
        b.max_visited =
                MAX((uint64_t) BPLIST_MIN_EXPANDED, (uint64_t) len * BPLIST_EXPANSION_PER_BYTE);
        b.state = xcalloc(b.n_objects, 1);
        int r = bscan_object(&b, top, 1, ret);
        free(b.state);
        return r;
}

static int bin_parse(const uint8_t *data, size_t len, const char *name, struct pl_node **ret,
                     char **reterr)
{
        return bplist_read(data, len, name, ret, reterr);
}

/* ---- binary writer ---- */

/*
 * bplist00 as Apple writes it: objects numbered root first (pre-order), equal
 * strings and keys stored once, integers in the fewest of 1/2/4 bytes (8 for
 * large and negative ones), non-ASCII strings as UTF-16BE, offsets and
 * references in the fewest bytes. Deterministic, so that saving a loaded file
 * gives the same bytes. (libplist 2.2.0's writer takes seconds on a catalog.)
 */
struct bobj {
        const struct pl_node *node; /* NULL: a dictionary key, in key */
        const char *key;
        size_t first_ref, n_refs; /* containers: their references in bw.refs */
};

struct bwriter {
        struct bobj *objs;
        size_t n, cap;
        size_t *refs;
        size_t n_refs, cap_refs;
        /* string -> object index, open addressing (index + 1, 0 empty) */
        size_t *slots;
        size_t n_slots;
};

static const char *bobj_string(const struct bobj *o)
{
        return o->node ? o->node->str : o->key;
}

static size_t bw_add(struct bwriter *w, const struct pl_node *node, const char *key)
{
        GROW(w->objs, w->cap, w->n + 1);
        w->objs[w->n] = (struct bobj){ .node = node, .key = key };
        return w->n++;
}

static size_t bw_string(struct bwriter *w, const struct pl_node *node, const char *key)
{
        const char *s = node ? node->str : key;
        if (w->n_slots < (w->n + 1) * 2) {
                size_t want = w->n_slots ? w->n_slots * 2 : 1024;
                while (want < (w->n + 1) * 2)
                        want *= 2;
                free(w->slots);
                w->slots = xcalloc(want, sizeof(size_t));
                w->n_slots = want;
                for (size_t i = 0; i < w->n; i++) {
                        const struct bobj *o = &w->objs[i];
                        if (o->node && o->node->type != PL_STRING)
                                continue;
                        size_t h = key_hash(bobj_string(o)) & (want - 1);
                        while (w->slots[h])
                                h = (h + 1) & (want - 1);
                        w->slots[h] = i + 1;
                }
        }
        size_t mask = w->n_slots - 1;
        size_t h = key_hash(s) & mask;
        for (; w->slots[h]; h = (h + 1) & mask)
                if (streq(bobj_string(&w->objs[w->slots[h] - 1]), s))
                        return w->slots[h] - 1;
        size_t idx = bw_add(w, node, key);
        w->slots[h] = idx + 1;
        return idx;
}

static size_t bw_flatten(struct bwriter *w, const struct pl_node *n)
{
        if (n->type == PL_STRING)
                return bw_string(w, n, NULL);
        size_t idx = bw_add(w, n, NULL);
        if (n->type != PL_DICT && n->type != PL_ARRAY)
                return idx;
        size_t count = pl_count(n), refs = n->type == PL_DICT ? 2 * count : count;
        size_t first = w->n_refs;
        GROW(w->refs, w->cap_refs, w->n_refs + refs);
        w->n_refs += refs;
        w->objs[idx].first_ref = first;
        w->objs[idx].n_refs = refs;
        /* Children grow w->refs: compute each index before taking an address in it. */
        for (size_t i = 0; i < count; i++) {
                if (n->type == PL_DICT) {
                        size_t k = bw_string(w, NULL, n->dict.keys[i]);
                        w->refs[first + i] = k;
                        size_t v = bw_flatten(w, n->dict.values[i]);
                        w->refs[first + count + i] = v;
                } else {
                        size_t v = bw_flatten(w, n->array.items[i]);
                        w->refs[first + i] = v;
                }
        }
        return idx;
}

static unsigned bytes_for(uint64_t max)
{
        return max <= 0xFF ? 1 : max <= 0xFFFF ? 2 : max <= 0xFFFFFFFFu ? 4 : 8;
}

static void put_be(struct buf *b, uint64_t v, unsigned n)
{
        for (unsigned i = n; i > 0; i--)
                buf_putc(b, (char) (v >> (8 * (i - 1))));
}

static void put_marker(struct buf *b, unsigned kind, uint64_t count)
{
        if (count < 15) {
                buf_putc(b, (char) (kind << 4 | count));
                return;
        }
        buf_putc(b, (char) (kind << 4 | 0xF));
        unsigned n = bytes_for(count);
        buf_putc(b, (char) (0x10 | (n == 1 ? 0 : n == 2 ? 1 : n == 4 ? 2 : 3)));
        put_be(b, count, n);
}

static void put_double(struct buf *b, double d)
{
        uint64_t bits;
        memcpy(&bits, &d, sizeof(bits));
        put_be(b, bits, 8);
}

/* UTF-8 (invalid bytes become U+FFFD) to UTF-16 units; returns the count. */
static size_t utf16_units(const char *s, uint16_t *out)
{
        const unsigned char *p = (const unsigned char *) s;
        size_t n = 0;
        while (*p) {
                uint32_t cp;
                size_t l = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : *p >= 0xC0 ? 2 : 0;
                if (l == 0 || !utf8_is_valid((const char *) p, l)) {
                        cp = 0xFFFD;
                        l = 1;
                } else if (l == 1)
                        cp = *p;
                else {
                        cp = *p & (0xFF >> (l + 1));
                        for (size_t i = 1; i < l; i++)
                                cp = cp << 6 | (p[i] & 0x3F);
                }
                p += l;
                if (cp >= 0x10000) {
                        if (out) {
                                out[n] = (uint16_t) (0xD800 + ((cp - 0x10000) >> 10));
                                out[n + 1] = (uint16_t) (0xDC00 + ((cp - 0x10000) & 0x3FF));
                        }
                        n += 2;
                } else {
                        if (out)
                                out[n] = (uint16_t) cp;
                        n++;
                }
        }
        return n;
}

static void bw_put_string(struct buf *b, const char *s)
{
        size_t len = strlen(s);
        bool ascii = true;
        for (size_t i = 0; i < len && ascii; i++)
                ascii = (unsigned char) s[i] < 0x80;
        if (ascii) {
                put_marker(b, 0x5, len);
                buf_put(b, s, len);
                return;
        }
        size_t units = utf16_units(s, NULL);
        uint16_t *u = xmalloc((units + 1) * sizeof(uint16_t));
        utf16_units(s, u);
        put_marker(b, 0x6, units);
        for (size_t i = 0; i < units; i++)
                put_be(b, u[i], 2);
        free(u);
}

static int bin_serialize(const struct pl_node *root, struct buf *b, char **reterr)
{
        struct bwriter w = { 0 };
        bw_flatten(&w, root);
        unsigned ref_size = bytes_for(w.n - 1);
        uint64_t *offsets = xmalloc(w.n * sizeof(uint64_t));
        buf_put(b, "bplist00", 8);
        int r = 0;
        for (size_t i = 0; i < w.n && r == 0; i++) {
                const struct bobj *o = &w.objs[i];
                const struct pl_node *n = o->node;
                offsets[i] = b->len;
                if (!n) {
                        bw_put_string(b, o->key);
                        continue;
                }
                switch (n->type) {
                case PL_STRING:
                        bw_put_string(b, n->str);
                        break;
                case PL_BOOL:
                        buf_putc(b, n->boolean ? 0x09 : 0x08);
                        break;
                case PL_INTEGER: {
                        uint64_t v = (uint64_t) n->integer;
                        unsigned size = n->integer < 0 ? 8 : bytes_for(v);
                        buf_putc(b, (char) (0x10 | (size == 1   ? 0
                                                    : size == 2 ? 1
                                                    : size == 4 ? 2
                                                                : 3)));
                        put_be(b, v, size);
                        break;
                }
                case PL_REAL:
                        buf_putc(b, 0x23);
                        put_double(b, n->real);
                        break;
                case PL_DATE:
                        buf_putc(b, 0x33);
                        put_double(b, (double) (n->date - MAC_EPOCH_OFFSET));
                        break;
                case PL_DATA:
                        put_marker(b, 0x4, n->data.len);
                        buf_put(b, n->data.p, n->data.len);
                        break;
                case PL_ARRAY:
                case PL_DICT:
                        put_marker(b, n->type == PL_DICT ? 0xD : 0xA,
                                   n->type == PL_DICT ? o->n_refs / 2 : o->n_refs);
                        for (size_t j = 0; j < o->n_refs; j++)
                                put_be(b, w.refs[o->first_ref + j], ref_size);
                        break;
                default:
                        *reterr = xstrdup("unknown node type");
                        r = -EINVAL;
                }
        }
        if (r == 0) {
                uint64_t table = b->len;
                unsigned offset_size = bytes_for(table);
                for (size_t i = 0; i < w.n; i++)
                        put_be(b, offsets[i], offset_size);
                uint8_t trailer[6] = { 0 };
                buf_put(b, trailer, sizeof(trailer));
                buf_putc(b, (char) offset_size);
                buf_putc(b, (char) ref_size);
                put_be(b, w.n, 8);
                put_be(b, 0, 8); /* the root is object 0 */
                put_be(b, table, 8);
        }
        free(offsets);
        free(w.objs);
        free(w.refs);
        free(w.slots);
        return r;
}

/* ---- entry points ---- */

int pl_parse(const void *data, size_t len, const char *name, struct pl_node **ret,
             enum pl_format *ret_format, char **reterr)
{
        if (!name)
                name = "(plist)";
        if (len >= 6 && memcmp(data, "bplist", 6) == 0) {
                if (len < 8 || memcmp((const char *) data + 6, "00", 2) != 0) {
                        *reterr = xasprintf("%s: binary property list of an unsupported version "
                                            "(expected bplist00)",
                                            name);
                        return -EBADMSG;
                }
                int r = bin_parse(data, len, name, ret, reterr);
                if (r >= 0 && ret_format)
                        *ret_format = PL_FORMAT_BINARY;
                return r;
        }
        int r = xml_parse(data, len, name, ret, reterr);
        if (r >= 0 && ret_format)
                *ret_format = PL_FORMAT_XML;
        return r;
}

int pl_load_file(int at_fd, const char *path, size_t max_size, struct pl_node **ret,
                 enum pl_format *ret_format, char **reterr)
{
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r = read_file_at(at_fd, path, max_size ? max_size : 256u << 20, &data, &len, reterr);
        if (r < 0)
                return r;
        return pl_parse(data, len, path, ret, ret_format, reterr);
}

int pl_load_dict_file(int at_fd, const char *path, struct pl_node **ret, enum pl_format *ret_format,
                      char **reterr)
{
        _cleanup_pl_ struct pl_node *root = NULL;
        int r = pl_load_file(at_fd, path, 0, &root, ret_format, reterr);
        if (r < 0)
                return r;
        if (root->type != PL_DICT) {
                *reterr = xasprintf("%s: root is a %s, expected a dict", path,
                                    pl_type_to_string(root->type));
                return -EBADMSG;
        }
        *ret = TAKE_PTR(root);
        return 0;
}

int pl_serialize(const struct pl_node *root, enum pl_format format, char **ret, size_t *ret_len,
                 char **reterr)
{
        _cleanup_buf_ struct buf b = BUF_INIT;
        int r = format == PL_FORMAT_BINARY ? bin_serialize(root, &b, reterr)
                                           : xml_serialize(root, &b, reterr);
        if (r < 0)
                return r;
        *ret_len = b.len;
        *ret = buf_detach(&b);
        return 0;
}

int pl_save_file(const struct pl_node *root, enum pl_format format, int at_fd, const char *path,
                 char **reterr)
{
        _cleanup_free_ char *out = NULL;
        size_t len = 0;
        int r = pl_serialize(root, format, &out, &len, reterr);
        if (r < 0) {
                char *inner = *reterr;
                *reterr = xasprintf("%s: %s", path, inner);
                free(inner);
                return r;
        }
        return write_file_atomic(at_fd, path, out, len, 0644, reterr);
}

char *pl_value_to_text(const struct pl_node *n)
{
        char tmp[64];
        switch (n->type) {
        case PL_STRING:
                return xstrdup(n->str);
        case PL_INTEGER:
                return xasprintf("%" PRId64, n->integer);
        case PL_BOOL:
                return xstrdup(n->boolean ? "true" : "false");
        case PL_DATA: {
                char *s = xmalloc(n->data.len * 2 + 1);
                for (size_t i = 0; i < n->data.len; i++)
                        snprintf(s + 2 * i, 3, "%02x", n->data.p[i]);
                s[n->data.len * 2] = 0;
                return s;
        }
        case PL_DATE:
                pl_date_format(n->date, tmp);
                return xstrdup(tmp);
        case PL_REAL:
                format_real(n->real, tmp);
                return xstrdup(tmp);
        default: {
                char *out = NULL, *err = NULL;
                size_t len;
                if (pl_serialize(n, PL_FORMAT_XML, &out, &len, &err) < 0) {
                        free(out);
                        return err;
                }
                return out;
        }
        }
}
