/* SPDX-License-Identifier: MIT */
#include "alloc.h"
#include "cli.h"
#include "iommu.h"
#include "macos.h"
#include "output.h"
#include "strv.h"
#include "table.h"

enum kind {
        KIND_GPU,
        KIND_AUDIO,
        KIND_USB,
        KIND_NVME,
        KIND_OTHER,
};

static const char *const kind_names[] = { "gpu", "audio", "usb", "nvme", "other" };

static enum kind kind_of(const struct host_pci_device *d)
{
        uint32_t cls = d->class_code >> 8;
        if (pci_class_is_display(d->class_code))
                return KIND_GPU;
        if (cls == 0x0403 || cls == 0x0401)
                return KIND_AUDIO;
        if (cls == 0x0c03)
                return KIND_USB;
        if (cls == 0x0108)
                return KIND_NVME;
        return KIND_OTHER;
}

/* The GPU whose slot this function shares, if any. */
static const struct host_pci_device *gpu_of_slot(const struct host *h,
                                                 const struct host_pci_device *d)
{
        for (size_t i = 0; i < h->pci.n_devices; i++) {
                const struct host_pci_device *g = &h->pci.devices[i];
                if (g != d && g->has_ids && pci_class_is_display(g->class_code) &&
                    pci_same_slot(g->bdf, d->bdf))
                        return g;
        }
        return NULL;
}

/* A one-line macOS verdict for a non-GPU candidate. Newly allocated. */
static char *macos_note(const struct host *h, const struct host_pci_device *d, enum kind k)
{
        const struct host_pci_device *g = gpu_of_slot(h, d);
        uint32_t progif = d->class_code & 0xff;
        switch (k) {
        case KIND_AUDIO:
                if (g)
                        return xasprintf("HDMI/DP audio of the GPU at %s: pass it with the GPU, "
                                         "as function 1 of the same guest slot",
                                         g->bdf);
                return xstrdup("needs AppleALC with a layout for its codec (alcid= or layout-id); "
                               "place it on guest bus 0x00");
        case KIND_USB:
                if (g)
                        return xasprintf("USB-C function of the GPU at %s: pass it with the GPU",
                                         g->bdf);
                if (progif == 0x30)
                        return xstrdup("xHCI: macOS drives it natively; map its ports after the "
                                       "install");
                if (progif == 0x20)
                        return xstrdup("EHCI: macOS drives it natively");
                return xstrdup("UHCI/OHCI: legacy controller, limited support");
        case KIND_NVME:
                return xstrdup("NVMe: macOS's native driver (10.13+) handles most drives; add "
                               "NVMeFix for power management, or keep it on the host and give "
                               "the guest an image");
        default:
                return xstrdup("-");
        }
}

static char *gpu_note(const struct gpu_verdict *v)
{
        char a[16], b[16];
        if (v->support != GPU_SUPPORT_SUPPORTED)
                return xasprintf("%s: %s", gpu_support_to_string(v->support),
                                 v->reason ? v->reason : "-");
        _cleanup_free_ char *args = strv_join(v->boot_args, " ");
        _cleanup_free_ char *kexts = strv_join(v->kexts, ", ");
        return xasprintf("supported %s to %s (%s)%s%s%s%s%s",
                         macos_version_format(v->first_version, a, sizeof(a)),
                         macos_version_format(v->last_version, b, sizeof(b)), v->family,
                         *kexts ? "; needs " : "", kexts, *args ? "; boot-args " : "", args,
                         v->reset_bug ? "; AMD reset bug" : "");
}

int verb_devices(struct cli_context *ctx, const struct cli_args *args)
{
        bool all = cli_flag(args, "all");
        _cleanup_(compat_freep) struct compat *compat = NULL;
        int r = cli_open_root_and_data(ctx, &compat);
        if (r != 0)
                return r;
        _cleanup_(host_freep) struct host *h = xcalloc(1, sizeof(struct host));
        host_pci_load(ctx->root, &h->pci);
        _cleanup_(pci_names_freep) struct pci_names *names = pci_names_for_host(ctx->root, &h->pci);

        struct json_writer w;
        _cleanup_(table_freep) struct table *t = NULL;
        if (ctx->json) {
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "root", ctx->root_path);
                json_key(&w, "devices");
                json_begin_array(&w);
        } else
                t = table_new((const char *const[]){ "TYPE", "BDF", "ID", "NAME", "GROUP", "IOMMU",
                                                     "MACOS", NULL });
        size_t shown = 0;
        for (int pass = KIND_GPU; pass <= KIND_OTHER; pass++)
                for (size_t i = 0; i < h->pci.n_devices; i++) {
                        const struct host_pci_device *d = &h->pci.devices[i];
                        if (!d->has_ids || (int) kind_of(d) != pass)
                                continue;
                        if (pass == KIND_OTHER && (!all || pci_class_is_ignorable(d->class_code)))
                                continue;
                        shown++;
                        _cleanup_strv_free_ char **others = NULL;
                        enum iommu_viability v = iommu_judge(h, d, &others);
                        _cleanup_free_ char *name = pci_device_name(names, d);
                        _cleanup_free_ char *id = out_pci_id(d);
                        struct gpu_verdict gv = { 0 };
                        _cleanup_free_ char *note = NULL;
                        if (pass == KIND_GPU) {
                                compat_gpu_verdict(compat, d->vendor, d->device,
                                                   pci_names_device(names, d->vendor, d->device),
                                                   &gv);
                                note = gpu_note(&gv);
                        } else
                                note = macos_note(h, d, (enum kind) pass);
                        if (ctx->json) {
                                json_begin_object(&w);
                                json_kv_string(&w, "type", kind_names[pass]);
                                out_json_pci_fields(&w, d, names);
                                json_kv_string(&w, "name", name);
                                json_kv_string(&w, "iommu_viability", iommu_viability_to_string(v));
                                out_json_strv(&w, "shares_group_with", others);
                                if (pass == KIND_GPU) {
                                        json_key(&w, "macos");
                                        out_json_gpu_verdict(&w, &gv);
                                } else
                                        json_kv_string(&w, "macos_note", note);
                                json_end_object(&w);
                        } else {
                                table_add(t, kind_names[pass]);
                                table_add(t, d->bdf);
                                table_add(t, id);
                                table_addf(t, "%s%s", name, d->boot_vga == 1 ? " (boot)" : "");
                                if (d->iommu_group >= 0)
                                        table_addf(t, "%d", d->iommu_group);
                                else
                                        table_add(t, "-");
                                table_add(t, iommu_viability_to_string(v));
                                table_add(t, note);
                        }
                        gpu_verdict_release(&gv);
                }
        if (ctx->json) {
                json_end_array(&w);
                json_end_object(&w);
                return out_json_end(&w);
        }
        _cleanup_buf_ struct buf b = BUF_INIT;
        if (shown)
                table_render(t, &b, 0);
        else
                buf_puts(&b, "No passthrough candidates (GPU, audio, USB, NVMe) found.\n");
        return cli_write(buf_str(&b));
}
