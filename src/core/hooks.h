/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Single-GPU passthrough: a libvirt qemu hook that calls `darwinkvm hook
 * prepare|release NAME` for the named VMs only, and the steps themselves.
 * prepare records every step it took in a state file as it goes; release
 * undoes exactly those, newest first, so a start that failed half-way never
 * leaves the host on a black screen. The only user of libkmod.
 */

#include "compat.h"
#include "host.h"
#include "journal.h"

#define HOOKS_SCRIPT    "/etc/libvirt/hooks/qemu"
#define HOOKS_CONFIG    "/etc/darwinkvm/hooks.conf"
#define HOOKS_NOSLEEP   "/etc/systemd/system/libvirt-nosleep@.service"
#define HOOKS_STATE_DIR "/run/darwinkvm/hooks"

enum reset_workaround {
        RESET_NONE,
        RESET_VENDOR_RESET, /* load vendor-reset, reset_method device_specific */
        RESET_SUSPEND,      /* suspend to RAM for a moment after the VM, as akshaycodes does */
        RESET_COUNT,
};

const char *reset_workaround_to_string(enum reset_workaround w);
int reset_workaround_from_string(const char *s);

struct hooks_config {
        char **vms;
        char *gpu; /* BDF of the GPU's function 0 */
        enum reset_workaround reset;
};

void hooks_config_release(struct hooks_config *c);
/* Parses hooks.conf (exposed for the tests and the fuzzer). */
int hooks_config_parse(const char *text, size_t len, struct hooks_config *ret, char **reterr);

/*
 * Plans the hook script, the nosleep unit and hooks.conf for @vms (added to
 * those configured already) and the GPU @gpu (NULL: the boot GPU).
 * @reset < 0 picks the workaround for a reset-bug GPU from the data. *ret_notes
 * gets what the user should know (newly allocated strv).
 */
int hooks_install_plan(const struct host *h, const struct compat *c, const struct root *r,
                       char *const *vms, const char *gpu, int reset, struct change_set *cs,
                       char ***ret_notes, char **reterr);

int hook_prepare(struct prep *p, const struct host *h, const char *vm, char **reterr);
int hook_release(struct prep *p, const char *vm, char **reterr);
