/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "alloc.h"
#include "buf.h"
#include "fileio.h"
#include "json.h"
#include "process.h"
#include "random.h"
#include "strutil.h"
#include "strv.h"
#include "table.h"
#include "tsv.h"
#include "uuid.h"

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

static void test_fileio(void **state)
{
        (void) state;
        char dir[] = "/tmp/dkvm-test-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *path = xasprintf("%s/a/b/file", dir);
        _cleanup_free_ char *sub = xasprintf("%s/a/b", dir);
        assert_int_equal(mkdir_p(sub, 0755), 0);
        char *err = NULL;
        assert_int_equal(write_file_atomic(AT_FDCWD, path, "old\n", 4, 0640, &err), 0);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        /* An aborted replacement leaves the old content and no temporary file. */
        struct atomic_file f;
        assert_int_equal(atomic_file_open(AT_FDCWD, path, 0600, true, &f, &err), 0);
        assert_int_equal(atomic_file_write(&f, "new", 3, &err), 0);
        atomic_file_abort(&f);
        _cleanup_free_ char *data = NULL;
        size_t len;
        assert_int_equal(read_file_at(AT_FDCWD, path, 100, &data, &len, &err), 0);
        assert_string_equal(data, "old\n");
        assert_int_equal(len, 4);
        /* keep_owner keeps the old mode. */
        assert_int_equal(atomic_file_open(AT_FDCWD, path, 0600, true, &f, &err), 0);
        assert_int_equal(atomic_file_write(&f, "new", 3, &err), 0);
        assert_int_equal(atomic_file_commit(&f, &err), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        free(data);
        data = NULL;
        assert_int_equal(read_file_at(AT_FDCWD, path, 3, &data, &len, &err), 0);
        assert_string_equal(data, "new");
        free(data);
        data = NULL;
        assert_int_equal(read_file_at(AT_FDCWD, path, 2, &data, &len, &err), -EFBIG);
        free(err);
        err = NULL;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
        assert_int_equal(system(cmd), 0);
}

static void test_random_uuid(void **state)
{
        (void) state;
        struct rng a, b, c;
        rng_init_seed(&a, "seed", "serial");
        rng_init_seed(&b, "seed", "serial");
        rng_init_seed(&c, "seed", "gpt");
        uint64_t va = rng_u64(&a), vb = rng_u64(&b), vc = rng_u64(&c);
        assert_true(va == vb);
        assert_true(va != vc);
        for (int i = 0; i < 1000; i++)
                assert_true(rng_uniform(&a, 34) < 34);
        struct uuid u, v;
        uuid_random(&b, &u);
        char s[UUID_STRING_MAX];
        uuid_format(&u, s);
        assert_int_equal(strlen(s), 36);
        assert_int_equal(s[14], '4');
        assert_int_equal(uuid_parse(s, &v), 0);
        assert_memory_equal(u.b, v.b, 16);
        assert_int_equal(uuid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", &u), 0);
        uint8_t g[16];
        uuid_to_guid_bytes(&u, g);
        /* The ESP type GUID as it sits on disk. */
        static const uint8_t esp[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                         0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
        assert_memory_equal(g, esp, 16);
        uuid_from_guid_bytes(g, &v);
        assert_memory_equal(u.b, v.b, 16);
        assert_int_equal(uuid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93", &u), -EINVAL);
        assert_int_equal(uuid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93BX", &u), -EINVAL);
        assert_int_equal(uuid_parse("C12A7328+F81F-11D2-BA4B-00A0C93EC93B", &u), -EINVAL);
}

static void test_process(void **state)
{
        (void) state;
        _cleanup_buf_ struct buf out = {}, err = {};
        char *reterr = NULL;
        int status = -1;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "echo out; echo err >&2; exit 3",
                         NULL };
        assert_int_equal(process_run(argv, &out, &err, &status, &reterr), 0);
        assert_int_equal(status, 3);
        assert_string_equal(buf_str(&out), "out\n");
        assert_string_equal(buf_str(&err), "err\n");
        /* glibc reports a program that cannot start as an error; valgrind's posix_spawn as
         * a child that exits with 127, as the shell does. Either way it did not run. */
        char *bad[] = { (char *) "/nonexistent/program", NULL };
        status = 0;
        int r = process_run(bad, NULL, NULL, &status, &reterr);
        assert_true(r < 0 || status == 127);
        free(reterr);
        assert_true(process_find_program("sh", NULL));
        assert_false(process_find_program("no-such-program-here", NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_numbers), cmocka_unit_test(test_strings),
                cmocka_unit_test(test_strv),          cmocka_unit_test(test_buf_quoting),
                cmocka_unit_test(test_json_writer),   cmocka_unit_test(test_json_parser),
                cmocka_unit_test(test_tsv),           cmocka_unit_test(test_table),
                cmocka_unit_test(test_fileio),        cmocka_unit_test(test_random_uuid),
                cmocka_unit_test(test_process),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
