/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "bootloader.h"
#include "cli.h"
#include "doctor.h"
#include "hooks.h"
#include "hostprep.h"
#include "journal.h"
#include "output.h"
#include "strutil.h"
#include "strv.h"
#include "vfio.h"

/* Exit status for a core error: bad input files 2, the environment 3, refusals 1. */
static int exit_for(int r)
{
        switch (-r) {
        case EINVAL:
        case EEXIST:
        case EBADMSG:
                return EXIT_USAGE;
        case EACCES:
        case EPERM:
        case EROFS:
        case EIO:
        case ENOSPC:
        case ENOEXEC:
                return EXIT_ENV;
        default:
                return EXIT_PROBLEM;
        }
}

/* --dry-run, --apply; the default: a dry run unless running as root. */
static bool want_dry_run(const struct cli_args *args)
{
        if (cli_flag(args, "dry-run"))
                return true;
        if (cli_flag(args, "apply"))
                return false;
        return geteuid() != 0;
}

/* Prints what a preparation did (or would do) and its error; returns the exit status. */
static int report(struct cli_context *ctx, struct prep *p, int r, const char *err, unsigned id)
{
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_bool(&w, "dry_run", p->dry_run);
                json_kv_bool(&w, "ok", r >= 0);
                if (r < 0)
                        json_kv_string(&w, "error", err);
                if (id)
                        json_kv_uint(&w, "entry", id);
                json_kv_string(&w, "diff", buf_str(&p->diff));
                out_json_strv(&w, "log", p->log);
                json_end_object(&w);
                int k = out_json_end(&w);
                if (k)
                        return k;
                return r < 0 ? exit_for(r) : EXIT_OK;
        }
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_puts(&b, buf_str(&p->diff));
        STRV_FOREACH(l, p->log)
                buf_printf(&b, "%s\n", *l);
        if (r >= 0 && p->dry_run && (p->diff.len > 0 || strv_length(p->log) > 0))
                buf_puts(&b, "dry run: nothing written (run as root, or with --apply)\n");
        int k = cli_write(buf_str(&b));
        if (k)
                return k;
        if (r < 0) {
                cli_error(EXIT_PROBLEM, "%s", err);
                return exit_for(r);
        }
        return EXIT_OK;
}

static int apply_and_report(struct cli_context *ctx, struct prep *p, struct change_set *cs)
{
        _cleanup_free_ char *err = NULL;
        unsigned id = 0;
        int r = journal_apply(p, cs, &id, &err);
        if (r >= 0 && id == 0 && p->diff.len == 0 && !p->dry_run)
                prep_log(p, "nothing to change");
        else if (r >= 0 && p->diff.len == 0 && p->dry_run)
                prep_log(p, "nothing to change");
        return report(ctx, p, r, err, id);
}

static int load_host(struct cli_context *ctx, struct host **ret)
{
        int r = cli_open_root(ctx);
        if (r)
                return r;
        *ret = host_load(ctx->root, NULL);
        return 0;
}

/* ---------------- kernel-params ---------------- */

static int host_kernel_params(struct cli_context *ctx, const struct cli_args *args)
{
        _cleanup_strv_free_ char **add = xcalloc(1, sizeof(char *));
        _cleanup_strv_free_ char **remove = xcalloc(1, sizeof(char *));
        bool recommended = cli_flag(args, "recommended");
        for (size_t i = 0; i < args->n; i++) {
                const char *v = args->values[i];
                if (!streq(args->names[i], "add") && !streq(args->names[i], "remove"))
                        continue;
                if (!*v || strpbrk(v, " \t\n\"'\\"))
                        return cli_usage_error(ctx, "--%s: '%s' is not one kernel parameter",
                                               args->names[i], v);
                if (streq(args->names[i], "add"))
                        add = strv_push(add, v);
                else
                        remove = strv_push(remove, v);
        }
        if (!recommended && strv_length(add) == 0 && strv_length(remove) == 0)
                return cli_usage_error(ctx, "kernel-params needs --add, --remove or --recommended");
        if (strv_length(args->positional) > 1)
                return cli_usage_error(ctx, "kernel-params takes no arguments");

        _cleanup_(host_freep) struct host *h = NULL;
        int r = load_host(ctx, &h);
        if (r)
                return r;
        if (recommended) {
                _cleanup_(compat_freep) struct compat *c = NULL;
                r = cli_load_compat(ctx, &c);
                if (r)
                        return r;
                _cleanup_(doctor_report_freep) struct doctor_report *rep = doctor_run(h, c, NULL);
                STRV_FOREACH(p, rep->needed_params)
                        if (!strv_contains(add, *p))
                                add = strv_push(add, *p);
        }
        struct prep p;
        prep_init(&p, ctx->root, want_dry_run(args));
        struct change_set cs;
        change_set_init(&cs, "kernel-params");
        _cleanup_free_ char *err = NULL;
        r = bootloader_plan(h, ctx->root, &cs, add, remove, &err);
        int rc = r < 0 ? report(ctx, &p, r, err, 0) : apply_and_report(ctx, &p, &cs);
        change_set_release(&cs);
        prep_release(&p);
        return rc;
}

/* ---------------- status, undo ---------------- */

static int host_status(struct cli_context *ctx, const struct cli_args *args)
{
        (void) args;
        int r = cli_open_root(ctx);
        if (r)
                return r;
        struct journal_entry *e = NULL;
        size_t n = 0;
        _cleanup_free_ char *err = NULL;
        if (journal_load(ctx->root, &e, &n, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_key(&w, "entries");
                json_begin_array(&w);
                for (size_t i = 0; i < n; i++) {
                        json_begin_object(&w);
                        json_kv_uint(&w, "id", e[i].id);
                        json_kv_string(&w, "verb", e[i].verb);
                        json_key(&w, "time");
                        json_int(&w, e[i].time);
                        json_kv_string(&w, "state", journal_state_to_string(e[i].state));
                        json_key(&w, "files");
                        json_begin_array(&w);
                        for (size_t j = 0; j < e[i].n_files; j++) {
                                json_begin_object(&w);
                                json_kv_string(&w, "path", e[i].files[j].path);
                                json_kv_bool(&w, "created", !e[i].files[j].existed);
                                json_kv_string(&w, "state",
                                               file_state_to_string(e[i].files[j].state));
                                json_end_object(&w);
                        }
                        json_end_array(&w);
                        json_end_object(&w);
                }
                json_end_array(&w);
                json_end_object(&w);
                journal_entries_free(e, n);
                return out_json_end(&w);
        }
        _cleanup_buf_ struct buf b = BUF_INIT;
        if (n == 0)
                buf_puts(&b, "darwinkvm has not changed this host.\n");
        for (size_t i = 0; i < n; i++) {
                char when[32];
                time_t t = (time_t) e[i].time;
                struct tm tm;
                if (gmtime_r(&t, &tm))
                        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
                else
                        snprintf(when, sizeof(when), "%lld", e[i].time);
                buf_printf(&b, "%u  %s  %s  %s\n", e[i].id, when, e[i].verb,
                           journal_state_to_string(e[i].state));
                if (e[i].state == JOURNAL_PENDING)
                        buf_printf(&b,
                                   "    (interrupted before it completed: 'darwinkvm host undo %u' "
                                   "rolls it back)\n",
                                   e[i].id);
                for (size_t j = 0; j < e[i].n_files; j++)
                        buf_printf(&b, "    %-14s %s%s\n",
                                   file_state_to_string(e[i].files[j].state), e[i].files[j].path,
                                   e[i].files[j].existed ? "" : " (created)");
        }
        journal_entries_free(e, n);
        return cli_write(buf_str(&b));
}

static int host_undo(struct cli_context *ctx, const struct cli_args *args)
{
        char *const *pos = args->positional;
        bool all = cli_flag(args, "all");
        unsigned id = 0;
        if (strv_length(pos) > 2 || (strv_length(pos) == 2 && all) ||
            (strv_length(pos) < 2 && !all))
                return cli_usage_error(ctx, "undo takes an entry ID or --all");
        if (!all) {
                uint64_t v;
                if (parse_u64(pos[1], &v) < 0 || v == 0 || v > 9999)
                        return cli_usage_error(ctx, "'%s' is not a journal entry ID", pos[1]);
                id = (unsigned) v;
        }
        int r = cli_open_root(ctx);
        if (r)
                return r;
        struct prep p;
        prep_init(&p, ctx->root, want_dry_run(args));
        _cleanup_free_ char *err = NULL;
        r = journal_undo(&p, id, &err);
        if (r >= 0 && p.diff.len == 0 && strv_length(p.log) == 0)
                prep_log(&p, "nothing to undo");
        int rc = report(ctx, &p, r, err, 0);
        prep_release(&p);
        return rc;
}

/* ---------------- vfio ---------------- */

static int host_vfio(struct cli_context *ctx, const struct cli_args *args)
{
        char *const *pos = args->positional;
        const char *mode = pos[1];
        if (!mode || !(streq(mode, "boot") || streq(mode, "bind") || streq(mode, "unbind")))
                return cli_usage_error(ctx, "vfio takes boot, bind or unbind, then BDF...");
        if (strv_length(pos) < 3)
                return cli_usage_error(ctx, "vfio %s needs at least one BDF (0000:01:00.0)", mode);
        for (size_t i = 2; pos[i]; i++)
                if (!pci_bdf_is_valid(pos[i]))
                        return cli_usage_error(ctx, "'%s' is not a PCI address (0000:01:00.0)",
                                               pos[i]);
        _cleanup_(host_freep) struct host *h = NULL;
        int r = load_host(ctx, &h);
        if (r)
                return r;
        struct prep p;
        prep_init(&p, ctx->root, want_dry_run(args));
        _cleanup_free_ char *err = NULL;
        struct vfio_target t;
        r = vfio_target_make(h, ctx->root, pos + 2, /* allow_boot_display= */ false, &t, &err);
        int rc;
        if (r < 0)
                rc = report(ctx, &p, r, err, 0);
        else {
                _cleanup_free_ char *all = strv_join(t.bdfs, " ");
                prep_log(&p, "functions: %s", all);
                if (streq(mode, "boot")) {
                        struct change_set cs;
                        change_set_init(&cs, "vfio");
                        r = vfio_boot_plan(ctx->root, &t, &cs, &err);
                        rc = r < 0 ? report(ctx, &p, r, err, 0) : apply_and_report(ctx, &p, &cs);
                        change_set_release(&cs);
                } else {
                        r = streq(mode, "bind") ? vfio_bind(&p, &t, &err)
                                                : vfio_unbind(&p, &t, &err);
                        rc = report(ctx, &p, r, err, 0);
                }
                vfio_target_release(&t);
        }
        prep_release(&p);
        return rc;
}

/* ---------------- hooks ---------------- */

static int host_hooks(struct cli_context *ctx, const struct cli_args *args)
{
        char *const *pos = args->positional;
        const char *mode = pos[1];
        if (!mode || !(streq(mode, "install") || streq(mode, "uninstall")) || pos[2])
                return cli_usage_error(ctx, "hooks takes install [--vm NAME]... or uninstall");
        int r = cli_open_root(ctx);
        if (r)
                return r;
        struct prep p;
        prep_init(&p, ctx->root, want_dry_run(args));
        _cleanup_free_ char *err = NULL;
        int rc;
        if (streq(mode, "uninstall")) {
                unsigned n = 0;
                r = journal_undo_verb(&p, "hooks", &n, &err);
                if (r >= 0 && n == 0)
                        prep_log(&p, "no darwinkvm hook installed");
                rc = report(ctx, &p, r, err, 0);
                prep_release(&p);
                return rc;
        }
        _cleanup_strv_free_ char **vms = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < args->n; i++)
                if (streq(args->names[i], "vm"))
                        vms = strv_push(vms, args->values[i]);
        int reset = -1;
        const char *rw = cli_arg(args, "reset-workaround");
        if (rw && (reset = reset_workaround_from_string(rw)) < 0) {
                prep_release(&p);
                return cli_usage_error(ctx,
                                       "--reset-workaround takes vendor-reset, suspend or "
                                       "none, not '%s'",
                                       rw);
        }
        _cleanup_(compat_freep) struct compat *c = NULL;
        r = cli_load_compat(ctx, &c);
        if (r) {
                prep_release(&p);
                return r;
        }
        _cleanup_(host_freep) struct host *h = host_load(ctx->root, NULL);
        struct change_set cs;
        change_set_init(&cs, "hooks");
        _cleanup_strv_free_ char **notes = NULL;
        r = hooks_install_plan(h, c, ctx->root, vms, cli_arg(args, "gpu"), reset, &cs, &notes,
                               &err);
        STRV_FOREACH(n, notes)
                prep_log(&p, "%s", *n);
        rc = r < 0 ? report(ctx, &p, r, err, 0) : apply_and_report(ctx, &p, &cs);
        change_set_release(&cs);
        prep_release(&p);
        return rc;
}

/* ---------------- bridge, setup, governor ---------------- */

static int host_bridge(struct cli_context *ctx, const struct cli_args *args)
{
        const char *nic = cli_arg(args, "nic");
        if (!nic || args->positional[1])
                return cli_usage_error(ctx, "bridge needs --nic IF (an Ethernet interface)");
        int r = cli_open_root(ctx);
        if (r)
                return r;
        struct prep p;
        prep_init(&p, ctx->root, want_dry_run(args));
        struct change_set cs;
        change_set_init(&cs, "bridge");
        _cleanup_free_ char *err = NULL;
        r = bridge_plan(ctx->root, nic, &cs, &err);
        int rc = r < 0 ? report(ctx, &p, r, err, 0) : apply_and_report(ctx, &p, &cs);
        change_set_release(&cs);
        prep_release(&p);
        return rc;
}

static int host_setup(struct cli_context *ctx, const struct cli_args *args)
{
        if (args->positional[1])
                return cli_usage_error(ctx, "setup takes no arguments");
        struct setup_options o = { .evdev = cli_flag(args, "evdev") };
        const char *hp = cli_arg(args, "hugepages");
        if (hp && (parse_size(hp, &o.hugepage_bytes) < 0 || o.hugepage_bytes == 0))
                return cli_usage_error(ctx, "--hugepages: '%s' is not a size (8G, 16384M)", hp);
        _cleanup_free_ char *user = out_default_user(cli_arg(args, "user"));
        o.user = user;
        int r = cli_open_root(ctx);
        if (r)
                return r;
        _cleanup_(host_freep) struct host *h = host_load(ctx->root, user);
        struct prep p;
        prep_init(&p, ctx->root, want_dry_run(args));
        _cleanup_free_ char *err = NULL;
        enum distro_family f = distro_family_of(&h->system);
        _cleanup_strv_free_ char **install = setup_install_argv(f);
        if (!install)
                prep_log(&p,
                         "packages: unknown distribution '%s'; install QEMU, libvirt, "
                         "virt-manager, OVMF and dosfstools with your package manager",
                         h->system.os_id ? h->system.os_id : "?");
        else if (cli_flag(args, "yes") && !p.dry_run)
                r = prep_run(&p, install, &err);
        else {
                _cleanup_free_ char *s = strv_join(install, " ");
                prep_log(&p, "packages (with --yes): %s", s);
        }
        int rc;
        if (r < 0)
                rc = report(ctx, &p, r, err, 0);
        else {
                struct change_set cs;
                change_set_init(&cs, "setup");
                _cleanup_strv_free_ char **notes = NULL;
                r = setup_plan(h, ctx->root, &o, &cs, &notes, &err);
                STRV_FOREACH(n, notes)
                        prep_log(&p, "%s", *n);
                rc = r < 0 ? report(ctx, &p, r, err, 0) : apply_and_report(ctx, &p, &cs);
                change_set_release(&cs);
        }
        prep_release(&p);
        return rc;
}

static int host_governor(struct cli_context *ctx, const struct cli_args *args)
{
        char *const *pos = args->positional;
        if (strv_length(pos) != 2)
                return cli_usage_error(ctx, "governor takes a governor (performance) or restore");
        int r = cli_open_root(ctx);
        if (r)
                return r;
        struct prep p;
        prep_init(&p, ctx->root, want_dry_run(args));
        _cleanup_free_ char *err = NULL;
        r = streq(pos[1], "restore") ? governor_restore(&p, &err) : governor_set(&p, pos[1], &err);
        int rc = report(ctx, &p, r, err, 0);
        prep_release(&p);
        return rc;
}

/* ---------------- dispatch ---------------- */

int verb_host(struct cli_context *ctx, const struct cli_args *args)
{
        const char *what = args->positional[0];

        static const struct {
                const char *name;
                int (*run)(struct cli_context *, const struct cli_args *);
        } subs[] = {
                { "kernel-params", host_kernel_params },
                { "vfio", host_vfio },
                { "hooks", host_hooks },
                { "bridge", host_bridge },
                { "setup", host_setup },
                { "governor", host_governor },
                { "status", host_status },
                { "undo", host_undo },
        };

        const char *best = NULL;
        unsigned best_d = 3;
        for (size_t i = 0; i < ELEMENTSOF(subs); i++) {
                if (streq(subs[i].name, what))
                        return subs[i].run(ctx, args);
                unsigned d = edit_distance(what, subs[i].name);
                if (d < best_d) {
                        best_d = d;
                        best = subs[i].name;
                }
        }
        if (best)
                return cli_usage_error(ctx, "unknown host action '%s'; did you mean '%s'?", what,
                                       best);
        return cli_usage_error(ctx,
                               "unknown host action '%s' (kernel-params, vfio, hooks, bridge, "
                               "setup, governor, status, undo)",
                               what);
}
