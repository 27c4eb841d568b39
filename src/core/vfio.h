/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Giving PCI functions to vfio-pci: at boot (modprobe.d options and softdeps,
 * the initramfs module lists and their rebuild command) and at run time
 * (driver_override + drivers_probe in sysfs), always whole IOMMU groups.
 */

#include <stdbool.h>

#include "host.h"
#include "journal.h"

/* The functions to hand over for the requested ones: every endpoint of their IOMMU groups. */
struct vfio_target {
        char **bdfs;    /* sorted */
        char **ids;     /* "1002:73ff", distinct, in BDF order */
        char **modules; /* kernel modules of the drivers that claim them now, distinct */
};

/*
 * Expands @bdfs to whole IOMMU groups, bridges aside. Refuses (with the reason)
 * a device that is unknown, has no group, or shares one with a device the host
 * needs; @allow_boot_display lets the boot GPU go (single-GPU passthrough).
 */
int vfio_target_make(const struct host *h, const struct root *r, char *const *bdfs,
                     bool allow_boot_display, struct vfio_target *ret, char **reterr);
void vfio_target_release(struct vfio_target *t);

/* The boot-time files and the initramfs rebuild for @t. */
int vfio_boot_plan(const struct root *r, const struct vfio_target *t, struct change_set *cs,
                   char **reterr);

/* A sysfs attribute write, logged, skipped in a dry run. */
int prep_write_attr(struct prep *p, const char *path, const char *value, char **reterr);

/* The driver bound to @bdf now (from sysfs), NULL when none. */
char *vfio_current_driver(const struct root *r, const char *bdf);
/*
 * Binds @bdf to vfio-pci through driver_override, unbind and drivers_probe.
 * *ret_driver is the driver it had ("" when none).
 */
int vfio_bind_device(struct prep *p, const char *bdf, char **ret_driver, char **reterr);
/* Gives @bdf back: clears driver_override, unbinds vfio-pci, binds @driver (or probes). */
int vfio_restore_device(struct prep *p, const char *bdf, const char *driver, char **reterr);

/* `host vfio bind|unbind`: the above for @t, the original drivers kept in /run/darwinkvm/vfio. */
int vfio_bind(struct prep *p, const struct vfio_target *t, char **reterr);
int vfio_unbind(struct prep *p, const struct vfio_target *t, char **reterr);

#define VFIO_STATE_DIR "/run/darwinkvm/vfio"
