/* SPDX-License-Identifier: MIT */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include "alloc.h"

void json_writer_init(struct json_writer *w, bool pretty)
{
        *w = (struct json_writer){ .out = BUF_INIT, .pretty = pretty };
}

static void newline(struct json_writer *w)
{
        if (!w->pretty)
                return;
        buf_putc(&w->out, '\n');
        buf_pad(&w->out, 2 * w->depth);
}

/* Separator and indentation before a value or a key. */
static void before_item(struct json_writer *w)
{
        if (w->after_key) {
                w->after_key = false;
                return;
        }
        if (w->depth > 0) {
                if (w->has_items[w->depth - 1])
                        buf_putc(&w->out, ',');
                w->has_items[w->depth - 1] = true;
                newline(w);
        }
}

static void open_container(struct json_writer *w, char c)
{
        before_item(w);
        buf_putc(&w->out, c);
        if (w->depth < JSON_MAX_DEPTH)
                w->has_items[w->depth] = false;
        w->depth++;
}

static void close_container(struct json_writer *w, char c)
{
        w->depth--;
        if (w->depth < JSON_MAX_DEPTH && w->has_items[w->depth])
                newline(w);
        buf_putc(&w->out, c);
}

void json_begin_object(struct json_writer *w)
{
        open_container(w, '{');
}

void json_end_object(struct json_writer *w)
{
        close_container(w, '}');
}

void json_begin_array(struct json_writer *w)
{
        open_container(w, '[');
}

void json_end_array(struct json_writer *w)
{
        close_container(w, ']');
}

void json_key(struct json_writer *w, const char *key)
{
        before_item(w);
        buf_put_json_string(&w->out, key);
        buf_puts(&w->out, w->pretty ? ": " : ":");
        w->after_key = true;
}

void json_string(struct json_writer *w, const char *s)
{
        before_item(w);
        if (s)
                buf_put_json_string(&w->out, s);
        else
                buf_puts(&w->out, "null");
}

void json_int(struct json_writer *w, int64_t v)
{
        before_item(w);
        buf_printf(&w->out, "%" PRId64, v);
}

void json_uint(struct json_writer *w, uint64_t v)
{
        before_item(w);
        buf_printf(&w->out, "%" PRIu64, v);
}

void json_bool(struct json_writer *w, bool v)
{
        before_item(w);
        buf_puts(&w->out, v ? "true" : "false");
}

void json_null(struct json_writer *w)
{
        before_item(w);
        buf_puts(&w->out, "null");
}

void json_kv_string(struct json_writer *w, const char *key, const char *s)
{
        json_key(w, key);
        json_string(w, s);
}

void json_kv_uint(struct json_writer *w, const char *key, uint64_t v)
{
        json_key(w, key);
        json_uint(w, v);
}

void json_kv_bool(struct json_writer *w, const char *key, bool v)
{
        json_key(w, key);
        json_bool(w, v);
}

char *json_writer_finish(struct json_writer *w)
{
        buf_putc(&w->out, '\n');
        return buf_detach(&w->out);
}

/* ---- parser ---- */

struct parser {
        const char *p, *end, *start;
        char *err;
        unsigned depth;
};

static int fail(struct parser *ps, const char *what)
{
        if (!ps->err) {
                unsigned line = 1;
                for (const char *q = ps->start; q < ps->p && q < ps->end; q++)
                        line += *q == '\n';
                ps->err = xasprintf("line %u: %s", line, what);
        }
        return -EINVAL;
}

static void skip_ws(struct parser *ps)
{
        while (ps->p < ps->end &&
               (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
                ps->p++;
}

static void put_utf8(struct buf *b, unsigned cp)
{
        if (cp < 0x80)
                buf_putc(b, (char) cp);
        else if (cp < 0x800) {
                buf_putc(b, (char) (0xc0 | (cp >> 6)));
                buf_putc(b, (char) (0x80 | (cp & 0x3f)));
        } else if (cp < 0x10000) {
                buf_putc(b, (char) (0xe0 | (cp >> 12)));
                buf_putc(b, (char) (0x80 | ((cp >> 6) & 0x3f)));
                buf_putc(b, (char) (0x80 | (cp & 0x3f)));
        } else {
                buf_putc(b, (char) (0xf0 | (cp >> 18)));
                buf_putc(b, (char) (0x80 | ((cp >> 12) & 0x3f)));
                buf_putc(b, (char) (0x80 | ((cp >> 6) & 0x3f)));
                buf_putc(b, (char) (0x80 | (cp & 0x3f)));
        }
}

static int hex4(struct parser *ps, unsigned *ret)
{
        if (ps->end - ps->p < 4)
                return fail(ps, "truncated \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                char c = *ps->p++;
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned) (c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned) (c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned) (c - 'A' + 10);
                else
                        return fail(ps, "bad \\u escape");
        }
        *ret = v;
        return 0;
}

static int parse_string(struct parser *ps, char **ret)
{
        ps->p++; /* opening quote */
        _cleanup_buf_ struct buf b = BUF_INIT;
        for (;;) {
                if (ps->p >= ps->end)
                        return fail(ps, "unterminated string");
                unsigned char c = (unsigned char) *ps->p++;
                if (c == '"')
                        break;
                if (c < 0x20)
                        return fail(ps, "control character in string");
                if (c != '\\') {
                        buf_putc(&b, (char) c);
                        continue;
                }
                if (ps->p >= ps->end)
                        return fail(ps, "unterminated escape");
                char e = *ps->p++;
                unsigned cp;
                switch (e) {
                case '"':
                case '\\':
                case '/':
                        buf_putc(&b, e);
                        break;
                case 'b':
                        buf_putc(&b, '\b');
                        break;
                case 'f':
                        buf_putc(&b, '\f');
                        break;
                case 'n':
                        buf_putc(&b, '\n');
                        break;
                case 'r':
                        buf_putc(&b, '\r');
                        break;
                case 't':
                        buf_putc(&b, '\t');
                        break;
                case 'u':
                        if (hex4(ps, &cp) < 0)
                                return -EINVAL;
                        if (cp >= 0xd800 && cp < 0xdc00 && ps->end - ps->p >= 6 &&
                            ps->p[0] == '\\' && ps->p[1] == 'u') {
                                unsigned lo;
                                ps->p += 2;
                                if (hex4(ps, &lo) < 0)
                                        return -EINVAL;
                                if (lo < 0xdc00 || lo > 0xdfff)
                                        return fail(ps, "bad surrogate pair");
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                        } else if (cp >= 0xd800 && cp <= 0xdfff)
                                return fail(ps, "lone surrogate");
                        if (cp == 0)
                                return fail(ps, "NUL in string");
                        put_utf8(&b, cp);
                        break;
                default:
                        return fail(ps, "bad escape");
                }
        }
        *ret = buf_detach(&b);
        return 0;
}

static int parse_value(struct parser *ps, struct json_value **ret);

static int parse_container(struct parser *ps, struct json_value *v, bool object)
{
        char close = object ? '}' : ']';
        size_t cap = 0;
        ps->p++;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == close) {
                ps->p++;
                return 0;
        }
        for (;;) {
                skip_ws(ps);
                char *key = NULL;
                if (object) {
                        if (ps->p >= ps->end || *ps->p != '"')
                                return fail(ps, "expected a key");
                        if (parse_string(ps, &key) < 0)
                                return -EINVAL;
                        skip_ws(ps);
                        if (ps->p >= ps->end || *ps->p != ':') {
                                free(key);
                                return fail(ps, "expected ':'");
                        }
                        ps->p++;
                }
                struct json_value *item = NULL;
                if (parse_value(ps, &item) < 0) {
                        free(key);
                        return -EINVAL;
                }
                size_t kcap = cap;
                GROW(v->items, cap, v->n_items + 1);
                if (object) {
                        GROW(v->keys, kcap, v->n_items + 1);
                        v->keys[v->n_items] = key;
                }
                v->items[v->n_items++] = item;
                skip_ws(ps);
                if (ps->p >= ps->end)
                        return fail(ps, "unterminated container");
                if (*ps->p == ',') {
                        ps->p++;
                        continue;
                }
                if (*ps->p == close) {
                        ps->p++;
                        return 0;
                }
                return fail(ps, object ? "expected ',' or '}'" : "expected ',' or ']'");
        }
}

static bool match(struct parser *ps, const char *word)
{
        size_t n = strlen(word);
        if ((size_t) (ps->end - ps->p) >= n && memcmp(ps->p, word, n) == 0) {
                ps->p += n;
                return true;
        }
        return false;
}

static int parse_value(struct parser *ps, struct json_value **ret)
{
        skip_ws(ps);
        if (ps->p >= ps->end)
                return fail(ps, "unexpected end of input");
        if (ps->depth >= JSON_MAX_DEPTH)
                return fail(ps, "nesting too deep");
        _cleanup_(json_value_freep) struct json_value *v = xcalloc(1, sizeof(*v));
        char c = *ps->p;
        int r = 0;
        if (c == '{' || c == '[') {
                v->type = c == '{' ? JSON_OBJECT : JSON_ARRAY;
                ps->depth++;
                r = parse_container(ps, v, c == '{');
                ps->depth--;
        } else if (c == '"') {
                v->type = JSON_STRING;
                r = parse_string(ps, &v->string);
        } else if (match(ps, "true")) {
                v->type = JSON_BOOL;
                v->boolean = true;
        } else if (match(ps, "false"))
                v->type = JSON_BOOL;
        else if (match(ps, "null"))
                v->type = JSON_NULL;
        else if (c == '-' || (c >= '0' && c <= '9')) {
                char tmp[64];
                size_t n = 0;
                while (ps->p < ps->end && n < sizeof(tmp) - 1 && strchr("+-.eE0123456789", *ps->p))
                        tmp[n++] = *ps->p++;
                tmp[n] = 0;
                char *end;
                v->type = JSON_NUMBER;
                v->number = strtod(tmp, &end);
                if (*end || !isfinite(v->number))
                        return fail(ps, "bad number");
        } else
                return fail(ps, "unexpected character");
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v);
        return 0;
}

int json_parse(const char *text, size_t n, struct json_value **ret, char **reterr)
{
        struct parser ps = { .p = text, .end = text + n, .start = text };
        struct json_value *v = NULL;
        if (parse_value(&ps, &v) == 0) {
                skip_ws(&ps);
                if (ps.p < ps.end) {
                        json_value_free(v);
                        fail(&ps, "trailing data");
                } else {
                        *ret = v;
                        return 0;
                }
        }
        *reterr = ps.err;
        return -EINVAL;
}

struct json_value *json_value_free(struct json_value *v)
{
        if (!v)
                return NULL;
        for (size_t i = 0; i < v->n_items; i++) {
                json_value_free(v->items[i]);
                if (v->keys)
                        free(v->keys[i]);
        }
        free(v->items);
        free(v->keys);
        free(v->string);
        free(v);
        return NULL;
}

const struct json_value *json_get(const struct json_value *obj, const char *key)
{
        if (!obj || obj->type != JSON_OBJECT)
                return NULL;
        for (size_t i = 0; i < obj->n_items; i++)
                if (streq(obj->keys[i], key))
                        return obj->items[i];
        return NULL;
}

const char *json_str(const struct json_value *v)
{
        return v && v->type == JSON_STRING ? v->string : NULL;
}
