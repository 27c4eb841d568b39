/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alloc.h"
#include "buf.h"
#include "plist.h"

#define HEAD                                               \
 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"            \
 "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" " \
 "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n"

static const char sample[] = HEAD "<dict>\n"
                                  "\t<key>Kernel</key>\n"
                                  "\t<dict>\n"
                                  "\t\t<key>Add</key>\n"
                                  "\t\t<array>\n"
                                  "\t\t\t<dict>\n"
                                  "\t\t\t\t<key>BundlePath</key>\n"
                                  "\t\t\t\t<string>Lilu.kext</string>\n"
                                  "\t\t\t\t<key>Enabled</key>\n"
                                  "\t\t\t\t<true/>\n"
                                  "\t\t\t</dict>\n"
                                  "\t\t\t<dict>\n"
                                  "\t\t\t\t<key>BundlePath</key>\n"
                                  "\t\t\t\t<string>VMHide.kext</string>\n"
                                  "\t\t\t\t<key>Enabled</key>\n"
                                  "\t\t\t\t<false/>\n"
                                  "\t\t\t</dict>\n"
                                  "\t\t</array>\n"
                                  "\t</dict>\n"
                                  "\t<key>NVRAM</key>\n"
                                  "\t<dict>\n"
                                  "\t\t<key>Add</key>\n"
                                  "\t\t<dict>\n"
                                  "\t\t\t<key>7C436110-AB2A-4BBB-A880-FE41995C9F82</key>\n"
                                  "\t\t\t<dict>\n"
                                  "\t\t\t\t<key>boot-args</key>\n"
                                  "\t\t\t\t<string>-v keepsyms=1 &amp; &lt;x&gt;</string>\n"
                                  "\t\t\t\t<key>csr-active-config</key>\n"
                                  "\t\t\t\t<data>AAAAAA==</data>\n"
                                  "\t\t\t</dict>\n"
                                  "\t\t</dict>\n"
                                  "\t</dict>\n"
                                  "\t<key>Misc</key>\n"
                                  "\t<dict>\n"
                                  "\t\t<key>Timeout</key>\n"
                                  "\t\t<integer>-5</integer>\n"
                                  "\t\t<key>Ratio</key>\n"
                                  "\t\t<real>0.1</real>\n"
                                  "\t\t<key>When</key>\n"
                                  "\t\t<date>2024-02-29T23:59:58Z</date>\n"
                                  "\t\t<key>Empty</key>\n"
                                  "\t\t<array/>\n"
                                  "\t\t<key>Name</key>\n"
                                  "\t\t<string>caf&#xE9; &#x1F600;</string>\n"
                                  "\t</dict>\n"
                                  "</dict>\n"
                                  "</plist>\n";

static struct pl_node *parse_ok(const char *text)
{
        struct pl_node *n = NULL;
        char *err = NULL;
        int r = pl_parse(text, strlen(text), "t.plist", &n, NULL, &err);
        if (r < 0)
                fprintf(stderr, "unexpected: %s\n", err);
        assert_int_equal(r, 0);
        assert_null(err);
        return n;
}

static char *parse_err(const void *data, size_t len)
{
        struct pl_node *n = NULL;
        char *err = NULL;
        int r = pl_parse(data, len, "t.plist", &n, NULL, &err);
        assert_true(r < 0);
        assert_null(n);
        assert_non_null(err);
        assert_null(strchr(err, '\n'));
        return err;
}

static void test_xml_access(void **state)
{
        (void) state;
        _cleanup_pl_ struct pl_node *root = parse_ok(sample);
        assert_int_equal(pl_type(root), PL_DICT);
        assert_int_equal(pl_count(root), 3);
        assert_string_equal(pl_dict_key_at(root, 0), "Kernel");
        assert_string_equal(pl_dict_key_at(root, 2), "Misc");

        struct pl_node *n = NULL;
        char *err = NULL;
        assert_int_equal(pl_path_get(root, "Kernel.Add[1].BundlePath", &n, &err), 0);
        assert_string_equal(pl_string(n), "VMHide.kext");
        bool b = true;
        assert_int_equal(pl_path_get(root, "Kernel.Add[1].Enabled", &n, &err), 0);
        assert_true(pl_get_bool(n, &b));
        assert_false(b);
        assert_int_equal(pl_path_get(root,
                                     "NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.boot-args", &n,
                                     &err),
                         0);
        assert_string_equal(pl_string(n), "-v keepsyms=1 & <x>");
        assert_int_equal(
                pl_path_get(root,
                            "NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.csr-active-config", &n,
                            &err),
                0);
        size_t len = 9;
        const uint8_t *d = pl_data(n, &len);
        assert_int_equal(len, 4);
        assert_memory_equal(d, "\0\0\0\0", 4);
        int64_t i = 0;
        assert_true(pl_dict_get_integer(pl_dict_get(root, "Misc"), "Timeout", &i));
        assert_int_equal(i, -5);
        double r = 0;
        assert_true(pl_get_real(pl_dict_get(pl_dict_get(root, "Misc"), "Ratio"), &r));
        assert_true(r == 0.1);
        int64_t t = 0;
        assert_true(pl_get_date(pl_dict_get(pl_dict_get(root, "Misc"), "When"), &t));
        assert_int_equal(t, 1709251198);
        assert_string_equal(pl_dict_get_string(pl_dict_get(root, "Misc"), "Name"),
                            "caf\xc3\xa9 \xf0\x9f\x98\x80");
        /* Wrong types give NULL/false, never a crash. */
        assert_null(pl_dict_get_string(root, "Kernel"));
        assert_false(pl_dict_get_bool(root, "Nope", &b));
}

static void test_path_errors(void **state)
{
        (void) state;
        _cleanup_pl_ struct pl_node *root = parse_ok(sample);
        struct pl_node *n = NULL;
        char *err = NULL;
        assert_int_equal(pl_path_get(root, "Kernel.Add[9].Enabled", &n, &err), -ENOENT);
        assert_string_equal(err, "Kernel.Add[9]: index out of range (2 elements)");
        free(err);
        err = NULL;
        assert_int_equal(pl_path_get(root, "Kernel.Nope.X", &n, &err), -ENOENT);
        assert_string_equal(err, "Kernel.Nope: no such key");
        free(err);
        err = NULL;
        assert_int_equal(pl_path_get(root, "Kernel.Add.X", &n, &err), -ENOTDIR);
        assert_string_equal(err, "Kernel.Add: is an array, not a dict (key \"X\")");
        free(err);
        err = NULL;
        assert_int_equal(pl_path_get(root, "Kernel..X", &n, &err), -EINVAL);
        free(err);
        err = NULL;
        assert_int_equal(pl_path_get(root, "Kernel.Add[x]", &n, &err), -EINVAL);
        free(err);
        err = NULL;
        assert_int_equal(pl_path_get(root, "Kernel.Add[1", &n, &err), -EINVAL);
        free(err);
        err = NULL;
        assert_int_equal(pl_path_get(root, "", &n, &err), 0);
        assert_ptr_equal(n, root);
}

static void test_path_modify(void **state)
{
        (void) state;
        _cleanup_pl_ struct pl_node *root = parse_ok(sample);
        char *err = NULL;
        struct pl_node *n = NULL;
        assert_int_equal(pl_path_set(root, "Kernel.Add[0].Enabled", pl_new_bool(false), &err), 0);
        assert_int_equal(pl_path_get(root, "Kernel.Add[0].Enabled", &n, &err), 0);
        bool b = true;
        assert_true(pl_get_bool(n, &b));
        assert_false(b);
        /* add refuses an existing key, inserts into arrays, appends with []. */
        assert_int_equal(pl_path_add(root, "Kernel.Add[0].Enabled", pl_new_bool(true), &err),
                         -EEXIST);
        free(err);
        err = NULL;
        assert_int_equal(pl_path_add(root, "Kernel.Add[0]", pl_new_string("first"), &err), 0);
        assert_int_equal(pl_path_add(root, "Kernel.Add[]", pl_new_string("last"), &err), 0);
        assert_int_equal(pl_path_add(root, "Kernel.Add[9]", pl_new_string("x"), &err), -ENOENT);
        free(err);
        err = NULL;
        assert_int_equal(pl_path_get(root, "Kernel.Add", &n, &err), 0);
        assert_int_equal(pl_count(n), 4);
        assert_string_equal(pl_string(pl_array_get(n, 0)), "first");
        assert_string_equal(pl_string(pl_array_get(n, 3)), "last");
        assert_int_equal(pl_path_delete(root, "Kernel.Add[0]", &err), 0);
        assert_int_equal(pl_path_delete(root, "Kernel.Add[0].BundlePath", &err), 0);
        assert_int_equal(pl_path_delete(root, "Kernel.Add[0].BundlePath", &err), -ENOENT);
        free(err);
        err = NULL;
        assert_int_equal(pl_path_set(root, "Misc.New\\.Key", pl_new_integer(7), &err), 0);
        assert_non_null(pl_dict_get(pl_dict_get(root, "Misc"), "New.Key"));
        _cleanup_free_ char *joined = pl_path_join_key("Misc", "New.Key");
        assert_string_equal(joined, "Misc.New\\.Key");
        assert_int_equal(pl_path_get(root, joined, &n, &err), 0);
        assert_int_equal(pl_path_delete(root, "", &err), -EINVAL);
        free(err);
}

static char *serialize(const struct pl_node *n, enum pl_format f, size_t *len)
{
        char *out = NULL, *err = NULL;
        assert_int_equal(pl_serialize(n, f, &out, len, &err), 0);
        return out;
}

static void test_xml_byte_stable(void **state)
{
        (void) state;
        _cleanup_pl_ struct pl_node *root = parse_ok(sample);
        size_t len;
        _cleanup_free_ char *out = serialize(root, PL_FORMAT_XML, &len);
        /* Written 7-bit ASCII, as OpenCore reads it. */
        for (size_t i = 0; i < len; i++)
                assert_true((unsigned char) out[i] < 0x80);
        assert_non_null(strstr(out, "<string>caf&#xE9; &#x1F600;</string>"));
        assert_non_null(strstr(out, "<string>-v keepsyms=1 &amp; &lt;x&gt;</string>"));
        assert_non_null(strstr(out, "\t\t<array/>\n"));
        /* The sample is in our own layout: identical bytes. */
        assert_string_equal(out, sample);
        _cleanup_pl_ struct pl_node *again = parse_ok(out);
        assert_true(pl_equal(root, again));
}

static void test_binary_roundtrip(void **state)
{
        (void) state;
        _cleanup_pl_ struct pl_node *root = parse_ok(sample);
        size_t len;
        _cleanup_free_ char *bin = serialize(root, PL_FORMAT_BINARY, &len);
        assert_memory_equal(bin, "bplist00", 8);
        struct pl_node *back = NULL;
        char *err = NULL;
        enum pl_format f = PL_FORMAT_XML;
        assert_int_equal(pl_parse(bin, len, "b", &back, &f, &err), 0);
        assert_int_equal(f, PL_FORMAT_BINARY);
        assert_true(pl_equal(root, back));
        size_t len2;
        _cleanup_free_ char *bin2 = serialize(back, PL_FORMAT_BINARY, &len2);
        assert_int_equal(len, len2);
        assert_memory_equal(bin, bin2, len);
        pl_free(back);
}

static void test_binary_edges(void **state)
{
        (void) state;
        _cleanup_pl_ struct pl_node *d = pl_new_dict();
        pl_dict_set(d, "neg", pl_new_integer(-5));
        pl_dict_set(d, "min", pl_new_integer(INT64_MIN));
        pl_dict_set(d, "max", pl_new_integer(INT64_MAX));
        pl_dict_set(d, "u16", pl_new_integer(65535));
        pl_dict_set(d, "emoji", pl_new_string("caf\xc3\xa9 \xf0\x9f\x98\x80"));
        pl_dict_set(d, "empty", pl_new_string(""));
        pl_dict_set(d, "old", pl_new_date(-1000000000));
        pl_dict_set(d, "real", pl_new_real(-0.5));
        struct pl_node *a = pl_dict_set(d, "arr", pl_new_array());
        for (int i = 0; i < 300; i++)
                pl_array_append(a, pl_new_string(i % 2 ? "same" : "caf\xc3\xa9 \xf0\x9f\x98\x80"));
        char longs[400];
        memset(longs, 'x', sizeof(longs) - 1);
        longs[sizeof(longs) - 1] = 0;
        pl_dict_set(d, "long", pl_new_string(longs));
        size_t len;
        _cleanup_free_ char *bin = serialize(d, PL_FORMAT_BINARY, &len);
        /* Equal strings are stored once: 300 elements, a few string objects. */
        assert_true(len < 1500);
        struct pl_node *back = NULL;
        char *err = NULL;
        assert_int_equal(pl_parse(bin, len, "b", &back, NULL, &err), 0);
        assert_true(pl_equal(d, back));
        size_t len2;
        _cleanup_free_ char *bin2 = serialize(back, PL_FORMAT_BINARY, &len2);
        assert_int_equal(len, len2);
        assert_memory_equal(bin, bin2, len);
        pl_free(back);
}

static void test_large_dict(void **state)
{
        (void) state;
        _cleanup_pl_ struct pl_node *d = pl_new_dict();
        char key[32];
        for (int i = 0; i < 5000; i++) {
                snprintf(key, sizeof(key), "k%d", i);
                pl_dict_set(d, key, pl_new_integer(i));
        }
        assert_int_equal(pl_count(d), 5000);
        int64_t v;
        assert_true(pl_dict_get_integer(d, "k4321", &v));
        assert_int_equal(v, 4321);
        assert_true(pl_dict_remove(d, "k0"));
        assert_true(pl_dict_get_integer(d, "k4999", &v));
        assert_int_equal(v, 4999);
        assert_null(pl_dict_get(d, "k0"));
        pl_dict_insert(d, 0, "k0", pl_new_integer(-1));
        assert_string_equal(pl_dict_key_at(d, 0), "k0");
        assert_true(pl_dict_get_integer(d, "k0", &v));
        assert_int_equal(v, -1);
        _cleanup_pl_ struct pl_node *c = pl_copy(d);
        assert_true(pl_equal(c, d));
}

static void test_values_from_text(void **state)
{
        (void) state;
        struct pl_node *n = NULL;
        char *err = NULL;
        size_t len;
        assert_int_equal(pl_value_from_text(PL_DATA, "0011AAff", &n, &err), 0);
        assert_memory_equal(pl_data(n, &len), "\x00\x11\xaa\xff", 4);
        assert_int_equal(len, 4);
        _cleanup_free_ char *hex = pl_value_to_text(n);
        assert_string_equal(hex, "0011aaff");
        pl_free(n);
        assert_int_equal(pl_value_from_text(PL_DATA, "base64:AAAAAA==", &n, &err), 0);
        assert_int_equal(pl_data(n, &len) != NULL, 1);
        assert_int_equal(len, 4);
        pl_free(n);
        assert_int_equal(pl_value_from_text(PL_DATA, "AQID+w==", &n, &err), 0);
        assert_memory_equal(pl_data(n, &len), "\x01\x02\x03\xfb", 4);
        pl_free(n);
        assert_int_equal(pl_value_from_text(PL_INTEGER, "0x10", &n, &err), 0);
        int64_t i;
        assert_true(pl_get_integer(n, &i));
        assert_int_equal(i, 16);
        pl_free(n);
        assert_true(pl_value_from_text(PL_INTEGER, "99999999999999999999", &n, &err) < 0);
        free(err);
        err = NULL;
        assert_true(pl_value_from_text(PL_BOOL, "maybe", &n, &err) < 0);
        free(err);
        err = NULL;
        assert_true(pl_value_from_text(PL_DATE, "2023-02-29T00:00:00Z", &n, &err) < 0);
        free(err);
        err = NULL;
        assert_int_equal(pl_value_from_text(PL_DATE, "1969-12-31T23:59:59Z", &n, &err), 0);
        assert_true(pl_get_date(n, &i));
        assert_int_equal(i, -1);
        _cleanup_free_ char *dt = pl_value_to_text(n);
        assert_string_equal(dt, "1969-12-31T23:59:59Z");
        pl_free(n);
        assert_int_equal(pl_value_from_text(PL_REAL, "1e300", &n, &err), 0);
        _cleanup_free_ char *rt = pl_value_to_text(n);
        assert_string_equal(rt, "1e+300");
        pl_free(n);
        assert_int_equal(pl_type_from_string("boolean"), PL_BOOL);
        assert_int_equal(pl_type_from_string("nope"), -1);
}

static void test_xml_forms(void **state)
{
        (void) state;
        /* No wrapper, comments, CDATA, CRLF, <string/>, hex integers. */
        _cleanup_pl_ struct pl_node *n =
                parse_ok("<!-- c --><dict>\r\n<key>a</key><string><![CDATA[<x>]]>\r\ny</string>"
                         "<key>b</key><string/><key>c</key><integer>0x1F</integer>"
                         "<key>d</key><data>\n  AAEC\n  Aw==\n</data></dict>");
        assert_string_equal(pl_dict_get_string(n, "a"), "<x>\ny");
        assert_string_equal(pl_dict_get_string(n, "b"), "");
        int64_t v;
        assert_true(pl_dict_get_integer(n, "c", &v));
        assert_int_equal(v, 31);
        size_t len;
        assert_memory_equal(pl_data(pl_dict_get(n, "d"), &len), "\0\1\2\3", 4);
        /* Control characters XML cannot carry are refused when writing. */
        pl_dict_set(n, "bad", pl_new_string("\x01"));
        char *out = NULL, *err = NULL;
        assert_true(pl_serialize(n, PL_FORMAT_XML, &out, &len, &err) < 0);
        assert_non_null(strstr(err, "U+0001"));
        free(err);
}

static void expect_bad(const char *text, const char *needle)
{
        _cleanup_free_ char *err = parse_err(text, strlen(text));
        if (!strstr(err, needle))
                fail_msg("error \"%s\" lacks \"%s\"", err, needle);
}

static void test_xml_bad(void **state)
{
        (void) state;
        expect_bad("", "empty");
        expect_bad("hello", "not a property list");
        expect_bad(HEAD "<dict><key>a</key><string>x</string>", "line 4: unexpected end");
        expect_bad(HEAD "<dict><key>a</key><string>x</string><key>a</key><true/></dict></plist>",
                   "duplicate key \"a\"");
        expect_bad("<dict><key>a</key></dict>", "has no value");
        expect_bad("<dict><string>a</string></dict>", "expected <key>");
        expect_bad("<dict><key>a</key><integer>1.5</integer></dict>", "not a 64-bit integer");
        expect_bad("<dict><key>a</key><data>!!</data></dict>", "base64");
        expect_bad("<dict><key>a</key><foo/></dict>", "unknown element <foo>");
        expect_bad("<string>a &bogus; b</string>", "entity");
        expect_bad("<string>a\xff</string>", "invalid UTF-8");
        expect_bad("<string>a\xc3</string>", "invalid UTF-8");
        expect_bad("<plist><true/><true/></plist>", "one value");
        expect_bad("<true/>junk", "trailing");
        expect_bad("<dict><key>a</key><date>2024-13-01T00:00:00Z</date></dict>", "date");
        expect_bad(HEAD "<array><string>x</array>", "expected </string>");

        /* 100,000 levels: refused at the limit, without deep recursion. */
        struct buf b = BUF_INIT;
        for (int i = 0; i < 100000; i++)
                buf_puts(&b, "<array>");
        _cleanup_free_ char *err = parse_err(b.s, b.len);
        assert_non_null(strstr(err, "nesting deeper than"));
        buf_release(&b);

        /* Just within the limit is fine. */
        for (int i = 0; i < PL_MAX_DEPTH - 1; i++)
                buf_puts(&b, "<array>");
        for (int i = 0; i < PL_MAX_DEPTH - 1; i++)
                buf_puts(&b, "</array>");
        struct pl_node *deep = parse_ok(buf_str(&b));
        assert_int_equal(pl_count(deep), 1);
        pl_free(deep);
        buf_release(&b);
}

/* A binary plist with 1-byte offsets and references from a list of objects. */
static char *make_bplist(const char *const *objs, const size_t *lens, size_t n, size_t *ret_len)
{
        struct buf b = BUF_INIT;
        buf_put(&b, "bplist00", 8);
        uint8_t offsets[32];
        for (size_t i = 0; i < n; i++) {
                offsets[i] = (uint8_t) b.len;
                buf_put(&b, objs[i], lens[i]);
        }
        size_t table = b.len;
        buf_put(&b, offsets, n);
        uint8_t trailer[32] = { 0 };
        trailer[6] = 1;
        trailer[7] = 1;
        trailer[15] = (uint8_t) n;
        trailer[31] = (uint8_t) table;
        buf_put(&b, trailer, 32);
        *ret_len = b.len;
        return buf_detach(&b);
}

static void test_binary_bad(void **state)
{
        (void) state;
        size_t len;
        /* Duplicate keys: {"a": 1, "a": 2}. */
        const char *dup[] = { "\xd2\x01\x02\x03\x04",
                              "\x51"
                              "a",
                              "\x51"
                              "a",
                              "\x10\x01", "\x10\x02" };
        const size_t dup_len[] = { 5, 2, 2, 2, 2 };
        _cleanup_free_ char *b1 = make_bplist(dup, dup_len, 5, &len);
        _cleanup_free_ char *e1 = parse_err(b1, len);
        assert_non_null(strstr(e1, "duplicate key \"a\""));

        /* Sanity of the builder: distinct keys parse. */
        const char *ok[] = { "\xd2\x01\x02\x03\x04",
                             "\x51"
                             "a",
                             "\x51"
                             "b",
                             "\x10\x01", "\x10\x02" };
        _cleanup_free_ char *b2 = make_bplist(ok, dup_len, 5, &len);
        struct pl_node *n = NULL;
        char *err = NULL;
        assert_int_equal(pl_parse(b2, len, "b", &n, NULL, &err), 0);
        assert_int_equal(pl_count(n), 2);
        pl_free(n);

        /* Data claiming 1 GiB in a tiny file. */
        const char *huge[] = { "\x4f\x13\x00\x00\x00\x00\x40\x00\x00\x00" };
        const size_t huge_len[] = { 10 };
        _cleanup_free_ char *b3 = make_bplist(huge, huge_len, 1, &len);
        _cleanup_free_ char *e3 = parse_err(b3, len);
        assert_non_null(strstr(e3, "claims 1073741824 bytes"));

        /* An array that contains itself. */
        const char *cyc[] = { "\xa1\x00" };
        const size_t cyc_len[] = { 2 };
        _cleanup_free_ char *b4 = make_bplist(cyc, cyc_len, 1, &len);
        _cleanup_free_ char *e4 = parse_err(b4, len);
        assert_non_null(strstr(e4, "contains itself"));

        /* Invalid "ASCII" and UTF-16. */
        const char *badstr[] = { "\x52\xc3\x28" };
        const size_t badstr_len[] = { 3 };
        _cleanup_free_ char *b5 = make_bplist(badstr, badstr_len, 1, &len);
        _cleanup_free_ char *e5 = parse_err(b5, len);
        assert_non_null(strstr(e5, "ASCII string"));
        const char *badu16[] = { "\x61\xd8\x00" };
        _cleanup_free_ char *b6 = make_bplist(badu16, badstr_len, 1, &len);
        _cleanup_free_ char *e6 = parse_err(b6, len);
        assert_non_null(strstr(e6, "UTF-16"));

        /* A reference bomb: 6 levels of 15 references to the next level (11 million values). */
        char bomb_objs[7][32];
        const char *bomb[7];
        size_t bomb_len[7];
        for (int i = 0; i < 6; i++) {
                bomb_objs[i][0] = (char) 0xaf;
                bomb_objs[i][1] = 0x10;
                bomb_objs[i][2] = 15;
                memset(bomb_objs[i] + 3, i + 1, 15);
                bomb[i] = bomb_objs[i];
                bomb_len[i] = 18;
        }
        bomb[6] = "\x09";
        bomb_len[6] = 1;
        _cleanup_free_ char *b8 = make_bplist(bomb, bomb_len, 7, &len);
        _cleanup_free_ char *e8 = parse_err(b8, len);
        assert_non_null(strstr(e8, "reference bomb"));

        /* Truncated: every prefix of a valid file fails cleanly. */
        _cleanup_pl_ struct pl_node *root = parse_ok(sample);
        _cleanup_free_ char *bin = serialize(root, PL_FORMAT_BINARY, &len);
        for (size_t cut = 0; cut < len; cut += 7) {
                struct pl_node *m = NULL;
                char *e = NULL;
                if (pl_parse(bin, cut, "b", &m, NULL, &e) == 0)
                        fail_msg("prefix of %zu bytes parsed", cut);
                free(e);
        }
        const char *v1 = "bplist01xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
        _cleanup_free_ char *e7 = parse_err(v1, strlen(v1));
        assert_non_null(strstr(e7, "bplist00"));
}

static void test_base64(void **state)
{
        (void) state;
        const char *cases[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
        const char *want[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };
        for (size_t i = 0; i < 7; i++) {
                _cleanup_free_ char *e = pl_base64_encode(cases[i], strlen(cases[i]));
                assert_string_equal(e, want[i]);
                uint8_t *d = NULL;
                size_t n = 0;
                assert_int_equal(pl_base64_decode(e, strlen(e), &d, &n), 0);
                assert_int_equal(n, strlen(cases[i]));
                assert_memory_equal(d, cases[i], n);
                free(d);
        }
        uint8_t *d = NULL;
        size_t n;
        assert_true(pl_base64_decode("Zm9=v", 5, &d, &n) < 0);
        assert_true(pl_base64_decode("Z", 1, &d, &n) < 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_xml_access),       cmocka_unit_test(test_path_errors),
                cmocka_unit_test(test_path_modify),      cmocka_unit_test(test_xml_byte_stable),
                cmocka_unit_test(test_binary_roundtrip), cmocka_unit_test(test_large_dict),
                cmocka_unit_test(test_binary_edges),     cmocka_unit_test(test_values_from_text),
                cmocka_unit_test(test_xml_forms),        cmocka_unit_test(test_xml_bad),
                cmocka_unit_test(test_binary_bad),       cmocka_unit_test(test_base64),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
