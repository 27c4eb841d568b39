/* SPDX-License-Identifier: MIT */
#include "host.h"

#include "alloc.h"
#include "strv.h"

struct host *host_load(const struct root *root, const char *user)
{
        struct host *h = xcalloc(1, sizeof(*h));
        host_cpu_load(root, &h->cpu);
        host_memory_load(root, &h->memory);
        host_pci_load(root, &h->pci);
        host_kvm_load(root, &h->kvm);
        host_modules_load(root, &h->modules);
        host_system_load(root, &h->system);
        host_firmware_load(root, &h->firmware);
        host_packages_load(root, h->packages, &h->gpu_daemons);
        if (user)
                host_user_load(root, user, &h->user);
        return h;
}

struct host *host_free(struct host *h)
{
        if (!h)
                return NULL;
        host_cpu_release(&h->cpu);
        free(h->memory.error);
        for (size_t i = 0; i < h->pci.n_devices; i++) {
                struct host_pci_device *d = &h->pci.devices[i];
                free(d->bdf);
                free(d->error);
                free(d->driver);
                free(d->reset_method);
        }
        free(h->pci.devices);
        for (size_t i = 0; i < h->pci.n_groups; i++) {
                free(h->pci.groups[i].devices);
                strv_free(h->pci.groups[i].unknown_bdfs);
                free(h->pci.groups[i].error);
        }
        free(h->pci.groups);
        free(h->pci.error);
        free(h->pci.groups_error);
        free(h->kvm.dev_error);
        free(h->modules.kernel_release);
        strv_free(h->modules.loaded);
        strv_free(h->modules.available);
        free(h->modules.available_error);
        free(h->system.cmdline);
        free(h->system.cmdline_error);
        strv_free(h->system.cmdline_args);
        free(h->system.os_id);
        free(h->system.os_id_like);
        free(h->system.os_pretty_name);
        free(h->system.os_error);
        strv_free(h->system.iommu_units);
        free(h->system.bootloader_evidence);
        free(h->system.board_vendor);
        free(h->system.board_name);
        free(h->firmware.code);
        free(h->firmware.vars);
        free(h->firmware.format);
        free(h->firmware.dudk_code);
        free(h->firmware.dudk_vars);
        strv_free(h->gpu_daemons.found);
        free(h->firmware.descriptor);
        strv_free(h->firmware.notes);
        for (size_t c = 0; c < HOST_COMPONENT_COUNT; c++) {
                free(h->packages[c].package);
                free(h->packages[c].version);
        }
        free(h->user.name);
        strv_free(h->user.groups);
        free(h->user.error);
        free(h);
        return NULL;
}

void host_cpu_release(struct host_cpu *cpu)
{
        free(cpu->error);
        free(cpu->vendor_id);
        free(cpu->model_name);
        strv_free(cpu->flags);
        *cpu = (struct host_cpu){ 0 };
}

bool host_module_loaded(const struct host *h, const char *name)
{
        return strv_contains(h->modules.loaded, name);
}

bool host_module_available(const struct host *h, const char *name)
{
        return host_module_loaded(h, name) || strv_contains(h->modules.available, name);
}

const char *host_cmdline_get(const struct host *h, const char *key)
{
        size_t n = strlen(key);
        const char *found = NULL;
        /* The kernel takes the last occurrence of a parameter. */
        STRV_FOREACH(a, h->system.cmdline_args)
                if (strncmp(*a, key, n) == 0 && ((*a)[n] == '=' || (*a)[n] == 0))
                        found = *a;
        return found;
}

const struct host_iommu_group *host_iommu_group_find(const struct host *h, int id)
{
        for (size_t i = 0; i < h->pci.n_groups; i++)
                if (h->pci.groups[i].id == id)
                        return &h->pci.groups[i];
        return NULL;
}

size_t host_pci_ids(const struct host_pci *pci, uint32_t **ret)
{
        uint32_t *v = xcalloc(pci->n_devices ? pci->n_devices : 1, sizeof(uint32_t));
        size_t n = 0;
        for (size_t i = 0; i < pci->n_devices; i++) {
                const struct host_pci_device *d = &pci->devices[i];
                if (!d->has_ids)
                        continue;
                uint32_t id = d->vendor << 16 | d->device;
                bool seen = false;
                for (size_t k = 0; k < n && !seen; k++)
                        seen = v[k] == id;
                if (!seen)
                        v[n++] = id;
        }
        *ret = v;
        return n;
}
