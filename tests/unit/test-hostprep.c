/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "alloc.h"
#include "bootloader.h"
#include "diff.h"
#include "hooks.h"
#include "hostfs.h"
#include "journal.h"
#include "strv.h"

/* ---------------- diff ---------------- */

static char *udiff(const char *a, const char *b)
{
        return diff_unified(a, strlen(a), b, strlen(b), "a/f", "b/f", 3);
}

static void test_diff(void **state)
{
        (void) state;
        _cleanup_free_ char *same = udiff("x\ny\n", "x\ny\n");
        assert_string_equal(same, "");

        _cleanup_free_ char *one = udiff("a\nb\nc\n", "a\nB\nc\n");
        assert_string_equal(one, "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");

        _cleanup_free_ char *create = udiff("", "new\n");
        assert_string_equal(create, "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+new\n");

        _cleanup_free_ char *nonl = udiff("a\n", "a");
        assert_string_equal(
                nonl, "--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n");

        /* Two changes far apart make two hunks; near ones share a hunk. */
        const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
        const char *b = "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12\n";
        _cleanup_free_ char *two = udiff(a, b);
        assert_string_equal(two, "--- a/f\n+++ b/f\n"
                                 "@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n"
                                 "@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n");
        const char *c = "1\nX\n3\n4\n5\n6\nZ\n8\n9\n10\n11\n12\n";
        _cleanup_free_ char *near = udiff(a, c);
        assert_non_null(strstr(near, "@@ -1,10 +1,10 @@\n"));
        assert_null(strstr(near, "\n@@ -8")); /* one hunk only */
        assert_ptr_equal(strstr(near, "@@"), near + 16);
        assert_null(strstr(near + 17, "\n@@"));

        /* Insertions and deletions in the middle: LCS keeps the common lines. */
        _cleanup_free_ char *mid = udiff("a\nb\nc\nd\n", "a\nc\nx\nd\n");
        assert_string_equal(mid, "--- a/f\n+++ b/f\n@@ -1,4 +1,4 @@\n a\n-b\n c\n+x\n d\n");
}

/* ---------------- the kernel command line ---------------- */

static char *edit(const char *line, const char *add, const char *remove)
{
        _cleanup_strv_free_ char **a = strv_split(add, " ");
        _cleanup_strv_free_ char **r = strv_split(remove, " ");
        return cmdline_edit(line, a, r);
}

static void test_cmdline(void **state)
{
        (void) state;
        _cleanup_free_ char *same = edit("quiet  splash", "quiet", "");
        assert_string_equal(same, "quiet  splash"); /* unchanged: byte for byte */
        _cleanup_free_ char *add = edit("quiet splash", "iommu=pt", "");
        assert_string_equal(add, "quiet splash iommu=pt");
        _cleanup_free_ char *replace = edit("intel_iommu=off quiet", "intel_iommu=on", "");
        assert_string_equal(replace, "intel_iommu=on quiet");
        _cleanup_free_ char *video =
                edit("video=HDMI-A-1:1920x1080 video=efifb:on q", "video=efifb:off", "");
        assert_string_equal(video, "video=HDMI-A-1:1920x1080 video=efifb:off q");
        _cleanup_free_ char *rmkey =
                edit("a vfio-pci.ids=1:2 b vfio-pci.ids=3:4", "", "vfio-pci.ids");
        assert_string_equal(rmkey, "a b");
        _cleanup_free_ char *rmexact = edit("a x=1 x=2", "", "x=2");
        assert_string_equal(rmexact, "a x=1");
        _cleanup_free_ char *quoted = edit("a dyndbg=\"file x +p\" b", "c", "b");
        assert_string_equal(quoted, "a dyndbg=\"file x +p\" c");
        _cleanup_strv_free_ char **split = cmdline_split("  a \"b c\"=d\te\n");
        assert_int_equal(strv_length(split), 3);
        assert_string_equal(split[1], "\"b c\"=d");
}

/* ---------------- GRUB ---------------- */

static int grub(const char *text, char **ret_value, char **reterr)
{
        struct grub_assignment a;
        int k = grub_find(text, strlen(text), "GRUB_CMDLINE_LINUX_DEFAULT", &a, reterr);
        if (k < 0)
                return k;
        *ret_value = xstrdup(a.value);
        grub_assignment_release(&a);
        return 0;
}

static void test_grub_find(void **state)
{
        (void) state;

        static const struct {
                const char *text, *value;
        } ok[] = {
                { "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n", "quiet splash" },
                { "GRUB_CMDLINE_LINUX_DEFAULT='quiet \"x\"'\n", "quiet \"x\"" },
                { "GRUB_CMDLINE_LINUX_DEFAULT=quiet\n", "quiet" },
                { "  export GRUB_CMDLINE_LINUX_DEFAULT=\"a\"\n", "a" },
                { "GRUB_CMDLINE_LINUX_DEFAULT=\"a \\\n b\"\n", "a  b" },
                { "GRUB_CMDLINE_LINUX_DEFAULT=\"a\"'b'\\ c # comment\n", "ab c" },
                { "GRUB_CMDLINE_LINUX_DEFAULT=\"a \\\"q\\\" \\\\ \"\n", "a \"q\" \\ " },
                { "# GRUB_CMDLINE_LINUX_DEFAULT=\"no\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"yes\"\n",
                  "yes" },
                { "GRUB_CMDLINE_LINUX=\"x\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"y\"", "y" },
                { "X='multi\nline'\nGRUB_CMDLINE_LINUX_DEFAULT=\"z\"\n", "z" },
                { "echo GRUB_CMDLINE_LINUX_DEFAULT=no; GRUB_CMDLINE_LINUX_DEFAULT=yes\n", "yes" },
                { "GRUB_CMDLINE_LINUX_DEFAULT=\"\"\n", "" },
                { "echo hi # it's a comment\nGRUB_CMDLINE_LINUX_DEFAULT=a#b\n", "a#b" },
        };

        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                _cleanup_free_ char *v = NULL, *err = NULL;
                int k = grub(ok[i].text, &v, &err);
                if (k < 0)
                        fail_msg("case %zu: %s", i, err);
                assert_string_equal(v, ok[i].value);
        }

        static const struct {
                const char *text, *error;
                int code;
        } bad[] = {
                { "GRUB_TIMEOUT=5\n", "no GRUB_CMDLINE_LINUX_DEFAULT= line", -EBADMSG },
                { "GRUB_CMDLINE_LINUX_DEFAULT=a\nGRUB_CMDLINE_LINUX_DEFAULT=b\n",
                  "set twice (lines 1 and 2)", -EEXIST },
                { "GRUB_CMDLINE_LINUX_DEFAULT=\"a\n", "line 1: unterminated double quote",
                  -EINVAL },
                { "X='a\n\nGRUB_CMDLINE_LINUX_DEFAULT=b\n", "line 1: unterminated single quote",
                  -EINVAL },
                { "GRUB_CMDLINE_LINUX_DEFAULT=\"$X a\"\n", "uses $ or `", -EINVAL },
                { "GRUB_CMDLINE_LINUX_DEFAULT=`cat f`\n", "uses $ or `", -EINVAL },
                { "GRUB_CMDLINE_LINUX_DEFAULT+=\" a\"\n", "appended to with +=", -EINVAL },
        };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                _cleanup_free_ char *v = NULL, *err = NULL;
                int k = grub(bad[i].text, &v, &err);
                assert_int_equal(k, bad[i].code);
                if (!strstr(err, bad[i].error))
                        fail_msg("case %zu: '%s' lacks '%s'", i, err, bad[i].error);
        }
}

static void test_grub_set(void **state)
{
        (void) state;

        static const struct {
                const char *in, *value, *out;
        } cases[] = {
                { "A=1\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nB=2\n", "quiet iommu=pt",
                  "A=1\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet iommu=pt\"\nB=2\n" },
                { "GRUB_CMDLINE_LINUX_DEFAULT='quiet' # c\n", "a b",
                  "GRUB_CMDLINE_LINUX_DEFAULT='a b' # c\n" },
                { "GRUB_CMDLINE_LINUX_DEFAULT='quiet'\n", "it's",
                  "GRUB_CMDLINE_LINUX_DEFAULT=\"it's\"\n" },
                { "GRUB_CMDLINE_LINUX_DEFAULT=quiet\n", "quiet splash",
                  "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n" },
                { "GRUB_CMDLINE_LINUX_DEFAULT=quiet\n", "iommu=pt",
                  "GRUB_CMDLINE_LINUX_DEFAULT=iommu=pt\n" },
                { "GRUB_CMDLINE_LINUX_DEFAULT=\"a\"\n", "x=\"$y\"",
                  "GRUB_CMDLINE_LINUX_DEFAULT=\"x=\\\"\\$y\\\"\"\n" },
                { "GRUB_CMDLINE_LINUX_DEFAULT=\"a \\\n b\"\nT=5\n", "a b",
                  "GRUB_CMDLINE_LINUX_DEFAULT=\"a b\"\nT=5\n" },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                _cleanup_free_ char *out = NULL, *err = NULL;
                size_t len;
                assert_int_equal(grub_set(cases[i].in, strlen(cases[i].in),
                                          "GRUB_CMDLINE_LINUX_DEFAULT", cases[i].value, &out, &len,
                                          &err),
                                 0);
                assert_string_equal(out, cases[i].out);
                assert_int_equal(len, strlen(out));
                /* What was written reads back as the value. */
                _cleanup_free_ char *v = NULL, *err2 = NULL;
                assert_int_equal(grub(out, &v, &err2), 0);
                assert_string_equal(v, cases[i].value);
        }
}

static void test_entries(void **state)
{
        (void) state;
        char *add[] = { (char *) "iommu=pt", (char *) "video=efifb:off", NULL };
        char *rm[] = { (char *) "quiet", NULL };
        char *none[] = { NULL };
        _cleanup_free_ char *e =
                bls_entry_edit("title T\noptions root=x quiet\noptions iommu=pt\n", add, rm);
        assert_string_equal(e, "title T\noptions root=x\noptions iommu=pt video=efifb:off\n");
        _cleanup_free_ char *noopt = bls_entry_edit("title T\nlinux /v", add, none);
        assert_string_equal(noopt, "title T\nlinux /v\noptions iommu=pt video=efifb:off\n");
        _cleanup_free_ char *same =
                bls_entry_edit("options  iommu=pt video=efifb:off\n", add, none);
        assert_string_equal(same, "options  iommu=pt video=efifb:off\n");

        const char *ks = "{\n  \"default\": {\"kernel_options\": [\"quiet\"]},\n"
                         "  \"user\": {\n    \"kernel_options\": [\n      \"quiet\",\n"
                         "      \"splash\"\n    ],\n    \"esp_path\": \"/boot/efi\"\n  }\n}\n";
        _cleanup_free_ char *out = NULL, *err = NULL;
        assert_int_equal(kernelstub_edit(ks, strlen(ks), add, rm, &out, &err), 0);
        assert_string_equal(out, "{\n  \"default\": {\"kernel_options\": [\"quiet\"]},\n"
                                 "  \"user\": {\n    \"kernel_options\": [\n      \"splash\",\n"
                                 "      \"iommu=pt\",\n      \"video=efifb:off\"\n    ],\n"
                                 "    \"esp_path\": \"/boot/efi\"\n  }\n}\n");
        const char *inl = "{\"user\": {\"kernel_options\": [\"a\"]}}";
        _cleanup_free_ char *out2 = NULL;
        assert_int_equal(kernelstub_edit(inl, strlen(inl), add, none, &out2, &err), 0);
        assert_string_equal(out2, "{\"user\": {\"kernel_options\": [\"a\", \"iommu=pt\", "
                                  "\"video=efifb:off\"]}}");
        const char *bad = "{\"user\": {\"kernel_options\": [1]}}";
        _cleanup_free_ char *out3 = NULL, *err3 = NULL;
        assert_int_equal(kernelstub_edit(bad, strlen(bad), add, none, &out3, &err3), -EINVAL);
        assert_non_null(strstr(err3, "other than strings"));
}

/* ---------------- journal entries, hooks.conf ---------------- */

static void test_journal_entry(void **state)
{
        (void) state;
        const char *text = "darwinkvm-journal 1\n"
                           "verb\tkernel-params\n"
                           "time\t1700000000\n"
                           "file\t1\tedit\t0644\t0\t0\t/etc/default/grub\n"
                           "file\t2\tnew\t0600\t1000\t1000\t/etc/a\\tb\\\\c\n"
                           "mkdir\t/etc/x\n"
                           "regen\tupdate-grub\n"
                           "run\tusermod\t-aG\tkvm\tal ice\n"
                           "undo\tgpasswd\t-d\tal ice\tkvm\n";
        struct journal_entry e;
        _cleanup_free_ char *err = NULL;
        assert_int_equal(journal_entry_parse(text, strlen(text), &e, &err), 0);
        assert_string_equal(e.verb, "kernel-params");
        assert_int_equal(e.n_files, 2);
        assert_string_equal(e.files[1].path, "/etc/a\tb\\c");
        assert_int_equal(e.files[1].mode, 0600);
        assert_false(e.files[1].existed);
        assert_int_equal(e.n_commands, 3);
        assert_string_equal(e.commands[1].argv[3], "al ice");
        _cleanup_free_ char *back = journal_entry_format(&e);
        assert_string_equal(back, text);
        journal_entry_release(&e);

        static const char *const bad[] = {
                "",
                "darwinkvm-journal 2\nverb\tx\n",
                "darwinkvm-journal 1\n",
                "darwinkvm-journal 1\nverb\tx\nfile\t1\tedit\t0644\t0\t0\trelative\n",
                "darwinkvm-journal 1\nverb\tx\nfile\t1\tedit\t9999\t0\t0\t/a\n",
                ("darwinkvm-journal 1\nverb\tx\nfile\t1\tedit\t0644\t0\t0\t/a\n"
                 "file\t1\tedit\t0644\t0\t0\t/b\n"),
                "darwinkvm-journal 1\nverb\tx\nrun\n",
                "darwinkvm-journal 1\nverb\tx\nfile\t1\tedit\t0644\t-1\t0\t/a\n",
                "darwinkvm-journal 1\nverb\tx\\q\n",
                "darwinkvm-journal 1\nverb\tx\nbogus\ty\n",
                "darwinkvm-journal 1\nverb\tx\ntime\tsoon\n",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct journal_entry x;
                _cleanup_free_ char *e2 = NULL;
                if (journal_entry_parse(bad[i], strlen(bad[i]), &x, &e2) == 0)
                        fail_msg("bad case %zu parsed", i);
                assert_non_null(e2);
        }
}

static void test_hooks_config(void **state)
{
        (void) state;
        const char *text = "# c\ngpu 0000:0b:00.0\nreset-workaround suspend\nvm macOS\nvm A B\nvm "
                           "macOS\n";
        struct hooks_config c;
        _cleanup_free_ char *err = NULL;
        assert_int_equal(hooks_config_parse(text, strlen(text), &c, &err), 0);
        assert_string_equal(c.gpu, "0000:0b:00.0");
        assert_int_equal(c.reset, RESET_SUSPEND);
        assert_int_equal(strv_length(c.vms), 2);
        assert_string_equal(c.vms[1], "A B");
        hooks_config_release(&c);
        static const char *const bad[] = { "gpu 01:00\n", "vm a/b\n", "reset-workaround kick\n",
                                           "novalue\n", "what x\n" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                _cleanup_free_ char *e = NULL;
                assert_int_equal(hooks_config_parse(bad[i], strlen(bad[i]), &c, &e), -EINVAL);
        }
}

/* ---------------- the journal on a tree ---------------- */

static void test_journal_tree(void **state)
{
        (void) state;
        char tmpl[] = "/tmp/dkvm-journal-XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        _cleanup_(root_freep) struct root *r = NULL;
        _cleanup_free_ char *err = NULL;
        assert_int_equal(root_open(tmpl, &r, &err), 0);
        assert_int_equal(root_mkdir_p(r, "/etc/x", 0755), 0);
        assert_int_equal(root_write_file_atomic(r, "/etc/x/a", "old\n", 4, 0640, NULL, &err), 0);

        struct prep p;
        prep_init(&p, r, false);
        struct change_set cs;
        change_set_init(&cs, "test");
        assert_int_equal(change_set_write(&cs, r, "/etc/x/a", "new\n", 4, 0644, &err), 0);
        assert_int_equal(change_set_write(&cs, r, "/etc/y/z/b", "b\n", 2, 0600, &err), 0);
        /* A second edit of the same file replaces the first. */
        assert_int_equal(change_set_write(&cs, r, "/etc/x/a", "newer\n", 6, 0644, &err), 0);
        assert_true(change_set_changes(&cs));
        unsigned id;
        assert_int_equal(journal_apply(&p, &cs, &id, &err), 0);
        assert_int_equal(id, 1);
        change_set_release(&cs);
        _cleanup_free_ char *a = NULL;
        assert_int_equal(root_read_file(r, "/etc/x/a", 100, &a, NULL), 0);
        assert_string_equal(a, "newer\n");
        struct stat st;
        assert_int_equal(root_stat(r, "/etc/x/a", &st, false), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(root_stat(r, "/etc/y/z/b", &st, false), 0);
        assert_int_equal(st.st_mode & 07777, 0600);

        struct journal_entry *e = NULL;
        size_t n = 0;
        assert_int_equal(journal_load(r, &e, &n, &err), 0);
        assert_int_equal(n, 1);
        assert_int_equal(e[0].state, JOURNAL_COMPLETE);
        assert_int_equal(e[0].files[0].state, FILE_IN_PLACE);
        assert_int_equal(strv_length(e[0].dirs), 2);
        journal_entries_free(e, n);

        assert_int_equal(journal_undo(&p, 0, &err), 0);
        _cleanup_free_ char *a2 = NULL;
        assert_int_equal(root_read_file(r, "/etc/x/a", 100, &a2, NULL), 0);
        assert_string_equal(a2, "old\n");
        assert_false(root_exists(r, "/etc/y"));
        prep_release(&p);

        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", tmpl);
        assert_int_equal(system(cmd), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_diff),         cmocka_unit_test(test_cmdline),
                cmocka_unit_test(test_grub_find),    cmocka_unit_test(test_grub_set),
                cmocka_unit_test(test_entries),      cmocka_unit_test(test_journal_entry),
                cmocka_unit_test(test_hooks_config), cmocka_unit_test(test_journal_tree),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
