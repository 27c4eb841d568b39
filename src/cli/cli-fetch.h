/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What every verb that downloads shares: the transfer options (retries,
 * cancellation by Ctrl-C, progress), the cache, the servers (--server,
 * --recovery-server or their environment variables, for mirrors and tests),
 * the pin table, and the keys trusted for chunklists (Apple's, or only the one
 * given with --trust-key).
 */

#include "assets.h"
#include "cli-progress.h"
#include "cli.h"
#include "recovery.h"

struct cli_fetch {
        struct cli_progress progress;
        struct download_options dl;
        char *cache_dir;
        char *pins;     /* the pin table file */
        char **mirrors; /* --mirror, in order */
        const char *recovery_server;
        struct asset_fetch_options assets;
        struct recovery_fetch_options recovery;
        struct rsa_public_key custom_key;
        uint8_t *custom_modulus;
};

/* Reads the shared options of @args. Returns 0 or an exit code after printing the error. */
int cli_fetch_setup(struct cli_context *ctx, const struct cli_args *args, struct cli_fetch *f);
void cli_fetch_release(struct cli_fetch *f);
/* Ctrl-C stops a transfer cleanly (the .part stays for a resume). */
void cli_fetch_install_signals(void);
/* Whether Ctrl-C (or SIGTERM) came. */
bool cli_fetch_interrupted(void);
/* Maps a core download error to an exit status and prints it. */
int cli_fetch_fail(int r, const char *what, const char *err);
/* The option, else the environment variable, else NULL. */
const char *cli_arg_or_env(const struct cli_args *a, const char *name, const char *env);
