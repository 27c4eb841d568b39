/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The VM plan as a qemu-system-x86_64 command line: the same machine as the
 * domain XML, for hosts without libvirt and for the boot self-test (TCG,
 * headless, serial to a file).
 */

#include "vm-plan.h"

/*
 * The argument vector, argv[0] = "qemu-system-x86_64". Fails for what only
 * libvirt can set up (a libvirt network, macvtap). Newly allocated strv.
 */
int qemu_argv_build(const struct vm_plan *p, char ***ret_argv, char **reterr);

/* Creates the VM's NVRAM from the variable store template (read below @root) when it does not
 * exist yet, as libvirt does on start. */
int qemu_prepare_nvram(const struct vm_plan *p, const struct root *root, char **reterr);
