/* SPDX-License-Identifier: MIT */
#include "cli.h"
#include "download.h"

int verb_fetch_installer(struct cli_context *ctx, const struct cli_args *args,
                         const struct download_options *dl)
{
        (void) args;
        (void) dl;
        return cli_error(EXIT_ENV, "fetch installer: the software-update catalog reader is not "
                                   "built in this version");
}
