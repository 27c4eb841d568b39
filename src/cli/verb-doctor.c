/* SPDX-License-Identifier: MIT */
#include "alloc.h"
#include "cli.h"
#include "doctor.h"
#include "macos.h"
#include "output.h"
#include "strv.h"

static void render_text(const struct cli_context *ctx, const struct host *h,
                        const struct doctor_report *r, const struct compat *data,
                        struct pci_names *names, struct buf *b)
{
        out_host_line(b, ctx, h);
        buf_putc(b, '\n');
        size_t width = 0;
        for (size_t i = 0; i < r->n_checks; i++)
                width = MAX(width, strlen(r->checks[i].id));
        for (size_t i = 0; i < r->n_checks; i++) {
                const struct check_result *c = &r->checks[i];
                if (ctx->verbosity < 0 && c->status == CHECK_OK)
                        continue;
                out_status(b, ctx, c->status);
                buf_printf(b, " %s", c->id);
                buf_pad(b, width - strlen(c->id) + 2);
                buf_printf(b, "%s\n", c->found);
                bool details = c->status != CHECK_OK || ctx->verbosity > 0;
                if (details && c->why)
                        buf_printf(b, "       %swhy:%s %s\n", cli_color(ctx, COLOR_DIM),
                                   cli_color(ctx, COLOR_RESET), c->why);
                if (details && c->fix)
                        buf_printf(b, "       %sfix:%s %s\n", cli_color(ctx, COLOR_BOLD),
                                   cli_color(ctx, COLOR_RESET), c->fix);
        }
        if (ctx->verbosity > 0) {
                STRV_FOREACH(n, h->firmware.notes)
                        buf_printf(b, "       note: firmware descriptor %s\n", *n);
                buf_printf(b, "       note: data from %s; device names from %s\n", data->data_dir,
                           pci_names_source(names) ? pci_names_source(names) : "nowhere");
        }

        char v[16];
        buf_printf(b, "\n%sVerdict%s\n", cli_color(ctx, COLOR_BOLD), cli_color(ctx, COLOR_RESET));
        if (r->newest_by_cpu)
                buf_printf(b, "  Newest macOS (CPU):      %s %s\n",
                           macos_version_format(r->newest_by_cpu->version, v, sizeof(v)),
                           r->newest_by_cpu->name);
        else
                buf_puts(b, "  Newest macOS (CPU):      unknown\n");
        if (r->newest && r->newest != r->newest_by_cpu)
                buf_printf(b, "  Newest macOS (with GPU): %s %s (limited by %s)\n",
                           macos_version_format(r->newest->version, v, sizeof(v)), r->newest->name,
                           r->gpu_verdict.family);
        if (r->newest)
                buf_printf(b,
                           "  Guest profile:           %s, -cpu %s,vendor=GenuineIntel, %s "
                           "firmware\n",
                           r->newest->mac_model, r->newest->qemu_cpu,
                           streq(r->newest->firmware, "dudk") ? "DUDK" : "OVMF");
        buf_printf(b, "  GPU passthrough:         %s\n", r->passthrough_summary);
        if (r->guest_ram_mib)
                buf_printf(b, "  Default guest RAM:       %llu GiB\n",
                           (unsigned long long) r->guest_ram_mib / 1024);
        _cleanup_free_ char *params = strv_join(r->needed_params, " ");
        buf_printf(b, "  Kernel parameters:       %s\n", params);
        size_t n_fix = strv_length(r->fixes);
        if (n_fix) {
                buf_puts(b, "  To fix, in order:\n");
                for (size_t i = 0; i < n_fix; i++)
                        buf_printf(b, "    %zu. %s\n", i + 1, r->fixes[i]);
        }
        buf_printf(b, "\n%zu ok, %zu warn, %zu fail, %zu unknown\n", doctor_count(r, CHECK_OK),
                   doctor_count(r, CHECK_WARN), doctor_count(r, CHECK_FAIL),
                   doctor_count(r, CHECK_UNKNOWN));
}

static void json_release(struct json_writer *w, const char *key, const struct macos_release *m)
{
        char v[16];
        json_key(w, key);
        if (!m) {
                json_null(w);
                return;
        }
        json_begin_object(w);
        json_kv_string(w, "version", macos_version_format(m->version, v, sizeof(v)));
        json_kv_string(w, "name", m->name);
        json_kv_string(w, "mac_model", m->mac_model);
        json_kv_string(w, "qemu_cpu", m->qemu_cpu);
        json_kv_string(w, "firmware", m->firmware);
        json_end_object(w);
}

static void render_json(struct json_writer *w, const struct cli_context *ctx, const struct host *h,
                        const struct doctor_report *r)
{
        json_begin_object(w);
        json_kv_string(w, "root", ctx->root_path);
        json_key(w, "host");
        json_begin_object(w);
        json_kv_string(w, "os", h->system.os_pretty_name);
        json_kv_string(w, "os_id", h->system.os_id);
        json_kv_string(w, "cpu", h->cpu.model_name);
        json_kv_string(w, "cpu_vendor", h->cpu.vendor_id);
        json_kv_uint(w, "cpu_cores", h->cpu.cores);
        json_kv_uint(w, "cpu_threads", h->cpu.logical);
        json_kv_uint(w, "memory_kib", h->memory.total_kib);
        json_kv_string(w, "kernel", h->modules.kernel_release);
        json_kv_string(w, "bootloader", bootloader_to_string(h->system.bootloader));
        json_kv_bool(w, "uefi", h->system.uefi);
        json_kv_string(w, "ovmf_code", h->firmware.code);
        json_kv_string(w, "ovmf_vars", h->firmware.vars);
        json_kv_string(w, "ovmf_format", h->firmware.format);
        json_end_object(w);

        json_key(w, "checks");
        json_begin_array(w);
        for (size_t i = 0; i < r->n_checks; i++) {
                const struct check_result *c = &r->checks[i];
                json_begin_object(w);
                json_kv_string(w, "id", c->id);
                json_kv_string(w, "status", check_status_to_string(c->status));
                json_kv_string(w, "found", c->found);
                json_kv_string(w, "why", c->why);
                json_kv_string(w, "fix", c->fix);
                json_end_object(w);
        }
        json_end_array(w);

        json_key(w, "verdict");
        json_begin_object(w);
        json_release(w, "newest_macos_by_cpu", r->newest_by_cpu);
        json_release(w, "newest_macos", r->newest);
        json_key(w, "gpu");
        if (r->gpu) {
                json_begin_object(w);
                json_kv_string(w, "bdf", r->gpu->bdf);
                json_kv_string(w, "name", r->gpu_name);
                _cleanup_free_ char *id = out_pci_id(r->gpu);
                json_kv_string(w, "id", id);
                json_kv_string(w, "iommu_viability", iommu_viability_to_string(r->gpu_viability));
                json_key(w, "macos");
                out_json_gpu_verdict(w, &r->gpu_verdict);
                json_end_object(w);
        } else
                json_null(w);
        json_key(w, "passthrough");
        json_begin_object(w);
        json_kv_bool(w, "possible", r->passthrough_possible);
        json_kv_string(w, "mode", passthrough_mode_to_string(r->mode));
        json_kv_string(w, "summary", r->passthrough_summary);
        json_end_object(w);
        json_kv_uint(w, "guest_ram_mib", r->guest_ram_mib);
        out_json_strv(w, "kernel_params", r->needed_params);
        out_json_strv(w, "fixes", r->fixes);
        json_end_object(w);

        json_key(w, "summary");
        json_begin_object(w);
        for (enum check_status s = 0; s < CHECK_STATUS_COUNT; s++)
                json_kv_uint(w, check_status_to_string(s), doctor_count(r, s));
        json_end_object(w);
        json_end_object(w);
}

int verb_doctor(struct cli_context *ctx, const struct cli_args *args)
{
        _cleanup_free_ char *user = out_default_user(cli_arg(args, "user"));
        _cleanup_(compat_freep) struct compat *compat = NULL;
        int r = cli_open_root_and_data(ctx, &compat);
        if (r != 0)
                return r;
        _cleanup_(host_freep) struct host *h = host_load(ctx->root, user);
        _cleanup_(pci_names_freep) struct pci_names *names = pci_names_for_host(ctx->root, &h->pci);
        _cleanup_(doctor_report_freep) struct doctor_report *rep = doctor_run(h, compat, names);

        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                render_json(&w, ctx, h, rep);
                r = out_json_end(&w);
        } else {
                _cleanup_buf_ struct buf b = BUF_INIT;
                render_text(ctx, h, rep, compat, names, &b);
                r = cli_write(buf_str(&b));
        }
        if (r != 0)
                return r;
        return doctor_count(rep, CHECK_FAIL) ? EXIT_PROBLEM : EXIT_OK;
}
