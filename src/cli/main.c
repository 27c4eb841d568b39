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
static const struct cli_option plist_options[] = {
        { "type", 't', ARG_REQUIRED, "TYPE",
          "value type for set/add: string, integer, bool, data, date, real, dict, array" },
        { "format", 'f', ARG_REQUIRED, "xml|binary",
          "format to write (default: that of FILE; convert: the other one)" },
        { "output", 'o', ARG_REQUIRED, "OUT",
          "write to OUT instead of FILE in place ('-': stdout)" },
        { NULL, 0, 0, NULL, NULL },
};
static const struct cli_option smbios_options[] = {
        { "model", 'm', ARG_REQUIRED, "MODEL",
          "Mac model, e.g. MacPro7,1 (apply: default from CONFIG)" },
        { "count", 'n', ARG_REQUIRED, "N", "generate: how many identities (default 1)" },
        { "seed", 0, ARG_REQUIRED, "SEED", "deterministic output from SEED" },
        { "year", 0, ARG_REQUIRED, "YEAR",
          "generate: production year (default: macserial's choice)" },
        { "week", 0, ARG_REQUIRED, "WEEK", "generate: production week 1..53" },
        { "serial", 0, ARG_REQUIRED, "SERIAL", "apply: this serial (an MLB is made from it)" },
        { "mlb", 0, ARG_REQUIRED, "MLB", "apply: this board serial" },
        { "uuid", 0, ARG_REQUIRED, "UUID", "apply: this SystemUUID" },
        { "rom", 0, ARG_REQUIRED, "HEX", "apply: this ROM (6 bytes, e.g. the guest NIC's MAC)" },
        { "force", 0, ARG_NONE, NULL, "apply: accept a serial other projects ship to everyone" },
        { NULL, 0, 0, NULL, NULL },
};
static const struct cli_option opencore_options[] = {
        { "macos", 0, ARG_REQUIRED, "VERSION",
          "config: target macOS (required); validate: lint for it" },
        { "model", 'm', ARG_REQUIRED, "MODEL",
          "config: MacPro7,1, MacPro5,1, 4,1, 3,1, 2,1 (default: from --macos)" },
        { "cpu", 0, ARG_REQUIRED, "intel|amd", "config: the host CPU vendor" },
        { "gpu", 0, ARG_REQUIRED, "FAMILY",
          "config: none, navi21, navi23, navi22, navi10, vega, polaris, gcn, kepler" },
        { "resolution", 0, ARG_REQUIRED, "WxH", "config: picker resolution (default Max)" },
        { "verbose-boot", 0, ARG_NONE, NULL, "config: -v keepsyms=1 debug=0x100" },
        { "no-picker", 0, ARG_NONE, NULL, "config: boot the default entry without the picker" },
        { "timeout", 0, ARG_REQUIRED, "SECONDS", "config: picker timeout (default 5)" },
        { "sip-off", 0, ARG_NONE, NULL, "config: disable SIP (csr-active-config for the version)" },
        { "open-hfs", 0, ARG_NONE, NULL, "config: OpenHfsPlus.efi instead of HfsPlus.efi" },
        { "alcid", 0, ARG_REQUIRED, "N", "config: AppleALC with alcid=N" },
        { "seed", 0, ARG_REQUIRED, "SEED",
          "config: deterministic identity (serial, MLB, UUID, ROM)" },
        { "efi", 0, ARG_REQUIRED, "DIR",
          "config: write DIR/EFI/OC/config.plist and ACPI; validate: the OC folder to check files in" },
        { "output", 'o', ARG_REQUIRED, "FILE",
          "write here instead of stdout / in place ('-': stdout)" },
        { "host", 0, ARG_NONE, NULL, "validate: check this host's CPU (AVX2) too" },
        { "clean", 0, ARG_NONE, NULL, "snapshot: rebuild the arrays from the files only" },
        { "slots", 0, ARG_REQUIRED, "N", "memory: populated DIMMs (default 4)" },
        { "size", 0, ARG_REQUIRED, "GB", "memory: total guest memory in GB" },
        { "speed", 0, ARG_REQUIRED, "MHZ", "memory: module speed (default 3200)" },
        { "type", 0, ARG_REQUIRED, "DDR4", "memory: DDR, DDR2, DDR3, DDR4, DDR5, LPDDR3-5" },
        { NULL, 0, 0, NULL, NULL },
};
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
static const struct cli_option vm_options[] = {
        { "connect", 'c', ARG_REQUIRED, "URI",
          "libvirt URI (default: qemu:///system for root, else qemu:///session)" },
        { "tcg", 0, ARG_NONE, NULL, "xml/qemu/define: TCG emulation instead of KVM" },
        { "headless", 0, ARG_NONE, NULL, "xml/qemu/define: no display and no video device" },
        { "serial", 0, ARG_REQUIRED, "FILE", "xml/qemu/define: the serial console to FILE" },
        { "print", 'p', ARG_NONE, NULL, "qemu: print the command line instead of running it" },
        { "force", 'f', ARG_NONE, NULL, "stop: power off at once instead of an ACPI shutdown" },
        { "timeout", 0, ARG_REQUIRED, "SECONDS", "stop: how long to wait (default 120)" },
        { "nvram", 0, ARG_NONE, NULL, "undefine: also remove the VM's NVRAM" },
        { NULL, 0, 0, NULL, NULL },
};
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
static const struct cli_option new_options[] = {
        { "macos", 'm', ARG_REQUIRED, "VERSION",
          "the macOS release (default: the newest this host runs)" },
        { "gpu", 'g', ARG_REQUIRED, "BDF|none",
          "the GPU to pass through (default: the doctor's pick)" },
        { "disk-size", 0, ARG_REQUIRED, "SIZE", "the macOS disk (default 128G)" },
        { "connect", 'c', ARG_REQUIRED, "URI", "libvirt URI to define the VM on" },
        { "yes", 'y', ARG_NONE, NULL, "ask nothing; also make the host changes the plan lists" },
        { "plan", 0, ARG_NONE, NULL, "print the plan and stop" },
        { "offline", 0, ARG_NONE, NULL, "no network: the download cache and local files only" },
        { "opencore-zip", 0, ARG_REQUIRED, "FILE", "a local OpenCore release zip" },
        { "recovery", 0, ARG_REQUIRED, "DIR", "a local recovery image folder (dmg + chunklist)" },
        { "no-recovery", 0, ARG_NONE, NULL, "no recovery image on the OpenCore disk" },
        { "no-define", 0, ARG_NONE, NULL, "write the files only; define nothing in libvirt" },
        { "seed", 0, ARG_REQUIRED, "S", "identity, UUID and GUIDs from this seed (reproducible)" },
        { "force", 'f', ARG_NONE, NULL, "a macOS release this CPU lacks the instructions for" },
        { "arch", 0, ARG_REQUIRED, "x86|ppc", "ppc: a PowerPC guest (10.0 to 10.6 DP1) on mac99" },
        { "iso", 0, ARG_REQUIRED, "FILE", "ppc: the install disc (repeatable)" },
        { "server", 0, ARG_REQUIRED, "URL",
          "a mirror of the pinned downloads ($DARWINKVM_ASSET_SERVER)" },
        { "recovery-server", 0, ARG_REQUIRED, "URL",
          "the recovery server ($DARWINKVM_RECOVERY_SERVER)" },
        { "cache", 0, ARG_REQUIRED, "DIR", "the download cache ($DARWINKVM_CACHE_DIR)" },
        { "pins", 0, ARG_REQUIRED, "FILE", "the pin table ($DARWINKVM_PINS)" },
        { "trust-key", 0, ARG_REQUIRED, "PEM",
          "trust only this key for chunklists (mirrors, tests)" },
        { "allow-unpinned", 0, ARG_NONE, NULL, "accept downloads that have no pin yet" },
        { "allow-unsigned", 0, ARG_NONE, NULL, "accept an unsigned or wrongly signed chunklist" },
        { "retries", 0, ARG_REQUIRED, "N", "retries per download (default 4)" },
        { NULL, 0, 0, NULL, NULL },
};

static const struct cli_option rm_options[] = {
        { "connect", 'c', ARG_REQUIRED, "URI", "libvirt URI the VM is defined on" },
        { "yes", 'y', ARG_NONE, NULL, "do not ask" },
        { NULL, 0, 0, NULL, NULL },
};

static const struct cli_option verify_options[] = {
        { "timeout", 't', ARG_REQUIRED, "S", "give up after S seconds (default 120)" },
        { NULL, 0, 0, NULL, NULL },
};
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
        { "plist", "get|set|add|delete|convert|merge FILE [PATH] [VALUE] [--type T]",
          "Read and edit property lists (XML or binary) by path",
          "plist get FILE [PATH]            print a value (containers as XML; --json)\n"
          "plist set FILE PATH VALUE        replace or create a value (type kept, or --type)\n"
          "plist add FILE PATH [VALUE]      add a key (must be new) or insert into an array\n"
          "plist delete FILE PATH           remove a key or array element\n"
          "plist convert FILE [--format F]  XML <-> binary (in place, or --output OUT)\n"
          "plist merge FILE OTHER           merge OTHER's dicts into FILE, OTHER's values win\n"
          "Paths: Kernel.Add[2].Enabled, NVRAM.Add.7C436110-AB2A-4BBB-A880-FE41995C9F82.boot-args;\n"
          "'\\' escapes '.', '[' in keys; [] appends. Data values as hex (00aa) or base64:...\n"
          "Edits are written atomically; unreadable input exits 2, a missing path 1.",
          plist_options, "get set add delete convert merge", 2, 4, verb_plist },
        { "smbios", "generate --model M [--count N] [--seed S] | decode VALUE | apply CONFIG",
          "Make and check a guest's Mac identity (serial, MLB, UUID, ROM)",
          "smbios generate --model MacPro7,1   serial | MLB | SystemUUID | ROM, as macserial\n"
          "smbios decode SERIAL|MLB            model, year, week, line; exit 1 when invalid\n"
          "smbios apply CONFIG                 write a new identity to PlatformInfo.Generic\n"
          "Serials other projects ship to every user are refused (apply --force overrides).",
          smbios_options, "generate decode apply", 1, 2, verb_smbios },
        { "opencore",
          "config --macos V | validate CONFIG | snapshot OC_DIR [CONFIG] | memory [CONFIG]",
          "Generate, check and maintain OpenCore's config.plist for a macOS guest",
          "opencore config --macos 14 [--gpu navi10] [--seed S] [--efi DIR]\n"
          "    a complete config.plist for the pinned OpenCore (data/assets.tsv) and the profile\n"
          "    (MacPro7,1 for 10.15+, MacPro5,1 for 10.6-10.14); --efi also writes the ACPI\n"
          "opencore validate CONFIG [--macos V] [--efi OC_DIR] [--host]\n"
          "    schema, value and VM rules; one line per finding; exit 0 clean, 1 findings, 2 unreadable\n"
          "opencore snapshot OC_DIR [CONFIG] [--clean]\n"
          "    ProperTree's OC Snapshot: ACPI, kexts (dependencies first), drivers, tools\n"
          "opencore memory [CONFIG] --size GB [--slots N] [--speed MHZ] [--type DDR4]\n"
          "    PlatformInfo.Memory (and CustomMemory) for the Mac Pro's 12 slots\n"
          "opencore acpi DIR\n"
          "    write the SSDTs built from darwinkvm's own ASL",
          opencore_options, "config validate snapshot memory acpi", 1, 3, verb_opencore },
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
        { "vm", "xml|qemu|define|undefine|start|stop|status NAME|PATH [--connect URI]",
          "Generate, define and run the VM of a vm.conf",
          "vm xml NAME          the libvirt domain XML of the VM's spec\n"
          "vm qemu NAME         run it with plain QEMU (--print: show the command line)\n"
          "vm define NAME       define (or redefine, keeping UUID and NVRAM) it in libvirt\n"
          "vm start|stop NAME   start it, or shut it down (--force: power off)\n"
          "vm undefine NAME     remove it from libvirt (--nvram: and its NVRAM)\n"
          "vm status NAME       its libvirt state\n"
          "NAME is a VM under ~/.local/share/darwinkvm/vms (root: /var/lib/darwinkvm/vms)\n"
          "or a path to a vm.conf. The spec is checked against the host (--root) first.",
          vm_options, "xml qemu define undefine start stop status", 2, 2, verb_vm },
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
        { "new", "NAME [--macos V] [--gpu BDF|none] [--disk-size S] [--yes] [--plan]",
          "Make a macOS VM from nothing, in one command",
          "Plans first (doctor checks; Mac model, CPU model, firmware, NIC, disk bus, GPU and\n"
          "memory from the host and the version; what will be downloaded, written and changed)\n"
          "and stops there with --plan. Then: SMBIOS identity, config.plist (validated), OpenCore\n"
          "and kexts (pinned downloads), recovery image (chunklist-verified), the OpenCore disk,\n"
          "the macOS disk, the vm.conf, the libvirt domain (or a QEMU launcher). Every step is\n"
          "idempotent: running it again resumes. Host changes only with --yes. On a terminal\n"
          "without flags it asks for the version and the GPU. Exit status 4 when a download\n"
          "server could not be reached (every other step is done).",
          new_options, NULL, 1, 1, verb_new },
        { "list", "", "List the VMs darwinkvm made", NULL, NULL, NULL, 0, 0, verb_list },
        { "rm", "NAME [--yes]",
          "Remove a VM: its domain, its files and the host changes only it needed",
          "Undefines the domain (only one darwinkvm defined), removes the VM's directory, and\n"
          "undoes the host changes 'new NAME --yes' made when no other VM remains that needs them.",
          rm_options, NULL, 1, 1, verb_rm },
        { "verify", "NAME [--timeout S]", "Boot a VM headless and report how far it gets",
          "Boots the VM (by name or vm.conf path) headless with its serial console in a file and\n"
          "reports whether the firmware started the OpenCore disk, OpenCore started and OpenCore\n"
          "showed its picker, with the time each stage took. The VM's files are not changed: the\n"
          "boot uses a copy of the OpenCore disk with OpenCore's serial log switched on, a fresh\n"
          "NVRAM and snapshot mode for the other disks. TCG when KVM cannot run the guest.\n"
          "Exit status 1 with the last lines of the log when the picker is not reached.",
          verify_options, NULL, 1, 1, verb_verify },
        /* end issue 9 */

        { "help", "[VERB]", "Show help for darwinkvm or a verb", NULL, NULL, NULL, 0, 1,
          verb_help },
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
