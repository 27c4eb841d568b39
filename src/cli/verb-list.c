/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cli.h"
#include "fileio.h"
#include "journal.h"
#include "newvm.h"
#include "output.h"
#include "strv.h"
#include "table.h"
#include "virt.h"
#include "vmspec.h"

/* The directory holding every VM's directory. */
static char *vms_dir(void)
{
        _cleanup_free_ char *one = vm_dir_for_name("x");
        return xstrdup(dirname(one));
}

/* The names of the VMs darwinkvm made (directories with a vm.conf), sorted. */
static char **vm_names(void)
{
        _cleanup_free_ char *dir = vms_dir();
        char **names = xcalloc(1, sizeof(char *));
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return names;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *conf = xasprintf("%s/%s/vm.conf", dir, de->d_name);
                _cleanup_free_ char *ppc = xasprintf("%s/%s/ppc.conf", dir, de->d_name);
                if (access(conf, F_OK) == 0 || access(ppc, F_OK) == 0)
                        names = strv_push(names, de->d_name);
        }
        strv_sort(names);
        return names;
}

static bool file_exists(const char *dir, const char *name)
{
        _cleanup_free_ char *p = xasprintf("%s/%s", dir, name);
        return access(p, F_OK) == 0;
}

int verb_list(struct cli_context *ctx, const struct cli_args *args)
{
        (void) args;
        _cleanup_strv_free_ char **names = vm_names();
        struct json_writer w;
        if (ctx->json) {
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_key(&w, "vms");
                json_begin_array(&w);
        }
        static const char *const header[] = { "NAME", "MACOS", "GPU", "FILES", "SPEC", NULL };
        _cleanup_(table_freep) struct table *t = table_new(header);
        STRV_FOREACH(n, names) {
                _cleanup_free_ char *dir = vm_dir_for_name(*n);
                _cleanup_free_ char *conf = xasprintf("%s/vm.conf", dir);
                _cleanup_(vmspec_freep) struct vmspec *s = NULL;
                _cleanup_free_ char *err = NULL;
                if (access(conf, F_OK) != 0) {
                        /* A PowerPC guest: its own small file. */
                        free(conf);
                        conf = xasprintf("%s/ppc.conf", dir);
                        s = vmspec_new();
                        _cleanup_free_ char *text = NULL;
                        if (read_file_at(AT_FDCWD, conf, 65536, &text, NULL, &err) == 0) {
                                char *m = strstr(text, "\nmacos = ");
                                if (m)
                                        s->macos = xstrndup(m + 9, strcspn(m + 9, "\n"));
                        }
                }
                bool ok = s || vmspec_load(conf, &s, &err) == 0;
                bool img = file_exists(dir, "OpenCore.img") || file_exists(dir, "ppc.conf");
                bool disk = file_exists(dir, "macOS.qcow2") || file_exists(dir, "Macintosh.img");
                const char *files = img && disk ? "complete" : img || disk ? "partial" : "none";
                if (ctx->json) {
                        json_begin_object(&w);
                        json_kv_string(&w, "name", *n);
                        json_kv_string(&w, "spec", conf);
                        json_kv_string(&w, "macos", ok ? s->macos : NULL);
                        json_kv_string(&w, "gpu", ok ? s->gpu : NULL);
                        json_kv_string(&w, "files", files);
                        if (!ok)
                                json_kv_string(&w, "error", err);
                        json_end_object(&w);
                } else {
                        table_add(t, *n);
                        table_add(t, ok ? strna(s->macos) : "?");
                        table_add(t, ok ? s->gpu : NULL);
                        table_add(t, files);
                        table_add(t, conf);
                }
        }
        if (ctx->json) {
                json_end_array(&w);
                json_end_object(&w);
                return out_json_end(&w);
        }
        if (!names[0]) {
                if (ctx->verbosity >= 0)
                        printf("No VMs yet: darwinkvm new NAME\n");
                return EXIT_OK;
        }
        _cleanup_buf_ struct buf b = BUF_INIT;
        table_render(t, &b, 0);
        return cli_write(buf_str(&b));
}

int verb_rm(struct cli_context *ctx, const struct cli_args *args)
{
        const char *name = args->positional[0];
        if (!vm_name_is_valid(name))
                return cli_usage_error(ctx, "'%s' is not a VM name", name);
        _cleanup_free_ char *dir = vm_dir_for_name(name);
        _cleanup_free_ char *conf = xasprintf("%s/vm.conf", dir);
        _cleanup_free_ char *ppc = xasprintf("%s/ppc.conf", dir);
        if (access(conf, F_OK) != 0 && access(ppc, F_OK) != 0)
                return cli_error(EXIT_PROBLEM, "no VM named %s (%s)", name, conf);
        if (!cli_flag(args, "yes") && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
                printf("Remove %s: its libvirt domain, %s and the host changes only it needed? "
                       "[y/N]: ",
                       name, dir);
                fflush(stdout);
                char line[16];
                if (!fgets(line, sizeof(line), stdin) || (line[0] != 'y' && line[0] != 'Y')) {
                        printf("Nothing removed.\n");
                        return EXIT_OK;
                }
        }
        int r = cli_open_root(ctx);
        if (r != 0)
                return r;

        /* The domain: only one darwinkvm made, and only where libvirt answers. */
        const char *uri = cli_arg(args, "connect");
        _cleanup_(virt_closep) struct virt_conn *c = NULL;
        _cleanup_free_ char *err = NULL;
        if (virt_open(uri, &c, &err) < 0) {
                if (uri)
                        return cli_error(EXIT_ENV, "cannot connect to libvirt: %s", err);
                if (ctx->verbosity >= 0)
                        printf("libvirt not reachable: no domain to remove (%s)\n", err);
        } else {
                enum virt_owner owner;
                _cleanup_free_ char *uuid = NULL;
                if (virt_lookup(c, name, &owner, &uuid, &err) < 0)
                        return cli_error(EXIT_ENV, "%s", err);
                if (owner == VIRT_OURS) {
                        if (virt_undefine(c, name, true, &err) < 0)
                                return cli_error(EXIT_ENV, "%s", err);
                        if (ctx->verbosity >= 0)
                                printf("Undefined %s on %s\n", name, virt_uri(c));
                } else if (owner != VIRT_ABSENT)
                        cli_warn(ctx,
                                 "a domain named %s exists on %s but darwinkvm did not "
                                 "define it: left alone",
                                 name, virt_uri(c));
        }

        /* Host changes: only when no other VM is left that could need them. */
        _cleanup_strv_free_ char **others = vm_names();
        size_t n_others = strv_length(others) - (strv_contains(others, name) ? 1 : 0);
        _cleanup_free_ char *verb = new_journal_verb(name);
        if (n_others == 0) {
                struct prep p;
                prep_init(&p, ctx->root, false);
                unsigned count = 0;
                free(err);
                err = NULL;
                r = journal_undo_verb(&p, verb, &count, &err);
                prep_release(&p);
                if (r >= 0)
                        r = journal_forget_verb(ctx->root, verb, NULL, &err);
                if (r < 0)
                        return cli_error(EXIT_PROBLEM,
                                         "undoing the host changes of %s: %s "
                                         "(nothing else removed)",
                                         name, err);
                if (count && ctx->verbosity >= 0)
                        printf("Undid %u host change%s made for %s\n", count, count == 1 ? "" : "s",
                               name);
        } else if (ctx->verbosity >= 0)
                printf("Host changes kept: %zu other VM%s may need them ('darwinkvm host undo' "
                       "takes them back)\n",
                       n_others, n_others == 1 ? "" : "s");

        r = rm_rf(dir);
        if (r < 0)
                return cli_error(EXIT_ENV, "%s: %s", dir, strerror(-r));
        if (ctx->verbosity >= 0)
                printf("Removed %s\n", dir);
        return EXIT_OK;
}
