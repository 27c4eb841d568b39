/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Property lists: an owned tree of values with ordered dictionaries, read
 * from XML or binary (detected from the bytes) and written as either. This is
 * the property-list module of the project; it was meant to wrap libplist, but
 * libplist 2.2.0 (Debian 12) is used for neither direction: its parsers are
 * not hardened and its binary writer takes seconds on a software-update
 * catalog. The binary reader checks every offset, claimed length, reference
 * (cycles, expansion), nesting level and string while it builds the tree in
 * one pass; the XML reader is strict (one line-numbered error, duplicate keys
 * refused, UTF-8 checked, nesting bounded). Both writers are canonical: XML in
 * Apple's layout with tabs, 7-bit ASCII (others as character references) as
 * OpenCore reads it; bplist00 as Apple writes it. Loading and saving a file
 * darwinkvm wrote gives the same bytes.
 *
 * Paths name a value inside the tree: dictionary keys separated by '.',
 * array elements as [N], e.g. "Kernel.Add[2].Enabled" or
 * "NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.boot-args". A '\' makes
 * the next character part of the key ("a\.b" is the key "a.b").
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"

enum pl_type {
        PL_STRING,
        PL_INTEGER,
        PL_BOOL,
        PL_DATA,
        PL_DATE,
        PL_REAL,
        PL_DICT,
        PL_ARRAY,
        _PL_TYPE_MAX,
};

enum pl_format {
        PL_FORMAT_XML,
        PL_FORMAT_BINARY,
};

/* Nesting deeper than this is refused (config.plist needs 6, Apple's catalog 8). */
#define PL_MAX_DEPTH 256

struct pl_node;

/* "string", "integer", "bool", "data", "date", "real", "dict", "array". */
const char *pl_type_to_string(enum pl_type t);
/* Accepts the names above and "boolean", "int", "number" (integer); -1 when unknown. */
int pl_type_from_string(const char *s);
/* "xml", "binary"; pl_format_from_string() also accepts "bin", -1 when unknown. */
const char *pl_format_to_string(enum pl_format f);
int pl_format_from_string(const char *s);

/* Constructors; they never fail (allocation aborts). */
struct pl_node *pl_new_string(const char *s);
struct pl_node *pl_new_string_n(const char *s, size_t n);
struct pl_node *pl_new_integer(int64_t v);
struct pl_node *pl_new_bool(bool v);
struct pl_node *pl_new_data(const void *p, size_t n);
/* Seconds since 1970-01-01T00:00:00Z (whole seconds: XML carries no fraction). */
struct pl_node *pl_new_date(int64_t unix_seconds);
struct pl_node *pl_new_real(double v);
struct pl_node *pl_new_dict(void);
struct pl_node *pl_new_array(void);
struct pl_node *pl_copy(const struct pl_node *n);
struct pl_node *pl_free(struct pl_node *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pl_node *, pl_free)
#define _cleanup_pl_ _cleanup_(pl_freep)

enum pl_type pl_type(const struct pl_node *n);
bool pl_is(const struct pl_node *n, enum pl_type t);
/* Deep equality (types and values, dictionary order included). */
bool pl_equal(const struct pl_node *a, const struct pl_node *b);

/* Scalar accessors: NULL / false when @n is NULL or of another type. */
const char *pl_string(const struct pl_node *n);
bool pl_get_integer(const struct pl_node *n, int64_t *ret);
bool pl_get_bool(const struct pl_node *n, bool *ret);
/* *ret_len gets the length; the pointer stays owned by @n. */
const uint8_t *pl_data(const struct pl_node *n, size_t *ret_len);
bool pl_get_date(const struct pl_node *n, int64_t *ret_unix_seconds);
bool pl_get_real(const struct pl_node *n, double *ret);

/* Setters keep the node's place in its parent and change its type if needed. */
void pl_set_string(struct pl_node *n, const char *s);
void pl_set_integer(struct pl_node *n, int64_t v);
void pl_set_bool(struct pl_node *n, bool v);
void pl_set_data(struct pl_node *n, const void *p, size_t len);

/* Elements of a dictionary or an array (0 for scalars and NULL). */
size_t pl_count(const struct pl_node *n);

/* Dictionaries keep insertion order; lookups are hashed for large ones. */
struct pl_node *pl_dict_get(const struct pl_node *dict, const char *key);
const char *pl_dict_key_at(const struct pl_node *dict, size_t i);
struct pl_node *pl_dict_value_at(const struct pl_node *dict, size_t i);
/* Index of @key, or -1. */
ssize_t pl_dict_index(const struct pl_node *dict, const char *key);
/* Takes @value; replaces an existing value in place, else appends. Returns @value. */
struct pl_node *pl_dict_set(struct pl_node *dict, const char *key, struct pl_node *value);
/* Takes @value; inserts at @index (clamped to the end). @key must be absent. */
struct pl_node *pl_dict_insert(struct pl_node *dict, size_t index, const char *key,
                               struct pl_node *value);
/* Removes and returns the value (the caller frees it), NULL when absent. */
struct pl_node *pl_dict_take(struct pl_node *dict, const char *key);
/* Removes and frees; false when absent. */
bool pl_dict_remove(struct pl_node *dict, const char *key);

/* Typed lookups: NULL/false when absent or of another type. */
const char *pl_dict_get_string(const struct pl_node *dict, const char *key);
bool pl_dict_get_integer(const struct pl_node *dict, const char *key, int64_t *ret);
bool pl_dict_get_bool(const struct pl_node *dict, const char *key, bool *ret);
struct pl_node *pl_dict_get_dict(const struct pl_node *dict, const char *key);
struct pl_node *pl_dict_get_array(const struct pl_node *dict, const char *key);
/* Returns the dictionary at @key, creating (or replacing a non-dictionary) as needed. */
struct pl_node *pl_dict_ensure_dict(struct pl_node *dict, const char *key);
struct pl_node *pl_dict_ensure_array(struct pl_node *dict, const char *key);

struct pl_node *pl_array_get(const struct pl_node *array, size_t i);
/* Take @value; return it. Insert clamps @index to the end. */
struct pl_node *pl_array_append(struct pl_node *array, struct pl_node *value);
struct pl_node *pl_array_insert(struct pl_node *array, size_t index, struct pl_node *value);
struct pl_node *pl_array_take(struct pl_node *array, size_t index);
bool pl_array_remove(struct pl_node *array, size_t index);

/*
 * Paths. Errors name the path and what was found there, e.g.
 * "Kernel.Add[9]: index 9 out of range (7 elements)".
 */
int pl_path_get(const struct pl_node *root, const char *path, struct pl_node **ret, char **reterr);
/* Replaces or creates the last component (dict key, or [N] with N <= count); parents must exist. */
int pl_path_set(struct pl_node *root, const char *path, struct pl_node *value, char **reterr);
/* Like set, but a dict key must not exist yet and [N] inserts before N ([] or [count] appends). */
int pl_path_add(struct pl_node *root, const char *path, struct pl_node *value, char **reterr);
int pl_path_delete(struct pl_node *root, const char *path, char **reterr);
/* Appends @key to the path in @buf-like string form, escaping '.', '[', ']' and '\'. */
char *pl_path_join_key(const char *parent, const char *key);
char *pl_path_join_index(const char *parent, size_t index);

/*
 * Values from command-line text: string as is; integer decimal or 0x hex;
 * bool true/false/yes/no/1/0; data as hex ("0011aa", optional 0x and
 * blanks) or base64 ("base64:" prefix, or anything that is not hex);
 * date as 2024-01-31T12:00:00Z; real; dict/array only empty ("" or {}/[]).
 */
int pl_value_from_text(enum pl_type type, const char *text, struct pl_node **ret, char **reterr);
/* Scalars as text (data as lowercase hex); dict/array as their XML. */
char *pl_value_to_text(const struct pl_node *n);

/* Base64 (RFC 4648, padded) and lowercase hex, exposed for other modules. */
char *pl_base64_encode(const void *p, size_t n);
/* Blanks are skipped; *ret is NUL-terminated beyond *ret_len. */
int pl_base64_decode(const char *s, size_t len, uint8_t **ret, size_t *ret_len);
/* "YYYY-MM-DDTHH:MM:SSZ" <-> unix seconds. */
int pl_date_parse(const char *s, size_t len, int64_t *ret);
void pl_date_format(int64_t unix_seconds, char out[static 64]);

/*
 * Parsing: @name (a file name) prefixes error messages. The format is
 * detected ("bplist00" magic: binary; else XML) and returned in *ret_format
 * when not NULL. The root may be any type; callers that need a dict check.
 */
int pl_parse(const void *data, size_t len, const char *name, struct pl_node **ret,
             enum pl_format *ret_format, char **reterr);
/* Files larger than @max_size (0: 256 MiB) are refused. */
int pl_load_file(int at_fd, const char *path, size_t max_size, struct pl_node **ret,
                 enum pl_format *ret_format, char **reterr);
/* Dictionaries only as root, as OpenCore, plistlib and CF expect for a config. */
int pl_load_dict_file(int at_fd, const char *path, struct pl_node **ret, enum pl_format *ret_format,
                      char **reterr);

/* Serialises; *ret is NUL-terminated beyond *ret_len. Fails only on values XML cannot carry. */
int pl_serialize(const struct pl_node *root, enum pl_format format, char **ret, size_t *ret_len,
                 char **reterr);
/* Atomically (temporary file, fsync, rename), mode 0644 or that of the file replaced. */
int pl_save_file(const struct pl_node *root, enum pl_format format, int at_fd, const char *path,
                 char **reterr);
