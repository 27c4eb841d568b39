/* SPDX-License-Identifier: MIT */
#include "iommu.h"

#include "alloc.h"
#include "strv.h"

const char *iommu_viability_to_string(enum iommu_viability v)
{
        switch (v) {
        case IOMMU_VIABLE_CLEAN:
                return "clean";
        case IOMMU_VIABLE_WHOLE_GROUP:
                return "whole-group";
        case IOMMU_VIABLE_ACS_OVERRIDE:
                return "acs-override";
        case IOMMU_VIABLE_NO_GROUP:
                return "no-group";
        case IOMMU_VIABLE_BRIDGE:
                return "bridge";
        case IOMMU_VIABLE_UNKNOWN:
                return "unknown";
        }
        return "unknown";
}

bool pci_class_is_ignorable(uint32_t class_code)
{
        uint32_t cls = class_code >> 8;
        return cls == 0x0600 || cls == 0x0604 || cls == 0x0609 || cls == 0x1300 || cls == 0x1080;
}

bool pci_device_is_host_essential(const struct host_pci_device *d)
{
        uint32_t cls = d->class_code >> 8;
        uint32_t base = d->class_code >> 16;
        return cls == 0x0601 /* ISA/LPC bridge */ || cls == 0x0c05 /* SMBus */ ||
               base == 0x01 /* mass storage */ || base == 0x02 /* network */ ||
               (pci_class_is_display(d->class_code) && d->boot_vga == 1);
}

bool pci_same_slot(const char *bdf_a, const char *bdf_b)
{
        /* "0000:01:00.0": everything up to the dot */
        const char *da = strchr(bdf_a, '.'), *db = strchr(bdf_b, '.');
        return da && db && da - bdf_a == db - bdf_b &&
               strncmp(bdf_a, bdf_b, (size_t) (da - bdf_a)) == 0;
}

enum iommu_viability iommu_judge(const struct host *h, const struct host_pci_device *d,
                                 char ***ret_others)
{
        char **others = xcalloc(1, sizeof(char *));
        enum iommu_viability v;
        const struct host_iommu_group *g =
                d->iommu_group >= 0 ? host_iommu_group_find(h, d->iommu_group) : NULL;
        if (!d->has_ids)
                v = IOMMU_VIABLE_UNKNOWN;
        else if (pci_class_is_ignorable(d->class_code))
                v = IOMMU_VIABLE_BRIDGE;
        else if (!g)
                v = IOMMU_VIABLE_NO_GROUP;
        else {
                bool essential = false;
                for (size_t i = 0; i < g->n_devices; i++) {
                        const struct host_pci_device *o = &h->pci.devices[g->devices[i]];
                        if (o == d || (o->has_ids && pci_class_is_ignorable(o->class_code)))
                                continue;
                        bool same = pci_same_slot(o->bdf, d->bdf);
                        /*
                         * Functions of the same device go along (a GPU's audio, even when the
                         * GPU is the boot display), unless they are chipset parts the host
                         * needs: the audio of an 00:1f.x chipset cannot leave its LPC bridge.
                         * A device whose class could not be read may be one the host needs.
                         */
                        bool needed =
                                !o->has_ids || (pci_device_is_host_essential(o) &&
                                                !(same && pci_class_is_display(o->class_code)));
                        if (same && !needed)
                                continue;
                        others = strv_push(others, o->bdf);
                        essential |= needed;
                }
                STRV_FOREACH(u, g->unknown_bdfs) {
                        others = strv_push(others, *u);
                        essential = true;
                }
                v = strv_length(others) == 0 ? IOMMU_VIABLE_CLEAN
                    : essential              ? IOMMU_VIABLE_ACS_OVERRIDE
                                             : IOMMU_VIABLE_WHOLE_GROUP;
        }
        *ret_others = others;
        return v;
}
