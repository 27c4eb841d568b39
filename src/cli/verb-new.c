/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc.h"
#include "cli-fetch.h"
#include "cli-progress.h"
#include "cli-vm.h"
#include "doctor.h"
#include "fileio.h"
#include "journal.h"
#include "newvm.h"
#include "output.h"
#include "pci-names.h"
#include "strutil.h"
#include "strv.h"
#include "vmspec.h"

/* Asks on the terminal; an empty answer takes @def. Newly allocated. */
static char *ask(const char *question, const char *def)
{
        printf("%s [%s]: ", question, def);
        fflush(stdout);
        char line[256];
        if (!fgets(line, sizeof(line), stdin))
                return xstrdup(def);
        strstrip(line);
        return xstrdup(*line ? line : def);
}

static bool interactive(const struct cli_context *ctx, const struct cli_args *args)
{
        return !ctx->json && !cli_flag(args, "yes") && isatty(STDIN_FILENO) &&
               isatty(STDOUT_FILENO);
}

static void print_list(const char *title, char **l)
{
        if (!l)
                return;
        printf("%s:\n", title);
        STRV_FOREACH(s, l)
                printf("  - %s\n", *s);
}

static void print_plan(const struct cli_context *ctx, const struct new_plan *p)
{
        printf("%sPlan for %s%s (%s)\n", cli_color(ctx, COLOR_BOLD), p->name,
               cli_color(ctx, COLOR_RESET), p->dir);
        printf("  macOS:     %s %s\n", p->release->version_str, p->release->name);
        printf("  Mac model: %s, QEMU CPU %s\n", p->model, p->cpu_model);
        printf("  firmware:  %s%s%s\n", p->firmware, p->fw_code ? " " : " (not found)",
               p->fw_code ? p->fw_code : "");
        printf("  NIC:       %s; disks on %s\n", p->nic_model, p->disk_bus);
        printf("  memory:    %" PRIu64 " MiB\n", p->memory_mib);
        if (p->gpu_bdf)
                printf("  GPU:       %s %s (%s passthrough)%s%s\n", p->gpu_bdf, p->gpu_name,
                       passthrough_mode_to_string(p->mode),
                       p->gpu_audio_bdf ? ", with its audio " : "",
                       p->gpu_audio_bdf ? p->gpu_audio_bdf : "");
        else
                printf("  GPU:       none\n");
        printf("  OpenCore:  %s\n", p->opencore_version);
        print_list("Downloads", p->downloads);
        print_list("Writes", p->writes);
        print_list("Host changes", p->host_changes);
        STRV_FOREACH(w, p->warnings)
                cli_warn(ctx, "%s", *w);
}

static void plan_json(struct json_writer *w, const struct new_plan *p)
{
        json_key(w, "plan");
        json_begin_object(w);
        json_kv_string(w, "name", p->name);
        json_kv_string(w, "dir", p->dir);
        json_kv_string(w, "macos", p->release->version_str);
        json_kv_string(w, "macos_name", p->release->name);
        json_kv_string(w, "model", p->model);
        json_kv_string(w, "cpu_model", p->cpu_model);
        json_kv_string(w, "firmware", p->firmware);
        json_kv_string(w, "firmware_code", p->fw_code);
        json_kv_string(w, "nic_model", p->nic_model);
        json_kv_string(w, "disk_bus", p->disk_bus);
        json_kv_uint(w, "memory_mib", p->memory_mib);
        json_kv_uint(w, "disk_bytes", p->disk_bytes);
        json_kv_string(w, "gpu", p->gpu_bdf);
        json_kv_string(w, "gpu_audio", p->gpu_audio_bdf);
        json_kv_string(w, "gpu_name", p->gpu_name);
        json_kv_string(w, "passthrough", passthrough_mode_to_string(p->mode));
        json_kv_string(w, "opencore", p->opencore_version);
        out_json_strv(w, "downloads", p->downloads);
        out_json_strv(w, "writes", p->writes);
        out_json_strv(w, "host_changes", p->host_changes);
        out_json_strv(w, "warnings", p->warnings);
        json_end_object(w);
}

/* Without libvirt: a script that starts the VM with plain QEMU through darwinkvm. */
static int write_launcher(const struct new_plan *p, const char *spec, char **ret_path)
{
        _cleanup_free_ char *path = xasprintf("%s/run-qemu.sh", p->dir);
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_puts(&b, "#!/bin/sh\n# Starts this VM with plain QEMU (no libvirt). Written by "
                     "darwinkvm new.\nexec darwinkvm vm qemu ");
        buf_put_shell_quoted(&b, spec);
        buf_puts(&b, " \"$@\"\n");
        _cleanup_free_ char *err = NULL;
        if (write_file_atomic(AT_FDCWD, path, buf_str(&b), b.len, 0755, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        *ret_path = TAKE_PTR(path);
        return 0;
}

/* The host half, through the change journal: a diff first, a backup, undo by `rm`. */
static int apply_host_changes(struct cli_context *ctx, const struct new_plan *plan,
                              const struct host *h, const struct compat *c, bool *ret_done)
{
        struct prep p;
        /* Only root can change the host; anyone else sees what would change. */
        prep_init(&p, ctx->root, geteuid() != 0);
        _cleanup_free_ char *verb = new_journal_verb(plan->name);
        struct change_set cs;
        change_set_init(&cs, verb);
        _cleanup_strv_free_ char **notes = NULL;
        _cleanup_free_ char *err = NULL;
        unsigned id = 0;
        int r = new_host_changes(plan, h, c, ctx->root, &cs, &notes, &err);
        if (r >= 0)
                r = journal_apply(&p, &cs, &id, &err);
        if (!ctx->json && ctx->verbosity >= 0) {
                if (p.dry_run && p.diff.len)
                        fputs(buf_str(&p.diff), stdout);
                STRV_FOREACH(l, p.log)
                        printf("  host: %s\n", *l);
                STRV_FOREACH(n, notes)
                        printf("  note: %s\n", *n);
        }
        change_set_release(&cs);
        bool dry = p.dry_run;
        prep_release(&p);
        if (r < 0)
                return cli_error(EXIT_ENV, "host changes: %s", err);
        if (dry && !ctx->json)
                printf("Not root: the host changes above were only shown; run as root to make "
                       "them.\n");
        *ret_done = !dry && id != 0;
        return 0;
}

static int run_flow(struct cli_context *ctx, const struct cli_args *args, struct new_options *o,
                    const struct host *h, const struct compat *c, struct new_plan *plan)
{
        struct cli_progress progress;
        cli_progress_init(&progress, ctx);
        struct new_report rep;
        _cleanup_free_ char *err = NULL;
        int r = new_run(plan, o, h, c, &progress.sink, &rep, &err);
        bool quiet = ctx->json || ctx->verbosity < 0;
        if (!quiet)
                for (size_t i = 0; i < rep.n_steps; i++) {
                        const struct new_step *s = &rep.steps[i];
                        enum color col = s->status == NEW_STEP_FAILED    ? COLOR_RED
                                         : s->status == NEW_STEP_SKIPPED ? COLOR_YELLOW
                                                                         : COLOR_GREEN;
                        printf("  %s%-8s%s %-9s %s\n", cli_color(ctx, col),
                               new_step_status_to_string(s->status), cli_color(ctx, COLOR_RESET),
                               s->id, strempty(s->detail));
                }
        if (r < 0) {
                new_report_release(&rep);
                if (r == -EINTR)
                        return cli_error(EXIT_INTERRUPTED,
                                         "interrupted; run the same command again to resume");
                return cli_error(r == -EINVAL ? EXIT_PROBLEM : EXIT_ENV, "new %s: %s", plan->name,
                                 err);
        }

        /* Define it: libvirt when it answers, else a QEMU launcher. */
        _cleanup_free_ char *defined_on = NULL, *launcher = NULL;
        bool define = !cli_flag(args, "no-define");
        if (define) {
                struct vm_options vo = {};
                _cleanup_(vm_plan_freep) struct vm_plan *vp = NULL;
                r = cli_load_vm_plan(ctx, rep.spec_path, &vo, &vp);
                if (r == 0)
                        r = cli_vm_define(ctx, vp, cli_arg(args, "connect"), &defined_on);
                if (r != 0 && !cli_arg(args, "connect")) {
                        /* No libvirt here: plain QEMU still runs it. */
                        cli_warn(ctx, "not defined in libvirt; writing a QEMU launcher instead");
                        r = write_launcher(plan, rep.spec_path, &launcher);
                }
                if (r != 0) {
                        new_report_release(&rep);
                        return r;
                }
        }
        bool host_done = false;
        if (plan->host_changes && cli_flag(args, "yes")) {
                r = apply_host_changes(ctx, plan, h, c, &host_done);
                if (r != 0) {
                        new_report_release(&rep);
                        return r;
                }
        }
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                plan_json(&w, plan);
                json_kv_bool(&w, "host_changed", host_done);
                json_key(&w, "steps");
                json_begin_array(&w);
                for (size_t i = 0; i < rep.n_steps; i++) {
                        json_begin_object(&w);
                        json_kv_string(&w, "id", rep.steps[i].id);
                        json_kv_string(&w, "status",
                                       new_step_status_to_string(rep.steps[i].status));
                        json_kv_string(&w, "detail", rep.steps[i].detail);
                        json_end_object(&w);
                }
                json_end_array(&w);
                json_kv_string(&w, "spec", rep.spec_path);
                json_kv_string(&w, "libvirt", defined_on);
                json_kv_string(&w, "launcher", launcher);
                json_kv_bool(&w, "bootable", rep.bootable);
                json_kv_string(&w, "network_error", rep.network_error);
                json_end_object(&w);
                r = out_json_end(&w);
                if (r != EXIT_OK) {
                        new_report_release(&rep);
                        return r;
                }
        } else if (!quiet) {
                if (launcher)
                        printf("Start it with %s\n", launcher);
                if (plan->host_changes && !cli_flag(args, "yes")) {
                        printf("The host still needs (run these, or 'darwinkvm new %s --yes'):\n",
                               plan->name);
                        STRV_FOREACH(hc, plan->host_changes)
                                printf("  - %s\n", *hc);
                }
                if (rep.bootable && !rep.network_failed)
                        printf("Next: darwinkvm verify %s\n", plan->name);
        }
        int exit_code = EXIT_OK;
        if (rep.unpinned) {
                cli_error(EXIT_PROBLEM,
                          "%s; every other step is done: run the same command again once the "
                          "pins are recorded",
                          rep.unpinned_error);
                exit_code = EXIT_PROBLEM;
        }
        if (rep.network_failed) {
                /* One line, and every step that needs no network is done. */
                cli_error(EXIT_NETWORK,
                          "the download servers could not be reached (%s); every other step is "
                          "done: run the same command again when online, or use --offline with "
                          "--opencore-zip and --recovery",
                          rep.network_error);
                exit_code = EXIT_NETWORK;
        }
        new_report_release(&rep);
        return exit_code;
}

static int parse_options(struct cli_context *ctx, const struct cli_args *args,
                         struct new_options *o)
{
        o->name = args->positional[0];
        o->macos = cli_arg(args, "macos");
        o->gpu = cli_arg(args, "gpu");
        o->seed = cli_arg(args, "seed");
        o->force = cli_flag(args, "force");
        o->offline = cli_flag(args, "offline");
        o->opencore_zip = cli_arg(args, "opencore-zip");
        o->recovery_dir = cli_arg(args, "recovery");
        o->no_recovery = cli_flag(args, "no-recovery");
        const char *size = cli_arg(args, "disk-size");
        if (size && (parse_size(size, &o->disk_bytes) < 0 || o->disk_bytes < (UINT64_C(1) << 30)))
                return cli_usage_error(ctx,
                                       "--disk-size: '%s', expected a size of at least 1G "
                                       "(e.g. 128G)",
                                       size);
        if (o->opencore_zip && access(o->opencore_zip, R_OK) != 0)
                return cli_usage_error(ctx, "--opencore-zip %s: %s", o->opencore_zip,
                                       strerror(errno));
        return 0;
}

int verb_new(struct cli_context *ctx, const struct cli_args *args)
{
        const char *arch = cli_arg(args, "arch");
        if (arch && streq(arch, "ppc"))
                return verb_new_ppc(ctx, args);
        if (arch && !streq(arch, "x86"))
                return cli_usage_error(ctx, "--arch: '%s', expected x86 or ppc", arch);
        struct new_options o = {};
        int r = parse_options(ctx, args, &o);
        if (r != 0)
                return r;
        _cleanup_(compat_freep) struct compat *c = NULL;
        r = cli_open_root_and_data(ctx, &c);
        if (r != 0)
                return r;
        o.data_dir = c->data_dir;
        struct cli_fetch fetch;
        r = cli_fetch_setup(ctx, args, &fetch);
        if (r != 0)
                return r;
        o.assets = fetch.assets;
        o.recovery = fetch.recovery;
        o.recovery_server = fetch.recovery_server;
        o.pins = fetch.pins;

        _cleanup_free_ char *user = out_default_user(NULL);
        _cleanup_(host_freep) struct host *h = host_load(ctx->root, user);
        _cleanup_(pci_names_freep) struct pci_names *names = pci_names_for_host(ctx->root, &h->pci);
        _cleanup_(doctor_report_freep) struct doctor_report *dr = doctor_run(h, c, names);

        _cleanup_free_ char *asked_macos = NULL, *asked_gpu = NULL;
        if (interactive(ctx, args) && !cli_flag(args, "plan")) {
                /* Only what has no safe default: the version and the GPU. */
                if (!o.macos && dr->newest) {
                        asked_macos = ask("macOS version", dr->newest->version_str);
                        o.macos = asked_macos;
                }
                if (!o.gpu) {
                        const char *def =
                                dr->gpu && dr->passthrough_possible ? dr->gpu->bdf : "none";
                        asked_gpu = ask("GPU to pass through (a PCI address, or none)", def);
                        o.gpu = asked_gpu;
                }
        }
        _cleanup_(new_plan_freep) struct new_plan *plan = NULL;
        _cleanup_free_ char *err = NULL;
        r = new_plan_build(h, c, dr, &o, &plan, &err);
        if (r < 0) {
                cli_fetch_release(&fetch);
                return cli_error(EXIT_PROBLEM, "new %s: %s", o.name, err);
        }
        if (cli_flag(args, "plan")) {
                cli_fetch_release(&fetch);
                if (ctx->json) {
                        struct json_writer w;
                        out_json_begin(ctx, &w);
                        json_begin_object(&w);
                        plan_json(&w, plan);
                        json_end_object(&w);
                        return out_json_end(&w);
                }
                print_plan(ctx, plan);
                return EXIT_OK;
        }
        if (!ctx->json && ctx->verbosity >= 0)
                print_plan(ctx, plan);
        if (interactive(ctx, args)) {
                _cleanup_free_ char *yes = ask("Go ahead?", "Y");
                if (*yes != 'Y' && *yes != 'y') {
                        cli_fetch_release(&fetch);
                        printf("Nothing done.\n");
                        return EXIT_OK;
                }
        }
        cli_fetch_install_signals();
        r = run_flow(ctx, args, &o, h, c, plan);
        cli_fetch_release(&fetch);
        return r;
}
