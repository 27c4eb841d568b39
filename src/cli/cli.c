/* SPDX-License-Identifier: MIT */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "alloc.h"
#include "config.h"
#include "strutil.h"
#include "strv.h"

const struct cli_option cli_global_options[] = {
        { "root", 0, ARG_REQUIRED, "DIR", "read (and write) the host below DIR instead of /" },
        { "data-dir", 0, ARG_REQUIRED, "DIR", "read the TSV knowledge from DIR" },
        { "json", 0, ARG_NONE, NULL, "machine-readable output (--json=pretty|short)" },
        { "quiet", 'q', ARG_NONE, NULL, "print less" },
        { "verbose", 'v', ARG_NONE, NULL, "print more" },
        { "no-color", 0, ARG_NONE, NULL, "no colours (also: NO_COLOR set)" },
        { "help", 'h', ARG_NONE, NULL, "show help" },
        { NULL, 0, 0, NULL, NULL },
};

static const struct cli_option *find_long(const struct cli_option *opts, const char *name,
                                          size_t len)
{
        for (size_t i = 0; opts && opts[i].name; i++)
                if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
                        return &opts[i];
        return NULL;
}

static const struct cli_option *find_short(const struct cli_option *opts, char c)
{
        for (size_t i = 0; opts && opts[i].name; i++)
                if (opts[i].short_name && opts[i].short_name == c)
                        return &opts[i];
        return NULL;
}

static const char *closest_option(const struct verb *v, const char *name)
{
        const char *best = NULL;
        unsigned best_d = 3;
        const struct cli_option *sets[] = { v ? v->options : NULL, cli_global_options };
        for (size_t s = 0; s < ELEMENTSOF(sets); s++)
                for (size_t i = 0; sets[s] && sets[s][i].name; i++) {
                        unsigned d = edit_distance(name, sets[s][i].name);
                        if (d < best_d) {
                                best_d = d;
                                best = sets[s][i].name;
                        }
                }
        return best;
}

/* Applies a global option to the context. */
static int apply_global(struct cli_context *ctx, const struct cli_option *o, const char *value)
{
        if (streq(o->name, "root"))
                ctx->root_path = value;
        else if (streq(o->name, "data-dir"))
                ctx->data_dir = value;
        else if (streq(o->name, "json")) {
                ctx->json = true;
                if (value && streq(value, "pretty"))
                        ctx->json_pretty = true;
                else if (value && streq(value, "short"))
                        ctx->json_pretty = false;
                else if (value)
                        return cli_usage_error(ctx, "--json takes 'pretty' or 'short', not '%s'",
                                               value);
        } else if (streq(o->name, "quiet"))
                ctx->verbosity = -1;
        else if (streq(o->name, "verbose"))
                ctx->verbosity = 1;
        else if (streq(o->name, "no-color"))
                ctx->color = false;
        return 0;
}

static void record(struct cli_args *a, const char *name, const char *value)
{
        a->names = strv_push(a->names, name);
        a->values = strv_push(a->values, value ? value : "");
        a->n++;
}

int cli_parse(struct cli_context *ctx, int argc, char **argv, struct cli_args *ret, bool *done)
{
        const struct verb *v = ctx->verb;
        struct cli_args a = { .names = xcalloc(1, sizeof(char *)),
                              .values = xcalloc(1, sizeof(char *)),
                              .positional = xcalloc(1, sizeof(char *)) };
        *done = false;
        bool only_positional = false;
        int r = 0;
        for (int i = 1; i < argc && r == 0; i++) {
                const char *arg = argv[i];
                if (only_positional || arg[0] != '-' || streq(arg, "-")) {
                        a.positional = strv_push(a.positional, arg);
                        continue;
                }
                if (streq(arg, "--")) {
                        only_positional = true;
                        continue;
                }
                const struct cli_option *o = NULL;
                const char *value = NULL;
                bool is_global = false;
                if (arg[1] == '-') {
                        const char *name = arg + 2;
                        const char *eq = strchr(name, '=');
                        size_t len = eq ? (size_t) (eq - name) : strlen(name);
                        o = find_long(v ? v->options : NULL, name, len);
                        if (!o) {
                                o = find_long(cli_global_options, name, len);
                                is_global = o != NULL;
                        }
                        if (!o) {
                                _cleanup_free_ char *n = xstrndup(name, len);
                                const char *hint = closest_option(v, n);
                                r = hint ? cli_usage_error(ctx,
                                                           "unknown option '--%s'; did you "
                                                           "mean '--%s'?",
                                                           n, hint)
                                         : cli_usage_error(ctx, "unknown option '--%s'", n);
                                break;
                        }
                        if (eq) {
                                if (o->arg == ARG_NONE && !streq(o->name, "json")) {
                                        r = cli_usage_error(ctx, "option '--%s' takes no value",
                                                            o->name);
                                        break;
                                }
                                value = eq + 1;
                        }
                } else {
                        if (arg[2]) {
                                r = cli_usage_error(ctx,
                                                    "unknown option '%s' (short options "
                                                    "cannot be combined)",
                                                    arg);
                                break;
                        }
                        o = find_short(v ? v->options : NULL, arg[1]);
                        if (!o) {
                                o = find_short(cli_global_options, arg[1]);
                                is_global = o != NULL;
                        }
                        if (!o) {
                                r = cli_usage_error(ctx, "unknown option '%s'", arg);
                                break;
                        }
                }
                if (o->arg == ARG_REQUIRED && !value) {
                        if (i + 1 >= argc) {
                                r = cli_usage_error(ctx, "option '--%s' needs a value (%s)",
                                                    o->name, o->arg_name);
                                break;
                        }
                        value = argv[++i];
                }
                if (is_global && streq(o->name, "help")) {
                        if (v)
                                cli_print_verb_help(v);
                        else
                                cli_print_help();
                        *done = true;
                        break;
                }
                if (is_global)
                        r = apply_global(ctx, o, value);
                else
                        record(&a, o->name, value);
        }
        if (r == 0 && !*done && v) {
                int n = (int) strv_length(a.positional);
                if (n < v->min_args)
                        r = cli_usage_error(ctx, "missing argument: %s %s", v->name, v->usage);
                else if (v->max_args >= 0 && n > v->max_args)
                        r = cli_usage_error(ctx, "unexpected argument '%s'",
                                            a.positional[v->max_args]);
        }
        if (r != 0 || *done) {
                cli_args_release(&a);
                return r;
        }
        *ret = a;
        return 0;
}

void cli_args_release(struct cli_args *a)
{
        strv_free(a->names);
        strv_free(a->values);
        strv_free(a->positional);
        *a = (struct cli_args){ 0 };
}

const char *cli_arg(const struct cli_args *a, const char *name)
{
        const char *v = NULL;
        for (size_t i = 0; i < a->n; i++)
                if (streq(a->names[i], name))
                        v = a->values[i];
        return v;
}

bool cli_flag(const struct cli_args *a, const char *name)
{
        return cli_arg(a, name) != NULL;
}

int cli_usage_error(const struct cli_context *ctx, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "darwinkvm%s%s: ", ctx && ctx->verb ? " " : "",
                ctx && ctx->verb ? ctx->verb->name : "");
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nTry 'darwinkvm%s%s --help'.\n", ctx && ctx->verb ? " " : "",
                ctx && ctx->verb ? ctx->verb->name : "");
        return EXIT_USAGE;
}

int cli_error(int code, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("darwinkvm: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return code;
}

void cli_warn(const struct cli_context *ctx, const char *fmt, ...)
{
        if (ctx->verbosity < 0)
                return;
        va_list ap;
        va_start(ap, fmt);
        fputs("darwinkvm: warning: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

static void print_options(const struct cli_option *opts)
{
        for (size_t i = 0; opts && opts[i].name; i++) {
                char left[64];
                const char *arg = opts[i].arg_name ? opts[i].arg_name : "";
                if (opts[i].short_name)
                        snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].short_name,
                                 opts[i].name, *arg ? " " : "", arg);
                else
                        snprintf(left, sizeof(left), "    --%s%s%s", opts[i].name, *arg ? " " : "",
                                 arg);
                printf("  %-26s %s\n", left, opts[i].help);
        }
}

static void print_exit_codes(void)
{
        puts("\nExit status:\n"
             "  0    success; every check passed\n"
             "  1    the check or action found a problem\n"
             "  2    usage error: unknown verb or option, bad argument or input\n"
             "  3    environment error: missing or unreadable file, permission, data files\n"
             "  4    network or remote service error\n"
             "  130  interrupted");
}

void cli_print_verb_help(const struct verb *v)
{
        printf("Usage: darwinkvm %s %s\n\n%s\n", v->name, v->usage, v->summary);
        if (v->description)
                printf("\n%s\n", v->description);
        if (v->options && v->options[0].name) {
                puts("\nOptions:");
                print_options(v->options);
        }
        puts("\nGlobal options:");
        print_options(cli_global_options);
        print_exit_codes();
}

void cli_print_help(void)
{
        puts("Usage: darwinkvm [GLOBAL OPTIONS] VERB [OPTIONS] [ARGS]\n\n"
             "Take a Linux host from a fresh install to a GPU-accelerated macOS virtual machine\n"
             "on QEMU/KVM: inspect the host, prepare it, build the guest, define and run it.\n\n"
             "Verbs:");
        for (size_t i = 0; i < cli_n_verbs; i++)
                printf("  %-10s %s\n", cli_verbs[i].name, cli_verbs[i].summary);
        puts("\nGlobal options (before or after the verb):");
        print_options(cli_global_options);
        puts("  --version                  print the version");
        print_exit_codes();
        puts("\nRun 'darwinkvm VERB --help' for a verb's options.");
}

int cli_open_root(struct cli_context *ctx)
{
        if (ctx->root)
                return 0;
        _cleanup_free_ char *err = NULL;
        if (root_open(ctx->root_path, &ctx->root, &err) < 0)
                return cli_error(EXIT_ENV, "%s", err);
        return 0;
}

static bool has_data(const char *dir)
{
        _cleanup_free_ char *p = xasprintf("%s/macos-versions.tsv", dir);
        struct stat st;
        return stat(p, &st) == 0;
}

const char *cli_data_dir(const struct cli_context *ctx)
{
        const char *dir = ctx->data_dir;
        if (!dir)
                dir = getenv("DARWINKVM_DATA_DIR");
        if (!dir || !*dir)
                /* Installed data first; a build tree falls back to the source checkout's data/. */
                dir = has_data(DKVM_DATADIR) ? DKVM_DATADIR : DKVM_SOURCE_DATADIR;
        return dir;
}

int cli_load_compat(struct cli_context *ctx, struct compat **ret)
{
        const char *dir = cli_data_dir(ctx);
        _cleanup_free_ char *err = NULL;
        if (compat_load(dir, ret, &err) < 0)
                return cli_error(EXIT_ENV, "cannot load the data files: %s", err);
        return 0;
}

int cli_open_root_and_data(struct cli_context *ctx, struct compat **ret)
{
        int r = cli_open_root(ctx);
        return r != 0 ? r : cli_load_compat(ctx, ret);
}

const char *cli_color(const struct cli_context *ctx, enum color c)
{
        static const char *const seq[] = {
                [COLOR_RESET] = "\033[0m",   [COLOR_BOLD] = "\033[1m", [COLOR_GREEN] = "\033[32m",
                [COLOR_YELLOW] = "\033[33m", [COLOR_RED] = "\033[31m", [COLOR_MAGENTA] = "\033[35m",
                [COLOR_DIM] = "\033[2m",
        };
        return ctx->color ? seq[c] : "";
}

int cli_write(const char *s)
{
        if (fputs(s, stdout) == EOF)
                return cli_error(EXIT_ENV, "write failure on standard output: %s", strerror(errno));
        return 0;
}

int cli_parse_prefix(struct cli_context *ctx, int argc, char **argv, int *ret_verb_index,
                     bool *done)
{
        *done = false;
        int i = 1;
        for (; i < argc; i++) {
                const char *arg = argv[i];
                if (arg[0] != '-' || streq(arg, "-"))
                        break;
                if (streq(arg, "--version")) {
                        printf("darwinkvm %s\n", DKVM_VERSION);
                        *done = true;
                        return 0;
                }
                const struct cli_option *o = NULL;
                const char *value = NULL;
                if (arg[1] == '-') {
                        const char *eq = strchr(arg + 2, '=');
                        size_t len = eq ? (size_t) (eq - arg - 2) : strlen(arg + 2);
                        o = find_long(cli_global_options, arg + 2, len);
                        if (o && eq)
                                value = eq + 1;
                        if (!o) {
                                _cleanup_free_ char *n = xstrndup(arg + 2, len);
                                const char *hint = closest_option(NULL, n);
                                return hint ? cli_usage_error(ctx,
                                                              "unknown option '--%s'; did "
                                                              "you mean '--%s'?",
                                                              n, hint)
                                            : cli_usage_error(ctx, "unknown option '--%s'", n);
                        }
                } else {
                        o = arg[2] ? NULL : find_short(cli_global_options, arg[1]);
                        if (!o)
                                return cli_usage_error(ctx, "unknown option '%s'", arg);
                }
                if (o->arg == ARG_REQUIRED && !value) {
                        if (i + 1 >= argc)
                                return cli_usage_error(ctx, "option '--%s' needs a value (%s)",
                                                       o->name, o->arg_name);
                        value = argv[++i];
                }
                if (streq(o->name, "help")) {
                        cli_print_help();
                        *done = true;
                        return 0;
                }
                int r = apply_global(ctx, o, value);
                if (r != 0)
                        return r;
        }
        *ret_verb_index = i;
        return 0;
}

int cli_arg_uint(const struct cli_context *ctx, const struct cli_args *args, const char *name,
                 unsigned def, unsigned max, unsigned *ret)
{
        const char *v = cli_arg(args, name);
        uint32_t x;
        if (!v) {
                *ret = def;
                return 0;
        }
        if (parse_u32(v, &x) < 0 || x > max)
                return cli_usage_error(ctx, "--%s %s: expected a number up to %u", name, v, max);
        *ret = x;
        return 0;
}
