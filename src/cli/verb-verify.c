/* SPDX-License-Identifier: MIT */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "cli-progress.h"
#include "cli-vm.h"
#include "output.h"
#include "strutil.h"
#include "strv.h"
#include "verify.h"
#include "vmspec.h"

static void print_text(const struct cli_context *ctx, const struct vm_plan *p,
                       const struct verify_result *res, bool ok)
{
        const struct boot_report *rep = &res->report;
        printf("%s: booted headless under %s, serial console in %s\n", p->name,
               p->kvm ? "KVM" : "TCG", res->serial_log);
        if (!res->opencore_log)
                printf("  note: %s\n", res->opencore_note);
        for (size_t i = 0; i < rep->n_stages; i++) {
                const struct boot_stage *s = &boot_stages_opencore[i];
                if (rep->reached[i])
                        printf("  %sok%s    %-9s %6.1f s  %s\n", cli_color(ctx, COLOR_GREEN),
                               cli_color(ctx, COLOR_RESET), s->name,
                               (double) rep->at_ms[i] / 1000.0, s->what);
                else
                        printf("  %sfail%s  %-9s %8s  %s: not seen\n", cli_color(ctx, COLOR_RED),
                               cli_color(ctx, COLOR_RESET), s->name, "-", s->what);
        }
        if (ok) {
                printf("verdict: %sboots to the OpenCore picker%s in %.1f s\n",
                       cli_color(ctx, COLOR_GREEN), cli_color(ctx, COLOR_RESET),
                       (double) rep->at_ms[rep->n_stages - 1] / 1000.0);
                return;
        }
        const char *why = rep->guest_exited ? "the guest stopped" : "timed out";
        printf("verdict: %sdid not reach the picker%s (%s after %.1f s); last lines of the log:\n",
               cli_color(ctx, COLOR_RED), cli_color(ctx, COLOR_RESET), why,
               (double) rep->elapsed_ms / 1000.0);
        _cleanup_strv_free_ char **lines = strv_split(rep->tail ? rep->tail : "", "\n");
        STRV_FOREACH(l, lines)
                printf("  | %s\n", *l);
        printf("QEMU's messages: %s\n", res->qemu_stderr);
}

static int print_json(const struct cli_context *ctx, const struct vm_plan *p,
                      const struct verify_result *res, bool ok)
{
        const struct boot_report *rep = &res->report;
        struct json_writer w;
        out_json_begin(ctx, &w);
        json_begin_object(&w);
        json_kv_string(&w, "name", p->name);
        json_kv_string(&w, "accel", p->kvm ? "kvm" : "tcg");
        json_kv_bool(&w, "ok", ok);
        json_kv_bool(&w, "opencore_log", res->opencore_log);
        json_key(&w, "stages");
        json_begin_array(&w);
        for (size_t i = 0; i < rep->n_stages; i++) {
                json_begin_object(&w);
                json_kv_string(&w, "name", boot_stages_opencore[i].name);
                json_kv_bool(&w, "reached", rep->reached[i]);
                if (rep->reached[i])
                        json_kv_uint(&w, "ms", rep->at_ms[i]);
                json_end_object(&w);
        }
        json_end_array(&w);
        json_kv_uint(&w, "elapsed_ms", rep->elapsed_ms);
        json_kv_bool(&w, "guest_exited", rep->guest_exited);
        json_kv_string(&w, "serial_log", res->serial_log);
        if (!ok)
                json_kv_string(&w, "log_tail", rep->tail ? rep->tail : "");
        json_end_object(&w);
        return out_json_end(&w);
}

int verb_verify(struct cli_context *ctx, const struct cli_args *args)
{
        const char *arg = args->positional[0];
        uint64_t timeout_s = 120;
        const char *t = cli_arg(args, "timeout");
        if (t && (parse_u64(t, &timeout_s) < 0 || timeout_s == 0 || timeout_s > 86400))
                return cli_usage_error(ctx, "--timeout: '%s', expected seconds (1 to 86400)", t);
        int r = cli_open_root(ctx);
        if (r != 0)
                return r;
        _cleanup_free_ char *spec = vm_spec_path(arg);
        _cleanup_free_ char *spec_copy = xstrdup(spec);
        _cleanup_free_ char *work = xasprintf("%s/verify", dirname(spec_copy));
        _cleanup_free_ char *serial = xasprintf("%s/serial.log", work);
        struct vm_options o = { .headless = true, .serial_log = serial };
        _cleanup_(vm_plan_freep) struct vm_plan *p = NULL;
        r = cli_load_vm_plan(ctx, arg, &o, &p);
        if (r != 0)
                return r;
        struct cli_progress progress;
        cli_progress_init(&progress, ctx);
        struct verify_options vo = {
                .timeout_ms = timeout_s * 1000,
                .work_dir = work,
                .progress = &progress.sink,
        };
        struct verify_result res;
        _cleanup_free_ char *err = NULL;
        r = verify_vm(p, ctx->root, &vo, &res, &err);
        if (r < 0) {
                verify_result_release(&res);
                return cli_error(EXIT_ENV, "verify %s: %s", p->name, err);
        }
        bool ok = res.report.reached[res.report.n_stages - 1];
        if (ctx->json)
                r = print_json(ctx, p, &res, ok);
        else {
                print_text(ctx, p, &res, ok);
                r = EXIT_OK;
        }
        verify_result_release(&res);
        if (r != EXIT_OK)
                return r;
        return ok ? EXIT_OK : EXIT_PROBLEM;
}
