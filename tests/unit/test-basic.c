/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "alloc.h"
#include "buf.h"
#include "json.h"
#include "strutil.h"
#include "strv.h"
#include "table.h"
#include "tsv.h"

static void test_parse_numbers(void **state)
{
        (void) state;
        uint64_t u;
        uint32_t x;
        int i;
        assert_int_equal(parse_u64(" 42\n", &u), 0);
        assert_int_equal(u, 42);
        assert_int_equal(parse_u64("-1", &u), -EINVAL);
        assert_int_equal(parse_u64("12abc", &u), -EINVAL);
        assert_int_equal(parse_u64("99999999999999999999999", &u), -ERANGE);
        assert_int_equal(parse_hex_u32("0x10de\n", &x), 0);
        assert_int_equal(x, 0x10de);
        assert_int_equal(parse_hex_u32("0xZZZZ", &x), -EINVAL);
        assert_int_equal(parse_hex_u32("", &x), -EINVAL);
        assert_int_equal(parse_hex_u32("0x1ffffffff", &x), -ERANGE);
        assert_int_equal(parse_int("-5", &i), 0);
        assert_int_equal(i, -5);
        assert_int_equal(parse_size("256M", &u), 0);
        assert_int_equal(u, 256ull << 20);
        assert_int_equal(parse_size("8GiB", &u), 0);
        assert_int_equal(u, 8ull << 30);
        assert_int_equal(parse_size("1.5G", &u), -EINVAL);
        assert_int_equal(parse_size("99999999999T", &u), -ERANGE);
}

static void test_strings(void **state)
{
        (void) state;
        char s[] = "  hello \t\n";
        assert_string_equal(strstrip(s), "hello");
        char sq[] = "Xeon(R) CPU     X5680  @\t 3.33GHz";
        assert_string_equal(str_squeeze_blanks(sq), "Xeon(R) CPU X5680 @ 3.33GHz");
        assert_int_equal(edit_distance("doctor", "docter"), 1);
        assert_int_equal(edit_distance("iommu", "iommu"), 0);
        assert_int_equal(edit_distance("", "abc"), 3);
        char *p = str_printable("a\001b\xff\xc3\xa9", 100);
        assert_string_equal(p, "a?b?\xc3\xa9");
        free(p);
        p = str_printable("abcdefgh", 4);
        assert_string_equal(p, "abcd...");
        free(p);
        assert_true(utf8_is_valid("\xc3\xa9", 2));
        assert_false(utf8_is_valid("\xc0\xaf", 2));     /* overlong */
        assert_false(utf8_is_valid("\xed\xa0\x80", 3)); /* surrogate */
        char out[32];
        assert_string_equal(format_bytes(32ull << 30, out, sizeof(out)), "32.0 GiB");
        assert_string_equal(format_bytes(100, out, sizeof(out)), "100 B");
}

static void test_strv(void **state)
{
        (void) state;
        _cleanup_strv_free_ char **l = strv_split("  b a  c ", " ");
        assert_int_equal(strv_length(l), 3);
        strv_sort(l);
        _cleanup_free_ char *j = strv_join(l, ",");
        assert_string_equal(j, "a,b,c");
        assert_true(strv_contains(l, "b"));
        assert_false(strv_contains(l, "d"));
}

static void test_buf_quoting(void **state)
{
        (void) state;
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_put_json_string(&b, "a\"b\\c\n\001");
        assert_string_equal(buf_str(&b), "\"a\\\"b\\\\c\\n\\u0001\"");
        buf_reset(&b);
        buf_put_shell_quoted(&b, "plain-arg=1");
        buf_putc(&b, ' ');
        buf_put_shell_quoted(&b, "it's");
        buf_putc(&b, ' ');
        buf_put_shell_quoted(&b, "");
        assert_string_equal(buf_str(&b), "plain-arg=1 'it'\\''s' ''");
}

static void test_json_writer(void **state)
{
        (void) state;
        struct json_writer w;
        json_writer_init(&w, false);
        json_begin_object(&w);
        json_kv_string(&w, "a", "x");
        json_key(&w, "b");
        json_begin_array(&w);
        json_int(&w, -1);
        json_bool(&w, true);
        json_null(&w);
        json_end_array(&w);
        json_key(&w, "c");
        json_begin_object(&w);
        json_end_object(&w);
        json_end_object(&w);
        _cleanup_free_ char *s = json_writer_finish(&w);
        assert_string_equal(s, "{\"a\":\"x\",\"b\":[-1,true,null],\"c\":{}}\n");

        json_writer_init(&w, true);
        json_begin_object(&w);
        json_kv_uint(&w, "n", 1);
        json_end_object(&w);
        _cleanup_free_ char *p = json_writer_finish(&w);
        assert_string_equal(p, "{\n  \"n\": 1\n}\n");
}

static void test_json_parser(void **state)
{
        (void) state;
        const char *doc = "{\"a\": [1, 2.5, \"x\\u00e9\\ud83d\\ude00\"], \"b\": {\"c\": null}, "
                          "\"t\": true}";
        _cleanup_(json_value_freep) struct json_value *v = NULL;
        _cleanup_free_ char *err = NULL;
        assert_int_equal(json_parse(doc, strlen(doc), &v, &err), 0);
        const struct json_value *a = json_get(v, "a");
        assert_non_null(a);
        assert_int_equal(a->n_items, 3);
        assert_string_equal(json_str(a->items[2]), "x\xc3\xa9\xf0\x9f\x98\x80");
        assert_int_equal(json_get(json_get(v, "b"), "c")->type, JSON_NULL);
        assert_true(json_get(v, "t")->boolean);

        static const char *const bad[] = {
                "",    "{",          "[1,]", "{\"a\" 1}", "\"abc", "[1] x", "{\"a\":\"\\q\"}",
                "nul", "\"\\ud800\""
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct json_value *x = NULL;
                char *e = NULL;
                assert_int_equal(json_parse(bad[i], strlen(bad[i]), &x, &e), -EINVAL);
                assert_null(x);
                assert_non_null(e);
                free(e);
        }
        /* Deep nesting is refused, not recursed into until the stack ends. */
        size_t n = 100000;
        char *deep = xmalloc(n + 1);
        memset(deep, '[', n);
        deep[n] = 0;
        struct json_value *x = NULL;
        char *e = NULL;
        assert_int_equal(json_parse(deep, n, &x, &e), -EINVAL);
        assert_non_null(strstr(e, "nesting too deep"));
        free(e);
        free(deep);
}

static void test_tsv(void **state)
{
        (void) state;
        struct tsv *t = NULL;
        char *err = NULL;
        assert_int_equal(tsv_parse("x.tsv", xstrdup("a\tb\n# comment\n1\t2\n\n3\t4\r\n"), &t, &err),
                         0);
        assert_int_equal(t->n_rows, 2);
        assert_int_equal(tsv_column(t, "b"), 1);
        assert_int_equal(tsv_column(t, "z"), -1);
        assert_string_equal(tsv_field(t, 1, 1), "4");
        assert_string_equal(tsv_field(t, 1, -1), "");
        assert_int_equal(t->lines[1], 5);
        tsv_free(t);

        t = NULL;
        assert_int_equal(tsv_parse("x.tsv", xstrdup("a\tb\n1\t2\t3\n"), &t, &err), -EINVAL);
        assert_string_equal(err, "x.tsv:2: expected 2 tab-separated fields, found 3");
        free(err);
        assert_int_equal(tsv_parse("y.tsv", xstrdup(""), &t, &err), -EINVAL);
        assert_string_equal(err, "y.tsv: empty file, expected a header row");
        free(err);
        assert_int_equal(tsv_parse("z.tsv", xstrdup("a\n\xff\n"), &t, &err), -EINVAL);
        assert_string_equal(err, "z.tsv:2: invalid UTF-8");
        free(err);
}

static void test_table(void **state)
{
        (void) state;
        _cleanup_(table_freep) struct table *t =
                table_new((const char *const[]){ "A", "LONGER", "C", NULL });
        table_add(t, "x");
        table_add(t, "y");
        table_add(t, "");
        table_add(t, "wide cell");
        table_add(t, NULL);
        table_add(t, "z");
        _cleanup_buf_ struct buf b = BUF_INIT;
        table_render(t, &b, 2);
        assert_string_equal(buf_str(&b), "  A          LONGER  C\n"
                                         "  x          y\n"
                                         "  wide cell  -       z\n");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_numbers), cmocka_unit_test(test_strings),
                cmocka_unit_test(test_strv),          cmocka_unit_test(test_buf_quoting),
                cmocka_unit_test(test_json_writer),   cmocka_unit_test(test_json_parser),
                cmocka_unit_test(test_tsv),           cmocka_unit_test(test_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
