/* SPDX-License-Identifier: MIT */
#include "output.h"

#include <pwd.h>

#include "alloc.h"
#include "macos.h"
#include "strv.h"

void out_status(struct buf *b, const struct cli_context *ctx, enum check_status s)
{
        static const char *const label[CHECK_STATUS_COUNT] = {
                [CHECK_OK] = "[ ok ]",
                [CHECK_WARN] = "[warn]",
                [CHECK_FAIL] = "[FAIL]",
                [CHECK_UNKNOWN] = "[ ?? ]",
        };

        static const enum color color[CHECK_STATUS_COUNT] = {
                [CHECK_OK] = COLOR_GREEN,
                [CHECK_WARN] = COLOR_YELLOW,
                [CHECK_FAIL] = COLOR_RED,
                [CHECK_UNKNOWN] = COLOR_MAGENTA,
        };

        buf_printf(b, "%s%s%s", cli_color(ctx, color[s]), label[s], cli_color(ctx, COLOR_RESET));
}

void out_json_begin(const struct cli_context *ctx, struct json_writer *w)
{
        json_writer_init(w, ctx->json_pretty);
}

int out_json_end(struct json_writer *w)
{
        _cleanup_free_ char *s = json_writer_finish(w);
        return cli_write(s);
}

void out_host_line(struct buf *b, const struct cli_context *ctx, const struct host *h)
{
        buf_printf(b, "%sHost:%s %s; %s; root %s\n", cli_color(ctx, COLOR_BOLD),
                   cli_color(ctx, COLOR_RESET),
                   h->system.os_pretty_name ? h->system.os_pretty_name : "unknown OS",
                   h->cpu.model_name ? h->cpu.model_name : "unknown CPU", ctx->root_path);
}

char *out_pci_id(const struct host_pci_device *d)
{
        return d->has_ids ? xasprintf("%04x:%04x", d->vendor, d->device) : xstrdup("????:????");
}

void out_json_pci_fields(struct json_writer *w, const struct host_pci_device *d,
                         struct pci_names *names)
{
        json_kv_string(w, "bdf", d->bdf);
        if (d->has_ids) {
                char id[16];
                snprintf(id, sizeof(id), "%04x", d->vendor);
                json_kv_string(w, "vendor_id", id);
                snprintf(id, sizeof(id), "%04x", d->device);
                json_kv_string(w, "device_id", id);
                snprintf(id, sizeof(id), "%06x", d->class_code);
                json_kv_string(w, "class", id);
                json_kv_string(w, "class_name",
                               names ? pci_names_class(names, d->class_code) : NULL);
                json_kv_string(w, "vendor_name", names ? pci_names_vendor(names, d->vendor) : NULL);
                json_kv_string(w, "device_name",
                               names ? pci_names_device(names, d->vendor, d->device) : NULL);
        }
        json_kv_string(w, "driver", d->driver);
        json_key(w, "iommu_group");
        if (d->iommu_group >= 0)
                json_int(w, d->iommu_group);
        else
                json_null(w);
        json_kv_string(w, "reset_method", d->reset_method);
        json_kv_bool(w, "boot_vga", d->boot_vga == 1);
        json_kv_string(w, "error", d->error);
}

void out_json_gpu_verdict(struct json_writer *w, const struct gpu_verdict *v)
{
        char a[16];
        json_begin_object(w);
        json_kv_string(w, "support", gpu_support_to_string(v->support));
        json_kv_string(w, "vendor", v->vendor);
        json_kv_string(w, "family", v->family);
        json_kv_string(w, "models", v->models);
        json_kv_string(w, "first_macos",
                       v->first_version ? macos_version_format(v->first_version, a, sizeof(a))
                                        : NULL);
        json_kv_string(w, "last_macos",
                       v->last_version ? macos_version_format(v->last_version, a, sizeof(a))
                                       : NULL);
        json_kv_string(w, "requirements", v->requirements);
        out_json_strv(w, "boot_args", v->boot_args);
        out_json_strv(w, "kexts", v->kexts);
        json_kv_bool(w, "reset_bug", v->reset_bug);
        json_kv_string(w, "reason", v->reason);
        json_end_object(w);
}

char *out_default_user(const char *given)
{
        if (given)
                return xstrdup(given);
        const char *sudo = getenv("SUDO_USER");
        if (sudo && *sudo)
                return xstrdup(sudo);
        struct passwd *pw = getpwuid(getuid());
        return xstrdup(pw ? pw->pw_name : "root");
}

void out_json_strv(struct json_writer *w, const char *key, char *const *l)
{
        json_key(w, key);
        json_begin_array(w);
        for (size_t i = 0; l && l[i]; i++)
                json_string(w, l[i]);
        json_end_array(w);
}
