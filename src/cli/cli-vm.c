/* SPDX-License-Identifier: MIT */
#include "cli-vm.h"

#include <errno.h>
#include <stdio.h>

#include "alloc.h"
#include "domain-xml.h"
#include "strv.h"
#include "virt.h"
#include "vmspec.h"

int cli_load_vm_plan(struct cli_context *ctx, const char *arg, const struct vm_options *o,
                     struct vm_plan **ret)
{
        _cleanup_(compat_freep) struct compat *c = NULL;
        int r = cli_open_root_and_data(ctx, &c);
        if (r != 0)
                return r;
        _cleanup_free_ char *path = vm_spec_path(arg);
        _cleanup_(vmspec_freep) struct vmspec *spec = NULL;
        _cleanup_free_ char *err = NULL;
        r = vmspec_load(path, &spec, &err);
        if (r < 0)
                return cli_error(r == -ENOENT || r == -EACCES ? EXIT_ENV : EXIT_USAGE, "%s", err);
        /* Only the parts a VM is checked against: no package database, modules or bootloader. */
        _cleanup_(host_freep) struct host *h = xcalloc(1, sizeof(struct host));
        host_cpu_load(ctx->root, &h->cpu);
        host_memory_load(ctx->root, &h->memory);
        host_pci_load(ctx->root, &h->pci);
        host_kvm_load(ctx->root, &h->kvm);
        host_firmware_load(ctx->root, &h->firmware);
        _cleanup_strv_free_ char **problems = NULL;
        if (vm_plan_build(spec, h, ctx->root, c, o, ret, &problems) < 0) {
                STRV_FOREACH(p, problems)
                        fprintf(stderr, "darwinkvm: %s\n", *p);
                return EXIT_PROBLEM;
        }
        STRV_FOREACH(w, (*ret)->warnings)
                cli_warn(ctx, "%s", *w);
        return 0;
}

int cli_vm_define(struct cli_context *ctx, struct vm_plan *p, const char *uri, char **ret_uri)
{
        _cleanup_(virt_closep) struct virt_conn *c = NULL;
        _cleanup_free_ char *err = NULL;
        if (virt_open(uri, &c, &err) < 0)
                return cli_error(EXIT_ENV, "cannot connect to libvirt: %s", err);
        enum virt_owner owner;
        _cleanup_free_ char *uuid = NULL;
        int r = virt_lookup(c, p->name, &owner, &uuid, &err);
        if (r < 0)
                return cli_error(EXIT_ENV, "%s", err);
        /* Redefining keeps the domain's UUID even when the spec's changed. */
        if (owner == VIRT_OURS && uuid && !streq(uuid, p->uuid)) {
                cli_warn(ctx, "%s: keeping the domain's UUID %s (vm.uuid is %s)", p->name, uuid,
                         p->uuid);
                free_and_strdup(&p->uuid, uuid);
        }
        _cleanup_free_ char *xml = NULL;
        if (domain_xml_build(p, &xml, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        bool created = false;
        r = virt_define(c, p->name, xml, &created, &err);
        if (r < 0)
                return cli_error(r == -EEXIST ? EXIT_PROBLEM : EXIT_ENV, "%s", err);
        _cleanup_free_ char *acl = vm_plan_qemu_conf_acl(p);
        if (acl && ctx->verbosity >= 0)
                fprintf(stderr,
                        "darwinkvm: note: evdev inputs need in /etc/libvirt/qemu.conf:\n  %s\n",
                        acl);
        if (ctx->verbosity >= 0 && !ctx->json)
                printf("%s %s on %s (uuid %s)\n", created ? "Defined" : "Redefined", p->name,
                       virt_uri(c), p->uuid);
        if (ret_uri)
                *ret_uri = xstrdup(virt_uri(c));
        return EXIT_OK;
}
