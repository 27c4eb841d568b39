/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The command-line shell around the core library: global options, one verb
 * table, option parsing with "did you mean", output helpers. Verbs live in
 * verb-*.c, one file each, and only translate between arguments, the core
 * library and stdout/stderr.
 */

#include <stdbool.h>

#include "buf.h"
#include "compat.h"
#include "root.h"

enum exit_code {
        EXIT_OK = 0,
        EXIT_PROBLEM = 1, /* the check or action found a problem */
        EXIT_USAGE = 2,   /* bad arguments, unknown verb or option, unreadable input */
        EXIT_ENV = 3,     /* environment: missing or unreadable file, permission, data files */
        EXIT_NETWORK = 4, /* a download or remote service failed */
        EXIT_INTERRUPTED = 130,
};

struct cli_context {
        const char *root_path;
        struct root *root;
        const char *data_dir;
        bool json;
        bool json_pretty;
        int verbosity; /* -1 quiet, 0 normal, 1 verbose */
        bool color;
        const struct verb *verb;
};

enum option_arg {
        ARG_NONE,
        ARG_REQUIRED,
};

struct cli_option {
        const char *name; /* long name, without "--" */
        char short_name;  /* 0: none */
        enum option_arg arg;
        const char *arg_name; /* for --help */
        const char *help;
};

struct cli_args;

struct verb {
        const char *name;
        const char *usage;   /* "[--user NAME]" */
        const char *summary; /* one line */
        const char *description;
        const struct cli_option *options; /* NULL-name terminated, or NULL */
        const char *words;                /* sub-words for completion ("gpu cpu macos"), or NULL */
        int min_args, max_args;           /* positional arguments; max -1: any */
        int (*run)(struct cli_context *ctx, const struct cli_args *args);
};

/* Parsed options of one verb invocation: values by option name. */
struct cli_args {
        char **names;  /* option names given, in order (repeats kept) */
        char **values; /* parallel: the value or "" */
        size_t n;
        char **positional;
};

extern const struct cli_option cli_global_options[];
extern const struct verb cli_verbs[];
extern const size_t cli_n_verbs;

/*
 * Parses the options of @ctx->verb (and the global ones, which may come after
 * the verb too) from @argv. Returns 0, or an exit code after printing the usage
 * error (or EXIT_OK with *done set after printing --help).
 */
int cli_parse(struct cli_context *ctx, int argc, char **argv, struct cli_args *ret, bool *done);
void cli_args_release(struct cli_args *a);
/* The last value of option @name, or NULL. */
const char *cli_arg(const struct cli_args *a, const char *name);
bool cli_flag(const struct cli_args *a, const char *name);
/* The option as a number up to @max, @def when absent; 0 or an exit code after the usage error. */
int cli_arg_uint(const struct cli_context *ctx, const struct cli_args *args, const char *name,
                 unsigned def, unsigned max, unsigned *ret);

/* "darwinkvm VERB: message" on stderr, with "Try 'darwinkvm VERB --help'."; returns EXIT_USAGE. */
int cli_usage_error(const struct cli_context *ctx, const char *fmt, ...) _printf_(2, 3);
/* "darwinkvm: message" on stderr; returns @code. */
int cli_error(int code, const char *fmt, ...) _printf_(2, 3);
void cli_warn(const struct cli_context *ctx, const char *fmt, ...) _printf_(2, 3);
void cli_print_verb_help(const struct verb *v);
void cli_print_help(void);

/* Opens --root (once). Returns 0 or an exit code after printing the error. */
int cli_open_root(struct cli_context *ctx);
/* Both of the above. */
int cli_open_root_and_data(struct cli_context *ctx, struct compat **ret);
/* The data directory: --data-dir, $DARWINKVM_DATA_DIR, the installed one, or the source tree's. */
const char *cli_data_dir(const struct cli_context *ctx);
/* Loads the data files. Returns 0 or an exit code after printing the error. */
int cli_load_compat(struct cli_context *ctx, struct compat **ret);

enum color {
        COLOR_RESET,
        COLOR_BOLD,
        COLOR_GREEN,
        COLOR_YELLOW,
        COLOR_RED,
        COLOR_MAGENTA,
        COLOR_DIM,
};

/* The escape sequence, or "" when colour is off. */
const char *cli_color(const struct cli_context *ctx, enum color c);
/* Writes @s to stdout; returns 0 or EXIT_ENV on a write error. */
int cli_write(const char *s);

/* Verb handlers. */
int verb_doctor(struct cli_context *ctx, const struct cli_args *args);
int verb_iommu(struct cli_context *ctx, const struct cli_args *args);
int verb_devices(struct cli_context *ctx, const struct cli_args *args);
int verb_compat(struct cli_context *ctx, const struct cli_args *args);
int verb_completion(struct cli_context *ctx, const struct cli_args *args);
int verb_help(struct cli_context *ctx, const struct cli_args *args);
int verb_version(struct cli_context *ctx, const struct cli_args *args);

/* issue 4: plist, opencore, smbios */
int verb_plist(struct cli_context *ctx, const struct cli_args *args);
int verb_opencore(struct cli_context *ctx, const struct cli_args *args);
int verb_smbios(struct cli_context *ctx, const struct cli_args *args);
/* end issue 4 */

/* issue 5: images */
int verb_image(struct cli_context *ctx, const struct cli_args *args);
int verb_disk(struct cli_context *ctx, const struct cli_args *args);
/* end issue 5 */

/* issue 6: downloads */
struct download_options;
int verb_fetch(struct cli_context *ctx, const struct cli_args *args);
/* fetch installer (verb-fetch-installer.c), with the transfer settings of verb_fetch. */
int verb_fetch_installer(struct cli_context *ctx, const struct cli_args *args,
                         const struct download_options *dl);
/* end issue 6 */

/* issue 7: vm */
int verb_vm(struct cli_context *ctx, const struct cli_args *args);
/* end issue 7 */

/* issue 8: host preparation */
int verb_host(struct cli_context *ctx, const struct cli_args *args);
int verb_hook(struct cli_context *ctx, const struct cli_args *args);
/* end issue 8 */

/* issue 9: new, verify, ppc */
int verb_verify(struct cli_context *ctx, const struct cli_args *args);
int verb_new(struct cli_context *ctx, const struct cli_args *args);
int verb_new_ppc(struct cli_context *ctx, const struct cli_args *args);
int verb_list(struct cli_context *ctx, const struct cli_args *args);
int verb_rm(struct cli_context *ctx, const struct cli_args *args);
/* end issue 9 */

/* Parses the global options before the verb; *ret_verb_index is the verb's position in @argv. */
int cli_parse_prefix(struct cli_context *ctx, int argc, char **argv, int *ret_verb_index,
                     bool *done);
