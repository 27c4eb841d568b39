/* SPDX-License-Identifier: MIT */
#pragma once

/* The rest of the host half: a bridge for the guest's network, packages and groups, the CPU
 * governor. */

#include <stdint.h>

#include "host.h"
#include "journal.h"

/*
 * br0 over the Ethernet interface @nic: systemd-networkd files, or
 * NetworkManager keyfiles where NetworkManager runs. Refuses Wi-Fi.
 */
int bridge_plan(const struct root *r, const char *nic, struct change_set *cs, char **reterr);

enum distro_family {
        DISTRO_FAMILY_DEBIAN,
        DISTRO_FAMILY_FEDORA,
        DISTRO_FAMILY_ARCH,
        DISTRO_FAMILY_SUSE,
        DISTRO_FAMILY_OTHER,
};

enum distro_family distro_family_of(const struct host_system *s);
/* The install command for the guide's package list (newly allocated argv), NULL for other. */
char **setup_install_argv(enum distro_family f);

struct setup_options {
        const char *user;        /* NULL: no group changes */
        uint64_t hugepage_bytes; /* 0: none */
        bool evdev;
};

/* Groups (usermod, undone with gpasswd -d), the evdev ACL in qemu.conf, vm.nr_hugepages. */
int setup_plan(const struct host *h, const struct root *r, const struct setup_options *o,
               struct change_set *cs, char ***ret_notes, char **reterr);

#define GOVERNOR_STATE "/var/lib/darwinkvm/governor"

/* Every CPU to @governor, the previous governors kept for governor_restore(). */
int governor_set(struct prep *p, const char *governor, char **reterr);
int governor_restore(struct prep *p, char **reterr);
