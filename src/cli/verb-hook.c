/* SPDX-License-Identifier: MIT */
#include <unistd.h>

#include "alloc.h"
#include "cli.h"
#include "hooks.h"
#include "journal.h"
#include "strutil.h"
#include "strv.h"

/* Run by the libvirt hook: every step goes to stdout (the hook's log) as it is taken. */
int verb_hook(struct cli_context *ctx, const struct cli_args *args)
{
        const char *what = args->positional[0], *vm = args->positional[1];
        if (!streq(what, "prepare") && !streq(what, "release"))
                return cli_usage_error(ctx, "hook takes prepare or release, not '%s'", what);
        int r = cli_open_root(ctx);
        if (r)
                return r;
        bool dry = cli_flag(args, "dry-run") || (!cli_flag(args, "apply") && geteuid() != 0);
        struct prep p;
        prep_init(&p, ctx->root, dry);
        _cleanup_free_ char *err = NULL;
        if (streq(what, "prepare")) {
                _cleanup_(host_freep) struct host *h = host_load(ctx->root, NULL);
                r = hook_prepare(&p, h, vm, &err);
        } else
                r = hook_release(&p, vm, &err);
        _cleanup_buf_ struct buf b = BUF_INIT;
        buf_puts(&b, "");
        STRV_FOREACH(l, p.log)
                buf_printf(&b, "%s\n", *l);
        prep_release(&p);
        int k = cli_write(buf_str(&b));
        if (k)
                return k;
        if (r < 0)
                return cli_error(EXIT_PROBLEM, "hook %s %s: %s", what, vm, err);
        return EXIT_OK;
}
