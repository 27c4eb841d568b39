/* SPDX-License-Identifier: MIT */
#include "alloc.h"
#include "cli.h"
#include "iommu.h"
#include "output.h"
#include "strutil.h"
#include "strv.h"
#include "table.h"

struct filter {
        bool gpu, audio, usb, nvme;
        int *groups;
        size_t n_groups;
        char **ids; /* "10de" or "10de:1b81" */
};

static bool wanted(const struct filter *f, const struct host_pci_device *d)
{
        if (f->gpu || f->audio || f->usb || f->nvme) {
                uint32_t cls = d->class_code >> 8;
                bool ok = (f->gpu && pci_class_is_display(d->class_code)) ||
                          (f->audio && (cls == 0x0403 || cls == 0x0401)) ||
                          (f->usb && cls == 0x0c03) || (f->nvme && cls == 0x0108);
                if (!d->has_ids || !ok)
                        return false;
        }
        if (f->n_groups) {
                bool ok = false;
                for (size_t i = 0; i < f->n_groups; i++)
                        ok |= d->iommu_group == f->groups[i];
                if (!ok)
                        return false;
        }
        if (strv_length(f->ids)) {
                char vid[8], full[16];
                snprintf(vid, sizeof(vid), "%04x", d->vendor);
                snprintf(full, sizeof(full), "%04x:%04x", d->vendor, d->device);
                if (!d->has_ids || !(strv_contains(f->ids, vid) || strv_contains(f->ids, full)))
                        return false;
        }
        return true;
}

static int parse_filter(struct cli_context *ctx, const struct cli_args *a, struct filter *f)
{
        size_t cap = 0;
        f->ids = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < a->n; i++) {
                const char *n = a->names[i], *v = a->values[i];
                if (streq(n, "gpu"))
                        f->gpu = true;
                else if (streq(n, "audio"))
                        f->audio = true;
                else if (streq(n, "usb"))
                        f->usb = true;
                else if (streq(n, "nvme"))
                        f->nvme = true;
                else if (streq(n, "group")) {
                        int g;
                        if (parse_int(v, &g) < 0 || g < 0)
                                return cli_usage_error(ctx, "--group: '%s' is not a group number",
                                                       v);
                        GROW(f->groups, cap, f->n_groups + 1);
                        f->groups[f->n_groups++] = g;
                } else if (streq(n, "id")) {
                        uint32_t vid, did;
                        _cleanup_free_ char *s = ascii_strlower(xstrdup(v));
                        char *colon = strchr(s, ':');
                        if (colon)
                                *colon = 0;
                        if (strlen(s) != 4 || parse_hex_u32(s, &vid) < 0 ||
                            (colon &&
                             (strlen(colon + 1) != 4 || parse_hex_u32(colon + 1, &did) < 0)))
                                return cli_usage_error(ctx,
                                                       "--id: '%s' is not VVVV or VVVV:DDDD "
                                                       "(hexadecimal)",
                                                       v);
                        if (colon)
                                *colon = ':';
                        f->ids = strv_push(f->ids, s);
                }
        }
        return 0;
}

int verb_iommu(struct cli_context *ctx, const struct cli_args *args)
{
        struct filter f = { 0 };
        int r = parse_filter(ctx, args, &f);
        if (r == 0)
                r = cli_open_root(ctx);
        if (r != 0) {
                free(f.groups);
                strv_free(f.ids);
                return r;
        }
        _cleanup_(host_freep) struct host *h = xcalloc(1, sizeof(struct host));
        host_pci_load(ctx->root, &h->pci);
        host_system_load(ctx->root, &h->system);
        _cleanup_(pci_names_freep) struct pci_names *names = pci_names_for_host(ctx->root, &h->pci);

        /* Devices in group order, then by address; devices without a group last. */
        size_t n = h->pci.n_devices, k = 0;
        _cleanup_free_ size_t *order = xcalloc(n ? n : 1, sizeof(size_t));
        _cleanup_free_ bool *seen = xcalloc(n ? n : 1, sizeof(bool));
        for (size_t g = 0; g < h->pci.n_groups; g++)
                for (size_t i = 0; i < h->pci.groups[g].n_devices; i++) {
                        size_t d = h->pci.groups[g].devices[i];
                        if (!seen[d]) {
                                seen[d] = true;
                                order[k++] = d;
                        }
                }
        /* Then whatever no readable group listed (no IOMMU, or a broken group directory). */
        for (size_t i = 0; i < n; i++)
                if (!seen[i])
                        order[k++] = i;

        _cleanup_buf_ struct buf b = BUF_INIT;
        struct json_writer w;
        _cleanup_(table_freep) struct table *t = NULL;
        if (ctx->json) {
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "root", ctx->root_path);
                json_kv_bool(&w, "iommu_enabled", h->pci.n_groups > 0);
                json_kv_uint(&w, "groups", h->pci.n_groups);
                json_kv_string(&w, "pci_ids", pci_names_source(names));
                json_key(&w, "devices");
                json_begin_array(&w);
        } else
                t = table_new((const char *const[]){ "GROUP", "BDF", "ID", "CLASS", "NAME",
                                                     "DRIVER", "RESET", "VERDICT", NULL });
        size_t shown = 0;
        for (size_t i = 0; i < k; i++) {
                const struct host_pci_device *d = &h->pci.devices[order[i]];
                if (!wanted(&f, d))
                        continue;
                shown++;
                _cleanup_strv_free_ char **others = NULL;
                enum iommu_viability v = iommu_judge(h, d, &others);
                _cleanup_free_ char *name = pci_device_name(names, d);
                if (ctx->json) {
                        json_begin_object(&w);
                        out_json_pci_fields(&w, d, names);
                        json_kv_string(&w, "name", name);
                        json_kv_string(&w, "viability", iommu_viability_to_string(v));
                        out_json_strv(&w, "shares_group_with", others);
                        json_end_object(&w);
                        continue;
                }
                _cleanup_free_ char *id = out_pci_id(d);
                if (d->iommu_group >= 0)
                        table_addf(t, "%d", d->iommu_group);
                else
                        table_add(t, "-");
                table_add(t, d->bdf);
                table_add(t, id);
                const char *cls = d->has_ids ? pci_names_class(names, d->class_code) : NULL;
                if (cls)
                        table_add(t, cls);
                else
                        table_addf(t, "%04x", d->class_code >> 8);
                table_add(t, d->error ? d->error : name);
                table_add(t, d->driver);
                table_add(t, d->reset_method);
                table_addf(t, "%s%s", iommu_viability_to_string(v),
                           d->boot_vga == 1 ? " boot-vga" : "");
        }
        free(f.groups);
        strv_free(f.ids);
        if (ctx->json) {
                json_end_array(&w);
                json_kv_uint(&w, "shown", shown);
                json_end_object(&w);
                r = out_json_end(&w);
        } else {
                if (h->pci.n_groups == 0)
                        buf_printf(&b,
                                   "No IOMMU groups: the IOMMU is off (%s). Run 'darwinkvm "
                                   "doctor' for the fix.\n",
                                   h->pci.groups_error ? h->pci.groups_error
                                                       : "/sys/kernel/iommu_groups is empty");
                if (shown)
                        table_render(t, &b, 0);
                buf_printf(&b, "%zu device%s shown; %zu PCI devices in %zu IOMMU groups\n", shown,
                           shown == 1 ? "" : "s", h->pci.n_devices, h->pci.n_groups);
                r = cli_write(buf_str(&b));
        }
        if (r != 0)
                return r;
        return h->pci.n_groups == 0 ? EXIT_PROBLEM : EXIT_OK;
}
