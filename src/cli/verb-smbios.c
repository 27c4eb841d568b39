/* SPDX-License-Identifier: MIT */
#include <fcntl.h>

#include "alloc.h"
#include "cli.h"
#include "json.h"
#include "output.h"
#include "plist.h"
#include "smbios.h"
#include "strutil.h"
#include "uuid.h"

static void rom_hex(const uint8_t rom[6], char out[13])
{
        for (int i = 0; i < 6; i++)
                snprintf(out + 2 * i, 3, "%02X", rom[i]);
}

static int load_db(const struct cli_context *ctx, struct smbios_db **ret)
{
        _cleanup_free_ char *err = NULL;
        if (smbios_db_load(cli_data_dir(ctx), ret, &err) < 0)
                return cli_error(EXIT_ENV, "cannot load the model data: %s", err);
        return 0;
}

static int pick_model(const struct cli_context *ctx, const struct smbios_db *db, const char *name,
                      const struct smbios_model **ret)
{
        if (!name)
                return cli_usage_error(ctx, "--model MODEL is required (e.g. MacPro7,1)");
        *ret = smbios_db_find(db, name);
        if (!*ret)
                return cli_usage_error(ctx, "unknown model '%s' (see macserial-models.tsv)", name);
        return 0;
}

static int smbios_generate_cmd(struct cli_context *ctx, const struct cli_args *args,
                               const struct smbios_db *db)
{
        const struct smbios_model *m;
        int r = pick_model(ctx, db, cli_arg(args, "model"), &m);
        if (r != 0)
                return r;
        unsigned count = 1, year = 0, week = 0;
        if ((r = cli_arg_uint(ctx, args, "count", 1, 1000, &count)) != 0 ||
            (r = cli_arg_uint(ctx, args, "year", 0, 2030, &year)) != 0 ||
            (r = cli_arg_uint(ctx, args, "week", 0, 53, &week)) != 0)
                return r;
        struct rng rng;
        rng_init(&rng, cli_arg(args, "seed"), "smbios");
        struct json_writer w;
        _cleanup_buf_ struct buf o = BUF_INIT;
        if (ctx->json) {
                out_json_begin(ctx, &w);
                json_begin_array(&w);
        }
        for (unsigned i = 0; i < count; i++) {
                struct smbios_identity id;
                _cleanup_free_ char *err = NULL;
                if (smbios_generate(db, m, &rng, year, week, &id, &err) < 0)
                        return cli_error(EXIT_USAGE, "%s", err);
                char rom[13];
                rom_hex(id.rom, rom);
                if (ctx->json) {
                        json_begin_object(&w);
                        json_kv_string(&w, "model", id.model);
                        json_kv_string(&w, "serial", id.serial);
                        json_kv_string(&w, "mlb", id.mlb);
                        json_kv_string(&w, "uuid", id.uuid);
                        json_kv_string(&w, "rom", rom);
                        json_end_object(&w);
                } else
                        buf_printf(&o, "%s | %s | %s | %s | %s\n", id.model, id.serial, id.mlb,
                                   id.uuid, rom);
        }
        if (ctx->json) {
                json_end_array(&w);
                return out_json_end(&w);
        }
        return cli_write(buf_str(&o));
}

static int smbios_decode_cmd(struct cli_context *ctx, const struct cli_args *args,
                             const struct smbios_db *db, const char *value)
{
        size_t len = strlen(value);
        const char *denied = smbios_denied(value);
        struct json_writer w;
        _cleanup_buf_ struct buf o = BUF_INIT;
        bool valid;
        if (ctx->json) {
                out_json_begin(ctx, &w);
                json_begin_object(&w);
        }
        if (len == 11 || len == 12) {
                struct smbios_serial_info info;
                _cleanup_free_ char *err = NULL;
                if (smbios_decode_serial(db, value, &info, &err) < 0)
                        return cli_error(EXIT_USAGE, "%s", err);
                valid = info.valid;
                if (ctx->json) {
                        json_kv_string(&w, "kind", "serial");
                        json_kv_string(&w, "value", value);
                        json_kv_string(&w, "model", info.model ? info.model->name : NULL);
                        json_kv_string(&w, "model_code", info.code);
                        json_kv_string(&w, "location", info.location);
                        json_kv_uint(&w, "year", info.year);
                        json_kv_uint(&w, "week", info.week);
                        json_kv_uint(&w, "line", info.line);
                        json_kv_uint(&w, "copy", info.copy);
                        json_kv_bool(&w, "valid", info.valid);
                        json_kv_string(&w, "problem", info.valid ? NULL : info.problem);
                } else {
                        buf_printf(&o, "serial:   %s\n", value);
                        buf_printf(&o, "model:    %s (code %s)\n",
                                   info.model ? info.model->name : "unknown", info.code);
                        buf_printf(&o, "location: %s\n", info.location);
                        buf_printf(&o, "year:     %u\nweek:     %u\n", info.year, info.week);
                        buf_printf(&o, "line:     %u (copy %u)\n", info.line, info.copy);
                        buf_printf(&o, "valid:    %s%s%s\n", info.valid ? "yes" : "no",
                                   info.valid ? "" : ": ", info.valid ? "" : info.problem);
                }
        } else if (len == 13 || len == 17) {
                struct smbios_mlb_info info;
                smbios_decode_mlb(db, value, &info);
                valid = info.checksum_ok;
                if (ctx->json) {
                        json_kv_string(&w, "kind", "mlb");
                        json_kv_string(&w, "value", value);
                        json_kv_string(&w, "layout", len == 17 ? "modern" : "legacy");
                        json_kv_string(&w, "model", info.model ? info.model->name : NULL);
                        json_kv_uint(&w, "year_digit", info.year_digit);
                        json_kv_uint(&w, "week", info.week);
                        json_kv_bool(&w, "checksum_ok", info.checksum_ok);
                        json_kv_bool(&w, "valid", info.checksum_ok);
                } else {
                        buf_printf(&o, "mlb:      %s (%s, %zu characters)\n", value,
                                   len == 17 ? "modern" : "legacy", len);
                        buf_printf(&o, "model:    %s (from the board code)\n",
                                   info.model ? info.model->name : "unknown");
                        buf_printf(&o, "year:     digit %u\nweek:     %u\n", info.year_digit,
                                   info.week);
                        buf_printf(&o, "checksum: %s\n", info.checksum_ok ? "valid" : "INVALID");
                        buf_printf(&o, "valid:    %s\n", info.checksum_ok ? "yes" : "no");
                }
        } else {
                if (ctx->json)
                        json_end_object(&w);
                return cli_error(EXIT_USAGE,
                                 "'%s': %zu characters; a serial has 11 or 12, an MLB 13 or 17",
                                 value, len);
        }
        if (ctx->json) {
                json_kv_string(&w, "shared_default", denied);
                json_end_object(&w);
                int r = out_json_end(&w);
                return r != 0 ? r : valid && !denied ? EXIT_OK : EXIT_PROBLEM;
        }
        if (denied)
                buf_printf(&o, "shared:   yes, %s: do not use it\n", denied);
        int r = cli_write(buf_str(&o));
        return r != 0 ? r : valid && !denied ? EXIT_OK : EXIT_PROBLEM;
}

static int smbios_apply_cmd(struct cli_context *ctx, const struct cli_args *args,
                            const struct smbios_db *db, const char *config)
{
        _cleanup_pl_ struct pl_node *root = NULL;
        enum pl_format fmt;
        _cleanup_free_ char *err = NULL;
        if (pl_load_dict_file(AT_FDCWD, config, &root, &fmt, &err) < 0)
                return cli_error(EXIT_USAGE, "%s", err);
        const char *model = cli_arg(args, "model");
        if (!model)
                model = pl_dict_get_string(
                        pl_dict_get_dict(pl_dict_get_dict(root, "PlatformInfo"), "Generic"),
                        "SystemProductName");
        const struct smbios_model *m;
        int r = pick_model(ctx, db, model, &m);
        if (r != 0)
                return r;
        struct rng rng;
        rng_init(&rng, cli_arg(args, "seed"), "smbios");
        struct smbios_identity id;
        if (smbios_generate(db, m, &rng, 0, 0, &id, &err) < 0)
                return cli_error(EXIT_USAGE, "%s", err);
        const char *serial = cli_arg(args, "serial"), *mlb = cli_arg(args, "mlb");
        const char *uuid = cli_arg(args, "uuid"), *rom = cli_arg(args, "rom");
        if (serial) {
                struct smbios_serial_info info;
                if (smbios_decode_serial(db, serial, &info, &err) < 0)
                        return cli_error(EXIT_USAGE, "--serial: %s", err);
                snprintf(id.serial, sizeof(id.serial), "%s", serial);
                if (!mlb && smbios_make_mlb(db, serial, &rng, id.mlb, &err) < 0)
                        return cli_error(EXIT_USAGE, "--serial: %s", err);
        }
        if (mlb) {
                if (strlen(mlb) >= sizeof(id.mlb))
                        return cli_usage_error(ctx, "--mlb %s: too long", mlb);
                snprintf(id.mlb, sizeof(id.mlb), "%s", mlb);
        }
        if (uuid) {
                struct uuid u;
                if (uuid_parse(uuid, &u) < 0)
                        return cli_usage_error(ctx, "--uuid %s: expected 8-4-4-4-12 hex", uuid);
                uuid_format(&u, id.uuid);
        }
        if (rom) {
                struct pl_node *d = NULL;
                size_t len = 0;
                if (pl_value_from_text(PL_DATA, rom, &d, &err) < 0 || !pl_data(d, &len) ||
                    len != 6) {
                        pl_free(d);
                        return cli_usage_error(ctx, "--rom %s: expected 6 bytes of hex", rom);
                }
                memcpy(id.rom, pl_data(d, &len), 6);
                pl_free(d);
        }
        r = smbios_apply(root, &id, cli_flag(args, "force"), &err);
        if (r < 0)
                return cli_error(EXIT_USAGE, "%s", err);
        if (pl_save_file(root, fmt, AT_FDCWD, config, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        char romhex[13];
        rom_hex(id.rom, romhex);
        printf("%s | %s | %s | %s | %s\n", id.model, id.serial, id.mlb, id.uuid, romhex);
        return EXIT_OK;
}

int verb_smbios(struct cli_context *ctx, const struct cli_args *args)
{
        char *const *pos = args->positional;
        const char *cmd = pos[0];
        _cleanup_(smbios_db_freep) struct smbios_db *db = NULL;
        if (streq(cmd, "generate")) {
                if (pos[1])
                        return cli_usage_error(ctx, "generate takes no arguments (use --model)");
                int r = load_db(ctx, &db);
                return r != 0 ? r : smbios_generate_cmd(ctx, args, db);
        }
        if (streq(cmd, "decode") || streq(cmd, "apply")) {
                if (!pos[1] || pos[2])
                        return cli_usage_error(ctx, "%s takes one argument", cmd);
                int r = load_db(ctx, &db);
                if (r != 0)
                        return r;
                return streq(cmd, "decode") ? smbios_decode_cmd(ctx, args, db, pos[1])
                                            : smbios_apply_cmd(ctx, args, db, pos[1]);
        }
        return cli_usage_error(ctx, "unknown command '%s' (generate, decode, apply)", cmd);
}
