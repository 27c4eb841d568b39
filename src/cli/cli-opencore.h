/* SPDX-License-Identifier: MIT */
#pragma once

/* Helpers shared by the plist, opencore and smbios verbs. */

#include "cli.h"

/* The data directory: --data-dir, $DARWINKVM_DATA_DIR, the installed one, the source tree's. */
const char *oc_cli_data_dir(const struct cli_context *ctx);
