/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sys/stat.h>

#include "alloc.h"
#include "cli.h"
#include "fileio.h"
#include "host.h"
#include "json.h"
#include "macos.h"
#include "opencore.h"
#include "output.h"
#include "plist.h"
#include "smbios.h"
#include "strutil.h"
#include "strv.h"

static int load_schema(const struct cli_context *ctx, struct oc_schema **ret)
{
        _cleanup_free_ char *err = NULL;
        if (oc_schema_load_pinned(cli_data_dir(ctx), ret, &err) < 0)
                return cli_error(EXIT_ENV, "cannot load the OpenCore data: %s", err);
        return 0;
}

static int memory_options(const struct cli_context *ctx, const struct cli_args *args,
                          struct oc_memory_options *m)
{
        int r;
        if ((r = cli_arg_uint(ctx, args, "slots", 4, 64, &m->slots)) != 0 ||
            (r = cli_arg_uint(ctx, args, "size", 0, 65536, &m->size_gb)) != 0 ||
            (r = cli_arg_uint(ctx, args, "speed", 3200, 65535, &m->speed)) != 0)
                return r;
        m->type = cli_arg(args, "type");
        return 0;
}

/* Writes @root to --output (a file, atomically, or '-' / absent: stdout). */
static int emit(const struct cli_args *args, const struct pl_node *root)
{
        const char *out = cli_arg(args, "output");
        _cleanup_free_ char *err = NULL;
        if (out && !streq(out, "-")) {
                if (pl_save_file(root, PL_FORMAT_XML, AT_FDCWD, out, &err) < 0)
                        return cli_error(EXIT_ENV, "%s", err);
                return EXIT_OK;
        }
        _cleanup_free_ char *xml = NULL;
        size_t len;
        if (pl_serialize(root, PL_FORMAT_XML, &xml, &len, &err) < 0)
                return cli_error(EXIT_USAGE, "%s", err);
        return cli_write(xml);
}

static int oc_config_cmd(struct cli_context *ctx, const struct cli_args *args)
{
        _cleanup_(oc_schema_freep) struct oc_schema *schema = NULL;
        int r = load_schema(ctx, &schema);
        if (r != 0)
                return r;
        struct oc_profile p = { .macos = cli_arg(args, "macos"),
                                .model = cli_arg(args, "model"),
                                .gpu = cli_arg(args, "gpu"),
                                .resolution = cli_arg(args, "resolution"),
                                .verbose = cli_flag(args, "verbose-boot"),
                                .show_picker = !cli_flag(args, "no-picker"),
                                .hfs_open = cli_flag(args, "open-hfs"),
                                .sip_disabled = cli_flag(args, "sip-off") };
        if (!p.macos)
                return cli_usage_error(ctx, "--macos VERSION is required (e.g. 14 or 10.14.6)");
        const char *cpu = cli_arg(args, "cpu");
        if (cpu && !streq(cpu, "intel") && !streq(cpu, "amd"))
                return cli_usage_error(ctx, "--cpu %s: expected intel or amd", cpu);
        p.cpu = cpu && streq(cpu, "amd") ? OC_CPU_AMD : OC_CPU_INTEL;
        unsigned timeout = 5, alcid = 0;
        if ((r = cli_arg_uint(ctx, args, "timeout", 5, 3600, &timeout)) != 0 ||
            (r = cli_arg_uint(ctx, args, "alcid", 0, 1000, &alcid)) != 0)
                return r;
        p.timeout = (int) timeout;
        p.alcid = (int) alcid;

        /* The identity: macserial-style, from --seed when given. */
        _cleanup_(smbios_db_freep) struct smbios_db *db = NULL;
        _cleanup_free_ char *err = NULL;
        if (smbios_db_load(cli_data_dir(ctx), &db, &err) < 0)
                return cli_error(EXIT_ENV, "cannot load the model data: %s", err);
        unsigned v;
        if (macos_version_parse(p.macos, &v) < 0)
                return cli_usage_error(ctx, "--macos %s: expected e.g. 14, 13.6 or 10.14.6",
                                       p.macos);
        const char *model = p.model ? p.model : oc_model_for_macos(v);
        const struct smbios_model *m = smbios_db_find(db, model);
        if (!m)
                return cli_usage_error(ctx, "--model %s: unknown model", model);
        struct rng rng;
        rng_init(&rng, cli_arg(args, "seed"), "smbios");
        struct smbios_identity id;
        if (smbios_generate(db, m, &rng, 0, 0, &id, &err) < 0)
                return cli_error(EXIT_USAGE, "%s", err);
        p.identity = &id;

        _cleanup_pl_ struct pl_node *config = NULL;
        if (oc_config_build(schema, &p, &config, &err) < 0)
                return cli_usage_error(ctx, "%s", err);
        if (cli_arg(args, "size")) {
                struct oc_memory_options mo = { 0 };
                if ((r = memory_options(ctx, args, &mo)) != 0)
                        return r;
                if (oc_memory_apply(config, &mo, &err) < 0)
                        return cli_usage_error(ctx, "%s", err);
        }
        const char *efi = cli_arg(args, "efi");
        if (efi) {
                if (oc_efi_write(efi, config, &err) < 0)
                        return cli_error(EXIT_ENV, "%s", err);
                if (ctx->verbosity >= 0)
                        fprintf(stderr, "wrote %s/EFI/OC/config.plist and its ACPI tables\n", efi);
                return EXIT_OK;
        }
        return emit(args, config);
}

/* The OC folder next to a config, when the config sits in one. */
static char *guess_oc_dir(const char *config)
{
        _cleanup_free_ char *copy = xstrdup(config);
        char *slash = strrchr(copy, '/');
        const char *dir = slash ? (*slash = 0, copy) : ".";
        static const char *const subs[] = { "ACPI", "Kexts", "Drivers", NULL };
        for (size_t i = 0; subs[i]; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", *dir ? dir : "/", subs[i]);
                struct stat st;
                if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                        return xstrdup(*dir ? dir : "/");
        }
        return NULL;
}

static int oc_validate_cmd(struct cli_context *ctx, const struct cli_args *args, const char *file)
{
        _cleanup_(oc_schema_freep) struct oc_schema *schema = NULL;
        int r = load_schema(ctx, &schema);
        if (r != 0)
                return r;
        _cleanup_pl_ struct pl_node *config = NULL;
        _cleanup_free_ char *err = NULL;
        if (pl_load_file(AT_FDCWD, file, 0, &config, NULL, &err) < 0)
                return cli_error(EXIT_USAGE, "%s", err);
        _cleanup_(smbios_db_freep) struct smbios_db *db = NULL;
        if (smbios_db_load(cli_data_dir(ctx), &db, &err) < 0)
                return cli_error(EXIT_ENV, "cannot load the model data: %s", err);
        _cleanup_free_ char *guessed = cli_arg(args, "efi") ? NULL : guess_oc_dir(file);
        struct oc_validate_options o = { .efi_dir = cli_arg(args, "efi") ? cli_arg(args, "efi")
                                                                         : guessed,
                                         .macos = cli_arg(args, "macos"),
                                         .host_avx2 = -1,
                                         .models = db };
        unsigned v;
        if (o.macos && macos_version_parse(o.macos, &v) < 0)
                return cli_usage_error(ctx, "--macos %s: expected e.g. 14 or 10.14.6", o.macos);
        if (cli_flag(args, "host")) {
                r = cli_open_root(ctx);
                if (r != 0)
                        return r;
                struct host_cpu cpu = { 0 };
                host_cpu_load(ctx->root, &cpu);
                if (!cpu.error)
                        o.host_avx2 = host_cpu_has(&cpu, "avx2");
                host_cpu_release(&cpu);
        }
        struct oc_findings f = { 0 };
        oc_validate(schema, config, &o, &f);
        if (ctx->json) {
                struct json_writer w;
                out_json_begin(ctx, &w);
                json_begin_object(&w);
                json_kv_string(&w, "file", file);
                json_kv_string(&w, "opencore", schema->version);
                json_key(&w, "findings");
                json_begin_array(&w);
                for (size_t i = 0; i < f.n; i++) {
                        json_begin_object(&w);
                        json_kv_string(&w, "path", f.items[i].path);
                        json_kv_string(&w, "found", f.items[i].found);
                        json_kv_string(&w, "expected", f.items[i].expected);
                        json_end_object(&w);
                }
                json_end_array(&w);
                json_end_object(&w);
                r = out_json_end(&w);
        } else {
                _cleanup_buf_ struct buf o2 = BUF_INIT;
                for (size_t i = 0; i < f.n; i++)
                        buf_printf(&o2, "%s: found %s; expected %s\n", f.items[i].path,
                                   f.items[i].found, f.items[i].expected);
                r = cli_write(buf_str(&o2));
                if (ctx->verbosity >= 0)
                        fprintf(stderr, "%s: %zu finding%s (OpenCore %s schema)\n", file, f.n,
                                f.n == 1 ? "" : "s", schema->version);
        }
        size_t n = f.n;
        oc_findings_release(&f);
        return r != 0 ? r : n > 0 ? EXIT_PROBLEM : EXIT_OK;
}

static int oc_snapshot_cmd(struct cli_context *ctx, const struct cli_args *args, char *const *pos)
{
        const char *oc_dir = pos[1];
        _cleanup_free_ char *default_config = xasprintf("%s/config.plist", oc_dir);
        const char *config_path = pos[2] ? pos[2] : default_config;
        _cleanup_(oc_schema_freep) struct oc_schema *schema = NULL;
        int r = load_schema(ctx, &schema);
        if (r != 0)
                return r;
        _cleanup_pl_ struct pl_node *config = NULL;
        enum pl_format fmt;
        _cleanup_free_ char *err = NULL;
        if (pl_load_dict_file(AT_FDCWD, config_path, &config, &fmt, &err) < 0)
                return cli_error(EXIT_USAGE, "%s", err);
        struct oc_snapshot_report rep = { 0 };
        r = oc_snapshot(schema, config, oc_dir, cli_flag(args, "clean"), &rep, &err);
        if (r < 0) {
                oc_snapshot_report_release(&rep);
                return cli_error(EXIT_USAGE, "%s", err);
        }
        _cleanup_buf_ struct buf o = BUF_INIT;
        for (size_t i = 0; rep.added && rep.added[i]; i++)
                buf_printf(&o, "added    %s\n", rep.added[i]);
        for (size_t i = 0; rep.removed && rep.removed[i]; i++)
                buf_printf(&o, "removed  %s\n", rep.removed[i]);
        for (size_t i = 0; rep.problems && rep.problems[i]; i++)
                buf_printf(&o, "problem  %s\n", rep.problems[i]);
        bool problems = rep.problems != NULL;
        oc_snapshot_report_release(&rep);
        const char *out = cli_arg(args, "output");
        if (out && streq(out, "-")) {
                fputs(buf_str(&o), stderr);
                return emit(args, config);
        }
        if (pl_save_file(config, fmt, AT_FDCWD, out ? out : config_path, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        r = cli_write(buf_str(&o));
        return r != 0 ? r : problems ? EXIT_PROBLEM : EXIT_OK;
}

static int oc_memory_cmd(struct cli_context *ctx, const struct cli_args *args, const char *config)
{
        struct oc_memory_options mo = { 0 };
        int r = memory_options(ctx, args, &mo);
        if (r != 0)
                return r;
        if (!cli_arg(args, "size"))
                return cli_usage_error(ctx, "--size GB is required");
        _cleanup_free_ char *err = NULL;
        if (!config) {
                _cleanup_pl_ struct pl_node *m = NULL;
                if (oc_memory_build(&mo, &m, &err) < 0)
                        return cli_usage_error(ctx, "%s", err);
                return emit(args, m);
        }
        _cleanup_pl_ struct pl_node *root = NULL;
        enum pl_format fmt;
        if (pl_load_dict_file(AT_FDCWD, config, &root, &fmt, &err) < 0)
                return cli_error(EXIT_USAGE, "%s", err);
        if (oc_memory_apply(root, &mo, &err) < 0)
                return cli_usage_error(ctx, "%s", err);
        if (pl_save_file(root, fmt, AT_FDCWD, config, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        return EXIT_OK;
}

static int oc_acpi_cmd(struct cli_context *ctx, const struct cli_args *args, const char *dir)
{
        (void) args;
        if (mkdir_p(dir, 0755) < 0)
                return cli_error(EXIT_ENV, "%s: cannot create the directory", dir);
        for (size_t i = 0; i < oc_n_acpi_tables; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", dir, oc_acpi_tables[i].name);
                _cleanup_free_ char *err = NULL;
                if (write_file_atomic(AT_FDCWD, p, oc_acpi_tables[i].data, oc_acpi_tables[i].len,
                                      0644, &err) < 0)
                        return cli_error(EXIT_ENV, "%s", err);
                if (ctx->verbosity >= 0)
                        printf("%s (%zu bytes)\n", p, oc_acpi_tables[i].len);
        }
        return EXIT_OK;
}

int verb_opencore(struct cli_context *ctx, const struct cli_args *args)
{
        char *const *pos = args->positional;
        const char *cmd = pos[0];
        size_t n = strv_length((char **) pos);
        if (streq(cmd, "config")) {
                if (n != 1)
                        return cli_usage_error(ctx, "config takes no arguments (use --macos)");
                return oc_config_cmd(ctx, args);
        }
        if (streq(cmd, "validate")) {
                if (n != 2)
                        return cli_usage_error(ctx, "validate takes one CONFIG");
                return oc_validate_cmd(ctx, args, pos[1]);
        }
        if (streq(cmd, "snapshot")) {
                if (n < 2 || n > 3)
                        return cli_usage_error(ctx, "snapshot takes OC_DIR [CONFIG]");
                return oc_snapshot_cmd(ctx, args, pos);
        }
        if (streq(cmd, "memory")) {
                if (n > 2)
                        return cli_usage_error(ctx, "memory takes at most one CONFIG");
                return oc_memory_cmd(ctx, args, pos[1]);
        }
        if (streq(cmd, "acpi")) {
                if (n != 2)
                        return cli_usage_error(ctx, "acpi takes one DIR");
                return oc_acpi_cmd(ctx, args, pos[1]);
        }
        return cli_usage_error(
                ctx, "unknown command '%s' (config, validate, snapshot, memory, acpi)", cmd);
}
