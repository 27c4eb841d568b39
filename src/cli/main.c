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
/* end issue 6 */

/* issue 7: vm */
/* end issue 7 */

/* issue 8: host preparation */
static const struct cli_option host_options[] = {
        { "dry-run", 'n', ARG_NONE, NULL,
          "show the diff and the commands, write nothing (the default when not root)" },
        { "apply", 0, ARG_NONE, NULL, "write even when not root (a tree given with --root)" },
        { "add", 0, ARG_REQUIRED, "P", "kernel-params: add parameter P (repeatable)" },
        { "remove", 0, ARG_REQUIRED, "P",
          "kernel-params: remove P, or every KEY=... (repeatable)" },
        { "recommended", 0, ARG_NONE, NULL, "kernel-params: what this host's plan needs" },
        { "all", 0, ARG_NONE, NULL, "undo: every change, newest first" },
        { "vm", 0, ARG_REQUIRED, "NAME", "hooks: a VM the hook acts for (repeatable)" },
        { "gpu", 0, ARG_REQUIRED, "BDF", "hooks: the GPU the VMs take (default: the boot GPU)" },
        { "reset-workaround", 0, ARG_REQUIRED, "vendor-reset|suspend|none",
          "hooks: the AMD reset-bug workaround" },
        { "nic", 0, ARG_REQUIRED, "IF", "bridge: the Ethernet interface to enslave to br0" },
        { "user", 'u', ARG_REQUIRED, "NAME", "setup: the account that will run VMs" },
        { "hugepages", 0, ARG_REQUIRED, "SIZE", "setup: reserve SIZE (8G) of huge pages" },
        { "evdev", 0, ARG_NONE, NULL,
          "setup: allow the keyboards and mice for evdev in qemu.conf" },
        { "yes", 'y', ARG_NONE, NULL, "setup: install the packages" },
        { NULL, 0, 0, NULL, NULL },
};

static const struct cli_option hook_options[] = {
        { "dry-run", 'n', ARG_NONE, NULL, "log the steps, do nothing" },
        { "apply", 0, ARG_NONE, NULL, "act even when not root (a tree given with --root)" },
        { NULL, 0, 0, NULL, NULL },
};
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
        /* end issue 6 */

        /* issue 7: vm */
        /* end issue 7 */

        /* issue 8: host preparation */
        { "host", "kernel-params|vfio|hooks|bridge|setup|governor|status|undo [ARGS] [--dry-run]",
          "Prepare the host, with a diff first, a backup and undo",
          "host kernel-params --add P | --remove P | --recommended\n"
          "                       kernel parameters in GRUB, systemd-boot, kernelstub or grubby\n"
          "host vfio boot BDF...  vfio-pci at boot: modprobe.d options, softdeps, initramfs\n"
          "host vfio bind|unbind BDF...  vfio-pci now (whole IOMMU groups), and back\n"
          "host hooks install --vm NAME... | uninstall   single-GPU libvirt hook\n"
          "host bridge --nic IF   br0 over an Ethernet interface (networkd or NetworkManager)\n"
          "host setup [--user U] [--hugepages SIZE] [--evdev] [--yes]   packages, groups\n"
          "host governor performance|restore   the CPU frequency governor\n"
          "host status            what darwinkvm changed, and whether it is still in place\n"
          "host undo ID|--all     put the previous bytes back, newest first\n"
          "Every file change is shown as a unified diff, written atomically with a backup and\n"
          "recorded in /var/lib/darwinkvm/journal. Without root it is a dry run.",
          host_options, "kernel-params vfio hooks bridge setup governor status undo", 1, -1,
          verb_host },
        { "hook", "prepare|release NAME", "Run the single-GPU steps (called by the libvirt hook)",
          "hook prepare NAME   stop the display manager, unbind the consoles and the\n"
          "                    framebuffer, unload the GPU drivers, bind vfio-pci\n"
          "hook release NAME   undo exactly what prepare recorded, in reverse order",
          hook_options, "prepare release", 2, 2, verb_hook },
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
