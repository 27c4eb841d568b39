/* SPDX-License-Identifier: MIT */
#include "cli-opencore.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "alloc.h"
#include "config.h"

const char *oc_cli_data_dir(const struct cli_context *ctx)
{
        const char *dir = ctx->data_dir;
        if (!dir)
                dir = getenv("DARWINKVM_DATA_DIR");
        if (dir && *dir)
                return dir;
        _cleanup_free_ char *p = xasprintf("%s/assets.tsv", DKVM_DATADIR);
        struct stat st;
        return stat(p, &st) == 0 ? DKVM_DATADIR : DKVM_SOURCE_DATADIR;
}
