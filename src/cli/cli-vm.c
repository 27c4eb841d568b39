/* SPDX-License-Identifier: MIT */
#include "cli-vm.h"

#include <errno.h>
#include <stdio.h>

#include "alloc.h"
#include "strv.h"
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
        _cleanup_(host_freep) struct host *h = host_load(ctx->root, NULL);
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
