/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>

#include "alloc.h"
#include "assets.h"
#include "cli-fetch.h"
#include "cli-progress.h"
#include "cli.h"
#include "config.h"
#include "download.h"
#include "output.h"
#include "recovery.h"
#include "strutil.h"
#include "strv.h"
#include "table.h"

struct fetch_ctx {
        struct cli_context *ctx;
        const struct cli_args *args;
        struct cli_fetch cf;
};

static int setup(struct fetch_ctx *f)
{
        int r = cli_fetch_setup(f->ctx, f->args, &f->cf);
        if (r == 0)
                cli_fetch_install_signals();
        return r;
}

/* ---- recovery ---- */

static int fetch_recovery(struct fetch_ctx *f)
{
        const struct cli_args *a = f->args;
        const char *macos = cli_arg(a, "macos"), *board = cli_arg(a, "board-id");
        const char *local = cli_arg(a, "local");
        if (local) {
                /* Offline: verify what is on disk, with the same keys and flags. */
                const struct rsa_public_key *keys = f->cf.recovery.keys;
                size_t n_keys = f->cf.recovery.n_keys;
                _cleanup_free_ char *image = NULL, *warning = NULL, *err = NULL;
                int r = recovery_verify_dir(local, keys, n_keys,
                                            cli_flag(a, "allow-unsigned")
                                                    ? CHUNKLIST_ALLOW_UNSIGNED |
                                                              CHUNKLIST_ALLOW_BAD_SIGNATURE
                                                    : 0,
                                            &image, &warning, &err);
                if (warning)
                        fprintf(stderr, "darwinkvm: WARNING: %s\n", warning);
                if (r < 0)
                        return cli_fetch_fail(r, local, err);
                printf("%s\n", image);
                return EXIT_OK;
        }
        if (!macos && !board)
                return cli_usage_error(f->ctx,
                                       "fetch recovery needs --macos VERSION or --board-id ID");
        _cleanup_free_ char *err = NULL;
        struct recovery_target t = { 0 };
        if (macos) {
                int r = recovery_target_resolve(cli_data_dir(f->ctx), macos, &t, &err);
                if (r < 0)
                        return cli_error(r == -ENOENT ? EXIT_USAGE : EXIT_ENV, "%s", err);
        } else
                t = (struct recovery_target){ xstrdup("-"), xstrdup("-"), xstrdup(board),
                                              xstrdup(RECOVERY_ZERO_MLB), xstrdup("default") };
        if (board)
                free_and_strdup(&t.board_id, board);
        if (cli_arg(a, "mlb"))
                free_and_strdup(&t.mlb, cli_arg(a, "mlb"));
        if (cli_arg(a, "os"))
                free_and_strdup(&t.os, cli_arg(a, "os"));
        int ret = EXIT_OK;
        if (strlen(t.mlb) != 17)
                ret = cli_usage_error(f->ctx, "--mlb: '%s' is not 17 characters", t.mlb);
        else if (!streq(t.os, "default") && !streq(t.os, "latest"))
                ret = cli_usage_error(f->ctx, "--os: '%s' is neither default nor latest", t.os);
        if (ret) {
                recovery_target_release(&t);
                return ret;
        }

        const struct rsa_public_key *keys = f->cf.recovery.keys;
        size_t n_keys = f->cf.recovery.n_keys;

        struct rng rng;
        rng_init(&rng, cli_arg(a, "seed"), "recovery");
        const char *server = cli_arg_or_env(a, "server", "DARWINKVM_RECOVERY_SERVER");
        struct recovery_info info = { 0 };
        struct recovery_fetch_options o = {
                .keys = keys,
                .n_keys = n_keys,
                .chunklist_flags =
                        cli_flag(a, "allow-unsigned")
                                ? CHUNKLIST_ALLOW_UNSIGNED | CHUNKLIST_ALLOW_BAD_SIGNATURE
                                : 0,
                .download = f->cf.dl,
        };
        const char *out = cli_arg(a, "output");
        _cleanup_free_ char *image = NULL, *warning = NULL;
        int r;
        /* The asset tokens expire: on a 403 ask again for fresh ones (the .part resumes). */
        for (unsigned attempt = 0;; attempt++) {
                free(err);
                err = NULL;
                r = recovery_query(server, t.board_id, t.mlb, t.os, &rng, &f->cf.dl, &info, &err);
                if (r < 0) {
                        recovery_target_release(&t);
                        return cli_fetch_fail(r, "recovery query", err);
                }
                if (f->ctx->verbosity >= 0 && attempt == 0)
                        fprintf(stderr, "recovery: board-id %s, MLB %s, os %s: product %s\n",
                                t.board_id, t.mlb, t.os, info.product);
                free(warning);
                warning = NULL;
                free(err);
                err = NULL;
                r = recovery_fetch(&info, out ? out : "com.apple.recovery.boot", &o, &image,
                                   &warning, &err);
                if (r != -EKEYEXPIRED || attempt >= 2)
                        break;
                if (f->ctx->verbosity >= 0)
                        fprintf(stderr, "recovery: %s: asking for fresh asset tokens\n", err);
                recovery_info_release(&info);
        }
        recovery_target_release(&t);
        if (warning)
                fprintf(stderr, "darwinkvm: WARNING: %s\n", warning);
        if (r < 0) {
                recovery_info_release(&info);
                return cli_fetch_fail(r, "recovery image", err);
        }
        if (f->ctx->json) {
                struct json_writer w;
                out_json_begin(f->ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "product", info.product);
                json_kv_string(&w, "image", image);
                json_kv_bool(&w, "signed", !warning);
                json_end_object(&w);
                recovery_info_release(&info);
                return out_json_end(&w);
        }
        recovery_info_release(&info);
        printf("%s\n", image);
        return EXIT_OK;
}

static int fetch_list(struct fetch_ctx *f)
{
        _cleanup_free_ char *err = NULL;
        struct recovery_target *t = NULL;
        size_t n = 0;
        int r = recovery_target_list(cli_data_dir(f->ctx), &t, &n, &err);
        if (r < 0)
                return cli_error(EXIT_ENV, "%s", err);
        bool online = cli_flag(f->args, "online");
        const char *server = cli_arg_or_env(f->args, "server", "DARWINKVM_RECOVERY_SERVER");
        char **products = xcalloc(n + 1, sizeof(char *));
        int ret = EXIT_OK;
        for (size_t i = 0; online && i < n; i++) {
                struct rng rng;
                rng_init(&rng, cli_arg(f->args, "seed"), "recovery");
                struct recovery_info info = { 0 };
                _cleanup_free_ char *e = NULL;
                r = recovery_query(server, t[i].board_id, t[i].mlb, t[i].os, &rng, &f->cf.dl, &info,
                                   &e);
                if (r == -EINTR) {
                        ret = cli_fetch_fail(r, "fetch list", e);
                        break;
                }
                products[i] = xstrdup(r < 0 ? "unavailable" : info.product);
                recovery_info_release(&info);
        }
        if (ret == EXIT_OK && f->ctx->json) {
                struct json_writer w;
                out_json_begin(f->ctx, &w);
                json_begin_array(&w);
                for (size_t i = 0; i < n; i++) {
                        json_begin_object(&w);
                        json_kv_string(&w, "version", t[i].version);
                        json_kv_string(&w, "name", t[i].name);
                        json_kv_string(&w, "board_id", t[i].board_id);
                        json_kv_string(&w, "mlb", t[i].mlb);
                        json_kv_string(&w, "os", t[i].os);
                        if (online) {
                                json_kv_bool(&w, "available", !streq(products[i], "unavailable"));
                                json_kv_string(&w, "product",
                                               streq(products[i], "unavailable") ? NULL
                                                                                 : products[i]);
                        }
                        json_end_object(&w);
                }
                json_end_array(&w);
                ret = out_json_end(&w);
        } else if (ret == EXIT_OK) {
                printf("%-8s %-14s %-22s %-18s %-*s%s\n", "VERSION", "NAME", "BOARD-ID", "MLB",
                       online ? 8 : 0, "OS", online ? " PRODUCT" : "");
                for (size_t i = 0; i < n; i++)
                        printf("%-8s %-14s %-22s %-18s %-*s%s%s\n", t[i].version, t[i].name,
                               t[i].board_id, t[i].mlb, online ? 8 : 0, t[i].os, online ? " " : "",
                               online ? products[i] : "");
                if (!online)
                        printf("(availability and product IDs: --online asks the recovery server; "
                               "the server's answer carries no build number)\n");
        }
        for (size_t i = 0; i < n; i++)
                recovery_target_release(&t[i]);
        free(t);
        strv_free(products);
        return ret;
}

/* ---- pinned assets ---- */

static int load_pins(struct fetch_ctx *f, struct asset_table **ret)
{
        _cleanup_free_ char *err = NULL;
        if (asset_table_load(f->cf.pins, ret, &err) < 0)
                return cli_error(EXIT_ENV, "pin table: %s", err);
        return 0;
}

static struct asset_fetch_options asset_options(struct fetch_ctx *f)
{
        return f->cf.assets;
}

/* The --driver values, or NULL for the defaults. */
static char **driver_args(const struct cli_args *a)
{
        char **drivers = NULL;
        for (size_t i = 0; i < a->n; i++)
                if (streq(a->names[i], "driver")) {
                        if (!drivers)
                                drivers = xcalloc(1, sizeof(char *));
                        drivers = strv_push(drivers, a->values[i]);
                }
        return drivers;
}

/* Fetches one asset and prints or installs it. */
static int fetch_one(struct fetch_ctx *f, const struct asset *a, const char *efi)
{
        struct asset_fetch_options o = asset_options(f);
        _cleanup_free_ char *path = NULL, *warning = NULL, *err = NULL;
        int r = asset_fetch(a, &o, &path, &warning, &err);
        if (warning)
                fprintf(stderr, "darwinkvm: WARNING: %s\n", warning);
        if (r < 0)
                return cli_fetch_fail(r, a->name, err);
        if (efi) {
                if (streq(a->kind, "opencore")) {
                        _cleanup_strv_free_ char **drivers = driver_args(f->args);
                        r = efi_install_opencore(path, efi, (const char *const *) drivers, &err);
                } else if (streq(a->kind, "kext"))
                        r = efi_install_kext(path, efi, NULL, NULL, &err);
                else
                        r = efi_install_driver(path, efi, &err);
                if (r < 0)
                        return cli_fetch_fail(r, a->name, err);
        }
        printf("%s\t%s\t%s\n", a->name, a->version, path);
        return EXIT_OK;
}

static int fetch_assets(struct fetch_ctx *f, const char *kind)
{
        _cleanup_(asset_table_freep) struct asset_table *t = NULL;
        int ret = load_pins(f, &t);
        if (ret)
                return ret;
        const char *efi = cli_arg(f->args, "efi");
        const char *zip = cli_arg(f->args, "zip");
        if (zip) {
                /* Offline: a local release zip straight into the EFI tree. */
                if (!efi)
                        return cli_usage_error(f->ctx, "--zip needs --efi DIR");
                _cleanup_free_ char *err = NULL;
                _cleanup_strv_free_ char **drivers = driver_args(f->args);
                int r = streq(kind, "opencore")
                                ? efi_install_opencore(zip, efi, (const char *const *) drivers,
                                                       &err)
                                : efi_install_kext(zip, efi, NULL, NULL, &err);
                if (r < 0)
                        return cli_fetch_fail(r, zip, err);
                printf("%s\t%s\n", zip, efi);
                return EXIT_OK;
        }
        char **names = f->args->positional + 1;
        if (names[0]) {
                for (char **n = names; *n; n++) {
                        const struct asset *a = asset_find(t, *n);
                        if (!a || (!streq(a->kind, kind) &&
                                   !(streq(kind, "kext") && streq(a->kind, "driver"))))
                                return cli_usage_error(f->ctx,
                                                       "'%s' is not a %s in the pin table %s", *n,
                                                       kind, t->path);
                        ret = fetch_one(f, a, efi);
                        if (ret)
                                return ret;
                }
                return EXIT_OK;
        }
        for (size_t i = 0; i < t->n; i++)
                if (streq(t->items[i].kind, kind)) {
                        ret = fetch_one(f, &t->items[i], efi);
                        if (ret)
                                return ret;
                }
        return EXIT_OK;
}

static int fetch_pins(struct fetch_ctx *f)
{
        _cleanup_(asset_table_freep) struct asset_table *t = NULL;
        int ret = load_pins(f, &t);
        if (ret)
                return ret;
        char **names = f->args->positional + 1;
        if (cli_flag(f->args, "update")) {
                struct asset_fetch_options o = asset_options(f);
                size_t changed = 0;
                for (size_t i = 0; i < t->n; i++) {
                        struct asset *a = &t->items[i];
                        if (names[0] && !strv_contains(names, a->name))
                                continue;
                        bool ch = false;
                        _cleanup_free_ char *err = NULL;
                        int r = asset_pin_update(a, &o, &ch, &err);
                        if (r < 0)
                                return cli_fetch_fail(r, a->name, err);
                        changed += ch;
                        char hex[SHA256_HEX_LEN + 1];
                        hex_encode(a->sha256, SHA256_LEN, hex);
                        printf("%s\t%s\t%" PRIu64 "\t%s%s\n", a->name, a->version, a->size, hex,
                               ch ? "\t(new pin)" : "");
                }
                _cleanup_free_ char *err = NULL;
                if (changed && asset_table_save(t, t->path, &err) < 0)
                        return cli_error(EXIT_ENV, "%s", err);
                fprintf(stderr, "%zu pin(s) changed in %s: review the diff before committing it\n",
                        changed, t->path);
                return EXIT_OK;
        }
        if (f->ctx->json) {
                struct json_writer w;
                out_json_begin(f->ctx, &w);
                json_begin_array(&w);
                for (size_t i = 0; i < t->n; i++) {
                        const struct asset *a = &t->items[i];
                        char hex[SHA256_HEX_LEN + 1];
                        hex_encode(a->sha256, SHA256_LEN, hex);
                        json_begin_object(&w);
                        json_kv_string(&w, "name", a->name);
                        json_kv_string(&w, "version", a->version);
                        json_kv_string(&w, "kind", a->kind);
                        json_kv_string(&w, "url", a->url);
                        json_kv_bool(&w, "pinned", a->pinned);
                        if (a->size)
                                json_kv_uint(&w, "size", a->size);
                        json_kv_string(&w, "sha256", a->pinned ? hex : NULL);
                        json_end_object(&w);
                }
                json_end_array(&w);
                return out_json_end(&w);
        }
        size_t unpinned = 0;
        for (size_t i = 0; i < t->n; i++) {
                const struct asset *a = &t->items[i];
                char hex[SHA256_HEX_LEN + 1] = "-";
                if (a->pinned)
                        hex_encode(a->sha256, SHA256_LEN, hex);
                else
                        unpinned++;
                printf("%-26s %-8s %-9s %s\n", a->name, a->version, a->kind,
                       a->pinned ? hex : "NOT PINNED");
        }
        if (unpinned)
                fprintf(stderr,
                        "%zu asset(s) not pinned in %s: they are refused unless "
                        "--allow-unpinned; 'fetch pins --update' records pins\n",
                        unpinned, t->path);
        return EXIT_OK;
}

int verb_fetch(struct cli_context *ctx, const struct cli_args *args)
{
        const char *what = args->positional[0];
        struct fetch_ctx f = { .ctx = ctx, .args = args };
        static const char *const words[] = { "recovery", "list", "installer", "opencore",
                                             "kexts",    "pins", NULL };
        bool known = false;
        for (size_t i = 0; words[i]; i++)
                known |= streq(words[i], what);
        if (!known)
                return cli_usage_error(ctx,
                                       "unknown fetch target '%s' (recovery, list, installer, "
                                       "opencore, kexts, pins)",
                                       what);
        if (!streq(what, "kexts") && !streq(what, "opencore") && !streq(what, "pins") &&
            args->positional[1])
                return cli_usage_error(ctx, "fetch %s takes no further arguments", what);
        int ret = setup(&f);
        if (ret == EXIT_OK) {
                if (streq(what, "recovery"))
                        ret = fetch_recovery(&f);
                else if (streq(what, "list"))
                        ret = fetch_list(&f);
                else if (streq(what, "opencore"))
                        ret = fetch_assets(&f, "opencore");
                else if (streq(what, "kexts"))
                        ret = fetch_assets(&f, "kext");
                else if (streq(what, "pins"))
                        ret = fetch_pins(&f);
                else
                        ret = verb_fetch_installer(ctx, args, &f.cf.dl);
        }
        cli_fetch_release(&f.cf);
        if (ret == EXIT_OK && cli_fetch_interrupted())
                ret = EXIT_INTERRUPTED;
        return ret;
}
