/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A streaming JSON writer (output only, keys in the order written) and a small
 * parser for the few JSON inputs we read (QEMU firmware descriptors).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define JSON_MAX_DEPTH 64

struct json_writer {
        struct buf out;
        bool pretty;
        unsigned depth;
        bool has_items[JSON_MAX_DEPTH];
        bool after_key;
};

void json_writer_init(struct json_writer *w, bool pretty);
void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
/* NULL writes null. */
void json_string(struct json_writer *w, const char *s);
void json_int(struct json_writer *w, int64_t v);
void json_uint(struct json_writer *w, uint64_t v);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);

void json_kv_string(struct json_writer *w, const char *key, const char *s);
void json_kv_uint(struct json_writer *w, const char *key, uint64_t v);
void json_kv_bool(struct json_writer *w, const char *key, bool v);
/* Finishes the document with a newline and returns it; free() it. */
char *json_writer_finish(struct json_writer *w);

enum json_type {
        JSON_NULL,
        JSON_BOOL,
        JSON_NUMBER,
        JSON_STRING,
        JSON_ARRAY,
        JSON_OBJECT,
};

struct json_value {
        enum json_type type;
        bool boolean;
        double number;
        char *string;              /* JSON_STRING */
        struct json_value **items; /* JSON_ARRAY values, JSON_OBJECT values */
        char **keys;               /* JSON_OBJECT keys, parallel to items */
        size_t n_items;
};

/* Parses @text (length @n). On failure fills *reterr with the line and reason. */
int json_parse(const char *text, size_t n, struct json_value **ret, char **reterr);
struct json_value *json_value_free(struct json_value *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct json_value *, json_value_free)
/* Member @key of an object, or NULL. */
const struct json_value *json_get(const struct json_value *obj, const char *key);
/* The string value, or NULL if @v is not a string. */
const char *json_str(const struct json_value *v);
