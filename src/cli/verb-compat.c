/* SPDX-License-Identifier: MIT */
#include "alloc.h"
#include "cli.h"
#include "compat.h"
#include "macos.h"
#include "output.h"
#include "pci-names.h"
#include "strutil.h"
#include "strv.h"
#include "table.h"

/* "1002:73bf" (or "0x1002:0x73bf"); returns false for anything else. */
static bool parse_pci_id(const char *s, uint32_t *vendor, uint32_t *device)
{
        _cleanup_free_ char *c = xstrdup(s);
        char *colon = strchr(c, ':');
        if (!colon)
                return false;
        *colon = 0;
        return parse_hex_u32(c, vendor) == 0 && parse_hex_u32(colon + 1, device) == 0 &&
               *vendor <= 0xffff && *device <= 0xffff;
}

static int compat_gpu_by_id(struct cli_context *ctx, const struct compat *c, uint32_t vendor,
                            uint32_t device)
{
        int r = cli_open_root(ctx);
        if (r != 0)
                return r;
        uint32_t wanted = vendor << 16 | device;
        _cleanup_(pci_names_freep) struct pci_names *names = pci_names_new(ctx->root, &wanted, 1);
        const char *pn = pci_names_device(names, vendor, device);
        _cleanup_free_ char *pci_name = pn ? xstrdup(pn) : NULL;
        struct gpu_verdict v;
        compat_gpu_verdict(c, vendor, device, pci_name, &v);
        char a[16], b[16];
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                char id[16];
                snprintf(id, sizeof(id), "%04x:%04x", vendor, device);
                json_kv_string(&w, "id", id);
                json_kv_string(&w, "pci_name", pci_name);
                json_key(&w, "macos");
                out_json_gpu_verdict(&w, &v);
                json_end_object(&w);
                r = out_json_end(&w);
        } else {
                _cleanup_buf_ struct buf o = BUF_INIT;
                _cleanup_free_ char *args = strv_join(v.boot_args, " ");
                _cleanup_free_ char *kexts = strv_join(v.kexts, ", ");
                buf_printf(&o, "%04x:%04x  %s\n", vendor, device,
                           pci_name ? pci_name : "(not in pci.ids)");
                buf_printf(&o, "  support:       %s\n", gpu_support_to_string(v.support));
                if (v.family)
                        buf_printf(&o, "  family:        %s %s\n", strempty(v.vendor), v.family);
                if (v.models)
                        buf_printf(&o, "  models:        %s\n", v.models);
                if (v.first_version)
                        buf_printf(&o, "  macOS:         %s to %s\n",
                                   macos_version_format(v.first_version, a, sizeof(a)),
                                   macos_version_format(v.last_version, b, sizeof(b)));
                if (v.requirements && *v.requirements)
                        buf_printf(&o, "  requirements:  %s\n", v.requirements);
                if (*kexts)
                        buf_printf(&o, "  kexts:         %s\n", kexts);
                if (*args)
                        buf_printf(&o, "  boot-args:     %s\n", args);
                if (v.vendor && streq(v.vendor, "AMD"))
                        buf_printf(&o, "  reset bug:     %s\n",
                                   v.reset_bug ? "yes (use vendor-reset or the suspend "
                                                 "workaround of the single-GPU hook)"
                                               : "no");
                if (v.reason && v.support != GPU_SUPPORT_SUPPORTED)
                        buf_printf(&o, "  why:           %s\n", v.reason);
                r = cli_write(buf_str(&o));
        }
        enum gpu_support s = v.support;
        gpu_verdict_release(&v);
        if (r != 0)
                return r;
        return s == GPU_SUPPORT_SUPPORTED ? EXIT_OK : EXIT_PROBLEM;
}

static int compat_gpu_by_name(struct cli_context *ctx, const struct compat *c, const char *q)
{
        _cleanup_free_ size_t *rows = NULL;
        size_t n = compat_gpu_search(c, q, &rows);
        if (n == 0)
                return cli_error(EXIT_PROBLEM,
                                 "no GPU model or family matches '%s' in gpu-compat.tsv", q);
        struct json_writer w;
        _cleanup_(table_freep) struct table *t = NULL;
        if (ctx->json) {
                out_json_begin(ctx, &w);
                json_begin_array(&w);
        } else
                t = table_new((const char *const[]){ "VENDOR", "FAMILY", "MODEL", "MACOS", "STATUS",
                                                     "PCI IDS", NULL });
        for (size_t i = 0; i < n; i++) {
                const struct gpu_model *g = &c->gpus[rows[i]];
                _cleanup_free_ size_t *ids = NULL;
                size_t ni = compat_gpu_ids_of(c, rows[i], &ids);
                _cleanup_strv_free_ char **idl = xcalloc(1, sizeof(char *));
                for (size_t k = 0; k < ni; k++)
                        idl = strv_consume(idl, xasprintf("%04x:%04x", c->ids[ids[k]].vendor_id,
                                                          c->ids[ids[k]].device_id));
                char a[16], b[16];
                _cleanup_free_ char *range =
                        g->first_version
                                ? xasprintf("%s-%s",
                                            macos_version_format(g->first_version, a, sizeof(a)),
                                            macos_version_format(g->last_version, b, sizeof(b)))
                                : xstrdup("-");
                if (ctx->json) {
                        json_begin_object(&w);
                        json_kv_string(&w, "vendor", g->vendor);
                        json_kv_string(&w, "family", g->family);
                        json_kv_string(&w, "model", g->model);
                        json_kv_string(&w, "first_macos", g->first_macos);
                        json_kv_string(&w, "last_macos", g->last_macos);
                        json_kv_string(&w, "status", g->status);
                        json_kv_string(&w, "requirements", g->requirements);
                        out_json_strv(&w, "pci_ids", idl);
                        json_end_object(&w);
                } else {
                        _cleanup_free_ char *j = strv_join(idl, " ");
                        table_add(t, g->vendor);
                        table_add(t, g->family);
                        table_add(t, g->model);
                        table_add(t, range);
                        table_add(t, g->status);
                        table_add(t, *j ? j : "-");
                }
        }
        if (ctx->json) {
                json_end_array(&w);
                return out_json_end(&w);
        }
        _cleanup_buf_ struct buf o = BUF_INIT;
        table_render(t, &o, 0);
        return cli_write(buf_str(&o));
}

static int compat_cpu(struct cli_context *ctx, const struct compat *c)
{
        int r = cli_open_root(ctx);
        if (r != 0)
                return r;
        struct host_cpu cpu = { 0 };
        host_cpu_load(ctx->root, &cpu);
        if (cpu.error) {
                r = cli_error(EXIT_ENV, "%s", cpu.error);
                host_cpu_release(&cpu);
                return r;
        }
        const struct macos_release *newest = compat_macos_newest_for_cpu(c, &cpu);
        char v[16];
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "cpu", cpu.model_name);
                json_kv_string(&w, "vendor", cpu.vendor_id);
                json_key(&w, "releases");
                json_begin_array(&w);
                for (size_t i = 0; i < c->n_releases; i++) {
                        const struct macos_release *m = &c->releases[i];
                        if (streq(m->arch, "ppc"))
                                continue;
                        json_begin_object(&w);
                        json_kv_string(&w, "version", m->version_str);
                        json_kv_string(&w, "name", m->name);
                        json_kv_string(&w, "needs", m->min_isa);
                        json_kv_bool(&w, "runs", compat_isa_met(m->min_isa, &cpu));
                        json_kv_string(&w, "earliest_intel",
                                       compat_cpu_earliest(c, "Intel", m->min_isa));
                        json_kv_string(&w, "earliest_amd",
                                       compat_cpu_earliest(c, "AMD", m->min_isa));
                        json_end_object(&w);
                }
                json_end_array(&w);
                json_kv_string(&w, "newest",
                               newest ? macos_version_format(newest->version, v, sizeof(v)) : NULL);
                json_end_object(&w);
                r = out_json_end(&w);
        } else {
                _cleanup_buf_ struct buf o = BUF_INIT;
                _cleanup_(table_freep) struct table *t =
                        table_new((const char *const[]){ "MACOS", "NAME", "NEEDS", "THIS CPU",
                                                         "EARLIEST INTEL", "EARLIEST AMD", NULL });
                for (size_t i = 0; i < c->n_releases; i++) {
                        const struct macos_release *m = &c->releases[i];
                        if (streq(m->arch, "ppc"))
                                continue;
                        table_add(t, m->version_str);
                        table_add(t, m->name);
                        table_add(t, m->min_isa);
                        table_add(t, compat_isa_met(m->min_isa, &cpu) ? "yes" : "no");
                        table_add(t, compat_cpu_earliest(c, "Intel", m->min_isa));
                        table_add(t, compat_cpu_earliest(c, "AMD", m->min_isa));
                }
                buf_printf(&o, "%s (%s)\n", cpu.model_name, cpu.vendor_id);
                table_render(t, &o, 0);
                buf_printf(&o, "Newest macOS: %s\n",
                           newest ? macos_version_format(newest->version, v, sizeof(v)) : "none");
                r = cli_write(buf_str(&o));
        }
        host_cpu_release(&cpu);
        if (r != 0)
                return r;
        return newest ? EXIT_OK : EXIT_PROBLEM;
}

static void release_json(struct json_writer *w, const struct macos_release *m)
{
        json_begin_object(w);
        json_kv_string(w, "version", m->version_str);
        json_kv_string(w, "name", m->name);
        json_kv_string(w, "arch", m->arch);
        json_kv_string(w, "mac_model", m->mac_model);
        json_kv_string(w, "qemu_cpu", m->qemu_cpu);
        json_kv_string(w, "firmware", m->firmware);
        json_kv_string(w, "min_isa", m->min_isa);
        json_kv_string(w, "nic_model", m->nic_model);
        json_kv_string(w, "video_model", m->video_model);
        json_kv_string(w, "disk_bus", m->disk_bus);
        json_kv_string(w, "install_media", m->install_media);
        json_kv_string(w, "hfs_driver", m->hfs_driver);
        json_kv_string(w, "notes", m->notes);
        json_end_object(w);
}

static int compat_macos(struct cli_context *ctx, const struct compat *c, const char *q,
                        const char *arch)
{
        const struct macos_release *m = NULL;
        if (q) {
                m = compat_macos_find(c, q, arch);
                if (!m)
                        return cli_usage_error(ctx,
                                               "unknown macOS version '%s' (expected e.g. 14, "
                                               "10.14, sonoma or 'big sur')",
                                               q);
        }
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                if (m)
                        release_json(&w, m);
                else {
                        json_begin_array(&w);
                        for (size_t i = 0; i < c->n_releases; i++)
                                release_json(&w, &c->releases[i]);
                        json_end_array(&w);
                }
                return out_json_end(&w);
        }
        _cleanup_buf_ struct buf o = BUF_INIT;
        if (m) {
                bool ppc = streq(m->arch, "ppc");
                buf_printf(&o, "macOS %s %s (%s)\n", m->version_str, m->name, m->arch);
                buf_printf(&o, "  Mac model:      %s\n", m->mac_model);
                if (ppc)
                        buf_puts(&o, "  QEMU:           qemu-system-ppc -M mac99\n");
                else
                        buf_printf(&o, "  QEMU -cpu:      %s,vendor=GenuineIntel\n", m->qemu_cpu);
                buf_printf(&o, "  Firmware:       %s\n",
                           streq(m->firmware, "dudk")   ? "DUDK-Firmware (OVMF built with "
                                                          "LINUX_LOADER)"
                           : streq(m->firmware, "ovmf") ? "OVMF"
                                                        : m->firmware);
                buf_printf(&o, "  CPU needs:      %s\n", m->min_isa);
                buf_printf(&o, "  NIC model:      %s\n", m->nic_model);
                buf_printf(&o, "  Video:          %s\n", m->video_model);
                buf_printf(&o, "  Disk bus:       %s\n", m->disk_bus);
                buf_printf(&o, "  Install media:  %s\n", m->install_media);
                buf_printf(&o, "  HFS+ driver:    %s\n", m->hfs_driver);
                if (*m->notes)
                        buf_printf(&o, "  Notes:          %s\n", m->notes);
        } else {
                _cleanup_(table_freep) struct table *t = table_new(
                        (const char *const[]){ "MACOS", "NAME", "ARCH", "MODEL", "CPU MODEL",
                                               "FIRMWARE", "NEEDS", "NIC", "MEDIA", NULL });
                for (size_t i = 0; i < c->n_releases; i++) {
                        const struct macos_release *r = &c->releases[i];
                        const char *cells[] = { r->version_str, r->name,      r->arch,
                                                r->mac_model,   r->qemu_cpu,  r->firmware,
                                                r->min_isa,     r->nic_model, r->install_media };
                        for (size_t k = 0; k < ELEMENTSOF(cells); k++)
                                table_add(t, cells[k]);
                }
                table_render(t, &o, 0);
        }
        return cli_write(buf_str(&o));
}

int verb_compat(struct cli_context *ctx, const struct cli_args *args)
{
        int r = 0;
        char *const *pos = args->positional;
        const char *arch_opt = cli_arg(args, "arch");
        const char *arch = NULL;
        if (arch_opt && streq(arch_opt, "ppc"))
                arch = "ppc";
        else if (arch_opt && !streq(arch_opt, "x86")) {
                r = cli_usage_error(ctx, "--arch takes x86 or ppc, not '%s'", arch_opt);
                return r;
        }
        const char *what = pos[0];
        if (!streq(what, "gpu") && !streq(what, "cpu") && !streq(what, "macos"))
                return cli_usage_error(ctx, "unknown lookup '%s': expected gpu, cpu or macos",
                                       what);
        if (streq(what, "gpu") && !pos[1])
                return cli_usage_error(ctx, "compat gpu needs a PCI ID (1002:73bf) or a name");
        if (streq(what, "cpu") && pos[1])
                return cli_usage_error(ctx, "compat cpu takes no argument (it reads the host's "
                                            "CPU; use --root for another tree)");
        _cleanup_(compat_freep) struct compat *c = NULL;
        r = cli_load_compat(ctx, &c);
        if (r != 0)
                return r;
        if (streq(what, "gpu")) {
                uint32_t vendor, device;
                if (parse_pci_id(pos[1], &vendor, &device))
                        return compat_gpu_by_id(ctx, c, vendor, device);
                return compat_gpu_by_name(ctx, c, pos[1]);
        }
        if (streq(what, "cpu"))
                return compat_cpu(ctx, c);
        return compat_macos(ctx, c, pos[1], arch);
}
