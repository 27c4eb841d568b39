/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Whether a PCI device can be given to a guest, judged from its IOMMU group
 * (the spec's "IOMMU viability" rules): every endpoint of a group goes
 * together; bridges, non-essential instrumentation and encryption controllers
 * do not count and are never passed; a group that would take a device the host
 * needs (its chipset, storage, network or boot display) is only usable with an
 * ACS override kernel.
 */

#include <stdbool.h>

#include "host.h"

enum iommu_viability {
        IOMMU_VIABLE_CLEAN,        /* the group holds only this device's functions (and bridges) */
        IOMMU_VIABLE_WHOLE_GROUP,  /* other endpoints too: pass them all together */
        IOMMU_VIABLE_ACS_OVERRIDE, /* the group holds devices the host needs */
        IOMMU_VIABLE_NO_GROUP,     /* the IOMMU is off or the device has no group */
        IOMMU_VIABLE_BRIDGE,       /* a bridge itself: never passed */
        IOMMU_VIABLE_UNKNOWN,      /* the device's own class could not be read */
};

const char *iommu_viability_to_string(enum iommu_viability v);

/* Host bridges, PCI bridges, non-essential instrumentation, encryption controllers. */
bool pci_class_is_ignorable(uint32_t class_code);
/* Devices a desktop host cannot lose: ISA/LPC, SMBus, storage, network, the boot display. */
bool pci_device_is_host_essential(const struct host_pci_device *d);
/* Same domain, bus and slot: functions of one physical device. */
bool pci_same_slot(const char *bdf_a, const char *bdf_b);

/*
 * Judges @d. *ret_others lists (newly allocated strv) the endpoints outside
 * @d's slot that share its group.
 */
enum iommu_viability iommu_judge(const struct host *h, const struct host_pci_device *d,
                                 char ***ret_others);
