/* SPDX-License-Identifier: MIT */
#include "cli-fetch.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>

#include "alloc.h"
#include "chunklist.h"
#include "strutil.h"
#include "strv.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
        (void) sig;
        interrupted = 1;
}

void cli_fetch_install_signals(void)
{
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        /* A file-size limit is an error, not a kill. */
        signal(SIGXFSZ, SIG_IGN);
}

bool cli_fetch_interrupted(void)
{
        return interrupted != 0;
}

const char *cli_arg_or_env(const struct cli_args *a, const char *name, const char *env)
{
        const char *v = cli_arg(a, name);
        if (!v)
                v = getenv(env);
        return v && *v ? v : NULL;
}

int cli_fetch_fail(int r, const char *what, const char *err)
{
        if (r == -EINTR)
                return cli_error(EXIT_INTERRUPTED,
                                 "%s: interrupted; run the same command again to resume", what);
        if (download_error_is_network(r))
                return cli_error(EXIT_NETWORK, "%s", err ? err : what);
        if (r == -EBADMSG || r == -EKEYREJECTED || r == -ENOKEY || r == -EPERM || r == -E2BIG)
                return cli_error(EXIT_PROBLEM, "%s", err ? err : what);
        return cli_error(EXIT_ENV, "%s", err ? err : what);
}

int cli_fetch_setup(struct cli_context *ctx, const struct cli_args *args, struct cli_fetch *f)
{
        *f = (struct cli_fetch){};
        cli_progress_init(&f->progress, ctx);
        f->dl = (struct download_options){
                .http = { .cancel = &interrupted },
                .progress = &f->progress.sink,
        };
        const char *v = cli_arg(args, "retries");
        if (v) {
                uint32_t n;
                if (parse_u32(v, &n) < 0 || n > 100)
                        return cli_usage_error(ctx, "--retries: '%s' is not a count 0-100", v);
                f->dl.retries = n == 0 ? UINT32_MAX : n;
        }
        v = getenv("DARWINKVM_RETRY_BACKOFF_MS");
        if (v) {
                uint32_t n;
                if (parse_u32(v, &n) == 0)
                        f->dl.backoff_ms = n ? n : 1;
        }
        const char *cache = cli_arg_or_env(args, "cache", "DARWINKVM_CACHE_DIR");
        f->cache_dir = cache ? xstrdup(cache) : download_cache_dir();
        const char *pins = cli_arg_or_env(args, "pins", "DARWINKVM_PINS");
        f->pins = pins ? xstrdup(pins) : xasprintf("%s/assets.tsv", cli_data_dir(ctx));
        f->recovery_server = cli_arg_or_env(args, "recovery-server", "DARWINKVM_RECOVERY_SERVER");
        f->mirrors = xcalloc(1, sizeof(char *));
        for (size_t i = 0; i < args->n; i++)
                if (streq(args->names[i], "mirror"))
                        f->mirrors = strv_push(f->mirrors, args->values[i]);
        f->assets = (struct asset_fetch_options){
                .server = cli_arg_or_env(args, "server", "DARWINKVM_ASSET_SERVER"),
                .mirrors = f->mirrors,
                .cache_dir = f->cache_dir,
                .allow_unpinned = cli_flag(args, "allow-unpinned"),
                .download = f->dl,
        };
        f->recovery = (struct recovery_fetch_options){
                .keys = chunklist_apple_keys,
                .n_keys = chunklist_n_apple_keys,
                .chunklist_flags =
                        cli_flag(args, "allow-unsigned")
                                ? CHUNKLIST_ALLOW_UNSIGNED | CHUNKLIST_ALLOW_BAD_SIGNATURE
                                : 0,
                .download = f->dl,
        };
        const char *pem = cli_arg(args, "trust-key");
        if (pem) {
                _cleanup_free_ char *err = NULL;
                size_t len;
                uint32_t e;
                if (rsa_public_key_load_pem(pem, &f->custom_modulus, &len, &e, &err) < 0) {
                        cli_fetch_release(f);
                        return cli_error(EXIT_USAGE, "--trust-key: %s", err);
                }
                f->custom_key = (struct rsa_public_key){ pem, f->custom_modulus, len, e };
                f->recovery.keys = &f->custom_key;
                f->recovery.n_keys = 1;
                cli_warn(ctx,
                         "trusting ONLY the key in %s for chunklists, not Apple's: use this for "
                         "your own mirror or tests",
                         pem);
        }
        return 0;
}

void cli_fetch_release(struct cli_fetch *f)
{
        free(f->cache_dir);
        free(f->pins);
        strv_free(f->mirrors);
        f->mirrors = NULL;
        free(f->custom_modulus);
        f->cache_dir = f->pins = NULL;
        f->custom_modulus = NULL;
}
