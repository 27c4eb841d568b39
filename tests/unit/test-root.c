/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "alloc.h"
#include "root.h"
#include "strv.h"

static char tmpl[] = "/tmp/dkvm-root-XXXXXX";
static char *dir;

static void put(const char *rel, const char *content)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void mk(const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        assert_int_equal(mkdir(p, 0755), 0);
}

static void ln(const char *target, const char *rel)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, rel);
        assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
        (void) state;
        dir = mkdtemp(tmpl);
        if (!dir)
                return -1;
        mk("etc");
        mk("proc");
        mk("sys");
        mk("sys/d");
        mk("sys/e");
        put("etc/os-release", "ID=debian\n");
        put("proc/cmdline", "  quiet iommu=pt  \n");
        put("sys/d/vendor", "0x10de\n");
        put("sys/e/.hidden", "");
        put("sys/e/b", "");
        put("sys/e/a", "");
        /* An absolute link must resolve inside the root, never to the real /etc. */
        ln("/etc/os-release", "sys/abs-link");
        ln("/etc/passwd", "sys/escape");
        ln("../../../../../../etc/passwd", "sys/dotdot");
        ln("loop", "sys/loop");
        ln("../../kernel/iommu_groups/7", "sys/d/iommu_group");
        ln("vendor", "sys/d/alias");
        return 0;
}

static int teardown(void **state)
{
        (void) state;
        _cleanup_free_ char *cmd = xasprintf("rm -rf '%s'", dir);
        return system(cmd) == 0 ? 0 : -1;
}

static struct root *open_root(void)
{
        struct root *r = NULL;
        char *err = NULL;
        assert_int_equal(root_open(dir, &r, &err), 0);
        assert_false(r->is_host);
        return r;
}

static void test_read(void **state)
{
        (void) state;
        _cleanup_(root_freep) struct root *r = open_root();
        _cleanup_free_ char *s = NULL;
        assert_int_equal(root_read_line(r, "/proc/cmdline", &s), 0);
        assert_string_equal(s, "quiet iommu=pt");
        _cleanup_free_ char *t = NULL;
        size_t n;
        assert_int_equal(root_read_file(r, "/sys/abs-link", 1024, &t, &n), 0);
        assert_string_equal(t, "ID=debian\n");
        assert_int_equal(n, 10);
        char *u = NULL;
        assert_int_equal(root_read_file(r, "/etc/os-release", 3, &u, NULL), -EFBIG);
        assert_int_equal(root_read_file(r, "/etc", 100, &u, NULL), -EISDIR);
        assert_int_equal(root_read_file(r, "/nope", 100, &u, NULL), -ENOENT);
        assert_null(u);
}

static void test_confinement(void **state)
{
        (void) state;
        _cleanup_(root_freep) struct root *r = open_root();
        char *s = NULL;
        /* /etc/passwd exists on the real host, not in the root. */
        assert_int_equal(root_read_file(r, "/sys/escape", 1024, &s, NULL), -ENOENT);
        assert_int_equal(root_read_file(r, "/sys/dotdot", 1024, &s, NULL), -ENOENT);
        assert_int_equal(root_read_file(r, "/../../etc/passwd", 1024, &s, NULL), -ENOENT);
        assert_int_equal(root_read_file(r, "/sys/loop", 1024, &s, NULL), -ELOOP);
        assert_null(s);
}

static void test_list_and_links(void **state)
{
        (void) state;
        _cleanup_(root_freep) struct root *r = open_root();
        _cleanup_strv_free_ char **l = NULL;
        assert_int_equal(root_list_dir(r, "/sys/e", &l), 0);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(l[0], "a");
        assert_string_equal(l[1], "b");
        assert_int_equal(root_list_dir(r, "/sys/none", &l), -ENOENT);
        _cleanup_free_ char *b = NULL;
        assert_int_equal(root_link_basename(r, "/sys/d/iommu_group", &b), 0);
        assert_string_equal(b, "7");
        char *x = NULL;
        assert_int_equal(root_readlink(r, "/sys/d/vendor", &x), -EINVAL);
        assert_true(root_exists(r, "/sys/abs-link"));
        assert_false(root_exists(r, "/sys/escape"));
        assert_true(root_is_dir(r, "/sys/d"));
}

static void test_dir_reads(void **state)
{
        (void) state;
        _cleanup_(root_freep) struct root *r = open_root();
        _cleanup_close_ int fd = root_open_dir(r, "/sys/d");
        assert_true(fd >= 0);
        _cleanup_free_ char *v = NULL, *g = NULL;
        assert_int_equal(dir_read_line(fd, "vendor", &v), 0);
        assert_string_equal(v, "0x10de");
        /* Attribute reads refuse symlinks: a fixture cannot redirect them. */
        char *x = NULL;
        assert_int_equal(dir_read_file(fd, "alias", 100, &x, NULL), -ELOOP);
        assert_int_equal(dir_read_file(fd, "../d/vendor", 100, &x, NULL), -EXDEV);
        assert_int_equal(dir_link_basename(fd, "iommu_group", &g), 0);
        assert_string_equal(g, "7");
}

static int use_walk(void **state)
{
        (void) state;
        root_use_openat2(false);
        return 0;
}

int main(void)
{
        /* Every test twice: with openat2(RESOLVE_IN_ROOT), then with the hand-made walk. */
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read),
                cmocka_unit_test(test_confinement),
                cmocka_unit_test(test_list_and_links),
                cmocka_unit_test(test_dir_reads),
                cmocka_unit_test_setup(test_read, use_walk),
                cmocka_unit_test(test_confinement),
                cmocka_unit_test(test_list_and_links),
                cmocka_unit_test(test_dir_reads),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
