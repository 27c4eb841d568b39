/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "strutil.h"
#include "strv.h"

static const struct cli_option doctor_options[] = {
        { "user", 'u', ARG_REQUIRED, "NAME",
          "the account that will run VMs (default: $SUDO_USER, else the current user)" },
        { NULL, 0, 0, NULL, NULL },
};

static const struct cli_option iommu_options[] = {
        { "gpu", 0, ARG_NONE, NULL, "only display controllers" },
        { "audio", 0, ARG_NONE, NULL, "only audio devices" },
        { "usb", 0, ARG_NONE, NULL, "only USB controllers" },
        { "nvme", 0, ARG_NONE, NULL, "only NVMe controllers" },
        { "group", 'g', ARG_REQUIRED, "N", "only IOMMU group N (repeatable)" },
        { "id", 0, ARG_REQUIRED, "VID[:DID]",
          "only devices with this vendor[:device] ID (repeatable)" },
        { NULL, 0, 0, NULL, NULL },
};

static const struct cli_option compat_options[] = {
        { "arch", 0, ARG_REQUIRED, "x86|ppc",
          "with 'compat macos VERSION': the x86 or the PowerPC release (10.4 and 10.5 are both)" },
        { NULL, 0, 0, NULL, NULL },
};

static const struct cli_option devices_options[] = {
        { "all", 'a', ARG_NONE, NULL, "also list devices that are not passthrough candidates" },
        { NULL, 0, 0, NULL, NULL },
};

/* issue 4: plist, opencore, smbios */
/* end issue 4 */

/* issue 5: images */
/* end issue 5 */

/* issue 6: downloads */
static const struct cli_option fetch_options[] = {
        { "macos", 0, ARG_REQUIRED, "VERSION",
          "recovery/installer: the macOS release (14, 14.6, sonoma, latest)" },
        { "board-id", 0, ARG_REQUIRED, "ID", "recovery: ask for this board-id instead" },
        { "mlb", 0, ARG_REQUIRED, "MLB", "recovery: the 17-character board serial to send" },
        { "os", 0, ARG_REQUIRED, "default|latest", "recovery: which image the server picks" },
        { "output", 'o', ARG_REQUIRED, "DIR",
          "recovery/installer: where the files go (default ./com.apple.recovery.boot)" },
        { "server", 0, ARG_REQUIRED, "URL",
          "base URL instead of Apple's or GitHub's (env DARWINKVM_RECOVERY_SERVER, "
          "DARWINKVM_ASSET_SERVER, DARWINKVM_CATALOG_URL)" },
        { "local", 0, ARG_REQUIRED, "DIR",
          "recovery: verify an image and chunklist already in DIR (offline)" },
        { "allow-unsigned", 0, ARG_NONE, NULL,
          "recovery: accept an unsigned or wrongly signed chunklist (loud warning)" },
        { "trust-key", 0, ARG_REQUIRED, "PEM",
          "recovery: trust only this RSA public key for chunklists instead of Apple's" },
        { "pins", 0, ARG_REQUIRED, "FILE",
          "the pin table (default data/assets.tsv; env DARWINKVM_PINS)" },
        { "mirror", 0, ARG_REQUIRED, "URL",
          "opencore/kexts: a directory holding the same files, tried in order when the URL "
          "fails (repeatable)" },
        { "allow-unpinned", 0, ARG_NONE, NULL,
          "opencore/kexts: take assets without a pin, unchecked (loud warning)" },
        { "update", 0, ARG_NONE, NULL, "pins: download the assets and record their pins" },
        { "efi", 0, ARG_REQUIRED, "DIR",
          "opencore/kexts: install into the EFI tree under DIR (DIR/EFI/...)" },
        { "zip", 0, ARG_REQUIRED, "FILE",
          "opencore/kexts: use this local zip (offline, with --efi)" },
        { "driver", 0, ARG_REQUIRED, "NAME",
          "opencore: a driver to install (repeatable; default OpenRuntime ResetNvramEntry "
          "OpenHfsPlus)" },
        { "list", 0, ARG_NONE, NULL, "installer: list the products instead of downloading" },
        { "online", 0, ARG_NONE, NULL, "list: ask the recovery server which versions it serves" },
        { "cache", 0, ARG_REQUIRED, "DIR",
          "download cache (default $XDG_CACHE_HOME/darwinkvm; env DARWINKVM_CACHE_DIR)" },
        { "retries", 0, ARG_REQUIRED, "N",
          "retries per mirror on 5xx and dropped connections (4)" },
        { "seed", 0, ARG_REQUIRED, "SEED", "deterministic random fields in the recovery request" },
        { NULL, 0, 0, NULL, NULL },
};
/* end issue 6 */

/* issue 7: vm */
/* end issue 7 */

/* issue 8: host preparation */
/* end issue 8 */

/* issue 9: new, verify, ppc */
/* end issue 9 */

const struct verb cli_verbs[] = {
        { "doctor", "[--user NAME]", "Check whether and how this host can run macOS with a GPU",
          "Runs every host check (CPU, KVM, memory, firmware, IOMMU, VFIO, bootloader, kernel\n"
          "parameters, OVMF, packages, groups, GPUs) and prints each with its status (ok, warn,\n"
          "fail, unknown), what was found, why it matters and the exact fix, then a verdict: the\n"
          "newest macOS this host can run, whether a GPU can be passed through, and the ordered\n"
          "list of fixes. Exit status 1 when any check fails.",
          doctor_options, NULL, 0, 0, verb_doctor },
        { "iommu", "[--gpu|--audio|--usb|--nvme] [--group N] [--id VID[:DID]]",
          "List IOMMU groups and whether each device can be passed through",
          "Lists every PCI device by IOMMU group with its IDs, name (from pci.ids), class,\n"
          "driver, reset method and a verdict: clean (alone in its group, bridges aside),\n"
          "whole-group (pass the other endpoints too), acs-override (the group holds devices\n"
          "the host needs), bridge (never passed) or no-group. Exit status 1 when the IOMMU\n"
          "is off.",
          iommu_options, NULL, 0, 0, verb_iommu },
        { "devices", "[--all]", "List passthrough candidates with a macOS verdict each",
          "GPUs (matched by PCI ID against the compatibility data: macOS range, needed kexts\n"
          "and boot-args, the AMD reset bug), USB controllers, audio devices and NVMe drives,\n"
          "each with its IOMMU group verdict.",
          devices_options, NULL, 0, 0, verb_devices },
        { "compat", "gpu ID|NAME | cpu | macos [VERSION]", "Look up the compatibility data",
          "compat gpu 1002:73bf   what macOS says about a PCI ID (or a name: 'RX 580')\n"
          "compat cpu             which macOS releases this host's CPU can run\n"
          "compat macos 14        what a release needs: Mac model, CPU model, firmware, NIC...\n"
          "compat macos           every release",
          compat_options, "gpu cpu macos", 1, 2, verb_compat },
        { "completion", "bash|zsh", "Print a shell completion script",
          "darwinkvm completion bash > /etc/bash_completion.d/darwinkvm", NULL, "bash zsh", 1, 1,
          verb_completion },

        /* issue 4: plist, opencore, smbios */
        /* end issue 4 */

        /* issue 5: images */
        /* end issue 5 */

        /* issue 6: downloads */
        { "fetch", "recovery|list|installer|opencore|kexts|pins [NAME...] [OPTIONS]",
          "Download recovery images, installers, OpenCore and kexts, verified",
          "fetch recovery --macos 14      Apple's recovery image and its signed chunklist, each\n"
          "                               chunk checked while it streams (-o DIR)\n"
          "fetch list [--online]          every macOS the recovery server can serve, with board-id\n"
          "fetch installer --macos 14     the full InstallAssistant.pkg from the catalog (--list)\n"
          "fetch opencore [--efi DIR]     the pinned OpenCore release, into an EFI tree\n"
          "fetch kexts [NAME...] [--efi DIR]  the pinned kexts (Lilu, VMHide, ...)\n"
          "fetch pins [--update [NAME...]]    show the pin table, or (by a person) record pins\n"
          "Files get their final name only once verified; an interrupted download resumes.\n"
          "Exit status 1 when a check fails, 4 on network errors, 130 when interrupted.",
          fetch_options, "recovery list installer opencore kexts pins", 1, -1, verb_fetch },
        /* end issue 6 */

        /* issue 7: vm */
        /* end issue 7 */

        /* issue 8: host preparation */
        /* end issue 8 */

        /* issue 9: new, verify, ppc */
        /* end issue 9 */

        { "help", "[VERB]", "Show help for darwinkvm or a verb", NULL, NULL,
          "doctor iommu devices compat completion help version", 0, 1, verb_help },
        { "version", "", "Print the version", NULL, NULL, NULL, 0, 0, verb_version },
};

const size_t cli_n_verbs = ELEMENTSOF(cli_verbs);

static const struct verb *find_verb(const char *name)
{
        for (size_t i = 0; i < cli_n_verbs; i++)
                if (streq(cli_verbs[i].name, name))
                        return &cli_verbs[i];
        return NULL;
}

int verb_help(struct cli_context *ctx, const struct cli_args *args)
{
        const char *name = args->positional[0];
        if (!name) {
                cli_print_help();
                return EXIT_OK;
        }
        const struct verb *v = find_verb(name);
        if (!v)
                return cli_usage_error(ctx, "unknown verb '%s'", name);
        cli_print_verb_help(v);
        return EXIT_OK;
}

int verb_version(struct cli_context *ctx, const struct cli_args *args)
{
        (void) ctx;
        (void) args;
        printf("darwinkvm %s\n", DKVM_VERSION);
        return EXIT_OK;
}

static int unknown_verb(struct cli_context *ctx, const char *name)
{
        const char *best = NULL;
        unsigned best_d = 3;
        for (size_t i = 0; i < cli_n_verbs; i++) {
                unsigned d = edit_distance(name, cli_verbs[i].name);
                if (d < best_d || (d == best_d && !best && d < 3)) {
                        best_d = d;
                        best = cli_verbs[i].name;
                }
        }
        if (best)
                return cli_usage_error(ctx, "unknown verb '%s'; did you mean '%s'?", name, best);
        return cli_usage_error(ctx, "unknown verb '%s'", name);
}

static int finish(int r)
{
        /* Like git: a command whose output could not be written has failed. */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                fprintf(stderr, "darwinkvm: write failure on standard output: %s\n",
                        strerror(errno));
                return r == EXIT_OK ? EXIT_ENV : r;
        }
        return r;
}

int main(int argc, char **argv)
{
        setlocale(LC_ALL, "C");
        const char *no_color = getenv("NO_COLOR");
        struct cli_context ctx = {
                .root_path = "/",
                .color = isatty(STDOUT_FILENO) && !(no_color && *no_color),
        };
        int verb_index = 0;
        bool done;
        int r = cli_parse_prefix(&ctx, argc, argv, &verb_index, &done);
        if (r != 0 || done)
                return finish(r);
        if (verb_index >= argc) {
                cli_print_help();
                return finish(EXIT_USAGE);
        }
        const struct verb *v = find_verb(argv[verb_index]);
        if (!v)
                return finish(unknown_verb(&ctx, argv[verb_index]));
        ctx.verb = v;
        struct cli_args args;
        r = cli_parse(&ctx, argc - verb_index, argv + verb_index, &args, &done);
        if (r != 0 || done)
                return finish(r);
        r = v->run(&ctx, &args);
        cli_args_release(&args);
        root_free(ctx.root);
        return finish(r);
}
