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
static const struct cli_option image_options[] = {
        { "from", 0, ARG_REQUIRED, "DIR", "build: the tree that becomes the volume's root" },
        { "size", 0, ARG_REQUIRED, "SIZE",
          "build: disk size (e.g. 256M, 2G; rounded up to MiB); default: the smallest that fits" },
        { "layout", 0, ARG_REQUIRED, "gpt|whole-disk",
          "build: a GPT disk with an EFI System Partition (default), or FAT32 on the whole disk" },
        { "format", 0, ARG_REQUIRED, "raw|qcow2", "build: the image format (default raw)" },
        { "label", 0, ARG_REQUIRED, "NAME", "build: the volume label (default OPENCORE)" },
        { "seed", 0, ARG_REQUIRED, "TEXT",
          "build: derive GUIDs and the volume ID from TEXT (reproducible output)" },
        { "force", 'f', ARG_NONE, NULL, "build: replace an existing OUT" },
        { "recursive", 'R', ARG_NONE, NULL, "ls: list subdirectories too" },
        { NULL, 0, 0, NULL, NULL },
};

static const struct cli_option disk_options[] = {
        { "size", 0, ARG_REQUIRED, "SIZE", "the disk's size (e.g. 128G)" },
        { "format", 0, ARG_REQUIRED, "qcow2|raw", "the image format (default qcow2)" },
        { "preallocation", 0, ARG_REQUIRED, "off|metadata|falloc",
          "what to allocate now (default off: sparse)" },
        { "force", 'f', ARG_NONE, NULL, "replace an existing OUT" },
        { NULL, 0, 0, NULL, NULL },
};
/* end issue 5 */

/* issue 6: downloads */
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
        { "image",
          "build OUT --from DIR [--size SIZE] [--layout gpt|whole-disk] [--format raw|qcow2] | ls IMAGE [PATH] [-R] | cat IMAGE PATH | put IMAGE PATH FILE | rm IMAGE PATH",
          "Build the OpenCore disk image, or read and change files inside one",
          "image build OUT --from DIR   writes a GPT disk (or --layout whole-disk: a bare FAT32\n"
          "                             volume) whose EFI System Partition holds DIR's tree, in\n"
          "                             one pass and without root; same inputs, --seed and\n"
          "                             SOURCE_DATE_EPOCH give the same bytes\n"
          "image ls IMAGE [PATH]        lists a directory inside the image\n"
          "image cat IMAGE PATH         writes a file of the image to stdout\n"
          "image put IMAGE PATH FILE    creates or replaces PATH with FILE (parents created);\n"
          "                             a directory FILE is copied with its whole tree\n"
          "image rm IMAGE PATH          removes a file or an empty directory\n"
          "Images are raw (GPT, MBR or whole-disk FAT32). A corrupt or non-FAT32 image is\n"
          "refused with the reason; a change is written to a copy that replaces the image only\n"
          "when complete.",
          image_options, "build ls cat put rm", 2, 4, verb_image },
        { "disk",
          "create OUT --size SIZE [--format qcow2|raw] [--preallocation off|metadata|falloc]",
          "Create the macOS system disk",
          "disk create OUT --size 128G   a qcow2 disk with lazy refcounts (raw: sparse), copy-on-\n"
          "                              write off on btrfs; refuses to replace OUT without --force\n"
          "                              and checks the free space the preallocation needs.",
          disk_options, "create", 2, 2, verb_disk },
        /* end issue 5 */

        /* issue 6: downloads */
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
