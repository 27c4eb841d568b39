/* SPDX-License-Identifier: MIT */
#pragma once

/* What the VM verbs share: a spec (by VM name or path) checked against the host. */

#include "cli.h"
#include "vm-plan.h"

/*
 * Loads the spec named by @arg (a VM name or a path to a vm.conf), checks it
 * against the host under --root and resolves it. Returns 0, or an exit code
 * after printing every problem. Warnings are printed too.
 */
int cli_load_vm_plan(struct cli_context *ctx, const char *arg, const struct vm_options *o,
                     struct vm_plan **ret);

/*
 * Defines (or redefines, keeping the domain's UUID and NVRAM) the VM of @p on
 * libvirt at @uri (NULL: the default). Returns 0, or an exit code after
 * printing the error. *ret_uri gets the URI used.
 */
int cli_vm_define(struct cli_context *ctx, struct vm_plan *p, const char *uri, char **ret_uri);
